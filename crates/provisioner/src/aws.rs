//! SDK clients per account, AWS errors in the crate's terms, and the conversions between AWS's
//! JSON documents and the SDK's types (so plans compare meaning, not bytes).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials as StaticCredentials;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types as s3t;
#[cfg(feature = "batch")]
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};
use serde_json::{json, Map, Value};

use crate::error::ProvisionError;
pub use crate::side::Side;
use crate::spec::{AccountSpec, Credentials, Spec};

/// Sends every S3 Control request to one endpoint: S3 Control's rules put the account id in the
/// host name, which an emulator's address cannot carry; the account still travels in
/// `x-amz-account-id`.
#[cfg(feature = "batch")]
#[derive(Debug)]
struct FixedEndpoint(String);

#[cfg(feature = "batch")]
impl ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(&'a self, _params: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

/// An account's static keys and where its requests go: what [`AccountClients::from_static`]
/// takes as arguments and [`AccountClients::from_static_unpooled`] as one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticKeys<'a> {
    /// The account the clients act in.
    pub account_id: &'a str,
    /// The region they sign for and send to.
    pub region: &'a str,
    /// An emulator's or LocalStack's endpoint (S3 requests are then path-style); `None`: AWS.
    pub endpoint: Option<&'a str>,
    /// The access key id (the emulator's convention: the account id).
    pub access_key_id: &'a str,
    /// The secret access key (the emulator's convention: `test`).
    pub secret_access_key: &'a str,
}

/// The clients for one AWS account.
#[derive(Debug, Clone)]
pub struct AccountClients {
    /// S3 (buckets, versioning, bucket policy, replication configuration, probe objects);
    /// path-style requests when an endpoint is set.
    pub s3: aws_sdk_s3::Client,
    /// IAM (the replication role and its policies).
    pub iam: aws_sdk_iam::Client,
    /// STS (GetCallerIdentity, to check the credentials' account).
    pub sts: aws_sdk_sts::Client,
    /// S3 Control (Batch Operations jobs); with an endpoint, every request goes to it
    /// (feature `batch`).
    #[cfg(feature = "batch")]
    pub s3control: aws_sdk_s3control::Client,
    /// The account these clients act in (the spec's account id).
    pub account_id: String,
    /// The region the clients sign for and send to (e.g. `us-east-1`).
    pub region: String,
}

