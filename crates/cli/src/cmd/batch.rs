//! `xrepl batch-replicate`: an S3 Batch Replication job for a spec's source bucket (objects written
//! before the rule existed, objects that FAILED, ...), against AWS or a served emulator.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use xrepl_provisioner::batch::{self, BatchFilter};
use xrepl_provisioner::{AccountClients, Spec};

use crate::output::{CliError, Output};

#[derive(Args)]
pub struct BatchArgs {
    /// The spec file (TOML); the job runs in its source account, over its source bucket.
    #[arg(long)]
    pub spec: PathBuf,
    /// Send requests to this endpoint (a served emulator) with keys ACCOUNT_ID/test.
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Replication statuses the generated manifest selects: NONE, FAILED, COMPLETED, REPLICA.
    #[arg(long, value_delimiter = ',', default_values_t = ["NONE".to_owned(), "FAILED".to_owned()])]
    pub status: Vec<String>,
    /// Only keys starting with this prefix.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Create the job awaiting confirmation (Suspended) instead of running it.
    #[arg(long)]
    pub confirm_later: bool,
    /// Seconds to wait for the job to finish.
    #[arg(long, default_value_t = 900)]
    pub timeout: u64,
}

pub async fn batch_replicate(out: &Output, args: &BatchArgs) -> Result<ExitCode, CliError> {
    for status in &args.status {
        if !["NONE", "FAILED", "COMPLETED", "REPLICA"].contains(&status.as_str()) {
            return Err(CliError::input(format!("--status {status}: use NONE, FAILED, COMPLETED or REPLICA")));
        }
    }
    let mut spec = Spec::load(&args.spec)?;
    if let Some(endpoint) = &args.endpoint {
        spec.point_at_endpoint(endpoint);
    }
    let source = AccountClients::from_spec(&spec.source).await;
    let role = batch::ensure_batch_role(&source, &spec).await?;
    let reports = batch::ensure_report_bucket(&source, &spec).await?;
    let filter = BatchFilter { statuses: args.status.clone(), prefix: args.prefix.clone(), ..BatchFilter::default() };
    let job_id = batch::start_job(&source, &spec, &role, &filter, args.confirm_later).await?;
    out.line(format!("job {job_id} created in account {} (role {role}); waiting…", spec.source.account_id));
    let job =
        crate::output::with_progress(out, "waiting for the batch job", batch::wait(&source, &job_id, Duration::from_secs(args.timeout)))
            .await?;
    let failed_rows: Vec<Vec<String>> = job
        .report_files
        .iter()
        .flat_map(|(_, text)| text.lines().map(xrepl_emulator::s3control::report::split).collect::<Vec<_>>())
        .filter(|f| f.get(3).is_some_and(|s| s == "failed"))
        .collect();
    if out.json() {
        out.document(&json!({
            "job_id": job.job_id, "status": job.status, "total": job.total, "succeeded": job.succeeded, "failed": job.failed,
            "failure_reasons": job.failure_reasons, "report_bucket": reports,
            "failed_tasks": failed_rows.iter().map(|f| json!({"key": f.get(1), "version_id": f.get(2), "error_code": f.get(4), "message": f.get(6)})).collect::<Vec<_>>(),
        }));
    } else {
        out.line(format!("job {}: {} — {} task(s), {} succeeded, {} failed", job.job_id, job.status, job.total, job.succeeded, job.failed));
        for reason in &job.failure_reasons {
            out.line(format!("  job failure: {reason}"));
        }
        for f in &failed_rows {
            out.line(format!(
                "  failed: {} ({}): {}",
                f.get(1).map_or("", String::as_str),
                f.get(4).map_or("", String::as_str),
                f.get(6).map_or("", String::as_str)
            ));
        }
        out.line(format!("report: s3://{reports}/{}/job-{}/", batch::REPORT_PREFIX, job.job_id));
    }
    let ok = job.status == "Complete" && job.failed == 0 || args.confirm_later && job.status == "Suspended";
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
