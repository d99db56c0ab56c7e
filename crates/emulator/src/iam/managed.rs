//! Managed policies: customer managed policies and their versions, attachment bookkeeping, and a
//! few AWS managed policies (`arn:aws:iam::aws:policy/...`) that can be attached.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use xrepl_policy::{DocumentKind, Policy};

use super::docs::{self, check_length, check_managed_size};
use super::reply::{date, delete_conflict, limit_exceeded, tags_xml, truncation, url_encode};
use super::request::{check_description, check_name, check_path, check_path_prefix, member_values, merge_tags, paginate, parse_tags, Call};
use crate::error::ServiceError;
use crate::state::iam::{ManagedPolicy, StoredPolicy};
use crate::state::{now, random_upper_id};
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

pub(super) const POLICIES_PER_ACCOUNT: usize = 1500;
pub(super) const VERSIONS_PER_POLICY: usize = 5;
pub(super) const AWS_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy/";

/// AWS managed policies the emulator knows (name, policy id, document).
const AWS_MANAGED: &[(&str, &str, &str)] = &[
    (
        "AdministratorAccess",
        "ANPAIWMBCKSKIEE64ZLYK",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "AmazonS3FullAccess",
        "ANPAIFIR6V6BVTRAHWINE",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3ReadOnlyAccess",
        "ANPAIZTJ4DXE7G6AGAE6M",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
    (
        "IAMFullAccess",
        "ANPAI7XKCFMBPM3QQRRVQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "IAMReadOnlyAccess",
        "ANPAJKSO7NDY4T57MWDSQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "AWSKeyManagementServicePowerUser",
        "ANPAJNPP7PPPPMJRV2SA4",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:CreateAlias","kms:CreateKey","kms:DeleteAlias","kms:Describe*","kms:GenerateRandom","kms:Get*","kms:List*","kms:TagResource","kms:UntagResource","iam:ListGroups","iam:ListRoles","iam:ListUsers"],"Resource":"*"}]}"#,
    ),
];

/// An AWS managed policy by ARN, as the emulator models it.
fn aws_managed(arn: &str) -> Option<ManagedPolicy> {
    let name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    let (name, id, text) = AWS_MANAGED.iter().find(|(n, _, _)| *n == name)?;
    let parsed = Policy::parse(text, DocumentKind::Identity).ok()?;
    let created = time::macros::datetime!(2015-02-06 18:39:46 UTC);
    Some(ManagedPolicy {
        name: (*name).to_owned(),
        path: "/".to_owned(),
        arn: arn.to_owned(),
        policy_id: (*id).to_owned(),
        created,
        description: None,
        default_version: "v1".to_owned(),
        versions: BTreeMap::from([("v1".to_owned(), StoredPolicy { text: (*text).to_owned(), parsed: Arc::new(parsed) })]),
        attachment_count: 0,
        tags: Vec::new(),
    })
}

/// `PolicyArn`, validated: `arn:aws:iam::{account|aws}:policy/...`.
pub(super) fn policy_arn_param(call: &Call<'_>) -> Result<String, ServiceError> {
    let arn = call.required("PolicyArn")?.to_owned();
    let valid = arn.len() >= 20
        && arn.len() <= 2048
        && arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split_once(':')).is_some_and(|(account, resource)| {
            (account == "aws" || crate::config::is_account_id(account))
                && resource.strip_prefix("policy/").is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
        });
    if !valid {
        return Err(ServiceError::bad_request("InvalidInput", format!("ARN {arn} is not valid.")));
    }
    Ok(arn)
}

/// The policy an ARN names, visible from the caller's account (its own customer managed
/// policies and AWS managed ones).
pub(super) fn lookup(call: &Call<'_>, arn: &str) -> Option<ManagedPolicy> {
    call.iam().ok().and_then(|iam| iam.policies.get(arn).cloned()).or_else(|| aws_managed(arn))
}

fn not_found(arn: &str) -> ServiceError {
    ServiceError::no_such_entity(format!("Policy {arn} was not found."))
}

/// Refuses changes to AWS managed policies, as IAM does.
fn customer_only(call: &Call<'_>, action: &str, arn: &str) -> Result<(), ServiceError> {
    if arn.starts_with(AWS_POLICY_PREFIX) {
        return Err(ServiceError::access_denied(format!(
            "User: {} is not authorized to perform: iam:{action} on resource: policy {arn}",
            call.caller.arn()
        )));
    }
    Ok(())
}

pub(super) fn check_attachable(call: &Call<'_>, arn: &str) -> Result<(), ServiceError> {
    if lookup(call, arn).is_none() {
        return Err(ServiceError::no_such_entity(format!("Policy {arn} does not exist or is not attachable.")));
    }
    Ok(())
}

