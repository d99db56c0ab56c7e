//! Remove what xrepl created, and only that, in the reverse order of apply: the replication
//! configuration first (so S3 stops using the role), then the bucket policy statements, the role
//! policy and role, and the buckets. What xrepl did not create is kept and reported:
//! - in the replication configuration (when it uses the spec's role), only the spec's rules (by
//!   ID): the configuration is deleted when no other rule is left, else rewritten without them;
//! - only the bucket policy statements whose Sid starts with `Xrepl`;
//! - the role only when it carries the `xrepl:managed` tag and nothing else is attached to it; on a
//!   role xrepl adopted, what its `xrepl:*` tags record (see [`crate::ownership`]) is undone;
//!   any other role is not touched;
//! - buckets only when tagged `xrepl:managed`, and only when empty unless `force` is set.
//!
//! Versioning is left as it is: S3 cannot turn it off, only suspend it.

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::aws::{aws_error, replication_from_json, AccountClients, Accounts, Side};
use crate::documents::{merge_statements, statements_of, POLICY_VERSION};
use crate::error::ProvisionError;
use crate::ownership::Adoption;
use crate::plan::{
    foreign_rules, observe_bucket, observe_bucket_policy, observe_replication, observe_role, observe_role_policy, ResourceKind,
};
use crate::spec::Spec;
use crate::verify::remove_versions;

/// How [`destroy`] runs. The default removes both sides' resources and keeps buckets that hold
/// objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestroyOptions {
    /// Which account's half to remove.
    pub side: Side,
    /// Delete buckets xrepl created even when they hold objects (every version is deleted).
    pub force: bool,
}

/// A resource destroy removed or kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestroyItem {
    /// The resource.
    pub resource: ResourceKind,
    /// The 12-digit id of the account it lives in.
    pub account_id: String,
    /// The bucket, role or `role/policy` name.
    pub name: String,
    /// For removed items: how (e.g. `deleted`, `removed xrepl's rules, kept the others`).
    /// For kept items: why.
    pub reason: String,
}

/// What [`destroy`] removed and what it kept. Destroy on a destroyed setup removes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DestroyReport {
    /// What was removed (or, for shared documents, cleaned of xrepl's part), in order.
    pub removed: Vec<DestroyItem>,
    /// What exists but was left in place, with the reason (not xrepl's, not empty, shared).
    pub kept: Vec<DestroyItem>,
    /// Mutating API calls made (Delete*, Put* of a rewritten document, object version deletes).
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

/// Remove what xrepl created for `spec`, and only that, as the module docs describe: replication
/// rules, bucket policy statements, the role (or an adoption's changes), then the buckets tagged
/// `xrepl:managed` (empty ones, or all with [`DestroyOptions::force`]). Resources that do not
/// exist are skipped, so destroy can run again after a partial run.
///
/// # Errors
///
/// [`ProvisionError::MissingClients`] without the clients `options.side` needs;
/// [`ProvisionError::Aws`] when a read or delete fails (the report of what was removed before is
/// lost: run destroy again, it continues where it stopped); [`ProvisionError::Document`] when an
/// adopted role's record tags are damaged.
pub async fn destroy(spec: &Spec, accounts: &Accounts, options: &DestroyOptions) -> Result<DestroyReport, ProvisionError> {
    let mut report = DestroyReport::default();

    // 1. Stop replication (source): xrepl's rules only.
    if options.side.includes_source() {
        remove_replication_rules(spec, accounts.source()?, &mut report).await?;
    }

    // 2. xrepl's bucket policy statements (destination), by Sid.
    for d in spec.destinations().filter(|_| options.side.includes_destination()) {
        remove_bucket_policy_statements(accounts.for_destination(&d.account_id)?, &d.bucket, &mut report).await?;
    }

    // 3. The role policy and the role (source): a role xrepl created, or what it recorded
    // changing on a role it adopted; any other role is not touched at all.
    if options.side.includes_source() {
        remove_role(spec, accounts.source()?, &mut report).await?;
    }

    // 4. Buckets xrepl created.
    let mut buckets = Vec::new();
    if options.side.includes_source() {
        buckets.push((accounts.source()?, &spec.source.bucket, ResourceKind::SourceBucket));
    }
    for d in spec.destinations().filter(|_| options.side.includes_destination()) {
        buckets.push((accounts.for_destination(&d.account_id)?, &d.bucket, ResourceKind::DestinationBucket));
    }
    for (c, bucket, kind) in buckets {
        remove_bucket(c, bucket, kind, options.force, &mut report).await?;
    }
    Ok(report)
}

