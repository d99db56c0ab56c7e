//! Multipart uploads: create, upload part, complete (S3's multipart ETag), abort, list.

use md5::{Digest, Md5};
use s3s::dto::{self, ETag};
use s3s::{s3_error, S3Error, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, invalid_argument, listed_time, owner, S3Api};
use super::checksum::{Algorithm, BodyDigest};
use super::{acl, listing, validate};

use crate::identity::Caller;
use crate::state::s3::{Bucket, Grant, MultipartUpload, ObjectChecksum, ObjectVersion, PartSummary, Sse, UploadPart, Versioning};
use crate::state::{now, random_id, Blob, World};

const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// S3's largest part (User Guide `qfacts`: 5 GiB).
const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;
const MAX_PART_NUMBER: i32 = 10_000;

/// Part numbers run from 1 to 10,000.
pub(super) fn check_part_number(number: i32) -> S3Result<()> {
    if !(1..=MAX_PART_NUMBER).contains(&number) {
        // As recorded (`test_complete_multipart_parts_order` → `upload-part-negative-part-number`).
        return Err(invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            Some(&number.to_string()),
        ));
    }
    Ok(())
}

/// Parts of an SSE-C upload carry the upload's customer key, and only it (API Reference
/// `API_UploadPart`: "the same customer key specified in the initiate multipart upload request").
/// As recorded (`test_multipart_upload_sse_c_validation`): a missing key and a key on an upload without
/// one both get the same InvalidRequest; another key is InvalidRequest too.
pub(super) fn check_upload_customer_key(template: &ObjectVersion, given_md5: Option<&str>) -> S3Result<()> {
    match (&template.sse, given_md5) {
        (Some(Sse::Customer { key_md5 }), Some(given)) if key_md5 == given => Ok(()),
        (Some(Sse::Customer { .. }), Some(_)) => {
            Err(s3_error!(InvalidRequest, "The provided encryption parameters did not match the ones used originally."))
        }
        (Some(Sse::Customer { .. }), None) | (_, Some(_)) => Err(s3_error!(
            InvalidRequest,
            "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters."
        )),
        (_, None) => Ok(()),
    }
}

pub(super) fn no_such_upload(upload_id: &str) -> s3s::S3Error {
    let err = s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    );
    crate::s3::api::error_element(err, "UploadId", upload_id)
}

/// 400 `InvalidPart` as AWS words it (two spaces after "found.") with the part it is about (docs/aws-semantics.md §86).
fn invalid_part(upload_id: &str, number: i32, etag: &str) -> s3s::S3Error {
    let err = s3_error!(
        InvalidPart,
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    );
    let err = crate::s3::api::error_element(err, "ETag", etag);
    let err = crate::s3::api::error_element(err, "PartNumber", &number.to_string());
    crate::s3::api::error_element(err, "UploadId", upload_id)
}

/// The owner and ACL of the object an upload becomes: the uploader's account when the bucket has
/// ACLs enabled (else the bucket owner), with the canned ACL, if any.
fn upload_owner(world: &World, b: &Bucket, caller: &Caller, canned: Option<&str>) -> S3Result<(String, Vec<Grant>)> {
    let bucket_owner = b.owner_account.clone();
    let owner_account =
        if b.acls_enabled() { caller.account.clone().unwrap_or_else(|| bucket_owner.clone()) } else { bucket_owner.clone() };
    let owner_canonical = world.canonical_id(&owner_account);
    let grants =
        acl::grants_with_bucket_owner(&owner_canonical, &world.canonical_id(&bucket_owner), canned, &acl::GrantHeaders::default())?
            .unwrap_or_else(|| vec![Grant::full_control(&owner_canonical)]);
    Ok((owner_account, grants))
}