/// Counts one more attachment (materializing an AWS managed policy in the account on first use,
/// so that identity policy evaluation finds its document).
pub(super) fn attach(call: &mut Call<'_>, arn: &str) -> Result<(), ServiceError> {
    let builtin = aws_managed(arn);
    let iam = call.iam_mut()?;
    if !iam.policies.contains_key(arn) {
        let policy = builtin.ok_or_else(|| not_found(arn))?;
        iam.policies.insert(arn.to_owned(), policy);
    }
    if let Some(p) = iam.policies.get_mut(arn) {
        p.attachment_count += 1;
    }
    Ok(())
}

pub(super) fn detach(call: &mut Call<'_>, arn: &str) -> Result<(), ServiceError> {
    if let Some(p) = call.iam_mut()?.policies.get_mut(arn) {
        p.attachment_count = p.attachment_count.saturating_sub(1);
    }
    Ok(())
}

/// `<AttachedPolicies>` for ListAttachedRolePolicies / ListAttachedUserPolicies.
pub(super) fn attached_xml(call: &Call<'_>, attached: &BTreeSet<String>, prefix: &str) -> Answer {
    let mut entries: Vec<(String, String)> =
        attached.iter().filter_map(|arn| lookup(call, arn)).filter(|p| p.path.starts_with(prefix)).map(|p| (p.name, p.arn)).collect();
    entries.sort();
    let (page, next) = paginate(call, entries, |(n, a)| format!("{n}\u{0}{a}"))?;
    let mut buf = XmlBuf::default();
    buf.open("AttachedPolicies");
    for (name, arn) in &page {
        buf.open("member").elem("PolicyName", name).elem("PolicyArn", arn).close("member");
    }
    buf.close("AttachedPolicies");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

/// A policy's fields; list entries carry neither description nor tags, CreatePolicy no
/// description.
fn policy_fields(buf: &mut XmlBuf, p: &ManagedPolicy, with_description: bool, with_tags: bool) {
    buf.elem("PolicyName", &p.name)
        .elem("DefaultVersionId", &p.default_version)
        .elem("PolicyId", &p.policy_id)
        .elem("Path", &p.path)
        .elem("Arn", &p.arn)
        .elem("AttachmentCount", &p.attachment_count.to_string())
        .elem("PermissionsBoundaryUsageCount", "0")
        .elem("IsAttachable", "true")
        .elem("CreateDate", &date(p.created))
        .elem("UpdateDate", &date(p.created));
    if with_description {
        buf.opt("Description", p.description.as_deref());
    }
    if with_tags && !p.tags.is_empty() {
        tags_xml(buf, &p.tags);
    }
}

fn one_policy(p: &ManagedPolicy, with_description: bool) -> Option<String> {
    let mut buf = XmlBuf::default();
    buf.open("Policy");
    policy_fields(&mut buf, p, with_description, true);
    buf.close("Policy");
    Some(buf.0)
}

fn version_number(id: &str) -> Option<u32> {
    id.strip_prefix('v').and_then(|n| n.parse().ok())
}

fn check_version_id(id: &str) -> Result<(), ServiceError> {
    if version_number(id).is_some_and(|n| n >= 1) && !id.starts_with("v0") {
        return Ok(());
    }
    Err(ServiceError::validation(format!(
        "1 validation error detected: Value '{id}' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
    )))
}

/// Validates a document for a new managed policy version.
fn managed_document(call: &Call<'_>) -> Result<(String, StoredPolicy), ServiceError> {
    let text = call.required("PolicyDocument")?.to_owned();
    check_length(&text, "policyDocument")?;
    check_managed_size(&text)?;
    let parsed = docs::parse(call.world, &text, DocumentKind::Identity)?;
    Ok((text, parsed))
}

pub(super) fn create_policy(call: &mut Call<'_>) -> Answer {
    let name = call.required("PolicyName")?.to_owned();
    check_name(&name, "policyName", 128)?;
    let path = call.optional("Path").unwrap_or("/").to_owned();
    check_path(&path)?;
    let document = call.required("PolicyDocument")?.to_owned();
    check_length(&document, "policyDocument")?;
    let description = call.optional("Description").map(str::to_owned);
    check_description(description.as_deref())?;
    let tags = parse_tags(call.params, "Tags", "TagsPerPolicy")?;
    let arn = call.arn("policy", &path, &name);
    call.authorize("CreatePolicy", &arn)?;
    if !tags.is_empty() {
        call.authorize("TagPolicy", &arn)?;
    }
    let iam = call.iam()?;
    if iam.policies.values().any(|p| p.name.eq_ignore_ascii_case(&name) && !p.arn.starts_with(AWS_POLICY_PREFIX)) {
        return Err(ServiceError::new(
            409,
            "EntityAlreadyExists",
            format!("A policy called {name} already exists. Duplicate names are not allowed."),
        ));
    }
    if iam.policies.len() >= POLICIES_PER_ACCOUNT {
        return Err(limit_exceeded(format!("Cannot exceed quota for PoliciesPerAccount: {POLICIES_PER_ACCOUNT}")));
    }
    let (_, stored) = managed_document(call)?;
    let policy = ManagedPolicy {
        name,
        path,
        arn: arn.clone(),
        policy_id: random_upper_id("ANPA", 17),
        created: now(),
        description,
        default_version: "v1".to_owned(),
        versions: BTreeMap::from([("v1".to_owned(), stored)]),
        attachment_count: 0,
        tags,
    };
    let answer = one_policy(&policy, false);
    call.iam_mut()?.policies.insert(arn, policy);
    Ok(answer)
}

/// `PolicyArn`, authorized for `iam:{action}`, resolved.
pub(super) fn authorized_policy(call: &Call<'_>, action: &str) -> Result<ManagedPolicy, ServiceError> {
    let arn = policy_arn_param(call)?;
    call.authorize(action, &arn)?;
    lookup(call, &arn).ok_or_else(|| not_found(&arn))
}

pub(super) fn get_policy(call: &mut Call<'_>) -> Answer {
    let policy = authorized_policy(call, "GetPolicy")?;
    Ok(one_policy(&policy, true))
}

pub(super) fn delete_policy(call: &mut Call<'_>) -> Answer {
    let policy = authorized_policy(call, "DeletePolicy")?;
    customer_only(call, "DeletePolicy", &policy.arn)?;
    if policy.attachment_count > 0 {
        return Err(delete_conflict("Cannot delete a policy attached to entities."));
    }
    if policy.versions.len() > 1 {
        return Err(delete_conflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        ));
    }
    call.iam_mut()?.policies.remove(&policy.arn);
    Ok(None)
}

