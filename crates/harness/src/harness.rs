//! Two accounts on a backend: apply a spec, write/tag/delete, wait, and assert.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use xrepl_provisioner::{AccountClients, Accounts, ApplyOptions, ApplyReport, Spec, StaticKeys};

use crate::backend::{Backend, BackendKind, Capability, FailureView};
use crate::error::AssertionFailure;
use crate::HarnessError;

/// The source account a harness has when none are named (as in LocalStack-style examples).
pub const SOURCE_ACCOUNT: &str = "111111111111";
/// The destination account a harness has when none are named.
pub const DESTINATION_ACCOUNT: &str = "222222222222";

/// One account's clients on the backend (keys: access key id = account id, secret `test`).
pub struct AccountHandle {
    /// The 12-digit account id.
    pub account_id: String,
    /// The S3/IAM/STS/KMS endpoint serving the account.
    pub endpoint: String,
    /// The account's S3, IAM, STS and S3 Control clients, signed as the account's root.
    pub clients: AccountClients,
}

impl AccountHandle {
    /// The account's S3 client (path-style, signed as the account's root).
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.clients.s3
    }
    /// The account's IAM client.
    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.clients.iam
    }

    /// The account's canonical user id, as S3 reports it (ListBuckets owner).
    pub async fn canonical_id(&self) -> Result<String, HarnessError> {
        let out = self.s3().list_buckets().send().await.map_err(|e| HarnessError::aws("ListBuckets", &e))?;
        out.owner().and_then(|o| o.id()).map(str::to_owned).ok_or_else(|| HarnessError::Other("ListBuckets returned no owner".to_owned()))
    }
}

/// Two (or more) AWS accounts on a backend, with a spec applied through the provisioner and
/// assertions on what replicated. Start one with [`Harness::builder`] (or [`Harness::start`]);
/// it stops its backend when dropped. A harness may live in a `static` and serve every test of a
/// binary: the embedded emulator runs on a runtime of its own (see the crate docs).
pub struct Harness {
    backend: Box<dyn Backend>,
    accounts: BTreeMap<String, AccountHandle>,
}

/// Starts a [`Harness`]: which backend, which accounts, or an emulator that already runs.
///
/// ```no_run
/// # async fn demo() -> Result<(), xrepl_harness::HarnessError> {
/// use xrepl_harness::{BackendKind, Harness};
/// let h = Harness::builder()
///     .backend(BackendKind::Embedded)
///     .accounts(["123456789012", "210987654321"])
///     .start()
///     .await?;
/// # let _ = h; Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until .start().await"]
pub struct HarnessBuilder {
    backend: Option<BackendKind>,
    accounts: Vec<String>,
    spec_files: Vec<PathBuf>,
    endpoint: Option<String>,
}

impl HarnessBuilder {
    /// The backend to start. Default: `XREPL_BACKEND` when set, else [`BackendKind::Embedded`].
    pub fn backend(mut self, kind: BackendKind) -> Self {
        self.backend = Some(kind);
        self
    }

    /// The accounts to serve (12-digit ids), replacing the default 111111111111 and 222222222222.
    pub fn accounts<I, S>(mut self, accounts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for account in accounts {
            let account = account.into();
            if !self.accounts.contains(&account) {
                self.accounts.push(account);
            }
        }
        self
    }

    /// Adds every account the spec file names (source, destinations), read when the harness
    /// starts. A relative path is relative to the working directory (the crate's directory under
    /// `cargo test`).
    pub fn accounts_from_spec(mut self, path: impl AsRef<Path>) -> Self {
        self.spec_files.push(path.as_ref().to_path_buf());
        self
    }

    /// Connects to an xrepl emulator that already runs at `url` (`xrepl serve`, docker-compose,
    /// an `XreplImage` container) instead of starting one. Drain, reset and
    /// failures go through its `/_xrepl` admin endpoints; the backend is [`BackendKind::Served`].
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Starts (or connects to) the backend and makes each account's clients.
    pub async fn start(self) -> Result<Harness, HarnessError> {
        let mut accounts = self.accounts;
        for file in &self.spec_files {
            let spec = Spec::load(file)?;
            for id in Accounts::account_ids(&spec) {
                if !accounts.iter().any(|a| a == id) {
                    accounts.push(id.to_owned());
                }
            }
        }
        if accounts.is_empty() {
            accounts = vec![SOURCE_ACCOUNT.to_owned(), DESTINATION_ACCOUNT.to_owned()];
        }
        let accounts: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let backend = match (self.endpoint, self.backend) {
            (Some(url), None | Some(BackendKind::Served)) => Box::new(crate::backends::served::ServedBackend::connect(&url).await?),
            (Some(url), Some(kind)) => {
                return Err(HarnessError::Other(format!(
                    "Harness::builder(): .endpoint({url:?}) connects to an emulator that runs, .backend({kind}) starts one: choose one"
                )))
            }
            (None, kind) => {
                let kind = match kind {
                    Some(kind) => kind,
                    None => BackendKind::from_env()?,
                };
                crate::backends::start(kind, &accounts).await?
            }
        };
        Ok(Harness::with_backend(backend, &accounts))
    }
}

