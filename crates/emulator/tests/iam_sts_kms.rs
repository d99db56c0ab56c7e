//! IAM, STS and KMS against the emulator: through the AWS SDKs (IAM, STS), hand-signed raw HTTP
//! (KMS JSON protocol, unknown actions, unsigned requests), and the crate's public functions
//! (S3's SSE-KMS helpers, hostile input straight into the handlers).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use base64::Engine;
use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xrepl_emulator::identity::{Caller, PrincipalKind};
use xrepl_emulator::server::{sigv4, Shared};
use xrepl_emulator::{Emulator, EmulatorConfig};

const A: &str = "111111111111";
const B: &str = "222222222222";

/// The guide's trust policy, verbatim: note the EN DASHES in the Version.
const GUIDE_TRUST: &str = r#"{
  "Version": "2012–10–17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "s3.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}"#;

/// The guide's permission policy for the replication role.
const GUIDE_PERMISSIONS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Action": ["s3:ListBucket", "s3:GetReplicationConfiguration", "s3:GetObjectVersionForReplication",
                 "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"],
      "Effect": "Allow",
      "Resource": ["arn:aws:s3:::source", "arn:aws:s3:::source/*", "arn:aws:s3:::destination", "arn:aws:s3:::destination/*"]
    },
    {
      "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
      "Effect": "Allow",
      "Resource": ["arn:aws:s3:::source/*", "arn:aws:s3:::destination/*"]
    }
  ]
}"#;

fn guide_trust_fixed() -> String {
    GUIDE_TRUST.replace("2012–10–17", "2012-10-17")
}

fn allow(actions: &[&str], resource: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}).to_string()
}

fn trust_for(principal: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
        .to_string()
}

async fn start() -> Emulator {
    Emulator::start(EmulatorConfig::with_accounts(&[A, B])).await.expect("emulator starts")
}

async fn sdk_config(emu: &Emulator, key: &str, secret: &str, token: Option<&str>) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(emu.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(key, secret, token.map(str::to_owned), None, "test"))
        .load()
        .await
}

async fn iam_with(emu: &Emulator, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config(emu, key, secret, token).await)
}

async fn sts_with(emu: &Emulator, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(emu, key, secret, token).await)
}

async fn iam(emu: &Emulator, account: &str) -> aws_sdk_iam::Client {
    iam_with(emu, account, "test", None).await
}

async fn sts(emu: &Emulator, account: &str) -> aws_sdk_sts::Client {
    sts_with(emu, account, "test", None).await
}

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.code().unwrap_or("<no code>").to_owned()
}

fn message<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    e.message().unwrap_or("<no message>").to_owned()
}

fn decode(document: &str) -> String {
    percent_encoding::percent_decode_str(document).decode_utf8().expect("utf-8").into_owned()
}

async fn role_names(iam: &aws_sdk_iam::Client) -> Vec<String> {
    let out = iam.list_roles().send().await.expect("list roles");
    out.roles().iter().map(|r| r.role_name().to_owned()).collect()
}

/// Creates user `name` in the client's account with one access key; returns (key id, secret).
async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    iam.create_user().user_name(name).send().await.expect("create user");
    let key = iam.create_access_key().user_name(name).send().await.expect("create access key");
    let key = key.access_key().expect("access key");
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP with a hand-rolled SigV4 signer.

struct Raw {
    status: u16,
    body: String,
}

struct Signer<'a> {
    key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    service: &'a str,
}

async fn raw_request(emu: &Emulator, headers: &[(&str, String)], body: &[u8]) -> Raw {
    let addr = emu.addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!("POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read response");
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("http response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(rest) } else { rest.to_owned() };
    Raw { status, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

async fn signed_request(emu: &Emulator, signer: &Signer<'_>, extra: &[(&str, String)], body: &[u8]) -> Raw {
    let now = time::OffsetDateTime::now_utc();
    let amz_date = sigv4::format_amz_date(now);
    let date = &amz_date[..8];
    let host = emu.addr().to_string();
    let mut headers: Vec<(String, String)> = vec![("host".into(), host), ("x-amz-date".into(), amz_date.clone())];
    if let Some(t) = signer.token {
        headers.push(("x-amz-security-token".into(), t.to_owned()));
    }
    for (k, v) in extra {
        headers.push(((*k).to_owned(), v.clone()));
    }
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{}\n", v.trim())).collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{}", hex::encode(Sha256::digest(body)));
    let scope = format!("{date}/us-east-1/{}/aws4_request", signer.service);
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex::encode(Sha256::digest(canonical.as_bytes())));
    let signature = sigv4::signature(signer.secret, date, "us-east-1", signer.service, &to_sign);
    let auth = format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}", signer.key);
    let mut all: Vec<(&str, String)> = headers.iter().filter(|(k, _)| k != "host").map(|(k, v)| (k.as_str(), v.clone())).collect();
    all.push(("authorization", auth));
    raw_request(emu, &all, body).await
}

/// One KMS call over the wire: (HTTP status, JSON body).
async fn kms_call(emu: &Emulator, signer: &Signer<'_>, op: &str, input: &Value) -> (u16, Value) {
    let headers = [("x-amz-target", format!("TrentService.{op}")), ("content-type", "application/x-amz-json-1.1".to_owned())];
    let raw = signed_request(emu, signer, &headers, input.to_string().as_bytes()).await;
    let value = serde_json::from_str(&raw.body).unwrap_or(Value::Null);
    (raw.status, value)
}

fn root_signer(account: &str) -> Signer<'_> {
    Signer { key: account, secret: "test", token: None, service: "kms" }
}

// ---------------------------------------------------------------------------------------------
// IAM

