//! The JSON documents a spec needs, least privilege: each option adds exactly the statements and
//! actions it needs, and nothing is granted "just in case".
//!
//! Differences from the guide, on purpose:
//! - the role's source reads are granted on the source bucket only (the guide also grants them on
//!   the destination), and its replicate actions on destination objects only (the guide also names
//!   source objects, where they mean nothing);
//! - `s3:ReplicateTags` is granted on both sides although AWS does not require it
//!   ("Permissions for the s3:ReplicateObject action on the destination bucket also allow
//!   replication of object tags", User Guide setting-repl-config-perm-overview): it is harmless
//!   and documents intent. `xrepl export --minimal` prints AWS's minimal bucket policy without it;
//! - `s3:ReplicateDelete` only when a rule replicates delete markers, and
//!   `s3:ObjectOwnerOverrideToBucketOwner` only when a rule changes the replica owner;
//! - the bucket policy does not grant `s3:PutBucketVersioning`: nothing in replication writes the
//!   destination's versioning, and the grant would let the source account suspend it;
//! - the trust policy only lets S3 assume the role on behalf of the source account
//!   (`aws:SourceAccount`), against the confused-deputy problem.

use serde_json::{json, Map, Value};

use crate::spec::{action_set, AccountSpec, RuleSpec, Spec};

/// The policy language version of every document xrepl writes (the `Version` element).
pub const POLICY_VERSION: &str = "2012-10-17";
/// Statements xrepl adds to a destination bucket policy carry Sids with this prefix, so that a
/// policy shared with other statements can be updated and cleaned up without touching them.
pub const XREPL_SID_PREFIX: &str = "Xrepl";
/// The Sid of xrepl's destination bucket policy statement that lets the replication role write
/// replicas (`s3:ReplicateObject`, `s3:ReplicateTags`, and as the rules need `s3:ReplicateDelete`
/// and `s3:ObjectOwnerOverrideToBucketOwner`) on `arn:aws:s3:::<destination>/*`.
pub const SID_REPLICA_OBJECTS: &str = "XreplReplicaObjects";
/// The Sid of xrepl's destination bucket policy statement that lets the replication role list
/// the bucket and read its versioning (`s3:List*`, `s3:GetBucketVersioning`).
pub const SID_REPLICA_BUCKET: &str = "XreplReplicaBucket";
/// The service that assumes the replication role.
pub const S3_SERVICE: &str = "s3.amazonaws.com";

/// Every document a spec needs. Where the user supplied a document file, that document is used.
#[derive(Debug, Clone, PartialEq)]
pub struct Documents {
    /// The role's trust policy (CreateRole / UpdateAssumeRolePolicy).
    pub trust_policy: Value,
    /// The role's inline permission policy (PutRolePolicy).
    pub role_policy: Value,
    /// The destination bucket policy xrepl wants (its own statements only; apply merges them into
    /// any policy already on the bucket). `None` when overrides omit it.
    pub bucket_policy: Option<Value>,
    /// Every destination bucket's policy (xrepl's statements), by bucket; the first is
    /// `bucket_policy`.
    pub bucket_policies: Vec<(String, Option<Value>)>,
    /// The PutBucketReplication document, in AWS's JSON shape.
    pub replication: Value,
    /// With KMS: the statement the replica key's key policy (destination account) must contain.
    /// xrepl does not manage KMS keys; this is for the key's owner to add.
    pub kms_key_policy_statement: Option<Value>,
}

