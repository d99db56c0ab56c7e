//! `/_xrepl/...` admin endpoints for tests and the served emulator: health, accounts and the
//! replication test controls (drain, pause, resume, latency, unavailable buckets, failure events),
//! world-lock counters (`GET /stats`, for the benchmarks)
//! and OpenID Connect issuers' signing keys (`PUT /oidc/jwks?issuer=URL`, the JWKS as the body).
//! Bucket names cannot start with `_`, so these paths never collide with S3 requests.
//!
//! Every call but a `GET` must carry the header `x-xrepl-admin: 1` ([`ADMIN_HEADER`]): a web page
//! cannot send a custom header cross-site without a CORS preflight, which the emulator never
//! answers, so a page a developer visits cannot pause, drain or reconfigure their emulator.
//! And every call must be addressed (`Host`) to a loopback name or address, or to a name the user
//! allowed ([`crate::EmulatorConfig::allow_hosts`]): a page whose own name is made to resolve to
//! 127.0.0.1 (DNS rebinding) is same-origin with the emulator, but its requests carry its name.

use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};
use s3s::Body;
use serde_json::json;

use super::Shared;
use crate::replication::MAX_LATENCY;

/// The header (with value `1`) every admin call that is not a `GET` must carry.
pub const ADMIN_HEADER: &str = "x-xrepl-admin";

/// The longest a drain call may wait (`timeout_ms`).
const MAX_DRAIN_WAIT_MS: u64 = 10 * 60 * 1000;

/// Whether `host` (a `Host` header's name, without port) names this machine only: `localhost`,
/// an address in 127.0.0.0/8, or `::1` (with or without brackets).
#[must_use]
pub fn is_loopback(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost") || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The name in a `Host` header value: `[::1]:4566` → `[::1]`, `localhost:4566` → `localhost`.
fn host_name(value: &str) -> &str {
    if value.starts_with('[') {
        return value.find(']').map_or(value, |end| &value[..=end]);
    }
    match value.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => value,
    }
}

/// The refusal of a request addressed to a name that is neither loopback nor allowed.
fn host_refused(parts: &Parts, allowed: &[String]) -> Option<http::Response<Body>> {
    let host = parts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let name = host.map(host_name).unwrap_or("");
    let name_ok = |n: &str| is_loopback(n) || allowed.iter().any(|a| a.eq_ignore_ascii_case(n.strip_suffix('.').unwrap_or(n)));
    // An absolute-form target (`POST http://name/...`) must name an allowed host too.
    let authority_ok = parts.uri.authority().is_none_or(|a| name_ok(host_name(a.as_str())));
    if !name.is_empty() && name_ok(name) && authority_ok {
        return None;
    }
    Some(respond(
        StatusCode::FORBIDDEN,
        json!({"error": format!(
            "admin endpoints answer only requests addressed to a loopback name (localhost, 127.0.0.0/8, [::1]); this one was addressed to Host {:?}. If this name is yours, start the emulator with `--allow-host {}` (EmulatorConfig::allow_host)",
            host.unwrap_or(""),
            if name.is_empty() { "NAME" } else { name }
        )}),
    ))
}

