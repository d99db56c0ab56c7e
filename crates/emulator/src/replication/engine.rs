//! Processing one task: the steps S3 takes for each destination, each checked like AWS checks it.

use serde_json::json;

use super::{Target, Task, TaskKind};
use crate::access::{self, authz, Denial};
use crate::identity::{Caller, PrincipalKind};
use crate::runtime::failure::{Failure, FailureEvent, FailureReason, FAILED_REPLICATION_EVENT};
use crate::runtime::Shared;
use crate::state::s3::{delete_marker, DestinationStatus, Grant, ObjectVersion, ReplicationState, Sse, Versioning};
use crate::state::{iso8601, now, World};
use xrepl_policy::Authorization;

const SERVICE: &str = "s3.amazonaws.com";

/// What processing a task did: work that must wait for an unavailable destination, the failure
/// events, and the destinations that now hold the change.
pub struct Processed {
    pub parked: Option<Task>,
    pub events: Vec<FailureEvent>,
    pub completed: Vec<String>,
}

/// Runs a task.
pub fn process(shared: &Shared, task: Task) -> Processed {
    let mut world = shared.world();
    let (mut parked, mut events, mut completed) = (Vec::new(), Vec::new(), Vec::new());
    for target in &task.targets {
        if shared.replication.is_unavailable(&target.destination_bucket) {
            parked.push(target.clone());
            continue;
        }
        let status = match replicate(&mut world, &task, target) {
            Ok(()) => {
                completed.push(target.destination_bucket.clone());
                DestinationStatus::Completed
            }
            Err(failure) => {
                events.push(event(&world, &task, target, &failure));
                DestinationStatus::Failed { reason: failure.reason.as_str().to_owned() }
            }
        };
        record_status(&mut world, &task, target, status);
    }
    let parked = (!parked.is_empty()).then_some(Task { targets: parked, ..task });
    Processed { parked, events, completed }
}

fn operation(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Object => "PutObject",
        TaskKind::DeleteMarker => "DeleteMarker",
        TaskKind::Tags => "PutObjectTagging",
        TaskKind::Acl => "PutObjectAcl",
    }
}

fn metrics_enabled(rule: &s3s::dto::ReplicationRule) -> bool {
    rule.destination.metrics.as_ref().is_some_and(|m| m.status.as_str() == "Enabled")
}

pub(super) fn event(world: &World, task: &Task, target: &Target, failure: &Failure) -> FailureEvent {
    let source = world.buckets.get(&task.source_bucket);
    let version = source.and_then(|b| b.version(&task.key, &task.version_id));
    FailureEvent {
        event_name: FAILED_REPLICATION_EVENT.to_owned(),
        event_time: iso8601(now()),
        request_time: iso8601(task.requested),
        region: source.map_or_else(|| world.region.clone(), |b| b.region.clone()),
        rule_id: target.rule_id.clone(),
        metrics_enabled: metrics_enabled(&target.rule),
        source_bucket: task.source_bucket.clone(),
        source_owner_canonical_id: source.map(|b| world.canonical_id(&b.owner_account)).unwrap_or_default(),
        destination_bucket: target.destination_bucket.clone(),
        key: task.key.clone(),
        version_id: task.version_id.clone(),
        size: version.map_or(0, |v| v.size() as u64),
        etag: version.map(|v| v.etag.clone()).unwrap_or_default(),
        operation: operation(task.kind).to_owned(),
        failure_reason: failure.reason.as_str().to_owned(),
        explanation: failure.explanation.clone(),
        fix: failure.fix.clone(),
        threshold_minutes: None,
        replication_time: None,
    }
}

/// Source versions carry one status per destination (replicas one per bucket their changes go
/// back to); delete markers carry none.
pub(super) fn record_status(world: &mut World, task: &Task, target: &Target, status: DestinationStatus) {
    if task.kind == TaskKind::DeleteMarker {
        return;
    }
    let Some(version) = world.buckets.get_mut(&task.source_bucket).and_then(|b| b.version_mut(&task.key, &task.version_id)) else {
        return;
    };
    if let Some(state) = &mut version.replication {
        state.destinations_mut().insert(target.destination_bucket.clone(), status);
    }
}

