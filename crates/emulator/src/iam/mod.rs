//! IAM (Query protocol, API version 2010-05-08): roles, users, access keys, inline and customer
//! managed policies, with IAM's validation, error codes and messages.
//!
//! Every handler follows the same order, so that a refused request changes nothing:
//! parameter shape (`ValidationError`, `MissingParameter`) → authorization of the caller
//! (`AccessDenied`) → existence (`NoSuchEntity`, `EntityAlreadyExists`) → documents
//! (`LimitExceeded`, `MalformedPolicyDocument`) → only then the state change.
//!
//! Layout: `docs` validates policy documents; `roles`, `users` and `managed` hold the
//! actions; this file holds dispatch, authorization and the helpers they share.

mod account;
mod docs;
mod groups;
pub(crate) mod holders;
mod managed;
mod oidc;
mod roles;
mod users;

use crate::state::iam::{Group, Role, User};

use std::collections::BTreeMap;

use time::OffsetDateTime;
use xrepl_policy::{Authorization, Context, Policy, PrincipalBlock, PrincipalType, Request, ResourceBlock};

use crate::error::ServiceError;
use crate::identity::{Caller, PrincipalKind};
use crate::runtime::Shared;
use crate::state::{IamAccount, World};
use crate::xml::XmlBuf;

pub use docs::{policy_resources, unknown_principal};
pub use oidc::{issuer_key, provider_arn};

/// Request parameters of a Query-protocol call.
pub type Params = BTreeMap<String, String>;

