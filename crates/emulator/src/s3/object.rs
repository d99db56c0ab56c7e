//! Objects: put, get, head, delete (markers and versioned deletes), copy, listings and tagging.

use http::{HeaderMap, HeaderValue, StatusCode};
use md5::{Digest, Md5};
use s3s::dto;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::api::{authorize, blob, bucket, bucket_mut, error_element, timestamp, S3Api};
use super::version::{addressed_object, check_version_in_unversioned, etag, refuse_current_delete_marker, reported_version};
use super::{acl, validate};
use crate::identity::Caller;
use crate::replication::{self, TaskKind};
use crate::state::s3::{Bucket, Grant, ObjectVersion, Sse, Versioning, NULL_VERSION, OWNERSHIP_PREFERRED};
use crate::state::{now, World};

const MAX_KEY_BYTES: usize = 1024;
const STORAGE_CLASSES: [&str; 8] =
    ["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"];

pub fn key(key: &str) -> S3Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(s3_error!(KeyTooLongError, "Your key is too long"));
    }
    Ok(())
}

pub fn storage_class(class: Option<&str>) -> S3Result<String> {
    match class {
        None => Ok("STANDARD".to_owned()),
        Some(c) if STORAGE_CLASSES.contains(&c) => Ok(c.to_owned()),
        // As recorded (`test_put_object_storage_class_outposts`): the class asked for is named.
        Some(c) => {
            Err(error_element(s3_error!(InvalidStorageClass, "The storage class you specified is not valid"), "StorageClassRequested", c))
        }
    }
}

pub(super) fn sse_fields(v: &ObjectVersion) -> (Option<dto::ServerSideEncryption>, Option<String>) {
    match &v.sse {
        // SSE-C objects answer with the customer-key headers instead (see `customer_key_fields`).
        Some(Sse::Customer { .. }) => (None, None),
        Some(Sse::Kms { key_arn }) => {
            (Some(dto::ServerSideEncryption::from_static(dto::ServerSideEncryption::AWS_KMS)), Some(key_arn.clone()))
        }
        Some(Sse::S3) | None => (Some(dto::ServerSideEncryption::from_static(dto::ServerSideEncryption::AES256)), None),
    }
}

/// `x-amz-server-side-encryption-customer-algorithm` and `-key-MD5` of an SSE-C object.
pub(super) fn customer_key_fields(v: &ObjectVersion) -> (Option<String>, Option<String>) {
    match &v.sse {
        Some(Sse::Customer { key_md5 }) => (Some("AES256".to_owned()), Some(key_md5.clone())),
        _ => (None, None),
    }
}

/// The SSE-C headers of a request, checked as S3 checks them; returns the key's MD5 (base64). Each
/// refusal names `x-amz-server-side-encryption` (and an unsupported algorithm) as recorded
/// (`test_put_object_validation_sse_c`).
pub fn customer_key(algorithm: Option<&str>, key: Option<&str>, key_md5: Option<&str>) -> S3Result<Option<String>> {
    checked_customer_key(algorithm, key, key_md5).map_err(|err| {
        let err = error_element(err, "ArgumentName", "x-amz-server-side-encryption");
        match algorithm.filter(|a| *a != "AES256") {
            Some(given) => error_element(err, "ArgumentValue", given),
            None => err,
        }
    })
}

/// A write that asks for server-side encryption and sends a customer key is refused before either is
/// judged (as recorded: `test_put_object_validation_sse_c` → `put-obj-sse-c-both-encryption`, whose
/// customer algorithm is not even valid).
pub(super) fn both_encryptions(sse: Option<&dto::ServerSideEncryption>, customer_algorithm: Option<&str>) -> S3Result<()> {
    match (sse, customer_algorithm) {
        (Some(sse), Some(_)) => {
            let err = s3_error!(
                InvalidArgument,
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
            );
            let err = error_element(err, "ArgumentName", "x-amz-server-side-encryption");
            Err(error_element(err, "ArgumentValue", sse.as_str()))
        }
        _ => Ok(()),
    }
}

fn checked_customer_key(algorithm: Option<&str>, key: Option<&str>, key_md5: Option<&str>) -> S3Result<Option<String>> {
    use base64::Engine;
    let (algorithm, key) = match (algorithm, key) {
        (None, None) if key_md5.is_none() => return Ok(None),
        (Some(a), Some(k)) => (a, k),
        (None, _) => {
            return Err(s3_error!(
                InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm."
            ))
        }
        (Some(_), None) => {
            return Err(s3_error!(
                InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key."
            ))
        }
    };
    if algorithm != "AES256" {
        return Err(s3_error!(
            InvalidEncryptionAlgorithmError,
            "The Encryption request you specified is not valid. Supported value: AES256."
        ));
    }
    let engine = base64::engine::general_purpose::STANDARD;
    let raw = engine
        .decode(key)
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| s3_error!(InvalidArgument, "The secret key was invalid for the specified algorithm."))?;
    let computed = engine.encode(Md5::digest(&raw));
    match key_md5 {
        Some(given) if given == computed => Ok(Some(computed)),
        Some(_) => Err(s3_error!(InvalidArgument, "The calculated MD5 hash of the key did not match the hash that was provided.")),
        None => Err(s3_error!(
            InvalidArgument,
            "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key."
        )),
    }
}

/// Reading an SSE-C object needs its key (API Reference `API_GetObject`, `API_HeadObject`):
/// without the SSE-C headers 400, with another key 403; SSE-C headers on any other object 400.
pub(super) fn check_customer_key(v: &ObjectVersion, given_md5: Option<&str>) -> S3Result<()> {
    match (&v.sse, given_md5) {
        (Some(Sse::Customer { key_md5 }), Some(given)) if key_md5 == given => Ok(()),
        (Some(Sse::Customer { .. }), Some(_)) => Err(s3_error!(AccessDenied, "Access Denied")),
        (Some(Sse::Customer { .. }), None) => Err(s3_error!(
            InvalidRequest,
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
        )),
        (_, Some(_)) => Err(s3_error!(InvalidRequest, "The encryption parameters are not applicable to this object.")),
        (_, None) => Ok(()),
    }
}

/// `x-amz-restore` of an archived object with a restore requested (API Reference `API_HeadObject`).
fn restore_header(v: &ObjectVersion) -> Option<String> {
    let restore = v.restore?;
    if now() < restore.ready_at {
        return Some("ongoing-request=\"true\"".to_owned());
    }
    let expiry = httpdate::fmt_http_date(std::time::SystemTime::from(restore.expires_at));
    Some(format!("ongoing-request=\"false\", expiry-date=\"{expiry}\""))
}

