//! Scenario functions: each takes a started harness and asserts through the AWS SDK. Each names
//! the section of docs/aws-semantics.md it checks.

use std::path::PathBuf;

use xrepl_harness::{Harness, HarnessError};
use xrepl_provisioner::Spec;

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(relative)
}

async fn applied(h: &Harness, relative: &str) -> Result<Spec, HarnessError> {
    let spec = h.spec_from_file(fixture(relative))?;
    h.apply(&spec).await?;
    Ok(spec)
}

/// §1, §2, §7: the guide's setup replicates objects, overwrites, tags (also later changes) and
/// delete markers.
pub async fn guide_objects_tags_and_deletes(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    h.put_tagged(&spec, "reports/q1.csv", b"a,b,c", Some("class=finance")).await?;
    let v2 = h.put(&spec, "reports/q1.csv", b"a,b,c,d").await?;
    let logo = h.put_tagged(&spec, "images/logo.png", b"png", Some("class=brand")).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "reports/q1.csv", &v2, b"a,b,c,d").await?;
    h.assert_replicated(&spec, "images/logo.png", &logo, b"png").await?;
    h.assert_tags(&spec, "images/logo.png", &[("class", "brand")]).await?;
    h.tag(&spec, "images/logo.png", &[("stage", "final")]).await?;
    let marker = h.delete(&spec, "reports/q1.csv").await?;
    h.wait_for_replication().await?;
    h.assert_tags(&spec, "images/logo.png", &[("stage", "final")]).await?;
    h.assert_delete_marker(&spec, "reports/q1.csv", &marker).await?;
    Ok(())
}

/// §3: a DELETE naming a version id is never replicated.
pub async fn versioned_deletes_are_not_replicated(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    let v = h.put(&spec, "keep.txt", b"kept").await?;
    h.wait_for_replication().await?;
    h.delete_version(&spec, "keep.txt", &v).await?;
    h.wait_for_replication().await?;
    h.assert_destination_holds(&spec, "keep.txt", b"kept").await
}

/// §2: V2 rules replicate delete markers only with DeleteMarkerReplication Enabled.
pub async fn delete_markers_off_are_not_replicated(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/no-delete-markers.toml").await?;
    let v = h.put(&spec, "doc.txt", b"still here").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "doc.txt", &v, b"still here").await?;
    h.delete(&spec, "doc.txt").await?;
    h.wait_for_replication().await?;
    h.assert_destination_holds(&spec, "doc.txt", b"still here").await
}

/// §9: a prefix filter selects keys.
pub async fn prefix_filter(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/prefix-filter.toml").await?;
    let v = h.put(&spec, "logs/app.log", b"log").await?;
    h.put(&spec, "data/table.csv", b"data").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "logs/app.log", &v, b"log").await?;
    h.assert_not_replicated(&spec, "data/table.csv").await
}

/// §9 and §3: a tag filter selects objects by their tags at write time; tagging later does not
/// make an object match retroactively.
pub async fn tag_filter(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/tag-filter.toml").await?;
    let v = h.put_tagged(&spec, "tagged.txt", b"yes", Some("replicate=yes")).await?;
    h.put(&spec, "untagged.txt", b"no").await?;
    h.wait_for_replication().await?;
    h.tag(&spec, "untagged.txt", &[("replicate", "yes")]).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "tagged.txt", &v, b"yes").await?;
    h.assert_not_replicated(&spec, "untagged.txt").await
}

/// §9: overlapping rules to one destination: the highest Priority wins (its storage class).
pub async fn overlapping_rules_highest_priority_wins(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/multi-rule.toml").await?;
    let logs = h.put(&spec, "logs/1.log", b"l").await?;
    let other = h.put(&spec, "data/1.csv", b"d").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "logs/1.log", &logs, b"l").await?;
    h.assert_replicated(&spec, "data/1.csv", &other, b"d").await?;
    h.assert_storage_class(&spec, "logs/1.log", "GLACIER_IR").await?;
    h.assert_storage_class(&spec, "data/1.csv", "STANDARD").await
}

