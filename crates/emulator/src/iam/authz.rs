//! Authorization of identity-governed actions (IAM's own, STS's own checks, KMS's account-level
//! actions) and AWS's wording when one is refused. A leaf of `iam`.

use xrepl_policy::{Authorization, Context, Policy, Request};

use crate::error::ServiceError;
use crate::identity::{Caller, PrincipalKind};
use crate::state::World;

/// Condition keys every request carries: who is calling.
pub(crate) fn principal_context(caller: &Caller) -> Context {
    let mut ctx = Context::new();
    if let Some(account) = &caller.account {
        ctx.insert("aws:PrincipalAccount", account.clone());
    }
    match &caller.kind {
        PrincipalKind::Root => {
            ctx.insert("aws:PrincipalArn", caller.arn());
            ctx.insert("aws:PrincipalType", "Account");
            if let Some(account) = &caller.account {
                ctx.insert("aws:userid", account.clone());
            }
        }
        PrincipalKind::User { name, arn } => {
            ctx.insert("aws:PrincipalArn", arn.clone());
            ctx.insert("aws:PrincipalType", "User");
            ctx.insert("aws:username", name.clone());
        }
        PrincipalKind::AssumedRole { role_arn, .. } => {
            ctx.insert("aws:PrincipalArn", role_arn.clone());
            ctx.insert("aws:PrincipalType", "AssumedRole");
        }
        PrincipalKind::Service(service) => {
            ctx.insert("aws:PrincipalServiceName", service.clone());
        }
        PrincipalKind::Anonymous => {}
    }
    ctx.insert("aws:SecureTransport", "false");
    ctx.insert("aws:CurrentTime", crate::state::iso8601(crate::state::now()));
    ctx
}

/// Authorization for actions governed by identity policies only (IAM, STS's own checks, KMS's
/// account-level actions): root may do anything in its account; users and role sessions need an
/// Allow and no Deny in their policies.
pub(crate) fn authorize_identity(world: &World, caller: &Caller, action: &str, resource: &str) -> Result<(), ServiceError> {
    identity_decision(world, caller, action, resource, || principal_context(caller))
        .map_err(|outcome| ServiceError::access_denied(denial_message(&caller.arn(), action, resource, outcome)))
}

/// [`authorize_identity`]'s decision under the condition keys `context` makes (built only when
/// the caller is not the root); a refusal carries the outcome, for [`denial_message`].
pub(crate) fn identity_decision(
    world: &World,
    caller: &Caller,
    action: &str,
    resource: &str,
    context: impl FnOnce() -> Context,
) -> Result<(), Authorization> {
    if caller.is_root() {
        return Ok(());
    }
    let ctx = context();
    let principal = caller.principal_info();
    let request = Request { principal: &principal, action, resource, context: &ctx };
    let policies = world.identity_policies(caller);
    let refs: Vec<&Policy> = policies.iter().map(AsRef::as_ref).collect();
    let outcome = xrepl_policy::authorize(&refs, None, &request, true, false, false);
    if outcome.is_allowed() {
        Ok(())
    } else {
        Err(outcome)
    }
}

/// AWS's wording for a refused request, including why.
pub(crate) fn denial_message(caller_arn: &str, action: &str, resource: &str, outcome: Authorization) -> String {
    let why = match outcome {
        Authorization::ExplicitDeny { in_resource: true, .. } => " with an explicit deny in a resource-based policy".to_owned(),
        Authorization::ExplicitDeny { .. } => " with an explicit deny in an identity-based policy".to_owned(),
        Authorization::ImplicitDeny { identity_allows: true, .. } => {
            format!(" because no resource-based policy allows the {action} action")
        }
        _ => format!(" because no identity-based policy allows the {action} action"),
    };
    format!("User: {caller_arn} is not authorized to perform: {action} on resource: {resource}{why}")
}
