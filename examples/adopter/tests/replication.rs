//! Acme's replication tests: one emulator (two AWS accounts, from the spec) shared by every test
//! of this binary. README.md's "Use it in your project" shows the top of this file verbatim.

use tokio::sync::OnceCell;
use xrepl_harness::prelude::*;

static HARNESS: OnceCell<(Harness, Spec)> = OnceCell::const_new();

async fn harness() -> Result<&'static (Harness, Spec), HarnessError> {
    HARNESS
        .get_or_try_init(|| async {
            let h = Harness::builder().accounts_from_spec("replication/logs.toml").start().await?;
            let spec = h.spec_from_file("replication/logs.toml")?;
            h.apply(&spec).await?;
            Ok((h, spec))
        })
        .await
}

#[tokio::test]
async fn logs_replicate_to_the_dr_account() -> Result<(), HarnessError> {
    let (h, spec) = harness().await?;
    let version = h.put(spec, "logs/app.log", b"started").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(spec, "logs/app.log", &version, b"started").await?;
    h.assert_owner(spec, "logs/app.log", "210987654321").await?;
    // your own SDK calls take `?` too (AWS's code and message are kept)
    h.destination(spec)?.s3().head_bucket().bucket(&spec.destination.bucket).send().await?;
    Ok(())
}

#[tokio::test]
async fn deletes_replicate_as_delete_markers() -> Result<(), HarnessError> {
    let (h, spec) = harness().await?;
    h.put(spec, "logs/rotated.log", b"old").await?;
    let marker = h.delete(spec, "logs/rotated.log").await?;
    h.wait_for_replication().await?;
    h.assert_delete_marker(spec, "logs/rotated.log", &marker).await?;
    Ok(())
}

#[tokio::test]
async fn tagged_objects_replicate_and_others_do_not() -> Result<(), HarnessError> {
    let (h, spec) = harness().await?;
    let kept = h.put_tagged(spec, "audit/2026.csv", b"a,b", Some("keep=forever")).await?;
    h.put(spec, "tmp/scratch.txt", b"scratch").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(spec, "audit/2026.csv", &kept, b"a,b").await?;
    h.assert_tags(spec, "audit/2026.csv", &[("keep", "forever")]).await?;
    h.assert_not_replicated(spec, "tmp/scratch.txt").await?;

    // The team's own SDK calls use `?` as well.
    let dr = h.destination(spec)?.s3();
    let listed = dr.list_objects_v2().bucket(&spec.destination.bucket).prefix("tmp/").send().await?;
    assert_eq!(listed.key_count(), Some(0));
    Ok(())
}
