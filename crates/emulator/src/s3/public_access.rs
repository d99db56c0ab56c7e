//! The Block Public Access API on buckets (User Guide `access-control-block-public-access`) and
//! GetBucketPolicyStatus; what the settings decide is in [`crate::access::public`]. New buckets get all four settings on, as S3 gives them since April
//! 2023: a public bucket policy is refused until the block is relaxed. What each setting does:
//! - `BlockPublicPolicy`: PutBucketPolicy of a public policy → 403 AccessDenied;
//! - `BlockPublicAcls`: a request that sets a public ACL (AllUsers / AuthenticatedUsers) → 403;
//! - `IgnorePublicAcls`: public grants do not count when access is evaluated (`access::authz`);
//! - `RestrictPublicBuckets`: while the bucket policy is public, it grants only to the bucket
//!   owner's account and AWS services (`access::authz`).

use s3s::dto;
use s3s::{S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, S3Api};
use crate::state::s3::PublicAccessBlock;

fn to_dto(block: PublicAccessBlock) -> dto::PublicAccessBlockConfiguration {
    dto::PublicAccessBlockConfiguration {
        block_public_acls: Some(block.block_public_acls),
        ignore_public_acls: Some(block.ignore_public_acls),
        block_public_policy: Some(block.block_public_policy),
        restrict_public_buckets: Some(block.restrict_public_buckets),
    }
}

pub fn put_public_access_block(
    api: &S3Api,
    req: S3Request<dto::PutPublicAccessBlockInput>,
) -> S3Result<S3Response<dto::PutPublicAccessBlockOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let c = input.public_access_block_configuration;
    // Settings left out are false (API_PutPublicAccessBlock).
    let block = PublicAccessBlock {
        block_public_acls: c.block_public_acls.unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
        block_public_policy: c.block_public_policy.unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
    };
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutBucketPublicAccessBlock", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &input.bucket)?.settings.public_access_block = Some(block);
    Ok(S3Response::new(dto::PutPublicAccessBlockOutput {}))
}

pub fn get_public_access_block(
    api: &S3Api,
    req: S3Request<dto::GetPublicAccessBlockInput>,
) -> S3Result<S3Response<dto::GetPublicAccessBlockOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketPublicAccessBlock", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let block = bucket(&world, &input.bucket)?.settings.public_access_block.ok_or_else(|| {
        let mut err = s3s::S3Error::with_message(
            s3s::S3ErrorCode::Custom("NoSuchPublicAccessBlockConfiguration".into()),
            "The public access block configuration was not found",
        );
        err.set_status_code(http::StatusCode::NOT_FOUND);
        crate::s3::api::error_element(err, "BucketName", &input.bucket)
    })?;
    Ok(S3Response::new(dto::GetPublicAccessBlockOutput { public_access_block_configuration: Some(to_dto(block)) }))
}

pub fn delete_public_access_block(
    api: &S3Api,
    req: S3Request<dto::DeletePublicAccessBlockInput>,
) -> S3Result<S3Response<dto::DeletePublicAccessBlockOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    // DeletePublicAccessBlock is authorized by s3:PutBucketPublicAccessBlock (Service Authorization Reference).
    authorize(&world, &caller, "s3:PutBucketPublicAccessBlock", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &input.bucket)?.settings.public_access_block = None;
    Ok(super::api::with_status(dto::DeletePublicAccessBlockOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn get_bucket_policy_status(
    api: &S3Api,
    req: S3Request<dto::GetBucketPolicyStatusInput>,
) -> S3Result<S3Response<dto::GetBucketPolicyStatusOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetBucketPolicyStatus", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    let is_public = b.policy.as_ref().is_some_and(|p| p.parsed.is_public());
    Ok(S3Response::new(dto::GetBucketPolicyStatusOutput { policy_status: Some(dto::PolicyStatus { is_public: Some(is_public) }) }))
}