impl Harness {
    /// A builder: backend, accounts, or the endpoint of an emulator that already runs.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// Starts a backend with the two default accounts (111111111111 and 222222222222).
    pub async fn start(kind: BackendKind) -> Result<Self, HarnessError> {
        Self::start_with(kind, &[SOURCE_ACCOUNT, DESTINATION_ACCOUNT]).await
    }

    /// Starts the backend named by `XREPL_BACKEND` (embedded by default).
    pub async fn from_env() -> Result<Self, HarnessError> {
        Self::start(BackendKind::from_env()?).await
    }

    /// Starts a backend serving exactly these accounts (12-digit ids); the builder's
    /// `.backend(kind).accounts(accounts)`.
    pub async fn start_with(kind: BackendKind, accounts: &[&str]) -> Result<Self, HarnessError> {
        Harness::builder().backend(kind).accounts(accounts.iter().copied()).start().await
    }

    /// Wraps a backend someone else started, with clients for `accounts`.
    pub fn with_backend(backend: Box<dyn Backend>, accounts: &[&str]) -> Self {
        let accounts = accounts
            .iter()
            .map(|a| {
                let endpoint = backend.endpoint(a);
                // Unpooled: a harness in a `static` serves tests on several runtimes.
                let keys = StaticKeys {
                    account_id: a,
                    region: backend.region(),
                    endpoint: Some(&endpoint),
                    access_key_id: a,
                    secret_access_key: "test",
                };
                let clients = AccountClients::from_static_unpooled(keys);
                ((*a).to_owned(), AccountHandle { account_id: (*a).to_owned(), endpoint, clients })
            })
            .collect();
        Self { backend, accounts }
    }

    /// HeadObject on the destination's latest version of `key`.
    async fn replica_head(&self, spec: &Spec, key: &str) -> Result<aws_sdk_s3::operation::head_object::HeadObjectOutput, HarnessError> {
        let dst = self.destination(spec)?;
        dst.s3().head_object().bucket(&spec.destination.bucket).key(key).send().await.map_err(|e| HarnessError::aws("HeadObject", &e))
    }

    /// ListObjectVersions on the destination, for keys starting with `key`.
    async fn destination_versions(
        &self,
        spec: &Spec,
        key: &str,
    ) -> Result<aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput, HarnessError> {
        let dst = self.destination(spec)?;
        dst.s3()
            .list_object_versions()
            .bucket(&spec.destination.bucket)
            .prefix(key)
            .send()
            .await
            .map_err(|e| HarnessError::aws("ListObjectVersions", &e))
    }

    /// The kind of backend the accounts live on.
    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    /// The backend itself (endpoints, capabilities, the embedded emulator).
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The accounts this harness has clients for.
    pub fn account_ids(&self) -> Vec<&str> {
        self.accounts.keys().map(String::as_str).collect()
    }

    /// The clients of account `id`; an account the harness was not started with is an error that
    /// says how to add it.
    pub fn account(&self, id: &str) -> Result<&AccountHandle, HarnessError> {
        self.accounts.get(id).ok_or_else(|| {
            HarnessError::Other(format!(
                "account {id} is not part of this harness (it has {}): start the harness with it, \
                 Harness::builder().accounts([\"{id}\", ...]) or .accounts_from_spec(\"your-spec.toml\")",
                self.account_ids().join(", ")
            ))
        })
    }

    /// Fails with `Unsupported` (never a silent pass) when the backend cannot observe `capability`.
    pub fn require(&self, capability: Capability, what: &str) -> Result<(), HarnessError> {
        match self.backend.capabilities().missing(capability) {
            None => Ok(()),
            Some(reason) => {
                Err(HarnessError::Unsupported { backend: self.kind().name().to_owned(), what: what.to_owned(), reason: reason.to_owned() })
            }
        }
    }

