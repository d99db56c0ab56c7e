//! S3 Batch Replication for a spec (User Guide `s3-batch-replication-batch`): the job role as AWS
//! documents it (`s3-batch-replication-policies`), a job with the `S3ReplicateObject` operation
//! and a manifest S3 generates from the source bucket, and its completion report. Used by
//! `xrepl batch-replicate` and the test harness's `batch_replicate`.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3control::types::{
    JobManifestGenerator, JobManifestGeneratorFilter, JobOperation, JobReport, JobReportFormat, JobReportScope, KeyNameConstraint,
    ReplicationStatus, S3JobManifestGenerator, S3ReplicateObjectOperation,
};
use serde_json::{json, Value};

use crate::aws::aws_error;
use crate::{AccountClients, ProvisionError, Spec};

/// The job role's name in the source account.
pub const BATCH_ROLE: &str = "xrepl-batch-replication";
/// Where reports go in the report bucket.
pub const REPORT_PREFIX: &str = "batch-reports";

/// Which objects of the source bucket the generated manifest selects.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    /// `NONE`, `FAILED`, `COMPLETED`, `REPLICA` (empty: every status).
    pub statuses: Vec<String>,
    /// Only keys starting with this prefix (`KeyNameConstraint.MatchAnyPrefix`); `None`: every key.
    pub prefix: Option<String>,
    /// Only objects created after this time (`CreatedAfter`).
    pub created_after: Option<SystemTime>,
    /// Only objects created before this time (`CreatedBefore`).
    pub created_before: Option<SystemTime>,
}

impl BatchFilter {
    /// Objects that existed before the rule (no status) and objects that failed.
    pub fn existing_and_failed() -> Self {
        Self { statuses: vec!["NONE".to_owned(), "FAILED".to_owned()], ..Self::default() }
    }
}

/// The report bucket of batch jobs for `spec` (in the source account).
pub fn report_bucket(spec: &Spec) -> String {
    let mut name = format!("{}-batch", spec.source.bucket);
    name.truncate(63);
    name
}

