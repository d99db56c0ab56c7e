//! KMS (JSON 1.1 protocol, `X-Amz-Target: TrentService.<Operation>`): symmetric keys, aliases,
//! key policies, and real (emulator-grade, see [`crypto`]) encryption of small payloads and data
//! keys — enough for S3 SSE-KMS and its replication to be checked as AWS checks them.
//!
//! Authorization follows KMS's rule (KMS Developer Guide `key-policies`, `key-policy-modifying-
//! external-accounts`): the key policy is the resource policy and is always required. A key
//! policy statement naming the caller directly (its ARN, or `*`) grants on its own within the
//! key's account; one naming the account (`arn:aws:iam::A:root`, the default key policy)
//! delegates to the caller's IAM policies, which must then allow too. Across accounts both the
//! key policy and the caller's identity policies must allow. An explicit Deny anywhere wins.
//!
//! Not emulated: grants, key rotation, tags, multi-Region and asymmetric/HMAC keys, custom key
//! stores; DescribeKey shows no DeletionDate (the world does not keep it).

pub mod crypto;

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use rand::{Rng, RngCore};
use serde_json::{json, Map, Value};
use xrepl_policy::{Authorization, DocumentKind, Policy, Request};

use crate::error::ServiceError;
use crate::iam::{authorize_identity, denial_message, principal_context, unknown_principal};
use crate::identity::Caller;
use crate::runtime::Shared;
use crate::state::iam::StoredPolicy;
use crate::state::kms::{KeyState, KmsKey};
use crate::state::{now, World};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const MAX_PLAINTEXT: usize = 4096;
const MAX_CIPHERTEXT: usize = 6144;
const MAX_POLICY: usize = 32_768;
const AWS_ALIAS_PREFIX: &str = "alias/aws/";

/// Answers one KMS operation (the `X-Amz-Target` without `TrentService.`).
pub fn handle(shared: &Shared, caller: &Caller, operation: &str, body: &Bytes) -> Result<Value, ServiceError> {
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => map,
            _ => return Err(ServiceError::bad_request("SerializationException", "Start of structure or map found where not expected.")),
        }
    };
    let Some(account) = caller.account.clone() else {
        return Err(ServiceError::bad_request("AccessDeniedException", format!("User: {} is not authorized to use KMS", caller.arn())));
    };
    let mut world = shared.world();
    world.ensure_account(&account);
    let region = world.region.clone();
    let mut call = KmsCall { world: &mut world, caller, account, region, input };
    match operation {
        "CreateKey" => call.create_key(),
        "DescribeKey" => call.describe_key(),
        "ListKeys" => call.list_keys(),
        "CreateAlias" => call.create_alias(),
        "UpdateAlias" => call.update_alias(),
        "DeleteAlias" => call.delete_alias(),
        "ListAliases" => call.list_aliases(),
        "GetKeyPolicy" => call.get_key_policy(),
        "PutKeyPolicy" => call.put_key_policy(),
        "ListKeyPolicies" => call.list_key_policies(),
        "EnableKey" => call.set_enabled(true),
        "DisableKey" => call.set_enabled(false),
        "ScheduleKeyDeletion" => call.schedule_key_deletion(),
        "CancelKeyDeletion" => call.cancel_key_deletion(),
        "Encrypt" => call.encrypt(),
        "Decrypt" => call.decrypt(),
        "ReEncrypt" => call.re_encrypt(),
        "GenerateDataKey" => call.generate_data_key(true),
        "GenerateDataKeyWithoutPlaintext" => call.generate_data_key(false),
        "GenerateRandom" => call.generate_random(),
        "" => Err(ServiceError::bad_request("UnknownOperationException", "Missing X-Amz-Target")),
        _ => Err(ServiceError::bad_request("UnknownOperationException", "")),
    }
}

// ---------------------------------------------------------------------------------------------
// Public functions used by S3 and the replication engine.

/// Resolves the key S3 should use for SSE-KMS in `bucket_owner`'s bucket: key id, key ARN,
/// alias name or alias ARN (in the bucket owner's account unless an ARN names another account).
/// `None` asks for the AWS managed key `alias/aws/s3`, created on first use. Returns the key
/// ARN, or None when nothing matches (S3 then reports `KMS.NotFoundException`).
pub fn key_arn_for_s3(world: &mut World, bucket_owner: &str, key_ref: Option<&str>) -> Option<String> {
    let region = world.region.clone();
    let Some(reference) = key_ref.filter(|r| !r.is_empty()) else {
        return ensure_aws_managed_key(world, bucket_owner, "s3");
    };
    let (account, reference) = match parse_kms_arn(reference) {
        Some(arn) => {
            if arn.region != region {
                return None;
            }
            (arn.account.to_owned(), arn.resource.to_owned())
        }
        None => (bucket_owner.to_owned(), reference.to_owned()),
    };
    if let Some(service) = reference.strip_prefix(AWS_ALIAS_PREFIX) {
        if world.accounts.contains_key(&account) && service == "s3" {
            return ensure_aws_managed_key(world, &account, service);
        }
    }
    let kms = &world.accounts.get(&account)?.kms;
    let key_id = match reference.strip_prefix("key/") {
        Some(id) => id.to_owned(),
        None if reference.starts_with("alias/") => kms.aliases.get(&reference)?.clone(),
        None => reference,
    };
    kms.keys.get(&key_id).map(|k| k.arn.clone())
}

