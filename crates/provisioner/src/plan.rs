//! Read both accounts and decide, per resource, what apply must do: Create, Update, Delete or
//! nothing. Documents are compared by meaning (IAM returns them URL-encoded, S3 may reformat).

use std::fmt;

use serde_json::Value;

use crate::aws::{
    aws_error, decode_policy_document, documents_equivalent, has_code, is_not_found, replication_to_json, AccountClients, Accounts, Side,
};
use crate::documents::{bucket_policy_statements, merge_bucket_policy, Documents};
use crate::error::ProvisionError;
use crate::spec::{AccountSpec, Spec, VersioningOverride};

/// The tag xrepl puts on buckets and roles it creates; destroy only deletes what carries it.
pub const MANAGED_TAG_KEY: &str = "xrepl:managed";
pub const MANAGED_TAG_VALUE: &str = "true";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    SourceBucket,
    DestinationBucket,
    SourceVersioning,
    DestinationVersioning,
    Role,
    TrustPolicy,
    RolePolicy,
    DestinationBucketPolicy,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    Create,
    Update,
    Delete,
    NoOp,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Create => "create",
            Change::Update => "update",
            Change::Delete => "delete",
            Change::NoOp => "no change",
        })
    }
}

/// One API call apply will make (with its payload).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    CreateBucket { bucket: String, region: String },
    TagBucket { bucket: String },
    PutVersioning { bucket: String, enabled: bool },
    CreateRole { trust: String },
    UpdateTrust { trust: String },
    PutRolePolicy { document: String },
    PutBucketPolicy { document: String },
    DeleteBucketPolicy,
    PutReplication { config: Value },
}

/// Which account a change happens in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    Source,
    Destination,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChange {
    pub resource: ResourceKind,
    pub account: AccountRole,
    pub account_id: String,
    /// The bucket, role or policy name.
    pub name: String,
    pub change: Change,
    /// Why (what differs), in a few words.
    pub reason: String,
    /// When set, apply refuses this change unless told to go ahead (e.g. it would replace
    /// replication rules that xrepl did not write).
    pub conflict: Option<String>,
    pub(crate) steps: Vec<Step>,
}

/// Everything apply would do, in the order it would do it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub side: Side,
    pub changes: Vec<PlannedChange>,
}

impl Plan {
    /// True when apply would make no mutating call.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.change == Change::NoOp)
    }

    /// The changes that are not NoOp.
    pub fn pending(&self) -> impl Iterator<Item = &PlannedChange> {
        self.changes.iter().filter(|c| c.change != Change::NoOp)
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
            };
            write!(f, "{mark} {:<27} {:<32} account {}  {}: {}", c.resource.to_string(), c.name, c.account_id, c.change, c.reason)?;
            if let Some(conflict) = &c.conflict {
                write!(f, "  [REFUSED without --replace-foreign-rules: {conflict}]")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Observing what exists

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioning {
    Unversioned,
    Enabled,
    Suspended,
}

#[derive(Debug, Clone)]
pub(crate) struct BucketState {
    pub exists: bool,
    pub managed: bool,
    pub versioning: Versioning,
}

/// Whether the bucket exists in `clients`' account (HeadBucket with ExpectedBucketOwner).
pub(crate) async fn observe_bucket(clients: &AccountClients, bucket: &str) -> Result<BucketState, ProvisionError> {
    let head = clients
        .s3
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(&clients.account_id)
        .send()
        .await
        .map_err(|e| aws_error("HeadBucket", &clients.account_id, e));
    match head {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(BucketState { exists: false, managed: false, versioning: Versioning::Unversioned }),
        Err(ProvisionError::Aws { status: Some(403), .. }) => {
            return Err(ProvisionError::Conflict {
                account: clients.account_id.clone(),
                message: format!(
                    "bucket {bucket} exists but is not owned by account {} (or these credentials may not read it)",
                    clients.account_id
                ),
            })
        }
        Err(e) => return Err(e),
    }
    let versioning = clients
        .s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| aws_error("GetBucketVersioning", &clients.account_id, e))?;
    let versioning = match versioning.status().map(|s| s.as_str()) {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        _ => Versioning::Unversioned,
    };
    let managed = match clients.s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) => out.tag_set().iter().any(|t| t.key() == MANAGED_TAG_KEY && t.value() == MANAGED_TAG_VALUE),
        Err(e) => {
            let e = aws_error("GetBucketTagging", &clients.account_id, e);
            if is_not_found(&e) {
                false
            } else {
                return Err(e);
            }
        }
    };
    Ok(BucketState { exists: true, managed, versioning })
}

