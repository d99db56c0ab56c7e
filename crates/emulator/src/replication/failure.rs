//! Failure reasons (AWS's names, semantics doc §6), the `OperationFailedReplication` events and
//! the explanation a user can act on.

use serde_json::json;

/// AWS's replication failure reasons that the emulator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    AssumeRoleNotPermitted,
    DstBucketNotFound,
    DstBucketUnversioned,
    DstBucketObjectLockConfigMissing,
    DstPutObjectNotPermitted,
    DstDelObjNotPermitted,
    DstPutTaggingNotPermitted,
    DstPutAclNotPermitted,
    DstKmsKeyNotFound,
    DstKmsKeyInvalidState,
    SrcGetObjectNotPermitted,
    SrcGetAclNotPermitted,
    SrcGetTaggingNotPermitted,
    SrcKmsKeyInvalidState,
    /// Not AWS's: the emulator itself failed (a panic while processing the task).
    InternalError,
}

impl FailureReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AssumeRoleNotPermitted => "AssumeRoleNotPermitted",
            Self::DstBucketNotFound => "DstBucketNotFound",
            Self::DstBucketUnversioned => "DstBucketUnversioned",
            Self::DstBucketObjectLockConfigMissing => "DstBucketObjectLockConfigMissing",
            Self::DstPutObjectNotPermitted => "DstPutObjectNotPermitted",
            Self::DstDelObjNotPermitted => "DstDelObjNotPermitted",
            Self::DstPutTaggingNotPermitted => "DstPutTaggingNotPermitted",
            Self::DstPutAclNotPermitted => "DstPutAclNotPermitted",
            Self::DstKmsKeyNotFound => "DstKmsKeyNotFound",
            Self::DstKmsKeyInvalidState => "DstKmsKeyInvalidState",
            Self::SrcGetObjectNotPermitted => "SrcGetObjectNotPermitted",
            Self::SrcGetAclNotPermitted => "SrcGetAclNotPermitted",
            Self::SrcGetTaggingNotPermitted => "SrcGetTaggingNotPermitted",
            Self::SrcKmsKeyInvalidState => "SrcKmsKeyInvalidState",
            Self::InternalError => "InternalError",
        }
    }
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one destination failed, in words: what is missing where, and the statement that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: FailureReason,
    pub explanation: String,
    /// A policy statement (JSON) that would grant what is missing, when a policy is the cause.
    pub fix: Option<String>,
}

impl Failure {
    pub fn new(reason: FailureReason, explanation: impl Into<String>) -> Self {
        Self { reason, explanation: explanation.into(), fix: None }
    }

    pub fn with_fix(mut self, fix: serde_json::Value) -> Self {
        self.fix = Some(fix.to_string());
        self
    }
}

/// An `s3:Replication:OperationFailedReplication` event (User Guide `replication-metrics-events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureEvent {
    pub event_name: String,
    pub event_time: String,
    pub rule_id: String,
    pub source_bucket: String,
    pub destination_bucket: String,
    pub key: String,
    pub version_id: String,
    /// PutObject, DeleteMarker, PutObjectTagging or PutObjectAcl.
    pub operation: String,
    pub failure_reason: String,
    pub explanation: String,
    pub fix: Option<String>,
}

impl FailureEvent {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "eventName": self.event_name,
            "eventTime": self.event_time,
            "s3": {
                "bucket": {"name": self.source_bucket},
                "object": {"key": self.key, "versionId": self.version_id},
            },
            "replicationEventData": {
                "replicationRuleId": self.rule_id,
                "destinationBucket": format!("arn:aws:s3:::{}", self.destination_bucket),
                "s3Operation": self.operation,
                "failureReason": self.failure_reason,
            },
            "xrepl": {"explanation": self.explanation, "fix": self.fix},
        })
    }
}

impl std::fmt::Display for FailureEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "replication of s3://{}/{} (version {}) to {} failed with {} (rule {}): {}",
            self.source_bucket, self.key, self.version_id, self.destination_bucket, self.failure_reason, self.rule_id, self.explanation
        )?;
        if let Some(fix) = &self.fix {
            write!(f, " Fix: {fix}")?;
        }
        Ok(())
    }
}
