//! Every backend runs the guide's scenario through the harness API, and the bridge is checked
//! on its own between two single-account emulators in this process (no Docker needed).
//!
//! The Docker and LocalStack tests are `#[ignore]`d so a plain `cargo test` needs neither; run
//! them with `cargo test -p xrepl-harness --test backends -- --ignored`. Run that way they FAIL
//! when the backend cannot start: an unavailable backend is never reported as a pass.

use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, StorageClass, VersioningConfiguration};
use xrepl_emulator::{Emulator, EmulatorConfig};
use xrepl_harness::backends::bridge::{Bridge, BucketRef};
use xrepl_harness::backends::localstack::LocalStackBackend;
use xrepl_harness::{BackendKind, Capability, Harness, HarnessError};
use xrepl_provisioner::{AccountClients, RuleSpec};

const GUIDE_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml");
const A: &str = "111111111111";
const B: &str = "222222222222";

fn fail(e: HarnessError) -> ! {
    panic!("{e}")
}

/// The guide's setup on `kind`: an object written before the rule stays put, a new object
/// replicates (bytes, owner B where observable), a later tag change follows, a delete marker
/// replicates, and a permanent delete of a version does not.
async fn guide_scenario(kind: BackendKind) -> Result<(), HarnessError> {
    let started = Instant::now();
    let h = Harness::start(kind).await?;
    eprintln!("{kind}: started in {:?}", started.elapsed());
    let spec = h.spec_from_file(GUIDE_SPEC)?;

    // Before the rule exists: the source bucket with one object (never replicated, §3).
    let src = h.source(&spec)?.s3();
    src.create_bucket().bucket(&spec.source.bucket).send().await.map_err(|e| HarnessError::aws("CreateBucket", &e))?;
    let enabled = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
    src.put_bucket_versioning()
        .bucket(&spec.source.bucket)
        .versioning_configuration(enabled)
        .send()
        .await
        .map_err(|e| HarnessError::aws("PutBucketVersioning", &e))?;
    h.put(&spec, "before-the-rule.txt", b"old").await?;

    h.apply(&spec).await?;

    let key = "reports/q1.csv";
    let data = b"quarter,revenue\nq1,100\n";
    let version = h.put(&spec, key, data).await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, key, &version, data).await?;
    h.assert_not_replicated(&spec, "before-the-rule.txt").await?;
    if h.supports(Capability::DistinctOwners) {
        let a = h.account(A)?.canonical_id().await?;
        let b = h.account(B)?.canonical_id().await?;
        assert!(a != b && a.len() == 64 && b.len() == 64, "canonical ids A={a} B={b}");
        h.assert_owner(&spec, key, &spec.destination.account_id).await?;
    }

    h.tag(&spec, key, &[("team", "a"), ("stage", "final")]).await?;
    h.wait_for_replication().await?;
    h.assert_tags(&spec, key, &[("team", "a"), ("stage", "final")]).await?;

    let v2 = h.put(&spec, key, b"second version").await?;
    h.wait_for_replication().await?;
    h.assert_replicated(&spec, key, &v2, b"second version").await?;

    let marker = h.delete(&spec, key).await?;
    h.wait_for_replication().await?;
    h.assert_delete_marker(&spec, key, &marker).await?;

    // A permanent delete (with a version id) is never replicated: the replica keeps 2 versions.
    h.delete_version(&spec, key, &version).await?;
    h.wait_for_replication().await?;
    let listed = h
        .destination(&spec)?
        .s3()
        .list_object_versions()
        .bucket(&spec.destination.bucket)
        .prefix(key)
        .send()
        .await
        .map_err(|e| HarnessError::aws("ListObjectVersions", &e))?;
    assert_eq!(listed.versions().len(), 2, "replica versions after a permanent source delete: {:?}", listed.versions());
    assert!(h.failures().await?.is_empty(), "unexpected failures: {:?}", h.failures().await?);
    Ok(())
}

