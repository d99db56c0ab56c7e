//! Every `assert_*` of the harness fails when its expectation does not hold (and says what it saw),
//! the builder's accounts and endpoint work, and a team's own SDK calls take `?`. Embedded
//! backend: no Docker, no AWS.

use xrepl_harness::prelude::*;

const SOURCE: &str = "123456789012";
const DESTINATION: &str = "210987654321";

fn spec_text(prefix: &str, omit_bucket_policy: bool) -> String {
    format!(
        r#"
[source]
account_id = "{SOURCE}"
bucket = "acme-prod-logs"
create_bucket = true
[destination]
account_id = "{DESTINATION}"
bucket = "acme-dr-logs"
create_bucket = true
[[rules]]
id = "logs"
prefix = "{prefix}"
delete_marker_replication = true
owner_override = true
[overrides]
omit_bucket_policy = {omit_bucket_policy}
"#
    )
}

async fn harness() -> Result<Harness, HarnessError> {
    Harness::builder().backend(BackendKind::Embedded).accounts([SOURCE, DESTINATION]).start().await
}

/// The failure an assertion returned, rendered; panics (failing the test) when it passed.
fn failed<T: std::fmt::Debug>(result: Result<T, HarnessError>, what: &str) -> String {
    match result {
        Ok(v) => panic!("{what} passed but must fail (got {v:?})"),
        Err(e) => {
            assert!(matches!(e, HarnessError::Assertion(_)), "{what}: expected an assertion failure, got {e}");
            e.to_string()
        }
    }
}

