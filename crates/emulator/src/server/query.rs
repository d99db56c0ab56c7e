//! The AWS Query protocol (IAM, STS) and JSON 1.1 protocol (KMS): authenticate, route, render.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use s3s::Body;

use super::sigv4::{self, SignedRequest};
use super::Shared;
use crate::error::ServiceError;
use crate::identity::Caller;
use crate::state::{random_id, KeyProblem};

const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Request parameters of a Query-protocol call (query string and form body merged).
pub type Params = BTreeMap<String, String>;

/// Recognises unsigned calls meant for the Query/JSON services, so they get those services'
/// `MissingAuthenticationToken` instead of an S3 error.
pub fn unsigned_service<B>(req: &http::Request<B>) -> Option<String> {
    if req.headers().get(http::header::AUTHORIZATION).is_some() {
        return None;
    }
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
    if target.starts_with("TrentService.") {
        return Some("kms".to_owned());
    }
    let form = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let query_action = req.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")));
    let presigned = req.uri().query().is_some_and(|q| q.contains("X-Amz-Credential"));
    if req.uri().path() == "/" && !presigned && ((req.method() == http::Method::POST && form) || query_action) {
        return Some("query".to_owned());
    }
    None
}

/// The client stopped sending the body (AWS's wording for an idle socket).
pub fn timed_out(service: &str) -> http::Response<Body> {
    render_error(service, "", &ServiceError::bad_request("RequestTimeout", super::guard::REQUEST_TIMEOUT))
}

pub fn too_large(service: &str) -> http::Response<Body> {
    render_error(service, "", &ServiceError::bad_request("RequestEntityTooLarge", "Request body is too large"))
}

pub fn handle(shared: &Shared, service: &str, parts: &Parts, body: &Bytes) -> http::Response<Body> {
    let mut params = Params::new();
    if service != "kms" {
        for (k, v) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
        for (k, v) in form_urlencoded::parse(body) {
            params.insert(k.into_owned(), v.into_owned());
        }
    }
    let action = params.get("Action").cloned().unwrap_or_default();
    // An unsigned Query call: decide IAM vs STS by the action name.
    let service = if service == "query" {
        if crate::sts::is_sts_action(&action) {
            "sts"
        } else {
            "iam"
        }
    } else {
        service
    };
    // STS takes AssumeRoleWithWebIdentity unsigned: the token is the credential.
    let unsigned_ok = service == "sts" && action == "AssumeRoleWithWebIdentity" && !parts.headers.contains_key(http::header::AUTHORIZATION);
    let caller = if unsigned_ok { Ok(Caller::anonymous()) } else { authenticate(shared, service, parts, body) };
    match caller {
        Ok(caller) => route(shared, service, &action, &caller, &params, parts, body),
        Err(err) => render_error(service, &action, &err),
    }
}

pub(super) fn authenticate(shared: &Shared, service: &str, parts: &Parts, body: &Bytes) -> Result<Caller, ServiceError> {
    let kms = service == "kms";
    let Some(header) = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Err(if kms {
            ServiceError::bad_request("MissingAuthenticationTokenException", "Missing Authentication Token")
        } else {
            ServiceError::new(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        });
    };
    let auth = sigv4::parse_authorization(header)?;
    let unknown_key = || {
        if kms {
            ServiceError::bad_request("UnrecognizedClientException", "The security token included in the request is invalid.")
        } else {
            ServiceError::new(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        }
    };
    let secret = shared.world().secret_for(&auth.access_key).ok_or_else(unknown_key)?;
    let signed =
        SignedRequest { method: parts.method.as_str(), path: parts.uri.path(), query: parts.uri.query(), headers: &parts.headers, body };
    sigv4::verify(&auth, &signed, &secret, crate::state::now()).map_err(|mut e| {
        if kms && e.code == "SignatureDoesNotMatch" {
            e.code = "InvalidSignatureException".to_owned();
            e.status = 400;
        }
        e
    })?;
    // As S3 does (docs/aws-semantics.md §60): an unsigned x-amz-* header (KMS's x-amz-target names
    // the operation) could change what the signed request does.
    if let Some(names) = super::guard::unsigned_amz_headers(&parts.headers, None) {
        let message = format!("{} ({})", super::guard::HEADERS_NOT_SIGNED, names.join(", "));
        return Err(if kms { ServiceError::bad_request("AccessDeniedException", message) } else { ServiceError::access_denied(message) });
    }
    let token = parts.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok());
    shared.world().caller_for(&auth.access_key, token).map_err(|p| match p {
        KeyProblem::UnknownKey | KeyProblem::InvalidToken => unknown_key(),
        KeyProblem::ExpiredToken => ServiceError::new(403, "ExpiredToken", "The security token included in the request is expired"),
    })
}

fn route(
    shared: &Shared,
    service: &str,
    action: &str,
    caller: &Caller,
    params: &Params,
    parts: &Parts,
    body: &Bytes,
) -> http::Response<Body> {
    match service {
        "kms" => {
            let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
            let op = target.strip_prefix("TrentService.").unwrap_or(target);
            match crate::kms::handle(shared, caller, op, body) {
                Ok(value) => json_response(StatusCode::OK, &value),
                Err(err) => render_error("kms", op, &err),
            }
        }
        "sts" => match crate::sts::handle(shared, caller, action, params) {
            Ok(result) => render_ok(STS_NS, action, result),
            Err(err) => render_error("sts", action, &err),
        },
        _ => match crate::iam::handle(shared, caller, action, params) {
            Ok(result) => render_ok(IAM_NS, action, result),
            Err(err) => render_error("iam", action, &err),
        },
    }
}

pub(super) fn request_id() -> String {
    let id = random_id(32).to_lowercase();
    format!("{}-{}-{}-{}-{}", &id[0..8], &id[8..12], &id[12..16], &id[16..20], &id[20..32])
}

/// `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` (no Result element for
/// actions that return nothing).
fn render_ok(ns: &str, action: &str, result: Option<String>) -> http::Response<Body> {
    let result = result.map(|r| format!("<{action}Result>{r}</{action}Result>")).unwrap_or_default();
    let xml = format!(
        "<{action}Response xmlns=\"{ns}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        request_id()
    );
    xml_response(StatusCode::OK, xml)
}

fn render_error(service: &str, _action: &str, err: &ServiceError) -> http::Response<Body> {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    if service == "kms" {
        let mut resp = json_response(status, &serde_json::json!({"__type": err.code, "message": err.message}));
        if let Ok(v) = HeaderValue::from_str(&err.code) {
            resp.headers_mut().insert("x-amzn-ErrorType", v);
        }
        return resp;
    }
    let ns = if service == "sts" { STS_NS } else { IAM_NS };
    let xml = format!(
        "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        err.fault_type(),
        crate::xml::escape(&err.code),
        crate::xml::escape(&err.message),
        request_id()
    );
    xml_response(status, xml)
}

fn xml_response(status: StatusCode, xml: String) -> http::Response<Body> {
    let mut resp = http::Response::new(Body::from(xml));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    resp
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> http::Response<Body> {
    let mut resp = http::Response::new(Body::from(value.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    resp
}
