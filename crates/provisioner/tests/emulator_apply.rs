//! The provisioner against xrepl's emulator: apply the guide's spec, check the result through the
//! SDK, apply again (zero mutating calls), verify, destroy; and the broken setups fail as AWS would.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;
use xrepl_provisioner::aws::{decode_policy_document, documents_equivalent};
use xrepl_provisioner::verify::Outcome;
use xrepl_provisioner::{
    apply, destroy, plan, verify, Accounts, ApplyOptions, Change, DestroyOptions, Documents, ProvisionError, ResourceKind, Side, Spec,
    VerifyOptions,
};

mod common;

use common::{fast, fixture, load, quick_verify, start, A, B};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_spec_applies_is_idempotent_verifies_and_destroys() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "guide/spec.toml").await;
    let src = accounts.source.as_ref().unwrap();
    let dst = accounts.destination.as_ref().unwrap();

    // Nothing exists yet: everything is a Create.
    let before = plan(&spec, &accounts, Side::Both).await.expect("plan");
    for kind in [
        ResourceKind::SourceBucket,
        ResourceKind::DestinationBucket,
        ResourceKind::Role,
        ResourceKind::RolePolicy,
        ResourceKind::DestinationBucketPolicy,
        ResourceKind::ReplicationConfiguration,
    ] {
        assert_eq!(before.get(kind).map(|c| c.change), Some(Change::Create), "{kind}\n{before}");
    }

    let report = apply(&spec, &accounts, &fast()).await.expect("apply");
    assert!(report.mutating_calls >= 10, "{report:#?}");

    // The state, read back through the SDK.
    let docs = Documents::for_spec(&spec);
    for (c, bucket) in [(src, &spec.source.bucket), (dst, &spec.destination.bucket)] {
        let v = c.s3.get_bucket_versioning().bucket(bucket).send().await.unwrap();
        assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"), "{bucket}");
        let tags = c.s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
        assert!(tags.tag_set().iter().any(|t| t.key() == "xrepl:managed" && t.value() == "true"));
    }
    let role = src.iam.get_role().role_name(&spec.role.name).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.arn(), spec.role_arn());
    assert_eq!(role.path(), "/service-role/");
    let trust = decode_policy_document(role.assume_role_policy_document().unwrap()).unwrap();
    assert!(documents_equivalent(&trust, &docs.trust_policy), "{trust}");
    let inline = src.iam.get_role_policy().role_name(&spec.role.name).policy_name(&spec.role.policy_name).send().await.unwrap();
    let inline = decode_policy_document(inline.policy_document()).unwrap();
    assert!(documents_equivalent(&inline, &docs.role_policy), "{inline}");
    let bucket_policy = dst.s3.get_bucket_policy().bucket(&spec.destination.bucket).send().await.unwrap();
    let bucket_policy: Value = serde_json::from_str(bucket_policy.policy().unwrap()).unwrap();
    assert!(documents_equivalent(&bucket_policy, docs.bucket_policy.as_ref().unwrap()), "{bucket_policy}");
    let replication = src.s3.get_bucket_replication().bucket(&spec.source.bucket).send().await.unwrap();
    let replication = replication.replication_configuration().unwrap();
    assert_eq!(replication.role(), spec.role_arn());
    assert_eq!(replication.rules().len(), 1);
    let rule = &replication.rules()[0];
    assert_eq!(rule.id(), Some("guide-replicate-everything"));
    let dest = rule.destination().unwrap();
    assert_eq!(dest.bucket(), "arn:aws:s3:::xrepl-guide-destination");
    assert_eq!(dest.account(), Some(B));
    assert!(dest.access_control_translation().is_some());

    // A second apply changes nothing: zero mutating calls.
    let again = apply(&spec, &accounts, &fast()).await.expect("apply again");
    assert_eq!(again.mutating_calls, 0, "{}", again.plan);
    assert!(again.plan.is_noop());

    // Replication works end to end.
    let checks = verify(&spec, &accounts, &quick_verify()).await.expect("verify");
    assert!(checks.passed(), "{checks}");
    for name in ["source-status", "replica-version", "replica-owner", "replica-tags", "delete-marker"] {
        let c = checks.check("guide-replicate-everything", name).unwrap();
        assert_eq!(c.outcome, Outcome::Passed, "{name}: {checks}");
    }
    assert!(checks.cleanup_errors.is_empty(), "{checks}");
    emulator.drain().await;

    // Destroy removes everything xrepl created (the buckets are empty again after verify).
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.expect("destroy");
    assert!(gone.kept.is_empty(), "{gone:#?}");
    assert_eq!(gone.removed.len(), 6, "{gone:#?}");
    for (c, bucket) in [(src, &spec.source.bucket), (dst, &spec.destination.bucket)] {
        let head = c.s3.head_bucket().bucket(bucket).send().await;
        assert!(head.is_err(), "{bucket} still exists");
    }
    assert!(src.iam.get_role().role_name(&spec.role.name).send().await.is_err());
    // And a plan now wants to create everything again.
    let after = plan(&spec, &accounts, Side::Both).await.expect("plan");
    assert_eq!(after.get(ResourceKind::Role).map(|c| c.change), Some(Change::Create));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_team_applies_its_half() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "variants/prefix-filter.toml").await;
    let source_only = Accounts { source: accounts.source.clone(), ..Accounts::default() };
    let destination_only = Accounts { destination: accounts.destination.clone(), ..Accounts::default() };
    let opts = |side| ApplyOptions { side, ..fast() };
    let err = apply(&spec, &source_only, &opts(Side::Both)).await.expect_err("needs both");
    assert!(matches!(err, ProvisionError::MissingClients { side: "destination" }), "{err}");

    // The guide's order: the destination team creates its bucket (its bucket policy names a role
    // that may not exist yet: deferred, not failed), the source team creates the role and the
    // rule, then the destination team finishes its bucket policy.
    let d1 = apply(&spec, &destination_only, &opts(Side::Destination)).await.expect("destination half");
    assert!(d1.applied.iter().all(|c| c.account_id == B), "{d1:#?}");
    for d in &d1.deferred {
        assert_eq!(d.resource, ResourceKind::DestinationBucketPolicy, "{d:#?}");
    }
    let s1 = apply(&spec, &source_only, &opts(Side::Source)).await.expect("source half");
    assert!(s1.applied.iter().all(|c| c.account_id == A), "{s1:#?}");
    let d2 = apply(&spec, &destination_only, &opts(Side::Destination)).await.expect("destination again");
    assert!(d2.deferred.is_empty(), "{d2:#?}");
    let whole = plan(&spec, &accounts, Side::Both).await.expect("plan");
    assert!(whole.is_noop(), "{whole}");
    let checks = verify(&spec, &accounts, &quick_verify()).await.expect("verify");
    assert!(checks.passed(), "{checks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unversioned_destination_fails_at_put_bucket_replication() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "broken/destination-unversioned.toml").await;
    let err = apply(&spec, &accounts, &fast()).await.expect_err("must fail");
    assert_eq!(err.aws_code(), Some("InvalidRequest"), "{err}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("PutBucketReplication on account {A} failed: InvalidRequest: ")), "{text}");
    assert_eq!(spec.expectation.apply_error.as_deref(), Some("PutBucketReplication InvalidRequest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_en_dash_trust_policy_is_rejected_by_create_role() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "broken/guide-verbatim-documents.toml").await;
    let err = apply(&spec, &accounts, &fast()).await.expect_err("must fail");
    // Nothing was created before CreateRole failed except the buckets and their versioning.
    let done: Vec<&str> = err.apply_failure().unwrap().report.calls.iter().map(|c| c.operation).collect();
    assert_eq!(
        done,
        ["CreateBucket", "PutBucketTagging", "CreateBucket", "PutBucketTagging", "PutBucketVersioning", "PutBucketVersioning"]
    );
    match err.root() {
        ProvisionError::Aws { operation, code, .. } => {
            assert_eq!((*operation, code.as_str()), ("CreateRole", "MalformedPolicyDocument"), "{err}");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_s3_cannot_assume_makes_verify_fail() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "broken/role-trusts-ec2.toml").await;
    apply(&spec, &accounts, &fast()).await.expect("a broken setup still applies");
    let checks = verify(&spec, &accounts, &quick_verify()).await.expect("verify runs");
    assert!(!checks.passed(), "{checks}");
    let status = checks.check("replicate-everything", "source-status").unwrap();
    assert!(matches!(status.outcome, Outcome::Failed(_)), "{checks}");
    assert_eq!(status.detail, "FAILED", "{checks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_rules_are_not_replaced_and_data_is_not_destroyed() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "variants/no-delete-markers.toml").await;
    apply(&spec, &accounts, &fast()).await.expect("apply");
    let src = accounts.source.as_ref().unwrap();

    // Someone else's rule appears: a re-apply refuses to drop it.
    let mut foreign = Documents::for_spec(&spec).replication;
    foreign["Rules"][0]["ID"] = Value::from("someone-elses-rule");
    let config = xrepl_provisioner::aws::replication_from_json(&foreign).unwrap();
    src.s3.put_bucket_replication().bucket(&spec.source.bucket).replication_configuration(config).send().await.unwrap();
    let err = apply(&spec, &accounts, &fast()).await.expect_err("refuses");
    assert!(matches!(err, ProvisionError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("someone-elses-rule"), "{err}");
    let forced = apply(&spec, &accounts, &ApplyOptions { replace_foreign_rules: true, ..fast() }).await.expect("allowed");
    assert_eq!(forced.mutating_calls, 1, "{}", forced.plan);

    // A bucket with data is kept unless forced.
    src.s3.put_object().bucket(&spec.source.bucket).key("keep-me").body(Vec::from("data").into()).send().await.unwrap();
    emulator.drain().await;
    let first = destroy(&spec, &accounts, &DestroyOptions::default()).await.expect("destroy");
    assert!(first.kept.iter().any(|k| k.resource == ResourceKind::SourceBucket), "{first:#?}");
    assert!(src.s3.head_bucket().bucket(&spec.source.bucket).send().await.is_ok());
    let forced = destroy(&spec, &accounts, &DestroyOptions { force: true, ..DestroyOptions::default() }).await.expect("destroy --force");
    assert!(forced.kept.is_empty(), "{forced:#?}");
    assert!(src.s3.head_bucket().bucket(&spec.source.bucket).send().await.is_err());
}

fn specs_in(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_applies_idempotently_verifies_and_destroys() {
    for rel in specs_in("variants") {
        let emulator = start().await;
        let (spec, accounts) = load(&emulator, &rel).await;
        apply(&spec, &accounts, &fast()).await.unwrap_or_else(|e| panic!("{rel}: {e}"));
        let again = apply(&spec, &accounts, &fast()).await.unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(again.mutating_calls, 0, "{rel}:\n{}", again.plan);
        // The KMS variant names keys that exist only on paper; its probe cannot be encrypted here.
        if !rel.ends_with("kms.toml") {
            let checks = verify(&spec, &accounts, &quick_verify()).await.unwrap();
            assert!(checks.passed(), "{rel}:\n{checks}");
        }
        emulator.drain().await;
        let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
        assert!(gone.kept.is_empty(), "{rel}: {gone:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_fixtures_fail_with_the_reason_they_name() {
    for rel in specs_in("broken") {
        let emulator = start().await;
        let (spec, accounts) = load(&emulator, &rel).await;
        let Some(reason) = spec.expectation.replication_failure.clone() else {
            continue;
        };
        apply(&spec, &accounts, &fast()).await.unwrap_or_else(|e| panic!("{rel}: {e}"));
        let opts = VerifyOptions { timeout: Duration::from_secs(3), ..quick_verify() };
        let checks = verify(&spec, &accounts, &opts).await.unwrap();
        assert!(!checks.passed(), "{rel} verified although broken:\n{checks}");
        emulator.drain().await;
        let events = emulator.replication().failures();
        assert!(
            events.iter().any(|e| e.failure_reason == reason),
            "{rel}: expected {reason}, emulator recorded {:?}\n{checks}",
            events.iter().map(|e| e.failure_reason.as_str()).collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_of_the_wrong_account_are_refused() {
    let emulator = start().await;
    let mut spec = Spec::load(fixture("guide/spec.toml")).unwrap();
    spec.point_at_endpoint(&emulator.endpoint());
    spec.destination.credentials = spec.source.credentials.clone();
    let err = Accounts::from_spec(&spec, Side::Both).await.expect_err("mismatch");
    match &err {
        ProvisionError::AccountMismatch { side, expected, actual } => {
            assert_eq!((*side, expected.as_str(), actual.as_str()), ("destination", B, A));
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("belong to account 111111111111"), "{err}");
    // One side only needs only that side's credentials.
    let source_only = Accounts::from_spec(&spec, Side::Source).await.expect("source is fine");
    assert!(source_only.destination.is_none());
    let p = plan(&spec, &source_only, Side::Source).await.expect("plan");
    let text = p.to_string();
    assert!(text.contains("+ replication role"), "{text}");
    assert!(!text.contains("destination bucket policy"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_before_apply_fails_at_once() {
    let emulator = start().await;
    let (spec, accounts) = load(&emulator, "guide/spec.toml").await;
    // Nothing applied yet: one failed check, at once (no probe, no timeout).
    let checks = verify(&spec, &accounts, &VerifyOptions::default()).await.expect("runs");
    assert_eq!(checks.checks.len(), 1, "{checks}");
    apply(&spec, &accounts, &fast()).await.expect("apply");
    let src = accounts.source.as_ref().unwrap();
    src.s3.delete_bucket_replication().bucket(&spec.source.bucket).send().await.unwrap();
    let started = std::time::Instant::now();
    let checks = verify(&spec, &accounts, &VerifyOptions::default()).await.expect("runs");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(checks.checks.len(), 1, "{checks}");
    assert_eq!(checks.checks[0].name, "replication-configured");
    assert!(!checks.passed());
}
