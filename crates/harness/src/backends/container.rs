//! xrepl's emulator image (`xrepl-emulator:local`, built by `scripts/build-image.sh`) started with
//! testcontainers through [`XreplImage`]: the same emulator as the embedded backend, behind a real
//! port in a container. Drain and failure events go through the emulator's `/_xrepl` admin endpoints.

use std::time::{Duration, Instant};

use serde_json::Value;
use testcontainers::core::ContainerPort;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt};
use xrepl_emulator::server::admin_client;

use super::served::ServedBackend;
pub use crate::image::{docker_preflight, EMULATOR_PORT, IMAGE_NAME, IMAGE_TAG};
use crate::{Backend, BackendKind, Capabilities, FailureView, HarnessError, XreplImage};
/// How long a container may take from `docker start` to a healthy `/_xrepl/health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// One running emulator container, removed when dropped.
pub struct EmulatorContainer {
    container: ContainerAsync<XreplImage>,
    endpoint: String,
    _lease: LeaseRenewer,
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
            // Removed with the test process, even when it never drops this (a harness in a
            // `static`) or is killed: the renewer below stops, the emulator exits, Docker removes it.
            .with_exit_when_lease_expires(true)
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
        Ok(Self { container, _lease: LeaseRenewer::start(host_port), endpoint, startup })
    }

    /// `http://127.0.0.1:PORT`: S3, IAM, STS, KMS and the admin endpoints.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The Docker container id.
    pub fn id(&self) -> &str {
        self.container.id()
    }
}

/// How long one lease renewal lasts, and how often the renewer renews it.
const LEASE_TTL_S: u64 = 15;
const LEASE_RENEW_EVERY: Duration = Duration::from_secs(3);

/// Renews the container's lease from a thread of its own (no runtime: it must outlive every
/// test's runtime); stops when dropped or with the process.
struct LeaseRenewer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl LeaseRenewer {
    fn start(port: u16) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let spawned = std::thread::Builder::new().name(format!("xrepl-lease-{port}")).spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                if let Err(e) = renew_lease(port) {
                    tracing::warn!("renewing the emulator's lease on port {port}: {e}");
                }
                std::thread::sleep(LEASE_RENEW_EVERY);
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("no lease renewer for the emulator on port {port} ({e}): it exits after {LEASE_TTL_S} s");
        }
        Self { stop }
    }
}

impl Drop for LeaseRenewer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One `POST /_xrepl/lease` over a plain blocking socket.
fn renew_lease(port: u16) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "POST /_xrepl/lease?ttl_s={LEASE_TTL_S} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nx-xrepl-admin: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer)?;
    if &answer[9..12] != b"200" {
        return Err(std::io::Error::other(format!("answered {}", String::from_utf8_lossy(&answer))));
    }
    Ok(())
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

/// The emulator image in one container serving every account: full fidelity.
pub struct ContainerBackend {
    emulator: EmulatorContainer,
    /// The emulator in the container, reached like any served one (its `/_xrepl` admin calls).
    served: ServedBackend,
}

impl ContainerBackend {
    /// Starts one emulator container serving `accounts`.
    pub async fn start(accounts: &[&str]) -> Result<Self, HarnessError> {
        let emulator = EmulatorContainer::start(BackendKind::Container.name(), accounts).await?;
        let served = ServedBackend::at(emulator.endpoint());
        Ok(Self { emulator, served })
    }

    /// The running container.
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
    fn endpoint(&self, account: &str) -> String {
        self.served.endpoint(account)
    }
    async fn drain(&self) -> Result<(), HarnessError> {
        self.served.drain().await
    }
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        self.served.failures().await
    }
    async fn events(&self) -> Result<Vec<Value>, HarnessError> {
        self.served.events().await
    }
    async fn reset(&self) -> Result<(), HarnessError> {
        self.served.reset().await
    }
}