#[tokio::test]
async fn role_lifecycle_with_the_guides_trust_policy() {
    let emu = start().await;
    let iam = iam(&emu, A).await;
    let trust = guide_trust_fixed();
    let created = iam
        .create_role()
        .role_name("s3crr_role_for_source_bucket")
        .path("/service-role/")
        .assume_role_policy_document(&trust)
        .description("replication role")
        .send()
        .await
        .expect("create role");
    let role = created.role().expect("role");
    assert_eq!(role.arn(), "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_source_bucket");
    assert_eq!(role.path(), "/service-role/");
    assert!(role.role_id().starts_with("AROA") && role.role_id().len() == 21, "{}", role.role_id());

    let got = iam.get_role().role_name("s3crr_role_for_source_bucket").send().await.expect("get role");
    let got = got.role().expect("role");
    assert_eq!(got.arn(), role.arn());
    assert_eq!(got.description(), Some("replication role"));
    assert_eq!(got.max_session_duration(), Some(3600));
    // IAM returns documents URL-encoded; decoded they are exactly what was sent.
    assert_eq!(decode(got.assume_role_policy_document().expect("document")), trust);

    let listed = iam.list_roles().path_prefix("/service-role/").send().await.expect("list roles");
    assert_eq!(listed.roles().len(), 1);
    assert!(!listed.is_truncated());
    assert!(iam.list_roles().path_prefix("/other/").send().await.expect("list").roles().is_empty());

    // Same name (any case) again.
    let err = iam
        .create_role()
        .role_name("S3CRR_ROLE_FOR_SOURCE_BUCKET")
        .assume_role_policy_document(&trust)
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(code(&err), "EntityAlreadyExists");
    assert_eq!(message(&err), "Role with name S3CRR_ROLE_FOR_SOURCE_BUCKET already exists.");

    // Inline policy blocks deletion.
    iam.put_role_policy()
        .role_name("s3crr_role_for_source_bucket")
        .policy_name("replication")
        .policy_document(GUIDE_PERMISSIONS)
        .send()
        .await
        .expect("put role policy");
    let listed = iam.list_role_policies().role_name("s3crr_role_for_source_bucket").send().await.expect("list role policies");
    assert_eq!(listed.policy_names(), ["replication"]);
    let inline =
        iam.get_role_policy().role_name("s3crr_role_for_source_bucket").policy_name("replication").send().await.expect("get role policy");
    assert_eq!(decode(inline.policy_document()), GUIDE_PERMISSIONS);
    let err = iam.delete_role().role_name("s3crr_role_for_source_bucket").send().await.expect_err("conflict");
    assert_eq!(code(&err), "DeleteConflict");
    assert_eq!(message(&err), "Cannot delete entity, must delete policies first.");

    iam.delete_role_policy().role_name("s3crr_role_for_source_bucket").policy_name("replication").send().await.expect("delete policy");
    let err = iam.delete_role_policy().role_name("s3crr_role_for_source_bucket").policy_name("replication").send().await.expect_err("gone");
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_role().role_name("s3crr_role_for_source_bucket").send().await.expect("delete role");
    let err = iam.get_role().role_name("s3crr_role_for_source_bucket").send().await.expect_err("deleted");
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), "The role with name s3crr_role_for_source_bucket cannot be found.");
    let err = iam.delete_role().role_name("never-existed").send().await.expect_err("missing");
    assert_eq!(code(&err), "NoSuchEntity");

    // Roles are per account.
    iam.create_role().role_name("shared-name").assume_role_policy_document(&trust).send().await.expect("create in A");
    let iam_b = iam_with(&emu, B, "test", None).await;
    iam_b.create_role().role_name("shared-name").assume_role_policy_document(&trust).send().await.expect("create in B");
    assert_eq!(role_names(&iam_b).await, ["shared-name"]);
}