/// The spec's rules in the source bucket's replication configuration, when it uses the spec's
/// role: the configuration is deleted when no other rule is left, else rewritten without them.
async fn remove_replication_rules(spec: &Spec, c: &AccountClients, report: &mut DestroyReport) -> Result<(), ProvisionError> {
    let role_arn = spec.role_arn();
    let bucket = &spec.source.bucket;
    if !observe_bucket(c, bucket).await?.exists {
        return Ok(());
    }
    match observe_replication(c, bucket).await? {
        Some(config) if config.get("Role").and_then(|r| r.as_str()) == Some(role_arn.as_str()) => {
            let foreign = foreign_rules(spec, &config);
            let ours = config.get("Rules").and_then(serde_json::Value::as_array).map_or(0, Vec::len) - foreign.len();
            if ours == 0 {
                report.kept(ResourceKind::ReplicationConfiguration, &c.account_id, bucket, "it holds no rule of the spec's");
            } else if foreign.is_empty() {
                report.mutating_calls += 1;
                c.s3.delete_bucket_replication()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| aws_error("DeleteBucketReplication", &c.account_id, e))?;
                report.removed(ResourceKind::ReplicationConfiguration, &c.account_id, bucket, "deleted");
            } else {
                let mut rest = config.clone();
                rest["Rules"] = serde_json::Value::Array(foreign);
                report.mutating_calls += 1;
                c.s3.put_bucket_replication()
                    .bucket(bucket)
                    .replication_configuration(replication_from_json(&rest)?)
                    .send()
                    .await
                    .map_err(|e| aws_error("PutBucketReplication", &c.account_id, e))?;
                report.removed(ResourceKind::ReplicationConfiguration, &c.account_id, bucket, "removed xrepl's rules, kept the others");
            }
        }
        Some(_) => report.kept(ResourceKind::ReplicationConfiguration, &c.account_id, bucket, "it uses another role than the spec's"),
        None => {}
    }
    Ok(())
}

/// xrepl's statements (by Sid) in a destination bucket's policy: the policy is deleted when no
/// other statement is left, else rewritten without them.
async fn remove_bucket_policy_statements(c: &AccountClients, bucket: &str, report: &mut DestroyReport) -> Result<(), ProvisionError> {
    if !observe_bucket(c, bucket).await?.exists {
        return Ok(());
    }
    let Some(policy) = observe_bucket_policy(c, bucket).await? else {
        return Ok(());
    };
    match merge_statements(Some(&policy), &[], POLICY_VERSION) {
        None => {
            report.mutating_calls += 1;
            c.s3.delete_bucket_policy().bucket(bucket).send().await.map_err(|e| aws_error("DeleteBucketPolicy", &c.account_id, e))?;
            report.removed(ResourceKind::DestinationBucketPolicy, &c.account_id, bucket, "deleted the policy");
        }
        Some(rest) if statements_of(&rest).len() < statements_of(&policy).len() => {
            report.mutating_calls += 1;
            c.s3.put_bucket_policy()
                .bucket(bucket)
                .policy(rest.to_string())
                .send()
                .await
                .map_err(|e| aws_error("PutBucketPolicy", &c.account_id, e))?;
            report.removed(ResourceKind::DestinationBucketPolicy, &c.account_id, bucket, "removed xrepl's statements, kept the others");
        }
        Some(_) => report.kept(ResourceKind::DestinationBucketPolicy, &c.account_id, bucket, "it holds no statement xrepl wrote"),
    }
    Ok(())
}

