//! Properties over generated policies and requests. Policies are drawn from small
//! pools of actions, resources, principals and conditions so that statements
//! actually match the generated requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use xrepl_policy::{authorize, find_version_problem, Context, Decision, DocumentKind, Evaluation, Policy, PrincipalInfo, Request};

const ACTIONS: &[&str] =
    &["s3:GetObject", "s3:Get*", "s3:PutObject", "s3:*", "*", "s3:ReplicateObject", "s3:List*", "s3:?etObject", "S3:GETOBJECT"];
const REQUEST_ACTIONS: &[&str] = &["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:ReplicateObject", "s3:DeleteObject"];
const RESOURCES: &[&str] =
    &["*", "arn:aws:s3:::b", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k?y", "arn:aws:s3:::other/*", "arn:aws:s3:::b/${aws:username}/*"];
const REQUEST_RESOURCES: &[&str] = &["arn:aws:s3:::b", "arn:aws:s3:::b/key", "arn:aws:s3:::b/alice/x", "arn:aws:s3:::other/k"];

fn principal_pool() -> Vec<Value> {
    vec![
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": A}),
        json!({"AWS": format!("arn:aws:iam::{A}:root")}),
        json!({"AWS": format!("arn:aws:iam::{A}:user/alice")}),
        json!({"AWS": role_arn(A)}),
        json!({"AWS": [format!("arn:aws:iam::{B}:root"), format!("arn:aws:iam::{B}:user/bob")]}),
        json!({"Service": "s3.amazonaws.com"}),
        json!({"CanonicalUser": CANONICAL_A}),
    ]
}

fn condition_pool() -> Vec<Value> {
    vec![
        json!({"StringEquals": {"aws:username": "alice"}}),
        json!({"StringNotEquals": {"aws:username": ["alice", "bob"]}}),
        json!({"StringLikeIfExists": {"s3:prefix": "home/*"}}),
        json!({"Bool": {"aws:SecureTransport": "false"}}),
        json!({"BoolIfExists": {"aws:SecureTransport": "true"}}),
        json!({"Null": {"s3:prefix": "true"}}),
        json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}),
        json!({"ForAnyValue:StringLike": {"aws:TagKeys": "a*"}}),
        json!({"NumericLessThan": {"s3:max-keys": "10"}}),
        json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::b*"}}),
    ]
}

fn callers() -> Vec<PrincipalInfo> {
    vec![user(A, "alice"), user(B, "bob"), user(C, "eve"), root(A), replication_role(), service("s3.amazonaws.com"), anonymous()]
}

fn contexts() -> Vec<Context> {
    vec![
        context(&[]),
        context(&[("aws:username", &["alice"]), ("aws:SecureTransport", &["true"])]),
        context(&[("aws:username", &["bob"]), ("aws:SecureTransport", &["false"]), ("s3:prefix", &["home/x"])]),
        context(&[("aws:TagKeys", &["a", "c"]), ("s3:max-keys", &["5"]), ("aws:SourceArn", &["arn:aws:s3:::b"])]),
        context(&[("aws:TagKeys", &["a"]), ("s3:max-keys", &["50"]), ("s3:prefix", &["other"])]),
    ]
}

/// A string or array of strings from a pool.
fn values(pool: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![prop::sample::select(pool).prop_map(|v| json!(v)), prop::sample::subsequence(pool, 1..=3).prop_map(|v| json!(v)),]
}

fn statement(kind: DocumentKind) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::option::of(0u8..100),
        (any::<bool>(), values(ACTIONS)),
        (any::<bool>(), values(RESOURCES)),
        (any::<bool>(), prop::sample::select(principal_pool())),
        prop::collection::vec(prop::sample::select(condition_pool()), 0..=2),
    )
        .prop_map(move |(allow, sid, (not_action, action), (not_resource, resource), (not_principal, principal), conditions)| {
            let mut s = serde_json::Map::new();
            if let Some(sid) = sid {
                s.insert("Sid".into(), json!(format!("S{sid}")));
            }
            s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            if kind == DocumentKind::Resource {
                let key = if not_principal { "NotPrincipal" } else { "Principal" };
                s.insert(key.into(), principal);
            }
            s.insert((if not_action { "NotAction" } else { "Action" }).into(), action);
            s.insert((if not_resource { "NotResource" } else { "Resource" }).into(), resource);
            let mut condition = serde_json::Map::new();
            for c in conditions {
                if let Value::Object(c) = c {
                    condition.extend(c);
                }
            }
            if !condition.is_empty() {
                s.insert("Condition".into(), Value::Object(condition));
            }
            Value::Object(s)
        })
}

fn document(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn kind() -> impl Strategy<Value = DocumentKind> {
    prop_oneof![Just(DocumentKind::Identity), Just(DocumentKind::Resource)]
}

/// A document kind with 1..6 statements of that kind (an empty list is invalid).
fn statements() -> impl Strategy<Value = (DocumentKind, Vec<Value>)> {
    kind().prop_flat_map(|k| (Just(k), prop::collection::vec(statement(k), 1..6)))
}

#[derive(Debug, Clone)]
struct Req {
    caller: usize,
    action: &'static str,
    resource: &'static str,
    context: usize,
}

fn request() -> impl Strategy<Value = Req> {
    (0..callers().len(), prop::sample::select(REQUEST_ACTIONS), prop::sample::select(REQUEST_RESOURCES), 0..contexts().len())
        .prop_map(|(caller, action, resource, context)| Req { caller, action, resource, context })
}

fn evaluate(policy: &Policy, req: &Req) -> Evaluation {
    let callers = callers();
    let contexts = contexts();
    let r = Request { principal: &callers[req.caller], action: req.action, resource: req.resource, context: &contexts[req.context] };
    policy.evaluate(&r)
}

/// Arbitrary JSON, biased towards the names the parser looks for.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "Version",
        "Id",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "AWS",
        "Service",
        "CanonicalUser",
        "StringEquals",
        "ForAnyValue:StringLike",
        "NullIfExists",
        "aws:username",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "2012-10-17",
            "2012–10–17",
            "Allow",
            "Deny",
            "*",
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            "111111111111",
            "arn:aws:iam::111111111111:root",
            "true",
            "10.0.0.0/8",
            "",
            "${aws:username}",
            "é",
        ])
        .prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
    "Null",
];

const KINDS: [DocumentKind; 3] = [DocumentKind::Identity, DocumentKind::Resource, DocumentKind::Trust];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // (1) parse and find_version_problem never panic on arbitrary text...
    #[test]
    fn parse_never_panics_on_strings(text in ".{0,200}") {
        for kind in KINDS {
            let _ = Policy::parse(&text, kind);
        }
        let _ = find_version_problem(&text);
    }

    // ...on JSON-like text with stray characters...
    #[test]
    fn parse_never_panics_on_json_like_text(text in r#"[{}\[\]":,\\ a-zA-Z0-9*é–\n-]{0,120}"#) {
        for kind in KINDS {
            let _ = Policy::parse(&text, kind);
        }
        let _ = find_version_problem(&text);
    }

    // ...and on arbitrary JSON values; whatever parses renders and parses again.
    #[test]
    fn parse_never_panics_on_json_values(value in arbitrary_json()) {
        let text = serde_json::to_string_pretty(&value).unwrap();
        for kind in KINDS {
            if let Ok(policy) = Policy::parse(&text, kind) {
                let again = Policy::parse(&policy.to_json().to_string(), kind);
                prop_assert_eq!(Ok(policy), again);
            }
        }
        let _ = find_version_problem(&text);
    }

    // Conditions with arbitrary operators, policy values and request values never
    // panic, whether they parse or not.
    #[test]
    fn conditions_never_panic(
        operator in prop::sample::select(OPERATORS),
        prefix in prop::sample::select(vec!["", "ForAnyValue:", "ForAllValues:"]),
        suffix in prop::sample::select(vec!["", "IfExists"]),
        policy_values in prop::collection::vec(
            prop_oneof![".{0,24}", "[0-9:TZ+.-]{0,30}", "[0-9./:a-f]{0,20}", Just("${aws:username}".to_string())],
            1..4,
        ),
        request_values in prop::collection::vec(
            prop_oneof![".{0,24}", "[0-9:TZ+.-]{0,30}", "[0-9./:a-f]{0,20}"],
            0..4,
        ),
        username in ".{0,8}",
    ) {
        let name = format!("{prefix}{operator}{suffix}");
        let text = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {name: {"k": policy_values}}}}).to_string();
        if let Ok(policy) = Policy::parse(&text, DocumentKind::Identity) {
            let mut ctx = Context::new();
            ctx.insert_many("k", request_values);
            ctx.insert("aws:username", username);
            let who = user(A, "alice");
            let req = Request { principal: &who, action: "s3:GetObject", resource: "arn:aws:s3:::b/k", context: &ctx };
            let _ = policy.evaluate(&req);
        }
    }

    // (2) Adding a Deny statement never widens access: what was not allowed stays
    // not allowed, what was denied stays denied.
    #[test]
    fn adding_deny_never_widens(
        (kind, mut statements, deny, at) in statements().prop_flat_map(|(k, s)| {
            (Just(k), Just(s), statement(k), any::<prop::sample::Index>())
        }),
        req in request(),
    ) {
        let before = Policy::parse(&document(&statements), kind).unwrap();
        let mut deny = deny;
        if let Value::Object(map) = &mut deny {
            map.insert("Effect".into(), json!("Deny"));
        }
        statements.insert(at.index(statements.len() + 1), deny);
        let after = Policy::parse(&document(&statements), kind).unwrap();
        let (b, a) = (evaluate(&before, &req).decision, evaluate(&after, &req).decision);
        if b != Decision::Allow {
            prop_assert_ne!(a, Decision::Allow);
        }
        if b == Decision::Deny {
            prop_assert_eq!(a, Decision::Deny);
        }
        // Through authorize() as well, on either side and either account relation.
        let callers = callers();
        let contexts = contexts();
        let r = Request { principal: &callers[req.caller], action: req.action, resource: req.resource, context: &contexts[req.context] };
        for same_account in [true, false] {
            let (was, now) = if kind == DocumentKind::Identity {
                (authorize(&[&before], None, &r, same_account, false, true), authorize(&[&after], None, &r, same_account, false, true))
            } else {
                (authorize(&[], Some(&before), &r, same_account, true, false), authorize(&[], Some(&after), &r, same_account, true, false))
            };
            prop_assert!(was.is_allowed() || !now.is_allowed(), "{:?} -> {:?}", was, now);
        }
    }

    // (3) Statement order never changes the decision, nor which statements matched.
    #[test]
    fn order_does_not_matter(
        (kind, statements, order) in statements().prop_flat_map(|(k, s)| {
            let n = s.len();
            (Just(k), Just(s), Just((0..n).collect::<Vec<usize>>()).prop_shuffle())
        }),
        req in request(),
    ) {
        let policy = Policy::parse(&document(&statements), kind).unwrap();
        let shuffled: Vec<Value> = order.iter().map(|&i| statements[i].clone()).collect();
        let shuffled_policy = Policy::parse(&document(&shuffled), kind).unwrap();
        let a = evaluate(&policy, &req);
        let b = evaluate(&shuffled_policy, &req);
        prop_assert_eq!(&a.decision, &b.decision);
        let mut a_matched: Vec<usize> = a.matched.iter().map(|m| m.index).collect();
        let mut b_matched: Vec<usize> = b.matched.iter().map(|m| order[m.index]).collect();
        a_matched.sort_unstable();
        b_matched.sort_unstable();
        prop_assert_eq!(a_matched, b_matched);
    }

    // (4) to_json -> parse gives an equal policy and equal evaluations.
    #[test]
    fn json_round_trip((kind, statements) in statements(), reqs in prop::collection::vec(request(), 1..8)) {
        let policy = Policy::parse(&document(&statements), kind).unwrap();
        let again = Policy::parse(&serde_json::to_string_pretty(&policy.to_json()).unwrap(), kind).unwrap();
        prop_assert_eq!(&policy, &again);
        for req in &reqs {
            prop_assert_eq!(evaluate(&policy, req), evaluate(&again, req));
        }
    }
}

// The pools are small enough that generated statements really match generated
// requests: every decision occurs often, so the properties above are not vacuous.
#[test]
fn generators_produce_every_decision() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (statements(), request());
    let mut counts = std::collections::HashMap::new();
    for _ in 0..1000 {
        let ((kind, statements), req) = strategy.new_tree(&mut runner).unwrap().current();
        let policy = Policy::parse(&document(&statements), kind).unwrap();
        *counts.entry(evaluate(&policy, &req).decision).or_insert(0) += 1;
    }
    for decision in [Decision::Allow, Decision::Deny, Decision::NotApplicable] {
        let n = counts.get(&decision).copied().unwrap_or(0);
        assert!(n >= 100, "{decision:?} only {n} times in 1000: {counts:?}");
    }
}
