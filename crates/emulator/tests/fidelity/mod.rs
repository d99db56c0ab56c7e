//! Behaviours AWS documents in so many words, each test quoting the page it follows
//! (docs/aws-semantics.md §12–§26 describe them). A setup that works on AWS must work here.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccessControlTranslation, Destination, Metrics, MetricsStatus, ObjectOwnership, OwnerOverride, OwnershipControls,
    OwnershipControlsRule, ReplicationConfiguration, ReplicationRule, StorageClass, Tag, Tagging,
};

use super::common::{body, code, message, start, versioned_bucket, Env, A, B};
use super::{guide, put, put_locked, reasons, role_arn, rule, status, Breaks, DST, SRC};

const C: &str = "333333333333";

async fn put_tagged(env: &Env, key: &str) -> String {
    let a = env.s3(A).await;
    let out = a.put_object().bucket(SRC).key(key).tagging("class=finance").body(ByteStream::from_static(b"data")).send().await;
    out.expect("put").version_id().expect("vid").to_owned()
}

async fn replica_tags(env: &Env, key: &str, vid: &str) -> Vec<(String, String)> {
    let b = env.s3(B).await;
    let tags = b.get_object_tagging().bucket(DST).key(key).version_id(vid).send().await.expect("replica tags");
    tags.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

async fn set_bucket_policy(env: &Env, account: &str, bucket: &str, policy: serde_json::Value) {
    env.s3(account).await.put_bucket_policy().bucket(bucket).policy(policy.to_string()).send().await.expect("bucket policy");
}

/// AWS's example cross-account bucket policy grants s3:ReplicateObject and s3:ReplicateDelete only.
fn aws_minimal_bucket_policy(extra: Vec<serde_json::Value>) -> serde_json::Value {
    let mut statements = vec![
        serde_json::json!({"Sid": "objects", "Effect": "Allow", "Principal": {"AWS": role_arn()},
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ObjectOwnerOverrideToBucketOwner"], "Resource": format!("arn:aws:s3:::{DST}/*")}),
        serde_json::json!({"Sid": "bucket", "Effect": "Allow", "Principal": {"AWS": role_arn()},
            "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"], "Resource": format!("arn:aws:s3:::{DST}")}),
    ];
    statements.extend(extra);
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

#[tokio::test]
async fn tags_ride_on_replicate_object() {
    // User Guide setting-repl-config-perm-overview: "Permissions for the s3:ReplicateObject action on
    // the destination bucket also allow replication of object tags, so you don't need to explicitly
    // grant permission for the s3:ReplicateTags action."
    let env = start().await;
    guide(&env, &Breaks { omit_role_actions: vec!["s3:ReplicateTags"], ..Breaks::default() }).await;
    set_bucket_policy(&env, B, DST, aws_minimal_bucket_policy(vec![])).await;
    let vid = put_tagged(&env, "tagged").await;
    env.emulator.drain().await;
    assert_eq!(status(&env.s3(A).await, SRC, "tagged", &vid).await.as_deref(), Some("COMPLETED"), "{:?}", reasons(&env));
    assert_eq!(replica_tags(&env, "tagged", &vid).await, vec![("class".to_owned(), "finance".to_owned())]);

    // Only an explicit Deny of s3:ReplicateTags stops the tags.
    let deny = serde_json::json!({"Sid": "no-tags", "Effect": "Deny", "Principal": {"AWS": role_arn()}, "Action": "s3:ReplicateTags",
        "Resource": format!("arn:aws:s3:::{DST}/*")});
    set_bucket_policy(&env, B, DST, aws_minimal_bucket_policy(vec![deny])).await;
    let vid = put_tagged(&env, "denied").await;
    env.emulator.drain().await;
    assert_eq!(status(&env.s3(A).await, SRC, "denied", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["DstPutTaggingNotPermitted"]);
}

#[tokio::test]
async fn without_the_tag_read_objects_replicate_without_tags() {
    // User Guide setting-repl-config-perm-overview: "If Amazon S3 doesn't have these permissions, it
    // replicates the objects, but not the object tags."
    let env = start().await;
    guide(&env, &Breaks { omit_role_actions: vec!["s3:GetObjectVersionTagging"], ..Breaks::default() }).await;
    let vid = put_tagged(&env, "tagged").await;
    env.emulator.drain().await;
    assert_eq!(status(&env.s3(A).await, SRC, "tagged", &vid).await.as_deref(), Some("COMPLETED"));
    assert!(reasons(&env).is_empty(), "{:?}", reasons(&env));
    assert!(replica_tags(&env, "tagged", &vid).await.is_empty(), "the replica carries no tags");
}

#[tokio::test]
async fn replication_requests_count_as_tls() {
    // Replication is S3 calling S3 over TLS: a destination policy denying aws:SecureTransport=false
    // (IAM User Guide reference_policies_condition-keys, aws:SecureTransport) does not stop it.
    let deny_plain_http = serde_json::json!({"Sid": "tls-only", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{DST}"), format!("arn:aws:s3:::{DST}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    set_bucket_policy(&env, B, DST, aws_minimal_bucket_policy(vec![deny_plain_http.clone()])).await;
    let vid = put(&env.s3(A).await, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&env.s3(A).await, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"), "{:?}", reasons(&env));
    // A client over plain HTTP is what the statement denies...
    let err = env.s3(B).await.get_object().bucket(DST).key("k").send().await.expect_err("plain HTTP is denied");
    assert_eq!(code(&err), "AccessDenied");

    // ...unless the emulator is told to treat its clients as TLS clients (`serve --assume-tls`).
    let emulator =
        xrepl_emulator::Emulator::start(xrepl_emulator::EmulatorConfig::with_accounts(&[A, B]).assume_tls(true)).await.expect("start");
    let env = Env { emulator };
    guide(&env, &Breaks::default()).await;
    set_bucket_policy(&env, B, DST, aws_minimal_bucket_policy(vec![deny_plain_http])).await;
    let vid = put(&env.s3(A).await, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(body(&env.s3(B).await, DST, "k", Some(&vid)).await, b"x");
}

#[tokio::test]
async fn missing_keys_are_403_without_list_bucket() {
    // API Reference API_HeadObject / API_GetObject: with s3:ListBucket a missing key is 404
    // NoSuchKey; "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status
    // code 403 Access Denied error."
    let env = start().await;
    let a = env.s3(A).await;
    versioned_bucket(&a, "reads").await;
    put(&a, "reads", "present", b"x").await;
    let reader = |actions: &[&str]| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": actions,
             "Resource": ["arn:aws:s3:::reads", "arn:aws:s3:::reads/*"]}]})
    };
    let b = env.s3(B).await;
    set_bucket_policy(&env, A, "reads", reader(&["s3:GetObject"])).await;
    assert_eq!(body(&b, "reads", "present", None).await, b"x");
    let err = b.head_object().bucket("reads").key("missing").send().await.expect_err("missing");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let err = b.get_object().bucket("reads").key("missing").send().await.expect_err("missing");
    assert_eq!(code(&err), "AccessDenied");
    set_bucket_policy(&env, A, "reads", reader(&["s3:GetObject", "s3:ListBucket"])).await;
    let err = b.get_object().bucket("reads").key("missing").send().await.expect_err("missing");
    assert_eq!(code(&err), "NoSuchKey");
    let err = b.head_object().bucket("reads").key("missing").send().await.expect_err("missing");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
}

#[tokio::test]
async fn archived_objects_are_not_replicated_and_need_a_restore() {
    // User Guide replication-what-is-isnot-replicated: objects in S3 Glacier Flexible Retrieval or
    // Deep Archive are not replicated. API_GetObject: such an object answers 403 InvalidObjectState
    // until restored (API_RestoreObject: 202 Accepted, then readable; 409 while in progress).
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let a = env.s3(A).await;
    let put_class = |key: &'static str, class: StorageClass| {
        let a = a.clone();
        async move {
            let out = a.put_object().bucket(SRC).key(key).storage_class(class).body(ByteStream::from_static(b"cold")).send().await;
            out.expect("put").version_id().expect("vid").to_owned()
        }
    };
    let cold = put_class("cold", StorageClass::Glacier).await;
    let deep = put_class("deep", StorageClass::DeepArchive).await;
    let warm = put_class("warm", StorageClass::StandardIa).await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "cold", &cold).await, None, "not eligible: no replication status");
    assert_eq!(status(&a, SRC, "deep", &deep).await, None);
    assert_eq!(status(&a, SRC, "warm", &warm).await.as_deref(), Some("COMPLETED"));
    let listed = env.s3(B).await.list_object_versions().bucket(DST).send().await.expect("list");
    assert_eq!(listed.versions().iter().filter_map(|v| v.key()).collect::<Vec<_>>(), vec!["warm"]);

    let err = a.get_object().bucket(SRC).key("cold").send().await.expect_err("archived");
    assert_eq!((code(&err), err.raw_response().map(|r| r.status().as_u16())), ("InvalidObjectState".to_owned(), Some(403)));
    env.emulator.set_restore_latency(std::time::Duration::from_secs(3600));
    let restore = aws_sdk_s3::types::RestoreRequest::builder().days(2).build();
    a.restore_object().bucket(SRC).key("cold").restore_request(restore.clone()).send().await.expect("restore accepted");
    let head = a.head_object().bucket(SRC).key("cold").send().await.expect("head");
    assert_eq!(head.restore(), Some("ongoing-request=\"true\""));
    let err = a.restore_object().bucket(SRC).key("cold").restore_request(restore.clone()).send().await.expect_err("in progress");
    assert_eq!(code(&err), "RestoreAlreadyInProgress");
    assert_eq!(code(&a.get_object().bucket(SRC).key("cold").send().await.expect_err("not yet")), "InvalidObjectState");

    env.emulator.set_restore_latency(std::time::Duration::ZERO);
    a.restore_object().bucket(SRC).key("deep").restore_request(restore).send().await.expect("restore");
    assert_eq!(body(&a, SRC, "deep", None).await, b"cold");
    let head = a.head_object().bucket(SRC).key("deep").send().await.expect("head");
    assert!(head.restore().is_some_and(|r| r.starts_with("ongoing-request=\"false\", expiry-date=")), "{:?}", head.restore());
    let err = a.restore_object().bucket(SRC).key("warm").send().await.expect_err("not archived");
    assert_eq!(code(&err), "InvalidObjectState");
}

#[tokio::test]
async fn a_replica_without_retention_gets_the_destination_default_retention() {
    // User Guide replication-what-is-isnot-replicated (Object Lock): a replica is a new version in the
    // destination; without a retention of its own it gets the destination's default retention like any
    // other new version (issue 21, the round-3 scenario).
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    a.create_bucket().bucket(SRC).object_lock_enabled_for_bucket(true).send().await.expect("locked source");
    b.create_bucket().bucket(DST).object_lock_enabled_for_bucket(true).send().await.expect("locked destination");
    let default =
        aws_sdk_s3::types::DefaultRetention::builder().mode(aws_sdk_s3::types::ObjectLockRetentionMode::Governance).days(1).build();
    let config = aws_sdk_s3::types::ObjectLockConfiguration::builder()
        .object_lock_enabled(aws_sdk_s3::types::ObjectLockEnabled::Enabled)
        .rule(aws_sdk_s3::types::ObjectLockRule::builder().default_retention(default).build())
        .build();
    b.put_object_lock_configuration().bucket(DST).object_lock_configuration(config).send().await.expect("default retention");
    guide(&env, &Breaks::default()).await;
    let plain = put(&a, SRC, "plain", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "plain", &plain).await.as_deref(), Some("COMPLETED"));
    let source = a.get_object_retention().bucket(SRC).key("plain").version_id(&plain).send().await;
    assert_eq!(code(&source.expect_err("the source version has no retention")), "NoSuchObjectLockConfiguration");
    let replica = b.get_object_retention().bucket(DST).key("plain").version_id(&plain).send().await.expect("the replica's retention");
    let retention = replica.retention().expect("retention");
    assert_eq!(retention.mode().map(|m| m.as_str()), Some("GOVERNANCE"));
    let until = retention.retain_until_date().expect("until").secs();
    let in_a_day = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64 + 86_400;
    assert!((until - in_a_day).abs() < 120, "a day from the replication, not {until}");
}

#[tokio::test]
async fn object_lock_is_a_property_of_the_bucket() {
    // User Guide replication-failure-codes, DstBucketObjectLockConfigMissing: "To replicate objects
    // from a source bucket with Object Lock enabled, the destination bucket must also have Object
    // Lock enabled" — every object, not only those with retention.
    let env = start().await;
    let a = env.s3(A).await;
    a.create_bucket().bucket(SRC).object_lock_enabled_for_bucket(true).send().await.expect("locked source");
    guide(&env, &Breaks::default()).await;
    let vid = put(&a, SRC, "plain", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "plain", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["DstBucketObjectLockConfigMissing"]);

    // The role must read retention for objects that carry it (s3:GetObjectRetention).
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    a.create_bucket().bucket(SRC).object_lock_enabled_for_bucket(true).send().await.expect("locked source");
    b.create_bucket().bucket(DST).object_lock_enabled_for_bucket(true).send().await.expect("locked destination");
    guide(&env, &Breaks { omit_role_actions: vec!["s3:GetObjectRetention"], ..Breaks::default() }).await;
    let plain = put(&a, SRC, "plain", b"x").await;
    let retained = put_locked(&a, "retained", aws_sdk_s3::types::ObjectLockMode::Governance).await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "plain", &plain).await.as_deref(), Some("COMPLETED"));
    assert_eq!(status(&a, SRC, "retained", &retained).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["SrcGetObjectNotPermitted"]);

    // Deleting a locked version is refused (User Guide object-lock-overview); governance mode
    // yields to x-amz-bypass-governance-retention with s3:BypassGovernanceRetention.
    let err = a.delete_object().bucket(SRC).key("retained").version_id(&retained).send().await.expect_err("locked");
    assert_eq!(code(&err), "AccessDenied");
    assert!(message(&err).contains("object lock"), "{}", message(&err));
    a.delete_object().bucket(SRC).key("retained").version_id(&retained).bypass_governance_retention(true).send().await.expect("bypass");
    let compliant = put_locked(&a, "compliant", aws_sdk_s3::types::ObjectLockMode::Compliance).await;
    let err = a.delete_object().bucket(SRC).key("compliant").version_id(&compliant).bypass_governance_retention(true).send().await;
    assert_eq!(code(&err.expect_err("compliance mode yields to nobody")), "AccessDenied");
    // Governance may not be turned into compliance (nor shortened) without the bypass
    // (found by Ceph's test_object_lock_changing_mode_from_governance_without_bypass).
    let governed = put_locked(&a, "governed", aws_sdk_s3::types::ObjectLockMode::Governance).await;
    let compliance = aws_sdk_s3::types::ObjectLockRetention::builder()
        .mode(aws_sdk_s3::types::ObjectLockRetentionMode::Compliance)
        .retain_until_date(super::retain_until())
        .build();
    let err = a.put_object_retention().bucket(SRC).key("governed").version_id(&governed).retention(compliance.clone()).send().await;
    assert_eq!(code(&err.expect_err("mode change without bypass")), "AccessDenied");
    a.put_object_retention()
        .bucket(SRC)
        .key("governed")
        .version_id(&governed)
        .retention(compliance)
        .bypass_governance_retention(true)
        .send()
        .await
        .expect("with the bypass");
    // Multipart uploads carry their Object Lock settings into the object they become.
    let mpu = a
        .create_multipart_upload()
        .bucket(SRC)
        .key("multipart")
        .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Compliance)
        .object_lock_retain_until_date(super::retain_until())
        .send()
        .await
        .expect("mpu");
    let upload_id = mpu.upload_id().expect("upload id");
    let part =
        a.upload_part().bucket(SRC).key("multipart").upload_id(upload_id).part_number(1).body(ByteStream::from_static(b"p")).send().await;
    let part = aws_sdk_s3::types::CompletedPart::builder().part_number(1).e_tag(part.expect("part").e_tag().unwrap_or_default()).build();
    let done = a
        .complete_multipart_upload()
        .bucket(SRC)
        .key("multipart")
        .upload_id(upload_id)
        .multipart_upload(aws_sdk_s3::types::CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .expect("complete");
    let err = a.delete_object().bucket(SRC).key("multipart").version_id(done.version_id().unwrap_or_default()).send().await;
    assert_eq!(code(&err.expect_err("the multipart object is locked")), "AccessDenied");
    // The retention and the bucket's configuration read back as set.
    let retention = a.get_object_retention().bucket(SRC).key("compliant").send().await.expect("retention");
    assert_eq!(retention.retention().and_then(|r| r.mode()).map(|m| m.as_str()), Some("COMPLIANCE"));
    let config = a.get_object_lock_configuration().bucket(SRC).send().await.expect("lock configuration");
    assert_eq!(config.object_lock_configuration().and_then(|c| c.object_lock_enabled()).map(|e| e.as_str()), Some("Enabled"));
}

fn metrics_rule(breaks: &Breaks) -> ReplicationRule {
    let mut r = rule("metered", 1, DST, breaks);
    let destination = Destination::builder()
        .bucket(format!("arn:aws:s3:::{DST}"))
        .account(B)
        .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build().expect("act"))
        .metrics(Metrics::builder().status(MetricsStatus::Enabled).build().expect("metrics"))
        .build()
        .expect("destination");
    r.destination = Some(destination);
    r
}

#[tokio::test]
async fn failure_events_need_replication_metrics() {
    // User Guide replication-metrics-events: "To receive replication failure event notifications
    // (s3:Replication:OperationFailedReplication), you must enable S3 Replication metrics on your
    // replication rule." The record's eventName has no "s3:" prefix (notification-content-structure).
    let env = start().await;
    guide(&env, &Breaks { no_bucket_policy: true, ..Breaks::default() }).await;
    let a = env.s3(A).await;
    put(&a, SRC, "unmetered", b"x").await;
    env.emulator.drain().await;
    assert_eq!(reasons(&env), vec!["DstPutObjectNotPermitted"], "xrepl's own diagnostics keep every failure");
    assert!(env.emulator.replication().notifications().is_empty(), "no metrics, no AWS event");

    let config = ReplicationConfiguration::builder().role(role_arn()).rules(metrics_rule(&Breaks::default())).build().expect("config");
    a.put_bucket_replication().bucket(SRC).replication_configuration(config).send().await.expect("metrics on");
    let vid = put(&a, SRC, "metered", b"x").await;
    env.emulator.drain().await;
    let records = env.emulator.replication().notifications();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["eventName"], "Replication:OperationFailedReplication");
    assert_eq!(record["eventSource"], "aws:s3");
    assert_eq!(record["s3"]["object"]["versionId"], vid.as_str());
    assert_eq!(record["replicationEventData"]["failureReason"], "DstPutObjectNotPermitted");
    assert_eq!(record["replicationEventData"]["replicationRuleId"], "metered");
    assert_eq!(record["replicationEventData"]["destinationBucket"], format!("arn:aws:s3:::{DST}"));
}

#[tokio::test]
async fn sse_c_objects_need_their_key_and_replicate() {
    // API Reference API_GetObject / API_HeadObject: an SSE-C object read without its key is 400,
    // with another key 403. User Guide replication-what-is-isnot-replicated: SSE-C objects replicate.
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let md5 = |bytes: &[u8]| {
        use md5::Digest;
        b64(&md5::Md5::digest(bytes))
    };
    let (key, other) = ([7u8; 32], [9u8; 32]);
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let out = a
        .put_object()
        .bucket(SRC)
        .key("secret")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(b64(&key))
        .sse_customer_key_md5(md5(&key))
        .body(ByteStream::from_static(b"customer-encrypted"))
        .send()
        .await
        .expect("put with SSE-C");
    assert_eq!(out.sse_customer_key_md5(), Some(md5(&key).as_str()));
    let vid = out.version_id().expect("vid").to_owned();
    let err = a.get_object().bucket(SRC).key("secret").send().await.expect_err("no key");
    assert_eq!((code(&err), err.raw_response().map(|r| r.status().as_u16())), ("InvalidRequest".to_owned(), Some(400)));
    let err = a.head_object().bucket(SRC).key("secret").send().await.expect_err("no key");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    let get = |client: aws_sdk_s3::Client, bucket: &'static str, k: [u8; 32]| async move {
        client
            .get_object()
            .bucket(bucket)
            .key("secret")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(b64(&k))
            .sse_customer_key_md5(md5(&k))
            .send()
            .await
    };
    let err = get(a.clone(), SRC, other).await.expect_err("wrong key");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    let read = get(a.clone(), SRC, key).await.expect("right key");
    assert_eq!(read.sse_customer_key_md5(), Some(md5(&key).as_str()));
    assert_eq!(read.body.collect().await.expect("body").into_bytes().as_ref(), b"customer-encrypted");
    env.emulator.drain().await;
    let source = get(a.clone(), SRC, key).await.expect("source");
    assert_eq!(source.replication_status().map(|s| s.as_str()), Some("COMPLETED"), "{:?}", reasons(&env));
    assert_eq!(source.version_id(), Some(vid.as_str()));
    let replica = get(b.clone(), DST, key).await.expect("replica with the same key");
    assert_eq!(replica.replication_status().map(|s| s.as_str()), Some("REPLICA"));
    assert_eq!(code(&b.get_object().bucket(DST).key("secret").send().await.expect_err("no key")), "InvalidRequest");
}

async fn object_writer(s3: &aws_sdk_s3::Client, bucket: &str) {
    let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::ObjectWriter).build().expect("rule");
    let controls = OwnershipControls::builder().rules(rule).build().expect("controls");
    s3.put_bucket_ownership_controls().bucket(bucket).ownership_controls(controls).send().await.expect("ObjectWriter");
    // New buckets block public ACLs (User Guide access-control-block-public-access), as on AWS.
    s3.delete_public_access_block().bucket(bucket).send().await.expect("public ACLs allowed");
}

#[tokio::test]
async fn objects_another_account_owns_replicate_when_the_bucket_owner_may_read_them() {
    // User Guide replication-what-is-isnot-replicated: S3 replicates objects the source bucket owner
    // has permission to read; an ACL such as bucket-owner-full-control gives it that permission.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, c) = (env.s3(A).await, env.s3(C).await);
    object_writer(&a, SRC).await;
    let writers = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{C}:root")}, "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{SRC}/*")}]});
    set_bucket_policy(&env, A, SRC, writers).await;
    let shared = c
        .put_object()
        .bucket(SRC)
        .key("shared")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"c"))
        .send()
        .await
        .expect("C writes with bucket-owner-full-control");
    let private = c.put_object().bucket(SRC).key("private").body(ByteStream::from_static(b"c")).send().await.expect("C writes privately");
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "shared", shared.version_id().expect("vid")).await.as_deref(), Some("COMPLETED"), "{:?}", reasons(&env));
    let private_vid = private.version_id().expect("vid");
    let head = a.head_object().bucket(SRC).key("private").version_id(private_vid).send().await;
    let err = head.expect_err("A cannot even read C's private object");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(reasons(&env), vec!["SrcGetObjectNotPermitted"]);
    assert_eq!(body(&env.s3(B).await, DST, "shared", None).await, b"c");
}

#[tokio::test]
async fn acl_updates_follow_how_each_replica_was_made() {
    // User Guide replication-change-owner: with owner override, later ACL changes of the source are
    // not replicated; replicas made without it keep receiving them.
    let env = start().await;
    env.emulator.add_account(C).expect("account C");
    let b = env.s3(B).await;
    b.create_bucket().bucket(DST).object_ownership(ObjectOwnership::ObjectWriter).send().await.expect("create");
    guide(&env, &Breaks { no_owner_override: true, ..Breaks::default() }).await;
    let a = env.s3(A).await;
    object_writer(&a, SRC).await;
    let before = put(&a, SRC, "before", b"x").await;
    env.emulator.drain().await;
    // Now turn owner override on and write another object.
    let config = ReplicationConfiguration::builder().role(role_arn()).rules(rule("guide-rule", 1, DST, &Breaks::default())).build();
    a.put_bucket_replication().bucket(SRC).replication_configuration(config.expect("config")).send().await.expect("override on");
    let after = put(&a, SRC, "after", b"x").await;
    env.emulator.drain().await;
    for key in ["before", "after"] {
        a.put_object_acl()
            .bucket(SRC)
            .key(key)
            .grant_read(format!("id={}", env.canonical(C)))
            .grant_full_control(format!("id={}", env.canonical(A)))
            .send()
            .await
            .expect("acl");
    }
    env.emulator.drain().await;
    assert!(reasons(&env).is_empty(), "{:?}", reasons(&env));
    let c = env.s3(C).await;
    // C was granted READ on both sources; only the replica made without override received it.
    assert_eq!(body(&c, DST, "before", Some(&before)).await, b"x");
    let err = c.get_object().bucket(DST).key("after").version_id(&after).send().await.expect_err("override replica keeps B's ACL");
    assert_eq!(code(&err), "AccessDenied");
}

#[tokio::test]
async fn replica_reports_pending_while_its_change_syncs_back() {
    // User Guide replication-status: with replica modification sync, "If metadata changes are in the
    // process of replicating the x-amz-replication-status header will return PENDING"; FAILED if
    // the sync fails; REPLICA once replicated.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let vid = put(&a, SRC, "shared.txt", b"x").await;
    env.emulator.drain().await;
    super::two_way_back_rule(&env).await;
    let tagging = Tagging::builder().tag_set(Tag::builder().key("edited").value("by-b").build().expect("tag")).build().expect("tagging");
    env.emulator.replication().pause();
    b.put_object_tagging().bucket(DST).key("shared.txt").version_id(&vid).tagging(tagging.clone()).send().await.expect("tag replica");
    assert_eq!(status(&b, DST, "shared.txt", &vid).await.as_deref(), Some("PENDING"));
    env.emulator.replication().resume();
    env.emulator.drain().await;
    assert_eq!(status(&b, DST, "shared.txt", &vid).await.as_deref(), Some("REPLICA"));

    // The way back loses its permission: the replica reports FAILED.
    a.delete_bucket_policy().bucket(SRC).send().await.expect("remove the way back");
    b.put_object_tagging().bucket(DST).key("shared.txt").version_id(&vid).tagging(tagging).send().await.expect("tag replica");
    env.emulator.drain().await;
    assert_eq!(status(&b, DST, "shared.txt", &vid).await.as_deref(), Some("FAILED"));
}

#[tokio::test]
async fn the_engine_reads_the_configuration_when_it_runs() {
    // User Guide replication-failure-codes, SrcBucketReplicationConfigMissing: the configuration
    // is read when S3 replicates, so deleting it while work is queued fails that work.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let a = env.s3(A).await;
    env.emulator.replication().pause();
    let vid = put(&a, SRC, "queued", b"x").await;
    a.delete_bucket_replication().bucket(SRC).send().await.expect("delete configuration");
    env.emulator.replication().resume();
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "queued", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["SrcBucketReplicationConfigMissing"]);
}

#[tokio::test]
async fn the_role_must_belong_to_the_source_bucket_owner() {
    // User Guide setting-repl-config-perm-overview: the role is created in the source bucket owner's
    // account and passed with iam:PassRole, which cannot pass another account's role.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, iam_b) = (env.s3(A).await, env.iam(B).await);
    iam_b
        .create_role()
        .role_name("b-role")
        .assume_role_policy_document(super::trust_policy("s3.amazonaws.com"))
        .send()
        .await
        .expect("B's role");
    let config = ReplicationConfiguration::builder()
        .role(format!("arn:aws:iam::{B}:role/b-role"))
        .rules(rule("guide-rule", 1, DST, &Breaks::default()))
        .build()
        .expect("config");
    let err = a.put_bucket_replication().bucket(SRC).replication_configuration(config).send().await.expect_err("B's role");
    assert_eq!(code(&err), "AccessDenied");
    let kept = a.get_bucket_replication().bucket(SRC).send().await.expect("unchanged");
    assert_eq!(kept.replication_configuration().map(|c| c.role()), Some(role_arn().as_str()));
}

#[tokio::test]
async fn a_version_is_authorized_by_its_own_owner_and_acl() {
    // API Reference API_GetObject (versionId) and User Guide acl-overview: a request for a version
    // is checked against that version's ACL, not the latest version's.
    let env = start().await;
    let a = env.s3(A).await;
    versioned_bucket(&a, "acls").await;
    object_writer(&a, "acls").await;
    let public = a
        .put_object()
        .bucket("acls")
        .key("k")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await
        .expect("v1 public")
        .version_id()
        .expect("vid")
        .to_owned();
    put(&a, "acls", "k", b"v2").await;
    let b = env.s3(B).await;
    assert_eq!(code(&b.get_object().bucket("acls").key("k").send().await.expect_err("latest is private")), "AccessDenied");
    assert_eq!(body(&b, "acls", "k", Some(&public)).await, b"v1");
    let acl = b.get_object_acl().bucket("acls").key("k").version_id(&public).send().await;
    assert_eq!(code(&acl.expect_err("READ does not include READ_ACP")), "AccessDenied");
}

#[tokio::test]
async fn every_write_path_checks_the_callers_kms_permissions() {
    // User Guide UsingKMSEncryption: uploading with SSE-KMS needs kms:GenerateDataKey, whether by
    // PutObject, CopyObject or CreateMultipartUpload.
    let env = start().await;
    let (a, iam, kms) = (env.s3(A).await, env.iam(A).await, super::kms_client(&env, A).await);
    versioned_bucket(&a, "enc").await;
    put(&a, "enc", "plain", b"x").await;
    let key =
        kms.create_key().send().await.expect("key").key_metadata().map(|m| m.arn().unwrap_or_default().to_owned()).unwrap_or_default();
    iam.create_user().user_name("writer").send().await.expect("user");
    let s3_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    iam.put_user_policy().user_name("writer").policy_name("s3").policy_document(s3_only).send().await.expect("policy");
    let k = iam.create_access_key().user_name("writer").send().await.expect("key");
    let k = k.access_key().expect("access key");
    let writer = env.s3_with(k.access_key_id(), k.secret_access_key(), None).await;
    let kms_sse = aws_sdk_s3::types::ServerSideEncryption::AwsKms;
    let err = writer.put_object().bucket("enc").key("p").server_side_encryption(kms_sse.clone()).ssekms_key_id(&key).send().await;
    assert_eq!(code(&err.expect_err("PutObject")), "AccessDenied");
    let err = writer
        .copy_object()
        .bucket("enc")
        .key("c")
        .copy_source("enc/plain")
        .server_side_encryption(kms_sse.clone())
        .ssekms_key_id(&key)
        .send()
        .await;
    assert_eq!(code(&err.expect_err("CopyObject")), "AccessDenied");
    let err = writer.create_multipart_upload().bucket("enc").key("m").server_side_encryption(kms_sse).ssekms_key_id(&key).send().await;
    assert_eq!(code(&err.expect_err("CreateMultipartUpload")), "AccessDenied");
    writer.copy_object().bucket("enc").key("c").copy_source("enc/plain").send().await.expect("an unencrypted copy is fine");
}

#[tokio::test]
async fn lifecycle_actions_are_not_replicated_and_act_on_replicas() {
    // User Guide replication-what-is-isnot-replicated: "objects deleted by lifecycle" and lifecycle
    // delete markers are not replicated; intro-lifecycle-rules: Days count from creation, rounded up
    // to the next midnight UTC; a rule on the destination acts on its replicas.
    use aws_sdk_s3::types::{BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter};
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let vid = put(&a, SRC, "logs/old", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "logs/old", &vid).await.as_deref(), Some("COMPLETED"));
    let expire_after = |days: i32| {
        BucketLifecycleConfiguration::builder()
            .rules(
                LifecycleRule::builder()
                    .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
                    .status(ExpirationStatus::Enabled)
                    .expiration(LifecycleExpiration::builder().days(days).build())
                    .build()
                    .expect("rule"),
            )
            .build()
            .expect("configuration")
    };
    a.put_bucket_lifecycle_configuration().bucket(SRC).lifecycle_configuration(expire_after(30)).send().await.expect("source rule");
    let rules = a.get_bucket_lifecycle_configuration().bucket(SRC).send().await.expect("get");
    assert!(rules.rules()[0].id().is_some_and(|id| !id.is_empty()), "S3 names a rule sent without an ID");

    let early = env.emulator.run_lifecycle(std::time::Duration::from_secs(29 * 86_400)).expect("day 29");
    assert_eq!(early.delete_markers_added, 0, "not due before 30 days");
    let due = env.emulator.run_lifecycle(std::time::Duration::from_secs(31 * 86_400)).expect("day 31");
    assert_eq!(due.delete_markers_added, 1);
    env.emulator.drain().await;
    let err = a.get_object().bucket(SRC).key("logs/old").send().await.expect_err("expired on the source");
    assert_eq!(code(&err), "NoSuchKey");
    assert_eq!(body(&b, DST, "logs/old", None).await, b"x", "the lifecycle delete marker is not replicated");

    // The destination's own rule expires the replica there.
    b.put_bucket_lifecycle_configuration().bucket(DST).lifecycle_configuration(expire_after(1)).send().await.expect("destination rule");
    let report = env.emulator.run_lifecycle(std::time::Duration::from_secs(2 * 86_400)).expect("day 2");
    assert_eq!(report.delete_markers_added, 1, "{report:?}");
    let err = b.get_object().bucket(DST).key("logs/old").send().await.expect_err("replica expired");
    assert_eq!(code(&err), "NoSuchKey");
}