impl Documents {
    /// The documents for `spec`: the user's document files where the spec names them, xrepl's
    /// least-privilege documents otherwise ([`trust_policy`], [`role_policy`],
    /// [`bucket_policy`], [`replication_configuration`], [`kms_key_policy_statement`]). Pure: no
    /// I/O, no AWS call.
    pub fn for_spec(spec: &Spec) -> Documents {
        Documents {
            trust_policy: spec.role.trust_policy_file.as_ref().map_or_else(|| trust_policy(spec), |d| d.value.clone()),
            role_policy: spec.role.permission_policy_file.as_ref().map_or_else(|| role_policy(spec), |d| d.value.clone()),
            bucket_policy: match &spec.destination.bucket_policy_file {
                Some(d) => Some(d.value.clone()),
                None => bucket_policy(spec),
            },
            bucket_policies: spec
                .destinations()
                .map(|d| {
                    let policy = match &d.bucket_policy_file {
                        Some(doc) => Some(doc.value.clone()),
                        None => policy_of(bucket_policy_statements_for(spec, d)),
                    };
                    (d.bucket.clone(), policy)
                })
                .collect(),
            replication: replication_configuration(spec),
            kms_key_policy_statement: kms_key_policy_statement(spec),
        }
    }
}

/// Trust policy: S3 may assume the role, for the source account only.
pub fn trust_policy(spec: &Spec) -> Value {
    let service = spec.overrides.trust_service.clone().unwrap_or_else(|| S3_SERVICE.to_string());
    json!({
        "Version": POLICY_VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": service },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": spec.source.account_id } }
        }]
    })
}

/// The actions the role needs on destination objects for the spec's options (all destinations).
pub fn destination_object_actions(spec: &Spec) -> Vec<&'static str> {
    object_actions(&spec.rules.iter().collect::<Vec<_>>())
}

/// The actions `rules` need on their destination's objects.
fn object_actions(rules: &[&RuleSpec]) -> Vec<&'static str> {
    let mut actions = vec!["s3:ReplicateObject"];
    if rules.iter().any(|r| r.delete_marker_replication) {
        actions.push("s3:ReplicateDelete");
    }
    actions.push("s3:ReplicateTags");
    if rules.iter().any(|r| r.owner_override) {
        actions.push("s3:ObjectOwnerOverrideToBucketOwner");
    }
    actions
}

fn bucket_arn(d: &AccountSpec) -> String {
    format!("arn:aws:s3:::{}", d.bucket)
}

/// The role's inline permission policy.
pub fn role_policy(spec: &Spec) -> Value {
    let src = spec.source_bucket_arn();
    let dst_objects: Vec<String> = spec.destinations().map(|d| format!("{}/*", bucket_arn(d))).collect();
    let mut statements = vec![
        json!({
            "Sid": "SourceBucket",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": [src]
        }),
        json!({
            "Sid": "SourceObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                "s3:GetObjectRetention",
                "s3:GetObjectLegalHold"
            ],
            "Resource": [format!("{src}/*")]
        }),
        json!({
            "Sid": "ReplicateToDestination",
            "Effect": "Allow",
            "Action": destination_object_actions(spec),
            "Resource": dst_objects
        }),
    ];
    let kms_rules: Vec<&RuleSpec> = spec.rules.iter().filter(|r| r.replicate_kms_objects).collect();
    if !kms_rules.is_empty() {
        // Decrypt source objects' keys; without a named key, any key of the source account in
        // its region, still only through S3 and only for this bucket's objects.
        let mut source_keys: Vec<String> = kms_rules.iter().filter_map(|r| r.source_kms_key_arn.clone()).collect();
        if source_keys.len() < kms_rules.len() {
            source_keys.push(format!("arn:aws:kms:{}:{}:key/*", spec.source.region, spec.source.account_id));
        }
        source_keys.sort();
        source_keys.dedup();
        let mut replica_keys: Vec<String> = kms_rules.iter().filter_map(|r| r.replica_kms_key_id.clone()).collect();
        replica_keys.sort();
        replica_keys.dedup();
        statements.push(json!({
            "Sid": "DecryptSourceObjects",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": source_keys,
            "Condition": { "StringLike": {
                "kms:ViaService": format!("s3.{}.amazonaws.com", spec.source.region),
                "kms:EncryptionContext:aws:s3:arn": [format!("{src}/*")]
            }}
        }));
        if !replica_keys.is_empty() {
            statements.push(json!({
                "Sid": "EncryptReplicas",
                "Effect": "Allow",
                "Action": ["kms:Encrypt"],
                "Resource": replica_keys,
                "Condition": { "StringLike": {
                    "kms:ViaService": via_services(spec),
                    "kms:EncryptionContext:aws:s3:arn": dst_objects
                }}
            }));
        }
    }
    let statements = omit_actions(statements, &spec.overrides.omit_role_actions);
    json!({ "Version": POLICY_VERSION, "Statement": statements })
}