/// The spec's role: deleted when xrepl created it, restored when xrepl adopted it, else untouched.
async fn remove_role(spec: &Spec, c: &AccountClients, report: &mut DestroyReport) -> Result<(), ProvisionError> {
    let name = &spec.role.name;
    let Some(role) = observe_role(c, name).await? else {
        return Ok(());
    };
    let record = Adoption::from_tags(&role.tags)?;
    if role.managed {
        destroy_managed_role(spec, c, report).await?;
    } else if record.adopted {
        restore_adopted_role(spec, c, &role.tags, &record, report).await?;
    } else {
        report.kept(ResourceKind::Role, &c.account_id, name, "not created by xrepl: untouched");
    }
    Ok(())
}

/// A bucket xrepl created, when nothing of anyone else's is on it, and only empty unless `force`
/// (then every version is deleted first).
async fn remove_bucket(
    c: &AccountClients,
    bucket: &str,
    kind: ResourceKind,
    force: bool,
    report: &mut DestroyReport,
) -> Result<(), ProvisionError> {
    let state = observe_bucket(c, bucket).await?;
    if !state.exists {
        return Ok(());
    }
    if !state.managed {
        report.kept(kind, &c.account_id, bucket, "not created by xrepl");
        return Ok(());
    }
    // What is left on it now is someone else's: deleting the bucket would delete that too.
    if observe_replication(c, bucket).await?.is_some() {
        report.kept(kind, &c.account_id, bucket, "it holds replication rules xrepl did not write");
        return Ok(());
    }
    if observe_bucket_policy(c, bucket).await?.is_some() {
        report.kept(kind, &c.account_id, bucket, "its bucket policy holds statements xrepl did not write");
        return Ok(());
    }
    let listing =
        c.s3.list_object_versions()
            .bucket(bucket)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| aws_error("ListObjectVersions", &c.account_id, e))?;
    let has_data = !listing.versions().is_empty() || !listing.delete_markers().is_empty();
    if has_data && !force {
        report.kept(kind, &c.account_id, bucket, "it holds objects (or object versions); destroy with force to delete them and the bucket");
        return Ok(());
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
    Ok(())
}

/// A role xrepl created: its inline policy, then the role itself when nothing else is attached.
async fn destroy_managed_role(spec: &Spec, c: &AccountClients, report: &mut DestroyReport) -> Result<(), ProvisionError> {
    let name = &spec.role.name;
    delete_inline_policy(c, name, &spec.role.policy_name, report).await?;
    let inline = c.iam.list_role_policies().role_name(name).send().await.map_err(|e| aws_error("ListRolePolicies", &c.account_id, e))?;
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
    Ok(())
}

async fn delete_inline_policy(c: &AccountClients, role: &str, policy: &str, report: &mut DestroyReport) -> Result<(), ProvisionError> {
    if observe_role_policy(c, role, policy).await?.is_some() {
        report.mutating_calls += 1;
        c.iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| aws_error("DeleteRolePolicy", &c.account_id, e))?;
        report.removed(ResourceKind::RolePolicy, &c.account_id, &format!("{role}/{policy}"), "deleted");
    }
    Ok(())
}

/// A role xrepl adopted: delete the inline policy it added, put back the trust policy it
/// replaced, and remove its record tags; the role and everything else on it stay.
async fn restore_adopted_role(
    spec: &Spec,
    c: &AccountClients,
    tags: &[(String, String)],
    record: &Adoption,
    report: &mut DestroyReport,
) -> Result<(), ProvisionError> {
    let name = &spec.role.name;
    if let Some(policy) = &record.policy {
        delete_inline_policy(c, name, policy, report).await?;
    }
    if let Some(trust) = &record.original_trust {
        report.mutating_calls += 1;
        c.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust)
            .send()
            .await
            .map_err(|e| aws_error("UpdateAssumeRolePolicy", &c.account_id, e))?;
        report.removed(ResourceKind::TrustPolicy, &c.account_id, name, "put back the trust policy recorded before xrepl changed it");
    }
    report.mutating_calls += 1;
    c.iam
        .untag_role()
        .role_name(name)
        .set_tag_keys(Some(Adoption::tag_keys(tags)))
        .send()
        .await
        .map_err(|e| aws_error("UntagRole", &c.account_id, e))?;
    report.kept(ResourceKind::Role, &c.account_id, name, "adopted, not created by xrepl: restored as it was, xrepl's tags removed");
    Ok(())
}
