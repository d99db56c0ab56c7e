//! Listings: ListObjects (v1), ListObjectsV2 and ListObjectVersions, with S3's paging rules
//! (a common prefix counts as one entry and is the v1 `NextMarker`; a marker that names a common
//! prefix resumes after everything under it), `MaxKeys=0` (an empty, untruncated page), an empty
//! delimiter (none), and `EncodingType=url` (API Reference `API_ListObjectsV2`: keys, prefixes,
//! delimiter and markers percent-encoded, so clients can read keys XML cannot carry).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use s3s::dto;
use s3s::{S3Request, S3Response, S3Result};

use base64::Engine as _;

use super::api::{authorize, bucket, invalid_argument, listed_time, owner, S3Api};
use super::version::etag;
use crate::identity::Caller;
use crate::state::s3::{prefix_end, Bucket, Entry, ObjectVersion};
use crate::state::World;

/// What S3 leaves unencoded with `EncodingType=url`: unreserved characters and `/`.
const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

/// Whether names are percent-encoded; `url` is the only encoding S3 knows.
pub(super) fn url_encoding(requested: Option<&dto::EncodingType>) -> S3Result<bool> {
    match requested.map(dto::EncodingType::as_str) {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(other) => Err(invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", Some(other))),
    }
}

/// The continuation token that resumes a listing after `last` (opaque to clients, as AWS's are:
/// a token that is a key would read as one).
pub(super) fn continuation_token(last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(last)
}

/// Where a continuation token resumes; an empty or foreign token is refused as AWS refuses it
/// (`test_s3_list_operations.snapshot.json` → `test_list_objects_v2_continuation_start_after` → `exc-continuation-token`).
pub(super) fn resume_after_token(token: &str) -> S3Result<String> {
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .filter(|_| !token.is_empty())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| invalid_argument("The continuation token provided is incorrect", "continuation-token", None))
}

/// A name as the listing returns it.
pub(super) fn encoded(name: String, url: bool) -> String {
    if url {
        utf8_percent_encode(&name, URL_KEEP).to_string()
    } else {
        name
    }
}

pub(super) fn encoded_opt(name: Option<String>, url: bool) -> Option<String> {
    name.map(|n| encoded(n, url))
}

/// The algorithm and type of a version's stored checksum, as listings name them (docs/aws-semantics.md §85).
fn listed_checksum(v: &crate::state::s3::ObjectVersion) -> Option<(dto::ChecksumAlgorithm, dto::ChecksumType)> {
    let c = v.checksum.as_ref()?;
    let kind = if c.full_object { "FULL_OBJECT" } else { "COMPOSITE" };
    Some((dto::ChecksumAlgorithm::from(c.algorithm.clone()), dto::ChecksumType::from(kind.to_owned())))
}

/// An empty delimiter is no delimiter (and is not echoed).
pub(super) fn delimiter(requested: Option<String>) -> Option<String> {
    requested.filter(|d| !d.is_empty())
}

/// The common prefix (of this listing) that `marker` lies in or names, if any.
pub(super) fn enclosing_common_prefix(prefix: &str, delimiter: Option<&str>, marker: &str) -> Option<String> {
    let d = delimiter?;
    let rest = marker.strip_prefix(prefix)?;
    rest.find(d).map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
}

/// Where a listing resumes: after `marker`, or after every key of the common prefix the marker
/// names or lies in: that prefix was listed as one entry, so S3 resumes after all of it
/// (`test_s3_list_operations.snapshot.json` → `test_list_objects_marker_common_prefixes` →
/// `list-objects-manual-first-file`: marker `folder/aSubfolder/subFile1` lists `folder/file1` next).
fn resume_point(b: &Bucket, prefix: &str, delimiter: Option<&str>, marker: &str) -> String {
    if let Some(group) = enclosing_common_prefix(prefix, delimiter, marker) {
        let upper = prefix_end(&group).map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        if let Some((last, _)) =
            b.objects.range::<str, _>((std::ops::Bound::Included(group.as_str()), upper.as_ref().map(String::as_str))).next_back()
        {
            if last.as_str() > marker {
                return last.clone();
            }
        }
    }
    marker.to_owned()
}

fn max_keys(requested: Option<i32>) -> usize {
    usize::try_from(requested.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000)
}