#[tokio::test]
async fn malformed_documents_are_rejected_and_change_nothing() {
    let emu = start().await;
    let iam = iam(&emu, A).await;

    // The guide's verbatim trust policy (en dashes).
    let err =
        iam.create_role().role_name("r").path("/service-role/").assume_role_policy_document(GUIDE_TRUST).send().await.expect_err("en dash");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let text = message(&err);
    assert!(text.contains("2012–10–17") && text.contains("EN DASH"), "{text}");

    let err = iam.create_role().role_name("r").assume_role_policy_document("{not json").send().await.expect_err("json");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), "This policy contains invalid Json");

    let err =
        iam.create_role().role_name("r").assume_role_policy_document(r#"{"Version":"2012-10-17"}"#).send().await.expect_err("no statement");
    assert_eq!(message(&err), "Syntax errors in policy.");

    let err = iam
        .create_role()
        .role_name("r")
        .assume_role_policy_document(trust_for("arn:aws:iam::111111111111:role/does-not-exist"))
        .send()
        .await
        .expect_err("unknown principal");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), r#"Invalid principal in policy: "AWS":"arn:aws:iam::111111111111:role/does-not-exist""#);

    // A trust policy over IAM's 2,048-character quota.
    let big = json!({"Version": "2012-10-17", "Statement": [{"Sid": "x".repeat(2100), "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    .to_string();
    let err = iam.create_role().role_name("r").assume_role_policy_document(&big).send().await.expect_err("too big");
    assert_eq!(code(&err), "LimitExceeded");
    // Beyond the API's length constraint.
    let huge = format!("{{\"Version\":\"2012-10-17\",\"Statement\":[],\"x\":\"{}\"}}", "y".repeat(140_000));
    let err = iam.create_role().role_name("r").assume_role_policy_document(&huge).send().await.expect_err("huge");
    assert_eq!(code(&err), "ValidationError");
    // Deep nesting must not crash the parser.
    let deep = format!("{}1{}", "{\"a\":".repeat(300), "}".repeat(300));
    let err = iam.create_role().role_name("r").assume_role_policy_document(&deep).send().await.expect_err("deep");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), "This policy contains invalid Json");

    let err = iam.create_role().role_name("bad name!").assume_role_policy_document(guide_trust_fixed()).send().await.expect_err("name");
    assert_eq!(code(&err), "ValidationError");
    let err = iam.create_role().role_name("n".repeat(65)).assume_role_policy_document(guide_trust_fixed()).send().await.expect_err("long");
    assert_eq!(code(&err), "ValidationError");
    let err = iam
        .create_role()
        .role_name("r")
        .path("no-slashes")
        .assume_role_policy_document(guide_trust_fixed())
        .send()
        .await
        .expect_err("path");
    assert_eq!(code(&err), "ValidationError");
    assert!(role_names(&iam).await.is_empty(), "nothing was created");

    // A valid role; then bad updates leave it as it was.
    iam.create_role().role_name("r").assume_role_policy_document(guide_trust_fixed()).send().await.expect("create");
    iam.put_role_policy().role_name("r").policy_name("p").policy_document(GUIDE_PERMISSIONS).send().await.expect("put");
    let err = iam.update_assume_role_policy().role_name("r").policy_document(GUIDE_TRUST).send().await.expect_err("en dash");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let role = iam.get_role().role_name("r").send().await.expect("get");
    assert_eq!(decode(role.role().and_then(|r| r.assume_role_policy_document()).expect("doc")), guide_trust_fixed());

    let oversized = allow(&["s3:GetObject"], &format!("arn:aws:s3:::{}", "b".repeat(10_300)));
    let err = iam.put_role_policy().role_name("r").policy_name("p").policy_document(&oversized).send().await.expect_err("quota");
    assert_eq!(code(&err), "LimitExceeded");
    assert_eq!(message(&err), "Maximum policy size of 10240 bytes exceeded for role r");
    let err = iam.put_role_policy().role_name("r").policy_name("p").policy_document("[]").send().await.expect_err("not object");
    assert_eq!(message(&err), "This policy contains invalid Json");
    let with_principal =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]});
    let err = iam
        .put_role_policy()
        .role_name("r")
        .policy_name("p")
        .policy_document(with_principal.to_string())
        .send()
        .await
        .expect_err("principal");
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let kept = iam.get_role_policy().role_name("r").policy_name("p").send().await.expect("still there");
    assert_eq!(decode(kept.policy_document()), GUIDE_PERMISSIONS);
    let err =
        iam.put_role_policy().role_name("missing").policy_name("p").policy_document(GUIDE_PERMISSIONS).send().await.expect_err("no role");
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn managed_policies_versions_and_attachments() {
    let emu = start().await;
    let iam = iam(&emu, A).await;
    iam.create_role().role_name("r").assume_role_policy_document(guide_trust_fixed()).send().await.expect("create role");
    let created = iam
        .create_policy()
        .policy_name("replication")
        .path("/xrepl/")
        .policy_document(GUIDE_PERMISSIONS)
        .description("guide permissions")
        .send()
        .await
        .expect("create policy");
    let policy = created.policy().expect("policy");
    let arn = policy.arn().expect("arn").to_owned();
    assert_eq!(arn, "arn:aws:iam::111111111111:policy/xrepl/replication");
    assert_eq!(policy.default_version_id(), Some("v1"));

    let err = iam.create_policy().policy_name("replication").policy_document(GUIDE_PERMISSIONS).send().await.expect_err("dup");
    assert_eq!(code(&err), "EntityAlreadyExists");
    let got = iam.get_policy().policy_arn(&arn).send().await.expect("get policy");
    assert_eq!(got.policy().and_then(|p| p.description()), Some("guide permissions"));
    let v1 = iam.get_policy_version().policy_arn(&arn).version_id("v1").send().await.expect("get version");
    assert_eq!(decode(v1.policy_version().and_then(|v| v.document()).expect("document")), GUIDE_PERMISSIONS);

    let v2_doc = allow(&["s3:*"], "*");
    let v2 = iam.create_policy_version().policy_arn(&arn).policy_document(&v2_doc).set_as_default(true).send().await.expect("v2");
    assert_eq!(v2.policy_version().and_then(|v| v.version_id()), Some("v2"));
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.expect("versions");
    assert_eq!(versions.versions().len(), 2);
    assert_eq!(iam.get_policy().policy_arn(&arn).send().await.expect("get").policy().and_then(|p| p.default_version_id()), Some("v2"));
    let err = iam.delete_policy_version().policy_arn(&arn).version_id("v2").send().await.expect_err("default");
    assert_eq!(code(&err), "DeleteConflict");

    iam.attach_role_policy().role_name("r").policy_arn(&arn).send().await.expect("attach");
    iam.attach_role_policy()
        .role_name("r")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .expect("attach aws managed");
    let attached = iam.list_attached_role_policies().role_name("r").send().await.expect("list attached");
    let names: Vec<&str> = attached.attached_policies().iter().filter_map(|p| p.policy_name()).collect();
    assert_eq!(names, ["AdministratorAccess", "replication"]);
    assert_eq!(iam.get_policy().policy_arn(&arn).send().await.expect("get").policy().and_then(|p| p.attachment_count()), Some(1));

    let err =
        iam.attach_role_policy().role_name("r").policy_arn("arn:aws:iam::111111111111:policy/nope").send().await.expect_err("missing");
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), "Policy arn:aws:iam::111111111111:policy/nope does not exist or is not attachable.");
    let err = iam.delete_policy().policy_arn(&arn).send().await.expect_err("attached");
    assert_eq!(code(&err), "DeleteConflict");
    let err = iam.delete_role().role_name("r").send().await.expect_err("attached");
    assert_eq!(code(&err), "DeleteConflict");

    iam.detach_role_policy().role_name("r").policy_arn(&arn).send().await.expect("detach");
    iam.detach_role_policy().role_name("r").policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.expect("detach");
    let err = iam.detach_role_policy().role_name("r").policy_arn(&arn).send().await.expect_err("not attached");
    assert_eq!(code(&err), "NoSuchEntity");
    // Non-default versions must go first.
    let err = iam.delete_policy().policy_arn(&arn).send().await.expect_err("versions");
    assert_eq!(code(&err), "DeleteConflict");
    iam.delete_policy_version().policy_arn(&arn).version_id("v1").send().await.expect("delete v1");
    iam.delete_policy().policy_arn(&arn).send().await.expect("delete policy");
    let err = iam.get_policy().policy_arn(&arn).send().await.expect_err("deleted");
    assert_eq!(code(&err), "NoSuchEntity");
    iam.delete_role().role_name("r").send().await.expect("delete role");

    // Managed policy quota (6,144 characters without whitespace); whitespace does not count.
    let oversized = allow(&["s3:GetObject"], &format!("arn:aws:s3:::{}", "b".repeat(6_200)));
    let err = iam.create_policy().policy_name("big").policy_document(&oversized).send().await.expect_err("quota");
    assert_eq!(code(&err), "LimitExceeded");
    let airy = allow(&["s3:GetObject"], "*").replace(',', &format!(",{}", " ".repeat(7_000)));
    iam.create_policy().policy_name("airy").policy_document(&airy).send().await.expect("whitespace is free");
    let local = iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).send().await.expect("list");
    let names: Vec<&str> = local.policies().iter().filter_map(|p| p.policy_name()).collect();
    assert_eq!(names, ["airy"], "the oversized policy was not created");
}

