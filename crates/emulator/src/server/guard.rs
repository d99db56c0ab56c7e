//! S3 requests that `s3s` would answer differently from S3 (its error messages are completed
//! separately, in `s3_errors`).
//!
//! - Before `s3s`: a header section over S3's 8 KB (`RequestHeaderSectionTooLarge`) and an
//!   `Authorization` header that is neither SigV4 nor SigV2 (`InvalidArgument`) or is a broken
//!   SigV4 header (`AuthorizationHeaderMalformed`) are refused outright, as S3's front end does
//!   (`s3s` answers `InvalidRequest` "invalid header: authorization" and takes any header size).
//! - Configuration bodies (versioning, replication, tagging, DeleteObjects, ownership controls,
//!   bucket policy, ACLs, CompleteMultipartUpload) are read here and checked against S3's rules
//!   that `s3s` does not apply: elements outside S3's schema (`MalformedXML`; `s3s` skips unknown
//!   elements of several types and the request succeeds), a body that does not match its signed
//!   `x-amz-content-sha256` (`XAmzContentSHA256Mismatch`; `s3s` answers 500 InternalError), a
//!   policy that is not UTF-8 (`MalformedPolicy`; `s3s` answers `InvalidRequest`). The finding
//!   rides in the request's extensions and is raised by the S3 access check, which runs after the
//!   signature is verified, so a badly signed request still gets `SignatureDoesNotMatch` first.
//! - Requests S3 refuses whatever their signature says: a presigned URL valid for more than a
//!   week (`AuthorizationQueryParametersError`) and an XML body declared larger than S3 reads
//!   (`MaxMessageLengthExceeded`, before a byte of it is read) are answered before `s3s`;
//!   `x-amz-*` headers outside SignedHeaders (`AccessDenied`, which `s3s` ignores: they could
//!   rewrite a signed request) and a DeleteObjects without `Content-MD5` or a checksum
//!   (`InvalidRequest`) are findings raised after the signature check.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use s3s::Body;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub use crate::wire::{sha256_mismatch, Refusal, HEADERS_NOT_SIGNED, MALFORMED_XML, REQUEST_TIMEOUT};

/// S3's limit on the request header section.
pub const HEADER_SECTION_MAX: usize = 8 * 1024;
/// The largest XML body read (that of `s3s`, `S3ConfigSnapshot::xml_max_body_size`); larger
/// ones are `MaxMessageLengthExceeded`.
pub const XML_BODY_MAX: u64 = 20 * 1024 * 1024;
/// The longest a presigned URL may be valid, in seconds (sigv4-query-string-auth: 7 days).
const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// S3's answer when the client stops sending the body.
pub fn request_timeout() -> http::Response<Body> {
    error_response(StatusCode::BAD_REQUEST, "RequestTimeout", REQUEST_TIMEOUT)
}

/// An S3 XML error response.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> http::Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
        crate::xml::escape(code),
        crate::xml::escape(message)
    );
    let mut resp = http::Response::new(Body::from(xml));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    resp
}

/// An S3 XML error response with AWS's extra elements after the message.
fn error_with_elements(status: StatusCode, code: &str, message: &str, elements: &[(String, String)]) -> http::Response<Body> {
    let mut response = error_response(status, code, message);
    if let Some(body) = response.body().bytes() {
        *response.body_mut() = Body::from(super::s3_errors::with_elements(&String::from_utf8_lossy(&body), elements));
    }
    response
}

/// `x-amz-copy-source` must name a bucket and a key (`bucket/key`, or an access point ARN); `s3s`
/// would refuse anything else with its own wording (as recorded: `test_s3_copy_object_wrong_format`).
fn copy_source_refusal(headers: &HeaderMap) -> Option<http::Response<Body>> {
    let source = headers.get("x-amz-copy-source")?;
    let text = percent_encoding::percent_decode(source.as_bytes()).decode_utf8_lossy();
    let text = text.trim_start_matches('/');
    let named = text.starts_with("arn:") || text.split_once('/').is_some_and(|(bucket, key)| !bucket.is_empty() && !key.is_empty());
    let elements =
        [("ArgumentName".to_owned(), "x-amz-copy-source".to_owned()), ("ArgumentValue".to_owned(), "x-amz-copy-source".to_owned())];
    (!named).then(|| error_with_elements(StatusCode::BAD_REQUEST, "InvalidArgument", "Invalid copy source object key", &elements))
}

/// The body length a request declares: the decoded length of an `aws-chunked` body, else
/// `Content-Length`.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    let number = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    number("x-amz-decoded-content-length").or_else(|| number(http::header::CONTENT_LENGTH.as_str()))
}

