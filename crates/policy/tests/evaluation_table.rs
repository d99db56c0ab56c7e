//! Evaluation cases taken from AWS's documented examples (IAM User Guide policy
//! examples, S3 User Guide bucket policy examples), the cross-account replication
//! guide's documents (placeholders filled in), and trust policies for
//! s3.amazonaws.com. Each case says what it checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use xrepl_policy::{Decision, DocumentKind, Policy, PrincipalInfo, Request};

use Decision::{Allow, Deny, NotApplicable as NA};
use DocumentKind::{Identity, Resource, Trust};

// ---- Documents ---------------------------------------------------------------

/// IAM User Guide `reference_policies_examples_s3_rw-bucket`: read/write one bucket.
const S3_RW_BUCKET: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ListObjectsInBucket", "Effect": "Allow", "Action": ["s3:ListBucket"],
     "Resource": ["arn:aws:s3:::bucket-name"]},
    {"Sid": "AllObjectActions", "Effect": "Allow", "Action": "s3:*Object",
     "Resource": ["arn:aws:s3:::bucket-name/*"]}
  ]
}"#;

/// IAM User Guide `reference_policies_examples_s3_home-directory-console`:
/// each user gets `home/${aws:username}/`.
const S3_HOME_DIRECTORY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowListingOfUserFolder", "Effect": "Allow", "Action": "s3:ListBucket",
     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
     "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}},
    {"Sid": "AllowAllS3ActionsInUserFolder", "Effect": "Allow", "Action": "s3:*",
     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}
  ]
}"#;

/// The same document under Version 2008-10-17, where `${...}` is literal text.
const S3_HOME_DIRECTORY_2008: &str = r#"{
  "Version": "2008-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:*",
     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"}
  ]
}"#;

/// IAM User Guide `reference_policies_examples_aws_mfa-dates`-style self-managed
/// MFA: deny everything except MFA set-up unless MFA is present (BoolIfExists).
const DENY_WITHOUT_MFA: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
     "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices",
                   "sts:GetSessionToken"],
     "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
  ]
}"#;

/// IAM User Guide `reference_policies_examples_general_deny-except-region`-style:
/// deny outside two regions (StringNotEquals with a missing key is true).
const DENY_OUTSIDE_REGIONS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Sid": "DenyAllOutsideRequestedRegions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"],
     "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}}
  ]
}"#;

/// IAM User Guide `reference_policies_examples_aws-dates`: allow within a date range.
const DATE_RANGE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
     "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                   "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}}
  ]
}"#;

/// IAM User Guide `reference_policies_examples_aws_deny-ip`: deny from outside
/// given networks.
const DENY_BY_IP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]},
                  "Bool": {"aws:ViaAWSService": "false"}}
  }
}"#;

/// IAM User Guide `reference_policies_condition-single-vs-multi-valued-context-keys`:
/// only allowed tag keys may be sent (ForAllValues) and at least one
/// required one (ForAnyValue).
const TAG_KEYS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "OnlyTheseKeys", "Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "*",
     "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}},
    {"Sid": "AnyDeptKey", "Effect": "Allow", "Action": "s3:PutBucketTagging", "Resource": "*",
     "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["dept-*"]}}}
  ]
}"#;

/// S3 User Guide `example-policies-s3`: limit ListBucket max-keys (NumericLessThanEquals).
const MAX_KEYS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
     "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}}
  ]
}"#;

/// IAM User Guide `access_policies_examples`-style: deny long-term credentials
/// (`Null` on aws:TokenIssueTime) and allow `ec2:*` only with a tag.
const NULL_AND_IGNORE_CASE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AllowTagged", "Effect": "Allow", "Action": "ec2:StartInstances", "Resource": "*",
     "Condition": {"StringEqualsIgnoreCase": {"aws:ResourceTag/Owner": "${aws:username}"}}},
    {"Sid": "DenyLongTermKeys", "Effect": "Deny", "Action": "ec2:*", "Resource": "*",
     "Condition": {"Null": {"aws:TokenIssueTime": "true"}}}
  ]
}"#;

