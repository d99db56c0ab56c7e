//! An xrepl emulator that already runs — `xrepl serve`, docker-compose, an `XreplImage`
//! container — reached at a URL. Drain, reset, failures and events go through its `/_xrepl` admin
//! endpoints; the container backends use the same calls.

use std::time::Duration;

use serde_json::Value;
use xrepl_emulator::server::admin_client;

use crate::{Backend, BackendKind, Capabilities, FailureView, HarnessError};

/// How long `drain` waits for the emulator's replication queue (server side).
const DRAIN_TIMEOUT_MS: u64 = 30_000;

/// A served emulator: every account on one endpoint, full fidelity.
pub struct ServedBackend {
    endpoint: String,
}

impl ServedBackend {
    /// Connects to the emulator at `endpoint` (`http://127.0.0.1:4566`) and checks that it is an
    /// xrepl emulator that answers its health endpoint.
    pub async fn connect(endpoint: &str) -> Result<Self, HarnessError> {
        let served = Self::at(endpoint);
        let endpoint = &served.endpoint;
        match admin_client::request(endpoint, "GET", "/_xrepl/health", Duration::from_secs(5)).await {
            Ok((200, _)) => Ok(served),
            Ok((status, body)) => Err(HarnessError::Unavailable {
                backend: BackendKind::Served.name().to_owned(),
                reason: format!("{endpoint}/_xrepl/health answered HTTP {status} ({}): is this an xrepl emulator?", body.trim()),
            }),
            Err(e) => Err(HarnessError::Unavailable {
                backend: BackendKind::Served.name().to_owned(),
                reason: format!("no xrepl emulator answers at {endpoint} ({e}): start one with `xrepl serve` or `docker-compose up -d`"),
            }),
        }
    }

    /// The emulator at `endpoint`, without asking it first: for one known to answer (a container
    /// the harness just saw healthy).
    pub(crate) fn at(endpoint: &str) -> Self {
        Self { endpoint: endpoint.trim_end_matches('/').to_owned() }
    }
}

#[async_trait::async_trait]
impl Backend for ServedBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Served
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }
    fn endpoint(&self, _account: &str) -> String {
        self.endpoint.clone()
    }
    async fn drain(&self) -> Result<(), HarnessError> {
        admin_drain(&self.endpoint).await
    }
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        admin_failures(&self.endpoint).await
    }
    async fn events(&self) -> Result<Vec<Value>, HarnessError> {
        admin_events(&self.endpoint).await
    }
    async fn reset(&self) -> Result<(), HarnessError> {
        admin_reset(&self.endpoint).await
    }
}

/// Empties a served emulator (`POST /_xrepl/reset`).
pub async fn admin_reset(endpoint: &str) -> Result<(), HarnessError> {
    let (status, body) = admin_client::request(endpoint, "POST", "/_xrepl/reset", Duration::from_secs(30))
        .await
        .map_err(|e| HarnessError::Other(format!("reset at {endpoint}: {e}")))?;
    if status != 200 {
        return Err(HarnessError::Other(format!("reset at {endpoint} answered HTTP {status}: {body}")));
    }
    Ok(())
}

/// Waits for a served emulator's replication queue to empty.
pub async fn admin_drain(endpoint: &str) -> Result<(), HarnessError> {
    let path = format!("/_xrepl/replication/drain?timeout_ms={DRAIN_TIMEOUT_MS}");
    let client_timeout = Duration::from_millis(DRAIN_TIMEOUT_MS + 5_000);
    match admin_client::request(endpoint, "POST", &path, client_timeout).await {
        Ok((200, _)) => Ok(()),
        Ok((408, body)) => {
            Err(HarnessError::Other(format!("replication at {endpoint} did not drain within {DRAIN_TIMEOUT_MS} ms: {body}")))
        }
        Ok((status, body)) => Err(HarnessError::Other(format!("drain at {endpoint} answered HTTP {status}: {body}"))),
        Err(e) => Err(HarnessError::Other(format!("drain at {endpoint}: {e}"))),
    }
}

