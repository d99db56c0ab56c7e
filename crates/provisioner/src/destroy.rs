//! Remove what xrepl created, and only that, in the reverse order of apply: the replication
//! configuration first (so S3 stops using the role), then the bucket policy statements, the role
//! policy and role, and the buckets. What xrepl did not create is kept and reported:
//! - the replication configuration only when it uses the spec's role;
//! - only the bucket policy statements whose Sid starts with `Xrepl` (or the user's own policy
//!   file, when the bucket still holds exactly that document);
//! - the role only when it carries the `xrepl:managed` tag and nothing else is attached to it;
//! - buckets only when tagged `xrepl:managed`, and only when empty unless `force` is set.
//!
//! Versioning is left as it is: S3 cannot turn it off, only suspend it.

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::aws::{aws_error, documents_equivalent, Accounts, Side};
use crate::documents::{is_xrepl_statement, statements_of};
use crate::error::ProvisionError;
use crate::plan::{observe_bucket, observe_bucket_policy, observe_replication, observe_role, observe_role_policy, ResourceKind};
use crate::spec::Spec;
use crate::verify::remove_versions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestroyOptions {
    pub side: Side,
    /// Delete buckets xrepl created even when they hold objects (every version is deleted).
    pub force: bool,
}

/// A resource destroy removed or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestroyItem {
    pub resource: ResourceKind,
    pub account_id: String,
    pub name: String,
    /// For kept items: why.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestroyReport {
    pub removed: Vec<DestroyItem>,
    pub kept: Vec<DestroyItem>,
    pub mutating_calls: u32,
}

impl DestroyReport {
    fn removed(&mut self, resource: ResourceKind, account: &str, name: &str, how: &str) {
        self.removed.push(DestroyItem { resource, account_id: account.to_string(), name: name.to_string(), reason: how.to_string() });
    }

    fn kept(&mut self, resource: ResourceKind, account: &str, name: &str, why: impl Into<String>) {
        self.kept.push(DestroyItem { resource, account_id: account.to_string(), name: name.to_string(), reason: why.into() });
    }
}

