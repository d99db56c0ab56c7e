//! Bucket lifecycle: create, head, list, delete, location.

use s3s::dto;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, invalid_argument, listed_time, owner, S3Api};
use super::listing::{continuation_token, resume_after_token};
use super::{acl, validate};
use crate::identity::PrincipalKind;
use crate::state::now;
use crate::state::s3::{Bucket, Versioning, OWNERSHIP_ENFORCED, OWNERSHIP_PREFERRED, OWNERSHIP_WRITER};

pub fn create_bucket(api: &S3Api, req: S3Request<dto::CreateBucketInput>) -> S3Result<S3Response<dto::CreateBucketOutput>> {
    let caller = api.caller(&req)?;
    let signed_region = req.region.as_ref().map(ToString::to_string);
    let input = req.input;
    validate::bucket_name(&input.bucket)?;
    let Some(account) = caller.account.clone() else {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    };
    let ownership = match input.object_ownership.as_ref().map(|o| o.as_str().to_owned()) {
        None => OWNERSHIP_ENFORCED.to_owned(),
        Some(o) if [OWNERSHIP_ENFORCED, OWNERSHIP_PREFERRED, OWNERSHIP_WRITER].contains(&o.as_str()) => o,
        // As recorded (`test_bucket_ownership_controls_exc` → `ownership-wrong-value-at-creation`).
        Some(o) => {
            let message = format!("Invalid x-amz-object-ownership header: {o}");
            return Err(invalid_argument(&message, "x-amz-object-ownership", None));
        }
    };
    let mut world = api.shared.world();
    // CreateBucket is authorized by identity policies only (there is no bucket policy yet).
    if !caller.is_root() {
        let probe = Bucket::new(&input.bucket, &account, &world.region, "", now());
        crate::access::authorize(&world, &caller, "s3:CreateBucket", &probe, None, &[]).map_err(|d| super::api::access_denied(&d))?;
    }
    if let Some(existing) = world.buckets.get(&input.bucket) {
        // API Reference API_CreateBucket: in us-east-1 (N. Virginia) re-creating a bucket you
        // already own succeeds and changes nothing; elsewhere it is BucketAlreadyOwnedByYou.
        let requested_region =
            input.create_bucket_configuration.as_ref().and_then(|c| c.location_constraint.as_ref()).map_or("us-east-1", |l| l.as_str());
        if existing.owner_account == account && existing.region == "us-east-1" && requested_region == "us-east-1" {
            return Ok(created(&input.bucket));
        }
        return Err(if existing.owner_account == account {
            crate::s3::api::error_element(
                s3_error!(BucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it."),
                "BucketName",
                &input.bucket,
            )
        } else {
            s3_error!(BucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
        });
    }
    let canonical = world.canonical_id(&account);
    let constraint = input.create_bucket_configuration.as_ref().and_then(|c| c.location_constraint.as_ref()).map(|l| l.as_str());
    let region = bucket_region(constraint, signed_region.as_deref(), &world.region)?;
    let mut new_bucket = Bucket::new(&input.bucket, &account, &region, &canonical, now());
    new_bucket.settings.location_constraint = constraint.filter(|c| *c != region).map(str::to_owned);
    new_bucket.track_dirty = api.shared.persist.is_some();
    new_bucket.ownership = Some(ownership);
    // Malformed ACL input is reported before the ownership check (semantics doc §11).
    let grants = acl::grants_from_request(&canonical, input.acl.as_ref().map(dto::BucketCannedACL::as_str), &bucket_grant_headers!(input))?;
    if let Some(grants) = grants {
        let only_owner = grants.len() == 1 && grants[0] == crate::state::s3::Grant::full_control(&canonical);
        if !new_bucket.acls_enabled() && !only_owner {
            return Err(s3_error!(
                InvalidBucketAclWithObjectOwnership,
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
            ));
        }
        new_bucket.acl = grants;
    }
    if input.object_lock_enabled_for_bucket == Some(true) {
        new_bucket.object_lock = true;
        new_bucket.versioning = Versioning::Enabled;
    }
    world.buckets.insert(input.bucket.clone(), new_bucket);
    Ok(created(&input.bucket))
}

/// The region a new bucket is made in (API Reference `API_CreateBucket`, `CreateBucketConfiguration`), as
/// recorded (`test_create_bucket_with_invalid_location_constraint`, `test_different_location_constraint`,
/// `test_bucket_constraint_aws_global`, `test_create_bucket_with_eu_location_constraint*`): the us-east-1
/// endpoint takes any other valid region and refuses `us-east-1` itself or a name that is no region
/// (InvalidLocationConstraint); any other endpoint takes only its own region (`EU` for eu-west-1) and
/// refuses the rest, a missing constraint included (IllegalLocationConstraintException). Unsigned
/// requests count as us-east-1's; a request signed for the emulator's own region may leave the
/// constraint out (xrepl's choice: its home region is where buckets go by default).
fn bucket_region(constraint: Option<&str>, signed_for: Option<&str>, home: &str) -> S3Result<String> {
    let endpoint = signed_for.unwrap_or("us-east-1");
    let region_of = |c: &str| if c == "EU" { "eu-west-1".to_owned() } else { c.to_owned() };
    let incompatible = |name: &str| {
        let mut err = S3Error::with_message(
            S3ErrorCode::Custom("IllegalLocationConstraintException".into()),
            format!("The {name} location constraint is incompatible for the region specific endpoint this request was sent to."),
        );
        err.set_status_code(http::StatusCode::BAD_REQUEST);
        err
    };
    let valid = |c: &str| c == "EU" || validate::is_aws_region(c);
    match constraint {
        None if endpoint == "us-east-1" || endpoint == home => Ok(home.to_owned()),
        None => Err(incompatible("unspecified")),
        Some(c) if endpoint == "us-east-1" => {
            if c == "us-east-1" || !valid(c) {
                let err = s3_error!(InvalidLocationConstraint, "The specified location-constraint is not valid");
                return Err(super::api::error_element(err, "LocationConstraint", c));
            }
            Ok(region_of(c))
        }
        Some(c) if valid(c) && region_of(c) == endpoint => Ok(region_of(c)),
        Some(c) => Err(incompatible(c)),
    }
}

pub fn head_bucket(api: &S3Api, req: S3Request<dto::HeadBucketInput>) -> S3Result<S3Response<dto::HeadBucketOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:ListBucket", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &req.input.bucket)?;
    let mut response = S3Response::new(dto::HeadBucketOutput { bucket_region: Some(b.region.clone()), ..Default::default() });
    // As recorded (`test_create_bucket_head_bucket` → `head_bucket_filtered_header`,
    // `test_region_header_exists_outside_us_east_1`); s3s 0.14's HeadBucketOutput has no ARN field.
    for (name, value) in [
        ("x-amz-bucket-region", b.region.clone()),
        ("x-amz-bucket-arn", crate::access::bucket_arn(&b.name)),
        ("x-amz-access-point-alias", "false".to_owned()),
        ("content-type", "application/xml".to_owned()),
    ] {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            response.headers.insert(name, value);
        }
    }
    Ok(response)
}

