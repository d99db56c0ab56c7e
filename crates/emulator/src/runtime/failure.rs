//! Failure reasons (AWS's names, semantics doc §6), the replication events S3 delivers
//! (`OperationFailedReplication` with the explanation a user can act on, and the Replication Time
//! Control events `OperationMissedThreshold`, `OperationReplicatedAfterThreshold`,
//! `OperationNotTracked`, semantics doc §28, §51).

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
    SrcBucketReplicationConfigMissing,
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
            Self::SrcBucketReplicationConfigMissing => "SrcBucketReplicationConfigMissing",
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

/// AWS's event name in the notification record: no `s3:` prefix there (User Guide
/// `notification-content-structure`), although the configuration names the type
/// `s3:Replication:OperationFailedReplication`.
pub const FAILED_REPLICATION_EVENT: &str = "Replication:OperationFailedReplication";
/// An RTC-tracked replication has not completed within the threshold (15 minutes).
pub const MISSED_THRESHOLD_EVENT: &str = "Replication:OperationMissedThreshold";
/// An RTC-tracked replication that missed the threshold has completed.
pub const REPLICATED_AFTER_THRESHOLD_EVENT: &str = "Replication:OperationReplicatedAfterThreshold";
/// A replication that was tracked by replication metrics is no longer tracked.
pub const NOT_TRACKED_EVENT: &str = "Replication:OperationNotTracked";

/// One replication event of one version to one destination. For a failure it is xrepl's
/// diagnostic record, kept for every failure; AWS delivers an event for it only when the rule has
/// replication metrics enabled (User Guide `replication-metrics-events`). RTC events (the other
/// names above, `failure_reason` empty) exist only for rules with RTC and metrics enabled.
/// [`FailureEvent::aws_record`] renders the event AWS delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureEvent {
    pub event_name: String,
    pub event_time: String,
    /// When the write that started the replication happened.
    pub request_time: String,
    pub region: String,
    pub rule_id: String,
    /// The rule has `Metrics` enabled, so AWS would deliver the event.
    pub metrics_enabled: bool,
    pub source_bucket: String,
    pub source_owner_canonical_id: String,
    pub destination_bucket: String,
    pub key: String,
    pub version_id: String,
    pub size: u64,
    pub etag: String,
    /// PutObject, DeleteMarker, PutObjectTagging or PutObjectAcl.
    pub operation: String,
    pub failure_reason: String,
    pub explanation: String,
    pub fix: Option<String>,
    /// RTC events: the rule's threshold in minutes.
    pub threshold_minutes: Option<u32>,
    /// `OperationReplicatedAfterThreshold`: when the replica was written.
    pub replication_time: Option<String>,
}

impl FailureEvent {
    /// An `OperationFailedReplication` (the others are RTC events).
    pub fn is_failure(&self) -> bool {
        self.event_name == FAILED_REPLICATION_EVENT
    }

    /// xrepl's diagnostic view (every failure, with the explanation and the fix).
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
            "metricsEnabled": self.metrics_enabled,
            "xrepl": {"explanation": self.explanation, "fix": self.fix},
        })
    }

    /// The record AWS delivers (User Guide `notification-content-structure`, event version 2.2),
    /// or None when the rule has no metrics and AWS would deliver nothing.
    pub fn aws_record(&self) -> Option<serde_json::Value> {
        if !self.metrics_enabled {
            return None;
        }
        let s3_operation = if self.operation == "DeleteMarker" { "OBJECT_DELETE" } else { "OBJECT_PUT" };
        let mut data = json!({
            "replicationRuleId": self.rule_id,
            "destinationBucket": format!("arn:aws:s3:::{}", self.destination_bucket),
            "s3Operation": s3_operation,
            "requestTime": self.request_time,
        });
        if self.is_failure() {
            data["failureReason"] = json!(self.failure_reason);
        }
        if let Some(minutes) = self.threshold_minutes {
            data["threshold"] = json!(minutes.to_string());
        }
        if let Some(at) = &self.replication_time {
            data["replicationTime"] = json!(at);
        }
        Some(json!({
            "eventVersion": "2.2",
            "eventSource": "aws:s3",
            "awsRegion": self.region,
            "eventTime": self.event_time,
            "eventName": self.event_name,
            "userIdentity": {"principalId": "s3.amazonaws.com"},
            "requestParameters": {"sourceIPAddress": "s3.amazonaws.com"},
            "responseElements": {},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "xrepl-replication-events",
                "bucket": {
                    "name": self.source_bucket,
                    "ownerIdentity": {"principalId": self.source_owner_canonical_id},
                    "arn": format!("arn:aws:s3:::{}", self.source_bucket),
                },
                "object": {"key": self.key, "size": self.size, "eTag": self.etag, "versionId": self.version_id},
            },
            "replicationEventData": data,
        }))
    }
}

impl FailureEvent {
    /// The event in words — what, where, which rule, why — without the fix statement.
    pub fn summary(&self) -> String {
        if !self.is_failure() {
            return format!(
                "{} for s3://{}/{} (version {}) to {} (rule {}): {}",
                self.event_name, self.source_bucket, self.key, self.version_id, self.destination_bucket, self.rule_id, self.explanation
            );
        }
        format!(
            "replication of s3://{}/{} (version {}) to {} failed with {} (rule {}): {}",
            self.source_bucket, self.key, self.version_id, self.destination_bucket, self.failure_reason, self.rule_id, self.explanation
        )
    }
}

impl std::fmt::Display for FailureEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())?;
        if !self.is_failure() {
            return Ok(());
        }
        if let Some(fix) = &self.fix {
            write!(f, " Fix: {fix}")?;
        }
        Ok(())
    }
}
