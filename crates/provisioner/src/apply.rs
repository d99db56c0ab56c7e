//! Make the accounts match the spec, in the order that is safe on AWS:
//! buckets → versioning on both → role with its trust policy → role permission policy →
//! destination bucket policy → PutBucketReplication last.
//!
//! Why the bucket policy comes after the role (the brief listed it earlier): S3 rejects a bucket
//! policy whose principal ARN does not exist yet ("Invalid principal in policy"), so the role must
//! exist first. Replication goes last because it is the step that makes S3 act: everything it
//! relies on must be in place when it starts.
//!
//! Apply reads first ([`crate::plan::plan`]) and only calls what differs: a second apply on an
//! applied setup makes no mutating call at all.

use aws_sdk_s3::types as s3t;

use crate::aws::{aws_error, has_code, replication_from_json, AccountClients, Accounts, Backoff};
pub use crate::error::ApplyFailure;
use crate::error::ProvisionError;
use crate::plan::{
    plan, replication_error_is_transient, AccountRole, Plan, PlannedChange, ResourceKind, Step, MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};
pub use crate::report::{AppliedChange, ApplyReport, DeferredChange, MadeCall, RemainingChange};
use crate::side::Side;
use crate::spec::Spec;

/// How [`apply`] runs. The default applies both sides with [`Backoff::default`], refuses to
/// replace replication rules it did not write, and makes every call including
/// PutBucketReplication.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOptions {
    /// Which account's half to apply.
    pub side: Side,
    /// Retries for IAM/S3 eventual consistency (a fresh role is not visible everywhere at once).
    pub backoff: Backoff,
    /// When xrepl's rules cannot be merged with rules it did not write (they run as another role,
    /// or share a priority), replace the whole configuration with the spec's rules, dropping the
    /// others. Without it, apply refuses; rules that can be merged are always kept.
    pub replace_foreign_rules: bool,
    /// Apply everything except PutBucketReplication: for test backends whose S3 cannot hold a
    /// cross-account rule (LocalStack rejects it; two single-account emulators cannot see each
    /// other's buckets) and that replicate through a bridge instead.
    pub skip_put_replication: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { side: Side::Both, backoff: Backoff::default(), replace_foreign_rules: false, skip_put_replication: false }
    }
}

/// Apply the spec. Refuses, before changing anything, when the plan holds a conflict (e.g. a role
/// xrepl did not create, without adopt; replication rules it cannot merge with those already
/// there, unless [`ApplyOptions::replace_foreign_rules`] is set). When a call fails part-way, the
/// error is a [`ProvisionError::ApplyFailed`] carrying the report of what was done and what remains.
///
/// It plans first ([`plan`]) and then makes only the calls the plan lists, in the order of the
/// module docs (CreateBucket, PutBucketTagging, PutBucketVersioning, CreateRole, TagRole,
/// UpdateAssumeRolePolicy, PutRolePolicy, PutBucketPolicy or DeleteBucketPolicy,
/// PutBucketReplication). Errors that mean "IAM has not propagated the new role yet" are retried
/// with [`ApplyOptions::backoff`]. With [`Side::Destination`] alone, a bucket policy S3 rejects
/// because the role does not exist yet is not an error: it is reported in
/// [`ApplyReport::deferred`].
///
/// # Errors
///
/// Everything [`plan`] returns; [`ProvisionError::Conflict`] for a refused plan;
/// [`ProvisionError::ApplyFailed`] when a mutating call fails (its report says what was done
/// before, possibly nothing); [`ProvisionError::root`] gives the underlying error.
pub async fn apply(spec: &Spec, accounts: &Accounts, options: &ApplyOptions) -> Result<ApplyReport, ProvisionError> {
    let plan = plan(spec, accounts, options.side).await?;
    refuse_conflicts(&plan, options)?;
    let mut report = ApplyReport {
        plan: plan.clone(),
        applied: Vec::new(),
        calls: Vec::new(),
        mutating_calls: 0,
        retries: 0,
        deferred: Vec::new(),
        remaining: Vec::new(),
    };
    let mut versioning_changed = false;
    for (index, change) in plan.changes.iter().enumerate() {
        if change.steps.is_empty() {
            continue;
        }
        let clients = match change.account {
            AccountRole::Source => accounts.source()?,
            AccountRole::Destination => accounts.for_destination(&change.account_id)?,
        };
        let before = report.mutating_calls;
        match apply_change(spec, clients, change, options, &mut report, &mut versioning_changed).await {
            Ok(ChangeOutcome::Applied) => {}
            Ok(ChangeOutcome::Deferred) => continue,
            Err((error, status)) => {
                report.remaining = remaining_after(&plan, index, status);
                return Err(ProvisionError::ApplyFailed(Box::new(ApplyFailure { error, report })));
            }
        }
        tracing::info!(
            resource = %change.resource,
            name = %change.name,
            account = %change.account_id,
            change = %change.change,
            "applied"
        );
        report.applied.push(AppliedChange {
            resource: change.resource,
            account_id: change.account_id.clone(),
            name: change.name.clone(),
            change: change.change,
            calls: report.mutating_calls - before,
        });
    }
    Ok(report)
}

