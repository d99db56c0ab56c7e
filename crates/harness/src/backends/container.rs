//! xrepl's emulator image (`xrepl-emulator:local`, built by `scripts/build-image.sh`) started with
//! testcontainers through [`XreplImage`]: the same emulator as the embedded backend, behind a real
//! port in a container. Drain and failure events go through the emulator's `/_xrepl` admin endpoints.

use std::time::{Duration, Instant};

use serde_json::Value;
use testcontainers::bollard::Docker;
use testcontainers::core::ContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt};
use xrepl_emulator::server::admin_client;

use super::docker_shim;
pub use crate::image::{EMULATOR_PORT, IMAGE_NAME, IMAGE_TAG};
use crate::{Backend, BackendKind, Capabilities, FailureView, HarnessError, XreplImage};
/// How long a container may take from `docker start` to a healthy `/_xrepl/health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `drain` waits for the emulator's replication queue (server side).
const DRAIN_TIMEOUT_MS: u64 = 30_000;

fn unavailable(backend: &str, reason: impl Into<String>) -> HarnessError {
    HarnessError::Unavailable { backend: backend.to_owned(), reason: reason.into() }
}

/// Checks that Docker answers and the image exists, and puts the API-version shim in front of an
/// engine older than testcontainers expects. Every problem is `Unavailable` with what to do.
pub async fn docker_preflight(backend: &str) -> Result<(), HarnessError> {
    let call_timeout = Duration::from_secs(10);
    let docker = Docker::connect_with_defaults().map_err(|e| unavailable(backend, format!("cannot connect to Docker: {e}")))?;
    let docker = tokio::time::timeout(call_timeout, docker.negotiate_version())
        .await
        .map_err(|_| unavailable(backend, "Docker did not answer within 10 s (is the daemon running? `docker info`)"))?
        .map_err(|e| unavailable(backend, format!("Docker is not reachable (`docker info` fails?): {e}")))?;
    let image = format!("{IMAGE_NAME}:{IMAGE_TAG}");
    match tokio::time::timeout(call_timeout, docker.inspect_image(&image)).await {
        Err(_) => return Err(unavailable(backend, "Docker did not answer an image inspect within 10 s")),
        Ok(Err(testcontainers::bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })) => {
            return Err(unavailable(backend, format!("image {image} is missing: build it with scripts/build-image.sh")))
        }
        Ok(Err(e)) => return Err(unavailable(backend, format!("cannot inspect image {image}: {e}"))),
        Ok(Ok(_)) => {}
    }
    let engine = docker.client_version();
    let wanted = testcontainers::bollard::API_DEFAULT_VERSION;
    if (engine.major_version, engine.minor_version) < (wanted.major_version, wanted.minor_version) {
        let host = docker_shim::ensure().map_err(|e| unavailable(backend, e))?;
        tracing::info!(
            "Docker engine speaks API {}.{}, testcontainers {}.{}: using the API shim at {host}",
            engine.major_version,
            engine.minor_version,
            wanted.major_version,
            wanted.minor_version
        );
    }
    Ok(())
}

/// One running emulator container, removed when dropped.
pub struct EmulatorContainer {
    container: ContainerAsync<XreplImage>,
    endpoint: String,
    /// From `docker start` to a healthy health endpoint.
    pub startup: Duration,
}

impl EmulatorContainer {
    /// Starts `xrepl-emulator:local` with these accounts, published on 127.0.0.1 only, and waits
    /// until `/_xrepl/health` answers 200.
    pub async fn start(backend: &str, accounts: &[&str]) -> Result<Self, HarnessError> {
        Self::start_image(backend, XreplImage::default().with_accounts(accounts.iter().copied())).await
    }

    /// Starts the image as configured, published on 127.0.0.1 only.
    pub async fn start_image(backend: &str, image: XreplImage) -> Result<Self, HarnessError> {
        docker_preflight(backend).await?;
        let port = ContainerPort::Tcp(EMULATOR_PORT);
        let request = image
            .loopback_only()
            // Readiness is polled below on the health endpoint instead of the image's Docker
            // health check: faster than its 1 s interval, and it tells a crash from a slow start.
            .with_ready_conditions(Vec::new())
            .with_startup_timeout(STARTUP_TIMEOUT);
        let started = Instant::now();
        let container = request.start().await.map_err(|e| HarnessError::Other(format!("starting {IMAGE_NAME}:{IMAGE_TAG} failed: {e}")))?;
        let host_port = match container.get_host_port_ipv4(port).await {
            Ok(p) => p,
            // No port mapping usually means the process exited at once (e.g. a bad argument).
            Err(e) => {
                return Err(exited_or(&container, format!("container {} has no published port {EMULATOR_PORT}: {e}", container.id())).await)
            }
        };
        let endpoint = format!("http://127.0.0.1:{host_port}");
        wait_healthy(&container, &endpoint).await?;
        let startup = started.elapsed();
        tracing::info!(container = container.id(), %endpoint, ?startup, "emulator container healthy");
        Ok(Self { container, endpoint, startup })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// POST /_xrepl/replication/drain: 200 when idle, 408 when the queue did not empty in time.
    pub async fn drain(&self) -> Result<(), HarnessError> {
        admin_drain(&self.endpoint).await
    }

    pub async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        admin_failures(&self.endpoint).await
    }