/// CreateBucket's answer: the bucket's path and ARN (as recorded: `test_create_bucket_head_bucket` →
/// `create_bucket`; s3s 0.14's CreateBucketOutput has no ARN field).
fn created(name: &str) -> S3Response<dto::CreateBucketOutput> {
    let mut response = S3Response::new(dto::CreateBucketOutput { location: Some(format!("/{name}")) });
    if let Ok(value) = http::HeaderValue::from_str(&crate::access::bucket_arn(name)) {
        response.headers.insert("x-amz-bucket-arn", value);
    }
    response
}

pub fn list_buckets(api: &S3Api, req: S3Request<dto::ListBucketsInput>) -> S3Result<S3Response<dto::ListBucketsOutput>> {
    let caller = api.caller(&req)?;
    let Some(account) = caller.account.clone() else {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    };
    let world = api.shared.world();
    if !caller.is_root() && !matches!(caller.kind, PrincipalKind::Root) {
        let identity = world.identity_policies(&caller);
        let principal = caller.principal_info();
        let ctx = crate::access::base_context(&world, &caller, &account);
        let request =
            xrepl_policy::Request { principal: &principal, action: "s3:ListAllMyBuckets", resource: "arn:aws:s3:::*", context: &ctx };
        let refs: Vec<&xrepl_policy::Policy> = identity.iter().map(AsRef::as_ref).collect();
        if !xrepl_policy::authorize(&refs, None, &request, true, false, false).is_allowed() {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
    }
    let input = req.input;
    let prefix = input.prefix.clone().unwrap_or_default();
    // As recorded (`test_list_buckets_region_validation` → `bad-region`).
    let region = input.bucket_region.as_deref();
    if let Some(bad) = region.filter(|r| !validate::is_aws_region(r)) {
        return Err(invalid_argument(&format!("Argument value {bad} is not a valid AWS Region"), "bucket-region", None));
    }
    // Paged by name: the continuation token encodes the last name of the previous page. An empty
    // token is no token here (as recorded: `test_list_buckets_when_continuation_token_is_empty`).
    let limit = match input.max_buckets {
        None => usize::MAX,
        Some(n @ 1..=10_000) => usize::try_from(n).unwrap_or(usize::MAX),
        Some(_) => return Err(s3_error!(InvalidArgument, "Argument max-buckets must be an integer between 1 and 10000")),
    };
    let after = match input.continuation_token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => resume_after_token(token)?,
        None => String::new(),
    };
    let mut owned = world
        .buckets
        .range::<str, _>((std::ops::Bound::Excluded(after.as_str()), std::ops::Bound::Unbounded))
        .map(|(_, b)| b)
        .filter(|b| b.owner_account == account && b.name.starts_with(&prefix) && region.is_none_or(|r| b.region == r));
    let buckets: Vec<dto::Bucket> = owned
        .by_ref()
        .take(limit)
        .map(|b| dto::Bucket {
            name: Some(b.name.clone()),
            // Whole seconds, as S3 writes them (`test_s3_timestamp_precision`).
            creation_date: Some(listed_time(b.created)),
            bucket_region: Some(b.region.clone()),
        })
        .collect();
    let more = owned.next().is_some();
    Ok(S3Response::new(dto::ListBucketsOutput {
        continuation_token: buckets.last().and_then(|b| b.name.as_deref()).filter(|_| more).map(continuation_token),
        buckets: Some(buckets),
        owner: Some(owner(world.canonical_id(&account))),
        prefix: input.prefix,
    }))
}