/// `kms:ViaService` for the destinations' regions (one string when they share one).
fn via_services(spec: &Spec) -> Value {
    let mut services: Vec<String> = spec.destinations().map(|d| format!("s3.{}.amazonaws.com", d.region)).collect();
    services.dedup();
    match services.as_slice() {
        [one] => json!(one),
        _ => json!(services),
    }
}

/// The statements xrepl puts into the (first) destination's bucket policy (empty when overrides
/// omit them).
pub fn bucket_policy_statements(spec: &Spec) -> Vec<Value> {
    bucket_policy_statements_for(spec, &spec.destination)
}

/// The statements xrepl puts into `destination`'s bucket policy, for the rules that replicate to it.
pub fn bucket_policy_statements_for(spec: &Spec, destination: &AccountSpec) -> Vec<Value> {
    if spec.overrides.omit_bucket_policy {
        return Vec::new();
    }
    let role = spec.role_arn();
    let dst = bucket_arn(destination);
    let rules: Vec<&RuleSpec> = spec.rules_to(destination).collect();
    let statements = vec![
        json!({
            "Sid": SID_REPLICA_OBJECTS,
            "Effect": "Allow",
            "Principal": { "AWS": role },
            "Action": object_actions(&rules),
            "Resource": format!("{dst}/*")
        }),
        json!({
            "Sid": SID_REPLICA_BUCKET,
            "Effect": "Allow",
            "Principal": { "AWS": role },
            "Action": ["s3:List*", "s3:GetBucketVersioning"],
            "Resource": dst
        }),
    ];
    omit_actions(statements, &spec.overrides.omit_bucket_policy_actions)
}

/// AWS's minimal cross-account bucket policy for the spec: xrepl's statements without
/// `s3:ReplicateTags`, which "Permissions for the s3:ReplicateObject action on the destination
/// bucket also allow" (User Guide, setting-repl-config-perm-overview). `None` when overrides omit it.
pub fn minimal_bucket_policy(spec: &Spec) -> Option<Value> {
    policy_of(omit_actions(bucket_policy_statements(spec), &["s3:ReplicateTags".to_string()]))
}

/// xrepl's destination bucket policy on its own (apply merges it into an existing policy).
pub fn bucket_policy(spec: &Spec) -> Option<Value> {
    policy_of(bucket_policy_statements(spec))
}

fn policy_of(statements: Vec<Value>) -> Option<Value> {
    if statements.is_empty() {
        None
    } else {
        Some(json!({ "Version": POLICY_VERSION, "Statement": statements }))
    }
}

/// Remove overridden actions (case-insensitively), dropping statements left without actions.
fn omit_actions(statements: Vec<Value>, omit: &[String]) -> Vec<Value> {
    if omit.is_empty() {
        return statements;
    }
    let omit = action_set(omit);
    statements
        .into_iter()
        .filter_map(|mut st| {
            let actions: Vec<Value> = st
                .get("Action")
                .map(|a| match a {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                })
                .unwrap_or_default()
                .into_iter()
                .filter(|a| a.as_str().is_none_or(|s| !omit.contains(&s.to_ascii_lowercase())))
                .collect();
            if actions.is_empty() {
                return None;
            }
            if let Some(obj) = st.as_object_mut() {
                obj.insert("Action".into(), Value::Array(actions));
            }
            Some(st)
        })
        .collect()
}