/// S3 assumes the replication role: it must exist and trust s3.amazonaws.com (§5).
fn assume_role(world: &World, role_arn: &str, source_bucket: &str, source_owner: &str) -> Result<Caller, Failure> {
    let on_behalf = ServiceAssumption {
        service: SERVICE,
        source_account: source_owner,
        source_arn: &access::bucket_arn(source_bucket),
        session: "s3-replication",
        purpose: "the replication role",
    };
    assume_service_role(world, role_arn, &on_behalf)
        .map_err(|(message, fix)| Failure::new(FailureReason::AssumeRoleNotPermitted, message).with_fix(fix))
}

/// Who assumes a role on the customer's behalf, with the `aws:SourceAccount` / `aws:SourceArn`
/// its trust policy can condition on.
pub(super) struct ServiceAssumption<'a> {
    pub service: &'a str,
    pub source_account: &'a str,
    pub source_arn: &'a str,
    pub session: &'a str,
    /// What the role is for, in messages.
    pub purpose: &'a str,
}

/// An AWS service assumes a role: it must exist and its trust policy must allow the service.
/// Errors are the explanation and the statement that fixes it.
pub(super) fn assume_service_role(
    world: &World,
    role_arn: &str,
    on: &ServiceAssumption<'_>,
) -> Result<Caller, (String, serde_json::Value)> {
    let service_name = on.service;
    let fix = json!({"Effect": "Allow", "Principal": {"Service": service_name}, "Action": "sts:AssumeRole"});
    let account = role_arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split(':').next()).unwrap_or("");
    let role = world.accounts.get(account).and_then(|a| a.iam.role_by_arn(role_arn));
    let Some(role) = role else {
        return Err((
            format!("{service_name} cannot assume {} {role_arn}: no such role exists in account {account}. Create the role (with a trust policy for {service_name}) or fix the role ARN.", on.purpose),
            fix,
        ));
    };
    let service = Caller::new(None, None, PrincipalKind::Service(service_name.to_owned()));
    let principal = service.principal_info();
    let mut ctx = xrepl_policy::Context::new();
    ctx.insert("aws:SourceAccount", on.source_account.to_owned());
    ctx.insert("aws:SourceArn", on.source_arn.to_owned());
    let request = xrepl_policy::Request { principal: &principal, action: "sts:AssumeRole", resource: role_arn, context: &ctx };
    if role.trust.parsed.evaluate(&request).decision != xrepl_policy::Decision::Allow {
        return Err((
            format!("the trust policy of role {role_arn} does not allow the service principal {service_name} to call sts:AssumeRole (for {} in account {}), so it cannot assume it.", on.source_arn, on.source_account),
            fix,
        ));
    }
    Ok(Caller::new(
        Some(account.to_owned()),
        Some(world.canonical_id(account)),
        PrincipalKind::AssumedRole { role_name: role.name.clone(), role_arn: role_arn.to_owned(), session_name: on.session.to_owned() },
    ))
}

/// A denied step as a failure: which side lacks what, and the statement that would fix it.
fn denied(reason: FailureReason, step: &str, denial: &Denial, role_arn: &str) -> Failure {
    let explanation = format!("S3 acting as role {role_arn} could not {step}: {}.", denial.explain());
    let identity_missing = matches!(denial.outcome, xrepl_policy::Authorization::ImplicitDeny { identity_allows: false, .. });
    // The statement covers the bucket's objects, not just the object that failed.
    let resource = object_wildcard(&denial.resource);
    let fix = if identity_missing || !denial.cross_account {
        json!({"Effect": "Allow", "Action": denial.action, "Resource": resource})
    } else {
        json!({"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": denial.action, "Resource": resource})
    };
    let place = if identity_missing || !denial.cross_account { "role's permission policy" } else { "destination bucket policy" };
    let failure = Failure::new(reason, format!("{explanation} Add the Fix statement to the {place}."));
    if matches!(denial.outcome, xrepl_policy::Authorization::ExplicitDeny { .. }) {
        return Failure::new(reason, format!("{explanation} Remove or narrow the Deny statement."));
    }
    failure.with_fix(fix)
}

