//! Text or JSON output, colour only on terminals and never with NO_COLOR.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::ValueEnum;

/// A CLI failure: what went wrong and which exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
    /// More members for the JSON error document (e.g. what a failed apply did and left).
    pub details: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The check found problems (exit 1).
    Problems,
    /// Bad input: a file, a flag, a spec (exit 2).
    Input,
    /// An AWS or endpoint call failed (exit 3).
    Remote,
}

impl CliError {
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Input, message: message.into(), details: None }
    }
    pub fn remote(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Remote, message: message.into(), details: None }
    }
    pub fn problems(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Problems, message: message.into(), details: None }
    }
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self.kind {
            ErrorKind::Problems => 1,
            ErrorKind::Input => 2,
            ErrorKind::Remote => 3,
        })
    }
}

impl From<xrepl_provisioner::ProvisionError> for CliError {
    fn from(e: xrepl_provisioner::ProvisionError) -> Self {
        use xrepl_provisioner::ProvisionError as P;
        let kind = match e.root() {
            P::Spec(_) | P::Document(_) => ErrorKind::Input,
            P::Aws { .. }
            | P::Credentials { .. }
            | P::AccountMismatch { .. }
            | P::Conflict { .. }
            | P::MissingClients { .. }
            | P::ApplyFailed(_) => ErrorKind::Remote,
        };
        Self { kind, message: e.to_string(), details: None }
    }
}

pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub struct Output {
    pub format: Format,
    color: bool,
}

impl Output {
    pub fn new(format: Format) -> Self {
        Self { format, color: color_enabled() }
    }

    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Prints a line in text mode (JSON mode prints one document at the end instead).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json() {
            println!("{}", text.as_ref());
        }
    }

    pub fn document(&self, value: &serde_json::Value) {
        if self.json() {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
        }
    }

    pub fn error(&self, err: &CliError) {
        if self.json() {
            let mut doc = serde_json::json!({"error": err.message, "exit_code": match err.kind { ErrorKind::Problems => 1, ErrorKind::Input => 2, ErrorKind::Remote => 3 }});
            if let (Some(serde_json::Value::Object(details)), Some(obj)) = (&err.details, doc.as_object_mut()) {
                obj.extend(details.clone());
            }
            println!("{doc}");
        } else {
            eprintln!("{} {}", self.red("error:"), err.message);
        }
    }
}

/// Runs `work`, showing `what… Ns` on stderr once it takes longer than a second (terminals only,
/// text output only), so long waits on real AWS are visibly alive.
pub async fn with_progress<T>(out: &Output, what: &str, work: impl std::future::Future<Output = T>) -> T {
    if out.json() || !std::io::stderr().is_terminal() {
        return work.await;
    }
    tokio::pin!(work);
    let started = std::time::Instant::now();
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + std::time::Duration::from_secs(1), std::time::Duration::from_secs(1));
    let result = loop {
        tokio::select! {
            done = &mut work => break done,
            _ = ticker.tick() => eprint!("\r{what}… {}s", started.elapsed().as_secs()),
        }
    };
    if started.elapsed() >= std::time::Duration::from_secs(1) {
        eprint!("\r\x1b[2K");
    }
    result
}
