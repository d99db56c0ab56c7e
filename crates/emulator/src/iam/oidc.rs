//! OpenID Connect identity providers (IAM API Reference `API_CreateOpenIDConnectProvider` and
//! neighbours). `sts:AssumeRoleWithWebIdentity` trusts tokens whose issuer is a provider of the
//! role's account; the issuer's signing keys come from the `/_xrepl/oidc/jwks` admin endpoint,
//! since the emulator fetches nothing from outside.

use super::reply::{date, limit_exceeded, tags_xml};
use super::request::{check_path_prefix, constraint, parse_tags, Call};
use crate::error::ServiceError;
use crate::state::iam::OidcProvider;
use crate::state::now;
use crate::xml::XmlBuf;

type Answer = Result<Option<String>, ServiceError>;

const CLIENT_IDS_MAX: usize = 100;
const THUMBPRINTS_MAX: usize = 5;
/// IAM's quota of OIDC providers per account.
const PROVIDERS_PER_ACCOUNT: usize = 100;

/// A provider's ARN from its account and [`issuer_key`].
pub fn provider_arn(account: &str, key: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{key}")
}

/// The provider's identity: its URL without the scheme (and without a trailing `/`), as in its
/// ARN, in GetOpenIDConnectProvider's `Url` and in the trust policy condition keys
/// (`host/path:aud`). None when the URL has no `https://` (or `http://`) scheme or a query.
pub fn issuer_key(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let rest = rest.trim_end_matches('/');
    let valid = !rest.is_empty()
        && !rest.contains(['?', '#'])
        && !rest.starts_with('/')
        && rest.chars().all(|c| ('\u{21}'..='\u{7e}').contains(&c));
    valid.then(|| rest.to_owned())
}

fn url_param(call: &Call<'_>) -> Result<(String, String), ServiceError> {
    let url = call.required("Url")?.to_owned();
    if url.chars().count() > 255 {
        return Err(constraint(&url, "url", "Member must have length less than or equal to 255"));
    }
    let key = issuer_key(&url).ok_or_else(|| ServiceError::validation("Invalid provider URL. The URL must begin with https://"))?;
    Ok((url, key))
}

fn client_id(value: &str) -> Result<(), ServiceError> {
    let len = value.chars().count();
    if !(1..=255).contains(&len) {
        return Err(constraint(value, "clientID", "Member must have length between 1 and 255"));
    }
    Ok(())
}

fn thumbprints(call: &Call<'_>) -> Result<Vec<String>, ServiceError> {
    let list = super::request::member_values(call.params, "ThumbprintList");
    if list.len() > THUMBPRINTS_MAX {
        return Err(limit_exceeded(format!("Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {THUMBPRINTS_MAX}")));
    }
    for t in &list {
        if t.len() != 40 {
            return Err(constraint(t, "thumbprintList.member", "Member must have length of 40"));
        }
    }
    Ok(list)
}

/// `OpenIDConnectProviderArn`, validated.
fn arn_param(call: &Call<'_>) -> Result<String, ServiceError> {
    let arn = call.required("OpenIDConnectProviderArn")?.to_owned();
    let valid = arn.len() >= 20
        && arn.len() <= 2048
        && arn.strip_prefix("arn:aws:iam::").and_then(|r| r.split_once(':')).is_some_and(|(account, resource)| {
            crate::config::is_account_id(account) && resource.strip_prefix("oidc-provider/").is_some_and(|n| !n.is_empty())
        });
    if !valid {
        return Err(ServiceError::bad_request("InvalidInput", format!("ARN {arn} is not valid.")));
    }
    Ok(arn)
}

