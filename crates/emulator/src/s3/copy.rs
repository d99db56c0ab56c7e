//! CopyObject and UploadPartCopy: a server-side copy of a version, or of a byte range of it, into a
//! new object or into a part of a multipart upload. Both resolve the source the same way (read
//! permission on the addressed version, its SSE-C key, `kms:Decrypt` for SSE-KMS, the
//! `x-amz-copy-source-if-*` conditions, the archive state) and answer with the encryption of what
//! they wrote (API Reference `API_CopyObject`, `API_UploadPartCopy`).

use s3s::dto::{self, ETag};
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, timestamp, S3Api};
use super::checksum::{Algorithm, BodyDigest};
use super::multipart::{check_part_number, check_upload_customer_key, effective_algorithm, no_such_upload};
use super::object::{
    check_customer_key, check_kms_read, customer_key, customer_key_fields, key, new_object_owner, new_version_sse, read_action, sse_fields,
    storage_class, ReadRequest,
};
use super::validate;
use super::version::{addressed_object, etag, reported_version};
use crate::identity::Caller;

use crate::state::s3::{ContentHeaders, ObjectChecksum, ObjectVersion, UploadPart, NULL_VERSION};
use crate::state::Blob;
use crate::state::{now, World};

/// The largest part UploadPartCopy copies (User Guide `qfacts`: 5 GiB).
const MAX_COPY_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The source half of a copy request (CopyObject and UploadPartCopy carry the same fields).
macro_rules! source_request {
    ($input:expr, $bucket:expr, $key:expr, $version:expr) => {
        ReadRequest {
            bucket: $bucket,
            key: $key,
            version_id: $version,
            expected_owner: $input.expected_source_bucket_owner.as_deref(),
            if_match: $input.copy_source_if_match.as_ref(),
            if_none_match: $input.copy_source_if_none_match.as_ref(),
            if_modified_since: $input.copy_source_if_modified_since.as_ref(),
            if_unmodified_since: $input.copy_source_if_unmodified_since.as_ref(),
            customer_algorithm: $input.copy_source_sse_customer_algorithm.as_deref(),
            customer_key: $input.copy_source_sse_customer_key.as_deref(),
            customer_key_md5: $input.copy_source_sse_customer_key_md5.as_deref(),
        }
    };
}

fn precondition_failed(condition: &str) -> s3s::S3Error {
    super::object::precondition_failed(condition)
}

/// The copy-source conditions: every failure is 412, and an `if-match` that holds (or an
/// `if-none-match` that fails) decides alone when the date condition is sent too (API_CopyObject).
fn check_copy_conditions(v: &ObjectVersion, r: &ReadRequest<'_>) -> S3Result<()> {
    let tag = etag(v);
    let modified = v.last_modified.replace_nanosecond(0).unwrap_or(v.last_modified);
    if let Some(cond) = r.if_match {
        if cond.as_etag().is_some_and(|e| !e.strong_cmp(&tag)) {
            return Err(precondition_failed("x-amz-copy-source-If-Match"));
        }
    } else if let Some(since) = r.if_unmodified_since {
        if modified > time::OffsetDateTime::from(since.clone()) {
            return Err(precondition_failed("x-amz-copy-source-If-Unmodified-Since"));
        }
    }
    if let Some(cond) = r.if_none_match {
        if cond.as_etag().is_none_or(|e| e.weak_cmp(&tag)) {
            return Err(precondition_failed("x-amz-copy-source-If-None-Match"));
        }
    } else if let Some(since) = r.if_modified_since.and_then(super::object::past_date) {
        if modified <= since {
            return Err(precondition_failed("x-amz-copy-source-If-Modified-Since"));
        }
    }
    Ok(())
}

/// Authorizes and resolves the source version of a copy.
fn copy_source(world: &World, caller: &Caller, r: &ReadRequest<'_>) -> S3Result<ObjectVersion> {
    validate::version_id(r.version_id)?;
    authorize(world, caller, read_action(r.version_id), r.bucket, Some(r.key), r.expected_owner)?;
    let source = addressed_object(bucket(world, r.bucket)?, r.key, r.version_id)?;
    check_customer_key(source, customer_key(r.customer_algorithm, r.customer_key, r.customer_key_md5)?.as_deref())?;
    check_kms_read(world, caller, r.bucket, source)?;
    check_copy_conditions(source, r)?;
    if !source.readable_at(now()) {
        return Err(s3_error!(
            InvalidObjectState,
            "The source object of the COPY action is not in the active tier and is only stored in Amazon S3 Glacier."
        ));
    }
    Ok(source.clone())
}

/// The version id a copy reports for its source: the one asked for, else the current one's
/// unless it is the null version.
fn source_version_reported(requested: Option<&str>, source: &ObjectVersion) -> Option<String> {
    requested.map(str::to_owned).or_else(|| (source.version_id != NULL_VERSION).then(|| source.version_id.clone()))
}