/// `arn:aws:s3:::BUCKET/KEY` → `arn:aws:s3:::BUCKET/*`; a bucket ARN stays as it is.
fn object_wildcard(resource: &str) -> String {
    match resource.strip_prefix("arn:aws:s3:::").and_then(|r| r.split_once('/')) {
        Some((bucket, _key)) => format!("arn:aws:s3:::{bucket}/*"),
        None => resource.to_owned(),
    }
}

/// Checks one step of replication as the assumed role. S3 talks to S3 over TLS, so the role's
/// requests carry `aws:SecureTransport` = true: a bucket policy that denies non-TLS requests
/// does not stop replication.
struct RoleChecks<'a> {
    role: &'a Caller,
    role_arn: &'a str,
}

impl RoleChecks<'_> {
    fn authorize(&self, world: &World, action: &str, bucket: &str, key: &str) -> Result<(), Option<Box<Denial>>> {
        let Some(b) = world.buckets.get(bucket) else { return Err(None) };
        authz::authorize(world, self.role, action, b, Some(key), &[("aws:SecureTransport", "true".to_owned())]).map_err(Some)
    }

    fn check(&self, world: &World, action: &str, bucket: &str, key: &str, reason: FailureReason, step: &str) -> Result<(), Failure> {
        self.authorize(world, action, bucket, key).map_err(|d| match d {
            Some(d) => denied(reason, step, &d, self.role_arn),
            None => Failure::new(FailureReason::DstBucketNotFound, format!("bucket {bucket} does not exist")),
        })
    }

    /// Reading tags is optional: "If Amazon S3 doesn't have these permissions, it replicates the
    /// objects, but not the object tags" (User Guide `setting-repl-config-perm-overview`).
    fn may_read_tags(&self, world: &World, src: &str, key: &str) -> bool {
        self.authorize(world, "s3:GetObjectVersionTagging", src, key).is_ok()
    }

    /// "Permissions for the s3:ReplicateObject action on the destination bucket also allow
    /// replication of object tags" (same page): only an explicit Deny of s3:ReplicateTags, or
    /// neither action allowed, stops them.
    fn check_write_tags(&self, world: &World, dst: &str, key: &str) -> Result<(), Failure> {
        let step = "write the replica's tags";
        match self.authorize(world, "s3:ReplicateTags", dst, key) {
            Ok(()) => Ok(()),
            Err(Some(d)) if matches!(d.outcome, Authorization::ExplicitDeny { .. }) => {
                Err(denied(FailureReason::DstPutTaggingNotPermitted, step, &d, self.role_arn))
            }
            Err(_) => self.check(world, "s3:ReplicateObject", dst, key, FailureReason::DstPutTaggingNotPermitted, step),
        }
    }
}

fn kms_failure(reason: FailureReason, message: String) -> Failure {
    Failure::new(reason, message)
}

/// The configuration as it is now: S3 reads it when it replicates, not only when the write
/// happened, so a configuration deleted while work is queued fails that work.
pub(super) fn current_configuration(world: &World, task: &Task, target: &Target) -> Result<(String, s3s::dto::ReplicationRule), Failure> {
    let config = world.buckets.get(&task.source_bucket).and_then(|b| b.replication.as_ref()).ok_or_else(|| {
        Failure::new(
            FailureReason::SrcBucketReplicationConfigMissing,
            format!("the replication configuration of source bucket {} was deleted before S3 replicated this change.", task.source_bucket),
        )
    })?;
    let rule =
        config.rules.iter().find(|r| r.id.as_deref() == Some(target.rule_id.as_str())).cloned().unwrap_or_else(|| target.rule.clone());
    Ok((config.role.clone(), rule))
}