/// §9: Destination.StorageClass sets the replica's class.
pub async fn storage_class(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/storage-class.toml").await?;
    let v = h.put(&spec, "cold.bin", b"cold").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "cold.bin", &v, b"cold").await?;
    h.assert_storage_class(&spec, "cold.bin", "STANDARD_IA").await
}

/// §2, §4: replicas keep the source version id (every version, not only the latest) and report
/// REPLICA; the source reports COMPLETED.
pub async fn replica_keeps_version_id_and_status(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    let v1 = h.put(&spec, "doc", b"one").await?;
    let v2 = h.put(&spec, "doc", b"two").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "doc", &v2, b"two").await?;
    h.assert_version_holds(&spec, "doc", &v1, b"one").await?;
    let status = h.source_status(&spec, "doc", &v1).await?;
    if status.as_deref() != Some("COMPLETED") {
        return Err(HarnessError::assertion("source status of the first version", "COMPLETED", format!("{status:?}")));
    }
    Ok(())
}

/// §7: owner override: replicas belong to the destination account.
pub async fn owner_override_gives_replicas_to_destination(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    h.put(&spec, "owned.txt", b"x").await?;
    h.wait_for_replication().await?;
    h.assert_owner(&spec, "owned.txt", &spec.destination.account_id.clone()).await
}

/// §7: no override and destination ACLs enabled: the source object's owner keeps the replica.
pub async fn no_override_keeps_source_owner_when_acls_enabled(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/no-owner-override.toml").await?;
    h.set_destination_ownership(&spec, "ObjectWriter").await?;
    h.put(&spec, "kept-owner.txt", b"x").await?;
    h.wait_for_replication().await?;
    h.assert_owner(&spec, "kept-owner.txt", &spec.source.account_id.clone()).await
}

/// §7: destination BucketOwnerEnforced (the default): replicas belong to the destination
/// account even without the override.
pub async fn bucket_owner_enforced_owns_replicas_without_override(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "variants/no-owner-override.toml").await?;
    h.put(&spec, "enforced.txt", b"x").await?;
    h.wait_for_replication().await?;
    h.assert_owner(&spec, "enforced.txt", &spec.destination.account_id.clone()).await
}

/// §2, §5: SSE-KMS objects replicate only with the opt-in, re-encrypted under the replica key,
/// with kms:Decrypt/kms:Encrypt checked on the role and the replica key's policy.
pub async fn sse_kms_objects_are_reencrypted_under_the_replica_key(h: &Harness) -> Result<(), HarnessError> {
    let base = Spec::load(fixture("variants/kms.toml"))?;
    let role_arn = base.role_arn();
    let source_key = h.create_kms_key(&base.source.account_id).await?;
    let replica_key = h.create_kms_key(&base.destination.account_id).await?;
    let text = std::fs::read_to_string(fixture("variants/kms.toml")).map_err(|e| HarnessError::Other(e.to_string()))?;
    let text = text
        .replace("arn:aws:kms:us-east-1:111111111111:key/1111aaaa-1111-aaaa-1111-aaaa1111aaaa", &source_key)
        .replace("arn:aws:kms:us-east-1:222222222222:key/2222bbbb-2222-bbbb-2222-bbbb2222bbbb", &replica_key);
    let spec = h.spec_from_toml(&text)?;
    h.apply(&spec).await?;
    // The replica key's owner lets the (now existing) role encrypt (semantics doc §5).
    h.allow_role_on_key(&spec.destination.account_id, &replica_key, &role_arn).await?;
    let v = h.put_kms(&spec, "secret.bin", b"classified", &source_key).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "secret.bin", &v, b"classified").await?;
    h.assert_replica_kms_key(&spec, "secret.bin", &replica_key).await
}

