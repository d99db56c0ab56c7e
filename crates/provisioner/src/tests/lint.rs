use std::path::{Path, PathBuf};

use super::{fixture, fixture_specs, load, minimal, parse, scratch_dir};
use crate::lint::{
    codes, failure_reason_for_missing, has_errors, lint_policy_text, lint_replication_json, lint_spec, Finding, PolicyKind, Severity,
};
use crate::Spec;

fn read(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).expect("fixture")
}

fn with_code<'a>(findings: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.code == code).collect()
}

fn pos(f: &Finding) -> (Option<usize>, Option<usize>) {
    (f.line, f.column)
}

/// Write `files` next to a spec made of `toml`, and load it.
fn spec_with_files(toml: &str, files: &[(&str, &str)]) -> Spec {
    let dir = scratch_dir();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
    match Spec::from_toml_str(toml, dir.join("spec.toml")) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

// --- the guide's own documents -----------------------------------------------------------------

#[test]
fn guide_trust_policy_en_dash_is_found_at_line_2_column_19() {
    let path = fixture("guide/trust-policy.json");
    let findings = lint_policy_text(&read("guide/trust-policy.json"), &path, PolicyKind::Trust);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!((f.severity, f.code), (Severity::Error, codes::INVALID_VERSION));
    assert_eq!(pos(f), (Some(2), Some(19)));
    assert_eq!(f.file.as_deref(), Some(path.as_path()));
    assert!(f.message.contains("U+2013 EN DASH"), "{}", f.message);
    assert!(f.message.contains("2 dash look-alikes"), "{}", f.message);
    assert_eq!(f.fix.as_deref(), Some("\"Version\": \"2012-10-17\""));
    assert!(f.to_string().contains("trust-policy.json:2:19: error[invalid-version]"), "{f}");
}

#[test]
fn guide_bucket_policy_en_dash_is_found_at_line_2_column_19() {
    let findings = lint_policy_text(
        &read("guide/destination-bucket-policy.json"),
        fixture("guide/destination-bucket-policy.json"),
        PolicyKind::Resource,
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].code, codes::INVALID_VERSION);
    assert_eq!(pos(&findings[0]), (Some(2), Some(19)));
}

#[test]
fn guide_permission_policy_is_valid() {
    let findings = lint_policy_text(&read("guide/permission-policy.json"), fixture("guide/permission-policy.json"), PolicyKind::Identity);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn guide_documents_in_a_spec_give_the_dashes_and_the_guides_weaknesses() {
    let spec = load("broken/guide-verbatim-documents.toml");
    let findings = lint_spec(&spec);
    let errors: Vec<&Finding> = findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 2, "{findings:#?}");
    let mut files: Vec<String> = errors
        .iter()
        .map(|f| {
            assert_eq!(f.code, codes::INVALID_VERSION);
            assert_eq!(pos(f), (Some(2), Some(19)));
            f.file.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        })
        .collect();
    files.sort();
    assert_eq!(files, ["destination-bucket-policy.json", "trust-policy.json"]);
    // Warnings: the bucket policy grants s3:PutBucketVersioning; the trust policy has no
    // aws:SourceAccount condition. That the guide's bucket policy grants no s3:ReplicateTags is
    // fine: "Permissions for the s3:ReplicateObject action on the destination bucket also allow
    // replication of object tags, so you don't need to explicitly grant permission for the
    // s3:ReplicateTags action." (AWS User Guide, setting-repl-config-perm-overview)
    assert!(with_code(&findings, codes::MISSING_PERMISSION).is_empty(), "{findings:#?}");
    assert_eq!(with_code(&findings, codes::OVERBROAD_PERMISSION).len(), 1);
    assert_eq!(with_code(&findings, codes::TRUST_NO_SOURCE_CONDITION).len(), 1);
    assert!(with_code(&findings, codes::PRINCIPAL_MISMATCH).is_empty());
}

// --- clean inputs give nothing -----------------------------------------------------------------