impl AccountClients {
    /// Build clients from one side of a spec, resolving its credentials (profile, environment,
    /// static keys or the default chain). Does not contact AWS.
    pub async fn from_spec(side: &AccountSpec) -> AccountClients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(side.region.clone()));
        match &side.credentials {
            Credentials::DefaultChain => {}
            Credentials::Profile(name) => loader = loader.profile_name(name),
            Credentials::Environment => {
                loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
            }
            Credentials::Static { access_key_id, secret_access_key, session_token } => {
                loader = loader.credentials_provider(StaticCredentials::new(
                    access_key_id,
                    secret_access_key,
                    session_token.clone(),
                    None,
                    "xrepl-spec",
                ));
            }
        }
        if let Some(endpoint) = &side.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        AccountClients::from_sdk_config(&side.account_id, &config, side.endpoint.is_some())
    }

    /// Clients from an already loaded SDK config. `path_style` for emulators and LocalStack.
    pub fn from_sdk_config(account_id: &str, config: &aws_config::SdkConfig, path_style: bool) -> AccountClients {
        let s3_config = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build();
        #[cfg(feature = "batch")]
        let control = {
            let mut control = aws_sdk_s3control::config::Builder::from(config);
            if let Some(endpoint) = config.endpoint_url().filter(|_| path_style) {
                control = control.endpoint_resolver(FixedEndpoint(endpoint.to_owned()));
            }
            control
        };
        AccountClients {
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            iam: aws_sdk_iam::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            #[cfg(feature = "batch")]
            s3control: aws_sdk_s3control::Client::from_conf(control.build()),
            account_id: account_id.to_string(),
            region: config.region().map_or_else(|| crate::spec::DEFAULT_REGION.to_string(), ToString::to_string),
        }
    }

    /// Clients with static keys (no credential resolution, no I/O): for tests and emulators.
    /// With an endpoint, S3 requests are path-style.
    pub fn from_static(
        account_id: &str,
        region: &str,
        endpoint: Option<&str>,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> AccountClients {
        Self::from_static_keys(StaticKeys { account_id, region, endpoint, access_key_id, secret_access_key }, Pooling::Pooled)
    }

    /// Like [`AccountClients::from_static`], but no connection outlives its request: the clients
    /// then work from any Tokio runtime. A pooled connection belongs to the runtime that opened it
    /// and fails ("dispatch task is gone") once that runtime has ended — which is what happens to
    /// a test harness kept in a `static` and used by several `#[tokio::test]`s.
    pub fn from_static_unpooled(keys: StaticKeys<'_>) -> AccountClients {
        Self::from_static_keys(keys, Pooling::Unpooled)
    }

    fn from_static_keys(keys: StaticKeys<'_>, pooling: Pooling) -> AccountClients {
        let StaticKeys { account_id, region, endpoint, access_key_id, secret_access_key } = keys;
        let creds = StaticCredentials::new(access_key_id, secret_access_key, None, None, "xrepl-static");
        let region = Region::new(region.to_string());
        let mut s3 = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .credentials_provider(creds.clone())
            .force_path_style(endpoint.is_some());
        let mut iam = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .credentials_provider(creds.clone());
        #[cfg(feature = "batch")]
        let mut control = aws_sdk_s3control::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(region.clone())
            .credentials_provider(creds.clone());
        let mut sts =
            aws_sdk_sts::Config::builder().behavior_version(BehaviorVersion::latest()).region(region.clone()).credentials_provider(creds);
        if let Some(http) = endpoint.and_then(|e| plain_http_client(e, pooling)) {
            s3 = s3.http_client(http.clone());
            iam = iam.http_client(http.clone());
            sts = sts.http_client(http.clone());
            #[cfg(feature = "batch")]
            {
                control = control.http_client(http);
            }
        }
        if let Some(endpoint) = endpoint {
            s3 = s3.endpoint_url(endpoint);
            iam = iam.endpoint_url(endpoint);
            sts = sts.endpoint_url(endpoint);
            #[cfg(feature = "batch")]
            {
                control = control.endpoint_resolver(FixedEndpoint(endpoint.to_owned()));
            }
        }
        AccountClients {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            #[cfg(feature = "batch")]
            s3control: aws_sdk_s3control::Client::from_conf(control.build()),
            account_id: account_id.to_string(),
            region: region.to_string(),
        }
    }

    /// The emulator's convention: access key id = account id, secret `test`.
    pub fn for_emulator(endpoint: &str, account_id: &str, region: &str) -> AccountClients {
        AccountClients::from_static(account_id, region, Some(endpoint), account_id, "test")
    }

    /// The account the credentials really belong to (STS GetCallerIdentity).
    pub async fn caller_account(&self) -> Result<String, ProvisionError> {
        let out = self.sts.get_caller_identity().send().await.map_err(|e| aws_error("GetCallerIdentity", &self.account_id, e))?;
        out.account().map(str::to_string).ok_or_else(|| ProvisionError::Credentials {
            account: self.account_id.clone(),
            message: "GetCallerIdentity returned no account".into(),
        })
    }

    /// Refuse to continue when the credentials belong to another account than the spec names:
    /// [`ProvisionError::AccountMismatch`] with `side` (`"source"` or `"destination"`) in its message.
    pub async fn check_identity(&self, side: &'static str) -> Result<(), ProvisionError> {
        let actual = self.caller_account().await?;
        if actual == self.account_id {
            Ok(())
        } else {
            Err(ProvisionError::AccountMismatch { side, expected: self.account_id.clone(), actual })
        }
    }

    /// The account's canonical user id (the owner id S3 shows on objects), from ListBuckets.
    pub async fn canonical_user_id(&self) -> Result<Option<String>, ProvisionError> {
        let out = self.s3.list_buckets().max_buckets(1).send().await.map_err(|e| aws_error("ListBuckets", &self.account_id, e))?;
        Ok(out.owner().and_then(|o| o.id()).map(str::to_string))
    }
}

/// The clients of both accounts; either may be absent when only one side is operated on.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    /// Clients of the source account (`[source]`); needed for [`Side::Source`] and [`Side::Both`].
    pub source: Option<AccountClients>,
    /// Clients of the (first) destination account; needed for [`Side::Destination`] and [`Side::Both`].
    pub destination: Option<AccountClients>,
    /// Clients of further destination accounts (`[[destinations]]` in other accounts than the first).
    pub others: Vec<AccountClients>,
}

impl Accounts {
    /// Both accounts' clients, without further destination accounts.
    pub fn new(source: AccountClients, destination: AccountClients) -> Accounts {
        Accounts { source: Some(source), destination: Some(destination), others: Vec::new() }
    }