/// One task for one destination: what S3 checks before it copies (the source version, the
/// configuration as it is now, the role, the destination bucket), then the change itself.
fn replicate(world: &mut World, task: &Task, target: &Target) -> Result<(), Failure> {
    // The version may have been deleted for good before the worker reached it: nothing to copy.
    let Some(attempt) = Attempt::prepare(world, task, target)? else { return Ok(()) };
    match task.kind {
        TaskKind::Object => replicate_object(world, attempt),
        TaskKind::DeleteMarker => replicate_delete_marker(world, &attempt),
        TaskKind::Tags => replicate_tags(world, &attempt),
        TaskKind::Acl => replicate_acl(world, &attempt),
    }
}

/// What one replication of one change to one destination works with, read before any write.
struct Attempt<'t> {
    src: &'t str,
    key: &'t str,
    dst: &'t str,
    version_id: &'t str,
    /// The source version as it is now.
    version: ObjectVersion,
    source_object_lock: bool,
    role: Caller,
    role_arn: String,
    destination: s3s::dto::Destination,
    owner_override: bool,
    dest_acls: bool,
    dest_owner: String,
    dest_object_lock: bool,
}

impl<'t> Attempt<'t> {
    /// The source version (None when it is gone), the configuration as it is now, the assumed
    /// role and the destination bucket, which must exist and have versioning Enabled.
    fn prepare(world: &World, task: &'t Task, target: &'t Target) -> Result<Option<Self>, Failure> {
        let Some(source_bucket) = world.buckets.get(&task.source_bucket) else { return Ok(None) };
        let Some(version) = source_bucket.version(&task.key, &task.version_id).cloned() else { return Ok(None) };
        let source_owner = source_bucket.owner_account.clone();
        let source_object_lock = source_bucket.object_lock;
        let (role_arn, rule) = current_configuration(world, task, target)?;
        let role = assume_role(world, &role_arn, &task.source_bucket, &source_owner)?;
        let dst = target.destination_bucket.as_str();
        let Some(dest_bucket) = world.buckets.get(dst) else {
            return Err(Failure::new(FailureReason::DstBucketNotFound, format!("the destination bucket {dst} does not exist (any more).")));
        };
        if dest_bucket.versioning != Versioning::Enabled {
            return Err(Failure::new(
                FailureReason::DstBucketUnversioned,
                format!("versioning on destination bucket {dst} is not Enabled; replication needs it Enabled on both buckets."),
            ));
        }
        Ok(Some(Attempt {
            src: &task.source_bucket,
            key: &task.key,
            dst,
            version_id: &task.version_id,
            version,
            source_object_lock,
            role,
            role_arn,
            owner_override: rule.destination.access_control_translation.is_some(),
            destination: rule.destination,
            dest_acls: dest_bucket.acls_enabled(),
            dest_owner: dest_bucket.owner_account.clone(),
            dest_object_lock: dest_bucket.object_lock,
        }))
    }

    fn checks(&self) -> RoleChecks<'_> {
        RoleChecks { role: &self.role, role_arn: &self.role_arn }
    }

    /// Who owns the replica: the destination bucket owner under owner override or when the
    /// destination ignores ACLs, else the source object's owner.
    fn replica_owner(&self) -> &str {
        if self.owner_override || !self.dest_acls {
            &self.dest_owner
        } else {
            &self.version.owner_account
        }
    }
}