/// Whether a copy onto itself keeps the storage class, website redirect and encryption. The
/// encryption changes when the bucket has a default encryption configuration or the source is not
/// SSE-S3 (it would become SSE-S3): AWS accepts those (as recorded: `test_s3.snapshot.json` →
/// `TestS3::test_copy_in_place_with_bucket_encryption`, `TestS3::test_s3_copy_object_in_place_with_encryption`
/// → `copy-object-in-place-without-kms-sse`).
fn changes_nothing(b: &crate::state::s3::Bucket, input: &dto::CopyObjectInput, source: &ObjectVersion) -> bool {
    input.storage_class.is_none()
        && input.server_side_encryption.is_none()
        && input.website_redirect_location.is_none()
        && b.settings.encryption.is_none()
        && matches!(source.sse, None | Some(crate::state::s3::Sse::S3))
}

/// What a copy computes again from the source's bytes: the bytes it read, their MD5 and the
/// checksum in the algorithm the copy keeps.
struct Rehashed {
    data: Blob,
    md5: String,
    checksum: ObjectChecksum,
}

/// A copy computes its checksum again when it asks for an algorithm other than the source's (as
/// recorded: `test_s3_copy_object_with_checksum` → `copy-object-in-place-with-checksum`), and its
/// ETag and a whole-object checksum when the source is a multipart object (`test_multipart_copy_object_etag`:
/// a plain MD5 ETag; `test_complete_multipart_parts_checksum_composite` → `copy-obj-checksum`: CRC32
/// FULL_OBJECT). Done from the source's bytes before the copy, off the world lock (a copy may be 5 GiB).
pub async fn copy_object(api: &S3Api, req: S3Request<dto::CopyObjectInput>) -> S3Result<S3Response<dto::CopyObjectOutput>> {
    let requested = req.input.checksum_algorithm.as_ref().map(|a| Algorithm::parse(a.as_str())).transpose()?;
    let caller = api.caller(&req)?;
    let mut rehashed = None;
    if let dto::CopySource::Bucket { bucket, key, version_id } = &req.input.copy_source {
        let found = {
            let world = api.shared.world();
            let source = copy_source(&world, &caller, &source_request!(req.input, bucket, key, version_id.as_deref()));
            source.ok().map(|v| (v.data.clone(), v.checksum.clone(), !v.parts.is_empty(), std::sync::Arc::clone(&world.blobs)))
        };
        if let Some((data, checksum, multipart, store)) = found {
            let source_algorithm = checksum.as_ref().and_then(|c| Algorithm::parse(&c.algorithm).ok());
            let algorithm = requested.or(source_algorithm).unwrap_or(Algorithm::Crc64Nvme);
            let kept = checksum.is_some_and(|c| c.full_object && c.algorithm == algorithm.name());
            if multipart || !kept {
                rehashed = tokio::task::spawn_blocking(move || {
                    let bytes = store.read(&data).ok()?;
                    let mut digest = BodyDigest::new(algorithm);
                    digest.update(&bytes);
                    let digests = digest.finish();
                    let checksum = super::checksum::full_object(algorithm, digests.checksum);
                    Some(Rehashed { data, md5: hex::encode(digests.md5), checksum })
                })
                .await
                .ok()
                .flatten();
            }
        }
    }
    copy_object_locked(api, &caller, req, rehashed)
}

/// The metadata and representation headers of a copy: the request's with `REPLACE`, else the
/// source's; the copy's own redirect wins either way (`test_s3_copy_object_in_place_website_redirect_location`).
fn copied_headers(
    input: &dto::CopyObjectInput,
    source: &ObjectVersion,
    replace_meta: bool,
) -> S3Result<(std::collections::BTreeMap<String, String>, ContentHeaders)> {
    let (metadata, headers) = if replace_meta {
        (validate::metadata(input.metadata.as_ref())?, content_headers!(input))
    } else {
        (source.metadata.clone(), source.headers.clone())
    };
    let headers = ContentHeaders {
        website_redirect_location: input.website_redirect_location.clone().or(headers.website_redirect_location),
        ..headers
    };
    Ok((metadata, headers))
}