    /// Build the clients `side` needs from the spec, and check with STS that each set of
    /// credentials belongs to the account the spec names.
    ///
    /// # Errors
    ///
    /// [`ProvisionError::AccountMismatch`] when credentials belong to another account than the
    /// spec's; [`ProvisionError::Aws`] when GetCallerIdentity fails (no valid credentials, e.g.
    /// `InvalidClientTokenId`, or the endpoint cannot be reached).
    pub async fn from_spec(spec: &Spec, side: Side) -> Result<Accounts, ProvisionError> {
        let mut accounts = Accounts::default();
        if side.includes_source() {
            let c = AccountClients::from_spec(&spec.source).await;
            c.check_identity("source").await?;
            accounts.source = Some(c);
        }
        if side.includes_destination() {
            let c = AccountClients::from_spec(&spec.destination).await;
            c.check_identity("destination").await?;
            accounts.destination = Some(c);
            for d in &spec.extra_destinations {
                if d.account_id == spec.destination.account_id || accounts.others.iter().any(|o| o.account_id == d.account_id) {
                    continue;
                }
                let c = AccountClients::from_spec(d).await;
                c.check_identity("destination").await?;
                accounts.others.push(c);
            }
        }
        Ok(accounts)
    }

    /// Clients for every account of `spec` on an emulator endpoint (its key convention), without
    /// contacting it.
    pub fn for_emulator(endpoint: &str, spec: &Spec) -> Accounts {
        let mut accounts = Accounts::new(
            AccountClients::for_emulator(endpoint, &spec.source.account_id, &spec.source.region),
            AccountClients::for_emulator(endpoint, &spec.destination.account_id, &spec.destination.region),
        );
        for d in &spec.extra_destinations {
            if d.account_id != spec.destination.account_id && !accounts.others.iter().any(|o| o.account_id == d.account_id) {
                accounts.others.push(AccountClients::for_emulator(endpoint, &d.account_id, &d.region));
            }
        }
        accounts
    }

    /// Every account id `spec` names (source first), without repeats.
    pub fn account_ids(spec: &Spec) -> Vec<&str> {
        let mut ids: Vec<&str> = vec![&spec.source.account_id];
        for d in spec.destinations() {
            if !ids.contains(&d.account_id.as_str()) {
                ids.push(&d.account_id);
            }
        }
        ids
    }

    /// The clients of destination account `account_id`: [`Accounts::destination`] or one of
    /// [`Accounts::others`]. [`ProvisionError::MissingClients`] when none is for that account.
    pub fn for_destination(&self, account_id: &str) -> Result<&AccountClients, ProvisionError> {
        let first = self.destination()?;
        if first.account_id == account_id {
            return Ok(first);
        }
        self.others.iter().find(|o| o.account_id == account_id).ok_or(ProvisionError::MissingClients { side: "destination" })
    }

    /// The source account's clients, or [`ProvisionError::MissingClients`] when there are none.
    pub fn source(&self) -> Result<&AccountClients, ProvisionError> {
        self.source.as_ref().ok_or(ProvisionError::MissingClients { side: "source" })
    }

