//! Inline policies, attached managed policies and tags work the same way for roles, users and
//! groups: one implementation of those actions, parameterised by [`Holder`] (and [`Tagged`] for
//! the entities IAM tags: roles and users).

use std::collections::{BTreeMap, BTreeSet};

use xrepl_policy::DocumentKind;

use super::docs::{self, check_length, quota_size};
use super::managed;
use super::reply::{already_exists, limit_exceeded, no_such_entity, tags_xml, truncation, url_encode};
use super::request::{check_name, check_path, check_path_prefix, member_values, merge_tags, paginate, parse_tags, Call};
use crate::error::ServiceError;
use crate::state::iam::{fold, IamAccount, StoredPolicy};
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

/// An IAM identity that holds policies (a role, a user or a group).
pub(super) trait Holder: Clone {
    /// As in the action names: `Role` (PutRolePolicy, TagRole), `User` or `Group`.
    const KIND: &'static str;
    /// As in AWS's messages: "role policy", "exceeded for user alice".
    const NOUN: &'static str;
    /// Quota for all inline policies together, in characters other than whitespace.
    const INLINE_MAX: usize;
    /// Quota of attached managed policies.
    const ATTACHED_MAX: usize;
    /// The longest name IAM accepts for it.
    const NAME_MAX: usize;

