//! The replication engine against the guide's setup and its broken variants, asserted through
//! aws-sdk-s3. Each test names the section of docs/aws-semantics.md it checks (and `fidelity/`
//! the AWS page each behaviour comes from). Nothing sleeps: tests wait on the engine's drain API.

mod common;
mod fidelity;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccessControlTranslation, BucketVersioningStatus, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination, OwnerOverride,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus, StorageClass, Tag, Tagging,
    VersioningConfiguration,
};
use common::{body, code, message, start, versioned_bucket, Env, A, B};

const SRC: &str = "guide-source";
const DST: &str = "guide-destination";
const ROLE: &str = "s3crr_role_for_guide-source";

fn role_arn() -> String {
    format!("arn:aws:iam::{A}:role/service-role/{ROLE}")
}

/// What to break in the guide's setup.
#[derive(Default, Clone)]
struct Breaks {
    no_role: bool,
    trust_service: Option<&'static str>,
    omit_role_actions: Vec<&'static str>,
    no_bucket_policy: bool,
    omit_bucket_policy_actions: Vec<&'static str>,
    no_owner_override: bool,
    no_delete_markers: bool,
}

fn trust_policy(service: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// The guide's permission policy (step 10) minus the omitted actions.
fn role_policy(omit: &[&str]) -> String {
    let reads: Vec<&str> = [
        "s3:ListBucket",
        "s3:GetReplicationConfiguration",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectRetention",
        "s3:GetObjectLegalHold",
    ]
    .into_iter()
    .filter(|a| !omit.contains(a))
    .collect();
    let writes: Vec<&str> = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"]
        .into_iter()
        .filter(|a| !omit.contains(a))
        .collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Action": reads, "Effect": "Allow", "Resource": [
                format!("arn:aws:s3:::{SRC}"), format!("arn:aws:s3:::{SRC}/*"), format!("arn:aws:s3:::{DST}"), format!("arn:aws:s3:::{DST}/*")]},
            {"Action": writes, "Effect": "Allow", "Resource": [format!("arn:aws:s3:::{SRC}/*"), format!("arn:aws:s3:::{DST}/*")]}
        ]
    })
    .to_string()
}

/// The guide's destination bucket policy (step 14, with a valid Version) minus the omitted actions.
fn bucket_policy(bucket: &str, omit: &[&str]) -> String {
    let objects: Vec<&str> = ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateTags"]
        .into_iter()
        .filter(|a| !omit.contains(a))
        .collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Id": "PolicyForDestinationBucket",
        "Statement": [
            {"Sid": "Permissions on objects", "Effect": "Allow", "Principal": {"AWS": role_arn()}, "Action": objects, "Resource": format!("arn:aws:s3:::{bucket}/*")},
            {"Sid": "Permissions on bucket", "Effect": "Allow", "Principal": {"AWS": role_arn()},
             "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"], "Resource": format!("arn:aws:s3:::{bucket}")}
        ]
    })
    .to_string()
}

fn rule(id: &str, priority: i32, dest: &str, breaks: &Breaks) -> ReplicationRule {
    let mut destination = Destination::builder().bucket(format!("arn:aws:s3:::{dest}")).account(B);
    if !breaks.no_owner_override {
        destination = destination
            .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build().expect("act"));
    }
    let dmr = if breaks.no_delete_markers { DeleteMarkerReplicationStatus::Disabled } else { DeleteMarkerReplicationStatus::Enabled };
    ReplicationRule::builder()
        .id(id)
        .priority(priority)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(dmr).build())
        .destination(destination.build().expect("destination"))
        .build()
        .expect("rule")
}

/// Applies the guide's fifteen steps through the SDK (with whatever is broken left out).
async fn guide(env: &Env, breaks: &Breaks) {
    let (a, b, iam) = (env.s3(A).await, env.s3(B).await, env.iam(A).await);
    versioned_bucket(&a, SRC).await;
    versioned_bucket(&b, DST).await;
    if !breaks.no_role {
        iam.create_role()
            .role_name(ROLE)
            .path("/service-role/")
            .assume_role_policy_document(trust_policy(breaks.trust_service.unwrap_or("s3.amazonaws.com")))
            .send()
            .await
            .expect("create role");
        iam.put_role_policy()
            .role_name(ROLE)
            .policy_name("replication")
            .policy_document(role_policy(&breaks.omit_role_actions))
            .send()
            .await
            .expect("role policy");
    }
    if !breaks.no_bucket_policy && !breaks.no_role {
        b.put_bucket_policy()
            .bucket(DST)
            .policy(bucket_policy(DST, &breaks.omit_bucket_policy_actions))
            .send()
            .await
            .expect("bucket policy");
    }
    a.put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(
            ReplicationConfiguration::builder().role(role_arn()).rules(rule("guide-rule", 1, DST, breaks)).build().expect("config"),
        )
        .send()
        .await
        .expect("put replication");
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, data: &'static [u8]) -> String {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(data))
        .send()
        .await
        .expect("put")
        .version_id()
        .expect("version id")
        .to_owned()
}

/// Puts an object with retention until 2100 in `mode` into the source bucket.
async fn put_locked(s3: &aws_sdk_s3::Client, key: &str, mode: aws_sdk_s3::types::ObjectLockMode) -> String {
    s3.put_object()
        .bucket(SRC)
        .key(key)
        .object_lock_mode(mode)
        .object_lock_retain_until_date(retain_until())
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put")
        .version_id()
        .expect("vid")
        .to_owned()
}

/// 2100-01-01.
fn retain_until() -> aws_sdk_s3::primitives::DateTime {
    aws_sdk_s3::primitives::DateTime::from_secs(4_102_444_800)
}

async fn status(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, version: &str) -> Option<String> {
    let head = s3.head_object().bucket(bucket).key(key).version_id(version).send().await.expect("head");
    head.replication_status().map(|s| s.as_str().to_owned())
}

fn reasons(env: &Env) -> Vec<String> {
    env.emulator.replication().failures().iter().map(|e| e.failure_reason.clone()).collect()
}

