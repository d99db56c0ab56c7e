//! What plan and apply report, as plain data: the plan (one change per resource, with the API
//! calls it takes) and the report of an apply. Kept below [`crate::error`] because a failed
//! apply's error carries its report ([`crate::ProvisionError::ApplyFailed`]); [`crate::plan`]
//! computes the plan and [`mod@crate::apply`] the report, and both re-export these types.

use std::fmt;

use serde_json::Value;

use crate::side::Side;

/// The resources a setup consists of, one per planned change (a destination's resources once per
/// destination bucket). Displays in words, e.g. `destination bucket policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// The source bucket (source account): CreateBucket + PutBucketTagging with `create_bucket`.
    SourceBucket,
    /// A destination bucket (destination account): CreateBucket + PutBucketTagging with
    /// `create_bucket`.
    DestinationBucket,
    /// The source bucket's versioning (PutBucketVersioning): replication needs it Enabled.
    SourceVersioning,
    /// A destination bucket's versioning (PutBucketVersioning): Enabled, unless
    /// [`Overrides::destination_versioning`](crate::spec::Overrides::destination_versioning) says otherwise.
    DestinationVersioning,
    /// The replication role in the source account (CreateRole, TagRole when adopting).
    Role,
    /// The role's trust policy (CreateRole / UpdateAssumeRolePolicy).
    TrustPolicy,
    /// The role's inline permission policy (PutRolePolicy).
    RolePolicy,
    /// xrepl's statements in a destination bucket's policy (PutBucketPolicy / DeleteBucketPolicy).
    DestinationBucketPolicy,
    /// The source bucket's replication configuration (PutBucketReplication).
    ReplicationConfiguration,
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceKind::SourceBucket => "source bucket",
            ResourceKind::DestinationBucket => "destination bucket",
            ResourceKind::SourceVersioning => "source versioning",
            ResourceKind::DestinationVersioning => "destination versioning",
            ResourceKind::Role => "replication role",
            ResourceKind::TrustPolicy => "trust policy",
            ResourceKind::RolePolicy => "role permission policy",
            ResourceKind::DestinationBucketPolicy => "destination bucket policy",
            ResourceKind::ReplicationConfiguration => "replication configuration",
        })
    }
}

/// What apply does to one resource. Displays as `create`, `update`, `delete`, `keep` or
/// `not ours: untouched`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The resource does not exist yet: apply creates it.
    Create,
    /// The resource exists but differs from the spec: apply changes it (see
    /// [`PlannedChange::diff`]).
    Update,
    /// The resource is no longer wanted (a destination bucket policy holding only xrepl's
    /// statements when none are wanted): apply deletes it.
    Delete,
    /// Ours and as specified: keep.
    NoOp,
    /// Not xrepl's (a role it did not create, without adopt): never changed.
    Untouched,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Create => "create",
            Change::Update => "update",
            Change::Delete => "delete",
            Change::NoOp => "keep",
            Change::Untouched => "not ours: untouched",
        })
    }
}

/// One API call apply will make (with its payload).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    CreateBucket {
        object_lock: bool,
        bucket: String,
        region: String,
    },
    TagBucket {
        bucket: String,
    },
    PutVersioning {
        bucket: String,
        enabled: bool,
    },
    CreateRole {
        trust: String,
    },
    /// Record an adoption in the role's tags (before anything of the role changes).
    TagRole {
        tags: Vec<(String, String)>,
    },
    UpdateTrust {
        trust: String,
    },
    PutRolePolicy {
        document: String,
    },
    PutBucketPolicy {
        bucket: String,
        document: String,
    },
    DeleteBucketPolicy {
        bucket: String,
    },
    PutReplication {
        config: Value,
    },
}

/// Which account a change happens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    /// The source account (`[source]`).
    Source,
    /// A destination account (`[destination]` or one of `[[destinations]]`).
    Destination,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChange {
    /// The resource the change is about.
    pub resource: ResourceKind,
    /// Whether it lives in the source or a destination account.
    pub account: AccountRole,
    /// The 12-digit id of the account it lives in.
    pub account_id: String,
    /// The bucket, role or policy name.
    pub name: String,
    /// What apply does to it.
    pub change: Change,
    /// Why (what differs), in a few words.
    pub reason: String,
    /// When set, apply refuses to run (before changing anything): the change would touch what
    /// xrepl does not own (e.g. a role it did not create, without adopt).
    pub conflict: Option<String>,
    /// For updates: what differs, one line each (`+` added, `-` removed, `~` changed).
    pub diff: Vec<String>,
    pub(crate) steps: Vec<Step>,
}