fn copy_object_locked(
    api: &S3Api,
    caller: &Caller,
    req: S3Request<dto::CopyObjectInput>,
    rehashed: Option<Rehashed>,
) -> S3Result<S3Response<dto::CopyObjectOutput>> {
    // Conditional writes on the destination (s3s's CopyObjectInput predates them: read from the headers).
    let if_match = write_condition(&req.headers, "if-match")?;
    let if_none_match = write_condition(&req.headers, "if-none-match")?;
    let input = req.input;
    key(&input.key)?;
    let dto::CopySource::Bucket { bucket: src_bucket, key: src_key, version_id: src_version } = &input.copy_source else {
        return Err(s3_error!(NotImplemented, "Copying from an access point is not supported"));
    };
    let src_version = src_version.as_deref();
    let mut world = api.shared.world();
    let source = copy_source(&world, caller, &source_request!(input, src_bucket, src_key, src_version))?;
    authorize(&world, caller, "s3:PutObject", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let customer_md5 =
        customer_key(input.sse_customer_algorithm.as_deref(), input.sse_customer_key.as_deref(), input.sse_customer_key_md5.as_deref())?;
    let replace_meta = input.metadata_directive.as_ref().is_some_and(|d| d.as_str() == "REPLACE");
    let replace_tags = input.tagging_directive.as_ref().is_some_and(|d| d.as_str() == "REPLACE");
    let class = match &input.storage_class {
        Some(c) => storage_class(Some(c.as_str()))?,
        None => source.storage_class.clone(),
    };
    let in_place = **src_bucket == *input.bucket && **src_key == *input.key;
    if in_place && !replace_meta && customer_md5.is_none() && changes_nothing(bucket(&world, &input.bucket)?, &input, &source) {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
        ));
    }
    let tags = if replace_tags { validate::tagging_header(input.tagging.as_deref())? } else { source.tags.clone() };
    let (metadata, headers) = copied_headers(&input, &source, replace_meta)?;
    let dest = bucket(&world, &input.bucket)?.clone_settings();
    let (owner_account, grants) =
        new_object_owner(&world, &dest, caller, input.acl.as_ref().map(dto::ObjectCannedACL::as_str), &grant_headers!(input))?;
    let sse = new_version_sse(&mut world, caller, &dest, &input.key, sse_headers!(input, customer_md5))?;
    let target = bucket_mut(&mut world, &input.bucket)?;
    super::object::check_write_conditions(target, &input.key, if_match.as_ref(), if_none_match.as_ref())?;
    let rehashed = rehashed.filter(|r| r.data == source.data);
    let version = ObjectVersion {
        version_id: target.next_version_id(),
        data: source.data.clone(),
        etag: rehashed.as_ref().map_or_else(|| source.etag.clone(), |r| r.md5.clone()),
        headers,
        metadata,
        tags,
        storage_class: class,
        sse,
        // A copy made again from the bytes is a single-part object.
        parts_count: rehashed.as_ref().map_or(source.parts_count, |_| None),
        // A whole-object checksum describes the copied bytes as well (as recorded: `test_copy_object_if_match` →
        // `copy-obj-if-match`, CRC32 FULL_OBJECT); a composite one belongs to the source's parts.
        checksum: match rehashed {
            Some(r) => Some(r.checksum),
            None => source.checksum.clone().filter(|c| c.full_object),
        },
        ..ObjectVersion::written(&input.key, owner_account, grants, now())
    };
    let result = copy_result(&version);
    let (reported, (encryption, kms_key), (customer_algorithm, customer_md5)) =
        (reported_version(target, &version), sse_fields(&version), customer_key_fields(&version));
    api.store_new_version(world, &input.bucket, version)?;
    Ok(S3Response::new(dto::CopyObjectOutput {
        copy_object_result: Some(result),
        copy_source_version_id: source_version_reported(src_version, &source),
        version_id: reported,
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        sse_customer_algorithm: customer_algorithm,
        sse_customer_key_md5: customer_md5,
        ..Default::default()
    }))
}

/// The CopyObjectResult: the new version's ETag, time and checksum.
fn copy_result(version: &ObjectVersion) -> dto::CopyObjectResult {
    let checksum = super::checksum::fields(version.checksum.as_ref());
    let mut result = dto::CopyObjectResult {
        e_tag: Some(etag(version)),
        // Whole seconds, as S3 writes them (`test_s3_timestamp_precision`).
        last_modified: Some(super::api::listed_time(version.last_modified)),
        checksum_type: checksum.checksum_type.clone(),
        ..Default::default()
    };
    set_checksum!(result, checksum);
    result
}

/// The `If-Match`/`If-None-Match` condition of a CopyObject (on the destination, as for PutObject).
fn write_condition(headers: &http::HeaderMap, name: &str) -> S3Result<Option<dto::ETagCondition>> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => dto::ETagCondition::parse_http_header(value.as_bytes())
            .map(Some)
            .map_err(|_| s3_error!(InvalidArgument, "Invalid {name} header value")),
    }
}

const RANGE_FORM: &str =
    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy";

