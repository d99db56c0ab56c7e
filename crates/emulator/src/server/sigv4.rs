//! SigV4 verification for the Query and JSON services (IAM, STS, KMS). S3 requests are verified by
//! s3s; these services come to us first because s3s only knows the `s3` and `sts` scopes.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::ServiceError;

type HmacSha256 = Hmac<Sha256>;

/// The parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Finds the service named in the credential scope, from the header or a presigned query.
pub fn credential_service(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(auth) = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        return parse_authorization(auth).ok().map(|a| a.service);
    }
    let query = query?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "X-Amz-Credential")
        .and_then(|(_, v)| v.split('/').nth(3).map(str::to_owned))
}

pub fn parse_authorization(value: &str) -> Result<Authorization, ServiceError> {
    let incomplete = || {
        ServiceError::bad_request(
            "IncompleteSignature",
            format!("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={value}"),
        )
    };
    let rest = value.strip_prefix("AWS4-HMAC-SHA256").ok_or_else(incomplete)?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (credential, signed, signature) =
        (credential.ok_or_else(incomplete)?, signed.ok_or_else(incomplete)?, signature.ok_or_else(incomplete)?);
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[4] != "aws4_request" {
        return Err(ServiceError::bad_request(
            "IncompleteSignature",
            format!("Credential should be scoped to a valid region, service and terminator 'aws4_request'. Credential={credential}"),
        ));
    }
    Ok(Authorization {
        access_key: scope[0].to_owned(),
        date: scope[1].to_owned(),
        region: scope[2].to_owned(),
        service: scope[3].to_owned(),
        signed_headers: signed.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

/// Everything the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Maximum difference between the request's date and ours, as AWS allows.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// Verifies the signature with `secret`; errors are AWS's for the Query protocol.
pub fn verify(auth: &Authorization, req: &SignedRequest<'_>, secret: &str, now: OffsetDateTime) -> Result<(), ServiceError> {
    let amz_date = header(req.headers, "x-amz-date")
        .ok_or_else(|| ServiceError::bad_request("IncompleteSignature", "Request is missing X-Amz-Date header"))?;
    let when = parse_amz_date(amz_date)
        .ok_or_else(|| ServiceError::bad_request("IncompleteSignature", format!("Invalid X-Amz-Date: {amz_date}")))?;
    if (now - when).whole_seconds().abs() > MAX_SKEW_SECONDS {
        return Err(ServiceError::bad_request(
            "SignatureDoesNotMatch",
            format!("Signature expired: {amz_date} is now earlier than {} (15 minutes skew allowed).", format_amz_date(now)),
        ));
    }
    if !amz_date.starts_with(&auth.date) {
        return Err(ServiceError::bad_request(
            "SignatureDoesNotMatch",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
        ));
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(ServiceError::bad_request("SignatureDoesNotMatch", "'Host' must be a signed header"));
    }
    let canonical = canonical_request(auth, req);
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let expected = signature(secret, &auth.date, &auth.region, &auth.service, &string_to_sign);
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(ServiceError::new(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ))
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn canonical_request(auth: &Authorization, req: &SignedRequest<'_>) -> String {
    let headers = canonical_headers(&auth.signed_headers, req.headers);
    // The hash of the body actually received, never the client's `x-amz-content-sha256`: a
    // signed request replayed with another body must not verify (IAM, STS and KMS hash the
    // payload themselves and answer SignatureDoesNotMatch).
    let payload_hash = hex::encode(Sha256::digest(req.body));
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method,
        canonical_uri(req.path),
        canonical_query(req.query.unwrap_or("")),
        headers,
        auth.signed_headers.join(";"),
        payload_hash
    )
}

/// `name:value\n` for each signed header, values trimmed and inner whitespace folded.
pub(super) fn canonical_headers(signed_headers: &[String], request_headers: &HeaderMap) -> String {
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request_headers
            .get_all(name.as_str())
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    headers
}

/// Non-S3 services double-encode the path; for the "/" these services use it is just "/".
pub(super) fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/').map(|seg| uri_encode(&percent_decode(seg), true)).collect::<Vec<_>>().join("/")
}

pub(super) fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&percent_decode(k), true), uri_encode(&percent_decode(v), true))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn signature(secret: &str, date: &str, region: &str, service: &str, string_to_sign: &str) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn parse_amz_date(s: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, format).ok().map(PrimitiveDateTime::assume_utc)
}

pub fn format_amz_date(t: OffsetDateTime) -> String {
    format!("{:04}{:02}{:02}T{:02}{:02}{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's published SigV4 example for IAM ListUsers (General Reference, "Signature Version 4 test").
    #[test]
    fn aws_documented_example_signature() {
        let sig = signature(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
        );
        assert_eq!(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    }

    #[test]
    fn parses_authorization_header() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc",
        )
        .expect("valid header");
        assert_eq!(a.service, "iam");
        assert_eq!(a.signed_headers, vec!["content-type", "host", "x-amz-date"]);
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/x").is_err());
        assert!(parse_authorization("Basic abc").is_err());
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        assert_eq!(canonical_query("b=2&a=1&c=x%20y"), "a=1&b=2&c=x%20y");
    }
}
