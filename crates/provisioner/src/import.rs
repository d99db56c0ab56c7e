//! Read an existing replication setup (the source bucket's replication configuration, its role
//! with the trust and inline permission policy, the destination bucket's policy) and write the
//! spec that describes it, so an existing AWS setup can be brought into a test (`xrepl check` on
//! the result reproduces it on the emulator) or managed by xrepl from then on.
//!
//! Documents that are exactly what xrepl would generate for the spec are left out of it; others
//! are written next to the spec (`trust-policy.json`, `permission-policy.json`) and named with
//! `trust_policy_file` / `permission_policy_file`. A role xrepl did not create is imported as
//! it is (apply then leaves it untouched, see [`crate::ownership`]).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::aws::{documents_equivalent, AccountClients};
use crate::documents::Documents;
use crate::error::ProvisionError;
use crate::plan::{observe_bucket, observe_object_lock, observe_replication, observe_role, observe_role_policy, RoleState};
use crate::spec::{import_replication_json, ReplicationImport, RuleSpec, Spec, DEFAULT_ROLE_POLICY_NAME};

/// A spec read from AWS: its TOML text, and the JSON documents it names (file name, text).
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The spec's TOML text (to write as e.g. `spec.toml`).
    pub spec: String,
    /// The documents the spec names, as (file name relative to the spec, JSON text): only those
    /// that differ from what xrepl would generate, e.g. `trust-policy.json`.
    pub files: Vec<(String, String)>,
}

/// Where the imported spec's accounts are reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Written into both `[*.credentials]` tables (with the emulator's key convention).
    pub endpoint: Option<String>,
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn not_importable(account: &str, message: String) -> ProvisionError {
    ProvisionError::Conflict { account: account.to_string(), message }
}

/// Import the setup that replicates `bucket` (in `source`'s account). `destination` gives the
/// clients of the destination account (its id as argument), to read the destination bucket's
/// policy; when it gives none, the policy is not looked at.
///
/// Only reads: HeadBucket, GetBucketReplication, GetRole, ListRolePolicies, GetRolePolicy,
/// GetBucketPolicy, GetObjectLockConfiguration. Nothing is written, neither on AWS nor to disk.
///
/// # Errors
///
/// [`ProvisionError::Conflict`] when there is nothing xrepl can describe: the bucket does not
/// exist in `source`'s account, has no replication configuration, its `Role` is not a role ARN or
/// that role does not exist, or the role has several inline policies and none is named
/// `xrepl-replication`. [`ProvisionError::Aws`] when a read fails.
pub async fn import(
    source: &AccountClients,
    destination: &dyn Fn(&str) -> Option<AccountClients>,
    bucket: &str,
    options: &ImportOptions,
) -> Result<Imported, ProvisionError> {
    let account = source.account_id.as_str();
    if !observe_bucket(source, bucket).await?.exists {
        return Err(not_importable(account, format!("bucket {bucket} does not exist in account {account}")));
    }
    let Some(config) = observe_replication(source, bucket).await? else {
        return Err(not_importable(account, format!("bucket {bucket} has no replication configuration to import")));
    };
    let text = config.to_string();
    let rules = import_replication_json(&text, Path::new(""))?;
    let role_arn = rules.role.clone().unwrap_or_default();
    let (role_path, role_name) = split_role_arn(&role_arn)
        .ok_or_else(|| not_importable(account, format!("the configuration's Role {role_arn:?} is not a role ARN")))?;
    let destinations = destinations_of(&config, &rules, source, destination);
    let several = destinations.len() > 1;

    // The role: its inline policy (the one, or xrepl's name among several) and its trust.
    let role = observe_role(source, &role_name)
        .await?
        .ok_or_else(|| not_importable(account, format!("the replication role {role_name} does not exist in account {account}")))?;
    let policy_name = replication_policy_name(source, &role_name).await?;
    let permission = observe_role_policy(source, &role_name, &policy_name).await?;

    let mut toml = String::new();
    let _ = writeln!(toml, "# Imported by `xrepl import --bucket {bucket}` from account {account}.\n");
    write_accounts(&mut toml, source, bucket, &destinations, options.endpoint.as_deref()).await?;
    let _ = writeln!(toml, "\n[role]\nname = {}\npath = {}\npolicy_name = {}", quote(&role_name), quote(&role_path), quote(&policy_name));
    let mut body = String::new();
    for (i, r) in rules.rules.iter().enumerate() {
        let bucket = rules.destination_buckets.get(i).map(|b| b.strip_prefix("arn:aws:s3:::").unwrap_or(b));
        write_rule(&mut body, r, bucket.filter(|_| several));
    }
    let files = role_document_files(&mut toml, &body, &role, permission.as_ref())?;
    if !role.managed {
        toml.push_str("# not created by xrepl: apply leaves it as it is (adopt = true lets xrepl change it)\n");
    }
    write_bucket_policy_notes(&mut toml, &destinations).await?;
    toml.push_str(&body);
    Ok(Imported { spec: toml, files })
}

