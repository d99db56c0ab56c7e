//! S3 Batch Replication from a test: `h.batch_replicate(&spec, filter)` creates the job role the
//! way AWS documents it (User Guide `s3-batch-replication-policies`), a report bucket, and an
//! `S3ReplicateObject` job with a generated manifest through `aws-sdk-s3control`; it waits for
//! the job and returns its outcome with the completion report's rows.

use std::time::SystemTime;

use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};
use aws_sdk_s3control::types::{
    JobManifestGenerator, JobManifestGeneratorFilter, JobOperation, JobReport, JobReportFormat, JobReportScope, KeyNameConstraint,
    ReplicationStatus, S3JobManifestGenerator, S3ReplicateObjectOperation,
};
use serde_json::{json, Value};
use xrepl_provisioner::Spec;

use crate::{Harness, HarnessError};

/// The job role's name in the source account.
pub const BATCH_ROLE: &str = "xrepl-batch-replication";
/// Where reports go in the report bucket.
pub const REPORT_PREFIX: &str = "batch-reports";

/// An S3 Control client for a local endpoint: every request goes to `endpoint` itself (S3
/// Control's rules would put the account id in the host name, which no local address has); the
/// account travels in `x-amz-account-id` as usual.
pub fn s3control_client(endpoint: &str, access_key: &str, secret: &str, region: &str) -> aws_sdk_s3control::Client {
    #[derive(Debug)]
    struct Fixed(String);
    impl ResolveEndpoint for Fixed {
        fn resolve_endpoint<'a>(&'a self, _params: &'a Params) -> EndpointFuture<'a> {
            EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
        }
    }
    let config = aws_sdk_s3control::Config::builder()
        .behavior_version(aws_sdk_s3control::config::BehaviorVersion::latest())
        .region(aws_sdk_s3control::config::Region::new(region.to_owned()))
        .credentials_provider(aws_credential_types::Credentials::new(access_key, secret, None, None, "xrepl-harness"))
        .endpoint_resolver(Fixed(endpoint.to_owned()))
        .build();
    aws_sdk_s3control::Client::from_conf(config)
}

/// Which objects of the source bucket the generated manifest selects.
#[derive(Debug, Clone, Default)]
pub struct BatchFilter {
    /// `NONE`, `FAILED`, `COMPLETED`, `REPLICA` (empty: every status).
    pub statuses: Vec<String>,
    pub prefix: Option<String>,
    pub created_after: Option<SystemTime>,
    pub created_before: Option<SystemTime>,
}

impl BatchFilter {
    /// Objects that existed before the rule (no status) and objects that failed.
    pub fn existing_and_failed() -> Self {
        Self { statuses: vec!["NONE".to_owned(), "FAILED".to_owned()], ..Self::default() }
    }
}

/// One row of the completion report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub task_status: String,
    pub error_code: String,
    pub http_status: String,
    pub message: String,
}

/// What a batch job did.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    pub job_id: String,
    pub status: String,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    /// The job's own failures (FailureCode: FailureReason).
    pub failure_reasons: Vec<String>,
    pub rows: Vec<ReportRow>,
}

impl BatchOutcome {
    pub fn row(&self, key: &str) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.key == key)
    }
}

fn report_row(line: &str) -> Option<ReportRow> {
    let fields = xrepl_emulator::s3control::report::split(line);
    let [bucket, key, version_id, task_status, error_code, http_status, message] = <[String; 7]>::try_from(fields).ok()?;
    let key = xrepl_emulator::s3control::report::decode_key(&key)?;
    Some(ReportRow { bucket, key, version_id, task_status, error_code, http_status, message })
}