/// Checks S3 applies before looking at the request at all.
pub fn precheck<B>(req: &http::Request<B>) -> Option<http::Response<Body>> {
    let headers = req.headers();
    let size: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if size > HEADER_SECTION_MAX {
        return Some(error_response(
            StatusCode::BAD_REQUEST,
            "RequestHeaderSectionTooLarge",
            "Your request header section exceeds the maximum allowed size.",
        ));
    }
    if xml_body(req.method(), req.uri().path(), req.uri().query()) && declared_length(headers).is_some_and(|l| l > XML_BODY_MAX) {
        return Some(error_response(StatusCode::BAD_REQUEST, "MaxMessageLengthExceeded", "Your request was too big."));
    }
    let expires = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()).find(|(k, _)| k == "X-Amz-Expires").map(|(_, v)| v);
    if let Some(expires) = expires.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())) {
        if expires.len() > 7 || expires.parse::<u64>().is_ok_and(|e| e > MAX_PRESIGNED_EXPIRES) {
            return Some(error_response(
                StatusCode::BAD_REQUEST,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
            ));
        }
    }
    if let Some(refusal) = super::signature::presigned_refusal(req.uri().query().unwrap_or(""), OffsetDateTime::now_utc()) {
        return Some(error_with_elements(refusal.status, refusal.code, refusal.message, &refusal.elements));
    }
    if let Some(refused) = copy_source_refusal(headers) {
        return Some(refused);
    }
    let auth = headers.get(http::header::AUTHORIZATION)?;
    let bytes = auth.as_bytes();
    if bytes.starts_with(b"AWS ") {
        return None; // SigV2: s3s verifies it.
    }
    if !bytes.starts_with(b"AWS4-HMAC-SHA256") {
        return Some(error_response(StatusCode::BAD_REQUEST, "InvalidArgument", "Unsupported Authorization Type"));
    }
    let malformed = |why: &str| {
        Some(error_response(
            StatusCode::BAD_REQUEST,
            "AuthorizationHeaderMalformed",
            &format!("The authorization header is malformed; {why}"),
        ))
    };
    let Ok(text) = auth.to_str() else {
        return malformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.");
    };
    match super::sigv4::parse_authorization(text) {
        // S3's own wording for an empty region (e.g. a client configured with region '').
        Ok(parsed) if parsed.region.is_empty() && !parsed.access_key.is_empty() && parsed.date.len() == 8 => {
            malformed("a non-empty region must be provided in the credential.")
        }
        Ok(parsed) if parsed.access_key.is_empty() || parsed.date.len() != 8 || parsed.region.is_empty() => {
            malformed("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        }
        Ok(_) => None,
        Err(e) if e.message.starts_with("Credential should be scoped") => {
            malformed("the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        }
        Err(_) => malformed("the authorization header requires three components: Credential, SignedHeaders, and Signature."),
    }
}

/// The configuration document a request carries, by its subresource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Document {
    Xml(&'static [&'static str]),
    Policy,
    /// Read for the payload hash only (ACLs, CompleteMultipartUpload).
    Other,
}

const VERSIONING: &[&str] = &["VersioningConfiguration", "Status", "MfaDelete"];
const TAGGING: &[&str] = &["Tagging", "TagSet", "Tag", "Key", "Value"];
const DELETE: &[&str] = &["Delete", "Object", "Key", "VersionId", "ETag", "LastModifiedTime", "Size", "Quiet"];
const OWNERSHIP: &[&str] = &["OwnershipControls", "Rule", "ObjectOwnership"];
const REPLICATION: &[&str] = &[
    "ReplicationConfiguration",
    "Role",
    "Rule",
    "ID",
    "Priority",
    "Prefix",
    "Filter",
    "Tag",
    "Key",
    "Value",
    "And",
    "Status",
    "SourceSelectionCriteria",
    "SseKmsEncryptedObjects",
    "ReplicaModifications",
    "ExistingObjectReplication",
    "Destination",
    "Bucket",
    "Account",
    "StorageClass",
    "AccessControlTranslation",
    "Owner",
    "EncryptionConfiguration",
    "ReplicaKmsKeyID",
    "ReplicationTime",
    "Time",
    "Minutes",
    "Metrics",
    "EventThreshold",
    "DeleteMarkerReplication",
];

/// Subresources whose PUT or POST body is an XML (or JSON policy) document.
const DOCUMENT_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "versioning",
    "website",
];

fn query_keys(query: Option<&str>) -> Vec<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes()).map(|(k, _)| k.into_owned()).collect()
}