/// The replication configuration, in the JSON shape of `aws s3api put-bucket-replication`.
pub fn replication_configuration(spec: &Spec) -> Value {
    let rules: Vec<Value> = spec.rules.iter().map(|r| rule_json(spec, r)).collect();
    json!({ "Role": spec.role_arn(), "Rules": rules })
}

fn rule_json(spec: &Spec, r: &RuleSpec) -> Value {
    let mut rule = Map::new();
    rule.insert("ID".into(), json!(r.id));
    rule.insert("Priority".into(), json!(r.priority));
    rule.insert("Status".into(), json!(if r.enabled { "Enabled" } else { "Disabled" }));
    rule.insert("Filter".into(), filter_json(r));
    let mut criteria = Map::new();
    if r.replicate_kms_objects {
        criteria.insert("SseKmsEncryptedObjects".into(), json!({ "Status": "Enabled" }));
    }
    if r.replica_modifications {
        criteria.insert("ReplicaModifications".into(), json!({ "Status": "Enabled" }));
    }
    if !criteria.is_empty() {
        rule.insert("SourceSelectionCriteria".into(), Value::Object(criteria));
    }
    rule.insert("DeleteMarkerReplication".into(), json!({ "Status": if r.delete_marker_replication { "Enabled" } else { "Disabled" } }));
    let mut dest = Map::new();
    let destination = spec.destination_of(r);
    dest.insert("Bucket".into(), json!(bucket_arn(destination)));
    dest.insert("Account".into(), json!(destination.account_id));
    if let Some(class) = &r.storage_class {
        dest.insert("StorageClass".into(), json!(class));
    }
    if r.owner_override {
        dest.insert("AccessControlTranslation".into(), json!({ "Owner": "Destination" }));
    }
    if let (true, Some(key)) = (r.replicate_kms_objects, &r.replica_kms_key_id) {
        dest.insert("EncryptionConfiguration".into(), json!({ "ReplicaKmsKeyID": key }));
    }
    if r.replication_time {
        dest.insert("ReplicationTime".into(), json!({ "Status": "Enabled", "Time": { "Minutes": 15 } }));
    }
    if r.metrics_enabled() {
        let mut metrics = json!({ "Status": "Enabled" });
        if r.replication_time {
            metrics["EventThreshold"] = json!({ "Minutes": 15 });
        }
        dest.insert("Metrics".into(), metrics);
    }
    rule.insert("Destination".into(), Value::Object(dest));
    Value::Object(rule)
}

/// Filter: exactly one of Prefix, Tag, And{Prefix, Tags}; `{}` matches every object.
pub fn filter_json(r: &RuleSpec) -> Value {
    let tags: Vec<Value> = r.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
    match (&r.prefix, tags.len()) {
        (None, 0) => json!({}),
        (Some(p), 0) => json!({ "Prefix": p }),
        (None, 1) => json!({ "Tag": tags[0] }),
        (prefix, _) => {
            let mut and = Map::new();
            if let Some(p) = prefix {
                and.insert("Prefix".into(), json!(p));
            }
            and.insert("Tags".into(), Value::Array(tags));
            json!({ "And": and })
        }
    }
}

/// The statement the replica KMS key's key policy needs (cross-account, the destination owns it).
pub fn kms_key_policy_statement(spec: &Spec) -> Option<Value> {
    let keys: Vec<&String> = spec.rules.iter().filter(|r| r.replicate_kms_objects).filter_map(|r| r.replica_kms_key_id.as_ref()).collect();
    if keys.is_empty() {
        return None;
    }
    Some(json!({
        "Sid": "XreplAllowReplicationRoleToEncryptReplicas",
        "Effect": "Allow",
        "Principal": { "AWS": spec.role_arn() },
        "Action": ["kms:Encrypt"],
        "Resource": "*"
    }))
}

/// Whether a bucket policy statement is one xrepl wrote.
pub fn is_xrepl_statement(statement: &Value) -> bool {
    statement.get("Sid").and_then(Value::as_str).is_some_and(|sid| sid.starts_with(XREPL_SID_PREFIX))
}