pub async fn destroy(spec: &Spec, accounts: &Accounts, options: &DestroyOptions) -> Result<DestroyReport, ProvisionError> {
    let mut report = DestroyReport::default();
    let role_arn = spec.role_arn();

    // 1. Stop replication (source).
    if options.side.includes_source() {
        let c = accounts.source()?;
        let bucket = &spec.source.bucket;
        let state = observe_bucket(c, bucket).await?;
        if state.exists {
            match observe_replication(c, bucket).await? {
                Some(config) if config.get("Role").and_then(|r| r.as_str()) == Some(role_arn.as_str()) => {
                    report.mutating_calls += 1;
                    c.s3.delete_bucket_replication()
                        .bucket(bucket)
                        .send()
                        .await
                        .map_err(|e| aws_error("DeleteBucketReplication", &c.account_id, e))?;
                    report.removed(ResourceKind::ReplicationConfiguration, &c.account_id, bucket, "deleted");
                }
                Some(_) => {
                    report.kept(ResourceKind::ReplicationConfiguration, &c.account_id, bucket, "it uses another role than the spec's")
                }
                None => {}
            }
        }
    }

    // 2. xrepl's bucket policy statements (destination).
    if options.side.includes_destination() {
        let c = accounts.destination()?;
        let bucket = &spec.destination.bucket;
        let state = observe_bucket(c, bucket).await?;
        if state.exists {
            if let Some(policy) = observe_bucket_policy(c, bucket).await? {
                let whole_is_users_file =
                    spec.destination.bucket_policy_file.as_ref().is_some_and(|d| documents_equivalent(&d.value, &policy));
                let all = statements_of(&policy);
                let kept: Vec<_> = all.iter().filter(|s| !is_xrepl_statement(s)).cloned().collect();
                if whole_is_users_file || kept.is_empty() {
                    report.mutating_calls += 1;
                    c.s3.delete_bucket_policy()
                        .bucket(bucket)
                        .send()
                        .await
                        .map_err(|e| aws_error("DeleteBucketPolicy", &c.account_id, e))?;
                    report.removed(ResourceKind::DestinationBucketPolicy, &c.account_id, bucket, "deleted the policy");
                } else if kept.len() < all.len() {
                    let mut rest = policy.clone();
                    rest["Statement"] = serde_json::Value::Array(kept);
                    report.mutating_calls += 1;
                    c.s3.put_bucket_policy()
                        .bucket(bucket)
                        .policy(rest.to_string())
                        .send()
                        .await
                        .map_err(|e| aws_error("PutBucketPolicy", &c.account_id, e))?;
                    report.removed(
                        ResourceKind::DestinationBucketPolicy,
                        &c.account_id,
                        bucket,
                        "removed xrepl's statements, kept the others",
                    );
                } else {
                    report.kept(ResourceKind::DestinationBucketPolicy, &c.account_id, bucket, "it holds no statement xrepl wrote");
                }
            }
        }
    }

    // 3. The role policy and the role (source).
    if options.side.includes_source() {
        let c = accounts.source()?;
        let name = &spec.role.name;
        if let Some(role) = observe_role(c, name).await? {
            if observe_role_policy(c, name, &spec.role.policy_name).await?.is_some() {
                report.mutating_calls += 1;
                c.iam
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(&spec.role.policy_name)
                    .send()
                    .await
                    .map_err(|e| aws_error("DeleteRolePolicy", &c.account_id, e))?;
                report.removed(ResourceKind::RolePolicy, &c.account_id, &format!("{name}/{}", spec.role.policy_name), "deleted");
            }
            if role.managed {
                let inline =
                    c.iam.list_role_policies().role_name(name).send().await.map_err(|e| aws_error("ListRolePolicies", &c.account_id, e))?;
                let attached = c
                    .iam
                    .list_attached_role_policies()
                    .role_name(name)
                    .send()
                    .await
                    .map_err(|e| aws_error("ListAttachedRolePolicies", &c.account_id, e))?;
                let others = inline.policy_names().len() + attached.attached_policies().len();
                if others == 0 {
                    report.mutating_calls += 1;
                    c.iam.delete_role().role_name(name).send().await.map_err(|e| aws_error("DeleteRole", &c.account_id, e))?;
                    report.removed(ResourceKind::Role, &c.account_id, name, "deleted");
                } else {
                    report.kept(ResourceKind::Role, &c.account_id, name, format!("{others} other polic(ies) are attached to it"));
                }
            } else {
                report.kept(ResourceKind::Role, &c.account_id, name, "not created by xrepl");
            }
        }
    }

    // 4. Buckets xrepl created.
    let mut buckets = Vec::new();
    if options.side.includes_source() {
        buckets.push((accounts.source()?, &spec.source.bucket, ResourceKind::SourceBucket));
    }
    if options.side.includes_destination() {
        buckets.push((accounts.destination()?, &spec.destination.bucket, ResourceKind::DestinationBucket));
    }
    for (c, bucket, kind) in buckets {
        let state = observe_bucket(c, bucket).await?;
        if !state.exists {
            continue;
        }
        if !state.managed {
            report.kept(kind, &c.account_id, bucket, "not created by xrepl");
            continue;
        }
        let listing =
            c.s3.list_object_versions()
                .bucket(bucket)
                .max_keys(1)
                .send()
                .await
                .map_err(|e| aws_error("ListObjectVersions", &c.account_id, e))?;
        let has_data = !listing.versions().is_empty() || !listing.delete_markers().is_empty();
        if has_data && !options.force {
            report.kept(
                kind,
                &c.account_id,
                bucket,
                "it holds objects (or object versions); destroy with force to delete them and the bucket",
            );
            continue;
        }
        if has_data {
            let n = remove_versions(c, bucket, "").await?;
            report.mutating_calls += u32::try_from(n).unwrap_or(u32::MAX);
        }
        report.mutating_calls += 1;
        match c.s3.delete_bucket().bucket(bucket).send().await {
            Ok(_) => report.removed(kind, &c.account_id, bucket, "deleted"),
            Err(e) if e.code() == Some("BucketNotEmpty") => {
                report.kept(kind, &c.account_id, bucket, "S3 says it is not empty (objects arrived meanwhile?)");
            }
            Err(e) => return Err(aws_error("DeleteBucket", &c.account_id, e)),
        }
    }
    Ok(report)
}