fn metadata_dto(v: &ObjectVersion) -> Option<dto::Metadata> {
    (!v.metadata.is_empty()).then(|| v.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn storage_class_dto(v: &ObjectVersion) -> Option<dto::StorageClass> {
    (v.storage_class != "STANDARD").then(|| dto::StorageClass::from(v.storage_class.clone()))
}

/// Who owns a new object and its ACL, by the bucket's ownership setting (semantics doc §7).
pub(super) fn new_object_owner(
    world: &World,
    bucket: &Bucket,
    caller: &Caller,
    canned: Option<&str>,
    headers: &acl::GrantHeaders<'_>,
) -> S3Result<(String, Vec<Grant>)> {
    let bucket_owner = bucket.owner_account.clone();
    let bucket_canonical = world.canonical_id(&bucket_owner);
    let writer = caller.account.clone().unwrap_or_else(|| bucket_owner.clone());
    let owner_account = if !bucket.acls_enabled()
        || (bucket.ownership.as_deref() == Some(OWNERSHIP_PREFERRED) && canned == Some("bucket-owner-full-control"))
    {
        bucket_owner
    } else {
        writer
    };
    let owner_canonical = world.canonical_id(&owner_account);
    let grants = acl::grants_with_bucket_owner(&owner_canonical, &bucket_canonical, canned, headers)?;
    if !bucket.acls_enabled() {
        // Only ACLs that change nothing are accepted on a bucket with ACLs disabled.
        if let Some(canned) = canned {
            if canned != "bucket-owner-full-control" && canned != "private" {
                return Err(s3_error!(AccessControlListNotSupported, "The bucket does not allow ACLs"));
            }
        } else if grants.is_some() {
            return Err(s3_error!(AccessControlListNotSupported, "The bucket does not allow ACLs"));
        }
        return Ok((owner_account, vec![Grant::full_control(&owner_canonical)]));
    }
    let grants = grants.unwrap_or_else(|| vec![Grant::full_control(&owner_canonical)]);
    crate::access::public::check_acl_allowed(bucket, &grants)?;
    Ok((owner_account, grants))
}

/// Resolves the encryption requested for a new object (`customer_key_md5`: a checked SSE-C key).
pub(crate) fn requested_sse(
    world: &mut World,
    bucket_owner: &str,
    sse: Option<&dto::ServerSideEncryption>,
    kms_key: Option<&str>,
    customer_key_md5: Option<String>,
    bucket_default: Option<Option<String>>,
) -> S3Result<Option<Sse>> {
    if let Some(key_md5) = customer_key_md5 {
        if let Some(sse) = sse {
            // As recorded (`test_put_object_validation_sse_c` → `put-obj-sse-c-both-encryption`).
            let err = s3_error!(
                InvalidArgument,
                "Server Side Encryption with Customer provided key is incompatible with the encryption method specified"
            );
            let err = error_element(err, "ArgumentName", "x-amz-server-side-encryption");
            return Err(error_element(err, "ArgumentValue", sse.as_str()));
        }
        return Ok(Some(Sse::Customer { key_md5 }));
    }
    // A KMS key id only goes with aws:kms (API_PutObject, `x-amz-server-side-encryption-aws-kms-key-id`).
    if kms_key.is_some() && !sse.is_some_and(|s| s.as_str().starts_with("aws:kms")) {
        return Err(s3_error!(
            InvalidArgument,
            "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms"
        ));
    }
    // Without encryption headers the bucket's default applies (User Guide `default-bucket-encryption`).
    let (sse, kms_key) = match (sse, bucket_default) {
        (None, Some(default_key)) => (Some(dto::ServerSideEncryption::from_static(dto::ServerSideEncryption::AWS_KMS)), default_key),
        (sse, _) => (sse.cloned(), kms_key.map(str::to_owned)),
    };
    let kms_key = kms_key.as_deref();
    match sse.as_ref().map(dto::ServerSideEncryption::as_str) {
        None | Some("AES256") => Ok(Some(Sse::S3)),
        Some("aws:kms" | "aws:kms:dsse") => {
            let key_arn = crate::kms::key_arn_for_s3(world, bucket_owner, kms_key)
                .ok_or_else(|| S3Error::with_message(s3s::S3ErrorCode::Custom("KMS.NotFoundException".into()), "Invalid keyId"))?;
            Ok(Some(Sse::Kms { key_arn }))
        }
        Some(other) => Err(s3_error!(InvalidArgument, "Server Side Encryption with {other} is not supported")),
    }
}

/// PutObject's authorization, before the body is read: s3:PutObject (the request's headers — ACL,
/// grants, encryption, tags — are condition keys, `Caller::request_keys`), s3:PutObjectTagging
/// when it sets tags, and the expected bucket owner.
fn authorize_put(world: &World, caller: &Caller, bucket_name: &str, key: &str, tags: bool, expected_owner: Option<&str>) -> S3Result<()> {
    let b = bucket(world, bucket_name)?;
    crate::access::authorize(world, caller, "s3:PutObject", b, Some(key), &[]).map_err(|d| super::api::access_denied(&d))?;
    if tags {
        authorize(world, caller, "s3:PutObjectTagging", bucket_name, Some(key), None)?;
    }
    if expected_owner.is_some_and(|expected| expected != b.owner_account) {
        return Err(s3_error!(AccessDenied, "Access Denied"));
    }
    Ok(())
}

/// How a BadDigest names the MD5 the request declared: PutObject in hex, UploadPart as sent
/// (as recorded: `test_s3_invalid_content_md5` → `md5-error-bad-digest`, `upload-part-md5-bad-digest`).
#[derive(Clone, Copy)]
pub(super) enum ExpectedDigest {
    Hex,
    AsSent,
}

/// `Content-MD5` against the MD5 of the bytes received; the errors name both digests, or the value
/// that is no MD5 (as recorded: `test_s3_invalid_content_md5`).
pub(super) fn check_content_md5(content_md5: Option<&str>, digest: &[u8], expected: ExpectedDigest) -> S3Result<()> {
    let Some(md5) = content_md5 else { return Ok(()) };
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    match engine.decode(md5) {
        Ok(given) if given.as_slice() == digest => Ok(()),
        Ok(given) if given.len() == 16 => {
            let err = s3_error!(BadDigest, "The Content-MD5 you specified did not match what we received.");
            let named = match expected {
                ExpectedDigest::Hex => hex::encode(&given),
                ExpectedDigest::AsSent => md5.to_owned(),
            };
            Err(error_element(error_element(err, "ExpectedDigest", &named), "CalculatedDigest", &engine.encode(digest)))
        }
        // Not the base64 of 16 bytes: InvalidDigest, as recorded (`test_s3_invalid_content_md5` → `md5-error-0`).
        _ => Err(error_element(s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."), "Content-MD5", md5)),
    }
}

pub async fn put_object(api: &S3Api, req: S3Request<dto::PutObjectInput>) -> S3Result<S3Response<dto::PutObjectOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    key(&input.key)?;
    let tags = validate::tagging_header(input.tagging.as_deref())?;
    let metadata = validate::metadata(input.metadata.as_ref())?;
    let class = storage_class(input.storage_class.as_ref().map(dto::StorageClass::as_str))?;
    both_encryptions(input.server_side_encryption.as_ref(), input.sse_customer_algorithm.as_deref())?;
    let customer_md5 =
        customer_key(input.sse_customer_algorithm.as_deref(), input.sse_customer_key.as_deref(), input.sse_customer_key_md5.as_deref())?;
    let expected = declared_checksum!(input, req.headers).expected()?;
    let algorithm = super::checksum::algorithm_for(expected.as_ref());
    authorize_put(&api.shared.world(), &caller, &input.bucket, &input.key, !tags.is_empty(), input.expected_bucket_owner.as_deref())?;
    super::body::check_declared_size(input.content_length, super::body::MAX_SINGLE_PUT)?;
    let body = super::body::exact_length(input.body, input.content_length);
    let store = std::sync::Arc::clone(&api.shared.world().blobs);
    let stored = super::body::store_body(store, body, super::body::MAX_SINGLE_PUT, super::checksum::BodyDigest::new(algorithm)).await?;
    super::checksum::verify(expected.as_ref(), &stored.checksum, req.trailing_headers.as_ref())?;
    let (data, digest) = (stored.blob, stored.md5);
    check_content_md5(input.content_md5.as_deref(), &digest, ExpectedDigest::Hex)?;
    let mut world = api.shared.world();
    check_write_conditions(bucket(&world, &input.bucket)?, &input.key, input.if_match.as_ref(), input.if_none_match.as_ref())?;
    let b = bucket(&world, &input.bucket)?.clone_settings();
    let (owner_account, grants) =
        new_object_owner(&world, &b, &caller, input.acl.as_ref().map(dto::ObjectCannedACL::as_str), &grant_headers!(input))?;
    let legal_hold = input.object_lock_legal_hold_status.as_ref().map(|s| s.as_str().to_owned());
    let retention = super::lock::retention_for_new_object(
        &b,
        input.object_lock_mode.as_ref().map(dto::ObjectLockMode::as_str),
        input.object_lock_retain_until_date.clone().map(Into::into),
        legal_hold.as_deref(),
    )?;
    let sse = new_version_sse(&mut world, &caller, &b, &input.key, sse_headers!(input, customer_md5))?;
    let target = bucket_mut(&mut world, &input.bucket)?;
    let version = ObjectVersion {
        version_id: target.next_version_id(),
        etag: hex::encode(digest),
        data,
        headers: content_headers!(input),
        metadata,
        tags,
        storage_class: class,
        sse,
        legal_hold,
        retention,
        checksum: Some(super::checksum::full_object(algorithm, stored.checksum)),
        ..ObjectVersion::written(&input.key, owner_account, grants, now())
    };
    let (etag, reported, sse_out, customer) =
        (etag(&version), reported_version(target, &version), sse_fields(&version), customer_key_fields(&version));
    let checksum = super::checksum::fields(version.checksum.as_ref());
    let expiration = super::lifecycle::expiration_header(target.settings.lifecycle.as_ref(), &version);
    api.store_new_version(world, &input.bucket, version)?;
    let mut output = dto::PutObjectOutput {
        e_tag: Some(etag),
        expiration,
        // No version id for a null version, even on a suspended bucket (as recorded:
        // `test_put_object_on_suspended_bucket` → `put-object-suspended`).
        version_id: reported.filter(|id| id != NULL_VERSION),
        server_side_encryption: sse_out.0,
        ssekms_key_id: sse_out.1,
        sse_customer_algorithm: customer.0,
        sse_customer_key_md5: customer.1,
        checksum_type: checksum.checksum_type.clone(),
        ..Default::default()
    };
    set_checksum!(output, checksum);
    Ok(S3Response::new(output))
}

/// A write's encryption headers (`sse_headers!`); `customer_key_md5` is the checked SSE-C key's MD5.
pub(super) struct SseHeaders<'a> {
    pub sse: Option<&'a dto::ServerSideEncryption>,
    pub kms_key: Option<&'a str>,
    pub customer_key_md5: Option<String>,
}

/// The encryption of a new object (PutObject, CopyObject, CreateMultipartUpload): the request's
/// headers, else the bucket's default (`b`), checked with [`check_kms_write`].
pub(super) fn new_version_sse(world: &mut World, caller: &Caller, b: &Bucket, key: &str, headers: SseHeaders<'_>) -> S3Result<Option<Sse>> {
    let SseHeaders { sse, kms_key, customer_key_md5 } = headers;
    let sse = requested_sse(world, &b.owner_account, sse, kms_key, customer_key_md5, super::settings::default_kms_key(&b.settings))?;
    check_kms_write(world, caller, &b.name, key, sse.as_ref())?;
    Ok(sse)
}

/// Writing an SSE-KMS object needs kms:GenerateDataKey on its key, whatever the write path
/// (PutObject, CopyObject, CreateMultipartUpload).
pub(crate) fn check_kms_write(world: &World, caller: &Caller, bucket: &str, key: &str, sse: Option<&Sse>) -> S3Result<()> {
    if let Some(Sse::Kms { key_arn }) = sse {
        crate::kms::authorize_s3_use(world, caller, key_arn, "kms:GenerateDataKey", &crate::access::object_arn(bucket, key))
            .map_err(|e| e.to_s3_error())?;
    }
    Ok(())
}

pub(super) fn read_action(version_id: Option<&str>) -> &'static str {
    if version_id.is_some() {
        "s3:GetObjectVersion"
    } else {
        "s3:GetObject"
    }
}

/// Evaluates If-Match / If-None-Match / If-(Un)Modified-Since like S3.
fn check_conditions(
    v: &ObjectVersion,
    if_match: Option<&dto::ETagCondition>,
    if_none_match: Option<&dto::ETagCondition>,
    if_modified_since: Option<&dto::Timestamp>,
    if_unmodified_since: Option<&dto::Timestamp>,
) -> S3Result<()> {
    let tag = etag(v);
    if let Some(cond) = if_match {
        if cond.as_etag().is_some_and(|e| !e.strong_cmp(&tag)) {
            return Err(precondition_failed("If-Match"));
        }
    } else if let Some(since) = if_unmodified_since {
        let since: time::OffsetDateTime = since.clone().into();
        if v.last_modified.replace_nanosecond(0).unwrap_or(v.last_modified) > since {
            return Err(precondition_failed("If-Unmodified-Since"));
        }
    }
    if let Some(cond) = if_none_match {
        if cond.as_etag().is_none_or(|e| e.weak_cmp(&tag)) {
            return Err(not_modified(v));
        }
    } else if let Some(since) = if_modified_since.and_then(past_date) {
        if v.last_modified.replace_nanosecond(0).unwrap_or(v.last_modified) <= since {
            return Err(not_modified(v));
        }
    }
    Ok(())
}

/// An If-Modified-Since date, unless it lies in the future: S3 then ignores the condition (RFC 9110
/// §13.1.3: such a date is invalid; as recorded: `test_s3.snapshot.json` →
/// `TestS3::test_s3_get_object_preconditions` → `obj-ignore-future-modified-since`).
pub(super) fn past_date(since: &dto::Timestamp) -> Option<time::OffsetDateTime> {
    Some(time::OffsetDateTime::from(since.clone())).filter(|since| *since <= now())
}

/// Conditional writes (PutObject, CompleteMultipartUpload; User Guide `conditional-writes`):
/// `If-None-Match: *` (or the current ETag) fails with 412 when the key has a current object;
/// `If-Match` fails with 404 when it has none (a delete marker counts as none) and 412 when its
/// ETag differs.
pub(super) fn check_write_conditions(
    b: &Bucket,
    key: &str,
    if_match: Option<&dto::ETagCondition>,
    if_none_match: Option<&dto::ETagCondition>,
) -> S3Result<()> {
    if if_match.is_none() && if_none_match.is_none() {
        return Ok(());
    }
    // Writes accept only `If-None-Match: *` and `If-Match: ETAG` (as recorded:
    // `test_put_object_if_none_match_validation`, `test_put_object_if_match_validation`).
    if if_match.is_some() && if_none_match.is_some() {
        // `test_copy_object_precondition_write_validation` → `copy-obj-both`.
        let err = s3_error!(NotImplemented, "A header you provided implies functionality that is not implemented");
        let err = super::api::error_element(err, "Header", "If-Match,If-None-Match");
        return Err(super::api::error_element(err, "additionalMessage", "Multiple conditional request headers present in the request"));
    }
    if if_none_match.is_some_and(|c| c.as_etag().is_some()) {
        return Err(condition_not_implemented("If-None-Match"));
    }
    if if_match.is_some_and(|c| c.as_etag().is_none()) {
        return Err(condition_not_implemented("If-Match"));
    }
    let current = b.objects.get(key).and_then(|versions| versions.last()).filter(|v| !v.delete_marker).map(etag);
    if let Some(cond) = if_match {
        let Some(current) = &current else {
            return Err(super::api::error_element(s3_error!(NoSuchKey, "The specified key does not exist."), "Key", key));
        };
        if cond.as_etag().is_some_and(|e| !e.strong_cmp(current)) {
            return Err(precondition_failed("If-Match"));
        }
    }
    if let (Some(cond), Some(current)) = (if_none_match, &current) {
        if cond.as_etag().is_none_or(|e| e.strong_cmp(current)) {
            return Err(precondition_failed("If-None-Match"));
        }
    }
    Ok(())
}

/// 501 NotImplemented for a write condition S3 does not accept, naming the header.
fn condition_not_implemented(header: &str) -> S3Error {
    let err = s3_error!(NotImplemented, "A header you provided implies functionality that is not implemented");
    let err = super::api::error_element(err, "Header", header);
    super::api::error_element(err, "additionalMessage", &format!("We don't accept the provided value of {header} header for this API"))
}

/// 412 PreconditionFailed naming the condition that did not hold, as AWS does (docs/aws-semantics.md §81).
pub(super) fn precondition_failed(condition: &str) -> S3Error {
    super::api::error_element(
        s3_error!(PreconditionFailed, "At least one of the pre-conditions you specified did not hold"),
        "Condition",
        condition,
    )
}

/// 304 Not Modified carries the ETag and Last-Modified of what the client has (RFC 9110 §15.4.5).
fn not_modified(v: &ObjectVersion) -> S3Error {
    let mut err = S3Error::new(s3s::S3ErrorCode::NotModified);
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", v.etag)) {
        headers.insert(http::header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::from(v.last_modified))) {
        headers.insert(http::header::LAST_MODIFIED, value);
    }
    err.set_headers(headers);
    err
}

