//! Access decisions: may this principal perform this S3 action on this bucket or object? The
//! caller's identity policies, the bucket policy, ACLs and Block Public Access, evaluated as AWS
//! evaluates them (semantics doc §5). The S3 handlers and the replication engine both ask, so this
//! layer sits below both and calls neither.

mod arn;
pub mod authz;
pub mod public;

pub use arn::{bucket_arn, bucket_from_arn, object_arn};
pub use authz::{authorize, authorize_version, base_context, request_keys, Denial};
