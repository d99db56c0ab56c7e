//! Block Public Access decisions (User Guide `access-control-block-public-access`): which grants
//! and policies are public, and which requests the bucket's settings refuse.

use s3s::{s3_error, S3Result};

use crate::state::s3::{Bucket, Grant, Grantee, ALL_USERS, AUTHENTICATED_USERS};

/// A grant to everyone or to every AWS account.
pub fn is_public_grant(grant: &Grant) -> bool {
    matches!(&grant.grantee, Grantee::Group(uri) if uri == ALL_USERS || uri == AUTHENTICATED_USERS)
}

/// `BlockPublicAcls`: a request that would set public grants on `b` or its objects is refused.
pub fn check_acl_allowed(b: &Bucket, grants: &[Grant]) -> S3Result<()> {
    if b.public_access().block_public_acls && grants.iter().any(is_public_grant) {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    }
    Ok(())
}

/// `BlockPublicPolicy`: PutBucketPolicy of a public policy is refused.
pub fn check_policy_allowed(b: &Bucket, policy: &xrepl_policy::Policy) -> S3Result<()> {
    if b.public_access().block_public_policy && policy.is_public() {
        return Err(s3_error!(
            AccessDenied,
            "User is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
            b.name
        ));
    }
    Ok(())
}
