//! Object Lock (User Guide `object-lock`): the bucket's configuration and default retention,
//! per-version retention and legal hold, and the refusal to delete or overwrite protected
//! versions (governance mode yields to `x-amz-bypass-governance-retention` with
//! `s3:BypassGovernanceRetention`; compliance mode yields to nobody).

use s3s::dto::{self, ObjectLockConfiguration};
use s3s::{s3_error, S3Request, S3Response, S3Result};
use time::OffsetDateTime;

use super::api::{authorize, authorize_version, bucket, bucket_mut, timestamp, S3Api};
use super::validate;
use super::version::addressed_object;
use crate::identity::Caller;
use crate::state::s3::{Bucket, ObjectVersion, Versioning};
use crate::state::{now, World};

const GOVERNANCE: &str = "GOVERNANCE";
const COMPLIANCE: &str = "COMPLIANCE";

fn missing_lock_configuration() -> s3s::S3Error {
    s3_error!(InvalidRequest, "Bucket is missing Object Lock Configuration")
}

fn protected() -> s3s::S3Error {
    s3_error!(AccessDenied, "Access Denied because object protected by object lock.")
}

/// The retention a new object gets: the request's, else the bucket's default rule.
pub fn retention_for_new_object(
    bucket: &Bucket,
    mode: Option<&str>,
    until: Option<OffsetDateTime>,
    legal_hold: Option<&str>,
) -> S3Result<Option<(String, OffsetDateTime)>> {
    if !bucket.object_lock && (mode.is_some() || until.is_some() || legal_hold.is_some()) {
        return Err(missing_lock_configuration());
    }
    match (mode, until) {
        (Some(m), Some(u)) => {
            // As recorded (`test_s3_object_lock_mode_validation` → `put-obj-locked-bad-value`).
            if validate_mode(m).is_err() {
                return Err(super::api::invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", Some(m)));
            }
            if u <= now() {
                return Err(s3_error!(InvalidArgument, "The retain until date must be in the future!"));
            }
            Ok(Some((m.to_owned(), u)))
        }
        // The header that is missing is named (as recorded: `put-obj-locked-error-no-retain-date`, `…-no-mode`).
        (Some(_), None) | (None, Some(_)) => Err(super::api::invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            if mode.is_some() { "x-amz-object-lock-retain-until-date" } else { "x-amz-object-lock-mode" },
            None,
        )),
        (None, None) => Ok(bucket.default_retention(now())),
    }
}

fn validate_mode(mode: &str) -> S3Result<()> {
    if mode == GOVERNANCE || mode == COMPLIANCE {
        Ok(())
    } else {
        Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"))
    }
}

/// Whether `caller` may bypass governance mode on this request.
fn may_bypass(world: &World, caller: &Caller, bucket: &Bucket, key: &str, bypass_header: bool) -> bool {
    bypass_header && crate::access::authorize(world, caller, "s3:BypassGovernanceRetention", bucket, Some(key), &[]).is_ok()
}

/// Refuses a permanent delete of a protected version (a legal hold, or retention in force).
pub fn check_delete(world: &World, caller: &Caller, bucket: &Bucket, version: &ObjectVersion, bypass_header: bool) -> S3Result<()> {
    if version.legal_hold.as_deref() == Some("ON") {
        return Err(protected());
    }
    if let Some((mode, until)) = &version.retention {
        if *until > now() && !(mode == GOVERNANCE && may_bypass(world, caller, bucket, &version.key, bypass_header)) {
            return Err(protected());
        }
    }
    Ok(())
}

pub fn put_object_lock_configuration(
    api: &S3Api,
    req: S3Request<dto::PutObjectLockConfigurationInput>,
) -> S3Result<S3Response<dto::PutObjectLockConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketObjectLockConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let config = input.object_lock_configuration.ok_or_else(|| {
        s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
    })?;
    if config.object_lock_enabled.as_ref().map(dto::ObjectLockEnabled::as_str) != Some("Enabled") {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    if let Some(retention) = config.rule.as_ref().and_then(|r| r.default_retention.as_ref()) {
        validate_mode(retention.mode.as_ref().map_or("", dto::ObjectLockRetentionMode::as_str))?;
        match (retention.days, retention.years) {
            (Some(d), None) if d > 0 => {}
            (None, Some(y)) if y > 0 => {}
            (Some(_), Some(_)) | (None, None) => {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ))
            }
            _ => return Err(s3_error!(InvalidArgument, "Default retention period must be a positive integer value")),
        }
    }
    let b = bucket_mut(&mut world, &input.bucket)?;
    // Object Lock can be turned on for an existing bucket only while versioning is Enabled.
    if b.versioning != Versioning::Enabled {
        return Err(s3_error!(InvalidBucketState, "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"));
    }
    b.object_lock = true;
    b.lock_configuration = Some(config);
    Ok(S3Response::new(dto::PutObjectLockConfigurationOutput::default()))
}

pub fn get_object_lock_configuration(
    api: &S3Api,
    req: S3Request<dto::GetObjectLockConfigurationInput>,
) -> S3Result<S3Response<dto::GetObjectLockConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    let input = &req.input;
    authorize(&world, &caller, "s3:GetBucketObjectLockConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    if !b.object_lock {
        let err = s3_error!(ObjectLockConfigurationNotFoundError, "Object Lock configuration does not exist for this bucket");
        return Err(crate::s3::api::error_element(err, "BucketName", &input.bucket));
    }
    let config = b.lock_configuration.clone().unwrap_or_else(|| ObjectLockConfiguration {
        object_lock_enabled: Some(dto::ObjectLockEnabled::from_static(dto::ObjectLockEnabled::ENABLED)),
        rule: None,
    });
    Ok(S3Response::new(dto::GetObjectLockConfigurationOutput { object_lock_configuration: Some(config) }))
}

