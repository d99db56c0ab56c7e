use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{fixture, fixture_specs, load, minimal, parse, parse_err, scratch_dir};
use crate::spec::{import_replication_json, Credentials, VersioningOverride};
use crate::{ProvisionError, RuleSpec, Spec};

const RULE: &str = "\n[[rules]]\nid = \"r\"\n";

#[test]
fn every_fixture_spec_loads() {
    let mut n = 0;
    for dir in ["guide", "variants", "broken"] {
        for path in fixture_specs(dir) {
            if let Err(e) = Spec::load(&path) {
                panic!("{} does not load: {e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n >= 19, "expected all fixtures, found {n}");
}

#[test]
fn guide_spec_says_what_the_guide_does() {
    let spec = load("guide/spec.toml");
    assert_eq!(spec.source.account_id, "111111111111");
    assert_eq!(spec.destination.account_id, "222222222222");
    assert_eq!(spec.source.bucket, "xrepl-guide-source");
    assert_eq!(spec.destination.bucket, "xrepl-guide-destination");
    assert_eq!(spec.role_arn(), "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_xrepl-guide-source");
    assert_eq!(spec.rules.len(), 1);
    let r = &spec.rules[0];
    assert_eq!(r.id, "guide-replicate-everything");
    assert_eq!(r.priority, 1);
    assert!(r.enabled && r.owner_override && r.delete_marker_replication);
    assert_eq!(r.prefix, None);
    assert!(r.tags.is_empty());
    assert_eq!(
        spec.source.credentials,
        Credentials::Static { access_key_id: "111111111111".into(), secret_access_key: "test".into(), session_token: None }
    );
    assert_eq!(spec.source.endpoint.as_deref(), Some("http://127.0.0.1:4566"));
    assert!(spec.overrides.is_empty());
    assert!(spec.is_cross_account());
}

#[test]
fn defaults_fill_in_what_the_spec_leaves_out() {
    let spec = parse(&minimal("\n[[rules]]\n"));
    assert_eq!(spec.source.region, "us-east-1");
    assert!(!spec.source.create_bucket);
    assert_eq!(spec.source.credentials, Credentials::DefaultChain);
    assert_eq!(spec.source.endpoint, None);
    assert_eq!(spec.role.name, "s3crr_role_for_src-bucket");
    assert_eq!(spec.role.path, "/service-role/");
    assert_eq!(spec.role.policy_name, "xrepl-replication");
    let r = &spec.rules[0];
    assert_eq!((r.id.as_str(), r.priority), ("rule-1", 1));
    assert!(r.enabled && r.owner_override);
    assert!(!r.delete_marker_replication && !r.replicate_kms_objects && !r.replication_time);
    assert!(!r.metrics_enabled());
}

#[test]
fn default_role_name_is_capped_at_64_characters() {
    let long = "b".repeat(63);
    let text = minimal(RULE).replace("src-bucket", &long);
    let spec = parse(&text);
    assert_eq!(spec.role.name.len(), 64);
    assert!(spec.role.name.starts_with("s3crr_role_for_bbb"));
}

#[test]
fn invalid_toml_reports_line_and_column() {
    let text = "[source]\naccount_id = \"111111111111\"\nbucket = \"unterminated\n";
    let e = parse_err(text);
    assert_eq!(e.file, Some(PathBuf::from("test.toml")));
    assert_eq!(e.line, Some(3));
    assert!(e.column.is_some());
    assert!(e.to_string().starts_with("test.toml:3:"), "{e}");
}

#[test]
fn unknown_field_is_named_with_the_allowed_ones_and_its_position() {
    let text = minimal(RULE).replace("bucket = \"dst-bucket\"", "bucket = \"dst-bucket\"\nbuckt_policy = true");
    let e = parse_err(&text);
    assert!(e.message.contains("buckt_policy"), "{}", e.message);
    assert!(e.message.contains("bucket_policy_file"), "allowed fields listed: {}", e.message);
    assert_eq!((e.line, e.column), (Some(8), Some(1)), "{e}");
}

#[test]
fn unknown_rule_field_is_an_error_too() {
    let e = parse_err(&minimal("\n[[rules]]\nid = \"r\"\ndelete_markers = true\n"));
    assert!(e.message.contains("delete_markers"), "{}", e.message);
    assert!(e.message.contains("delete_marker_replication"), "{}", e.message);
    assert_eq!(e.line, Some(11));
}

#[test]
fn missing_file_is_a_clear_error() {
    let err = Spec::load("/nonexistent/xrepl/spec.toml").expect_err("must fail");
    let e = err.as_spec_error().expect("spec error");
    assert_eq!(e.file, Some(PathBuf::from("/nonexistent/xrepl/spec.toml")));
    assert_eq!(e.line, None);
    assert!(e.message.contains("cannot read spec file"), "{}", e.message);
    assert!(err.to_string().starts_with("/nonexistent/xrepl/spec.toml: cannot read spec file"));
}

#[test]
fn account_ids_must_be_twelve_digits_and_errors_point_at_the_value() {
    let text = minimal(RULE).replace("\"222222222222\"", "\"2222\"");
    let e = parse_err(&text);
    assert_eq!((e.line, e.column), (Some(6), Some(14)), "{e}");
    assert!(e.message.contains("12 digits"));
    // An unquoted number is a type error, also positioned.
    let e = parse_err(&minimal(RULE).replace("\"222222222222\"", "222222222222"));
    assert_eq!(e.line, Some(6));
}

#[test]
fn bucket_names_are_checked() {
    let e = parse_err(&minimal(RULE).replace("src-bucket", "Src_Bucket"));
    assert!(e.message.contains("not a valid bucket name"), "{}", e.message);
    let e = parse_err(&minimal(RULE).replace("dst-bucket", "src-bucket"));
    assert!(e.message.contains("same bucket"));
}

#[test]
fn credentials_take_one_source() {
    let both = minimal(RULE) + "\n[source.credentials]\nprofile = \"a\"\nenv = true\n";
    assert!(parse_err(&both).message.contains("only one of"));
    let half = minimal(RULE) + "\n[source.credentials]\naccess_key_id = \"AKIA\"\n";
    assert!(parse_err(&half).message.contains("both access_key_id and secret_access_key"));
    let bad_endpoint = minimal(RULE) + "\n[source.credentials]\nendpoint = \"localhost:4566\"\n";
    assert!(parse_err(&bad_endpoint).message.contains("http://"));
    let profile = parse(&(minimal(RULE) + "\n[destination.credentials]\nprofile = \"team-b\"\n"));
    assert_eq!(profile.destination.credentials, Credentials::Profile("team-b".into()));
    let env = parse(&(minimal(RULE) + "\n[destination.credentials]\nenv = true\nendpoint = \"http://x:1/\"\n"));
    assert_eq!(env.destination.credentials, Credentials::Environment);
    assert_eq!(env.destination.endpoint.as_deref(), Some("http://x:1"));
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let spec = load("guide/spec.toml");
    let debug = format!("{:?}", spec.source.credentials);
    assert!(debug.contains("111111111111"));
    assert!(!debug.contains("test"), "{debug}");
}

#[test]
fn rules_are_required_exactly_once() {
    assert!(parse_err(&minimal("")).message.contains("no replication rules"));
    let dir = scratch_dir();
    std::fs::copy(fixture("guide/replication.json"), dir.join("r.json")).expect("copy");
    let text = minimal(RULE).replace("[source]", "replication_file = \"r.json\"\n\n[source]");
    let err = Spec::from_toml_str(&text, dir.join("spec.toml")).expect_err("both");
    assert!(err.to_string().contains("not both"), "{err}");
}

#[test]
fn rule_values_are_validated_with_positions() {
    let e = parse_err(&minimal("\n[[rules]]\nstorage_class = \"FAST\"\n"));
    assert!(e.message.contains("storage_class \"FAST\""));
    assert_eq!((e.line, e.column), (Some(10), Some(17)));
    let e = parse_err(&minimal("\n[[rules]]\npriority = -1\n"));
    assert!(e.message.contains("priority"));
    let e = parse_err(&minimal("\n[[rules]]\n[overrides]\ndestination_versioning = \"Never\"\n"));
    assert!(e.message.contains("\"Suspended\""), "{}", e.message);
    assert_eq!(e.line, Some(11));
    let e = parse_err(&minimal("\n[[rules]]\n[role]\npath = \"service-role\"\n"));
    assert!(e.message.contains("must start and end with '/'"));
}

#[test]
fn source_has_no_bucket_policy_file() {
    let text = minimal(RULE).replace("bucket = \"src-bucket\"", "bucket = \"src-bucket\"\nbucket_policy_file = \"p.json\"");
    assert!(parse_err(&text).message.contains("belongs in [destination]"));
}

#[test]
fn referenced_documents_are_read_and_json_errors_point_into_them() {
    let dir = scratch_dir();
    std::fs::write(dir.join("trust.json"), "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}\n").expect("write");
    let text = minimal(RULE) + "\n[role]\ntrust_policy_file = \"trust.json\"\n";
    let err = Spec::from_toml_str(&text, dir.join("spec.toml")).expect_err("bad JSON");
    let e = err.as_spec_error().expect("spec error");
    assert_eq!(e.file, Some(dir.join("trust.json")));
    assert_eq!((e.line, e.column), (Some(3), Some(17)), "{e}");

    let err = Spec::from_toml_str(&(minimal(RULE) + "\n[role]\ntrust_policy_file = \"missing.json\"\n"), dir.join("spec.toml"))
        .expect_err("missing");
    let e = err.as_spec_error().expect("spec error");
    assert!(e.message.contains("cannot read trust_policy_file"), "{}", e.message);
    assert_eq!(e.line, Some(13));
}

#[test]
fn guide_documents_are_kept_verbatim() {
    let spec = load("broken/guide-verbatim-documents.toml");
    let trust = spec.role.trust_policy_file.as_ref().expect("trust file");
    assert!(trust.text.contains("\"2012–10–17\""));
    assert_eq!(trust.value["Version"], "2012–10–17");
    assert!(spec.destination.bucket_policy_file.is_some());
    assert!(spec.role.permission_policy_file.is_some());
}

fn without_locations(rules: &[RuleSpec]) -> Vec<RuleSpec> {
    rules
        .iter()
        .cloned()
        .map(|mut r| {
            r.locations = Default::default();
            r
        })
        .collect()
}

#[test]
fn replication_json_gives_the_same_rules_as_the_guide_spec() {
    let a = load("guide/spec.toml");
    let b = load("guide/spec-from-replication-json.toml");
    assert_eq!(without_locations(&a.rules), without_locations(&b.rules));
    assert!(b.replication_file.is_some());
    assert_eq!(a.role_arn(), b.role_arn());
}

#[test]
fn rules_from_replication_json_understand_both_schemas() {
    let text = r#"{"ReplicationConfiguration": {"Role": "arn:aws:iam::1:role/r", "Rules": [
        {"ID": "v1", "Prefix": "old/", "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::d"}},
        {"ID": "v2", "Priority": 7, "Status": "Disabled",
         "Filter": {"And": {"Prefix": "p/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
         "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
         "DeleteMarkerReplication": {"Status": "Disabled"},
         "Destination": {"Bucket": "arn:aws:s3:::d", "StorageClass": "GLACIER",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": "k"},
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled"}}}
    ]}}"#;
    let rules = Spec::rules_from_replication_json(text, "r.json").expect("imports");
    assert_eq!(rules.len(), 2);
    let v1 = &rules[0];
    assert_eq!((v1.id.as_str(), v1.priority, v1.prefix.as_deref()), ("v1", 1, Some("old/")));
    assert!(v1.delete_marker_replication, "V1 rules replicate delete markers");
    assert!(!v1.owner_override);
    let v2 = &rules[1];
    assert_eq!((v2.priority, v2.enabled), (7, false));
    assert_eq!(v2.prefix.as_deref(), Some("p/"));
    let tags: BTreeMap<String, String> = [("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())].into();
    assert_eq!(v2.tags, tags);
    assert!(v2.replicate_kms_objects && v2.replication_time && v2.metrics);
    assert_eq!(v2.replica_kms_key_id.as_deref(), Some("k"));
    assert_eq!(v2.storage_class.as_deref(), Some("GLACIER"));
    // Positions point into the JSON.
    let loc = v2.locations.get("priority").expect("located");
    assert_eq!((loc.line, loc.column), (3, 22));

    let import = import_replication_json(text, std::path::Path::new("r.json")).expect("imports");
    assert_eq!(import.role.as_deref(), Some("arn:aws:iam::1:role/r"));

    let err = Spec::rules_from_replication_json("{\"Rules\": [{}]}", "r.json").expect_err("no destination");
    assert!(err.to_string().contains("no \"Destination\""));
    let err = Spec::rules_from_replication_json("{\"Rules\": [", "r.json").expect_err("bad JSON");
    assert!(matches!(err, ProvisionError::Spec(ref e) if e.line == Some(1)), "{err}");
}

#[test]
fn replication_file_must_target_the_spec_destination() {
    let dir = scratch_dir();
    let json = std::fs::read_to_string(fixture("guide/replication.json"))
        .expect("read")
        .replace("xrepl-guide-destination", "someone-elses-bucket");
    std::fs::write(dir.join("r.json"), json).expect("write");
    let text = minimal("").replace("[source]", "replication_file = \"r.json\"\n\n[source]");
    let err = Spec::from_toml_str(&text, dir.join("spec.toml")).expect_err("other destination");
    assert!(err.to_string().contains("no [destination] or [[destinations]] names bucket someone-elses-bucket"), "{err}");
}

#[test]
fn broken_fixtures_name_their_expected_failure() {
    let cases = [
        ("broken/role-trusts-ec2.toml", Some("AssumeRoleNotPermitted"), None),
        ("broken/no-bucket-policy.toml", Some("DstPutObjectNotPermitted"), None),
        ("broken/role-without-replicate-object.toml", Some("DstPutObjectNotPermitted"), None),
        ("broken/no-owner-override-permission.toml", Some("DstPutObjectNotPermitted"), None),
        ("broken/no-replicate-delete.toml", Some("DstDelObjNotPermitted"), None),
        ("broken/destination-versioning-suspended.toml", Some("DstBucketUnversioned"), None),
        ("broken/destination-unversioned.toml", None, Some("PutBucketReplication InvalidRequest")),
        ("broken/guide-verbatim-documents.toml", None, Some("CreateRole MalformedPolicyDocument")),
    ];
    for (file, failure, apply_error) in cases {
        let spec = load(file);
        assert_eq!(spec.expectation.replication_failure.as_deref(), failure, "{file}");
        assert_eq!(spec.expectation.apply_error.as_deref(), apply_error, "{file}");
    }
    for path in fixture_specs("broken") {
        let spec = Spec::load(&path).expect("loads");
        assert!(spec.expectation != Default::default(), "{} names no expected failure", path.display());
    }
    for dir in ["guide", "variants"] {
        for path in fixture_specs(dir) {
            let spec = Spec::load(&path).expect("loads");
            assert!(spec.overrides.is_empty(), "{} must not break anything", path.display());
            assert_eq!(spec.expectation, Default::default());
        }
    }
}

#[test]
fn overrides_express_the_breaks() {
    let s = load("broken/role-trusts-ec2.toml");
    assert_eq!(s.overrides.trust_service.as_deref(), Some("ec2.amazonaws.com"));
    let s = load("broken/no-bucket-policy.toml");
    assert!(s.overrides.omit_bucket_policy);
    let s = load("broken/role-without-replicate-object.toml");
    assert_eq!(s.overrides.omit_role_actions, vec!["s3:ReplicateObject".to_string()]);
    let s = load("broken/destination-unversioned.toml");
    assert_eq!(s.overrides.destination_versioning, Some(VersioningOverride::Off));
    let s = load("broken/destination-versioning-suspended.toml");
    assert_eq!(s.overrides.destination_versioning, Some(VersioningOverride::Suspended));
}

#[test]
fn point_at_endpoint_uses_the_emulator_convention() {
    let mut spec = parse(&minimal(RULE));
    spec.point_at_endpoint("http://127.0.0.1:9999");
    assert_eq!(spec.destination.endpoint.as_deref(), Some("http://127.0.0.1:9999"));
    assert_eq!(
        spec.destination.credentials,
        Credentials::Static { access_key_id: "222222222222".into(), secret_access_key: "test".into(), session_token: None }
    );
}

#[test]
fn several_destinations_and_rules_that_pick_one() {
    let text = r#"[source]
account_id = "111111111111"
bucket = "src-bucket"

[[destinations]]
account_id = "222222222222"
bucket = "dst-b"

[[destinations]]
account_id = "333333333333"
bucket = "dst-c"
region = "eu-west-1"

[[rules]]
id = "all"

[[rules]]
id = "logs"
prefix = "logs/"
destination = "dst-c"
"#;
    let spec = parse(text);
    let buckets: Vec<&str> = spec.destinations().map(|d| d.bucket.as_str()).collect();
    assert_eq!(buckets, ["dst-b", "dst-c"]);
    assert_eq!(spec.destination_of(&spec.rules[0]).bucket, "dst-b", "the first destination by default");
    assert_eq!(spec.destination_of(&spec.rules[1]).region, "eu-west-1");
    let docs = crate::Documents::for_spec(&spec);
    assert_eq!(docs.replication["Rules"][1]["Destination"]["Account"], "333333333333");
    assert_eq!(docs.bucket_policies.len(), 2);

    let unknown = parse_err(&text.replace("destination = \"dst-c\"", "destination = \"dst-x\""));
    assert!(unknown.message.contains("\"dst-x\" is not a [destination] or [[destinations]] bucket"), "{unknown}");
    assert_eq!((unknown.line, unknown.column), (Some(20), Some(15)), "{unknown}");
    let twice = parse_err(&text.replace("bucket = \"dst-c\"", "bucket = \"dst-b\""));
    assert!(twice.message.contains("named twice"), "{twice}");
    let both =
        parse_err(&minimal(RULE).replace("[source]", "[[destinations]]\naccount_id = \"222222222222\"\nbucket = \"x-y-z\"\n\n[source]"));
    assert!(both.message.contains("either [destination] or [[destinations]]"), "{both}");
    let none = Spec::from_toml_str("[source]\naccount_id = \"111111111111\"\nbucket = \"src-bucket\"\n[[rules]]\nid = \"r\"\n", "n.toml");
    assert!(none.is_err_and(|e| e.to_string().contains("no destination")));
}