/// The job role's trust and permission policies (User Guide `s3-batch-replication-policies`):
/// `s3:InitiateReplication` on the source objects, `s3:GetReplicationConfiguration` and
/// `s3:PutInventoryConfiguration` on the source bucket (to generate the manifest), and read and
/// write of the report bucket (manifests and reports).
pub fn batch_role_policies(source_bucket: &str, report_bucket: &str) -> (Value, Value) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "batchoperations.s3.amazonaws.com"}, "Action": "sts:AssumeRole"
    }]});
    let permissions = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:InitiateReplication"], "Resource": format!("arn:aws:s3:::{source_bucket}/*")},
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"], "Resource": format!("arn:aws:s3:::{source_bucket}")},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], "Resource": format!("arn:aws:s3:::{report_bucket}/*")}
    ]});
    (trust, permissions)
}

/// Creates the job role in the source account (or updates its permissions); returns its ARN.
pub async fn ensure_batch_role(source: &AccountClients, spec: &Spec) -> Result<String, ProvisionError> {
    let (trust, permissions) = batch_role_policies(&spec.source.bucket, &report_bucket(spec));
    let account = &source.account_id;
    let arn = match source.iam.get_role().role_name(BATCH_ROLE).send().await {
        Ok(out) => out.role().map(|r| r.arn().to_owned()),
        Err(_) => source
            .iam
            .create_role()
            .role_name(BATCH_ROLE)
            .description("S3 Batch Replication jobs (xrepl)")
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| aws_error("CreateRole", account, e))?
            .role()
            .map(|r| r.arn().to_owned()),
    };
    source
        .iam
        .put_role_policy()
        .role_name(BATCH_ROLE)
        .policy_name("batch-replication")
        .policy_document(permissions.to_string())
        .send()
        .await
        .map_err(|e| aws_error("PutRolePolicy", account, e))?;
    arn.ok_or_else(|| ProvisionError::Conflict { account: account.clone(), message: format!("role {BATCH_ROLE} has no ARN") })
}

/// Creates the report bucket in the source account when it does not exist yet.
pub async fn ensure_report_bucket(source: &AccountClients, spec: &Spec) -> Result<String, ProvisionError> {
    let bucket = report_bucket(spec);
    if let Err(e) = source.s3.create_bucket().bucket(&bucket).send().await {
        if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) != Some("BucketAlreadyOwnedByYou") {
            return Err(aws_error("CreateBucket", &source.account_id, e));
        }
    }
    Ok(bucket)
}

/// Starts an `S3ReplicateObject` job over the source bucket's objects that `filter` selects,
/// reporting every task to the report bucket; returns the job id.
pub async fn start_job(
    source: &AccountClients,
    spec: &Spec,
    role_arn: &str,
    filter: &BatchFilter,
    confirmation_required: bool,
) -> Result<String, ProvisionError> {
    let account = &source.account_id;
    let statuses = filter.statuses.iter().map(|s| ReplicationStatus::from(s.as_str())).collect();
    let keys = filter.prefix.as_ref().map(|p| KeyNameConstraint::builder().match_any_prefix(p.clone()).build());
    let generator_filter = JobManifestGeneratorFilter::builder()
        .set_object_replication_statuses(Some(statuses))
        .set_key_name_constraint(keys)
        .set_created_after(filter.created_after.map(aws_sdk_s3control::primitives::DateTime::from))
        .set_created_before(filter.created_before.map(aws_sdk_s3control::primitives::DateTime::from))
        .build();
    let generator = S3JobManifestGenerator::builder()
        .source_bucket(format!("arn:aws:s3:::{}", spec.source.bucket))
        .enable_manifest_output(false)
        .filter(generator_filter)
        .build()
        .map_err(|e| ProvisionError::Document(e.to_string()))?;
    let report = JobReport::builder()
        .bucket(format!("arn:aws:s3:::{}", report_bucket(spec)))
        .enabled(true)
        .format(JobReportFormat::ReportCsv20180820)
        .prefix(REPORT_PREFIX)
        .report_scope(JobReportScope::AllTasks)
        .build();
    let created = source
        .s3control
        .create_job()
        .account_id(account)
        .confirmation_required(confirmation_required)
        .operation(JobOperation::builder().s3_replicate_object(S3ReplicateObjectOperation::builder().build()).build())
        .manifest_generator(JobManifestGenerator::S3JobManifestGenerator(generator))
        .report(report)
        .priority(10)
        .role_arn(role_arn)
        .description(format!("xrepl batch replication of {}", spec.source.bucket))
        .send()
        .await
        .map_err(|e| aws_error("CreateJob", account, e))?;
    created
        .job_id()
        .map(str::to_owned)
        .ok_or_else(|| ProvisionError::Conflict { account: account.clone(), message: "CreateJob returned no job id".to_owned() })
}

/// A job as `DescribeJob` reports it, with its completion report's files.
#[derive(Debug, Clone)]
pub struct JobState {
    /// The S3 Batch Operations job id.
    pub job_id: String,
    /// The job's status as S3 Control names it: `New`, `Preparing`, `Suspended` (awaiting
    /// confirmation), `Ready`, `Active`, `Complete`, `Failed`, `Cancelled`, ...
    pub status: String,
    /// Tasks (objects) in the job (`ProgressSummary.TotalNumberOfTasks`; 0 until known).
    pub total: i64,
    /// Tasks that succeeded so far.
    pub succeeded: i64,
    /// Tasks that failed so far (each report CSV row says why).
    pub failed: i64,
    /// The job's own failures (`FailureCode: FailureReason`).
    pub failure_reasons: Vec<String>,
    /// Each result CSV of the report (once the job is complete): its key and text.
    pub report_files: Vec<(String, String)>,
}

impl JobState {
    /// Complete, Failed or Cancelled.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "Complete" | "Failed" | "Cancelled")
    }
}

async fn text(source: &AccountClients, bucket: &str, key: &str) -> Result<String, ProvisionError> {
    let out = source.s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| aws_error("GetObject", &source.account_id, e))?;
    let bytes = out.body.collect().await.map_err(|e| ProvisionError::Document(format!("s3://{bucket}/{key}: {e}")))?.into_bytes();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The job's status and progress; once it is complete, its report (where its `Report` says).
pub async fn describe(source: &AccountClients, job_id: &str) -> Result<JobState, ProvisionError> {
    let account = &source.account_id;
    let described = source
        .s3control
        .describe_job()
        .account_id(account)
        .job_id(job_id)
        .send()
        .await
        .map_err(|e| aws_error("DescribeJob", account, e))?;
    let job = described
        .job()
        .ok_or_else(|| ProvisionError::Conflict { account: account.clone(), message: format!("DescribeJob {job_id} returned no job") })?;
    let progress = job.progress_summary();
    let mut state = JobState {
        job_id: job_id.to_owned(),
        status: job.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        total: progress.and_then(|p| p.total_number_of_tasks()).unwrap_or_default(),
        succeeded: progress.and_then(|p| p.number_of_tasks_succeeded()).unwrap_or_default(),
        failed: progress.and_then(|p| p.number_of_tasks_failed()).unwrap_or_default(),
        failure_reasons: job
            .failure_reasons()
            .iter()
            .map(|f| format!("{}: {}", f.failure_code().unwrap_or_default(), f.failure_reason().unwrap_or_default()))
            .collect(),
        report_files: Vec::new(),
    };
    let report = job.report().filter(|r| r.enabled() && state.status == "Complete");
    if let Some(r) = report {
        let bucket = r.bucket().and_then(|b| b.strip_prefix("arn:aws:s3:::")).unwrap_or_default();
        let prefix = r.prefix().unwrap_or_default().trim_end_matches('/');
        let base = if prefix.is_empty() { format!("job-{job_id}") } else { format!("{prefix}/job-{job_id}") };
        let manifest: Value = serde_json::from_str(&text(source, bucket, &format!("{base}/manifest.json")).await?)
            .map_err(|e| ProvisionError::Document(format!("the report's manifest.json: {e}")))?;
        for result in manifest["Results"].as_array().into_iter().flatten() {
            let key = result["Key"].as_str().unwrap_or_default();
            state.report_files.push((key.to_owned(), text(source, bucket, key).await?));
        }
    }
    Ok(state)
}

/// Polls the job until it finishes or awaits confirmation (`Suspended`), up to `timeout`.
pub async fn wait(source: &AccountClients, job_id: &str, timeout: Duration) -> Result<JobState, ProvisionError> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(200);
    loop {
        let state = describe(source, job_id).await?;
        if state.is_finished() || state.status == "Suspended" || Instant::now() >= deadline {
            return Ok(state);
        }
        // A poll interval against a remote job, not a test's timing.
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// An S3 Control client for an emulator's endpoint with static keys (tests).
pub fn s3control_client(endpoint: &str, access_key: &str, secret: &str, region: &str) -> aws_sdk_s3control::Client {
    AccountClients::from_static(access_key, region, Some(endpoint), access_key, secret).s3control
}
