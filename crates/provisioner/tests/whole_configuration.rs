//! The whole replication configuration end to end on the embedded emulator (apply → replicate →
//! verify → destroy): two-way sync (ReplicaModifications), Object Lock destinations, SSE-KMS with
//! real keys. (Replication Time Control with metrics: fixtures/variants/replication-time.toml in
//! emulator_apply.rs's every-variant test.)
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use xrepl_provisioner::{apply, destroy, plan, verify, Accounts, ApplyOptions, DestroyOptions, ResourceKind, Side, Spec};

mod common;

use common::{fixture, load, quick_verify as quick, start, A, B, C};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_way_sync_replicates_both_ways_and_replica_changes_flow_back() {
    let emulator = start().await;
    let (ab, ab_accounts) = load(&emulator, "variants/two-way-sync-a-to-b.toml").await;
    let (ba, ba_accounts) = load(&emulator, "variants/two-way-sync-b-to-a.toml").await;
    apply(&ab, &ab_accounts, &ApplyOptions::default()).await.unwrap();
    apply(&ba, &ba_accounts, &ApplyOptions::default()).await.unwrap();
    assert!(plan(&ab, &ab_accounts, Side::Both).await.unwrap().is_noop());
    assert!(plan(&ba, &ba_accounts, Side::Both).await.unwrap().is_noop());
    for rule in ["a-to-b", "b-to-a"] {
        let (spec, accounts) = if rule == "a-to-b" { (&ab, &ab_accounts) } else { (&ba, &ba_accounts) };
        let config = documents(spec).replication;
        assert_eq!(config["Rules"][0]["SourceSelectionCriteria"]["ReplicaModifications"]["Status"], "Enabled");
        let checks = verify(spec, accounts, &quick()).await.unwrap();
        assert!(checks.passed(), "{rule}: {checks}");
    }

    // An object written in A replicates to B; a tag change on the replica in B flows back to A.
    let a = ab_accounts.source.as_ref().unwrap();
    let b = ab_accounts.destination.as_ref().unwrap();
    a.s3.put_object().bucket("xrepl-two-way-a").key("sync/doc").body(ByteStream::from_static(b"v1")).send().await.unwrap();
    emulator.drain().await;
    let head = b.s3.head_object().bucket("xrepl-two-way-b").key("sync/doc").send().await.unwrap();
    assert_eq!(head.replication_status().map(|s| s.as_str()), Some("REPLICA"));
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("reviewed").value("yes").build().unwrap())
        .build()
        .unwrap();
    b.s3.put_object_tagging().bucket("xrepl-two-way-b").key("sync/doc").tagging(tagging).send().await.unwrap();
    let started = Instant::now();
    loop {
        emulator.drain().await;
        let tags = a.s3.get_object_tagging().bucket("xrepl-two-way-a").key("sync/doc").send().await.unwrap();
        if tags.tag_set().iter().any(|t| t.key() == "reviewed" && t.value() == "yes") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the replica's new tag never came back to A: {tags:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Destroying one direction keeps the buckets the other still uses; both remove everything.
    let first = destroy(&ba, &ba_accounts, &DestroyOptions { force: true, ..DestroyOptions::default() }).await.unwrap();
    assert!(first.kept.iter().any(|k| k.resource == ResourceKind::SourceBucket), "{first:#?}");
    assert!(a.s3.get_bucket_replication().bucket("xrepl-two-way-a").send().await.is_ok(), "A -> B still configured");
    let second = destroy(&ab, &ab_accounts, &DestroyOptions { force: true, ..DestroyOptions::default() }).await.unwrap();
    assert!(second.kept.is_empty(), "{second:#?}");
    assert!(a.s3.head_bucket().bucket("xrepl-two-way-a").send().await.is_err());
    assert!(b.s3.head_bucket().bucket("xrepl-two-way-b").send().await.is_err());
}

