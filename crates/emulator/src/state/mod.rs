//! The emulator's world: accounts, their access keys, IAM entities, KMS keys, and the global
//! bucket namespace. One `World` sits behind one mutex; handlers lock it only between awaits.

pub mod batch;
pub mod blob;
pub mod files;
pub mod iam;
pub mod ids;
pub mod kms;
pub mod persist;
pub mod s3;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use xrepl_policy::Policy;

use crate::config::{is_account_id, EmulatorConfig};
use crate::identity::{Caller, PrincipalKind};

pub use self::blob::{Blob, BlobStore, MemoryBlobStore};
pub use self::iam::IamAccount;
pub use self::ids::{random_id, random_upper_id};
pub use self::kms::KmsAccount;
pub use self::s3::Bucket;

/// Public facts about an account, for tests and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    pub account_id: String,
    pub canonical_id: String,
    /// LocalStack-style root access key id (the account id itself).
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct AccountState {
    pub id: String,
    pub canonical_id: String,
    pub iam: IamAccount,
    pub kms: KmsAccount,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyOwner {
    Root,
    User(String),
    Session { role_name: String, role_arn: String, session_name: String, token: String, expires: OffsetDateTime },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AccessKey {
    pub account: String,
    pub secret: String,
    pub owner: KeyOwner,
    pub active: bool,
}

/// Why a verified-or-not access key could not be turned into a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    UnknownKey,
    InvalidToken,
    ExpiredToken,
}

#[derive(Debug)]
pub struct World {
    pub accounts: BTreeMap<String, AccountState>,
    pub keys: HashMap<String, AccessKey>,
    pub buckets: BTreeMap<String, Bucket>,
    /// Object bytes (metadata stays in `buckets`).
    pub blobs: Arc<dyn BlobStore>,
    pub default_secret: String,
    pub region: String,
    /// Accounts served by another emulator: their principals are taken on trust in policies.
    pub remote_accounts: std::collections::BTreeSet<String>,
    /// Clients' plain-HTTP requests count as TLS (`aws:SecureTransport` = true).
    pub assume_tls: bool,
    /// How long a RestoreObject takes before the restored copy can be read.
    pub restore_latency: std::time::Duration,
    /// Accounts given explicit root keys: their LocalStack-style `<account id>` key does not exist.
    pub explicit_root_accounts: std::collections::BTreeSet<String>,
    /// S3 Batch Operations jobs (kept in the data dir).
    pub batch: batch::BatchJobs,
    /// OpenID Connect issuers' signing keys, by issuer URL without scheme (what an IdP publishes
    /// at its `jwks_uri`; the emulator fetches nothing, so they are registered through
    /// `/_xrepl/oidc/jwks`). Kept in the data dir.
    pub oidc_keys: BTreeMap<String, jsonwebtoken::jwk::JwkSet>,
}

impl World {
    pub fn new(config: &EmulatorConfig) -> Self {
        let mut world = Self {
            accounts: BTreeMap::new(),
            keys: HashMap::new(),
            buckets: BTreeMap::new(),
            blobs: config.blob_store.clone().unwrap_or_else(|| Arc::new(MemoryBlobStore::default())),
            default_secret: config.default_secret.clone(),
            region: config.region.clone(),
            remote_accounts: config.remote_accounts.iter().cloned().collect(),
            assume_tls: config.assume_tls,
            restore_latency: std::time::Duration::ZERO,
            explicit_root_accounts: config.root_keys.iter().map(|k| k.account_id.clone()).collect(),
            batch: batch::BatchJobs::default(),
            oidc_keys: BTreeMap::new(),
        };
        for account in &config.accounts {
            world.ensure_account(account);
        }
        for key in &config.root_keys {
            world.ensure_account(&key.account_id);
            world.keys.insert(
                key.access_key_id.clone(),
                AccessKey { account: key.account_id.clone(), secret: key.secret_access_key.clone(), owner: KeyOwner::Root, active: true },
            );
        }
        world
    }

    /// Creates the account (and its LocalStack-style root key, unless the account was given an
    /// explicit one) if it does not exist yet.
    pub fn ensure_account(&mut self, id: &str) -> &mut AccountState {
        if !self.keys.contains_key(id) && !self.explicit_root_accounts.contains(id) {
            self.keys.insert(
                id.to_owned(),
                AccessKey { account: id.to_owned(), secret: self.default_secret.clone(), owner: KeyOwner::Root, active: true },
            );
        }
        self.accounts.entry(id.to_owned()).or_insert_with(|| AccountState {
            id: id.to_owned(),
            canonical_id: canonical_id_for(id),
            iam: IamAccount::default(),
            kms: KmsAccount::default(),
        })
    }

    pub fn account_info(&self, id: &str) -> Option<AccountInfo> {
        let account = self.accounts.get(id)?;
        // The LocalStack-style key, or (for an account with explicit keys) the first of those.
        let (key_id, key) = self
            .keys
            .get_key_value(id)
            .or_else(|| self.keys.iter().filter(|(_, k)| k.account == id && k.owner == KeyOwner::Root).min_by(|a, b| a.0.cmp(b.0)))?;
        Some(AccountInfo {
            account_id: account.id.clone(),
            canonical_id: account.canonical_id.clone(),
            access_key_id: key_id.clone(),
            secret_access_key: key.secret.clone(),
        })
    }

    pub fn canonical_id(&self, account: &str) -> String {
        self.accounts.get(account).map_or_else(|| canonical_id_for(account), |a| a.canonical_id.clone())
    }

    /// The account whose canonical id this is, if any.
    pub fn account_by_canonical_id(&self, canonical: &str) -> Option<&str> {
        self.accounts.values().find(|a| a.canonical_id == canonical).map(|a| a.id.as_str())
    }

    /// Whether a 12-digit access key id that is not registered yet would be its account's
    /// LocalStack-style root key (no account given explicit keys has one).
    fn implicit_root_key(&self, access_key: &str) -> bool {
        !self.keys.contains_key(access_key) && is_account_id(access_key) && !self.explicit_root_accounts.contains(access_key)
    }

    /// The secret for an access key id, to verify a signature with. Changes nothing: a 12-digit
    /// id gets the default secret, and its account is created only once a request signed with it
    /// has been verified ([`World::caller_for`]).
    pub fn secret_for(&self, access_key: &str) -> Option<String> {
        if self.implicit_root_key(access_key) {
            return Some(self.default_secret.clone());
        }
        self.keys.get(access_key).filter(|k| k.active).map(|k| k.secret.clone())
    }

    /// Turns a signature-verified access key (and optional session token) into a caller; a
    /// 12-digit id creates its account on first use (LocalStack style).
    pub fn caller_for(&mut self, access_key: &str, session_token: Option<&str>) -> Result<Caller, KeyProblem> {
        if self.implicit_root_key(access_key) {
            self.ensure_account(access_key);
        }
        if self.secret_for(access_key).is_none() {
            return Err(KeyProblem::UnknownKey);
        }
        let key = self.keys.get(access_key).ok_or(KeyProblem::UnknownKey)?.clone();
        let canonical_id = Some(self.canonical_id(&key.account));
        let kind = match &key.owner {
            KeyOwner::Root => PrincipalKind::Root,
            KeyOwner::User(name) => {
                let arn =
                    self.accounts.get(&key.account).and_then(|a| a.iam.user(name)).map(|u| u.arn.clone()).ok_or(KeyProblem::UnknownKey)?;
                PrincipalKind::User { name: name.clone(), arn }
            }
            KeyOwner::Session { role_name, role_arn, session_name, token, expires } => {
                if session_token != Some(token.as_str()) {
                    return Err(KeyProblem::InvalidToken);
                }
                if *expires < OffsetDateTime::now_utc() {
                    return Err(KeyProblem::ExpiredToken);
                }
                PrincipalKind::AssumedRole { role_name: role_name.clone(), role_arn: role_arn.clone(), session_name: session_name.clone() }
            }
        };
        Ok(Caller::new(Some(key.account), canonical_id, kind))
    }

    /// The identity-based policies that apply to a caller: inline and attached, and for a user
    /// those of its groups too.
    pub fn identity_policies(&self, caller: &Caller) -> Vec<Arc<Policy>> {
        let Some(account) = caller.account.as_deref().and_then(|a| self.accounts.get(a)) else {
            return Vec::new();
        };
        match &caller.kind {
            PrincipalKind::User { name, .. } => account.iam.user_policies(name),
            PrincipalKind::AssumedRole { role_name, .. } => account.iam.role_policies(role_name),
            _ => Vec::new(),
        }
    }
}

/// A stable 64-hex canonical user id per account: the same in every emulator instance, so two
/// emulator containers agree on who owns what.
pub fn canonical_id_for(account: &str) -> String {
    hex::encode(Sha256::digest(format!("xrepl-canonical-user:{account}").as_bytes()))
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// ISO 8601 with milliseconds and `Z`, as IAM and STS print dates.
pub fn iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}