/// One page of current (non-deleted) objects after `after`, grouped by `delimiter`.
struct Listing {
    contents: Vec<dto::Object>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last entry returned: a key, or a common prefix (S3's `NextMarker`).
    last_entry: Option<String>,
    /// The bucket's region.
    region: String,
}

fn list_current(world: &World, b: &Bucket, prefix: &str, delimiter: Option<&str>, after: &str, limit: usize, fetch_owner: bool) -> Listing {
    let mut page = Listing { contents: Vec::new(), prefixes: Vec::new(), truncated: false, last_entry: None, region: String::new() };
    if limit == 0 {
        // S3 answers `MaxKeys=0` with an empty page that is not truncated.
        return page;
    }
    let after = resume_point(b, prefix, delimiter, after);
    // The last key listed, kept borrowed: only the page's last entry needs an owned copy.
    let mut last_key: Option<&str> = None;
    for entry in b.scan(prefix, delimiter, &after) {
        // Keys whose latest version is a delete marker are not listed, nor prefixes of only such
        // keys (the search stops at the first live key).
        let live = |v: &ObjectVersion| !v.delete_marker;
        let current = match &entry {
            Entry::Key(_, versions) => match versions.last().filter(|v| live(v)) {
                Some(v) => Some(v),
                None => continue,
            },
            Entry::Prefix { prefix, last_key } => {
                if !b
                    .objects
                    .range::<str, _>((std::ops::Bound::Included(prefix.as_str()), std::ops::Bound::Included(*last_key)))
                    .any(|(_, vs)| vs.last().is_some_and(live))
                {
                    continue;
                }
                None
            }
        };
        if page.contents.len() + page.prefixes.len() >= limit {
            page.truncated = true;
            break;
        }
        match (entry, current) {
            (Entry::Prefix { prefix, .. }, _) => {
                last_key = None;
                page.last_entry = Some(prefix.clone());
                page.prefixes.push(prefix);
            }
            (Entry::Key(k, _), Some(v)) => {
                last_key = Some(k);
                page.contents.push(dto::Object {
                    key: Some(k.to_owned()),
                    e_tag: Some(etag(v)),
                    last_modified: Some(listed_time(v.last_modified)),
                    size: Some(i64::try_from(v.size()).unwrap_or(i64::MAX)),
                    storage_class: Some(dto::ObjectStorageClass::from(v.storage_class.clone())),
                    owner: fetch_owner.then(|| owner(world.canonical_id(&v.owner_account))),
                    checksum_algorithm: listed_checksum(v).map(|(a, _)| vec![a]),
                    checksum_type: listed_checksum(v).map(|(_, t)| t),
                    ..Default::default()
                });
            }
            (Entry::Key(..), None) => {}
        }
    }
    if let Some(k) = last_key {
        page.last_entry = Some(k.to_owned());
    }
    page
}

pub(super) fn common_prefix_dtos(prefixes: Vec<String>, url: bool) -> Option<Vec<dto::CommonPrefix>> {
    Some(prefixes.into_iter().map(|p| dto::CommonPrefix { prefix: Some(encoded(p, url)) }).collect())
}

fn encode_keys(mut contents: Vec<dto::Object>, url: bool) -> Vec<dto::Object> {
    for object in &mut contents {
        object.key = encoded_opt(object.key.take(), url);
    }
    contents
}

/// The [`PageRequest`] of a ListObjects v1 or v2 input (two s3s types with the same fields).
macro_rules! page_request {
    ($input:expr, $fetch_owner:expr) => {
        PageRequest {
            bucket: &$input.bucket,
            expected_owner: $input.expected_bucket_owner.as_deref(),
            prefix: $input.prefix.as_deref().unwrap_or(""),
            delimiter: $input.delimiter.as_deref(),
            limit: max_keys($input.max_keys),
            fetch_owner: $fetch_owner,
        }
    };
}

/// What ListObjects v1 and v2 ask alike: one page of the bucket's current keys.
struct PageRequest<'a> {
    bucket: &'a str,
    expected_owner: Option<&'a str>,
    prefix: &'a str,
    delimiter: Option<&'a str>,
    limit: usize,
    fetch_owner: bool,
}

/// Authorizes s3:ListBucket, then lists the page that starts after `after()`: where a page starts
/// is read once the caller may list (an unauthorized caller learns nothing from a bad token).
fn current_page(api: &S3Api, caller: &Caller, r: &PageRequest<'_>, after: impl FnOnce() -> S3Result<String>) -> S3Result<Listing> {
    let world = api.shared.world();
    authorize(&world, caller, "s3:ListBucket", r.bucket, None, r.expected_owner)?;
    let b = bucket(&world, r.bucket)?;
    let after = after()?;
    let mut page = list_current(&world, b, r.prefix, r.delimiter, &after, r.limit, r.fetch_owner);
    page.region.clone_from(&b.region);
    Ok(page)
}

