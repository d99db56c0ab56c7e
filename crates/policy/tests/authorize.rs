//! authorize(): AWS's combination of identity and resource policies (IAM User
//! Guide `reference_policies_evaluation-logic-cross-account`), on the replication
//! setup of the guide and on documented delegation patterns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use xrepl_policy::{authorize, Authorization, Context, DocumentKind, Policy, PrincipalInfo, Request};

use Authorization::{Allowed, ExplicitDeny, ImplicitDeny};

fn role_policy() -> Policy {
    parse(&filled(GUIDE_ROLE_POLICY), DocumentKind::Identity)
}

fn destination_policy() -> Policy {
    parse(&filled(GUIDE_BUCKET_POLICY), DocumentKind::Resource)
}

/// The guide's role policy without `s3:ObjectOwnerOverrideToBucketOwner`.
fn role_policy_without_override() -> Policy {
    let text = filled(GUIDE_ROLE_POLICY).replace(",\n        \"s3:ObjectOwnerOverrideToBucketOwner\"", "");
    assert!(!text.contains("OwnerOverride"));
    parse(&text, DocumentKind::Identity)
}

fn bucket_policy(principal: &str, effect: &str, action: &str, resource: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "{effect}",
               "Principal": {principal}, "Action": "{action}", "Resource": "{resource}"}}]}}"#
        ),
        DocumentKind::Resource,
    )
}

fn identity_policy(effect: &str, action: &str, resource: &str) -> Policy {
    parse(
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "{effect}",
               "Action": "{action}", "Resource": "{resource}"}}]}}"#
        ),
        DocumentKind::Identity,
    )
}

fn dest_object() -> String {
    format!("arn:aws:s3:::{DEST}/photos/cat.jpg")
}

struct Call<'a> {
    identity: Vec<&'a Policy>,
    resource: Option<&'a Policy>,
    who: PrincipalInfo,
    action: &'a str,
    target: String,
    same_account: bool,
    root: bool,
    acl: bool,
}

impl Call<'_> {
    fn run(&self) -> Authorization {
        let ctx = Context::new();
        let req = Request { principal: &self.who, action: self.action, resource: &self.target, context: &ctx };
        authorize(&self.identity, self.resource, &req, self.same_account, self.root, self.acl)
    }
}

fn call<'a>(
    identity: Vec<&'a Policy>,
    resource: Option<&'a Policy>,
    who: PrincipalInfo,
    action: &'a str,
    target: String,
    same_account: bool,
) -> Call<'a> {
    Call { identity, resource, who, action, target, same_account, root: false, acl: false }
}

// Cross-account replication with both sides in place: allowed.
#[test]
fn replication_cross_account_both_sides_allow() {
    let (role, dest) = (role_policy(), destination_policy());
    for action in ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ObjectOwnerOverrideToBucketOwner"] {
        let got = call(vec![&role], Some(&dest), replication_role(), action, dest_object(), false).run();
        assert_eq!(got, Allowed, "{action}");
        assert!(got.is_allowed());
    }
}

// Cross-account: the role allows, but the destination bucket has no policy.
#[test]
fn replication_cross_account_needs_bucket_policy() {
    let role = role_policy();
    let got = call(vec![&role], None, replication_role(), "s3:ReplicateObject", dest_object(), false).run();
    assert_eq!(got, ImplicitDeny { identity_allows: true, resource_allows: false });
    assert!(!got.is_allowed());
}

// Cross-account: the bucket policy allows owner override, the role policy does not.
#[test]
fn replication_cross_account_needs_identity_allow() {
    let (role, dest) = (role_policy_without_override(), destination_policy());
    let got = call(vec![&role], Some(&dest), replication_role(), "s3:ObjectOwnerOverrideToBucketOwner", dest_object(), false).run();
    assert_eq!(got, ImplicitDeny { identity_allows: false, resource_allows: true });
}

// Cross-account: s3:ReplicateTags is in the role policy but not in the guide's bucket policy.
#[test]
fn replication_cross_account_replicate_tags_not_in_bucket_policy() {
    let (role, dest) = (role_policy(), destination_policy());
    let got = call(vec![&role], Some(&dest), replication_role(), "s3:ReplicateTags", dest_object(), false).run();
    assert_eq!(got, ImplicitDeny { identity_allows: true, resource_allows: false });
}

// Same account: an identity Allow suffices without any bucket policy.
#[test]
fn same_account_identity_alone() {
    let role = role_policy();
    let source_object = format!("arn:aws:s3:::{SOURCE}/k");
    let got = call(vec![&role], None, replication_role(), "s3:GetObjectVersionForReplication", source_object, true).run();
    assert_eq!(got, Allowed);
}

