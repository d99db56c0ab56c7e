//! The emulator in this process: zero setup, deterministic drain through the in-process API.
//!
//! The emulator serves from a Tokio runtime of its own, on its own thread, not from the test's:
//! a `#[tokio::test]` runtime ends with its test, and a harness kept in a `static` must go on
//! serving the next test of the binary.

use xrepl_emulator::{Emulator, EmulatorConfig};

use crate::{Backend, BackendKind, Capabilities, FailureView, HarnessError};

/// xrepl's emulator in this process, on 127.0.0.1 and a free port.
pub struct EmbeddedBackend {
    // Declared first so it is dropped first: the emulator aborts its tasks while their runtime
    // still runs.
    emulator: Emulator,
    _runtime: OwnRuntime,
}

/// The emulator's runtime, shut down without blocking when the backend is dropped (a runtime
/// must not be dropped from inside another one, which is where tests drop their harness).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl EmbeddedBackend {
    /// Starts an emulator serving `accounts` (12-digit account ids).
    pub async fn start(accounts: &[&str]) -> Result<Self, HarnessError> {
        let unavailable = |reason: String| HarnessError::Unavailable { backend: BackendKind::Embedded.name().to_owned(), reason };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("xrepl-emulator")
            .enable_all()
            .build()
            .map_err(|e| unavailable(format!("cannot start the emulator's runtime: {e}")))?;
        let config = EmulatorConfig::with_accounts(accounts);
        let emulator = runtime
            .spawn(Emulator::start(config))
            .await
            .map_err(|e| unavailable(format!("the emulator's start-up task failed: {e}")))?
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(Self { emulator, _runtime: OwnRuntime(Some(runtime)) })
    }

    /// The emulator itself (replication control, accounts, reset, lifecycle).
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }
}

/// The harness's view of an emulator failure event.
pub fn failure_view(e: &xrepl_emulator::FailureEvent) -> FailureView {
    FailureView {
        key: e.key.clone(),
        version_id: e.version_id.clone(),
        rule_id: e.rule_id.clone(),
        destination_bucket: e.destination_bucket.clone(),
        operation: e.operation.clone(),
        reason: e.failure_reason.clone(),
        explanation: e.summary(),
        fix: e.fix.clone(),
    }
}

#[async_trait::async_trait]
impl Backend for EmbeddedBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Embedded
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }
    fn endpoint(&self, _account: &str) -> String {
        self.emulator.endpoint()
    }
    fn emulator(&self) -> Option<&Emulator> {
        Some(&self.emulator)
    }
    async fn drain(&self) -> Result<(), HarnessError> {
        self.emulator.drain().await;
        Ok(())
    }
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        Ok(self.emulator.replication().failures().iter().map(failure_view).collect())
    }
    async fn events(&self) -> Result<Vec<serde_json::Value>, HarnessError> {
        Ok(self.emulator.replication().notifications())
    }
    async fn reset(&self) -> Result<(), HarnessError> {
        self.emulator.reset(None).map_err(|e| HarnessError::Other(format!("reset: {e}")))
    }
}