#[tokio::test]
async fn every_assertion_fails_when_its_expectation_does_not_hold() -> Result<(), HarnessError> {
    let h = harness().await?;
    let spec = h.spec_from_toml(&spec_text("logs/", false))?;
    h.apply(&spec).await?;
    let v1 = h.put_tagged(&spec, "logs/a.txt", b"alpha", Some("team=a")).await?;
    let outside = h.put(&spec, "tmp/b.txt", b"beta").await?;
    h.wait_for_replication().await?;

    // Each passes on the truth first, so a failure below is the assertion's, not the setup's.
    h.assert_replicated(&spec, "logs/a.txt", &v1, b"alpha").await?;
    h.assert_not_replicated(&spec, "tmp/b.txt").await?;

    let text = failed(h.assert_replicated(&spec, "logs/a.txt", &v1, b"other").await, "assert_replicated (bytes)");
    assert!(text.contains("bytes of the replica of logs/a.txt"), "{text}");
    let text = failed(h.assert_replicated(&spec, "tmp/b.txt", &outside, b"beta").await, "assert_replicated (not replicated)");
    assert!(text.contains("expected: version") && text.contains("NoSuchVersion"), "{text}");
    let text = failed(h.assert_not_replicated(&spec, "logs/a.txt").await, "assert_not_replicated");
    assert!(text.contains("1 version(s) and 0 delete marker(s) present"), "{text}");
    let text = failed(h.assert_owner(&spec, "logs/a.txt", SOURCE).await, "assert_owner");
    assert!(text.contains(&format!("(account {SOURCE})")) && text.contains(&format!("(account {DESTINATION})")), "{text}");
    let text = failed(h.assert_tags(&spec, "logs/a.txt", &[("team", "b")]).await, "assert_tags");
    assert!(text.contains(r#"[("team", "b")]"#) && text.contains(r#"[("team", "a")]"#), "{text}");
    let text = failed(h.assert_delete_marker(&spec, "logs/a.txt", "nope").await, "assert_delete_marker");
    assert!(text.contains("no delete marker"), "{text}");
    let text = failed(h.assert_destination_holds(&spec, "logs/a.txt", b"other").await, "assert_destination_holds");
    assert!(text.contains("alpha"), "{text}");
    let text = failed(h.assert_version_holds(&spec, "logs/a.txt", &outside, b"alpha").await, "assert_version_holds");
    assert!(text.contains("GetObject failed"), "{text}");
    let text = failed(h.assert_storage_class(&spec, "logs/a.txt", "GLACIER").await, "assert_storage_class");
    assert!(text.contains("expected: GLACIER") && text.contains("actual: STANDARD"), "{text}");
    let text = failed(h.assert_replica_kms_key(&spec, "logs/a.txt", "arn:aws:kms:us-east-1:1:key/x").await, "assert_replica_kms_key");
    assert!(text.contains("<none>"), "{text}");
    let text = failed(h.assert_failed(&spec, "logs/a.txt", &v1, "DstPutObjectNotPermitted").await, "assert_failed");
    assert!(text.contains("status COMPLETED"), "{text}");
    let text = failed(h.assert_event(&spec, "s3:Replication:OperationMissedThreshold", "logs/a.txt").await, "assert_event");
    assert!(text.contains("OperationMissedThreshold"), "{text}");

    // A delete marker replicated is "present" for assert_not_replicated too.
    let marker = h.delete(&spec, "logs/a.txt").await?;
    h.wait_for_replication().await?;
    h.assert_delete_marker(&spec, "logs/a.txt", &marker).await?;
    let text = failed(h.assert_delete_marker(&spec, "logs/a.txt", "another-id").await, "assert_delete_marker (id)");
    assert!(text.contains(&marker), "{text}");
    Ok(())
}

#[tokio::test]
async fn assert_not_replicated_is_an_error_for_a_bucket_that_does_not_exist() -> Result<(), HarnessError> {
    let h = harness().await?;
    let spec = h.spec_from_toml(&spec_text("logs/", false))?;
    h.apply(&spec).await?;
    let mut wrong = spec.clone();
    wrong.destination.bucket = "no-such-bucket-here".to_owned();
    match h.assert_not_replicated(&wrong, "tmp/b.txt").await {
        Err(e) => assert_eq!(e.aws_code(), Some("NoSuchBucket"), "{e}"),
        Ok(()) => panic!("assert_not_replicated passed on a bucket that does not exist"),
    }
    Ok(())
}

#[tokio::test]
async fn a_broken_setup_fails_with_why_and_a_bucket_wide_fix() -> Result<(), HarnessError> {
    let h = harness().await?;
    let spec = h.spec_from_toml(&spec_text("", true))?;
    h.apply(&spec).await?;
    let v = h.put(&spec, "a.txt", b"alpha").await?;
    h.wait_for_replication().await?;
    let text = failed(h.assert_replicated(&spec, "a.txt", &v, b"alpha").await, "assert_replicated (broken)");
    assert!(text.contains("       why: replication of s3://acme-prod-logs/a.txt"), "{text}");
    assert!(text.contains("DstPutObjectNotPermitted"), "{text}");
    assert!(text.contains("Add the Fix statement to the destination bucket policy."), "{text}");
    assert!(text.contains("\"Resource\": \"arn:aws:s3:::acme-dr-logs/*\""), "the fix covers the bucket's objects: {text}");
    let failure = h.assert_failed(&spec, "a.txt", &v, "DstPutObjectNotPermitted").await?;
    assert!(failure.fix.is_some_and(|f| f.contains("s3:ReplicateObject")));
    Ok(())
}

#[tokio::test]
async fn an_account_the_harness_lacks_says_how_to_add_it() -> Result<(), HarnessError> {
    let h = Harness::builder().start().await?; // the default accounts
    assert_eq!(h.account_ids(), ["111111111111", "222222222222"]);
    let err = h.spec_from_toml(&spec_text("", false)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains(&format!("account {SOURCE} is not part of this harness (it has 111111111111, 222222222222)")), "{err}");
    assert!(err.contains(".accounts_from_spec("), "{err}");
    Ok(())
}

#[tokio::test]
async fn accounts_come_from_the_spec_file() -> Result<(), HarnessError> {
    let spec_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/variants/prefix-filter.toml");
    let h = Harness::builder().accounts_from_spec(spec_file).start().await?;
    let spec = h.spec_from_file(spec_file)?;
    assert_eq!(h.account_ids(), [spec.source.account_id.as_str(), spec.destination.account_id.as_str()]);
    h.apply(&spec).await?;
    Ok(())
}

#[tokio::test]
async fn own_sdk_calls_take_the_question_mark_and_keep_aws_codes() -> Result<(), HarnessError> {
    let h = harness().await?;
    let s3 = h.account(SOURCE)?.s3();
    s3.create_bucket().bucket("team-own-bucket").send().await?;
    async fn missing(s3: &aws_sdk_s3::Client) -> Result<(), HarnessError> {
        s3.get_object().bucket("team-own-bucket").key("absent").send().await?;
        Ok(())
    }
    let err = missing(s3).await.err().map(|e| (e.aws_code().map(str::to_owned), e.to_string()));
    let (code, text) = err.unwrap_or_default();
    assert_eq!(code.as_deref(), Some("NoSuchKey"), "{text}");
    assert!(text.contains("NoSuchKey: The specified key does not exist."), "{text}");
    Ok(())
}

#[tokio::test]
async fn the_builder_connects_to_an_emulator_that_already_runs() -> Result<(), HarnessError> {
    // Served the way `xrepl serve` serves it: the harness reaches it only by URL.
    let emulator = xrepl_emulator::Emulator::start(xrepl_emulator::EmulatorConfig::with_accounts(&[SOURCE, DESTINATION]))
        .await
        .map_err(|e| HarnessError::Other(e.to_string()))?;
    let h = Harness::builder().endpoint(emulator.endpoint()).accounts([SOURCE, DESTINATION]).start().await?;
    assert_eq!(h.kind(), BackendKind::Served);
    let spec = h.spec_from_toml(&spec_text("", true))?;
    h.apply(&spec).await?;
    let v = h.put(&spec, "a.txt", b"alpha").await?;
    h.wait_for_replication().await?; // through POST /_xrepl/replication/drain
    let failure = h.assert_failed(&spec, "a.txt", &v, "DstPutObjectNotPermitted").await?; // GET .../failures
    assert!(failure.fix.is_some());
    h.reset().await?; // POST /_xrepl/reset
    assert!(h.account(SOURCE)?.s3().list_buckets().send().await?.buckets().is_empty());

    let refused = Harness::builder().endpoint("http://127.0.0.1:9").start().await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("no xrepl emulator answers at http://127.0.0.1:9"), "{refused}");
    let both = Harness::builder().endpoint(emulator.endpoint()).backend(BackendKind::Embedded).start().await.err();
    assert!(both.is_some_and(|e| e.to_string().contains("choose one")));
    Ok(())
}
