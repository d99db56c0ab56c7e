//! The S3 Control jobs API at the front door: requests under `/v20180820/` are signed for the
//! `s3` service, so they are told apart by path, verified here and answered by
//! [`crate::s3control`].

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use s3s::Body;

use super::Shared;
use crate::error::ServiceError;
use crate::s3control::{self, ControlRequest};

/// The account a request names: `x-amz-account-id`, else the host's first label
/// (`{account}.s3-control.{region}.amazonaws.com`).
fn account_id(headers: &http::HeaderMap, uri: &http::Uri) -> Option<String> {
    if let Some(id) = headers.get("x-amz-account-id").and_then(|v| v.to_str().ok()) {
        return Some(id.to_owned());
    }
    let host = headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).or(uri.host())?;
    let (first, rest) = host.split_once('.')?;
    (rest.starts_with("s3-control") && crate::config::is_account_id(first)).then(|| first.to_owned())
}

/// The account of an S3 Control jobs request, or None for any other request: one is the jobs path
/// with an account named as S3 Control clients name it (so path-style requests to a bucket called
/// `v20180820` still reach S3).
pub fn control_account<B>(req: &http::Request<B>) -> Option<String> {
    if !req.uri().path().starts_with(s3control::PATH_PREFIX) {
        return None;
    }
    account_id(req.headers(), req.uri())
}

/// A body over the front door's limit: S3's error for it, nothing created.
pub fn too_large() -> http::Response<Body> {
    respond(Err(ServiceError::bad_request("MaxMessageLengthExceeded", "Your request was too big.")))
}

/// Answers a request [`control_account`] found to be S3 Control's, for `account`.
pub fn handle(shared: &Arc<Shared>, parts: &Parts, body: &Bytes, account: &str) -> http::Response<Body> {
    let outcome = super::query::authenticate(shared, "s3", parts, body)
        .map_err(|mut e| {
            // S3's names for an unknown key (S3 Control shares S3's front end).
            if e.code == "InvalidClientTokenId" {
                e.code = "InvalidAccessKeyId".to_owned();
                e.message = super::s3_errors::standard_message("InvalidAccessKeyId").unwrap_or_default().to_owned();
            }
            if e.code == "MissingAuthenticationToken" {
                e = ServiceError::access_denied("Access Denied");
            }
            e
        })
        .and_then(|caller| {
            let request = ControlRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query(),
                account_id: Some(account),
                body,
            };
            s3control::handle(shared, &caller, &request)
        });
    respond(outcome)
}

fn respond(outcome: Result<String, ServiceError>) -> http::Response<Body> {
    let (status, xml) = match outcome {
        Ok(xml) => (StatusCode::OK, xml),
        Err(e) => {
            (StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), s3control::render_error(&e, &super::query::request_id()))
        }
    };
    let mut resp = http::Response::new(Body::from(xml));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    resp
}
