//! Bucket configuration: versioning, bucket policy, ownership controls, tagging and the
//! replication configuration with PutBucketReplication's validation (semantics doc §8).

use std::collections::BTreeSet;
use std::sync::Arc;

use s3s::dto;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use xrepl_policy::{DocumentKind, Policy, PolicyErrorKind};

use super::api::{authorize, bucket, bucket_mut, S3Api};
use super::validate;
use crate::identity::Caller;
use crate::state::iam::StoredPolicy;
use crate::state::s3::{Bucket, Grant, Versioning, OWNERSHIP_ENFORCED, OWNERSHIP_PREFERRED, OWNERSHIP_WRITER};
use crate::state::{random_id, World};

const BUCKET_POLICY_MAX_BYTES: usize = 20 * 1024;

pub fn put_bucket_versioning(
    api: &S3Api,
    req: S3Request<dto::PutBucketVersioningInput>,
) -> S3Result<S3Response<dto::PutBucketVersioningOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let status = match input.versioning_configuration.status.as_ref().map(dto::BucketVersioningStatus::as_str) {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        // As recorded (`test_bucket_versioning_crud` → `put-versioning-empty`): an empty document. One that
        // names only MfaDelete stays MalformedXML (no recording; the earlier choice).
        None if input.versioning_configuration.mfa_delete.is_none() => {
            let mut err = S3Error::with_message(
                S3ErrorCode::Custom("IllegalVersioningConfigurationException".into()),
                "The Versioning element must be specified",
            );
            err.set_status_code(http::StatusCode::BAD_REQUEST);
            return Err(err);
        }
        _ => {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ))
        }
    };
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketVersioning", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket_mut(&mut world, &input.bucket)?;
    if status == Versioning::Suspended && b.object_lock {
        return Err(s3_error!(
            InvalidBucketState,
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
        ));
    }
    if status == Versioning::Suspended && b.replication.is_some() {
        return Err(s3_error!(
            InvalidBucketState,
            "A replication configuration is present on this bucket, so the versioning state cannot be changed."
        ));
    }
    b.versioning = status;
    Ok(S3Response::new(dto::PutBucketVersioningOutput {}))
}

pub fn get_bucket_versioning(
    api: &S3Api,
    req: S3Request<dto::GetBucketVersioningInput>,
) -> S3Result<S3Response<dto::GetBucketVersioningOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketVersioning", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let status = match bucket(&world, &req.input.bucket)?.versioning {
        Versioning::Unversioned => None,
        Versioning::Enabled => Some(dto::BucketVersioningStatus::from_static(dto::BucketVersioningStatus::ENABLED)),
        Versioning::Suspended => Some(dto::BucketVersioningStatus::from_static(dto::BucketVersioningStatus::SUSPENDED)),
    };
    Ok(S3Response::new(dto::GetBucketVersioningOutput { status, mfa_delete: None }))
}

fn malformed_policy(message: &str) -> S3Error {
    s3_error!(MalformedPolicy, "{message}")
}

/// Parses and validates a bucket policy with S3's messages (semantics doc §11).
pub fn parse_bucket_policy(world: &World, bucket_name: &str, text: &str) -> S3Result<Policy> {
    if text.len() > BUCKET_POLICY_MAX_BYTES {
        return Err(malformed_policy("Policy exceeds the maximum allowed document size."));
    }
    let policy = Policy::parse(text, DocumentKind::Resource).map_err(|e| {
        malformed_policy(match e.kind {
            PolicyErrorKind::InvalidJson | PolicyErrorKind::NotAnObject => "Policies must be valid JSON and the first byte must be '{'",
            PolicyErrorKind::MissingStatement => "Missing required field Statement",
            PolicyErrorKind::InvalidVersion => "The policy must contain a valid version string",
            PolicyErrorKind::InvalidPrincipal | PolicyErrorKind::MissingPrincipal => "Invalid principal in policy",
            PolicyErrorKind::InvalidResource | PolicyErrorKind::MissingResource => "Policy has invalid resource",
            PolicyErrorKind::InvalidAction => "Policy has invalid action",
            PolicyErrorKind::InvalidCondition => "Policy has an invalid condition key",
            _ => "Policies must be valid JSON and the first byte must be '{'",
        })
    })?;
    let bucket_arn = format!("arn:aws:s3:::{bucket_name}");
    for resource in crate::iam::policy_resources(&policy) {
        // A pattern may name this bucket through wildcards (`arn:aws:s3:::*`, `arn:aws:s3:::*/*`):
        // what counts is that it can match the bucket or its objects.
        let literal_prefix = &resource[..resource.find(['*', '?']).unwrap_or(resource.len())];
        let may_match = resource.contains(['*', '?']) && format!("{bucket_arn}/").starts_with(literal_prefix);
        if resource != bucket_arn && !resource.starts_with(&format!("{bucket_arn}/")) && !may_match {
            return Err(malformed_policy("Policy has invalid resource"));
        }
    }
    if let Some(principal) = crate::iam::unknown_principal(world, &policy) {
        return Err(s3_error!(MalformedPolicy, "Invalid principal in policy: {principal}"));
    }
    Ok(policy)
}

