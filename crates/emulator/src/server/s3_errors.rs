//! S3 error responses that s3s renders without AWS's message (or with its own wording) get the
//! message S3 sends (S3 API Reference, "Error responses"), so clients and tests see AWS's text.

use bytes::Bytes;

/// AWS's standard message for an S3 error code.
pub(super) fn standard_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "AccessDenied" => "Access Denied",
        "AuthorizationHeaderMalformed" => "The authorization header is malformed.",
        "BadDigest" => "The Content-MD5 you specified did not match what we received.",
        "EntityTooLarge" => "Your proposed upload exceeds the maximum allowed object size.",
        "EntityTooSmall" => "Your proposed upload is smaller than the minimum allowed size",
        "IncompleteBody" => "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        "InternalError" => "We encountered an internal error. Please try again.",
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "InvalidArgument" => "Invalid Argument",
        "InvalidBucketName" => "The specified bucket is not valid.",
        "InvalidDigest" => "The Content-MD5 you specified is not valid.",
        "InvalidRange" => "The requested range is not satisfiable",
        "InvalidRequest" => "Invalid Request",
        "InvalidURI" => "Couldn't parse the specified URI.",
        "KeyTooLongError" => "Your key is too long",
        "MalformedXML" => "The XML you provided was not well-formed or did not validate against our published schema",
        "MetadataTooLarge" => "Your metadata headers exceed the maximum allowed metadata size",
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "MissingSecurityHeader" => "Your request was missing a required header",
        "NoSuchBucket" => "The specified bucket does not exist",
        "NoSuchKey" => "The specified key does not exist.",
        "NotImplemented" => "A header you provided implies functionality that is not implemented",
        "PreconditionFailed" => "At least one of the pre-conditions you specified did not hold",
        "RequestTimeTooSkewed" => "The difference between the request time and the current time is too large.",
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        }
        "XAmzContentSHA256Mismatch" => "The provided 'x-amz-content-sha256' header does not match what was computed.",
        _ => return None,
    })
}

/// Messages s3s writes in its own words, replaced by AWS's.
fn replaces_s3s_wording(code: &str) -> bool {
    matches!(code, "RequestTimeTooSkewed" | "SignatureDoesNotMatch" | "InvalidAccessKeyId")
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<(usize, &'a str)> {
    let start = text.find(open)? + open.len();
    let end = start + text[start..].find(close)?;
    Some((start, &text[start..end]))
}

/// The error body with AWS's message filled in, or None when it needs no change.
pub fn with_aws_message(body: &Bytes) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, code) = between(text, "<Code>", "</Code>")?;
    let message = standard_message(code)?;
    match between(text, "<Message>", "</Message>") {
        None => {
            let at = text.find("</Code>")? + "</Code>".len();
            Some(format!("{}<Message>{}</Message>{}", &text[..at], crate::xml::escape(message), &text[at..]))
        }
        Some((start, old)) if replaces_s3s_wording(code) && old != message => {
            let end = start + old.len();
            Some(format!("{}{}{}", &text[..start], crate::xml::escape(message), &text[end..]))
        }
        Some(_) => None,
    }
}

/// Takes the elements a handler asked for ([`crate::s3::api::error_element`]) out of the response headers.
pub fn take_elements(headers: &mut http::HeaderMap) -> Vec<(String, String)> {
    let found = headers
        .get_all(crate::s3::api::ERROR_ELEMENT_HEADER)
        .iter()
        .filter_map(|v| {
            let (name, value) = v.to_str().ok()?.split_once('=')?;
            Some((name.to_owned(), percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()))
        })
        .collect();
    headers.remove(crate::s3::api::ERROR_ELEMENT_HEADER);
    found
}

/// Adds AWS's extra error elements (`BucketName`, `Key`, `ArgumentName`, ...) after `<Message>` (docs/aws-semantics.md §81).
pub fn with_elements(body: &str, elements: &[(String, String)]) -> String {
    if elements.is_empty() {
        return body.to_owned();
    }
    let extra: String = elements.iter().map(|(name, value)| format!("<{name}>{}</{name}>", crate::xml::escape(value))).collect();
    let at = body.find("</Message>").map(|i| i + "</Message>".len()).or_else(|| body.find("</Code>").map(|i| i + "</Code>".len()));
    match at {
        Some(at) => format!("{}{extra}{}", &body[..at], &body[at..]),
        None => body.to_owned(),
    }
}

/// A request id in S3's form (16 uppercase hex digits).
pub fn new_request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

