//! The engine's side of S3 Batch Replication (semantics doc §27, §50): the job role as S3 Batch
//! Operations assumes it, the role's checks, the manifest S3 generates from a bucket, and one
//! replication task per manifest entry, queued into the same engine as live replication (same
//! checks, failure reasons, ownership, KMS and version ids).

use bytes::Bytes;
use md5::Digest as _;
use time::OffsetDateTime;

use super::engine::{assume_service_role, ServiceAssumption};
use super::{plan, Task, TaskKind};
use crate::access::authz;
use crate::identity::Caller;
use crate::state::batch::{ManifestGenerator, ReplicationStatusFilter};
use crate::state::s3::{delete_marker, is_archived_class, DestinationStatus, Grant, ObjectVersion, ReplicationState, Sse};
use crate::state::World;

/// The service principal that assumes a batch job's role.
pub const BATCH_SERVICE: &str = "batchoperations.s3.amazonaws.com";

/// Why one manifest entry could not be queued: (error code, HTTP status, message).
pub type Refusal = (String, u16, String);

fn refusal(code: &str, status: u16, message: impl Into<String>) -> Refusal {
    (code.to_owned(), status, message.into())
}

/// S3 Batch Operations assumes the job role for the job `job_arn` of `account`.
pub fn assume_job_role(world: &World, role_arn: &str, account: &str, job_arn: &str) -> Result<Caller, String> {
    let on_behalf = ServiceAssumption {
        service: BATCH_SERVICE,
        source_account: account,
        source_arn: job_arn,
        session: "s3-batch-operations",
        purpose: "the job role",
    };
    assume_service_role(world, role_arn, &on_behalf).map_err(|(message, fix)| format!("{message} Add to its trust policy: {fix}"))
}

/// The role may do `action` on the bucket (or one of its objects); else why not.
pub fn role_may(world: &World, role: &Caller, action: &str, bucket: &str, key: Option<&str>) -> Result<(), String> {
    let Some(b) = world.buckets.get(bucket) else { return Err(format!("bucket {bucket} does not exist")) };
    authz::authorize(world, role, action, b, key, &[("aws:SecureTransport", "true".to_owned())]).map_err(|d| d.explain())
}

/// The caller may pass `role_arn` to S3 Batch Operations: a role of the caller's own account
/// (iam:PassRole cannot cross accounts, §24), allowed by the caller's identity policies unless
/// the caller is the account root.
pub fn may_pass_role(world: &World, caller: &Caller, role_arn: &str) -> bool {
    let role_account = role_arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split(':').next());
    if role_account.is_none() || role_account != caller.account.as_deref() {
        return false;
    }
    identity_allows(world, caller, "iam:PassRole", role_arn)
}

/// The caller's identity policies allow `action` on `resource` (the account root always may).
/// The condition keys are S3's, not IAM's: the request is an S3 Control one (CreateJob's
/// iam:PassRole too).
pub fn identity_allows(world: &World, caller: &Caller, action: &str, resource: &str) -> bool {
    let context = || authz::base_context(world, caller, caller.account.as_deref().unwrap_or_default());
    crate::iam::identity_decision(world, caller, action, resource, context).is_ok()
}

fn status_of(version: &ObjectVersion) -> Option<ReplicationStatusFilter> {
    match &version.replication {
        None => Some(ReplicationStatusFilter::None),
        Some(ReplicationState::Replica { .. }) => Some(ReplicationStatusFilter::Replica),
        Some(state @ ReplicationState::Source { .. }) => match state.header() {
            "FAILED" => Some(ReplicationStatusFilter::Failed),
            "COMPLETED" => Some(ReplicationStatusFilter::Completed),
            // PENDING: live replication is still on it.
            _ => None,
        },
    }
}

/// The entries of the manifest S3 generates from the source bucket: every object version (not
/// delete markers) the filter selects, oldest first per key.
pub fn generate_manifest(world: &World, generator: &ManifestGenerator) -> Vec<(String, String, Option<String>)> {
    let Some(bucket) = world.buckets.get(&generator.source_bucket) else { return Vec::new() };
    let config = bucket.replication.as_ref();
    let mut entries = Vec::new();
    for (key, versions) in &bucket.objects {
        let prefix_ok = generator.prefixes.is_empty() || generator.prefixes.iter().any(|p| key.starts_with(p.as_str()));
        let suffix_ok = generator.suffixes.is_empty() || generator.suffixes.iter().any(|s| key.ends_with(s.as_str()));
        if !prefix_ok || !suffix_ok {
            continue;
        }
        for version in versions.iter() {
            if version.delete_marker {
                continue;
            }
            let status_ok = generator.statuses.is_empty() || status_of(version).is_some_and(|s| generator.statuses.contains(&s));
            let after_ok = generator.created_after.is_none_or(|t| version.last_modified > t);
            let before_ok = generator.created_before.is_none_or(|t| version.last_modified < t);
            let eligible = !generator.eligible_for_replication || config.and_then(|c| targets_for(c, version)).is_some();
            if status_ok && after_ok && before_ok && eligible {
                entries.push((generator.source_bucket.clone(), key.clone(), Some(version.version_id.clone())));
            }
        }
    }
    entries
}