/// Whether `caller` may use the key for `action` (`kms:Decrypt`, `kms:Encrypt`,
/// `kms:GenerateDataKey`) the way S3 does on its behalf (`kms:ViaService` = S3). The key must
/// exist and be enabled; the key policy and identity policies combine as described in the
/// module documentation. `Err` explains what is missing, naming principal, action and key.
/// `object_arn` is the S3 object the key protects: S3 sends it as the encryption context
/// `aws:s3:arn`, which key and role policies often condition on.
pub fn authorize_s3_use(world: &World, caller: &Caller, key_arn: &str, action: &str, object_arn: &str) -> Result<(), KeyUseError> {
    let key = find_key_by_arn(world, key_arn).ok_or_else(|| KeyUseError::NotFound(format!("KMS key {key_arn} does not exist")))?;
    match key.state {
        KeyState::Enabled => {}
        KeyState::Disabled => {
            return Err(KeyUseError::InvalidState(format!("KMS key {key_arn} is disabled, so {} cannot use it for {action}", caller.arn())))
        }
        KeyState::PendingDeletion => {
            return Err(KeyUseError::InvalidState(format!(
                "KMS key {key_arn} is pending deletion, so {} cannot use it for {action}",
                caller.arn()
            )))
        }
    }
    let via = format!("s3.{}.amazonaws.com", world.region);
    let context = [("kms:ViaService", via), ("kms:EncryptionContext:aws:s3:arn", object_arn.to_owned())];
    authorize_key(world, caller, key, action, &context).map_err(|e| KeyUseError::Denied(e.message))
}

/// Why S3 could not use a KMS key on a caller's behalf (each message names principal, action, key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyUseError {
    NotFound(String),
    /// Disabled or pending deletion.
    InvalidState(String),
    Denied(String),
}

impl KeyUseError {
    /// The S3 error a request gets when S3 cannot use the key for it.
    pub fn to_s3_error(&self) -> s3s::S3Error {
        let (code, status) = match self {
            Self::NotFound(_) => ("KMS.NotFoundException", http::StatusCode::BAD_REQUEST),
            Self::InvalidState(_) => ("KMS.DisabledException", http::StatusCode::BAD_REQUEST),
            Self::Denied(_) => ("AccessDenied", http::StatusCode::FORBIDDEN),
        };
        let mut err = s3s::S3Error::with_message(
            s3s::S3ErrorCode::from_bytes(code.as_bytes()).unwrap_or(s3s::S3ErrorCode::AccessDenied),
            self.to_string(),
        );
        err.set_status_code(status);
        err
    }
}

impl std::fmt::Display for KeyUseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound(m) | Self::InvalidState(m) | Self::Denied(m) => f.write_str(m),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys, ARNs and policies.

struct KmsArn<'a> {
    region: &'a str,
    account: &'a str,
    /// `key/ID` or `alias/NAME`.
    resource: &'a str,
}

fn parse_kms_arn(s: &str) -> Option<KmsArn<'_>> {
    let rest = s.strip_prefix("arn:aws:kms:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    Some(KmsArn { region, account, resource })
}

fn find_key_by_arn<'w>(world: &'w World, key_arn: &str) -> Option<&'w KmsKey> {
    let arn = parse_kms_arn(key_arn)?;
    let id = arn.resource.strip_prefix("key/")?;
    world.accounts.get(arn.account)?.kms.keys.get(id).filter(|k| k.arn == key_arn)
}

fn key_account(key: &KmsKey) -> &str {
    parse_kms_arn(&key.arn).map_or("", |a| a.account)
}

fn new_key_id() -> String {
    let mut rng = rand::thread_rng();
    let a: u32 = rng.gen();
    let b: u16 = rng.gen();
    let c: u16 = rng.gen::<u16>() & 0x0fff | 0x4000;
    let d: u16 = rng.gen::<u16>() & 0x3fff | 0x8000;
    let e: u64 = rng.gen::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}")
}

fn new_material() -> [u8; 32] {
    let mut material = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut material);
    material
}

/// The default key policy: full access for the account, delegated to its IAM policies.
fn default_key_policy(account: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// The key policy AWS gives the managed key of a service (`aws/s3`): every principal of the
/// account may use it through that service; the account may read its metadata.
fn aws_managed_key_policy(account: &str, service: &str, region: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-{service}-2",
  "Statement" : [ {{
    "Sid" : "Allow access through {service_upper} for all principals in the account that are authorized to use {service_upper}",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:CallerAccount" : "{account}",
        "kms:ViaService" : "{service}.{region}.amazonaws.com"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  }} ]
}}"#,
        service_upper = service.to_uppercase()
    )
}