/// A new object version: every permission S3 needs, the replica's encryption, then the replica
/// with its owner, ACL, tags, retention and storage class.
fn replicate_object(world: &mut World, a: Attempt<'_>) -> Result<(), Failure> {
    let tags = check_object_permissions(world, &a)?;
    let sse = replica_encryption(world, &a)?;
    let (owner, acl) = if a.owner_override || !a.dest_acls {
        (a.dest_owner.clone(), vec![Grant::full_control(&world.canonical_id(&a.dest_owner))])
    } else {
        (a.version.owner_account.clone(), a.version.acl.clone())
    };
    // A replica is a new object version in the destination: without a retention of its own it
    // gets the destination's default retention, like any other (User Guide
    // `replication-what-is-isnot-replicated`, Object Lock).
    let retention = a.version.retention.clone().or_else(|| world.buckets.get(a.dst).and_then(|b| b.default_retention(crate::state::now())));
    let replica = ObjectVersion {
        owner_account: owner,
        acl,
        tags,
        retention,
        storage_class: a.destination.storage_class.as_ref().map_or_else(|| a.version.storage_class.clone(), |c| c.as_str().to_owned()),
        sse,
        replication: Some(ReplicationState::replica(a.owner_override)),
        // The attempt's copy of the source version becomes the replica: no second clone.
        ..a.version
    };
    if let Some(b) = world.buckets.get_mut(a.dst) {
        b.put_replica(replica);
    }
    Ok(())
}

/// The reads and writes an object replication needs, in S3's order; returns the tags to carry
/// (none when the role may not read them).
fn check_object_permissions(world: &World, a: &Attempt<'_>) -> Result<Vec<(String, String)>, Failure> {
    let (checks, src, key, dst) = (a.checks(), a.src, a.key, a.dst);
    let version = &a.version;
    checks.check(
        world,
        "s3:GetObjectVersionForReplication",
        src,
        key,
        FailureReason::SrcGetObjectNotPermitted,
        "read the source object version",
    )?;
    let tags = if version.tags.is_empty() || !checks.may_read_tags(world, src, key) { Vec::new() } else { version.tags.clone() };
    if !a.owner_override && a.dest_acls {
        checks.check(world, "s3:GetObjectVersionAcl", src, key, FailureReason::SrcGetAclNotPermitted, "read the source object's ACL")?;
    }
    // Object Lock is a property of the bucket: every object of a locked source needs a
    // locked destination (User Guide `replication-failure-codes`).
    if (a.source_object_lock || version.retention.is_some() || version.legal_hold.is_some()) && !a.dest_object_lock {
        return Err(Failure::new(
            FailureReason::DstBucketObjectLockConfigMissing,
            format!("source bucket {src} has Object Lock enabled but destination bucket {dst} has no Object Lock configuration; to replicate from a bucket with Object Lock the destination must have it too."),
        ));
    }
    if version.retention.is_some() {
        checks.check(
            world,
            "s3:GetObjectRetention",
            src,
            key,
            FailureReason::SrcGetObjectNotPermitted,
            "read the source object's retention",
        )?;
    }
    if version.legal_hold.is_some() {
        checks.check(
            world,
            "s3:GetObjectLegalHold",
            src,
            key,
            FailureReason::SrcGetObjectNotPermitted,
            "read the source object's legal hold",
        )?;
    }
    checks.check(world, "s3:ReplicateObject", dst, key, FailureReason::DstPutObjectNotPermitted, "write the replica")?;
    if !tags.is_empty() {
        checks.check_write_tags(world, dst, key)?;
    }
    if a.owner_override {
        checks.check(
            world,
            "s3:ObjectOwnerOverrideToBucketOwner",
            dst,
            key,
            FailureReason::DstPutObjectNotPermitted,
            "change the replica's owner to the destination bucket owner",
        )?;
    }
    Ok(tags)
}

