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

/// An S3 Control jobs request: the jobs path, and an account named as S3 Control clients name it
/// (so path-style requests to a bucket called `v20180820` still reach S3).
pub fn is_control<B>(req: &http::Request<B>) -> bool {
    req.uri().path().starts_with(s3control::PATH_PREFIX) && account_id(req.headers(), req.uri()).is_some()
}

/// A body over the front door's limit: S3's error for it, nothing created.
pub fn too_large() -> http::Response<Body> {
    respond(Err(ServiceError::bad_request("MaxMessageLengthExceeded", "Your request was too big.")))
}

pub fn handle(shared: &Arc<Shared>, parts: &Parts, body: &Bytes) -> http::Response<Body> {
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
            let account = account_id(&parts.headers, &parts.uri);
            let request = ControlRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query(),
                account_id: account.as_deref(),
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
