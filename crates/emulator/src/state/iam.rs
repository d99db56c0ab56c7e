//! IAM entities of one account: roles, users, groups, customer managed policies and OpenID
//! Connect providers.
//!
//! Roles, users and groups are keyed by their name folded to lower case ([`fold`]): IAM names
//! are unique regardless of case, any spelling finds the entity, and the maps' order is IAM's
//! listing order. Each entity keeps the name as it was created.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use time::OffsetDateTime;
use xrepl_policy::Policy;

/// A policy document as the user sent it (text is echoed back) and as parsed (for evaluation).
#[derive(Debug, Clone)]
pub struct StoredPolicy {
    pub text: String,
    pub parsed: Arc<Policy>,
}

/// Stored as its text; parsed again when loaded (it was valid when accepted, and a document's
/// parsed form does not depend on the kind it was checked as, so the first kind that accepts it
/// will do).
impl serde::Serialize for StoredPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for StoredPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use xrepl_policy::DocumentKind;
        let text = String::deserialize(d)?;
        let parsed = [DocumentKind::Identity, DocumentKind::Resource, DocumentKind::Trust]
            .into_iter()
            .find_map(|kind| Policy::parse(&text, kind).ok())
            .ok_or_else(|| serde::de::Error::custom("a stored policy document no longer parses"))?;
        Ok(Self { text, parsed: Arc::new(parsed) })
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub role_id: String,
    pub created: OffsetDateTime,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub trust: StoredPolicy,
    pub inline: BTreeMap<String, StoredPolicy>,
    pub attached: BTreeSet<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub user_id: String,
    pub created: OffsetDateTime,
    pub inline: BTreeMap<String, StoredPolicy>,
    pub attached: BTreeSet<String>,
    pub access_keys: Vec<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Group {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub group_id: String,
    pub created: OffsetDateTime,
    pub inline: BTreeMap<String, StoredPolicy>,
    pub attached: BTreeSet<String>,
    /// Members by user id: stable when a user or the group is renamed.
    pub members: BTreeSet<String>,
}

/// An OpenID Connect identity provider (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OidcProvider {
    pub arn: String,
    /// The issuer URL as created (`https://host/path`).
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created: OffsetDateTime,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub policy_id: String,
    pub created: OffsetDateTime,
    pub description: Option<String>,
    pub default_version: String,
    pub versions: BTreeMap<String, StoredPolicy>,
    pub attachment_count: usize,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> Option<&StoredPolicy> {
        self.versions.get(&self.default_version)
    }
}

/// An IAM name as the maps are keyed: folded to lower case.
pub fn fold(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Loads a name-keyed map, folding keys (states saved before names were folded kept them as
/// created).
fn folded<'de, D, T>(d: D) -> Result<BTreeMap<String, T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let map = <BTreeMap<String, T> as serde::Deserialize>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (fold(&k), v)).collect())
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct IamAccount {
    #[serde(deserialize_with = "folded")]
    pub roles: BTreeMap<String, Role>,
    #[serde(deserialize_with = "folded")]
    pub users: BTreeMap<String, User>,
    #[serde(default, deserialize_with = "folded")]
    pub groups: BTreeMap<String, Group>,
    /// Keyed by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    /// Keyed by ARN.
    #[serde(default)]
    pub oidc_providers: BTreeMap<String, OidcProvider>,
}

impl IamAccount {
    fn collect(&self, inline: &BTreeMap<String, StoredPolicy>, attached: &BTreeSet<String>) -> Vec<Arc<Policy>> {
        inline
            .values()
            .map(|p| Arc::clone(&p.parsed))
            .chain(
                attached
                    .iter()
                    .filter_map(|arn| self.policies.get(arn).and_then(ManagedPolicy::default_document))
                    .map(|p| Arc::clone(&p.parsed)),
            )
            .collect()
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(&fold(name))
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.get(&fold(name))
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.get(&fold(name))
    }

    /// The groups a user belongs to, in listing order.
    pub fn groups_of<'s>(&'s self, user: &'s User) -> impl Iterator<Item = &'s Group> + 's {
        self.groups.values().filter(move |g| g.members.contains(&user.user_id))
    }

    pub fn role_policies(&self, role: &str) -> Vec<Arc<Policy>> {
        self.role(role).map(|r| self.collect(&r.inline, &r.attached)).unwrap_or_default()
    }

    /// A user's own policies and those of every group it is in (IAM User Guide,
    /// `id_groups`: "users in the group automatically have the permissions that are assigned
    /// to the group").
    pub fn user_policies(&self, user: &str) -> Vec<Arc<Policy>> {
        let Some(u) = self.user(user) else { return Vec::new() };
        let mut out = self.collect(&u.inline, &u.attached);
        for group in self.groups_of(u) {
            out.extend(self.collect(&group.inline, &group.attached));
        }
        out
    }

    /// Finds a role by its ARN (path included), as the replication configuration names it.
    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.roles.values().find(|r| r.arn == arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> Role {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let parsed = Policy::parse(text, xrepl_policy::DocumentKind::Trust).expect("trust policy parses");
        Role {
            name: name.to_owned(),
            path: "/".to_owned(),
            arn: format!("arn:aws:iam::111111111111:role/{name}"),
            role_id: "AROAEXAMPLE".to_owned(),
            created: OffsetDateTime::UNIX_EPOCH,
            description: None,
            max_session_duration: 3600,
            trust: StoredPolicy { text: text.to_owned(), parsed: Arc::new(parsed) },
            inline: BTreeMap::new(),
            attached: BTreeSet::new(),
            tags: Vec::new(),
        }
    }

    #[test]
    fn states_saved_with_names_as_created_are_folded_when_loaded() {
        // Before names were folded, maps were keyed by the name as created.
        let mut legacy = IamAccount::default();
        legacy.roles.insert("Replicator".to_owned(), role("Replicator"));
        let mut saved = serde_json::to_value(&legacy).expect("serializes");
        // A state from before groups and OIDC providers existed.
        saved.as_object_mut().expect("object").remove("groups");
        saved.as_object_mut().expect("object").remove("oidc_providers");
        let loaded: IamAccount = serde_json::from_value(saved).expect("loads");
        assert_eq!(loaded.roles.keys().collect::<Vec<_>>(), ["replicator"]);
        assert_eq!(loaded.role("REPLICATOR").map(|r| r.name.as_str()), Some("Replicator"));
        assert!(loaded.groups.is_empty() && loaded.oidc_providers.is_empty());
    }
}