    /// Whether the backend can observe `capability` faithfully.
    pub fn supports(&self, capability: Capability) -> bool {
        self.backend.capabilities().missing(capability).is_none()
    }

    /// Loads a spec file and points its accounts at this backend. Files the spec names
    /// (`bucket_policy_file`) are relative to the spec file.
    pub fn spec_from_file(&self, path: impl AsRef<Path>) -> Result<Spec, HarnessError> {
        let mut spec = Spec::load(path)?;
        self.point(&mut spec)?;
        Ok(spec)
    }

    /// A spec from TOML text, pointed at this backend. Files it names (`bucket_policy_file`) are
    /// relative to the directory of the crate under test (`CARGO_MANIFEST_DIR`, which cargo sets
    /// for tests), else to the working directory; [`Harness::spec_from_toml_in`] names another.
    pub fn spec_from_toml(&self, text: &str) -> Result<Spec, HarnessError> {
        let dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_default();
        self.spec_from_toml_in(text, dir)
    }

    /// A spec from TOML text whose relative file names are relative to `dir`.
    pub fn spec_from_toml_in(&self, text: &str, dir: impl AsRef<Path>) -> Result<Spec, HarnessError> {
        let mut spec = Spec::from_toml_str(text, dir.as_ref().join("inline.toml"))?;
        self.point(&mut spec)?;
        Ok(spec)
    }

    /// Points the spec's accounts at this backend, with the accounts' emulator keys. Every
    /// account the spec names must be one of the harness's.
    fn point(&self, spec: &mut Spec) -> Result<(), HarnessError> {
        for id in Accounts::account_ids(spec) {
            self.account(id)?;
        }
        for side in [&mut spec.source, &mut spec.destination] {
            let endpoint = self.backend.endpoint(&side.account_id);
            side.endpoint = Some(endpoint);
            side.credentials = xrepl_provisioner::spec::Credentials::Static {
                access_key_id: side.account_id.clone(),
                secret_access_key: "test".to_owned(),
                session_token: None,
            };
        }
        Ok(())
    }

    fn accounts_for(&self, spec: &Spec) -> Result<Accounts, HarnessError> {
        let source = self.account(&spec.source.account_id)?.clients.clone();
        let destination = self.account(&spec.destination.account_id)?.clients.clone();
        Ok(Accounts::new(source, destination))
    }

    /// Applies the spec through the provisioner (both sides).
    pub async fn apply(&self, spec: &Spec) -> Result<ApplyReport, HarnessError> {
        // Local backends are strongly consistent: retries only waste time when something is wrong.
        let options = ApplyOptions {
            backoff: xrepl_provisioner::Backoff {
                initial: Duration::from_millis(10),
                max_delay: Duration::from_millis(50),
                max_attempts: 3,
            },
            // LocalStack and two single-account emulators replicate through the bridge instead.
            skip_put_replication: self.kind().replicates_through_bridge(),
            ..ApplyOptions::default()
        };
        let report = xrepl_provisioner::apply(spec, &self.accounts_for(spec)?, &options).await?;
        self.backend.on_applied(spec).await?;
        Ok(report)
    }

