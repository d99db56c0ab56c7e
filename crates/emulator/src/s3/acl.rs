//! Bucket and object ACLs (canned and explicit grants) and the ownership-controls rules around
//! them (BucketOwnerEnforced: ACLs disabled, `AccessControlListNotSupported`).

use s3s::dto;
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, owner, S3Api};
use super::validate;
use crate::replication::{self, TaskKind};
use crate::state::s3::{Grant, Grantee, Permission, ALL_USERS, AUTHENTICATED_USERS};

/// The `x-amz-grant-*` headers of a request.
#[derive(Default)]
pub struct GrantHeaders<'a> {
    pub full_control: Option<&'a str>,
    pub read: Option<&'a str>,
    pub read_acp: Option<&'a str>,
    pub write: Option<&'a str>,
    pub write_acp: Option<&'a str>,
}

impl GrantHeaders<'_> {
    fn any(&self) -> bool {
        self.full_control.is_some() || self.read.is_some() || self.read_acp.is_some() || self.write.is_some() || self.write_acp.is_some()
    }
}

/// Grants from a canned ACL (object ACLs may name the bucket owner) or grant headers.
/// `Ok(None)` when the request carries no ACL at all.
pub fn grants_from_request(owner_canonical: &str, canned: Option<&str>, headers: &GrantHeaders<'_>) -> S3Result<Option<Vec<Grant>>> {
    grants_with_bucket_owner(owner_canonical, owner_canonical, canned, headers)
}

pub fn grants_with_bucket_owner(
    owner_canonical: &str,
    bucket_owner_canonical: &str,
    canned: Option<&str>,
    headers: &GrantHeaders<'_>,
) -> S3Result<Option<Vec<Grant>>> {
    if canned.is_some() && headers.any() {
        return Err(s3_error!(InvalidRequest, "Specifying both Canned ACLs and Header Grants is not allowed"));
    }
    if let Some(canned) = canned {
        return canned_grants(canned, owner_canonical, bucket_owner_canonical).map(Some);
    }
    if !headers.any() {
        return Ok(None);
    }
    let mut grants = Vec::new();
    for (value, permission) in [
        (headers.full_control, Permission::FullControl),
        (headers.read, Permission::Read),
        (headers.read_acp, Permission::ReadAcp),
        (headers.write, Permission::Write),
        (headers.write_acp, Permission::WriteAcp),
    ] {
        let Some(value) = value else { continue };
        let header = format!("x-amz-grant-{}", permission.as_str().to_ascii_lowercase().replace('_', "-"));
        for grantee in value.split(',') {
            grants.push(Grant { grantee: parse_grantee(&header, grantee.trim())?, permission });
        }
    }
    Ok(Some(grants))
}

/// The groups a grant may name (User Guide `acl-overview`, "Amazon S3 predefined groups").
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

fn is_canonical_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_group_uri(uri: &str) -> bool {
    [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&uri)
}

/// InvalidArgument naming the grant argument, as recorded (`test_s3.snapshot.json` →
/// `TestS3::test_s3_bucket_acl_exceptions`: `put-bucket-grant-acl-wrong-id`, `put-bucket-acp-acl-4`, …).
fn invalid_grant(message: &str, argument: &str, value: &str) -> s3s::S3Error {
    super::api::invalid_argument(message, argument, Some(value))
}

fn malformed_acl() -> s3s::S3Error {
    s3_error!(MalformedACLError, "The XML you provided was not well-formed or did not validate against our published schema")
}

/// One grantee of an `x-amz-grant-*` header (`id="…"`, `uri="…"`, `emailAddress="…"`).
fn parse_grantee(header: &str, text: &str) -> S3Result<Grantee> {
    let format_error = || invalid_grant("Argument format not recognized", header, text);
    let (kind, value) = text.split_once('=').ok_or_else(format_error)?;
    let value = value.trim().trim_matches('"');
    match kind.trim() {
        "id" if is_canonical_id(value) => Ok(Grantee::CanonicalUser(value.to_owned())),
        "id" => Err(invalid_grant("Invalid id", "id", value)),
        "uri" if is_group_uri(value) => Ok(Grantee::Group(value.to_owned())),
        "uri" => Err(invalid_grant("Invalid group uri", "uri", value)),
        "emailAddress" => {
            Err(s3_error!(UnresolvableGrantByEmailAddress, "The email address you provided does not match any account on record."))
        }
        _ => Err(format_error()),
    }
}

