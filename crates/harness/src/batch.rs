//! S3 Batch Replication from a test: `h.batch_replicate(&spec, &filter)` creates the job role the
//! way AWS documents it, a report bucket, and an `S3ReplicateObject` job with a generated
//! manifest through `aws-sdk-s3control` (the provisioner's `batch` module), waits for it as for
//! live replication, and returns its outcome with the completion report's rows.

use xrepl_provisioner::batch::{self as provisioner_batch, JobState};
pub use xrepl_provisioner::batch::{s3control_client, BatchFilter, BATCH_ROLE, REPORT_PREFIX};
use xrepl_provisioner::Spec;

use crate::{Harness, HarnessError};

/// One row of the completion report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// The source bucket.
    pub bucket: String,
    /// The object's key (decoded).
    pub key: String,
    /// The version the task replicated.
    pub version_id: String,
    /// `succeeded` or `failed`.
    pub task_status: String,
    /// AWS's error code for a failed task (empty when it succeeded).
    pub error_code: String,
    /// The task's HTTP status (`200`, `403`, …).
    pub http_status: String,
    /// The result message (empty when it succeeded).
    pub message: String,
}

/// What a batch job did: its state (status, progress, job failures; fields read through) and
/// the completion report's rows.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// The job as DescribeJob reports it.
    pub job: JobState,
    /// The completion report, one row per task.
    pub rows: Vec<ReportRow>,
}

impl std::ops::Deref for BatchOutcome {
    type Target = JobState;
    fn deref(&self) -> &JobState {
        &self.job
    }
}

impl BatchOutcome {
    /// The report row of `key`, if the job had a task for it.
    pub fn row(&self, key: &str) -> Option<&ReportRow> {
        self.rows.iter().find(|r| r.key == key)
    }
}

/// A report line: AWS's seven columns, keys URL-encoded.
pub fn report_row(line: &str) -> Option<ReportRow> {
    let fields = xrepl_emulator::s3control::report::split(line);
    let [bucket, key, version_id, task_status, error_code, http_status, message] = <[String; 7]>::try_from(fields).ok()?;
    let key = xrepl_emulator::s3control::report::decode_key(&key)?;
    Some(ReportRow { bucket, key, version_id, task_status, error_code, http_status, message })
}

fn outcome(state: JobState) -> Result<BatchOutcome, HarnessError> {
    let mut rows = Vec::new();
    for (key, text) in &state.report_files {
        for line in text.lines().filter(|l| !l.is_empty()) {
            rows.push(report_row(line).ok_or_else(|| HarnessError::Other(format!("{key}: report line {line:?} is not 7 CSV fields")))?);
        }
    }
    Ok(BatchOutcome { job: state, rows })
}

impl Harness {
    /// The report bucket of batch jobs for `spec` (in the source account).
    pub fn batch_report_bucket(spec: &Spec) -> String {
        provisioner_batch::report_bucket(spec)
    }

    /// Creates (or updates) the job role in the source account; returns its ARN.
    pub async fn ensure_batch_role(&self, spec: &Spec) -> Result<String, HarnessError> {
        Ok(provisioner_batch::ensure_batch_role(&self.source(spec)?.clients, spec).await?)
    }

    /// Creates the spec's source bucket with versioning (before `apply`, to hold objects that
    /// exist before the replication rule does).
    pub async fn create_versioned_source(&self, spec: &Spec) -> Result<(), HarnessError> {
        let s3 = self.source(spec)?.s3();
        s3.create_bucket().bucket(&spec.source.bucket).send().await.map_err(|e| HarnessError::aws("CreateBucket", &e))?;
        let enabled =
            aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build();
        s3.put_bucket_versioning()
            .bucket(&spec.source.bucket)
            .versioning_configuration(enabled)
            .send()
            .await
            .map_err(|e| HarnessError::aws("PutBucketVersioning", &e))?;
        Ok(())
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
        let source = &self.source(spec)?.clients;
        let role_arn = provisioner_batch::ensure_batch_role(source, spec).await?;
        provisioner_batch::ensure_report_bucket(source, spec).await?;
        let job_id = provisioner_batch::start_job(source, spec, &role_arn, filter, false).await?;
        // Drain waits for batch jobs as for live replication.
        self.wait_for_replication().await?;
        self.batch_outcome(spec, &job_id).await
    }

    /// A job's status, progress and report rows.
    pub async fn batch_outcome(&self, spec: &Spec, job_id: &str) -> Result<BatchOutcome, HarnessError> {
        outcome(provisioner_batch::describe(&self.source(spec)?.clients, job_id).await?)
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