/// `x-amz-copy-source-range`: exactly `bytes=first-last` (one range, both ends), inside the source.
fn copy_range(range: Option<&str>, size: u64) -> S3Result<std::ops::Range<u64>> {
    let Some(range) = range else { return Ok(0..size) };
    let parsed = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .and_then(|(first, last)| Some((first.parse::<u64>().ok()?, last.parse::<u64>().ok()?)))
        .filter(|(first, last)| first <= last);
    // As recorded (`test_upload_part_copy_range`): the header is named, and a range starting past the
    // end is another error than one ending past it.
    let refused = |message: &str| super::api::invalid_argument(message, "x-amz-copy-source-range", Some(range));
    let (first, last) = parsed.ok_or_else(|| refused(RANGE_FORM))?;
    if first >= size {
        return Err(s3_error!(InvalidRequest, "The specified copy range is invalid for the source object size"));
    }
    if last >= size {
        return Err(refused(&format!("Range specified is not valid for source object of size: {size}")));
    }
    Ok(first..last + 1)
}

pub async fn upload_part_copy(api: &S3Api, req: S3Request<dto::UploadPartCopyInput>) -> S3Result<S3Response<dto::UploadPartCopyOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    check_part_number(input.part_number)?;
    let dto::CopySource::Bucket { bucket: src_bucket, key: src_key, version_id: src_version } = &input.copy_source else {
        return Err(s3_error!(NotImplemented, "Copying from an access point is not supported"));
    };
    let src_version = src_version.as_deref();
    let customer_md5 =
        customer_key(input.sse_customer_algorithm.as_deref(), input.sse_customer_key.as_deref(), input.sse_customer_key_md5.as_deref())?;
    let (source, template, range, store, (algorithm, upload_named_one)) = {
        let world = api.shared.world();
        authorize(&world, &caller, "s3:PutObject", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
        let upload = bucket(&world, &input.bucket)?
            .uploads
            .get(&input.upload_id)
            .filter(|u| u.key == input.key)
            .ok_or_else(|| no_such_upload(&input.upload_id))?;
        check_upload_customer_key(&upload.template, customer_md5.as_deref())?;
        let template = upload.template.clone();
        let (algorithm, _) = effective_algorithm(upload.checksum.as_ref());
        let source = copy_source(&world, &caller, &source_request!(input, src_bucket, src_key, src_version))?;
        let range = copy_range(input.copy_source_range.as_deref(), source.size() as u64)?;
        if range.end - range.start > MAX_COPY_PART_BYTES {
            return Err(s3_error!(
                InvalidRequest,
                "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120"
            ));
        }
        (source, template, range, std::sync::Arc::clone(&world.blobs), (algorithm, upload.checksum.is_some()))
    };
    // Reading and writing the part may move gigabytes: off the async threads, not under the lock.
    let data = source.data.clone();
    let copied = tokio::task::spawn_blocking(move || {
        // Checked against the source's checksum: a damaged source is not copied.
        let all = match store.read(&data) {
            Ok(all) => all,
            Err(e) => {
                tracing::error!("the copy source could not be read: {e}");
                return Err(s3_error!(InternalError, "We encountered an internal error. Please try again."));
            }
        };
        let (start, end) = (usize::try_from(range.start).unwrap_or(0), usize::try_from(range.end).unwrap_or(all.len()).min(all.len()));
        let part = all.slice(start.min(end)..end);
        let mut digest = BodyDigest::new(algorithm);
        digest.update(&part);
        let super::checksum::Digests { md5, checksum, .. } = digest.finish();
        Ok((store.put(part), hex::encode(md5), checksum))
    })
    .await
    .map_err(|e| s3_error!(InternalError, "the part copy failed: {e}"))??;
    let (part_data, part_etag, part_checksum) = copied;
    let reported_checksum = part_checksum.clone();
    let last_modified = now();
    let mut world = api.shared.world();
    let upload =
        bucket_mut(&mut world, &input.bucket)?.uploads.get_mut(&input.upload_id).ok_or_else(|| no_such_upload(&input.upload_id))?;
    upload
        .parts
        .insert(input.part_number, UploadPart { data: part_data, etag: part_etag.clone(), last_modified, checksum: Some(part_checksum) });
    let ((encryption, kms_key), (customer_algorithm, customer_key_md5)) = (sse_fields(&template), customer_key_fields(&template));
    let mut result =
        dto::CopyPartResult { e_tag: Some(ETag::Strong(part_etag)), last_modified: Some(timestamp(last_modified)), ..Default::default() };
    // The part's checksum when the upload named an algorithm (as recorded: `test_multipart_upload_part_copy_checksum`).
    if upload_named_one {
        set_checksum!(result, super::checksum::part_fields(Some(algorithm.name()), Some(&reported_checksum)));
    }
    Ok(S3Response::new(dto::UploadPartCopyOutput {
        copy_part_result: Some(result),
        copy_source_version_id: source_version_reported(src_version, &source),
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        sse_customer_algorithm: customer_algorithm,
        sse_customer_key_md5: customer_key_md5,
        ..Default::default()
    }))
}
