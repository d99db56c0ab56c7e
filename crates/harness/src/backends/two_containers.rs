//! One emulator container per account, as two real AWS accounts are two places the harness can
//! only reach over the network: account A's endpoint serves only A, B's only B. The emulators
//! cannot see each other's buckets, so the bridge replicates (see `bridge.rs` for what that can
//! and cannot reproduce).
//!
//! Each container derives the same 64-hex canonical id for an account, so replica ownership is
//! observable. The destination container is started with the source accounts as remote
//! accounts (`--remote-account`), so its bucket policy may name the replication role that lives
//! in the other container.

use std::collections::BTreeMap;

use xrepl_provisioner::{AccountClients, Spec};

use super::bridge::Bridges;
use super::container::EmulatorContainer;
use crate::{Backend, BackendKind, Capabilities, Capability, FailureView, HarnessError, XreplImage};

/// One emulator container per account; replication between them runs through the bridge.
pub struct TwoContainersBackend {
    containers: BTreeMap<String, EmulatorContainer>,
    bridges: Bridges,
}

impl TwoContainersBackend {
    /// Starts one container per account, concurrently.
    pub async fn start(accounts: &[&str]) -> Result<Self, HarnessError> {
        let backend = BackendKind::TwoContainers.name();
        if accounts.is_empty() {
            return Err(HarnessError::Other("the two-containers backend needs at least one account".to_owned()));
        }
        let starts = accounts.iter().map(|account| {
            // `--account A --remote-account B ...`: this container hosts A; B's principals live elsewhere.
            let image = accounts
                .iter()
                .filter(|o| *o != account)
                .fold(XreplImage::default().with_accounts([*account]), |image, other| image.with_remote_account(*other));
            async move { EmulatorContainer::start_image(backend, image).await.map(|c| ((*account).to_owned(), c)) }
        });
        let containers = futures::future::try_join_all(starts).await?;
        Ok(Self { containers: containers.into_iter().collect(), bridges: Bridges::default() })
    }

    /// The container serving `account`.
    pub fn container(&self, account: &str) -> Option<&EmulatorContainer> {
        self.containers.get(account)
    }

    fn clients(&self, account: &str) -> Result<aws_sdk_s3::Client, HarnessError> {
        let c = self
            .containers
            .get(account)
            .ok_or_else(|| HarnessError::Other(format!("account {account} has no container in this two-containers backend")))?;
        Ok(AccountClients::for_emulator(c.endpoint(), account, self.region()).s3)
    }
}

#[async_trait::async_trait]
impl Backend for TwoContainersBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::TwoContainers
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
            .without(
                Capability::VersionIdsPreserved,
                "the bridge copies with PutObject into the destination container, which assigns new version ids",
            )
            .without(Capability::ReplicationStatus, "the bridge cannot set x-amz-replication-status on objects in another emulator")
            .without(
                Capability::PolicyEnforcement,
                "the bridge does not evaluate the replication role or the destination bucket policy; it writes as the destination account",
            )
            .without(
                Capability::FailureEvents,
                "only the bridge's own failures (unversioned or missing destination, denied writes) are recorded",
            )
    }
    fn endpoint(&self, account: &str) -> String {
        // Unknown accounts get the first container (any 12-digit key creates its account there).
        self.containers.get(account).or_else(|| self.containers.values().next()).map(|c| c.endpoint().to_owned()).unwrap_or_default()
    }
    async fn on_applied(&self, spec: &Spec) -> Result<(), HarnessError> {
        let source = self.clients(&spec.source.account_id)?;
        let destination = self.clients(&spec.destination.account_id)?;
        self.bridges.on_applied(spec, source, destination).await
    }
    async fn drain(&self) -> Result<(), HarnessError> {
        self.bridges.drain().await.map(|_| ())
    }
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        Ok(self.bridges.failures().await)
    }
}