pub fn create_multipart_upload(
    api: &S3Api,
    req: S3Request<dto::CreateMultipartUploadInput>,
) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    super::object::key(&input.key)?;
    let tags = validate::tagging_header(input.tagging.as_deref())?;
    let metadata = validate::metadata(input.metadata.as_ref())?;
    let class = super::object::storage_class(input.storage_class.as_ref().map(dto::StorageClass::as_str))?;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutObject", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    // Object Lock settings (or the bucket's default retention) apply to the object it becomes.
    let legal_hold = input.object_lock_legal_hold_status.as_ref().map(|s| s.as_str().to_owned());
    let retention = super::lock::retention_for_new_object(
        b,
        input.object_lock_mode.as_ref().map(dto::ObjectLockMode::as_str),
        input.object_lock_retain_until_date.clone().map(Into::into),
        legal_hold.as_deref(),
    )?;
    let (owner_account, grants) = upload_owner(&world, b, &caller, input.acl.as_ref().map(dto::ObjectCannedACL::as_str))?;
    let customer_md5 = super::object::customer_key(
        input.sse_customer_algorithm.as_deref(),
        input.sse_customer_key.as_deref(),
        input.sse_customer_key_md5.as_deref(),
    )?;
    let b = b.clone_settings();
    let sse = super::object::new_version_sse(&mut world, &caller, &b, &input.key, sse_headers!(input, customer_md5))?;
    let upload_checksum = upload_checksum(input.checksum_algorithm.as_ref(), input.checksum_type.as_ref())?;
    let upload_id = random_id(64);
    let template = ObjectVersion {
        headers: content_headers!(input),
        metadata,
        tags,
        storage_class: class,
        sse,
        legal_hold,
        retention,
        ..ObjectVersion::written(&input.key, owner_account, grants, now())
    };
    let upload = MultipartUpload {
        upload_id: upload_id.clone(),
        key: input.key.clone(),
        initiated: now(),
        initiator_account: caller.account.clone().unwrap_or_default(),
        template,
        parts: std::collections::BTreeMap::new(),
        checksum: upload_checksum.clone(),
        key_at_start: Some(bucket(&world, &input.bucket)?.current_state(&input.key)),
    };
    let ((encryption, kms_key), (customer_algorithm, customer_key_md5)) =
        (super::object::sse_fields(&upload.template), super::object::customer_key_fields(&upload.template));
    bucket_mut(&mut world, &input.bucket)?.uploads.insert(upload_id.clone(), upload);
    Ok(S3Response::new(dto::CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(upload_id),
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        sse_customer_algorithm: customer_algorithm,
        sse_customer_key_md5: customer_key_md5,
        checksum_algorithm: upload_checksum.as_ref().map(|(a, _)| dto::ChecksumAlgorithm::from(a.clone())),
        checksum_type: upload_checksum.as_ref().map(|(_, full)| checksum_type(*full)),
        ..Default::default()
    }))
}

fn checksum_type(full_object: bool) -> dto::ChecksumType {
    dto::ChecksumType::from(if full_object { "FULL_OBJECT" } else { "COMPOSITE" }.to_owned())
}

/// The checksum an upload is created with (User Guide `checking-object-integrity`): COMPOSITE by
/// default, except CRC64NVME, which is FULL_OBJECT only; FULL_OBJECT only for the CRCs.
fn upload_checksum(algorithm: Option<&dto::ChecksumAlgorithm>, kind: Option<&dto::ChecksumType>) -> S3Result<Option<(String, bool)>> {
    let Some(algorithm) = algorithm else {
        if kind.is_some() {
            return Err(s3_error!(
                InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            ));
        }
        return Ok(None);
    };
    // As recorded (`test_multipart_parts_checksum_exceptions_composite` → `create-mpu-wrong-checksum-algo`).
    let algorithm = Algorithm::parse(algorithm.as_str()).map_err(|_| {
        s3_error!(
            InvalidRequest,
            "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
        )
    })?;
    let full = match kind.map(dto::ChecksumType::as_str) {
        None => algorithm == Algorithm::Crc64Nvme,
        Some("FULL_OBJECT") => true,
        Some("COMPOSITE") => false,
        Some(_) => return Err(s3_error!(InvalidRequest, "Value for x-amz-checksum-type header is invalid.")),
    };
    if full && matches!(algorithm, Algorithm::Sha1 | Algorithm::Sha256) || !full && algorithm == Algorithm::Crc64Nvme {
        return Err(s3_error!(
            InvalidRequest,
            "The {} checksum type cannot be used with the {} checksum algorithm.",
            if full { "FULL_OBJECT" } else { "COMPOSITE" },
            // Lower case, as recorded (`test_multipart_checksum_type_compatibility`).
            algorithm.name().to_ascii_lowercase()
        ));
    }
    Ok(Some((algorithm.name().to_owned(), full)))
}