#[test]
fn clean_guide_spec_and_variants_give_no_findings() {
    for rel in ["guide/spec.toml", "guide/spec-from-replication-json.toml"] {
        let findings = lint_spec(&load(rel));
        assert!(findings.is_empty(), "{rel}: {findings:#?}");
    }
    for path in fixture_specs("variants") {
        let findings = lint_spec(&Spec::load(&path).expect("loads"));
        assert!(findings.is_empty(), "{}: {findings:#?}", path.display());
    }
    let guide_replication = read("guide/replication.json");
    let spec = load("guide/spec.toml");
    assert!(lint_replication_json(&guide_replication, "replication.json", Some(&spec)).is_empty());
    assert!(lint_replication_json(&guide_replication, "replication.json", None).is_empty());
}

#[test]
fn broken_fixtures_warn_about_their_overrides_with_the_failure_reason() {
    for path in fixture_specs("broken") {
        let spec = Spec::load(&path).expect("loads");
        let findings = lint_spec(&spec);
        let Some(reason) = spec.expectation.replication_failure.clone() else {
            continue;
        };
        if spec.overrides.is_empty() {
            // Broken in a document of its own (e.g. an explicit Deny): an error names the reason.
            assert!(
                findings.iter().any(|f| f.severity == Severity::Error && f.message.contains(&reason) && f.line.is_some()),
                "{}: {findings:#?}",
                path.display()
            );
            continue;
        }
        let overrides = with_code(&findings, codes::OVERRIDE_ACTIVE);
        assert!(!overrides.is_empty(), "{}", path.display());
        assert!(overrides.iter().any(|f| f.message.contains(&reason)), "{}: {overrides:#?}", path.display());
        assert!(overrides.iter().all(|f| f.line.is_some() && f.file.as_deref() == Some(path.as_path())));
    }
    let unversioned = lint_spec(&load("broken/destination-unversioned.toml"));
    assert!(unversioned.iter().any(|f| f.message.contains("InvalidRequest")));
}

// --- each check fires on a crafted input -------------------------------------------------------

#[test]
fn invalid_json_is_positioned_in_characters() {
    let text = "{\n  \"Version\": \"2012–10–17\", \"Statement\": [}\n}";
    let f = lint_policy_text(text, "p.json", PolicyKind::Identity);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, codes::INVALID_JSON);
    // Column counts the en dashes as one character each.
    assert_eq!(pos(&f[0]), (Some(2), Some(42)));
}

#[test]
fn version_problems_of_every_kind() {
    let lint = |v: &str| {
        lint_policy_text(
            &format!("{{\"Version\": {v}, \"Statement\": [{{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}}]}}"),
            "",
            PolicyKind::Identity,
        )
    };
    // An escaped en dash is pointed at its backslash.
    let f = lint("\"2012\\u201310-17\"");
    assert_eq!(f.len(), 1);
    assert_eq!(pos(&f[0]), (Some(1), Some(18)));
    let f = lint("\"2012-10-18\"");
    assert!(f[0].message.contains("character 10"), "{}", f[0].message);
    assert_eq!(pos(&f[0]), (Some(1), Some(23)));
    let f = lint("\"2012-10\"");
    assert!(f[0].message.contains("stops after 7"), "{}", f[0].message);
    let f = lint("20121017");
    assert!(f[0].message.contains("must be a string"));
    assert!(lint("\"2008-10-17\"").is_empty());
    let missing =
        lint_policy_text("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}", "", PolicyKind::Identity);
    assert_eq!(missing.len(), 1);
    assert_eq!((missing[0].code, missing[0].severity), (codes::MISSING_VERSION, Severity::Warning));
}

#[test]
fn grammar_depends_on_the_kind_of_document() {
    let doc = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}]}"#;
    assert!(lint_policy_text(doc, "", PolicyKind::Resource).is_empty());
    let identity = lint_policy_text(doc, "", PolicyKind::Identity);
    assert_eq!(identity.len(), 1);
    assert!(identity[0].message.contains("must not name a Principal"));
    assert_eq!(pos(&identity[0]), (Some(1), Some(61)));
    let trust = lint_policy_text(doc, "", PolicyKind::Trust);
    assert!(trust.iter().any(|f| f.message.contains("must not name a Resource")));
    let no_statement = lint_policy_text(r#"{"Version": "2012-10-17"}"#, "", PolicyKind::Identity);
    assert!(no_statement[0].message.contains("Statement"));
    let bad_effect = lint_policy_text(
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*", "Extra": 1}}"#,
        "",
        PolicyKind::Identity,
    );
    assert_eq!(with_code(&bad_effect, codes::POLICY_SYNTAX).len(), 2, "{bad_effect:#?}");
}

