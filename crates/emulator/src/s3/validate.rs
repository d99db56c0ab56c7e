//! Input validation with S3's error codes. Everything here runs before any state changes.

use std::collections::BTreeMap;

use s3s::{s3_error, S3Result};

use crate::state::s3::is_valid_version_id;

/// S3's bucket naming rules (general purpose buckets).
pub fn bucket_name(name: &str) -> S3Result<()> {
    let bytes = name.as_bytes();
    let ok = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
        && !name.starts_with("xn--")
        && !name.starts_with("sthree-")
        && !name.ends_with("-s3alias")
        && !name.ends_with("--ol-s3")
        && name.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        Ok(())
    } else {
        // As recorded (`test_s3_uppercase_bucket_name`): the name is repeated.
        Err(super::api::error_element(s3_error!(InvalidBucketName, "The specified bucket is not valid."), "BucketName", name))
    }
}

pub fn version_id(id: Option<&str>) -> S3Result<()> {
    match id {
        Some(id) if !is_valid_version_id(id) => Err(s3_error!(InvalidArgument, "Invalid version id specified")),
        _ => Ok(()),
    }
}

/// Parses the `x-amz-tagging` header (`k1=v1&k2=v2`).
pub fn tagging_header(header: Option<&str>) -> S3Result<Vec<(String, String)>> {
    let Some(header) = header else { return Ok(Vec::new()) };
    let tags: Vec<(String, String)> = form_urlencoded::parse(header.as_bytes()).into_owned().collect();
    tag_set(&tags)?;
    Ok(tags)
}

/// S3's object tag limits: at most 10 tags, unique keys of 1..=128 and values of 0..=256 characters.
pub fn tag_set(tags: &[(String, String)]) -> S3Result<()> {
    if tags.len() > 10 {
        return Err(s3_error!(InvalidTag, "Object tags cannot be greater than 10"));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(s3_error!(InvalidTag, "The TagKey you have provided is invalid"));
        }
        if v.chars().count() > 256 {
            return Err(s3_error!(InvalidTag, "The TagValue you have provided is too long, max length is 256"));
        }
        if !seen.insert(k) {
            return Err(s3_error!(InvalidTag, "Cannot provide multiple Tags with the same key"));
        }
    }
    Ok(())
}

pub fn dto_tags(tag_set: &[s3s::dto::Tag]) -> S3Result<Vec<(String, String)>> {
    let tags: Vec<(String, String)> =
        tag_set.iter().map(|t| (t.key.clone().unwrap_or_default(), t.value.clone().unwrap_or_default())).collect();
    self::tag_set(&tags)?;
    Ok(tags)
}

pub fn to_dto_tags(tags: &[(String, String)]) -> Vec<s3s::dto::Tag> {
    tags.iter().map(|(k, v)| s3s::dto::Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect()
}

/// User metadata is limited to 2 KB (keys and values, as S3 counts them).
pub fn metadata(meta: Option<&s3s::dto::Metadata>) -> S3Result<BTreeMap<String, String>> {
    let Some(meta) = meta else { return Ok(BTreeMap::new()) };
    let size: usize = meta.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > 2048 {
        return Err(s3_error!(MetadataTooLarge, "Your metadata headers exceed the maximum allowed metadata size"));
    }
    Ok(meta.iter().map(|(k, v)| (k.to_lowercase(), v.clone())).collect())
}

/// The Content-Encoding S3 stores: without `aws-chunked`, which only describes how the body was
/// sent (User Guide `sigv4-streaming`); none when nothing else is left.
pub fn stored_content_encoding(header: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = header?.split(',').map(str::trim).filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked")).collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// AWS's Regions (commercial, GovCloud and China partitions), for arguments that must name one.
const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// Whether `region` is one of AWS's Regions.
pub fn is_aws_region(region: &str) -> bool {
    AWS_REGIONS.contains(&region)
}
