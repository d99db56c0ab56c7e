//! OpenID Connect providers and AssumeRoleWithWebIdentity, the way CI systems get into AWS: a
//! provider in IAM, a role trusting it with GitHub-style `aud` / `sub` conditions, and RS256
//! tokens signed with a key the test holds (fixtures/oidc/idp-key.pem; the impostor key signs
//! tokens that must be refused). The issuer's JWKS reaches the emulator through the admin
//! endpoint `PUT /_xrepl/oidc/jwks?issuer=...`.

mod common;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{code, Env, A, B};

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const HOST: &str = "token.actions.githubusercontent.com";
const AUDIENCE: &str = "sts.amazonaws.com";
const SUBJECT: &str = "repo:example-org/infra:ref:refs/heads/main";
const KID: &str = "test-key-1";

fn key(file: &str) -> EncodingKey {
    let path = format!("{}/../../fixtures/oidc/{file}", env!("CARGO_MANIFEST_DIR"));
    let pem = std::fs::read(&path).expect("fixture key");
    EncodingKey::from_rsa_pem(&pem).expect("an RSA key")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// An RS256 token with the given claims, signed by `signer` and naming `kid`.
fn token(signer: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.to_owned());
    jsonwebtoken::encode(&header, claims, signer).expect("token signs")
}

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": now() - 10, "nbf": now() - 10, "exp": now() + 300})
}

/// Registers the issuer's public keys (the JWKS of the test's own key) with the emulator.
async fn publish_jwks(env: &Env) {
    let mut jwk = Jwk::from_encoding_key(&key("idp-key.pem"), Algorithm::RS256).expect("public JWK");
    jwk.common.key_id = Some(KID.to_owned());
    let body = serde_json::to_string(&JwkSet { keys: vec![jwk] }).expect("JSON");
    let mut stream = tokio::net::TcpStream::connect(env.emulator.addr()).await.expect("connects");
    let request = format!(
        "PUT /_xrepl/oidc/jwks?issuer={ISSUER} HTTP/1.1\r\nHost: localhost\r\nx-xrepl-admin: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A provider for the issuer in account A, and a role it may assume from `example-org/infra`.
async fn provider_and_role(env: &Env, sub_condition: Value) -> String {
    let iam = env.iam(A).await;
    iam.create_open_id_connect_provider()
        .url(ISSUER)
        .client_id_list(AUDIENCE)
        .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
        .send()
        .await
        .expect("provider");
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{A}:oidc-provider/{HOST}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {format!("{HOST}:aud"): AUDIENCE},
            "StringLike": {format!("{HOST}:sub"): sub_condition}
        }
    }]});
    let role = iam.create_role().role_name("ci-deploy").assume_role_policy_document(trust.to_string()).send().await.expect("role");
    iam.put_role_policy()
        .role_name("ci-deploy")
        .policy_name("list")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
                .to_string(),
        )
        .send()
        .await
        .expect("role policy");
    role.role().map(|r| r.arn().to_owned()).expect("arn")
}

/// An STS client with no credentials at all: AssumeRoleWithWebIdentity is sent unsigned.
async fn anonymous_sts(env: &Env) -> aws_sdk_sts::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(env.emulator.endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .no_credentials()
        .load()
        .await;
    aws_sdk_sts::Client::new(&config)
}

type Assumed = Result<
    aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput,
    aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError>,
>;

async fn assume(sts: &aws_sdk_sts::Client, role_arn: &str, token: &str) -> Assumed {
    sts.assume_role_with_web_identity().role_arn(role_arn).role_session_name("gha-run-1").web_identity_token(token).send().await
}