pub fn put_bucket_policy(api: &S3Api, req: S3Request<dto::PutBucketPolicyInput>) -> S3Result<S3Response<dto::PutBucketPolicyOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketPolicy", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let policy = parse_bucket_policy(&world, &input.bucket, &input.policy)?;
    crate::access::public::check_policy_allowed(bucket(&world, &input.bucket)?, &policy)?;
    bucket_mut(&mut world, &input.bucket)?.policy = Some(StoredPolicy { text: input.policy, parsed: Arc::new(policy) });
    Ok(super::api::with_status(dto::PutBucketPolicyOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn get_bucket_policy(api: &S3Api, req: S3Request<dto::GetBucketPolicyInput>) -> S3Result<S3Response<dto::GetBucketPolicyOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketPolicy", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let policy = bucket(&world, &req.input.bucket)?.policy.as_ref().map(|p| p.text.clone()).ok_or_else(|| {
        crate::s3::api::error_element(s3_error!(NoSuchBucketPolicy, "The bucket policy does not exist"), "BucketName", &req.input.bucket)
    })?;
    Ok(S3Response::new(dto::GetBucketPolicyOutput { policy: Some(policy) }))
}

pub fn delete_bucket_policy(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketPolicyInput>,
) -> S3Result<S3Response<dto::DeleteBucketPolicyOutput>> {
    let caller = api.caller(&req)?;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:DeleteBucketPolicy", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &req.input.bucket)?.policy = None;
    Ok(super::api::with_status(dto::DeleteBucketPolicyOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn put_bucket_ownership_controls(
    api: &S3Api,
    req: S3Request<dto::PutBucketOwnershipControlsInput>,
) -> S3Result<S3Response<dto::PutBucketOwnershipControlsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let [rule] = input.ownership_controls.rules.as_slice() else {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    };
    let ownership = rule.object_ownership.as_str().to_owned();
    if ![OWNERSHIP_ENFORCED, OWNERSHIP_PREFERRED, OWNERSHIP_WRITER].contains(&ownership.as_str()) {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketOwnershipControls", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let owner = world.canonical_id(&bucket(&world, &input.bucket)?.owner_account);
    let b = bucket_mut(&mut world, &input.bucket)?;
    if ownership == OWNERSHIP_ENFORCED && b.acl != vec![Grant::full_control(&owner)] {
        return Err(s3_error!(
            InvalidBucketAclWithObjectOwnership,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        ));
    }
    b.ownership = Some(ownership);
    Ok(S3Response::new(dto::PutBucketOwnershipControlsOutput {}))
}

pub fn get_bucket_ownership_controls(
    api: &S3Api,
    req: S3Request<dto::GetBucketOwnershipControlsInput>,
) -> S3Result<S3Response<dto::GetBucketOwnershipControlsOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketOwnershipControls", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let ownership = bucket(&world, &req.input.bucket)?.ownership.clone().ok_or_else(|| {
        let err = s3_error!(OwnershipControlsNotFoundError, "The bucket ownership controls were not found");
        crate::s3::api::error_element(err, "BucketName", &req.input.bucket)
    })?;
    Ok(S3Response::new(dto::GetBucketOwnershipControlsOutput {
        ownership_controls: Some(dto::OwnershipControls {
            rules: vec![dto::OwnershipControlsRule { object_ownership: dto::ObjectOwnership::from(ownership) }],
        }),
    }))
}