#[tokio::test]
async fn users_and_access_keys_are_limited_by_their_policies() {
    let emu = start().await;
    let root = iam(&emu, A).await;
    let (key, secret) = user_with_key(&root, "alice").await;
    assert!(key.starts_with("AKIA") && key.len() == 20, "{key}");
    assert_eq!(secret.len(), 40);
    let alice = iam_with(&emu, &key, &secret, None).await;

    let err = alice.create_role().role_name("r").assume_role_policy_document(guide_trust_fixed()).send().await.expect_err("no policy");
    assert_eq!(code(&err), "AccessDenied");
    assert!(
        message(&err).starts_with(
            "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::111111111111:role/r"
        ),
        "{}",
        message(&err)
    );
    assert!(role_names(&root).await.is_empty());

    root.put_user_policy()
        .user_name("alice")
        .policy_name("roles")
        .policy_document(allow(&["iam:CreateRole", "iam:GetRole"], "arn:aws:iam::111111111111:role/*"))
        .send()
        .await
        .expect("put user policy");
    alice.create_role().role_name("r").assume_role_policy_document(guide_trust_fixed()).send().await.expect("allowed now");
    alice.get_role().role_name("r").send().await.expect("get allowed");
    let err = alice.delete_role().role_name("r").send().await.expect_err("delete not allowed");
    assert_eq!(code(&err), "AccessDenied");
    let err = alice.list_users().send().await.expect_err("list users not allowed");
    assert_eq!(code(&err), "AccessDenied");

    // An explicit deny wins over the allow.
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"}]});
    root.put_user_policy().user_name("alice").policy_name("deny").policy_document(deny.to_string()).send().await.expect("deny");
    let err = alice.get_role().role_name("r").send().await.expect_err("denied");
    assert!(message(&err).contains("explicit deny"), "{}", message(&err));

    // Users inline policies share a 2,048-character quota.
    let big = allow(&["s3:GetObject"], &format!("arn:aws:s3:::{}", "b".repeat(2_100)));
    let err = root.put_user_policy().user_name("alice").policy_name("big").policy_document(&big).send().await.expect_err("quota");
    assert_eq!(code(&err), "LimitExceeded");

    let me = sts_with(&emu, &key, &secret, None).await.get_caller_identity().send().await.expect("whoami");
    assert_eq!(me.arn(), Some("arn:aws:iam::111111111111:user/alice"));
    assert_eq!(me.account(), Some(A));
    assert!(me.user_id().is_some_and(|id| id.starts_with("AIDA")));

    let keys = root.list_access_keys().user_name("alice").send().await.expect("list keys");
    assert_eq!(keys.access_key_metadata().len(), 1);
    root.create_access_key().user_name("alice").send().await.expect("second key");
    let err = root.create_access_key().user_name("alice").send().await.expect_err("third key");
    assert_eq!(code(&err), "LimitExceeded");

    let err = root.delete_user().user_name("alice").send().await.expect_err("keys remain");
    assert_eq!(message(&err), "Cannot delete entity, must delete access keys first.");

    // An inactive key no longer authenticates.
    root.update_access_key()
        .user_name("alice")
        .access_key_id(&key)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .expect("deactivate");
    let err = alice.get_role().role_name("r").send().await.expect_err("inactive");
    assert_eq!(code(&err), "InvalidClientTokenId");

    for k in root.list_access_keys().user_name("alice").send().await.expect("keys").access_key_metadata() {
        root.delete_access_key().user_name("alice").access_key_id(k.access_key_id().expect("id")).send().await.expect("delete key");
    }
    let err = root.delete_user().user_name("alice").send().await.expect_err("policies remain");
    assert_eq!(message(&err), "Cannot delete entity, must delete policies first.");
    for name in ["roles", "deny"] {
        root.delete_user_policy().user_name("alice").policy_name(name).send().await.expect("delete policy");
    }
    root.delete_user().user_name("alice").send().await.expect("delete user");
    assert!(root.list_users().send().await.expect("list users").users().is_empty());
    let err = root.get_user().user_name("alice").send().await.expect_err("gone");
    assert_eq!(code(&err), "NoSuchEntity");
}

// ---------------------------------------------------------------------------------------------
// STS

#[tokio::test]
async fn caller_identity_of_root_user_and_session() {
    let emu = start().await;
    let me = sts(&emu, B).await.get_caller_identity().send().await.expect("root");
    assert_eq!(me.account(), Some(B));
    assert_eq!(me.arn(), Some("arn:aws:iam::222222222222:root"));
    assert_eq!(me.user_id(), Some(B));

    let root = iam(&emu, A).await;
    let (key, secret) = user_with_key(&root, "bob").await;
    root.create_role()
        .role_name("reader")
        .path("/team/")
        .assume_role_policy_document(trust_for("arn:aws:iam::111111111111:user/bob"))
        .send()
        .await
        .expect("role");
    let bob = sts_with(&emu, &key, &secret, None).await;
    let out = bob
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/team/reader")
        .role_session_name("bob-session")
        .send()
        .await
        .expect("trust naming bob suffices in the same account");
    let creds = out.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(creds.session_token().len() > 100);
    let user = out.assumed_role_user().expect("assumed role user");
    assert_eq!(user.arn(), "arn:aws:sts::111111111111:assumed-role/reader/bob-session");
    assert!(user.assumed_role_id().starts_with("AROA") && user.assumed_role_id().ends_with(":bob-session"));

    let session = sts_with(&emu, creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token())).await;
    let me = session.get_caller_identity().send().await.expect("session identity");
    assert_eq!(me.arn(), Some("arn:aws:sts::111111111111:assumed-role/reader/bob-session"));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));

    // The session acts as the role: no IAM permissions until the role gets some.
    let session_iam = iam_with(&emu, creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token())).await;
    let err = session_iam.list_roles().send().await.expect_err("role has no policy");
    assert!(
        message(&err)
            .starts_with("User: arn:aws:sts::111111111111:assumed-role/reader/bob-session is not authorized to perform: iam:ListRoles"),
        "{}",
        message(&err)
    );
    root.put_role_policy()
        .role_name("reader")
        .policy_name("list")
        .policy_document(allow(&["iam:ListRoles"], "*"))
        .send()
        .await
        .expect("policy");
    assert_eq!(role_names(&session_iam).await, ["reader"]);

    // Wrong or missing session token.
    let wrong = sts_with(&emu, creds.access_key_id(), creds.secret_access_key(), Some("not-the-token")).await;
    let err = wrong.get_caller_identity().send().await.expect_err("wrong token");
    assert_eq!(code(&err), "InvalidClientTokenId");
    let missing = sts_with(&emu, creds.access_key_id(), creds.secret_access_key(), None).await;
    assert_eq!(code(&missing.get_caller_identity().send().await.expect_err("no token")), "InvalidClientTokenId");

    // Role chaining is limited to one hour; durations are bounded by the role.
    let both = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": ["arn:aws:iam::111111111111:user/bob", "arn:aws:iam::111111111111:role/team/reader"]}}]});
    root.update_assume_role_policy().role_name("reader").policy_document(both.to_string()).send().await.expect("trust the role itself");
    let err = session
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/team/reader")
        .role_session_name("chained")
        .duration_seconds(7200)
        .send()
        .await
        .expect_err("chaining");
    assert_eq!(code(&err), "ValidationError");
    let err = bob
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/team/reader")
        .role_session_name("long")
        .duration_seconds(7200)
        .send()
        .await
        .expect_err("over max");
    assert_eq!(message(&err), "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    let err = bob
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/team/reader")
        .role_session_name("x")
        .send()
        .await
        .expect_err("short name");
    assert_eq!(code(&err), "ValidationError");
    let err = bob
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/team/reader")
        .role_session_name("bad name")
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(code(&err), "ValidationError");
    // The role's path is part of its ARN.
    let err =
        bob.assume_role().role_arn("arn:aws:iam::111111111111:role/reader").role_session_name("nopath").send().await.expect_err("path");
    assert_eq!(code(&err), "AccessDenied");
}