fn canned_grants(canned: &str, owner_canonical: &str, bucket_owner_canonical: &str) -> S3Result<Vec<Grant>> {
    let owner = Grant::full_control(owner_canonical);
    let group = |uri: &str, permission| Grant { grantee: Grantee::Group(uri.to_owned()), permission };
    Ok(match canned {
        "private" => vec![owner],
        "public-read" => vec![owner, group(ALL_USERS, Permission::Read)],
        "public-read-write" => vec![owner, group(ALL_USERS, Permission::Read), group(ALL_USERS, Permission::Write)],
        "authenticated-read" => vec![owner, group(AUTHENTICATED_USERS, Permission::Read)],
        "bucket-owner-read" => {
            vec![owner, Grant { grantee: Grantee::CanonicalUser(bucket_owner_canonical.to_owned()), permission: Permission::Read }]
        }
        "bucket-owner-full-control" => {
            let mut g = vec![owner];
            if bucket_owner_canonical != owner_canonical {
                g.push(Grant::full_control(bucket_owner_canonical));
            }
            g
        }
        "log-delivery-write" => vec![
            owner,
            group("http://acs.amazonaws.com/groups/s3/LogDelivery", Permission::Write),
            group("http://acs.amazonaws.com/groups/s3/LogDelivery", Permission::ReadAcp),
        ],
        // As recorded (`test_s3_bucket_acl_exceptions` → `put-bucket-canned-acl`): an empty message, the header named.
        other => return Err(super::api::invalid_argument("", "x-amz-acl", Some(other))),
    })
}

/// Grants from an `AccessControlPolicy` XML body.
fn grants_from_policy(policy: &dto::AccessControlPolicy) -> S3Result<Vec<Grant>> {
    // A policy names its owner (`put-bucket-acp-acl-1`, `put-bucket-empty-acp`), a well-formed one (`…-acl-3`).
    let owner = policy.owner.as_ref().and_then(|o| o.id.as_deref()).ok_or_else(malformed_acl)?;
    if !is_canonical_id(owner) {
        return Err(invalid_grant("Invalid id", "CanonicalUser/ID", owner));
    }
    let mut grants = Vec::new();
    for g in policy.grants.as_deref().unwrap_or_default() {
        let permission = g.permission.as_ref().and_then(|p| Permission::parse(p.as_str())).ok_or_else(malformed_acl)?;
        let grantee = g.grantee.as_ref().ok_or_else(malformed_acl)?;
        let grantee = match grantee.type_.as_str() {
            // A malformed id is reported before any ownership check (as AWS does).
            "CanonicalUser" => {
                let id = grantee.id.clone().unwrap_or_default();
                if !is_canonical_id(&id) {
                    return Err(invalid_grant("Invalid id", "CanonicalUser/ID", &id));
                }
                Grantee::CanonicalUser(id)
            }
            "Group" => {
                let uri = grantee.uri.clone().unwrap_or_default();
                if !is_group_uri(&uri) {
                    return Err(invalid_grant("Invalid group uri", "Group/URI", &uri));
                }
                Grantee::Group(uri)
            }
            "AmazonCustomerByEmail" => {
                return Err(s3_error!(
                    UnresolvableGrantByEmailAddress,
                    "The email address you provided does not match any account on record."
                ))
            }
            // An unknown xsi:type does not validate against the schema (`put-bucket-acp-acl-6`).
            _ => return Err(malformed_acl()),
        };
        grants.push(Grant { grantee, permission });
    }
    Ok(grants)
}

pub fn to_dto_grants(grants: &[Grant]) -> Vec<dto::Grant> {
    grants
        .iter()
        .map(|g| {
            let grantee = match &g.grantee {
                Grantee::CanonicalUser(id) => dto::Grantee {
                    type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
                    id: Some(id.clone()),
                    display_name: None,
                    email_address: None,
                    uri: None,
                },
                Grantee::Group(uri) => dto::Grantee {
                    type_: dto::Type::from_static(dto::Type::GROUP),
                    id: None,
                    display_name: None,
                    email_address: None,
                    uri: Some(uri.clone()),
                },
            };
            dto::Grant { grantee: Some(grantee), permission: Some(dto::Permission::from(g.permission.as_str().to_owned())) }
        })
        .collect()
}

fn acls_not_supported() -> s3s::S3Error {
    s3_error!(AccessControlListNotSupported, "The bucket does not allow ACLs")
}

/// A PutBucketAcl/PutObjectAcl with neither a canned ACL, grant headers nor a document (as recorded:
/// `test_s3_bucket_acl_exceptions` → `put-bucket-empty`).
fn missing_acl() -> s3s::S3Error {
    super::api::error_element(
        s3_error!(MissingSecurityHeader, "Your request was missing a required header"),
        "MissingHeaderName",
        "x-amz-acl",
    )
}

