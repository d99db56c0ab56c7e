//! The forgotten bucket policy fails, and what a failing test prints is readable: this binary
//! runs its own failing test as a child and checks the child's output.

use std::process::Command;

use xrepl_harness::prelude::*;

const CHILD: &str = "ACME_BROKEN_SETUP_CHILD";

async fn broken() -> Result<(), HarnessError> {
    let spec_file = "replication/logs-broken.toml";
    let h = Harness::builder().accounts_from_spec(spec_file).start().await?;
    let spec = h.spec_from_file(spec_file)?;
    h.apply(&spec).await?;
    let version = h.put(&spec, "logs/app.log", b"started").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, "logs/app.log", &version, b"started").await
}

#[tokio::test]
async fn the_forgotten_bucket_policy_fails_with_the_statement_that_fixes_it() -> Result<(), HarnessError> {
    if std::env::var_os(CHILD).is_some() {
        return broken().await; // the child: this is the test a team would have written
    }
    let me = std::env::current_exe().map_err(|e| HarnessError::Other(e.to_string()))?;
    let out = Command::new(me)
        .args(["--exact", "the_forgotten_bucket_policy_fails_with_the_statement_that_fixes_it"])
        .env(CHILD, "1")
        .output()
        .map_err(|e| HarnessError::Other(e.to_string()))?;
    let printed = String::from_utf8_lossy(&out.stdout);
    println!("the child printed:\n{printed}");
    assert!(!out.status.success());
    assert!(printed.contains("Error: assertion failed: replica of logs/app.log in s3://acme-dr-logs\n"));
    assert!(printed.contains("\n       why: replication of s3://acme-prod-logs/logs/app.log"));
    assert!(printed.contains("failed with DstPutObjectNotPermitted (rule logs)"));
    assert!(printed.contains("\"Principal\": {\n                \"AWS\": \"arn:aws:iam::123456789012:role/"));
    assert!(printed.contains("\"Resource\": \"arn:aws:s3:::acme-dr-logs/*\""));
    assert!(!printed.contains("AssertionFailure {") && !printed.contains("\\\""));
    Ok(())
}