/// Answers one IAM action. Returns the inner XML of `<ActionResult>` (None for actions whose
/// response has no result element).
pub fn handle(shared: &Shared, caller: &Caller, action: &str, params: &Params) -> Result<Option<String>, ServiceError> {
    let Some(account) = caller.account.clone() else {
        return Err(ServiceError::access_denied(format!("User: {} is not authorized to perform: iam:{action}", caller.arn())));
    };
    let mut world = shared.world();
    world.ensure_account(&account);
    let mut call = Call { world: &mut world, caller, account, params };
    match action {
        // Roles
        "CreateRole" => roles::create_role(&mut call),
        "GetRole" => roles::get_role(&mut call),
        "ListRoles" => roles::list_roles(&mut call),
        "DeleteRole" => roles::delete_role(&mut call),
        "UpdateRole" => roles::update_role(&mut call),
        "UpdateRoleDescription" => roles::update_role_description(&mut call),
        "UpdateAssumeRolePolicy" => roles::update_assume_role_policy(&mut call),
        "PutRolePolicy" => holders::put_policy::<Role>(&mut call),
        "GetRolePolicy" => holders::get_policy::<Role>(&mut call),
        "DeleteRolePolicy" => holders::delete_policy::<Role>(&mut call),
        "ListRolePolicies" => holders::list_policies::<Role>(&mut call),
        "AttachRolePolicy" => holders::attach::<Role>(&mut call),
        "DetachRolePolicy" => holders::detach::<Role>(&mut call),
        "ListAttachedRolePolicies" => holders::list_attached::<Role>(&mut call),
        "TagRole" => holders::tag::<Role>(&mut call),
        "UntagRole" => holders::untag::<Role>(&mut call),
        "ListRoleTags" => holders::list_tags::<Role>(&mut call),
        // Users and access keys
        "CreateUser" => users::create_user(&mut call),
        "GetUser" => users::get_user(&mut call),
        "ListUsers" => users::list_users(&mut call),
        "DeleteUser" => users::delete_user(&mut call),
        "UpdateUser" => users::update_user(&mut call),
        "CreateAccessKey" => users::create_access_key(&mut call),
        "DeleteAccessKey" => users::delete_access_key(&mut call),
        "UpdateAccessKey" => users::update_access_key(&mut call),
        "ListAccessKeys" => users::list_access_keys(&mut call),
        "PutUserPolicy" => holders::put_policy::<User>(&mut call),
        "GetUserPolicy" => holders::get_policy::<User>(&mut call),
        "DeleteUserPolicy" => holders::delete_policy::<User>(&mut call),
        "ListUserPolicies" => holders::list_policies::<User>(&mut call),
        "AttachUserPolicy" => holders::attach::<User>(&mut call),
        "DetachUserPolicy" => holders::detach::<User>(&mut call),
        "ListAttachedUserPolicies" => holders::list_attached::<User>(&mut call),
        "TagUser" => holders::tag::<User>(&mut call),
        "UntagUser" => holders::untag::<User>(&mut call),
        "ListUserTags" => holders::list_tags::<User>(&mut call),
        // Groups
        "CreateGroup" => groups::create_group(&mut call),
        "GetGroup" => groups::get_group(&mut call),
        "ListGroups" => groups::list_groups(&mut call),
        "DeleteGroup" => groups::delete_group(&mut call),
        "UpdateGroup" => groups::update_group(&mut call),
        "AddUserToGroup" => groups::add_user_to_group(&mut call),
        "RemoveUserFromGroup" => groups::remove_user_from_group(&mut call),
        "ListGroupsForUser" => groups::list_groups_for_user(&mut call),
        "PutGroupPolicy" => holders::put_policy::<Group>(&mut call),
        "GetGroupPolicy" => holders::get_policy::<Group>(&mut call),
        "DeleteGroupPolicy" => holders::delete_policy::<Group>(&mut call),
        "ListGroupPolicies" => holders::list_policies::<Group>(&mut call),
        "AttachGroupPolicy" => holders::attach::<Group>(&mut call),
        "DetachGroupPolicy" => holders::detach::<Group>(&mut call),
        "ListAttachedGroupPolicies" => holders::list_attached::<Group>(&mut call),
        // Customer managed policies
        "CreatePolicy" => managed::create_policy(&mut call),
        "GetPolicy" => managed::get_policy(&mut call),
        "DeletePolicy" => managed::delete_policy(&mut call),
        "ListPolicies" => managed::list_policies(&mut call),
        "GetPolicyVersion" => managed::get_policy_version(&mut call),
        "CreatePolicyVersion" => managed::create_policy_version(&mut call),
        "DeletePolicyVersion" => managed::delete_policy_version(&mut call),
        "ListPolicyVersions" => managed::list_policy_versions(&mut call),
        "SetDefaultPolicyVersion" => managed::set_default_policy_version(&mut call),
        "TagPolicy" => managed::tag_policy(&mut call),
        "UntagPolicy" => managed::untag_policy(&mut call),
        "ListPolicyTags" => managed::list_policy_tags(&mut call),
        "ListEntitiesForPolicy" => account::list_entities_for_policy(&mut call),
        // The account
        "GetAccountSummary" => account::get_account_summary(&mut call),
        "ListInstanceProfilesForRole" => account::list_instance_profiles_for_role(&mut call),
        // OpenID Connect providers
        "CreateOpenIDConnectProvider" => oidc::create_provider(&mut call),
        "GetOpenIDConnectProvider" => oidc::get_provider(&mut call),
        "ListOpenIDConnectProviders" => oidc::list_providers(&mut call),
        "DeleteOpenIDConnectProvider" => oidc::delete_provider(&mut call),
        "AddClientIDToOpenIDConnectProvider" => oidc::add_client_id(&mut call),
        "RemoveClientIDFromOpenIDConnectProvider" => oidc::remove_client_id(&mut call),
        "UpdateOpenIDConnectProviderThumbprint" => oidc::update_thumbprint(&mut call),
        "" => Err(ServiceError::missing_parameter("Action")),
        other => Err(ServiceError::bad_request("InvalidAction", format!("Could not find operation {other} for version 2010-05-08"))),
    }
}

/// One IAM call in progress: the locked world, who is calling and with what.
pub(crate) struct Call<'a> {
    pub world: &'a mut World,
    pub caller: &'a Caller,
    /// The caller's account: IAM always acts on it.
    pub account: String,
    pub params: &'a Params,
}

impl Call<'_> {
    /// A parameter that must be present (and not empty).
    pub fn required(&self, name: &str) -> Result<&str, ServiceError> {
        self.params.get(name).map(String::as_str).ok_or_else(|| ServiceError::missing_parameter(name))
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn iam(&self) -> Result<&IamAccount, ServiceError> {
        self.world.accounts.get(&self.account).map(|a| &a.iam).ok_or_else(internal)
    }

    pub fn iam_mut(&mut self) -> Result<&mut IamAccount, ServiceError> {
        self.world.accounts.get_mut(&self.account).map(|a| &mut a.iam).ok_or_else(internal)
    }

    /// `arn:aws:iam::ACCOUNT:{kind}{path}{name}`.
    pub fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.account)
    }

    /// Refuses the call unless the caller may perform `iam:{action}` on `resource`.
    pub fn authorize(&self, action: &str, resource: &str) -> Result<(), ServiceError> {
        authorize_identity(self.world, self.caller, &format!("iam:{action}"), resource)
    }
}