    /// The (first) destination account's clients, or [`ProvisionError::MissingClients`] when
    /// there are none.
    pub fn destination(&self) -> Result<&AccountClients, ProvisionError> {
        self.destination.as_ref().ok_or(ProvisionError::MissingClients { side: "destination" })
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Turn an SDK error into [`ProvisionError::Aws`], keeping AWS's code and message. Errors without
/// a response (connection refused, timeouts) get a client-side code and the full error chain.
pub(crate) fn aws_error<E>(operation: &'static str, account: &str, err: SdkError<E, HttpResponse>) -> ProvisionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let message = err.message().map(str::to_string);
    let (code, message) = match (code, message) {
        (Some(c), Some(m)) => (c, m),
        (Some(c), None) => (c, default_message(status)),
        (None, m) => {
            let code = match (&err, status) {
                (SdkError::ServiceError(_), Some(404)) => "NotFound".to_string(),
                (SdkError::ServiceError(_), Some(403)) => "Forbidden".to_string(),
                (SdkError::ServiceError(_), Some(s)) => format!("Http{s}"),
                (SdkError::DispatchFailure(_), _) => "DispatchFailure".to_string(),
                (SdkError::TimeoutError(_), _) => "Timeout".to_string(),
                (SdkError::ConstructionFailure(_), _) => "ConstructionFailure".to_string(),
                _ => "ResponseError".to_string(),
            };
            let message = match (m, &err) {
                (Some(m), _) => m,
                (None, SdkError::ServiceError(_)) => default_message(status),
                (None, _) => DisplayErrorContext(&err).to_string(),
            };
            (code, message)
        }
    };
    ProvisionError::Aws { operation, account: account.to_string(), code, message, status }
}

fn default_message(status: Option<u16>) -> String {
    match status {
        Some(404) => "not found".into(),
        Some(403) => "access denied".into(),
        Some(s) => format!("HTTP {s}"),
        None => "no message".into(),
    }
}

/// Whether `err` is an AWS error with one of `codes` (or, for bodiless HEAD answers, `NotFound`
/// when 404 is asked for via the code "NotFound").
pub(crate) fn has_code(err: &ProvisionError, codes: &[&str]) -> bool {
    match err {
        ProvisionError::Aws { code, .. } => codes.iter().any(|c| c == code),
        _ => false,
    }
}

pub(crate) fn is_not_found(err: &ProvisionError) -> bool {
    matches!(err, ProvisionError::Aws { status: Some(404), .. })
        || has_code(
            err,
            &[
                "NotFound",
                "NoSuchBucket",
                "NoSuchKey",
                "NoSuchEntity",
                "NoSuchBucketPolicy",
                "NoSuchTagSet",
                "NoSuchTagSetError",
                "ReplicationConfigurationNotFoundError",
                "OwnershipControlsNotFoundError",
            ],
        )
}

// ---------------------------------------------------------------------------------------------
// Documents: decoding and comparing

/// Parse a policy document as AWS returns it: IAM's GetRole/GetRolePolicy answer URL-encoded
/// text (RFC 3986), S3's GetBucketPolicy plain JSON.
pub fn decode_policy_document(text: &str) -> Result<Value, ProvisionError> {
    let trimmed = text.trim_start();
    let decoded = if trimmed.starts_with('{') {
        trimmed.to_string()
    } else {
        percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .map_err(|e| ProvisionError::Document(format!("policy document is not UTF-8: {e}")))?
            .into_owned()
    };
    serde_json::from_str(&decoded).map_err(|e| ProvisionError::Document(format!("policy document returned by AWS is not JSON: {e}")))
}

/// Whether two policy documents (or replication configurations) mean the same thing: key order,
/// array order, a string versus a one-element list, and an empty Filter prefix do not matter.
pub fn documents_equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// Members whose value may be a string or a list of strings, with the same meaning.
const LIST_MEMBERS: &[&str] =
    &["Action", "NotAction", "Resource", "NotResource", "AWS", "Service", "Federated", "CanonicalUser", "Statement"];

fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, val) in map {
                let mut val = normalize(val);
                if LIST_MEMBERS.contains(&k.as_str()) && !val.is_array() {
                    val = Value::Array(vec![val]);
                }
                if k == "Condition" {
                    val = normalize_condition(&val);
                }
                // `Filter: {"Prefix": ""}` and `Filter: {}` both match every object.
                if k == "Filter" {
                    if let Some(f) = val.as_object_mut() {
                        if f.get("Prefix").and_then(Value::as_str) == Some("") {
                            f.remove("Prefix");
                        }
                    }
                }
                out.insert(k.clone(), val);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(normalize).collect();
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        other => other.clone(),
    }
}