/// Whether the request's body is a document S3 reads whole (configuration, DeleteObjects,
/// CompleteMultipartUpload, CreateBucket), not object bytes.
fn xml_body(method: &http::Method, path: &str, query: Option<&str>) -> bool {
    let path = path.trim_start_matches('/');
    if path.is_empty() || !matches!(*method, http::Method::PUT | http::Method::POST) {
        return false;
    }
    let keys = query_keys(query);
    let has = |k: &str| keys.iter().any(|x| x == k);
    if DOCUMENT_SUBRESOURCES.iter().any(|k| has(k)) {
        return true;
    }
    // CompleteMultipartUpload (UploadPart is a PUT); CreateBucket (a PUT on the bucket alone).
    (*method == http::Method::POST && has("uploadId")) || (*method == http::Method::PUT && !path.contains('/') && !has("uploadId"))
}

/// The lower-case `x-amz-*` headers of a SigV4-signed request that are not in its SignedHeaders
/// (`x-amz-content-sha256` excepted: the payload hash is part of every signature, and S3 ignores
/// it unsigned on presigned URLs), sorted; None for unsigned or SigV2 requests.
pub fn unsigned_amz_headers(headers: &HeaderMap, query: Option<&str>) -> Option<Vec<String>> {
    let signed: Vec<String> = match headers.get(http::header::AUTHORIZATION) {
        Some(auth) => {
            let auth = auth.to_str().ok().filter(|a| a.starts_with("AWS4-HMAC-SHA256"))?;
            super::sigv4::parse_authorization(auth).ok()?.signed_headers
        }
        None => {
            let query = form_urlencoded::parse(query?.as_bytes());
            let mut signed = None;
            let mut v4 = false;
            for (k, v) in query {
                if k == "X-Amz-SignedHeaders" {
                    signed = Some(v.split(';').map(str::to_owned).collect::<Vec<_>>());
                } else if k == "X-Amz-Algorithm" || k == "X-Amz-Signature" {
                    v4 = true;
                }
            }
            signed.filter(|_| v4)?
        }
    };
    let mut missing: Vec<String> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|k| k.starts_with("x-amz-") && *k != "x-amz-content-sha256" && !signed.iter().any(|s| s.trim().eq_ignore_ascii_case(k)))
        .map(str::to_owned)
        .collect();
    missing.sort();
    missing.dedup();
    (!missing.is_empty()).then_some(missing)
}

/// DeleteObjects must carry `Content-MD5` or a checksum (`x-amz-checksum-*`, as a header or a
/// trailer): API_DeleteObjects.
fn delete_without_digest<B>(req: &http::Request<B>) -> bool {
    let headers = req.headers();
    req.method() == http::Method::POST
        && !req.uri().path().trim_start_matches('/').is_empty()
        && query_keys(req.uri().query()).iter().any(|k| k == "delete")
        && !headers.contains_key("content-md5")
        && !headers.keys().any(|k| k.as_str().starts_with("x-amz-checksum-"))
        && !headers.get_all("x-amz-trailer").iter().any(|v| v.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("x-amz-checksum-")))
}

/// What the access check must refuse about the request's headers, found before `s3s` sees it.
pub fn header_refusal<B>(req: &http::Request<B>) -> Option<Refusal> {
    if unsigned_amz_headers(req.headers(), req.uri().query()).is_some() {
        return Some(Refusal::HeadersNotSigned);
    }
    delete_without_digest(req).then_some(Refusal::MissingContentMd5)
}

fn document(method: &http::Method, path: &str, query: Option<&str>) -> Option<Document> {
    if path.trim_start_matches('/').is_empty() {
        return None;
    }
    let keys: Vec<String> = form_urlencoded::parse(query?.as_bytes()).map(|(k, _)| k.into_owned()).collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    match *method {
        http::Method::PUT if has("versioning") => Some(Document::Xml(VERSIONING)),
        http::Method::PUT if has("replication") => Some(Document::Xml(REPLICATION)),
        http::Method::PUT if has("tagging") => Some(Document::Xml(TAGGING)),
        http::Method::PUT if has("ownershipControls") => Some(Document::Xml(OWNERSHIP)),
        http::Method::PUT if has("policy") => Some(Document::Policy),
        http::Method::PUT if has("acl") => Some(Document::Other),
        http::Method::POST if has("delete") => Some(Document::Xml(DELETE)),
        http::Method::POST if has("uploadId") => Some(Document::Other),
        _ => None,
    }
}

