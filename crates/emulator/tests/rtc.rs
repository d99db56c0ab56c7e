//! Replication Time Control events (semantics doc §28, §51): a rule with `ReplicationTime` and
//! `Metrics` reports `OperationMissedThreshold`, `OperationReplicatedAfterThreshold` and
//! `OperationNotTracked` by how long each replication took against its threshold. The clock is
//! scaled ("15 minutes = 150 ms") and the latency control crosses the threshold on purpose; no
//! assertion depends on how fast this machine is (latency is a lower bound, real minutes an
//! upper one).

use std::time::Duration;

use serde_json::Value;
use xrepl_harness::{BackendKind, Harness, HarnessError};
use xrepl_provisioner::Spec;

const RTC_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/variants/replication-time.toml");
const GUIDE_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml");
const MISSED: &str = "s3:Replication:OperationMissedThreshold";
const AFTER: &str = "s3:Replication:OperationReplicatedAfterThreshold";
const NOT_TRACKED: &str = "s3:Replication:OperationNotTracked";
/// One RTC minute in the scaled tests: the 15-minute threshold lasts 150 ms.
const SCALED_MINUTE: Duration = Duration::from_millis(10);

fn fail(e: HarnessError) -> ! {
    panic!("{e}")
}

async fn applied(spec_file: &str) -> (Harness, Spec) {
    let h = Harness::start(BackendKind::Embedded).await.unwrap_or_else(|e| fail(e));
    let spec = h.spec_from_file(spec_file).unwrap_or_else(|e| fail(e));
    h.apply(&spec).await.unwrap_or_else(|e| fail(e));
    (h, spec)
}

fn text<'a>(record: &'a Value, path: &[&str]) -> &'a str {
    path.iter().try_fold(record, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or("<missing>")
}

/// The RTC event names delivered for `key`, in order.
async fn rtc_names(h: &Harness, key: &str) -> Vec<String> {
    let records = h.events().await.unwrap_or_else(|e| fail(e));
    records
        .iter()
        .filter(|r| text(r, &["s3", "object", "key"]) == key)
        .map(|r| text(r, &["eventName"]).to_owned())
        .filter(|n| n != "Replication:OperationFailedReplication")
        .collect()
}

#[tokio::test]
async fn replication_within_the_threshold_produces_no_rtc_event() {
    let (h, spec) = applied(RTC_SPEC).await;
    // Real minutes: a 15-minute threshold this test cannot reach.
    let version = h.put(&spec, "fast.txt", b"fast").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    h.assert_replicated(&spec, "fast.txt", &version, b"fast").await.unwrap_or_else(|e| fail(e));
    assert_eq!(rtc_names(&h, "fast.txt").await, Vec::<String>::new());
    assert!(matches!(h.assert_event(&spec, MISSED, "fast.txt").await, Err(HarnessError::Assertion(_))));
}

#[tokio::test]
async fn latency_over_the_scaled_threshold_produces_missed_then_replicated_after() {
    let (h, spec) = applied(RTC_SPEC).await;
    h.set_rtc_time_scale(&spec, SCALED_MINUTE).await.unwrap_or_else(|e| fail(e));
    // Each task waits 300 ms before it runs: twice the scaled threshold, whatever the machine.
    h.set_replication_latency(&spec, Duration::from_millis(300)).await.unwrap_or_else(|e| fail(e));
    let version = h.put(&spec, "slow.txt", b"slow").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    h.assert_replicated(&spec, "slow.txt", &version, b"slow").await.unwrap_or_else(|e| fail(e));

    assert_eq!(rtc_names(&h, "slow.txt").await, ["Replication:OperationMissedThreshold", "Replication:OperationReplicatedAfterThreshold"]);
    let missed = h.assert_event(&spec, MISSED, "slow.txt").await.unwrap_or_else(|e| fail(e));
    let after = h.assert_event(&spec, AFTER, "slow.txt").await.unwrap_or_else(|e| fail(e));
    for record in [&missed, &after] {
        // The record shape of User Guide `notification-content-structure` (version 2.2).
        assert_eq!(text(record, &["eventVersion"]), "2.2");
        assert_eq!(text(record, &["eventSource"]), "aws:s3");
        assert_eq!(text(record, &["s3", "object", "versionId"]), version);
        assert_eq!(text(record, &["s3", "bucket", "arn"]), format!("arn:aws:s3:::{}", spec.source.bucket));
        let data = &record["replicationEventData"];
        assert_eq!(text(data, &["replicationRuleId"]), "replicate-with-rtc");
        assert_eq!(text(data, &["destinationBucket"]), format!("arn:aws:s3:::{}", spec.destination.bucket));
        assert_eq!(text(data, &["s3Operation"]), "OBJECT_PUT");
        assert_eq!(text(data, &["threshold"]), "15");
        assert!(data.get("failureReason").is_none(), "{record}");
    }
    assert!(missed["replicationEventData"].get("replicationTime").is_none(), "{missed}");
    let (requested, missed_at, replicated) = (
        text(&missed, &["replicationEventData", "requestTime"]),
        text(&missed, &["eventTime"]),
        text(&after, &["replicationEventData", "replicationTime"]),
    );
    // ISO 8601 with milliseconds sorts as time: the write, the threshold passing, the replica.
    assert!(requested < missed_at && missed_at <= replicated, "{requested} {missed_at} {replicated}");
    assert!(matches!(h.assert_event(&spec, NOT_TRACKED, "slow.txt").await, Err(HarnessError::Assertion(_))));
}