    /// The clients of the spec's source account.
    pub fn source<'h>(&'h self, spec: &Spec) -> Result<&'h AccountHandle, HarnessError> {
        self.account(&spec.source.account_id)
    }

    /// The clients of the spec's (first) destination account.
    pub fn destination<'h>(&'h self, spec: &Spec) -> Result<&'h AccountHandle, HarnessError> {
        self.account(&spec.destination.account_id)
    }

    /// Writes an object to the source bucket; returns its version id.
    pub async fn put(&self, spec: &Spec, key: &str, data: &[u8]) -> Result<String, HarnessError> {
        self.put_tagged(spec, key, data, None).await
    }

    /// Writes an object with a tag set (`k1=v1&k2=v2`, as `x-amz-tagging`); returns its version id.
    pub async fn put_tagged(&self, spec: &Spec, key: &str, data: &[u8], tagging: Option<&str>) -> Result<String, HarnessError> {
        let out = self
            .source(spec)?
            .s3()
            .put_object()
            .bucket(&spec.source.bucket)
            .key(key)
            .set_tagging(tagging.map(str::to_owned))
            .body(ByteStream::from(data.to_vec()))
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutObject", &e))?;
        out.version_id().map(str::to_owned).ok_or_else(|| HarnessError::Other("PutObject returned no version id".to_owned()))
    }

    /// Replaces the tag set of the current source version.
    pub async fn tag(&self, spec: &Spec, key: &str, tags: &[(&str, &str)]) -> Result<(), HarnessError> {
        let set: Result<Vec<_>, _> = tags.iter().map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(*k).value(*v).build()).collect();
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .set_tag_set(Some(set.map_err(|e| HarnessError::Other(e.to_string()))?))
            .build()
            .map_err(|e| HarnessError::Other(e.to_string()))?;
        self.source(spec)?
            .s3()
            .put_object_tagging()
            .bucket(&spec.source.bucket)
            .key(key)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutObjectTagging", &e))?;
        Ok(())
    }

    /// Deletes without a version id (creates a delete marker); returns the marker's version id.
    pub async fn delete(&self, spec: &Spec, key: &str) -> Result<String, HarnessError> {
        let out = self
            .source(spec)?
            .s3()
            .delete_object()
            .bucket(&spec.source.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| HarnessError::aws("DeleteObject", &e))?;
        out.version_id().map(str::to_owned).ok_or_else(|| HarnessError::Other("DeleteObject created no delete marker".to_owned()))
    }

    /// Deletes one version for good (never replicated).
    pub async fn delete_version(&self, spec: &Spec, key: &str, version_id: &str) -> Result<(), HarnessError> {
        self.source(spec)?
            .s3()
            .delete_object()
            .bucket(&spec.source.bucket)
            .key(key)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| HarnessError::aws("DeleteObject", &e))?;
        Ok(())
    }

    /// Waits until the backend's replication is idle (no fixed sleeps).
    pub async fn wait_for_replication(&self) -> Result<(), HarnessError> {
        self.backend.drain().await
    }

    /// Empties every account of the backend (buckets, objects, IAM, KMS, queued replication), so
    /// the next test starts clean without a restart.
    pub async fn reset(&self) -> Result<(), HarnessError> {
        self.backend.reset().await
    }

    /// The replication failures the backend recorded so far (AWS's reason, the explanation and
    /// the fixing statement).
    pub async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        self.backend.failures().await
    }

    /// An assertion failure for `key` carrying the backend's recorded failures of that key (why,
    /// and the statement that fixes the first of them).
    async fn failure_for(&self, key: &str, what: String, expected: impl Into<String>, actual: impl Into<String>) -> HarnessError {
        let failures = self.failures().await.unwrap_or_default();
        let of_key: Vec<&FailureView> = failures.iter().filter(|f| f.key == key).collect();
        let explanation = (!of_key.is_empty()).then(|| of_key.iter().map(|f| f.explanation.as_str()).collect::<Vec<_>>().join("\n"));
        let fix = of_key.iter().find_map(|f| f.fix.clone());
        HarnessError::Assertion(AssertionFailure { what, expected: expected.into(), actual: actual.into(), explanation, fix })
    }

    /// The source version's `x-amz-replication-status` (None when no rule matched).
    pub async fn source_status(&self, spec: &Spec, key: &str, version_id: &str) -> Result<Option<String>, HarnessError> {
        self.require(Capability::ReplicationStatus, "x-amz-replication-status")?;
        let head = self
            .source(spec)?
            .s3()
            .head_object()
            .bucket(&spec.source.bucket)
            .key(key)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| HarnessError::aws("HeadObject", &e))?;
        Ok(head.replication_status().map(|s| s.as_str().to_owned()))
    }

    /// The destination holds `data` for `key` as a replica (same version id where the backend
    /// preserves them) and the source says COMPLETED.
    pub async fn assert_replicated(&self, spec: &Spec, key: &str, version_id: &str, data: &[u8]) -> Result<(), HarnessError> {
        let dst = self.destination(spec)?;
        let preserved = self.supports(Capability::VersionIdsPreserved);
        let got = dst
            .s3()
            .get_object()
            .bucket(&spec.destination.bucket)
            .key(key)
            .set_version_id(preserved.then(|| version_id.to_owned()))
            .send()
            .await;
        let out = match got {
            Ok(out) => out,
            Err(e) => {
                return Err(self
                    .failure_for(
                        key,
                        format!("replica of {key} in s3://{}", spec.destination.bucket),
                        format!("version {version_id} present"),
                        format!("GetObject failed: {}", aws_error_text(&e)),
                    )
                    .await)
            }
        };
        if self.supports(Capability::ReplicationStatus) {
            let status = out.replication_status().map(|s| s.as_str().to_owned()).unwrap_or_else(|| "<none>".to_owned());
            if status != "REPLICA" {
                return Err(HarnessError::assertion(format!("replication status of the replica of {key}"), "REPLICA", status));
            }
        }
        let body = out.body.collect().await.map_err(|e| HarnessError::Other(e.to_string()))?.into_bytes();
        if body.as_ref() != data {
            return Err(HarnessError::assertion(
                format!("bytes of the replica of {key}"),
                format!("{} bytes", data.len()),
                format!("{} different bytes", body.len()),
            ));
        }
        if self.supports(Capability::ReplicationStatus) {
            let status = self.source_status(spec, key, version_id).await?.unwrap_or_else(|| "<none>".to_owned());
            if status != "COMPLETED" {
                return Err(self.failure_for(key, format!("replication status of source {key} ({version_id})"), "COMPLETED", status).await);
            }
        }
        Ok(())
    }

    /// After replication has drained, the destination bucket holds no version and no delete
    /// marker of `key`: it was not replicated. Fails when the destination bucket cannot be listed
    /// (a wrong bucket name is an error, not a pass).
    pub async fn assert_not_replicated(&self, spec: &Spec, key: &str) -> Result<(), HarnessError> {
        self.wait_for_replication().await?;
        let listed = self.destination_versions(spec, key).await?;
        let versions = listed.versions().iter().filter(|v| v.key() == Some(key)).count();
        let markers = listed.delete_markers().iter().filter(|m| m.key() == Some(key)).count();
        if versions == 0 && markers == 0 {
            return Ok(());
        }
        Err(HarnessError::assertion(
            format!("{key} in s3://{}", spec.destination.bucket),
            "not replicated (no version, no delete marker)",
            format!("{versions} version(s) and {markers} delete marker(s) present"),
        ))
    }

    /// The replica of `key` is owned by `account` (its canonical id).
    pub async fn assert_owner(&self, spec: &Spec, key: &str, account: &str) -> Result<(), HarnessError> {
        self.require(Capability::DistinctOwners, "replica ownership")?;
        let expected = self.account(account)?.canonical_id().await?;
        let listed = self.destination_versions(spec, key).await?;
        let owner = listed
            .versions()
            .iter()
            .find(|v| v.key() == Some(key) && v.is_latest() == Some(true))
            .and_then(|v| v.owner())
            .and_then(|o| o.id())
            .unwrap_or("<no replica>")
            .to_owned();
        if owner == expected {
            return Ok(());
        }
        let mut whose = "not one of this harness's accounts".to_owned();
        for handle in self.accounts.values() {
            if handle.canonical_id().await.ok().as_deref() == Some(owner.as_str()) {
                whose = format!("account {}", handle.account_id);
            }
        }
        Err(HarnessError::assertion(
            format!("owner of the replica of {key} in s3://{}", spec.destination.bucket),
            format!("{expected} (account {account})"),
            format!("{owner} ({whose})"),
        ))
    }

    /// The destination's latest version of `key` is a delete marker (with the source marker's id
    /// where version ids are preserved).
    pub async fn assert_delete_marker(&self, spec: &Spec, key: &str, marker_version: &str) -> Result<(), HarnessError> {
        let listed = self.destination_versions(spec, key).await?;
        let latest = listed.delete_markers().iter().find(|m| m.key() == Some(key) && m.is_latest() == Some(true));
        match latest {
            Some(m) if !self.supports(Capability::VersionIdsPreserved) || m.version_id() == Some(marker_version) => Ok(()),
            Some(m) => Err(HarnessError::assertion(format!("delete marker of {key}"), marker_version, m.version_id().unwrap_or("<none>"))),
            None => Err(self
                .failure_for(
                    key,
                    format!("delete marker of {key} in s3://{}", spec.destination.bucket),
                    "latest version is a delete marker",
                    "no delete marker",
                )
                .await),
        }
    }

    /// The replica of `key` carries exactly these tags.
    pub async fn assert_tags(&self, spec: &Spec, key: &str, expected: &[(&str, &str)]) -> Result<(), HarnessError> {
        let out = self
            .destination(spec)?
            .s3()
            .get_object_tagging()
            .bucket(&spec.destination.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| HarnessError::aws("GetObjectTagging", &e))?;
        let mut actual: Vec<(String, String)> = out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
        let mut wanted: Vec<(String, String)> = expected.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        actual.sort();
        wanted.sort();
        if actual == wanted {
            Ok(())
        } else {
            Err(HarnessError::assertion(format!("tags of the replica of {key}"), format!("{wanted:?}"), format!("{actual:?}")))
        }
    }

    /// Replication of `key` failed with AWS's `reason` (status FAILED and a failure event).
    pub async fn assert_failed(&self, spec: &Spec, key: &str, version_id: &str, reason: &str) -> Result<FailureView, HarnessError> {
        self.require(Capability::PolicyEnforcement, "replication failures from IAM and bucket policies")?;
        let status = self.source_status(spec, key, version_id).await?.unwrap_or_else(|| "<none>".to_owned());
        let failures = self.failures().await?;
        let found = failures.iter().find(|f| f.key == key && f.reason == reason).cloned();
        match (status.as_str(), found) {
            ("FAILED", Some(f)) => Ok(f),
            _ => Err(HarnessError::assertion(
                format!("replication of {key} ({version_id})"),
                format!("FAILED with {reason}"),
                format!(
                    "status {status}, failures {:?}",
                    failures.iter().filter(|f| f.key == key).map(|f| f.reason.as_str()).collect::<Vec<_>>()
                ),
            )),
        }
    }
}