/// The algorithm an upload's parts are hashed with: its own, else S3's default CRC64NVME.
pub(super) fn effective_algorithm(checksum: Option<&(String, bool)>) -> (Algorithm, bool) {
    checksum.and_then(|(a, full)| Algorithm::parse(a).ok().map(|a| (a, *full))).unwrap_or((Algorithm::Crc64Nvme, true))
}

pub async fn upload_part(api: &S3Api, req: S3Request<dto::UploadPartInput>) -> S3Result<S3Response<dto::UploadPartOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    check_part_number(input.part_number)?;
    let customer_md5 = super::object::customer_key(
        input.sse_customer_algorithm.as_deref(),
        input.sse_customer_key.as_deref(),
        input.sse_customer_key_md5.as_deref(),
    )?;
    let template = {
        let world = api.shared.world();
        authorize(&world, &caller, "s3:PutObject", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
        let upload = bucket(&world, &input.bucket)?.uploads.get(&input.upload_id).ok_or_else(|| no_such_upload(&input.upload_id))?;
        if upload.key != input.key {
            return Err(no_such_upload(&input.upload_id));
        }
        check_upload_customer_key(&upload.template, customer_md5.as_deref())?;
        (upload.template.clone(), upload.checksum.clone())
    };
    let (template, upload_checksum) = template;
    let expected = declared_checksum!(input, req.headers).expected()?;
    let (algorithm, _) = effective_algorithm(upload_checksum.as_ref());
    if let (Some(declared), Some(_)) = (&expected, &upload_checksum) {
        if declared.algorithm != algorithm {
            return Err(s3_error!(
                InvalidRequest,
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                algorithm.name().to_ascii_lowercase(),
                declared.algorithm.name().to_ascii_lowercase()
            ));
        }
    }
    super::body::check_declared_size(input.content_length, MAX_PART_BYTES)?;
    let body = super::body::exact_length(input.body, input.content_length);
    let store = std::sync::Arc::clone(&api.shared.world().blobs);
    // A part of a default upload (no algorithm chosen at creation) may declare a checksum in another
    // algorithm: it is checked too (as recorded: `test_s3.snapshot.json` →
    // `TestS3MultipartUploadChecksum::test_multipart_upload_part_checksum_exception` → `put-wrong-checksum-value`).
    let digest = expected.iter().fold(BodyDigest::new(algorithm), |d, e| d.checking(e.algorithm));
    let stored = super::body::store_body(store, body, MAX_PART_BYTES, digest).await?;
    let computed = stored.checked.as_ref().unwrap_or(&stored.checksum);
    super::checksum::verify(expected.as_ref(), computed, req.trailing_headers.as_ref())?;
    super::object::check_content_md5(input.content_md5.as_deref(), &stored.md5, super::object::ExpectedDigest::AsSent)?;
    let (data, etag) = (stored.blob, hex::encode(stored.md5));
    let mut world = api.shared.world();
    let upload =
        bucket_mut(&mut world, &input.bucket)?.uploads.get_mut(&input.upload_id).ok_or_else(|| no_such_upload(&input.upload_id))?;
    let part = UploadPart { data, etag: etag.clone(), last_modified: now(), checksum: Some(stored.checksum.clone()) };
    upload.parts.insert(input.part_number, part);
    let ((encryption, kms_key), (customer_algorithm, customer_key_md5)) =
        (super::object::sse_fields(&template), super::object::customer_key_fields(&template));
    let mut output = dto::UploadPartOutput {
        e_tag: Some(ETag::Strong(etag)),
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        sse_customer_algorithm: customer_algorithm,
        sse_customer_key_md5: customer_key_md5,
        ..Default::default()
    };
    // The part's checksum is reported when the upload or the request named an algorithm; a default
    // upload reports the algorithm the request declared (as recorded: `test_multipart_and_list_parts`
    // → `upload-part`, a CRC32 where the upload keeps CRC64NVME).
    match (&upload_checksum, &expected, &stored.checked) {
        (None, Some(declared), Some(checked)) => {
            set_checksum!(output, super::checksum::part_fields(Some(declared.algorithm.name()), Some(checked)));
        }
        (None, None, _) => {}
        _ => set_checksum!(output, super::checksum::part_fields(Some(algorithm.name()), Some(&stored.checksum))),
    }
    Ok(S3Response::new(output))
}