#[tokio::test]
async fn guide_setup_replicates_objects_ownership_and_deletes() {
    // §1 setup, §2 what is replicated, §4 statuses, §7 owner override.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);

    env.emulator.replication().pause();
    let v1 = a
        .put_object()
        .bucket(SRC)
        .key("reports/q1.csv")
        .content_type("text/csv")
        .metadata("origin", "ledger")
        .tagging("class=finance")
        .body(ByteStream::from_static(b"a,b,c"))
        .send()
        .await
        .expect("put");
    let v1 = v1.version_id().expect("vid").to_owned();
    assert_eq!(status(&a, SRC, "reports/q1.csv", &v1).await.as_deref(), Some("PENDING"));
    env.emulator.replication().resume();
    env.emulator.drain().await;

    assert_eq!(status(&a, SRC, "reports/q1.csv", &v1).await.as_deref(), Some("COMPLETED"));
    let replica = b.head_object().bucket(DST).key("reports/q1.csv").version_id(&v1).send().await.expect("replica keeps the version id");
    assert_eq!(replica.replication_status().map(|s| s.as_str()), Some("REPLICA"));
    assert_eq!(replica.content_type(), Some("text/csv"));
    assert_eq!(replica.metadata().and_then(|m| m.get("origin")).map(String::as_str), Some("ledger"));
    let source_head = a.head_object().bucket(SRC).key("reports/q1.csv").send().await.expect("head source");
    assert_eq!(replica.e_tag(), source_head.e_tag());
    assert_eq!(replica.last_modified(), source_head.last_modified());
    assert_eq!(body(&b, DST, "reports/q1.csv", None).await, b"a,b,c");
    let tags = b.get_object_tagging().bucket(DST).key("reports/q1.csv").send().await.expect("replica tags");
    assert_eq!(tags.tag_set().first().map(|t| (t.key(), t.value())), Some(("class", "finance")));
    let versions = b.list_object_versions().bucket(DST).send().await.expect("list");
    let owner = versions.versions()[0].owner().and_then(|o| o.id()).expect("owner");
    assert_eq!(owner, env.canonical(B), "owner override gives the replica to the destination account");

    // A user delete creates a marker that replicates with its own version id (§2).
    let del = a.delete_object().bucket(SRC).key("reports/q1.csv").send().await.expect("delete");
    let marker = del.version_id().expect("marker").to_owned();
    env.emulator.drain().await;
    let err = b.get_object().bucket(DST).key("reports/q1.csv").send().await.expect_err("marker replicated");
    assert_eq!(code(&err), "NoSuchKey");
    assert_eq!(err.raw_response().and_then(|r| r.headers().get("x-amz-version-id")), Some(marker.as_str()));

    // A delete naming a version id is never replicated (§3): the replica version stays.
    a.delete_object().bucket(SRC).key("reports/q1.csv").version_id(&v1).send().await.expect("versioned delete");
    env.emulator.drain().await;
    assert_eq!(body(&b, DST, "reports/q1.csv", Some(&v1)).await, b"a,b,c");
    assert!(reasons(&env).is_empty(), "no failures: {:?}", env.emulator.replication().failures());
}

#[tokio::test]
async fn objects_written_before_the_rule_and_replicas_are_not_replicated() {
    // §3: pre-existing objects need Batch Replication; replicas are not replicated onward.
    let env = start().await;
    let a = env.s3(A).await;
    versioned_bucket(&a, SRC).await;
    let old = put(&a, SRC, "old.txt", b"old").await;
    guide(&env, &Breaks::default()).await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "old.txt", &old).await, None, "no rule matched when it was written");
    let b = env.s3(B).await;
    let err = b.head_object().bucket(DST).key("old.txt").send().await.expect_err("not copied");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));

    // Chain: B's destination replicates onward to C; A's replicas must not go further.
    let iam_b = env.iam(B).await;
    let role_b = format!("arn:aws:iam::{B}:role/chain");
    iam_b.create_role().role_name("chain").assume_role_policy_document(trust_policy("s3.amazonaws.com")).send().await.expect("role");
    iam_b
        .put_role_policy()
        .role_name("chain")
        .policy_name("all")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("policy");
    versioned_bucket(&b, "chain-third").await;
    b.put_bucket_replication()
        .bucket(DST)
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role(&role_b)
                .rules(
                    ReplicationRule::builder()
                        .id("onward")
                        .priority(1)
                        .status(ReplicationRuleStatus::Enabled)
                        .filter(ReplicationRuleFilter::builder().build())
                        .delete_marker_replication(
                            DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build(),
                        )
                        .destination(Destination::builder().bucket("arn:aws:s3:::chain-third").build().expect("dest"))
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("B replicates onward");
    let vid = put(&a, SRC, "chained.txt", b"x").await;
    let own = put(&b, DST, "own.txt", b"y").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "chained.txt", &vid).await.as_deref(), Some("COMPLETED"));
    assert!(b.head_object().bucket("chain-third").key("chained.txt").send().await.is_err(), "A's replica was not chained to C");
    assert_eq!(status(&b, DST, "own.txt", &own).await.as_deref(), Some("COMPLETED"), "B's own objects do replicate");
    assert_eq!(body(&b, "chain-third", "own.txt", None).await, b"y");
}

/// Builds the broken setup, writes one object and returns (status, failure reasons, explanation).
async fn broken(breaks: Breaks) -> (Option<String>, Vec<String>, String) {
    let env = start().await;
    guide(&env, &breaks).await;
    let a = env.s3(A).await;
    let vid = a.put_object().bucket(SRC).key("k").tagging("t=1").body(ByteStream::from_static(b"data")).send().await.expect("put");
    let vid = vid.version_id().expect("vid").to_owned();
    env.emulator.drain().await;
    let events = env.emulator.replication().failures();
    let explanation = events.first().map(ToString::to_string).unwrap_or_default();
    (status(&a, SRC, "k", &vid).await, reasons(&env), explanation)
}

#[tokio::test]
async fn missing_role_fails_with_assume_role_not_permitted() {
    // §5, §6: S3 must be able to assume the role.
    let (status, reasons, explanation) = broken(Breaks { no_role: true, ..Breaks::default() }).await;
    assert_eq!(status.as_deref(), Some("FAILED"));
    assert_eq!(reasons, vec!["AssumeRoleNotPermitted"]);
    assert!(explanation.contains("no such role"), "{explanation}");
}

#[tokio::test]
async fn role_trusting_ec2_fails_with_assume_role_not_permitted() {
    let (status, reasons, explanation) = broken(Breaks { trust_service: Some("ec2.amazonaws.com"), ..Breaks::default() }).await;
    assert_eq!(status.as_deref(), Some("FAILED"));
    assert_eq!(reasons, vec!["AssumeRoleNotPermitted"]);
    assert!(explanation.contains("s3.amazonaws.com") && explanation.contains("sts:AssumeRole"), "{explanation}");
}

#[tokio::test]
async fn role_without_replicate_object_fails_with_dst_put_object_not_permitted() {
    let (status, reasons, explanation) = broken(Breaks { omit_role_actions: vec!["s3:ReplicateObject"], ..Breaks::default() }).await;
    assert_eq!(status.as_deref(), Some("FAILED"));
    assert_eq!(reasons, vec!["DstPutObjectNotPermitted"]);
    assert!(explanation.contains("s3:ReplicateObject") && explanation.contains("role's permission policy"), "{explanation}");
}

