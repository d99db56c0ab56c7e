//! What every S3 handler shares: the [`S3Api`] service (the caller of a request, queuing the
//! replication a write planned), bucket lookups, authorization with `x-amz-expected-bucket-owner`,
//! and the error and response builders that give AWS's codes, elements and statuses.

use std::sync::Arc;

use bytes::Bytes;
use s3s::dto::{self, StreamingBlob, Timestamp};
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};
use time::OffsetDateTime;

use crate::access::{request_keys, Denial};
use crate::identity::Caller;
use crate::replication::Task;
use crate::runtime::Shared;
use crate::state::s3::{Bucket, ObjectVersion as ObjectVersionRecord};
use crate::state::{KeyProblem, World};

/// The S3 service implementation handed to s3s.
pub struct S3Api {
    pub(super) shared: Arc<Shared>,
}

impl S3Api {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Who sent the request: s3s has verified the signature for the access key (if any).
    pub(super) fn caller<T>(&self, req: &S3Request<T>) -> S3Result<Caller> {
        let Some(credentials) = &req.credentials else {
            return Ok(Caller { request_keys: request_keys(&req.headers, req.uri.query()), ..Caller::anonymous() });
        };
        let token = req.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok()).map(str::to_owned).or_else(|| {
            req.uri
                .query()
                .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "X-Amz-Security-Token").map(|(_, v)| v.into_owned()))
        });
        let mut caller = self.shared.world().caller_for(&credentials.access_key, token.as_deref()).map_err(|p| match p {
            KeyProblem::UnknownKey => s3_error!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records."),
            KeyProblem::InvalidToken => s3_error!(InvalidToken, "The provided token is malformed or otherwise invalid."),
            KeyProblem::ExpiredToken => s3_error!(ExpiredToken, "The provided token has expired."),
        })?;
        caller.request_keys = request_keys(&req.headers, req.uri.query());
        Ok(caller)
    }

    pub(super) fn enqueue(&self, tasks: Vec<Task>) {
        if !tasks.is_empty() {
            self.shared.replication.enqueue(tasks);
        }
    }

    /// Stores a new version of an object (PutObject, CopyObject, CompleteMultipartUpload), plans
    /// its replication under the lock, and queues the tasks once the lock is released.
    pub(super) fn store_new_version(
        &self,
        mut world: std::sync::MutexGuard<'_, World>,
        bucket: &str,
        version: ObjectVersionRecord,
    ) -> S3Result<()> {
        let (key, version_id) = (version.key.clone(), version.version_id.clone());
        bucket_mut(&mut world, bucket)?.put_version(version);
        let tasks = crate::replication::on_change(&mut world, bucket, &key, &version_id, crate::replication::TaskKind::Object);
        drop(world);
        self.enqueue(tasks);
        Ok(())
    }
}

/// Carries an element AWS adds to an error body (`BucketName`, `Key`, ...) from a handler to the
/// front door, which writes it into the XML and drops the header (s3s renders only Code and Message).
pub(crate) const ERROR_ELEMENT_HEADER: &str = "x-xrepl-error-element";

/// `err` with the element `<name>value</name>` in its body, as AWS sends it (docs/aws-semantics.md §81).
pub(crate) fn error_element(mut err: S3Error, name: &str, value: &str) -> S3Error {
    let mut headers = err.headers().cloned().unwrap_or_default();
    let encoded = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC);
    if let Ok(v) = http::HeaderValue::from_str(&format!("{name}={encoded}")) {
        headers.append(ERROR_ELEMENT_HEADER, v);
    }
    err.set_headers(headers);
    err
}

/// 400 `InvalidBucketOwnerAWSAccountID`: `x-amz-expected-bucket-owner` is not an account id (docs/aws-semantics.md §84).
fn invalid_expected_owner(value: &str) -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::Custom("InvalidBucketOwnerAWSAccountID".into()),
        format!("The value of the expected bucket owner parameter must be an AWS Account ID... [{value}]"),
    );
    err.set_status_code(http::StatusCode::BAD_REQUEST);
    err
}

