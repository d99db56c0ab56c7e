//! The front door's part of CORS: a browser's preflight (`OPTIONS`, unsigned) is answered here,
//! before `s3s` (which has no such operation), and an actual request with an `Origin` gets the
//! matching rule's `Access-Control-*` headers on its answer. What a configuration allows is
//! decided in [`crate::s3::cors`].

use bytes::Bytes;
use http::HeaderValue;
use s3s::Body;

use super::s3_errors;
use crate::runtime::Shared;
use crate::s3::cors::{self, CorsRefusal};

/// The bucket and key of a path-style request (`/bucket/key`), the key empty for the bucket.
pub fn bucket_and_key(path: &str) -> (String, String) {
    let path = path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    (decode(bucket), decode(key))
}

/// S3's answer to a preflight: `200` with the rule's headers and no body, or an XML error.
pub fn preflight(shared: &Shared, parts: &http::request::Parts) -> http::Response<Body> {
    let (bucket, key) = bucket_and_key(parts.uri.path());
    let request_id = s3_errors::new_request_id();
    let host_id = s3_errors::new_host_id();
    let mut response = match cors::preflight(shared, &bucket, &key, &parts.headers) {
        Ok(headers) => {
            let mut response = http::Response::new(Body::empty());
            add_headers(&mut response, headers);
            response
        }
        Err(refusal) => refused(&refusal, &request_id, &host_id),
    };
    add_headers(&mut response, vec![("x-amz-request-id", request_id), ("x-amz-id-2", host_id), ("server", "AmazonS3".to_owned())]);
    response
}

/// Adds the matching rule's headers to the answer of an actual request that named an `Origin`.
pub fn on_answer(
    shared: &Shared,
    path: &str,
    method: &http::Method,
    request_headers: &http::HeaderMap,
    response: &mut http::Response<Body>,
) {
    let (bucket, _) = bucket_and_key(path);
    add_headers(response, cors::actual_request(shared, &bucket, method.as_str(), request_headers));
}

fn add_headers(response: &mut http::Response<Body>, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// A refused preflight, as recorded: the error sent chunked, and the connection closed after a
/// `400` (S3 sends `Connection: close` there).
fn refused(refusal: &CorsRefusal, request_id: &str, host_id: &str) -> http::Response<Body> {
    let mut xml = crate::xml::XmlBuf::default();
    xml.open("Error").elem("Code", refusal.code).elem("Message", refusal.message);
    if let Some(method) = &refusal.method {
        xml.elem("Method", method).elem("ResourceType", refusal.resource_type);
    }
    xml.elem("RequestId", request_id).elem("HostId", host_id).close("Error");
    let body = Bytes::from(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", xml.0));
    // A stream of unknown length: hyper sends it with `Transfer-Encoding: chunked`, as S3 does.
    let chunks = futures::stream::iter([Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(body))]);
    let mut response = http::Response::new(Body::http_body(http_body_util::StreamBody::new(chunks)));
    *response.status_mut() = refusal.status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    if refusal.status == http::StatusCode::BAD_REQUEST {
        headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_names_bucket_and_key() {
        assert_eq!(bucket_and_key("/b/k%20x/y"), ("b".to_owned(), "k x/y".to_owned()));
        assert_eq!(bucket_and_key("/b"), ("b".to_owned(), String::new()));
        assert_eq!(bucket_and_key("/b/"), ("b".to_owned(), String::new()));
    }
}