#[tokio::test]
async fn provider_lifecycle() {
    let env = common::start().await;
    let iam = env.iam(A).await;
    let created = iam
        .create_open_id_connect_provider()
        .url("https://idp.example.com/tenant-1")
        .client_id_list("app-1")
        .thumbprint_list("3768084dfb3d2b68b7897bf5f565da8efEXAMPLE")
        .send()
        .await
        .expect("create");
    let arn = created.open_id_connect_provider_arn().expect("arn").to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{A}:oidc-provider/idp.example.com/tenant-1"));
    let err =
        iam.create_open_id_connect_provider().url("https://idp.example.com/tenant-1").client_id_list("x").send().await.expect_err("dup");
    assert_eq!(code(&err), "EntityAlreadyExists");
    let err = iam.create_open_id_connect_provider().url("idp.example.com").client_id_list("x").send().await.expect_err("no scheme");
    assert_eq!(code(&err), "ValidationError");
    let err = iam
        .create_open_id_connect_provider()
        .url("https://other.example")
        .thumbprint_list("abc")
        .send()
        .await
        .expect_err("short thumbprint");
    assert_eq!(code(&err), "ValidationError");

    let listed = iam.list_open_id_connect_providers().send().await.expect("list");
    assert_eq!(listed.open_id_connect_provider_list().iter().filter_map(|p| p.arn()).collect::<Vec<_>>(), [arn.as_str()]);
    let got = iam.get_open_id_connect_provider().open_id_connect_provider_arn(&arn).send().await.expect("get");
    // IAM returns the URL without its scheme.
    assert_eq!(got.url(), Some("idp.example.com/tenant-1"));
    assert_eq!(got.client_id_list(), ["app-1"]);

    iam.add_client_id_to_open_id_connect_provider().open_id_connect_provider_arn(&arn).client_id("app-2").send().await.expect("add");
    iam.add_client_id_to_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("app-2")
        .send()
        .await
        .expect("again: no-op");
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("app-1")
        .send()
        .await
        .expect("remove");
    iam.remove_client_id_from_open_id_connect_provider()
        .open_id_connect_provider_arn(&arn)
        .client_id("app-1")
        .send()
        .await
        .expect("idempotent");
    iam.update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(&arn)
        .thumbprint_list("6938fd4d98bab03faadb97b34396831e3780aea1")
        .send()
        .await
        .expect("thumbprint");
    let got = iam.get_open_id_connect_provider().open_id_connect_provider_arn(&arn).send().await.expect("get");
    assert_eq!(got.client_id_list(), ["app-2"]);
    assert_eq!(got.thumbprint_list(), ["6938fd4d98bab03faadb97b34396831e3780aea1"]);

    // Another account sees nothing of it.
    let other = env.iam(B).await;
    other.get_open_id_connect_provider().open_id_connect_provider_arn(&arn).send().await.expect_err("not B's provider");
    assert!(other.list_open_id_connect_providers().send().await.expect("list").open_id_connect_provider_list().is_empty());

    iam.delete_open_id_connect_provider().open_id_connect_provider_arn(&arn).send().await.expect("delete");
    let err = iam.get_open_id_connect_provider().open_id_connect_provider_arn(&arn).send().await.expect_err("gone");
    assert_eq!(code(&err), "NoSuchEntity");
    let err = iam.delete_open_id_connect_provider().open_id_connect_provider_arn(&arn).send().await.expect_err("gone");
    assert_eq!(code(&err), "NoSuchEntity");
}

#[tokio::test]
async fn a_valid_token_assumes_the_role_and_the_session_works() {
    let env = common::start().await;
    publish_jwks(&env).await;
    let role_arn = provider_and_role(&env, json!("repo:example-org/infra:*")).await;
    let sts = anonymous_sts(&env).await;
    let out = assume(&sts, &role_arn, &token(&key("idp-key.pem"), &claims())).await.expect("assumed");
    assert_eq!(out.subject_from_web_identity_token(), Some(SUBJECT));
    assert_eq!(out.audience(), Some(AUDIENCE));
    assert_eq!(out.provider(), Some(ISSUER));
    let creds = out.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));

    let s3 = env.s3_with(creds.access_key_id(), creds.secret_access_key(), Some(creds.session_token().to_owned())).await;
    s3.list_buckets().send().await.expect("the role's policy applies to the session");
    let session_sts = aws_sdk_sts::Client::new(
        &common::sdk_config(
            &env.emulator.endpoint(),
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
        )
        .await,
    );
    let who = session_sts.get_caller_identity().send().await.expect("identity");
    assert_eq!(who.arn(), Some(format!("arn:aws:sts::{A}:assumed-role/ci-deploy/gha-run-1").as_str()));
}

#[tokio::test]
async fn wrong_audience_is_an_invalid_identity_token() {
    let env = common::start().await;
    publish_jwks(&env).await;
    let role_arn = provider_and_role(&env, json!("repo:example-org/infra:*")).await;
    let mut c = claims();
    c["aud"] = json!("some-other-client");
    let err = assume(&anonymous_sts(&env).await, &role_arn, &token(&key("idp-key.pem"), &c)).await.expect_err("wrong aud");
    assert_eq!(code(&err), "InvalidIdentityToken");
    assert_eq!(common::message(&err), "Incorrect token audience");
}

#[tokio::test]
async fn wrong_subject_is_denied_by_the_trust_policy() {
    let env = common::start().await;
    publish_jwks(&env).await;
    let role_arn = provider_and_role(&env, json!("repo:example-org/infra:*")).await;
    let mut c = claims();
    c["sub"] = json!("repo:attacker/fork:ref:refs/heads/main");
    let err = assume(&anonymous_sts(&env).await, &role_arn, &token(&key("idp-key.pem"), &c)).await.expect_err("wrong sub");
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(common::message(&err), "Not authorized to perform sts:AssumeRoleWithWebIdentity");
}

#[tokio::test]
async fn expired_token_is_refused() {
    let env = common::start().await;
    publish_jwks(&env).await;
    let role_arn = provider_and_role(&env, json!("repo:example-org/infra:*")).await;
    let mut c = claims();
    c["iat"] = json!(now() - 7200);
    c["nbf"] = json!(now() - 7200);
    c["exp"] = json!(now() - 3600);
    let err = assume(&anonymous_sts(&env).await, &role_arn, &token(&key("idp-key.pem"), &c)).await.expect_err("expired");
    assert_eq!(code(&err), "ExpiredTokenException");
    assert!(common::message(&err).starts_with("Token expired: current date/time"), "{}", common::message(&err));
}

