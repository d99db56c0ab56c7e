//! The Principal / NotPrincipal elements: what values are valid, and whom they name
//! (IAM User Guide `reference_policies_elements_principal`, `..._notprincipal`).

use crate::model::{Principal, PrincipalType};
use crate::wildcard::has_wildcard;

/// Who is asking. See the field docs for what each crate is expected to fill in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// 12-digit account id of the caller; `None` for service principals and anonymous.
    pub account: Option<String>,
    /// Every ARN the caller is known by: for an assumed-role session both the
    /// `arn:aws:sts::A:assumed-role/name/session` ARN and the role ARN (with its
    /// path); for a user its user ARN; for the account root `arn:aws:iam::A:root`.
    pub arns: Vec<String>,
    /// E.g. `Some("s3.amazonaws.com")` when an AWS service is the caller.
    pub service: Option<String>,
    /// 64-hex canonical user id of the caller's account.
    pub canonical_id: Option<String>,
    pub anonymous: bool,
}

/// A valid value of the `AWS` principal key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AwsPrincipal<'a> {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// `"111111111111"` or `"arn:aws:iam::111111111111:root"`: the account, which
    /// delegates the decision to that account's identity policies.
    Account(&'a str),
    /// A user, role, assumed-role session or federated-user ARN, or the unique id
    /// AWS shows once the named principal has been deleted. Matched exactly.
    Exact(&'a str),
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Classifies an `AWS` principal value; `None` when AWS would answer
/// "Invalid principal in policy". Principal ARNs admit no wildcards: the lone `*`
/// is the only wildcard principal.
pub(crate) fn classify_aws(value: &str) -> Option<AwsPrincipal<'_>> {
    if value == "*" {
        return Some(AwsPrincipal::Any);
    }
    if is_account_id(value) {
        return Some(AwsPrincipal::Account(value));
    }
    if has_wildcard(value) {
        return None;
    }
    if let Some(rest) = value.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts.as_slice() else {
            return None;
        };
        if !partition.starts_with("aws") || !region.is_empty() || !is_account_id(account) {
            return None;
        }
        let named = |prefix: &str| resource.strip_prefix(prefix).is_some_and(|name| !name.is_empty() && !name.ends_with('/'));
        return match *service {
            "iam" if *resource == "root" => Some(AwsPrincipal::Account(account)),
            "iam" if named("user/") || named("role/") => Some(AwsPrincipal::Exact(value)),
            "sts" if named("assumed-role/") || named("federated-user/") => Some(AwsPrincipal::Exact(value)),
            _ => None,
        };
    }
    // Unique ids of deleted users (AIDA...) and roles (AROA...).
    let unique_id = (value.starts_with("AIDA") || value.starts_with("AROA"))
        && value.len() >= 16
        && value.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    unique_id.then_some(AwsPrincipal::Exact(value))
}

/// Whether a value is valid for the given principal key.
pub(crate) fn is_valid(kind: PrincipalType, value: &str) -> bool {
    match kind {
        PrincipalType::Aws => classify_aws(value).is_some(),
        PrincipalType::CanonicalUser => value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()),
        PrincipalType::Service | PrincipalType::Federated => {
            !value.is_empty() && !has_wildcard(value) && !value.chars().any(char::is_whitespace)
        }
    }
}

/// How a principal element names the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Naming {
    NotNamed,
    /// Only through the caller's account (account id, `:root` ARN, canonical id):
    /// the account delegates to its identity policies, which must allow too.
    Account,
    /// By `*`, the caller's own ARN, service or federated identity.
    Direct,
}

/// One of the identities a caller is known by. AWS checks a request against each
/// of them: the account, then e.g. the role, then the assumed-role session.
#[derive(Debug, Clone, Copy)]
enum Identity<'a> {
    Anonymous,
    Account(&'a str),
    Arn(&'a str),
    Service(&'a str),
}

fn identities(caller: &PrincipalInfo) -> Vec<Identity<'_>> {
    if caller.anonymous {
        return vec![Identity::Anonymous];
    }
    let mut out = Vec::with_capacity(caller.arns.len() + 2);
    if let Some(service) = &caller.service {
        out.push(Identity::Service(service));
    }
    if let Some(account) = &caller.account {
        out.push(Identity::Account(account));
    }
    out.extend(caller.arns.iter().map(|arn| Identity::Arn(arn)));
    if out.is_empty() {
        // A caller known by nothing at all can only be named by `*`.
        out.push(Identity::Anonymous);
    }
    out
}

/// Whether one entry of a principal map names one identity of the caller.
fn names(kind: PrincipalType, value: &str, identity: Identity<'_>, caller: &PrincipalInfo) -> bool {
    match (kind, identity) {
        (PrincipalType::Aws, _) if value == "*" => true,
        (PrincipalType::Aws, Identity::Account(account)) => classify_aws(value) == Some(AwsPrincipal::Account(account)),
        (PrincipalType::Aws, Identity::Arn(arn)) => classify_aws(value) == Some(AwsPrincipal::Exact(arn)),
        (PrincipalType::CanonicalUser, Identity::Account(_)) => {
            caller.canonical_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(value))
        }
        (PrincipalType::Service, Identity::Service(service)) => service == value,
        (PrincipalType::Federated, Identity::Arn(arn)) => arn == value,
        _ => false,
    }
}

fn principal_names(principal: &Principal, identity: Identity<'_>, caller: &PrincipalInfo) -> bool {
    match principal {
        Principal::Any => true,
        Principal::Map(entries) => entries.iter().any(|(kind, values)| values.items.iter().any(|v| names(*kind, v, identity, caller))),
    }
}

/// How a `Principal` element names the caller: it applies when any of the
/// caller's identities is named.
pub(crate) fn principal_matches(principal: &Principal, caller: &PrincipalInfo) -> Naming {
    identities(caller)
        .into_iter()
        .filter(|id| principal_names(principal, *id, caller))
        .map(|id| match id {
            Identity::Account(_) => Naming::Account,
            _ => Naming::Direct,
        })
        .max()
        .unwrap_or(Naming::NotNamed)
}

/// Whether a `NotPrincipal` element applies to the caller. AWS may check the
/// account, the role and the session separately, and its documentation tells
/// users to list all of them; so the caller escapes the statement only when
/// every identity it is known by is listed.
pub(crate) fn not_principal_matches(principal: &Principal, caller: &PrincipalInfo) -> bool {
    !identities(caller).into_iter().all(|id| principal_names(principal, id, caller))
}