// Same account: a bucket policy naming the user's ARN suffices without identity policies.
#[test]
fn same_account_resource_alone_naming_the_user() {
    let bucket = bucket_policy(r#"{"AWS": "arn:aws:iam::111111111111:user/alice"}"#, "Allow", "s3:GetObject", "arn:aws:s3:::b/*");
    let got = call(vec![], Some(&bucket), user(A, "alice"), "s3:GetObject", "arn:aws:s3:::b/k".into(), true).run();
    assert_eq!(got, Allowed);
}

// Same account: a bucket policy naming only the account delegates to IAM; without
// an identity Allow the user is not allowed.
#[test]
fn same_account_root_principal_delegates() {
    let bucket = bucket_policy(r#"{"AWS": "arn:aws:iam::111111111111:root"}"#, "Allow", "s3:GetObject", "arn:aws:s3:::b/*");
    let got = call(vec![], Some(&bucket), user(A, "alice"), "s3:GetObject", "arn:aws:s3:::b/k".into(), true).run();
    assert_eq!(got, ImplicitDeny { identity_allows: false, resource_allows: true });
    let allow = identity_policy("Allow", "s3:GetObject", "*");
    let got = call(vec![&allow], Some(&bucket), user(A, "alice"), "s3:GetObject", "arn:aws:s3:::b/k".into(), true).run();
    assert_eq!(got, Allowed);
}

// Cross-account root delegation: B's bucket names arn:aws:iam::A:root, so any
// principal of A whose identity policies allow is allowed.
#[test]
fn cross_account_root_delegation() {
    let bucket = bucket_policy(r#"{"AWS": "arn:aws:iam::111111111111:root"}"#, "Allow", "s3:*", "arn:aws:s3:::dest-bucket-b/*");
    let allow = identity_policy("Allow", "s3:PutObject", "arn:aws:s3:::dest-bucket-b/*");
    assert_eq!(call(vec![&allow], Some(&bucket), user(A, "alice"), "s3:PutObject", dest_object(), false).run(), Allowed);
    assert_eq!(call(vec![&allow], Some(&bucket), replication_role(), "s3:PutObject", dest_object(), false).run(), Allowed);
    // Same delegation, but the caller's identity policies say nothing.
    assert_eq!(
        call(vec![], Some(&bucket), user(A, "alice"), "s3:PutObject", dest_object(), false).run(),
        ImplicitDeny { identity_allows: false, resource_allows: true }
    );
    // A principal of another account gets nothing from A's delegation.
    assert_eq!(
        call(vec![&allow], Some(&bucket), user(C, "eve"), "s3:PutObject", dest_object(), false).run(),
        ImplicitDeny { identity_allows: true, resource_allows: false }
    );
}

// A bare 12-digit account id in Principal is the same as the :root ARN.
#[test]
fn cross_account_bare_account_id() {
    let bucket = bucket_policy(r#"{"AWS": "111111111111"}"#, "Allow", "s3:GetObject", "arn:aws:s3:::dest-bucket-b/*");
    let allow = identity_policy("Allow", "s3:GetObject", "*");
    assert_eq!(call(vec![&allow], Some(&bucket), user(A, "alice"), "s3:GetObject", dest_object(), false).run(), Allowed);
}

// Explicit Deny in the bucket policy wins over Allows on both sides.
#[test]
fn deny_in_resource_wins() {
    let (role, dest) = (role_policy(), destination_policy());
    let text = filled(GUIDE_BUCKET_POLICY).replace(
        "\"Statement\": [",
        "\"Statement\": [{\"Sid\": \"NoDeletes\", \"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"s3:ReplicateDelete\", \"Resource\": \"*\"},",
    );
    let with_deny = parse(&text, DocumentKind::Resource);
    assert_eq!(call(vec![&role], Some(&dest), replication_role(), "s3:ReplicateDelete", dest_object(), false).run(), Allowed);
    assert_eq!(
        call(vec![&role], Some(&with_deny), replication_role(), "s3:ReplicateDelete", dest_object(), false).run(),
        ExplicitDeny { in_identity: false, in_resource: true }
    );
}

// Explicit Deny in one identity policy wins over an Allow in another and in the bucket policy.
#[test]
fn deny_in_identity_wins() {
    let allow = identity_policy("Allow", "s3:*", "*");
    let deny = identity_policy("Deny", "s3:DeleteObject", "*");
    let bucket = bucket_policy(r#"{"AWS": "arn:aws:iam::111111111111:user/alice"}"#, "Allow", "s3:*", "*");
    let got = call(vec![&allow, &deny], Some(&bucket), user(A, "alice"), "s3:DeleteObject", "arn:aws:s3:::b/k".into(), true).run();
    assert_eq!(got, ExplicitDeny { in_identity: true, in_resource: false });
}

// Deny on both sides is reported on both sides.
#[test]
fn deny_on_both_sides_reported() {
    let deny = identity_policy("Deny", "s3:*", "*");
    let bucket = bucket_policy(r#""*""#, "Deny", "s3:*", "*");
    let got = call(vec![&deny], Some(&bucket), user(A, "alice"), "s3:GetObject", "arn:aws:s3:::b/k".into(), false).run();
    assert_eq!(got, ExplicitDeny { in_identity: true, in_resource: true });
}

// Deny wins even for the account root.
#[test]
fn deny_applies_to_root() {
    let bucket = bucket_policy(r#""*""#, "Deny", "s3:DeleteBucket", "*");
    let mut c = call(vec![], Some(&bucket), root(A), "s3:DeleteBucket", "arn:aws:s3:::b".into(), true);
    c.root = true;
    assert_eq!(c.run(), ExplicitDeny { in_identity: false, in_resource: true });
}

// The account root needs no identity policy in its own account.
#[test]
fn root_same_account_allowed() {
    let mut c = call(vec![], None, root(A), "s3:PutBucketPolicy", "arn:aws:s3:::b".into(), true);
    c.root = true;
    assert_eq!(c.run(), Allowed);
}

// The account root cross-account still needs the resource side.
#[test]
fn root_cross_account_needs_resource() {
    let mut c = call(vec![], None, root(A), "s3:GetObject", dest_object(), false);
    c.root = true;
    assert_eq!(c.run(), ImplicitDeny { identity_allows: true, resource_allows: false });
    let bucket = bucket_policy(r#"{"AWS": "arn:aws:iam::111111111111:root"}"#, "Allow", "s3:GetObject", "*");
    let mut c = call(vec![], Some(&bucket), root(A), "s3:GetObject", dest_object(), false);
    c.root = true;
    assert_eq!(c.run(), Allowed);
}

// An ACL grant counts as the resource side allowing.
#[test]
fn acl_grant_is_resource_side() {
    let allow = identity_policy("Allow", "s3:GetObject", "*");
    let mut c = call(vec![&allow], None, user(A, "alice"), "s3:GetObject", dest_object(), false);
    c.acl = true;
    assert_eq!(c.run(), Allowed);
    let mut c = call(vec![], None, user(A, "alice"), "s3:GetObject", dest_object(), false);
    c.acl = true;
    assert_eq!(c.run(), ImplicitDeny { identity_allows: false, resource_allows: true });
}

// Nothing anywhere: implicit deny with neither side allowing.
#[test]
fn nothing_allows() {
    let got = call(vec![], None, user(A, "alice"), "s3:GetObject", "arn:aws:s3:::b/k".into(), true).run();
    assert_eq!(got, ImplicitDeny { identity_allows: false, resource_allows: false });
}

// Anonymous callers have no identity side: a public bucket policy alone allows.
#[test]
fn anonymous_public_read() {
    let bucket = bucket_policy(r#""*""#, "Allow", "s3:GetObject", "arn:aws:s3:::b/*");
    assert_eq!(call(vec![], Some(&bucket), anonymous(), "s3:GetObject", "arn:aws:s3:::b/k".into(), false).run(), Allowed);
    assert_eq!(
        call(vec![], Some(&bucket), anonymous(), "s3:PutObject", "arn:aws:s3:::b/k".into(), false).run(),
        ImplicitDeny { identity_allows: false, resource_allows: false }
    );
}

// AssumeRole by S3 is decided by the trust policy alone.
#[test]
fn service_assumes_role_by_trust_alone() {
    let trust = parse(&filled(GUIDE_TRUST), DocumentKind::Trust);
    let got = call(vec![], Some(&trust), service("s3.amazonaws.com"), "sts:AssumeRole", role_arn(A), false).run();
    assert_eq!(got, Allowed);
    let got = call(vec![], Some(&trust), service("ec2.amazonaws.com"), "sts:AssumeRole", role_arn(A), false).run();
    assert_eq!(got, ImplicitDeny { identity_allows: false, resource_allows: false });
}

// Cross-account AssumeRole: the trust policy names account B (delegation), so B's
// user also needs sts:AssumeRole in its identity policies.
#[test]
fn cross_account_assume_role() {
    let trust = parse(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "sts:AssumeRole"}]}"#,
        DocumentKind::Trust,
    );
    let may_assume = identity_policy("Allow", "sts:AssumeRole", "arn:aws:iam::111111111111:role/*");
    assert_eq!(call(vec![&may_assume], Some(&trust), user(B, "ops"), "sts:AssumeRole", role_arn(A), false).run(), Allowed);
    assert_eq!(
        call(vec![], Some(&trust), user(B, "ops"), "sts:AssumeRole", role_arn(A), false).run(),
        ImplicitDeny { identity_allows: false, resource_allows: true }
    );
}
