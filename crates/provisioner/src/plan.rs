//! Read both accounts and decide, per resource, what apply must do: Create, Update, Delete or
//! nothing. Documents are compared by meaning (IAM returns them URL-encoded, S3 may reformat).

use serde_json::Value;

use crate::aws::{
    aws_error, decode_policy_document, documents_equivalent, has_code, is_not_found, replication_to_json, AccountClients, Accounts,
};
use crate::documents::{
    is_xrepl_statement, merge_statements, owned_bucket_policy, owned_statements, statements_of, Documents, POLICY_VERSION,
};
use crate::error::ProvisionError;
use crate::ownership::{trust_record_tags, Adoption, ADOPTED_TAG, POLICY_TAG};
pub(crate) use crate::report::Step;
pub use crate::report::{AccountRole, Change, Plan, PlannedChange, ResourceKind};
use crate::side::Side;
use crate::spec::{AccountSpec, Spec, VersioningOverride};

/// The tag xrepl puts on buckets and roles it creates; destroy only deletes what carries it.
pub const MANAGED_TAG_KEY: &str = "xrepl:managed";
/// The value of [`MANAGED_TAG_KEY`] on what xrepl created.
pub const MANAGED_TAG_VALUE: &str = "true";

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
    /// Only read when the spec wants Object Lock; `None`: not read or not readable.
    pub object_lock: Option<bool>,
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
        Err(e) if is_not_found(&e) => {
            return Ok(BucketState { exists: false, managed: false, versioning: Versioning::Unversioned, object_lock: None })
        }
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
    Ok(BucketState { exists: true, managed, versioning, object_lock: None })
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
    pub tags: Vec<(String, String)>,
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
    let tags: Vec<(String, String)> = role.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
    Ok(Some(RoleState {
        path: role.path().to_string(),
        managed: tags.iter().any(|(k, v)| k == MANAGED_TAG_KEY && v == MANAGED_TAG_VALUE),
        trust,
        tags,
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

/// Read the accounts `side` covers and plan the changes that make them match the spec, without
/// changing anything (only Head*/Get*/List* calls: HeadBucket, GetBucketVersioning,
/// GetBucketTagging, GetBucketPolicy, GetBucketReplication, GetRole, GetRolePolicy, and
/// GetObjectLockConfiguration when the spec wants Object Lock).
///
/// # Errors
///
/// - [`ProvisionError::MissingClients`] when `accounts` lacks the clients `side` needs;
/// - [`ProvisionError::Conflict`] when a bucket is missing and its `create_bucket` is false, a
///   bucket exists but belongs to another account (HeadBucket answers 403), or the role exists
///   with another path than the spec's (IAM cannot change a role's path);
/// - [`ProvisionError::Document`] when an adopted role's `xrepl:*` record tags are damaged;
/// - [`ProvisionError::Aws`] when a read fails otherwise (a "not found" is an answer, not an error).
///
/// Conflicts that only matter to apply (a role xrepl may not change, replication rules it cannot
/// merge) are not errors here: they are in [`PlannedChange::conflict`].
pub async fn plan(spec: &Spec, accounts: &Accounts, side: Side) -> Result<Plan, ProvisionError> {
    let docs = Documents::for_spec(spec);
    let mut changes = Vec::new();

    // Buckets and versioning first, both sides (every destination).
    let src_state = if side.includes_source() {
        let clients = accounts.source()?;
        let state = observe_side(clients, &spec.source).await?;
        changes.push(bucket_change(&spec.source, AccountRole::Source, &state)?);
        Some(state)
    } else {
        None
    };
    let mut dst_states = Vec::new();
    if side.includes_destination() {
        for d in spec.destinations() {
            let clients = accounts.for_destination(&d.account_id)?;
            let state = observe_side(clients, d).await?;
            changes.push(bucket_change(d, AccountRole::Destination, &state)?);
            dst_states.push((d, state));
        }
    }

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

    let suspend_after = versioning_changes(spec, src_state.as_ref(), &dst_states, replication_will_change, &mut changes);

    // The role, its trust policy and its permission policy (source account).
    if side.includes_source() {
        let clients = accounts.source()?;
        let role = observe_role(clients, &spec.role.name).await?;
        let existing_policy = match &role {
            Some(_) => observe_role_policy(clients, &spec.role.name, &spec.role.policy_name).await?,
            None => None,
        };
        changes.extend(role_changes(spec, &docs, role.as_ref(), existing_policy.as_ref())?);
    }

    // The destination bucket policies (destination accounts).
    for (d, state) in &dst_states {
        let clients = accounts.for_destination(&d.account_id)?;
        let existing = if state.exists { observe_bucket_policy(clients, &d.bucket).await? } else { None };
        changes.push(bucket_policy_change(spec, d, existing.as_ref()));
    }

    changes.extend(replication_change);
    changes.extend(suspend_after);
    Ok(Plan { side, changes })
}

/// Versioning of the source and of every destination (as the spec's overrides say), into
/// `changes`; returns the suspensions to make after PutBucketReplication (a `Suspended` override
/// whose bucket must be enabled while the replication configuration changes).
fn versioning_changes(
    spec: &Spec,
    src_state: Option<&BucketState>,
    dst_states: &[(&AccountSpec, BucketState)],
    replication_will_change: bool,
    changes: &mut Vec<PlannedChange>,
) -> Vec<PlannedChange> {
    if let Some(state) = src_state {
        changes.push(versioning_change(
            &spec.source,
            AccountRole::Source,
            state,
            Versioning::Enabled,
            "replication needs versioning on the source",
        ));
    }
    let mut suspend_after = Vec::new();
    for (d, state) in dst_states {
        let destination_change = |change, reason: &str, steps| PlannedChange {
            resource: ResourceKind::DestinationVersioning,
            account: AccountRole::Destination,
            account_id: d.account_id.clone(),
            name: d.bucket.clone(),
            change,
            reason: reason.to_string(),
            conflict: None,
            diff: Vec::new(),
            steps,
        };
        let (target, why) = match spec.overrides.destination_versioning {
            Some(VersioningOverride::Off) => (None, "left unversioned ([overrides] destination_versioning = \"Off\")"),
            Some(VersioningOverride::Suspended) if !replication_will_change => {
                (Some(Versioning::Suspended), "suspended ([overrides] destination_versioning = \"Suspended\")")
            }
            Some(VersioningOverride::Suspended) => {
                suspend_after.push(destination_change(
                    Change::Update,
                    "suspend after PutBucketReplication ([overrides] destination_versioning = \"Suspended\")",
                    vec![Step::PutVersioning { bucket: d.bucket.clone(), enabled: false }],
                ));
                (Some(Versioning::Enabled), "enabled for PutBucketReplication, suspended afterwards (override)")
            }
            _ => (Some(Versioning::Enabled), "replication needs versioning on the destination"),
        };
        changes.push(match target {
            Some(target) => versioning_change(d, AccountRole::Destination, state, target, why),
            None => destination_change(Change::NoOp, why, Vec::new()),
        });
    }
    suspend_after
}

fn bucket_change(side: &AccountSpec, role: AccountRole, state: &BucketState) -> Result<PlannedChange, ProvisionError> {
    let resource = match role {
        AccountRole::Source => ResourceKind::SourceBucket,
        AccountRole::Destination => ResourceKind::DestinationBucket,
    };
    let mut conflict = None;
    let (change, reason, steps) = if state.exists {
        let mut reason = if state.managed { "exists (created by xrepl)".to_string() } else { "exists".to_string() };
        match (side.object_lock, state.object_lock) {
            (false, _) => {}
            (true, Some(true)) => reason.push_str(", Object Lock enabled"),
            (true, Some(false)) => {
                conflict = Some(format!(
                    "bucket {} has no Object Lock, and the spec wants it; enabling Object Lock cannot be undone, so xrepl leaves that to you (PutObjectLockConfiguration) or a new bucket",
                    side.bucket
                ));
            }
            (true, None) => reason.push_str(", Object Lock could not be read (GetObjectLockConfiguration is not implemented here)"),
        }
        (Change::NoOp, reason, Vec::new())
    } else if side.create_bucket {
        (
            Change::Create,
            if side.object_lock {
                "does not exist; create_bucket = true, with Object Lock"
            } else {
                "does not exist; create_bucket = true"
            }
            .to_string(),
            vec![
                Step::CreateBucket { bucket: side.bucket.clone(), region: side.region.clone(), object_lock: side.object_lock },
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
        conflict,
        diff: Vec::new(),
        steps,
    })
}

/// A spec side's bucket, with its Object Lock state when the spec wants Object Lock.
async fn observe_side(clients: &AccountClients, side: &AccountSpec) -> Result<BucketState, ProvisionError> {
    let mut state = observe_bucket(clients, &side.bucket).await?;
    if side.object_lock && state.exists {
        state.object_lock = observe_object_lock(clients, &side.bucket).await?;
    }
    Ok(state)
}

/// Whether the bucket has Object Lock enabled; `None` when the endpoint cannot say
/// (GetObjectLockConfiguration answered NotImplemented, as some emulators do).
pub(crate) async fn observe_object_lock(clients: &AccountClients, bucket: &str) -> Result<Option<bool>, ProvisionError> {
    match clients.s3.get_object_lock_configuration().bucket(bucket).send().await {
        Ok(out) => Ok(Some(out.object_lock_configuration().and_then(|c| c.object_lock_enabled()).is_some_and(|e| e.as_str() == "Enabled"))),
        Err(e) => {
            let e = aws_error("GetObjectLockConfiguration", &clients.account_id, e);
            if has_code(&e, &["ObjectLockConfigurationNotFoundError"]) {
                Ok(Some(false))
            } else if has_code(&e, &["NotImplemented"]) || matches!(e, ProvisionError::Aws { status: Some(501), .. }) {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
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
        diff: Vec::new(),
        steps,
    }
}

fn bucket_policy_change(spec: &Spec, destination: &AccountSpec, existing: Option<&Value>) -> PlannedChange {
    let (ours, version) = owned_bucket_policy(spec, destination);
    let desired = merge_statements(existing, &ours, &version);
    let foreign = existing.map(statements_of).unwrap_or_default().iter().filter(|s| !is_xrepl_statement(s)).count();
    let kept = if foreign > 0 { format!(" ({foreign} statement(s) not xrepl's are kept as they are)") } else { String::new() };
    let diff = statement_diff(existing, desired.as_ref());
    let (change, reason, steps) = match (existing, desired) {
        (None, None) => (Change::NoOp, "no policy needed".to_string(), Vec::new()),
        (Some(_), None) => (
            Change::Delete,
            "only xrepl's statements were left, and none are wanted".to_string(),
            vec![Step::DeleteBucketPolicy { bucket: destination.bucket.clone() }],
        ),
        (Some(e), Some(d)) if documents_equivalent(e, &d) => (Change::NoOp, format!("as specified{kept}"), Vec::new()),
        (Some(_), Some(d)) => (
            Change::Update,
            format!("xrepl's statements (Sid Xrepl*) differ or are missing{kept}"),
            vec![Step::PutBucketPolicy { bucket: destination.bucket.clone(), document: d.to_string() }],
        ),
        (None, Some(d)) => (
            Change::Create,
            "the bucket has no policy".to_string(),
            vec![Step::PutBucketPolicy { bucket: destination.bucket.clone(), document: d.to_string() }],
        ),
    };
    PlannedChange {
        resource: ResourceKind::DestinationBucketPolicy,
        account: AccountRole::Destination,
        account_id: destination.account_id.clone(),
        name: destination.bucket.clone(),
        change,
        reason,
        conflict: None,
        diff,
        steps,
    }
}

/// The role, its trust policy and its inline permission policy. What xrepl may change depends on
/// whether it owns the role (see [`crate::ownership`]): a role it created, a role it was allowed
/// to adopt, or a role it never touches.
fn role_changes(
    spec: &Spec,
    docs: &Documents,
    role: Option<&RoleState>,
    existing_policy: Option<&Value>,
) -> Result<Vec<PlannedChange>, ProvisionError> {
    let planner = RolePlanner { spec, docs };
    let Some(existing) = role else {
        return Ok(planner.new_role());
    };
    if existing.path != spec.role.path {
        return Err(ProvisionError::Conflict {
            account: spec.source.account_id.clone(),
            message: format!(
                "role {} exists with path {}, but the spec wants {}; IAM cannot change a role's path: rename the role in the spec or delete the old one",
                spec.role.name, existing.path, spec.role.path
            ),
        });
    }
    let record = Adoption::from_tags(&existing.tags)?;
    let adopting = !existing.managed && (record.adopted || spec.role.adopt);
    let owned = OwnedRole { existing, record: &record, adopting, ours: existing.managed || adopting };
    // What an adoption changes, recorded in the role's tags before anything of it changes.
    let mut record_tags: Vec<(String, String)> = Vec::new();
    let trust = planner.trust_change(&owned, &mut record_tags);
    let policy = planner.policy_change(&owned, existing_policy, &mut record_tags);
    let role_change = planner.role_change(&owned, record_tags);
    Ok(vec![role_change, trust, policy])
}

/// What to say when xrepl may not change a role it did not create.
const ADOPT_HINT: &str = "xrepl changes a role it did not create only when asked: --adopt-role or [role] adopt = true (what it replaces is recorded in the role's tags, and destroy puts it back)";

/// Plans the changes of the spec's role (source account).
struct RolePlanner<'a> {
    spec: &'a Spec,
    docs: &'a Documents,
}

/// An existing role, and whether xrepl may change it.
struct OwnedRole<'a> {
    existing: &'a RoleState,
    /// What the role's `xrepl:*` tags record of an adoption.
    record: &'a Adoption,
    /// Not created by xrepl, but adopted (before, or by this spec's `adopt`).
    adopting: bool,
    /// Created or adopted by xrepl: it may change it.
    ours: bool,
}

impl RolePlanner<'_> {
    fn change(&self, resource: ResourceKind, change: Change, reason: &str, steps: Vec<Step>) -> PlannedChange {
        PlannedChange {
            resource,
            account: AccountRole::Source,
            account_id: self.spec.source.account_id.clone(),
            name: self.spec.role.name.clone(),
            change,
            reason: reason.to_string(),
            conflict: None,
            diff: Vec::new(),
            steps,
        }
    }

    fn policy_text(&self) -> String {
        document_text(self.spec.role.permission_policy_file.as_ref(), &self.docs.role_policy)
    }

    fn policy_name(&self) -> String {
        format!("{}/{}", self.spec.role.name, self.spec.role.policy_name)
    }

    /// No role yet: create it with its trust policy, then its inline policy.
    fn new_role(&self) -> Vec<PlannedChange> {
        let spec = self.spec;
        let trust = document_text(spec.role.trust_policy_file.as_ref(), &self.docs.trust_policy);
        let mut policy = self.change(
            ResourceKind::RolePolicy,
            Change::Create,
            "the inline policy is missing",
            vec![Step::PutRolePolicy { document: self.policy_text() }],
        );
        policy.name = self.policy_name();
        vec![
            self.change(
                ResourceKind::Role,
                Change::Create,
                &format!("role {} does not exist", spec.role_arn()),
                vec![Step::CreateRole { trust }],
            ),
            self.change(ResourceKind::TrustPolicy, Change::Create, "created with the role", Vec::new()),
            policy,
        ]
    }

    /// Trust policy: xrepl's own document on a role it created; on an adopted role, xrepl's
    /// statements merged into the role's (by Sid), the original recorded first.
    fn trust_change(&self, owned: &OwnedRole<'_>, record_tags: &mut Vec<(String, String)>) -> PlannedChange {
        let (spec, docs, existing, ours) = (self.spec, self.docs, owned.existing, owned.ours);
        let merged_trust = merge_statements(existing.trust.as_ref(), &owned_statements(&statements_of(&docs.trust_policy)), POLICY_VERSION)
            .unwrap_or_else(|| docs.trust_policy.clone());
        let desired_trust = if existing.managed { &docs.trust_policy } else { &merged_trust };
        let equivalent_to = |d: &Value| existing.trust.as_ref().is_some_and(|t| documents_equivalent(t, d));
        let mut trust = if equivalent_to(desired_trust) || (!ours && equivalent_to(&docs.trust_policy)) {
            self.change(ResourceKind::TrustPolicy, if ours { Change::NoOp } else { Change::Untouched }, "as specified", Vec::new())
        } else if ours {
            let (text, why) = if existing.managed {
                (document_text(spec.role.trust_policy_file.as_ref(), &docs.trust_policy), "differs from the spec")
            } else {
                if owned.record.original_trust.is_none() {
                    record_tags.extend(existing.trust.as_ref().map(trust_record_tags).unwrap_or_default());
                }
                (merged_trust.to_string(), "xrepl's statements added, the others kept (the original is recorded for destroy)")
            };
            let mut c = self.change(ResourceKind::TrustPolicy, Change::Update, why, vec![Step::UpdateTrust { trust: text }]);
            c.diff = json_diff(existing.trust.as_ref(), desired_trust);
            c
        } else {
            let mut c =
                self.change(ResourceKind::TrustPolicy, Change::Untouched, "does not let S3 assume the role as the spec says", Vec::new());
            c.diff = json_diff(existing.trust.as_ref(), &docs.trust_policy);
            c.conflict = Some(format!("role {} was not created by xrepl; {ADOPT_HINT}", spec.role.name));
            c
        };
        trust.name = spec.role.name.clone();
        trust
    }

    /// The inline policy: xrepl's when it created the role or recorded adding the policy; xrepl
    /// never replaces an inline policy it did not write.
    fn policy_change(
        &self,
        owned: &OwnedRole<'_>,
        existing_policy: Option<&Value>,
        record_tags: &mut Vec<(String, String)>,
    ) -> PlannedChange {
        let (spec, docs, existing) = (self.spec, self.docs, owned.existing);
        let policy_is_ours = existing.managed || owned.record.policy.as_deref() == Some(spec.role.policy_name.as_str());
        let mut policy = match existing_policy {
            Some(p) if documents_equivalent(p, &docs.role_policy) => self.change(
                ResourceKind::RolePolicy,
                if policy_is_ours { Change::NoOp } else { Change::Untouched },
                "as specified",
                Vec::new(),
            ),
            Some(p) if policy_is_ours => {
                let mut c = self.change(
                    ResourceKind::RolePolicy,
                    Change::Update,
                    "differs from the spec",
                    vec![Step::PutRolePolicy { document: self.policy_text() }],
                );
                c.diff = json_diff(Some(p), &docs.role_policy);
                c
            }
            Some(p) => {
                let mut c = self.change(ResourceKind::RolePolicy, Change::Untouched, "differs from the spec", Vec::new());
                c.diff = json_diff(Some(p), &docs.role_policy);
                c.conflict = Some(format!(
                    "the role's inline policy {} was not written by xrepl; xrepl never replaces it: set another [role] policy_name",
                    spec.role.policy_name
                ));
                c
            }
            None if owned.ours => {
                if !existing.managed {
                    record_tags.push((POLICY_TAG.to_string(), spec.role.policy_name.clone()));
                }
                self.change(
                    ResourceKind::RolePolicy,
                    Change::Create,
                    "the inline policy is missing",
                    vec![Step::PutRolePolicy { document: self.policy_text() }],
                )
            }
            None => {
                let mut c = self.change(ResourceKind::RolePolicy, Change::Untouched, "the inline policy is missing", Vec::new());
                c.conflict = Some(format!("role {} was not created by xrepl; {ADOPT_HINT}", spec.role.name));
                c
            }
        };
        policy.name = self.policy_name();
        policy
    }

    /// The role itself: on an adoption, the tags that record what xrepl is about to change.
    fn role_change(&self, owned: &OwnedRole<'_>, mut record_tags: Vec<(String, String)>) -> PlannedChange {
        if owned.existing.managed {
            self.change(ResourceKind::Role, Change::NoOp, "exists (created by xrepl)", Vec::new())
        } else if !record_tags.is_empty() {
            if !owned.record.adopted {
                record_tags.insert(0, (ADOPTED_TAG.to_string(), "true".to_string()));
            }
            let mut c = self.change(
                ResourceKind::Role,
                Change::Update,
                "adopted: what xrepl changes is recorded in its tags first (destroy puts it back)",
                vec![Step::TagRole { tags: record_tags.clone() }],
            );
            c.diff = record_tags.iter().map(|(k, _)| format!("+ tag {k}")).collect();
            c
        } else if owned.adopting {
            self.change(ResourceKind::Role, Change::NoOp, "adopted by xrepl (its xrepl:* tags record what xrepl changed)", Vec::new())
        } else {
            self.change(ResourceKind::Role, Change::Untouched, "exists, not created by xrepl", Vec::new())
        }
    }
}

/// What differs between two JSON documents, line by line (pretty-printed, common lines left out).
pub(crate) fn json_diff(old: Option<&Value>, new: &Value) -> Vec<String> {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    let old_text = old.map(pretty).unwrap_or_default();
    let new_text = pretty(new);
    let a: Vec<&str> = old_text.lines().collect();
    let b: Vec<&str> = new_text.lines().collect();
    // Longest common subsequence table; documents are small.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", b[j]));
            j += 1;
        } else {
            out.push(format!("- {}", a[i]));
            i += 1;
        }
    }
    out
}

/// xrepl's statements added (`+`), changed (`~`) or removed (`-`), by Sid.
fn statement_diff(existing: Option<&Value>, desired: Option<&Value>) -> Vec<String> {
    let ours =
        |p: Option<&Value>| -> Vec<Value> { p.map(statements_of).unwrap_or_default().into_iter().filter(is_xrepl_statement).collect() };
    let (before, after) = (ours(existing), ours(desired));
    let sid = |s: &Value| s.get("Sid").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut out = Vec::new();
    for d in &after {
        match before.iter().find(|b| sid(b) == sid(d)) {
            None => out.push(format!("+ statement {}", sid(d))),
            Some(b) if !documents_equivalent(b, d) => out.push(format!("~ statement {}", sid(d))),
            Some(_) => {}
        }
    }
    for b in before.iter().filter(|b| !after.iter().any(|d| sid(d) == sid(b))) {
        out.push(format!("- statement {}", sid(b)));
    }
    out
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

fn rules_of(config: &Value) -> Vec<Value> {
    config.get("Rules").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn rule_id(rule: &Value) -> &str {
    rule.get("ID").and_then(Value::as_str).unwrap_or_default()
}

/// The existing configuration's rules xrepl did not write: those whose ID is not a spec rule's.
pub(crate) fn foreign_rules(spec: &Spec, existing: &Value) -> Vec<Value> {
    rules_of(existing).into_iter().filter(|r| !spec.rules.iter().any(|s| s.id == rule_id(r))).collect()
}

/// Why xrepl's rules cannot be merged with `foreign` ones, if they cannot.
fn merge_conflict(spec: &Spec, existing: &Value, foreign: &[Value]) -> Option<String> {
    if foreign.is_empty() {
        return None;
    }
    let ids = foreign.iter().map(rule_id).collect::<Vec<_>>().join(", ");
    if let Some(role) = existing.get("Role").and_then(Value::as_str).filter(|r| *r != spec.role_arn()) {
        return Some(format!(
            "the bucket replicates rules xrepl did not write ({ids}) as role {role}; a configuration has one role, and xrepl does not change the role other rules run as"
        ));
    }
    for r in &spec.rules {
        if let Some(f) = foreign.iter().find(|f| f.get("Priority").and_then(Value::as_i64) == Some(i64::from(r.priority))) {
            return Some(format!(
                "rule {:?} has priority {}, like rule {:?} that xrepl did not write; priorities must be unique: give the spec's rule another priority",
                r.id,
                r.priority,
                rule_id(f)
            ));
        }
    }
    if let Some(f) = foreign.iter().find(|f| f.get("Filter").is_none()) {
        return Some(format!(
            "rule {:?} that xrepl did not write uses the V1 schema (no Filter), which AWS does not mix with xrepl's V2 rules",
            rule_id(f)
        ));
    }
    None
}

/// The configuration xrepl wants: rules xrepl did not write kept as they are (first, in their
/// order), then the spec's rules.
fn merged_replication(spec: &Spec, docs: &Documents, existing: Option<&Value>) -> Value {
    let mut desired = docs.replication.clone();
    let mut rules = existing.map(|e| foreign_rules(spec, e)).unwrap_or_default();
    rules.extend(rules_of(&docs.replication));
    desired["Rules"] = Value::Array(rules);
    desired
}

fn replication_change(spec: &Spec, docs: &Documents, existing: Option<&Value>) -> PlannedChange {
    let desired = merged_replication(spec, docs, existing);
    let steps = vec![Step::PutReplication { config: desired.clone() }];
    let foreign = existing.map(|e| foreign_rules(spec, e)).unwrap_or_default();
    let kept = if foreign.is_empty() {
        String::new()
    } else {
        format!(" ({} rule(s) not xrepl's are kept: {})", foreign.len(), foreign.iter().map(rule_id).collect::<Vec<_>>().join(", "))
    };
    let (change, reason, steps, conflict, diff) = match existing {
        None => (Change::Create, format!("{} rule(s), role {}", spec.rules.len(), spec.role_arn()), steps, None, Vec::new()),
        Some(e) if documents_equivalent(&strip_replication_defaults(e), &strip_replication_defaults(&desired)) => {
            (Change::NoOp, format!("as specified{kept}"), Vec::new(), None, Vec::new())
        }
        Some(e) => {
            (Change::Update, format!("xrepl's rules differ{kept}"), steps, merge_conflict(spec, e, &foreign), rule_diff(e, &desired))
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
        diff,
        steps,
    }
}

/// Rules added (`+`), changed (`~`) or removed (`-`) by ID, and a changed role.
fn rule_diff(existing: &Value, desired: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let role = |v: &Value| v.get("Role").and_then(Value::as_str).unwrap_or_default().to_string();
    if role(existing) != role(desired) {
        out.push(format!("~ Role {} -> {}", role(existing), role(desired)));
    }
    let (before, after) = (rules_of(existing), rules_of(desired));
    let one = |r: &Value| strip_replication_defaults(&serde_json::json!({ "Rules": [r] }));
    for d in &after {
        match before.iter().find(|b| rule_id(b) == rule_id(d)) {
            None => out.push(format!("+ rule {}", rule_id(d))),
            Some(b) if !documents_equivalent(&one(b), &one(d)) => out.push(format!("~ rule {}", rule_id(d))),
            Some(_) => {}
        }
    }
    for b in before.iter().filter(|b| !after.iter().any(|d| rule_id(d) == rule_id(b))) {
        out.push(format!("- rule {}", rule_id(b)));
    }
    out
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
