//! Cross-origin resource sharing: how a bucket's CORS configuration answers a browser's preflight
//! (`OPTIONS`) and which `Access-Control-*` headers an actual request gets (User Guide `cors`,
//! "How does Amazon S3 evaluate the CORS configuration on a bucket?"). The first rule that matches
//! the origin, the method and every requested header decides; the answers and their wording follow
//! the recordings of LocalStack's `test_s3_cors.py` (aws-semantics §95).

use s3s::dto;

use crate::runtime::Shared;

/// What the browser asked: `Origin`, the method it will use and the headers it will send.
pub struct CorsRequest<'a> {
    pub origin: Option<&'a str>,
    /// `Access-Control-Request-Method`, or for an actual request its own method.
    pub method: &'a str,
    /// `Access-Control-Request-Headers`, split at commas, trimmed and lower-cased.
    pub headers: Vec<String>,
}

impl<'a> CorsRequest<'a> {
    /// Reads a request's CORS headers; `method` is what the request itself uses.
    pub fn from_headers(headers: &'a http::HeaderMap, method: &'a str) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let requested = text("access-control-request-headers").unwrap_or("");
        CorsRequest {
            origin: text("origin"),
            method: text("access-control-request-method").unwrap_or(method),
            headers: requested.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect(),
        }
    }
}

/// Why a preflight is refused: S3's error code, status and message, with the `Method` and
/// `ResourceType` elements it adds.
#[derive(Debug, PartialEq, Eq)]
pub struct CorsRefusal {
    pub status: http::StatusCode,
    pub code: &'static str,
    pub message: &'static str,
    /// None for the 400 without an `Origin` (S3 names no method there).
    pub method: Option<String>,
    pub resource_type: &'static str,
}

const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, \
request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// Answers a preflight for `bucket` (and `key`, empty for the bucket itself): the headers of a
/// `200 OK`, or why S3 refuses it.
pub fn preflight(shared: &Shared, bucket: &str, key: &str, headers: &http::HeaderMap) -> Result<Vec<(&'static str, String)>, CorsRefusal> {
    let request = CorsRequest::from_headers(headers, "OPTIONS");
    let refused = |message, resource_type| CorsRefusal {
        status: http::StatusCode::FORBIDDEN,
        code: "AccessForbidden",
        message,
        method: Some(request.method.to_owned()),
        resource_type,
    };
    let Some(origin) = request.origin else {
        return Err(CorsRefusal {
            status: http::StatusCode::BAD_REQUEST,
            code: "BadRequest",
            message: "Insufficient information. Origin request header needed.",
            method: None,
            resource_type: "BUCKET",
        });
    };
    let world = shared.world();
    let Some(found) = world.buckets.get(bucket) else {
        return Err(refused("CORSResponse: Bucket not found", "BUCKET"));
    };
    let Some(config) = &found.settings.cors else {
        return Err(refused("CORSResponse: CORS is not enabled for this bucket.", "BUCKET"));
    };
    let resource_type = if key.is_empty() { "BUCKET" } else { "OBJECT" };
    let rule = matching_rule(config, origin, &request).ok_or_else(|| refused(NOT_ALLOWED, resource_type))?;
    let mut answer = allow_headers(rule, origin);
    if !request.headers.is_empty() {
        answer.push(("Access-Control-Allow-Headers", request.headers.join(", ")));
    }
    Ok(answer)
}

/// The `Access-Control-*` headers an actual request gets: those of the first matching rule, or
/// none (a request without `Origin`, a bucket without CORS, no rule matches).
pub fn actual_request(shared: &Shared, bucket: &str, method: &str, headers: &http::HeaderMap) -> Vec<(&'static str, String)> {
    let request = CorsRequest::from_headers(headers, method);
    let Some(origin) = request.origin else {
        return Vec::new();
    };
    let world = shared.world();
    let config = world.buckets.get(bucket).and_then(|b| b.settings.cors.as_ref());
    config.and_then(|c| matching_rule(c, origin, &request)).map(|rule| allow_headers(rule, origin)).unwrap_or_default()
}

