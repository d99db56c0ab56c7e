//! STS (Query protocol, API version 2011-06-15): GetCallerIdentity, AssumeRole, GetAccessKeyInfo.
//!
//! AssumeRole evaluates the role's trust policy as a resource policy together with the caller's
//! identity policies (IAM User Guide `reference_policies_evaluation-logic-cross-account`): same
//! account, a trust policy naming the caller's ARN suffices while one naming only the account
//! delegates to the caller's identity policies; across accounts both sides must allow. Issued
//! credentials are registered in the world, so requests signed with them act as the role.
//!
//! AssumeRoleWithWebIdentity (`web_identity`) verifies an OIDC token against a provider of the
//! role's account and evaluates the trust policy with the token's claims.
//!
//! Not emulated: session policies (`Policy`, `PolicyArns` are validated, then ignored — the
//! session gets the role's full permissions), session tags, and GetSessionToken (the world has
//! no owner kind for temporary user credentials).

mod session;
mod web_identity;

use xrepl_policy::{Policy, Request};

use self::session::{constraint, issue_session, parse_role_arn, session_params, SessionParams};
use crate::error::ServiceError;
use crate::iam::{denial_message, principal_context};
use crate::identity::{Caller, PrincipalKind};
use crate::runtime::Shared;
use crate::state::iam::Role;
use crate::state::World;
use crate::xml::XmlBuf;

pub use self::session::Params;

/// The actions STS answers (an unsigned Query call is routed by this).
pub fn is_sts_action(action: &str) -> bool {
    matches!(
        action,
        "AssumeRole"
            | "AssumeRoleWithSAML"
            | "AssumeRoleWithWebIdentity"
            | "AssumeRoot"
            | "DecodeAuthorizationMessage"
            | "GetAccessKeyInfo"
            | "GetCallerIdentity"
            | "GetDelegatedAccessToken"
            | "GetFederationToken"
            | "GetSessionToken"
            | "GetWebIdentityToken"
    )
}

pub fn handle(shared: &Shared, caller: &Caller, action: &str, params: &Params) -> Result<Option<String>, ServiceError> {
    match action {
        "GetCallerIdentity" => Ok(Some(get_caller_identity(&shared.world(), caller))),
        "AssumeRole" => assume_role(&mut shared.world(), caller, params).map(Some),
        "AssumeRoleWithWebIdentity" => web_identity::assume_role_with_web_identity(&mut shared.world(), params).map(Some),
        "GetAccessKeyInfo" => get_access_key_info(&shared.world(), params).map(Some),
        "" => Err(ServiceError::missing_parameter("Action")),
        other if is_sts_action(other) => {
            Err(ServiceError::new(501, "NotImplemented", format!("{other} is not implemented by the xrepl emulator")))
        }
        other => Err(ServiceError::bad_request("InvalidAction", format!("Could not find operation {other} for version 2011-06-15"))),
    }
}

/// The `UserId` AWS reports: the account id for root, the user's AIDA id, `AROA…:session`.
fn user_id(world: &World, caller: &Caller) -> String {
    let account = caller.account.as_deref().unwrap_or("");
    let iam = world.accounts.get(account).map(|a| &a.iam);
    match &caller.kind {
        PrincipalKind::Root => account.to_owned(),
        PrincipalKind::User { name, .. } => iam.and_then(|i| i.user(name)).map_or_else(|| name.clone(), |u| u.user_id.clone()),
        PrincipalKind::AssumedRole { role_name, session_name, .. } => {
            let role_id = iam.and_then(|i| i.role(role_name)).map_or_else(|| role_name.clone(), |r| r.role_id.clone());
            format!("{role_id}:{session_name}")
        }
        PrincipalKind::Service(s) => s.clone(),
        PrincipalKind::Anonymous => String::new(),
    }
}

fn get_caller_identity(world: &World, caller: &Caller) -> String {
    let mut buf = XmlBuf::default();
    buf.elem("UserId", &user_id(world, caller)).elem("Account", caller.account.as_deref().unwrap_or("")).elem("Arn", &caller.arn());
    buf.0
}

fn get_access_key_info(world: &World, params: &Params) -> Result<String, ServiceError> {
    let id = params.get("AccessKeyId").ok_or_else(|| ServiceError::missing_parameter("AccessKeyId"))?;
    let key = world.keys.get(id).ok_or_else(|| {
        ServiceError::validation(format!("1 validation error detected: Value '{id}' at 'accessKeyId' is not a known access key"))
    })?;
    let mut buf = XmlBuf::default();
    buf.elem("Account", &key.account);
    Ok(buf.0)
}

/// Whether `caller` may assume the role `role_arn` (path included), evaluated as AWS does:
/// the role must exist, roots may not assume roles, and the trust policy (resource side) and
/// the caller's identity policies combine per the cross-account rules. `extra` adds condition
/// keys (e.g. `sts:ExternalId`, `aws:SourceAccount` when a service assumes the role).
///
/// The replication engine can call this with `PrincipalKind::Service("s3.amazonaws.com")`.
pub fn authorize_assume_role(world: &World, caller: &Caller, role_arn: &str, extra: &[(&str, String)]) -> Result<Role, ServiceError> {
    if caller.is_root() {
        return Err(ServiceError::access_denied("Roles may not be assumed by root accounts."));
    }
    let action = "sts:AssumeRole";
    let refused = |outcome| ServiceError::access_denied(denial_message(&caller.arn(), action, role_arn, outcome));
    let role_account = parse_role_arn(role_arn).map(|(a, _)| a);
    let role = role_account
        .and_then(|a| world.accounts.get(a))
        .and_then(|a| a.iam.role_by_arn(role_arn))
        .ok_or_else(|| refused(xrepl_policy::Authorization::ImplicitDeny { identity_allows: false, resource_allows: false }))?;
    let mut ctx = principal_context(caller);
    for (k, v) in extra {
        ctx.insert(k, v.clone());
    }
    let principal = caller.principal_info();
    let request = Request { principal: &principal, action, resource: &role.arn, context: &ctx };
    let identity = world.identity_policies(caller);
    let refs: Vec<&Policy> = identity.iter().map(AsRef::as_ref).collect();
    // A service principal has no identity side: the trust policy alone decides.
    let either_side = caller.account.is_none() || caller.account.as_deref() == role_account;
    let outcome = xrepl_policy::authorize(&refs, Some(&role.trust.parsed), &request, either_side, false, false);
    if outcome.is_allowed() {
        Ok(role.clone())
    } else {
        Err(refused(outcome))
    }
}

fn assume_role(world: &mut World, caller: &Caller, params: &Params) -> Result<String, ServiceError> {
    let external_id = params.get("ExternalId").cloned();
    if let Some(id) = &external_id {
        let ok = (2..=1224).contains(&id.chars().count()) && id.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c));
        if !ok {
            return Err(constraint(id, "externalId", "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*"));
        }
    }
    let SessionParams { role_arn, role_account, session, duration } = session_params(params)?;

    let mut extra = vec![("sts:RoleSessionName", session.clone())];
    if let Some(id) = &external_id {
        extra.push(("sts:ExternalId", id.clone()));
    }
    let role = authorize_assume_role(world, caller, &role_arn, &extra)?;

    let chained = matches!(caller.kind, PrincipalKind::AssumedRole { .. });
    let duration = duration.unwrap_or(3600);
    if chained && duration > 3600 {
        return Err(ServiceError::validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let buf = issue_session(world, &role, &role_account, &session, duration, params)?;
    Ok(buf.0)
}