#[tokio::test]
async fn assume_role_same_account_and_root_rules() {
    let emu = start().await;
    let root = iam(&emu, A).await;
    root.create_role().role_name("delegated").assume_role_policy_document(trust_for(A)).send().await.expect("role");
    let role_arn = "arn:aws:iam::111111111111:role/delegated";

    let err = sts(&emu, A).await.assume_role().role_arn(role_arn).role_session_name("root").send().await.expect_err("root");
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(message(&err), "Roles may not be assumed by root accounts.");

    // A trust policy naming the account delegates to the caller's identity policies.
    let (key, secret) = user_with_key(&root, "carol").await;
    let carol = sts_with(&emu, &key, &secret, None).await;
    let err = carol.assume_role().role_arn(role_arn).role_session_name("s1").send().await.expect_err("no identity allow");
    assert_eq!(code(&err), "AccessDenied");
    assert!(
        message(&err).starts_with(
            "User: arn:aws:iam::111111111111:user/carol is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/delegated"
        ),
        "{}",
        message(&err)
    );
    root.put_user_policy()
        .user_name("carol")
        .policy_name("assume")
        .policy_document(allow(&["sts:AssumeRole"], role_arn))
        .send()
        .await
        .expect("policy");
    carol.assume_role().role_arn(role_arn).role_session_name("s2").send().await.expect("identity allow + delegation");

    let err = carol
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/missing")
        .role_session_name("s3")
        .send()
        .await
        .expect_err("missing role");
    assert_eq!(code(&err), "AccessDenied");
    let err = carol.assume_role().role_arn("not-an-arn-but-long-enough").role_session_name("s4").send().await.expect_err("bad arn");
    assert_eq!(code(&err), "ValidationError");
}

#[tokio::test]
async fn assume_role_across_accounts_needs_both_sides() {
    let emu = start().await;
    let iam_a = iam(&emu, A).await;
    let iam_b = iam(&emu, B).await;
    iam_a
        .create_role()
        .role_name("for-b")
        .assume_role_policy_document(trust_for("arn:aws:iam::222222222222:root"))
        .send()
        .await
        .expect("role");
    let role_arn = "arn:aws:iam::111111111111:role/for-b";
    let (key, secret) = user_with_key(&iam_b, "dave").await;
    let dave = sts_with(&emu, &key, &secret, None).await;

    let err = dave.assume_role().role_arn(role_arn).role_session_name("s1").send().await.expect_err("no identity policy");
    assert_eq!(code(&err), "AccessDenied");
    assert!(message(&err).contains("sts:AssumeRole on resource: arn:aws:iam::111111111111:role/for-b"), "{}", message(&err));

    iam_b
        .put_user_policy()
        .user_name("dave")
        .policy_name("assume")
        .policy_document(allow(&["sts:AssumeRole"], role_arn))
        .send()
        .await
        .expect("policy");
    let out = dave.assume_role().role_arn(role_arn).role_session_name("s1").send().await.expect("both sides allow");
    let creds = out.credentials().expect("credentials");
    let session = sts_with(&emu, creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token())).await;
    let me = session.get_caller_identity().send().await.expect("whoami");
    assert_eq!(me.account(), Some(A), "the session belongs to the role's account");
    assert_eq!(me.arn(), Some("arn:aws:sts::111111111111:assumed-role/for-b/s1"));

    // A trust policy naming dave directly still needs dave's identity allow across accounts.
    iam_a
        .create_role()
        .role_name("for-dave")
        .assume_role_policy_document(trust_for("arn:aws:iam::222222222222:user/dave"))
        .send()
        .await
        .expect("role");
    let err =
        dave.assume_role().role_arn("arn:aws:iam::111111111111:role/for-dave").role_session_name("s1").send().await.expect_err("identity");
    assert_eq!(code(&err), "AccessDenied");
    // And an identity allow alone is not enough when the trust policy does not name B.
    iam_a.create_role().role_name("a-only").assume_role_policy_document(trust_for(A)).send().await.expect("role");
    iam_b
        .put_user_policy()
        .user_name("dave")
        .policy_name("all")
        .policy_document(allow(&["sts:AssumeRole"], "*"))
        .send()
        .await
        .expect("policy");
    let err = dave.assume_role().role_arn("arn:aws:iam::111111111111:role/a-only").role_session_name("s1").send().await.expect_err("trust");
    assert_eq!(code(&err), "AccessDenied");
    dave.assume_role().role_arn("arn:aws:iam::111111111111:role/for-dave").role_session_name("s1").send().await.expect("now both allow");
}

