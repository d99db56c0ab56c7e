//! xrepl's emulator image as a testcontainers module, used like testcontainers-modules' LocalStack,
//! and handed to the harness by its endpoint:
//!
//! ```no_run
//! # async fn demo() -> Result<(), xrepl_harness::HarnessError> {
//! use xrepl_harness::{Harness, XreplImage};
//!
//! // `start_local` checks that the image is built (nothing is pulled) and publishes on 127.0.0.1;
//! // `XreplImage::default().start()` (testcontainers' `AsyncRunner`) works too.
//! let container = XreplImage::default().with_account("333333333333").start_local().await?;
//! let port = container.get_host_port_ipv4(4566).await.map_err(|e| xrepl_harness::HarnessError::Other(e.to_string()))?;
//! let endpoint = format!("http://127.0.0.1:{port}"); // S3, IAM, STS, KMS; keys ACCOUNT / test
//! let h = Harness::builder().endpoint(endpoint).accounts(["111111111111", "333333333333"]).start().await?;
//! # let _ = h; Ok(()) }
//! ```
//!
//! The image is the one `scripts/build-image.sh` builds (`xrepl-emulator:local`); nothing is
//! pulled. It is ready when Docker's health check (`xrepl health`, which asks `/_xrepl/health`)
//! reports healthy.

use std::borrow::Cow;
use std::time::Duration;

use testcontainers::bollard::Docker;
use testcontainers::core::{ContainerPort, WaitFor};
use testcontainers::{ContainerRequest, Image, ImageExt};

use crate::HarnessError;

/// The image name `scripts/build-image.sh` builds.
pub const IMAGE_NAME: &str = "xrepl-emulator";
/// The pinned tag: the one `scripts/build-image.sh` builds (there is no registry to pull from).
pub const IMAGE_TAG: &str = "local";
/// The port the image serves S3, IAM, STS, KMS and the admin endpoints on.
pub const EMULATOR_PORT: u16 = 4566;
/// Where `with_data_dir` keeps state by default: the image's volume directory, owned by the
/// unprivileged user the image runs as.
pub const DATA_DIR: &str = "/data";

/// The default accounts, as the image's own CMD has them.
const DEFAULT_ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];

/// `xrepl serve` in a container: accounts, keys and data dir are its command-line arguments.
#[derive(Debug, Clone)]
pub struct XreplImage {
    accounts: Vec<String>,
    /// ACCOUNT, ACCESS_KEY_ID, SECRET: explicit root keys replacing ACCOUNT / secret.
    keys: Vec<(String, String, String)>,
    secret: Option<String>,
    remote_accounts: Vec<String>,
    data_dir: Option<String>,
    assume_tls: bool,
    exit_when_lease_expires: bool,
    ports: [ContainerPort; 1],
}

impl Default for XreplImage {
    fn default() -> Self {
        Self {
            accounts: DEFAULT_ACCOUNTS.iter().map(|a| (*a).to_owned()).collect(),
            keys: Vec::new(),
            secret: None,
            remote_accounts: Vec::new(),
            data_dir: None,
            assume_tls: false,
            exit_when_lease_expires: false,
            ports: [ContainerPort::Tcp(EMULATOR_PORT)],
        }
    }
}

impl XreplImage {
    /// Serves exactly these accounts at start (others still appear on first use of their
    /// 12-digit access key id). Replaces the default two.
    #[must_use]
    pub fn with_accounts<S: Into<String>>(mut self, accounts: impl IntoIterator<Item = S>) -> Self {
        self.accounts = accounts.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one account to those served at start.
    #[must_use]
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        let account = account.into();
        if !self.accounts.contains(&account) {
            self.accounts.push(account);
        }
        self
    }

    /// An explicit root key pair for `account`, replacing its default `ACCOUNT` / secret key.
    #[must_use]
    pub fn with_key(mut self, account: impl Into<String>, access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.keys.push((account.into(), access_key_id.into(), secret.into()));
        self
    }

    /// The secret of the LocalStack-style keys (access key id = account id); `test` by default.
    #[must_use]
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// An account served by another emulator, whose principals policies here may name.
    #[must_use]
    pub fn with_remote_account(mut self, account: impl Into<String>) -> Self {
        self.remote_accounts.push(account.into());
        self
    }