/// The job role's trust and permission policies (User Guide `s3-batch-replication-policies`).
pub fn batch_role_policies(source_bucket: &str, report_bucket: &str) -> (Value, Value) {
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "batchoperations.s3.amazonaws.com"}, "Action": "sts:AssumeRole"
    }]});
    let permissions = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:InitiateReplication"], "Resource": format!("arn:aws:s3:::{source_bucket}/*")},
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"], "Resource": format!("arn:aws:s3:::{source_bucket}")},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": format!("arn:aws:s3:::{report_bucket}/*")},
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": format!("arn:aws:s3:::{report_bucket}/*")}
    ]});
    (trust, permissions)
}

fn aws_time(t: SystemTime) -> aws_sdk_s3control::primitives::DateTime {
    aws_sdk_s3control::primitives::DateTime::from(t)
}

impl Harness {
    fn s3control(&self, spec: &Spec) -> Result<aws_sdk_s3control::Client, HarnessError> {
        let source = self.source(spec)?;
        Ok(s3control_client(&source.endpoint, &source.account_id, "test", self.backend().region()))
    }

    /// The report bucket of batch jobs for `spec` (in the source account).
    pub fn batch_report_bucket(spec: &Spec) -> String {
        let mut name = format!("{}-batch", spec.source.bucket);
        name.truncate(63);
        name
    }

    /// Creates (or updates) the job role in the source account; returns its ARN.
    pub async fn ensure_batch_role(&self, spec: &Spec) -> Result<String, HarnessError> {
        let iam = self.source(spec)?.iam();
        let (trust, permissions) = batch_role_policies(&spec.source.bucket, &Self::batch_report_bucket(spec));
        let arn = match iam.get_role().role_name(BATCH_ROLE).send().await {
            Ok(out) => out.role().map(|r| r.arn().to_owned()),
            Err(_) => iam
                .create_role()
                .role_name(BATCH_ROLE)
                .assume_role_policy_document(trust.to_string())
                .send()
                .await
                .map_err(|e| HarnessError::aws("CreateRole", &e))?
                .role()
                .map(|r| r.arn().to_owned()),
        };
        iam.put_role_policy()
            .role_name(BATCH_ROLE)
            .policy_name("batch-replication")
            .policy_document(permissions.to_string())
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutRolePolicy", &e))?;
        arn.ok_or_else(|| HarnessError::Other(format!("role {BATCH_ROLE} has no ARN")))
    }

    /// Replicates the source bucket's existing objects that `filter` selects with an S3 Batch
    /// Replication job (generated manifest, completion report), waits for it, and returns its
    /// outcome and report. Needs a backend with xrepl's engine (embedded or container).
    pub async fn batch_replicate(&self, spec: &Spec, filter: &BatchFilter) -> Result<BatchOutcome, HarnessError> {
        if self.kind().replicates_through_bridge() {
            return Err(HarnessError::Unsupported {
                backend: self.kind().name().to_owned(),
                what: "S3 Batch Replication".to_owned(),
                reason: "replication runs in the harness's bridge; there is no S3 Control jobs API to run a batch job".to_owned(),
            });
        }
        let role_arn = self.ensure_batch_role(spec).await?;
        let report_bucket = Self::batch_report_bucket(spec);
        let s3 = self.source(spec)?.s3();
        if let Err(e) = s3.create_bucket().bucket(&report_bucket).send().await {
            let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e).unwrap_or_default().to_owned();
            if code != "BucketAlreadyOwnedByYou" {
                return Err(HarnessError::aws("CreateBucket", &e));
            }
        }
        let statuses = filter.statuses.iter().map(|s| ReplicationStatus::from(s.as_str())).collect();
        let keys = filter.prefix.as_ref().map(|p| KeyNameConstraint::builder().match_any_prefix(p.clone()).build());
        let generator_filter = JobManifestGeneratorFilter::builder()
            .set_object_replication_statuses(Some(statuses))
            .set_key_name_constraint(keys)
            .set_created_after(filter.created_after.map(aws_time))
            .set_created_before(filter.created_before.map(aws_time))
            .build();
        let generator = S3JobManifestGenerator::builder()
            .source_bucket(format!("arn:aws:s3:::{}", spec.source.bucket))
            .enable_manifest_output(false)
            .filter(generator_filter)
            .build()
            .map_err(|e| HarnessError::Other(e.to_string()))?;
        let report = JobReport::builder()
            .bucket(format!("arn:aws:s3:::{report_bucket}"))
            .enabled(true)
            .format(JobReportFormat::ReportCsv20180820)
            .prefix(REPORT_PREFIX)
            .report_scope(JobReportScope::AllTasks)
            .build();
        let control = self.s3control(spec)?;
        let created = control
            .create_job()
            .account_id(&spec.source.account_id)
            .confirmation_required(false)
            .operation(JobOperation::builder().s3_replicate_object(S3ReplicateObjectOperation::builder().build()).build())
            .manifest_generator(JobManifestGenerator::S3JobManifestGenerator(generator))
            .report(report)
            .priority(10)
            .role_arn(role_arn)
            .description("xrepl harness batch replication")
            .send()
            .await
            .map_err(|e| HarnessError::aws("CreateJob", &e))?;
        let job_id = created.job_id().unwrap_or_default().to_owned();
        // Drain waits for batch jobs as for live replication.
        self.wait_for_replication().await?;
        self.batch_outcome(spec, &job_id).await
    }

    /// A job's status, progress and report rows.
    pub async fn batch_outcome(&self, spec: &Spec, job_id: &str) -> Result<BatchOutcome, HarnessError> {
        let control = self.s3control(spec)?;
        let described = control
            .describe_job()
            .account_id(&spec.source.account_id)
            .job_id(job_id)
            .send()
            .await
            .map_err(|e| HarnessError::aws("DescribeJob", &e))?;
        let job = described.job().ok_or_else(|| HarnessError::Other(format!("DescribeJob {job_id} returned no job")))?;
        let progress = job.progress_summary();
        let mut outcome = BatchOutcome {
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
            rows: Vec::new(),
        };
        // The report where the job wrote it (its Report names bucket and prefix).
        let report = job.report().filter(|r| r.enabled() && outcome.status == "Complete");
        if let Some(r) = report {
            let bucket = r.bucket().and_then(|b| b.strip_prefix("arn:aws:s3:::")).unwrap_or_default();
            let prefix = r.prefix().unwrap_or_default().trim_end_matches('/');
            let base = if prefix.is_empty() { format!("job-{job_id}") } else { format!("{prefix}/job-{job_id}") };
            outcome.rows = self.report_rows(spec, bucket, &base).await?;
        }
        Ok(outcome)
    }

    async fn get_text(&self, spec: &Spec, bucket: &str, key: &str) -> Result<String, HarnessError> {
        let out =
            self.source(spec)?.s3().get_object().bucket(bucket).key(key).send().await.map_err(|e| HarnessError::aws("GetObject", &e))?;
        let bytes = out.body.collect().await.map_err(|e| HarnessError::Other(e.to_string()))?.into_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The completion report's rows: `manifest.json` lists the result files.
    async fn report_rows(&self, spec: &Spec, bucket: &str, base: &str) -> Result<Vec<ReportRow>, HarnessError> {
        let manifest = self.get_text(spec, bucket, &format!("{base}/manifest.json")).await?;
        let manifest: Value = serde_json::from_str(&manifest).map_err(|e| HarnessError::Other(format!("report manifest.json: {e}")))?;
        let mut rows = Vec::new();
        for result in manifest["Results"].as_array().into_iter().flatten() {
            let key = result["Key"].as_str().unwrap_or_default();
            let text = self.get_text(spec, bucket, key).await?;
            for line in text.lines().filter(|l| !l.is_empty()) {
                rows.push(report_row(line).ok_or_else(|| HarnessError::Other(format!("report line {line:?} is not 7 CSV fields")))?);
            }
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_rows_parse_quoted_fields_and_encoded_keys() {
        let row = report_row("src,dir/a%20b.txt,v1,failed,DstPutObjectNotPermitted,403,\"S3 could not, as \"\"role\"\"\"");
        assert_eq!(
            row,
            Some(ReportRow {
                bucket: "src".to_owned(),
                key: "dir/a b.txt".to_owned(),
                version_id: "v1".to_owned(),
                task_status: "failed".to_owned(),
                error_code: "DstPutObjectNotPermitted".to_owned(),
                http_status: "403".to_owned(),
                message: "S3 could not, as \"role\"".to_owned(),
            })
        );
        assert_eq!(report_row("too,few"), None);
    }
}