#[tokio::test]
async fn authentication_failures() {
    let emu = start().await;
    let err = sts_with(&emu, A, "wrong-secret", None).await.get_caller_identity().send().await.expect_err("bad secret");
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    let err = iam_with(&emu, A, "wrong-secret", None).await.list_roles().send().await.expect_err("bad secret");
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    let err = sts_with(&emu, "AKIAUNKNOWNKEY000000", "x", None).await.get_caller_identity().send().await.expect_err("unknown key");
    assert_eq!(code(&err), "InvalidClientTokenId");

    let unsigned = raw_request(
        &emu,
        &[("content-type", "application/x-www-form-urlencoded".to_owned())],
        b"Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(unsigned.status, 403);
    assert!(unsigned.body.contains("<Code>MissingAuthenticationToken</Code>"), "{}", unsigned.body);
    let unsigned =
        raw_request(&emu, &[("content-type", "application/x-www-form-urlencoded".to_owned())], b"Action=ListRoles&Version=2010-05-08")
            .await;
    assert_eq!(unsigned.status, 403);
    assert!(unsigned.body.contains("MissingAuthenticationToken"), "{}", unsigned.body);

    // Unknown actions, signed.
    let signer = Signer { key: A, secret: "test", token: None, service: "iam" };
    let form = [("content-type", "application/x-www-form-urlencoded; charset=utf-8".to_owned())];
    let raw = signed_request(&emu, &signer, &form, b"Action=FlyToTheMoon&Version=2010-05-08").await;
    assert_eq!(raw.status, 400);
    assert!(raw.body.contains("<Code>InvalidAction</Code>") && raw.body.contains("Could not find operation FlyToTheMoon"), "{}", raw.body);
    let raw = signed_request(&emu, &signer, &form, b"Action=ListRoles&Version=2010-05-08").await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    assert!(raw.body.contains("<ListRolesResult>"));
}

// ---------------------------------------------------------------------------------------------
// KMS over the wire

#[tokio::test]
async fn kms_keys_aliases_and_encryption_over_the_wire() {
    let emu = start().await;
    let a = root_signer(A);
    let (status, created) = kms_call(&emu, &a, "CreateKey", &json!({"Description": "replica key"})).await;
    assert_eq!(status, 200, "{created}");
    let meta = &created["KeyMetadata"];
    let key_id = meta["KeyId"].as_str().expect("key id").to_owned();
    let key_arn = meta["Arn"].as_str().expect("arn").to_owned();
    assert_eq!(key_arn, format!("arn:aws:kms:us-east-1:{A}:key/{key_id}"));
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["KeyManager"], "CUSTOMER");
    assert_eq!(meta["KeySpec"], "SYMMETRIC_DEFAULT");

    let (_, policy) = kms_call(&emu, &a, "GetKeyPolicy", &json!({"KeyId": key_id, "PolicyName": "default"})).await;
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().expect("policy text")).expect("policy json");
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], format!("arn:aws:iam::{A}:root"));

    let (status, _) = kms_call(&emu, &a, "CreateAlias", &json!({"AliasName": "alias/replica", "TargetKeyId": key_id})).await;
    assert_eq!(status, 200);
    let (status, err) = kms_call(&emu, &a, "CreateAlias", &json!({"AliasName": "alias/replica", "TargetKeyId": key_id})).await;
    assert_eq!((status, err["__type"].as_str()), (400, Some("AlreadyExistsException")));
    let (status, err) = kms_call(&emu, &a, "CreateAlias", &json!({"AliasName": "alias/aws/mine", "TargetKeyId": key_id})).await;
    assert_eq!(status, 400, "reserved prefix: {err}");
    let (_, aliases) = kms_call(&emu, &a, "ListAliases", &json!({})).await;
    assert_eq!(aliases["Aliases"][0]["AliasName"], "alias/replica");
    assert_eq!(aliases["Aliases"][0]["TargetKeyId"], key_id.as_str());

    let plaintext = base64::engine::general_purpose::STANDARD.encode(b"hello replication");
    let (status, enc) =
        kms_call(&emu, &a, "Encrypt", &json!({"KeyId": "alias/replica", "Plaintext": plaintext, "EncryptionContext": {"k": "v"}})).await;
    assert_eq!(status, 200, "{enc}");
    assert_eq!(enc["KeyId"], key_arn.as_str());
    let blob = enc["CiphertextBlob"].as_str().expect("blob").to_owned();
    let (status, dec) = kms_call(&emu, &a, "Decrypt", &json!({"CiphertextBlob": blob, "EncryptionContext": {"k": "v"}})).await;
    assert_eq!(status, 200, "{dec}");
    assert_eq!(dec["Plaintext"], plaintext.as_str());
    assert_eq!(dec["KeyId"], key_arn.as_str());
    let (_, err) = kms_call(&emu, &a, "Decrypt", &json!({"CiphertextBlob": blob})).await;
    assert_eq!(err["__type"], "InvalidCiphertextException", "the encryption context is authenticated");
    let mut tampered = base64::engine::general_purpose::STANDARD.decode(&blob).expect("b64");
    let last = tampered.len() - 40;
    tampered[last] ^= 0x55;
    let tampered = base64::engine::general_purpose::STANDARD.encode(tampered);
    let (_, err) = kms_call(&emu, &a, "Decrypt", &json!({"CiphertextBlob": tampered, "EncryptionContext": {"k": "v"}})).await;
    assert_eq!(err["__type"], "InvalidCiphertextException");

    let (_, dk) = kms_call(&emu, &a, "GenerateDataKey", &json!({"KeyId": key_arn, "KeySpec": "AES_256"})).await;
    let dk_plain = base64::engine::general_purpose::STANDARD.decode(dk["Plaintext"].as_str().expect("plaintext")).expect("b64");
    assert_eq!(dk_plain.len(), 32);
    let (_, back) = kms_call(&emu, &a, "Decrypt", &json!({"CiphertextBlob": dk["CiphertextBlob"], "KeyId": key_id})).await;
    assert_eq!(back["Plaintext"], dk["Plaintext"]);
    let (_, err) = kms_call(&emu, &a, "GenerateDataKey", &json!({"KeyId": key_arn, "KeySpec": "AES_256", "NumberOfBytes": 16})).await;
    assert_eq!(err["__type"], "ValidationException");
    let too_big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 4097]);
    let (_, err) = kms_call(&emu, &a, "Encrypt", &json!({"KeyId": key_id, "Plaintext": too_big})).await;
    assert_eq!(err["__type"], "ValidationException");

    let (_, _) = kms_call(&emu, &a, "DisableKey", &json!({"KeyId": key_id})).await;
    let (_, err) = kms_call(&emu, &a, "Encrypt", &json!({"KeyId": key_id, "Plaintext": plaintext})).await;
    assert_eq!(err["__type"], "DisabledException");
    let (_, described) = kms_call(&emu, &a, "DescribeKey", &json!({"KeyId": "alias/replica"})).await;
    assert_eq!(described["KeyMetadata"]["KeyState"], "Disabled");
    assert_eq!(described["KeyMetadata"]["Enabled"], false);
    kms_call(&emu, &a, "EnableKey", &json!({"KeyId": key_id})).await;

    // Unknown keys and aliases.
    let (status, err) = kms_call(&emu, &a, "DescribeKey", &json!({"KeyId": "alias/nope"})).await;
    assert_eq!((status, err["__type"].as_str()), (400, Some("NotFoundException")));
    let (_, err) = kms_call(&emu, &a, "DescribeKey", &json!({"KeyId": "00000000-0000-4000-8000-000000000000"})).await;
    assert_eq!(err["__type"], "NotFoundException");
    let (_, err) = kms_call(&emu, &a, "DescribeKey", &json!({})).await;
    assert_eq!(err["__type"], "ValidationException");
    let (_, err) = kms_call(&emu, &a, "NoSuchOperation", &json!({})).await;
    assert_eq!(err["__type"], "UnknownOperationException");

    // A malformed key policy (the guide's en dashes) changes nothing.
    let bad = json!({"Version": "2012–10–17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let (_, err) = kms_call(&emu, &a, "PutKeyPolicy", &json!({"KeyId": key_id, "PolicyName": "default", "Policy": bad.to_string()})).await;
    assert_eq!(err["__type"], "MalformedPolicyDocumentException");
    // A policy that would lock the caller out is refused unless the check is bypassed.
    let lockout = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "kms:Decrypt", "Resource": "*"}]});
    let (_, err) = kms_call(&emu, &a, "PutKeyPolicy", &json!({"KeyId": key_id, "Policy": lockout.to_string()})).await;
    assert_eq!(err["__type"], "MalformedPolicyDocumentException");
    let (_, still) = kms_call(&emu, &a, "GetKeyPolicy", &json!({"KeyId": key_id})).await;
    assert!(still["Policy"].as_str().expect("policy").contains("Enable IAM User Permissions"));

    // Cross-account: B's root may use A's key only once the key policy names B.
    let b = root_signer(B);
    let (_, err) = kms_call(&emu, &b, "Encrypt", &json!({"KeyId": key_arn, "Plaintext": plaintext})).await;
    assert_eq!(err["__type"], "AccessDeniedException", "{err}");
    let shared = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{A}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}]});
    let (status, _) = kms_call(&emu, &a, "PutKeyPolicy", &json!({"KeyId": key_id, "Policy": shared.to_string()})).await;
    assert_eq!(status, 200);
    let (status, enc) = kms_call(&emu, &b, "Encrypt", &json!({"KeyId": key_arn, "Plaintext": plaintext})).await;
    assert_eq!(status, 200, "{enc}");
    let (status, _) = kms_call(&emu, &a, "Decrypt", &json!({"CiphertextBlob": enc["CiphertextBlob"]})).await;
    assert_eq!(status, 200);
    // Key ids (not ARNs) are looked up in the caller's own account.
    let (_, err) = kms_call(&emu, &b, "Encrypt", &json!({"KeyId": key_id, "Plaintext": plaintext})).await;
    assert_eq!(err["__type"], "NotFoundException");

    let (_, scheduled) = kms_call(&emu, &a, "ScheduleKeyDeletion", &json!({"KeyId": key_id, "PendingWindowInDays": 7})).await;
    assert_eq!(scheduled["KeyState"], "PendingDeletion");
    let (_, err) = kms_call(&emu, &a, "Encrypt", &json!({"KeyId": key_id, "Plaintext": plaintext})).await;
    assert_eq!(err["__type"], "KMSInvalidStateException");
    let (_, keys) = kms_call(&emu, &a, "ListKeys", &json!({})).await;
    assert_eq!(keys["Keys"].as_array().map(Vec::len), Some(1));

    // Signature problems, KMS style.
    let wrong = Signer { key: A, secret: "nope", token: None, service: "kms" };
    let (status, err) = kms_call(&emu, &wrong, "ListKeys", &json!({})).await;
    assert_eq!((status, err["__type"].as_str()), (400, Some("InvalidSignatureException")));
    let unsigned = raw_request(&emu, &[("x-amz-target", "TrentService.ListKeys".to_owned())], b"{}").await;
    assert_eq!(unsigned.status, 400);
    assert!(unsigned.body.contains("MissingAuthenticationTokenException"), "{}", unsigned.body);
}

