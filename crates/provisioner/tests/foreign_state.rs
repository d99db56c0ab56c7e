//! xrepl on accounts it shares with other people and tools: it changes only what it owns and
//! removes only what it created (issue 10). Against the embedded emulator, a role with the user's
//! own trust and inline policy, a destination bucket policy with the user's statements, and a
//! replication configuration with a rule xrepl did not write: `apply` then `destroy` leaves every
//! one of them as it was (the JSON documents compare equal before and after), also when apply
//! fails half-way.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use xrepl_emulator::Emulator;
use xrepl_provisioner::aws::{decode_policy_document, replication_from_json, replication_to_json};
use xrepl_provisioner::{
    apply, destroy, plan, verify, AccountClients, Accounts, Change, DestroyOptions, ProvisionError, ResourceKind, Side, Spec,
};

mod common;

use common::{fast, fixture, quick_verify, start, B};

const USERS_OTHER_BUCKET: &str = "users-other-destination";

async fn guide(emulator: &Emulator) -> (Spec, Accounts) {
    common::load(emulator, "guide/spec.toml").await
}

fn users_trust() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Sid": "Ec2Jobs", "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
}

fn users_inline_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{USERS_OTHER_BUCKET}/*")}]})
}

fn users_bucket_policy(bucket: &str) -> Value {
    json!({"Version": "2012-10-17", "Id": "users-policy", "Statement": [
        {"Sid": "UsersRead", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")},
         "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")},
        {"Sid": "NoPublicAcls", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObjectAcl",
         "Resource": format!("arn:aws:s3:::{bucket}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "public-read"}}}
    ]})
}

fn users_rule() -> Value {
    json!({"ID": "users-own-rule", "Priority": 10, "Status": "Enabled", "Filter": {"Prefix": "users/"},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": format!("arn:aws:s3:::{USERS_OTHER_BUCKET}"), "Account": B}})
}

async fn bucket(c: &AccountClients, name: &str) {
    c.s3.create_bucket().bucket(name).send().await.unwrap();
    c.s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .unwrap();
}

async fn put_replication(src: &AccountClients, bucket: &str, config: &Value) {
    src.s3.put_bucket_replication().bucket(bucket).replication_configuration(replication_from_json(config).unwrap()).send().await.unwrap();
}

/// A role the users made themselves (tagged `team = data`), with the spec's name and path.
async fn users_role(spec: &Spec, src: &AccountClients, trust: &Value, policy_name: &str, policy: &Value) {
    let tag = aws_sdk_iam::types::Tag::builder().key("team").value("data").build().unwrap();
    src.iam
        .create_role()
        .role_name(&spec.role.name)
        .path(&spec.role.path)
        .assume_role_policy_document(trust.to_string())
        .tags(tag)
        .send()
        .await
        .unwrap();
    src.iam.put_role_policy().role_name(&spec.role.name).policy_name(policy_name).policy_document(policy.to_string()).send().await.unwrap();
}

/// What the users had before xrepl came: their role (same name as the spec's), both buckets, a
/// bucket policy of theirs, and a replication rule of theirs (to another bucket) run by that role.
async fn foreign_state(spec: &Spec, accounts: &Accounts) {
    let src = accounts.source.as_ref().unwrap();
    let dst = accounts.destination.as_ref().unwrap();
    users_role(spec, src, &users_trust(), "users-own-policy", &users_inline_policy()).await;
    bucket(src, &spec.source.bucket).await;
    bucket(dst, &spec.destination.bucket).await;
    bucket(dst, USERS_OTHER_BUCKET).await;
    dst.s3
        .put_bucket_policy()
        .bucket(&spec.destination.bucket)
        .policy(users_bucket_policy(&spec.destination.bucket).to_string())
        .send()
        .await
        .unwrap();
    let config = json!({"Role": spec.role_arn(), "Rules": [users_rule()]});
    put_replication(src, &spec.source.bucket, &config).await;
}

/// Every document of the users' state, as JSON.
async fn snapshot(spec: &Spec, accounts: &Accounts) -> Value {
    let src = accounts.source.as_ref().unwrap();
    let dst = accounts.destination.as_ref().unwrap();
    let role = src.iam.get_role().role_name(&spec.role.name).send().await.unwrap();
    let role = role.role().unwrap();
    let trust = decode_policy_document(role.assume_role_policy_document().unwrap()).unwrap();
    let names = src.iam.list_role_policies().role_name(&spec.role.name).send().await.unwrap();
    let mut inline = serde_json::Map::new();
    for name in names.policy_names() {
        let p = src.iam.get_role_policy().role_name(&spec.role.name).policy_name(name).send().await.unwrap();
        inline.insert(name.clone(), decode_policy_document(p.policy_document()).unwrap());
    }
    let tags = src.iam.list_role_tags().role_name(&spec.role.name).send().await.unwrap();
    let tags: Vec<Value> = tags.tags().iter().map(|t| json!([t.key(), t.value()])).collect();
    let replication = src.s3.get_bucket_replication().bucket(&spec.source.bucket).send().await.unwrap();
    let replication = replication_to_json(replication.replication_configuration().unwrap());
    let policy = dst.s3.get_bucket_policy().bucket(&spec.destination.bucket).send().await.unwrap();
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let buckets: Vec<bool> = vec![
        src.s3.head_bucket().bucket(&spec.source.bucket).send().await.is_ok(),
        dst.s3.head_bucket().bucket(&spec.destination.bucket).send().await.is_ok(),
    ];
    json!({"trust": trust, "inline": inline, "tags": tags, "replication": replication, "bucket_policy": policy, "buckets": buckets})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_then_destroy_leaves_the_users_role_policy_and_rules_as_they_were() {
    let emulator = start().await;
    let (mut spec, accounts) = guide(&emulator).await;
    foreign_state(&spec, &accounts).await;
    let before = snapshot(&spec, &accounts).await;

    // Without adopt, the role is not ours: plan says so, apply refuses before changing anything.
    let p = plan(&spec, &accounts, Side::Both).await.unwrap();
    assert_eq!(p.get(ResourceKind::Role).unwrap().change, Change::Untouched, "{p}");
    assert!(p.get(ResourceKind::TrustPolicy).unwrap().conflict.is_some(), "{p}");
    assert!(p.to_string().contains("not ours: untouched"), "{p}");
    let err = apply(&spec, &accounts, &fast()).await.expect_err("refused");
    assert!(matches!(err, ProvisionError::Conflict { .. }) && err.to_string().contains("--adopt-role"), "{err}");
    assert_eq!(snapshot(&spec, &accounts).await, before);

    // With adopt: the plan shows each change with its diff, and keeps what is not xrepl's.
    spec.role.adopt = true;
    let p = plan(&spec, &accounts, Side::Both).await.unwrap();
    let text = p.to_string();
    assert_eq!(p.get(ResourceKind::Role).unwrap().change, Change::Update, "{text}");
    assert!(text.contains("+ tag xrepl:trust-0"), "{text}");
    assert!(text.contains("+ statement XreplReplicaObjects"), "{text}");
    assert!(text.contains("+ rule guide-replicate-everything"), "{text}");
    assert!(text.contains("users-own-rule"), "{text}");
    assert!(p.changes.iter().all(|c| c.conflict.is_none()), "{text}");

    apply(&spec, &accounts, &fast()).await.unwrap();
    let again = plan(&spec, &accounts, Side::Both).await.unwrap();
    assert!(again.is_noop(), "{again}");
    let during = snapshot(&spec, &accounts).await;
    assert_eq!(during["inline"]["users-own-policy"], before["inline"]["users-own-policy"]);
    let rules: Vec<&str> = during["replication"]["Rules"].as_array().unwrap().iter().filter_map(|r| r["ID"].as_str()).collect();
    assert_eq!(rules, ["users-own-rule", "guide-replicate-everything"]);
    let sids: Vec<&str> = during["bucket_policy"]["Statement"].as_array().unwrap().iter().filter_map(|s| s["Sid"].as_str()).collect();
    assert_eq!(sids, ["UsersRead", "NoPublicAcls", "XreplReplicaObjects", "XreplReplicaBucket"]);

    // It replicates, with the users' statements and rule in place.
    let checks = verify(&spec, &accounts, &quick_verify()).await.unwrap();
    assert!(checks.passed(), "{checks}");
    emulator.drain().await;

    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert_eq!(snapshot(&spec, &accounts).await, before, "{gone:#?}");
    // A second destroy finds nothing of xrepl's.
    let twice = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert_eq!(twice.mutating_calls, 0, "{twice:#?}");
}

/// Credentials of an IAM user of account B that may do everything except `denied`.
async fn user_denied(emulator: &Emulator, accounts: &Accounts, denied: &str) -> AccountClients {
    let root = accounts.destination.as_ref().unwrap();
    root.iam.create_user().user_name("ci").send().await.unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": denied, "Resource": "*"}]});
    root.iam.put_user_policy().user_name("ci").policy_name("all-but").policy_document(policy.to_string()).send().await.unwrap();
    let key = root.iam.create_access_key().user_name("ci").send().await.unwrap();
    let key = key.access_key().unwrap();
    AccountClients::from_static(B, "us-east-1", Some(&emulator.endpoint()), key.access_key_id(), key.secret_access_key())
}

/// The users' state, adopt on, and an apply that fails in the middle: the destination account's
/// identity denies PutBucketPolicy. Returns the state before apply and the error.
async fn failed_adopting_apply(emulator: &Emulator) -> (Spec, Accounts, Value, ProvisionError) {
    let (mut spec, accounts) = guide(emulator).await;
    spec.role.adopt = true;
    foreign_state(&spec, &accounts).await;
    let before = snapshot(&spec, &accounts).await;
    let limited = Accounts {
        source: accounts.source.clone(),
        others: Vec::new(),
        destination: Some(user_denied(emulator, &accounts, "s3:PutBucketPolicy").await),
    };
    let err = apply(&spec, &limited, &fast()).await.expect_err("PutBucketPolicy is denied");
    (spec, accounts, before, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_apply_reports_what_it_did_and_a_rerun_completes_the_rest() {
    let emulator = start().await;
    let (spec, accounts, before, err) = failed_adopting_apply(&emulator).await;
    assert_eq!(err.aws_code(), Some("AccessDenied"), "{err}");
    assert!(err.to_string().starts_with(&format!("PutBucketPolicy on account {B} failed: AccessDenied")), "{err}");
    let failure = err.apply_failure().expect("carries the report");
    let done: Vec<&str> = failure.report.calls.iter().map(|c| c.operation).collect();
    assert_eq!(done, ["TagRole", "UpdateAssumeRolePolicy", "PutRolePolicy"], "{failure:#?}");
    let remaining: Vec<(ResourceKind, &str)> = failure.report.remaining.iter().map(|r| (r.resource, r.status.as_str())).collect();
    assert_eq!(remaining.len(), 2, "{remaining:?}");
    assert_eq!(remaining[0].0, ResourceKind::DestinationBucketPolicy);
    assert!(remaining[0].1.starts_with("failed: PutBucketPolicy"), "{remaining:?}");
    assert_eq!(remaining[1], (ResourceKind::ReplicationConfiguration, "not started"));

    // Running it again (allowed now) completes exactly the rest.
    let rest = apply(&spec, &accounts, &fast()).await.unwrap();
    let ops: Vec<&str> = rest.calls.iter().map(|c| c.operation).collect();
    assert_eq!(ops, ["PutBucketPolicy", "PutBucketReplication"], "{}", rest.plan);

    destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert_eq!(snapshot(&spec, &accounts).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_right_after_a_failed_apply_restores_everything() {
    let emulator = start().await;
    let (spec, accounts, before, _) = failed_adopting_apply(&emulator).await;
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert_eq!(snapshot(&spec, &accounts).await, before, "{gone:#?}");
}

// --- the four defects of issue 10, one test each ------------------------------------------------

/// Defect 1: destroy deleted the spec's inline policy from a role xrepl did not create.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_never_deletes_an_inline_policy_from_a_role_xrepl_did_not_create() {
    let emulator = start().await;
    let (spec, accounts) = guide(&emulator).await;
    let src = accounts.source.as_ref().unwrap();
    let docs = xrepl_provisioner::Documents::for_spec(&spec);
    // The users made the role themselves, exactly as the spec wants it (same policy name).
    users_role(&spec, src, &docs.trust_policy, &spec.role.policy_name, &docs.role_policy).await;
    let p = plan(&spec, &accounts, Side::Both).await.unwrap();
    assert_eq!(p.get(ResourceKind::RolePolicy).unwrap().change, Change::Untouched, "{p}");
    apply(&spec, &accounts, &fast()).await.unwrap();
    emulator.drain().await;
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    let kept = src.iam.get_role_policy().role_name(&spec.role.name).policy_name(&spec.role.policy_name).send().await;
    assert!(kept.is_ok(), "the users' inline policy was deleted: {gone:#?}");
    assert!(gone.kept.iter().any(|k| k.resource == ResourceKind::Role), "{gone:#?}");
}

/// Defect 2: destroy deleted the whole replication configuration, foreign rules included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_keeps_replication_rules_xrepl_did_not_write() {
    let emulator = start().await;
    let (spec, accounts) = guide(&emulator).await;
    apply(&spec, &accounts, &fast()).await.unwrap();
    let src = accounts.source.as_ref().unwrap();
    let dst = accounts.destination.as_ref().unwrap();
    bucket(dst, USERS_OTHER_BUCKET).await;
    // Someone adds a rule of their own to the configuration xrepl wrote (same role).
    let current = src.s3.get_bucket_replication().bucket(&spec.source.bucket).send().await.unwrap();
    let mut config = replication_to_json(current.replication_configuration().unwrap());
    config["Rules"].as_array_mut().unwrap().push(users_rule());
    put_replication(src, &spec.source.bucket, &config).await;
    // A re-apply keeps it.
    let p = plan(&spec, &accounts, Side::Both).await.unwrap();
    assert_eq!(p.get(ResourceKind::ReplicationConfiguration).unwrap().change, Change::NoOp, "{p}");

    destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    let left = src.s3.get_bucket_replication().bucket(&spec.source.bucket).send().await;
    let left = replication_to_json(left.expect("the users' rule is still configured").replication_configuration().unwrap());
    let ids: Vec<&str> = left["Rules"].as_array().unwrap().iter().filter_map(|r| r["ID"].as_str()).collect();
    assert_eq!(ids, ["users-own-rule"]);
}

/// Defect 3: with bucket_policy_file, apply replaced the whole bucket policy and destroy deleted it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_policy_file_is_merged_by_sid_and_destroy_removes_only_its_statements() {
    let emulator = start().await;
    let dir = std::env::temp_dir().join(format!("xrepl-foreign-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The guide's bucket policy, fixed (its en dashes replaced), as the user's own file.
    let guide_policy = std::fs::read_to_string(fixture("guide/destination-bucket-policy.json")).unwrap().replace('–', "-");
    std::fs::write(dir.join("bucket-policy.json"), &guide_policy).unwrap();
    let text = std::fs::read_to_string(fixture("guide/spec.toml"))
        .unwrap()
        .replace("create_bucket = true   # the guide", "bucket_policy_file = \"bucket-policy.json\"\ncreate_bucket = true   # the guide");
    let mut spec = Spec::from_toml_str(&text, dir.join("spec.toml")).unwrap();
    spec.point_at_endpoint(&emulator.endpoint());
    assert!(spec.destination.bucket_policy_file.is_some());
    let accounts = Accounts::from_spec(&spec, Side::Both).await.unwrap();
    let dst = accounts.destination.as_ref().unwrap();
    bucket(dst, &spec.destination.bucket).await;
    let users = users_bucket_policy(&spec.destination.bucket);
    dst.s3.put_bucket_policy().bucket(&spec.destination.bucket).policy(users.to_string()).send().await.unwrap();

    let p = plan(&spec, &accounts, Side::Both).await.unwrap();
    let bp = p.get(ResourceKind::DestinationBucketPolicy).unwrap();
    assert_eq!(bp.change, Change::Update, "{p}");
    assert!(bp.reason.contains("2 statement(s) not xrepl's are kept"), "{p}");
    apply(&spec, &accounts, &fast()).await.unwrap();
    let merged = dst.s3.get_bucket_policy().bucket(&spec.destination.bucket).send().await.unwrap();
    let merged: Value = serde_json::from_str(merged.policy().unwrap()).unwrap();
    let statements = merged["Statement"].as_array().unwrap();
    assert_eq!(&statements[..2], users["Statement"].as_array().unwrap().as_slice(), "{merged:#}");
    assert_eq!(statements.len(), 4, "{merged:#}");
    assert!(statements[2..].iter().all(|s| s["Sid"].as_str().is_some_and(|sid| sid.starts_with("Xrepl"))), "{merged:#}");
    assert!(plan(&spec, &accounts, Side::Both).await.unwrap().is_noop());

    emulator.drain().await;
    destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    let after = dst.s3.get_bucket_policy().bucket(&spec.destination.bucket).send().await.unwrap();
    let after: Value = serde_json::from_str(after.policy().unwrap()).unwrap();
    assert_eq!(after, users);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Defect 4: a failed apply reported nothing of what it did, and a bucket created but not tagged
/// was never recognized as xrepl's again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_whose_tagging_fails_is_rolled_back_and_a_rerun_creates_and_tags_it() {
    let emulator = start().await;
    let (spec, accounts) = guide(&emulator).await;
    let limited = Accounts {
        source: accounts.source.clone(),
        others: Vec::new(),
        destination: Some(user_denied(&emulator, &accounts, "s3:PutBucketTagging").await),
    };
    let err = apply(&spec, &limited, &fast()).await.expect_err("tagging is denied");
    let failure = err.apply_failure().expect("carries the report");
    let done: Vec<(&str, &str)> = failure.report.calls.iter().map(|c| (c.operation, c.target.as_str())).collect();
    assert_eq!(
        done,
        [
            ("CreateBucket", "xrepl-guide-source"),
            ("PutBucketTagging", "xrepl-guide-source"),
            ("CreateBucket", "xrepl-guide-destination"),
            ("DeleteBucket", "xrepl-guide-destination"),
        ],
        "{failure:#?}"
    );
    assert!(failure.report.remaining[0].status.contains("deleted again"), "{failure:#?}");
    let dst = accounts.destination.as_ref().unwrap();
    assert!(dst.s3.head_bucket().bucket(&spec.destination.bucket).send().await.is_err());

    apply(&spec, &accounts, &fast()).await.unwrap();
    let gone = destroy(&spec, &accounts, &DestroyOptions::default()).await.unwrap();
    assert!(gone.kept.is_empty(), "{gone:#?}");
    assert!(dst.s3.head_bucket().bucket(&spec.destination.bucket).send().await.is_err());
}