impl Harness {
    /// An admin call (`POST /_xrepl/...`) to the emulator serving the source account; bridged
    /// backends have no engine to steer.
    async fn admin(&self, spec: &Spec, path: &str, what: &str) -> Result<(), HarnessError> {
        if self.kind().replicates_through_bridge() {
            return Err(HarnessError::Unsupported {
                backend: self.kind().name().to_owned(),
                what: what.to_owned(),
                reason: "replication runs in the harness's bridge, not in an xrepl engine".to_owned(),
            });
        }
        let endpoint = self.backend.endpoint(&spec.source.account_id);
        match xrepl_emulator::server::admin_client::request(&endpoint, "POST", path, Duration::from_secs(10)).await {
            Ok((200, _)) => Ok(()),
            Ok((status, body)) => Err(HarnessError::Other(format!("{what} at {endpoint} answered HTTP {status}: {body}"))),
            Err(e) => Err(HarnessError::Other(format!("{what} at {endpoint}: {e}"))),
        }
    }

    /// Scales Replication Time Control's clock: how long one threshold minute lasts
    /// (10 ms makes the 15-minute threshold 150 ms).
    pub async fn set_rtc_time_scale(&self, spec: &Spec, minute: Duration) -> Result<(), HarnessError> {
        self.admin(spec, &format!("/_xrepl/replication/time-scale?minute_ms={}", minute.as_millis().max(1)), "RTC time scale").await
    }