/// The body of a `GET` admin endpoint that answered 200.
async fn admin_get(endpoint: &str, path: &str, what: &str) -> Result<String, HarnessError> {
    let (status, body) = admin_client::request(endpoint, "GET", path, Duration::from_secs(10))
        .await
        .map_err(|e| HarnessError::Other(format!("{what} at {endpoint}: {e}")))?;
    if status != 200 {
        return Err(HarnessError::Other(format!("{what} at {endpoint} answered HTTP {status}: {body}")));
    }
    Ok(body)
}

/// The event records a served emulator delivers (`GET /_xrepl/replication/events`).
pub async fn admin_events(endpoint: &str) -> Result<Vec<Value>, HarnessError> {
    let body = admin_get(endpoint, "/_xrepl/replication/events", "replication event records").await?;
    let value: Value = serde_json::from_str(&body).map_err(|e| HarnessError::Other(format!("event records at {endpoint}: {e}")))?;
    match value.get("Records").and_then(Value::as_array) {
        Some(records) => Ok(records.clone()),
        None => Err(HarnessError::Other(format!("event records at {endpoint}: no \"Records\" array in {body}"))),
    }
}

/// Replication failure events of a served emulator.
pub async fn admin_failures(endpoint: &str) -> Result<Vec<FailureView>, HarnessError> {
    let body = admin_get(endpoint, "/_xrepl/replication/failures", "replication events").await?;
    parse_events(&body).map_err(|e| HarnessError::Other(format!("replication events at {endpoint}: {e}")))
}

/// The admin endpoint's `{"failures": [...]}` as the harness's failure views, with the same
/// explanation text the embedded backend gives.
pub fn parse_events(body: &str) -> Result<Vec<FailureView>, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let events = value.get("failures").and_then(Value::as_array).ok_or("no \"failures\" array")?;
    let text = |v: &Value, path: &[&str]| -> String {
        path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or_default().to_owned()
    };
    Ok(events
        .iter()
        .map(|e| {
            let source_bucket = text(e, &["s3", "bucket", "name"]);
            let destination = text(e, &["replicationEventData", "destinationBucket"]);
            let destination_bucket = destination.strip_prefix("arn:aws:s3:::").unwrap_or(&destination).to_owned();
            let key = text(e, &["s3", "object", "key"]);
            let version_id = text(e, &["s3", "object", "versionId"]);
            let rule_id = text(e, &["replicationEventData", "replicationRuleId"]);
            let reason = text(e, &["replicationEventData", "failureReason"]);
            let explanation = format!(
                "replication of s3://{source_bucket}/{key} (version {version_id}) to {destination_bucket} failed with {reason} (rule {rule_id}): {}",
                text(e, &["xrepl", "explanation"])
            );
            let fix = Some(text(e, &["xrepl", "fix"])).filter(|f| !f.is_empty());
            FailureView {
                key,
                version_id,
                rule_id,
                destination_bucket,
                operation: text(e, &["replicationEventData", "s3Operation"]),
                reason,
                explanation,
                fix,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::parse_events;

    #[test]
    fn events_become_failure_views() {
        let body = r#"{"failures":[{"eventName":"Replication:OperationFailedReplication","s3":{"bucket":{"name":"src"},"object":{"key":"k","versionId":"v1"}},
            "replicationEventData":{"replicationRuleId":"r","destinationBucket":"arn:aws:s3:::dst","s3Operation":"PutObject","failureReason":"AssumeRoleNotPermitted"},
            "xrepl":{"explanation":"the role trusts ec2","fix":"trust s3.amazonaws.com"}}]}"#;
        let views = parse_events(body).unwrap_or_default();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].destination_bucket, "dst");
        assert_eq!(views[0].reason, "AssumeRoleNotPermitted");
        assert_eq!(
            views[0].explanation,
            "replication of s3://src/k (version v1) to dst failed with AssumeRoleNotPermitted (rule r): the role trusts ec2"
        );
        assert_eq!(views[0].fix.as_deref(), Some("trust s3.amazonaws.com"));
        assert!(parse_events("{}").is_err());
    }
}