/// Reading an SSE-KMS object needs kms:Decrypt on its key.
pub(super) fn check_kms_read(world: &World, caller: &Caller, bucket: &str, v: &ObjectVersion) -> S3Result<()> {
    if let Some(Sse::Kms { key_arn }) = &v.sse {
        crate::kms::authorize_s3_use(world, caller, key_arn, "kms:Decrypt", &crate::access::object_arn(bucket, &v.key))
            .map_err(|e| e.to_s3_error())?;
    }
    Ok(())
}

/// What GET and HEAD address, and their conditions (their input types differ in s3s); also the
/// source half of a copy request.
pub(super) struct ReadRequest<'a> {
    pub(super) bucket: &'a str,
    pub(super) key: &'a str,
    pub(super) version_id: Option<&'a str>,
    pub(super) expected_owner: Option<&'a str>,
    pub(super) if_match: Option<&'a dto::ETagCondition>,
    pub(super) if_none_match: Option<&'a dto::ETagCondition>,
    pub(super) if_modified_since: Option<&'a dto::Timestamp>,
    pub(super) if_unmodified_since: Option<&'a dto::Timestamp>,
    pub(super) customer_algorithm: Option<&'a str>,
    pub(super) customer_key: Option<&'a str>,
    pub(super) customer_key_md5: Option<&'a str>,
}