/// EntityTooSmall naming the part, as recorded (`test_multipart_complete_multipart_too_small` → `complete-exc-too-small`).
fn part_too_small(number: i32, part: &UploadPart) -> S3Error {
    let err = s3_error!(EntityTooSmall, "Your proposed upload is smaller than the minimum allowed size");
    let elements = [
        ("ETag", part.etag.clone()),
        ("MinSizeAllowed", MIN_PART_BYTES.to_string()),
        ("PartNumber", number.to_string()),
        ("ProposedSize", part.data.len().to_string()),
    ];
    elements.into_iter().fold(err, |err, (name, value)| crate::s3::api::error_element(err, name, &value))
}

/// A conditional completion fails when the key was written or deleted after the upload began, even
/// if the condition holds now (as recorded: `test_multipart_if_match_with_put` →
/// `complete-multipart-if-match-put-during`, `test_multipart_if_none_match_with_delete` → `complete-multipart-after-del`).
fn check_no_write_since_start(b: &Bucket, upload: &MultipartUpload, if_match: bool, if_none_match: bool) -> S3Result<()> {
    let Some(at_start) = &upload.key_at_start else { return Ok(()) };
    if !(if_match || if_none_match) || b.current_state(&upload.key) == *at_start {
        return Ok(());
    }
    let mut err = S3Error::with_message(
        s3s::S3ErrorCode::Custom("ConditionalRequestConflict".into()),
        "The conditional request cannot succeed due to a conflicting operation against this resource.",
    );
    err.set_status_code(http::StatusCode::CONFLICT);
    let err = crate::s3::api::error_element(err, "Condition", if if_match { "If-Match" } else { "If-None-Match" });
    Err(crate::s3::api::error_element(err, "Key", &upload.key))
}

/// Completing an upload again answers as the completion did, while that version is current.
fn completed_again(b: &Bucket, input: &dto::CompleteMultipartUploadInput) -> Option<dto::CompleteMultipartUploadOutput> {
    if b.uploads.get(&input.upload_id).is_some() {
        return None;
    }
    let (_, key, version_id, etag) = b.completed_uploads.iter().find(|(id, key, ..)| *id == input.upload_id && *key == input.key)?;
    b.latest(key).is_some_and(|v| v.version_id == *version_id).then(|| dto::CompleteMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(key.clone()),
        e_tag: Some(ETag::Strong(etag.clone())),
        location: Some(format!("/{}/{}", input.bucket, key)),
        version_id: (b.versioning != Versioning::Unversioned).then(|| version_id.clone()),
        ..Default::default()
    })
}

/// The parts a CompleteMultipartUpload names, checked as S3 checks them: ascending numbers, each
/// uploaded with that ETag (and checksum, when given), all but the last at least 5 MiB.
struct Chosen {
    parts: Vec<Blob>,
    /// The parts' MD5s, concatenated (the multipart ETag is their MD5).
    digests: Vec<u8>,
    summaries: Vec<PartSummary>,
}