fn not_found(arn: &str) -> ServiceError {
    ServiceError::no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

/// Validates the ARN, authorizes `iam:{action}` on it and returns the provider (cloned).
fn authorized(call: &Call<'_>, action: &str) -> Result<OidcProvider, ServiceError> {
    let arn = arn_param(call)?;
    call.authorize(action, &arn)?;
    call.iam()?.oidc_providers.get(&arn).cloned().ok_or_else(|| not_found(&arn))
}

fn provider_mut<'c>(call: &'c mut Call<'_>, arn: &str) -> Result<&'c mut OidcProvider, ServiceError> {
    call.iam_mut()?.oidc_providers.get_mut(arn).ok_or_else(|| not_found(arn))
}

pub(super) fn create_provider(call: &mut Call<'_>) -> Answer {
    let (url, key) = url_param(call)?;
    let client_ids = super::request::member_values(call.params, "ClientIDList");
    if client_ids.len() > CLIENT_IDS_MAX {
        return Err(limit_exceeded(format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_MAX}")));
    }
    for id in &client_ids {
        client_id(id)?;
    }
    let thumbprints = thumbprints(call)?;
    let tags = parse_tags(call.params, "Tags", "TagsPerOpenIDConnectProvider")?;
    let arn = provider_arn(&call.account, &key);
    call.authorize("CreateOpenIDConnectProvider", &arn)?;
    if !tags.is_empty() {
        call.authorize("TagOpenIDConnectProvider", &arn)?;
    }
    let iam = call.iam()?;
    if iam.oidc_providers.contains_key(&arn) {
        return Err(ServiceError::new(409, "EntityAlreadyExists", format!("Provider with url {url} already exists.")));
    }
    if iam.oidc_providers.len() >= PROVIDERS_PER_ACCOUNT {
        return Err(limit_exceeded(format!("Cannot exceed quota for OpenIdConnectProvidersPerAccount: {PROVIDERS_PER_ACCOUNT}")));
    }
    let mut unique: Vec<String> = Vec::with_capacity(client_ids.len());
    for id in client_ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    let provider = OidcProvider { arn: arn.clone(), url, client_ids: unique, thumbprints, created: now(), tags };
    let mut buf = XmlBuf::default();
    buf.elem("OpenIDConnectProviderArn", &arn);
    if !provider.tags.is_empty() {
        tags_xml(&mut buf, &provider.tags);
    }
    call.iam_mut()?.oidc_providers.insert(arn, provider);
    Ok(Some(buf.0))
}

/// GetOpenIDConnectProvider: `Url` comes back without its scheme, as IAM returns it.
pub(super) fn get_provider(call: &mut Call<'_>) -> Answer {
    let provider = authorized(call, "GetOpenIDConnectProvider")?;
    let mut buf = XmlBuf::default();
    buf.elem("Url", &issuer_key(&provider.url).unwrap_or_default());
    buf.open("ClientIDList");
    for id in &provider.client_ids {
        buf.elem("member", id);
    }
    buf.close("ClientIDList").open("ThumbprintList");
    for t in &provider.thumbprints {
        buf.elem("member", t);
    }
    buf.close("ThumbprintList").elem("CreateDate", &date(provider.created));
    tags_xml(&mut buf, &provider.tags);
    Ok(Some(buf.0))
}

pub(super) fn list_providers(call: &mut Call<'_>) -> Answer {
    if let Some(prefix) = call.optional("PathPrefix") {
        check_path_prefix(prefix)?;
    }
    call.authorize("ListOpenIDConnectProviders", &format!("arn:aws:iam::{}:oidc-provider/*", call.account))?;
    let mut buf = XmlBuf::default();
    buf.open("OpenIDConnectProviderList");
    for arn in call.iam()?.oidc_providers.keys() {
        buf.open("member").elem("Arn", arn).close("member");
    }
    buf.close("OpenIDConnectProviderList");
    Ok(Some(buf.0))
}

pub(super) fn delete_provider(call: &mut Call<'_>) -> Answer {
    let provider = authorized(call, "DeleteOpenIDConnectProvider")?;
    call.iam_mut()?.oidc_providers.remove(&provider.arn);
    Ok(None)
}

fn client_id_param(call: &Call<'_>) -> Result<String, ServiceError> {
    let id = call.required("ClientID")?.to_owned();
    client_id(&id)?;
    Ok(id)
}

/// AddClientIDToOpenIDConnectProvider: adding one already there changes nothing.
pub(super) fn add_client_id(call: &mut Call<'_>) -> Answer {
    let id = client_id_param(call)?;
    let provider = authorized(call, "AddClientIDToOpenIDConnectProvider")?;
    if provider.client_ids.contains(&id) {
        return Ok(None);
    }
    if provider.client_ids.len() >= CLIENT_IDS_MAX {
        return Err(limit_exceeded(format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {CLIENT_IDS_MAX}")));
    }
    provider_mut(call, &provider.arn)?.client_ids.push(id);
    Ok(None)
}

/// RemoveClientIDFromOpenIDConnectProvider: idempotent, as IAM documents.
pub(super) fn remove_client_id(call: &mut Call<'_>) -> Answer {
    let id = client_id_param(call)?;
    let provider = authorized(call, "RemoveClientIDFromOpenIDConnectProvider")?;
    provider_mut(call, &provider.arn)?.client_ids.retain(|c| *c != id);
    Ok(None)
}

pub(super) fn update_thumbprint(call: &mut Call<'_>) -> Answer {
    let list = thumbprints(call)?;
    let provider = authorized(call, "UpdateOpenIDConnectProviderThumbprint")?;
    provider_mut(call, &provider.arn)?.thumbprints = list;
    Ok(None)
}