// ---------------------------------------------------------------------------------------------
// KMS through the crate's functions (as S3 and the replication engine use them)

fn root(account: &str) -> Caller {
    Caller::new(Some(account.to_owned()), None, PrincipalKind::Root)
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn iam_call(
    shared: &Shared,
    caller: &Caller,
    action: &str,
    pairs: &[(&str, &str)],
) -> Result<Option<String>, xrepl_emulator::ServiceError> {
    xrepl_emulator::iam::handle(shared, caller, action, &params(pairs))
}

fn kms(shared: &Shared, caller: &Caller, op: &str, input: &Value) -> Result<Value, xrepl_emulator::ServiceError> {
    xrepl_emulator::kms::handle(shared, caller, op, &Bytes::from(input.to_string()))
}

fn new_shared() -> Arc<Shared> {
    Shared::new(EmulatorConfig::with_accounts(&[A, B]))
}

fn session(account: &str, role: &str) -> Caller {
    Caller::new(
        Some(account.to_owned()),
        None,
        PrincipalKind::AssumedRole {
            role_name: role.to_owned(),
            role_arn: format!("arn:aws:iam::{account}:role/service-role/{role}"),
            session_name: "s3-replication".to_owned(),
        },
    )
}

#[test]
fn s3_key_resolution_and_managed_key() {
    let shared = new_shared();
    let mut world = shared.world();
    let managed = xrepl_emulator::kms::key_arn_for_s3(&mut world, A, None).expect("aws/s3 key");
    assert!(managed.starts_with("arn:aws:kms:us-east-1:111111111111:key/"), "{managed}");
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, None).as_deref(), Some(managed.as_str()), "created once");
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some("alias/aws/s3")).as_deref(), Some(managed.as_str()));
    let managed_b = xrepl_emulator::kms::key_arn_for_s3(&mut world, B, None).expect("B's aws/s3 key");
    assert_ne!(managed, managed_b);
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some("alias/none")), None);
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some("00000000-0000-4000-8000-000000000000")), None);
    drop(world);

    let created = kms(&shared, &root(B), "CreateKey", &json!({})).expect("create key");
    let key_id = created["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let key_arn = created["KeyMetadata"]["Arn"].as_str().expect("arn").to_owned();
    kms(&shared, &root(B), "CreateAlias", &json!({"AliasName": "alias/replica", "TargetKeyId": key_id})).expect("alias");
    let (described, _) = (kms(&shared, &root(A), "DescribeKey", &json!({"KeyId": "alias/aws/s3"})).expect("describe"), ());
    assert_eq!(described["KeyMetadata"]["KeyManager"], "AWS");

    let mut world = shared.world();
    for reference in [key_id.as_str(), key_arn.as_str(), "alias/replica", "arn:aws:kms:us-east-1:222222222222:alias/replica"] {
        assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, B, Some(reference)).as_deref(), Some(key_arn.as_str()), "{reference}");
    }
    // A bucket in A names B's key by ARN; a bare id or alias is looked up in A.
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some(&key_arn)).as_deref(), Some(key_arn.as_str()));
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some(&key_id)), None);
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some("alias/replica")), None);
    assert_eq!(xrepl_emulator::kms::key_arn_for_s3(&mut world, A, Some(&key_arn.replace("us-east-1", "eu-west-1"))), None);
}