fn chosen_parts(upload: &MultipartUpload, requested: &[dto::CompletedPart], algorithm: Algorithm, upload_id: &str) -> S3Result<Chosen> {
    let mut previous = 0;
    let composite = matches!(upload.checksum, Some((_, false)));
    let mut chosen = Chosen { parts: Vec::new(), digests: Vec::new(), summaries: Vec::new() };
    for (i, part) in requested.iter().enumerate() {
        let number = part.part_number.unwrap_or(0);
        if number <= previous {
            let err = s3_error!(InvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number.");
            return Err(crate::s3::api::error_element(err, "UploadId", upload_id));
        }
        previous = number;
        let given_etag = part.e_tag.as_ref().map(|e| e.value().to_owned()).unwrap_or_default();
        let stored = upload.parts.get(&number).ok_or_else(|| invalid_part(upload_id, number, &given_etag))?;
        if part.e_tag.as_ref().is_some_and(|e| e.value() != stored.etag) {
            return Err(invalid_part(upload_id, number, &given_etag));
        }
        if i + 1 < requested.len() && stored.data.len() < MIN_PART_BYTES {
            return Err(part_too_small(number, stored));
        }
        if let Some(other) = other_algorithm(part, algorithm).filter(|_| upload.checksum.is_some()) {
            // As recorded (`test_multipart_parts_checksum_exceptions_composite` → `complete-part-with-checksum`).
            let name = other.name().to_ascii_lowercase();
            return Err(s3_error!(BadDigest, "The {name} you specified for part {number} did not match what we received."));
        }
        match part_checksum(part, algorithm) {
            Some(given) if stored.checksum.as_deref() != Some(given) => return Err(invalid_part(upload_id, number, &given_etag)),
            // A COMPOSITE upload's completion names every part's checksum (as recorded: `test_s3.snapshot.json` →
            // `test_complete_multipart_parts_checksum_composite` → `complete-multipart-no-checksum`).
            None if composite => {
                return Err(s3_error!(
                    InvalidRequest,
                    "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {number} in the request.",
                    algorithm.name().to_ascii_lowercase()
                ))
            }
            _ => {}
        }
        chosen.parts.push(stored.data.clone());
        chosen.summaries.push(PartSummary { size: stored.data.len() as u64, checksum: stored.checksum.clone() });
        chosen.digests.extend_from_slice(&hex::decode(&stored.etag).unwrap_or_default());
    }
    Ok(chosen)
}

/// A completion that names a checksum mode names the upload's, as recorded
/// (`test_multipart_parts_checksum_exceptions_composite` → `complete-part-with-bad-checksum-type`).
fn check_checksum_mode(upload: &MultipartUpload, requested: Option<&dto::ChecksumType>) -> S3Result<()> {
    let (Some((_, full)), Some(requested)) = (&upload.checksum, requested) else { return Ok(()) };
    let mode = if *full { "FULL_OBJECT" } else { "COMPOSITE" };
    if requested.as_str() != mode {
        return Err(s3_error!(
            InvalidRequest,
            "The upload was created using the {mode} checksum mode. The complete request must use the same checksum mode."
        ));
    }
    Ok(())
}

/// The object's checksum from its parts' (none when a part has none), checked against the one the
/// request declares, if any.
fn object_checksum(
    input: &dto::CompleteMultipartUploadInput,
    parts: &[PartSummary],
    algorithm: Algorithm,
    full_object: bool,
) -> S3Result<Option<ObjectChecksum>> {
    let Some(sums) = parts.iter().map(|p| Some((p.checksum.clone()?, p.size))).collect::<Option<Vec<_>>>() else { return Ok(None) };
    let computed = super::checksum::multipart(algorithm, full_object, &sums)?;
    check_declared_checksum(input, &computed, algorithm)?;
    Ok(Some(computed))
}

/// A checksum the request declares for the whole object must be the one computed from the parts.
fn check_declared_checksum(input: &dto::CompleteMultipartUploadInput, computed: &ObjectChecksum, algorithm: Algorithm) -> S3Result<()> {
    let declared = [
        (Algorithm::Crc32, input.checksum_crc32.as_deref()),
        (Algorithm::Crc32c, input.checksum_crc32c.as_deref()),
        (Algorithm::Crc64Nvme, input.checksum_crc64nvme.as_deref()),
        (Algorithm::Sha1, input.checksum_sha1.as_deref()),
        (Algorithm::Sha256, input.checksum_sha256.as_deref()),
    ];
    if let Some((a, given)) = declared.iter().find_map(|(a, v)| v.map(|v| (*a, v))) {
        // Composite values may be sent with or without their `-<parts>` suffix.
        let matches = a == algorithm && (given == computed.value || computed.value.split('-').next() == Some(given));
        if !matches {
            return Err(s3_error!(BadDigest, "The {} you specified did not match the calculated checksum.", a.name()));
        }
    }
    Ok(())
}

pub fn complete_multipart_upload(
    api: &S3Api,
    req: S3Request<dto::CompleteMultipartUploadInput>,
) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:PutObject", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    if let Some(output) = completed_again(b, &input) {
        return Ok(S3Response::new(output));
    }
    let upload = b.uploads.get(&input.upload_id).filter(|u| u.key == input.key).ok_or_else(|| no_such_upload(&input.upload_id))?;
    let requested = input.multipart_upload.as_ref().and_then(|m| m.parts.clone()).unwrap_or_default();
    if requested.is_empty() {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    let (algorithm, full_object) = effective_algorithm(upload.checksum.as_ref());
    check_checksum_mode(upload, input.checksum_type.as_ref())?;
    let Chosen { parts, digests, summaries } = chosen_parts(upload, &requested, algorithm, &input.upload_id)?;
    let object_checksum = object_checksum(&input, &summaries, algorithm, full_object)?;
    // S3's multipart ETag: MD5 of the concatenated part MD5s, then "-<number of parts>".
    let etag = format!("{}-{}", hex::encode(Md5::digest(&digests)), requested.len());
    let mut version = upload.template.clone();
    // Joining the parts may copy gigabytes between files: not under the world lock.
    let store = std::sync::Arc::clone(&world.blobs);
    drop(world);
    // A part that cannot be read whole or was damaged at rest fails the request (the store
    // logs which file): the object is never made of wrong bytes.
    version.data =
        store.concat(&parts).map_err(|e| s3_error!(InternalError, "We encountered an internal error. Please try again. ({e})"))?;
    let mut world = api.shared.world();
    let claimed = (|| {
        let b = bucket_mut(&mut world, &input.bucket)?;
        // Checked when the object is written (the parts were joined without the lock).
        super::object::check_write_conditions(b, &input.key, input.if_match.as_ref(), input.if_none_match.as_ref())?;
        let upload = b.uploads.get(&input.upload_id).ok_or_else(|| no_such_upload(&input.upload_id))?;
        check_no_write_since_start(b, upload, input.if_match.is_some(), input.if_none_match.is_some())?;
        b.uploads.remove(&input.upload_id).map(|_| ()).ok_or_else(|| no_such_upload(&input.upload_id))
    })();
    if let Err(e) = claimed {
        // The joined bytes will never be referred to (e.g. a retried completion lost the race).
        store.discard(&version.data);
        return Err(e);
    }
    let b = bucket_mut(&mut world, &input.bucket)?;
    let version_id = b.next_version_id();
    version.version_id = version_id.clone();
    version.etag = etag.clone();
    version.last_modified = now();
    version.parts_count = Some(requested.len());
    version.parts = summaries;
    version.checksum = object_checksum;
    let reported = (b.versioning != Versioning::Unversioned).then(|| version_id.clone());
    let (encryption, kms_key) = super::object::sse_fields(&version);
    b.completed_uploads.push_back((input.upload_id.clone(), input.key.clone(), version_id.clone(), etag.clone()));
    if b.completed_uploads.len() > crate::state::s3::COMPLETED_UPLOADS_KEPT {
        b.completed_uploads.pop_front();
    }
    // Named even when the upload chose no algorithm: S3's default full-object CRC64NVME (as recorded:
    // `test_multipart_if_match_etag` → `complete-multipart-if-match`; docs/aws-semantics.md §89).
    let checksum = super::checksum::fields(version.checksum.as_ref());
    api.store_new_version(world, &input.bucket, version)?;
    let mut output = dto::CompleteMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        e_tag: Some(ETag::Strong(etag)),
        location: Some(format!("/{}/{}", input.bucket, input.key)),
        version_id: reported,
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        checksum_type: checksum.checksum_type.clone(),
        ..Default::default()
    };
    set_checksum!(output, checksum);
    Ok(S3Response::new(output))
}