fn normalize_condition(v: &Value) -> Value {
    let Value::Object(ops) = v else {
        return v.clone();
    };
    let mut out = Map::new();
    for (op, block) in ops {
        let mut b = Map::new();
        for (key, val) in block.as_object().into_iter().flatten() {
            let val = if val.is_array() { val.clone() } else { Value::Array(vec![val.clone()]) };
            // Condition keys are case-insensitive in IAM.
            b.insert(key.to_ascii_lowercase(), normalize(&val));
        }
        out.insert(op.clone(), Value::Object(b));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Replication configuration: JSON <-> SDK

fn doc_err(msg: impl Into<String>) -> ProvisionError {
    ProvisionError::Document(msg.into())
}

fn build_err(what: &str, e: impl std::fmt::Display) -> ProvisionError {
    doc_err(format!("{what}: {e}"))
}

fn status_enabled(v: Option<&Value>) -> Option<bool> {
    v.and_then(|x| x.get("Status")).and_then(Value::as_str).map(|s| s == "Enabled")
}

fn minutes(v: Option<&Value>) -> Option<s3t::ReplicationTimeValue> {
    v.and_then(|t| t.get("Minutes"))
        .and_then(Value::as_i64)
        .and_then(|m| i32::try_from(m).ok())
        .map(|m| s3t::ReplicationTimeValue::builder().minutes(m).build())
}

fn tag(v: &Value) -> Result<s3t::Tag, ProvisionError> {
    let key = v.get("Key").and_then(Value::as_str).unwrap_or_default();
    let value = v.get("Value").and_then(Value::as_str).unwrap_or_default();
    s3t::Tag::builder().key(key).value(value).build().map_err(|e| build_err("Tag", e))
}

/// The SDK request for a replication configuration in AWS's JSON shape (either schema).
pub fn replication_from_json(v: &Value) -> Result<s3t::ReplicationConfiguration, ProvisionError> {
    let v = v.get("ReplicationConfiguration").unwrap_or(v);
    let role = v.get("Role").and_then(Value::as_str).ok_or_else(|| doc_err("replication configuration has no \"Role\""))?;
    let rules = v.get("Rules").and_then(Value::as_array).ok_or_else(|| doc_err("replication configuration has no \"Rules\" array"))?;
    let mut out = Vec::new();
    for r in rules {
        out.push(rule_from_json(r)?);
    }
    s3t::ReplicationConfiguration::builder().role(role).set_rules(Some(out)).build().map_err(|e| build_err("ReplicationConfiguration", e))
}

/// One rule: its ID, priority, prefix (V1) or filter (V2), delete marker replication, source
/// selection, existing object replication and destination.
fn rule_from_json(r: &Value) -> Result<s3t::ReplicationRule, ProvisionError> {
    let status = match r.get("Status").and_then(Value::as_str) {
        Some("Enabled") => s3t::ReplicationRuleStatus::Enabled,
        _ => s3t::ReplicationRuleStatus::Disabled,
    };
    let mut b = s3t::ReplicationRule::builder().status(status);
    if let Some(id) = r.get("ID").and_then(Value::as_str) {
        b = b.id(id);
    }
    if let Some(p) = r.get("Priority").and_then(Value::as_i64) {
        b = b.priority(i32::try_from(p).map_err(|_| doc_err("Priority out of range"))?);
    }
    // A top-level Prefix is schema V1: deprecated by AWS but still accepted, and users' files use it.
    if let Some(p) = r.get("Prefix").and_then(Value::as_str) {
        #[allow(deprecated)]
        let with_prefix = b.prefix(p);
        b = with_prefix;
    }
    if let Some(f) = r.get("Filter") {
        b = b.filter(filter_from_json(f)?);
    }
    if let Some(enabled) = status_enabled(r.get("DeleteMarkerReplication")) {
        b = b.delete_marker_replication(
            s3t::DeleteMarkerReplication::builder()
                .status(if enabled { s3t::DeleteMarkerReplicationStatus::Enabled } else { s3t::DeleteMarkerReplicationStatus::Disabled })
                .build(),
        );
    }
    if let Some(ssc) = r.get("SourceSelectionCriteria") {
        b = b.source_selection_criteria(source_selection_from_json(ssc)?);
    }
    if let Some(enabled) = status_enabled(r.get("ExistingObjectReplication")) {
        b = b.existing_object_replication(
            s3t::ExistingObjectReplication::builder()
                .status(if enabled {
                    s3t::ExistingObjectReplicationStatus::Enabled
                } else {
                    s3t::ExistingObjectReplicationStatus::Disabled
                })
                .build()
                .map_err(|e| build_err("ExistingObjectReplication", e))?,
        );
    }
    let d = r.get("Destination").ok_or_else(|| doc_err("a replication rule has no \"Destination\""))?;
    b = b.destination(destination_from_json(d)?);
    b.build().map_err(|e| build_err("Rule", e))
}

/// A V2 rule's `Filter`: `Prefix`, `Tag` or `And` (prefix and tags).
fn filter_from_json(f: &Value) -> Result<s3t::ReplicationRuleFilter, ProvisionError> {
    let mut fb = s3t::ReplicationRuleFilter::builder();
    if let Some(p) = f.get("Prefix").and_then(Value::as_str) {
        fb = fb.prefix(p);
    }
    if let Some(t) = f.get("Tag") {
        fb = fb.tag(tag(t)?);
    }
    if let Some(and) = f.get("And") {
        let mut ab = s3t::ReplicationRuleAndOperator::builder();
        if let Some(p) = and.get("Prefix").and_then(Value::as_str) {
            ab = ab.prefix(p);
        }
        for t in and.get("Tags").and_then(Value::as_array).into_iter().flatten() {
            ab = ab.tags(tag(t)?);
        }
        fb = fb.and(ab.build());
    }
    Ok(fb.build())
}

/// `SourceSelectionCriteria`: SSE-KMS objects and replica modifications.
fn source_selection_from_json(ssc: &Value) -> Result<s3t::SourceSelectionCriteria, ProvisionError> {
    let mut sb = s3t::SourceSelectionCriteria::builder();
    if let Some(enabled) = status_enabled(ssc.get("SseKmsEncryptedObjects")) {
        sb = sb.sse_kms_encrypted_objects(
            s3t::SseKmsEncryptedObjects::builder()
                .status(if enabled { s3t::SseKmsEncryptedObjectsStatus::Enabled } else { s3t::SseKmsEncryptedObjectsStatus::Disabled })
                .build()
                .map_err(|e| build_err("SseKmsEncryptedObjects", e))?,
        );
    }
    if let Some(enabled) = status_enabled(ssc.get("ReplicaModifications")) {
        sb = sb.replica_modifications(
            s3t::ReplicaModifications::builder()
                .status(if enabled { s3t::ReplicaModificationsStatus::Enabled } else { s3t::ReplicaModificationsStatus::Disabled })
                .build()
                .map_err(|e| build_err("ReplicaModifications", e))?,
        );
    }
    Ok(sb.build())
}

/// A rule's `Destination`: bucket, account, storage class, owner override, replica KMS key,
/// replication time and metrics.
fn destination_from_json(d: &Value) -> Result<s3t::Destination, ProvisionError> {
    let mut db = s3t::Destination::builder()
        .bucket(d.get("Bucket").and_then(Value::as_str).ok_or_else(|| doc_err("a rule's Destination has no \"Bucket\""))?);
    if let Some(a) = d.get("Account").and_then(Value::as_str) {
        db = db.account(a);
    }
    if let Some(c) = d.get("StorageClass").and_then(Value::as_str) {
        db = db.storage_class(s3t::StorageClass::from(c));
    }
    if let Some(act) = d.get("AccessControlTranslation") {
        let owner = act.get("Owner").and_then(Value::as_str).unwrap_or("Destination");
        db = db.access_control_translation(
            s3t::AccessControlTranslation::builder()
                .owner(s3t::OwnerOverride::from(owner))
                .build()
                .map_err(|e| build_err("AccessControlTranslation", e))?,
        );
    }
    if let Some(key) = d.get("EncryptionConfiguration").and_then(|e| e.get("ReplicaKmsKeyID")).and_then(Value::as_str) {
        db = db.encryption_configuration(s3t::EncryptionConfiguration::builder().replica_kms_key_id(key).build());
    }
    if let Some(rt) = d.get("ReplicationTime") {
        let on = status_enabled(Some(rt)).unwrap_or(false);
        let status = if on { s3t::ReplicationTimeStatus::Enabled } else { s3t::ReplicationTimeStatus::Disabled };
        let rb = s3t::ReplicationTime::builder().status(status).set_time(minutes(rt.get("Time")));
        db = db.replication_time(rb.build().map_err(|e| build_err("ReplicationTime", e))?);
    }
    if let Some(m) = d.get("Metrics") {
        let status = if status_enabled(Some(m)).unwrap_or(false) { s3t::MetricsStatus::Enabled } else { s3t::MetricsStatus::Disabled };
        let mb = s3t::Metrics::builder().status(status).set_event_threshold(minutes(m.get("EventThreshold")));
        db = db.metrics(mb.build().map_err(|e| build_err("Metrics", e))?);
    }
    db.build().map_err(|e| build_err("Destination", e))
}

fn status_json(s: &str) -> Value {
    json!({ "Status": s })
}

fn tag_json(t: &s3t::Tag) -> Value {
    json!({ "Key": t.key(), "Value": t.value() })
}

/// AWS's JSON shape for a replication configuration the SDK returned (for plans and display).
pub fn replication_to_json(c: &s3t::ReplicationConfiguration) -> Value {
    let rules: Vec<Value> = c.rules().iter().map(rule_to_json).collect();
    json!({ "Role": c.role(), "Rules": rules })
}

/// One rule, its members in AWS's order.
fn rule_to_json(r: &s3t::ReplicationRule) -> Value {
    let mut m = Map::new();
    if let Some(id) = r.id() {
        m.insert("ID".into(), json!(id));
    }
    if let Some(p) = r.priority() {
        m.insert("Priority".into(), json!(p));
    }
    m.insert("Status".into(), json!(r.status().as_str()));
    #[allow(deprecated)]
    let v1_prefix = r.prefix();
    if let Some(p) = v1_prefix {
        m.insert("Prefix".into(), json!(p));
    }
    if let Some(f) = r.filter() {
        m.insert("Filter".into(), filter_to_json(f));
    }
    if let Some(ssc) = r.source_selection_criteria() {
        let mut sm = Map::new();
        if let Some(s) = ssc.sse_kms_encrypted_objects() {
            sm.insert("SseKmsEncryptedObjects".into(), status_json(s.status().as_str()));
        }
        if let Some(s) = ssc.replica_modifications() {
            sm.insert("ReplicaModifications".into(), status_json(s.status().as_str()));
        }
        m.insert("SourceSelectionCriteria".into(), Value::Object(sm));
    }
    if let Some(e) = r.existing_object_replication() {
        m.insert("ExistingObjectReplication".into(), status_json(e.status().as_str()));
    }
    if let Some(d) = r.delete_marker_replication() {
        if let Some(s) = d.status() {
            m.insert("DeleteMarkerReplication".into(), status_json(s.as_str()));
        }
    }
    if let Some(d) = r.destination() {
        m.insert("Destination".into(), destination_to_json(d));
    }
    Value::Object(m)
}

fn filter_to_json(f: &s3t::ReplicationRuleFilter) -> Value {
    let mut fm = Map::new();
    if let Some(p) = f.prefix() {
        fm.insert("Prefix".into(), json!(p));
    }
    if let Some(t) = f.tag() {
        fm.insert("Tag".into(), tag_json(t));
    }
    if let Some(and) = f.and() {
        let mut am = Map::new();
        if let Some(p) = and.prefix() {
            am.insert("Prefix".into(), json!(p));
        }
        am.insert("Tags".into(), Value::Array(and.tags().iter().map(tag_json).collect()));
        fm.insert("And".into(), Value::Object(am));
    }
    Value::Object(fm)
}

fn destination_to_json(d: &s3t::Destination) -> Value {
    let mut dm = Map::new();
    dm.insert("Bucket".into(), json!(d.bucket()));
    if let Some(a) = d.account() {
        dm.insert("Account".into(), json!(a));
    }
    if let Some(c) = d.storage_class() {
        dm.insert("StorageClass".into(), json!(c.as_str()));
    }
    if let Some(a) = d.access_control_translation() {
        dm.insert("AccessControlTranslation".into(), json!({ "Owner": a.owner().as_str() }));
    }
    if let Some(key) = d.encryption_configuration().and_then(|e| e.replica_kms_key_id()) {
        dm.insert("EncryptionConfiguration".into(), json!({ "ReplicaKmsKeyID": key }));
    }
    if let Some(rt) = d.replication_time() {
        let mut rm = Map::new();
        rm.insert("Status".into(), json!(rt.status().as_str()));
        if let Some(t) = rt.time().and_then(|t| t.minutes()) {
            rm.insert("Time".into(), json!({ "Minutes": t }));
        }
        dm.insert("ReplicationTime".into(), Value::Object(rm));
    }
    if let Some(mt) = d.metrics() {
        let mut mm = Map::new();
        mm.insert("Status".into(), json!(mt.status().as_str()));
        if let Some(t) = mt.event_threshold().and_then(|t| t.minutes()) {
            mm.insert("EventThreshold".into(), json!({ "Minutes": t }));
        }
        dm.insert("Metrics".into(), Value::Object(mm));
    }
    Value::Object(dm)
}

// ---------------------------------------------------------------------------------------------
// Backoff

/// Bounded exponential backoff, for IAM's eventual consistency and for polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay before the first retry; each further retry waits twice as long.
    pub initial: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
    /// Attempts in all (the first try included).
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// IAM changes usually propagate within seconds; 8 attempts wait up to ~30 s in all.
    fn default() -> Self {
        Backoff { initial: Duration::from_millis(250), max_delay: Duration::from_secs(8), max_attempts: 8 }
    }
}

impl Backoff {
    /// The delay before attempt `n + 1` (n counted from 0).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.min(16));
        self.initial.saturating_mul(factor).min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_url_encoded_documents_decode() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        let v = decode_policy_document(encoded).expect("decodes");
        assert_eq!(v, json!({"Version": "2012-10-17", "Statement": []}));
        let plain = decode_policy_document("{\"a\": \"50%\"}").expect("plain JSON stays as is");
        assert_eq!(plain, json!({"a": "50%"}));
        assert!(decode_policy_document("%7Bnot json").is_err());
    }

    #[test]
    fn equivalence_ignores_order_and_singletons() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:A",
            "Resource": ["r2", "r1"], "Condition": {"StringEquals": {"aws:SourceAccount": "1"}}}});
        let b = json!({"Statement": [{"Resource": ["r1", "r2"], "Action": ["s3:A"], "Effect": "Allow",
            "Condition": {"StringEquals": {"aws:sourceaccount": ["1"]}}}], "Version": "2012-10-17"});
        assert!(documents_equivalent(&a, &b));
        let c = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:B", "Resource": ["r1", "r2"]}]});
        assert!(!documents_equivalent(&a, &c));
        assert!(documents_equivalent(&json!({"Filter": {"Prefix": ""}}), &json!({"Filter": {}})));
    }

    #[test]
    fn replication_json_round_trips_through_the_sdk_types() {
        let doc = json!({
            "Role": "arn:aws:iam::111111111111:role/service-role/r",
            "Rules": [{
                "ID": "a", "Priority": 2, "Status": "Enabled",
                "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}},
                "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {
                    "Bucket": "arn:aws:s3:::d", "Account": "222222222222", "StorageClass": "STANDARD_IA",
                    "AccessControlTranslation": {"Owner": "Destination"},
                    "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:us-east-1:222222222222:key/k"},
                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                    "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
                }
            }, {
                "ID": "b", "Priority": 1, "Status": "Disabled", "Filter": {"Tag": {"Key": "x", "Value": "y"}},
                "DeleteMarkerReplication": {"Status": "Disabled"},
                "Destination": {"Bucket": "arn:aws:s3:::d"}
            }]
        });
        let sdk = replication_from_json(&doc).expect("converts");
        assert_eq!(replication_to_json(&sdk), doc);
        assert!(replication_from_json(&json!({"Rules": []})).is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff { initial: Duration::from_millis(100), max_delay: Duration::from_millis(350), max_attempts: 5 };
        assert_eq!(b.delay(0), Duration::from_millis(100));
        assert_eq!(b.delay(1), Duration::from_millis(200));
        assert_eq!(b.delay(2), Duration::from_millis(350));
        assert_eq!(b.delay(40), Duration::from_millis(350));
    }
}

