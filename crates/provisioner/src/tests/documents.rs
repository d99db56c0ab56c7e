use serde_json::{json, Value};

use super::{fixture, fixture_specs, load, minimal, parse, scratch_dir};
use crate::aws::replication_from_json;
use crate::documents::{merge_bucket_policy, Documents};
use crate::lint::{lint_policy_text, PolicyKind};
use crate::Spec;

const ROLE: &str = "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_xrepl-guide-source";

#[test]
fn guide_spec_documents_are_exactly_these() {
    let docs = Documents::for_spec(&load("guide/spec.toml"));
    assert_eq!(
        docs.trust_policy,
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}
            }]
        })
    );
    assert_eq!(
        docs.role_policy,
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "SourceBucket", "Effect": "Allow",
                 "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                 "Resource": ["arn:aws:s3:::xrepl-guide-source"]},
                {"Sid": "SourceObjects", "Effect": "Allow",
                 "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                            "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"],
                 "Resource": ["arn:aws:s3:::xrepl-guide-source/*"]},
                {"Sid": "ReplicateToDestination", "Effect": "Allow",
                 "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
                            "s3:ObjectOwnerOverrideToBucketOwner"],
                 "Resource": ["arn:aws:s3:::xrepl-guide-destination/*"]}
            ]
        })
    );
    assert_eq!(
        docs.bucket_policy,
        Some(json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "XreplReplicaObjects", "Effect": "Allow", "Principal": {"AWS": ROLE},
                 "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
                            "s3:ObjectOwnerOverrideToBucketOwner"],
                 "Resource": "arn:aws:s3:::xrepl-guide-destination/*"},
                {"Sid": "XreplReplicaBucket", "Effect": "Allow", "Principal": {"AWS": ROLE},
                 "Action": ["s3:List*", "s3:GetBucketVersioning"],
                 "Resource": "arn:aws:s3:::xrepl-guide-destination"}
            ]
        }))
    );
    // The replication configuration is the put-bucket-replication document, in AWS's key order.
    assert_eq!(
        docs.replication.to_string(),
        concat!(
            r#"{"Role":"arn:aws:iam::111111111111:role/service-role/s3crr_role_for_xrepl-guide-source","#,
            r#""Rules":[{"ID":"guide-replicate-everything","Priority":1,"Status":"Enabled","Filter":{},"#,
            r#""DeleteMarkerReplication":{"Status":"Enabled"},"#,
            r#""Destination":{"Bucket":"arn:aws:s3:::xrepl-guide-destination","Account":"222222222222","#,
            r#""AccessControlTranslation":{"Owner":"Destination"}}}]}"#
        )
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(fixture("guide/replication.json")).expect("read")).expect("json");
    assert_eq!(docs.replication, file);
    assert_eq!(docs.kms_key_policy_statement, None);
}

/// A spec with every option off, plus `rule` lines.
fn with_rule(rule: &str) -> Spec {
    let default_owner = if rule.contains("owner_override") { "" } else { "owner_override = false\n" };
    parse(&minimal(&format!("\n[[rules]]\nid = \"r\"\n{default_owner}{rule}\n")))
}

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .and_then(|s| s.iter().find(|st| st["Sid"] == sid))
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"))
}

