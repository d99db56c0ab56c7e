//! The real `xrepl serve` for the integration tests that need a process (kill -9, load): spawn,
//! wait until it listens, SDK clients with the emulator's keys, the guide's setup applied.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const A: &str = "111111111111";
pub const B: &str = "222222222222";
/// The buckets of fixtures/guide/spec.toml.
pub const SRC: &str = "xrepl-guide-source";
pub const DST: &str = "xrepl-guide-destination";

/// A served emulator, killed (SIGKILL) and reaped when dropped.
pub struct Server {
    pub child: Child,
    pub endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary under test: `XREPL_BIN` (e.g. a release build, for measurements) or the debug build.
pub fn xrepl_bin() -> PathBuf {
    std::env::var_os("XREPL_BIN").map_or_else(|| assert_cmd::cargo::cargo_bin("xrepl"), PathBuf::from)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// `xrepl serve` on `port` (with `--data-dir` when given), once it accepts connections.
/// Port 0 lets the OS pick one; the endpoint is the one the server printed.
pub fn serve(data_dir: Option<&Path>, port: u16) -> Server {
    match spawn(data_dir, port, Stdio::null()) {
        Ok((child, endpoint)) => Server { child, endpoint },
        Err(status) => panic!("xrepl serve ended before it listened: {status}"),
    }
}

/// Spawns `xrepl serve --port PORT [--data-dir DIR]` with `stderr`, and waits for the endpoint it
/// prints once it listens; `Err` with its exit status when it ended before. Reading the printed
/// endpoint (rather than probing a port chosen beforehand) cannot mistake another process's
/// listener, or a socket connected to itself, for this server.
pub fn spawn(data_dir: Option<&Path>, port: u16, stderr: Stdio) -> Result<(Child, String), ExitStatus> {
    let mut command = Command::new(xrepl_bin());
    command.args(["serve", "--port", &port.to_string()]);
    if let Some(dir) = data_dir {
        command.arg("--data-dir").arg(dir);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(stderr).spawn().expect("spawn xrepl serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let (sender, endpoint) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Every line is read, so the server never writes into a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(printed) = line.strip_prefix("xrepl emulator: ").and_then(|l| l.rsplit(" on ").next()) {
                let _ = sender.send(printed.trim().to_owned());
            }
        }
    });
    let started = Instant::now();
    loop {
        if let Ok(endpoint) = endpoint.recv_timeout(Duration::from_millis(20)) {
            return Ok((child, endpoint));
        }
        if let Some(status) = child.try_wait().expect("wait for xrepl serve") {
            return Err(status);
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("xrepl serve did not print its endpoint within 20 s");
        }
    }
}

/// The port of an endpoint `http://127.0.0.1:PORT` (to restart a server where it was).
pub fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).expect("endpoint ends with a port")
}

pub fn s3(endpoint: &str, account: &str) -> aws_sdk_s3::Client {
    s3_with_retries(endpoint, account, aws_sdk_s3::config::retry::RetryConfig::standard())
}

/// An SDK client with `retries` (disabled: a 500 is seen as it is).
pub fn s3_with_retries(endpoint: &str, account: &str, retries: aws_sdk_s3::config::retry::RetryConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .retry_config(retries)
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(account, "test", None, None, "test"))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// `xrepl apply` of the guide's setup (fixtures/guide/spec.toml) against `endpoint`.
/// `POST path` on the emulator's admin endpoint; asserts 200.
pub async fn admin(endpoint: &str, path: &str) {
    let (status, body) =
        xrepl_emulator::server::admin_client::request(endpoint, "POST", path, Duration::from_secs(60)).await.expect("admin call");
    assert_eq!(status, 200, "{path}: {body}");
}

pub fn apply_guide(endpoint: &str) {
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml");
    let out = Command::new(assert_cmd::cargo::cargo_bin("xrepl"))
        .args(["apply", "--spec", spec, "--endpoint", endpoint])
        .output()
        .expect("apply");
    assert!(out.status.success(), "apply: {}", String::from_utf8_lossy(&out.stderr));
}
