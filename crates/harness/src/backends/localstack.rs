//! LocalStack community (localstack-core 4.13.1: S3, IAM, STS), replicated through the bridge.
//!
//! LocalStack rejects a cross-account replication rule and never copies objects (docs/peers.md),
//! so the harness does not call PutBucketReplication here and the bridge replicates. LocalStack
//! runs as a HOST PROCESS (`python -m localstack.runtime.main` from the venv that
//! `scripts/install-localstack.sh` makes), on a free loopback port: no image can be pulled on
//! machines without a registry. `XREPL_LOCALSTACK_ENDPOINT=http://127.0.0.1:4566` uses a running
//! LocalStack instead (e.g. `docker-compose --profile localstack up -d`, then port 4567).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use xrepl_emulator::server::admin_client;
use xrepl_provisioner::{AccountClients, Spec};

use super::bridge::Bridges;
use crate::{Backend, BackendKind, Capabilities, Capability, FailureView, HarnessError};

/// Where `scripts/install-localstack.sh` installs LocalStack (override with `XREPL_LOCALSTACK_VENV`).
pub const DEFAULT_VENV: &str = "/var/tmp/xrepl-localstack-venv";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
const SERVICES: [&str; 3] = ["s3", "iam", "sts"];

fn unavailable(reason: impl Into<String>) -> HarnessError {
    HarnessError::Unavailable { backend: BackendKind::LocalStack.name().to_owned(), reason: reason.into() }
}

/// A LocalStack we started; killed (and reaped) when dropped. Its log is removed then, unless
/// a failing test is unwinding (the log is what explains it).
struct LocalStackProcess {
    child: Child,
    log: PathBuf,
    keep_log: bool,
}

impl Drop for LocalStackProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep_log && !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// LocalStack community as a host process; replication runs through the harness's bridge.
pub struct LocalStackBackend {
    endpoint: String,
    _process: Option<LocalStackProcess>,
    bridges: Bridges,
    /// From spawning LocalStack (or finding it running) to a healthy `/_localstack/health`.
    pub startup: Duration,
}

impl LocalStackBackend {
    /// Uses `XREPL_LOCALSTACK_ENDPOINT` when set, else starts LocalStack from the venv
    /// (`XREPL_LOCALSTACK_VENV`, default `/var/tmp/xrepl-localstack-venv`).
    pub async fn start() -> Result<Self, HarnessError> {
        let started = Instant::now();
        if let Ok(endpoint) = std::env::var("XREPL_LOCALSTACK_ENDPOINT") {
            let endpoint = endpoint.trim_end_matches('/').to_owned();
            health(&endpoint).await.map_err(|e| unavailable(format!("XREPL_LOCALSTACK_ENDPOINT={endpoint}: {e}")))?;
            return Ok(Self { endpoint, _process: None, bridges: Bridges::default(), startup: started.elapsed() });
        }
        let venv = PathBuf::from(std::env::var("XREPL_LOCALSTACK_VENV").unwrap_or_else(|_| DEFAULT_VENV.to_owned()));
        Self::start_from_venv(&venv).await
    }

    /// Starts LocalStack from this venv on a free loopback port and waits until it is healthy.
    pub async fn start_from_venv(venv: &Path) -> Result<Self, HarnessError> {
        let started = Instant::now();
        let python = venv.join("bin").join("python");
        if !python.exists() {
            return Err(unavailable(format!("no LocalStack venv at {} (run scripts/install-localstack.sh)", venv.display())));
        }
        let port = free_port().map_err(|e| unavailable(format!("no free loopback port: {e}")))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!("xrepl-localstack-{port}.log"));
        let out = std::fs::File::create(&log).map_err(|e| unavailable(format!("cannot create {}: {e}", log.display())))?;
        let err = out.try_clone().map_err(|e| unavailable(e.to_string()))?;
        let child = Command::new(&python)
            .args(["-m", "localstack.runtime.main"])
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("GATEWAY_SERVER", "hypercorn")
            .env("SERVICES", SERVICES.join(","))
            // No network here: skip the DNS server, the certificate download and analytics.
            .env("DNS_ADDRESS", "0")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("DISABLE_EVENTS", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| unavailable(format!("cannot run {} -m localstack.runtime.main: {e}", python.display())))?;
        let mut process = LocalStackProcess { child, log, keep_log: false };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let last = match health(&endpoint).await {
                Ok(()) => break,
                Err(e) => e,
            };
            if let Ok(Some(status)) = process.child.try_wait() {
                process.keep_log = true;
                return Err(unavailable(format!(
                    "LocalStack exited during start ({status}); log {}:\n{}",
                    process.log.display(),
                    tail(&process.log)
                )));
            }
            if Instant::now() > deadline {
                process.keep_log = true;
                return Err(unavailable(format!(
                    "LocalStack not healthy after {STARTUP_TIMEOUT:?}: {last}; log {}:\n{}",
                    process.log.display(),
                    tail(&process.log)
                )));
            }
            // Poll interval only: the loop ends on the first healthy answer.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let startup = started.elapsed();
        tracing::info!(%endpoint, ?startup, "LocalStack healthy");
        Ok(Self { endpoint, _process: Some(process), bridges: Bridges::default(), startup })
    }

    fn s3(&self, account: &str) -> aws_sdk_s3::Client {
        AccountClients::for_emulator(&self.endpoint, account, self.region()).s3
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `/_localstack/health` answers 200 with s3, iam and sts available (or running).
async fn health(endpoint: &str) -> Result<(), String> {
    let (status, body) =
        admin_client::request(endpoint, "GET", "/_localstack/health", Duration::from_secs(2)).await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("health answered HTTP {status}"));
    }
    let value: Value = serde_json::from_str(&body).map_err(|e| format!("health is not JSON: {e}"))?;
    for service in SERVICES {
        let state = value.get("services").and_then(|s| s.get(service)).and_then(Value::as_str).unwrap_or("missing");
        if !matches!(state, "available" | "running") {
            return Err(format!("service {service} is {state}"));
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Backend for LocalStackBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::LocalStack
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::full()
            .without(Capability::DistinctOwners, "LocalStack gives every account the same canonical id")
            .without(Capability::PolicyEnforcement, "LocalStack community does not enforce IAM or bucket policies")
            .without(
                Capability::VersionIdsPreserved,
                "the bridge copies with PutObject, and LocalStack assigns the replica a new version id",
            )
            .without(Capability::ReplicationStatus, "LocalStack never reports x-amz-replication-status and the bridge cannot set it")
            .without(Capability::FailureEvents, "LocalStack records no replication events; only the bridge's own failures are seen")
    }
    fn endpoint(&self, _account: &str) -> String {
        self.endpoint.clone()
    }
    async fn on_applied(&self, spec: &Spec) -> Result<(), HarnessError> {
        self.bridges.on_applied(spec, self.s3(&spec.source.account_id), self.s3(&spec.destination.account_id)).await
    }
    async fn drain(&self) -> Result<(), HarnessError> {
        self.bridges.drain().await.map(|_| ())
    }
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError> {
        Ok(self.bridges.failures().await)
    }
}