pub fn delete_bucket_ownership_controls(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketOwnershipControlsInput>,
) -> S3Result<S3Response<dto::DeleteBucketOwnershipControlsOutput>> {
    let caller = api.caller(&req)?;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketOwnershipControls", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &req.input.bucket)?.ownership = None;
    Ok(super::api::with_status(dto::DeleteBucketOwnershipControlsOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn put_bucket_tagging(api: &S3Api, req: S3Request<dto::PutBucketTaggingInput>) -> S3Result<S3Response<dto::PutBucketTaggingOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let tags: Vec<(String, String)> =
        input.tagging.tag_set.iter().map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default())).collect();
    if tags.len() > 50 || tags.iter().any(|(k, _)| k.is_empty()) {
        return Err(s3_error!(InvalidTag, "The TagKey you have provided is invalid"));
    }
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketTagging", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &input.bucket)?.tags = tags;
    Ok(super::api::with_status(dto::PutBucketTaggingOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn get_bucket_tagging(api: &S3Api, req: S3Request<dto::GetBucketTaggingInput>) -> S3Result<S3Response<dto::GetBucketTaggingOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketTagging", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &req.input.bucket)?;
    if b.tags.is_empty() {
        return Err(crate::s3::api::error_element(s3_error!(NoSuchTagSet, "The TagSet does not exist"), "BucketName", &req.input.bucket));
    }
    Ok(S3Response::new(dto::GetBucketTaggingOutput { tag_set: validate::to_dto_tags(&b.tags) }))
}

pub fn delete_bucket_tagging(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketTaggingInput>,
) -> S3Result<S3Response<dto::DeleteBucketTaggingOutput>> {
    let caller = api.caller(&req)?;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketTagging", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &req.input.bucket)?.tags.clear();
    Ok(super::api::with_status(dto::DeleteBucketTaggingOutput {}, http::StatusCode::NO_CONTENT))
}

fn invalid_request(message: &str) -> S3Error {
    s3_error!(InvalidRequest, "{message}")
}

fn schema_message(element: &str, allowed: bool) -> S3Error {
    if allowed {
        invalid_request(&format!("{element} must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information."))
    } else {
        invalid_request(&format!("{element} cannot be used for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information."))
    }
}

/// `arn:aws:s3:::name` -> `name`.
fn is_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:iam::") else { return false };
    let Some((account, resource)) = rest.split_once(':') else { return false };
    crate::config::is_account_id(account) && resource.starts_with("role/") && resource.len() > 5
}

fn rule_has_tag_filter(rule: &dto::ReplicationRule) -> bool {
    rule.filter.as_ref().is_some_and(|f| f.tag.is_some() || f.and.as_ref().is_some_and(|a| a.tags.as_ref().is_some_and(|t| !t.is_empty())))
}

/// PutBucketReplication's checks, in the order S3 reports them. Returns the configuration to
/// store (missing rule ids generated).
fn validate_replication(
    world: &World,
    caller: &Caller,
    source: &str,
    mut config: dto::ReplicationConfiguration,
) -> S3Result<dto::ReplicationConfiguration> {
    let src = bucket(world, source)?;
    let schema = check_configuration(src, &config)?;
    let mut seen = SeenInRules::default();
    for rule in &mut config.rules {
        check_rule(rule, schema, &mut seen)?;
        let destination = check_destination(world, rule)?;
        seen.destinations.insert(destination.to_owned());
    }
    if uses_prefix_schema(&config) && seen.destinations.len() > 1 {
        return Err(invalid_request("Multiple destination buckets are not supported for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information."));
    }
    check_role(world, caller, src, &config.role)?;
    Ok(config)
}

/// The two schemas of a replication configuration: V2 rules have a `Filter` (with `Priority` and
/// `DeleteMarkerReplication`); V1 rules do not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Schema {
    V1,
    V2,
}

/// Whether a rule names a `Prefix` (V1); rules with neither `Prefix` nor `Filter` follow V1's field
/// rules too, but only a named `Prefix` limits the configuration to one destination.
fn uses_prefix_schema(config: &dto::ReplicationConfiguration) -> bool {
    config.rules.iter().any(|r| r.prefix.is_some() && r.filter.is_none())
}

