//! GetObjectAttributes (API Reference `API_GetObjectAttributes`): the ETag, checksum, parts,
//! storage class and size of a version in one call, without its body. A delete marker answers
//! 404 with `x-amz-delete-marker`, an SSE-C object needs its key, and the parts page like
//! ListParts (`MaxParts`, `PartNumberMarker`).

use s3s::dto;
use s3s::{S3Request, S3Response, S3Result};

use super::api::{bucket, timestamp, S3Api};
use super::object::{check_customer_key, customer_key};
use super::validate;
use super::version::{addressed_object, reported_version};
use crate::state::s3::ObjectVersion;

fn wants(input: &dto::GetObjectAttributesInput, attribute: &str) -> bool {
    // One header may carry several names, comma-separated (as botocore sends them).
    input.object_attributes.iter().flat_map(|a| a.as_str().split(',')).any(|a| a.trim().eq_ignore_ascii_case(attribute))
}

/// GetObjectAttributes names a COMPOSITE checksum without the `-<parts>` that GetObject and
/// HeadObject append (as recorded: `test_complete_multipart_parts_checksum_composite` → `get-object-attrs`).
fn checksum_dto(v: &ObjectVersion) -> Option<dto::Checksum> {
    let mut stored = v.checksum.clone()?;
    if !stored.full_object {
        if let Some((value, _)) = stored.value.rsplit_once('-') {
            stored.value = value.to_owned();
        }
    }
    let fields = super::checksum::fields(Some(&stored));
    let mut checksum = dto::Checksum { checksum_type: fields.checksum_type.clone(), ..Default::default() };
    set_checksum!(checksum, fields);
    Some(checksum)
}

/// A page of a multipart object's parts with their checksums (a COMPOSITE upload); an object whose
/// checksum covers the whole object only counts its parts (as recorded:
/// `test_complete_multipart_parts_checksum_full_object` → `get-object-attrs`, `test_get_object_attributes`).
fn parts_dto(v: &ObjectVersion, max_parts: Option<i32>, marker: Option<i32>) -> Option<dto::GetObjectAttributesParts> {
    if v.parts.is_empty() {
        return None;
    }
    if v.checksum.as_ref().is_some_and(|c| c.full_object) {
        return Some(dto::GetObjectAttributesParts { total_parts_count: i32::try_from(v.parts.len()).ok(), ..Default::default() });
    }
    let max = usize::try_from(max_parts.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
    let start = usize::try_from(marker.unwrap_or(0).max(0)).unwrap_or(0);
    let per_part_checksums = v.checksum.as_ref();
    let page: Vec<dto::ObjectPart> = v
        .parts
        .iter()
        .enumerate()
        .skip(start)
        .take(max)
        .map(|(i, p)| {
            let mut part =
                dto::ObjectPart { part_number: i32::try_from(i + 1).ok(), size: i64::try_from(p.size).ok(), ..Default::default() };
            if let Some(c) = per_part_checksums {
                set_checksum!(part, super::checksum::part_fields(Some(&c.algorithm), p.checksum.as_deref()));
            }
            part
        })
        .collect();
    let truncated = start + page.len() < v.parts.len();
    Some(dto::GetObjectAttributesParts {
        is_truncated: Some(truncated),
        max_parts: i32::try_from(max).ok(),
        // The last part listed, 0 when none (as recorded: `test_list_parts_via_object_attrs_pagination` → `get-object-attrs-wrong-part`).
        next_part_number_marker: Some(page.last().and_then(|p| p.part_number).unwrap_or(0)),
        part_number_marker: Some(marker.unwrap_or(0)),
        parts: Some(page),
        total_parts_count: i32::try_from(v.parts.len()).ok(),
    })
}

pub fn get_object_attributes(
    api: &S3Api,
    req: S3Request<dto::GetObjectAttributesInput>,
) -> S3Result<S3Response<dto::GetObjectAttributesOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    validate::version_id(input.version_id.as_deref())?;
    let customer_md5 =
        customer_key(input.sse_customer_algorithm.as_deref(), input.sse_customer_key.as_deref(), input.sse_customer_key_md5.as_deref())?;
    let world = api.shared.world();
    let action = if input.version_id.is_some() { "s3:GetObjectVersionAttributes" } else { "s3:GetObjectAttributes" };
    authorize_object!(world, caller, action, input)?;
    let b = bucket(&world, &input.bucket)?;
    let v = addressed_object(b, &input.key, input.version_id.as_deref())?;
    check_customer_key(v, customer_md5.as_deref())?;
    let output = dto::GetObjectAttributesOutput {
        e_tag: wants(&input, "ETag").then(|| dto::ETag::Strong(v.etag.clone())),
        checksum: if wants(&input, "Checksum") { checksum_dto(v) } else { None },
        object_parts: if wants(&input, "ObjectParts") { parts_dto(v, input.max_parts, input.part_number_marker) } else { None },
        object_size: wants(&input, "ObjectSize").then(|| i64::try_from(v.size()).unwrap_or(i64::MAX)),
        storage_class: wants(&input, "StorageClass").then(|| dto::StorageClass::from(v.storage_class.clone())),
        last_modified: Some(timestamp(v.last_modified)),
        version_id: reported_version(b, v),
        ..Default::default()
    };
    Ok(S3Response::new(output))
}