/// The `ReadRequest` of a GetObject or HeadObject input (same fields, different s3s types).
macro_rules! read_request {
    ($input:expr) => {
        ReadRequest {
            bucket: &$input.bucket,
            key: &$input.key,
            version_id: $input.version_id.as_deref(),
            expected_owner: $input.expected_bucket_owner.as_deref(),
            if_match: $input.if_match.as_ref(),
            if_none_match: $input.if_none_match.as_ref(),
            if_modified_since: $input.if_modified_since.as_ref(),
            if_unmodified_since: $input.if_unmodified_since.as_ref(),
            customer_algorithm: $input.sse_customer_algorithm.as_deref(),
            customer_key: $input.sse_customer_key.as_deref(),
            customer_key_md5: $input.sse_customer_key_md5.as_deref(),
        }
    };
}

/// Validates, authorizes and resolves a read: the bucket and the version it returns.
fn readable<'w>(world: &'w World, caller: &Caller, r: &ReadRequest<'_>) -> S3Result<(&'w Bucket, &'w ObjectVersion)> {
    validate::version_id(r.version_id)?;
    // Encryption is chosen when writing: GET and HEAD refuse the header (User Guide `UsingKMSEncryption`:
    // "you get an HTTP 400 Bad Request error").
    if caller.request_keys.iter().any(|(k, _)| k == "s3:x-amz-server-side-encryption") {
        return Err(s3_error!(InvalidArgument, "The encryption method specified is not supported"));
    }
    let customer_md5 = customer_key(r.customer_algorithm, r.customer_key, r.customer_key_md5)?;
    super::api::authorize_version(world, caller, read_action(r.version_id), r.bucket, Some(r.key), r.version_id, r.expected_owner)?;
    let b = bucket(world, r.bucket)?;
    let v = match addressed_object(b, r.key, r.version_id) {
        Ok(v) => v,
        // "If you don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code
        // 403 Access Denied error" for a missing object (API Reference `API_GetObject`,
        // `API_HeadObject`), so a caller cannot probe which keys exist.
        Err(e) if matches!(e.code(), s3s::S3ErrorCode::NoSuchKey | s3s::S3ErrorCode::NoSuchVersion) => {
            if crate::access::authorize(world, caller, "s3:ListBucket", b, None, &[]).is_err() {
                return Err(s3_error!(AccessDenied, "Access Denied"));
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    check_customer_key(v, customer_md5.as_deref())?;
    check_kms_read(world, caller, r.bucket, v)?;
    check_conditions(v, r.if_match, r.if_none_match, r.if_modified_since, r.if_unmodified_since)?;
    Ok((b, v))
}

/// The headers GET and HEAD both return for a version; `$extra` adds the fields that differ.
/// `PartsCount` only answers a request that named a part (as recorded: `test_upload_file_multipart`
/// → `get_object` has none, `test_get_object_part` → `get-object-part` has it).
macro_rules! version_output {
    ($ty:ident, $b:expr, $v:expr, $part_number:expr, { $($extra:tt)* }) => {{
        let (b, v) = ($b, $v);
        let (sse, kms_key) = sse_fields(v);
        let (customer_algorithm, customer_md5) = customer_key_fields(v);
        dto::$ty {
            $($extra)*
            accept_ranges: Some("bytes".to_owned()),
            e_tag: Some(etag(v)),
            last_modified: Some(timestamp(v.last_modified)),
            content_encoding: v.headers.content_encoding.clone(),
            content_language: v.headers.content_language.clone(),
            metadata: metadata_dto(v),
            version_id: reported_version(b, v),
            replication_status: v.replication.as_ref().map(|r| dto::ReplicationStatus::from(r.header().to_owned())),
            storage_class: storage_class_dto(v),
            server_side_encryption: sse,
            ssekms_key_id: kms_key,
            sse_customer_algorithm: customer_algorithm,
            sse_customer_key_md5: customer_md5,
            restore: restore_header(v),
            website_redirect_location: v.headers.website_redirect_location.clone(),
            parts_count: $part_number.and(v.parts_count).map(|p| i32::try_from(p).unwrap_or(i32::MAX)),
            object_lock_legal_hold_status: v.legal_hold.clone().map(dto::ObjectLockLegalHoldStatus::from),
            object_lock_mode: v.retention.as_ref().map(|(m, _)| dto::ObjectLockMode::from(m.clone())),
            object_lock_retain_until_date: v.retention.as_ref().map(|(_, d)| timestamp(*d)),
            ..Default::default()
        }
    }};
}

pub async fn get_object(api: &S3Api, req: S3Request<dto::GetObjectInput>) -> S3Result<S3Response<dto::GetObjectOutput>> {
    let (mut output, status, file) = get_object_locked(api, req)?;
    // Bytes from a file are checked against the checksum they were written with (not under the
    // world lock): damage is never answered as a complete 200.
    if let Some(read) = file {
        output.body = Some(super::body::checked_file_body(read).await?);
    }
    Ok(match status {
        Some(s) => super::api::with_status(output, s),
        None => S3Response::new(output),
    })
}

/// GetObject's answer, with the file to serve its bytes from when they are in one.
#[allow(clippy::type_complexity)]
fn get_object_locked(
    api: &S3Api,
    req: S3Request<dto::GetObjectInput>,
) -> S3Result<(dto::GetObjectOutput, Option<StatusCode>, Option<super::body::FileRead>)> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    let (b, v) = readable(&world, &caller, &read_request!(input))?;
    // Archived objects are read only through a restored copy (API Reference `API_GetObject`).
    if !v.readable_at(now()) {
        // As recorded (`test_put_object_storage_class` → `get-object`): the class named in the body and a header.
        let class = v.storage_class.clone();
        let mut err = error_element(
            s3_error!(InvalidObjectState, "The operation is not valid for the object's storage class"),
            "StorageClass",
            &class,
        );
        let mut headers = err.headers().cloned().unwrap_or_default();
        if let Ok(value) = HeaderValue::from_str(&class) {
            headers.insert("x-amz-storage-class", value);
        }
        err.set_headers(headers);
        return Err(err);
    }
    let total = v.size() as u64;
    let (start, end, content_range, status) = match (&input.range, part_range(v, input.part_number)?) {
        (Some(_), Some(_)) => {
            return Err(s3_error!(InvalidRequest, "Cannot specify both Range header and partNumber query parameter"));
        }
        (None, Some((start, end))) => {
            (start, end, Some(format!("bytes {start}-{}/{total}", end.saturating_sub(1))), Some(StatusCode::PARTIAL_CONTENT))
        }
        (Some(range), None) => {
            let r = range.check(total).map_err(|e| range_not_satisfiable(e.into(), range, total))?;
            (r.start, r.end, Some(format!("bytes {}-{}/{total}", r.start, r.end.saturating_sub(1))), Some(StatusCode::PARTIAL_CONTENT))
        }
        (None, None) => (0, total, None, None),
    };
    // Files stream out in chunks; in-memory bytes are shared, never copied.
    let (length, body, file) = match world.blobs.file(&v.data) {
        Some(path) => {
            let object = format!("{}/{} (version {})", b.name, v.key, v.version_id);
            // Opened under the lock: a file removed once its version is gone stays readable.
            let file = std::fs::File::open(&path).map_err(|e| {
                tracing::error!("object {object} is damaged at rest: its file {} cannot be opened: {e}; it is not served", path.display());
                s3_error!(InternalError, "We encountered an internal error. Please try again.")
            })?;
            (end - start, None, Some(super::body::FileRead { file, path, blob: v.data.clone(), start, end, object }))
        }
        None => {
            let all = world.blobs.get(&v.data);
            let slice = all.slice(usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(all.len()).min(all.len()));
            (slice.len() as u64, Some(blob(slice)), None)
        }
    };
    let mut output = version_output!(GetObjectOutput, b, v, input.part_number, {
        expiration: expiration(b, v, input.version_id.as_deref()),
        content_length: Some(i64::try_from(length).unwrap_or(i64::MAX)),
        body,
        content_range,
        content_type: input.response_content_type.clone().or_else(|| stored_content_type(v)).and_then(|c| c.parse().ok()),
        content_disposition: input.response_content_disposition.clone().or_else(|| v.headers.content_disposition.clone()),
        cache_control: input.response_cache_control.clone().or_else(|| v.headers.cache_control.clone()),
        expires: input.response_expires.clone().or_else(|| v.headers.expires.map(Into::into)),
        tag_count: (!v.tags.is_empty()).then(|| i32::try_from(v.tags.len()).unwrap_or(i32::MAX)),
    });
    let checksum = match (&input.range, input.part_number) {
        // A range has no stored checksum; a part has its own (User Guide `checking-object-integrity`).
        (Some(_), _) => super::checksum::Fields::default(),
        (None, Some(n)) => part_checksum(v, n, input.checksum_mode.as_ref()),
        (None, None) => super::checksum::reported(v, input.checksum_mode.as_ref()),
    };
    output.checksum_type = checksum.checksum_type.clone();
    set_checksum!(output, checksum);
    Ok((output, status, file))
}

/// InvalidRange naming the object's size and the range asked for (as recorded: `test_invalid_range_error` → `exc`).
fn range_not_satisfiable(err: S3Error, range: &dto::Range, total: u64) -> S3Error {
    let requested = match range {
        dto::Range::Int { first, last: Some(last) } => format!("bytes={first}-{last}"),
        dto::Range::Int { first, last: None } => format!("bytes={first}-"),
        dto::Range::Suffix { length } => format!("bytes=-{length}"),
    };
    error_element(error_element(err, "ActualObjectSize", &total.to_string()), "RangeRequested", &requested)
}

/// A current version read without a version id names when lifecycle expires it; a request naming a
/// version gets none, even for the current one (as recorded:
/// `test_bucket_lifecycle_configuration_object_expiry_versioned` → `head-object-expiry-current-with-version-id`).
fn expiration(b: &Bucket, v: &ObjectVersion, version_id: Option<&str>) -> Option<String> {
    version_id.is_none().then(|| super::lifecycle::expiration_header(b.settings.lifecycle.as_ref(), v)).flatten()
}

/// The object's Content-Type; one put without any is stored as `binary/octet-stream` (docs/aws-semantics.md §80).
fn stored_content_type(v: &ObjectVersion) -> Option<String> {
    Some(v.headers.content_type.clone().unwrap_or_else(|| "binary/octet-stream".to_owned()))
}

pub fn head_object(api: &S3Api, req: S3Request<dto::HeadObjectInput>) -> S3Result<S3Response<dto::HeadObjectOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    let (b, v) = readable(&world, &caller, &read_request!(input))?;
    let part = part_range(v, input.part_number)?;
    let total = v.size() as u64;
    let length = part.map_or(total, |(start, end)| end - start);
    let mut output = version_output!(HeadObjectOutput, b, v, input.part_number, {
        expiration: expiration(b, v, input.version_id.as_deref()),
        content_length: Some(i64::try_from(length).unwrap_or(i64::MAX)),
        content_range: part.map(|(start, end)| format!("bytes {start}-{}/{total}", end.saturating_sub(1))),
        content_type: stored_content_type(v).and_then(|c| c.parse().ok()),
        content_disposition: v.headers.content_disposition.clone(),
        cache_control: v.headers.cache_control.clone(),
        expires: v.headers.expires.map(Into::into),
    });
    let checksum = match input.part_number {
        Some(n) => part_checksum(v, n, input.checksum_mode.as_ref()),
        None => super::checksum::reported(v, input.checksum_mode.as_ref()),
    };
    output.checksum_type = checksum.checksum_type.clone();
    set_checksum!(output, checksum);
    let mut response = match part {
        Some(_) => super::api::with_status(output, StatusCode::PARTIAL_CONTENT),
        None => S3Response::new(output),
    };
    // HeadObject counts the tags as GetObject does (as recorded: `test_head_object_with_tags`); s3s's
    // HeadObjectOutput has no field for it.
    if !v.tags.is_empty() {
        response.headers.insert("x-amz-tagging-count", HeaderValue::from(v.tags.len()));
    }
    Ok(response)
}

