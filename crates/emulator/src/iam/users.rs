//! User actions: users, their access keys, inline and attached policies, tags.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock, PoisonError};

use base64::Engine;
use rand::RngCore;
use time::OffsetDateTime;

use super::docs::USER_INLINE_MAX;
use super::holders::{self, holder_entity, Tagged};
use super::reply::{already_exists, date, delete_conflict, limit_exceeded, no_such_entity, tags_xml, truncation};
use super::request::{check_path, check_path_prefix, paginate, parse_tags, Call};
use crate::error::ServiceError;
use crate::identity::PrincipalKind;
use crate::state::iam::{fold, User};
use crate::state::{now, random_upper_id, AccessKey, KeyOwner};
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

pub(super) const USERS_PER_ACCOUNT: usize = 5000;
pub(super) const POLICIES_PER_USER: usize = 10;
pub(super) const ACCESS_KEYS_PER_USER: usize = 2;

/// Creation dates of access keys made through CreateAccessKey. `state::AccessKey` has no date
/// field, so they are kept here, keyed by the (globally unique, random) access key id.
fn key_dates() -> std::sync::MutexGuard<'static, HashMap<String, OffsetDateTime>> {
    static DATES: OnceLock<Mutex<HashMap<String, OffsetDateTime>>> = OnceLock::new();
    DATES.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner)
}

fn key_date(id: &str) -> OffsetDateTime {
    key_dates().get(id).copied().unwrap_or_else(now)
}

pub(super) fn user_xml(buf: &mut XmlBuf, user: &User, element: &str, with_tags: bool) {
    buf.open(element)
        .elem("Path", &user.path)
        .elem("UserName", &user.name)
        .elem("UserId", &user.user_id)
        .elem("Arn", &user.arn)
        .elem("CreateDate", &date(user.created));
    if with_tags && !user.tags.is_empty() {
        tags_xml(buf, &user.tags);
    }
    buf.close(element);
}

fn one_user(user: &User) -> Option<String> {
    let mut buf = XmlBuf::default();
    user_xml(&mut buf, user, "User", true);
    Some(buf.0)
}

holder_entity!(
    User {
        kind: "User",
        noun: "user",
        param: "UserName",
        field: "userName",
        max: 64,
        inline_max: USER_INLINE_MAX,
        attached_max: POLICIES_PER_USER,
        map: users,
        lookup: user,
        id: user_id
    },
    user_name,
    authorized_user,
    user_mut
);

impl Tagged for User {
    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
    fn tags_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.tags
    }
}

/// Whose access keys an access-key action is about: `UserName`, else the calling user, else the
/// account root.
enum KeyTarget {
    User(Box<User>),
    Root,
}

fn key_target(call: &Call<'_>, action: &str) -> Result<KeyTarget, ServiceError> {
    if call.optional("UserName").is_some() {
        return authorized_user(call, action).map(|u| KeyTarget::User(Box::new(u)));
    }
    match &call.caller.kind {
        PrincipalKind::Root => Ok(KeyTarget::Root),
        PrincipalKind::User { name, arn } => {
            call.authorize(action, arn)?;
            call.iam()?.user(name).cloned().map(|u| KeyTarget::User(Box::new(u))).ok_or_else(|| no_such_entity("user", name))
        }
        _ => Err(ServiceError::validation("Must specify userName when calling with non-User credentials")),
    }
}

pub(super) fn create_user(call: &mut Call<'_>) -> Answer {
    let name = user_name(call)?;
    let path = call.optional("Path").unwrap_or("/").to_owned();
    check_path(&path)?;
    let tags = parse_tags(call.params, "Tags", "TagsPerUser")?;
    let arn = call.arn("user", &path, &name);
    call.authorize("CreateUser", &arn)?;
    if !tags.is_empty() {
        call.authorize("TagUser", &arn)?;
    }
    let iam = call.iam()?;
    if iam.user(&name).is_some() {
        return Err(already_exists("User", &name));
    }
    if iam.users.len() >= USERS_PER_ACCOUNT {
        return Err(limit_exceeded(format!("Cannot exceed quota for UsersPerAccount: {USERS_PER_ACCOUNT}")));
    }
    let user = User {
        name: name.clone(),
        path,
        arn,
        user_id: random_upper_id("AIDA", 17),
        created: now(),
        inline: BTreeMap::new(),
        attached: BTreeSet::new(),
        access_keys: Vec::new(),
        tags,
    };
    let answer = one_user(&user);
    call.iam_mut()?.users.insert(fold(&name), user);
    Ok(answer)
}

pub(super) fn get_user(call: &mut Call<'_>) -> Answer {
    match key_target(call, "GetUser")? {
        KeyTarget::User(user) => Ok(one_user(&user)),
        KeyTarget::Root => {
            // The root user: no name or path, the account id as its id.
            let mut buf = XmlBuf::default();
            buf.open("User")
                .elem("UserId", &call.account)
                .elem("Arn", &format!("arn:aws:iam::{}:root", call.account))
                .elem("CreateDate", &date(time::macros::datetime!(2015-01-01 00:00:00 UTC)))
                .close("User");
            Ok(Some(buf.0))
        }
    }
}