#[tokio::test]
async fn missing_destination_bucket_policy_fails_with_dst_put_object_not_permitted() {
    // §5: cross-account needs the destination bucket policy too.
    let (status, reasons, explanation) = broken(Breaks { no_bucket_policy: true, ..Breaks::default() }).await;
    assert_eq!(status.as_deref(), Some("FAILED"));
    assert_eq!(reasons, vec!["DstPutObjectNotPermitted"]);
    assert!(explanation.contains(&format!("bucket policy of account {B}")), "{explanation}");
    assert!(explanation.contains(&role_arn()), "the fix names the role: {explanation}");
}

#[tokio::test]
async fn owner_override_needs_permission_on_both_sides() {
    let (status, reasons, explanation) =
        broken(Breaks { omit_role_actions: vec!["s3:ObjectOwnerOverrideToBucketOwner"], ..Breaks::default() }).await;
    assert_eq!((status.as_deref(), reasons), (Some("FAILED"), vec!["DstPutObjectNotPermitted".to_owned()]));
    assert!(explanation.contains("s3:ObjectOwnerOverrideToBucketOwner"), "{explanation}");
    let (status, reasons, explanation) =
        broken(Breaks { omit_bucket_policy_actions: vec!["s3:ObjectOwnerOverrideToBucketOwner"], ..Breaks::default() }).await;
    assert_eq!((status.as_deref(), reasons), (Some("FAILED"), vec!["DstPutObjectNotPermitted".to_owned()]));
    assert!(explanation.contains("destination bucket policy"), "{explanation}");
}

#[tokio::test]
async fn missing_source_read_permissions_fail_with_src_reasons() {
    let (status, reasons, _) = broken(Breaks { omit_role_actions: vec!["s3:GetObjectVersionForReplication"], ..Breaks::default() }).await;
    assert_eq!((status.as_deref(), reasons), (Some("FAILED"), vec!["SrcGetObjectNotPermitted".to_owned()]));
}

#[tokio::test]
async fn missing_replicate_delete_fails_the_marker_only() {
    let env = start().await;
    guide(&env, &Breaks { omit_bucket_policy_actions: vec!["s3:ReplicateDelete"], ..Breaks::default() }).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let vid = put(&a, SRC, "k", b"x").await;
    a.delete_object().bucket(SRC).key("k").send().await.expect("delete");
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"));
    assert_eq!(body(&b, DST, "k", None).await, b"x", "the marker did not reach the destination");
    let events = env.emulator.replication().failures();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].failure_reason.as_str(), events[0].operation.as_str()), ("DstDelObjNotPermitted", "DeleteMarker"));
}

#[tokio::test]
async fn destination_versioning_suspended_later_fails_with_dst_bucket_unversioned() {
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    b.put_bucket_versioning()
        .bucket(DST)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build())
        .send()
        .await
        .expect("suspend");
    let vid = put(&a, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["DstBucketUnversioned"]);
}

#[tokio::test]
async fn deleted_destination_fails_with_dst_bucket_not_found() {
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    b.delete_bucket().bucket(DST).send().await.expect("delete destination");
    let vid = put(&a, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["DstBucketNotFound"]);
}

#[tokio::test]
async fn ownership_without_override_follows_destination_ownership_setting() {
    // §7: no override + ACLs enabled -> source owner; BucketOwnerEnforced -> destination owner.
    for (ownership, expected) in [("ObjectWriter", A), ("BucketOwnerEnforced", B)] {
        let env = start().await;
        let b = env.s3(B).await;
        b.create_bucket()
            .bucket(DST)
            .object_ownership(aws_sdk_s3::types::ObjectOwnership::from(ownership))
            .send()
            .await
            .expect("create destination");
        b.put_bucket_versioning()
            .bucket(DST)
            .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
            .send()
            .await
            .expect("versioning");
        let a = env.s3(A).await;
        versioned_bucket(&a, SRC).await;
        let iam = env.iam(A).await;
        iam.create_role()
            .role_name(ROLE)
            .path("/service-role/")
            .assume_role_policy_document(trust_policy("s3.amazonaws.com"))
            .send()
            .await
            .expect("role");
        iam.put_role_policy().role_name(ROLE).policy_name("p").policy_document(role_policy(&[])).send().await.expect("policy");
        b.put_bucket_policy().bucket(DST).policy(bucket_policy(DST, &[])).send().await.expect("bucket policy");
        a.put_bucket_replication()
            .bucket(SRC)
            .replication_configuration(
                ReplicationConfiguration::builder()
                    .role(role_arn())
                    .rules(rule("r", 1, DST, &Breaks { no_owner_override: true, ..Breaks::default() }))
                    .build()
                    .expect("config"),
            )
            .send()
            .await
            .expect("replication");
        let vid = put(&a, SRC, "k", b"x").await;
        env.emulator.drain().await;
        assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"), "{ownership}");
        let listed = b.list_object_versions().bucket(DST).send().await.expect("list");
        let owner = listed.versions()[0].owner().and_then(|o| o.id()).expect("owner").to_owned();
        assert_eq!(owner, env.canonical(expected), "{ownership}");
        if expected == A {
            // The destination account cannot read a replica it does not own (§7).
            let err = b.get_object().bucket(DST).key("k").send().await.expect_err("B cannot read A's object");
            assert_eq!(code(&err), "AccessDenied");
        }
    }
}

#[tokio::test]
async fn delete_marker_replication_follows_schema_version() {
    // §2: V2 rules replicate markers only with DeleteMarkerReplication Enabled.
    let env = start().await;
    guide(&env, &Breaks { no_delete_markers: true, ..Breaks::default() }).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    put(&a, SRC, "k", b"x").await;
    a.delete_object().bucket(SRC).key("k").send().await.expect("delete");
    env.emulator.drain().await;
    assert_eq!(body(&b, DST, "k", None).await, b"x", "marker not replicated with DeleteMarkerReplication Disabled");

    // V1 (Prefix, no Filter) replicates delete markers.
    #[allow(deprecated)] // the SDK marks the V1 top-level Prefix deprecated; AWS still accepts it
    let v1 = ReplicationRule::builder()
        .id("v1")
        .prefix("")
        .status(ReplicationRuleStatus::Enabled)
        .destination(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{DST}"))
                .account(B)
                .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build().expect("act"))
                .build()
                .expect("dest"),
        )
        .build()
        .expect("rule");
    a.put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(ReplicationConfiguration::builder().role(role_arn()).rules(v1).build().expect("config"))
        .send()
        .await
        .expect("v1 config");
    put(&a, SRC, "k2", b"y").await;
    a.delete_object().bucket(SRC).key("k2").send().await.expect("delete");
    env.emulator.drain().await;
    let err = b.get_object().bucket(DST).key("k2").send().await.expect_err("marker replicated by V1 rule");
    assert_eq!(code(&err), "NoSuchKey");
}

