//! One harness in a `static` serves every `#[tokio::test]` of the binary, although each test
//! runs on a Tokio runtime of its own that ends with it (the LocalStack habit of one emulator per
//! test run). Each test uses its own keys; none may depend on another's order.

use tokio::sync::OnceCell;
use xrepl_harness::prelude::*;

static HARNESS: OnceCell<(Harness, Spec)> = OnceCell::const_new();

async fn shared() -> Result<&'static (Harness, Spec), HarnessError> {
    HARNESS
        .get_or_try_init(|| async {
            let h = Harness::builder().accounts(["123456789012", "210987654321"]).start().await?;
            let spec = h.spec_from_toml(
                r#"
                [source]
                account_id = "123456789012"
                bucket = "shared-src"
                create_bucket = true
                [destination]
                account_id = "210987654321"
                bucket = "shared-dst"
                create_bucket = true
                [[rules]]
                id = "all"
                delete_marker_replication = true
                "#,
            )?;
            h.apply(&spec).await?;
            Ok((h, spec))
        })
        .await
}

async fn round_trip(key: &str) -> Result<(), HarnessError> {
    let (h, spec) = shared().await?;
    let version = h.put(spec, key, key.as_bytes()).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(spec, key, &version, key.as_bytes()).await?;
    h.assert_owner(spec, key, "210987654321").await
}

// Three tests, each on its own runtime: whichever runs second and third finds the emulator the
// first one started still serving (it did not die with the first test's runtime).
#[tokio::test]
async fn first() -> Result<(), HarnessError> {
    round_trip("first.txt").await
}

#[tokio::test]
async fn second() -> Result<(), HarnessError> {
    round_trip("second.txt").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn third_on_a_multi_thread_runtime() -> Result<(), HarnessError> {
    round_trip("third.txt").await
}