pub(super) fn list_users(call: &mut Call<'_>) -> Answer {
    let prefix = call.optional("PathPrefix").unwrap_or("/").to_owned();
    check_path_prefix(&prefix)?;
    call.authorize("ListUsers", &call.arn("user", "/", ""))?;
    let users: Vec<User> = call.iam()?.users.values().filter(|u| u.path.starts_with(&prefix)).cloned().collect();
    let (page, next) = paginate(call, users, |u| fold(&u.name))?;
    let mut buf = XmlBuf::default();
    buf.open("Users");
    for user in &page {
        user_xml(&mut buf, user, "member", false);
    }
    buf.close("Users");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

pub(super) fn delete_user(call: &mut Call<'_>) -> Answer {
    let user = authorized_user(call, "DeleteUser")?;
    if !user.access_keys.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete access keys first."));
    }
    if !user.inline.is_empty() || !user.attached.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete policies first."));
    }
    if call.iam()?.groups_of(&user).next().is_some() {
        return Err(delete_conflict("Cannot delete entity, must remove users from group first."));
    }
    call.iam_mut()?.users.remove(&fold(&user.name));
    Ok(None)
}

/// UpdateUser: a new name and/or path. The user id, keys, policies and group memberships stay;
/// the user's access keys follow the new name.
pub(super) fn update_user(call: &mut Call<'_>) -> Answer {
    let user = holders::rename::<User>(call)?;
    for id in &user.access_keys {
        if let Some(key) = call.world.keys.get_mut(id) {
            key.owner = KeyOwner::User(user.name.clone());
        }
    }
    Ok(None)
}

/// A 40-character secret from the base64 alphabet, like AWS's.
fn new_secret() -> String {
    let mut bytes = [0u8; 30];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Access keys made by CreateAccessKey for the account root (the emulator's configured root
/// keys are not listed).
fn root_keys(call: &Call<'_>) -> Vec<String> {
    let mut ids: Vec<String> = call
        .world
        .keys
        .iter()
        .filter(|(id, k)| k.account == call.account && k.owner == KeyOwner::Root && id.starts_with("AKIA") && key_dates().contains_key(*id))
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}

pub(super) fn create_access_key(call: &mut Call<'_>) -> Answer {
    let target = key_target(call, "CreateAccessKey")?;
    let (owner, existing, user_name) = match &target {
        KeyTarget::User(u) => (KeyOwner::User(u.name.clone()), u.access_keys.len(), Some(u.name.clone())),
        KeyTarget::Root => (KeyOwner::Root, root_keys(call).len(), None),
    };
    if existing >= ACCESS_KEYS_PER_USER {
        return Err(limit_exceeded(format!("Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")));
    }
    let mut id = random_upper_id("AKIA", 16);
    while call.world.keys.contains_key(&id) {
        id = random_upper_id("AKIA", 16);
    }
    let secret = new_secret();
    let created = now();
    if let Some(name) = &user_name {
        user_mut(call, name)?.access_keys.push(id.clone());
    }
    call.world.keys.insert(id.clone(), AccessKey { account: call.account.clone(), secret: secret.clone(), owner, active: true });
    key_dates().insert(id.clone(), created);
    let mut buf = XmlBuf::default();
    buf.open("AccessKey")
        .opt("UserName", user_name.as_deref())
        .elem("AccessKeyId", &id)
        .elem("Status", "Active")
        .elem("SecretAccessKey", &secret)
        .elem("CreateDate", &date(created))
        .close("AccessKey");
    Ok(Some(buf.0))
}

fn access_key_id(call: &Call<'_>) -> Result<String, ServiceError> {
    let id = call.required("AccessKeyId")?.to_owned();
    if id.len() < 16 || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{id}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"
        )));
    }
    Ok(id)
}

fn key_not_found(id: &str) -> ServiceError {
    ServiceError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

/// The key, checked to belong to the target.
fn owned_key(call: &Call<'_>, target: &KeyTarget, id: &str) -> Result<(), ServiceError> {
    let owned = match target {
        KeyTarget::User(u) => u.access_keys.iter().any(|k| k == id),
        KeyTarget::Root => root_keys(call).iter().any(|k| k == id),
    };
    if owned && call.world.keys.contains_key(id) {
        Ok(())
    } else {
        Err(key_not_found(id))
    }
}

pub(super) fn delete_access_key(call: &mut Call<'_>) -> Answer {
    let id = access_key_id(call)?;
    let target = key_target(call, "DeleteAccessKey")?;
    owned_key(call, &target, &id)?;
    if let KeyTarget::User(u) = &target {
        user_mut(call, &u.name)?.access_keys.retain(|k| *k != id);
    }
    call.world.keys.remove(&id);
    key_dates().remove(&id);
    Ok(None)
}

pub(super) fn update_access_key(call: &mut Call<'_>) -> Answer {
    let id = access_key_id(call)?;
    let status = call.required("Status")?.to_owned();
    let active = match status.as_str() {
        "Active" => true,
        "Inactive" => false,
        _ => {
            return Err(ServiceError::validation(format!(
                "1 validation error detected: Value '{status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
            )))
        }
    };
    let target = key_target(call, "UpdateAccessKey")?;
    owned_key(call, &target, &id)?;
    if let Some(key) = call.world.keys.get_mut(&id) {
        key.active = active;
    }
    Ok(None)
}

pub(super) fn list_access_keys(call: &mut Call<'_>) -> Answer {
    let target = key_target(call, "ListAccessKeys")?;
    let (ids, user_name) = match &target {
        KeyTarget::User(u) => (u.access_keys.clone(), Some(u.name.clone())),
        KeyTarget::Root => (root_keys(call), None),
    };
    let mut buf = XmlBuf::default();
    buf.opt("UserName", user_name.as_deref());
    buf.open("AccessKeyMetadata");
    for id in &ids {
        let active = call.world.keys.get(id).is_some_and(|k| k.active);
        buf.open("member")
            .opt("UserName", user_name.as_deref())
            .elem("AccessKeyId", id)
            .elem("Status", if active { "Active" } else { "Inactive" })
            .elem("CreateDate", &date(key_date(id)))
            .close("member");
    }
    buf.close("AccessKeyMetadata");
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}