/// Everything apply would do, in the order it would do it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The half of the setup that was read and planned.
    pub side: Side,
    /// One entry per resource, including those that need nothing ([`Change::NoOp`]), in apply's
    /// order: buckets, versioning, role, trust and permission policy, bucket policies,
    /// replication configuration (and, with a `Suspended` versioning override, the suspension last).
    pub changes: Vec<PlannedChange>,
}

impl Plan {
    /// True when apply would make no mutating call.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.steps.is_empty())
    }

    /// The changes apply would make.
    pub fn pending(&self) -> impl Iterator<Item = &PlannedChange> {
        self.changes.iter().filter(|c| !c.steps.is_empty())
    }

    /// The first planned change for a resource.
    pub fn get(&self, resource: ResourceKind) -> Option<&PlannedChange> {
        self.changes.iter().find(|c| c.resource == resource)
    }

    /// How many mutating API calls apply would make (before retries).
    pub fn mutating_calls(&self) -> usize {
        self.changes.iter().map(|c| c.steps.len()).sum()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            let mark = match c.change {
                Change::Create => "+",
                Change::Update => "~",
                Change::Delete => "-",
                Change::NoOp => "=",
                Change::Untouched => "!",
            };
            write!(f, "{mark} {:<27} {:<32} account {}  {}: {}", c.resource.to_string(), c.name, c.account_id, c.change, c.reason)?;
            if let Some(conflict) = &c.conflict {
                write!(f, "  [REFUSED: {conflict}]")?;
            }
            writeln!(f)?;
            for line in &c.diff {
                writeln!(f, "      {line}")?;
            }
        }
        Ok(())
    }
}

/// One resource that apply changed.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedChange {
    /// The resource that was changed.
    pub resource: ResourceKind,
    /// The 12-digit id of the account it lives in.
    pub account_id: String,
    /// The bucket, role or `role/policy` name.
    pub name: String,
    /// What was done to it (as planned).
    pub change: Change,
    /// Mutating API calls made for it, retries included.
    pub calls: u32,
}

/// One mutating API call that succeeded (what a failed apply reports as done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeCall {
    /// The API operation, e.g. `CreateBucket`, `PutRolePolicy`, `PutBucketReplication`.
    pub operation: &'static str,
    /// The 12-digit id of the account it was made in.
    pub account_id: String,
    /// The bucket, role or policy it changed.
    pub target: String,
}

/// A planned change apply did not complete (because it failed, or a step before it failed).
#[derive(Debug, Clone, PartialEq)]
pub struct RemainingChange {
    /// The resource the change is about.
    pub resource: ResourceKind,
    /// The 12-digit id of the account it lives in.
    pub account_id: String,
    /// The bucket, role or `role/policy` name.
    pub name: String,
    /// What apply was going to do to it.
    pub change: Change,
    /// `failed: <error>` for the change that failed, `not started` for the ones after it.
    pub status: String,
}

/// What [`apply`](fn@crate::apply) did. A second apply on an applied setup reports no mutating call.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyReport {
    /// What was planned (read before any change).
    pub plan: Plan,
    /// The resources changed, in order (resources with nothing to do are not listed).
    pub applied: Vec<AppliedChange>,
    /// Every mutating call that succeeded, in order.
    pub calls: Vec<MadeCall>,
    /// Every mutating API call made (Create*, Put*, Update*, Delete*), retries included.
    pub mutating_calls: u32,
    /// How many of those calls were retries after a transient error.
    pub retries: u32,
    /// Changes left for a later run (only when applying one side), with the reason.
    pub deferred: Vec<DeferredChange>,
    /// After a failure: the changes not completed (the failed one first). Empty on success.
    pub remaining: Vec<RemainingChange>,
}

/// A change apply could not make yet because it depends on the other account's half.
#[derive(Debug, Clone, PartialEq)]
pub struct DeferredChange {
    /// The resource left for later (today: a destination bucket policy).
    pub resource: ResourceKind,
    /// The 12-digit id of the account it lives in.
    pub account_id: String,
    /// The bucket it belongs to.
    pub name: String,
    /// AWS's answer, and what to run next (apply the source side, then the destination side again).
    pub reason: String,
}

impl ApplyReport {
    /// Whether apply made any mutating call (retries and a rollback included).
    pub fn changed_anything(&self) -> bool {
        self.mutating_calls > 0
    }
}