/// The headers every allowed request gets from `rule`. A rule open to every origin (`*`) answers
/// `*` and allows no credentials; otherwise the origin is echoed and credentials are allowed.
fn allow_headers(rule: &dto::CORSRule, origin: &str) -> Vec<(&'static str, String)> {
    let any_origin = rule.allowed_origins.iter().any(|o| o == "*");
    let mut headers = vec![
        ("Access-Control-Allow-Origin", if any_origin { "*".to_owned() } else { origin.to_owned() }),
        ("Access-Control-Allow-Methods", rule.allowed_methods.join(", ")),
        ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".to_owned()),
    ];
    if !any_origin {
        headers.push(("Access-Control-Allow-Credentials", "true".to_owned()));
    }
    if let Some(expose) = rule.expose_headers.as_ref().filter(|e| !e.is_empty()) {
        headers.push(("Access-Control-Expose-Headers", expose.join(", ")));
    }
    if let Some(max_age) = rule.max_age_seconds {
        headers.push(("Access-Control-Max-Age", max_age.to_string()));
    }
    headers
}

fn matching_rule<'c>(config: &'c dto::CORSConfiguration, origin: &str, request: &CorsRequest<'_>) -> Option<&'c dto::CORSRule> {
    config.cors_rules.iter().find(|rule| {
        rule.allowed_origins.iter().any(|allowed| wildcard_match(allowed, origin))
            && rule.allowed_methods.iter().any(|m| m == request.method)
            && request.headers.iter().all(|header| {
                let allowed = rule.allowed_headers.as_deref().unwrap_or_default();
                allowed.iter().any(|a| wildcard_match(&a.to_ascii_lowercase(), header))
            })
    })
}

/// `AllowedOrigin` and `AllowedHeader` may hold one `*`, matching any run of characters.
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((prefix, suffix)) => value.len() >= prefix.len() + suffix.len() && value.starts_with(prefix) && value.ends_with(suffix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: Option<&[&str]>) -> dto::CORSConfiguration {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        dto::CORSConfiguration {
            cors_rules: vec![dto::CORSRule {
                allowed_origins: strings(origins),
                allowed_methods: strings(methods),
                allowed_headers: headers.map(strings),
                expose_headers: None,
                id: None,
                max_age_seconds: None,
            }],
        }
    }

    fn request<'a>(origin: &'a str, method: &'a str, headers: &[&str]) -> CorsRequest<'a> {
        CorsRequest { origin: Some(origin), method, headers: headers.iter().map(|h| (*h).to_owned()).collect() }
    }

    #[test]
    fn one_wildcard_matches_a_run_of_characters() {
        assert!(wildcard_match("http://*.origin.com", "http://test.origin.com"));
        assert!(!wildcard_match("http://*.origin.com", "http://test.origin.com/"));
        assert!(wildcard_match("*", "localhost:4566"));
        assert!(!wildcard_match("https://localhost:4200", "http://localhost:4200"));
    }

    #[test]
    fn every_requested_header_must_be_allowed_case_insensitively() {
        let config = rule(&["*"], &["GET"], Some(&["x-AMZ-server-SIDE-encryption", "x-amz-expected-bucket-owner"]));
        assert!(matching_rule(&config, "o", &request("o", "GET", &["x-amz-server-side-encryption"])).is_some());
        assert!(matching_rule(&config, "o", &request("o", "GET", &["x-amz-request-payer"])).is_none());
        assert!(matching_rule(&config, "o", &request("o", "PUT", &[])).is_none());
        let no_headers = rule(&["*"], &["GET"], None);
        assert!(matching_rule(&no_headers, "o", &request("o", "GET", &["x-amz-request-payer"])).is_none());
    }

    #[test]
    fn an_open_rule_answers_star_without_credentials() {
        let config = rule(&["*"], &["GET", "PUT"], None);
        let headers = allow_headers(&config.cors_rules[0], "http://random:1234");
        assert!(headers.contains(&("Access-Control-Allow-Origin", "*".to_owned())));
        assert!(headers.contains(&("Access-Control-Allow-Methods", "GET, PUT".to_owned())));
        assert!(!headers.iter().any(|(name, _)| *name == "Access-Control-Allow-Credentials"));
    }
}
