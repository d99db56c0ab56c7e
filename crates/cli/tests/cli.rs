//! The `xrepl` command as users run it (assert_cmd): every subcommand, and bad input with a clear
//! message naming the file, line and column, and the documented exit codes.

use std::io::Write;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn xrepl() -> Command {
    let mut cmd = Command::cargo_bin("xrepl").expect("xrepl binary");
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).env("NO_COLOR", "1");
    cmd
}

fn temp_file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    (dir, path)
}

#[test]
fn demo_replicates_and_shows_the_broken_variant() {
    xrepl()
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("COMPLETED"))
        .stdout(predicate::str::contains("REPLICA"))
        .stdout(predicate::str::contains("owner 222222222222"))
        .stdout(predicate::str::contains("delete marker"))
        .stdout(predicate::str::contains("FAILED with DstPutObjectNotPermitted"))
        .stdout(predicate::str::contains("fix: {\"Effect\":\"Allow\",\"Principal\""));
}

#[test]
fn demo_json_is_machine_readable() {
    let out = xrepl().args(["demo", "--output", "json"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["ok"], true);
    assert_eq!(v["broken"]["failure_reason"], "DstPutObjectNotPermitted");
    assert_eq!(v["writes"].as_array().map(Vec::len), Some(4));
}

#[test]
fn lint_finds_the_guides_en_dashes_at_line_and_column() {
    xrepl()
        .args(["lint", "fixtures/guide/trust-policy.json", "fixtures/guide/destination-bucket-policy.json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("fixtures/guide/trust-policy.json:2:19: error[invalid-version]"))
        .stdout(predicate::str::contains("U+2013 EN DASH"))
        .stdout(predicate::str::contains("fixtures/guide/destination-bucket-policy.json:2:19"));
    xrepl().args(["lint", "fixtures/guide/spec.toml"]).assert().success().stdout(predicate::str::contains("0 error(s)"));
}

#[test]
fn export_prints_least_privilege_documents() {
    let out = xrepl().args(["export", "--spec", "fixtures/guide/spec.toml"]).assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["trust_policy"]["Version"], "2012-10-17");
    assert_eq!(v["trust_policy"]["Statement"][0]["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(v["replication"]["Role"], "arn:aws:iam::111111111111:role/service-role/s3crr_role_for_xrepl-guide-source");
    let bucket = v["bucket_policy"].to_string();
    assert!(bucket.contains("s3:ObjectOwnerOverrideToBucketOwner") && !bucket.contains("s3:PutBucketVersioning"), "{bucket}");
}

#[test]
fn check_proves_a_spec_and_expected_failures() {
    xrepl()
        .args(["check", "--spec", "fixtures/variants/prefix-filter.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("replication works"));
    // Every destination of a multi-destination spec, each in its own account.
    xrepl()
        .args(["check", "--spec", "fixtures/variants/multi-destination.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("replication works"));
    xrepl()
        .args(["check", "--spec", "fixtures/broken/role-trusts-ec2.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("failed with AssumeRoleNotPermitted, as expected"));
    // Broken in a document (an explicit Deny of s3:ReplicateTags): lint's error names the declared
    // reason, and the check shows it happen.
    xrepl()
        .args(["check", "--spec", "fixtures/broken/deny-replicate-tags.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("explicitly denies s3:ReplicateTags"))
        .stdout(predicate::str::contains("failed with DstPutTaggingNotPermitted, as expected"));
}

#[test]
fn missing_file_is_bad_input() {
    xrepl().args(["export", "--spec", "no/such/spec.toml"]).assert().code(2).stderr(predicate::str::contains("no/such/spec.toml"));
    xrepl().args(["lint", "no/such/policy.json"]).assert().code(2).stderr(predicate::str::contains("cannot read"));
}

#[test]
fn invalid_toml_names_line_and_column() {
    let (_dir, path) = temp_file("bad.toml", "[source]\naccount_id = \"111111111111\"\nbucket = \n");
    xrepl().args(["export", "--spec"]).arg(&path).assert().code(2).stderr(predicate::str::contains("bad.toml:3:"));
}

#[test]
fn unknown_field_is_named_with_its_position() {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml")).expect("guide");
    let (_dir, path) = temp_file("typo.toml", &spec.replace("create_bucket = true", "create_buckets = true"));
    xrepl()
        .args(["plan", "--spec"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("create_buckets"))
        .stderr(predicate::str::contains("typo.toml:"));
}

#[test]
fn unreachable_endpoint_is_a_remote_error() {
    xrepl()
        .args(["plan", "--spec", "fixtures/guide/spec.toml", "--endpoint", "http://127.0.0.1:9"])
        .timeout(Duration::from_secs(120))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("111111111111"));
    xrepl().args(["health", "--endpoint", "http://127.0.0.1:9"]).assert().code(3).stderr(predicate::str::contains("cannot reach"));
}

/// A served emulator on a free port, stopped on drop.
struct Served {
    child: Child,
    endpoint: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Served {
    serve_with(&[])
}

/// `xrepl serve` with these extra arguments.
fn serve_with(args: &[&str]) -> Served {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let child = StdCommand::new(assert_cmd::cargo::cargo_bin("xrepl"))
        .args(["serve", "--port", &port.to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "xrepl serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Served { child, endpoint }
}

#[test]
fn serve_health_plan_apply_twice_verify_destroy() {
    let s = serve();
    xrepl().args(["health", "--endpoint", &s.endpoint]).assert().success().stdout(predicate::str::contains("healthy"));
    let spec = ["--spec", "fixtures/guide/spec.toml", "--endpoint", s.endpoint.as_str()];
    xrepl().arg("plan").args(spec).assert().success().stdout(predicate::str::contains("+ source bucket"));
    xrepl().arg("apply").args(spec).assert().success().stdout(predicate::str::contains("applied:"));
    xrepl().arg("apply").args(spec).assert().success().stdout(predicate::str::contains("no changes"));
    xrepl().arg("plan").args(spec).assert().success().stdout(predicate::str::contains("no changes"));
    xrepl().arg("verify").args(spec).args(["--timeout", "30"]).assert().success().stdout(predicate::str::contains("PASS"));
    xrepl().arg("destroy").args(spec).args(["--force"]).assert().success().stdout(predicate::str::contains("removed"));
}

#[test]
fn wrong_credentials_are_a_remote_error_naming_the_code() {
    let s = serve();
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml")).expect("guide");
    let spec =
        spec.replace("http://127.0.0.1:4566", &s.endpoint).replacen("secret_access_key = \"test\"", "secret_access_key = \"wrong\"", 1);
    let (_dir, path) = temp_file("wrong-secret.toml", &spec);
    xrepl().args(["plan", "--spec"]).arg(&path).assert().code(3).stderr(predicate::str::contains("SignatureDoesNotMatch"));
}

/// `xrepl serve --host HOST --port 0`: what it prints on stderr before it is ready.
fn serve_stderr(host: &str) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("xrepl"))
        .args(["serve", "--host", host, "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    // The first stdout line comes after any warning, once the server listens.
    stdout.read_line(&mut first).expect("read stdout");
    let _ = child.kill();
    let output = child.wait_with_output().expect("wait");
    assert!(first.contains("xrepl emulator"), "serve --host {host} started: {first:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_warns_when_bound_to_a_non_loopback_address() {
    let stderr = serve_stderr("0.0.0.0");
    assert!(stderr.contains("warning: serving on 0.0.0.0 (not a loopback address)"), "{stderr}");
    let stderr = serve_stderr("127.0.0.1");
    assert!(!stderr.contains("warning"), "no warning on loopback: {stderr}");
}

/// The status of `GET /_xrepl/health` sent to `endpoint` with this Host header.
fn health_status_as(endpoint: &str, host: &str) -> u16 {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(endpoint.trim_start_matches("http://")).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    write!(stream, "GET /_xrepl/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn serve_allow_host_lets_admin_endpoints_answer_that_name() {
    let s = serve_with(&["--allow-host", "xrepl.test", "--allow-host", "proxy.internal"]);
    assert_eq!(health_status_as(&s.endpoint, "xrepl.test:4566"), 200);
    assert_eq!(health_status_as(&s.endpoint, "proxy.internal"), 200);
    assert_eq!(health_status_as(&s.endpoint, "localhost:4566"), 200);
    assert_eq!(health_status_as(&s.endpoint, "evil.example:4566"), 403, "names not allowed are refused (DNS rebinding)");
    xrepl().args(["health", "--endpoint", &s.endpoint]).assert().success();
    xrepl().args(["serve", "--help"]).assert().success().stdout(predicate::str::contains("--allow-host <NAME>"));
}

#[test]
fn serve_rejects_malformed_key_pairs() {
    xrepl()
        .args(["serve", "--key", "111111111111:only-two"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ACCOUNT:ACCESS_KEY_ID:SECRET"));
}

#[test]
fn help_has_examples_and_exit_codes() {
    xrepl().arg("--help").assert().success().stdout(predicate::str::contains("Examples:")).stdout(predicate::str::contains("Exit codes"));
    xrepl().args(["apply", "--help"]).assert().success().stdout(predicate::str::contains("--side"));
}

#[test]
fn export_minimal_prints_aws_minimal_bucket_policy_without_replicate_tags() {
    // AWS User Guide, setting-repl-config-perm-overview: "Permissions for the s3:ReplicateObject
    // action on the destination bucket also allow replication of object tags, so you don't need to
    // explicitly grant permission for the s3:ReplicateTags action."
    let args = ["export", "--spec", "fixtures/guide/spec.toml", "--document", "bucket-policy"];
    let full = xrepl().args(args).assert().success().get_output().stdout.clone();
    assert!(String::from_utf8_lossy(&full).contains("s3:ReplicateTags"));
    let out = xrepl().args(args).arg("--minimal").assert().success().get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    let text = v.to_string();
    assert!(text.contains("s3:ReplicateObject") && text.contains("s3:ReplicateDelete") && !text.contains("s3:ReplicateTags"), "{text}");
    xrepl()
        .args(["export", "--spec", "fixtures/broken/deny-replicate-tags.toml", "--minimal"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bucket_policy_file"));
}

#[test]
fn a_failed_apply_lists_what_it_did_and_what_remains_in_json_and_text() {
    let s = serve();
    let spec = ["--spec", "fixtures/broken/destination-unversioned.toml", "--endpoint", s.endpoint.as_str()];
    let out = xrepl().arg("apply").args(spec).args(["--output", "json"]).assert().code(3).get_output().stdout.clone();
    let v: serde_json::Value = serde_json::from_slice(&out).expect("one JSON document");
    assert!(
        v["error"].as_str().is_some_and(|e| e.starts_with("PutBucketReplication on account 111111111111 failed: InvalidRequest")),
        "{v}"
    );
    assert_eq!(v["exit_code"], 3);
    let done: Vec<&str> = v["done"].as_array().expect("done").iter().filter_map(|c| c["operation"].as_str()).collect();
    assert!(done.contains(&"CreateRole") && done.contains(&"PutBucketPolicy"), "{v}");
    assert_eq!(v["remaining"][0]["resource"], "replication configuration", "{v}");
    assert!(v["remaining"][0]["status"].as_str().is_some_and(|s| s.starts_with("failed: ")), "{v}");
    // Text: the same on stderr, and the rerun only has the failing change left.
    xrepl()
        .arg("apply")
        .args(spec)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("0 change(s) made before the failure"))
        .stderr(predicate::str::contains("remaining: create replication configuration"))
        .stderr(predicate::str::contains("run apply again"));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn a_role_xrepl_did_not_create_is_untouched_unless_adopted_and_destroy_puts_it_back() {
    let s = serve();
    let iam = xrepl_provisioner::AccountClients::for_emulator(&s.endpoint, "111111111111", "us-east-1").iam;
    let role = "s3crr_role_for_xrepl-guide-source";
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Ec2","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let rt = runtime();
    rt.block_on(iam.create_role().role_name(role).path("/service-role/").assume_role_policy_document(trust).send()).expect("create role");
    let spec = ["--spec", "fixtures/guide/spec.toml", "--endpoint", s.endpoint.as_str()];
    xrepl().arg("plan").args(spec).assert().success().stdout(predicate::str::contains("not ours: untouched"));
    xrepl().arg("apply").args(spec).assert().code(3).stderr(predicate::str::contains("--adopt-role"));
    xrepl()
        .arg("plan")
        .args(spec)
        .arg("--adopt-role")
        .assert()
        .success()
        .stdout(predicate::str::contains("+ tag xrepl:trust-0"))
        .stdout(predicate::str::contains("\"Sid\": \"XreplStatement1\""));
    xrepl().arg("apply").args(spec).arg("--adopt-role").assert().success();
    xrepl().arg("verify").args(spec).args(["--timeout", "30"]).assert().success();
    xrepl().arg("destroy").args(spec).arg("--force").assert().success();
    let got = rt.block_on(iam.get_role().role_name(role).send()).expect("the role is still there");
    let doc = got.role().and_then(|r| r.assume_role_policy_document()).expect("trust");
    let doc = xrepl_provisioner::aws::decode_policy_document(doc).expect("json");
    assert_eq!(doc, serde_json::from_str::<serde_json::Value>(trust).expect("json"));
    assert!(got.role().is_some_and(|r| r.tags().is_empty()), "{got:?}");
}

#[test]
fn import_writes_a_spec_that_plans_no_change() {
    let s = serve();
    let spec = ["--spec", "fixtures/variants/kms.toml", "--endpoint", s.endpoint.as_str()];
    xrepl().arg("apply").args(spec).assert().success();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("imported.toml");
    xrepl()
        .args(["import", "--bucket", "xrepl-kms-source", "--account", "111111111111", "--endpoint", &s.endpoint, "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported.toml"));
    let text = std::fs::read_to_string(&out).expect("spec written");
    assert!(text.contains("replica_kms_key_id"), "{text}");
    xrepl().args(["plan", "--endpoint", &s.endpoint, "--spec"]).arg(&out).assert().success().stdout(predicate::str::contains("no changes"));
    xrepl()
        .args(["import", "--bucket", "xrepl-kms-source", "--endpoint", &s.endpoint])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--account"));
    xrepl()
        .args(["import", "--bucket", "no-such-bucket", "--account", "111111111111", "--endpoint", &s.endpoint])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn batch_replicate_runs_a_job_against_a_served_emulator() {
    let s = serve();
    let spec = ["--spec", "fixtures/batch/repair-then-replicate.toml", "--endpoint", s.endpoint.as_str()];
    xrepl().arg("apply").args(spec).assert().success();
    // Nothing in the bucket yet: the job completes with no tasks, its report written.
    xrepl().arg("batch-replicate").args(spec).assert().success().stdout(
        predicate::str::contains(": Complete — 0 task(s), 0 succeeded, 0 failed")
            .and(predicate::str::contains("report: s3://xrepl-batch-source-batch/batch-reports/job-")),
    );
    let json = xrepl().args(["--output", "json", "batch-replicate", "--status", "COMPLETED,REPLICA"]).args(spec).assert().success();
    let doc: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).expect("JSON document");
    assert_eq!((doc["status"].as_str(), doc["total"].as_i64()), (Some("Complete"), Some(0)), "{doc}");
    xrepl()
        .arg("batch-replicate")
        .args(spec)
        .args(["--status", "PENDING"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("NONE, FAILED, COMPLETED or REPLICA"));
}
