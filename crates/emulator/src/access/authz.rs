//! Authorization of S3 actions, as AWS evaluates it (semantics doc §5): the caller's identity
//! policies, the bucket policy and ACLs; explicit deny wins; cross-account needs both sides.
//! The replication engine uses the same function with the replication role as the caller.

use std::sync::Arc;

use xrepl_policy::{authorize as evaluate, Authorization, Context, Policy, Request};

use super::arn::{bucket_arn, object_arn};
use crate::identity::{Caller, PrincipalKind};
use crate::state::s3::{Bucket, Grant, Grantee, ObjectVersion, Permission, ALL_USERS, AUTHENTICATED_USERS};
use crate::state::World;

/// Why a request was refused, with enough detail to explain it to a user.
#[derive(Debug, Clone)]
pub struct Denial {
    pub action: String,
    pub resource: String,
    pub caller_arn: String,
    pub caller_account: Option<String>,
    pub resource_account: String,
    pub outcome: Authorization,
    /// True when the resource owner is another account (both sides must allow).
    pub cross_account: bool,
}

impl Denial {
    /// Which policy lacks (or denies) the permission, in words.
    pub fn explain(&self) -> String {
        match &self.outcome {
            Authorization::ExplicitDeny { in_identity, in_resource } => {
                let place = match (in_identity, in_resource) {
                    (true, true) => "both the principal's identity policies and the bucket policy",
                    (true, false) => "the principal's identity policies",
                    _ => "the bucket policy",
                };
                format!("an explicit Deny for {} on {} in {place} blocks {}", self.action, self.resource, self.caller_arn)
            }
            Authorization::ImplicitDeny { identity_allows, resource_allows } => {
                if self.cross_account && *identity_allows && !resource_allows {
                    format!(
                        "the bucket policy of account {} does not allow {} to perform {} on {} (cross-account access needs an Allow on both sides)",
                        self.resource_account, self.caller_arn, self.action, self.resource
                    )
                } else if self.cross_account && !identity_allows && *resource_allows {
                    format!(
                        "the identity policies of {} do not allow {} on {} (the bucket policy allows it, but cross-account access needs an Allow on both sides)",
                        self.caller_arn, self.action, self.resource
                    )
                } else if self.cross_account {
                    format!(
                        "neither the identity policies of {} nor the bucket policy of account {} allow {} on {}",
                        self.caller_arn, self.resource_account, self.action, self.resource
                    )
                } else {
                    format!("no policy allows {} to perform {} on {}", self.caller_arn, self.action, self.resource)
                }
            }
            Authorization::Allowed => "allowed".to_owned(),
        }
    }
}

/// The ACL permission that grants an S3 action, if ACLs can grant it at all.
fn acl_permission(action: &str, object_level: bool) -> Option<Permission> {
    Some(match (action, object_level) {
        ("s3:ListBucket" | "s3:ListBucketVersions" | "s3:ListBucketMultipartUploads", false) => Permission::Read,
        ("s3:PutObject" | "s3:DeleteObject" | "s3:DeleteObjectVersion", _) => Permission::Write,
        ("s3:GetBucketAcl", false) | ("s3:GetObjectAcl" | "s3:GetObjectVersionAcl", true) => Permission::ReadAcp,
        ("s3:PutBucketAcl", false) | ("s3:PutObjectAcl" | "s3:PutObjectVersionAcl", true) => Permission::WriteAcp,
        // S3 reads an object for replication as the source bucket owner, so an object another
        // account wrote is replicated when its ACL lets the bucket owner read it.
        ("s3:GetObject" | "s3:GetObjectVersion" | "s3:GetObjectVersionForReplication", true) => Permission::Read,
        _ => return None,
    })
}

fn grants_allow(grants: &[Grant], caller: &Caller, needed: Permission, ignore_public: bool) -> bool {
    grants.iter().any(|g| {
        g.permission.covers(needed)
            && !(ignore_public && super::public::is_public_grant(g))
            && match &g.grantee {
                Grantee::CanonicalUser(id) => caller.canonical_id.as_deref() == Some(id.as_str()),
                Grantee::Group(uri) => uri == ALL_USERS || (uri == AUTHENTICATED_USERS && caller.account.is_some()),
            }
    })
}