/// The checksums a CompleteMultipartUpload request gives for a part, by algorithm.
fn given_checksums(part: &dto::CompletedPart) -> [(Algorithm, Option<&str>); 5] {
    [
        (Algorithm::Crc32, part.checksum_crc32.as_deref()),
        (Algorithm::Crc32c, part.checksum_crc32c.as_deref()),
        (Algorithm::Crc64Nvme, part.checksum_crc64nvme.as_deref()),
        (Algorithm::Sha1, part.checksum_sha1.as_deref()),
        (Algorithm::Sha256, part.checksum_sha256.as_deref()),
    ]
}

/// The part's checksum in the upload's algorithm.
fn part_checksum(part: &dto::CompletedPart, algorithm: Algorithm) -> Option<&str> {
    given_checksums(part).into_iter().find(|(a, _)| *a == algorithm).and_then(|(_, v)| v)
}

/// An algorithm other than the upload's in which the request gives the part's checksum.
fn other_algorithm(part: &dto::CompletedPart, algorithm: Algorithm) -> Option<Algorithm> {
    given_checksums(part).into_iter().find(|(a, v)| *a != algorithm && v.is_some()).map(|(a, _)| a)
}

pub fn abort_multipart_upload(
    api: &S3Api,
    req: S3Request<dto::AbortMultipartUploadInput>,
) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:AbortMultipartUpload", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let b = bucket_mut(&mut world, &input.bucket)?;
    if b.uploads.get(&input.upload_id).is_none_or(|u| u.key != input.key) {
        return Err(no_such_upload(&input.upload_id));
    }
    b.uploads.remove(&input.upload_id);
    Ok(super::api::with_status(dto::AbortMultipartUploadOutput::default(), http::StatusCode::NO_CONTENT))
}