/// A conflict in the plan refuses the whole apply before any change (replication rules xrepl did
/// not write may be replaced when the options say so).
fn refuse_conflicts(plan: &Plan, options: &ApplyOptions) -> Result<(), ProvisionError> {
    let replaceable = |c: &PlannedChange| options.replace_foreign_rules && c.resource == ResourceKind::ReplicationConfiguration;
    if let Some(c) = plan.changes.iter().find(|c| c.conflict.is_some() && !replaceable(c)) {
        let hint = if c.resource == ResourceKind::ReplicationConfiguration { " (or replace them with replace_foreign_rules)" } else { "" };
        return Err(ProvisionError::Conflict {
            account: c.account_id.clone(),
            message: format!("{} of {}: {}; nothing was changed{hint}", c.resource, c.name, c.conflict.as_deref().unwrap_or_default()),
        });
    }
    Ok(())
}

/// How one planned change ended.
enum ChangeOutcome {
    /// Every step was made.
    Applied,
    /// Left for a later run, in [`ApplyReport::deferred`].
    Deferred,
}

/// Make one change's steps, in order. On failure: the error and the failed change's status
/// (`failed: ...`, and what was done about a bucket created but not tagged).
async fn apply_change(
    spec: &Spec,
    clients: &AccountClients,
    change: &PlannedChange,
    options: &ApplyOptions,
    report: &mut ApplyReport,
    versioning_changed: &mut bool,
) -> Result<ChangeOutcome, (ProvisionError, String)> {
    let mut created_bucket = false;
    for step in &change.steps {
        if options.skip_put_replication && matches!(step, Step::PutReplication { .. }) {
            continue;
        }
        // Replacing rules xrepl did not write, when explicitly allowed: the spec's rules only.
        let replaced;
        let step = match step {
            Step::PutReplication { .. } if change.conflict.is_some() => {
                replaced = Step::PutReplication { config: crate::documents::Documents::for_spec(spec).replication };
                &replaced
            }
            other => other,
        };
        // The destination team alone: S3 refuses a bucket policy naming a role that does not
        // exist yet. That is the guide's order (the role comes from the source side), not an
        // error: say so and let a later run finish it.
        let alone = options.side == Side::Destination;
        let backoff = if alone && matches!(step, Step::PutBucketPolicy { .. }) {
            Backoff { max_attempts: 1, ..options.backoff }
        } else {
            options.backoff
        };
        match run_step(spec, clients, step, &backoff, report, *versioning_changed).await {
            Ok(()) => {
                report.calls.push(made_call(spec, clients, step));
                created_bucket |= matches!(step, Step::CreateBucket { .. });
            }
            Err(e) if alone && is_invalid_principal(&e) => {
                report.deferred.push(DeferredChange {
                    resource: change.resource,
                    account_id: change.account_id.clone(),
                    name: change.name.clone(),
                    reason: format!(
                        "{e}; the role {} does not exist yet: apply the source side, then the destination side again",
                        spec.role_arn()
                    ),
                });
                return Ok(ChangeOutcome::Deferred);
            }
            Err(e) => {
                let mut status = format!("failed: {e}");
                if let (true, Step::TagBucket { bucket }) = (created_bucket, step) {
                    status.push_str(&rollback_bucket(clients, bucket, report).await);
                }
                return Err((e, status));
            }
        }
        if matches!(step, Step::PutVersioning { .. }) {
            *versioning_changed = true;
        }
    }
    Ok(ChangeOutcome::Applied)
}

