//! What S3 tells a client whose signature it could not match, and the presigned-URL checks it makes
//! before it looks at a signature at all (as recorded: `test_s3.snapshot.json` →
//! `TestS3PresignedUrl`, aws-semantics §96).
//!
//! `s3s` verifies S3 signatures; when it answers `SignatureDoesNotMatch`, the front door adds what S3
//! adds to help the client find its mistake: the access key, the signature it sent, and the
//! string to sign (and for SigV4 the canonical request) S3 computed, each also as hex bytes.

use http::HeaderMap;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::sigv4;

/// The parts of a signed request the explanation is computed from (kept before `s3s` takes it).
pub struct SignedParts {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
}

impl SignedParts {
    /// The request's parts when it carries a signature (header or query string), else None.
    pub fn of<B>(req: &http::Request<B>) -> Option<Self> {
        let query = req.uri().query().unwrap_or("");
        let presigned = query_param(query, "X-Amz-Signature").is_some() || query_param(query, "Signature").is_some();
        (presigned || req.headers().contains_key(http::header::AUTHORIZATION)).then(|| SignedParts {
            method: req.method().to_string(),
            path: req.uri().path().to_owned(),
            query: query.to_owned(),
            headers: req.headers().clone(),
        })
    }

    /// The elements S3 adds to a `SignatureDoesNotMatch` body, in its order.
    pub fn mismatch_elements(&self) -> Vec<(String, String)> {
        let header = self.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        if let Some(v2) = header.strip_prefix("AWS ") {
            let (key, signature) = v2.split_once(':').unwrap_or((v2, ""));
            let date = if self.headers.contains_key("x-amz-date") { String::new() } else { self.header("date") };
            return v2_elements(key, signature, &self.v2_string_to_sign(&date));
        }
        if let Some(signature) = query_param(&self.query, "Signature") {
            let key = query_param(&self.query, "AWSAccessKeyId").unwrap_or_default();
            let expires = query_param(&self.query, "Expires").unwrap_or_default();
            return v2_elements(&key, &signature, &self.v2_string_to_sign(&expires));
        }
        self.v4_elements(header)
    }

    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
    }

    fn v4_elements(&self, header: &str) -> Vec<(String, String)> {
        let presigned = query_param(&self.query, "X-Amz-Signature").is_some();
        let (access_key, scope, signed_headers, signature, amz_date, payload_hash) = if presigned {
            let credential = query_param(&self.query, "X-Amz-Credential").unwrap_or_default();
            let (key, scope) = credential.split_once('/').map(|(k, s)| (k.to_owned(), s.to_owned())).unwrap_or((credential, String::new()));
            let signed = query_param(&self.query, "X-Amz-SignedHeaders").unwrap_or_default();
            (
                key,
                scope,
                signed.split(';').map(str::to_owned).collect(),
                query_param(&self.query, "X-Amz-Signature").unwrap_or_default(),
                query_param(&self.query, "X-Amz-Date").unwrap_or_default(),
                query_param(&self.query, "X-Amz-Content-Sha256").unwrap_or_else(|| "UNSIGNED-PAYLOAD".to_owned()),
            )
        } else {
            let Ok(auth) = sigv4::parse_authorization(header) else { return Vec::new() };
            let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
            (auth.access_key, scope, auth.signed_headers, auth.signature, self.header("x-amz-date"), self.header("x-amz-content-sha256"))
        };
        let query: String =
            self.query.split('&').filter(|p| !p.starts_with("X-Amz-Signature=") && !p.is_empty()).collect::<Vec<_>>().join("&");
        let canonical = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            sigv4::canonical_uri(&self.path),
            sigv4::canonical_query(&query),
            sigv4::canonical_headers(&signed_headers, &self.headers),
            signed_headers.join(";"),
            payload_hash
        );
        let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
        vec![
            ("AWSAccessKeyId".to_owned(), access_key),
            ("StringToSign".to_owned(), string_to_sign.clone()),
            ("SignatureProvided".to_owned(), signature),
            ("StringToSignBytes".to_owned(), spaced_hex(&string_to_sign)),
            ("CanonicalRequest".to_owned(), canonical.clone()),
            ("CanonicalRequestBytes".to_owned(), spaced_hex(&canonical)),
        ]
    }

    /// SigV2's string to sign (User Guide `RESTAuthentication`): the verb, Content-MD5,
    /// Content-Type, the date (or a presigned URL's `Expires`), the `x-amz-` headers and the resource.
    fn v2_string_to_sign(&self, date: &str) -> String {
        let mut amz: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| k.as_str().starts_with("x-amz-"))
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).trim().to_owned()))
            .collect();
        amz.sort();
        let amz: String = amz.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let mut sub: Vec<(String, Option<String>)> = form_urlencoded::parse(self.query.as_bytes())
            .filter(|(k, _)| V2_SUBRESOURCES.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), (!v.is_empty()).then(|| v.into_owned())))
            .collect();
        sub.sort();
        let sub: Vec<String> = sub.iter().map(|(k, v)| v.as_ref().map_or_else(|| k.clone(), |v| format!("{k}={v}"))).collect();
        let resource = if sub.is_empty() { self.path.clone() } else { format!("{}?{}", self.path, sub.join("&")) };
        format!("{}\n{}\n{}\n{date}\n{amz}{resource}", self.method, self.header("content-md5"), self.header("content-type"))
    }
}

