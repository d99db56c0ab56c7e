//! `xrepl serve` and `xrepl health`.

use std::process::ExitCode;
use std::time::Duration;

use xrepl_emulator::{Emulator, EmulatorConfig};

use crate::output::{CliError, Output};

pub async fn serve(
    out: &Output,
    host: String,
    port: u16,
    accounts: Vec<String>,
    secret: String,
    remote_accounts: Vec<String>,
) -> Result<ExitCode, CliError> {
    let refs: Vec<&str> = accounts.iter().map(String::as_str).collect();
    let mut config = EmulatorConfig::with_accounts(&refs).host(host).port(port).default_secret(secret);
    config.remote_accounts = remote_accounts;
    let emulator = Emulator::start(config).await.map_err(|e| CliError::input(e.to_string()))?;
    let infos = emulator.accounts();
    if out.json() {
        out.document(&serde_json::json!({
            "endpoint": emulator.endpoint(),
            "accounts": infos.iter().map(|a| serde_json::json!({"account_id": a.account_id, "canonical_id": a.canonical_id, "access_key_id": a.access_key_id})).collect::<Vec<_>>(),
        }));
    } else {
        println!("xrepl emulator: S3, IAM, STS and KMS on {}", emulator.endpoint());
        for a in &infos {
            println!("  account {}  access key id {}  canonical id {}", a.account_id, a.access_key_id, a.canonical_id);
        }
        println!("Any 12-digit access key id works as that account's root (secret as configured). Ctrl-C stops.");
    }
    emulator.run_until_signal().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn health(out: &Output, endpoint: &str) -> Result<ExitCode, CliError> {
    let (status, body) = xrepl_emulator::server::admin_client::request(endpoint, "GET", "/_xrepl/health", Duration::from_secs(3))
        .await
        .map_err(|e| CliError::remote(e.to_string()))?;
    if status != 200 {
        return Err(CliError::remote(format!("{endpoint} answered HTTP {status}: {body}")));
    }
    if out.json() {
        out.document(&serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)));
    } else {
        println!("healthy: {endpoint}");
    }
    Ok(ExitCode::SUCCESS)
}
