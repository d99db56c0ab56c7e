//! Processing one task: the steps S3 takes for each destination, each checked like AWS checks it.

use serde_json::json;

use super::failure::{Failure, FailureEvent, FailureReason};
use super::{Target, Task, TaskKind};
use crate::identity::{Caller, PrincipalKind};
use crate::s3::authz::{self, Denial};
use crate::server::Shared;
use crate::state::s3::{delete_marker, DestinationStatus, Grant, ObjectVersion, ReplicationState, Sse, Versioning};
use crate::state::{iso8601, now, World};

const SERVICE: &str = "s3.amazonaws.com";

/// Runs a task; returns what must wait for an unavailable destination, and the failure events.
pub fn process(shared: &Shared, task: Task) -> (Option<Task>, Vec<FailureEvent>) {
    let mut world = shared.world();
    let (mut parked, mut events) = (Vec::new(), Vec::new());
    for target in &task.targets {
        if shared.replication.is_unavailable(&target.destination_bucket) {
            parked.push(target.clone());
            continue;
        }
        let status = match replicate(&mut world, &task, target) {
            Ok(()) => DestinationStatus::Completed,
            Err(failure) => {
                events.push(event(&task, target, &failure));
                DestinationStatus::Failed { reason: failure.reason.as_str().to_owned() }
            }
        };
        record_status(&mut world, &task, target, status);
    }
    let parked = (!parked.is_empty()).then_some(Task { targets: parked, ..task });
    (parked, events)
}

fn operation(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Object => "PutObject",
        TaskKind::DeleteMarker => "DeleteMarker",
        TaskKind::Tags => "PutObjectTagging",
        TaskKind::Acl => "PutObjectAcl",
    }
}

pub(super) fn event(task: &Task, target: &Target, failure: &Failure) -> FailureEvent {
    FailureEvent {
        event_name: "s3:Replication:OperationFailedReplication".to_owned(),
        event_time: iso8601(now()),
        rule_id: target.rule_id.clone(),
        source_bucket: task.source_bucket.clone(),
        destination_bucket: target.destination_bucket.clone(),
        key: task.key.clone(),
        version_id: task.version_id.clone(),
        operation: operation(task.kind).to_owned(),
        failure_reason: failure.reason.as_str().to_owned(),
        explanation: failure.explanation.clone(),
        fix: failure.fix.clone(),
    }
}

/// Source versions carry one status per destination; markers and replicas carry none.
pub(super) fn record_status(world: &mut World, task: &Task, target: &Target, status: DestinationStatus) {
    if task.kind == TaskKind::DeleteMarker {
        return;
    }
    let Some(version) = world.buckets.get_mut(&task.source_bucket).and_then(|b| b.version_mut(&task.key, &task.version_id)) else {
        return;
    };
    if let Some(ReplicationState::Source { destinations }) = &mut version.replication {
        destinations.insert(target.destination_bucket.clone(), status);
    }
}

/// S3 assumes the replication role: it must exist and trust s3.amazonaws.com (§5).
fn assume_role(world: &World, role_arn: &str, source_bucket: &str, source_owner: &str) -> Result<Caller, Failure> {
    let account = role_arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split(':').next()).unwrap_or("");
    let role = world.accounts.get(account).and_then(|a| a.iam.role_by_arn(role_arn));
    let Some(role) = role else {
        return Err(Failure::new(
            FailureReason::AssumeRoleNotPermitted,
            format!("S3 cannot assume the replication role {role_arn}: no such role exists in account {account}. Create the role (with a trust policy for {SERVICE}) or fix the Role in the replication configuration."),
        ));
    };
    let service = Caller { account: None, canonical_id: None, kind: PrincipalKind::Service(SERVICE.to_owned()) };
    let principal = service.principal_info();
    let mut ctx = xrepl_policy::Context::new();
    ctx.insert("aws:SourceAccount", source_owner.to_owned());
    ctx.insert("aws:SourceArn", authz::bucket_arn(source_bucket));
    let request = xrepl_policy::Request { principal: &principal, action: "sts:AssumeRole", resource: role_arn, context: &ctx };
    if role.trust.parsed.evaluate(&request).decision != xrepl_policy::Decision::Allow {
        return Err(Failure::new(
            FailureReason::AssumeRoleNotPermitted,
            format!("the trust policy of role {role_arn} does not allow the service principal {SERVICE} to call sts:AssumeRole (for source bucket {source_bucket} in account {source_owner}), so S3 cannot assume it."),
        )
        .with_fix(json!({"Effect": "Allow", "Principal": {"Service": SERVICE}, "Action": "sts:AssumeRole"})));
    }
    Ok(Caller {
        account: Some(account.to_owned()),
        canonical_id: Some(world.canonical_id(account)),
        kind: PrincipalKind::AssumedRole {
            role_name: role.name.clone(),
            role_arn: role_arn.to_owned(),
            session_name: "s3-replication".to_owned(),
        },
    })
}