/// Request headers that S3 exposes as condition keys under the same name (User Guide
/// `amazon-s3-policy-keys`).
const HEADER_KEYS: &[&str] = &[
    "x-amz-acl",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-storage-class",
    "x-amz-metadata-directive",
    "x-amz-content-sha256",
    "x-amz-website-redirect-location",
];

/// The condition keys a request's headers carry: `s3:<header>` for the headers above,
/// `s3:x-amz-copy-source` as `bucket/key`, the Object Lock headers, and the tags of
/// `x-amz-tagging` as `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys`, and the listing
/// parameters `s3:prefix`, `s3:delimiter`, `s3:max-keys` and `s3:versionid` from the query.
pub fn request_keys(headers: &http::HeaderMap, query: Option<&str>) -> Vec<(String, Vec<String>)> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut keys: Vec<(String, Vec<String>)> = HEADER_KEYS.iter().filter_map(|h| text(h).map(|v| (format!("s3:{h}"), vec![v]))).collect();
    if let Some(source) = text("x-amz-copy-source") {
        let decoded = percent_encoding::percent_decode_str(&source).decode_utf8_lossy().into_owned();
        keys.push(("s3:x-amz-copy-source".to_owned(), vec![decoded.trim_start_matches('/').to_owned()]));
    }
    for (header, key) in [
        ("x-amz-object-lock-mode", "s3:object-lock-mode"),
        ("x-amz-object-lock-retain-until-date", "s3:object-lock-retain-until-date"),
        ("x-amz-object-lock-legal-hold", "s3:object-lock-legal-hold"),
    ] {
        if let Some(v) = text(header) {
            keys.push((key.to_owned(), vec![v]));
        }
    }
    if let Some(tagging) = text("x-amz-tagging") {
        let tags: Vec<(String, String)> = form_urlencoded::parse(tagging.as_bytes()).into_owned().collect();
        keys.push(("s3:RequestObjectTagKeys".to_owned(), tags.iter().map(|(k, _)| k.clone()).collect()));
        keys.extend(tags.into_iter().map(|(k, v)| (format!("s3:RequestObjectTag/{k}"), vec![v])));
    }
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if let Some(key) =
            [("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys"), ("versionId", "s3:versionid")]
                .iter()
                .find_map(|(param, key)| (name == *param).then_some(*key))
        {
            keys.push((key.to_owned(), vec![value.into_owned()]));
        }
    }
    keys
}

/// Actions whose requests carry `s3:ExistingObjectTag/<key>` (User Guide `tagging-and-policies`).
const EXISTING_TAG_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAcl",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersionTagging",
];

/// Condition keys every S3 request carries. `aws:SecureTransport` is the transport the request
/// came over (see `EmulatorConfig::assume_tls`); S3's own replication requests are TLS.
pub fn base_context(world: &World, caller: &Caller, bucket_owner: &str) -> Context {
    let mut ctx = Context::new();
    if let Some(account) = &caller.account {
        ctx.insert("aws:PrincipalAccount", account.clone());
    }
    if !matches!(caller.kind, PrincipalKind::Anonymous | PrincipalKind::Service(_)) {
        ctx.insert("aws:PrincipalArn", caller.arn());
        if let PrincipalKind::AssumedRole { role_arn, .. } = &caller.kind {
            ctx.insert("aws:PrincipalArn", role_arn.clone());
        }
    }
    ctx.insert("aws:SecureTransport", if world.assume_tls { "true" } else { "false" });
    ctx.insert("s3:ResourceAccount", bucket_owner.to_owned());
    for (key, values) in &caller.request_keys {
        ctx.insert_many(key, values.clone());
    }
    ctx
}

/// Decides whether `caller` may perform `action` on `bucket` (and `key`, for object actions;
/// the object's owner and ACL are the latest version's).
pub fn authorize(
    world: &World,
    caller: &Caller,
    action: &str,
    bucket: &Bucket,
    key: Option<&str>,
    extra: &[(&str, String)],
) -> Result<(), Box<Denial>> {
    authorize_version(world, caller, action, bucket, key, None, extra)
}