/// The replica's encryption: an SSE-KMS source is decrypted with its key and the replica is
/// encrypted with the rule's replica key, both as the role; SSE-S3 and SSE-C objects replicate
/// as they are (SSE-C keeps the key's MD5). Mutable: the destination account's AWS managed key is
/// created on first use, as KMS does.
fn replica_encryption(world: &mut World, a: &Attempt<'_>) -> Result<Option<Sse>, Failure> {
    use crate::kms::KeyUseError;
    let Some(Sse::Kms { key_arn }) = &a.version.sse else { return Ok(a.version.sse.clone()) };
    let (role, role_arn) = (&a.role, a.role_arn.as_str());
    crate::kms::authorize_s3_use(world, role, key_arn, "kms:Decrypt", &access::object_arn(a.src, a.key)).map_err(|e| {
        let reason = match e {
            KeyUseError::InvalidState(_) => FailureReason::SrcKmsKeyInvalidState,
            KeyUseError::NotFound(_) | KeyUseError::Denied(_) => FailureReason::SrcGetObjectNotPermitted,
        };
        kms_failure(reason, format!("S3 acting as role {role_arn} could not decrypt the source object: {e}"))
    })?;
    let replica_key = a.destination.encryption_configuration.as_ref().and_then(|e| e.replica_kms_key_id.clone()).unwrap_or_default();
    let replica_arn = crate::kms::key_arn_for_s3(world, &a.dest_owner, Some(&replica_key))
        .ok_or_else(|| kms_failure(FailureReason::DstKmsKeyNotFound, format!("the replica KMS key {replica_key} does not exist.")))?;
    crate::kms::authorize_s3_use(world, role, &replica_arn, "kms:Encrypt", &access::object_arn(a.dst, a.key)).map_err(|e| {
        let reason = match e {
            KeyUseError::InvalidState(_) => FailureReason::DstKmsKeyInvalidState,
            KeyUseError::NotFound(_) => FailureReason::DstKmsKeyNotFound,
            KeyUseError::Denied(_) => FailureReason::DstPutObjectNotPermitted,
        };
        kms_failure(reason, format!("S3 acting as role {role_arn} could not encrypt the replica: {e}"))
    })?;
    Ok(Some(Sse::Kms { key_arn: replica_arn }))
}

fn replicate_delete_marker(world: &mut World, a: &Attempt<'_>) -> Result<(), Failure> {
    a.checks().check(world, "s3:ReplicateDelete", a.dst, a.key, FailureReason::DstDelObjNotPermitted, "replicate the delete marker")?;
    let marker = delete_marker(a.key, a.version_id, a.replica_owner(), a.version.last_modified);
    if let Some(b) = world.buckets.get_mut(a.dst) {
        b.put_replica(marker);
    }
    Ok(())
}

fn replicate_tags(world: &mut World, a: &Attempt<'_>) -> Result<(), Failure> {
    let checks = a.checks();
    // Without the tag read, S3 replicates without tags: the update is simply not carried.
    if !checks.may_read_tags(world, a.src, a.key) {
        return Ok(());
    }
    checks.check_write_tags(world, a.dst, a.key)?;
    if let Some(v) = world.buckets.get_mut(a.dst).and_then(|b| b.version_mut(a.key, a.version_id)) {
        v.tags = a.version.tags.clone();
    }
    Ok(())
}

fn replicate_acl(world: &mut World, a: &Attempt<'_>) -> Result<(), Failure> {
    // Replicas made under owner override never receive ACL updates, whatever the rule
    // says now; those made without it keep receiving them (User Guide `replication-change-owner`).
    let made_with_override = world
        .buckets
        .get(a.dst)
        .and_then(|b| b.version(a.key, a.version_id))
        .and_then(|v| v.replication.as_ref())
        .is_some_and(|r| matches!(r, ReplicationState::Replica { owner_override: true, .. }));
    if made_with_override {
        return Ok(());
    }
    let checks = a.checks();
    checks.check(world, "s3:GetObjectVersionAcl", a.src, a.key, FailureReason::SrcGetAclNotPermitted, "read the source object's ACL")?;
    checks.check(world, "s3:ReplicateObject", a.dst, a.key, FailureReason::DstPutAclNotPermitted, "write the replica's ACL")?;
    if a.dest_acls {
        if let Some(v) = world.buckets.get_mut(a.dst).and_then(|b| b.version_mut(a.key, a.version_id)) {
            v.acl = a.version.acl.clone();
        }
    }
    Ok(())
}