/// A denied step as a failure: which side lacks what, and the statement that would fix it.
fn denied(reason: FailureReason, step: &str, denial: &Denial, role_arn: &str) -> Failure {
    let explanation = format!("S3 acting as role {role_arn} could not {step}: {}.", denial.explain());
    let identity_missing = matches!(denial.outcome, xrepl_policy::Authorization::ImplicitDeny { identity_allows: false, .. });
    let fix = if identity_missing || !denial.cross_account {
        json!({"Effect": "Allow", "Action": denial.action, "Resource": denial.resource})
    } else {
        json!({"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": denial.action, "Resource": denial.resource})
    };
    let place = if identity_missing || !denial.cross_account { "role's permission policy" } else { "destination bucket policy" };
    let failure = Failure::new(reason, format!("{explanation} Add to the {place}:"));
    if matches!(denial.outcome, xrepl_policy::Authorization::ExplicitDeny { .. }) {
        return Failure::new(reason, format!("{explanation} Remove or narrow the Deny statement."));
    }
    failure.with_fix(fix)
}

/// Checks one step of replication as the assumed role.
struct RoleChecks<'a> {
    role: &'a Caller,
    role_arn: &'a str,
}

impl RoleChecks<'_> {
    fn check(&self, world: &World, action: &str, bucket: &str, key: &str, reason: FailureReason, step: &str) -> Result<(), Failure> {
        let Some(b) = world.buckets.get(bucket) else {
            return Err(Failure::new(FailureReason::DstBucketNotFound, format!("bucket {bucket} does not exist")));
        };
        authz::authorize(world, self.role, action, b, Some(key), &[]).map_err(|d| denied(reason, step, &d, self.role_arn))
    }
}

fn kms_failure(reason: FailureReason, message: String) -> Failure {
    Failure::new(reason, message)
}