pub fn list_parts(api: &S3Api, req: S3Request<dto::ListPartsInput>) -> S3Result<S3Response<dto::ListPartsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:ListMultipartUploadParts", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    let upload = b.uploads.get(&input.upload_id).filter(|u| u.key == input.key).ok_or_else(|| no_such_upload(&input.upload_id))?;
    let marker = input.part_number_marker.unwrap_or(0);
    let max = usize::try_from(input.max_parts.unwrap_or(1000).clamp(1, 1000)).unwrap_or(1000);
    // Excluded, not `marker + 1`: a marker of i32::MAX must not overflow.
    let selected: Vec<_> = upload.parts.range((std::ops::Bound::Excluded(marker), std::ops::Bound::Unbounded)).take(max + 1).collect();
    let truncated = selected.len() > max;
    let parts: Vec<dto::Part> = selected
        .iter()
        .take(max)
        .map(|(n, p)| {
            let mut part = dto::Part {
                part_number: Some(**n),
                e_tag: Some(ETag::Strong(p.etag.clone())),
                size: Some(i64::try_from(p.data.len()).unwrap_or(i64::MAX)),
                last_modified: Some(listed_time(p.last_modified)),
                ..Default::default()
            };
            if let Some((algorithm, _)) = &upload.checksum {
                set_checksum!(part, super::checksum::part_fields(Some(algorithm), p.checksum.as_deref()));
            }
            part
        })
        .collect();
    let initiator = world.canonical_id(&upload.initiator_account);
    Ok(S3Response::new(dto::ListPartsOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        is_truncated: Some(truncated),
        // Always sent: the last part listed, 0 when none; the marker echoed, 0 when none (docs/aws-semantics.md §82).
        next_part_number_marker: Some(parts.last().and_then(|p| p.part_number).unwrap_or(0)),
        parts: Some(parts),
        owner: Some(owner(world.canonical_id(&upload.template.owner_account))),
        // AWS still names the initiator here (docs/aws-semantics.md §83); xrepl has no display names: the account id.
        initiator: Some(dto::Initiator { id: Some(initiator), display_name: Some(upload.initiator_account.clone()) }),
        storage_class: Some(dto::StorageClass::from(upload.template.storage_class.clone())),
        max_parts: Some(i32::try_from(max).unwrap_or(1000)),
        part_number_marker: Some(input.part_number_marker.unwrap_or(0)),
        // The upload's checksum, as recorded (`test_list_parts_via_object_attrs_pagination` → `list-parts`).
        checksum_algorithm: upload.checksum.as_ref().map(|(a, _)| dto::ChecksumAlgorithm::from(a.clone())),
        checksum_type: upload
            .checksum
            .as_ref()
            .map(|(_, full)| dto::ChecksumType::from(if *full { "FULL_OBJECT" } else { "COMPOSITE" }.to_owned())),
        ..Default::default()
    }))
}