/// What the rules seen so far used: ids and priorities must be unique, V1 allows one destination.
#[derive(Default)]
struct SeenInRules {
    ids: BTreeSet<String>,
    priorities: BTreeSet<i32>,
    destinations: BTreeSet<String>,
}

fn malformed_xml() -> S3Error {
    s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}

/// The configuration as a whole: a versioned source, 1 to 1000 rules, a role ARN, one schema.
fn check_configuration(src: &Bucket, config: &dto::ReplicationConfiguration) -> S3Result<Schema> {
    if src.versioning != Versioning::Enabled {
        return Err(invalid_request("Versioning must be 'Enabled' on the bucket to apply a replication configuration"));
    }
    if config.rules.is_empty() {
        return Err(malformed_xml());
    }
    if config.rules.len() > 1000 {
        return Err(invalid_request("Number of rules in the replication configuration exceeds the maximum of 1000"));
    }
    if !is_role_arn(&config.role) {
        return Err(s3_error!(InvalidArgument, "Invalid ReplicationConfiguration Role ARN: {}", config.role));
    }
    let v2 = config.rules.iter().any(|r| r.filter.is_some());
    if uses_prefix_schema(config) && v2 {
        return Err(invalid_request("Rules in a replication configuration must all use the same schema version (either Prefix or Filter)"));
    }
    Ok(if v2 { Schema::V2 } else { Schema::V1 })
}

/// One rule's own fields: status, id (generated when missing), and what its schema requires.
fn check_rule(rule: &mut dto::ReplicationRule, schema: Schema, seen: &mut SeenInRules) -> S3Result<()> {
    if rule.existing_object_replication.is_some() || (rule.prefix.is_some() && rule.filter.is_some()) {
        return Err(malformed_xml());
    }
    if !matches!(rule.status.as_str(), "Enabled" | "Disabled") {
        return Err(malformed_xml());
    }
    let id = rule.id.get_or_insert_with(|| random_id(48)).clone();
    if id.len() > 255 {
        return Err(s3_error!(InvalidArgument, "ID length should not exceed allowed limit of 255"));
    }
    if !seen.ids.insert(id) {
        return Err(s3_error!(InvalidArgument, "Rule Id must be unique"));
    }
    if schema == Schema::V1 {
        if rule.delete_marker_replication.is_some() {
            return Err(schema_message("DeleteMarkerReplication", false));
        }
        if rule.priority.is_some() {
            return Err(schema_message("Priority", false));
        }
        return Ok(());
    }
    if rule.delete_marker_replication.is_none() {
        return Err(schema_message("DeleteMarkerReplication", true));
    }
    let Some(priority) = rule.priority else { return Err(schema_message("Priority", true)) };
    if !seen.priorities.insert(priority) {
        return Err(invalid_request(&format!("Found overlapping priority {priority} in rules; priorities must be unique")));
    }
    let dmr_enabled = rule.delete_marker_replication.as_ref().and_then(|d| d.status.as_ref()).is_some_and(|s| s.as_str() == "Enabled");
    if dmr_enabled && rule_has_tag_filter(rule) {
        return Err(invalid_request("Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information."));
    }
    Ok(())
}

