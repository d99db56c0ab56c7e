//! `sts:AssumeRoleWithWebIdentity` for OpenID Connect tokens (STS API Reference
//! `API_AssumeRoleWithWebIdentity`, IAM User Guide `id_roles_providers_oidc`): the request is
//! unsigned; the token is the credential.
//!
//! Order of checks, as STS answers them: the role's account must have an OIDC provider for the
//! token's issuer (`InvalidIdentityToken`); the signature must verify against the issuer's keys
//! (`InvalidIdentityToken`); `exp` must be in the future (`ExpiredTokenException`) and `nbf` in
//! the past; `aud` must be one of the provider's client ids (`InvalidIdentityToken`); then the
//! role's trust policy must allow `sts:AssumeRoleWithWebIdentity` for `{"Federated": provider
//! ARN}` with the token's `<provider>:aud`, `<provider>:sub` and `<provider>:amr` condition keys
//! (`AccessDenied`).
//!
//! The issuer's signing keys (what a real IdP publishes at its `jwks_uri`) are registered with
//! the admin endpoint `PUT /_xrepl/oidc/jwks?issuer=URL` ([`crate::state::World::oidc_keys`]).

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use xrepl_policy::{Context, Policy, PrincipalInfo, Request};

use super::session::{issue_session, session_params, Params, SessionParams};
use crate::error::ServiceError;
use crate::state::iam::Role;
use crate::state::{iso8601, now, World};

const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

/// Token algorithms STS accepts from OIDC providers: asymmetric signatures only (a shared-secret
/// HS256 token could be forged by anyone who knows the client secret).
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

fn invalid_token(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("InvalidIdentityToken", message)
}

fn not_authorized() -> ServiceError {
    ServiceError::access_denied(format!("Not authorized to perform {ACTION}"))
}

const UNVERIFIABLE: &str =
    "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.";

/// The verified claims of a token, and the provider that vouched for it.
struct Verified {
    provider_arn: String,
    /// The provider's URL without scheme: the prefix of its condition keys.
    provider_key: String,
    issuer: String,
    subject: String,
    /// The client id the token was issued for (`azp` when present, else the matching `aud`).
    audience: String,
    amr: Vec<String>,
}

pub(super) fn assume_role_with_web_identity(world: &mut World, params: &Params) -> Result<String, ServiceError> {
    let SessionParams { role_arn, role_account, session, duration } = session_params(params)?;
    let token = params.get("WebIdentityToken").ok_or_else(|| ServiceError::missing_parameter("WebIdentityToken"))?;
    if !(4..=20_000).contains(&token.len()) {
        return Err(ServiceError::validation(format!(
            "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000 (got {})",
            token.len()
        )));
    }
    let verified = verify(world, &role_account, token)?;
    let role = world.accounts.get(&role_account).and_then(|a| a.iam.role_by_arn(&role_arn)).cloned().ok_or_else(not_authorized)?;
    authorize(&role, &verified, &session)?;
    let mut buf = issue_session(world, &role, &role_account, &session, duration.unwrap_or(3600), params)?;
    buf.elem("SubjectFromWebIdentityToken", &verified.subject).elem("Audience", &verified.audience).elem("Provider", &verified.issuer);
    Ok(buf.0)
}