/// The checksum of part `n` (the object's own when it has no parts), if the request asked.
fn part_checksum(v: &ObjectVersion, n: i32, mode: Option<&dto::ChecksumMode>) -> super::checksum::Fields {
    if v.parts.is_empty() {
        return super::checksum::reported(v, mode);
    }
    let object = super::checksum::fields(v.checksum.as_ref());
    // A part of a FULL_OBJECT upload has no checksum of its own; one part is the whole object (as
    // recorded: `test_get_object_part` → `get-object-part`, none of two parts;
    // `test_complete_multipart_parts_checksum_full_object` → `get-object-part-checksum`, none of three;
    // `test_get_object_part_checksum[FULL_OBJECT]`, the object's of one part).
    if v.checksum.as_ref().is_some_and(|c| c.full_object) {
        return if v.parts.len() == 1 { super::checksum::reported(v, mode) } else { super::checksum::Fields::default() };
    }
    if !super::checksum::requested(mode) {
        return super::checksum::reported(v, mode);
    }
    let part = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)).and_then(|i| v.parts.get(i));
    let mut fields =
        super::checksum::part_fields(v.checksum.as_ref().map(|c| c.algorithm.as_str()), part.and_then(|p| p.checksum.as_deref()));
    // A part answers with its own checksum and the object's checksum type.
    fields.checksum_type = object.checksum_type;
    fields
}