fn documents(spec: &Spec) -> xrepl_provisioner::Documents {
    xrepl_provisioner::Documents::for_spec(spec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_lock_destination_receives_locked_objects() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "variants/object-lock.toml").await;
    apply(&spec, &accounts, &ApplyOptions::default()).await.unwrap();
    let again = plan(&spec, &accounts, Side::Both).await.unwrap();
    assert!(again.is_noop(), "{again}");
    let checks = verify(&spec, &accounts, &quick()).await.unwrap();
    assert!(checks.passed(), "{checks}");

    // An object under retention replicates only to a bucket with Object Lock (else AWS records
    // DstBucketObjectLockConfigMissing): the destination was created with it.
    let src = accounts.source.as_ref().unwrap();
    let dst = accounts.destination.as_ref().unwrap();
    let until = aws_sdk_s3::primitives::DateTime::from_secs(4_102_444_800); // 2100-01-01
    src.s3
        .put_object()
        .bucket(&spec.source.bucket)
        .key("locked/report")
        .body(ByteStream::from_static(b"kept"))
        .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Governance)
        .object_lock_retain_until_date(until)
        .send()
        .await
        .unwrap();
    emulator.drain().await;
    let replica = dst.s3.head_object().bucket(&spec.destination.bucket).key("locked/report").send().await.unwrap();
    assert_eq!(replica.replication_status().map(|s| s.as_str()), Some("REPLICA"));
    assert_eq!(replica.object_lock_mode().map(|m| m.as_str()), Some("GOVERNANCE"));

    // Destroy removes the replication setup; the buckets hold locked objects and are kept.
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert!(gone.removed.iter().any(|r| r.resource == ResourceKind::Role), "{gone:#?}");
    assert!(gone.kept.iter().all(|k| matches!(k.resource, ResourceKind::SourceBucket | ResourceKind::DestinationBucket)), "{gone:#?}");
    assert!(src.s3.get_bucket_replication().bucket(&spec.source.bucket).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_kms_objects_replicate_encrypted_with_the_destination_key() {
    let emulator = start().await;
    let endpoint = emulator.endpoint();
    let kms = |account: &str| {
        let creds = aws_sdk_kms::config::Credentials::new(account, "test", None, None, "test");
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .endpoint_url(&endpoint)
            .build();
        aws_sdk_kms::Client::from_conf(config)
    };
    let source_key = kms(A).create_key().send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string();
    let replica_key = kms(B).create_key().send().await.unwrap().key_metadata().unwrap().arn().unwrap().to_string();
    let text = std::fs::read_to_string(fixture("variants/kms.toml")).unwrap();
    let mut spec = Spec::from_toml_str(&text, fixture("variants/kms.toml")).unwrap();
    spec.rules[0].replica_kms_key_id = Some(replica_key.clone());
    spec.rules[0].source_kms_key_arn = Some(source_key.clone());
    spec.point_at_endpoint(&endpoint);
    let accounts = Accounts::from_spec(&spec, Side::Both).await.unwrap();
    apply(&spec, &accounts, &ApplyOptions::default()).await.unwrap();

    // The replica key's owner (account B) lets the role encrypt with it: the statement xrepl
    // exports for the key policy, next to B's own root statement.
    let statement = documents(&spec).kms_key_policy_statement.expect("a KMS rule");
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "kms:*", "Resource": "*"},
        statement]});
    kms(B).put_key_policy().key_id(&replica_key).policy_name("default").policy(policy.to_string()).send().await.unwrap();

    let checks = verify(&spec, &accounts, &quick()).await.unwrap();
    assert!(checks.passed(), "{checks}");
    let rule = &spec.rules[0].id;
    assert!(checks.check(rule, "replica-encryption").is_some_and(|c| c.outcome == xrepl_provisioner::Outcome::Passed), "{checks}");
    emulator.drain().await;
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert!(gone.kept.is_empty(), "{gone:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_destination_replicates_to_every_destination_and_verify_checks_each() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "variants/multi-destination.toml").await;
    assert_eq!(spec.destinations().count(), 2);
    apply(&spec, &accounts, &ApplyOptions::default()).await.unwrap();
    assert!(plan(&spec, &accounts, Side::Both).await.unwrap().is_noop());

    // One configuration, each rule to its own destination and account.
    let src = accounts.source.as_ref().unwrap();
    let config = src.s3.get_bucket_replication().bucket(&spec.source.bucket).send().await.unwrap();
    let config = xrepl_provisioner::aws::replication_to_json(config.replication_configuration().unwrap());
    let targets: Vec<(String, String)> = config["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["Destination"]["Bucket"].as_str().unwrap().to_string(), r["Destination"]["Account"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        targets,
        [
            ("arn:aws:s3:::xrepl-multi-destination-b".to_string(), B.to_string()),
            ("arn:aws:s3:::xrepl-multi-destination-c".to_string(), C.to_string())
        ]
    );
    // Each destination's bucket policy grants what the rules to it need (delete markers: B only).
    for (bucket, deletes) in [("xrepl-multi-destination-b", true), ("xrepl-multi-destination-c", false)] {
        let d = spec.destinations().find(|d| d.bucket == bucket).unwrap();
        let clients = accounts.for_destination(&d.account_id).unwrap();
        let policy = clients.s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
        assert_eq!(policy.policy().unwrap().contains("s3:ReplicateDelete"), deletes, "{bucket}: {:?}", policy.policy());
    }

    let checks = verify(&spec, &accounts, &quick()).await.unwrap();
    assert!(checks.passed(), "{checks}");
    for rule in ["everything-to-b", "logs-to-c"] {
        let c = checks.check(rule, "replica-version").unwrap_or_else(|| panic!("{rule}: {checks}"));
        assert_eq!(c.outcome, xrepl_provisioner::Outcome::Passed, "{checks}");
    }
    emulator.drain().await;
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert!(gone.kept.is_empty(), "{gone:#?}");
    assert_eq!(gone.removed.iter().filter(|r| r.resource == ResourceKind::DestinationBucket).count(), 2, "{gone:#?}");
}