fn internal() -> ServiceError {
    ServiceError::new(500, "ServiceFailure", "The caller's account is not known to the emulator.")
}

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
    if caller.is_root() {
        return Ok(());
    }
    let ctx = principal_context(caller);
    let principal = caller.principal_info();
    let request = Request { principal: &principal, action, resource, context: &ctx };
    let policies = world.identity_policies(caller);
    let refs: Vec<&Policy> = policies.iter().map(AsRef::as_ref).collect();
    let outcome = xrepl_policy::authorize(&refs, None, &request, true, false, false);
    if outcome.is_allowed() {
        return Ok(());
    }
    Err(ServiceError::access_denied(denial_message(&caller.arn(), action, resource, outcome)))
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

// ---------------------------------------------------------------------------------------------
// Parameter validation, with IAM's wording.

fn constraint(value: &str, field: &str, what: &str) -> ServiceError {
    ServiceError::validation(format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {what}"))
}

/// IAM entity names (roles, users, policies): `[\w+=,.@-]+` with a maximum length.
pub(crate) fn check_name(value: &str, field: &str, max: usize) -> Result<(), ServiceError> {
    let len = value.chars().count();
    if len < 1 {
        return Err(constraint(value, field, "Member must have length greater than or equal to 1"));
    }
    if len > max {
        return Err(constraint(value, field, &format!("Member must have length less than or equal to {max}")));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(constraint(value, field, "Member must satisfy regular expression pattern: [\\w+=,.@-]+"));
    }
    Ok(())
}

/// An entity path: `/` or `/text/`, printable ASCII, at most 512 characters.
pub(crate) fn check_path(path: &str) -> Result<(), ServiceError> {
    let printable = path.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    if path.len() > 512 {
        return Err(constraint(path, "path", "Member must have length less than or equal to 512"));
    }
    if !printable || !path.starts_with('/') || !path.ends_with('/') || path.contains("//") {
        return Err(ServiceError::validation(
            "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.",
        ));
    }
    Ok(())
}

/// A `PathPrefix` filter: starts with `/`, printable ASCII.
pub(crate) fn check_path_prefix(prefix: &str) -> Result<(), ServiceError> {
    if prefix.len() > 512 || !prefix.starts_with('/') || !prefix.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c)) {
        return Err(constraint(prefix, "pathPrefix", "Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"));
    }
    Ok(())
}

pub(crate) fn check_description(description: Option<&str>) -> Result<(), ServiceError> {
    if let Some(d) = description {
        if d.chars().count() > 1000 {
            return Err(constraint(d, "description", "Member must have length less than or equal to 1000"));
        }
    }
    Ok(())
}

/// A `Tags.member.N.Key` / `.Value` list, validated as IAM does (at most 50, keys 1..128,
/// values 0..256, no duplicate keys).
pub(crate) fn parse_tags(params: &Params, list: &str, quota: &str) -> Result<Vec<(String, String)>, ServiceError> {
    let entries = members(params, list);
    let mut tags: Vec<(String, String)> = Vec::with_capacity(entries.len());
    for fields in entries {
        let key = fields.get("Key").cloned().ok_or_else(|| ServiceError::missing_parameter("Key"))?;
        let value = fields.get("Value").cloned().unwrap_or_default();
        check_tag(&key, &value)?;
        if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            return Err(ServiceError::new(
                400,
                "InvalidInput",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
        tags.push((key, value));
    }
    if tags.len() > 50 {
        return Err(limit_exceeded(format!("Cannot exceed quota for {quota}: 50")));
    }
    Ok(tags)
}

fn check_tag(key: &str, value: &str) -> Result<(), ServiceError> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 || !key.chars().all(allowed) {
        return Err(constraint(
            key,
            "tags.member.key",
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+ and have length between 1 and 128",
        ));
    }
    if value.chars().count() > 256 || !value.chars().all(allowed) {
        return Err(constraint(
            value,
            "tags.member.value",
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]* and have length at most 256",
        ));
    }
    Ok(())
}

