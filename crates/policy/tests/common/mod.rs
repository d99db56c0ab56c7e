//! Callers and helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use xrepl_policy::{Context, DocumentKind, Policy, PrincipalInfo};

/// Account A owns the source bucket and the replication role.
pub const A: &str = "111111111111";
/// Account B owns the destination bucket.
pub const B: &str = "222222222222";
/// A third account that nobody trusts.
pub const C: &str = "333333333333";

pub const CANONICAL_A: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
pub const CANONICAL_B: &str = "0b1a2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

pub const ROLE_NAME: &str = "s3crr_role_for_source_bucket";
pub const SOURCE: &str = "source-bucket-a";
pub const DEST: &str = "dest-bucket-b";

pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/service-role/{ROLE_NAME}")
}

fn canonical(account: &str) -> Option<String> {
    match account {
        A => Some(CANONICAL_A.to_string()),
        B => Some(CANONICAL_B.to_string()),
        _ => None,
    }
}

pub fn user(account: &str, name: &str) -> PrincipalInfo {
    PrincipalInfo {
        account: Some(account.to_string()),
        arns: vec![format!("arn:aws:iam::{account}:user/{name}")],
        canonical_id: canonical(account),
        ..Default::default()
    }
}

pub fn root(account: &str) -> PrincipalInfo {
    PrincipalInfo {
        account: Some(account.to_string()),
        arns: vec![format!("arn:aws:iam::{account}:root")],
        canonical_id: canonical(account),
        ..Default::default()
    }
}

/// A session of a role with a path, known by the session ARN and the role ARN.
pub fn session(account: &str, path: &str, role: &str, session: &str) -> PrincipalInfo {
    PrincipalInfo {
        account: Some(account.to_string()),
        arns: vec![format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"), format!("arn:aws:iam::{account}:role{path}{role}")],
        canonical_id: canonical(account),
        ..Default::default()
    }
}

/// The replication role's session as S3 uses it.
pub fn replication_role() -> PrincipalInfo {
    session(A, "/service-role/", ROLE_NAME, "s3-replication")
}

pub fn service(name: &str) -> PrincipalInfo {
    PrincipalInfo { service: Some(name.to_string()), ..Default::default() }
}

pub fn anonymous() -> PrincipalInfo {
    PrincipalInfo { anonymous: true, ..Default::default() }
}

pub fn context(pairs: &[(&str, &[&str])]) -> Context {
    let mut ctx = Context::new();
    for (key, values) in pairs {
        ctx.insert_many(key, values.iter().map(|v| (*v).to_string()).collect());
    }
    ctx
}

pub fn parse(text: &str, kind: DocumentKind) -> Policy {
    Policy::parse(text, kind).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The guide's three documents, verbatim (steps 7, 10 and 14 of the cross-account replication
/// guide this project implements; also in fixtures/guide/), en dashes included.
pub const GUIDE_TRUST: &str = include_str!("../fixtures/guide-trust-policy.json");
pub const GUIDE_ROLE_POLICY: &str = include_str!("../fixtures/guide-role-permission-policy.json");
pub const GUIDE_BUCKET_POLICY: &str = include_str!("../fixtures/guide-destination-bucket-policy.json");

/// A guide document with its placeholders filled in and the en dashes fixed.
pub fn filled(text: &str) -> String {
    text.replace("XXXXXXXX", A).replace("SOURCE_BUCKET", SOURCE).replace("DESTINATION_BUCKET", DEST).replace('\u{2013}', "-")
}