fn stored(text: String) -> Option<StoredPolicy> {
    let parsed = Policy::parse(&text, DocumentKind::Resource).ok()?;
    Some(StoredPolicy { text, parsed: Arc::new(parsed) })
}

/// The AWS managed key `alias/aws/{service}` of an account, created on first use.
fn ensure_aws_managed_key(world: &mut World, account: &str, service: &str) -> Option<String> {
    let region = world.region.clone();
    let alias = format!("{AWS_ALIAS_PREFIX}{service}");
    let kms = &mut world.accounts.get_mut(account)?.kms;
    if let Some(key) = kms.aliases.get(&alias).and_then(|id| kms.keys.get(id)) {
        return Some(key.arn.clone());
    }
    let key_id = new_key_id();
    let arn = format!("arn:aws:kms:{region}:{account}:key/{key_id}");
    let key = KmsKey {
        key_id: key_id.clone(),
        arn: arn.clone(),
        description: format!("Default key that protects my {} data when no other key is defined", service.to_uppercase()),
        created: now(),
        state: KeyState::Enabled,
        policy: stored(aws_managed_key_policy(account, service, &region))?,
        material: new_material(),
    };
    kms.keys.insert(key_id.clone(), key);
    kms.aliases.insert(alias, key_id);
    Some(arn)
}

fn is_aws_managed(world: &World, key: &KmsKey) -> bool {
    world
        .accounts
        .get(key_account(key))
        .is_some_and(|a| a.kms.aliases.iter().any(|(alias, id)| alias.starts_with(AWS_ALIAS_PREFIX) && *id == key.key_id))
}

/// Condition keys of a KMS request.
fn kms_context(caller: &Caller, extra: &[(&str, String)]) -> xrepl_policy::Context {
    let mut ctx = principal_context(caller);
    if let Some(account) = &caller.account {
        ctx.insert("kms:CallerAccount", account.clone());
    }
    for (k, v) in extra {
        ctx.insert(k, v.clone());
    }
    ctx
}

/// Evaluates `action` on `key` for `caller` with `policy` as the key policy (see the module docs).
fn evaluate_key(world: &World, caller: &Caller, key_arn: &str, policy: &Policy, action: &str, extra: &[(&str, String)]) -> Authorization {
    let ctx = kms_context(caller, extra);
    let principal = caller.principal_info();
    let request = Request { principal: &principal, action, resource: key_arn, context: &ctx };
    let identity = world.identity_policies(caller);
    let refs: Vec<&Policy> = identity.iter().map(AsRef::as_ref).collect();
    // Both sides (the key policy always counts as a side that must allow)…
    let outcome = xrepl_policy::authorize(&refs, Some(policy), &request, false, caller.is_root(), false);
    if outcome.is_allowed() || matches!(outcome, Authorization::ExplicitDeny { .. }) {
        return outcome;
    }
    // …or, within the key's account, a key policy statement naming the caller directly.
    let key_account = parse_kms_arn(key_arn).map(|a| a.account);
    if caller.account.as_deref() == key_account && xrepl_policy::authorize(&[], Some(policy), &request, true, false, false).is_allowed() {
        return Authorization::Allowed;
    }
    outcome
}

fn authorize_key(world: &World, caller: &Caller, key: &KmsKey, action: &str, extra: &[(&str, String)]) -> Result<(), ServiceError> {
    let outcome = evaluate_key(world, caller, &key.arn, &key.policy.parsed, action, extra);
    if outcome.is_allowed() {
        return Ok(());
    }
    Err(ServiceError::bad_request("AccessDeniedException", denial_message(&caller.arn(), action, &key.arn, outcome)))
}

// ---------------------------------------------------------------------------------------------
// One call.

struct KmsCall<'a> {
    world: &'a mut World,
    caller: &'a Caller,
    account: String,
    region: String,
    input: Map<String, Value>,
}

fn validation(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("ValidationException", message)
}