/// Applies a broken fixture and checks it fails the way AWS fails it (`# expect-...` comment).
async fn broken(h: &Harness, relative: &str) -> Result<(), HarnessError> {
    let spec = h.spec_from_file(fixture(relative))?;
    if let Some(expected) = spec.expectation.apply_error.clone() {
        return match h.apply(&spec).await {
            Ok(_) => Err(HarnessError::assertion(format!("apply of {relative}"), format!("fails with {expected}"), "succeeded")),
            Err(e) => {
                let code = expected.split_whitespace().last().unwrap_or(&expected).to_owned();
                if e.to_string().contains(&code) {
                    Ok(())
                } else {
                    Err(HarnessError::assertion(format!("apply of {relative}"), format!("fails with {expected}"), e))
                }
            }
        };
    }
    h.apply(&spec).await?;
    let reason = spec
        .expectation
        .replication_failure
        .clone()
        .ok_or_else(|| HarnessError::Other(format!("{relative} states no expected failure")))?;
    let v = h.put_tagged(&spec, "probe.txt", b"probe", Some("probe=1")).await?;
    if reason == "DstDelObjNotPermitted" {
        h.wait_for_replication().await?;
        h.delete(&spec, "probe.txt").await?;
        h.wait_for_replication().await?;
        let failures = h.failures().await?;
        return match failures.iter().find(|f| f.reason == reason) {
            Some(f) if f.operation == "DeleteMarker" => Ok(()),
            _ => Err(HarnessError::assertion("delete marker replication", format!("fails with {reason}"), format!("{failures:?}"))),
        };
    }
    h.wait_for_replication().await?;
    let failure = h.assert_failed(&spec, "probe.txt", &v, &reason).await?;
    if failure.explanation.is_empty() {
        return Err(HarnessError::assertion("explanation of the failure", "a sentence naming what is missing", "nothing"));
    }
    Ok(())
}

pub async fn broken_role_trusts_ec2(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/role-trusts-ec2.toml").await
}
pub async fn broken_no_bucket_policy(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/no-bucket-policy.toml").await
}
pub async fn broken_role_without_replicate_object(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/role-without-replicate-object.toml").await
}
pub async fn broken_no_owner_override_permission(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/no-owner-override-permission.toml").await
}
pub async fn broken_bucket_policy_without_owner_override(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/bucket-policy-without-owner-override.toml").await
}
pub async fn broken_no_replicate_delete(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/no-replicate-delete.toml").await
}
pub async fn broken_destination_versioning_suspended(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/destination-versioning-suspended.toml").await
}
pub async fn broken_destination_unversioned(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/destination-unversioned.toml").await
}
pub async fn broken_guide_verbatim_documents(h: &Harness) -> Result<(), HarnessError> {
    broken(h, "broken/guide-verbatim-documents.toml").await
}

// ------------------------------------------------------------------------------------------------
// Setups that work on AWS must work here (docs/aws-semantics.md §12). Each replaces one document
// of the guide's setup with what AWS documents, through the SDK, and checks the outcome.

fn aws_err<E: std::fmt::Debug>(call: &str) -> impl FnOnce(E) -> HarnessError + '_ {
    move |e| HarnessError::Other(format!("{call} failed: {e:?}"))
}

fn role_arn(spec: &Spec) -> String {
    format!("arn:aws:iam::{}:role{}{}", spec.source.account_id, spec.role.path, spec.role.name)
}

