//! Inline policies, attached managed policies and tags work the same way for roles and users:
//! one implementation of those actions, parameterised by [`Holder`].

use std::collections::{BTreeMap, BTreeSet};

use xrepl_policy::DocumentKind;

use super::docs::{self, check_length, quota_size};
use super::managed;
use super::{
    check_name, check_path_prefix, limit_exceeded, member_values, merge_tags, no_such_entity, paginate, parse_tags, tags_xml, truncation,
    url_encode, Call,
};
use crate::error::ServiceError;
use crate::state::iam::StoredPolicy;
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

/// An IAM identity that holds policies and tags (a role or a user).
pub(super) trait Holder: Clone {
    /// As in the action names: `Role` (PutRolePolicy, TagRole) or `User`.
    const KIND: &'static str;
    /// As in AWS's messages: "role policy", "exceeded for user alice".
    const NOUN: &'static str;
    /// Quota for all inline policies together, in characters other than whitespace.
    const INLINE_MAX: usize;
    /// Quota of attached managed policies.
    const ATTACHED_MAX: usize;

    fn name(&self) -> &str;
    fn inline(&self) -> &BTreeMap<String, StoredPolicy>;
    fn inline_mut(&mut self) -> &mut BTreeMap<String, StoredPolicy>;
    fn attached(&self) -> &BTreeSet<String>;
    fn attached_mut(&mut self) -> &mut BTreeSet<String>;
    fn tags(&self) -> &[(String, String)];
    fn tags_mut(&mut self) -> &mut Vec<(String, String)>;
    /// Validates the name parameter, authorizes `iam:{action}` on the entity and returns it (cloned).
    fn authorized(call: &Call<'_>, action: &str) -> Result<Self, ServiceError>;
    fn get_mut<'c>(call: &'c mut Call<'_>, name: &str) -> Result<&'c mut Self, ServiceError>;
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
pub(super) fn tag<H: Holder>(call: &mut Call<'_>) -> Answer {
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
pub(super) fn untag<H: Holder>(call: &mut Call<'_>) -> Answer {
    let keys = member_values(call.params, "TagKeys");
    let holder = H::authorized(call, &format!("Untag{}", H::KIND))?;
    H::get_mut(call, holder.name())?.tags_mut().retain(|(k, _)| !keys.iter().any(|r| r.eq_ignore_ascii_case(k)));
    Ok(None)
}

/// ListRoleTags / ListUserTags.
pub(super) fn list_tags<H: Holder>(call: &mut Call<'_>) -> Answer {
    let holder = H::authorized(call, &format!("List{}Tags", H::KIND))?;
    let mut buf = XmlBuf::default();
    tags_xml(&mut buf, holder.tags());
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}