/// Reads the body of configuration requests and marks what the access check must refuse;
/// other requests pass through untouched (object bodies stay streamed). A body over
/// [`XML_BODY_MAX`] is `MaxMessageLengthExceeded` (`s3s` would answer 500 InternalError).
pub async fn mark(req: http::Request<super::conn::IdleBody>) -> Result<http::Request<Body>, http::Response<Body>> {
    let doc = document(req.method(), req.uri().path(), req.uri().query());
    if !xml_body(req.method(), req.uri().path(), req.uri().query()) {
        return Ok(req.map(Body::http_body));
    }
    let headers = req.headers();
    let payload_hash = headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let chunked = payload_hash.starts_with("STREAMING-")
        || headers.get(http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("aws-chunked"));
    if chunked {
        // Its decoded length was checked (`precheck`); `s3s` decodes it.
        return Ok(req.map(Body::http_body));
    }
    let (mut parts, body) = req.into_parts();
    let limit = usize::try_from(XML_BODY_MAX).unwrap_or(usize::MAX);
    let collected = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected,
        Err(e) if e.is::<super::conn::BodyIdle>() => return Err(request_timeout()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(error_response(StatusCode::BAD_REQUEST, "MaxMessageLengthExceeded", "Your request was too big."))
        }
        Err(_) => return Err(error_response(StatusCode::BAD_REQUEST, "MalformedXML", MALFORMED_XML)),
    };
    let bytes: Bytes = collected.to_bytes();
    let refusal = if payload_hash.len() == 64
        && payload_hash.bytes().all(|b| b.is_ascii_hexdigit())
        && !payload_hash.eq_ignore_ascii_case(&hex::encode(Sha256::digest(&bytes)))
    {
        Some(Refusal::ContentSha256Mismatch)
    } else {
        match doc {
            Some(Document::Policy) if std::str::from_utf8(&bytes).is_err() => Some(Refusal::PolicyNotUtf8),
            Some(Document::Xml(allowed)) if !elements_allowed(&bytes, allowed) => Some(Refusal::UnknownXmlElement),
            _ => None,
        }
    };
    // A finding about the headers (found first) stays the one raised.
    if let Some(refusal) = refusal.filter(|_| parts.extensions.get::<Refusal>().is_none()) {
        parts.extensions.insert(refusal);
    }
    Ok(http::Request::from_parts(parts, Body::from(bytes)))
}

/// Whether every element of an XML document is one S3's schema knows for this document.
/// Well-formedness is left to the real parser; DTDs are refused (S3 accepts none).
fn elements_allowed(xml: &[u8], allowed: &[&str]) -> bool {
    let mut rest = xml;
    while let Some(i) = rest.iter().position(|&b| b == b'<') {
        rest = &rest[i + 1..];
        match rest.first() {
            Some(b'/' | b'?') | None => continue,
            Some(b'!') => {
                let close: &[u8] = if rest.starts_with(b"![CDATA[") {
                    b"]]>"
                } else if rest.starts_with(b"!--") {
                    b"-->"
                } else {
                    return false;
                };
                match rest.windows(close.len()).position(|w| w == close) {
                    Some(end) => rest = &rest[end + close.len()..],
                    None => return true, // unterminated: the XML parser reports it
                }
            }
            Some(_) => {
                let end = rest.iter().position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>').unwrap_or(rest.len());
                let name = &rest[..end];
                let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
                if !allowed.iter().any(|a| a.as_bytes() == local) {
                    return false;
                }
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_allowlist() {
        assert!(elements_allowed(
            b"<?xml version=\"1.0\"?><VersioningConfiguration xmlns=\"x\"><Status>Enabled</Status></VersioningConfiguration>",
            VERSIONING
        ));
        assert!(!elements_allowed(b"<VersioningConfiguration><Status>Enabled</Status><Colour/></VersioningConfiguration>", VERSIONING));
        assert!(!elements_allowed(b"<!DOCTYPE x [<!ENTITY e \"e\">]><Tagging/>", TAGGING));
        assert!(elements_allowed(b"<Tagging><TagSet><Tag><Key>a</Key><Value><![CDATA[<x>]]></Value></Tag></TagSet></Tagging>", TAGGING));
    }

    #[test]
    fn authorization_shapes() {
        let check = |v: &str| {
            let mut req = http::Request::new(());
            req.headers_mut().insert(http::header::AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
            precheck(&req).map(|r| r.status().as_u16())
        };
        assert_eq!(check("garbage"), Some(400));
        assert_eq!(check("AWS4-HMAC-SHA256"), Some(400));
        assert_eq!(check("AWS AKID:sig"), None);
        assert_eq!(check("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"), None);
    }
}