/// The change at `failed` (with `status`) and every later change that had something to do.
fn remaining_after(plan: &Plan, failed: usize, status: String) -> Vec<RemainingChange> {
    plan.changes
        .iter()
        .enumerate()
        .skip(failed)
        .filter(|(_, c)| !c.steps.is_empty())
        .map(|(i, c)| RemainingChange {
            resource: c.resource,
            account_id: c.account_id.clone(),
            name: c.name.clone(),
            change: c.change,
            status: if i == failed { status.clone() } else { "not started".to_string() },
        })
        .collect()
}

/// Tagging a bucket this run just created failed: delete the (empty) bucket again, so that a
/// rerun creates and tags it instead of finding an untagged bucket it cannot call its own.
async fn rollback_bucket(c: &AccountClients, bucket: &str, report: &mut ApplyReport) -> String {
    report.mutating_calls += 1;
    match c.s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => {
            report.calls.push(MadeCall { operation: "DeleteBucket", account_id: c.account_id.clone(), target: bucket.to_string() });
            format!("; the bucket {bucket} created a moment ago was deleted again, so a rerun creates and tags it")
        }
        Err(e) => format!(
            "; the bucket {bucket} was created but could not be tagged or deleted again ({}): tag it {MANAGED_TAG_KEY}={MANAGED_TAG_VALUE} so that destroy may remove it",
            aws_error("DeleteBucket", &c.account_id, e)
        ),
    }
}

fn made_call(spec: &Spec, c: &AccountClients, step: &Step) -> MadeCall {
    let (operation, target) = match step {
        Step::CreateBucket { bucket, .. } => ("CreateBucket", bucket.clone()),
        Step::TagBucket { bucket } => ("PutBucketTagging", bucket.clone()),
        Step::PutVersioning { bucket, .. } => ("PutBucketVersioning", bucket.clone()),
        Step::CreateRole { .. } => ("CreateRole", spec.role.name.clone()),
        Step::TagRole { .. } => ("TagRole", spec.role.name.clone()),
        Step::UpdateTrust { .. } => ("UpdateAssumeRolePolicy", spec.role.name.clone()),
        Step::PutRolePolicy { .. } => ("PutRolePolicy", format!("{}/{}", spec.role.name, spec.role.policy_name)),
        Step::PutBucketPolicy { bucket, .. } => ("PutBucketPolicy", bucket.clone()),
        Step::DeleteBucketPolicy { bucket } => ("DeleteBucketPolicy", bucket.clone()),
        Step::PutReplication { .. } => ("PutBucketReplication", spec.source.bucket.clone()),
    };
    MadeCall { operation, account_id: c.account_id.clone(), target }
}

/// Run one step, retrying errors that mean "not propagated yet" with bounded backoff.
async fn run_step(
    spec: &Spec,
    clients: &AccountClients,
    step: &Step,
    backoff: &Backoff,
    report: &mut ApplyReport,
    versioning_changed: bool,
) -> Result<(), ProvisionError> {
    let mut attempt = 0;
    loop {
        report.mutating_calls += 1;
        let err = match call(spec, clients, step).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if attempt + 1 >= backoff.max_attempts || !is_transient(step, &err, versioning_changed) {
            return Err(err);
        }
        let delay = backoff.delay(attempt);
        tracing::warn!(error = %err, ?delay, "transient error, retrying");
        tokio::time::sleep(delay).await;
        attempt += 1;
        report.retries += 1;
    }
}

/// S3's answer to a bucket policy whose principal does not exist (yet).
fn is_invalid_principal(err: &ProvisionError) -> bool {
    match err {
        ProvisionError::Aws { code, message, .. } => {
            code == "MalformedPolicy" && message.to_ascii_lowercase().contains("invalid principal")
        }
        _ => false,
    }
}

fn is_transient(step: &Step, err: &ProvisionError, versioning_changed: bool) -> bool {
    match step {
        // A role created a moment ago may not be visible to the next IAM call yet.
        Step::PutRolePolicy { .. } | Step::UpdateTrust { .. } | Step::TagRole { .. } => has_code(err, &["NoSuchEntity"]),
        // S3 checks that a policy's principals exist; a fresh role can take seconds to appear.
        Step::PutBucketPolicy { .. } => is_invalid_principal(err),
        Step::PutReplication { .. } => replication_error_is_transient(err, versioning_changed),
        _ => false,
    }
}