fn replicate(world: &mut World, task: &Task, target: &Target) -> Result<(), Failure> {
    let Some(source_bucket) = world.buckets.get(&task.source_bucket) else { return Ok(()) };
    // The version may have been deleted for good before the worker reached it: nothing to copy.
    let Some(version) = source_bucket.version(&task.key, &task.version_id).cloned() else { return Ok(()) };
    let source_owner = source_bucket.owner_account.clone();
    let role_arn = target.role_arn.as_str();
    let role = assume_role(world, role_arn, &task.source_bucket, &source_owner)?;
    let checks = RoleChecks { role: &role, role_arn };
    let (src, key, dst) = (task.source_bucket.as_str(), task.key.as_str(), target.destination_bucket.as_str());
    let destination = &target.rule.destination;
    let owner_override = destination.access_control_translation.is_some();

    let Some(dest_bucket) = world.buckets.get(dst) else {
        return Err(Failure::new(FailureReason::DstBucketNotFound, format!("the destination bucket {dst} does not exist (any more).")));
    };
    if dest_bucket.versioning != Versioning::Enabled {
        return Err(Failure::new(
            FailureReason::DstBucketUnversioned,
            format!("versioning on destination bucket {dst} is not Enabled; replication needs it Enabled on both buckets."),
        ));
    }
    let dest_acls = dest_bucket.acls_enabled();
    let dest_owner = dest_bucket.owner_account.clone();
    let dest_object_lock = dest_bucket.object_lock;

    match task.kind {
        TaskKind::Object => {
            checks.check(
                world,
                "s3:GetObjectVersionForReplication",
                src,
                key,
                FailureReason::SrcGetObjectNotPermitted,
                "read the source object version",
            )?;
            if !version.tags.is_empty() {
                checks.check(
                    world,
                    "s3:GetObjectVersionTagging",
                    src,
                    key,
                    FailureReason::SrcGetTaggingNotPermitted,
                    "read the source object's tags",
                )?;
            }
            if !owner_override && dest_acls {
                checks.check(
                    world,
                    "s3:GetObjectVersionAcl",
                    src,
                    key,
                    FailureReason::SrcGetAclNotPermitted,
                    "read the source object's ACL",
                )?;
            }
            if (version.retention.is_some() || version.legal_hold.is_some()) && !dest_object_lock {
                return Err(Failure::new(
                    FailureReason::DstBucketObjectLockConfigMissing,
                    format!("the source object has Object Lock settings but destination bucket {dst} has no Object Lock configuration."),
                ));
            }
            checks.check(world, "s3:ReplicateObject", dst, key, FailureReason::DstPutObjectNotPermitted, "write the replica")?;
            if !version.tags.is_empty() {
                checks.check(world, "s3:ReplicateTags", dst, key, FailureReason::DstPutTaggingNotPermitted, "write the replica's tags")?;
            }
            if owner_override {
                checks.check(
                    world,
                    "s3:ObjectOwnerOverrideToBucketOwner",
                    dst,
                    key,
                    FailureReason::DstPutObjectNotPermitted,
                    "change the replica's owner to the destination bucket owner",
                )?;
            }
            let replica_sse = match &version.sse {
                Some(Sse::Kms { key_arn }) => {
                    use crate::kms::KeyUseError;
                    crate::kms::authorize_s3_use(world, &role, key_arn, "kms:Decrypt", &authz::object_arn(src, key)).map_err(|e| {
                        let reason = match e {
                            KeyUseError::InvalidState(_) => FailureReason::SrcKmsKeyInvalidState,
                            KeyUseError::NotFound(_) | KeyUseError::Denied(_) => FailureReason::SrcGetObjectNotPermitted,
                        };
                        kms_failure(reason, format!("S3 acting as role {role_arn} could not decrypt the source object: {e}"))
                    })?;
                    let replica_key =
                        destination.encryption_configuration.as_ref().and_then(|e| e.replica_kms_key_id.clone()).unwrap_or_default();
                    let replica_arn = crate::kms::key_arn_for_s3(world, &dest_owner, Some(&replica_key)).ok_or_else(|| {
                        kms_failure(FailureReason::DstKmsKeyNotFound, format!("the replica KMS key {replica_key} does not exist."))
                    })?;
                    crate::kms::authorize_s3_use(world, &role, &replica_arn, "kms:Encrypt", &authz::object_arn(dst, key)).map_err(|e| {
                        let reason = match e {
                            KeyUseError::InvalidState(_) => FailureReason::DstKmsKeyInvalidState,
                            KeyUseError::NotFound(_) => FailureReason::DstKmsKeyNotFound,
                            KeyUseError::Denied(_) => FailureReason::DstPutObjectNotPermitted,
                        };
                        kms_failure(reason, format!("S3 acting as role {role_arn} could not encrypt the replica: {e}"))
                    })?;
                    Some(Sse::Kms { key_arn: replica_arn })
                }
                other => other.clone(),
            };
            let (owner, acl) = if owner_override || !dest_acls {
                (dest_owner.clone(), vec![Grant::full_control(&world.canonical_id(&dest_owner))])
            } else {
                (version.owner_account.clone(), version.acl.clone())
            };
            let replica = ObjectVersion {
                owner_account: owner,
                acl,
                storage_class: destination.storage_class.as_ref().map_or_else(|| version.storage_class.clone(), |c| c.as_str().to_owned()),
                sse: replica_sse,
                replication: Some(ReplicationState::Replica),
                ..version
            };
            if let Some(b) = world.buckets.get_mut(dst) {
                b.put_replica(replica);
            }
        }
        TaskKind::DeleteMarker => {
            checks.check(world, "s3:ReplicateDelete", dst, key, FailureReason::DstDelObjNotPermitted, "replicate the delete marker")?;
            let owner = if owner_override || !dest_acls { dest_owner } else { version.owner_account.clone() };
            let marker = delete_marker(key, &task.version_id, &owner, version.last_modified);
            if let Some(b) = world.buckets.get_mut(dst) {
                b.put_replica(marker);
            }
        }
        TaskKind::Tags => {
            checks.check(
                world,
                "s3:GetObjectVersionTagging",
                src,
                key,
                FailureReason::SrcGetTaggingNotPermitted,
                "read the source object's tags",
            )?;
            checks.check(world, "s3:ReplicateTags", dst, key, FailureReason::DstPutTaggingNotPermitted, "write the replica's tags")?;
            if let Some(v) = world.buckets.get_mut(dst).and_then(|b| b.version_mut(key, &task.version_id)) {
                v.tags = version.tags.clone();
            }
        }
        TaskKind::Acl => {
            checks.check(
                world,
                "s3:GetObjectVersionAcl",
                src,
                key,
                FailureReason::SrcGetAclNotPermitted,
                "read the source object's ACL",
            )?;
            checks.check(world, "s3:ReplicateObject", dst, key, FailureReason::DstPutAclNotPermitted, "write the replica's ACL")?;
            if dest_acls {
                if let Some(v) = world.buckets.get_mut(dst).and_then(|b| b.version_mut(key, &task.version_id)) {
                    v.acl = version.acl.clone();
                }
            }
        }
    }
    Ok(())
}