/// The subresources SigV2 signs as part of the resource.
const V2_SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

fn v2_elements(access_key: &str, signature: &str, string_to_sign: &str) -> Vec<(String, String)> {
    vec![
        ("AWSAccessKeyId".to_owned(), access_key.to_owned()),
        ("StringToSign".to_owned(), string_to_sign.to_owned()),
        ("SignatureProvided".to_owned(), signature.to_owned()),
        ("StringToSignBytes".to_owned(), spaced_hex(string_to_sign)),
    ]
}

/// `47 45 54 0a …`: the bytes as S3 lists them.
fn spaced_hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A presigned URL S3 refuses before it checks the signature: an error code, status, message and
/// the elements S3 names.
pub struct PresignRefusal {
    pub status: http::StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    pub elements: Vec<(String, String)>,
}

const V4_PARAMETERS: [&str; 6] =
    ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"];

/// A presigned SigV4 URL S3 cannot read (400 AuthorizationQueryParametersError).
fn unreadable_query(message: &'static str) -> Option<PresignRefusal> {
    Some(PresignRefusal { status: http::StatusCode::BAD_REQUEST, code: "AuthorizationQueryParametersError", message, elements: Vec::new() })
}

/// 403 AccessDenied with the elements S3 names.
fn denied(message: &'static str, elements: Vec<(String, String)>) -> Option<PresignRefusal> {
    Some(PresignRefusal { status: http::StatusCode::FORBIDDEN, code: "AccessDenied", message, elements })
}

/// Checks a presigned URL's parameters and expiry, as S3 does before the signature (as recorded:
/// `test_s3_put_presigned_url_missing_sig_param`, `test_presigned_double_encoded_credentials`,
/// `test_s3_presigned_url_expired`). Runs on every S3 request: the query is parsed once.
pub fn presigned_refusal(query: &str, now: OffsetDateTime) -> Option<PresignRefusal> {
    if query.is_empty() {
        return None;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if ["X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm"].iter().any(|p| param(p).is_some()) {
        if !V4_PARAMETERS.iter().all(|p| param(p).is_some()) {
            return unreadable_query(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            );
        }
        if param("X-Amz-Credential").unwrap_or_default().split('/').count() != 5 {
            return unreadable_query(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
            );
        }
        let expires = param("X-Amz-Expires").unwrap_or_default();
        let signed_at = param("X-Amz-Date").and_then(sigv4::parse_amz_date);
        let until = signed_at.zip(expires.parse::<i64>().ok()).map(|(at, secs)| at + time::Duration::seconds(secs));
        return until.filter(|until| *until < now).and_then(|until| {
            let elements = vec![
                ("X-Amz-Expires".to_owned(), expires.to_owned()),
                ("Expires".to_owned(), iso(until)),
                ("ServerTime".to_owned(), iso(now)),
            ];
            denied("Request has expired", elements)
        });
    }
    if param("Signature").is_some() || param("AWSAccessKeyId").is_some() {
        let Some(expires) = param("Expires").filter(|_| param("Signature").is_some() && param("AWSAccessKeyId").is_some()) else {
            return denied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters", Vec::new());
        };
        let until = expires.parse::<i64>().ok().and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok())?;
        if until < now {
            return denied("Request has expired", vec![("Expires".to_owned(), iso(until)), ("ServerTime".to_owned(), iso(now))]);
        }
    }
    None
}

