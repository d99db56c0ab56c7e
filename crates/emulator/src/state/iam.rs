//! IAM entities of one account: roles, users and customer managed policies.

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
}

impl ManagedPolicy {
    pub fn default_document(&self) -> Option<&StoredPolicy> {
        self.versions.get(&self.default_version)
    }
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct IamAccount {
    pub roles: BTreeMap<String, Role>,
    pub users: BTreeMap<String, User>,
    /// Keyed by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
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

    pub fn role_policies(&self, role: &str) -> Vec<Arc<Policy>> {
        self.roles.get(role).map(|r| self.collect(&r.inline, &r.attached)).unwrap_or_default()
    }

    pub fn user_policies(&self, user: &str) -> Vec<Arc<Policy>> {
        self.users.get(user).map(|u| self.collect(&u.inline, &u.attached)).unwrap_or_default()
    }

    /// Finds a role by its ARN (path included), as the replication configuration names it.
    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.roles.values().find(|r| r.arn == arn)
    }
}