    pub async fn events(&self) -> Result<Vec<Value>, HarnessError> {
        admin_events(&self.endpoint).await
    }

    pub async fn reset(&self) -> Result<(), HarnessError> {
        let (status, body) = admin_client::request(&self.endpoint, "POST", "/_xrepl/reset", Duration::from_secs(30))
            .await
            .map_err(|e| HarnessError::Other(format!("reset at {}: {e}", self.endpoint)))?;
        if status != 200 {
            return Err(HarnessError::Other(format!("reset at {} answered HTTP {status}: {body}", self.endpoint)));
        }
        Ok(())
    }
}

async fn wait_healthy(container: &ContainerAsync<XreplImage>, endpoint: &str) -> Result<(), HarnessError> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut last = String::from("no answer yet");
    while Instant::now() < deadline {
        match admin_client::request(endpoint, "GET", "/_xrepl/health", Duration::from_secs(2)).await {
            Ok((200, _)) => return Ok(()),
            Ok((status, body)) => last = format!("HTTP {status}: {body}"),
            Err(e) => last = e.to_string(),
        }
        if container.is_running().await.ok() == Some(false) {
            return Err(exited_or(container, last).await);
        }
        // Poll interval only: the loop ends on the first healthy answer.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(HarnessError::Other(format!("emulator container {} not healthy after {STARTUP_TIMEOUT:?}: {last}", container.id())))
}

/// "exited during start" with its stderr when the container is gone, else `otherwise`.
async fn exited_or(container: &ContainerAsync<XreplImage>, otherwise: String) -> HarnessError {
    if container.is_running().await.ok() == Some(false) {
        let logs = container.stderr_to_vec().await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let code = container.exit_code().await.ok().flatten().map_or_else(String::new, |c| format!(" with code {c}"));
        return HarnessError::Other(format!("emulator container {} exited during start{code}: {}", container.id(), logs.trim()));
    }
    HarnessError::Other(otherwise)
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
            let mut explanation = format!(
                "replication of s3://{source_bucket}/{key} (version {version_id}) to {destination_bucket} failed with {reason} (rule {rule_id}): {}",
                text(e, &["xrepl", "explanation"])
            );
            let fix = text(e, &["xrepl", "fix"]);
            if !fix.is_empty() {
                explanation.push_str(&format!(" Fix: {fix}"));
            }
            FailureView {
                key,
                version_id,
                rule_id,
                destination_bucket,
                operation: text(e, &["replicationEventData", "s3Operation"]),
                reason,
                explanation,
            }
        })
        .collect())
}

/// The emulator image in one container serving every account: full fidelity.
pub struct ContainerBackend {
    emulator: EmulatorContainer,
}

impl ContainerBackend {
    pub async fn start(accounts: &[&str]) -> Result<Self, HarnessError> {
        Ok(Self { emulator: EmulatorContainer::start(BackendKind::Container.name(), accounts).await? })
    }

    pub fn container(&self) -> &EmulatorContainer {
        &self.emulator
    }
}

#[async_trait::async_trait]
impl Backend for ContainerBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Container
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
    }
    fn endpoint(&self, _account: &str) -> String {
        self.emulator.endpoint().to_owned()
    }
    async fn drain(&self) -> Result<(), HarnessError> {
        self.emulator.drain().await
    }
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        self.emulator.failures().await
    }
    async fn events(&self) -> Result<Vec<Value>, HarnessError> {
        self.emulator.events().await
    }
    async fn reset(&self) -> Result<(), HarnessError> {
        self.emulator.reset().await
    }
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
            "replication of s3://src/k (version v1) to dst failed with AssumeRoleNotPermitted (rule r): the role trusts ec2 Fix: trust s3.amazonaws.com"
        );
        assert!(parse_events("{}").is_err());
    }
}