    fn name(&self) -> &str;
    fn path(&self) -> &str;
    /// As in `{Kind}Id`: AROA…, AIDA…, AGPA….
    fn id(&self) -> &str;
    /// Gives it a new name and path, and the ARN they make.
    fn move_to(&mut self, name: String, path: String, arn: String);
    fn inline(&self) -> &BTreeMap<String, StoredPolicy>;
    fn inline_mut(&mut self) -> &mut BTreeMap<String, StoredPolicy>;
    fn attached(&self) -> &BTreeSet<String>;
    fn attached_mut(&mut self) -> &mut BTreeSet<String>;
    /// Validates the name parameter, authorizes `iam:{action}` on the entity and returns it (cloned).
    fn authorized(call: &Call<'_>, action: &str) -> Result<Self, ServiceError>;
    fn get_mut<'c>(call: &'c mut Call<'_>, name: &str) -> Result<&'c mut Self, ServiceError>;
    /// The account's entities of this kind, by folded name.
    fn all(iam: &IamAccount) -> &BTreeMap<String, Self>;
    fn all_mut(iam: &mut IamAccount) -> &mut BTreeMap<String, Self>;
}

/// Defines, for an entity kept in `IamAccount::$map` under its folded name: `$param_fn` (its
/// validated name parameter), `$authorized_fn` (validates, authorizes `iam:{action}` on the
/// entity and returns it cloned; the root-path ARN stands in for one that does not exist, since
/// IAM checks permission before existence), `$mut_fn`, and its [`Holder`] impl.
macro_rules! holder_entity {
    (
        $ty:ident { kind: $kind:literal, noun: $noun:literal, param: $param:literal, field: $field:literal, max: $max:expr,
        inline_max: $inline_max:expr, attached_max: $attached_max:expr, map: $map:ident, lookup: $lookup:ident, id: $id:ident },
        $param_fn:ident, $authorized_fn:ident, $mut_fn:ident
    ) => {
        fn $param_fn(call: &$crate::iam::request::Call<'_>) -> Result<String, $crate::error::ServiceError> {
            let name = call.required($param)?.to_owned();
            $crate::iam::request::check_name(&name, $field, $max)?;
            Ok(name)
        }

        pub(super) fn $authorized_fn(call: &$crate::iam::request::Call<'_>, action: &str) -> Result<$ty, $crate::error::ServiceError> {
            let name = $param_fn(call)?;
            let resource =
                call.iam().ok().and_then(|iam| iam.$lookup(&name)).map_or_else(|| call.arn($noun, "/", &name), |e| e.arn.clone());
            call.authorize(action, &resource)?;
            call.iam()?.$lookup(&name).cloned().ok_or_else(|| $crate::iam::reply::no_such_entity($noun, &name))
        }

        fn $mut_fn<'c>(call: &'c mut $crate::iam::request::Call<'_>, name: &str) -> Result<&'c mut $ty, $crate::error::ServiceError> {
            call.iam_mut()?.$map.get_mut(&$crate::state::iam::fold(name)).ok_or_else(|| $crate::iam::reply::no_such_entity($noun, name))
        }

        impl $crate::iam::holders::Holder for $ty {
            const KIND: &'static str = $kind;
            const NOUN: &'static str = $noun;
            const INLINE_MAX: usize = $inline_max;
            const ATTACHED_MAX: usize = $attached_max;
            const NAME_MAX: usize = $max;

            fn name(&self) -> &str {
                &self.name
            }
            fn path(&self) -> &str {
                &self.path
            }
            fn id(&self) -> &str {
                &self.$id
            }
            fn move_to(&mut self, name: String, path: String, arn: String) {
                self.name = name;
                self.path = path;
                self.arn = arn;
            }
            fn inline(&self) -> &std::collections::BTreeMap<String, $crate::state::iam::StoredPolicy> {
                &self.inline
            }
            fn inline_mut(&mut self) -> &mut std::collections::BTreeMap<String, $crate::state::iam::StoredPolicy> {
                &mut self.inline
            }
            fn attached(&self) -> &std::collections::BTreeSet<String> {
                &self.attached
            }
            fn attached_mut(&mut self) -> &mut std::collections::BTreeSet<String> {
                &mut self.attached
            }
            fn authorized(call: &$crate::iam::request::Call<'_>, action: &str) -> Result<Self, $crate::error::ServiceError> {
                $authorized_fn(call, action)
            }
            fn get_mut<'c>(call: &'c mut $crate::iam::request::Call<'_>, name: &str) -> Result<&'c mut Self, $crate::error::ServiceError> {
                $mut_fn(call, name)
            }
            fn all(iam: &$crate::state::iam::IamAccount) -> &std::collections::BTreeMap<String, Self> {
                &iam.$map
            }
            fn all_mut(iam: &mut $crate::state::iam::IamAccount) -> &mut std::collections::BTreeMap<String, Self> {
                &mut iam.$map
            }
        }
    };
}
pub(super) use holder_entity;

/// UpdateUser / UpdateGroup: a new name and/or path. The entity is stored under its new name
/// (its id, policies and memberships stay) and returned as it is now.
pub(super) fn rename<H: Holder>(call: &mut Call<'_>) -> Result<H, ServiceError> {
    let action = format!("Update{}", H::KIND);
    let new_name = match call.optional(&format!("New{}Name", H::KIND)) {
        Some(n) => {
            check_name(n, &format!("new{}Name", H::KIND), H::NAME_MAX)?;
            Some(n.to_owned())
        }
        None => None,
    };
    let new_path = call.optional("NewPath").map(str::to_owned);
    if let Some(p) = &new_path {
        check_path(p)?;
    }
    let old = H::authorized(call, &action)?;
    if let Some(n) = &new_name {
        // IAM also checks the caller may act on the entity under its new name.
        call.authorize(&action, &call.arn(H::NOUN, new_path.as_deref().unwrap_or(old.path()), n))?;
        if fold(n) != fold(old.name()) && H::all(call.iam()?).contains_key(&fold(n)) {
            return Err(already_exists(H::KIND, n));
        }
    }
    let name = new_name.unwrap_or_else(|| old.name().to_owned());
    let path = new_path.unwrap_or_else(|| old.path().to_owned());
    let arn = call.arn(H::NOUN, &path, &name);
    let mut updated = old.clone();
    updated.move_to(name, path, arn);
    let all = H::all_mut(call.iam_mut()?);
    all.remove(&fold(old.name()));
    all.insert(fold(updated.name()), updated.clone());
    Ok(updated)
}

/// A holder that also carries tags (roles and users; IAM has no group tags).
pub(super) trait Tagged: Holder {
    fn tags(&self) -> &[(String, String)];
    fn tags_mut(&mut self) -> &mut Vec<(String, String)>;
}

fn policy_name(call: &Call<'_>) -> Result<String, ServiceError> {
    let name = call.required("PolicyName")?.to_owned();
    check_name(&name, "policyName", 128)?;
    Ok(name)
}

fn inline_noun<H: Holder>() -> String {
    format!("{} policy", H::NOUN)
}

/// PutRolePolicy / PutUserPolicy.
pub(super) fn put_policy<H: Holder>(call: &mut Call<'_>) -> Answer {
    let name = policy_name(call)?;
    let document = call.required("PolicyDocument")?.to_owned();
    check_length(&document, "policyDocument")?;
    let holder = H::authorized(call, &format!("Put{}Policy", H::KIND))?;
    // The quota covers all inline policies of the entity together.
    let others: usize = holder.inline().iter().filter(|(n, _)| **n != name).map(|(_, p)| quota_size(&p.text)).sum();
    if others + quota_size(&document) > H::INLINE_MAX {
        return Err(limit_exceeded(format!("Maximum policy size of {} bytes exceeded for {} {}", H::INLINE_MAX, H::NOUN, holder.name())));
    }
    let policy = docs::parse(call.world, &document, DocumentKind::Identity)?;
    H::get_mut(call, holder.name())?.inline_mut().insert(name, policy);
    Ok(None)
}

/// GetRolePolicy / GetUserPolicy: the document comes back URL-encoded, as IAM sends it.
pub(super) fn get_policy<H: Holder>(call: &mut Call<'_>) -> Answer {
    let name = policy_name(call)?;
    let holder = H::authorized(call, &format!("Get{}Policy", H::KIND))?;
    let policy = holder.inline().get(&name).ok_or_else(|| no_such_entity(&inline_noun::<H>(), &name))?;
    let mut buf = XmlBuf::default();
    buf.elem(&format!("{}Name", H::KIND), holder.name()).elem("PolicyName", &name).elem("PolicyDocument", &url_encode(&policy.text));
    Ok(Some(buf.0))
}

/// DeleteRolePolicy / DeleteUserPolicy.
pub(super) fn delete_policy<H: Holder>(call: &mut Call<'_>) -> Answer {
    let name = policy_name(call)?;
    let holder = H::authorized(call, &format!("Delete{}Policy", H::KIND))?;
    if !holder.inline().contains_key(&name) {
        return Err(no_such_entity(&inline_noun::<H>(), &name));
    }
    H::get_mut(call, holder.name())?.inline_mut().remove(&name);
    Ok(None)
}

/// ListRolePolicies / ListUserPolicies.
pub(super) fn list_policies<H: Holder>(call: &mut Call<'_>) -> Answer {
    let holder = H::authorized(call, &format!("List{}Policies", H::KIND))?;
    let names: Vec<String> = holder.inline().keys().cloned().collect();
    let (page, next) = paginate(call, names, Clone::clone)?;
    let mut buf = XmlBuf::default();
    buf.open("PolicyNames");
    for n in &page {
        buf.elem("member", n);
    }
    buf.close("PolicyNames");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

/// AttachRolePolicy / AttachUserPolicy (attaching twice is a no-op, as in IAM).
pub(super) fn attach<H: Holder>(call: &mut Call<'_>) -> Answer {
    let arn = managed::policy_arn_param(call)?;
    let holder = H::authorized(call, &format!("Attach{}Policy", H::KIND))?;
    managed::check_attachable(call, &arn)?;
    if holder.attached().contains(&arn) {
        return Ok(None);
    }
    if holder.attached().len() >= H::ATTACHED_MAX {
        return Err(limit_exceeded(format!("Cannot exceed quota for PoliciesPer{}: {}", H::KIND, H::ATTACHED_MAX)));
    }
    managed::attach(call, &arn)?;
    H::get_mut(call, holder.name())?.attached_mut().insert(arn);
    Ok(None)
}

/// DetachRolePolicy / DetachUserPolicy.
pub(super) fn detach<H: Holder>(call: &mut Call<'_>) -> Answer {
    let arn = managed::policy_arn_param(call)?;
    let holder = H::authorized(call, &format!("Detach{}Policy", H::KIND))?;
    if !holder.attached().contains(&arn) {
        return Err(ServiceError::no_such_entity(format!("Policy {arn} was not found.")));
    }
    H::get_mut(call, holder.name())?.attached_mut().remove(&arn);
    managed::detach(call, &arn)?;
    Ok(None)
}

/// ListAttachedRolePolicies / ListAttachedUserPolicies.
pub(super) fn list_attached<H: Holder>(call: &mut Call<'_>) -> Answer {
    let prefix = call.optional("PathPrefix").unwrap_or("/").to_owned();
    check_path_prefix(&prefix)?;
    let holder = H::authorized(call, &format!("ListAttached{}Policies", H::KIND))?;
    managed::attached_xml(call, holder.attached(), &prefix)
}

/// TagRole / TagUser.
pub(super) fn tag<H: Tagged>(call: &mut Call<'_>) -> Answer {
    let quota = format!("TagsPer{}", H::KIND);
    let tags = parse_tags(call.params, "Tags", &quota)?;
    if tags.is_empty() {
        return Err(ServiceError::missing_parameter("Tags"));
    }
    let holder = H::authorized(call, &format!("Tag{}", H::KIND))?;
    let merged = merge_tags(holder.tags(), &tags, &quota)?;
    *H::get_mut(call, holder.name())?.tags_mut() = merged;
    Ok(None)
}

/// UntagRole / UntagUser (tag keys compare case-insensitively, as in IAM).
pub(super) fn untag<H: Tagged>(call: &mut Call<'_>) -> Answer {
    let keys = member_values(call.params, "TagKeys");
    let holder = H::authorized(call, &format!("Untag{}", H::KIND))?;
    H::get_mut(call, holder.name())?.tags_mut().retain(|(k, _)| !keys.iter().any(|r| r.eq_ignore_ascii_case(k)));
    Ok(None)
}

/// ListRoleTags / ListUserTags.
pub(super) fn list_tags<H: Tagged>(call: &mut Call<'_>) -> Answer {
    let holder = H::authorized(call, &format!("List{}Tags", H::KIND))?;
    let mut buf = XmlBuf::default();
    tags_xml(&mut buf, holder.tags());
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}