async fn call(spec: &Spec, c: &AccountClients, step: &Step) -> Result<(), ProvisionError> {
    let account = c.account_id.as_str();
    match step {
        Step::CreateBucket { bucket, region, object_lock } => create_bucket(c, bucket, region, *object_lock).await,
        Step::TagBucket { bucket } => tag_bucket(c, bucket).await,
        Step::PutVersioning { bucket, enabled } => {
            let status = if *enabled { s3t::BucketVersioningStatus::Enabled } else { s3t::BucketVersioningStatus::Suspended };
            c.s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(s3t::VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("PutBucketVersioning", account, e))
        }
        Step::CreateRole { trust } => create_role(spec, c, trust).await,
        Step::TagRole { tags } => tag_role(spec, c, tags).await,
        Step::UpdateTrust { trust } => c
            .iam
            .update_assume_role_policy()
            .role_name(&spec.role.name)
            .policy_document(trust)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("UpdateAssumeRolePolicy", account, e)),
        Step::PutRolePolicy { document } => c
            .iam
            .put_role_policy()
            .role_name(&spec.role.name)
            .policy_name(&spec.role.policy_name)
            .policy_document(document)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutRolePolicy", account, e)),
        Step::PutBucketPolicy { bucket, document } => {
            c.s3.put_bucket_policy()
                .bucket(bucket)
                .policy(document)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("PutBucketPolicy", account, e))
        }
        Step::DeleteBucketPolicy { bucket } => {
            c.s3.delete_bucket_policy().bucket(bucket).send().await.map(|_| ()).map_err(|e| aws_error("DeleteBucketPolicy", account, e))
        }
        Step::PutReplication { config } => {
            let config = replication_from_json(config)?;
            c.s3.put_bucket_replication()
                .bucket(&spec.source.bucket)
                .replication_configuration(config)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("PutBucketReplication", account, e))
        }
    }
}

/// CreateBucket (with Object Lock when asked; a location constraint outside us-east-1).
async fn create_bucket(c: &AccountClients, bucket: &str, region: &str, object_lock: bool) -> Result<(), ProvisionError> {
    let mut req = c.s3.create_bucket().bucket(bucket);
    if object_lock {
        req = req.object_lock_enabled_for_bucket(true);
    }
    // us-east-1 is the one region that must not be named as a location constraint.
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            s3t::CreateBucketConfiguration::builder().location_constraint(s3t::BucketLocationConstraint::from(region)).build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = aws_error("CreateBucket", &c.account_id, e);
            // Created by a concurrent run of ours: fine.
            if has_code(&e, &["BucketAlreadyOwnedByYou"]) {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// PutBucketTagging with xrepl's managed tag.
async fn tag_bucket(c: &AccountClients, bucket: &str) -> Result<(), ProvisionError> {
    let tag =
        s3t::Tag::builder().key(MANAGED_TAG_KEY).value(MANAGED_TAG_VALUE).build().map_err(|e| ProvisionError::Document(e.to_string()))?;
    let tagging = s3t::Tagging::builder().tag_set(tag).build().map_err(|e| ProvisionError::Document(e.to_string()))?;
    c.s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_error("PutBucketTagging", &c.account_id, e))
}

/// CreateRole with its trust policy and xrepl's managed tag.
async fn create_role(spec: &Spec, c: &AccountClients, trust: &str) -> Result<(), ProvisionError> {
    let tag = aws_sdk_iam::types::Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| ProvisionError::Document(e.to_string()))?;
    c.iam
        .create_role()
        .role_name(&spec.role.name)
        .path(&spec.role.path)
        .assume_role_policy_document(trust)
        .description(format!("S3 replication from {} to {} (managed by xrepl)", spec.source.bucket, spec.destination.bucket))
        .tags(tag)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_error("CreateRole", &c.account_id, e))
}

/// TagRole with an adoption's record tags.
async fn tag_role(spec: &Spec, c: &AccountClients, tags: &[(String, String)]) -> Result<(), ProvisionError> {
    let tags = tags
        .iter()
        .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ProvisionError::Document(e.to_string()))?;
    c.iam
        .tag_role()
        .role_name(&spec.role.name)
        .set_tags(Some(tags))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| aws_error("TagRole", &c.account_id, e))
}
