//! The emulator in this process: zero setup, deterministic drain through the in-process API.

use xrepl_emulator::{Emulator, EmulatorConfig};

use crate::{Backend, BackendKind, Capabilities, FailureView, HarnessError};

pub struct EmbeddedBackend {
    emulator: Emulator,
}

impl EmbeddedBackend {
    pub async fn start(accounts: &[&str]) -> Result<Self, HarnessError> {
        let emulator = Emulator::start(EmulatorConfig::with_accounts(accounts))
            .await
            .map_err(|e| HarnessError::Unavailable { backend: "embedded".to_owned(), reason: e.to_string() })?;
        Ok(Self { emulator })
    }

    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }
}

pub fn failure_view(e: &xrepl_emulator::FailureEvent) -> FailureView {
    FailureView {
        key: e.key.clone(),
        version_id: e.version_id.clone(),
        rule_id: e.rule_id.clone(),
        destination_bucket: e.destination_bucket.clone(),
        operation: e.operation.clone(),
        reason: e.failure_reason.clone(),
        explanation: e.to_string(),
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