/// A canned ACL with an ACL document too (as recorded: `put-bucket-two-type-acl-acp`).
fn unexpected_content() -> s3s::S3Error {
    let mut err = s3s::S3Error::with_message(s3s::S3ErrorCode::Custom("UnexpectedContent".into()), "This request does not support content");
    err.set_status_code(http::StatusCode::BAD_REQUEST);
    err
}

pub fn put_bucket_acl(api: &S3Api, req: S3Request<dto::PutBucketAclInput>) -> S3Result<S3Response<dto::PutBucketAclOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketAcl", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    let owner_canonical = world.canonical_id(&b.owner_account);
    let grants = match &input.access_control_policy {
        Some(_) if input.acl.is_some() => return Err(unexpected_content()),
        Some(policy) => Some(grants_from_policy(policy)?),
        None => grants_from_request(&owner_canonical, input.acl.as_ref().map(dto::BucketCannedACL::as_str), &bucket_grant_headers!(input))?,
    };
    let grants = grants.ok_or_else(missing_acl)?;
    let only_owner = grants == vec![Grant::full_control(&owner_canonical)];
    if !b.acls_enabled() && !only_owner {
        return Err(acls_not_supported());
    }
    crate::access::public::check_acl_allowed(b, &grants)?;
    bucket_mut(&mut world, &input.bucket)?.acl = grants;
    Ok(S3Response::new(dto::PutBucketAclOutput {}))
}

pub fn get_bucket_acl(api: &S3Api, req: S3Request<dto::GetBucketAclInput>) -> S3Result<S3Response<dto::GetBucketAclOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketAcl", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &req.input.bucket)?;
    Ok(S3Response::new(dto::GetBucketAclOutput {
        grants: Some(to_dto_grants(&b.acl)),
        owner: Some(owner(world.canonical_id(&b.owner_account))),
    }))
}

pub fn put_object_acl(api: &S3Api, req: S3Request<dto::PutObjectAclInput>) -> S3Result<S3Response<dto::PutObjectAclOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    validate::version_id(input.version_id.as_deref())?;
    let mut world = api.shared.world();
    let action = if input.version_id.is_some() { "s3:PutObjectVersionAcl" } else { "s3:PutObjectAcl" };
    authorize_object!(world, caller, action, input)?;
    let b = bucket(&world, &input.bucket)?;
    // On a delete marker: 405, as for tagging (as recorded: `test_put_object_acl_on_delete_marker`).
    super::version::refuse_current_delete_marker(b, &input.key, input.version_id.as_deref())?;
    let version = super::version::addressed_object(b, &input.key, input.version_id.as_deref())?;
    let (object_owner, version_id) = (world.canonical_id(&version.owner_account), version.version_id.clone());
    let bucket_owner = world.canonical_id(&b.owner_account);
    let grants = match &input.access_control_policy {
        Some(_) if input.acl.is_some() => return Err(unexpected_content()),
        Some(policy) => Some(grants_from_policy(policy)?),
        None => grants_with_bucket_owner(
            &object_owner,
            &bucket_owner,
            input.acl.as_ref().map(dto::ObjectCannedACL::as_str),
            &bucket_grant_headers!(input),
        )?,
    };
    let grants = grants.ok_or_else(missing_acl)?;
    if !b.acls_enabled() && grants != vec![Grant::full_control(&object_owner)] {
        return Err(acls_not_supported());
    }
    crate::access::public::check_acl_allowed(b, &grants)?;
    let bucket_name = input.bucket.clone();
    let b = bucket_mut(&mut world, &bucket_name)?;
    if let Some(v) = b.version_mut(&input.key, &version_id) {
        v.acl = grants;
    }
    let tasks = replication::on_change(&mut world, &bucket_name, &input.key, &version_id, TaskKind::Acl);
    drop(world);
    api.enqueue(tasks);
    Ok(S3Response::new(dto::PutObjectAclOutput { request_charged: None }))
}

pub fn get_object_acl(api: &S3Api, req: S3Request<dto::GetObjectAclInput>) -> S3Result<S3Response<dto::GetObjectAclOutput>> {
    let caller = api.caller(&req)?;
    validate::version_id(req.input.version_id.as_deref())?;
    let world = api.shared.world();
    let action = if req.input.version_id.is_some() { "s3:GetObjectVersionAcl" } else { "s3:GetObjectAcl" };
    let input = &req.input;
    authorize_object!(world, caller, action, input)?;
    let b = bucket(&world, &req.input.bucket)?;
    let version = super::version::addressed_object(b, &req.input.key, req.input.version_id.as_deref())?;
    Ok(S3Response::new(dto::GetObjectAclOutput {
        grants: Some(to_dto_grants(&version.acl)),
        owner: Some(owner(world.canonical_id(&version.owner_account))),
        request_charged: None,
    }))
}
