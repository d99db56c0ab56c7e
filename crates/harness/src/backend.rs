//! What a backend is: where the two accounts live, how to wait for replication, and what the
//! backend can faithfully observe.

use std::fmt;

use crate::HarnessError;

/// Where the accounts live. `XREPL_BACKEND` names one (`embedded` by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// xrepl's emulator in this process: no Docker, ready in milliseconds.
    Embedded,
    /// An xrepl emulator that already runs (`xrepl serve`, docker-compose, an `XreplImage`
    /// container), reached at a URL (`XREPL_ENDPOINT` or [`HarnessBuilder::endpoint`]).
    ///
    /// [`HarnessBuilder::endpoint`]: crate::HarnessBuilder::endpoint
    Served,
    /// xrepl's emulator image, started with testcontainers (feature `containers`).
    Container,
    /// One emulator container per account, replicated through the bridge (feature `containers`).
    TwoContainers,
    /// LocalStack community, replicated through the bridge (feature `localstack`).
    LocalStack,
}

impl BackendKind {
    /// Every backend, in the order the docs list them.
    pub const ALL: [BackendKind; 5] = [Self::Embedded, Self::Served, Self::Container, Self::TwoContainers, Self::LocalStack];

    /// The name `XREPL_BACKEND` uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Served => "served",
            Self::Container => "container",
            Self::TwoContainers => "two-containers",
            Self::LocalStack => "localstack",
        }
    }

    /// Backends whose S3 does not replicate by itself: the harness applies everything but
    /// PutBucketReplication there, and the backend's bridge replicates from the spec's rules.
    pub fn replicates_through_bridge(self) -> bool {
        matches!(self, Self::TwoContainers | Self::LocalStack)
    }

    /// The backend named `s` (as [`BackendKind::name`] spells it).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// `XREPL_BACKEND`, defaulting to the embedded emulator.
    pub fn from_env() -> Result<Self, HarnessError> {
        match std::env::var("XREPL_BACKEND") {
            Err(_) => Ok(Self::Embedded),
            Ok(v) => Self::parse(&v).ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.name()).collect();
                HarnessError::Other(format!("XREPL_BACKEND={v} is not one of {}", names.join(", ")))
            }),
        }
    }

    /// The cargo feature of `xrepl-harness` this backend needs, when it needs one.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Self::Embedded | Self::Served => None,
            Self::Container | Self::TwoContainers => Some("containers"),
            Self::LocalStack => Some("localstack"),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Things a backend may or may not reproduce faithfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Each account has its own canonical user id, so replica ownership is observable.
    DistinctOwners,
    /// IAM and bucket policies are enforced, so broken setups fail.
    PolicyEnforcement,
    /// Replicas keep the source version id.
    VersionIdsPreserved,
    /// `x-amz-replication-status` is reported on sources and replicas.
    ReplicationStatus,
    /// Failure reasons are recorded as replication events.
    FailureEvents,
}

/// What a backend can observe: everything, less the capabilities it lacks (each with why).
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    unsupported: Vec<(Capability, &'static str)>,
}

impl Capabilities {
    /// Every capability (xrepl's own emulator).
    pub fn full() -> Self {
        Self::default()
    }

    /// These capabilities less `capability`, which the backend cannot reproduce for `reason`.
    #[must_use]
    pub fn without(mut self, capability: Capability, reason: &'static str) -> Self {
        self.unsupported.push((capability, reason));
        self
    }

    /// None when supported; otherwise why not.
    pub fn missing(&self, capability: Capability) -> Option<&'static str> {
        self.unsupported.iter().find(|(c, _)| *c == capability).map(|(_, r)| *r)
    }
}

/// A replication failure as any backend reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureView {
    /// The source object's key.
    pub key: String,
    /// The source version that failed to replicate.
    pub version_id: String,
    /// The replication rule's ID.
    pub rule_id: String,
    /// The destination bucket's name.
    pub destination_bucket: String,
    /// What was being replicated: `PutObject`, `DeleteMarker`, `PutObjectTagging`, `PutObjectAcl`.
    pub operation: String,
    /// AWS's failure reason (`DstPutObjectNotPermitted`, `AssumeRoleNotPermitted`, …).
    pub reason: String,
    /// What happened and what is missing where, in words (source, destination, rule, reason).
    pub explanation: String,
    /// The policy statement (JSON) that would let replication succeed, when there is one.
    pub fix: Option<String>,
}

impl FailureView {
    /// One line per failure: the operation, what failed, why.
    pub fn summary(&self) -> String {
        format!("{} of version {} (rule {}): {}", self.operation, self.version_id, self.rule_id, self.explanation)
    }
}

/// A place where two (or more) accounts live.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Which kind of backend this is.
    fn kind(&self) -> BackendKind;
    /// What it can observe faithfully.
    fn capabilities(&self) -> Capabilities;
    /// The S3/IAM/STS endpoint serving `account`.
    fn endpoint(&self, account: &str) -> String;
    /// The region the accounts' clients use.
    fn region(&self) -> &str {
        "us-east-1"
    }
    /// The emulator in this process, when there is one (the embedded backend): its
    /// [`xrepl_emulator::ReplicationControl`] steers the engine directly.
    fn emulator(&self) -> Option<&xrepl_emulator::Emulator> {
        None
    }
    /// Called once the spec is applied (the bridge reads its rules from it).
    async fn on_applied(&self, _spec: &xrepl_provisioner::Spec) -> Result<(), HarnessError> {
        Ok(())
    }
    /// Waits until replication has nothing runnable left.
    async fn drain(&self) -> Result<(), HarnessError>;
    /// Replication failures recorded so far.
    async fn failures(&self) -> Result<Vec<FailureView>, HarnessError>;
    /// The replication event records AWS would deliver (failures under metrics, RTC events), in
    /// the shape of S3's event notifications.
    async fn events(&self) -> Result<Vec<serde_json::Value>, HarnessError> {
        Err(HarnessError::Unsupported {
            backend: self.kind().to_string(),
            what: "replication event records".to_owned(),
            reason: "the backend delivers no S3 replication events xrepl can read".to_owned(),
        })
    }
    /// Empties every account (between tests, without a restart).
    async fn reset(&self) -> Result<(), HarnessError> {
        Err(HarnessError::Unsupported {
            backend: self.kind().to_string(),
            what: "reset".to_owned(),
            reason: "the backend has no reset call xrepl can drive".to_owned(),
        })
    }
}