/// `locked_version` for any per-version Object Lock input (the s3s input types differ).
macro_rules! locked_version {
    ($world:expr, $caller:expr, $action:expr, $input:expr) => {
        locked_version(
            &$world,
            &$caller,
            $action,
            &$input.bucket,
            &$input.key,
            $input.version_id.as_deref(),
            $input.expected_bucket_owner.as_deref(),
        )
    };
}

/// What a per-version Object Lock GET returns, or AWS's error when the version has none.
fn lock_attribute<T>(world: &World, bucket_name: &str, key: &str, id: &str, read: impl Fn(&ObjectVersion) -> Option<T>) -> S3Result<T> {
    bucket(world, bucket_name)?
        .version(key, id)
        .and_then(read)
        .ok_or_else(|| s3_error!(NoSuchObjectLockConfiguration, "The specified object does not have a ObjectLock configuration"))
}

/// Authorizes a per-version Object Lock call and returns the addressed version's id.
fn locked_version(
    world: &World,
    caller: &Caller,
    action: &str,
    bucket_name: &str,
    key: &str,
    version_id: Option<&str>,
    expected_owner: Option<&str>,
) -> S3Result<String> {
    validate::version_id(version_id)?;
    authorize_version(world, caller, action, bucket_name, Some(key), version_id, expected_owner)?;
    let b = bucket(world, bucket_name)?;
    if !b.object_lock {
        return Err(missing_lock_configuration());
    }
    Ok(addressed_object(b, key, version_id)?.version_id.clone())
}

pub fn put_object_retention(
    api: &S3Api,
    req: S3Request<dto::PutObjectRetentionInput>,
) -> S3Result<S3Response<dto::PutObjectRetentionOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    let id = locked_version!(world, caller, "s3:PutObjectRetention", input)?;
    let (b, k) = (&input.bucket, &input.key);
    let new = match input.retention.as_ref() {
        Some(r) => match (&r.mode, &r.retain_until_date) {
            (Some(m), Some(d)) => {
                validate_mode(m.as_str())?;
                Some((m.as_str().to_owned(), OffsetDateTime::from(d.clone())))
            }
            (None, None) => None,
            _ => {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ))
            }
        },
        None => None,
    };
    let bucket_ref = bucket(&world, b)?;
    let current = bucket_ref.version(k, &id).and_then(|v| v.retention.clone());
    // Retention in force may only be extended in the same mode; anything else (shorter, removed,
    // another mode) overrides it: never in compliance mode, in governance mode only with the bypass.
    if let Some((mode, until)) = &current {
        let weakens = new.as_ref().is_none_or(|(m, u)| u < until || m != mode);
        if *until > now() && weakens {
            let bypass = mode == GOVERNANCE && may_bypass(&world, &caller, bucket_ref, k, input.bypass_governance_retention == Some(true));
            if !bypass {
                return Err(protected());
            }
        }
    }
    if let Some(version) = bucket_mut(&mut world, b)?.version_mut(k, &id) {
        version.retention = new;
    }
    Ok(S3Response::new(dto::PutObjectRetentionOutput::default()))
}

pub fn get_object_retention(
    api: &S3Api,
    req: S3Request<dto::GetObjectRetentionInput>,
) -> S3Result<S3Response<dto::GetObjectRetentionOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    let input = &req.input;
    let id = locked_version!(world, caller, "s3:GetObjectRetention", input)?;
    let (mode, until) = lock_attribute(&world, &input.bucket, &input.key, &id, |v| v.retention.clone())?;
    Ok(S3Response::new(dto::GetObjectRetentionOutput {
        retention: Some(dto::ObjectLockRetention {
            mode: Some(dto::ObjectLockRetentionMode::from(mode)),
            retain_until_date: Some(timestamp(until)),
        }),
    }))
}

pub fn put_object_legal_hold(
    api: &S3Api,
    req: S3Request<dto::PutObjectLegalHoldInput>,
) -> S3Result<S3Response<dto::PutObjectLegalHoldOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    let id = locked_version!(world, caller, "s3:PutObjectLegalHold", input)?;
    let status = input.legal_hold.and_then(|h| h.status).map(|s| s.as_str().to_owned());
    if !matches!(status.as_deref(), Some("ON" | "OFF")) {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    if let Some(version) = bucket_mut(&mut world, &input.bucket)?.version_mut(&input.key, &id) {
        version.legal_hold = status;
    }
    Ok(S3Response::new(dto::PutObjectLegalHoldOutput::default()))
}

pub fn get_object_legal_hold(
    api: &S3Api,
    req: S3Request<dto::GetObjectLegalHoldInput>,
) -> S3Result<S3Response<dto::GetObjectLegalHoldOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    let input = &req.input;
    let id = locked_version!(world, caller, "s3:GetObjectLegalHold", input)?;
    let hold = lock_attribute(&world, &input.bucket, &input.key, &id, |v| v.legal_hold.clone())?;
    Ok(S3Response::new(dto::GetObjectLegalHoldOutput {
        legal_hold: Some(dto::ObjectLockLegalHold { status: Some(dto::ObjectLockLegalHoldStatus::from(hold)) }),
    }))
}