fn not_null(field: &str) -> ServiceError {
    validation(format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"))
}

fn not_found(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("NotFoundException", message)
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

impl KmsCall<'_> {
    fn string(&self, name: &str) -> Result<Option<&str>, ServiceError> {
        match self.input.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ServiceError::bad_request("SerializationException", format!("{name} must be a string"))),
        }
    }

    fn required(&self, name: &str) -> Result<&str, ServiceError> {
        self.string(name)?.ok_or_else(|| not_null(&lower_first(name)))
    }

    fn boolean(&self, name: &str) -> Result<bool, ServiceError> {
        match self.input.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ServiceError::bad_request("SerializationException", format!("{name} must be a boolean"))),
        }
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, ServiceError> {
        match self.input.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ServiceError::bad_request("SerializationException", format!("{name} must be an integer"))),
            Some(_) => Err(ServiceError::bad_request("SerializationException", format!("{name} must be an integer"))),
        }
    }

    /// A base64 blob parameter, with its length constraint.
    fn blob(&self, name: &str, max: usize) -> Result<Vec<u8>, ServiceError> {
        let text = self.required(name)?;
        let bytes =
            B64.decode(text).map_err(|_| ServiceError::bad_request("SerializationException", format!("{name} is not valid base64")))?;
        let field = lower_first(name);
        if bytes.is_empty() {
            return Err(validation(format!(
                "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )));
        }
        if bytes.len() > max {
            return Err(validation(format!(
                "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            )));
        }
        Ok(bytes)
    }

    fn encryption_context(&self, name: &str) -> Result<BTreeMap<String, String>, ServiceError> {
        match self.input.get(name) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(ServiceError::bad_request("SerializationException", format!("{name} values must be strings"))),
                })
                .collect(),
            Some(_) => Err(ServiceError::bad_request("SerializationException", format!("{name} must be a map"))),
        }
    }

    fn key_arn(&self, id: &str) -> String {
        format!("arn:aws:kms:{}:{}:key/{id}", self.region, self.account)
    }

    fn alias_arn(&self, account: &str, alias: &str) -> String {
        format!("arn:aws:kms:{}:{account}:{alias}", self.region)
    }

    /// Resolves a key reference (key id, key ARN, alias name, alias ARN) to (account, key id).
    /// ARNs may name another account only where KMS allows cross-account use.
    fn resolve(&mut self, reference: &str, cross_account: bool) -> Result<(String, String), ServiceError> {
        if reference.is_empty() || reference.len() > 2048 {
            return Err(validation(format!(
                "1 validation error detected: Value '{reference}' at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048"
            )));
        }
        let (account, resource) = match parse_kms_arn(reference) {
            Some(arn) => {
                if arn.region != self.region {
                    return Err(not_found(format!("Invalid arn {}", arn.region)));
                }
                if arn.account != self.account && !cross_account {
                    return Err(not_found(format!("Key '{reference}' does not exist")));
                }
                (arn.account.to_owned(), arn.resource.to_owned())
            }
            None => (self.account.clone(), reference.to_owned()),
        };
        if let Some(alias) = resource.strip_prefix("alias/").map(|n| format!("alias/{n}")) {
            let target = self.world.accounts.get(&account).and_then(|a| a.kms.aliases.get(&alias)).cloned();
            return target
                .map(|id| (account.clone(), id))
                .ok_or_else(|| not_found(format!("Alias {} is not found.", self.alias_arn(&account, &alias))));
        }
        let id = resource.strip_prefix("key/").unwrap_or(&resource).to_owned();
        let exists = self.world.accounts.get(&account).is_some_and(|a| a.kms.keys.contains_key(&id));
        if exists {
            return Ok((account, id));
        }
        let uuid_like = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        Err(not_found(if uuid_like || reference.starts_with("arn:") {
            format!("Key '{}' does not exist", format_args!("arn:aws:kms:{}:{account}:key/{id}", self.region))
        } else {
            format!("Invalid keyId '{reference}'")
        }))
    }

    fn key(&self, account: &str, id: &str) -> Result<&KmsKey, ServiceError> {
        self.world
            .accounts
            .get(account)
            .and_then(|a| a.kms.keys.get(id))
            .ok_or_else(|| not_found(format!("Key 'arn:aws:kms:{}:{account}:key/{id}' does not exist", self.region)))
    }

    fn key_mut(&mut self, account: &str, id: &str) -> Result<&mut KmsKey, ServiceError> {
        let region = self.region.clone();
        self.world
            .accounts
            .get_mut(account)
            .and_then(|a| a.kms.keys.get_mut(id))
            .ok_or_else(|| not_found(format!("Key 'arn:aws:kms:{region}:{account}:key/{id}' does not exist")))
    }

    /// `KeyId` resolved, authorized for `action`, cloned.
    fn authorized_key(&mut self, field: &str, action: &str, cross_account: bool) -> Result<KmsKey, ServiceError> {
        let reference = self.required(field)?.to_owned();
        let (account, id) = self.resolve(&reference, cross_account)?;
        let key = self.key(&account, &id)?;
        authorize_key(self.world, self.caller, key, action, &[])?;
        Ok(key.clone())
    }

    /// Cryptographic operations need an enabled key.
    fn usable(key: &KmsKey) -> Result<(), ServiceError> {
        match key.state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(ServiceError::bad_request("DisabledException", format!("{} is disabled.", key.arn))),
            KeyState::PendingDeletion => Err(pending_deletion(key)),
        }
    }

    fn metadata(&self, key: &KmsKey) -> Value {
        let manager = if is_aws_managed(self.world, key) { "AWS" } else { "CUSTOMER" };
        json!({
            "AWSAccountId": key_account(key),
            "KeyId": key.key_id,
            "Arn": key.arn,
            "CreationDate": key.created.unix_timestamp(),
            "Enabled": key.state == KeyState::Enabled,
            "Description": key.description,
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": key.state.as_str(),
            "Origin": "AWS_KMS",
            "KeyManager": manager,
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "MultiRegion": false,
        })
    }

    /// Validates a key policy document as KMS does; `lockout` checks that the caller could still
    /// change the policy afterwards (PutKeyPolicy), unless the caller bypasses the check.
    fn key_policy(&self, text: &str, key_arn: &str) -> Result<StoredPolicy, ServiceError> {
        let malformed = |m: String| ServiceError::bad_request("MalformedPolicyDocumentException", m);
        if text.chars().count() > MAX_POLICY {
            return Err(validation(format!(
                "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY}"
            )));
        }
        let policy = Policy::parse(text, DocumentKind::Resource).map_err(|e| malformed(e.to_string()))?;
        if let Some(principal) = unknown_principal(self.world, &policy) {
            return Err(malformed(format!("Policy contains a statement with one or more invalid principals: {principal}")));
        }
        if !self.boolean("BypassPolicyLockoutSafetyCheck")? {
            let outcome = evaluate_key(self.world, self.caller, key_arn, &policy, "kms:PutKeyPolicy", &[]);
            if !outcome.is_allowed() {
                return Err(malformed("The new key policy will not allow you to update the key policy in the future.".to_owned()));
            }
        }
        Ok(StoredPolicy { text: text.to_owned(), parsed: Arc::new(policy) })
    }

    // -- Operations ------------------------------------------------------------------------

    fn create_key(&mut self) -> Result<Value, ServiceError> {
        let description = self.string("Description")?.unwrap_or("").to_owned();
        if description.chars().count() > 8192 {
            return Err(validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 8192"));
        }
        for (field, allowed) in [
            ("KeyUsage", "ENCRYPT_DECRYPT"),
            ("KeySpec", "SYMMETRIC_DEFAULT"),
            ("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT"),
            ("Origin", "AWS_KMS"),
        ] {
            if let Some(v) = self.string(field)? {
                if v != allowed {
                    return Err(ServiceError::bad_request(
                        "UnsupportedOperationException",
                        format!("{field} {v} is not supported by the xrepl emulator (only {allowed})"),
                    ));
                }
            }
        }
        if self.boolean("MultiRegion")? {
            return Err(ServiceError::bad_request(
                "UnsupportedOperationException",
                "Multi-Region keys are not supported by the xrepl emulator",
            ));
        }
        authorize_identity(self.world, self.caller, "kms:CreateKey", "*").map_err(access_denied_exception)?;
        let key_id = new_key_id();
        let arn = self.key_arn(&key_id);
        let policy = match self.string("Policy")? {
            Some(text) => self.key_policy(text, &arn)?,
            None => stored(default_key_policy(&self.account))
                .ok_or_else(|| ServiceError::new(500, "KMSInternalException", "default key policy"))?,
        };
        let key =
            KmsKey { key_id: key_id.clone(), arn, description, created: now(), state: KeyState::Enabled, policy, material: new_material() };
        let metadata = self.metadata(&key);
        let account = self.account.clone();
        self.world.ensure_account(&account).kms.keys.insert(key_id, key);
        Ok(json!({ "KeyMetadata": metadata }))
    }

    fn describe_key(&mut self) -> Result<Value, ServiceError> {
        let reference = self.required("KeyId")?.to_owned();
        // Naming a predefined AWS alias creates that AWS managed key (KMS API `DescribeKey`).
        if reference == "alias/aws/s3" {
            let account = self.account.clone();
            ensure_aws_managed_key(self.world, &account, "s3");
        }
        let key = self.authorized_key("KeyId", "kms:DescribeKey", true)?;
        Ok(json!({ "KeyMetadata": self.metadata(&key) }))
    }

    /// `Limit` (1..=1000, default 100) and `Marker` paging over ordered ids.
    fn page(&self, ids: Vec<String>) -> Result<(Vec<String>, Option<String>), ServiceError> {
        let limit = match self.integer("Limit")? {
            None => 100,
            Some(n) if (1..=1000).contains(&n) => usize::try_from(n).unwrap_or(100),
            Some(n) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000"
                )))
            }
        };
        let marker = self.string("Marker")?.map(str::to_owned);
        let mut rest: Vec<String> = ids.into_iter().filter(|id| marker.as_ref().is_none_or(|m| id > m)).collect();
        if rest.len() > limit {
            rest.truncate(limit);
            let next = rest.last().cloned();
            Ok((rest, next))
        } else {
            Ok((rest, None))
        }
    }

    fn list_keys(&mut self) -> Result<Value, ServiceError> {
        authorize_identity(self.world, self.caller, "kms:ListKeys", "*").map_err(access_denied_exception)?;
        let ids: Vec<String> = self.world.accounts.get(&self.account).map(|a| a.kms.keys.keys().cloned().collect()).unwrap_or_default();
        let (page, next) = self.page(ids)?;
        let keys: Vec<Value> = page.iter().map(|id| json!({"KeyId": id, "KeyArn": self.key_arn(id)})).collect();
        Ok(paged(json!({ "Keys": keys }), next))
    }

    fn alias_name(&self) -> Result<String, ServiceError> {
        let name = self.required("AliasName")?.to_owned();
        let valid = name.len() <= 256
            && name
                .strip_prefix("alias/")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || ":/_-".contains(c)));
        if !valid {
            return Err(validation(format!(
                "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$"
            )));
        }
        Ok(name)
    }

    /// The alias's target for CreateAlias / UpdateAlias: a key (not an alias) of this account.
    fn alias_target(&mut self, action: &str) -> Result<KmsKey, ServiceError> {
        let target = self.required("TargetKeyId")?.to_owned();
        if target.starts_with("alias/") || parse_kms_arn(&target).is_some_and(|a| a.resource.starts_with("alias/")) {
            return Err(validation(format!("Aliases must refer to keys. Not aliases: {target}")));
        }
        self.authorized_key("TargetKeyId", action, false)
    }

    fn create_alias(&mut self) -> Result<Value, ServiceError> {
        let name = self.alias_name()?;
        if name.starts_with(AWS_ALIAS_PREFIX) {
            return Err(ServiceError::bad_request(
                "NotAuthorizedException",
                format!("{name}: the alias/aws/ prefix is reserved for AWS managed keys"),
            ));
        }
        let alias_arn = self.alias_arn(&self.account, &name);
        authorize_identity(self.world, self.caller, "kms:CreateAlias", &alias_arn).map_err(access_denied_exception)?;
        let key = self.alias_target("kms:CreateAlias")?;
        let account = self.account.clone();
        let kms = &mut self.world.ensure_account(&account).kms;
        if kms.aliases.contains_key(&name) {
            return Err(ServiceError::bad_request("AlreadyExistsException", format!("An alias with the name {alias_arn} already exists")));
        }
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(&key));
        }
        kms.aliases.insert(name, key.key_id);
        Ok(json!({}))
    }

    /// An existing customer alias the caller may `action`: its name and the key id it points to.
    fn existing_alias(&self, action: &str, verb: &str) -> Result<(String, String), ServiceError> {
        let name = self.alias_name()?;
        let alias_arn = self.alias_arn(&self.account, &name);
        if name.starts_with(AWS_ALIAS_PREFIX) {
            return Err(ServiceError::bad_request("NotAuthorizedException", format!("{name}: AWS managed aliases cannot be {verb}")));
        }
        authorize_identity(self.world, self.caller, action, &alias_arn).map_err(access_denied_exception)?;
        let target = self
            .world
            .accounts
            .get(&self.account)
            .and_then(|a| a.kms.aliases.get(&name))
            .cloned()
            .ok_or_else(|| not_found(format!("Alias {alias_arn} is not found.")))?;
        Ok((name, target))
    }

    fn update_alias(&mut self) -> Result<Value, ServiceError> {
        let (name, current) = self.existing_alias("kms:UpdateAlias", "changed")?;
        let account = self.account.clone();
        let old = self.key(&account, &current)?.clone();
        authorize_key(self.world, self.caller, &old, "kms:UpdateAlias", &[])?;
        let key = self.alias_target("kms:UpdateAlias")?;
        if let Some(a) = self.world.accounts.get_mut(&account) {
            a.kms.aliases.insert(name, key.key_id);
        }
        Ok(json!({}))
    }

    fn delete_alias(&mut self) -> Result<Value, ServiceError> {
        let (name, target) = self.existing_alias("kms:DeleteAlias", "deleted")?;
        let account = self.account.clone();
        if let Ok(key) = self.key(&account, &target) {
            authorize_key(self.world, self.caller, key, "kms:DeleteAlias", &[])?;
        }
        if let Some(a) = self.world.accounts.get_mut(&account) {
            a.kms.aliases.remove(&name);
        }
        Ok(json!({}))
    }

    fn list_aliases(&mut self) -> Result<Value, ServiceError> {
        authorize_identity(self.world, self.caller, "kms:ListAliases", "*").map_err(access_denied_exception)?;
        let filter = match self.string("KeyId")?.map(str::to_owned) {
            Some(reference) => Some(self.resolve(&reference, false)?.1),
            None => None,
        };
        let aliases: Vec<(String, String)> = self
            .world
            .accounts
            .get(&self.account)
            .map(|a| a.kms.aliases.iter().map(|(n, id)| (n.clone(), id.clone())).collect())
            .unwrap_or_default();
        let aliases: BTreeMap<String, String> = aliases.into_iter().filter(|(_, id)| filter.as_ref().is_none_or(|f| f == id)).collect();
        let (page, next) = self.page(aliases.keys().cloned().collect())?;
        let list: Vec<Value> = page
            .iter()
            .map(|name| {
                json!({
                    "AliasName": name,
                    "AliasArn": self.alias_arn(&self.account, name),
                    "TargetKeyId": aliases.get(name),
                })
            })
            .collect();
        Ok(paged(json!({ "Aliases": list }), next))
    }

    fn policy_name(&self) -> Result<(), ServiceError> {
        match self.string("PolicyName")? {
            None | Some("default") => Ok(()),
            Some(other) => Err(not_found(format!("Policy {other} does not exist; the only key policy is \"default\""))),
        }
    }

    fn get_key_policy(&mut self) -> Result<Value, ServiceError> {
        self.policy_name()?;
        let key = self.authorized_key("KeyId", "kms:GetKeyPolicy", false)?;
        Ok(json!({ "Policy": key.policy.text, "PolicyName": "default" }))
    }

    fn list_key_policies(&mut self) -> Result<Value, ServiceError> {
        self.authorized_key("KeyId", "kms:ListKeyPolicies", false)?;
        Ok(json!({ "PolicyNames": ["default"], "Truncated": false }))
    }

    fn put_key_policy(&mut self) -> Result<Value, ServiceError> {
        self.policy_name()?;
        let text = self.required("Policy")?.to_owned();
        let key = self.authorized_key("KeyId", "kms:PutKeyPolicy", false)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(&key));
        }
        let policy = self.key_policy(&text, &key.arn)?;
        let account = key_account(&key).to_owned();
        self.key_mut(&account, &key.key_id)?.policy = policy;
        Ok(json!({}))
    }

    fn set_enabled(&mut self, enabled: bool) -> Result<Value, ServiceError> {
        let action = if enabled { "kms:EnableKey" } else { "kms:DisableKey" };
        let key = self.authorized_key("KeyId", action, false)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(&key));
        }
        let account = key_account(&key).to_owned();
        self.key_mut(&account, &key.key_id)?.state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
        Ok(json!({}))
    }

    fn schedule_key_deletion(&mut self) -> Result<Value, ServiceError> {
        let days = match self.integer("PendingWindowInDays")? {
            None => 30,
            Some(d) if (7..=30).contains(&d) => d,
            Some(d) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{d}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30"
                )))
            }
        };
        let key = self.authorized_key("KeyId", "kms:ScheduleKeyDeletion", false)?;
        if key.state == KeyState::PendingDeletion {
            return Err(pending_deletion(&key));
        }
        let account = key_account(&key).to_owned();
        self.key_mut(&account, &key.key_id)?.state = KeyState::PendingDeletion;
        let deletion = now() + time::Duration::days(days);
        Ok(json!({
            "KeyId": key.arn,
            "DeletionDate": deletion.unix_timestamp(),
            "KeyState": "PendingDeletion",
            "PendingWindowInDays": days,
        }))
    }

    fn cancel_key_deletion(&mut self) -> Result<Value, ServiceError> {
        let key = self.authorized_key("KeyId", "kms:CancelKeyDeletion", false)?;
        if key.state != KeyState::PendingDeletion {
            return Err(ServiceError::bad_request("KMSInvalidStateException", format!("{} is not pending deletion.", key.arn)));
        }
        let account = key_account(&key).to_owned();
        self.key_mut(&account, &key.key_id)?.state = KeyState::Disabled;
        Ok(json!({ "KeyId": key.arn }))
    }

    fn algorithm(&self, field: &str) -> Result<(), ServiceError> {
        match self.string(field)? {
            None | Some("SYMMETRIC_DEFAULT") => Ok(()),
            Some(other) => Err(ServiceError::bad_request(
                "InvalidKeyUsageException",
                format!("The encryption algorithm {other} is not supported by a symmetric key"),
            )),
        }
    }

    /// The key a crypto operation uses, authorized with the encryption context as condition keys.
    fn crypto_key(&mut self, field: &str, action: &str, context: &BTreeMap<String, String>) -> Result<KmsKey, ServiceError> {
        let reference = self.required(field)?.to_owned();
        let (account, id) = self.resolve(&reference, true)?;
        let key = self.key(&account, &id)?.clone();
        let extra = context_keys(context);
        let extra: Vec<(&str, String)> = extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        authorize_key(self.world, self.caller, &key, action, &extra)?;
        Self::usable(&key)?;
        Ok(key)
    }

    fn encrypt(&mut self) -> Result<Value, ServiceError> {
        let plaintext = self.blob("Plaintext", MAX_PLAINTEXT)?;
        let context = self.encryption_context("EncryptionContext")?;
        self.algorithm("EncryptionAlgorithm")?;
        let key = self.crypto_key("KeyId", "kms:Encrypt", &context)?;
        let blob = crypto::seal(&key.arn, &key.material, &plaintext, &context);
        Ok(json!({ "CiphertextBlob": B64.encode(blob), "KeyId": key.arn, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT" }))
    }

    /// Opens a ciphertext blob: finds its key (any account), checks `KeyId` if given, authorizes.
    fn open(&mut self, blob_field: &str, key_field: &str, context_field: &str, action: &str) -> Result<(KmsKey, Vec<u8>), ServiceError> {
        let blob = self.blob(blob_field, MAX_CIPHERTEXT)?;
        let context = self.encryption_context(context_field)?;
        let invalid = || {
            ServiceError::bad_request(
                "InvalidCiphertextException",
                "The ciphertext is invalid or was not produced by this key with this encryption context.",
            )
        };
        let arn = crypto::key_arn(&blob).ok_or_else(invalid)?.to_owned();
        let key = find_key_by_arn(self.world, &arn).cloned().ok_or_else(invalid)?;
        if let Some(reference) = self.string(key_field)?.map(str::to_owned) {
            let (account, id) = self.resolve(&reference, true)?;
            if account != key_account(&key) || id != key.key_id {
                return Err(ServiceError::bad_request(
                    "IncorrectKeyException",
                    "The key ID in the request does not identify a CMK that can perform this operation.",
                ));
            }
        }
        let extra = context_keys(&context);
        let extra: Vec<(&str, String)> = extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        authorize_key(self.world, self.caller, &key, action, &extra)?;
        Self::usable(&key)?;
        let plaintext = crypto::open(&key.material, &blob, &context).ok_or_else(invalid)?;
        Ok((key, plaintext))
    }

    fn decrypt(&mut self) -> Result<Value, ServiceError> {
        self.algorithm("EncryptionAlgorithm")?;
        let (key, plaintext) = self.open("CiphertextBlob", "KeyId", "EncryptionContext", "kms:Decrypt")?;
        Ok(json!({ "KeyId": key.arn, "Plaintext": B64.encode(plaintext), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT" }))
    }

    fn re_encrypt(&mut self) -> Result<Value, ServiceError> {
        let destination_context = self.encryption_context("DestinationEncryptionContext")?;
        let (source, plaintext) = self.open("CiphertextBlob", "SourceKeyId", "SourceEncryptionContext", "kms:ReEncryptFrom")?;
        let destination = self.crypto_key("DestinationKeyId", "kms:ReEncryptTo", &destination_context)?;
        let blob = crypto::seal(&destination.arn, &destination.material, &plaintext, &destination_context);
        Ok(json!({
            "CiphertextBlob": B64.encode(blob),
            "SourceKeyId": source.arn,
            "KeyId": destination.arn,
            "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        }))
    }

    fn data_key_length(&self) -> Result<usize, ServiceError> {
        let spec = self.string("KeySpec")?;
        let bytes = self.integer("NumberOfBytes")?;
        match (spec, bytes) {
            (Some(_), Some(_)) => Err(validation("Please specify either number of bytes or key spec.")),
            (None, None) => Err(validation("Please specify either number of bytes or key spec.")),
            (Some("AES_256"), None) => Ok(32),
            (Some("AES_128"), None) => Ok(16),
            (Some(other), None) => Err(validation(format!(
                "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
            ))),
            (None, Some(n)) if (1..=1024).contains(&n) => Ok(usize::try_from(n).unwrap_or(32)),
            (None, Some(n)) => Err(validation(format!(
                "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024"
            ))),
        }
    }

    fn generate_data_key(&mut self, with_plaintext: bool) -> Result<Value, ServiceError> {
        let len = self.data_key_length()?;
        let context = self.encryption_context("EncryptionContext")?;
        let action = if with_plaintext { "kms:GenerateDataKey" } else { "kms:GenerateDataKeyWithoutPlaintext" };
        let key = self.crypto_key("KeyId", action, &context)?;
        let mut data_key = vec![0u8; len];
        rand::thread_rng().fill_bytes(&mut data_key);
        let blob = crypto::seal(&key.arn, &key.material, &data_key, &context);
        let mut out = json!({ "CiphertextBlob": B64.encode(blob), "KeyId": key.arn });
        if with_plaintext {
            out["Plaintext"] = json!(B64.encode(&data_key));
        }
        Ok(out)
    }

    fn generate_random(&mut self) -> Result<Value, ServiceError> {
        let n = match self.integer("NumberOfBytes")? {
            Some(n) if (1..=1024).contains(&n) => usize::try_from(n).unwrap_or(32),
            Some(n) => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024"
                )))
            }
            None => return Err(validation("NumberOfBytes is required")),
        };
        authorize_identity(self.world, self.caller, "kms:GenerateRandom", "*").map_err(access_denied_exception)?;
        let mut bytes = vec![0u8; n];
        rand::thread_rng().fill_bytes(&mut bytes);
        Ok(json!({ "Plaintext": B64.encode(bytes) }))
    }
}

fn pending_deletion(key: &KmsKey) -> ServiceError {
    ServiceError::bad_request("KMSInvalidStateException", format!("{} is pending deletion.", key.arn))
}

/// KMS's spelling of an IAM denial.
fn access_denied_exception(mut e: ServiceError) -> ServiceError {
    if e.code == "AccessDenied" {
        e.code = "AccessDeniedException".to_owned();
        e.status = 400;
    }
    e
}

/// `kms:EncryptionContext:<key>` condition keys.
fn context_keys(context: &BTreeMap<String, String>) -> Vec<(String, String)> {
    context.iter().map(|(k, v)| (format!("kms:EncryptionContext:{k}"), v.clone())).collect()
}

fn paged(mut value: Value, next: Option<String>) -> Value {
    value["Truncated"] = json!(next.is_some());
    if let Some(marker) = next {
        value["NextMarker"] = json!(marker);
    }
    value
}