pub(super) fn list_policies(call: &mut Call<'_>) -> Answer {
    let scope = call.optional("Scope").unwrap_or("All").to_owned();
    if !matches!(scope.as_str(), "All" | "AWS" | "Local") {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value '{scope}' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"
        )));
    }
    let only_attached = call.optional("OnlyAttached").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let prefix = call.optional("PathPrefix").unwrap_or("/").to_owned();
    check_path_prefix(&prefix)?;
    call.authorize("ListPolicies", &call.arn("policy", "/", ""))?;
    let iam = call.iam()?;
    let mut all: Vec<ManagedPolicy> = Vec::new();
    if scope != "AWS" {
        all.extend(iam.policies.values().filter(|p| !p.arn.starts_with(AWS_POLICY_PREFIX)).cloned());
    }
    if scope != "Local" {
        for (name, _, _) in AWS_MANAGED {
            let arn = format!("{AWS_POLICY_PREFIX}{name}");
            if let Some(p) = iam.policies.get(&arn).cloned().or_else(|| aws_managed(&arn)) {
                all.push(p);
            }
        }
    }
    all.retain(|p| p.path.starts_with(&prefix) && (!only_attached || p.attachment_count > 0));
    all.sort_by(|a, b| (&a.name, &a.arn).cmp(&(&b.name, &b.arn)));
    let (page, next) = paginate(call, all, |p| format!("{}\u{0}{}", p.name, p.arn))?;
    let mut buf = XmlBuf::default();
    buf.open("Policies");
    for p in &page {
        buf.open("member");
        policy_fields(&mut buf, p, false, false);
        buf.close("member");
    }
    buf.close("Policies");
    truncation(&mut buf, next.as_deref());
    Ok(Some(buf.0))
}

fn version_xml(buf: &mut XmlBuf, p: &ManagedPolicy, id: &str, document: Option<&str>) {
    if let Some(d) = document {
        buf.elem("Document", &url_encode(d));
    }
    buf.elem("VersionId", id)
        .elem("IsDefaultVersion", if p.default_version == id { "true" } else { "false" })
        .elem("CreateDate", &date(p.created));
}

fn version_not_found(arn: &str, id: &str) -> ServiceError {
    ServiceError::no_such_entity(format!("Policy {arn} version {id} does not exist or is not attachable."))
}

pub(super) fn get_policy_version(call: &mut Call<'_>) -> Answer {
    let id = call.required("VersionId")?.to_owned();
    check_version_id(&id)?;
    let policy = authorized_policy(call, "GetPolicyVersion")?;
    let version = policy.versions.get(&id).ok_or_else(|| version_not_found(&policy.arn, &id))?;
    let mut buf = XmlBuf::default();
    buf.open("PolicyVersion");
    version_xml(&mut buf, &policy, &id, Some(&version.text));
    buf.close("PolicyVersion");
    Ok(Some(buf.0))
}