#[test]
fn s3_use_of_keys_follows_key_policy_and_identity() {
    let shared = new_shared();
    let a_root = root(A);
    let b_root = root(B);
    let trust = guide_trust_fixed();
    iam_call(&shared, &a_root, "CreateRole", &[("RoleName", "repl"), ("Path", "/service-role/"), ("AssumeRolePolicyDocument", &trust)])
        .expect("role");
    let role = session(A, "repl");
    let role_arn = "arn:aws:iam::111111111111:role/service-role/repl";

    // Source key in A (default policy → delegated to A's IAM), replica key in B.
    let source = kms(&shared, &a_root, "CreateKey", &json!({})).expect("source key");
    let source_arn = source["KeyMetadata"]["Arn"].as_str().expect("arn").to_owned();
    let replica = kms(&shared, &b_root, "CreateKey", &json!({})).expect("replica key");
    let replica_id = replica["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let replica_arn = replica["KeyMetadata"]["Arn"].as_str().expect("arn").to_owned();

    let check = |caller: &Caller, key: &str, action: &str| {
        let world = shared.world();
        xrepl_emulator::kms::authorize_s3_use(&world, caller, key, action, "arn:aws:s3:::bucket/key").map_err(|e| e.to_string())
    };
    assert!(check(&a_root, &source_arn, "kms:Decrypt").is_ok(), "root of the key's account");
    let err = check(&role, &source_arn, "kms:Decrypt").expect_err("role has no kms permission");
    assert!(err.contains("assumed-role/repl") && err.contains("kms:Decrypt") && err.contains(&source_arn), "{err}");

    let kms_policy = allow(&["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "*");
    iam_call(&shared, &a_root, "PutRolePolicy", &[("RoleName", "repl"), ("PolicyName", "kms"), ("PolicyDocument", &kms_policy)])
        .expect("role policy");
    assert_eq!(check(&role, &source_arn, "kms:Decrypt"), Ok(()));

    // Cross-account: the identity allow is not enough until B's key policy names the role.
    let err = check(&role, &replica_arn, "kms:Encrypt").expect_err("key policy of B");
    assert!(err.contains("resource-based policy"), "{err}");
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{B}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}]});
    kms(&shared, &b_root, "PutKeyPolicy", &json!({"KeyId": replica_id, "Policy": policy.to_string()})).expect("put key policy");
    assert_eq!(check(&role, &replica_arn, "kms:Encrypt"), Ok(()));
    // …and both sides are needed: without the role's identity allow it fails again.
    iam_call(&shared, &a_root, "DeleteRolePolicy", &[("RoleName", "repl"), ("PolicyName", "kms")]).expect("delete");
    assert!(check(&role, &replica_arn, "kms:Encrypt").is_err());
    iam_call(&shared, &a_root, "PutRolePolicy", &[("RoleName", "repl"), ("PolicyName", "kms"), ("PolicyDocument", &kms_policy)])
        .expect("role policy");

    // Disabled keys cannot be used.
    kms(&shared, &b_root, "DisableKey", &json!({"KeyId": replica_id})).expect("disable");
    let err = check(&role, &replica_arn, "kms:Encrypt").expect_err("disabled");
    assert!(err.contains("disabled"), "{err}");
    assert!(check(&role, "arn:aws:kms:us-east-1:222222222222:key/00000000-0000-4000-8000-000000000000", "kms:Encrypt").is_err());

    // The AWS managed aws/s3 key: any principal of its account through S3, nobody else.
    let managed = {
        let mut world = shared.world();
        xrepl_emulator::kms::key_arn_for_s3(&mut world, A, None).expect("managed key")
    };
    iam_call(&shared, &a_root, "DeleteRolePolicy", &[("RoleName", "repl"), ("PolicyName", "kms")]).expect("delete");
    assert_eq!(check(&role, &managed, "kms:Decrypt"), Ok(()));
    assert!(check(&b_root, &managed, "kms:Decrypt").is_err(), "AWS managed keys are not usable across accounts");
    let err = kms(&shared, &a_root, "DisableKey", &json!({"KeyId": managed})).expect_err("AWS managed keys cannot be disabled");
    assert_eq!(err.code, "AccessDeniedException");
}

// ---------------------------------------------------------------------------------------------
// Hostile input straight into the handlers: no panics, and a refused request changes nothing.

fn world_summary(shared: &Shared) -> String {
    let world = shared.world();
    let mut out = String::new();
    for (id, account) in &world.accounts {
        out.push_str(&format!(
            "{id}: roles {:?} users {:?} policies {:?} keys {:?} aliases {:?}\n",
            account
                .iam
                .roles
                .iter()
                .map(|(n, r)| (n, r.trust.text.len(), r.inline.len(), r.attached.len(), r.tags.len()))
                .collect::<Vec<_>>(),
            account.iam.users.keys().collect::<Vec<_>>(),
            account.iam.policies.keys().collect::<Vec<_>>(),
            account.kms.keys.values().map(|k| (k.state.as_str(), k.policy.text.len())).collect::<Vec<_>>(),
            account.kms.aliases
        ));
    }
    out.push_str(&format!("access keys {}", world.keys.len()));
    out
}

const ACTIONS: &[&str] = &[
    "CreateRole",
    "GetRole",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "AttachRolePolicy",
    "TagRole",
    "CreatePolicy",
    "CreatePolicyVersion",
    "CreateUser",
    "CreateAccessKey",
    "PutUserPolicy",
    "ListRoles",
    "Bogus",
];
const FIELDS: &[&str] = &[
    "RoleName",
    "Path",
    "AssumeRolePolicyDocument",
    "PolicyDocument",
    "PolicyName",
    "PolicyArn",
    "UserName",
    "MaxItems",
    "Marker",
    "Tags.member.1.Key",
    "Tags.member.1.Value",
    "MaxSessionDuration",
    "Description",
];

fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("r".to_owned()),
        Just("/".to_owned()),
        Just(GUIDE_TRUST.to_owned()),
        Just(guide_trust_fixed()),
        Just(GUIDE_PERMISSIONS.to_owned()),
        Just("arn:aws:iam::aws:policy/AdministratorAccess".to_owned()),
        ".{0,40}",
        "[\\[{\"\\]}:,a-z0-9 ]{0,200}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn iam_handlers_never_panic_and_refusals_change_nothing(
        action in proptest::sample::select(ACTIONS),
        fields in proptest::collection::vec((proptest::sample::select(FIELDS), hostile_value()), 0..6),
    ) {
        let shared = new_shared();
        let a = root(A);
        iam_call(&shared, &a, "CreateRole", &[("RoleName", "r"), ("AssumeRolePolicyDocument", &guide_trust_fixed())]).expect("seed role");
        let before = world_summary(&shared);
        let p: BTreeMap<String, String> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let result = xrepl_emulator::iam::handle(&shared, &a, action, &p);
        if let Err(e) = result {
            prop_assert!(e.status >= 400 && e.status < 500, "{e:?}");
            prop_assert_eq!(before, world_summary(&shared));
        }
    }

    #[test]
    fn kms_handlers_never_panic(
        op in proptest::sample::select(&["CreateKey", "Encrypt", "Decrypt", "GenerateDataKey", "PutKeyPolicy", "CreateAlias", "DescribeKey", "ScheduleKeyDeletion"][..]),
        body in prop_oneof![
            any::<Vec<u8>>(),
            "\\{\"(KeyId|Plaintext|CiphertextBlob|Policy|AliasName|TargetKeyId|NumberOfBytes|KeySpec)\": ?(\"[a-zA-Z0-9/+=:-]{0,60}\"|[0-9]{1,6}|null|\\{\\}|\\[\\])\\}".prop_map(String::into_bytes),
        ],
    ) {
        let shared = new_shared();
        let a = root(A);
        kms(&shared, &a, "CreateKey", &json!({})).expect("seed key");
        let before = world_summary(&shared);
        if xrepl_emulator::kms::handle(&shared, &a, op, &Bytes::from(body)).is_err() {
            prop_assert_eq!(before, world_summary(&shared));
        }
    }
}
