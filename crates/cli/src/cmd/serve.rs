//! `xrepl serve` and `xrepl health`.

use std::process::ExitCode;
use std::time::Duration;

use xrepl_emulator::{Emulator, EmulatorConfig};

use crate::output::{CliError, Output};

#[derive(clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 4566)]
    port: u16,
    /// Accounts to create at start (more appear on first use of a 12-digit access key id).
    #[arg(long = "account", default_values_t = ["111111111111".to_owned(), "222222222222".to_owned()])]
    accounts: Vec<String>,
    /// Secret for LocalStack-style keys (access key id = account id).
    #[arg(long, default_value = "test", env = "XREPL_SECRET")]
    secret: String,
    /// An explicit root key pair for an account: ACCOUNT:ACCESS_KEY_ID:SECRET (repeatable). It
    /// replaces the account's default ACCOUNT/secret key.
    #[arg(long = "key", value_parser = parse_key)]
    keys: Vec<(String, String, String)>,
    /// An account served by another emulator (one emulator per account): policies here may
    /// name its roles and users, which this emulator cannot look up.
    #[arg(long = "remote-account")]
    remote_accounts: Vec<String>,
    /// Evaluate clients' plain-HTTP requests as TLS (aws:SecureTransport = true), so bucket
    /// policies that deny non-TLS requests, copied from production, let your tests through.
    /// S3's own replication requests always count as TLS.
    #[arg(long, env = "XREPL_ASSUME_TLS")]
    assume_tls: bool,
    /// Keep state in DIR (buckets, objects, IAM, KMS, queued replication) so it survives restarts
    /// and crashes: every acknowledged write is on disk (fsync) before it is answered.
    #[arg(long, env = "XREPL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Exit once a lease was taken (POST /_xrepl/lease?ttl_s=N) and not renewed within its TTL:
    /// the test process that started this emulator in a container keeps it alive, and the
    /// container ends when that process does (the harness's container backends use this).
    #[arg(long)]
    exit_when_lease_expires: bool,
    /// Let the admin endpoints (/_xrepl/...) answer requests addressed to NAME (the Host
    /// header, any port), e.g. the name a reverse proxy or another container uses (repeatable).
    /// Loopback names and addresses (localhost, 127.0.0.0/8, ::1) are always allowed; any other
    /// Host gets 403, so a web page cannot reach them through DNS rebinding.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
}

fn parse_key(s: &str) -> Result<(String, String, String), String> {
    let mut parts = s.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(k), Some(secret)) if !k.is_empty() && !secret.is_empty() => Ok((a.to_owned(), k.to_owned(), secret.to_owned())),
        _ => Err(format!("{s:?} is not ACCOUNT:ACCESS_KEY_ID:SECRET")),
    }
}

pub async fn serve(out: &Output, args: ServeArgs) -> Result<ExitCode, CliError> {
    if !xrepl_emulator::server::is_loopback_host(&args.host) {
        eprintln!(
            "warning: serving on {} (not a loopback address): anyone who can reach it can use every account with the \
             default keys (ACCOUNT/{}) and call the admin endpoints. Bind 127.0.0.1 unless this is meant (a container, a \
             private network).",
            args.host,
            if args.keys.is_empty() { "secret" } else { "secret, where no --key replaces it" }
        );
    }
    let refs: Vec<&str> = args.accounts.iter().map(String::as_str).collect();
    let mut config = EmulatorConfig::with_accounts(&refs).host(args.host).port(args.port).default_secret(args.secret);
    for (account, key, secret) in &args.keys {
        config = config.root_key(account, key, secret);
    }
    config.remote_accounts = args.remote_accounts;
    config = config.assume_tls(args.assume_tls);
    config.exit_when_lease_expires = args.exit_when_lease_expires;
    config.allow_hosts = args.allow_hosts;
    if let Some(dir) = args.data_dir {
        config = config.data_dir(dir);
    }
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