/// The statements of a policy as a list (`Statement` may be one object or an array).
pub fn statements_of(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

/// The bucket policy that results from putting `ours` into `existing`, see [`merge_statements`].
pub fn merge_bucket_policy(existing: Option<&Value>, ours: &[Value]) -> Option<Value> {
    merge_statements(existing, ours, POLICY_VERSION)
}

/// `statements` as xrepl's own: each Sid gets the `Xrepl` prefix (`Xrepl<Sid>`, or
/// `XreplStatement<n>` without one), so they are recognized again by Sid. Sids mean nothing to
/// the policy's effect.
pub fn owned_statements(statements: &[Value]) -> Vec<Value> {
    statements
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let Some(obj) = st.as_object() else {
                return st.clone();
            };
            let sid = match obj.get("Sid").and_then(Value::as_str) {
                Some(s) if s.starts_with(XREPL_SID_PREFIX) => s.to_string(),
                Some(s) if !s.is_empty() => format!("{XREPL_SID_PREFIX}{s}"),
                _ => format!("{XREPL_SID_PREFIX}Statement{}", i + 1),
            };
            let mut out = Map::new();
            out.insert("Sid".into(), json!(sid));
            for (k, v) in obj {
                if k != "Sid" {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        })
        .collect()
}

/// The statements xrepl owns in the destination bucket policy, and the Version to use when the
/// bucket has no policy yet: the user's `bucket_policy_file` (its statements made xrepl's, its
/// Version as written, so S3 judges it) or xrepl's least-privilege statements.
pub fn owned_bucket_policy(spec: &Spec, destination: &AccountSpec) -> (Vec<Value>, String) {
    match &destination.bucket_policy_file {
        Some(doc) => (
            owned_statements(&statements_of(&doc.value)),
            doc.value.get("Version").and_then(Value::as_str).unwrap_or(POLICY_VERSION).to_string(),
        ),
        None => (bucket_policy_statements_for(spec, destination), POLICY_VERSION.to_string()),
    }
}

fn sid_of(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// The policy that results from merging `ours` (xrepl's statements, Sids with the `Xrepl` prefix)
/// into `existing`, by Sid: an xrepl statement already there is replaced in place, one no longer
/// wanted is removed, a new one is appended; every other statement is kept as it is, in its
/// place. `None` means "no policy at all". `version` is used when `existing` has no valid one.
pub fn merge_statements(existing: Option<&Value>, ours: &[Value], version: &str) -> Option<Value> {
    let mut statements = Vec::new();
    let mut placed: Vec<&str> = Vec::new();
    for st in existing.map(statements_of).unwrap_or_default() {
        if !is_xrepl_statement(&st) {
            statements.push(st);
            continue;
        }
        let sid = sid_of(&st);
        if let Some(wanted) = ours.iter().find(|o| sid_of(o) == sid) {
            if let Some(s) = sid_of(wanted).filter(|s| !placed.contains(s)) {
                placed.push(s);
                statements.push(wanted.clone());
            }
        }
    }
    statements.extend(ours.iter().filter(|o| sid_of(o).is_none_or(|s| !placed.contains(&s))).cloned());
    if statements.is_empty() {
        return None;
    }
    let mut policy = Map::new();
    // Keep a valid version the owner chose; replace an invalid one (it would be rejected anyway).
    let version = existing
        .and_then(|p| p.get("Version"))
        .and_then(Value::as_str)
        .filter(|v| *v == "2008-10-17" || *v == POLICY_VERSION)
        .unwrap_or(version);
    policy.insert("Version".into(), json!(version));
    if let Some(id) = existing.and_then(|p| p.get("Id")) {
        policy.insert("Id".into(), id.clone());
    }
    policy.insert("Statement".into(), Value::Array(statements));
    Some(Value::Object(policy))
}
