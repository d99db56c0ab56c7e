//! `xrepl demo` (the guide's setup on the embedded emulator) and `xrepl check --spec FILE`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{json, Value};
use xrepl_emulator::{Emulator, EmulatorConfig, FailureEvent};
use xrepl_provisioner::{Accounts, ApplyOptions, Spec, VerifyOptions};

use crate::output::{CliError, Output};

const GUIDE_SPEC: &str = include_str!("../../../../fixtures/guide/spec.toml");
const BROKEN_SPEC: &str = include_str!("../../../../fixtures/broken/no-bucket-policy.toml");

/// Starts the embedded emulator for a spec's accounts and points the spec at it.
async fn embedded_for(spec: &mut Spec) -> Result<(Emulator, Accounts), CliError> {
    let emulator =
        Emulator::start(EmulatorConfig::with_accounts(&Accounts::account_ids(spec))).await.map_err(|e| CliError::remote(e.to_string()))?;
    spec.point_at_endpoint(&emulator.endpoint());
    let accounts = accounts_for(&emulator, spec);
    Ok((emulator, accounts))
}

fn s3_err<E: std::error::Error>(call: &str, e: &E) -> CliError {
    CliError::remote(format!("{call} on the embedded emulator failed: {e}"))
}

/// What one write did, on both sides.
struct Row {
    action: &'static str,
    key: String,
    version: String,
    source_status: String,
    replica: String,
}

fn short(v: &str) -> String {
    v.chars().take(8).collect::<String>() + "…"
}