    /// Keeps state in `dir` inside the container (mount a volume there to keep it across
    /// restarts); [`DATA_DIR`] is the directory the image prepares for this.
    #[must_use]
    pub fn with_data_dir(mut self, dir: impl Into<String>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Evaluates clients' plain-HTTP requests as TLS (`aws:SecureTransport` = true).
    #[must_use]
    pub fn with_assume_tls(mut self, assume_tls: bool) -> Self {
        self.assume_tls = assume_tls;
        self
    }

    /// The emulator exits once a lease was taken (`POST /_xrepl/lease?ttl_s=N`) and not renewed
    /// in time, and [`XreplImage::loopback_only`] starts the container with auto-remove: the
    /// container goes away when the process renewing it ends (the harness's container backends
    /// renew it from a thread of their own).
    #[must_use]
    pub fn with_exit_when_lease_expires(mut self, exit: bool) -> Self {
        self.exit_when_lease_expires = exit;
        self
    }

    /// The arguments after the image's `xrepl serve --host 0.0.0.0 --port 4566`.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for account in &self.accounts {
            args.extend(["--account".to_owned(), account.clone()]);
        }
        for (account, key, secret) in &self.keys {
            args.extend(["--key".to_owned(), format!("{account}:{key}:{secret}")]);
        }
        if let Some(secret) = &self.secret {
            args.extend(["--secret".to_owned(), secret.clone()]);
        }
        for account in &self.remote_accounts {
            args.extend(["--remote-account".to_owned(), account.clone()]);
        }
        if let Some(dir) = &self.data_dir {
            args.extend(["--data-dir".to_owned(), dir.clone()]);
        }
        if self.assume_tls {
            args.push("--assume-tls".to_owned());
        }
        if self.exit_when_lease_expires {
            args.push("--exit-when-lease-expires".to_owned());
        }
        args
    }

    /// Starts the container published on 127.0.0.1 only, after checking what a plain
    /// `AsyncRunner::start` would report as a registry pull error: that Docker answers and that
    /// the image is built (else `Unavailable`: "build it with scripts/build-image.sh"; nothing is
    /// ever pulled). Puts the Docker API shim in front of an older engine when needed.
    pub async fn start_local(self) -> Result<testcontainers::ContainerAsync<Self>, HarnessError> {
        use testcontainers::runners::AsyncRunner;
        docker_preflight("XreplImage").await?;
        self.loopback_only().start().await.map_err(|e| HarnessError::Other(format!("starting {IMAGE_NAME}:{IMAGE_TAG} failed: {e}")))
    }

    /// A request that publishes the port on 127.0.0.1 only (testcontainers publishes on every
    /// interface, and the emulator's default keys are public knowledge); with
    /// [`XreplImage::with_exit_when_lease_expires`], Docker removes the container when it exits.
    pub fn loopback_only(self) -> ContainerRequest<Self> {
        let auto_remove = self.exit_when_lease_expires;
        self.with_host_config_modifier(move |hc| {
            hc.auto_remove = Some(auto_remove);
            let binding =
                testcontainers::bollard::models::PortBinding { host_ip: Some("127.0.0.1".to_owned()), host_port: Some(String::new()) };
            hc.publish_all_ports = Some(false);
            hc.port_bindings = Some([(format!("{EMULATOR_PORT}/tcp"), Some(vec![binding]))].into_iter().collect());
        })
    }
}

impl Image for XreplImage {
    fn name(&self) -> &str {
        IMAGE_NAME
    }

    fn tag(&self) -> &str {
        IMAGE_TAG
    }

    /// Docker's health check of the image (`xrepl health` against `/_xrepl/health`).
    fn ready_conditions(&self) -> Vec<WaitFor> {
        vec![WaitFor::Healthcheck(testcontainers::core::wait::HealthWaitStrategy::new().with_poll_interval(Duration::from_millis(50)))]
    }

    fn cmd(&self) -> impl IntoIterator<Item = impl Into<Cow<'_, str>>> {
        self.args()
    }

    fn expose_ports(&self) -> &[ContainerPort] {
        &self.ports
    }
}

/// Checks that Docker answers and the image exists, and puts the API-version shim in front of an
/// engine older than testcontainers expects. Every problem is `Unavailable` with what to do.
pub async fn docker_preflight(backend: &str) -> Result<(), HarnessError> {
    let call_timeout = Duration::from_secs(10);
    let docker =
        Docker::connect_with_defaults().map_err(|e| HarnessError::unavailable(backend, format!("cannot connect to Docker: {e}")))?;
    let docker = tokio::time::timeout(call_timeout, docker.negotiate_version())
        .await
        .map_err(|_| HarnessError::unavailable(backend, "Docker did not answer within 10 s (is the daemon running? `docker info`)"))?
        .map_err(|e| HarnessError::unavailable(backend, format!("Docker is not reachable (`docker info` fails?): {e}")))?;
    let image = format!("{IMAGE_NAME}:{IMAGE_TAG}");
    match tokio::time::timeout(call_timeout, docker.inspect_image(&image)).await {
        Err(_) => return Err(HarnessError::unavailable(backend, "Docker did not answer an image inspect within 10 s")),
        Ok(Err(testcontainers::bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })) => {
            return Err(HarnessError::unavailable(backend, format!("image {image} is missing: build it with scripts/build-image.sh")))
        }
        Ok(Err(e)) => return Err(HarnessError::unavailable(backend, format!("cannot inspect image {image}: {e}"))),
        Ok(Ok(_)) => {}
    }
    let engine = docker.client_version();
    let wanted = testcontainers::bollard::API_DEFAULT_VERSION;
    if (engine.major_version, engine.minor_version) < (wanted.major_version, wanted.minor_version) {
        let host = crate::backends::docker_shim::ensure().map_err(|e| HarnessError::unavailable(backend, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_methods_become_serve_arguments() {
        let image = XreplImage::default()
            .with_accounts(["333333333333"])
            .with_account("444444444444")
            .with_account("333333333333")
            .with_key("333333333333", "AKIAEXAMPLE", "s3cr3t")
            .with_secret("other")
            .with_data_dir(DATA_DIR)
            .with_assume_tls(true);
        assert_eq!(
            image.args(),
            [
                "--account",
                "333333333333",
                "--account",
                "444444444444",
                "--key",
                "333333333333:AKIAEXAMPLE:s3cr3t",
                "--secret",
                "other",
                "--data-dir",
                "/data",
                "--assume-tls"
            ]
        );
        assert_eq!(XreplImage::default().args(), ["--account", "111111111111", "--account", "222222222222"]);
        assert_eq!((image.name(), image.tag()), ("xrepl-emulator", "local"));
    }
}