/// A host id in S3's form (`x-amz-id-2`, `HostId`: base64 of opaque bytes).
pub fn new_host_id() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode((0..6).flat_map(|_| rand::random::<u64>().to_le_bytes()).collect::<Vec<u8>>())
}

/// Adds `<RequestId>` to an S3 XML error body that has none.
pub fn with_request_id(body: &str, request_id: &str) -> String {
    with_element(body, "RequestId", request_id)
}

/// The error body with `<name>value</name>` added at the end of `<Error>`, unless it has one.
pub fn with_element(body: &str, name: &str, value: &str) -> String {
    match body.rfind("</Error>") {
        Some(at) if !body.contains(&format!("<{name}>")) => {
            format!("{}<{name}>{}</{name}>{}", &body[..at], crate::xml::escape(value), &body[at..])
        }
        _ => body.to_owned(),
    }
}

const XML_DECLARATION: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// S3's XML documents put a line break after the declaration, and an empty element is written
/// `<E/>` (as recorded byte for byte: `test_response_structure`, `test_response_structure_get_bucket_location`).
/// Only API documents are touched: an object's bytes come with an `ETag` header, which no XML
/// answer of the API has.
pub fn as_aws_xml(response: &mut http::Response<s3s::Body>) {
    if response.headers().contains_key(http::header::ETAG) {
        return;
    }
    let Some(body) = response.body().bytes() else { return };
    let Some(document) = body.strip_prefix(XML_DECLARATION).filter(|d| d.first() == Some(&b'<')) else { return };
    let empty_location = br#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>"#;
    let document: &[u8] =
        if document == empty_location { br#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"# } else { document };
    let fixed = Bytes::from([XML_DECLARATION, b"\n", document].concat());
    response.headers_mut().insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(fixed.len()));
    *response.body_mut() = s3s::Body::from(fixed);
}

/// A 500 `InternalError` in S3's XML form (a change that could not be made durable).
pub fn internal_error() -> http::Response<s3s::Body> {
    let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>";
    let mut response = http::Response::new(s3s::Body::from(body.to_owned()));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/xml"));
    response
}

/// `<ETag>"x"</ETag>` → `<ETag>x</ETag>` (GetObjectAttributes answers ETags unquoted).
pub fn unquote_etag(body: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(body);
    Bytes::from(attributes_in_aws_order(&text.replace("<ETag>\"", "<ETag>").replace("\"</ETag>", "</ETag>")))
}

/// GetObjectAttributes' elements in S3's order, whatever the order asked (`test_response_structure_get_obj_attrs`:
/// ETag, Checksum, ObjectParts, StorageClass, ObjectSize; the Java SDK reads them in that order).
fn attributes_in_aws_order(text: &str) -> String {
    const ORDER: [&str; 5] = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
    let Some(open_end) = text.find("<GetObjectAttributesResponse").and_then(|at| text[at..].find('>').map(|e| at + e + 1)) else {
        return text.to_owned();
    };
    let Some(close) = text.rfind("</GetObjectAttributesResponse>") else { return text.to_owned() };
    let inner = &text[open_end..close];
    let mut elements: Vec<&str> = Vec::new();
    for name in ORDER {
        let (open, end) = (format!("<{name}>"), format!("</{name}>"));
        if let Some(at) = inner.find(&open) {
            if let Some(stop) = inner[at..].find(&end) {
                elements.push(&inner[at..at + stop + end.len()]);
            }
        }
    }
    // Anything the order does not name stays (its elements keep the order s3s wrote them in).
    if elements.iter().map(|e| e.len()).sum::<usize>() != inner.len() {
        return text.to_owned();
    }
    format!("{}{}{}", &text[..open_end], elements.concat(), &text[close..])
}

/// ListBuckets with each bucket's `BucketArn` after its `Name`, as AWS answers since 2025
/// (`test_s3_list_operations.snapshot.json` → `test_list_buckets_with_continuation_token`); s3s's
/// model predates the element. `None` when `body` is not a ListBuckets result.
pub fn with_bucket_arns(body: &[u8]) -> Option<Bytes> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains("<ListAllMyBucketsResult") {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find("<Bucket><") {
        let (before, bucket) = rest.split_at(at);
        out.push_str(before);
        let end = bucket.find("</Bucket>").map_or(bucket.len(), |e| e + "</Bucket>".len());
        let (one, after) = bucket.split_at(end);
        let name = one.split_once("<Name>").and_then(|(_, n)| n.split_once("</Name>")).map(|(n, _)| n);
        match (name, one.find("</Name>")) {
            (Some(name), Some(close)) => {
                let close = close + "</Name>".len();
                // The name is already XML-escaped as s3s wrote it.
                out.push_str(&format!("{}<BucketArn>arn:aws:s3:::{name}</BucketArn>{}", &one[..close], &one[close..]));
            }
            _ => out.push_str(one),
        }
        rest = after;
    }
    out.push_str(rest);
    Some(Bytes::from(owner_first(out)))
}