    /// The engine waits this long before each task (to cross an RTC threshold on purpose).
    pub async fn set_replication_latency(&self, spec: &Spec, latency: Duration) -> Result<(), HarnessError> {
        self.admin(spec, &format!("/_xrepl/replication/latency?ms={}", latency.as_millis()), "replication latency").await
    }

    /// The replication event records the backend delivers (as S3 event notifications).
    pub async fn events(&self) -> Result<Vec<serde_json::Value>, HarnessError> {
        self.backend.events().await
    }

    /// A replication event `event` (e.g. `s3:Replication:OperationMissedThreshold`; the record's
    /// `eventName` has no `s3:` prefix) was delivered for `key` from the spec's source bucket;
    /// returns the record.
    pub async fn assert_event(&self, spec: &Spec, event: &str, key: &str) -> Result<serde_json::Value, HarnessError> {
        let name = event.strip_prefix("s3:").unwrap_or(event);
        let records = self.events().await?;
        let text = |r: &serde_json::Value, path: &[&str]| {
            path.iter().try_fold(r, |v, k| v.get(k)).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned()
        };
        let found = records.iter().find(|r| {
            text(r, &["eventName"]) == name
                && text(r, &["s3", "object", "key"]) == key
                && text(r, &["s3", "bucket", "name"]) == spec.source.bucket
        });
        match found {
            Some(record) => Ok(record.clone()),
            None => {
                let delivered: Vec<String> =
                    records.iter().filter(|r| text(r, &["s3", "object", "key"]) == key).map(|r| text(r, &["eventName"])).collect();
                let what = format!("replication events for s3://{}/{key}", spec.source.bucket);
                Err(self.failure_for(key, what, name, format!("{delivered:?}")).await)
            }
        }
    }

