//! What every AssumeRole* action shares: the request's parameters, their validation, and the
//! issued session (credentials registered in the world, and the answer's common part). A leaf
//! of `sts`, so `mod.rs` (AssumeRole) and `web_identity` both use it without using each other.

use std::collections::BTreeMap;

use base64::Engine;
use rand::RngCore;
use time::Duration;
use xrepl_policy::{DocumentKind, Policy};

use crate::error::ServiceError;
use crate::state::iam::Role;
use crate::state::{iso8601, now, random_upper_id, AccessKey, KeyOwner, World};
use crate::xml::XmlBuf;

/// Request parameters of a Query-protocol call.
pub type Params = BTreeMap<String, String>;

pub(super) fn constraint(value: &str, field: &str, what: &str) -> ServiceError {
    ServiceError::validation(format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {what}"))
}

/// `arn:aws:iam::ACCOUNT:role/[path/]name` → (account, role name).
pub(super) fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    (crate::config::is_account_id(account) && !name.is_empty()).then_some((account, name))
}

/// A session token shaped like AWS's (long, base64).
fn new_session_token() -> String {
    let mut bytes = [0u8; 270];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("IQoJb3JpZ2luX2VjE{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 30];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The parameters every AssumeRole* action shares, validated as the service front end does.
pub(super) struct SessionParams {
    pub role_arn: String,
    /// The role's account, from the ARN.
    pub role_account: String,
    pub session: String,
    pub duration: Option<u32>,
}

pub(super) fn session_params(params: &Params) -> Result<SessionParams, ServiceError> {
    let role_arn = params.get("RoleArn").ok_or_else(|| ServiceError::missing_parameter("RoleArn"))?.clone();
    if role_arn.len() < 20 {
        return Err(constraint(&role_arn, "roleArn", "Member must have length greater than or equal to 20"));
    }
    if role_arn.len() > 2048 {
        return Err(constraint(&role_arn, "roleArn", "Member must have length less than or equal to 2048"));
    }
    let session = params.get("RoleSessionName").ok_or_else(|| ServiceError::missing_parameter("RoleSessionName"))?.clone();
    let session_len = session.chars().count();
    if session_len < 2 {
        return Err(constraint(&session, "roleSessionName", "Member must have length greater than or equal to 2"));
    }
    if session_len > 64 {
        return Err(constraint(&session, "roleSessionName", "Member must have length less than or equal to 64"));
    }
    if !session.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(constraint(&session, "roleSessionName", "Member must satisfy regular expression pattern: [\\w+=,.@-]*"));
    }
    let duration = match params.get("DurationSeconds") {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n < 900 => return Err(constraint(v, "durationSeconds", "Member must have value greater than or equal to 900")),
            Ok(n) if n > 43_200 => return Err(constraint(v, "durationSeconds", "Member must have value less than or equal to 43200")),
            Ok(n) => Some(n),
            Err(_) => return Err(ServiceError::validation(format!("Invalid value for DurationSeconds: {v}"))),
        },
    };
    if let Some(policy) = params.get("Policy") {
        if policy.chars().count() > 2048 {
            return Err(ServiceError::new(
                400,
                "PackedPolicyTooLarge",
                "Packed policy consumes more than 100 percent of the allotted space.",
            ));
        }
        Policy::parse(policy, DocumentKind::Identity).map_err(|e| ServiceError::bad_request("MalformedPolicyDocument", e.iam_message()))?;
    }
    let (role_account, _) = parse_role_arn(&role_arn).ok_or_else(|| ServiceError::validation(format!("{role_arn} is invalid")))?;
    let role_account = role_account.to_owned();
    Ok(SessionParams { role_arn, role_account, session, duration })
}

/// Registers temporary credentials acting as `role` and renders `Credentials` and
/// `AssumedRoleUser` and `PackedPolicySize` (the shared part of every AssumeRole* answer).
pub(super) fn issue_session(
    world: &mut World,
    role: &Role,
    role_account: &str,
    session: &str,
    duration: u32,
    params: &Params,
) -> Result<XmlBuf, ServiceError> {
    if duration > role.max_session_duration {
        return Err(ServiceError::validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }

    let issued = now();
    let expires = issued + Duration::seconds(i64::from(duration));
    // Forget sessions that expired long ago, so the key table does not grow without bound.
    let horizon = issued - Duration::hours(1);
    world.keys.retain(|_, k| !matches!(&k.owner, KeyOwner::Session { expires, .. } if *expires < horizon));
    let mut access_key_id = random_upper_id("ASIA", 16);
    while world.keys.contains_key(&access_key_id) {
        access_key_id = random_upper_id("ASIA", 16);
    }
    let secret = new_secret();
    let token = new_session_token();
    world.keys.insert(
        access_key_id.clone(),
        AccessKey {
            account: role_account.to_owned(),
            secret: secret.clone(),
            owner: KeyOwner::Session {
                role_name: role.name.clone(),
                role_arn: role.arn.clone(),
                session_name: session.to_owned(),
                token: token.clone(),
                expires,
            },
            active: true,
        },
    );
    let mut buf = XmlBuf::default();
    buf.open("Credentials")
        .elem("AccessKeyId", &access_key_id)
        .elem("SecretAccessKey", &secret)
        .elem("SessionToken", &token)
        .elem("Expiration", &iso8601(expires))
        .close("Credentials")
        .open("AssumedRoleUser")
        .elem("AssumedRoleId", &format!("{}:{session}", role.role_id))
        .elem("Arn", &format!("arn:aws:sts::{role_account}:assumed-role/{}/{session}", role.name))
        .close("AssumedRoleUser");
    if let Some(policy) = params.get("Policy") {
        let packed = (docs_percent(policy.chars().filter(|c| !c.is_whitespace()).count(), 2048)).to_string();
        buf.elem("PackedPolicySize", &packed);
    }
    Ok(buf)
}

/// Percentage of `max` used by `size`, as STS reports PackedPolicySize.
fn docs_percent(size: usize, max: usize) -> usize {
    (size * 100).div_ceil(max.max(1))
}
