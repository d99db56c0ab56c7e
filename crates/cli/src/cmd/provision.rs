//! `lint`, `export`, `plan`, `apply`, `verify` and `destroy`: the provisioner from the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde_json::{json, Value};
use xrepl_provisioner::{Accounts, ApplyOptions, DestroyOptions, Documents, PolicyKind, Side, Spec, VerifyOptions};

use crate::output::{CliError, Output};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SideArg {
    Both,
    Source,
    Destination,
}

#[derive(Args)]
pub struct Target {
    /// The spec file (TOML).
    #[arg(long)]
    pub spec: PathBuf,
    /// Only one account's half (the two accounts are often run by different teams).
    #[arg(long, value_enum, default_value_t = SideArg::Both)]
    pub side: SideArg,
    /// Send both accounts to this endpoint (an emulator or LocalStack) with keys ACCOUNT_ID/test.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Let plan/apply change an existing role xrepl did not create (same as `[role] adopt = true`):
    /// what it replaces is recorded in the role's tags, and destroy puts it back.
    #[arg(long)]
    pub adopt_role: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DocKind {
    /// A role trust policy.
    Trust,
    /// An identity policy (the role's permission policy).
    Identity,
    /// A bucket policy.
    Bucket,
    /// A put-bucket-replication configuration.
    Replication,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Document {
    All,
    TrustPolicy,
    RolePolicy,
    BucketPolicy,
    Replication,
    KmsKeyPolicy,
}

fn side(s: SideArg) -> Side {
    match s {
        SideArg::Both => Side::Both,
        SideArg::Source => Side::Source,
        SideArg::Destination => Side::Destination,
    }
}

fn read(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| CliError::input(format!("{}: cannot read: {e}", path.display())))
}

/// Recognises a JSON document's kind from its content.
fn detect(text: &str) -> DocKind {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        // Unparseable: lint as a policy so the JSON error is reported with its position.
        return if text.contains("\"Principal\"") { DocKind::Bucket } else { DocKind::Identity };
    };
    if value.get("Rules").is_some() || value.get("ReplicationConfiguration").is_some() {
        return DocKind::Replication;
    }
    let statements: Vec<&Value> = match value.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s) => vec![s],
        None => Vec::new(),
    };
    let principal = statements.iter().find_map(|s| s.get("Principal"));
    let assume = statements.iter().any(|s| s.get("Action").is_some_and(|a| a.to_string().contains("sts:AssumeRole")));
    match principal {
        Some(p) if assume || p.get("Service").is_some() => DocKind::Trust,
        Some(_) => DocKind::Bucket,
        None => DocKind::Identity,
    }
}