/// A listing names the bucket's region in `x-amz-bucket-region` (as recorded:
/// `test_region_header_exists_outside_us_east_1` → `list_objects_v2`).
fn in_region<T>(region: String, output: T) -> S3Response<T> {
    let mut response = S3Response::new(output);
    if let Ok(value) = http::HeaderValue::from_str(&region) {
        response.headers.insert("x-amz-bucket-region", value);
    }
    response
}

pub fn list_objects_v2(api: &S3Api, req: S3Request<dto::ListObjectsV2Input>) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
    let caller = api.caller(&req)?;
    let mut input = req.input;
    let url = url_encoding(input.encoding_type.as_ref())?;
    input.delimiter = delimiter(input.delimiter.take());
    let request = page_request!(input, input.fetch_owner == Some(true));
    let limit = request.limit;
    let page = current_page(api, &caller, &request, || match input.continuation_token.as_deref() {
        Some(token) => resume_after_token(token),
        None => Ok(input.start_after.clone().unwrap_or_default()),
    })?;
    // A continuation token wins over StartAfter, which is then not echoed (as recorded).
    if input.continuation_token.is_some() {
        input.start_after = None;
    }
    let key_count = i32::try_from(page.contents.len() + page.prefixes.len()).unwrap_or(i32::MAX);
    let region = page.region.clone();
    Ok(in_region(
        region,
        dto::ListObjectsV2Output {
            name: Some(input.bucket.clone()),
            // S3 echoes the prefix, empty when none was sent (docs/aws-semantics.md §82).
            prefix: Some(encoded(input.prefix.unwrap_or_default(), url)),
            max_keys: Some(i32::try_from(limit).unwrap_or(1000)),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            is_truncated: Some(page.truncated),
            next_continuation_token: page.last_entry.filter(|_| page.truncated).map(|last| continuation_token(&last)),
            contents: Some(encode_keys(page.contents, url)),
            common_prefixes: common_prefix_dtos(page.prefixes, url),
            delimiter: encoded_opt(input.delimiter, url),
            encoding_type: input.encoding_type,
            start_after: encoded_opt(input.start_after, url),
            request_charged: None,
        },
    ))
}

pub fn list_objects(api: &S3Api, req: S3Request<dto::ListObjectsInput>) -> S3Result<S3Response<dto::ListObjectsOutput>> {
    let caller = api.caller(&req)?;
    let mut input = req.input;
    let url = url_encoding(input.encoding_type.as_ref())?;
    input.delimiter = delimiter(input.delimiter.take());
    // v1 names each object's owner, except to an anonymous caller (as recorded:
    // `test_bucket_name_with_dots` → `request-path-url-content`, a public bucket listed without credentials).
    let request = page_request!(input, caller.kind != crate::identity::PrincipalKind::Anonymous);
    let limit = request.limit;
    let page = current_page(api, &caller, &request, || Ok(input.marker.clone().unwrap_or_default()))?;
    let region = page.region.clone();
    Ok(in_region(
        region,
        dto::ListObjectsOutput {
            name: Some(input.bucket.clone()),
            // v1 encodes Delimiter, Marker, NextMarker and keys, not Prefix (what botocore decodes, and AWS sends).
            prefix: Some(input.prefix.unwrap_or_default()),
            // S3 echoes the marker, empty when none was sent.
            marker: Some(encoded(input.marker.unwrap_or_default(), url)),
            max_keys: Some(i32::try_from(limit).unwrap_or(1000)),
            is_truncated: Some(page.truncated),
            // "returned only if you have the delimiter request parameter specified" (API_ListObjects).
            next_marker: encoded_opt(page.last_entry.filter(|_| page.truncated && input.delimiter.is_some()), url),
            contents: Some(encode_keys(page.contents, url)),
            common_prefixes: common_prefix_dtos(page.prefixes, url),
            delimiter: encoded_opt(input.delimiter, url),
            encoding_type: input.encoding_type,
            request_charged: None,
        },
    ))
}

/// The versions and delete markers of a ListObjectVersions page, in the order listed.
#[derive(Default)]
struct VersionsPage {
    versions: Vec<dto::ObjectVersion>,
    markers: Vec<dto::DeleteMarkerEntry>,
}