/// The bytes `?partNumber=N` addresses (API Reference `API_GetObject`): a part of a multipart
/// object, or the whole of any other object as its part 1.
fn part_range(v: &ObjectVersion, part_number: Option<i32>) -> S3Result<Option<(u64, u64)>> {
    let Some(n) = part_number else { return Ok(None) };
    // As recorded (`test_get_object_part` → `part-doesnt-exist`, `part-no-multipart`): 416, naming both counts.
    let not_satisfiable = || {
        let mut err = S3Error::with_message(S3ErrorCode::Custom("InvalidPartNumber".into()), "The requested partnumber is not satisfiable");
        err.set_status_code(StatusCode::RANGE_NOT_SATISFIABLE);
        let err = error_element(err, "ActualPartCount", &v.parts.len().max(1).to_string());
        error_element(err, "PartNumberRequested", &n.to_string())
    };
    let index = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)).ok_or_else(not_satisfiable)?;
    if v.parts.is_empty() {
        return if index == 0 { Ok(Some((0, v.size() as u64))) } else { Err(not_satisfiable()) };
    }
    let part = v.parts.get(index).ok_or_else(not_satisfiable)?;
    let start: u64 = v.parts[..index].iter().map(|p| p.size).sum();
    Ok(Some((start, start + part.size)))
}