pub(crate) fn access_denied(_denial: &Denial) -> S3Error {
    s3_error!(AccessDenied, "Access Denied")
}

pub(crate) fn no_such_bucket(name: &str) -> S3Error {
    error_element(s3_error!(NoSuchBucket, "The specified bucket does not exist"), "BucketName", name)
}

pub(crate) fn bucket<'w>(world: &'w World, name: &str) -> S3Result<&'w Bucket> {
    world.buckets.get(name).ok_or_else(|| no_such_bucket(name))
}

pub(crate) fn bucket_mut<'w>(world: &'w mut World, name: &str) -> S3Result<&'w mut Bucket> {
    world.buckets.get_mut(name).ok_or_else(|| no_such_bucket(name))
}

/// Authorizes and checks `x-amz-expected-bucket-owner` (wrong owner -> 403 AccessDenied).
pub(crate) fn authorize(
    world: &World,
    caller: &Caller,
    action: &str,
    bucket_name: &str,
    key: Option<&str>,
    expected_owner: Option<&str>,
) -> S3Result<()> {
    authorize_version(world, caller, action, bucket_name, key, None, expected_owner)
}

/// [`authorize`] for a request that names a version: that version's owner and ACL decide.
pub(crate) fn authorize_version(
    world: &World,
    caller: &Caller,
    action: &str,
    bucket_name: &str,
    key: Option<&str>,
    version_id: Option<&str>,
    expected_owner: Option<&str>,
) -> S3Result<()> {
    if let Some(expected) = expected_owner.filter(|e| e.len() != 12 || !e.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid_expected_owner(expected));
    }
    let bucket = bucket(world, bucket_name)?;
    crate::access::authorize_version(world, caller, action, bucket, key, version_id, &[]).map_err(|d| access_denied(&d))?;
    if let Some(expected) = expected_owner {
        if expected != bucket.owner_account {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
    }
    Ok(())
}

pub(crate) fn owner(canonical_id: String) -> dto::Owner {
    // AWS stopped returning DisplayName in 2025: ID only.
    dto::Owner { id: Some(canonical_id), display_name: None }
}

pub(crate) fn timestamp(t: OffsetDateTime) -> Timestamp {
    Timestamp::from(t)
}

/// The status a handler chose, carried to the front door: s3s writes each operation's fixed status
/// and ignores `S3Response::status` (PutBucketTagging answered 200 where AWS answers 204).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatusOverride(pub http::StatusCode);

/// A response answered with `status` (applied by the front door, see [`StatusOverride`]).
pub(crate) fn with_status<T>(output: T, status: http::StatusCode) -> S3Response<T> {
    let mut response = S3Response::with_status(output, status);
    response.extensions.insert(StatusOverride(status));
    response
}

/// A time as listings show it: whole seconds (`…:07.000Z`), as recorded from AWS in every listing
/// (ListObjects v1/v2, ListObjectVersions, ListMultipartUploads, ListParts; docs/aws-semantics.md §87).
pub(crate) fn listed_time(t: OffsetDateTime) -> Timestamp {
    Timestamp::from(t.replace_nanosecond(0).unwrap_or(t))
}

/// 400 `InvalidArgument` naming the argument (and its value, when AWS names it), as AWS's error
/// bodies do (`ArgumentName`, `ArgumentValue`; docs/aws-semantics.md §87).
pub(crate) fn invalid_argument(message: &str, name: &str, value: Option<&str>) -> S3Error {
    let err = error_element(S3Error::with_message(S3ErrorCode::InvalidArgument, message.to_owned()), "ArgumentName", name);
    match value {
        Some(value) => error_element(err, "ArgumentValue", value),
        None => err,
    }
}

pub(crate) fn blob(data: Bytes) -> StreamingBlob {
    StreamingBlob::from(s3s::Body::from(data))
}
