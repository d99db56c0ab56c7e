//! xrepl-bench end to end against a served xrepl emulator: the guide's setup through the endpoint,
//! objects replicated and seen in the destination account, the JSON fields issue 11 names. No
//! timing is asserted (figures come from scripts/bench.sh, never from tests).

use assert_cmd::Command;
use xrepl_emulator::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicates_every_object_and_reports_the_named_fields() {
    let emulator = Emulator::start(EmulatorConfig::with_accounts(&["111111111111", "222222222222"])).await.expect("emulator starts");
    let endpoint = emulator.endpoint();
    let report =
        run_bench(&endpoint, &["--objects", "40", "--size", "100", "--concurrency", "4", "--warmup", "2", "--run-id", "t", "--json"]).await;
    for field in [
        "endpoint",
        "objects",
        "size",
        "concurrency",
        "setup_ms",
        "put_p50_ms",
        "visible_p50_ms",
        "visible_p95_ms",
        "replicated_per_s",
        "errors",
    ] {
        assert!(report.get(field).is_some(), "missing {field} in {report}");
    }
    assert_eq!(report["objects"], 40);
    assert_eq!(report["errors"], 0);

    // The replicas are really there, in the destination account, as replicas of the source versions.
    let destination = s3_client(&endpoint, "222222222222");
    let listed = destination.list_object_versions().bucket("xrepl-bench-t-destination").send().await.expect("ListObjectVersions");
    assert_eq!(listed.versions().len(), 42, "40 measured + 2 warm-up replicas");
    let head = destination.head_object().bucket("xrepl-bench-t-destination").key("measured/0000039").send().await.expect("HEAD replica");
    assert_eq!(head.replication_status(), Some(&aws_sdk_s3::types::ReplicationStatus::Replica));
    let source = s3_client(&endpoint, "111111111111");
    let original = source.head_object().bucket("xrepl-bench-t-source").key("measured/0000039").send().await.expect("HEAD source");
    assert_eq!(original.replication_status(), Some(&aws_sdk_s3::types::ReplicationStatus::Completed));
    assert_eq!(original.version_id(), head.version_id(), "the replica keeps the source's version id");
}

fn s3_client(endpoint: &str, account: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(aws_credential_types::Credentials::new(account, "test", None, None, "test"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[test]
fn a_server_that_is_not_there_is_an_error_not_a_report() {
    let output = Command::cargo_bin("xrepl-bench")
        .expect("xrepl-bench is built")
        .args(["--endpoint", "http://127.0.0.1:9", "--objects", "1", "--deadline-s", "5", "--json"])
        .output()
        .expect("xrepl-bench runs");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no report on failure: {}", String::from_utf8_lossy(&output.stdout));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CreateBucket"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_fills_a_bucket_and_checks_each_timed_page() {
    let emulator = Emulator::start(EmulatorConfig::with_accounts(&["111111111111"])).await.expect("emulator starts");
    let endpoint = emulator.endpoint();
    let report = run_bench(&endpoint, &["--list-keys", "2500", "--concurrency", "8", "--run-id", "l"]).await;
    assert_eq!(report["keys"], 2500);
    assert_eq!(report["list_pages"], 21);
    assert!(report["list_p50_ms"].is_number() && report["list_max_ms"].is_number(), "{report}");
}

/// Runs xrepl-bench against `endpoint` (off the async runtime, which serves the emulator) and
/// returns its JSON report, failing the test on a non-zero exit.
async fn run_bench(endpoint: &str, args: &[&str]) -> serde_json::Value {
    let mut command = Command::cargo_bin("xrepl-bench").expect("xrepl-bench is built");
    command.arg("--endpoint").arg(endpoint).args(args);
    let output =
        tokio::task::spawn_blocking(move || command.output().expect("xrepl-bench runs")).await.expect("the blocking task finishes");
    assert!(output.status.success(), "xrepl-bench failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

#[test]
fn zero_keys_or_tasks_is_a_usage_error() {
    for args in [["--list-keys", "0", "--concurrency", "4"], ["--list-keys", "10", "--concurrency", "0"]] {
        let output = Command::cargo_bin("xrepl-bench")
            .expect("xrepl-bench is built")
            .args(["--endpoint", "http://127.0.0.1:9"])
            .args(args)
            .output()
            .expect("xrepl-bench runs");
        assert!(!output.status.success(), "{args:?} accepted");
        assert!(String::from_utf8_lossy(&output.stderr).contains("must be at least 1"), "{}", String::from_utf8_lossy(&output.stderr));
    }
}
