//! Multipart uploads: create, upload part, complete (S3's multipart ETag), abort, list.

use md5::{Digest, Md5};
use s3s::dto::{self, ETag};
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::{acl, authorize, bucket, bucket_mut, owner, timestamp, validate, S3Api};
use crate::replication::{self, TaskKind};
use crate::state::s3::{MultipartUpload, ObjectVersion, Sse, UploadPart, Versioning};
use crate::state::{now, random_id};

const MIN_PART_BYTES: usize = 5 * 1024 * 1024;
/// S3's largest part (User Guide `qfacts`: 5 GiB).
const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;
const MAX_PART_NUMBER: i32 = 10_000;

/// Part numbers run from 1 to 10,000.
pub(super) fn check_part_number(number: i32) -> S3Result<()> {
    if !(1..=MAX_PART_NUMBER).contains(&number) {
        return Err(s3_error!(InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive"));
    }
    Ok(())
}

/// Parts of an SSE-C upload carry the upload's customer key, and only it (API Reference
/// `API_UploadPart`: "the same customer key specified in the initiate multipart upload request").
pub(super) fn check_upload_customer_key(template: &ObjectVersion, given_md5: Option<&str>) -> S3Result<()> {
    match (&template.sse, given_md5) {
        (Some(Sse::Customer { key_md5 }), Some(given)) if key_md5 == given => Ok(()),
        (Some(Sse::Customer { .. }), Some(_)) => {
            Err(s3_error!(InvalidArgument, "The provided encryption parameters did not match the ones used originally."))
        }
        (Some(Sse::Customer { .. }), None) => Err(s3_error!(
            InvalidRequest,
            "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters."
        )),
        (_, Some(_)) => Err(s3_error!(
            InvalidRequest,
            "The multipart upload initiate did not request encryption. Subsequent part requests must not include encryption parameters."
        )),
        (_, None) => Ok(()),
    }
}

pub(super) fn no_such_upload() -> s3s::S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )
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
    let bucket_owner = b.owner_account.clone();
    let owner_account =
        if b.acls_enabled() { caller.account.clone().unwrap_or_else(|| bucket_owner.clone()) } else { bucket_owner.clone() };
    let owner_canonical = world.canonical_id(&owner_account);
    let grants = acl::grants_with_bucket_owner(
        &world,
        &owner_canonical,
        &world.canonical_id(&bucket_owner),
        input.acl.as_ref().map(dto::ObjectCannedACL::as_str),
        &acl::GrantHeaders::default(),
    )?
    .unwrap_or_else(|| vec![crate::state::s3::Grant::full_control(&owner_canonical)]);
    let customer_md5 = super::object::customer_key(
        input.sse_customer_algorithm.as_deref(),
        input.sse_customer_key.as_deref(),
        input.sse_customer_key_md5.as_deref(),
    )?;
    let bucket_default = super::settings::default_kms_key(&b.settings);
    let sse = super::object::requested_sse(
        &mut world,
        &bucket_owner,
        input.server_side_encryption.as_ref(),
        input.ssekms_key_id.as_deref(),
        customer_md5,
        bucket_default,
    )?;
    super::object::check_kms_write(&world, &caller, &input.bucket, &input.key, sse.as_ref())?;
    let upload_id = random_id(64);
    let template = ObjectVersion {
        key: input.key.clone(),
        version_id: String::new(),
        delete_marker: false,
        data: crate::state::Blob::empty(),
        etag: String::new(),
        last_modified: now(),
        headers: content_headers!(input),
        metadata,
        tags,
        owner_account,
        acl: grants,
        storage_class: class,
        sse,
        replication: None,
        parts_count: None,
        legal_hold,
        retention,
        restore: None,
    };
    let upload = MultipartUpload {
        upload_id: upload_id.clone(),
        key: input.key.clone(),
        initiated: now(),
        initiator_account: caller.account.clone().unwrap_or_default(),
        template,
        parts: std::collections::BTreeMap::new(),
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
        ..Default::default()
    }))
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
        let upload = bucket(&world, &input.bucket)?.uploads.get(&input.upload_id).ok_or_else(no_such_upload)?;
        if upload.key != input.key {
            return Err(no_such_upload());
        }
        check_upload_customer_key(&upload.template, customer_md5.as_deref())?;
        upload.template.clone()
    };
    let store = std::sync::Arc::clone(&api.shared.world().blobs);
    let stored = super::body::store_body(store, input.body, MAX_PART_BYTES).await?;
    let (data, etag) = (stored.blob, hex::encode(stored.md5));
    let mut world = api.shared.world();
    let upload = bucket_mut(&mut world, &input.bucket)?.uploads.get_mut(&input.upload_id).ok_or_else(no_such_upload)?;
    upload.parts.insert(input.part_number, UploadPart { data, etag: etag.clone(), last_modified: now() });
    let ((encryption, kms_key), (customer_algorithm, customer_key_md5)) =
        (super::object::sse_fields(&template), super::object::customer_key_fields(&template));
    Ok(S3Response::new(dto::UploadPartOutput {
        e_tag: Some(ETag::Strong(etag)),
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        sse_customer_algorithm: customer_algorithm,
        sse_customer_key_md5: customer_key_md5,
        ..Default::default()
    }))
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
    let upload = b.uploads.get(&input.upload_id).filter(|u| u.key == input.key).ok_or_else(no_such_upload)?;
    let requested = input.multipart_upload.as_ref().and_then(|m| m.parts.clone()).unwrap_or_default();
    if requested.is_empty() {
        return Err(s3_error!(MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    let mut previous = 0;
    let (mut parts, mut digests) = (Vec::new(), Vec::new());
    for (i, part) in requested.iter().enumerate() {
        let number = part.part_number.unwrap_or(0);
        if number <= previous {
            return Err(s3_error!(InvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number."));
        }
        previous = number;
        let stored = upload.parts.get(&number).ok_or_else(|| s3_error!(InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."))?;
        if part.e_tag.as_ref().is_some_and(|e| e.value() != stored.etag) {
            return Err(s3_error!(InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."));
        }
        if i + 1 < requested.len() && stored.data.len() < MIN_PART_BYTES {
            return Err(s3_error!(EntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size."));
        }
        parts.push(stored.data.clone());
        digests.extend_from_slice(&hex::decode(&stored.etag).unwrap_or_default());
    }
    // S3's multipart ETag: MD5 of the concatenated part MD5s, then "-<number of parts>".
    let etag = format!("{}-{}", hex::encode(Md5::digest(&digests)), requested.len());
    let mut version = upload.template.clone();
    // Joining the parts may copy gigabytes between files: not under the world lock.
    let store = std::sync::Arc::clone(&world.blobs);
    drop(world);
    version.data = store.concat(&parts);
    let mut world = api.shared.world();
    let b = bucket_mut(&mut world, &input.bucket)?;
    // Checked when the object is written (the parts were joined without the lock).
    super::object::check_write_conditions(b, &input.key, input.if_match.as_ref(), input.if_none_match.as_ref())?;
    if b.uploads.remove(&input.upload_id).is_none() {
        return Err(no_such_upload());
    }
    let version_id = b.next_version_id();
    version.version_id = version_id.clone();
    version.etag = etag.clone();
    version.last_modified = now();
    version.parts_count = Some(requested.len());
    let reported = (b.versioning != Versioning::Unversioned).then(|| version_id.clone());
    let (encryption, kms_key) = super::object::sse_fields(&version);
    b.put_version(version);
    let tasks = replication::on_change(&mut world, &input.bucket, &input.key, &version_id, TaskKind::Object);
    drop(world);
    api.enqueue(tasks);
    Ok(S3Response::new(dto::CompleteMultipartUploadOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        e_tag: Some(ETag::Strong(etag)),
        location: Some(format!("/{}/{}", input.bucket, input.key)),
        version_id: reported,
        server_side_encryption: encryption,
        ssekms_key_id: kms_key,
        ..Default::default()
    }))
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
        return Err(no_such_upload());
    }
    b.uploads.remove(&input.upload_id);
    Ok(S3Response::with_status(dto::AbortMultipartUploadOutput::default(), http::StatusCode::NO_CONTENT))
}

pub fn list_parts(api: &S3Api, req: S3Request<dto::ListPartsInput>) -> S3Result<S3Response<dto::ListPartsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:ListMultipartUploadParts", &input.bucket, Some(&input.key), input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    let upload = b.uploads.get(&input.upload_id).filter(|u| u.key == input.key).ok_or_else(no_such_upload)?;
    let marker = input.part_number_marker.unwrap_or(0);
    let max = usize::try_from(input.max_parts.unwrap_or(1000).clamp(1, 1000)).unwrap_or(1000);
    // Excluded, not `marker + 1`: a marker of i32::MAX must not overflow.
    let selected: Vec<_> = upload.parts.range((std::ops::Bound::Excluded(marker), std::ops::Bound::Unbounded)).take(max + 1).collect();
    let truncated = selected.len() > max;
    let parts: Vec<dto::Part> = selected
        .iter()
        .take(max)
        .map(|(n, p)| dto::Part {
            part_number: Some(**n),
            e_tag: Some(ETag::Strong(p.etag.clone())),
            size: Some(i64::try_from(p.data.len()).unwrap_or(i64::MAX)),
            last_modified: Some(timestamp(p.last_modified)),
            ..Default::default()
        })
        .collect();
    let initiator = world.canonical_id(&upload.initiator_account);
    Ok(S3Response::new(dto::ListPartsOutput {
        bucket: Some(input.bucket.clone()),
        key: Some(input.key.clone()),
        upload_id: Some(input.upload_id.clone()),
        is_truncated: Some(truncated),
        next_part_number_marker: parts.last().and_then(|p| p.part_number).filter(|_| truncated),
        parts: Some(parts),
        owner: Some(owner(world.canonical_id(&upload.template.owner_account))),
        initiator: Some(dto::Initiator { id: Some(initiator), display_name: None }),
        storage_class: Some(dto::StorageClass::from(upload.template.storage_class.clone())),
        max_parts: Some(i32::try_from(max).unwrap_or(1000)),
        part_number_marker: input.part_number_marker,
        ..Default::default()
    }))
}

pub fn list_multipart_uploads(
    api: &S3Api,
    req: S3Request<dto::ListMultipartUploadsInput>,
) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:ListBucketMultipartUploads", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max = usize::try_from(input.max_uploads.unwrap_or(1000).clamp(1, 1000)).unwrap_or(1000);
    // The upload id marker counts only with a key marker (S3 ignores it otherwise).
    let id_marker = input.upload_id_marker.as_deref().filter(|_| input.key_marker.is_some());
    let mut uploads =
        b.uploads.after(&prefix, input.key_marker.as_deref().unwrap_or(""), id_marker).take_while(|u| u.key.starts_with(&prefix));
    let page: Vec<&MultipartUpload> = uploads.by_ref().take(max).collect();
    let truncated = uploads.next().is_some();
    let next = page.last().filter(|_| truncated).map(|u| (u.key.clone(), u.upload_id.clone()));
    let uploads: Vec<dto::MultipartUpload> = page
        .into_iter()
        .map(|u| dto::MultipartUpload {
            key: Some(u.key.clone()),
            upload_id: Some(u.upload_id.clone()),
            initiated: Some(timestamp(u.initiated)),
            owner: Some(owner(world.canonical_id(&u.template.owner_account))),
            initiator: Some(dto::Initiator { id: Some(world.canonical_id(&u.initiator_account)), display_name: None }),
            storage_class: Some(dto::StorageClass::from(u.template.storage_class.clone())),
            ..Default::default()
        })
        .collect();
    Ok(S3Response::new(dto::ListMultipartUploadsOutput {
        bucket: Some(input.bucket.clone()),
        prefix: input.prefix,
        uploads: Some(uploads),
        is_truncated: Some(truncated),
        max_uploads: Some(i32::try_from(max).unwrap_or(1000)),
        key_marker: input.key_marker,
        upload_id_marker: input.upload_id_marker,
        next_key_marker: next.as_ref().map(|(k, _)| k.clone()),
        next_upload_id_marker: next.map(|(_, id)| id),
        ..Default::default()
    }))
}