pub fn lint(out: &Output, files: &[PathBuf], kind: Option<DocKind>) -> Result<ExitCode, CliError> {
    let mut findings = Vec::new();
    for file in files {
        let text = read(file)?;
        let is_toml = file.extension().is_some_and(|e| e == "toml");
        if is_toml {
            match Spec::from_toml_str(&text, file) {
                Ok(spec) => findings.extend(xrepl_provisioner::lint_spec(&spec)),
                Err(e) => return Err(CliError::input(e.to_string())),
            }
            continue;
        }
        findings.extend(match kind.unwrap_or_else(|| detect(&text)) {
            DocKind::Trust => xrepl_provisioner::lint_policy_text(&text, file, PolicyKind::Trust),
            DocKind::Identity => xrepl_provisioner::lint_policy_text(&text, file, PolicyKind::Identity),
            DocKind::Bucket => xrepl_provisioner::lint_policy_text(&text, file, PolicyKind::Resource),
            DocKind::Replication => xrepl_provisioner::lint_replication_json(&text, file, None),
        });
    }
    let errors = findings.iter().filter(|f| f.severity == xrepl_provisioner::Severity::Error).count();
    if out.json() {
        out.document(&json!({
            "findings": findings.iter().map(|f| json!({
                "severity": if f.severity == xrepl_provisioner::Severity::Error { "error" } else { "warning" },
                "code": f.code, "message": f.message,
                "file": f.file.as_ref().map(|p| p.display().to_string()), "line": f.line, "column": f.column, "fix": f.fix,
            })).collect::<Vec<_>>(),
            "errors": errors,
            "warnings": findings.len() - errors,
        }));
    } else {
        for f in &findings {
            out.line(f.to_string());
        }
        out.line(format!("{errors} error(s), {} warning(s) in {} file(s)", findings.len() - errors, files.len()));
    }
    Ok(if errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

pub fn export(out: &Output, path: &Path, document: Document, minimal: bool) -> Result<ExitCode, CliError> {
    let spec = Spec::load(path)?;
    let mut docs = Documents::for_spec(&spec);
    if minimal {
        if spec.destination.bucket_policy_file.is_some() {
            return Err(CliError::input(format!(
                "{}: --minimal prints xrepl's bucket policy without s3:ReplicateTags, but this spec uses its own bucket_policy_file",
                path.display()
            )));
        }
        docs.bucket_policy = xrepl_provisioner::documents::minimal_bucket_policy(&spec);
    }
    let all = json!({
        "trust_policy": docs.trust_policy,
        "role_policy": docs.role_policy,
        "bucket_policy": docs.bucket_policy,
        "bucket_policies": docs.bucket_policies.iter().map(|(bucket, policy)| json!({"bucket": bucket, "policy": policy})).collect::<Vec<_>>(),
        "replication": docs.replication,
        "kms_key_policy_statement": docs.kms_key_policy_statement,
    });
    let value = match document {
        Document::All => all,
        Document::TrustPolicy => docs.trust_policy,
        Document::RolePolicy => docs.role_policy,
        Document::BucketPolicy => docs.bucket_policy.unwrap_or(Value::Null),
        Document::Replication => docs.replication,
        Document::KmsKeyPolicy => docs.kms_key_policy_statement.unwrap_or(Value::Null),
    };
    // Documents are JSON either way: `--output text` pretty-prints them too.
    println!("{}", serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()));
    let _ = out;
    Ok(ExitCode::SUCCESS)
}

async fn load(target: &Target) -> Result<(Spec, Accounts), CliError> {
    let mut spec = Spec::load(&target.spec)?;
    if let Some(endpoint) = &target.endpoint {
        spec.point_at_endpoint(endpoint);
    }
    spec.role.adopt |= target.adopt_role;
    let accounts = Accounts::from_spec(&spec, side(target.side)).await?;
    Ok((spec, accounts))
}

pub async fn plan(out: &Output, target: &Target) -> Result<ExitCode, CliError> {
    let (spec, accounts) = load(target).await?;
    let plan = xrepl_provisioner::plan(&spec, &accounts, side(target.side)).await?;
    if out.json() {
        out.document(&json!({
            "changes": plan.changes.iter().map(|c| json!({"resource": c.resource.to_string(), "name": c.name, "account": c.account_id, "change": c.change.to_string(), "reason": c.reason, "conflict": c.conflict, "diff": c.diff})).collect::<Vec<_>>(),
            "mutating_calls": plan.mutating_calls(),
        }));
    } else {
        out.line(plan.to_string().trim_end());
        out.line(if plan.is_noop() { "no changes".to_owned() } else { format!("{} API call(s) to make", plan.mutating_calls()) });
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn apply(out: &Output, target: &Target) -> Result<ExitCode, CliError> {
    let (spec, accounts) = load(target).await?;
    let options = ApplyOptions { side: side(target.side), ..ApplyOptions::default() };
    let report = match crate::output::with_progress(out, "applying", xrepl_provisioner::apply(&spec, &accounts, &options)).await {
        Ok(report) => report,
        Err(e) => return Err(apply_failed(out, e)),
    };
    if out.json() {
        out.document(&json!({
            "applied": report.applied.iter().map(|c| json!({"resource": c.resource.to_string(), "name": c.name, "account": c.account_id, "change": c.change.to_string(), "calls": c.calls})).collect::<Vec<_>>(),
            "calls": report.calls.iter().map(made_call_json).collect::<Vec<_>>(),
            "mutating_calls": report.mutating_calls,
            "retries": report.retries,
        }));
    } else {
        for c in &report.applied {
            out.line(format!("{} {} {} (account {}, {} call(s))", c.change, c.resource, c.name, c.account_id, c.calls));
        }
        out.line(if report.changed_anything() {
            format!("applied: {} mutating call(s), {} retried", report.mutating_calls, report.retries)
        } else {
            "no changes: everything is already as the spec says".to_owned()
        });
    }
    Ok(ExitCode::SUCCESS)
}

fn made_call_json(c: &xrepl_provisioner::MadeCall) -> Value {
    json!({"operation": c.operation, "account": c.account_id, "target": c.target})
}

/// A failed apply: every change made before the failure and what remains, printed (text) or
/// carried into the error's JSON document; the exit code is the error's (3 for AWS errors).
fn apply_failed(out: &Output, e: xrepl_provisioner::ProvisionError) -> CliError {
    let Some(failure) = e.apply_failure() else {
        return e.into();
    };
    let report = &failure.report;
    let details = json!({
        "done": report.calls.iter().map(made_call_json).collect::<Vec<_>>(),
        "remaining": report.remaining.iter().map(|r| json!({"resource": r.resource.to_string(), "name": r.name, "account": r.account_id, "change": r.change.to_string(), "status": r.status})).collect::<Vec<_>>(),
    });
    if !out.json() {
        eprintln!("apply failed; {} change(s) made before the failure:", report.calls.len());
        for c in &report.calls {
            eprintln!("  done: {} {} (account {})", c.operation, c.target, c.account_id);
        }
        for r in &report.remaining {
            eprintln!("  remaining: {} {} {} (account {}): {}", r.change, r.resource, r.name, r.account_id, r.status);
        }
        eprintln!("run apply again to complete the rest");
    }
    let mut error = CliError::from(e);
    error.details = Some(details);
    error
}

pub async fn verify(out: &Output, target: &Target, timeout: u64) -> Result<ExitCode, CliError> {
    let (spec, accounts) = load(target).await?;
    out.line(format!("verifying {}: writing probes and waiting up to {timeout}s for each to replicate…", target.spec.display()));
    let options = VerifyOptions { timeout: Duration::from_secs(timeout), ..VerifyOptions::default() };
    let report =
        crate::output::with_progress(out, "waiting for probes to replicate", xrepl_provisioner::verify(&spec, &accounts, &options)).await?;
    if out.json() {
        out.document(&json!({
            "passed": report.passed(),
            "checks": report.checks.iter().map(|c| json!({"rule": c.rule_id, "check": c.name, "outcome": format!("{:?}", c.outcome), "detail": c.detail, "seconds": c.elapsed.as_secs_f64()})).collect::<Vec<_>>(),
            "cleanup_errors": report.cleanup_errors,
        }));
    } else {
        out.line(report.to_string().trim_end());
    }
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub async fn destroy(out: &Output, target: &Target, force: bool) -> Result<ExitCode, CliError> {
    let (spec, accounts) = load(target).await?;
    let report = xrepl_provisioner::destroy(&spec, &accounts, &DestroyOptions { side: side(target.side), force }).await?;
    if out.json() {
        out.document(&json!({
            "removed": report.removed.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>(),
            "kept": report.kept.iter().map(|i| format!("{i:?}")).collect::<Vec<_>>(),
            "mutating_calls": report.mutating_calls,
        }));
    } else {
        for i in &report.removed {
            out.line(format!("removed {i:?}"));
        }
        for i in &report.kept {
            out.line(format!("kept {i:?}"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ImportArgs {
    /// The source bucket whose replication setup to read.
    #[arg(long)]
    pub bucket: String,
    /// An emulator or LocalStack endpoint; the accounts use keys ACCOUNT_ID/test there.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The source bucket's account (needed with --endpoint; otherwise read from STS).
    #[arg(long)]
    pub account: Option<String>,
    /// Profile for the source account (default: the SDK's default chain).
    #[arg(long)]
    pub profile: Option<String>,
    /// Profile for the destination account, to read its bucket policy (with --endpoint: not needed).
    #[arg(long)]
    pub destination_profile: Option<String>,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Write the spec here (and the JSON documents it names next to it) instead of printing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

async fn clients_for(account: Option<&str>, profile: Option<&str>, region: &str) -> Result<xrepl_provisioner::AccountClients, CliError> {
    let side = |account_id: &str| xrepl_provisioner::AccountSpec {
        account_id: account_id.to_string(),
        bucket: String::new(),
        region: region.to_string(),
        create_bucket: false,
        credentials: profile
            .map_or(xrepl_provisioner::Credentials::DefaultChain, |p| xrepl_provisioner::Credentials::Profile(p.to_string())),
        endpoint: None,
        bucket_policy_file: None,
        object_lock: false,
        location: None,
    };
    let mut clients = xrepl_provisioner::AccountClients::from_spec(&side(account.unwrap_or_default())).await;
    let actual = clients.caller_account().await?;
    if let Some(expected) = account.filter(|a| *a != actual) {
        return Err(CliError::remote(format!("the credentials belong to account {actual}, not {expected}")));
    }
    clients.account_id = actual;
    Ok(clients)
}

pub async fn import(out: &Output, args: &ImportArgs) -> Result<ExitCode, CliError> {
    let options = xrepl_provisioner::ImportOptions { endpoint: args.endpoint.clone() };
    let imported = match &args.endpoint {
        Some(endpoint) => {
            let Some(account) = &args.account else {
                return Err(CliError::input("--endpoint needs --account <source account id> (the emulator's keys are the account id)"));
            };
            let source = xrepl_provisioner::AccountClients::for_emulator(endpoint, account, &args.region);
            let region = args.region.clone();
            let destination = move |acct: &str| Some(xrepl_provisioner::AccountClients::for_emulator(endpoint, acct, &region));
            xrepl_provisioner::import(&source, &destination, &args.bucket, &options).await?
        }
        None => {
            let source = clients_for(args.account.as_deref(), args.profile.as_deref(), &args.region).await?;
            let destination_clients = match &args.destination_profile {
                Some(p) => Some(clients_for(None, Some(p), &args.region).await?),
                None => None,
            };
            let destination = move |acct: &str| destination_clients.clone().filter(|c| c.account_id == acct);
            xrepl_provisioner::import(&source, &destination, &args.bucket, &options).await?
        }
    };
    match &args.out {
        Some(path) => {
            let dir = path.parent().unwrap_or_else(|| Path::new("."));
            let write =
                |p: &Path, text: &str| std::fs::write(p, text).map_err(|e| CliError::input(format!("{}: cannot write: {e}", p.display())));
            write(path, &imported.spec)?;
            for (name, text) in &imported.files {
                write(&dir.join(name), text)?;
            }
            if out.json() {
                out.document(&json!({"spec": path.display().to_string(), "files": imported.files.iter().map(|(n, _)| dir.join(n).display().to_string()).collect::<Vec<_>>()}));
            } else {
                out.line(format!("wrote {}", path.display()));
                for (name, _) in &imported.files {
                    out.line(format!("wrote {}", dir.join(name).display()));
                }
            }
        }
        None if !imported.files.is_empty() => {
            return Err(CliError::input(format!(
                "the imported spec names {} document file(s) ({}): give --out FILE to write them next to it",
                imported.files.len(),
                imported.files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            )))
        }
        None if out.json() => out.document(&json!({"spec": imported.spec})),
        None => print!("{}", imported.spec),
    }
    Ok(ExitCode::SUCCESS)
}