/// Each destination bucket the rules name (once, in rule order) with its account (the rule's
/// Destination.Account, else the source's) and the clients that read it, when `destination`
/// gives them.
fn destinations_of(
    config: &Value,
    rules: &ReplicationImport,
    source: &AccountClients,
    destination: &dyn Fn(&str) -> Option<AccountClients>,
) -> Vec<(String, String, Option<AccountClients>)> {
    let mut destinations: Vec<(String, Option<String>)> = Vec::new();
    for (i, rule) in config.get("Rules").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let d = rule.get("Destination");
        let arn = rules.destination_buckets.get(i).cloned().unwrap_or_default();
        let name = arn.strip_prefix("arn:aws:s3:::").unwrap_or(&arn).to_string();
        let acct = d.and_then(|d| d.get("Account")).and_then(Value::as_str).map(str::to_string);
        if !destinations.iter().any(|(n, _)| *n == name) {
            destinations.push((name, acct));
        }
    }
    destinations
        .into_iter()
        .map(|(bucket, acct)| {
            let acct = acct.unwrap_or_else(|| source.account_id.clone());
            let clients = destination(&acct);
            (bucket, acct, clients)
        })
        .collect()
}

/// The role's replication policy: its one inline policy, or xrepl's name among several.
async fn replication_policy_name(source: &AccountClients, role_name: &str) -> Result<String, ProvisionError> {
    let account = source.account_id.as_str();
    let names = source
        .iam
        .list_role_policies()
        .role_name(role_name)
        .send()
        .await
        .map_err(|e| crate::aws::aws_error("ListRolePolicies", account, e))?;
    match names.policy_names() {
        [one] => Ok(one.clone()),
        many if many.iter().any(|n| n == DEFAULT_ROLE_POLICY_NAME) => Ok(DEFAULT_ROLE_POLICY_NAME.to_string()),
        many => Err(not_importable(
            account,
            format!(
                "role {role_name} has {} inline policies ({}); xrepl describes the role's one replication policy (attached managed policies are not imported)",
                many.len(),
                many.join(", ")
            ),
        )),
    }
}

/// The `[source]` table and one `[destination]` (or `[[destinations]]`) table each, with object
/// lock where it is on and, with an endpoint, the emulator's credentials.
async fn write_accounts(
    toml: &mut String,
    source: &AccountClients,
    bucket: &str,
    destinations: &[(String, String, Option<AccountClients>)],
    endpoint: Option<&str>,
) -> Result<(), ProvisionError> {
    let account = source.account_id.as_str();
    let several = destinations.len() > 1;
    let _ = writeln!(toml, "[source]\naccount_id = {}\nbucket = {}\nregion = {}", quote(account), quote(bucket), quote(&source.region));
    if observe_object_lock(source, bucket).await? == Some(true) {
        toml.push_str("object_lock = true\n");
    }
    write_credentials(toml, endpoint, "source", account);
    let table = if several { "[[destinations]]" } else { "[destination]" };
    for (dst_bucket, dst_account, clients) in destinations {
        let dst_region = clients.as_ref().map_or(source.region.as_str(), |d| d.region.as_str());
        let _ = writeln!(
            toml,
            "\n{table}\naccount_id = {}\nbucket = {}\nregion = {}",
            quote(dst_account),
            quote(dst_bucket),
            quote(dst_region)
        );
        if let Some(d) = clients {
            if observe_object_lock(d, dst_bucket).await? == Some(true) {
                toml.push_str("object_lock = true\n");
            }
        }
        write_credentials(toml, endpoint, if several { "destinations" } else { "destination" }, dst_account);
    }
    Ok(())
}

/// `[<side>.credentials]` with the emulator's key convention, when there is an endpoint.
fn write_credentials(out: &mut String, endpoint: Option<&str>, side: &str, account_id: &str) {
    if let Some(endpoint) = endpoint {
        let _ = writeln!(
            out,
            "\n[{side}.credentials]\naccess_key_id = {}\nsecret_access_key = \"test\"\nendpoint = {}",
            quote(account_id),
            quote(endpoint)
        );
    }
}

