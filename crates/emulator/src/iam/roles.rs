//! Role actions: CreateRole … ListRoleTags.

use std::collections::{BTreeMap, BTreeSet};

use xrepl_policy::DocumentKind;

use super::docs::{self, check_length, check_trust_size, ROLE_INLINE_MAX};
use super::holders::{holder_entity, Tagged};
use super::reply::{already_exists, date, delete_conflict, limit_exceeded, tags_xml, truncation, url_encode};
use super::request::{check_description, check_path, check_path_prefix, paginate, parse_tags, Call};
use crate::error::ServiceError;
use crate::state::iam::{fold, Role};
use crate::state::{now, random_upper_id};
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

/// IAM's default quota of roles per account.
pub(super) const ROLES_PER_ACCOUNT: usize = 1000;
/// IAM's default quota of managed policies attached to one role.
pub(super) const POLICIES_PER_ROLE: usize = 10;

pub(super) fn role_xml(buf: &mut XmlBuf, role: &Role, with_tags: bool) {
    buf.open("Role")
        .elem("Path", &role.path)
        .elem("RoleName", &role.name)
        .elem("RoleId", &role.role_id)
        .elem("Arn", &role.arn)
        .elem("CreateDate", &date(role.created))
        .elem("AssumeRolePolicyDocument", &url_encode(&role.trust.text))
        .opt("Description", role.description.as_deref())
        .elem("MaxSessionDuration", &role.max_session_duration.to_string());
    if with_tags && !role.tags.is_empty() {
        tags_xml(buf, &role.tags);
    }
    buf.close("Role");
}

fn one_role(role: &Role) -> Option<String> {
    let mut buf = XmlBuf::default();
    role_xml(&mut buf, role, true);
    Some(buf.0)
}

holder_entity!(
    Role {
        kind: "Role",
        noun: "role",
        param: "RoleName",
        field: "roleName",
        max: 64,
        inline_max: ROLE_INLINE_MAX,
        attached_max: POLICIES_PER_ROLE,
        map: roles,
        lookup: role,
        id: role_id
    },
    role_name,
    authorized_role,
    role_mut
);

impl Tagged for Role {
    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
    fn tags_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.tags
    }
}

fn max_session_duration(value: Option<&str>) -> Result<Option<u32>, ServiceError> {
    let Some(v) = value else { return Ok(None) };
    match v.parse::<u32>() {
        Ok(n) if (3600..=43_200).contains(&n) => Ok(Some(n)),
        Ok(n) if n < 3600 => Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"
        ))),
        _ => Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"
        ))),
    }
}

pub(super) fn create_role(call: &mut Call<'_>) -> Answer {
    let name = role_name(call)?;
    let path = call.optional("Path").unwrap_or("/").to_owned();
    check_path(&path)?;
    let document = call.required("AssumeRolePolicyDocument")?.to_owned();
    check_length(&document, "assumeRolePolicyDocument")?;
    let description = call.optional("Description").map(str::to_owned);
    check_description(description.as_deref())?;
    let max_session = max_session_duration(call.optional("MaxSessionDuration"))?.unwrap_or(3600);
    let tags = parse_tags(call.params, "Tags", "TagsPerRole")?;
    let arn = call.arn("role", &path, &name);
    call.authorize("CreateRole", &arn)?;
    if !tags.is_empty() {
        call.authorize("TagRole", &arn)?;
    }
    let iam = call.iam()?;
    // Role names are unique regardless of case.
    if iam.role(&name).is_some() {
        return Err(already_exists("Role", &name));
    }
    if iam.roles.len() >= ROLES_PER_ACCOUNT {
        return Err(limit_exceeded(format!("Cannot exceed quota for RolesPerAccount: {ROLES_PER_ACCOUNT}")));
    }
    check_trust_size(&document)?;
    let trust = docs::parse(call.world, &document, DocumentKind::Trust)?;
    let role = Role {
        name: name.clone(),
        path,
        arn,
        role_id: random_upper_id("AROA", 17),
        created: now(),
        description,
        max_session_duration: max_session,
        trust,
        inline: BTreeMap::new(),
        attached: BTreeSet::new(),
        tags,
    };
    let answer = one_role(&role);
    call.iam_mut()?.roles.insert(fold(&name), role);
    Ok(answer)
}

pub(super) fn get_role(call: &mut Call<'_>) -> Answer {
    let role = authorized_role(call, "GetRole")?;
    Ok(one_role(&role))
}

pub(super) fn list_roles(call: &mut Call<'_>) -> Answer {
    let prefix = call.optional("PathPrefix").unwrap_or("/").to_owned();
    check_path_prefix(&prefix)?;
    call.authorize("ListRoles", &call.arn("role", "/", ""))?;
    let roles: Vec<Role> = call.iam()?.roles.values().filter(|r| r.path.starts_with(&prefix)).cloned().collect();
    let (page, next) = paginate(call, roles, |r| fold(&r.name))?;
    let mut buf = XmlBuf::default();
    buf.open("Roles");
    for role in &page {
        buf.raw("<member>");
        let mut inner = XmlBuf::default();
        role_xml(&mut inner, role, false);
        // <member> holds the Role's fields directly.
        let fields = inner.0.strip_prefix("<Role>").and_then(|s| s.strip_suffix("</Role>")).unwrap_or(&inner.0);
        buf.raw(fields).raw("</member>");
    }
    buf.close("Roles");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

pub(super) fn delete_role(call: &mut Call<'_>) -> Answer {
    let role = authorized_role(call, "DeleteRole")?;
    if !role.inline.is_empty() || !role.attached.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete policies first."));
    }
    call.iam_mut()?.roles.remove(&fold(&role.name));
    Ok(None)
}

pub(super) fn update_role(call: &mut Call<'_>) -> Answer {
    let description = call.optional("Description").map(str::to_owned);
    check_description(description.as_deref())?;
    let max_session = max_session_duration(call.optional("MaxSessionDuration"))?;
    let role = authorized_role(call, "UpdateRole")?;
    let role = role_mut(call, &role.name)?;
    if let Some(d) = description {
        role.description = Some(d);
    }
    if let Some(m) = max_session {
        role.max_session_duration = m;
    }
    Ok(Some(String::new()))
}

pub(super) fn update_role_description(call: &mut Call<'_>) -> Answer {
    let description = call.required("Description")?.to_owned();
    check_description(Some(&description))?;
    let role = authorized_role(call, "UpdateRoleDescription")?;
    let role = role_mut(call, &role.name)?;
    role.description = Some(description);
    Ok(one_role(role))
}

pub(super) fn update_assume_role_policy(call: &mut Call<'_>) -> Answer {
    let document = call.required("PolicyDocument")?.to_owned();
    check_length(&document, "policyDocument")?;
    let role = authorized_role(call, "UpdateAssumeRolePolicy")?;
    check_trust_size(&document)?;
    let trust = docs::parse(call.world, &document, DocumentKind::Trust)?;
    role_mut(call, &role.name)?.trust = trust;
    Ok(None)
}
