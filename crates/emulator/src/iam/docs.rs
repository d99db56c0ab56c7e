//! Policy documents sent to IAM: API length constraint, IAM's size quotas, grammar (via the
//! policy crate) and principals that must exist. Errors carry IAM's codes and wording.

use std::sync::Arc;

use xrepl_policy::{DocumentKind, Policy, PolicyErrorKind, PrincipalBlock, PrincipalType, ResourceBlock};

use super::reply::limit_exceeded;
use crate::error::ServiceError;
use crate::state::iam::StoredPolicy;
use crate::state::World;

/// The API's length constraint on every document parameter (IAM API Reference).
const API_MAX_CHARS: usize = 131_072;

/// IAM quotas (IAM User Guide `reference_iam-quotas`), counted without whitespace.
pub(crate) const ROLE_INLINE_MAX: usize = 10_240;
pub(crate) const USER_INLINE_MAX: usize = 2_048;
pub(crate) const GROUP_INLINE_MAX: usize = 5_120;
pub(crate) const MANAGED_MAX: usize = 6_144;
pub(crate) const TRUST_MAX: usize = 2_048;

/// The size IAM counts against its quotas: characters other than whitespace.
pub(crate) fn quota_size(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// The parameter's length constraint: `ValidationError` outside 1..=131072 characters.
pub(crate) fn check_length(text: &str, field: &str) -> Result<(), ServiceError> {
    let len = text.chars().count();
    if len == 0 {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )));
    }
    if len > API_MAX_CHARS {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {API_MAX_CHARS}"
        )));
    }
    Ok(())
}

/// The trust policy quota (per role).
pub(crate) fn check_trust_size(text: &str) -> Result<(), ServiceError> {
    if quota_size(text) > TRUST_MAX {
        return Err(limit_exceeded(format!("Cannot exceed quota for ACLSizePerRole: {TRUST_MAX}")));
    }
    Ok(())
}

/// The managed policy quota (per version).
pub(crate) fn check_managed_size(text: &str) -> Result<(), ServiceError> {
    if quota_size(text) > MANAGED_MAX {
        return Err(limit_exceeded(format!("Cannot exceed quota for PolicySize: {MANAGED_MAX}")));
    }
    Ok(())
}

/// Parses and validates a document as IAM does, mapping problems to `MalformedPolicyDocument`.
pub(crate) fn parse(world: &World, text: &str, kind: DocumentKind) -> Result<StoredPolicy, ServiceError> {
    let policy = Policy::parse(text, kind).map_err(|e| {
        let message = match e.kind {
            // Name the bad version and the look-alike character: the guide's en dashes.
            PolicyErrorKind::InvalidVersion => format!("{}: {e}", e.iam_message()),
            // Already "Invalid principal in policy: \"AWS\":\"...\"".
            PolicyErrorKind::InvalidPrincipal => e.message.clone(),
            _ => e.iam_message().to_owned(),
        };
        malformed(message)
    })?;
    if let Some(principal) = unknown_principal(world, &policy) {
        return Err(malformed(format!("Invalid principal in policy: \"AWS\":\"{principal}\"")));
    }
    Ok(StoredPolicy { text: text.to_owned(), parsed: Arc::new(policy) })
}

pub(crate) fn malformed(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("MalformedPolicyDocument", message)
}

/// Every Resource / NotResource string in the document.
pub fn policy_resources(policy: &Policy) -> Vec<String> {
    resources(policy)
}

/// The first `AWS` principal that names an IAM role or user that does not exist (AWS rejects
/// such policies with "Invalid principal in policy"). Role ARNs must match including the path.
/// Account ids, `:root` ARNs, `*`, session ARNs, Service and CanonicalUser principals pass.
pub fn unknown_principal(world: &World, policy: &Policy) -> Option<String> {
    aws_principals(policy)
        .find(|value| {
            let Some(rest) = value.strip_prefix("arn:aws:iam::") else {
                return false;
            };
            let Some((account, resource)) = rest.split_once(':') else {
                return false;
            };
            // Another emulator hosts that account: its roles and users cannot be looked up here.
            if world.remote_accounts.contains(account) {
                return false;
            }
            let iam = world.accounts.get(account).map(|a| &a.iam);
            if resource.starts_with("role/") {
                iam.is_none_or(|iam| iam.role_by_arn(value).is_none())
            } else if resource.starts_with("user/") {
                iam.is_none_or(|iam| !iam.users.values().any(|u| u.arn == *value))
            } else {
                false
            }
        })
        .map(str::to_owned)
}

/// Statements' Principal / NotPrincipal `AWS` values, in document order.
fn aws_principals(policy: &Policy) -> impl Iterator<Item = &str> {
    policy.statements.iter().flat_map(|s| {
        let principal = match &s.principal {
            Some(PrincipalBlock::Principal(p) | PrincipalBlock::NotPrincipal(p)) => Some(p),
            None => None,
        };
        let entries: &[(PrincipalType, xrepl_policy::Values)] = match principal {
            Some(xrepl_policy::Principal::Map(entries)) => entries,
            _ => &[],
        };
        entries.iter().filter(|(t, _)| *t == PrincipalType::Aws).flat_map(|(_, values)| values.items.iter().map(String::as_str))
    })
}

/// Every Resource / NotResource value of a document.
fn resources(policy: &Policy) -> Vec<String> {
    policy
        .statements
        .iter()
        .filter_map(|s| match &s.resource {
            Some(ResourceBlock::Resource(v) | ResourceBlock::NotResource(v)) => Some(v.items.iter().cloned()),
            None => None,
        })
        .flatten()
        .collect()
}