/// A rule's destination: the bucket ARN, owner override with its account, Replication Time
/// Control with metrics, the KMS opt-in with its replica key, and the destination bucket itself
/// (looked up in its owner's account, wherever that is: §8). Returns the destination bucket's name.
fn check_destination<'r>(world: &World, rule: &'r dto::ReplicationRule) -> S3Result<&'r str> {
    let destination = &rule.destination;
    let dest_name = crate::access::bucket_from_arn(&destination.bucket)
        .ok_or_else(|| s3_error!(InvalidArgument, "Invalid bucket ARN: {}", destination.bucket))?;
    if let Some(act) = &destination.access_control_translation {
        if act.owner.as_str() != "Destination" {
            return Err(malformed_xml());
        }
        match destination.account.as_deref() {
            None => return Err(invalid_request("Destination Account must be specified when AccessControlTranslation is specified")),
            Some(account) if account.is_empty() || !crate::config::is_account_id(account) => {
                return Err(s3_error!(InvalidArgument, "Invalid Destination Account: {account}"));
            }
            Some(_) => {}
        }
    }
    match (&destination.replication_time, &destination.metrics) {
        (Some(_), None) => return Err(invalid_request("Replication Time Control must be used in conjunction with Metrics")),
        (Some(rt), Some(m)) if rt.time.minutes != Some(15) || m.event_threshold.as_ref().is_some_and(|e| e.minutes != Some(15)) => {
            return Err(s3_error!(InvalidArgument, "Replication Time Control and Metrics event threshold must be 15 minutes"));
        }
        _ => {}
    }
    let kms_opt_in = rule
        .source_selection_criteria
        .as_ref()
        .and_then(|s| s.sse_kms_encrypted_objects.as_ref())
        .is_some_and(|s| s.status.as_str() == "Enabled");
    let replica_key = destination.encryption_configuration.as_ref().and_then(|e| e.replica_kms_key_id.as_ref());
    if kms_opt_in && replica_key.is_none() {
        return Err(invalid_request("ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present."));
    }
    if !kms_opt_in && replica_key.is_some() {
        return Err(invalid_request("SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present."));
    }
    let dest = world.buckets.get(dest_name);
    if dest.is_none_or(|d| d.versioning != Versioning::Enabled) {
        return Err(invalid_request("Destination bucket must have versioning enabled."));
    }
    if let (Some(account), Some(d)) = (destination.account.as_deref(), dest) {
        if destination.access_control_translation.is_some() && account != d.owner_account {
            return Err(s3_error!(InvalidArgument, "Destination bucket owner account ID does not match the Account provided"));
        }
    }
    Ok(dest_name)
}

/// The role belongs to the source bucket's owner: iam:PassRole cannot pass another account's
/// role, and a root caller is no exception (User Guide `setting-repl-config-perm-overview`: the
/// role is created in the source bucket owner's account). Otherwise account A could make S3
/// write into B's buckets with B's role. And the caller must be allowed to pass the role to S3.
fn check_role(world: &World, caller: &Caller, src: &Bucket, role: &str) -> S3Result<()> {
    let role_account = role.strip_prefix("arn:aws:iam::").and_then(|r| r.split(':').next()).unwrap_or("");
    if role_account != src.owner_account {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    }
    if !caller.is_root() {
        let identity = world.identity_policies(caller);
        let principal = caller.principal_info();
        let ctx = crate::access::base_context(world, caller, &src.owner_account);
        let request = xrepl_policy::Request { principal: &principal, action: "iam:PassRole", resource: role, context: &ctx };
        let refs: Vec<&Policy> = identity.iter().map(AsRef::as_ref).collect();
        if !xrepl_policy::authorize(&refs, None, &request, true, false, false).is_allowed() {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
    }
    Ok(())
}

pub fn put_bucket_replication(
    api: &S3Api,
    req: S3Request<dto::PutBucketReplicationInput>,
) -> S3Result<S3Response<dto::PutBucketReplicationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutReplicationConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let config = validate_replication(&world, &caller, &input.bucket, input.replication_configuration)?;
    bucket_mut(&mut world, &input.bucket)?.replication = Some(config);
    Ok(S3Response::new(dto::PutBucketReplicationOutput {}))
}

pub fn get_bucket_replication(
    api: &S3Api,
    req: S3Request<dto::GetBucketReplicationInput>,
) -> S3Result<S3Response<dto::GetBucketReplicationOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetReplicationConfiguration", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let config = bucket(&world, &req.input.bucket)?.replication.clone().ok_or_else(|| {
        let err = s3_error!(ReplicationConfigurationNotFoundError, "The replication configuration was not found");
        crate::s3::api::error_element(err, "BucketName", &req.input.bucket)
    })?;
    Ok(S3Response::new(dto::GetBucketReplicationOutput { replication_configuration: Some(config) }))
}

pub fn delete_bucket_replication(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketReplicationInput>,
) -> S3Result<S3Response<dto::DeleteBucketReplicationOutput>> {
    let caller = api.caller(&req)?;
    let mut world = api.shared.world();
    // AWS authorizes DeleteBucketReplication with s3:PutReplicationConfiguration.
    authorize(&world, &caller, "s3:PutReplicationConfiguration", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &req.input.bucket)?.replication = None;
    Ok(super::api::with_status(dto::DeleteBucketReplicationOutput {}, http::StatusCode::NO_CONTENT))
}
