//! One IAM call and its parameters: the [`Call`] every action works on, and the parameter
//! validation, tag lists, member lists and paging they share, with IAM's wording. A leaf of
//! `iam` (with `reply` and `authz`): the actions use it, and `mod.rs` only dispatches to them.

use std::collections::BTreeMap;

use super::authz::authorize_identity;
use super::reply::limit_exceeded;
use crate::error::ServiceError;
use crate::identity::Caller;
use crate::state::{IamAccount, World};

/// Request parameters of a Query-protocol call.
pub type Params = BTreeMap<String, String>;

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

pub(crate) fn constraint(value: &str, field: &str, what: &str) -> ServiceError {
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