#[tokio::test]
async fn missed_threshold_is_delivered_while_the_replica_is_still_pending() {
    let (h, spec) = applied(RTC_SPEC).await;
    let Some(emulator) = h.backend().emulator() else { panic!("the embedded backend has an emulator") };
    let control = emulator.replication();
    control.set_time_scale(Duration::from_millis(1));
    control.set_unavailable(&spec.destination.bucket, true);
    let version = h.put(&spec, "parked.txt", b"parked").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    // Waits for the watcher to pass the (15 ms) threshold: no sleep, no clock reading.
    control.wait_rtc().await;
    assert_eq!(rtc_names(&h, "parked.txt").await, ["Replication:OperationMissedThreshold"]);
    let status = h.source_status(&spec, "parked.txt", &version).await.unwrap_or_else(|e| fail(e));
    assert_eq!(status.as_deref(), Some("PENDING"));

    control.set_unavailable(&spec.destination.bucket, false);
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    h.assert_replicated(&spec, "parked.txt", &version, b"parked").await.unwrap_or_else(|e| fail(e));
    assert_eq!(
        rtc_names(&h, "parked.txt").await,
        ["Replication:OperationMissedThreshold", "Replication:OperationReplicatedAfterThreshold"]
    );
}

#[tokio::test]
async fn a_rule_that_loses_rtc_while_work_is_pending_reports_not_tracked() {
    let (h, mut spec) = applied(RTC_SPEC).await;
    let Some(emulator) = h.backend().emulator() else { panic!("the embedded backend has an emulator") };
    emulator.replication().pause();
    let version = h.put(&spec, "untracked.txt", b"u").await.unwrap_or_else(|e| fail(e));
    // The same rule without RTC and metrics, applied while the write is queued.
    for rule in &mut spec.rules {
        rule.replication_time = false;
        rule.metrics = false;
    }
    h.apply(&spec).await.unwrap_or_else(|e| fail(e));
    emulator.replication().resume();
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    h.assert_replicated(&spec, "untracked.txt", &version, b"u").await.unwrap_or_else(|e| fail(e));
    let record = h.assert_event(&spec, NOT_TRACKED, "untracked.txt").await.unwrap_or_else(|e| fail(e));
    assert_eq!(text(&record, &["replicationEventData", "s3Operation"]), "OBJECT_PUT");
    assert_eq!(rtc_names(&h, "untracked.txt").await, ["Replication:OperationNotTracked"]);
}

#[tokio::test]
async fn rules_without_rtc_produce_no_threshold_events() {
    let (h, spec) = applied(GUIDE_SPEC).await;
    h.set_rtc_time_scale(&spec, SCALED_MINUTE).await.unwrap_or_else(|e| fail(e));
    h.set_replication_latency(&spec, Duration::from_millis(300)).await.unwrap_or_else(|e| fail(e));
    let version = h.put(&spec, "plain.txt", b"p").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    h.assert_replicated(&spec, "plain.txt", &version, b"p").await.unwrap_or_else(|e| fail(e));
    assert_eq!(rtc_names(&h, "plain.txt").await, Vec::<String>::new());
}

#[tokio::test]
async fn the_time_scale_admin_endpoint_refuses_bad_values() {
    let (h, spec) = applied(GUIDE_SPEC).await;
    let endpoint = h.backend().endpoint(&spec.source.account_id);
    for bad in ["", "?minute_ms=0", "?minute_ms=60001", "?minute_ms=ten"] {
        let path = format!("/_xrepl/replication/time-scale{bad}");
        let (status, body) = xrepl_emulator::server::admin_client::request(&endpoint, "POST", &path, Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(status, 400, "{path}: {body}");
    }
    let Some(emulator) = h.backend().emulator() else { panic!("the embedded backend has an emulator") };
    assert_eq!(emulator.replication().time_scale(), Duration::from_secs(60), "bad values change nothing");
}

#[tokio::test]
async fn batch_replication_is_not_tracked_by_rtc() {
    let h = Harness::start(BackendKind::Embedded).await.unwrap_or_else(|e| fail(e));
    let spec = h.spec_from_file(RTC_SPEC).unwrap_or_else(|e| fail(e));
    h.create_versioned_source(&spec).await.unwrap_or_else(|e| fail(e));
    let version = h.put(&spec, "existing.txt", b"e").await.unwrap_or_else(|e| fail(e));
    h.apply(&spec).await.unwrap_or_else(|e| fail(e));
    h.set_rtc_time_scale(&spec, SCALED_MINUTE).await.unwrap_or_else(|e| fail(e));
    h.set_replication_latency(&spec, Duration::from_millis(300)).await.unwrap_or_else(|e| fail(e));
    let outcome = h.batch_replicate(&spec, &xrepl_harness::BatchFilter::existing_and_failed()).await.unwrap_or_else(|e| fail(e));
    assert_eq!((outcome.status.as_str(), outcome.succeeded), ("Complete", 1), "{outcome:?}");
    h.assert_replicated(&spec, "existing.txt", &version, b"e").await.unwrap_or_else(|e| fail(e));
    // Over the scaled threshold, yet no RTC event: RTC tracks live replication only.
    assert_eq!(rtc_names(&h, "existing.txt").await, Vec::<String>::new());
}