#[tokio::test]
async fn embedded_runs_the_guide() {
    guide_scenario(BackendKind::Embedded).await.unwrap_or_else(|e| fail(e));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker (or LocalStack venv); run by .ci/run"]
async fn container_runs_the_guide() {
    guide_scenario(BackendKind::Container).await.unwrap_or_else(|e| fail(e));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker (or LocalStack venv); run by .ci/run"]
async fn two_containers_run_the_guide() {
    guide_scenario(BackendKind::TwoContainers).await.unwrap_or_else(|e| fail(e));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker (or LocalStack venv); run by .ci/run"]
async fn localstack_runs_the_guide() {
    guide_scenario(BackendKind::LocalStack).await.unwrap_or_else(|e| fail(e));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker (or LocalStack venv); run by .ci/run"]
async fn container_reports_failures_through_the_admin_endpoint() {
    let run = async {
        let h = Harness::start(BackendKind::Container).await?;
        let spec = h.spec_from_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/broken/role-trusts-ec2.toml"))?;
        h.apply(&spec).await?;
        let version = h.put(&spec, "probe.txt", b"x").await?;
        h.wait_for_replication().await?;
        let reason = spec.expectation.replication_failure.clone().unwrap_or_else(|| "AssumeRoleNotPermitted".to_owned());
        let failure = h.assert_failed(&spec, "probe.txt", &version, &reason).await?;
        assert!(failure.explanation.contains(&reason), "{}", failure.explanation);
        Ok::<_, HarnessError>(())
    };
    run.await.unwrap_or_else(|e| fail(e));
}

/// The testcontainers module as a user outside the harness starts it (the LocalStack module's
/// convention): default readiness (the image's health check), the mapped port 4566, an extra
/// account and a data dir from the builder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker (or LocalStack venv); run by .ci/run"]
async fn container_image_module_starts_like_the_localstack_module() {
    use testcontainers::runners::AsyncRunner;
    use xrepl_harness::image::DATA_DIR;
    use xrepl_harness::XreplImage;

    // Reports a missing image or an old engine (and puts the API shim in front of it).
    xrepl_harness::backends::container::docker_preflight("container").await.unwrap_or_else(|e| fail(e));
    let container = XreplImage::default()
        .with_account("333333333333")
        .with_data_dir(DATA_DIR)
        .start()
        .await
        .unwrap_or_else(|e| panic!("XreplImage::default().start(): {e}"));
    let port = container.get_host_port_ipv4(4566).await.unwrap_or_else(|e| panic!("port 4566 is not published: {e}"));
    let endpoint = format!("http://127.0.0.1:{port}");
    let (status, body) =
        xrepl_emulator::server::admin_client::request(&endpoint, "GET", "/_xrepl/health", std::time::Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("health at {endpoint}: {e}"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("333333333333") && body.contains(A), "accounts from the builder and the defaults: {body}");
    let c = AccountClients::for_emulator(&endpoint, "333333333333", "us-east-1");
    c.s3.create_bucket().bucket("module-bucket").send().await.unwrap_or_else(|e| fail(HarnessError::aws("CreateBucket", &e)));
    let listed = c.s3.list_buckets().send().await.unwrap_or_else(|e| fail(HarnessError::aws("ListBuckets", &e)));
    assert_eq!(listed.buckets().iter().filter_map(|b| b.name()).collect::<Vec<_>>(), ["module-bucket"]);
}

/// A harness in a `static` is never dropped, so its container must go when the process does: the
/// child (this binary again) starts a shared container harness, uses it and exits; the parent
/// waits for the emulator to stop answering and for Docker to list no container on that port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Docker (or LocalStack venv); run by .ci/run"]
async fn container_shared_in_a_static_is_removed_when_the_process_ends() {
    const CHILD: &str = "XREPL_SHARED_CONTAINER_CHILD";
    static SHARED: tokio::sync::OnceCell<Harness> = tokio::sync::OnceCell::const_new();
    if std::env::var_os(CHILD).is_some() {
        let h = SHARED.get_or_try_init(|| Harness::builder().backend(BackendKind::Container).start()).await.unwrap_or_else(|e| fail(e));
        let spec = h.spec_from_file(GUIDE_SPEC).unwrap_or_else(|e| fail(e));
        h.apply(&spec).await.unwrap_or_else(|e| fail(e));
        let endpoint = h.backend().endpoint(A);
        let port = endpoint.rsplit(':').next().unwrap_or_default().to_owned();
        let id = std::process::Command::new("docker").args(["ps", "-q", "--filter", &format!("publish={port}")]).output();
        println!("ENDPOINT={endpoint}");
        println!("CONTAINER={}", id.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default());
        return; // the static is never dropped: nothing removes the container but the lease
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut child = std::process::Command::new(exe);
    // This process may have pointed DOCKER_HOST at its own API shim (an older engine): the child
    // starts its own, so it gets the engine's address as this process got it.
    if std::env::var("DOCKER_HOST").is_ok_and(|h| h.starts_with("tcp://127.0.0.1:")) {
        child.env_remove("DOCKER_HOST");
    }
    let out = child
        .args(["--ignored", "--exact", "container_shared_in_a_static_is_removed_when_the_process_ends", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap_or_else(|e| panic!("running the child: {e}"));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child failed:\n{printed}");
    let endpoint = printed.lines().find_map(|l| l.strip_prefix("ENDPOINT=")).unwrap_or_else(|| panic!("no endpoint in:\n{printed}"));
    let id = printed.lines().find_map(|l| l.strip_prefix("CONTAINER=")).unwrap_or_default().to_owned();
    assert!(!id.is_empty(), "the child found no container publishing {endpoint}:\n{printed}");
    let deadline = Instant::now() + std::time::Duration::from_secs(45);
    loop {
        let answering = xrepl_emulator::server::admin_client::request(endpoint, "GET", "/_xrepl/health", std::time::Duration::from_secs(2))
            .await
            .is_ok();
        let still_there = std::process::Command::new("docker").args(["inspect", &id]).output().is_ok_and(|o| o.status.success());
        if !answering && !still_there {
            break;
        }
        assert!(Instant::now() < deadline, "45 s after the process ended: answering={answering}, container listed={still_there}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn localstack_without_a_venv_is_unavailable_and_says_how_to_install() {
    match LocalStackBackend::start_from_venv("/nonexistent/xrepl-localstack-venv".as_ref()).await {
        Err(HarnessError::Unavailable { reason, .. }) => assert!(reason.contains("scripts/install-localstack.sh"), "{reason}"),
        Err(e) => panic!("expected Unavailable, got {e}"),
        Ok(_) => panic!("started LocalStack from a venv that does not exist"),
    }
}

// ---------------------------------------------------------------------------------------------
// The bridge between two emulators that each host one account (what two containers are).

struct TwoEmulators {
    _a: Emulator,
    _b: Emulator,
    a: AccountClients,
    b: AccountClients,
}

async fn two_emulators() -> TwoEmulators {
    let ea = Emulator::start(EmulatorConfig::with_accounts(&[A])).await.unwrap_or_else(|e| panic!("emulator A: {e}"));
    let eb = Emulator::start(EmulatorConfig::with_accounts(&[B])).await.unwrap_or_else(|e| panic!("emulator B: {e}"));
    let a = AccountClients::for_emulator(&ea.endpoint(), A, "us-east-1");
    let b = AccountClients::for_emulator(&eb.endpoint(), B, "us-east-1");
    TwoEmulators { _a: ea, _b: eb, a, b }
}

async fn versioned_bucket(c: &AccountClients, bucket: &str, versioned: bool) {
    c.s3.create_bucket().bucket(bucket).send().await.unwrap_or_else(|e| panic!("CreateBucket {bucket}: {e:?}"));
    if versioned {
        let on = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
        c.s3.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(on)
            .send()
            .await
            .unwrap_or_else(|e| panic!("versioning {bucket}: {e:?}"));
    }
}

async fn put(c: &AccountClients, bucket: &str, key: &str, body: &str, tagging: Option<&str>) -> String {
    let out =
        c.s3.put_object()
            .bucket(bucket)
            .key(key)
            .content_type("text/csv")
            .metadata("origin", "bridge-test")
            .set_tagging(tagging.map(str::to_owned))
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
    out.version_id().unwrap_or_default().to_owned()
}

async fn latest_body(c: &AccountClients, bucket: &str, key: &str) -> Option<String> {
    let out = c.s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    let bytes = out.body.collect().await.ok()?.into_bytes();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn rules() -> Vec<RuleSpec> {
    // logs/ at priority 1 without delete markers; everything tagged team=a at priority 2 (wins
    // where both match); a whole-bucket rule at priority 0 with delete markers and a storage class.
    let mut logs = RuleSpec::new("logs", 1);
    logs.prefix = Some("logs/".to_owned());
    let mut team = RuleSpec::new("team-a", 2);
    team.tags.insert("team".to_owned(), "a".to_owned());
    let mut all = RuleSpec::new("all", 0);
    all.delete_marker_replication = true;
    all.storage_class = Some("STANDARD_IA".to_owned());
    vec![logs, team, all]
}

#[tokio::test]
async fn bridge_replicates_between_two_single_account_emulators() {
    let t = two_emulators().await;
    versioned_bucket(&t.a, "bridge-src", true).await;
    versioned_bucket(&t.b, "bridge-dst", true).await;
    put(&t.a, "bridge-src", "existing.csv", "before", None).await;
    let bridge = Bridge::new(
        rules(),
        BucketRef { client: t.a.s3.clone(), bucket: "bridge-src".to_owned() },
        BucketRef { client: t.b.s3.clone(), bucket: "bridge-dst".to_owned() },
    );
    assert_eq!(bridge.snapshot().await.unwrap_or_else(|e| fail(e)), 1);

    let v1 = put(&t.a, "bridge-src", "data/x.csv", "one", None).await;
    let v2 = put(&t.a, "bridge-src", "data/x.csv", "two", Some("team=a")).await;
    put(&t.a, "bridge-src", "logs/app.log", "log line", None).await;
    let report = bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e));
    assert_eq!(report.objects, 3, "{report:?}");
    assert_eq!(bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e)).objects, 0, "a second sync copies nothing");

    // Existing objects are not replicated; the latest replica is the latest source version.
    assert_eq!(latest_body(&t.b, "bridge-dst", "existing.csv").await, None);
    assert_eq!(latest_body(&t.b, "bridge-dst", "data/x.csv").await.as_deref(), Some("two"));
    assert!(bridge.destination_version("data/x.csv", &v1).await.is_some());
    let replica_v2 = bridge.destination_version("data/x.csv", &v2).await.unwrap_or_default();
    assert!(!replica_v2.is_empty() && replica_v2 != v2, "the destination assigns its own version id");

    // Metadata, content type, tags and the storage class of the rule that won.
    let head = t.b.s3.head_object().bucket("bridge-dst").key("data/x.csv").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(head.content_type(), Some("text/csv"));
    assert_eq!(head.metadata().and_then(|m| m.get("origin")).map(String::as_str), Some("bridge-test"));
    // team-a (priority 2) beat all (priority 0): no storage class from `all`.
    assert_ne!(head.storage_class(), Some(&StorageClass::StandardIa));
    let log_head = t.b.s3.head_object().bucket("bridge-dst").key("logs/app.log").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_ne!(log_head.storage_class(), Some(&StorageClass::StandardIa), "logs (priority 1) beat all (priority 0)");
    let v1_head =
        t.b.s3
            .head_object()
            .bucket("bridge-dst")
            .key("data/x.csv")
            .version_id(bridge.destination_version("data/x.csv", &v1).await.unwrap_or_default())
            .send()
            .await;
    assert_eq!(v1_head.ok().and_then(|h| h.storage_class().cloned()), Some(StorageClass::StandardIa), "v1 matched only `all`");
    let tags = t.b.s3.get_object_tagging().bucket("bridge-dst").key("data/x.csv").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(tags.tag_set().iter().map(|t| (t.key(), t.value())).collect::<Vec<_>>(), vec![("team", "a")]);

    // A later tag change follows the replica.
    let new_tags = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("team").value("a").build().unwrap_or_else(|e| panic!("{e}")))
        .tag_set(aws_sdk_s3::types::Tag::builder().key("reviewed").value("yes").build().unwrap_or_else(|e| panic!("{e}")))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    t.a.s3.put_object_tagging().bucket("bridge-src").key("data/x.csv").tagging(new_tags).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e)).tag_updates, 1);
    let tags = t.b.s3.get_object_tagging().bucket("bridge-dst").key("data/x.csv").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(tags.tag_set().len(), 2);

    // Delete markers: a tag filter never matches one, and only rules with delete-marker
    // replication take part (as the emulator's engine decides, plan.rs): `all` replicates both.
    t.a.s3.delete_object().bucket("bridge-src").key("data/x.csv").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    t.a.s3.delete_object().bucket("bridge-src").key("logs/app.log").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    let report = bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e));
    assert_eq!((report.delete_markers, report.ineligible), (2, 0), "{report:?}");
    assert_eq!(latest_body(&t.b, "bridge-dst", "data/x.csv").await, None);

    // ...and a permanent delete of a version is never replicated.
    t.a.s3.delete_object().bucket("bridge-src").key("data/x.csv").version_id(&v1).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e));
    let listed = t.b.s3.list_object_versions().bucket("bridge-dst").prefix("data/x.csv").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(listed.versions().len(), 2);
    assert!(bridge.failures().await.is_empty());
}