/// `<Owner>` before `<Buckets>`, as S3 writes it (`test_response_structure`: the Java SDK reads them in that order).
fn owner_first(text: String) -> String {
    let (Some(owner_at), Some(buckets_at)) = (text.find("<Owner>"), text.find("<Buckets>").or_else(|| text.find("<Buckets/>"))) else {
        return text;
    };
    let Some(owner_end) = text[owner_at..].find("</Owner>").map(|e| owner_at + e + "</Owner>".len()) else { return text };
    if owner_at < buckets_at {
        return text;
    }
    let owner = &text[owner_at..owner_end];
    format!("{}{owner}{}{}", &text[..buckets_at], &text[buckets_at..owner_at], &text[owner_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_buckets_names_each_bucket_arn() {
        let body = b"<ListAllMyBucketsResult><Buckets><Bucket><CreationDate>x</CreationDate><Name>a-b</Name></Bucket><Bucket><Name>c</Name><BucketRegion>us-east-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>";
        let fixed = with_bucket_arns(body).expect("a ListBuckets result");
        assert_eq!(
            std::str::from_utf8(&fixed).expect("utf-8"),
            "<ListAllMyBucketsResult><Buckets><Bucket><CreationDate>x</CreationDate><Name>a-b</Name><BucketArn>arn:aws:s3:::a-b</BucketArn></Bucket><Bucket><Name>c</Name><BucketArn>arn:aws:s3:::c</BucketArn><BucketRegion>us-east-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>"
        );
        assert!(with_bucket_arns(b"<ListBucketResult><Name>a</Name></ListBucketResult>").is_none());
        let owner_last = b"<ListAllMyBucketsResult><Buckets></Buckets><Owner><ID>o</ID></Owner></ListAllMyBucketsResult>";
        let fixed = with_bucket_arns(owner_last).expect("a ListBuckets result");
        assert_eq!(
            std::str::from_utf8(&fixed).expect("utf-8"),
            "<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>"
        );
    }

    #[test]
    fn xml_documents_break_after_the_declaration() {
        let mut response = http::Response::new(s3s::Body::from(Bytes::from_static(
            br#"<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>"#,
        )));
        as_aws_xml(&mut response);
        let body = response.body().bytes().unwrap_or_default();
        assert_eq!(
            &body[..],
            br#"<?xml version="1.0" encoding="UTF-8"?>
<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#
        );
        let mut object = http::Response::new(s3s::Body::from(Bytes::from_static(br#"<?xml version="1.0" encoding="UTF-8"?><a/>"#)));
        object.headers_mut().insert(http::header::ETAG, http::HeaderValue::from_static("\"x\""));
        as_aws_xml(&mut object);
        assert_eq!(
            &object.body().bytes().unwrap_or_default()[..],
            br#"<?xml version="1.0" encoding="UTF-8"?><a/>"#,
            "object bytes untouched"
        );
    }

    #[test]
    fn fills_in_missing_messages_and_keeps_specific_ones() {
        let bare = Bytes::from_static(b"<?xml version=\"1.0\"?><Error><Code>InvalidBucketName</Code></Error>");
        assert_eq!(
            with_aws_message(&bare).as_deref(),
            Some(
                "<?xml version=\"1.0\"?><Error><Code>InvalidBucketName</Code><Message>The specified bucket is not valid.</Message></Error>"
            )
        );
        let specific = Bytes::from_static(b"<Error><Code>InvalidArgument</Code><Message>Invalid version id specified</Message></Error>");
        assert_eq!(with_aws_message(&specific), None);
        let s3s = Bytes::from_static(
            b"<Error><Code>RequestTimeTooSkewed</Code><Message>request time is too far from server time</Message></Error>",
        );
        assert!(with_aws_message(&s3s)
            .is_some_and(|t| t.contains("The difference between the request time and the current time is too large.")));
        assert_eq!(with_aws_message(&Bytes::from_static(b"not xml")), None);
    }
}
