//! A complete replication test written with the harness, as a user would put it in their own
//! repository (there it would be a `#[tokio::test]` in `tests/`). Run: `cargo run -p xrepl-harness --example guide_test`.

use xrepl_harness::{BackendKind, Harness, HarnessError};

#[tokio::main]
async fn main() -> Result<(), HarnessError> {
    // Two AWS accounts (111111111111 and 222222222222) in an in-process emulator: no Docker, no AWS.
    // XREPL_BACKEND=container|two-containers|localstack picks another backend.
    let h = Harness::start(BackendKind::from_env()?).await?;

    // Your spec: buckets, role, rules. The harness points both accounts at the backend.
    let spec = h.spec_from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml"))?;
    h.apply(&spec).await?;

    // Objects replicate, with their bytes, tags and (on faithful backends) version id and status.
    let version = h.put_tagged(&spec, "reports/q1.csv", b"a,b,c", Some("class=finance")).await?;
    h.wait_for_replication().await?; // no sleeps: waits until the replication queue is drained
    h.assert_replicated(&spec, "reports/q1.csv", &version, b"a,b,c").await?;
    h.assert_tags(&spec, "reports/q1.csv", &[("class", "finance")]).await?;

    // Ownership: with owner override the replica belongs to the destination account.
    if h.supports(xrepl_harness::Capability::DistinctOwners) {
        h.assert_owner(&spec, "reports/q1.csv", &spec.destination.account_id).await?;
    }

    // Deletes: a delete marker replicates; a delete of a specific version never does.
    let marker = h.delete(&spec, "reports/q1.csv").await?;
    h.wait_for_replication().await?;
    h.assert_delete_marker(&spec, "reports/q1.csv", &marker).await?;

    println!("replication works on the {} backend", h.kind());
    Ok(())
}
