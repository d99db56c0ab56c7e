//! What a failing test prints: this binary runs itself as a child whose test returns the harness's
//! error (the README's `Result<(), HarnessError>` form), and reads the child's output. It must be
//! the readable layout — expected, actual, why, fix with real quotes — not a derived `Debug` dump.

use std::process::Command;

use xrepl_harness::prelude::*;

const CHILD: &str = "XREPL_FAILURE_OUTPUT_CHILD";
const TEST: &str = "a_failing_test_prints_expected_actual_why_and_fix";

/// The broken setup: no destination bucket policy, so S3 cannot write the replica.
async fn broken_replication() -> Result<(), HarnessError> {
    let h = Harness::builder().start().await?;
    let spec = h.spec_from_toml(
        r#"
        [source]
        account_id = "111111111111"
        bucket = "broken-src"
        create_bucket = true
        [destination]
        account_id = "222222222222"
        bucket = "broken-dst"
        create_bucket = true
        [[rules]]
        id = "all"
        [overrides]
        omit_bucket_policy = true
        "#,
    )?;
    h.apply(&spec).await?;
    let version = h.put(&spec, "report.csv", b"a,b").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "report.csv", &version, b"a,b").await
}

#[tokio::test]
async fn a_failing_test_prints_expected_actual_why_and_fix() -> Result<(), HarnessError> {
    if std::env::var_os(CHILD).is_some() {
        return broken_replication().await; // the child: fails on purpose
    }
    let exe = std::env::current_exe().map_err(|e| HarnessError::Other(e.to_string()))?;
    let out = Command::new(exe)
        .args(["--exact", TEST, "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .map_err(|e| HarnessError::Other(format!("running the child test: {e}")))?;
    let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child test must fail:\n{printed}");
    for expected in [
        "Error: assertion failed: replica of report.csv in s3://broken-dst\n",
        "\n  expected: version ",
        "\n    actual: GetObject failed: NoSuchVersion",
        "\n       why: replication of s3://broken-src/report.csv",
        "failed with DstPutObjectNotPermitted (rule all)",
        "\n       fix: {\n",
        "\"Action\": \"s3:ReplicateObject\"",
        "\"Resource\": \"arn:aws:s3:::broken-dst/*\"",
    ] {
        assert!(printed.contains(expected), "missing {expected:?} in:\n{printed}");
    }
    for noise in ["AssertionFailure {", "Assertion(", "\\\""] {
        assert!(!printed.contains(noise), "derived Debug noise {noise:?} in:\n{printed}");
    }
    Ok(())
}
