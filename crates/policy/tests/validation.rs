//! Validation: what S3 and IAM reject, with which error and where.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use xrepl_policy::{find_version_problem, DocumentKind, Policy, PolicyError, PolicyErrorKind as K};

fn err(text: &str, kind: DocumentKind) -> PolicyError {
    match Policy::parse(text, kind) {
        Ok(p) => panic!("accepted: {text}\n{p:?}"),
        Err(e) => e,
    }
}

fn resource_doc(statement: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{statement}]}}"#)
}

// The guide's trust policy: EN DASHES in Version, on line 2; the column is the
// value's opening quote (`  "Version": "2012–10–17",` -> column 14).
#[test]
fn guide_trust_policy_en_dash() {
    let e = err(GUIDE_TRUST, DocumentKind::Trust);
    assert_eq!(e.kind, K::InvalidVersion);
    assert_eq!((e.line, e.column), (Some(2), Some(14)));
    assert_eq!(e.message, "\"Version\" is \"2012–10–17\": character 5 is U+2013 EN DASH, not \"-\"");
    assert_eq!(e.to_string(), "\"Version\" is \"2012–10–17\": character 5 is U+2013 EN DASH, not \"-\" (line 2, column 14)");
    assert_eq!(e.s3_message(), "The policy must contain a valid version string");
    assert_eq!(e.iam_message(), "The policy failed legacy parsing");
    // find_version_problem gives the same answer on the raw text.
    assert_eq!(find_version_problem(GUIDE_TRUST), Some(e));
}

// The guide's destination bucket policy has the same trap, also on line 2.
#[test]
fn guide_bucket_policy_en_dash() {
    let e = err(GUIDE_BUCKET_POLICY, DocumentKind::Resource);
    assert_eq!(e.kind, K::InvalidVersion);
    assert_eq!((e.line, e.column), (Some(2), Some(14)));
    assert!(e.message.contains("U+2013 EN DASH"));
    // With placeholders filled and dashes fixed, it is valid.
    let fixed = filled(GUIDE_BUCKET_POLICY);
    assert!(find_version_problem(&fixed).is_none());
    Policy::parse(&fixed, DocumentKind::Resource).unwrap();
}

// The guide's role permission policy has a proper hyphen-minus.
#[test]
fn guide_role_policy_is_valid() {
    assert!(find_version_problem(GUIDE_ROLE_POLICY).is_none());
    let p = Policy::parse(&filled(GUIDE_ROLE_POLICY), DocumentKind::Identity).unwrap();
    assert_eq!(p.statements.len(), 2);
    assert_eq!(p.version.as_deref(), Some("2012-10-17"));
}

// Columns count characters, not bytes: a multi-byte character before the value.
#[test]
fn version_column_counts_characters() {
    let text = "{\"Id\": \"é\", \"Version\": \"2012—10—17\", \"Statement\": []}";
    let e = find_version_problem(text).unwrap();
    assert_eq!((e.line, e.column), (Some(1), Some(24)));
    assert!(e.message.contains("character 5 is U+2014 EM DASH, not \"-\""), "{}", e.message);
}