/// NotResource: allow everything except one bucket's objects.
const NOT_RESOURCE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret-bucket/*"}
  ]
}"#;

/// S3 User Guide `example-bucket-policies`: public read of objects.
const PUBLIC_READ: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
     "Action": ["s3:GetObject", "s3:GetObjectVersion"],
     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/*"]}
  ]
}"#;

/// S3 User Guide `example-bucket-policies`: grant two accounts PutObject on
/// condition that the bucket owner gets full control.
const CROSS_ACCOUNT_PUT_WITH_ACL: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AddCannedAcl", "Effect": "Allow",
     "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
     "Action": ["s3:PutObject", "s3:PutObjectAcl"],
     "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": ["bucket-owner-full-control"]}}}
  ]
}"#;

/// S3 User Guide `example-bucket-policies`: HTTPS only, from one network, with MFA
/// for the secret prefix; plus an allow for account A.
const BUCKET_GUARDS: &str = r#"{
  "Version": "2012-10-17",
  "Id": "Guards",
  "Statement": [
    {"Sid": "AllowAccountA", "Effect": "Allow", "Principal": {"AWS": "111111111111"},
     "Action": "s3:*", "Resource": ["arn:aws:s3:::guarded", "arn:aws:s3:::guarded/*"]},
    {"Sid": "RestrictToTLSRequestsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::guarded", "arn:aws:s3:::guarded/*"],
     "Condition": {"Bool": {"aws:SecureTransport": false}}},
    {"Sid": "IPAllow", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
     "Resource": ["arn:aws:s3:::guarded", "arn:aws:s3:::guarded/*"],
     "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}},
    {"Sid": "RequireMFAForSecret", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": "arn:aws:s3:::guarded/secret/*",
     "Condition": {"Null": {"aws:MultiFactorAuthAge": true}}}
  ]
}"#;

/// S3 User Guide `enable-server-access-logging`: the logging service principal,
/// limited by aws:SourceArn (ArnLike) and aws:SourceAccount.
const LOGGING_SERVICE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
     "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": ["s3:PutObject"],
     "Resource": "arn:aws:s3:::log-bucket/logs/*",
     "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::source-*"},
                   "StringEquals": {"aws:SourceAccount": "111111111111"}}}
  ]
}"#;

/// S3 User Guide `UsingServerSideEncryption`: deny uploads not encrypted with KMS.
const REQUIRE_SSE_KMS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:user/alice"},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::enc-bucket/*"},
    {"Sid": "DenyIncorrectEncryptionHeader", "Effect": "Deny", "Principal": "*",
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::enc-bucket/*",
     "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}
  ]
}"#;

/// CloudFront origin access identity by canonical user id.
const CANONICAL_USER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cdn-bucket/*"}
  ]
}"#;

/// IAM User Guide `reference_policies_elements_notprincipal`: deny all but Bob
/// (Bob's ARN and his account are both listed).
const NOT_PRINCIPAL_BOB: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob", "arn:aws:iam::444455556666:root"]},
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]
  }]
}"#;

/// The same, listing only Bob's ARN: the account is denied, so Bob is too.
const NOT_PRINCIPAL_BOB_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:user/Bob"},
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]
  }]
}"#;

/// IAM User Guide `reference_policies_elements_notprincipal`: deny all but one
/// assumed-role session (session, role and account listed).
const NOT_PRINCIPAL_SESSION: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "NotPrincipal": {"AWS": [
      "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app",
      "arn:aws:iam::444455556666:role/cross-account-read-only-role",
      "arn:aws:iam::444455556666:root"
    ]},
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::Bucket_AccountAudit", "arn:aws:s3:::Bucket_AccountAudit/*"]
  }]
}"#;

/// Trust policy for the replication role (the guide's, Version fixed).
const TRUST_S3: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}
  ]
}"#;

/// IAM User Guide `id_roles_create_for-user`: a role another account may assume,
/// with an external id (confused-deputy protection).
const TRUST_ACCOUNT_B_EXTERNAL_ID: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
     "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"sts:ExternalId": "Unique-ID-12345"}}}
  ]
}"#;

/// S3 trust with the confused-deputy guard on aws:SourceAccount / aws:SourceArn.
const TRUST_S3_CONFUSED_DEPUTY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["s3.amazonaws.com", "batchoperations.s3.amazonaws.com"]},
     "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
     "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"},
                   "ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::source-bucket-*"}}}
  ]
}"#;

// ---- The table ----------------------------------------------------------------

struct Case {
    /// What the case checks.
    what: &'static str,
    doc: String,
    kind: DocumentKind,
    who: PrincipalInfo,
    action: &'static str,
    resource: String,
    ctx: Vec<(&'static str, Vec<&'static str>)>,
    expect: Decision,
    /// Indices of the statements expected in `Evaluation::matched`, when checked.
    matched: Option<Vec<usize>>,
}

fn case(
    what: &'static str,
    doc: impl Into<String>,
    kind: DocumentKind,
    who: PrincipalInfo,
    action: &'static str,
    resource: impl Into<String>,
    expect: Decision,
) -> Case {
    Case { what, doc: doc.into(), kind, who, action, resource: resource.into(), ctx: Vec::new(), expect, matched: None }
}

impl Case {
    fn ctx(mut self, key: &'static str, values: &[&'static str]) -> Self {
        self.ctx.push((key, values.to_vec()));
        self
    }
    fn matched(mut self, indices: &[usize]) -> Self {
        self.matched = Some(indices.to_vec());
        self
    }
}

fn alice() -> PrincipalInfo {
    user(A, "alice")
}

fn bob_444() -> PrincipalInfo {
    user("444455556666", "Bob")
}

// One piece on purpose: it is the table itself, one case per entry, read top to bottom.
fn cases() -> Vec<Case> {
    let role_policy = filled(GUIDE_ROLE_POLICY);
    let bucket_policy = filled(GUIDE_BUCKET_POLICY);
    let trust = filled(GUIDE_TRUST);
    let src_obj = format!("arn:aws:s3:::{SOURCE}/photos/cat.jpg");
    let src = format!("arn:aws:s3:::{SOURCE}");
    let dst_obj = format!("arn:aws:s3:::{DEST}/photos/cat.jpg");
    let dst = format!("arn:aws:s3:::{DEST}");
    let role_arn_a = role_arn(A);
    let s3 = service("s3.amazonaws.com");
    vec![
        // -- Read/write one bucket (identity policy) --
        // ListBucket is allowed on the bucket ARN, reported by its Sid.
        case("rw: ListBucket on bucket", S3_RW_BUCKET, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::bucket-name", Allow).matched(&[0]),
        // `s3:*Object` covers GetObject; actions match case-insensitively.
        case("rw: action wildcard, any case", S3_RW_BUCKET, Identity, alice(), "S3:getobject", "arn:aws:s3:::bucket-name/a/b", Allow)
            .matched(&[1]),
        // `s3:*Object` does not cover GetObjectAcl.
        case("rw: wildcard suffix must match", S3_RW_BUCKET, Identity, alice(), "s3:GetObjectAcl", "arn:aws:s3:::bucket-name/a", NA),
        // ListBucket is granted on the bucket, not on objects.
        case("rw: bucket vs object ARN", S3_RW_BUCKET, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::bucket-name/a", NA),
        // Resource matching is case-sensitive.
        case("rw: resource case-sensitive", S3_RW_BUCKET, Identity, alice(), "s3:GetObject", "arn:aws:s3:::Bucket-Name/a", NA),
        // Another bucket whose name merely starts the same is not covered.
        case("rw: other bucket", S3_RW_BUCKET, Identity, alice(), "s3:GetObject", "arn:aws:s3:::bucket-name2/a", NA),
        // -- Home directories with ${aws:username} --
        // The user may work in their own folder.
        case(
            "home: own folder",
            S3_HOME_DIRECTORY,
            Identity,
            alice(),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt",
            Allow,
        )
        .ctx("aws:username", &["alice"]),
        // ...but not in somebody else's.
        case(
            "home: other folder",
            S3_HOME_DIRECTORY,
            Identity,
            alice(),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/notes.txt",
            NA,
        )
        .ctx("aws:username", &["alice"]),
        // Without aws:username the variable cannot be resolved: no match.
        case(
            "home: variable missing",
            S3_HOME_DIRECTORY,
            Identity,
            alice(),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/x",
            NA,
        ),
        // A user name with `*` is literal, not a wildcard.
        case(
            "home: substituted text is literal",
            S3_HOME_DIRECTORY,
            Identity,
            alice(),
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/x",
            NA,
        )
        .ctx("aws:username", &["a*"]),
        // ListBucket with prefix "home/" is allowed (StringLike, one of several values).
        case("home: list home/", S3_HOME_DIRECTORY, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", Allow)
            .ctx("s3:prefix", &["home/"])
            .ctx("aws:username", &["alice"]),
        // ListBucket with the user's own prefix (variable inside a StringLike value).
        case("home: list own prefix", S3_HOME_DIRECTORY, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", Allow)
            .ctx("s3:prefix", &["home/alice/docs"])
            .ctx("AWS:UserName", &["alice"]),
        // ListBucket with another user's prefix is not allowed.
        case("home: list other prefix", S3_HOME_DIRECTORY, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", NA)
            .ctx("s3:prefix", &["home/bob/"])
            .ctx("aws:username", &["alice"]),
        // Missing s3:prefix makes the positive StringLike false.
        case(
            "home: list without prefix key",
            S3_HOME_DIRECTORY,
            Identity,
            alice(),
            "s3:ListBucket",
            "arn:aws:s3:::amzn-s3-demo-bucket",
            NA,
        )
        .ctx("aws:username", &["alice"]),
        // Version 2008-10-17 has no policy variables: `${aws:username}` is literal.
        case(
            "home 2008: no variables",
            S3_HOME_DIRECTORY_2008,
            Identity,
            alice(),
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/x",
            NA,
        )
        .ctx("aws:username", &["alice"]),
        // -- MFA (NotAction + BoolIfExists) --
        // No MFA key at all: BoolIfExists is true, the Deny applies and wins over the Allow.
        case("mfa: missing key denies", DENY_WITHOUT_MFA, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Deny).matched(&[1]),
        // MFA present: only the Allow matches.
        case("mfa: present allows", DENY_WITHOUT_MFA, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Allow)
            .ctx("aws:MultiFactorAuthPresent", &["true"])
            .matched(&[0]),
        // MFA false: denied.
        case("mfa: false denies", DENY_WITHOUT_MFA, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Deny)
            .ctx("aws:MultiFactorAuthPresent", &["false"]),
        // Actions listed in NotAction escape the Deny (and nothing allows them).
        case("mfa: NotAction exempts", DENY_WITHOUT_MFA, Identity, alice(), "iam:EnableMFADevice", "*", NA),
        // -- Region restriction (StringNotEquals) --
        // An allowed region: the Deny does not apply.
        case("region: inside", DENY_OUTSIDE_REGIONS, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Allow)
            .ctx("aws:RequestedRegion", &["eu-west-1"]),
        // Another region: denied.
        case("region: outside", DENY_OUTSIDE_REGIONS, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Deny)
            .ctx("aws:RequestedRegion", &["us-east-1"]),
        // Key missing: StringNotEquals evaluates to true, so denied.
        case("region: missing key", DENY_OUTSIDE_REGIONS, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Deny),
        // iam:* is excluded from the Deny by NotAction (and not allowed either).
        case("region: NotAction wildcard", DENY_OUTSIDE_REGIONS, Identity, alice(), "iam:ListUsers", "*", NA)
            .ctx("aws:RequestedRegion", &["us-east-1"]),
        // -- Dates --
        // Inside the range.
        case("date: inside", DATE_RANGE, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Allow)
            .ctx("aws:CurrentTime", &["2020-05-01T12:00:00Z"]),
        // After the range.
        case("date: after", DATE_RANGE, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", NA)
            .ctx("aws:CurrentTime", &["2020-07-01T00:00:00Z"]),
        // Both operators must hold (AND across operators): before the range fails one.
        case("date: before", DATE_RANGE, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", NA)
            .ctx("aws:CurrentTime", &["2019-12-31T00:00:00Z"]),
        // -- IP addresses --
        // Inside a listed network: NotIpAddress false, no Deny.
        case("ip: inside", DENY_BY_IP, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", NA)
            .ctx("aws:SourceIp", &["203.0.113.9"])
            .ctx("aws:ViaAWSService", &["false"]),
        // Outside: denied (both keys of the statement's conditions hold).
        case("ip: outside", DENY_BY_IP, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", Deny)
            .ctx("aws:SourceIp", &["198.51.100.1"])
            .ctx("aws:ViaAWSService", &["false"]),
        // Via an AWS service: the Bool condition fails, so the Deny does not apply.
        case("ip: via service", DENY_BY_IP, Identity, alice(), "s3:GetObject", "arn:aws:s3:::b/k", NA)
            .ctx("aws:SourceIp", &["198.51.100.1"])
            .ctx("aws:ViaAWSService", &["true"]),
        // -- Multi-valued keys --
        // ForAllValues: every sent key is allowed.
        case("tags: all allowed", TAG_KEYS, Identity, alice(), "s3:PutObjectTagging", "*", Allow)
            .ctx("aws:TagKeys", &["environment", "cost-center"]),
        // ForAllValues: one key outside the set fails.
        case("tags: one extra key", TAG_KEYS, Identity, alice(), "s3:PutObjectTagging", "*", NA)
            .ctx("aws:TagKeys", &["environment", "owner"]),
        // ForAllValues over no keys at all is vacuously true.
        case("tags: no keys", TAG_KEYS, Identity, alice(), "s3:PutObjectTagging", "*", Allow),
        // ForAnyValue: one matching key suffices.
        case("tags: any dept key", TAG_KEYS, Identity, alice(), "s3:PutBucketTagging", "*", Allow)
            .ctx("aws:TagKeys", &["owner", "dept-42"]),
        // ForAnyValue over no keys is false.
        case("tags: any over nothing", TAG_KEYS, Identity, alice(), "s3:PutBucketTagging", "*", NA),
        // -- Numbers --
        // max-keys 5 <= 10.
        case("numeric: within", MAX_KEYS, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", Allow)
            .ctx("s3:max-keys", &["5"]),
        // max-keys 1000 > 10.
        case("numeric: above", MAX_KEYS, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", NA)
            .ctx("s3:max-keys", &["1000"]),
        // A non-numeric request value never matches.
        case("numeric: garbage", MAX_KEYS, Identity, alice(), "s3:ListBucket", "arn:aws:s3:::amzn-s3-demo-bucket", NA)
            .ctx("s3:max-keys", &["ten"]),
        // -- Null and IgnoreCase --
        // Long-term keys (no aws:TokenIssueTime): Null "true" holds, Deny wins.
        case(
            "null: long-term keys denied",
            NULL_AND_IGNORE_CASE,
            Identity,
            alice(),
            "ec2:StartInstances",
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
            Deny,
        )
        .ctx("aws:ResourceTag/Owner", &["ALICE"])
        .ctx("aws:username", &["alice"])
        .matched(&[1]),
        // Temporary credentials and a tag equal ignoring case: allowed.
        case(
            "ignorecase: tag matches",
            NULL_AND_IGNORE_CASE,
            Identity,
            alice(),
            "ec2:StartInstances",
            "arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
            Allow,
        )
        .ctx("aws:ResourceTag/Owner", &["ALICE"])
        .ctx("aws:username", &["alice"])
        .ctx("aws:TokenIssueTime", &["2024-01-01T00:00:00Z"]),
        // -- NotResource --
        // Any object outside the secret bucket.
        case("notresource: elsewhere", NOT_RESOURCE, Identity, alice(), "s3:GetObject", "arn:aws:s3:::public/x", Allow),
        // The secret bucket's objects are excluded.
        case("notresource: excluded", NOT_RESOURCE, Identity, alice(), "s3:GetObject", "arn:aws:s3:::secret-bucket/x", NA),
        // -- Public read bucket policy --
        // Anonymous callers match Principal "*".
        case(
            "public: anonymous reads",
            PUBLIC_READ,
            Resource,
            anonymous(),
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/index.html",
            Allow,
        ),
        // Only reads are public.
        case(
            "public: anonymous cannot write",
            PUBLIC_READ,
            Resource,
            anonymous(),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/index.html",
            NA,
        ),
        // Principal "*" also matches an authenticated user of any account.
        case(
            "public: any account",
            PUBLIC_READ,
            Resource,
            user(C, "eve"),
            "s3:GetObjectVersion",
            "arn:aws:s3:::amzn-s3-demo-bucket/a",
            Allow,
        ),
        // -- Account principals and conditions --
        // A user of a listed account, with the required ACL header.
        case(
            "accounts: listed with acl",
            CROSS_ACCOUNT_PUT_WITH_ACL,
            Resource,
            user(B, "bob"),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/x",
            Allow,
        )
        .ctx("s3:x-amz-acl", &["bucket-owner-full-control"]),
        // Without the header the condition fails.
        case(
            "accounts: listed without acl",
            CROSS_ACCOUNT_PUT_WITH_ACL,
            Resource,
            user(B, "bob"),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/x",
            NA,
        ),
        // An account that is not listed.
        case(
            "accounts: unlisted account",
            CROSS_ACCOUNT_PUT_WITH_ACL,
            Resource,
            user(C, "eve"),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/x",
            NA,
        )
        .ctx("s3:x-amz-acl", &["bucket-owner-full-control"]),
        // An assumed-role session of a listed account is covered by the account root.
        case(
            "accounts: role session of listed account",
            CROSS_ACCOUNT_PUT_WITH_ACL,
            Resource,
            replication_role(),
            "s3:PutObjectAcl",
            "arn:aws:s3:::amzn-s3-demo-bucket/x",
            Allow,
        )
        .ctx("s3:x-amz-acl", &["bucket-owner-full-control"]),
        // Anonymous callers are not "any principal of an account".
        case(
            "accounts: anonymous not covered",
            CROSS_ACCOUNT_PUT_WITH_ACL,
            Resource,
            anonymous(),
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/x",
            NA,
        )
        .ctx("s3:x-amz-acl", &["bucket-owner-full-control"]),
        // -- Guard statements in a bucket policy --
        // TLS, right network, account A (bare 12-digit account id): allowed.
        case("guards: good request", BUCKET_GUARDS, Resource, alice(), "s3:GetObject", "arn:aws:s3:::guarded/a", Allow)
            .ctx("aws:SecureTransport", &["true"])
            .ctx("aws:SourceIp", &["192.0.2.10"])
            .matched(&[0]),
        // Plain HTTP: denied by the JSON-boolean condition.
        case("guards: http denied", BUCKET_GUARDS, Resource, alice(), "s3:GetObject", "arn:aws:s3:::guarded/a", Deny)
            .ctx("aws:SecureTransport", &["false"])
            .ctx("aws:SourceIp", &["192.0.2.10"])
            .matched(&[1]),
        // HTTP from a foreign network: both Deny statements are reported.
        case("guards: all denies reported", BUCKET_GUARDS, Resource, alice(), "s3:GetObject", "arn:aws:s3:::guarded/a", Deny)
            .ctx("aws:SecureTransport", &["false"])
            .ctx("aws:SourceIp", &["198.51.100.7"])
            .matched(&[1, 2]),
        // The secret prefix without MFA: Null "true" holds.
        case("guards: secret without mfa", BUCKET_GUARDS, Resource, alice(), "s3:GetObject", "arn:aws:s3:::guarded/secret/plan", Deny)
            .ctx("aws:SecureTransport", &["true"])
            .ctx("aws:SourceIp", &["192.0.2.10"])
            .matched(&[3]),
        // The secret prefix with MFA: allowed.
        case("guards: secret with mfa", BUCKET_GUARDS, Resource, alice(), "s3:GetObject", "arn:aws:s3:::guarded/secret/plan", Allow)
            .ctx("aws:SecureTransport", &["true"])
            .ctx("aws:SourceIp", &["192.0.2.10"])
            .ctx("aws:MultiFactorAuthAge", &["30"]),
        // -- Service principal with SourceArn / SourceAccount --
        // The logging service for the right source.
        case(
            "logging: right source",
            LOGGING_SERVICE,
            Resource,
            service("logging.s3.amazonaws.com"),
            "s3:PutObject",
            "arn:aws:s3:::log-bucket/logs/1",
            Allow,
        )
        .ctx("aws:SourceArn", &["arn:aws:s3:::source-logs"])
        .ctx("aws:SourceAccount", &["111111111111"]),
        // The logging service on behalf of another account.
        case(
            "logging: wrong account",
            LOGGING_SERVICE,
            Resource,
            service("logging.s3.amazonaws.com"),
            "s3:PutObject",
            "arn:aws:s3:::log-bucket/logs/1",
            NA,
        )
        .ctx("aws:SourceArn", &["arn:aws:s3:::source-logs"])
        .ctx("aws:SourceAccount", &["333333333333"]),
        // Another service is not the named one.
        case(
            "logging: other service",
            LOGGING_SERVICE,
            Resource,
            service("s3.amazonaws.com"),
            "s3:PutObject",
            "arn:aws:s3:::log-bucket/logs/1",
            NA,
        )
        .ctx("aws:SourceArn", &["arn:aws:s3:::source-logs"])
        .ctx("aws:SourceAccount", &["111111111111"]),
        // A user of the source account is not the service.
        case("logging: user is not service", LOGGING_SERVICE, Resource, alice(), "s3:PutObject", "arn:aws:s3:::log-bucket/logs/1", NA)
            .ctx("aws:SourceArn", &["arn:aws:s3:::source-logs"])
            .ctx("aws:SourceAccount", &["111111111111"]),
        // -- Encryption header (StringNotEquals with a missing key) --
        // SSE-KMS header present: allowed.
        case("sse: kms header", REQUIRE_SSE_KMS, Resource, alice(), "s3:PutObject", "arn:aws:s3:::enc-bucket/k", Allow)
            .ctx("s3:x-amz-server-side-encryption", &["aws:kms"]),
        // AES256: denied.
        case("sse: wrong header", REQUIRE_SSE_KMS, Resource, alice(), "s3:PutObject", "arn:aws:s3:::enc-bucket/k", Deny)
            .ctx("s3:x-amz-server-side-encryption", &["AES256"]),
        // No header: StringNotEquals is true for a missing key, so denied.
        case("sse: no header", REQUIRE_SSE_KMS, Resource, alice(), "s3:PutObject", "arn:aws:s3:::enc-bucket/k", Deny),
        // -- CanonicalUser --
        // A caller of the account with that canonical id.
        case("canonical: matches", CANONICAL_USER, Resource, user(A, "cdn"), "s3:GetObject", "arn:aws:s3:::cdn-bucket/i.png", Allow),
        // A caller of another account.
        case("canonical: other account", CANONICAL_USER, Resource, user(B, "cdn"), "s3:GetObject", "arn:aws:s3:::cdn-bucket/i.png", NA),
        // -- NotPrincipal --
        // Bob (and his account listed): not denied.
        case("notprincipal: Bob exempt", NOT_PRINCIPAL_BOB, Resource, bob_444(), "s3:GetObject", "arn:aws:s3:::BUCKETNAME/x", NA),
        // Anyone else: denied.
        case(
            "notprincipal: others denied",
            NOT_PRINCIPAL_BOB,
            Resource,
            user("444455556666", "Carol"),
            "s3:GetObject",
            "arn:aws:s3:::BUCKETNAME/x",
            Deny,
        ),
        // Anonymous: denied.
        case("notprincipal: anonymous denied", NOT_PRINCIPAL_BOB, Resource, anonymous(), "s3:GetObject", "arn:aws:s3:::BUCKETNAME/x", Deny),
        // Only Bob's ARN listed: his account is denied, so Bob is too.
        case(
            "notprincipal: account must be listed",
            NOT_PRINCIPAL_BOB_ONLY,
            Resource,
            bob_444(),
            "s3:GetObject",
            "arn:aws:s3:::BUCKETNAME/x",
            Deny,
        ),
        // The assumed-role session with session, role and account listed: exempt.
        case(
            "notprincipal: session exempt",
            NOT_PRINCIPAL_SESSION,
            Resource,
            session("444455556666", "/", "cross-account-read-only-role", "cross-account-audit-app"),
            "s3:GetObject",
            "arn:aws:s3:::Bucket_AccountAudit/x",
            NA,
        ),
        // Another session of the same role: its session ARN is not listed.
        case(
            "notprincipal: other session denied",
            NOT_PRINCIPAL_SESSION,
            Resource,
            session("444455556666", "/", "cross-account-read-only-role", "other-app"),
            "s3:GetObject",
            "arn:aws:s3:::Bucket_AccountAudit/x",
            Deny,
        ),
        // -- The guide: trust policy --
        // S3 may assume the replication role.
        case("guide trust: s3 assumes", trust.clone(), Trust, s3.clone(), "sts:AssumeRole", role_arn_a.clone(), Allow),
        // EC2 may not.
        case("guide trust: ec2 cannot", trust.clone(), Trust, service("ec2.amazonaws.com"), "sts:AssumeRole", role_arn_a.clone(), NA),
        // A user of the same account is not named.
        case("guide trust: user not named", trust.clone(), Trust, alice(), "sts:AssumeRole", role_arn_a.clone(), NA),
        // Only sts:AssumeRole is granted.
        case("guide trust: other sts action", trust, Trust, s3.clone(), "sts:TagSession", role_arn_a.clone(), NA),
        // -- The guide: role permission policy --
        // Source reads on objects.
        case(
            "guide role: GetObjectVersionForReplication",
            role_policy.clone(),
            Identity,
            replication_role(),
            "s3:GetObjectVersionForReplication",
            src_obj.clone(),
            Allow,
        )
        .matched(&[0]),
        // Bucket-level read on the source.
        case(
            "guide role: GetReplicationConfiguration",
            role_policy.clone(),
            Identity,
            replication_role(),
            "s3:GetReplicationConfiguration",
            src.clone(),
            Allow,
        ),
        // Destination writes on objects.
        case(
            "guide role: ReplicateObject on destination",
            role_policy.clone(),
            Identity,
            replication_role(),
            "s3:ReplicateObject",
            dst_obj.clone(),
            Allow,
        )
        .matched(&[1]),
        // Owner override on destination objects.
        case(
            "guide role: ObjectOwnerOverrideToBucketOwner",
            role_policy.clone(),
            Identity,
            replication_role(),
            "s3:ObjectOwnerOverrideToBucketOwner",
            dst_obj.clone(),
            Allow,
        ),
        // ReplicateObject is granted on objects, not on the bucket.
        case(
            "guide role: ReplicateObject on bucket ARN",
            role_policy.clone(),
            Identity,
            replication_role(),
            "s3:ReplicateObject",
            dst.clone(),
            NA,
        ),
        // Nothing grants deleting objects.
        case(
            "guide role: DeleteObject not granted",
            role_policy.clone(),
            Identity,
            replication_role(),
            "s3:DeleteObject",
            src_obj.clone(),
            NA,
        ),
        // -- The guide: destination bucket policy --
        // The role session (known by its role ARN with path) may replicate.
        case(
            "guide bucket: role replicates",
            bucket_policy.clone(),
            Resource,
            replication_role(),
            "s3:ReplicateObject",
            dst_obj.clone(),
            Allow,
        )
        .matched(&[0]),
        // `s3:List*` covers ListBucketVersions on the bucket.
        case("guide bucket: s3:List*", bucket_policy.clone(), Resource, replication_role(), "s3:ListBucketVersions", dst.clone(), Allow)
            .matched(&[1]),
        // Reading replicas is not granted.
        case(
            "guide bucket: GetObject not granted",
            bucket_policy.clone(),
            Resource,
            replication_role(),
            "s3:GetObject",
            dst_obj.clone(),
            NA,
        ),
        // A role of the same name without the /service-role/ path is a different role.
        case(
            "guide bucket: path is part of the ARN",
            bucket_policy.clone(),
            Resource,
            session(A, "/", ROLE_NAME, "s"),
            "s3:ReplicateObject",
            dst_obj.clone(),
            NA,
        ),
        // Another user of account A is not the role.
        case("guide bucket: other principal of A", bucket_policy, Resource, alice(), "s3:ReplicateObject", dst_obj, NA),
        // -- Trust policies --
        // Account B's users, with the external id.
        case("trust B: external id", TRUST_ACCOUNT_B_EXTERNAL_ID, Trust, user(B, "ops"), "sts:AssumeRole", role_arn_a.clone(), Allow)
            .ctx("sts:ExternalId", &["Unique-ID-12345"]),
        // Wrong external id.
        case("trust B: wrong external id", TRUST_ACCOUNT_B_EXTERNAL_ID, Trust, user(B, "ops"), "sts:AssumeRole", role_arn_a.clone(), NA)
            .ctx("sts:ExternalId", &["guess"]),
        // Account C is not trusted.
        case("trust B: other account", TRUST_ACCOUNT_B_EXTERNAL_ID, Trust, user(C, "ops"), "sts:AssumeRole", role_arn_a.clone(), NA)
            .ctx("sts:ExternalId", &["Unique-ID-12345"]),
        // S3 for the right account; SourceArn absent is fine with ArnLikeIfExists.
        case(
            "trust s3: source account, no source arn",
            TRUST_S3_CONFUSED_DEPUTY,
            Trust,
            s3.clone(),
            "sts:AssumeRole",
            role_arn_a.clone(),
            Allow,
        )
        .ctx("aws:SourceAccount", &["111111111111"]),
        // S3 with a SourceArn outside the pattern.
        case("trust s3: wrong source arn", TRUST_S3_CONFUSED_DEPUTY, Trust, s3.clone(), "sts:AssumeRole", role_arn_a.clone(), NA)
            .ctx("aws:SourceAccount", &["111111111111"])
            .ctx("aws:SourceArn", &["arn:aws:s3:::other-bucket"]),
        // Batch operations (second Service value) may set the source identity.
        case(
            "trust s3: second service value",
            TRUST_S3_CONFUSED_DEPUTY,
            Trust,
            service("batchoperations.s3.amazonaws.com"),
            "sts:SetSourceIdentity",
            role_arn_a.clone(),
            Allow,
        )
        .ctx("aws:SourceAccount", &["111111111111"])
        .ctx("aws:SourceArn", &["arn:aws:s3:::source-bucket-a"]),
        // Confused deputy: S3 acting for another account.
        case("trust s3: wrong source account", TRUST_S3_CONFUSED_DEPUTY, Trust, s3, "sts:AssumeRole", role_arn_a, NA)
            .ctx("aws:SourceAccount", &["333333333333"]),
        // Trust documents ignore Request.resource (they have no Resource element).
        case(
            "trust: resource ignored",
            TRUST_S3,
            Trust,
            service("s3.amazonaws.com"),
            "sts:AssumeRole",
            "arn:aws:iam::999999999999:role/anything",
            Allow,
        ),
    ]
}

#[test]
fn documented_examples() {
    let cases = cases();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let policy = parse(&c.doc, c.kind);
        let ctx = context(&c.ctx.iter().map(|(k, v)| (*k, v.as_slice())).collect::<Vec<_>>());
        let req = Request { principal: &c.who, action: c.action, resource: &c.resource, context: &ctx };
        let got = policy.evaluate(&req);
        if got.decision != c.expect {
            failures.push(format!("{}: expected {:?}, got {:?}", c.what, c.expect, got));
            continue;
        }
        if let Some(indices) = &c.matched {
            let got_indices: Vec<usize> = got.matched.iter().map(|m| m.index).collect();
            if &got_indices != indices {
                failures.push(format!("{}: expected statements {indices:?}, got {got_indices:?}", c.what));
            }
        }
        // Every reported statement has the decision's effect and its own Sid.
        for m in &got.matched {
            let statement = &policy.statements[m.index];
            assert_eq!(statement.sid, m.sid, "{}", c.what);
            assert_eq!(statement.effect, m.effect, "{}", c.what);
        }
        if got.decision == NA {
            assert!(got.matched.is_empty(), "{}", c.what);
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn matched_statements_carry_sids() {
    let policy = parse(BUCKET_GUARDS, Resource);
    let ctx = context(&[("aws:SecureTransport", &["false"]), ("aws:SourceIp", &["10.0.0.1"])]);
    let who = alice();
    let req = Request { principal: &who, action: "s3:PutObject", resource: "arn:aws:s3:::guarded/k", context: &ctx };
    let sids: Vec<_> = policy.evaluate(&req).matched.into_iter().map(|m| m.sid).collect();
    assert_eq!(sids, [Some("RestrictToTLSRequestsOnly".to_string()), Some("IPAllow".to_string())]);
}

#[test]
fn policy_round_trips_through_json() {
    for (doc, kind) in [
        (S3_HOME_DIRECTORY, Identity),
        (DENY_WITHOUT_MFA, Identity),
        (DENY_BY_IP, Identity),
        (BUCKET_GUARDS, Resource),
        (NOT_PRINCIPAL_SESSION, Resource),
        (TRUST_S3_CONFUSED_DEPUTY, Trust),
    ] {
        let policy = parse(doc, kind);
        let again = Policy::parse(&policy.to_json().to_string(), kind).unwrap();
        assert_eq!(policy, again);
    }
}