/// Whether an ACL grants `action` to `caller`: the object's ACL for object actions, the bucket's
/// for bucket actions, and for writes into the bucket also the bucket's WRITE grant.
fn acl_allows(bucket: &Bucket, object: Option<&ObjectVersion>, caller: &Caller, action: &str, object_level: bool) -> bool {
    let ignore_public = bucket.public_access().ignore_public_acls;
    acl_permission(action, object_level).is_some_and(|p| {
        let grants =
            if object_level && !action.contains("Bucket") { object.map_or(&[][..], |o| o.acl.as_slice()) } else { bucket.acl.as_slice() };
        bucket.acls_enabled() && grants_allow(grants, caller, p, ignore_public)
            || (object_level && p == Permission::Write && bucket.acls_enabled() && grants_allow(&bucket.acl, caller, p, ignore_public))
    })
}

/// Like [`authorize`], for a request that names a version: that version's owner and ACL decide
/// (not the latest version's).
pub fn authorize_version(
    world: &World,
    caller: &Caller,
    action: &str,
    bucket: &Bucket,
    key: Option<&str>,
    version_id: Option<&str>,
    extra: &[(&str, String)],
) -> Result<(), Box<Denial>> {
    let resource = key.map_or_else(|| bucket_arn(&bucket.name), |k| object_arn(&bucket.name, k));
    let mut ctx = base_context(world, caller, &bucket.owner_account);
    for (k, v) in extra {
        ctx.insert(k, v.clone());
    }
    let object = key.and_then(|k| bucket.addressed(k, version_id));
    if EXISTING_TAG_ACTIONS.contains(&action) {
        for (tag, value) in object.map(|o| o.tags.as_slice()).unwrap_or_default() {
            ctx.insert(&format!("s3:ExistingObjectTag/{tag}"), value.clone());
        }
    }
    let principal = caller.principal_info();
    let request = Request { principal: &principal, action, resource: &resource, context: &ctx };
    let identity: Vec<Arc<Policy>> = world.identity_policies(caller);
    let identity_refs: Vec<&Policy> = identity.iter().map(AsRef::as_ref).collect();

    // Objects written by another account (ACLs enabled, no override) belong to that account:
    // the bucket policy cannot grant access to them; only the object's ACL can.
    let object_owner = object.map(|o| o.owner_account.clone());
    // Only reading the object or its ACL, or changing its ACL, belongs to the object owner;
    // writing into the bucket (PutObject, ReplicateObject, deletes) stays the bucket owner's call.
    let owner_controlled =
        action.starts_with("s3:GetObject") || action.starts_with("s3:PutObjectAcl") || action == "s3:PutObjectVersionAcl";
    let foreign_object = owner_controlled && object_owner.as_deref().is_some_and(|o| o != bucket.owner_account) && bucket.acls_enabled();
    let resource_account = if foreign_object { object_owner.clone().unwrap_or_default() } else { bucket.owner_account.clone() };
    let same_account = caller.account.as_deref() == Some(resource_account.as_str());

    let block = bucket.public_access();
    let acl_allows = !same_account && acl_allows(bucket, object, caller, action, key.is_some());
    let bucket_policy = bucket.policy.as_ref().map(|p| p.parsed.as_ref());
    // RestrictPublicBuckets: a public policy grants nothing to other accounts or anonymous callers
    // (its denies still apply, below).
    let restricted = block.restrict_public_buckets
        && caller.account.as_deref() != Some(bucket.owner_account.as_str())
        && !matches!(caller.kind, PrincipalKind::Service(_))
        && bucket_policy.is_some_and(Policy::is_public);
    let resource_policy = if foreign_object || restricted { None } else { bucket_policy };
    // Anonymous callers have no identity side: the resource policy or an ACL alone decides.
    let either_side_suffices = same_account || caller.kind == PrincipalKind::Anonymous;
    let mut outcome = evaluate(&identity_refs, resource_policy, &request, either_side_suffices, caller.is_root(), acl_allows);
    // The bucket owner's explicit denies apply even to objects owned by others.
    if foreign_object || restricted {
        if let Some(policy) = bucket_policy {
            if policy.evaluate(&request).decision == xrepl_policy::Decision::Deny {
                outcome = Authorization::ExplicitDeny { in_identity: false, in_resource: true };
            }
        }
    }
    if outcome.is_allowed() {
        return Ok(());
    }
    Err(Box::new(Denial {
        action: action.to_owned(),
        resource,
        caller_arn: caller.arn(),
        caller_account: caller.account.clone(),
        resource_account,
        outcome,
        cross_account: !same_account,
    }))
}