pub(super) fn create_policy_version(call: &mut Call<'_>) -> Answer {
    let set_default = call.optional("SetAsDefault").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let document = call.required("PolicyDocument")?.to_owned();
    check_length(&document, "policyDocument")?;
    let policy = authorized_policy(call, "CreatePolicyVersion")?;
    customer_only(call, "CreatePolicyVersion", &policy.arn)?;
    if policy.versions.len() >= VERSIONS_PER_POLICY {
        return Err(limit_exceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        ));
    }
    let (_, stored) = managed_document(call)?;
    let next = policy.versions.keys().filter_map(|k| version_number(k)).max().unwrap_or(0) + 1;
    let id = format!("v{next}");
    let iam = call.iam_mut()?;
    let target = iam.policies.get_mut(&policy.arn).ok_or_else(|| not_found(&policy.arn))?;
    target.versions.insert(id.clone(), stored);
    if set_default {
        target.default_version = id.clone();
    }
    let mut buf = XmlBuf::default();
    buf.open("PolicyVersion");
    version_xml(&mut buf, target, &id, None);
    buf.close("PolicyVersion");
    Ok(Some(buf.0))
}

pub(super) fn delete_policy_version(call: &mut Call<'_>) -> Answer {
    let id = call.required("VersionId")?.to_owned();
    check_version_id(&id)?;
    let policy = authorized_policy(call, "DeletePolicyVersion")?;
    customer_only(call, "DeletePolicyVersion", &policy.arn)?;
    if !policy.versions.contains_key(&id) {
        return Err(version_not_found(&policy.arn, &id));
    }
    if policy.default_version == id {
        return Err(delete_conflict("Cannot delete the default version of a policy."));
    }
    if let Some(target) = call.iam_mut()?.policies.get_mut(&policy.arn) {
        target.versions.remove(&id);
    }
    Ok(None)
}

pub(super) fn list_policy_versions(call: &mut Call<'_>) -> Answer {
    let policy = authorized_policy(call, "ListPolicyVersions")?;
    let mut ids: Vec<String> = policy.versions.keys().cloned().collect();
    // Newest first.
    ids.sort_by_key(|id| std::cmp::Reverse(version_number(id).unwrap_or(0)));
    let mut buf = XmlBuf::default();
    buf.open("Versions");
    for id in &ids {
        buf.open("member");
        version_xml(&mut buf, &policy, id, None);
        buf.close("member");
    }
    buf.close("Versions");
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}

pub(super) fn set_default_policy_version(call: &mut Call<'_>) -> Answer {
    let id = call.required("VersionId")?.to_owned();
    check_version_id(&id)?;
    let policy = authorized_policy(call, "SetDefaultPolicyVersion")?;
    customer_only(call, "SetDefaultPolicyVersion", &policy.arn)?;
    if !policy.versions.contains_key(&id) {
        return Err(version_not_found(&policy.arn, &id));
    }
    if let Some(target) = call.iam_mut()?.policies.get_mut(&policy.arn) {
        target.default_version = id;
    }
    Ok(None)
}

/// A customer managed policy named by `PolicyArn`, authorized for `iam:{action}` (AWS managed
/// policies cannot be tagged).
fn taggable(call: &Call<'_>, action: &str) -> Result<ManagedPolicy, ServiceError> {
    let policy = authorized_policy(call, action)?;
    customer_only(call, action, &policy.arn)?;
    Ok(policy)
}

pub(super) fn tag_policy(call: &mut Call<'_>) -> Answer {
    let tags = parse_tags(call.params, "Tags", "TagsPerPolicy")?;
    if tags.is_empty() {
        return Err(ServiceError::missing_parameter("Tags"));
    }
    let policy = taggable(call, "TagPolicy")?;
    let merged = merge_tags(&policy.tags, &tags, "TagsPerPolicy")?;
    if let Some(target) = call.iam_mut()?.policies.get_mut(&policy.arn) {
        target.tags = merged;
    }
    Ok(None)
}

pub(super) fn untag_policy(call: &mut Call<'_>) -> Answer {
    let keys = member_values(call.params, "TagKeys");
    let policy = taggable(call, "UntagPolicy")?;
    if let Some(target) = call.iam_mut()?.policies.get_mut(&policy.arn) {
        target.tags.retain(|(k, _)| !keys.iter().any(|r| r.eq_ignore_ascii_case(k)));
    }
    Ok(None)
}

pub(super) fn list_policy_tags(call: &mut Call<'_>) -> Answer {
    let policy = authorized_policy(call, "ListPolicyTags")?;
    let mut buf = XmlBuf::default();
    tags_xml(&mut buf, &policy.tags);
    truncation(&mut buf, None);
    Ok(Some(buf.0))
}