/// Merges new tags into existing ones (same key, compared case-insensitively, is replaced).
pub(crate) fn merge_tags(
    existing: &[(String, String)],
    new: &[(String, String)],
    quota: &str,
) -> Result<Vec<(String, String)>, ServiceError> {
    let mut out: Vec<(String, String)> = existing.to_vec();
    for (k, v) in new {
        match out.iter_mut().find(|(ek, _)| ek.eq_ignore_ascii_case(k)) {
            Some(slot) => *slot = (k.clone(), v.clone()),
            None => out.push((k.clone(), v.clone())),
        }
    }
    if out.len() > 50 {
        return Err(limit_exceeded(format!("Cannot exceed quota for {quota}: 50")));
    }
    Ok(out)
}

/// `List.member.N.Field` entries, in N order; a plain `List.member.N` value is under "".
pub(crate) fn members(params: &Params, list: &str) -> Vec<BTreeMap<String, String>> {
    let prefix = format!("{list}.member.");
    let mut by_index: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix(&prefix) else {
            continue;
        };
        let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
        let Ok(index) = index.parse::<u32>() else {
            continue;
        };
        by_index.entry(index).or_default().insert(field.to_owned(), v.clone());
    }
    by_index.into_values().collect()
}

/// `List.member.N` plain values, in N order.
pub(crate) fn member_values(params: &Params, list: &str) -> Vec<String> {
    members(params, list).into_iter().filter_map(|mut m| m.remove("")).collect()
}

/// MaxItems / Marker paging over items already in their listing order, keyed by a string that
/// increases along the list. Returns the page and, when truncated, the next marker.
pub(crate) fn paginate<T>(call: &Call<'_>, items: Vec<T>, key: impl Fn(&T) -> String) -> Result<(Vec<T>, Option<String>), ServiceError> {
    let max = match call.optional("MaxItems") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(constraint(v, "maxItems", "Member must have value between 1 and 1000")),
        },
    };
    let marker = call.optional("Marker");
    let mut rest: Vec<T> = match marker {
        Some(m) => items.into_iter().filter(|i| key(i).as_str() > m).collect(),
        None => items,
    };
    if rest.len() > max {
        rest.truncate(max);
        let next = rest.last().map(&key);
        Ok((rest, next))
    } else {
        Ok((rest, None))
    }
}

/// `<IsTruncated>` and, when truncated, `<Marker>`.
pub(crate) fn truncation(buf: &mut XmlBuf, next: Option<&str>) {
    buf.elem("IsTruncated", if next.is_some() { "true" } else { "false" });
    buf.opt("Marker", next);
}

pub(crate) fn date(t: OffsetDateTime) -> String {
    crate::state::iso8601(t)
}

/// Policy documents are returned URL-encoded, as IAM does (RFC 3986 unreserved kept).
pub(crate) fn url_encode(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

pub(crate) fn tags_xml(buf: &mut XmlBuf, tags: &[(String, String)]) {
    buf.open("Tags");
    for (k, v) in tags {
        buf.open("member").elem("Key", k).elem("Value", v).close("member");
    }
    buf.close("Tags");
}

pub(crate) fn no_such_entity(kind: &str, name: &str) -> ServiceError {
    ServiceError::no_such_entity(format!("The {kind} with name {name} cannot be found."))
}

pub(crate) fn already_exists(kind: &str, name: &str) -> ServiceError {
    ServiceError::new(409, "EntityAlreadyExists", format!("{kind} with name {name} already exists."))
}

pub(crate) fn delete_conflict(message: &str) -> ServiceError {
    ServiceError::new(409, "DeleteConflict", message)
}

pub(crate) fn limit_exceeded(message: impl Into<String>) -> ServiceError {
    ServiceError::new(409, "LimitExceeded", message)
}

/// Statements' Principal / NotPrincipal `AWS` values, in document order.
pub(crate) fn aws_principals(policy: &Policy) -> impl Iterator<Item = &str> {
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
pub(crate) fn resources(policy: &Policy) -> Vec<String> {
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