// Other look-alikes are named too.
#[test]
fn version_look_alikes() {
    let cases = [
        ("2012\u{2212}10\u{2212}17", "character 5 is U+2212 MINUS SIGN, not \"-\""),
        ("2012-10-1\u{FF17}", "character 10 is U+FF17 FULLWIDTH DIGIT SEVEN, not \"7\""),
        ("\u{FEFF}2012-10-17", "character 1 is U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("2012-10-17 ", "remove the surrounding whitespace"),
        ("2012_10_17", "it must be one of \"2012-10-17\" or \"2008-10-17\""),
        ("2012-10-1\u{1D7D5}", "character 10 is U+1D7D5, which is not ASCII"),
    ];
    for (version, expected) in cases {
        let text = format!("{{\n\"Version\": \"{version}\",\n\"Statement\": []}}");
        let e = find_version_problem(&text).unwrap();
        assert_eq!(e.kind, K::InvalidVersion);
        assert_eq!((e.line, e.column), (Some(2), Some(12)), "{version}");
        assert!(e.message.contains(expected), "{version}: {}", e.message);
    }
}

// A wrong date is rejected; both valid versions and a missing Version are accepted.
#[test]
fn version_values() {
    let e = err(&resource_doc("").replace("2012-10-17", "2012-10-18"), DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidVersion);
    assert_eq!((e.line, e.column), (Some(1), Some(13)));
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    for version in ["\"2012-10-17\",", "\"2008-10-17\","] {
        let text = format!(r#"{{"Version": {version} "Statement": {stmt}}}"#);
        Policy::parse(&text, DocumentKind::Identity).unwrap();
    }
    let p = Policy::parse(&format!(r#"{{"Statement": {stmt}}}"#), DocumentKind::Identity).unwrap();
    assert_eq!(p.version, None);
    // A non-string Version.
    let e = err(&format!(r#"{{"Version": 2012, "Statement": {stmt}}}"#), DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidVersion);
    // No Version, or a valid one, is no problem for find_version_problem.
    assert!(find_version_problem(&format!(r#"{{"Statement": {stmt}}}"#)).is_none());
    // It also works when the rest of the document is broken.
    let e = find_version_problem("{\"Version\": \"2012–10–17\", \"Statement\": [ oops").unwrap();
    assert_eq!(e.column, Some(13));
}

// S3's recorded answers for empty and non-JSON bodies, and `{}`.
#[test]
fn not_an_object_and_missing_statement() {
    for text in ["", "   \n", "[]", "\"x\"", "null", "\u{FEFF}{}", "<Policy/>"] {
        let e = err(text, DocumentKind::Resource);
        assert_eq!(e.kind, K::NotAnObject, "{text:?}");
        assert_eq!(e.s3_message(), "Policies must be valid JSON and the first byte must be '{'");
        assert_eq!(e.iam_message(), "This policy contains invalid Json");
    }
    let e = err("{}", DocumentKind::Resource);
    assert_eq!(e.kind, K::MissingStatement);
    assert_eq!(e.message, "Missing required field Statement");
    assert_eq!(err(r#"{"Version": "2012-10-17", "Statement": []}"#, DocumentKind::Identity).kind, K::MissingStatement);
    assert_eq!(err(r#"{"Statement": "x"}"#, DocumentKind::Identity).kind, K::NotAnObject);
    assert_eq!(err(r#"{"Statement": [1]}"#, DocumentKind::Identity).kind, K::NotAnObject);
}

// serde_json's syntax errors keep their line and (character) column.
#[test]
fn invalid_json_positions() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}";
    let e = err(text, DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidJson);
    assert_eq!((e.line, e.column), (Some(4), Some(24)));
    assert!(e.message.starts_with("Policies must be valid JSON: trailing comma"), "{}", e.message);
    assert!(e.to_string().ends_with("(line 4, column 24)"));
    // A multi-byte character before the error: column in characters.
    let e = err("{\"Id\": \"ü\" \"x\"}", DocumentKind::Identity);
    assert_eq!((e.line, e.column), (Some(1), Some(12)));
    // Trailing garbage after the document.
    assert_eq!(err("{\"Statement\": []} x", DocumentKind::Identity).kind, K::InvalidJson);
    // Unterminated.
    let e = err("{\"Statement\": [", DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidJson);
    assert!(e.line.is_some());
}

// Unknown elements at the top level and in statements.
#[test]
fn unknown_elements() {
    let e = err(r#"{"Version": "2012-10-17", "Statment": []}"#, DocumentKind::Identity);
    assert_eq!(e.kind, K::UnknownElement);
    assert_eq!(e.message, "Unknown field Statment");
    assert_eq!(e.column, Some(39));
    let e = err(&resource_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principals": "*"}"#), DocumentKind::Identity);
    assert_eq!(e.kind, K::UnknownElement);
    assert_eq!(e.message, "Unknown field Principals");
}

// Effect is required and case-sensitive.
#[test]
fn effects() {
    let e = err(&resource_doc(r#"{"Effect": "allow", "Action": "s3:*", "Resource": "*"}"#), DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidEffect);
    assert_eq!(e.message, "Invalid effect: allow");
    assert_eq!(e.column, Some(52));
    let e = err(&resource_doc(r#"{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}"#), DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidEffect);
    let e = err(&resource_doc(r#"{"Effect": true, "Action": "s3:*", "Resource": "*"}"#), DocumentKind::Identity);
    assert_eq!(e.kind, K::InvalidEffect);
    let e = err(&resource_doc(r#"{"Action": "s3:*", "Resource": "*"}"#), DocumentKind::Identity);
    assert_eq!(e.kind, K::MissingEffect);
    // Points at the statement.
    assert_eq!(e.column, Some(41));
}

// Principal is forbidden in identity policies and required in bucket and trust policies.
#[test]
fn principal_presence() {
    let with = resource_doc(r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#);
    let e = err(&with, DocumentKind::Identity);
    assert_eq!(e.kind, K::PrincipalNotAllowed);
    assert_eq!(e.message, "Policy document should not specify a principal.");
    let not_with = with.replace("\"Principal\"", "\"NotPrincipal\"");
    assert_eq!(err(&not_with, DocumentKind::Identity).kind, K::PrincipalNotAllowed);

    let without = resource_doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#);
    let e = err(&without, DocumentKind::Resource);
    assert_eq!(e.kind, K::MissingPrincipal);
    assert_eq!(e.message, "Missing required field Principal");
    let trust = resource_doc(r#"{"Effect": "Allow", "Action": "sts:AssumeRole"}"#);
    assert_eq!(err(&trust, DocumentKind::Trust).kind, K::MissingPrincipal);
    let both = resource_doc(r#"{"Effect": "Deny", "Principal": "*", "NotPrincipal": "*", "Action": "s3:*", "Resource": "*"}"#);
    assert_eq!(err(&both, DocumentKind::Resource).kind, K::InvalidPrincipal);
}

// Invalid principal values, each with AWS's message and the exact position.
#[test]
fn invalid_principals() {
    let bad = [
        r#""arn:aws:iam::111111111111:root""#,
        r#"{"AWS": "arn:aws:iam::12:role/x"}"#,
        r#"{"AWS": "garbage"}"#,
        r#"{"AWS": "arn:aws:iam::111111111111:role/*"}"#,
        r#"{"AWS": "arn:aws:iam::*:root"}"#,
        r#"{"AWS": "arn:aws:iam::111111111111:group/admins"}"#,
        r#"{"AWS": "arn:aws:s3:::bucket"}"#,
        r#"{"AWS": "11111111111"}"#,
        r#"{"AWS": []}"#,
        r#"{"AWS": ["111111111111", 5]}"#,
        r#"{"Aws": "111111111111"}"#,
        r#"{"Service": "*"}"#,
        r#"{"CanonicalUser": "abc"}"#,
        r#"{}"#,
        r#"5"#,
    ];
    for principal in bad {
        let text = resource_doc(&format!(r#"{{"Effect": "Allow", "Principal": {principal}, "Action": "s3:*", "Resource": "*"}}"#));
        let e = err(&text, DocumentKind::Resource);
        assert_eq!(e.kind, K::InvalidPrincipal, "{principal}");
        assert!(e.message.starts_with("Invalid principal in policy"), "{}", e.message);
        assert_eq!(e.s3_message(), "Invalid principal in policy");
        assert!(e.line.is_some(), "{principal}");
    }
    let text = "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\",\n  \"Principal\": {\"AWS\": [\"111111111111\",\n    \"arn:aws:iam::12:role/x\"]}}}";
    let e = err(text, DocumentKind::Resource);
    assert_eq!(e.message, "Invalid principal in policy: \"AWS\":\"arn:aws:iam::12:role/x\"");
    assert_eq!((e.line, e.column), (Some(3), Some(5)));

    let good = [
        r#""*""#,
        r#"{"AWS": "*"}"#,
        r#"{"AWS": "111111111111"}"#,
        r#"{"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::111111111111:user/division/alice"]}"#,
        r#"{"AWS": "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_source_bucket"}"#,
        r#"{"AWS": "arn:aws:sts::111111111111:assumed-role/r/session"}"#,
        r#"{"AWS": "arn:aws-cn:iam::111111111111:root"}"#,
        r#"{"AWS": "AROAEXAMPLEID1234567"}"#,
        r#"{"Service": ["s3.amazonaws.com", "batchoperations.s3.amazonaws.com"]}"#,
        r#"{"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}"#,
        r#"{"Federated": "arn:aws:iam::111111111111:saml-provider/idp"}"#,
    ];
    for principal in good {
        let text = resource_doc(&format!(r#"{{"Effect": "Allow", "Principal": {principal}, "Action": "s3:*", "Resource": "*"}}"#));
        Policy::parse(&text, DocumentKind::Resource).unwrap_or_else(|e| panic!("{principal}: {e}"));
    }
}

// Action and Resource: presence, exclusivity and format.
#[test]
fn actions_and_resources() {
    let doc = |s: &str| resource_doc(s);
    let cases = [
        (r#"{"Effect": "Allow", "Resource": "*"}"#, K::MissingAction),
        (r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#, K::MissingAction),
        (r#"{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}"#, K::InvalidAction),
        (r#"{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}"#, K::InvalidAction),
        (r#"{"Effect": "Allow", "Action": "s3:", "Resource": "*"}"#, K::InvalidAction),
        (r#"{"Effect": "Allow", "Action": ["s3:GetObject", 3], "Resource": "*"}"#, K::InvalidAction),
        (r#"{"Effect": "Allow", "Action": "s3:*"}"#, K::MissingResource),
        (r#"{"Effect": "Allow", "Action": "s3:*", "Resource": []}"#, K::MissingResource),
        (r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "bucket/key"}"#, K::InvalidResource),
        (r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}"#, K::InvalidResource),
        (r#"{"Effect": "Allow", "Action": "s3:*", "Resource": {"arn": "x"}}"#, K::InvalidResource),
    ];
    for (statement, kind) in cases {
        assert_eq!(err(&doc(statement), DocumentKind::Identity).kind, kind, "{statement}");
    }
    let e = err(&doc(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": ["*", "bucket"]}"#), DocumentKind::Identity);
    assert_eq!(e.message, "Policy has invalid resource: \"bucket\"");
    assert_eq!(e.s3_message(), "Policy has invalid resource");
    assert_eq!(e.column, Some(97));
}

// Trust policies: no Resource, sts actions only.
#[test]
fn trust_documents() {
    let resource =
        resource_doc(r#"{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}"#);
    let e = err(&resource, DocumentKind::Trust);
    assert_eq!(e.kind, K::InvalidResource);
    assert_eq!(e.message, "Has prohibited field Resource");
    let action = resource_doc(r#"{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "s3:GetObject"}"#);
    assert_eq!(err(&action, DocumentKind::Trust).kind, K::InvalidAction);
    let ok = resource_doc(
        r#"{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": ["sts:AssumeRole", "STS:TagSession"]}"#,
    );
    Policy::parse(&ok, DocumentKind::Trust).unwrap();
}

// Conditions: unknown operators and values an operator cannot compare.
#[test]
fn conditions() {
    let with =
        |condition: &str| resource_doc(&format!(r#"{{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {condition}}}"#));
    let bad = [
        r#"{"StringEqualz": {"aws:username": "a"}}"#,
        r#"{"stringequals": {"aws:username": "a"}}"#,
        r#"{"NullIfExists": {"aws:username": "true"}}"#,
        r#"{"ForAnyValues:StringEquals": {"aws:TagKeys": "a"}}"#,
        r#"{"StringEquals": "aws:username"}"#,
        r#"{"StringEquals": {"aws:username": {"a": 1}}}"#,
        r#"{"StringEquals": {"": "a"}}"#,
        r#"{"NumericLessThan": {"s3:max-keys": "ten"}}"#,
        r#"{"DateLessThan": {"aws:CurrentTime": "tomorrow"}}"#,
        r#"{"IpAddress": {"aws:SourceIp": "10.0.0.0/40"}}"#,
        r#"{"Bool": {"aws:SecureTransport": "yes"}}"#,
        r#"{"Null": {"aws:TokenIssueTime": "maybe"}}"#,
        r#"["StringEquals"]"#,
    ];
    for condition in bad {
        let e = err(&with(condition), DocumentKind::Identity);
        assert_eq!(e.kind, K::InvalidCondition, "{condition}");
        assert!(e.line.is_some());
    }
    let good = [
        r#"{"StringEqualsIfExists": {"aws:username": ["a", "b"]}}"#,
        r#"{"ForAllValues:StringLikeIfExists": {"aws:TagKeys": "env*"}}"#,
        r#"{"Bool": {"aws:SecureTransport": false}, "NumericGreaterThan": {"s3:max-keys": 5}}"#,
        r#"{"DateGreaterThan": {"aws:EpochTime": "1577836800"}}"#,
        r#"{"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32", "203.0.113.7"]}}"#,
        r#"{"NumericLessThan": {"s3:max-keys": "${aws:username}"}}"#,
        r#"{"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#,
        r#"{}"#,
    ];
    for condition in good {
        Policy::parse(&with(condition), DocumentKind::Identity).unwrap_or_else(|e| panic!("{condition}: {e}"));
    }
}

// Display adds the position only when it is known.
#[test]
fn display() {
    let e = err("{}", DocumentKind::Resource);
    assert_eq!(e.to_string(), "Missing required field Statement");
    assert_eq!((e.line, e.column), (None, None));
}

// Duplicate keys: the last one wins, as in serde_json (and AWS does not reject them).
#[test]
fn duplicate_keys_last_wins() {
    let text = resource_doc(r#"{"Effect": "Deny", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#);
    let p = Policy::parse(&text, DocumentKind::Identity).unwrap();
    assert_eq!(p.statements[0].effect, xrepl_policy::Effect::Allow);
    let text = resource_doc(r#"{"Effect": "Allow", "Effect": "allow", "Action": "s3:*", "Resource": "*"}"#);
    let e = err(&text, DocumentKind::Identity);
    // Points at the second, effective, Effect.
    assert_eq!(e.column, Some(71));
}

// Deeply nested input is an error, not a stack overflow.
#[test]
fn deep_nesting_is_an_error() {
    let deep = format!("{{\"Statement\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(err(&deep, DocumentKind::Identity).kind, K::InvalidJson);
    let deep = format!("{{\"Version\": \"x\", \"Id\": {}", "[".repeat(100_000));
    assert_eq!(err(&deep, DocumentKind::Identity).kind, K::InvalidJson);
    assert!(find_version_problem(&deep).is_some());
}