#[tokio::test]
async fn later_tag_changes_reach_the_replica() {
    // §2: tags replicate, including later changes (needs s3:ReplicateTags).
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let vid = put(&a, SRC, "k", b"x").await;
    env.emulator.drain().await;
    a.put_object_tagging()
        .bucket(SRC)
        .key("k")
        .tagging(Tagging::builder().tag_set(Tag::builder().key("stage").value("final").build().expect("tag")).build().expect("tagging"))
        .send()
        .await
        .expect("tag");
    env.emulator.drain().await;
    let tags = b.get_object_tagging().bucket(DST).key("k").version_id(&vid).send().await.expect("tags");
    assert_eq!(tags.tag_set().first().map(|t| (t.key(), t.value())), Some(("stage", "final")));
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"));
}

#[tokio::test]
async fn unavailable_destination_stays_pending_and_is_retried() {
    // §4: temporary unavailability keeps PENDING; S3 retries.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let a = env.s3(A).await;
    env.emulator.replication().set_unavailable(DST, true);
    let vid = put(&a, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("PENDING"));
    assert_eq!(env.emulator.replication().status().parked, 1);
    env.emulator.replication().set_unavailable(DST, false);
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"));
}

#[tokio::test]
async fn filters_priority_storage_class_and_multiple_destinations() {
    // §9: filters, multi-destination (one copy each, aggregate status), highest Priority wins.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    versioned_bucket(&b, "second-destination").await;
    b.put_bucket_policy().bucket("second-destination").policy(bucket_policy("second-destination", &[])).send().await.expect("policy 2");
    let iam = env.iam(A).await;
    let wide = role_policy(&[]).replace(&format!("arn:aws:s3:::{DST}/*"), "arn:aws:s3:::*/*");
    iam.put_role_policy().role_name(ROLE).policy_name("replication").policy_document(wide).send().await.expect("widen role");
    let low = ReplicationRule::builder()
        .id("low")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("logs/").build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build())
        .destination(
            Destination::builder().bucket(format!("arn:aws:s3:::{DST}")).storage_class(StorageClass::StandardIa).build().expect("d"),
        )
        .build()
        .expect("rule");
    let high = ReplicationRule::builder()
        .id("high")
        .priority(5)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("logs/app/").build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build())
        .destination(Destination::builder().bucket(format!("arn:aws:s3:::{DST}")).storage_class(StorageClass::Glacier).build().expect("d"))
        .build()
        .expect("rule");
    let second = ReplicationRule::builder()
        .id("second")
        .priority(2)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().tag(Tag::builder().key("copy").value("twice").build().expect("tag")).build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build())
        .destination(Destination::builder().bucket("arn:aws:s3:::second-destination").build().expect("d"))
        .build()
        .expect("rule");
    a.put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(
            ReplicationConfiguration::builder().role(role_arn()).rules(low).rules(high).rules(second).build().expect("c"),
        )
        .send()
        .await
        .expect("config");
    let app =
        a.put_object().bucket(SRC).key("logs/app/1").tagging("copy=twice").body(ByteStream::from_static(b"1")).send().await.expect("put");
    let app = app.version_id().expect("vid").to_owned();
    let other = put(&a, SRC, "logs/db/1", b"2").await;
    let none = put(&a, SRC, "images/1", b"3").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "logs/app/1", &app).await.as_deref(), Some("COMPLETED"));
    assert_eq!(status(&a, SRC, "images/1", &none).await, None, "no rule matches: no status header");
    let r = b.head_object().bucket(DST).key("logs/app/1").send().await.expect("replica");
    assert_eq!(r.storage_class().map(|s| s.as_str()), Some("GLACIER"), "priority 5 rule wins");
    let r = b.head_object().bucket(DST).key("logs/db/1").version_id(&other).send().await.expect("replica");
    assert_eq!(r.storage_class().map(|s| s.as_str()), Some("STANDARD_IA"));
    assert_eq!(body(&b, "second-destination", "logs/app/1", Some(&app)).await, b"1", "one copy per destination");
    assert!(b.head_object().bucket("second-destination").key("logs/db/1").send().await.is_err(), "tag filter");
}

#[tokio::test]
async fn copy_and_multipart_uploads_replicate() {
    // §2: objects created by CopyObject and multipart uploads replicate.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    put(&a, SRC, "orig", b"copied bytes").await;
    let copy = a.copy_object().bucket(SRC).key("copy").copy_source(format!("{SRC}/orig")).send().await.expect("copy");
    let copy_vid = copy.version_id().expect("vid").to_owned();
    let mpu = a.create_multipart_upload().bucket(SRC).key("mpu").send().await.expect("mpu");
    let upload_id = mpu.upload_id().expect("id");
    let part = a
        .upload_part()
        .bucket(SRC)
        .key("mpu")
        .upload_id(upload_id)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .expect("part");
    let done = a
        .complete_multipart_upload()
        .bucket(SRC)
        .key("mpu")
        .upload_id(upload_id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(aws_sdk_s3::types::CompletedPart::builder().part_number(1).e_tag(part.e_tag().expect("etag")).build())
                .build(),
        )
        .send()
        .await
        .expect("complete");
    env.emulator.drain().await;
    assert_eq!(body(&b, DST, "copy", Some(&copy_vid)).await, b"copied bytes");
    let replica = b.head_object().bucket(DST).key("mpu").send().await.expect("mpu replica");
    assert_eq!(replica.e_tag(), done.e_tag(), "multipart ETag preserved");
    assert_eq!(replica.version_id(), done.version_id());
}