pub fn delete_bucket(api: &S3Api, req: S3Request<dto::DeleteBucketInput>) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
    let caller = api.caller(&req)?;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:DeleteBucket", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &req.input.bucket)?;
    if !b.is_empty() {
        let message = if b.versioning == crate::state::s3::Versioning::Unversioned {
            "The bucket you tried to delete is not empty"
        } else {
            "The bucket you tried to delete is not empty. You must delete all versions in the bucket."
        };
        return Err(crate::s3::api::error_element(s3_error!(BucketNotEmpty, "{message}"), "BucketName", &req.input.bucket));
    }
    world.buckets.remove(&req.input.bucket);
    Ok(super::api::with_status(dto::DeleteBucketOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn get_bucket_location(api: &S3Api, req: S3Request<dto::GetBucketLocationInput>) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
    let caller = api.caller(&req)?;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketLocation", &req.input.bucket, None, req.input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &req.input.bucket)?;
    // us-east-1 is reported as an empty LocationConstraint, as S3 does.
    // A bucket made with `EU` is in eu-west-1 and answers `EU` (as recorded: `test_create_bucket_with_eu_location_constraint`).
    let named = b.settings.location_constraint.clone().unwrap_or_else(|| b.region.clone());
    let location = (b.region != "us-east-1").then(|| dto::BucketLocationConstraint::from(named));
    Ok(S3Response::new(dto::GetBucketLocationOutput { location_constraint: location }))
}