/// `2026-12-08T03:05:02Z`, as S3 writes `Expires` and `ServerTime`.
fn iso(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn presigned_v4_needs_every_parameter_and_a_whole_credential() {
        let missing_date = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20261208%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-Signature=00";
        let refusal = presigned_refusal(missing_date, at(0)).map(|r| r.code);
        assert_eq!(refusal, Some("AuthorizationQueryParametersError"));
        let double_encoded = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%252F20261208%252Fus-east-1%252Fs3%252Faws4_request&X-Amz-Date=20261208T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-Signature=00";
        let refusal = presigned_refusal(double_encoded, at(0)).map(|r| r.message);
        assert!(refusal.is_some_and(|m| m.starts_with("Error parsing the X-Amz-Credential parameter")));
    }

    #[test]
    fn expired_urls_name_when_they_expired() {
        let v4 = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20261208%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261208T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-Signature=00";
        let signed = sigv4::parse_amz_date("20261208T000000Z").unwrap_or(OffsetDateTime::UNIX_EPOCH);
        assert!(presigned_refusal(v4, signed + time::Duration::seconds(5)).is_none(), "valid up to its expiry");
        let refusal = presigned_refusal(v4, signed + time::Duration::seconds(6)).map(|r| r.elements);
        let expected = vec![
            ("X-Amz-Expires".to_owned(), "5".to_owned()),
            ("Expires".to_owned(), "2026-12-08T00:00:05Z".to_owned()),
            ("ServerTime".to_owned(), "2026-12-08T00:00:06Z".to_owned()),
        ];
        assert_eq!(refusal, Some(expected));
        let v2 = "AWSAccessKeyId=a&Expires=100&Signature=x";
        assert_eq!(presigned_refusal(v2, at(101)).map(|r| r.message), Some("Request has expired"));
        assert_eq!(presigned_refusal("AWSAccessKeyId=a&Signature=x", at(0)).map(|r| r.status), Some(http::StatusCode::FORBIDDEN));
    }

    #[test]
    fn v2_string_to_sign_names_date_amz_headers_and_subresources() {
        let req = http::Request::builder()
            .method("PUT")
            .uri("/b/k?acl&foo=1")
            .header("authorization", "AWS key:sig")
            .header("content-type", "text/plain")
            .header("date", "Tue, 08 Dec 2026 00:00:00 GMT")
            .header("x-amz-meta-a", " 1 ")
            .body(())
            .unwrap_or_default();
        let parts = SignedParts::of(&req).map(|p| p.mismatch_elements()).unwrap_or_default();
        assert_eq!(parts[0], ("AWSAccessKeyId".to_owned(), "key".to_owned()));
        assert_eq!(parts[1].1, "PUT\n\ntext/plain\nTue, 08 Dec 2026 00:00:00 GMT\nx-amz-meta-a:1\n/b/k?acl");
        assert_eq!(parts[2].1, "sig");
        assert!(parts[3].1.starts_with("50 55 54 0a"));
    }
}