/// The HTTP client for a plain-HTTP endpoint (an emulator): one per process, built with an empty
/// trust store, since no certificate is ever verified on `http://`. The default client loads the
/// system's roots first: 7 ms of `xrepl demo`'s 32 on this project's machine (docs/benchmarks.md).
/// None for `https://` endpoints, which keep the default client and the system's roots.
/// Whether the shared plain-HTTP client keeps idle connections for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pooling {
    Pooled,
    Unpooled,
}

fn plain_http_client(endpoint: &str, pooling: Pooling) -> Option<aws_sdk_s3::config::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
    static POOLED: std::sync::OnceLock<Option<aws_sdk_s3::config::SharedHttpClient>> = std::sync::OnceLock::new();
    static UNPOOLED: std::sync::OnceLock<Option<aws_sdk_s3::config::SharedHttpClient>> = std::sync::OnceLock::new();
    if !endpoint.starts_with("http://") {
        return None;
    }
    let cell = if pooling == Pooling::Pooled { &POOLED } else { &UNPOOLED };
    cell.get_or_init(|| {
        let context = TlsContext::builder().with_trust_store(TrustStore::empty()).build().ok()?;
        let mut builder = aws_smithy_http_client::Builder::new();
        if pooling == Pooling::Unpooled {
            builder = builder.pool_max_idle_per_host(0);
        }
        Some(builder.tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc)).tls_context(context).build_https())
    })
    .clone()
}

#[cfg(test)]
mod plain_http_tests {
    use super::{plain_http_client, Pooling};

    #[test]
    fn only_plain_http_endpoints_skip_the_trust_store() {
        assert!(plain_http_client("http://127.0.0.1:4566", Pooling::Pooled).is_some());
        assert!(plain_http_client("http://127.0.0.1:4566", Pooling::Unpooled).is_some());
        assert!(plain_http_client("https://s3.example.test", Pooling::Pooled).is_none(), "TLS endpoints keep the system's roots");
    }
}