/// The destinations the bucket's replication configuration `config` sends `version` to, if any.
fn targets_for(config: &s3s::dto::ReplicationConfiguration, version: &ObjectVersion) -> Option<Vec<super::Target>> {
    let kms = matches!(version.sse, Some(Sse::Kms { .. }));
    let targets = plan::select_targets(config, &version.key, &version.tags, kms, version.delete_marker);
    (!targets.is_empty()).then_some(targets)
}

/// Plans the replication of one manifest entry as the job role asks it (`s3:InitiateReplication`
/// on the object), marking the version `PENDING` for each destination as live replication does.
/// The task goes into the engine's queue; the caller queues it once the world lock is released.
pub fn plan_entry(world: &mut World, role: &Caller, bucket: &str, key: &str, version_id: Option<&str>) -> Result<Task, Refusal> {
    let Some(source) = world.buckets.get(bucket) else {
        return Err(refusal("NoSuchBucket", 404, format!("The specified bucket {bucket} does not exist")));
    };
    let Some(version) = source.addressed(key, version_id).cloned() else {
        return Err(refusal(
            "NoSuchKey",
            404,
            format!("The specified key {key} (version {}) does not exist", version_id.unwrap_or("latest")),
        ));
    };
    role_may(world, role, "s3:InitiateReplication", bucket, Some(key)).map_err(|why| refusal("AccessDenied", 403, why))?;
    let Some(config) = &source.replication else {
        return Err(refusal(
            "SrcBucketReplicationConfigMissing",
            400,
            format!("source bucket {bucket} has no replication configuration; Batch Replication replicates with the bucket's rules."),
        ));
    };
    if is_archived_class(&version.storage_class) {
        return Err(refusal(
            "InvalidObjectState",
            403,
            format!("{key} is in the {} storage class, which replication does not copy.", version.storage_class),
        ));
    }
    let Some(targets) = targets_for(config, &version) else {
        return Err(refusal(
            "ObjectNotEligibleForReplication",
            400,
            format!(
                "no enabled replication rule of bucket {bucket} matches {key} (prefix, tags, SSE-KMS opt-in or delete marker replication)."
            ),
        ));
    };
    let kind = if version.delete_marker { TaskKind::DeleteMarker } else { TaskKind::Object };
    if let Some(v) = world.buckets.get_mut(bucket).and_then(|b| b.version_mut(key, &version.version_id)) {
        if !v.delete_marker {
            let state = v.replication.get_or_insert_with(|| ReplicationState::Source { destinations: Default::default() });
            for t in &targets {
                state.destinations_mut().insert(t.destination_bucket.clone(), DestinationStatus::Pending);
            }
        }
    }
    Ok(Task {
        id: 0,
        source_bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: version.version_id.clone(),
        kind,
        targets,
        requested: crate::state::now(),
        batch: true,
    })
}

/// Reads a manifest object's bytes and ETag (the latest version, or the one named).
pub fn read_object(world: &World, bucket: &str, key: &str, version_id: Option<&str>) -> Option<(Bytes, String)> {
    let version = world.buckets.get(bucket)?.addressed(key, version_id)?;
    if version.delete_marker {
        return None;
    }
    Some((world.blobs.get(&version.data), version.etag.clone()))
}

/// Writes an object as S3 Batch Operations does (a manifest or a report), owned by the bucket
/// owner; returns its ETag and the live replication tasks the write starts.
pub fn write_object(world: &mut World, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) -> Option<(String, Vec<Task>)> {
    let etag = format!("{:x}", md5::Md5::digest(&body));
    let blob = world.blobs.put(Bytes::from(body));
    let owner_canonical = world.canonical_id(&world.buckets.get(bucket)?.owner_account);
    let b = world.buckets.get_mut(bucket)?;
    let version_id = b.next_version_id();
    let version = ObjectVersion {
        delete_marker: false,
        data: blob,
        etag: etag.clone(),
        headers: crate::state::s3::ContentHeaders { content_type: Some(content_type.to_owned()), ..Default::default() },
        acl: vec![Grant::full_control(&owner_canonical)],
        ..delete_marker(key, &version_id, &b.owner_account, crate::state::now())
    };
    b.put_version(version);
    let tasks = plan::on_change(world, bucket, key, &version_id, TaskKind::Object);
    Some((etag, tasks))
}

/// Parses an S3 Control timestamp (ISO 8601).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339).ok()
}