/// AWS's example cross-account destination bucket policy: s3:ReplicateObject and
/// s3:ReplicateDelete (and the owner override), no s3:ReplicateTags; plus `extra` statements.
async fn put_aws_example_bucket_policy(h: &Harness, spec: &Spec, extra: Vec<serde_json::Value>) -> Result<(), HarnessError> {
    let (dst, role) = (&spec.destination.bucket, role_arn(spec));
    let mut statements = vec![
        serde_json::json!({"Sid": "objects", "Effect": "Allow", "Principal": {"AWS": role},
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ObjectOwnerOverrideToBucketOwner"], "Resource": format!("arn:aws:s3:::{dst}/*")}),
        serde_json::json!({"Sid": "bucket", "Effect": "Allow", "Principal": {"AWS": role},
            "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"], "Resource": format!("arn:aws:s3:::{dst}")}),
    ];
    statements.extend(extra);
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    h.destination(spec)?.s3().put_bucket_policy().bucket(dst).policy(policy).send().await.map_err(aws_err("PutBucketPolicy"))?;
    Ok(())
}

/// §12.1 (User Guide setting-repl-config-perm-overview): s3:ReplicateObject also allows the tags;
/// AWS's example bucket policy, without s3:ReplicateTags, replicates a tagged object with its tags.
pub async fn aws_example_bucket_policy_replicates_tags(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    put_aws_example_bucket_policy(h, &spec, Vec::new()).await?;
    let v = h.put_tagged(&spec, "tagged.txt", b"t", Some("class=finance")).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "tagged.txt", &v, b"t").await?;
    h.assert_tags(&spec, "tagged.txt", &[("class", "finance")]).await
}

/// §12.2 (same page): without s3:GetObjectVersionTagging the object replicates, without its tags.
pub async fn without_tag_read_objects_replicate_untagged(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    let (src, dst) = (&spec.source.bucket, &spec.destination.bucket);
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetReplicationConfiguration", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl"],
         "Resource": [format!("arn:aws:s3:::{src}"), format!("arn:aws:s3:::{src}/*")]},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
         "Resource": format!("arn:aws:s3:::{dst}/*")}]});
    h.source(&spec)?
        .iam()
        .put_role_policy()
        .role_name(&spec.role.name)
        .policy_name(&spec.role.policy_name)
        .policy_document(policy.to_string())
        .send()
        .await
        .map_err(aws_err("PutRolePolicy"))?;
    let v = h.put_tagged(&spec, "tagged.txt", b"t", Some("class=finance")).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "tagged.txt", &v, b"t").await?;
    h.assert_tags(&spec, "tagged.txt", &[]).await
}

/// §12.3: replication is S3 talking to S3 over TLS, so a "deny non-TLS" destination statement does
/// not stop it.
pub async fn deny_non_tls_statement_does_not_stop_replication(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    let dst = &spec.destination.bucket;
    let deny = serde_json::json!({"Sid": "tls-only", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [format!("arn:aws:s3:::{dst}"), format!("arn:aws:s3:::{dst}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
    put_aws_example_bucket_policy(h, &spec, vec![deny]).await?;
    let v = h.put(&spec, "over-tls.txt", b"tls").await?;
    h.wait_for_replication().await?;
    match h.source_status(&spec, "over-tls.txt", &v).await?.as_deref() {
        Some("COMPLETED") => Ok(()),
        other => Err(HarnessError::Other(format!("expected COMPLETED despite the non-TLS deny, got {other:?}: {:?}", h.failures().await?))),
    }
}

/// §12.5 (User Guide replication-what-is-isnot-replicated): objects in S3 Glacier Flexible
/// Retrieval or Deep Archive are not replicated.
pub async fn archived_objects_are_not_replicated(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    let src = h.source(&spec)?.s3();
    for (key, class) in [("cold.txt", aws_sdk_s3::types::StorageClass::Glacier), ("deep.txt", aws_sdk_s3::types::StorageClass::DeepArchive)]
    {
        src.put_object()
            .bucket(&spec.source.bucket)
            .key(key)
            .storage_class(class)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"cold"))
            .send()
            .await
            .map_err(aws_err("PutObject"))?;
    }
    let warm = h.put(&spec, "warm.txt", b"warm").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "warm.txt", &warm, b"warm").await?;
    h.assert_not_replicated(&spec, "cold.txt").await?;
    h.assert_not_replicated(&spec, "deep.txt").await
}

/// §12.6 (User Guide replication-failure-codes, DstBucketObjectLockConfigMissing): from a bucket
/// with Object Lock every object needs a destination with Object Lock, retention or not.
pub async fn object_lock_source_needs_a_locked_destination(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    let lock =
        aws_sdk_s3::types::ObjectLockConfiguration::builder().object_lock_enabled(aws_sdk_s3::types::ObjectLockEnabled::Enabled).build();
    h.source(&spec)?
        .s3()
        .put_object_lock_configuration()
        .bucket(&spec.source.bucket)
        .object_lock_configuration(lock.clone())
        .send()
        .await
        .map_err(aws_err("PutObjectLockConfiguration"))?;
    let v = h.put(&spec, "plain.txt", b"no retention").await?;
    h.wait_for_replication().await?;
    h.assert_failed(&spec, "plain.txt", &v, "DstBucketObjectLockConfigMissing").await?;
    h.destination(&spec)?
        .s3()
        .put_object_lock_configuration()
        .bucket(&spec.destination.bucket)
        .object_lock_configuration(lock)
        .send()
        .await
        .map_err(aws_err("PutObjectLockConfiguration"))?;
    let v = h.put(&spec, "plain-2.txt", b"no retention").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "plain-2.txt", &v, b"no retention").await
}

/// The harness's reset: every account empty again without a restart, and the setup can be applied
/// anew.
pub async fn reset_between_tests(h: &Harness) -> Result<(), HarnessError> {
    let spec = applied(h, "guide/spec.toml").await?;
    h.put(&spec, "before-reset.txt", b"x").await?;
    h.wait_for_replication().await?;
    h.reset().await?;
    let listed = h.source(&spec)?.s3().list_buckets().send().await.map_err(aws_err("ListBuckets"))?;
    if !listed.buckets().is_empty() {
        return Err(HarnessError::Other(format!("buckets left after reset: {:?}", listed.buckets())));
    }
    let spec = applied(h, "guide/spec.toml").await?;
    let v = h.put(&spec, "after-reset.txt", b"y").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "after-reset.txt", &v, b"y").await?;
    h.assert_not_replicated(&spec, "before-reset.txt").await
}

/// §27, §50: S3 Batch Replication replicates what live replication never will: an object written
/// before the rule existed and one that ended FAILED, once the setup is repaired; through the same
/// engine (REPLICA, same version id, destination owner) and with a completion report per object.
pub async fn batch_replication_of_existing_and_failed_objects(h: &Harness) -> Result<(), HarnessError> {
    let mut spec = h.spec_from_file(fixture("batch/repair-then-replicate.toml"))?;
    h.create_versioned_source(&spec).await?;
    let existing = h.put(&spec, "existing.txt", b"before the rule").await?;
    h.apply(&spec).await?;
    let failed = h.put(&spec, "failed.txt", b"while broken").await?;
    h.wait_for_replication().await?;
    let reason = spec.expectation.replication_failure.clone().unwrap_or_default();
    h.assert_failed(&spec, "failed.txt", &failed, &reason).await?;
    h.assert_not_replicated(&spec, "existing.txt").await?;

    // The repair: the same spec without the break.
    spec.overrides = xrepl_provisioner::spec::Overrides::default();
    h.apply(&spec).await?;
    let outcome = h.batch_replicate(&spec, &xrepl_harness::BatchFilter::existing_and_failed()).await?;
    let counts = (outcome.status.as_str(), outcome.total, outcome.succeeded, outcome.failed);
    if counts != ("Complete", 2, 2, 0) {
        return Err(HarnessError::assertion(
            "batch job (status, total, succeeded, failed)",
            "(Complete, 2, 2, 0)",
            format!("{counts:?}: {outcome:?}"),
        ));
    }
    for (key, version, data) in [("existing.txt", &existing, &b"before the rule"[..]), ("failed.txt", &failed, &b"while broken"[..])] {
        match outcome.row(key) {
            Some(row) if row.task_status == "succeeded" && &row.version_id == version => {}
            other => {
                return Err(HarnessError::assertion(
                    format!("report row of {key}"),
                    format!("succeeded, version {version}"),
                    format!("{other:?}"),
                ))
            }
        }
        h.assert_replicated(&spec, key, version, data).await?;
        h.assert_owner(&spec, key, &spec.destination.account_id).await?;
    }
    Ok(())
}