/// The trust and permission policies that differ from what xrepl generates for the spec (decided
/// on the spec so far, `toml` with the rules `body`, without the files): their files, named in
/// the `[role]` table.
fn role_document_files(
    toml: &mut String,
    body: &str,
    role: &RoleState,
    permission: Option<&Value>,
) -> Result<Vec<(String, String)>, ProvisionError> {
    let probe = Spec::from_toml_str(&format!("{toml}{body}"), Path::new("imported.toml"))?;
    let docs = Documents::for_spec(&probe);
    let mut files = Vec::new();
    let mut trust_file = false;
    let mut permission_file = false;
    if let Some(trust) = &role.trust {
        if !documents_equivalent(trust, &docs.trust_policy) {
            files.push(("trust-policy.json".to_string(), pretty(trust)));
            trust_file = true;
        }
    }
    match permission {
        Some(p) if !documents_equivalent(p, &docs.role_policy) => {
            files.push(("permission-policy.json".to_string(), pretty(p)));
            permission_file = true;
        }
        _ => {}
    }
    if trust_file {
        toml.push_str("trust_policy_file = \"trust-policy.json\"\n");
    }
    if permission_file {
        toml.push_str("permission_policy_file = \"permission-policy.json\"\n");
    }
    Ok(files)
}

/// A comment per destination bucket policy read: how many statements are xrepl's.
async fn write_bucket_policy_notes(
    toml: &mut String,
    destinations: &[(String, String, Option<AccountClients>)],
) -> Result<(), ProvisionError> {
    for (dst_bucket, _, clients) in destinations {
        let Some(d) = clients else {
            continue;
        };
        if let Some(policy) = crate::plan::observe_bucket_policy(d, dst_bucket).await? {
            let ours = crate::documents::merge_statements(Some(&policy), &[], crate::documents::POLICY_VERSION);
            let xrepl_statements =
                crate::documents::statements_of(&policy).len() - ours.as_ref().map_or(0, |p| crate::documents::statements_of(p).len());
            let _ = writeln!(
                toml,
                "# bucket policy of {dst_bucket}: {xrepl_statements} statement(s) of xrepl's (Sid Xrepl*), the others are kept by apply and destroy"
            );
        }
    }
    Ok(())
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()) + "\n"
}

/// `arn:aws:iam::<account>:role/<path>/<name>` → (`/<path>/`, `<name>`).
fn split_role_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.split_once(":role/")?.1;
    let (path, name) = match rest.rfind('/') {
        Some(i) => (format!("/{}/", &rest[..i]), rest[i + 1..].to_string()),
        None => ("/".to_string(), rest.to_string()),
    };
    (!name.is_empty()).then_some((path.replace("//", "/"), name))
}

fn write_rule(out: &mut String, r: &RuleSpec, destination: Option<&str>) {
    let _ = writeln!(out, "\n[[rules]]\nid = {}\npriority = {}", quote(&r.id), r.priority);
    if let Some(bucket) = destination {
        let _ = writeln!(out, "destination = {}", quote(bucket));
    }
    if !r.enabled {
        out.push_str("enabled = false\n");
    }
    if let Some(p) = &r.prefix {
        let _ = writeln!(out, "prefix = {}", quote(p));
    }
    if !r.tags.is_empty() {
        let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{} = {}", quote(k), quote(v))).collect();
        let _ = writeln!(out, "tags = {{ {} }}", tags.join(", "));
    }
    let _ = writeln!(out, "delete_marker_replication = {}\nowner_override = {}", r.delete_marker_replication, r.owner_override);
    if let Some(c) = &r.storage_class {
        let _ = writeln!(out, "storage_class = {}", quote(c));
    }
    if r.replicate_kms_objects {
        out.push_str("replicate_kms_objects = true\n");
    }
    if let Some(k) = &r.replica_kms_key_id {
        let _ = writeln!(out, "replica_kms_key_id = {}", quote(k));
    }
    if r.replication_time {
        out.push_str("replication_time = true\n");
    }
    if r.metrics && !r.replication_time {
        out.push_str("metrics = true\n");
    }
    if r.replica_modifications {
        out.push_str("replica_modifications = true\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_split_into_path_and_name() {
        assert_eq!(split_role_arn("arn:aws:iam::1:role/service-role/r"), Some(("/service-role/".into(), "r".into())));
        assert_eq!(split_role_arn("arn:aws:iam::1:role/r"), Some(("/".into(), "r".into())));
        assert_eq!(split_role_arn("arn:aws:iam::1:role/a/b/r"), Some(("/a/b/".into(), "r".into())));
        assert_eq!(split_role_arn("arn:aws:iam::1:user/u"), None);
    }
}