pub fn list_multipart_uploads(
    api: &S3Api,
    req: S3Request<dto::ListMultipartUploadsInput>,
) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
    let caller = api.caller(&req)?;
    let mut input = req.input;
    let url = listing::url_encoding(input.encoding_type.as_ref())?;
    input.delimiter = listing::delimiter(input.delimiter.take());
    let world = api.shared.world();
    authorize(&world, &caller, "s3:ListBucketMultipartUploads", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max = usize::try_from(input.max_uploads.unwrap_or(1000).clamp(1, 1000)).unwrap_or(1000);
    let key_marker = input.key_marker.clone().unwrap_or_default();
    // The upload id marker counts only with a key marker (S3 ignores it otherwise, and does not echo it).
    let id_marker = input.upload_id_marker.as_deref().filter(|_| !key_marker.is_empty());
    if let Some(id) = id_marker.filter(|id| b.uploads.get(id).is_some_and(|u| u.key != key_marker)) {
        // An upload of another key (`test_list_multiparts_next_marker` → `list-multiparts-wrong-id-for-key`).
        return Err(invalid_argument("Invalid uploadId marker", "upload-id-marker", Some(id)));
    }
    let page = upload_page(b, &prefix, input.delimiter.as_deref(), &key_marker, id_marker, max);
    // The last upload listed, truncated or not; empty when none (docs/aws-semantics.md §82, §87).
    let next = page.uploads.last().map_or_else(Default::default, |u| (u.key.clone(), u.upload_id.clone()));
    let uploads: Vec<dto::MultipartUpload> = page
        .uploads
        .into_iter()
        .map(|u| dto::MultipartUpload {
            key: Some(listing::encoded(u.key.clone(), url)),
            upload_id: Some(u.upload_id.clone()),
            initiated: Some(listed_time(u.initiated)),
            owner: Some(owner(world.canonical_id(&u.template.owner_account))),
            initiator: Some(dto::Initiator {
                id: Some(world.canonical_id(&u.initiator_account)),
                display_name: Some(u.initiator_account.clone()),
            }),
            storage_class: Some(dto::StorageClass::from(u.template.storage_class.clone())),
            // The algorithm and mode an upload was created with, as recorded
            // (`test_multipart_parts_checksum_exceptions_composite` → `list-multiparts`).
            checksum_algorithm: u.checksum.as_ref().map(|(a, _)| dto::ChecksumAlgorithm::from(a.clone())),
            checksum_type: u.checksum.as_ref().map(|(_, full)| checksum_type(*full)),
        })
        .collect();
    Ok(S3Response::new(dto::ListMultipartUploadsOutput {
        bucket: Some(input.bucket.clone()),
        prefix: listing::encoded_opt(input.prefix, url),
        uploads: Some(uploads),
        common_prefixes: listing::common_prefix_dtos(page.prefixes, url),
        is_truncated: Some(page.truncated),
        max_uploads: Some(i32::try_from(max).unwrap_or(1000)),
        key_marker: Some(listing::encoded(key_marker, url)),
        upload_id_marker: Some(id_marker.unwrap_or_default().to_owned()),
        next_key_marker: Some(listing::encoded(next.0, url)),
        next_upload_id_marker: Some(next.1),
        delimiter: listing::encoded_opt(input.delimiter, url),
        encoding_type: input.encoding_type,
        ..Default::default()
    }))
}

/// One page of ListMultipartUploads: uploads and common prefixes, each counting as one entry.
struct UploadPage<'a> {
    uploads: Vec<&'a MultipartUpload>,
    prefixes: Vec<String>,
    truncated: bool,
}

/// Uploads after the markers, grouped by `delimiter` as ListObjects groups keys: a key marker in
/// (or naming) a common prefix resumes after all of it, as recorded
/// (`test_list_multipart_uploads_marker_common_prefixes` → `list-multiparts-manual-first-file`).
fn upload_page<'a>(
    b: &'a crate::state::s3::Bucket,
    prefix: &str,
    delimiter: Option<&str>,
    key_marker: &str,
    id_marker: Option<&str>,
    max: usize,
) -> UploadPage<'a> {
    let skipped = listing::enclosing_common_prefix(prefix, delimiter, key_marker).filter(|_| id_marker.is_none());
    let mut page = UploadPage { uploads: Vec::new(), prefixes: Vec::new(), truncated: false };
    let candidates = b
        .uploads
        .after(prefix, key_marker, id_marker)
        .take_while(|u| u.key.starts_with(prefix))
        .filter(|u| skipped.as_deref().is_none_or(|group| !u.key.starts_with(group)));
    for u in candidates {
        let group = listing::enclosing_common_prefix(prefix, delimiter, &u.key);
        if group.is_some() && group.as_ref() == page.prefixes.last() {
            continue;
        }
        if page.uploads.len() + page.prefixes.len() >= max {
            page.truncated = true;
            break;
        }
        match group {
            Some(group) => page.prefixes.push(group),
            None => page.uploads.push(u),
        }
    }
    page
}
