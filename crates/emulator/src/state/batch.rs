//! S3 Batch Operations jobs (the `S3ReplicateObject` operation only): what `CreateJob` asked for,
//! where the job is in its lifecycle, and its progress. The S3 Control API (`s3control`) and the
//! job runner work on these; with `--data-dir` they are kept there (in the control document).

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// AWS's job states (API `JobStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum JobStatus {
    New,
    Preparing,
    Suspended,
    Ready,
    Active,
    Cancelling,
    Cancelled,
    Complete,
    Failing,
    Failed,
}

impl JobStatus {
    pub const ALL: [JobStatus; 10] = [
        Self::New,
        Self::Preparing,
        Self::Suspended,
        Self::Ready,
        Self::Active,
        Self::Cancelling,
        Self::Cancelled,
        Self::Complete,
        Self::Failing,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Preparing => "Preparing",
            Self::Suspended => "Suspended",
            Self::Ready => "Ready",
            Self::Active => "Active",
            Self::Cancelling => "Cancelling",
            Self::Cancelled => "Cancelled",
            Self::Complete => "Complete",
            Self::Failing => "Failing",
            Self::Failed => "Failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|j| j.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Cancelled | Self::Complete | Self::Failed)
    }
}

/// Which replication statuses a generated manifest selects (`ObjectReplicationStatuses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplicationStatusFilter {
    /// Never replicated (no status).
    None,
    Failed,
    Completed,
    Replica,
}

impl ReplicationStatusFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "NONE" => Some(Self::None),
            "FAILED" => Some(Self::Failed),
            "COMPLETED" => Some(Self::Completed),
            "REPLICA" => Some(Self::Replica),
            _ => None,
        }
    }
}

/// `S3JobManifestGenerator`: the manifest S3 builds from the source bucket.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ManifestGenerator {
    pub source_bucket: String,
    pub expected_bucket_owner: Option<String>,
    pub statuses: Vec<ReplicationStatusFilter>,
    pub created_after: Option<OffsetDateTime>,
    pub created_before: Option<OffsetDateTime>,
    pub prefixes: Vec<String>,
    pub suffixes: Vec<String>,
    pub eligible_for_replication: bool,
    /// `EnableManifestOutput`: (bucket, prefix) where the generated manifest is written.
    pub output: Option<(String, String)>,
}

/// Where the objects to process come from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum ManifestSource {
    /// A `S3BatchOperations_CSV_20180820` object: bucket, key, version, ETag, and whether the
    /// rows carry a version id column.
    Csv {
        bucket: String,
        key: String,
        version_id: Option<String>,
        etag: String,
        with_versions: bool,
    },
    Generated(ManifestGenerator),
}

/// `Report`: the completion report.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReportSpec {
    pub enabled: bool,
    pub bucket: String,
    pub prefix: String,
    /// `AllTasks` or `FailedTasksOnly`.
    pub all_tasks: bool,
}

/// One task's result, as the completion report lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskResult {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub succeeded: bool,
    pub error_code: String,
    pub http_status: u16,
    pub message: String,
}

/// A job. Its task counts are derived from `entries` and `results`; a data dir written before
/// that also holds `total`, `succeeded` and `failed`, which reading ignores (they always matched).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Job {
    pub id: String,
    pub account: String,
    pub region: String,
    pub description: Option<String>,
    pub priority: i32,
    pub role_arn: String,
    pub confirmation_required: bool,
    pub client_token: String,
    pub manifest: ManifestSource,
    pub report: ReportSpec,
    pub status: JobStatus,
    pub status_update_reason: Option<String>,
    pub suspended_cause: Option<String>,
    pub suspended_date: Option<OffsetDateTime>,
    pub created: OffsetDateTime,
    pub terminated: Option<OffsetDateTime>,
    pub started: Option<OffsetDateTime>,
    /// Job-level failures: (FailureCode, FailureReason).
    pub failures: Vec<(String, String)>,
    /// The objects to process, once the manifest is read: (bucket, key, version id).
    pub entries: Vec<(String, String, Option<String>)>,
    pub results: Vec<TaskResult>,
    /// Where `EnableManifestOutput` wrote the generated manifest (bucket, key).
    pub generated_manifest: Option<(String, String)>,
}

impl Job {
    pub fn arn(&self) -> String {
        format!("arn:aws:s3:{}:{}:job/{}", self.region, self.account, self.id)
    }

    /// `TotalNumberOfTasks`: one task per manifest entry, once the manifest is read.
    pub fn total_tasks(&self) -> u64 {
        self.entries.len() as u64
    }

    /// `NumberOfTasksSucceeded`, once the tasks have finished.
    pub fn succeeded_tasks(&self) -> u64 {
        self.results.iter().filter(|r| r.succeeded).count() as u64
    }

    /// `NumberOfTasksFailed`, once the tasks have finished.
    pub fn failed_tasks(&self) -> u64 {
        self.results.iter().filter(|r| !r.succeeded).count() as u64
    }
}

/// Every account's jobs, by id.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BatchJobs {
    pub jobs: BTreeMap<String, Job>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(key: &str, succeeded: bool) -> TaskResult {
        TaskResult {
            bucket: "src".to_owned(),
            key: key.to_owned(),
            version_id: "v1".to_owned(),
            succeeded,
            error_code: String::new(),
            http_status: if succeeded { 200 } else { 403 },
            message: String::new(),
        }
    }

    #[test]
    fn jobs_stored_with_task_counts_load_and_count_the_same() {
        let job = Job {
            id: "job-1".to_owned(),
            account: "111111111111".to_owned(),
            region: "us-east-1".to_owned(),
            description: None,
            priority: 10,
            role_arn: "arn:aws:iam::111111111111:role/batch".to_owned(),
            confirmation_required: false,
            client_token: "token".to_owned(),
            manifest: ManifestSource::Generated(ManifestGenerator::default()),
            report: ReportSpec { enabled: false, bucket: String::new(), prefix: String::new(), all_tasks: false },
            status: JobStatus::Complete,
            status_update_reason: None,
            suspended_cause: None,
            suspended_date: None,
            created: OffsetDateTime::UNIX_EPOCH,
            terminated: None,
            started: None,
            failures: Vec::new(),
            entries: vec![("src".to_owned(), "a".to_owned(), None), ("src".to_owned(), "b".to_owned(), None)],
            results: vec![result("a", true), result("b", false)],
            generated_manifest: None,
        };
        let mut saved = serde_json::to_value(&job).expect("serializes");
        // As a data dir from before the counts were derived has them.
        let fields = saved.as_object_mut().expect("object");
        fields.insert("total".to_owned(), 2.into());
        fields.insert("succeeded".to_owned(), 1.into());
        fields.insert("failed".to_owned(), 1.into());
        let loaded: Job = serde_json::from_value(saved).expect("loads");
        assert_eq!((loaded.total_tasks(), loaded.succeeded_tasks(), loaded.failed_tasks()), (2, 1, 1));
    }
}