/// Result of deleting one key (shared by DeleteObject and DeleteObjects).
struct Deleted {
    delete_marker: bool,
    version_id: Option<String>,
}

/// What deleting a version that does not exist answers: DeleteObject succeeds (nothing to do),
/// DeleteObjects reports NoSuchVersion for that key (as recorded: `test_delete_objects` →
/// `delete-object-wrong-version-id`).
#[derive(Clone, Copy, PartialEq)]
enum MissingVersion {
    Succeeds,
    IsAnError,
}

fn delete_one(
    world: &mut World,
    caller: &Caller,
    (bucket_name, key, version_id): (&str, &str, Option<&str>),
    bypass_governance: bool,
    missing: MissingVersion,
) -> S3Result<(Deleted, Vec<replication::Task>)> {
    validate::version_id(version_id)?;
    let action = if version_id.is_some() { "s3:DeleteObjectVersion" } else { "s3:DeleteObject" };
    authorize(world, caller, action, bucket_name, Some(key), None)?;
    if let Some(id) = version_id {
        let b = bucket(world, bucket_name)?;
        match b.version(key, id) {
            Some(v) => super::lock::check_delete(world, caller, b, v, bypass_governance)?,
            None if missing == MissingVersion::IsAnError => {
                return Err(s3_error!(NoSuchVersion, "The specified version does not exist."));
            }
            None => check_version_in_unversioned(b, id)?,
        }
    }
    let writer = caller.account.clone();
    let b = bucket_mut(world, bucket_name)?;
    match version_id {
        // A versioned delete removes the version for good and is never replicated (§3).
        Some(id) => {
            let removed = b.delete_version(key, id);
            Ok((Deleted { delete_marker: removed.is_some_and(|v| v.delete_marker), version_id: Some(id.to_owned()) }, Vec::new()))
        }
        None => {
            let marker_owner = if b.acls_enabled() { writer.unwrap_or_else(|| b.owner_account.clone()) } else { b.owner_account.clone() };
            let outcome = b.delete_current(key, &marker_owner, now());
            let tasks = match &outcome.marker_version_id {
                Some(vid) => replication::on_change(world, bucket_name, key, vid, TaskKind::DeleteMarker),
                None => Vec::new(),
            };
            Ok((Deleted { delete_marker: outcome.marker_version_id.is_some(), version_id: outcome.marker_version_id }, tasks))
        }
    }
}

/// `x-amz-bypass-governance-retention`, true or false, only goes to a bucket with Object Lock (as
/// recorded: `test_delete_object_with_no_locking`); the bucket must exist.
fn check_bypass_applies(world: &World, bucket_name: &str, bypass: Option<bool>) -> S3Result<()> {
    if bypass.is_some() && !bucket(world, bucket_name)?.object_lock {
        return Err(super::api::invalid_argument(
            "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.",
            "x-amz-bypass-governance-retention",
            None,
        ));
    }
    bucket(world, bucket_name).map(|_| ())
}

pub fn delete_object(api: &S3Api, req: S3Request<dto::DeleteObjectInput>) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    if let Some(expected) = &input.expected_bucket_owner {
        if bucket(&world, &input.bucket)?.owner_account != *expected {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        }
    }
    check_bypass_applies(&world, &input.bucket, input.bypass_governance_retention)?;
    let (deleted, tasks) = delete_one(
        &mut world,
        &caller,
        (&input.bucket, &input.key, input.version_id.as_deref()),
        input.bypass_governance_retention == Some(true),
        MissingVersion::Succeeds,
    )?;
    drop(world);
    api.enqueue(tasks);
    Ok(super::api::with_status(
        dto::DeleteObjectOutput {
            delete_marker: deleted.delete_marker.then_some(true),
            version_id: deleted.version_id,
            request_charged: None,
        },
        StatusCode::NO_CONTENT,
    ))
}

pub fn delete_objects(api: &S3Api, req: S3Request<dto::DeleteObjectsInput>) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    if input.delete.objects.len() > 1000 {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    let quiet = input.delete.quiet == Some(true);
    let mut world = api.shared.world();
    check_bypass_applies(&world, &input.bucket, input.bypass_governance_retention)?;
    let (mut deleted, mut errors, mut all_tasks) = (Vec::new(), Vec::new(), Vec::new());
    for object in &input.delete.objects {
        match delete_one(
            &mut world,
            &caller,
            (&input.bucket, &object.key, object.version_id.as_deref()),
            input.bypass_governance_retention == Some(true),
            MissingVersion::IsAnError,
        ) {
            Ok((d, tasks)) => {
                all_tasks.extend(tasks);
                if !quiet {
                    let marker_id = d.delete_marker.then(|| d.version_id.clone()).flatten();
                    deleted.push(dto::DeletedObject {
                        key: Some(object.key.clone()),
                        version_id: object.version_id.clone(),
                        delete_marker: d.delete_marker.then_some(true),
                        // Also when a marker was deleted by its id (as recorded: `test_delete_objects_versioned`).
                        delete_marker_version_id: marker_id,
                    });
                }
            }
            Err(e) => errors.push(dto::Error {
                code: Some(e.code().as_str().to_owned()),
                message: e.message().map(str::to_owned),
                key: Some(object.key.clone()),
                version_id: object.version_id.clone(),
            }),
        }
    }
    drop(world);
    api.enqueue(all_tasks);
    Ok(S3Response::new(dto::DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        request_charged: None,
    }))
}