#[tokio::test]
async fn put_bucket_replication_validation_matches_aws() {
    // §8 and §11: PutBucketReplication's errors.
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    a.create_bucket().bucket(SRC).send().await.expect("create");
    b.create_bucket().bucket(DST).send().await.expect("create");
    let config =
        || ReplicationConfiguration::builder().role(role_arn()).rules(rule("r", 1, DST, &Breaks::default())).build().expect("config");
    let err = a.put_bucket_replication().bucket(SRC).replication_configuration(config()).send().await.expect_err("source unversioned");
    assert_eq!(
        (code(&err), message(&err)),
        ("InvalidRequest".into(), "Versioning must be 'Enabled' on the bucket to apply a replication configuration".into())
    );
    a.put_bucket_versioning()
        .bucket(SRC)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .expect("versioning");
    let err = a.put_bucket_replication().bucket(SRC).replication_configuration(config()).send().await.expect_err("destination unversioned");
    assert_eq!((code(&err), message(&err)), ("InvalidRequest".into(), "Destination bucket must have versioning enabled.".into()));
    let missing = ReplicationConfiguration::builder()
        .role(role_arn())
        .rules(rule("r", 1, "no-such-bucket-anywhere", &Breaks::default()))
        .build()
        .expect("c");
    let err = a.put_bucket_replication().bucket(SRC).replication_configuration(missing).send().await.expect_err("destination missing");
    assert_eq!(message(&err), "Destination bucket must have versioning enabled.");
    let err = a.get_bucket_replication().bucket(SRC).send().await.expect_err("none yet");
    assert_eq!(code(&err), "ReplicationConfigurationNotFoundError");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    b.put_bucket_versioning()
        .bucket(DST)
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
        .send()
        .await
        .expect("versioning");
    // V2 rule without DeleteMarkerReplication.
    let no_dmr = ReplicationRule::builder()
        .id("x")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().build())
        .destination(Destination::builder().bucket(format!("arn:aws:s3:::{DST}")).build().expect("d"))
        .build()
        .expect("rule");
    let err = a
        .put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(ReplicationConfiguration::builder().role(role_arn()).rules(no_dmr).build().expect("c"))
        .send()
        .await
        .expect_err("no DMR");
    assert!(message(&err).starts_with("DeleteMarkerReplication must be specified for this version"), "{}", message(&err));
    // AccessControlTranslation without Account.
    let no_account = ReplicationRule::builder()
        .id("x")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build())
        .destination(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{DST}"))
                .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build().expect("act"))
                .build()
                .expect("d"),
        )
        .build()
        .expect("rule");
    let err = a
        .put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(ReplicationConfiguration::builder().role(role_arn()).rules(no_account).build().expect("c"))
        .send()
        .await
        .expect_err("ACT without account");
    assert_eq!(code(&err), "InvalidRequest");
    assert!(a.get_bucket_replication().bucket(SRC).send().await.is_err(), "rejected configurations change nothing");
    // The destination is found in its owner's account: cross-account works.
    a.put_bucket_replication().bucket(SRC).replication_configuration(config()).send().await.expect("valid");
    let got = a.get_bucket_replication().bucket(SRC).send().await.expect("get");
    let rules = got.replication_configuration().expect("config").rules();
    assert_eq!(rules[0].id(), Some("r"));
    assert_eq!(rules[0].destination().map(|d| d.bucket()), Some(format!("arn:aws:s3:::{DST}").as_str()));
    a.delete_bucket_replication().bucket(SRC).send().await.expect("delete");
    assert!(a.get_bucket_replication().bucket(SRC).send().await.is_err());
}

/// Two-way sync: B replicates back to A with role `back` and ReplicaModifications enabled.
async fn two_way_back_rule(env: &Env) {
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let iam_b = env.iam(B).await;
    let back_role = format!("arn:aws:iam::{B}:role/back");
    iam_b.create_role().role_name("back").assume_role_policy_document(trust_policy("s3.amazonaws.com")).send().await.expect("role");
    iam_b
        .put_role_policy()
        .role_name("back")
        .policy_name("p")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObjectVersion*","s3:Replicate*","s3:List*","s3:GetReplicationConfiguration"],"Resource":"*"}]}"#)
        .send()
        .await
        .expect("policy");
    let allow_back = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": back_role},
        "Action": ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ReplicateDelete"], "Resource": format!("arn:aws:s3:::{SRC}/*")}]});
    a.put_bucket_policy().bucket(SRC).policy(allow_back.to_string()).send().await.expect("source bucket policy");
    let back = ReplicationRule::builder()
        .id("back")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Disabled).build())
        .source_selection_criteria(
            aws_sdk_s3::types::SourceSelectionCriteria::builder()
                .replica_modifications(
                    aws_sdk_s3::types::ReplicaModifications::builder()
                        .status(aws_sdk_s3::types::ReplicaModificationsStatus::Enabled)
                        .build()
                        .expect("rm"),
                )
                .build(),
        )
        .destination(Destination::builder().bucket(format!("arn:aws:s3:::{SRC}")).account(A).build().expect("d"))
        .build()
        .expect("rule");
    b.put_bucket_replication()
        .bucket(DST)
        .replication_configuration(ReplicationConfiguration::builder().role(&back_role).rules(back).build().expect("c"))
        .send()
        .await
        .expect("two-way rule");
}

#[tokio::test]
async fn replica_modifications_sync_tags_back_to_the_source() {
    // §3: changes made on replicas replicate back only with ReplicaModifications (two-way sync).
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let vid = put(&a, SRC, "shared.txt", b"x").await;
    env.emulator.drain().await;

    // Without a rule back, a tag change on the replica stays there.
    let tagging =
        |v: &str| Tagging::builder().tag_set(Tag::builder().key("edited").value(v).build().expect("tag")).build().expect("tagging");
    b.put_object_tagging().bucket(DST).key("shared.txt").version_id(&vid).tagging(tagging("by-b")).send().await.expect("tag replica");
    env.emulator.drain().await;
    let src_tags = a.get_object_tagging().bucket(SRC).key("shared.txt").send().await.expect("tags");
    assert!(src_tags.tag_set().is_empty(), "no two-way sync configured yet");

    // B replicates back to A with ReplicaModifications enabled.
    two_way_back_rule(&env).await;
    b.put_object_tagging().bucket(DST).key("shared.txt").version_id(&vid).tagging(tagging("synced")).send().await.expect("tag replica");
    env.emulator.drain().await;
    let src_tags = a.get_object_tagging().bucket(SRC).key("shared.txt").version_id(&vid).send().await.expect("tags");
    assert_eq!(src_tags.tag_set().first().map(|t| (t.key(), t.value())), Some(("edited", "synced")));
    assert!(reasons(&env).is_empty(), "{:?}", env.emulator.replication().failures());
    // The replica itself is still a replica, and A's object did not bounce back as a new object.
    assert_eq!(status(&b, DST, "shared.txt", &vid).await.as_deref(), Some("REPLICA"));
    assert_eq!(a.list_object_versions().bucket(SRC).send().await.expect("list").versions().len(), 1);
}

#[tokio::test]
async fn acl_changes_reach_the_replica_without_owner_override() {
    // §2, §7: object ACL updates replicate unless owner override is on.
    let env = start().await;
    let b = env.s3(B).await;
    b.create_bucket().bucket(DST).object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter).send().await.expect("create");
    guide(&env, &Breaks { no_owner_override: true, ..Breaks::default() }).await;
    let a = env.s3(A).await;
    a.put_bucket_ownership_controls()
        .bucket(SRC)
        .ownership_controls(
            aws_sdk_s3::types::OwnershipControls::builder()
                .rules(
                    aws_sdk_s3::types::OwnershipControlsRule::builder()
                        .object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter)
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("controls"),
        )
        .send()
        .await
        .expect("source acls on");
    let vid = put(&a, SRC, "acl.txt", b"x").await;
    env.emulator.drain().await;
    a.put_object_acl()
        .bucket(SRC)
        .key("acl.txt")
        .grant_read(format!("id={}", env.canonical(B)))
        .grant_full_control(format!("id={}", env.canonical(A)))
        .send()
        .await
        .expect("acl");
    env.emulator.drain().await;
    // B now holds READ on the replica A owns, so B can read it.
    assert_eq!(body(&b, DST, "acl.txt", Some(&vid)).await, b"x");
    let acl = b.get_object_acl().bucket(DST).key("acl.txt").send().await;
    assert!(acl.is_err(), "B has READ, not READ_ACP, on A's replica");
}

#[tokio::test]
async fn object_lock_settings_need_a_locked_destination() {
    // §2, §6: Object Lock retention replicates; a destination without Object Lock fails.
    let env = start().await;
    let a = env.s3(A).await;
    a.create_bucket().bucket(SRC).object_lock_enabled_for_bucket(true).send().await.expect("locked source");
    guide(&env, &Breaks::default()).await;
    let vid = put_locked(&a, "locked.txt", aws_sdk_s3::types::ObjectLockMode::Governance).await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "locked.txt", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["DstBucketObjectLockConfigMissing"]);

    // With Object Lock on the destination, the replica keeps the retention.
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    a.create_bucket().bucket(SRC).object_lock_enabled_for_bucket(true).send().await.expect("locked source");
    b.create_bucket().bucket(DST).object_lock_enabled_for_bucket(true).send().await.expect("locked destination");
    guide(&env, &Breaks::default()).await;
    let vid = put_locked(&a, "locked.txt", aws_sdk_s3::types::ObjectLockMode::Governance).await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "locked.txt", &vid).await.as_deref(), Some("COMPLETED"));
    let replica = b.head_object().bucket(DST).key("locked.txt").version_id(&vid).send().await.expect("replica");
    assert_eq!(replica.object_lock_mode().map(|m| m.as_str()), Some("GOVERNANCE"));
    assert_eq!(replica.object_lock_retain_until_date().map(|d| d.secs()), Some(retain_until().secs()));
}

#[tokio::test]
async fn one_failing_destination_makes_the_aggregate_status_failed() {
    // §4: several destinations: FAILED if any fails; the healthy destination still gets its copy.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    versioned_bucket(&b, "no-policy-destination").await;
    let iam = env.iam(A).await;
    let wide = role_policy(&[]).replace(&format!("arn:aws:s3:::{DST}/*"), "arn:aws:s3:::*/*");
    iam.put_role_policy().role_name(ROLE).policy_name("replication").policy_document(wide).send().await.expect("widen role");
    a.put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role(role_arn())
                .rules(rule("good", 1, DST, &Breaks::default()))
                .rules(rule("bad", 2, "no-policy-destination", &Breaks::default()))
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("two destinations");
    env.emulator.replication().pause();
    let vid = put(&a, SRC, "k", b"x").await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("PENDING"));
    env.emulator.replication().resume();
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(body(&b, DST, "k", Some(&vid)).await, b"x");
    let events = env.emulator.replication().failures();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].destination_bucket.as_str(), events[0].failure_reason.as_str(), events[0].rule_id.as_str()),
        ("no-policy-destination", "DstPutObjectNotPermitted", "bad")
    );
}