impl VersionsPage {
    fn push(&mut self, world: &World, key: &str, v: &ObjectVersion, is_latest: bool, url: bool) {
        if v.delete_marker {
            self.markers.push(dto::DeleteMarkerEntry {
                is_latest: Some(is_latest),
                key: Some(encoded(key.to_owned(), url)),
                last_modified: Some(listed_time(v.last_modified)),
                owner: Some(owner(world.canonical_id(&v.owner_account))),
                version_id: Some(v.version_id.clone()),
            });
            return;
        }
        self.versions.push(dto::ObjectVersion {
            e_tag: Some(etag(v)),
            is_latest: Some(is_latest),
            key: Some(encoded(key.to_owned(), url)),
            last_modified: Some(listed_time(v.last_modified)),
            owner: Some(owner(world.canonical_id(&v.owner_account))),
            size: Some(i64::try_from(v.size()).unwrap_or(i64::MAX)),
            storage_class: Some(dto::ObjectVersionStorageClass::from(v.storage_class.clone())),
            version_id: Some(v.version_id.clone()),
            checksum_algorithm: listed_checksum(v).map(|(a, _)| vec![a]),
            checksum_type: listed_checksum(v).map(|(_, t)| t),
            ..Default::default()
        });
    }
}

pub fn list_object_versions(
    api: &S3Api,
    req: S3Request<dto::ListObjectVersionsInput>,
) -> S3Result<S3Response<dto::ListObjectVersionsOutput>> {
    let caller = api.caller(&req)?;
    let mut input = req.input;
    let url = url_encoding(input.encoding_type.as_ref())?;
    input.delimiter = delimiter(input.delimiter.take());
    let world = api.shared.world();
    authorize(&world, &caller, "s3:ListBucketVersions", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let b = bucket(&world, &input.bucket)?;
    if let Some(id) = input.version_id_marker.as_deref().filter(|_| input.key_marker.as_deref().unwrap_or("").is_empty()) {
        // As recorded (`test_list_objects_versions_markers` → `list-objects-next-version-only`).
        return Err(invalid_argument("A version-id marker cannot be specified without a key marker.", "version-id-marker", Some(id)));
    }
    let prefix = input.prefix.clone().unwrap_or_default();
    let limit = max_keys(input.max_keys);
    let key_marker = input.key_marker.clone().unwrap_or_default();
    let (mut page, mut prefixes) = (VersionsPage::default(), Vec::<String>::new());
    let (mut truncated, mut next_key, mut next_version) = (false, None, None);
    let mut count = 0usize;
    // On the marker key, resume after the version id marker (found through the index); then the
    // keys after it, each newest version first.
    let resume = input.version_id_marker.as_deref().and_then(|id| {
        let versions = b.objects.get(&key_marker).filter(|_| key_marker.starts_with(&prefix))?;
        Some((key_marker.as_str(), versions, versions.position(id)?))
    });
    let after = resume_point(b, &prefix, input.delimiter.as_deref(), &key_marker);
    let later = b.scan(&prefix, input.delimiter.as_deref(), &after).map(|entry| match entry {
        Entry::Key(k, versions) => Ok((k, versions, versions.len())),
        Entry::Prefix { prefix, .. } => Err(prefix),
    });
    'keys: for entry in resume.into_iter().map(Ok).chain(later) {
        let (k, versions, end) = match entry {
            Ok(found) => found,
            Err(cp) => {
                if count >= limit {
                    truncated = limit > 0;
                    break;
                }
                // A page that ends with a common prefix resumes after it (NextKeyMarker, as recorded:
                // `test_list_object_versions_pagination_common_prefixes` → `list-object-versions-start`).
                (next_key, next_version) = (Some(cp.clone()), None);
                prefixes.push(cp);
                count += 1;
                continue;
            }
        };
        for (i, v) in versions.iter().enumerate().take(end).rev() {
            if count >= limit {
                truncated = limit > 0;
                break 'keys;
            }
            count += 1;
            next_key = Some(k.to_owned());
            next_version = Some(v.version_id.clone());
            page.push(&world, k, v, i + 1 == versions.len(), url);
        }
    }
    Ok(S3Response::new(dto::ListObjectVersionsOutput {
        name: Some(input.bucket.clone()),
        // Echoed, empty when none was sent (docs/aws-semantics.md §82).
        prefix: Some(encoded(input.prefix.unwrap_or_default(), url)),
        key_marker: Some(encoded(input.key_marker.unwrap_or_default(), url)),
        version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
        max_keys: Some(i32::try_from(limit).unwrap_or(1000)),
        is_truncated: Some(truncated),
        next_key_marker: encoded_opt(next_key.filter(|_| truncated), url),
        next_version_id_marker: if truncated { next_version } else { None },
        versions: Some(page.versions),
        delete_markers: Some(page.markers),
        common_prefixes: common_prefix_dtos(prefixes, url),
        delimiter: encoded_opt(input.delimiter, url),
        encoding_type: input.encoding_type,
        request_charged: None,
    }))
}