async fn describe_replica(dst: &aws_sdk_s3::Client, bucket: &str, key: &str, version: &str, owners: &BTreeMap<String, String>) -> String {
    let listed = match dst.list_object_versions().bucket(bucket).prefix(key).send().await {
        Ok(l) => l,
        Err(e) => return format!("cannot list: {e}"),
    };
    if let Some(m) = listed.delete_markers().iter().find(|m| m.key() == Some(key) && m.version_id() == Some(version)) {
        let owner = m.owner().and_then(|o| o.id()).and_then(|id| owners.get(id)).cloned().unwrap_or_default();
        return format!("delete marker {} (owner {owner})", short(m.version_id().unwrap_or("")));
    }
    let Some(v) = listed.versions().iter().find(|v| v.key() == Some(key) && v.version_id() == Some(version)) else {
        return "not replicated".to_owned();
    };
    let head = dst.head_object().bucket(bucket).key(key).version_id(version).send().await.ok();
    let status = head.as_ref().and_then(|h| h.replication_status()).map_or("-", |s| s.as_str()).to_owned();
    let class = head.as_ref().and_then(|h| h.storage_class()).map_or("STANDARD", |s| s.as_str()).to_owned();
    let owner = v.owner().and_then(|o| o.id()).and_then(|id| owners.get(id)).cloned().unwrap_or_else(|| "?".to_owned());
    let tags = dst
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .send()
        .await
        .map(|t| t.tag_set().iter().map(|t| format!("{}={}", t.key(), t.value())).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    format!("{status} {} owner {owner} {class}{}", short(version), if tags.is_empty() { String::new() } else { format!(" tags {tags}") })
}

pub async fn demo(out: &Output) -> Result<ExitCode, CliError> {
    let started = Instant::now();
    let mut spec = Spec::from_toml_str(GUIDE_SPEC, "fixtures/guide/spec.toml")?;
    let (emulator, accounts) = embedded_for(&mut spec).await?;
    let report = xrepl_provisioner::apply(&spec, &accounts, &ApplyOptions::default()).await?;
    let owners: BTreeMap<String, String> = emulator.accounts().into_iter().map(|a| (a.canonical_id, a.account_id)).collect();
    let (src, dst) = (accounts.source()?.s3.clone(), accounts.destination()?.s3.clone());
    let (sb, db) = (spec.source.bucket.clone(), spec.destination.bucket.clone());

    let writes = write_objects(&src, &sb).await?;
    emulator.drain().await;
    let (rows, replicated) = describe_writes(&src, &sb, &dst, &db, &writes, &owners).await;
    let broken = broken_variant(&emulator, &src).await?;
    let ok = replicated && broken.failed_as_expected();
    let elapsed = started.elapsed();

    if out.json() {
        out.document(&json!({
            "spec": "fixtures/guide/spec.toml",
            "endpoint": emulator.endpoint(),
            "apply": {"mutating_calls": report.mutating_calls, "changes": report.applied.len()},
            "writes": rows.iter().map(|r| json!({"action": r.action, "key": r.key, "version_id": r.version, "source_status": r.source_status, "replica": r.replica})).collect::<Vec<_>>(),
            "broken": {
                "spec": "fixtures/broken/no-bucket-policy.toml",
                "status": broken.status,
                "failure_reason": broken.failure.as_ref().map(|f| f.failure_reason.clone()),
                "explanation": broken.failure.as_ref().map(|f| f.explanation.clone()),
                "fix": broken.failure.as_ref().and_then(|f| f.fix.clone()),
            },
            "ok": ok,
            "elapsed_ms": elapsed.as_millis(),
        }));
    } else {
        out.line(out.bold("xrepl demo: the guide's cross-account setup on the embedded emulator"));
        out.line(format!(
            "  {} (A) -> {} (B), role {}; applied {} changes with {} API calls",
            sb,
            db,
            spec.role_arn(),
            report.applied.len(),
            report.mutating_calls
        ));
        print_rows(out, &rows);
        print_broken(out, &broken);
        let verdict = if ok { out.green("ok") } else { out.red("UNEXPECTED RESULT") };
        out.line(format!(
            "\n{verdict}: objects, ownership and deletes replicated; the broken setup failed as AWS fails it ({:.0} ms)",
            elapsed.as_secs_f64() * 1000.0
        ));
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The writes the guide's "Testing" section asks for, and more: tags, overwrite, delete. Each as
/// (action, key, version id).
async fn write_objects(src: &aws_sdk_s3::Client, sb: &str) -> Result<Vec<(&'static str, String, String)>, CliError> {
    let mut writes: Vec<(&'static str, String, String)> = Vec::new();
    for (key, data, tagging) in [("reports/q1.csv", "a,b,c", Some("class=finance")), ("images/logo.png", "PNG…", None)] {
        let v = src
            .put_object()
            .bucket(sb)
            .key(key)
            .set_tagging(tagging.map(str::to_owned))
            .body(ByteStream::from(data.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| s3_err("PutObject", &e))?;
        writes.push(("put", key.to_owned(), v.version_id().unwrap_or_default().to_owned()));
    }
    let v = src
        .put_object()
        .bucket(sb)
        .key("reports/q1.csv")
        .body(ByteStream::from_static(b"a,b,c,d"))
        .send()
        .await
        .map_err(|e| s3_err("PutObject", &e))?;
    writes.push(("overwrite", "reports/q1.csv".to_owned(), v.version_id().unwrap_or_default().to_owned()));
    let d = src.delete_object().bucket(sb).key("images/logo.png").send().await.map_err(|e| s3_err("DeleteObject", &e))?;
    writes.push(("delete", "images/logo.png".to_owned(), d.version_id().unwrap_or_default().to_owned()));
    Ok(writes)
}

/// One row per write: the source's replication status and the replica; true when every write
/// replicated.
async fn describe_writes(
    src: &aws_sdk_s3::Client,
    sb: &str,
    dst: &aws_sdk_s3::Client,
    db: &str,
    writes: &[(&'static str, String, String)],
    owners: &BTreeMap<String, String>,
) -> (Vec<Row>, bool) {
    let mut rows = Vec::new();
    let mut ok = true;
    for (action, key, version) in writes {
        let source_status = if *action == "delete" {
            "-".to_owned()
        } else {
            src.head_object()
                .bucket(sb)
                .key(key)
                .version_id(version)
                .send()
                .await
                .ok()
                .and_then(|h| h.replication_status().map(|s| s.as_str().to_owned()))
                .unwrap_or_else(|| "none".to_owned())
        };
        let replica = describe_replica(dst, db, key, version, owners).await;
        ok &= (source_status == "COMPLETED" || *action == "delete") && !replica.starts_with("not");
        rows.push(Row { action, key: key.clone(), version: version.clone(), source_status, replica });
    }
    (rows, ok)
}

/// What the broken variant did: the probe's source status and the failure the emulator recorded.
struct Broken {
    status: String,
    failure: Option<FailureEvent>,
    /// The failure reason the broken spec declares.
    expected: String,
}

impl Broken {
    fn failed_as_expected(&self) -> bool {
        self.status == "FAILED" && self.failure.as_ref().is_some_and(|f| f.failure_reason == self.expected)
    }
}

/// The broken variant: no destination bucket policy (fixtures/broken/no-bucket-policy.toml).
async fn broken_variant(emulator: &Emulator, src: &aws_sdk_s3::Client) -> Result<Broken, CliError> {
    let mut broken = Spec::from_toml_str(BROKEN_SPEC, "fixtures/broken/no-bucket-policy.toml")?;
    broken.point_at_endpoint(&emulator.endpoint());
    xrepl_provisioner::apply(&broken, &accounts_for(emulator, &broken), &ApplyOptions::default()).await?;
    let bv = src
        .put_object()
        .bucket(&broken.source.bucket)
        .key("probe.txt")
        .body(ByteStream::from_static(b"probe"))
        .send()
        .await
        .map_err(|e| s3_err("PutObject", &e))?;
    emulator.drain().await;
    let status = src
        .head_object()
        .bucket(&broken.source.bucket)
        .key("probe.txt")
        .version_id(bv.version_id().unwrap_or_default())
        .send()
        .await
        .ok()
        .and_then(|h| h.replication_status().map(|s| s.as_str().to_owned()))
        .unwrap_or_default();
    let failure = emulator.replication().failures().into_iter().find(|e| e.source_bucket == broken.source.bucket);
    let expected = broken.expectation.replication_failure.clone().unwrap_or_default();
    Ok(Broken { status, failure, expected })
}

fn print_rows(out: &Output, rows: &[Row]) {
    out.line(format!("  {:<10} {:<16} {:<10} {:<10} replica in B", "write", "key", "version", "source"));
    for r in rows {
        out.line(format!("  {:<10} {:<16} {:<10} {:<10} {}", r.action, r.key, short(&r.version), r.source_status, r.replica));
    }
}

fn print_broken(out: &Output, broken: &Broken) {
    out.line("");
    out.line(out.bold("A broken variant: the destination bucket policy is missing (fixtures/broken/no-bucket-policy.toml)"));
    match &broken.failure {
        Some(f) => {
            out.line(format!("  probe.txt: {} with {}", out.red(&broken.status), f.failure_reason));
            out.line(format!("  why: {}", f.explanation));
            if let Some(fix) = &f.fix {
                out.line(format!("  fix: {fix}"));
            }
        }
        None => out.line(format!("  probe.txt: {} (expected FAILED with {})", broken.status, broken.expected)),
    }
}

fn accounts_for(emulator: &Emulator, spec: &Spec) -> Accounts {
    Accounts::for_emulator(&emulator.endpoint(), spec)
}

pub async fn check(out: &Output, path: &Path) -> Result<ExitCode, CliError> {
    let mut spec = Spec::load(path)?;
    let findings = xrepl_provisioner::lint_spec(&spec);
    for f in &findings {
        out.line(f.to_string());
    }
    // A spec broken on purpose may carry the error it declares (`# expect-failure: <Reason>`):
    // when every lint error names that reason, lint and the expectation agree, so go on and show it.
    let declared = |f: &xrepl_provisioner::Finding| {
        spec.expectation.replication_failure.as_ref().is_some_and(|reason| f.message.contains(reason.as_str()))
    };
    if findings.iter().any(|f| f.severity == xrepl_provisioner::Severity::Error && !declared(f)) {
        return Err(CliError::problems(format!("{} has errors; fix them before checking", path.display())));
    }
    let (emulator, accounts) = embedded_for(&mut spec).await?;
    let applied = xrepl_provisioner::apply(&spec, &accounts, &ApplyOptions::default()).await;
    if let Err(e) = &applied {
        if let Some(expected) = &spec.expectation.apply_error {
            let matched = e.to_string().contains(expected.split_whitespace().last().unwrap_or(expected));
            out.line(format!("apply failed as expected ({expected}): {e}"));
            return Ok(if matched { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
    }
    applied?;
    out.line(format!("applied {} to the embedded emulator at {}", path.display(), emulator.endpoint()));
    let options = VerifyOptions {
        timeout: Duration::from_secs(30),
        poll_initial: Duration::from_millis(5),
        poll_max: Duration::from_millis(50),
        keep_probes: false,
    };
    let verify = xrepl_provisioner::verify(&spec, &accounts, &options).await?;
    let events = emulator.replication().failures();
    let expected_failure = spec.expectation.replication_failure.clone();
    let passed = match &expected_failure {
        None => verify.passed(),
        Some(reason) => events.iter().any(|e| &e.failure_reason == reason),
    };
    if out.json() {
        out.document(&json!({
            "spec": path.display().to_string(),
            "checks": verify.checks.iter().map(|c| json!({"rule": c.rule_id, "check": c.name, "outcome": format!("{:?}", c.outcome), "detail": c.detail})).collect::<Vec<_>>(),
            "failures": events.iter().map(|e| e.to_json()).collect::<Vec<Value>>(),
            "expected_failure": expected_failure,
            "passed": passed,
        }));
    } else {
        out.line(verify.to_string().trim_end());
        for e in &events {
            out.line(format!("{} {e}", out.red("replication failure:")));
        }
        let verdict = match (&expected_failure, passed) {
            (None, true) => out.green("replication works"),
            (None, false) => out.red("replication does not work"),
            (Some(r), true) => out.green(&format!("failed with {r}, as expected")),
            (Some(r), false) => out.red(&format!("expected failure {r} did not happen")),
        };
        out.line(verdict);
    }
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