#[tokio::test]
async fn admin_endpoints_drive_the_served_engine() {
    // §4, §10: PENDING is observable with pause/latency; drain and events over HTTP.
    use xrepl_emulator::server::admin_client::request;
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let a = env.s3(A).await;
    let endpoint = env.emulator.endpoint();
    let t = std::time::Duration::from_secs(5);
    let (code, _) = request(&endpoint, "POST", "/_xrepl/replication/pause", t).await.expect("pause");
    assert_eq!(code, 200);
    let vid = put(&a, SRC, "k", b"x").await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("PENDING"));
    let (code, body) = request(&endpoint, "POST", "/_xrepl/replication/drain?timeout_ms=50", t).await.expect("drain");
    assert_eq!((code, body.contains("\"drained\":false")), (408, true), "paused work does not drain: {body}");
    request(&endpoint, "POST", "/_xrepl/replication/latency?ms=20", t).await.expect("latency");
    request(&endpoint, "POST", "/_xrepl/replication/resume", t).await.expect("resume");
    let (code, body) = request(&endpoint, "POST", "/_xrepl/replication/drain", t).await.expect("drain");
    assert_eq!(code, 200, "{body}");
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"));
    let (code, body) = request(&endpoint, "GET", "/_xrepl/replication/failures", t).await.expect("failures");
    assert_eq!((code, body.as_str()), (200, r#"{"failures":[]}"#));
    let (code, body) = request(&endpoint, "GET", "/_xrepl/replication/events", t).await.expect("events");
    assert_eq!((code, body.as_str()), (200, r#"{"Records":[]}"#));
    let (code, body) = request(&endpoint, "GET", "/_xrepl/health", t).await.expect("health");
    assert_eq!(code, 200);
    assert!(body.contains("111111111111") && body.contains("222222222222"), "{body}");
    let (code, _) = request(&endpoint, "POST", "/_xrepl/replication/latency", t).await.expect("bad latency");
    assert_eq!(code, 400);
}

#[tokio::test]
async fn assumed_role_sessions_act_with_the_roles_permissions_in_s3() {
    // §5: temporary credentials carry the role's policies, not the account root's.
    let env = start().await;
    let a = env.s3(A).await;
    versioned_bucket(&a, SRC).await;
    put(&a, SRC, "k", b"readable").await;
    let iam = env.iam(A).await;
    iam.create_role()
        .role_name("reader")
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
        .send()
        .await
        .expect("role");
    iam.put_role_policy()
        .role_name("reader")
        .policy_name("read")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{SRC}/*"}}]}}"#
        ))
        .send()
        .await
        .expect("policy");
    // Roots cannot assume roles: use an IAM user allowed to.
    iam.create_user().user_name("alice").send().await.expect("user");
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("assume")
        .policy_document(format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::{A}:role/reader"}}]}}"#))
        .send()
        .await
        .expect("user policy");
    let key = iam.create_access_key().user_name("alice").send().await.expect("key");
    let key = key.access_key().expect("access key");
    let sts =
        aws_sdk_sts::Client::new(&common::sdk_config(&env.emulator.endpoint(), key.access_key_id(), key.secret_access_key(), None).await);
    let creds = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{A}:role/reader"))
        .role_session_name("reader-session")
        .send()
        .await
        .expect("assume");
    let creds = creds.credentials().expect("credentials");
    let session = env.s3_with(creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token().to_owned())).await;
    assert_eq!(body(&session, SRC, "k", None).await, b"readable");
    let err = session.put_object().bucket(SRC).key("w").body(ByteStream::from_static(b"x")).send().await.expect_err("read-only role");
    assert_eq!(code(&err), "AccessDenied");
    let alice = env.s3_with(key.access_key_id(), key.secret_access_key(), None).await;
    let err = alice.get_object().bucket(SRC).key("k").send().await.expect_err("alice herself has no S3 permission");
    assert_eq!(code(&err), "AccessDenied");
    let bad = env.s3_with(creds.access_key_id(), creds.secret_access_key(), Some("not-the-token".to_owned())).await;
    let err = bad.get_object().bucket(SRC).key("k").send().await.expect_err("wrong token");
    assert_eq!(code(&err), "InvalidToken");
}

/// The guide's setup with SSE-KMS: a source key in A, a replica key in B whose policy lets the
/// role encrypt, and the role allowed kms:Decrypt/kms:Encrypt. Returns (source key, replica key).
async fn kms_client(env: &Env, account: &str) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&common::sdk_config(&env.emulator.endpoint(), account, "test", None).await)
}

async fn kms_setup(env: &Env, opt_in: bool, replica_key_override: Option<&str>, role_decrypts: bool) -> (String, String) {
    guide(env, &Breaks::default()).await;
    let (kms_a, kms_b) = (kms_client(env, A).await, kms_client(env, B).await);
    let source_key = kms_a.create_key().send().await.expect("key A").key_metadata().and_then(|m| m.arn().map(str::to_owned)).expect("arn");
    let replica_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": role_arn()}, "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}]});
    let replica_key = kms_b
        .create_key()
        .policy(replica_policy.to_string())
        .send()
        .await
        .expect("key B")
        .key_metadata()
        .and_then(|m| m.arn().map(str::to_owned))
        .expect("arn");
    let mut kms_actions = vec![serde_json::json!({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": replica_key})];
    if role_decrypts {
        kms_actions.push(serde_json::json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key}));
    }
    env.iam(A)
        .await
        .put_role_policy()
        .role_name(ROLE)
        .policy_name("kms")
        .policy_document(serde_json::json!({"Version": "2012-10-17", "Statement": kms_actions}).to_string())
        .send()
        .await
        .expect("kms role policy");
    let target_key = replica_key_override.map_or_else(|| replica_key.clone(), str::to_owned);
    let mut rule = rule("kms-rule", 1, DST, &Breaks::default());
    if opt_in {
        rule.source_selection_criteria = Some(
            aws_sdk_s3::types::SourceSelectionCriteria::builder()
                .sse_kms_encrypted_objects(
                    aws_sdk_s3::types::SseKmsEncryptedObjects::builder()
                        .status(aws_sdk_s3::types::SseKmsEncryptedObjectsStatus::Enabled)
                        .build()
                        .expect("sse"),
                )
                .build(),
        );
        rule.destination = Some(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{DST}"))
                .account(B)
                .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build().expect("act"))
                .encryption_configuration(aws_sdk_s3::types::EncryptionConfiguration::builder().replica_kms_key_id(target_key).build())
                .build()
                .expect("destination"),
        );
    }
    env.s3(A)
        .await
        .put_bucket_replication()
        .bucket(SRC)
        .replication_configuration(ReplicationConfiguration::builder().role(role_arn()).rules(rule).build().expect("config"))
        .send()
        .await
        .expect("kms replication");
    (source_key, replica_key)
}

async fn put_kms(env: &Env, key_arn: &str) -> String {
    env.s3(A)
        .await
        .put_object()
        .bucket(SRC)
        .key("secret.bin")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
        .ssekms_key_id(key_arn)
        .body(ByteStream::from_static(b"classified"))
        .send()
        .await
        .expect("put kms")
        .version_id()
        .expect("vid")
        .to_owned()
}

#[tokio::test]
async fn sse_kms_replicates_only_with_the_opt_in() {
    // §2: SSE-KMS objects need SseKmsEncryptedObjects + ReplicaKmsKeyID; otherwise no rule matches.
    let env = start().await;
    let (source_key, _) = kms_setup(&env, false, None, true).await;
    let vid = put_kms(&env, &source_key).await;
    env.emulator.drain().await;
    assert_eq!(status(&env.s3(A).await, SRC, "secret.bin", &vid).await, None);
    assert!(env.s3(B).await.head_object().bucket(DST).key("secret.bin").send().await.is_err());
}

#[tokio::test]
async fn sse_kms_failures_use_the_kms_reason_names() {
    // §5, §6: KMS keys and permissions, with AWS's failure reasons.
    // A replica key that does not exist.
    let env = start().await;
    let missing = format!("arn:aws:kms:us-east-1:{B}:key/00000000-0000-0000-0000-000000000000");
    let (source_key, _) = kms_setup(&env, true, Some(&missing), true).await;
    let vid = put_kms(&env, &source_key).await;
    env.emulator.drain().await;
    assert_eq!(status(&env.s3(A).await, SRC, "secret.bin", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["DstKmsKeyNotFound"]);

    // A disabled replica key.
    let env = start().await;
    let (source_key, replica_key) = kms_setup(&env, true, None, true).await;
    let kms_b = aws_sdk_kms::Client::new(&common::sdk_config(&env.emulator.endpoint(), B, "test", None).await);
    kms_b.disable_key().key_id(&replica_key).send().await.expect("disable");
    put_kms(&env, &source_key).await;
    env.emulator.drain().await;
    assert_eq!(reasons(&env), vec!["DstKmsKeyInvalidState"]);

    // A source key disabled after the write (S3 cannot decrypt the object any more).
    let env = start().await;
    let (source_key, _) = kms_setup(&env, true, None, true).await;
    env.emulator.replication().pause();
    put_kms(&env, &source_key).await;
    let kms_a = aws_sdk_kms::Client::new(&common::sdk_config(&env.emulator.endpoint(), A, "test", None).await);
    kms_a.disable_key().key_id(&source_key).send().await.expect("disable");
    env.emulator.replication().resume();
    env.emulator.drain().await;
    assert_eq!(reasons(&env), vec!["SrcKmsKeyInvalidState"]);

    // The role may not decrypt the source object.
    let env = start().await;
    let (source_key, _) = kms_setup(&env, true, None, false).await;
    put_kms(&env, &source_key).await;
    env.emulator.drain().await;
    assert_eq!(reasons(&env), vec!["SrcGetObjectNotPermitted"]);
    let explanation = env.emulator.replication().failures()[0].to_string();
    assert!(explanation.contains("kms:Decrypt"), "{explanation}");
}

/// The guide's setup without owner override into a destination with ACLs enabled (ObjectWriter),
/// so object ACLs are read and replicated (§7).
async fn acl_setup(env: &Env, omit_role_actions: Vec<&'static str>) -> (aws_sdk_s3::Client, aws_sdk_s3::Client) {
    let b = env.s3(B).await;
    b.create_bucket().bucket(DST).object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter).send().await.expect("create");
    guide(env, &Breaks { no_owner_override: true, omit_role_actions, ..Breaks::default() }).await;
    let a = env.s3(A).await;
    let writer = aws_sdk_s3::types::OwnershipControlsRule::builder()
        .object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter)
        .build()
        .expect("rule");
    a.put_bucket_ownership_controls()
        .bucket(SRC)
        .ownership_controls(aws_sdk_s3::types::OwnershipControls::builder().rules(writer).build().expect("controls"))
        .send()
        .await
        .expect("source ACLs on");
    // New buckets block public ACLs (User Guide access-control-block-public-access), as on AWS.
    a.delete_public_access_block().bucket(SRC).send().await.expect("public ACLs allowed");
    (a, b)
}

#[tokio::test]
async fn missing_acl_permissions_fail_with_acl_reasons() {
    // §6: SrcGetAclNotPermitted when the role may not read the source ACL it must copy.
    let env = start().await;
    let (a, _) = acl_setup(&env, vec!["s3:GetObjectVersionAcl"]).await;
    let vid = put(&a, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("FAILED"));
    assert_eq!(reasons(&env), vec!["SrcGetAclNotPermitted"]);

    // §6: DstPutAclNotPermitted when a later ACL change cannot be written to the replica.
    let env = start().await;
    let (a, b) = acl_setup(&env, vec![]).await;
    let vid = put(&a, SRC, "k", b"x").await;
    env.emulator.drain().await;
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("COMPLETED"));
    b.put_bucket_policy().bucket(DST).policy(bucket_policy(DST, &["s3:ReplicateObject"])).send().await.expect("narrow policy");
    a.put_object_acl().bucket(SRC).key("k").acl(aws_sdk_s3::types::ObjectCannedAcl::AuthenticatedRead).send().await.expect("acl");
    env.emulator.drain().await;
    let events = env.emulator.replication().failures();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].failure_reason.as_str(), events[0].operation.as_str()), ("DstPutAclNotPermitted", "PutObjectAcl"));
    assert_eq!(status(&a, SRC, "k", &vid).await.as_deref(), Some("FAILED"));
}

/// A store that keeps bytes in its own table, as a persistent store would, behind `BlobStore`.
#[derive(Debug, Default)]
struct TableBlobStore {
    table: std::sync::Mutex<Vec<bytes::Bytes>>,
}

impl xrepl_emulator::state::BlobStore for TableBlobStore {
    fn put(&self, data: bytes::Bytes) -> xrepl_emulator::state::Blob {
        let mut table = self.table.lock().expect("table");
        table.push(data.clone());
        xrepl_emulator::state::Blob::external(table.len() as u64 - 1, data.len())
    }
    fn get(&self, blob: &xrepl_emulator::state::Blob) -> bytes::Bytes {
        let table = self.table.lock().expect("table");
        blob.external_id().and_then(|id| table.get(usize::try_from(id).ok()?).cloned()).unwrap_or_default()
    }
    fn puts(&self) -> u64 {
        self.table.lock().expect("table").len() as u64
    }
}

#[tokio::test]
async fn object_bytes_go_through_the_blob_store_and_replicas_share_them() {
    // Storage sits behind a trait: a store other than memory serves puts, gets, copies and
    // replicas, and replication stores nothing twice.
    let store = std::sync::Arc::new(TableBlobStore::default());
    let config = xrepl_emulator::EmulatorConfig::with_accounts(&[A, B]).blob_store(store.clone());
    let env = Env { emulator: xrepl_emulator::Emulator::start(config).await.expect("start") };
    guide(&env, &Breaks::default()).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let vid = put(&a, SRC, "stored.bin", b"kept elsewhere").await;
    env.emulator.drain().await;
    assert_eq!(body(&a, SRC, "stored.bin", None).await, b"kept elsewhere");
    assert_eq!(body(&b, DST, "stored.bin", Some(&vid)).await, b"kept elsewhere");
    a.copy_object().bucket(SRC).key("copy.bin").copy_source(format!("{SRC}/stored.bin")).send().await.expect("copy");
    env.emulator.drain().await;
    assert_eq!(body(&b, DST, "copy.bin", None).await, b"kept elsewhere");
    let ranged = a.get_object().bucket(SRC).key("stored.bin").range("bytes=5-8").send().await.expect("range");
    assert_eq!(ranged.body.collect().await.expect("body").into_bytes().as_ref(), b"elsewhere"[..4].as_ref());
    use xrepl_emulator::state::BlobStore;
    assert_eq!(store.puts(), 1, "one PutObject stored once: the copy and both replicas share it");
}

#[tokio::test]
async fn a_lowered_latency_releases_the_waiting_task_and_drain_returns() {
    // Hardening (issue 9): a changed latency applies to the task already waiting out the old one,
    // so drain cannot hang on a sleeping task; latency is bounded to 60 s.
    use xrepl_emulator::server::admin_client::request;
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let a = env.s3(A).await;
    let endpoint = env.emulator.endpoint();
    let t = std::time::Duration::from_secs(10);
    let (code, body) = request(&endpoint, "POST", "/_xrepl/replication/latency?ms=60001", t).await.expect("latency");
    assert_eq!(code, 400, "latency over 60 s is refused: {body}");
    let (code, _) = request(&endpoint, "POST", "/_xrepl/replication/latency?ms=60000", t).await.expect("latency");
    assert_eq!(code, 200);
    let vid = put(&a, SRC, "slow", b"x").await;
    // The worker takes the task and waits out the 60 s.
    let taken = tokio::time::timeout(t, async {
        while env.emulator.replication().status().queued == 0 {
            tokio::task::yield_now().await;
        }
    });
    taken.await.expect("the task is queued");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (code, _) = request(&endpoint, "POST", "/_xrepl/replication/latency?ms=0", t).await.expect("latency");
    assert_eq!(code, 200);
    let (code, body) = request(&endpoint, "POST", "/_xrepl/replication/drain?timeout_ms=5000", t).await.expect("drain");
    assert_eq!(code, 200, "the waiting task was released by the lowered latency: {body}");
    assert_eq!(status(&a, SRC, "slow", &vid).await.as_deref(), Some("COMPLETED"));
}

#[tokio::test]
async fn a_panic_while_processing_fails_that_task_and_the_worker_goes_on() {
    // Hardening (issue 9): the worker is supervised.
    let env = start().await;
    guide(&env, &Breaks::default()).await;
    let a = env.s3(A).await;
    env.emulator.replication().inject_panic("boom");
    let broken = put(&a, SRC, "boom", b"x").await;
    let fine = put(&a, SRC, "fine", b"y").await;
    tokio::time::timeout(std::time::Duration::from_secs(10), env.emulator.drain()).await.expect("drain returns after a panic");
    assert_eq!(status(&a, SRC, "boom", &broken).await.as_deref(), Some("FAILED"));
    assert_eq!(status(&a, SRC, "fine", &fine).await.as_deref(), Some("COMPLETED"), "the worker went on");
    let events = env.emulator.replication().failures();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].key.as_str(), events[0].failure_reason.as_str()), ("boom", "InternalError"));
    assert!(events[0].explanation.contains("fault injected"), "{events:?}");
    // And it keeps going for later writes.
    let later = put(&a, SRC, "later", b"z").await;
    tokio::time::timeout(std::time::Duration::from_secs(10), env.emulator.drain()).await.expect("drain");
    assert_eq!(status(&a, SRC, "later", &later).await.as_deref(), Some("COMPLETED"));
}