#[tokio::test]
async fn bridge_fails_like_aws_when_the_destination_is_unversioned() {
    let t = two_emulators().await;
    versioned_bucket(&t.a, "plain-src", true).await;
    versioned_bucket(&t.b, "plain-dst", false).await;
    let bridge = Bridge::new(
        vec![RuleSpec::new("all", 1)],
        BucketRef { client: t.a.s3.clone(), bucket: "plain-src".to_owned() },
        BucketRef { client: t.b.s3.clone(), bucket: "plain-dst".to_owned() },
    );
    bridge.snapshot().await.unwrap_or_else(|e| fail(e));
    let v = put(&t.a, "plain-src", "k", "v", None).await;
    let report = bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e));
    assert_eq!(report.failed, 1);
    let failures = bridge.failures().await;
    assert_eq!(failures.len(), 1);
    assert_eq!(
        (failures[0].reason.as_str(), failures[0].version_id.as_str(), failures[0].rule_id.as_str()),
        ("DstBucketUnversioned", v.as_str(), "all")
    );
    assert!(failures[0].explanation.contains("versioning"), "{}", failures[0].explanation);
    // FAILED is final: the next sync does not retry it.
    assert_eq!(bridge.sync_until_idle().await.unwrap_or_else(|e| fail(e)), Default::default());
}
