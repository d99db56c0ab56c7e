//! The backends the harness can start. Each `start` returns `HarnessError::Unavailable` with the
//! reason when this machine cannot run it.

pub mod bridge;
pub mod container;
mod docker_shim;
pub mod embedded;
pub mod localstack;
pub mod two_containers;

use crate::{Backend, BackendKind, HarnessError};

/// Starts a backend of the given kind with the given accounts.
pub async fn start(kind: BackendKind, accounts: &[&str]) -> Result<Box<dyn Backend>, HarnessError> {
    match kind {
        BackendKind::Embedded => Ok(Box::new(embedded::EmbeddedBackend::start(accounts).await?)),
        BackendKind::Container => Ok(Box::new(container::ContainerBackend::start(accounts).await?)),
        BackendKind::TwoContainers => Ok(Box::new(two_containers::TwoContainersBackend::start(accounts).await?)),
        BackendKind::LocalStack => Ok(Box::new(localstack::LocalStackBackend::start().await?)),
    }
}
