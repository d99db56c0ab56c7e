//! Group actions: groups, their members, inline and attached policies. A user's groups' policies
//! apply to the user ([`crate::state::IamAccount::user_policies`]).

use std::collections::{BTreeMap, BTreeSet};

use super::docs::GROUP_INLINE_MAX;
use super::holders::{self, holder_entity};
use super::reply::{already_exists, date, delete_conflict, limit_exceeded, no_such_entity, truncation};
use super::request::{check_name, check_path, check_path_prefix, paginate, Call};
use crate::error::ServiceError;
use crate::state::iam::{fold, Group, User};
use crate::state::{now, random_upper_id};
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

/// IAM quotas (IAM User Guide `reference_iam-quotas`).
pub(super) const GROUPS_PER_ACCOUNT: usize = 300;
pub(super) const GROUPS_PER_USER: usize = 10;
pub(super) const POLICIES_PER_GROUP: usize = 10;

pub(super) fn group_xml(buf: &mut XmlBuf, group: &Group, element: &str) {
    buf.open(element)
        .elem("Path", &group.path)
        .elem("GroupName", &group.name)
        .elem("GroupId", &group.group_id)
        .elem("Arn", &group.arn)
        .elem("CreateDate", &date(group.created))
        .close(element);
}

holder_entity!(
    Group {
        kind: "Group",
        noun: "group",
        param: "GroupName",
        field: "groupName",
        max: 128,
        inline_max: GROUP_INLINE_MAX,
        attached_max: POLICIES_PER_GROUP,
        map: groups,
        lookup: group,
        id: group_id
    },
    group_name,
    authorized_group,
    group_mut
);

pub(super) fn create_group(call: &mut Call<'_>) -> Answer {
    let name = group_name(call)?;
    let path = call.optional("Path").unwrap_or("/").to_owned();
    check_path(&path)?;
    let arn = call.arn("group", &path, &name);
    call.authorize("CreateGroup", &arn)?;
    let iam = call.iam()?;
    if iam.group(&name).is_some() {
        return Err(already_exists("Group", &name));
    }
    if iam.groups.len() >= GROUPS_PER_ACCOUNT {
        return Err(limit_exceeded(format!("Cannot exceed quota for GroupsPerAccount: {GROUPS_PER_ACCOUNT}")));
    }
    let group = Group {
        name: name.clone(),
        path,
        arn,
        group_id: random_upper_id("AGPA", 17),
        created: now(),
        inline: BTreeMap::new(),
        attached: BTreeSet::new(),
        members: BTreeSet::new(),
    };
    let mut buf = XmlBuf::default();
    group_xml(&mut buf, &group, "Group");
    call.iam_mut()?.groups.insert(fold(&name), group);
    Ok(Some(buf.0))
}

/// GetGroup: the group and its members (paged by user name).
pub(super) fn get_group(call: &mut Call<'_>) -> Answer {
    let group = authorized_group(call, "GetGroup")?;
    let members: Vec<User> = call.iam()?.users.values().filter(|u| group.members.contains(&u.user_id)).cloned().collect();
    let (page, next) = paginate(call, members, |u| fold(&u.name))?;
    let mut buf = XmlBuf::default();
    group_xml(&mut buf, &group, "Group");
    buf.open("Users");
    for user in &page {
        super::users::user_xml(&mut buf, user, "member", false);
    }
    buf.close("Users");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

fn groups_list(call: &Call<'_>, groups: Vec<Group>) -> Answer {
    let (page, next) = paginate(call, groups, |g| fold(&g.name))?;
    let mut buf = XmlBuf::default();
    buf.open("Groups");
    for group in &page {
        group_xml(&mut buf, group, "member");
    }
    buf.close("Groups");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

pub(super) fn list_groups(call: &mut Call<'_>) -> Answer {
    let prefix = call.optional("PathPrefix").unwrap_or("/").to_owned();
    check_path_prefix(&prefix)?;
    call.authorize("ListGroups", &call.arn("group", "/", ""))?;
    let groups: Vec<Group> = call.iam()?.groups.values().filter(|g| g.path.starts_with(&prefix)).cloned().collect();
    groups_list(call, groups)
}

pub(super) fn list_groups_for_user(call: &mut Call<'_>) -> Answer {
    let user = super::users::authorized_user(call, "ListGroupsForUser")?;
    let iam = call.iam()?;
    let groups: Vec<Group> = iam.groups_of(&user).cloned().collect();
    groups_list(call, groups)
}

pub(super) fn delete_group(call: &mut Call<'_>) -> Answer {
    let group = authorized_group(call, "DeleteGroup")?;
    if !group.members.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must remove users from group first."));
    }
    if !group.inline.is_empty() || !group.attached.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete policies first."));
    }
    call.iam_mut()?.groups.remove(&fold(&group.name));
    Ok(None)
}

/// UpdateGroup: a new name and/or path; members and policies stay with the group.
pub(super) fn update_group(call: &mut Call<'_>) -> Answer {
    holders::rename::<Group>(call)?;
    Ok(None)
}

/// The group and the user named by `GroupName` / `UserName`, authorized for `action`.
fn membership(call: &Call<'_>, action: &str) -> Result<(Group, User), ServiceError> {
    let group = authorized_group(call, action)?;
    let user_name = call.required("UserName")?.to_owned();
    check_name(&user_name, "userName", 64)?;
    let user = call.iam()?.user(&user_name).cloned().ok_or_else(|| no_such_entity("user", &user_name))?;
    Ok((group, user))
}

pub(super) fn add_user_to_group(call: &mut Call<'_>) -> Answer {
    let (group, user) = membership(call, "AddUserToGroup")?;
    if group.members.contains(&user.user_id) {
        return Ok(None);
    }
    if call.iam()?.groups_of(&user).count() >= GROUPS_PER_USER {
        return Err(limit_exceeded(format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")));
    }
    group_mut(call, &group.name)?.members.insert(user.user_id);
    Ok(None)
}

pub(super) fn remove_user_from_group(call: &mut Call<'_>) -> Answer {
    let (group, user) = membership(call, "RemoveUserFromGroup")?;
    if !group_mut(call, &group.name)?.members.remove(&user.user_id) {
        return Err(ServiceError::no_such_entity(format!("User {} is not in group {}.", user.name, group.name)));
    }
    Ok(None)
}