    /// The destination's latest version of `key` holds exactly `data` (whatever its status).
    pub async fn assert_destination_holds(&self, spec: &Spec, key: &str, data: &[u8]) -> Result<(), HarnessError> {
        self.assert_bytes(spec, key, None, data).await
    }

    /// The destination holds `data` under the source's `version_id`.
    pub async fn assert_version_holds(&self, spec: &Spec, key: &str, version_id: &str, data: &[u8]) -> Result<(), HarnessError> {
        self.require(Capability::VersionIdsPreserved, "replica version ids")?;
        self.assert_bytes(spec, key, Some(version_id), data).await
    }

    async fn assert_bytes(&self, spec: &Spec, key: &str, version_id: Option<&str>, data: &[u8]) -> Result<(), HarnessError> {
        let got = self
            .destination(spec)?
            .s3()
            .get_object()
            .bucket(&spec.destination.bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await;
        let what = format!("s3://{}/{key}{}", spec.destination.bucket, version_id.map(|v| format!(" version {v}")).unwrap_or_default());
        match got {
            Err(e) => {
                Err(HarnessError::assertion(what, format!("{} bytes", data.len()), format!("GetObject failed: {}", aws_error_text(&e))))
            }
            Ok(out) => {
                let body = out.body.collect().await.map_err(|e| HarnessError::Other(e.to_string()))?.into_bytes();
                if body.as_ref() == data {
                    Ok(())
                } else {
                    Err(HarnessError::assertion(what, String::from_utf8_lossy(data), String::from_utf8_lossy(&body)))
                }
            }
        }
    }

    /// The replica's storage class (S3 omits the header for STANDARD).
    pub async fn assert_storage_class(&self, spec: &Spec, key: &str, expected: &str) -> Result<(), HarnessError> {
        let head = self.replica_head(spec, key).await?;
        expect_eq(format!("storage class of the replica of {key}"), expected, head.storage_class().map_or("STANDARD", |c| c.as_str()))
    }

    /// Sets the destination bucket's object ownership (e.g. `ObjectWriter` to enable ACLs).
    pub async fn set_destination_ownership(&self, spec: &Spec, ownership: &str) -> Result<(), HarnessError> {
        let rule = aws_sdk_s3::types::OwnershipControlsRule::builder()
            .object_ownership(aws_sdk_s3::types::ObjectOwnership::from(ownership))
            .build()
            .map_err(|e| HarnessError::Other(e.to_string()))?;
        let controls =
            aws_sdk_s3::types::OwnershipControls::builder().rules(rule).build().map_err(|e| HarnessError::Other(e.to_string()))?;
        self.destination(spec)?
            .s3()
            .put_bucket_ownership_controls()
            .bucket(&spec.destination.bucket)
            .ownership_controls(controls)
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutBucketOwnershipControls", &e))?;
        Ok(())
    }

    /// Writes an SSE-KMS object under `key_arn`; returns its version id.
    pub async fn put_kms(&self, spec: &Spec, key: &str, data: &[u8], key_arn: &str) -> Result<String, HarnessError> {
        let out = self
            .source(spec)?
            .s3()
            .put_object()
            .bucket(&spec.source.bucket)
            .key(key)
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
            .ssekms_key_id(key_arn)
            .body(ByteStream::from(data.to_vec()))
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutObject", &e))?;
        out.version_id().map(str::to_owned).ok_or_else(|| HarnessError::Other("PutObject returned no version id".to_owned()))
    }

    /// The replica is encrypted under the replica key.
    pub async fn assert_replica_kms_key(&self, spec: &Spec, key: &str, expected: &str) -> Result<(), HarnessError> {
        let head = self.replica_head(spec, key).await?;
        expect_eq(format!("KMS key of the replica of {key}"), expected, head.ssekms_key_id().unwrap_or("<none>"))
    }
}

/// Ok when equal, else an assertion failure showing both.
fn expect_eq(what: String, expected: &str, actual: &str) -> Result<(), HarnessError> {
    if actual == expected {
        Ok(())
    } else {
        Err(HarnessError::assertion(what, expected, actual))
    }
}

fn aws_error_text<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    format!("{}: {}", e.code().unwrap_or("error"), e.message().unwrap_or("no message"))
}