fn sids(policy: &Value) -> Vec<String> {
    policy["Statement"].as_array().map(|s| s.iter().filter_map(|st| st["Sid"].as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn actions(policy: &Value, sid: &str) -> Vec<String> {
    crate::policy_check::strings(&statement(policy, sid)["Action"])
}

fn added(base: &[String], more: &[String]) -> Vec<String> {
    more.iter().filter(|a| !base.contains(a)).cloned().collect()
}

fn removed(base: &[String], more: &[String]) -> Vec<String> {
    base.iter().filter(|a| !more.contains(a)).cloned().collect()
}

fn rule0(docs: &Documents) -> &Value {
    &docs.replication["Rules"][0]
}

#[test]
fn the_bare_minimum_grants_only_replicate_object_and_tags() {
    let docs = Documents::for_spec(&with_rule(""));
    assert_eq!(sids(&docs.role_policy), ["SourceBucket", "SourceObjects", "ReplicateToDestination"]);
    assert_eq!(actions(&docs.role_policy, "ReplicateToDestination"), ["s3:ReplicateObject", "s3:ReplicateTags"]);
    let bucket = docs.bucket_policy.clone().expect("bucket policy");
    assert_eq!(actions(&bucket, "XreplReplicaObjects"), ["s3:ReplicateObject", "s3:ReplicateTags"]);
    assert_eq!(rule0(&docs)["DeleteMarkerReplication"], json!({"Status": "Disabled"}));
    assert_eq!(rule0(&docs)["Destination"], json!({"Bucket": "arn:aws:s3:::dst-bucket", "Account": "222222222222"}));
    assert_eq!(rule0(&docs)["Filter"], json!({}));
    assert!(rule0(&docs).get("SourceSelectionCriteria").is_none());
}

#[test]
fn each_option_adds_exactly_its_permissions() {
    let base = Documents::for_spec(&with_rule(""));
    let base_role = actions(&base.role_policy, "ReplicateToDestination");
    let base_bucket_policy = base.bucket_policy.clone().expect("policy");
    let base_bucket = actions(&base_bucket_policy, "XreplReplicaObjects");

    let cases: [(&str, &[&str]); 2] = [
        ("delete_marker_replication = true", &["s3:ReplicateDelete"]),
        ("owner_override = true", &["s3:ObjectOwnerOverrideToBucketOwner"]),
    ];
    for (option, expected) in cases {
        let docs = Documents::for_spec(&with_rule(option));
        let role = actions(&docs.role_policy, "ReplicateToDestination");
        let bucket_policy = docs.bucket_policy.clone().expect("policy");
        let bucket = actions(&bucket_policy, "XreplReplicaObjects");
        assert_eq!(added(&base_role, &role), expected, "{option}: role policy");
        assert!(removed(&base_role, &role).is_empty(), "{option}");
        assert_eq!(added(&base_bucket, &bucket), expected, "{option}: bucket policy");
        assert_eq!(sids(&docs.role_policy), sids(&base.role_policy), "{option}: no new statements");
        assert_eq!(actions(&docs.role_policy, "SourceObjects"), actions(&base.role_policy, "SourceObjects"));
        assert_eq!(docs.trust_policy, base.trust_policy, "{option}");
        assert_eq!(actions(&bucket_policy, "XreplReplicaBucket"), actions(&base_bucket_policy, "XreplReplicaBucket"));
    }
    let dmr = Documents::for_spec(&with_rule("delete_marker_replication = true"));
    assert_eq!(rule0(&dmr)["DeleteMarkerReplication"], json!({"Status": "Enabled"}));
    let over = Documents::for_spec(&with_rule("owner_override = true"));
    assert_eq!(rule0(&over)["Destination"]["AccessControlTranslation"], json!({"Owner": "Destination"}));
    assert_eq!(rule0(&over)["Destination"]["Account"], "222222222222");
}

#[test]
fn kms_adds_exactly_the_two_kms_statements_and_the_rule_settings() {
    let base = Documents::for_spec(&with_rule(""));
    let docs = Documents::for_spec(&with_rule(
        "replicate_kms_objects = true\nreplica_kms_key_id = \"arn:aws:kms:us-east-1:222222222222:key/r\"\nsource_kms_key_arn = \"arn:aws:kms:us-east-1:111111111111:key/s\"",
    ));
    assert_eq!(added(&sids(&base.role_policy), &sids(&docs.role_policy)), ["DecryptSourceObjects", "EncryptReplicas"]);
    assert_eq!(
        statement(&docs.role_policy, "DecryptSourceObjects"),
        &json!({
            "Sid": "DecryptSourceObjects", "Effect": "Allow", "Action": ["kms:Decrypt"],
            "Resource": ["arn:aws:kms:us-east-1:111111111111:key/s"],
            "Condition": {"StringLike": {
                "kms:ViaService": "s3.us-east-1.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::src-bucket/*"]
            }}
        })
    );
    assert_eq!(
        statement(&docs.role_policy, "EncryptReplicas"),
        &json!({
            "Sid": "EncryptReplicas", "Effect": "Allow", "Action": ["kms:Encrypt"],
            "Resource": ["arn:aws:kms:us-east-1:222222222222:key/r"],
            "Condition": {"StringLike": {
                "kms:ViaService": "s3.us-east-1.amazonaws.com",
                "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::dst-bucket/*"]
            }}
        })
    );
    assert_eq!(rule0(&docs)["SourceSelectionCriteria"], json!({"SseKmsEncryptedObjects": {"Status": "Enabled"}}));
    assert_eq!(
        rule0(&docs)["Destination"]["EncryptionConfiguration"],
        json!({"ReplicaKmsKeyID": "arn:aws:kms:us-east-1:222222222222:key/r"})
    );
    assert_eq!(docs.bucket_policy, base.bucket_policy, "KMS needs nothing in the bucket policy");
    let key_stmt = docs.kms_key_policy_statement.expect("key policy statement");
    assert_eq!(key_stmt["Principal"]["AWS"], "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_src-bucket");
    assert_eq!(key_stmt["Action"], json!(["kms:Encrypt"]));

    // Without a named source key: any key of the source account in its region.
    let docs =
        Documents::for_spec(&with_rule("replicate_kms_objects = true\nreplica_kms_key_id = \"arn:aws:kms:us-east-1:222222222222:key/r\""));
    assert_eq!(statement(&docs.role_policy, "DecryptSourceObjects")["Resource"], json!(["arn:aws:kms:us-east-1:111111111111:key/*"]));
}

#[test]
fn storage_class_replication_time_and_metrics_touch_only_the_destination() {
    let base = Documents::for_spec(&with_rule(""));
    let sc = Documents::for_spec(&with_rule("storage_class = \"STANDARD_IA\""));
    assert_eq!(rule0(&sc)["Destination"]["StorageClass"], "STANDARD_IA");
    assert_eq!(sc.role_policy, base.role_policy);
    assert_eq!(sc.bucket_policy, base.bucket_policy);

    let rtc = Documents::for_spec(&with_rule("replication_time = true"));
    assert_eq!(rule0(&rtc)["Destination"]["ReplicationTime"], json!({"Status": "Enabled", "Time": {"Minutes": 15}}));
    assert_eq!(rule0(&rtc)["Destination"]["Metrics"], json!({"Status": "Enabled", "EventThreshold": {"Minutes": 15}}));
    let metrics = Documents::for_spec(&with_rule("metrics = true"));
    assert_eq!(rule0(&metrics)["Destination"]["Metrics"], json!({"Status": "Enabled"}));
    assert!(rule0(&metrics)["Destination"].get("ReplicationTime").is_none());
    assert_eq!(rtc.role_policy, base.role_policy);
}

#[test]
fn filters_take_aws_shapes() {
    let f = |rule: &str| rule0(&Documents::for_spec(&with_rule(rule)))["Filter"].clone();
    assert_eq!(f("prefix = \"logs/\""), json!({"Prefix": "logs/"}));
    assert_eq!(f("prefix = \"\""), json!({}));
    assert_eq!(f("tags = { a = \"1\" }"), json!({"Tag": {"Key": "a", "Value": "1"}}));
    assert_eq!(f("prefix = \"p/\"\ntags = { a = \"1\" }"), json!({"And": {"Prefix": "p/", "Tags": [{"Key": "a", "Value": "1"}]}}));
    assert_eq!(f("tags = { a = \"1\", b = \"2\" }"), json!({"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}));
    assert_eq!(rule0(&Documents::for_spec(&with_rule("enabled = false")))["Status"], "Disabled");
}

#[test]
fn overrides_break_exactly_what_they_say() {
    let docs = Documents::for_spec(&load("broken/role-trusts-ec2.toml"));
    assert_eq!(docs.trust_policy["Statement"][0]["Principal"], json!({"Service": "ec2.amazonaws.com"}));

    let docs = Documents::for_spec(&load("broken/no-bucket-policy.toml"));
    assert_eq!(docs.bucket_policy, None);

    let guide = Documents::for_spec(&load("guide/spec.toml"));
    let docs = Documents::for_spec(&load("broken/role-without-replicate-object.toml"));
    assert_eq!(
        removed(&actions(&guide.role_policy, "ReplicateToDestination"), &actions(&docs.role_policy, "ReplicateToDestination")),
        ["s3:ReplicateObject"]
    );
    let docs = Documents::for_spec(&load("broken/bucket-policy-without-owner-override.toml"));
    let policy = docs.bucket_policy.expect("policy");
    assert!(!actions(&policy, "XreplReplicaObjects").contains(&"s3:ObjectOwnerOverrideToBucketOwner".to_string()));
    assert!(actions(&docs.role_policy, "ReplicateToDestination").contains(&"s3:ObjectOwnerOverrideToBucketOwner".to_string()));

    // Omitting every action of a statement drops the statement.
    let spec = parse(&minimal("\n[[rules]]\n[overrides]\nomit_role_actions = [\"s3:GetReplicationConfiguration\", \"s3:listbucket\"]\n"));
    assert!(!sids(&Documents::for_spec(&spec).role_policy).contains(&"SourceBucket".to_string()));
}

#[test]
fn user_documents_replace_generated_ones() {
    let spec = load("broken/guide-verbatim-documents.toml");
    let docs = Documents::for_spec(&spec);
    assert_eq!(docs.trust_policy["Version"], "2012–10–17");
    assert_eq!(docs.bucket_policy.as_ref().map(|p| p["Id"].clone()), Some(json!("PolicyForDestinationBucket")));
    assert_eq!(docs.role_policy["Statement"][0]["Action"][0], "s3:ListBucket");
}

#[test]
fn merging_keeps_other_statements_and_replaces_xrepls() {
    let ours = vec![json!({"Sid": "XreplReplicaObjects", "Effect": "Allow", "Action": "s3:ReplicateObject"})];
    let existing = json!({"Version": "2008-10-17", "Id": "mine", "Statement": [
        {"Sid": "Theirs", "Effect": "Deny", "Action": "s3:DeleteBucket"},
        {"Sid": "XreplOld", "Effect": "Allow", "Action": "s3:Old"}
    ]});
    let merged = merge_bucket_policy(Some(&existing), &ours).expect("policy");
    assert_eq!(
        merged,
        json!({"Version": "2008-10-17", "Id": "mine", "Statement": [
            {"Sid": "Theirs", "Effect": "Deny", "Action": "s3:DeleteBucket"},
            {"Sid": "XreplReplicaObjects", "Effect": "Allow", "Action": "s3:ReplicateObject"}
        ]})
    );
    let only_ours = json!({"Version": "2012–10–17", "Statement": [{"Sid": "XreplOld"}]});
    assert_eq!(merge_bucket_policy(Some(&only_ours), &[]), None);
    let fixed = merge_bucket_policy(Some(&only_ours), &ours).expect("policy");
    assert_eq!(fixed["Version"], "2012-10-17", "an invalid version is replaced");
    assert_eq!(merge_bucket_policy(None, &[]), None);
}

#[test]
fn every_generated_document_lints_clean_and_converts_to_sdk_types() {
    let dir = scratch_dir();
    for d in ["guide", "variants", "broken"] {
        for path in fixture_specs(d) {
            let spec = Spec::load(&path).expect("loads");
            let docs = Documents::for_spec(&spec);
            if let Err(e) = replication_from_json(&docs.replication) {
                panic!("{}: {e}", path.display());
            }
            let mut generated = vec![("trust", docs.trust_policy.clone(), PolicyKind::Trust)];
            if spec.role.permission_policy_file.is_none() {
                generated.push(("role", docs.role_policy.clone(), PolicyKind::Identity));
            }
            if let (Some(p), None) = (&docs.bucket_policy, &spec.destination.bucket_policy_file) {
                generated.push(("bucket", p.clone(), PolicyKind::Resource));
            }
            if spec.role.trust_policy_file.is_some() {
                generated.remove(0);
            }
            for (name, value, kind) in generated {
                let text = serde_json::to_string_pretty(&value).expect("serialize");
                let findings = lint_policy_text(&text, dir.join(name), kind);
                assert!(findings.is_empty(), "{} {name}: {findings:?}", path.display());
            }
        }
    }
}