/// The bucket's policy, if it has one.
pub(crate) async fn observe_bucket_policy(clients: &AccountClients, bucket: &str) -> Result<Option<Value>, ProvisionError> {
    match clients.s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => match out.policy() {
            Some(text) if !text.trim().is_empty() => Ok(Some(decode_policy_document(text)?)),
            _ => Ok(None),
        },
        Err(e) => {
            let e = aws_error("GetBucketPolicy", &clients.account_id, e);
            if is_not_found(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// The bucket's replication configuration in AWS's JSON shape, if it has one.
pub(crate) async fn observe_replication(clients: &AccountClients, bucket: &str) -> Result<Option<Value>, ProvisionError> {
    match clients.s3.get_bucket_replication().bucket(bucket).send().await {
        Ok(out) => Ok(out.replication_configuration().map(replication_to_json)),
        Err(e) => {
            let e = aws_error("GetBucketReplication", &clients.account_id, e);
            if is_not_found(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RoleState {
    pub path: String,
    pub managed: bool,
    pub trust: Option<Value>,
}

pub(crate) async fn observe_role(clients: &AccountClients, name: &str) -> Result<Option<RoleState>, ProvisionError> {
    let out = match clients.iam.get_role().role_name(name).send().await {
        Ok(out) => out,
        Err(e) => {
            let e = aws_error("GetRole", &clients.account_id, e);
            return if is_not_found(&e) { Ok(None) } else { Err(e) };
        }
    };
    let Some(role) = out.role() else {
        return Ok(None);
    };
    let trust = match role.assume_role_policy_document() {
        Some(doc) => Some(decode_policy_document(doc)?),
        None => None,
    };
    Ok(Some(RoleState {
        path: role.path().to_string(),
        managed: role.tags().iter().any(|t| t.key() == MANAGED_TAG_KEY && t.value() == MANAGED_TAG_VALUE),
        trust,
    }))
}

pub(crate) async fn observe_role_policy(clients: &AccountClients, role: &str, policy: &str) -> Result<Option<Value>, ProvisionError> {
    match clients.iam.get_role_policy().role_name(role).policy_name(policy).send().await {
        Ok(out) => Ok(Some(decode_policy_document(out.policy_document())?)),
        Err(e) => {
            let e = aws_error("GetRolePolicy", &clients.account_id, e);
            if is_not_found(&e) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Planning

/// The text sent for a document: the user's file verbatim (so AWS judges exactly what they
/// wrote), or xrepl's document serialized.
pub(crate) fn document_text(user: Option<&crate::spec::UserDocument>, value: &Value) -> String {
    match user {
        Some(doc) => doc.text.clone(),
        None => value.to_string(),
    }
}

/// Read the accounts `side` covers and plan the changes that make them match the spec.
pub async fn plan(spec: &Spec, accounts: &Accounts, side: Side) -> Result<Plan, ProvisionError> {
    let docs = Documents::for_spec(spec);
    let mut changes = Vec::new();

    // Buckets and versioning first, both sides.
    let src_state = if side.includes_source() {
        let clients = accounts.source()?;
        let state = observe_bucket(clients, &spec.source.bucket).await?;
        changes.push(bucket_change(&spec.source, AccountRole::Source, &state)?);
        Some(state)
    } else {
        None
    };
    let dst_state = if side.includes_destination() {
        let clients = accounts.destination()?;
        let state = observe_bucket(clients, &spec.destination.bucket).await?;
        changes.push(bucket_change(&spec.destination, AccountRole::Destination, &state)?);
        Some(state)
    } else {
        None
    };

    // The replication configuration decides whether an overridden "Suspended" destination must be
    // enabled for PutBucketReplication first, so observe it before planning versioning.
    let replication_change = if side.includes_source() {
        let clients = accounts.source()?;
        let existing = match &src_state {
            Some(s) if s.exists => observe_replication(clients, &spec.source.bucket).await?,
            _ => None,
        };
        Some(replication_change(spec, &docs, existing.as_ref()))
    } else {
        None
    };
    let replication_will_change = replication_change.as_ref().is_some_and(|c| c.change != Change::NoOp);

    if let Some(state) = &src_state {
        changes.push(versioning_change(
            &spec.source,
            AccountRole::Source,
            state,
            Versioning::Enabled,
            "replication needs versioning on the source",
        ));
    }
    let mut suspend_after = None;
    if let Some(state) = &dst_state {
        let (target, why) = match spec.overrides.destination_versioning {
            Some(VersioningOverride::Off) => (None, "left unversioned ([overrides] destination_versioning = \"Off\")"),
            Some(VersioningOverride::Suspended) if !replication_will_change => {
                (Some(Versioning::Suspended), "suspended ([overrides] destination_versioning = \"Suspended\")")
            }
            Some(VersioningOverride::Suspended) => {
                suspend_after = Some(PlannedChange {
                    resource: ResourceKind::DestinationVersioning,
                    account: AccountRole::Destination,
                    account_id: spec.destination.account_id.clone(),
                    name: spec.destination.bucket.clone(),
                    change: Change::Update,
                    reason: "suspend after PutBucketReplication ([overrides] destination_versioning = \"Suspended\")".into(),
                    conflict: None,
                    steps: vec![Step::PutVersioning { bucket: spec.destination.bucket.clone(), enabled: false }],
                });
                (Some(Versioning::Enabled), "enabled for PutBucketReplication, suspended afterwards (override)")
            }
            _ => (Some(Versioning::Enabled), "replication needs versioning on the destination"),
        };
        match target {
            Some(target) => changes.push(versioning_change(&spec.destination, AccountRole::Destination, state, target, why)),
            None => changes.push(PlannedChange {
                resource: ResourceKind::DestinationVersioning,
                account: AccountRole::Destination,
                account_id: spec.destination.account_id.clone(),
                name: spec.destination.bucket.clone(),
                change: Change::NoOp,
                reason: why.into(),
                conflict: None,
                steps: Vec::new(),
            }),
        }
    }

    // The role, its trust policy and its permission policy (source account).
    if side.includes_source() {
        let clients = accounts.source()?;
        let role = observe_role(clients, &spec.role.name).await?;
        let trust_text = document_text(spec.role.trust_policy_file.as_ref(), &docs.trust_policy);
        let source_change = |resource, change, reason: String, steps| PlannedChange {
            resource,
            account: AccountRole::Source,
            account_id: spec.source.account_id.clone(),
            name: spec.role.name.clone(),
            change,
            reason,
            conflict: None,
            steps,
        };
        match &role {
            None => {
                changes.push(source_change(
                    ResourceKind::Role,
                    Change::Create,
                    format!("role {} does not exist", spec.role_arn()),
                    vec![Step::CreateRole { trust: trust_text }],
                ));
                changes.push(source_change(ResourceKind::TrustPolicy, Change::Create, "created with the role".into(), Vec::new()));
            }
            Some(existing) => {
                if existing.path != spec.role.path {
                    return Err(ProvisionError::Conflict {
                        account: spec.source.account_id.clone(),
                        message: format!(
                            "role {} exists with path {}, but the spec wants {}; IAM cannot change a role's path: rename the role in the spec or delete the old one",
                            spec.role.name, existing.path, spec.role.path
                        ),
                    });
                }
                changes.push(source_change(
                    ResourceKind::Role,
                    Change::NoOp,
                    if existing.managed {
                        "exists (created by xrepl)".into()
                    } else {
                        "exists (not created by xrepl: destroy will keep it)".into()
                    },
                    Vec::new(),
                ));
                let same = existing.trust.as_ref().is_some_and(|t| documents_equivalent(t, &docs.trust_policy));
                changes.push(if same {
                    source_change(ResourceKind::TrustPolicy, Change::NoOp, "as specified".into(), Vec::new())
                } else {
                    source_change(
                        ResourceKind::TrustPolicy,
                        Change::Update,
                        "differs from the spec".into(),
                        vec![Step::UpdateTrust { trust: trust_text }],
                    )
                });
            }
        }
        let existing_policy = match &role {
            Some(_) => observe_role_policy(clients, &spec.role.name, &spec.role.policy_name).await?,
            None => None,
        };
        let policy_text = document_text(spec.role.permission_policy_file.as_ref(), &docs.role_policy);
        let (change, reason) = match &existing_policy {
            None => (Change::Create, format!("inline policy {} is missing", spec.role.policy_name)),
            Some(p) if documents_equivalent(p, &docs.role_policy) => (Change::NoOp, "as specified".to_string()),
            Some(_) => (Change::Update, "differs from the spec".to_string()),
        };
        let steps = if change == Change::NoOp { Vec::new() } else { vec![Step::PutRolePolicy { document: policy_text }] };
        let mut c = source_change(ResourceKind::RolePolicy, change, reason, steps);
        c.name = format!("{}/{}", spec.role.name, spec.role.policy_name);
        changes.push(c);
    }

    // The destination bucket policy (destination account).
    if let Some(state) = &dst_state {
        let clients = accounts.destination()?;
        let existing = if state.exists { observe_bucket_policy(clients, &spec.destination.bucket).await? } else { None };
        changes.push(bucket_policy_change(spec, existing.as_ref()));
    }

    if let Some(c) = replication_change {
        changes.push(c);
    }
    if let Some(c) = suspend_after {
        changes.push(c);
    }
    Ok(Plan { side, changes })
}

fn bucket_change(side: &AccountSpec, role: AccountRole, state: &BucketState) -> Result<PlannedChange, ProvisionError> {
    let resource = match role {
        AccountRole::Source => ResourceKind::SourceBucket,
        AccountRole::Destination => ResourceKind::DestinationBucket,
    };
    let (change, reason, steps) = if state.exists {
        (Change::NoOp, if state.managed { "exists (created by xrepl)".to_string() } else { "exists".to_string() }, Vec::new())
    } else if side.create_bucket {
        (
            Change::Create,
            "does not exist; create_bucket = true".to_string(),
            vec![
                Step::CreateBucket { bucket: side.bucket.clone(), region: side.region.clone() },
                Step::TagBucket { bucket: side.bucket.clone() },
            ],
        )
    } else {
        let which = match role {
            AccountRole::Source => "[source]",
            AccountRole::Destination => "[destination]",
        };
        return Err(ProvisionError::Conflict {
            account: side.account_id.clone(),
            message: format!(
                "bucket {} does not exist and {which} create_bucket is false (the guide creates the destination bucket beforehand)",
                side.bucket
            ),
        });
    };
    Ok(PlannedChange {
        resource,
        account: role,
        account_id: side.account_id.clone(),
        name: side.bucket.clone(),
        change,
        reason,
        conflict: None,
        steps,
    })
}

fn versioning_change(side: &AccountSpec, role: AccountRole, state: &BucketState, target: Versioning, why: &str) -> PlannedChange {
    let resource = match role {
        AccountRole::Source => ResourceKind::SourceVersioning,
        AccountRole::Destination => ResourceKind::DestinationVersioning,
    };
    let current = if state.exists { state.versioning } else { Versioning::Unversioned };
    let (change, steps) = if current == target {
        (Change::NoOp, Vec::new())
    } else {
        (
            if current == Versioning::Unversioned { Change::Create } else { Change::Update },
            vec![Step::PutVersioning { bucket: side.bucket.clone(), enabled: target == Versioning::Enabled }],
        )
    };
    PlannedChange {
        resource,
        account: role,
        account_id: side.account_id.clone(),
        name: side.bucket.clone(),
        change,
        reason: if current == target { format!("{target:?}: {why}") } else { format!("{current:?} → {target:?}: {why}") },
        conflict: None,
        steps,
    }
}

fn bucket_policy_change(spec: &Spec, existing: Option<&Value>) -> PlannedChange {
    let (desired, text) = match &spec.destination.bucket_policy_file {
        // The user's own policy replaces whatever is there, verbatim.
        Some(doc) => (Some(doc.value.clone()), Some(doc.text.clone())),
        None => {
            let merged = merge_bucket_policy(existing, &bucket_policy_statements(spec));
            let text = merged.as_ref().map(Value::to_string);
            (merged, text)
        }
    };
    let (change, reason, steps) = match (existing, desired.as_ref(), text) {
        (None, None, _) => (Change::NoOp, "no policy needed".to_string(), Vec::new()),
        (Some(_), None, _) => {
            (Change::Delete, "only xrepl's statements were left, and none are wanted".to_string(), vec![Step::DeleteBucketPolicy])
        }
        (Some(e), Some(d), _) if documents_equivalent(e, d) => (Change::NoOp, "as specified".to_string(), Vec::new()),
        (e, Some(_), Some(text)) => (
            if e.is_some() { Change::Update } else { Change::Create },
            if e.is_some() {
                "xrepl's statements differ or are missing (other statements are kept)".to_string()
            } else {
                "the bucket has no policy".to_string()
            },
            vec![Step::PutBucketPolicy { document: text }],
        ),
        (_, Some(_), None) => (Change::NoOp, "nothing to send".to_string(), Vec::new()),
    };
    PlannedChange {
        resource: ResourceKind::DestinationBucketPolicy,
        account: AccountRole::Destination,
        account_id: spec.destination.account_id.clone(),
        name: spec.destination.bucket.clone(),
        change,
        reason,
        conflict: None,
        steps,
    }
}

/// Drop elements that mean "off" and that some backends add or leave out, so that an echo of what
/// was sent compares equal to it.
fn strip_replication_defaults(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(rules) = v.get_mut("Rules").and_then(Value::as_array_mut) {
        for rule in rules {
            let Some(r) = rule.as_object_mut() else {
                continue;
            };
            let disabled = |x: Option<&Value>| x.and_then(|s| s.get("Status")).and_then(Value::as_str) == Some("Disabled");
            if disabled(r.get("ExistingObjectReplication")) {
                r.remove("ExistingObjectReplication");
            }
            if let Some(ssc) = r.get_mut("SourceSelectionCriteria").and_then(Value::as_object_mut) {
                ssc.retain(|_, x| x.get("Status").and_then(Value::as_str) != Some("Disabled"));
                if ssc.is_empty() {
                    r.remove("SourceSelectionCriteria");
                }
            }
            if let Some(d) = r.get_mut("Destination").and_then(Value::as_object_mut) {
                for k in ["ReplicationTime", "Metrics"] {
                    if d.get(k).and_then(|x| x.get("Status")).and_then(Value::as_str) == Some("Disabled") {
                        d.remove(k);
                    }
                }
            }
        }
    }
    v
}

fn replication_change(spec: &Spec, docs: &Documents, existing: Option<&Value>) -> PlannedChange {
    let desired = &docs.replication;
    let steps = vec![Step::PutReplication { config: desired.clone() }];
    let (change, reason, steps, conflict) = match existing {
        None => (Change::Create, format!("{} rule(s), role {}", spec.rules.len(), spec.role_arn()), steps, None),
        Some(e) if documents_equivalent(&strip_replication_defaults(e), &strip_replication_defaults(desired)) => {
            (Change::NoOp, "as specified".to_string(), Vec::new(), None)
        }
        Some(e) => {
            // PutBucketReplication replaces the whole configuration: say so when that would
            // drop rules (or a role) that are not in the spec.
            let ours: Vec<&str> = spec.rules.iter().map(|r| r.id.as_str()).collect();
            let foreign: Vec<String> = e
                .get("Rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("ID").and_then(Value::as_str))
                .filter(|id| !ours.contains(id))
                .map(str::to_string)
                .collect();
            let other_role = e.get("Role").and_then(Value::as_str).filter(|r| *r != spec.role_arn());
            let conflict = match (foreign.is_empty(), other_role) {
                (true, None) => None,
                (false, _) => {
                    Some(format!("the bucket replicates rules not in the spec ({}); applying would remove them", foreign.join(", ")))
                }
                (true, Some(r)) => Some(format!("the existing configuration uses another role ({r})")),
            };
            (Change::Update, "differs from the spec".to_string(), steps, conflict)
        }
    };
    PlannedChange {
        resource: ResourceKind::ReplicationConfiguration,
        account: AccountRole::Source,
        account_id: spec.source.account_id.clone(),
        name: spec.source.bucket.clone(),
        change,
        reason,
        conflict,
        steps,
    }
}

/// Whether an error from PutBucketReplication is (probably) IAM or S3 still catching up.
pub(crate) fn replication_error_is_transient(err: &ProvisionError, versioning_just_changed: bool) -> bool {
    match err {
        ProvisionError::Aws { code, message, .. } if code == "InvalidRequest" => {
            let m = message.to_ascii_lowercase();
            m.contains("role") || m.contains("assume") || (versioning_just_changed && m.contains("versioning"))
        }
        _ => has_code(err, &["OperationAborted"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replication_echo_with_disabled_extras_is_no_change() {
        let sent = json!({"Role": "r", "Rules": [{"ID": "a", "Status": "Enabled", "Filter": {},
            "Destination": {"Bucket": "b"}}]});
        let echoed = json!({"Role": "r", "Rules": [{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""},
            "ExistingObjectReplication": {"Status": "Disabled"},
            "SourceSelectionCriteria": {"ReplicaModifications": {"Status": "Disabled"}},
            "Destination": {"Bucket": "b", "Metrics": {"Status": "Disabled"}}}]});
        assert!(documents_equivalent(&strip_replication_defaults(&echoed), &strip_replication_defaults(&sent)));
    }

    #[test]
    fn transient_replication_errors() {
        let e = |m: &str| ProvisionError::Aws {
            operation: "PutBucketReplication",
            account: "1".into(),
            code: "InvalidRequest".into(),
            message: m.into(),
            status: Some(400),
        };
        assert!(replication_error_is_transient(&e("Role cannot be assumed"), false));
        assert!(!replication_error_is_transient(&e("Destination bucket must have versioning enabled."), false));
        assert!(replication_error_is_transient(&e("Destination bucket must have versioning enabled."), true));
    }
}
