//! The backends the harness can start. Each `start` returns `HarnessError::Unavailable` with the
//! reason when this machine (or this build's features) cannot run it.

#[cfg(any(feature = "containers", feature = "localstack"))]
pub mod bridge;
#[cfg(feature = "containers")]
pub mod container;
#[cfg(feature = "containers")]
pub(crate) mod docker_shim;
pub mod embedded;
#[cfg(feature = "localstack")]
pub mod localstack;
pub mod served;
#[cfg(feature = "containers")]
pub mod two_containers;

use crate::{Backend, BackendKind, HarnessError};

/// Starts a backend of the given kind with the given accounts. `Served` needs an endpoint: it is
/// read from `XREPL_ENDPOINT` here (the builder's `endpoint` passes it directly).
pub async fn start(kind: BackendKind, accounts: &[&str]) -> Result<Box<dyn Backend>, HarnessError> {
    match kind {
        BackendKind::Embedded => Ok(Box::new(embedded::EmbeddedBackend::start(accounts).await?)),
        BackendKind::Served => {
            let endpoint = std::env::var("XREPL_ENDPOINT").map_err(|_| HarnessError::Unavailable {
                backend: kind.name().to_owned(),
                reason: "XREPL_BACKEND=served needs XREPL_ENDPOINT=http://HOST:PORT (or Harness::builder().endpoint(url))".to_owned(),
            })?;
            Ok(Box::new(served::ServedBackend::connect(&endpoint).await?))
        }
        #[cfg(feature = "containers")]
        BackendKind::Container => Ok(Box::new(container::ContainerBackend::start(accounts).await?)),
        #[cfg(feature = "containers")]
        BackendKind::TwoContainers => Ok(Box::new(two_containers::TwoContainersBackend::start(accounts).await?)),
        #[cfg(feature = "localstack")]
        BackendKind::LocalStack => Ok(Box::new(localstack::LocalStackBackend::start().await?)),
        #[allow(unreachable_patterns)] // every kind is reachable when all features are on
        other => Err(not_built(other)),
    }
}

/// A backend this build of the harness leaves out: which feature brings it in.
#[allow(dead_code)] // unused when every feature is on
fn not_built(kind: BackendKind) -> HarnessError {
    let feature = kind.feature().unwrap_or("default");
    HarnessError::Unavailable {
        backend: kind.name().to_owned(),
        reason: format!(
            "this build of xrepl-harness has no {kind} backend: enable its feature, xrepl-harness = {{ ..., features = [\"{feature}\"] }}"
        ),
    }
}