const TRUST_OK: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}}]}"#;

fn spec_toml(rule: &str, role: &str, destination: &str) -> String {
    format!(
        r#"[source]
account_id = "111111111111"
bucket = "src-bucket"

[destination]
account_id = "222222222222"
bucket = "dst-bucket"
{destination}

[role]
{role}

[[rules]]
id = "r"
{rule}
"#
    )
}

#[test]
fn own_role_policy_missing_what_the_options_need() {
    // Grants only ReplicateObject + ReplicateTags on the destination and the source reads.
    let policy = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": "arn:aws:s3:::src-bucket"},
  {"Effect": "Allow", "Action": ["s3:GetObjectVersion*"], "Resource": "arn:aws:s3:::src-bucket/*"},
  {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateTags"], "Resource": "arn:aws:s3:::dst-bucket/*"}
]}"#;
    let role = "permission_policy_file = \"role.json\"";
    let plain = spec_with_files(&spec_toml("owner_override = false", role, ""), &[("role.json", policy)]);
    assert!(lint_spec(&plain).is_empty(), "{:#?}", lint_spec(&plain));

    let cases = [
        ("owner_override = true", "s3:ObjectOwnerOverrideToBucketOwner"),
        ("owner_override = false\ndelete_marker_replication = true", "s3:ReplicateDelete"),
        (
            "owner_override = false\nreplicate_kms_objects = true\nreplica_kms_key_id = \"arn:aws:kms:us-east-1:222222222222:key/r\"\nsource_kms_key_arn = \"arn:aws:kms:us-east-1:111111111111:key/s\"",
            "kms:Decrypt",
        ),
    ];
    for (rule, action) in cases {
        let spec = spec_with_files(&spec_toml(rule, role, ""), &[("role.json", policy)]);
        let findings = lint_spec(&spec);
        let missing = with_code(&findings, codes::MISSING_PERMISSION);
        assert!(missing.iter().any(|f| f.message.contains(action) && f.severity == Severity::Error), "{rule}: {findings:#?}");
        let f = missing[0];
        assert!(f.file.as_ref().is_some_and(|p| p.ends_with("role.json")));
        assert_eq!(f.line, Some(1), "points at \"Statement\"");
        assert!(f.fix.is_some());
    }
    // No s3:ReplicateTags: nothing to say (s3:ReplicateObject covers tags, see below).
    let no_tags = policy.replace(", \"s3:ReplicateTags\"", "");
    let spec = spec_with_files(&spec_toml("owner_override = false", role, ""), &[("role.json", &no_tags)]);
    let findings = lint_spec(&spec);
    assert!(findings.is_empty(), "{findings:#?}");
    // An explicit Deny removes a grant.
    let denied = policy.replace("]}", ",\n  {\"Effect\": \"Deny\", \"Action\": \"s3:Replicate*\", \"Resource\": \"*\"}]}");
    let spec = spec_with_files(&spec_toml("owner_override = false", role, ""), &[("role.json", &denied)]);
    assert!(has_errors(&lint_spec(&spec)));
}

#[test]
fn bucket_policy_principal_must_be_the_role_with_its_path() {
    let policy = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111111111111:role/s3crr_role_for_src-bucket"},
    "Action": ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
    "Resource": "arn:aws:s3:::dst-bucket/*"
  }]
}"#;
    let spec = spec_with_files(&spec_toml("", "", "bucket_policy_file = \"bp.json\""), &[("bp.json", policy)]);
    let findings = lint_spec(&spec);
    let mismatch = with_code(&findings, codes::PRINCIPAL_MISMATCH);
    assert_eq!(mismatch.len(), 1, "{findings:#?}");
    assert_eq!(pos(mismatch[0]), (Some(5), Some(26)));
    assert!(mismatch[0].message.contains("path /service-role/ is missing"), "{}", mismatch[0].message);
    assert_eq!(mismatch[0].fix.as_deref(), Some("\"AWS\": \"arn:aws:iam::111111111111:role/service-role/s3crr_role_for_src-bucket\""));
    // The mismatched principal also means the role is granted nothing.
    assert!(with_code(&findings, codes::MISSING_PERMISSION).iter().any(|f| f.message.contains("s3:ReplicateObject")));

    // With the right principal: clean. With the account root: delegation, also clean.
    for principal in ["arn:aws:iam::111111111111:role/service-role/s3crr_role_for_src-bucket", "arn:aws:iam::111111111111:root"] {
        let good = policy.replace("arn:aws:iam::111111111111:role/s3crr_role_for_src-bucket", principal);
        let spec = spec_with_files(&spec_toml("", "", "bucket_policy_file = \"bp.json\""), &[("bp.json", &good)]);
        assert!(lint_spec(&spec).is_empty(), "{principal}: {:#?}", lint_spec(&spec));
    }
}

#[test]
fn trust_policy_must_let_s3_assume_the_role_for_the_source_account() {
    let role = "trust_policy_file = \"trust.json\"";
    let ok = spec_with_files(&spec_toml("", role, ""), &[("trust.json", TRUST_OK)]);
    assert!(lint_spec(&ok).is_empty(), "{:#?}", lint_spec(&ok));
    let ec2 = TRUST_OK.replace("s3.amazonaws.com", "ec2.amazonaws.com");
    let spec = spec_with_files(&spec_toml("", role, ""), &[("trust.json", &ec2)]);
    let findings = lint_spec(&spec);
    let f = with_code(&findings, codes::TRUST_MISSING_S3);
    assert_eq!(f.len(), 1, "{findings:#?}");
    assert!(f[0].message.contains("AssumeRoleNotPermitted"));
    let other_account = TRUST_OK.replace("\"111111111111\"", "\"333333333333\"");
    let spec = spec_with_files(&spec_toml("", role, ""), &[("trust.json", &other_account)]);
    assert_eq!(with_code(&lint_spec(&spec), codes::TRUST_MISSING_S3).len(), 1);
}

#[test]
fn spec_rule_checks() {
    let dup = parse(&minimal("\n[[rules]]\nid = \"a\"\npriority = 3\n\n[[rules]]\nid = \"a\"\npriority = 3\n"));
    let findings = lint_spec(&dup);
    let p = with_code(&findings, codes::DUPLICATE_PRIORITY);
    assert_eq!(p.len(), 1);
    assert_eq!(pos(p[0]), (Some(15), Some(12)));
    assert_eq!(p[0].file.as_deref(), Some(Path::new("test.toml")));
    assert_eq!(with_code(&findings, codes::DUPLICATE_RULE_ID).len(), 1);

    let tagged = parse(&minimal("\n[[rules]]\ntags = { a = \"1\" }\ndelete_marker_replication = true\n"));
    let f = lint_spec(&tagged);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, codes::TAG_FILTER_DELETE_MARKER);
    assert_eq!(pos(&f[0]), (Some(11), Some(29)));

    let kms_no_key =
        parse(&minimal("\n[[rules]]\nreplicate_kms_objects = true\nsource_kms_key_arn = \"arn:aws:kms:us-east-1:111111111111:key/s\"\n"));
    assert_eq!(with_code(&lint_spec(&kms_no_key), codes::KMS_CONFIG).len(), 1);
    let kms_wrong_region = parse(&minimal("\n[[rules]]\nreplicate_kms_objects = true\nreplica_kms_key_id = \"arn:aws:kms:eu-west-1:222222222222:key/r\"\nsource_kms_key_arn = \"k\"\n"));
    let f = lint_spec(&kms_wrong_region);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("eu-west-1"));
    let kms_no_source =
        parse(&minimal("\n[[rules]]\nreplicate_kms_objects = true\nreplica_kms_key_id = \"arn:aws:kms:us-east-1:222222222222:key/r\"\n"));
    let f = lint_spec(&kms_no_source);
    assert_eq!((f.len(), f[0].code, f[0].severity), (1, codes::KMS_SOURCE_KEY, Severity::Warning));
    let key_without_kms = parse(&minimal("\n[[rules]]\nreplica_kms_key_id = \"arn:aws:kms:us-east-1:222222222222:key/r\"\n"));
    assert_eq!(with_code(&lint_spec(&key_without_kms), codes::KMS_CONFIG)[0].severity, Severity::Warning);

    let same = parse(&minimal("\n[[rules]]\n").replace("222222222222", "111111111111"));
    assert_eq!(with_code(&lint_spec(&same), codes::SAME_ACCOUNT).len(), 1);
}

fn lint_fixture_json(rel: &str, spec: Option<&Spec>) -> Vec<Finding> {
    lint_replication_json(&read(rel), PathBuf::from(rel), spec)
}

#[test]
fn replication_json_schema_checks() {
    let f = lint_fixture_json("replication-json/v2-without-delete-marker-replication.json", None);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, codes::REPLICATION_SCHEMA);
    assert!(f[0].message.contains("DeleteMarkerReplication must be specified for this version"));
    assert_eq!(pos(&f[0]), (Some(4), Some(5)));

    let f = lint_fixture_json("replication-json/v1-with-priority.json", None);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("Priority cannot be used for this version"));
    assert_eq!(pos(&f[0]), (Some(7), Some(7)));

    let f = lint_fixture_json("replication-json/duplicate-priorities.json", None);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, codes::DUPLICATE_PRIORITY);
    assert_eq!(pos(&f[0]), (Some(14), Some(19)));

    let f = lint_fixture_json("replication-json/tag-filter-with-delete-markers.json", None);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, codes::TAG_FILTER_DELETE_MARKER);
    assert_eq!(pos(&f[0]), (Some(9), Some(34)));

    let f = lint_fixture_json("replication-json/acl-translation-without-account.json", None);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, codes::ACL_TRANSLATION_WITHOUT_ACCOUNT);
    assert_eq!(pos(&f[0]), (Some(12), Some(9)));
}

#[test]
fn replication_json_other_checks() {
    let rule = |body: &str| {
        format!("{{\"Role\": \"arn:aws:iam::111111111111:role/service-role/s3crr_role_for_xrepl-guide-source\", \"Rules\": [{body}]}}")
    };
    let codes_of = |text: String| -> Vec<&'static str> { lint_replication_json(&text, "r.json", None).iter().map(|f| f.code).collect() };
    let dest = "\"Destination\": {\"Bucket\": \"arn:aws:s3:::d\"}";
    let v2 =
        "\"Status\": \"Enabled\", \"Priority\": 1, \"Filter\": {}, \"DeleteMarkerReplication\": {\"Status\": \"Disabled\"}".to_string();
    assert!(codes_of(rule(&format!("{{{v2}, {dest}}}"))).is_empty());
    // Mixed V1 and V2.
    let mixed = rule(&format!("{{\"ID\": \"a\", {v2}, {dest}}}, {{\"ID\": \"b\", \"Prefix\": \"x\", \"Status\": \"Enabled\", {dest}}}"));
    assert_eq!(codes_of(mixed), [codes::REPLICATION_SCHEMA]);
    // Neither Filter nor Prefix; both.
    assert_eq!(codes_of(rule(&format!("{{\"Status\": \"Enabled\", {dest}}}"))), [codes::REPLICATION_SCHEMA]);
    assert!(codes_of(rule(&format!("{{{v2}, \"Prefix\": \"p\", {dest}}}"))).contains(&codes::REPLICATION_SCHEMA));
    // Filter with two shapes.
    let two = v2.replace("\"Filter\": {}", "\"Filter\": {\"Prefix\": \"a\", \"Tag\": {\"Key\": \"k\", \"Value\": \"v\"}}");
    assert_eq!(codes_of(rule(&format!("{{{two}, {dest}}}"))), [codes::FILTER_SHAPE]);
    // RTC without metrics; wrong minutes.
    let rtc =
        "\"Destination\": {\"Bucket\": \"arn:aws:s3:::d\", \"ReplicationTime\": {\"Status\": \"Enabled\", \"Time\": {\"Minutes\": 10}}}";
    assert_eq!(codes_of(rule(&format!("{{{v2}, {rtc}}}"))), [codes::REPLICATION_TIME_METRICS, codes::REPLICATION_TIME_METRICS]);
    // KMS half-configured.
    let kms = format!("{v2}, \"SourceSelectionCriteria\": {{\"SseKmsEncryptedObjects\": {{\"Status\": \"Enabled\"}}}}");
    assert_eq!(codes_of(rule(&format!("{{{kms}, {dest}}}"))), [codes::KMS_CONFIG]);
    // ExistingObjectReplication.
    let eor = format!("{v2}, \"ExistingObjectReplication\": {{\"Status\": \"Enabled\"}}");
    assert_eq!(codes_of(rule(&format!("{{{eor}, {dest}}}"))), [codes::EXISTING_OBJECT_REPLICATION]);
    // Missing Role / Rules; invalid JSON.
    assert_eq!(codes_of("{\"Rules\": []}".into()), [codes::REPLICATION_SCHEMA, codes::REPLICATION_SCHEMA]);
    let bad = lint_replication_json("{\n\"Role\": \"r\",\n\"Rules\": [\n", "r.json", None);
    assert_eq!((bad[0].code, bad[0].line), (codes::INVALID_JSON, Some(4)));
}

#[test]
fn replication_json_is_checked_against_the_spec() {
    let spec = load("guide/spec.toml");
    let other_role = read("guide/replication.json").replace("service-role/s3crr_role_for_xrepl-guide-source", "other");
    let f = lint_replication_json(&other_role, "r.json", Some(&spec));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, codes::ROLE_MISMATCH);
    assert_eq!(pos(&f[0]), (Some(2), Some(11)));
    let other_bucket = read("guide/replication.json").replace("\"222222222222\"", "\"333333333333\"");
    let f = lint_replication_json(&other_bucket, "r.json", Some(&spec));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, codes::DESTINATION_MISMATCH);

    // Through a spec: findings point into the JSON file.
    let dir = scratch_dir();
    std::fs::copy(fixture("replication-json/v2-without-delete-marker-replication.json"), dir.join("r.json")).expect("copy");
    let toml = std::fs::read_to_string(fixture("guide/spec-from-replication-json.toml")).expect("read");
    let spec = Spec::from_toml_str(&toml.replace("replication.json", "r.json"), dir.join("spec.toml")).expect("loads");
    let findings = lint_spec(&spec);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].file.as_deref(), Some(dir.join("r.json").as_path()));
}

#[test]
fn failure_reasons_for_missing_actions() {
    assert_eq!(failure_reason_for_missing("s3:ReplicateObject"), Some("DstPutObjectNotPermitted"));
    assert_eq!(failure_reason_for_missing("S3:REPLICATEDELETE"), Some("DstDelObjNotPermitted"));
    assert_eq!(failure_reason_for_missing("s3:ObjectOwnerOverrideToBucketOwner"), Some("DstPutObjectNotPermitted"));
    assert_eq!(failure_reason_for_missing("s3:GetObjectVersionForReplication"), Some("SrcGetObjectNotPermitted"));
    assert_eq!(failure_reason_for_missing("kms:Decrypt"), None);
}

#[test]
fn the_policy_crate_catches_what_the_local_grammar_does_not() {
    let text = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ReplicateObject", "Resource": "*"}]}"#;
    let findings = lint_policy_text(text, "p.json", PolicyKind::Identity);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].code, codes::POLICY_SYNTAX);
    assert!(findings[0].line.is_some());
}

// --- tags (AWS User Guide, setting-repl-config-perm-overview) -----------------------------------

const AWS_TAGS_RIDE_ON_REPLICATE_OBJECT: &str = "Permissions for the s3:ReplicateObject action on the destination bucket also allow replication of object tags, so you don't need to explicitly grant permission for the s3:ReplicateTags action.";
const AWS_NO_TAGGING_READ: &str = "If Amazon S3 doesn't have these permissions, it replicates the objects, but not the object tags.";

/// AWS's example cross-account bucket policy: s3:ReplicateObject and s3:ReplicateDelete only.
fn aws_example_bucket_policy() -> String {
    r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "Set-permissions-for-objects", "Effect": "Allow",
   "Principal": {"AWS": "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_src-bucket"},
   "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"], "Resource": "arn:aws:s3:::dst-bucket/*"},
  {"Sid": "Set-permissions-on-bucket", "Effect": "Allow",
   "Principal": {"AWS": "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_src-bucket"},
   "Action": ["s3:List*", "s3:GetBucketVersioning"], "Resource": "arn:aws:s3:::dst-bucket"}
]}"#
    .to_string()
}

#[test]
fn replicate_tags_is_not_required_because_replicate_object_covers_tags() {
    assert!(AWS_TAGS_RIDE_ON_REPLICATE_OBJECT.contains("don't need to explicitly grant"));
    let bucket = "bucket_policy_file = \"bucket.json\"";
    let spec = spec_with_files(
        &spec_toml("owner_override = false\ndelete_marker_replication = true", "", bucket),
        &[("bucket.json", &aws_example_bucket_policy())],
    );
    let findings = lint_spec(&spec);
    assert!(findings.iter().all(|f| !f.message.contains("ReplicateTags")), "{findings:#?}");
    assert!(!has_errors(&findings), "{findings:#?}");
    assert_eq!(failure_reason_for_missing("s3:ReplicateTags"), None);
}

#[test]
fn an_explicit_deny_of_replicate_tags_is_an_error_naming_dst_put_tagging_not_permitted() {
    let denied = aws_example_bucket_policy().replace(
        "]}",
        r#", {"Sid": "NoTags", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:ReplicateTags", "Resource": "arn:aws:s3:::dst-bucket/*"}]}"#,
    );
    let bucket = "bucket_policy_file = \"bucket.json\"";
    let spec =
        spec_with_files(&spec_toml("owner_override = false\ndelete_marker_replication = true", "", bucket), &[("bucket.json", &denied)]);
    let findings = lint_spec(&spec);
    let deny: Vec<&Finding> = findings.iter().filter(|f| f.message.contains("explicitly denies s3:ReplicateTags")).collect();
    assert_eq!(deny.len(), 1, "{findings:#?}");
    assert_eq!(deny[0].severity, Severity::Error);
    assert!(deny[0].message.contains("DstPutTaggingNotPermitted"));
}

#[test]
fn without_get_object_version_tagging_objects_replicate_without_tags_a_warning() {
    assert!(AWS_NO_TAGGING_READ.contains("replicates the objects, but not the object tags"));
    let policy = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": "arn:aws:s3:::src-bucket"},
  {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl"], "Resource": "arn:aws:s3:::src-bucket/*"},
  {"Effect": "Allow", "Action": ["s3:ReplicateObject"], "Resource": "arn:aws:s3:::dst-bucket/*"}
]}"#;
    let role = "permission_policy_file = \"role.json\"";
    let spec = spec_with_files(&spec_toml("owner_override = false", role, ""), &[("role.json", policy)]);
    let findings = lint_spec(&spec);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Warning);
    assert!(
        findings[0].message.contains("s3:GetObjectVersionTagging") && findings[0].message.contains("without their tags"),
        "{findings:#?}"
    );
    assert!(!findings[0].message.contains("NotPermitted"), "{findings:#?}");
    assert_eq!(failure_reason_for_missing("s3:GetObjectVersionTagging"), None);
}

#[test]
fn object_lock_on_the_source_only_is_an_error() {
    // User Guide replication-failure-codes, DstBucketObjectLockConfigMissing: "To replicate objects
    // from a source bucket with Object Lock enabled, the destination bucket must also have Object
    // Lock enabled."
    let text =
        spec_toml("owner_override = false", "", "").replace("bucket = \"src-bucket\"", "bucket = \"src-bucket\"\nobject_lock = true");
    let spec = Spec::from_toml_str(&text, "lock.toml").unwrap();
    let findings = lint_spec(&spec);
    let lock = with_code(&findings, codes::OBJECT_LOCK);
    assert_eq!(lock.len(), 1, "{findings:#?}");
    assert!(lock[0].message.contains("DstBucketObjectLockConfigMissing") && lock[0].severity == Severity::Error);
    let both = text.replace("bucket = \"dst-bucket\"", "bucket = \"dst-bucket\"\nobject_lock = true");
    assert!(lint_spec(&Spec::from_toml_str(&both, "lock.toml").unwrap()).is_empty());
}

#[test]
fn replication_json_may_name_any_destination_of_a_multi_destination_spec() {
    let spec = load("variants/multi-destination.toml");
    let json = crate::Documents::for_spec(&spec).replication.to_string();
    let findings = lint_replication_json(&json, "r.json", Some(&spec));
    assert!(with_code(&findings, codes::DESTINATION_MISMATCH).is_empty(), "{findings:#?}");
    // Destination C's bucket with account B's id: AWS answers InvalidArgument.
    let wrong = json.replacen("\"333333333333\"", "\"222222222222\"", 1);
    let findings = lint_replication_json(&wrong, "r.json", Some(&spec));
    let mismatch = with_code(&findings, codes::DESTINATION_MISMATCH);
    assert_eq!(mismatch.len(), 1, "{findings:#?}");
    assert!(mismatch[0].message.contains("the destination account is 333333333333"), "{findings:#?}");
}