fn verify(world: &World, role_account: &str, token: &str) -> Result<Verified, ServiceError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid_token(UNVERIFIABLE))?;
    // The issuer picks the provider and its keys; nothing else is trusted before the signature.
    let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| invalid_token(UNVERIFIABLE))?;
    let issuer = unverified.get("iss").and_then(Value::as_str).ok_or_else(|| invalid_token("Missing a required claim: iss"))?.to_owned();
    let provider_key = crate::iam::issuer_key(&issuer)
        .ok_or_else(|| invalid_token(format!("No OpenIDConnect provider found in your account for {issuer}")))?;
    let provider_arn = crate::iam::provider_arn(role_account, &provider_key);
    let provider = world
        .accounts
        .get(role_account)
        .and_then(|a| a.iam.oidc_providers.get(&provider_arn))
        .ok_or_else(|| invalid_token(format!("No OpenIDConnect provider found in your account for {issuer}")))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid_token(UNVERIFIABLE));
    }
    let no_key = || {
        invalid_token("Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements")
    };
    let keys = world.oidc_keys.get(&provider_key).ok_or_else(no_key)?;
    let candidates = signing_keys(keys, header.kid.as_deref());
    if candidates.is_empty() {
        return Err(no_key());
    }
    let mut validation = Validation::new(header.alg);
    validation.leeway = 0;
    validation.validate_nbf = true;
    // The audience is checked against the provider's client ids below, with STS's message.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let mut last = invalid_token(UNVERIFIABLE);
    let claims = candidates.iter().find_map(|jwk| {
        let key = DecodingKey::from_jwk(jwk).ok()?;
        match jsonwebtoken::decode::<Value>(token, &key, &validation) {
            Ok(data) => Some(data.claims),
            Err(e) => {
                last = claim_error(e.kind(), &unverified);
                None
            }
        }
    });
    let claims = claims.ok_or(last)?;
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
    let audiences = string_list(claims.get("aud"));
    let audience = claims
        .get("azp")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|azp| provider.client_ids.contains(azp))
        .or_else(|| audiences.iter().find(|a| provider.client_ids.contains(a)).cloned())
        .ok_or_else(|| invalid_token("Incorrect token audience"))?;
    let amr = string_list(claims.get("amr"));
    Ok(Verified { provider_arn, provider_key, issuer, subject, audience, amr })
}

/// A JWT claim that may be one string or a list of strings (RFC 7519 `aud`; `amr`), as a list.
fn string_list(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// The keys a token may have been signed with: the one its `kid` names, or every signing key
/// when the token names none.
fn signing_keys<'k>(keys: &'k JwkSet, kid: Option<&str>) -> Vec<&'k Jwk> {
    match kid {
        Some(kid) => keys.find(kid).into_iter().collect(),
        None => keys.keys.iter().collect(),
    }
}

/// STS's error for a token that failed verification.
fn claim_error(kind: &ErrorKind, claims: &Value) -> ServiceError {
    match kind {
        ErrorKind::ExpiredSignature => {
            let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or_default();
            // STS's wording, the missing space included.
            ServiceError::bad_request(
                "ExpiredTokenException",
                format!("Token expired: current date/time {} must be before the expiration date/time{exp}", now().unix_timestamp()),
            )
        }
        ErrorKind::ImmatureSignature => invalid_token("Token used before issued or before its not-before time"),
        ErrorKind::MissingRequiredClaim(claim) => invalid_token(format!("Missing a required claim: {claim}")),
        _ => invalid_token(UNVERIFIABLE),
    }
}

/// Evaluates the role's trust policy for the federated caller.
fn authorize(role: &Role, token: &Verified, session: &str) -> Result<(), ServiceError> {
    let principal =
        PrincipalInfo { account: None, arns: vec![token.provider_arn.clone()], service: None, canonical_id: None, anonymous: false };
    let mut ctx = Context::new();
    let key = &token.provider_key;
    ctx.insert(&format!("{key}:aud"), token.audience.clone());
    ctx.insert(&format!("{key}:sub"), token.subject.clone());
    if !token.amr.is_empty() {
        ctx.insert_many(&format!("{key}:amr"), token.amr.clone());
    }
    ctx.insert("aws:FederatedProvider", token.provider_arn.clone());
    ctx.insert("sts:RoleSessionName", session);
    ctx.insert("aws:SecureTransport", "false");
    ctx.insert("aws:CurrentTime", iso8601(now()));
    let request = Request { principal: &principal, action: ACTION, resource: &role.arn, context: &ctx };
    let none: [&Policy; 0] = [];
    let outcome = xrepl_policy::authorize(&none, Some(&role.trust.parsed), &request, true, false, false);
    if outcome.is_allowed() {
        Ok(())
    } else {
        Err(not_authorized())
    }
}