#[tokio::test]
async fn bad_signature_is_an_invalid_identity_token() {
    let env = common::start().await;
    publish_jwks(&env).await;
    let role_arn = provider_and_role(&env, json!("repo:example-org/infra:*")).await;
    let sts = anonymous_sts(&env).await;
    // Same claims and kid, signed by a key the issuer never published.
    let err = assume(&sts, &role_arn, &token(&key("impostor-key.pem"), &claims())).await.expect_err("forged");
    assert_eq!(code(&err), "InvalidIdentityToken");
    // A genuine token with its payload altered after signing.
    let genuine = token(&key("idp-key.pem"), &claims());
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut forged_claims = claims();
    forged_claims["sub"] = json!("repo:example-org/infra:ref:refs/heads/evil");
    parts[1] = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, forged_claims.to_string());
    let err = assume(&sts, &role_arn, &parts.join(".")).await.expect_err("tampered");
    assert_eq!(code(&err), "InvalidIdentityToken");
    // Not a JWT at all.
    assert_eq!(code(&assume(&sts, &role_arn, "not-a-token").await.expect_err("garbage")), "InvalidIdentityToken");
}

#[tokio::test]
async fn tokens_need_a_provider_in_the_roles_account_and_published_keys() {
    let env = common::start().await;
    let role_arn = provider_and_role(&env, json!("repo:example-org/infra:*")).await;
    let sts = anonymous_sts(&env).await;
    // No keys published for the issuer yet.
    let err = assume(&sts, &role_arn, &token(&key("idp-key.pem"), &claims())).await.expect_err("no JWKS");
    assert_eq!(code(&err), "InvalidIdentityToken");
    publish_jwks(&env).await;
    // Another issuer has no provider in account A.
    let mut c = claims();
    c["iss"] = json!("https://gitlab.example.com");
    let err = assume(&sts, &role_arn, &token(&key("idp-key.pem"), &c)).await.expect_err("no provider");
    assert_eq!(code(&err), "InvalidIdentityToken");
    assert_eq!(common::message(&err), "No OpenIDConnect provider found in your account for https://gitlab.example.com");
    // The provider deleted: its tokens are no longer accepted.
    let iam = env.iam(A).await;
    assume(&sts, &role_arn, &token(&key("idp-key.pem"), &claims())).await.expect("accepted while the provider exists");
    iam.delete_open_id_connect_provider()
        .open_id_connect_provider_arn(format!("arn:aws:iam::{A}:oidc-provider/{HOST}"))
        .send()
        .await
        .expect("delete provider");
    let err = assume(&sts, &role_arn, &token(&key("idp-key.pem"), &claims())).await.expect_err("provider gone");
    assert_eq!(code(&err), "InvalidIdentityToken");
}

#[tokio::test]
async fn exact_subject_condition_with_string_equals() {
    let env = common::start().await;
    publish_jwks(&env).await;
    let iam = env.iam(A).await;
    iam.create_open_id_connect_provider().url(ISSUER).client_id_list(AUDIENCE).send().await.expect("provider");
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{A}:oidc-provider/{HOST}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{HOST}:sub"): SUBJECT, format!("{HOST}:aud"): AUDIENCE}}
    }]});
    let role = iam.create_role().role_name("exact").assume_role_policy_document(trust.to_string()).send().await.expect("role");
    let role_arn = role.role().map(|r| r.arn().to_owned()).expect("arn");
    let sts = anonymous_sts(&env).await;
    assume(&sts, &role_arn, &token(&key("idp-key.pem"), &claims())).await.expect("exact subject");
    let mut c = claims();
    c["sub"] = json!(format!("{SUBJECT}-other"));
    assert_eq!(code(&assume(&sts, &role_arn, &token(&key("idp-key.pem"), &c)).await.expect_err("other subject")), "AccessDenied");
}

#[tokio::test]
async fn issuer_keys_registered_before_a_restart_still_verify_tokens() {
    let dir = std::env::temp_dir().join(format!("xrepl-oidc-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = xrepl_emulator::EmulatorConfig::with_accounts(&[A, B]).data_dir(&dir);
    let role_arn = {
        let env = Env { emulator: xrepl_emulator::Emulator::start(config.clone()).await.expect("emulator starts") };
        publish_jwks(&env).await;
        provider_and_role(&env, json!("repo:example-org/infra:*")).await
    };
    let env = Env { emulator: xrepl_emulator::Emulator::start(config).await.expect("emulator restarts") };
    let sts = anonymous_sts(&env).await;
    let out = assume(&sts, &role_arn, &token(&key("idp-key.pem"), &claims())).await.expect("the issuer's keys were kept in the data dir");
    assert_eq!(out.subject_from_web_identity_token(), Some(SUBJECT));
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}
