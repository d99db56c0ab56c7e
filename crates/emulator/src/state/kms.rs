//! KMS keys of one account (a minimal KMS: enough to replicate SSE-KMS objects faithfully).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::iam::StoredPolicy;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KmsKey {
    pub key_id: String,
    pub arn: String,
    pub description: String,
    pub created: OffsetDateTime,
    pub state: KeyState,
    pub policy: StoredPolicy,
    /// Key material: used to really encrypt data keys and small payloads.
    pub material: [u8; 32],
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct KmsAccount {
    pub keys: BTreeMap<String, KmsKey>,
    /// alias/name -> key id
    pub aliases: BTreeMap<String, String>,
}

impl KmsAccount {
    /// Resolves a key id, key ARN, alias name or alias ARN to the key.
    pub fn resolve(&self, reference: &str) -> Option<&KmsKey> {
        let id = if let Some(rest) = reference.strip_prefix("arn:aws:kms:") {
            let resource = rest.splitn(3, ':').nth(2).unwrap_or("");
            if let Some(alias) = resource.strip_prefix("alias/") {
                self.aliases.get(&format!("alias/{alias}"))?.clone()
            } else {
                resource.strip_prefix("key/").unwrap_or(resource).to_owned()
            }
        } else if reference.starts_with("alias/") {
            self.aliases.get(reference)?.clone()
        } else {
            reference.to_owned()
        };
        self.keys.get(&id)
    }
}