fn tagging_action(base: &str, version_id: Option<&str>) -> String {
    match version_id {
        Some(_) => base.replace("ObjectTagging", "ObjectVersionTagging"),
        None => base.to_owned(),
    }
}

/// The object (version) a tagging request addresses.
struct TagTarget<'a> {
    bucket_name: &'a str,
    object_key: &'a str,
    version_id: Option<&'a str>,
    expected_owner: Option<&'a str>,
}

fn set_tags(api: &S3Api, caller: &Caller, action: &str, target: &TagTarget<'_>, tags: Vec<(String, String)>) -> S3Result<Option<String>> {
    let TagTarget { bucket_name, object_key, version_id, expected_owner } = *target;
    validate::version_id(version_id)?;
    let mut world = api.shared.world();
    authorize(&world, caller, &tagging_action(action, version_id), bucket_name, Some(object_key), expected_owner)?;
    let b = bucket(&world, bucket_name)?;
    refuse_current_delete_marker(b, object_key, version_id)?;
    let id = addressed_object(b, object_key, version_id)?.version_id.clone();
    let reported = (b.versioning != Versioning::Unversioned).then(|| id.clone());
    if let Some(v) = bucket_mut(&mut world, bucket_name)?.version_mut(object_key, &id) {
        v.tags = tags;
    }
    let tasks = replication::on_change(&mut world, bucket_name, object_key, &id, TaskKind::Tags);
    drop(world);
    api.enqueue(tasks);
    Ok(reported)
}

fn tag_target<'a>(
    bucket_name: &'a str,
    object_key: &'a str,
    version_id: Option<&'a str>,
    expected_owner: Option<&'a str>,
) -> TagTarget<'a> {
    TagTarget { bucket_name, object_key, version_id, expected_owner }
}

pub fn put_object_tagging(api: &S3Api, req: S3Request<dto::PutObjectTaggingInput>) -> S3Result<S3Response<dto::PutObjectTaggingOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let tags = validate::dto_tags(&input.tagging.tag_set)?;
    let version_id = set_tags(
        api,
        &caller,
        "s3:PutObjectTagging",
        &tag_target(&input.bucket, &input.key, input.version_id.as_deref(), input.expected_bucket_owner.as_deref()),
        tags,
    )?;
    Ok(S3Response::new(dto::PutObjectTaggingOutput { version_id }))
}

pub fn delete_object_tagging(
    api: &S3Api,
    req: S3Request<dto::DeleteObjectTaggingInput>,
) -> S3Result<S3Response<dto::DeleteObjectTaggingOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let version_id = set_tags(
        api,
        &caller,
        "s3:DeleteObjectTagging",
        &tag_target(&input.bucket, &input.key, input.version_id.as_deref(), input.expected_bucket_owner.as_deref()),
        Vec::new(),
    )?;
    Ok(super::api::with_status(dto::DeleteObjectTaggingOutput { version_id }, StatusCode::NO_CONTENT))
}

pub fn get_object_tagging(api: &S3Api, req: S3Request<dto::GetObjectTaggingInput>) -> S3Result<S3Response<dto::GetObjectTaggingOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    validate::version_id(input.version_id.as_deref())?;
    let world = api.shared.world();
    authorize(
        &world,
        &caller,
        &tagging_action("s3:GetObjectTagging", input.version_id.as_deref()),
        &input.bucket,
        Some(&input.key),
        input.expected_bucket_owner.as_deref(),
    )?;
    let b = bucket(&world, &input.bucket)?;
    refuse_current_delete_marker(b, &input.key, input.version_id.as_deref())?;
    let v = addressed_object(b, &input.key, input.version_id.as_deref())?;
    // A tag set has no order; answered sorted by key, as Ceph's suite expects of S3 (test_put_obj_with_tags).
    let mut tags = v.tags.clone();
    tags.sort();
    Ok(S3Response::new(dto::GetObjectTaggingOutput { tag_set: validate::to_dto_tags(&tags), version_id: reported_version(b, v) }))
}

/// RestoreObject: a temporary readable copy of an archived object, ready after the emulator's
/// restore latency (0 by default: at once). 202 for a new restore, 200 when the copy is already
/// there (its expiry is extended), 409 while one is in progress (API Reference `API_RestoreObject`).
pub fn restore_object(api: &S3Api, req: S3Request<dto::RestoreObjectInput>) -> S3Result<S3Response<dto::RestoreObjectOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    validate::version_id(input.version_id.as_deref())?;
    let mut world = api.shared.world();
    super::api::authorize_version(
        &world,
        &caller,
        "s3:RestoreObject",
        &input.bucket,
        Some(&input.key),
        input.version_id.as_deref(),
        input.expected_bucket_owner.as_deref(),
    )?;
    let days = input.restore_request.as_ref().and_then(|r| r.days).unwrap_or(1);
    if days < 1 {
        return Err(s3_error!(InvalidArgument, "Days must be a positive integer"));
    }
    let latency = time::Duration::try_from(world.restore_latency).unwrap_or(time::Duration::ZERO);
    let b = bucket(&world, &input.bucket)?;
    let id = addressed_object(b, &input.key, input.version_id.as_deref())?.version_id.clone();
    let at = now();
    let Some(v) = bucket_mut(&mut world, &input.bucket)?.version_mut(&input.key, &id) else {
        return Err(super::api::error_element(s3_error!(NoSuchKey, "The specified key does not exist."), "Key", &input.key));
    };
    if !crate::state::s3::is_archived_class(&v.storage_class) {
        return Err(s3_error!(InvalidObjectState, "Restore is not allowed for the object's current storage class"));
    }
    let expires_at = at + time::Duration::days(i64::from(days));
    let status = match &mut v.restore {
        Some(r) if at < r.ready_at => return Err(s3_error!(RestoreAlreadyInProgress, "Object restore is already in progress")),
        Some(r) => {
            r.expires_at = expires_at;
            StatusCode::OK
        }
        None => {
            let ready_at = at + latency;
            v.restore = Some(crate::state::s3::Restore { ready_at, expires_at: expires_at + latency });
            StatusCode::ACCEPTED
        }
    };
    Ok(super::api::with_status(dto::RestoreObjectOutput::default(), status))
}