/// Answers one admin request. One piece: after the two checks, the route table, one arm per
/// endpoint of docs/emulator.md, reads best whole.
pub async fn handle(shared: &Shared, parts: &Parts, body: &Bytes) -> http::Response<Body> {
    if let Some(refused) = host_refused(parts, &shared.config.allow_hosts) {
        return refused;
    }
    if parts.method != Method::GET && parts.headers.get(ADMIN_HEADER).is_none_or(|v| v.as_bytes() != b"1") {
        return respond(
            StatusCode::FORBIDDEN,
            json!({"error": format!(
                "{} {} changes the emulator's state: send the request header `{ADMIN_HEADER}: 1` (required so that web pages cannot call admin endpoints cross-site)",
                parts.method,
                parts.uri.path()
            )}),
        );
    }
    let query: Vec<(String, String)> = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let path = parts.uri.path().trim_start_matches("/_xrepl");
    let control = &shared.replication;
    match (&parts.method, path) {
        (&Method::GET, "/health") => {
            let accounts: Vec<String> = shared.world().accounts.keys().cloned().collect();
            ok(json!({"status": "ok", "services": ["s3", "iam", "sts", "kms"], "accounts": accounts}))
        }
        (&Method::GET, "/accounts") => {
            let world = shared.world();
            let accounts: Vec<_> = world.accounts.values().map(|a| json!({"account_id": a.id, "canonical_id": a.canonical_id})).collect();
            ok(json!({ "accounts": accounts }))
        }
        (&Method::POST, "/replication/drain") => {
            let timeout = match param("timeout_ms").map(|v| v.parse::<u64>()) {
                None => 30_000,
                Some(Ok(ms)) if ms <= MAX_DRAIN_WAIT_MS => ms,
                Some(_) => return bad(&format!("timeout_ms must be a number of milliseconds up to {MAX_DRAIN_WAIT_MS}")),
            };
            let drained = tokio::time::timeout(Duration::from_millis(timeout), control.drain()).await.is_ok();
            let status = control.status();
            let code = if drained { StatusCode::OK } else { StatusCode::REQUEST_TIMEOUT };
            respond(code, json!({"drained": drained, "queued": status.queued, "parked": status.parked}))
        }
        (&Method::POST, "/replication/pause") => {
            control.pause();
            ok(json!({"paused": true}))
        }
        (&Method::POST, "/replication/resume") => {
            control.resume();
            ok(json!({"paused": false}))
        }
        (&Method::POST, "/replication/latency") => match param("ms").and_then(|v| v.parse::<u64>().ok()) {
            Some(ms) if u128::from(ms) > MAX_LATENCY.as_millis() => {
                bad(&format!("latency ms={ms} is over the maximum of {} ms", MAX_LATENCY.as_millis()))
            }
            Some(ms) => {
                control.set_latency(Duration::from_millis(ms));
                ok(json!({"latency_ms": ms}))
            }
            None => bad("query parameter ms=<milliseconds> is required"),
        },
        // Replication Time Control's clock: how long one threshold minute lasts (tests).
        (&Method::POST, "/replication/time-scale") => match param("minute_ms").and_then(|v| v.parse::<u64>().ok()) {
            Some(ms) if ms >= 1 && u128::from(ms) <= crate::runtime::queue::REAL_MINUTE.as_millis() => {
                control.set_time_scale(Duration::from_millis(ms));
                ok(json!({"minute_ms": ms}))
            }
            _ => bad("query parameter minute_ms=<milliseconds an RTC minute lasts, 1 to 60000> is required"),
        },
        (&Method::POST, "/replication/unavailable") => {
            let Some(bucket) = param("bucket") else { return bad("query parameter bucket=<name> is required") };
            let unavailable = param("value").is_none_or(|v| v != "false");
            control.set_unavailable(&bucket, unavailable);
            ok(json!({"bucket": bucket, "unavailable": unavailable}))
        }
        // xrepl's diagnostics: every failure, with its explanation and fix.
        (&Method::GET, "/replication/failures") => {
            let failures: Vec<_> = control.failures().iter().map(crate::replication::FailureEvent::to_json).collect();
            ok(json!({ "failures": failures }))
        }
        // What AWS would deliver: `Replication:OperationFailedReplication` records (only for
        // rules with replication metrics enabled) and the RTC events.
        (&Method::GET, "/replication/events") => ok(json!({ "Records": control.notifications() })),
        (&Method::POST, "/reset") => {
            let account = param("account");
            if account.as_deref().is_some_and(|a| !crate::config::is_account_id(a)) {
                return bad("account=<12-digit account id> or no parameter (everything)");
            }
            match shared.reset(account.as_deref()) {
                Ok(()) => ok(json!({"reset": account.unwrap_or_else(|| "everything".to_owned())})),
                Err(e) => respond(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": e.to_string()})),
            }
        }
        (&Method::POST, "/lifecycle/run") => match param("days").map(|v| v.parse::<u32>()) {
            // S3 runs lifecycle once a day; this runs it now, as if `days` had passed.
            Some(Ok(days)) => match crate::s3::lifecycle::run_and_commit(shared, time::Duration::days(i64::from(days))) {
                Ok(report) => ok(json!(report)),
                Err(e) => respond(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": e.to_string()})),
            },
            _ => bad("query parameter days=<whole days> is required"),
        },
        // What an IdP publishes at its jwks_uri: AssumeRoleWithWebIdentity verifies the issuer's
        // tokens with these keys.
        (&Method::PUT, "/oidc/jwks") => {
            let Some(issuer) = param("issuer") else { return bad("query parameter issuer=<https://issuer URL> is required") };
            let Some(key) = crate::iam::issuer_key(&issuer) else {
                return bad("issuer must be the token's iss: https://host[/path], without query");
            };
            match serde_json::from_slice::<jsonwebtoken::jwk::JwkSet>(body) {
                Ok(keys) => {
                    let count = keys.keys.len();
                    shared.world().oidc_keys.insert(key.clone(), keys);
                    ok(json!({"issuer": key, "keys": count}))
                }
                Err(e) => bad(&format!("the body must be a JWKS document ({{\"keys\": [...]}}): {e}")),
            }
        }
        // A test process keeps its emulator alive (`--exit-when-lease-expires`): runtime/lease.rs.
        (&Method::POST, "/lease") => match param("ttl_s").and_then(|v| v.parse::<u64>().ok()) {
            Some(s) if s >= 1 && s <= crate::runtime::lease::MAX_TTL.as_secs() => {
                shared.lease.renew(Duration::from_secs(s));
                ok(json!({"ttl_s": s, "exit_when_expired": shared.config.exit_when_lease_expires}))
            }
            _ => bad(&format!("query parameter ttl_s=<seconds, 1 to {}> is required", crate::runtime::lease::MAX_TTL.as_secs())),
        },
        (&Method::GET, "/stats") => ok(json!({"world_lock": shared.world_lock_stats()})),
        (&Method::GET, "/replication/status") => {
            let s = control.status();
            ok(json!({"queued": s.queued, "parked": s.parked, "paused": s.paused, "processed": s.processed}))
        }
        _ => respond(StatusCode::NOT_FOUND, json!({"error": format!("no admin endpoint {} {}", parts.method, parts.uri.path())})),
    }
}

fn ok(value: serde_json::Value) -> http::Response<Body> {
    respond(StatusCode::OK, value)
}

fn bad(message: &str) -> http::Response<Body> {
    respond(StatusCode::BAD_REQUEST, json!({ "error": message }))
}

fn respond(status: StatusCode, value: serde_json::Value) -> http::Response<Body> {
    let mut resp = http::Response::new(Body::from(value.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("[::1]:4566"), "[::1]");
        assert_eq!(host_name("localhost:4566"), "localhost");
        assert_eq!(host_name("example.com"), "example.com");
        assert_eq!(host_name("::1"), "::1");
        for loopback in ["localhost", "LocalHost.", "127.0.0.1", "127.1.2.3", "[::1]", "::1"] {
            assert!(is_loopback(loopback), "{loopback}");
        }
        for other in ["localhost.evil.example", "evil.example", "0.0.0.0", "10.0.0.1", "[::2]", ""] {
            assert!(!is_loopback(other), "{other}");
        }
    }
}
