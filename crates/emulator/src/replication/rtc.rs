//! Replication Time Control events (semantics doc §28, §51). A rule with `ReplicationTime` and
//! `Metrics` enabled promises each replication within its threshold (15 minutes):
//! - `OperationMissedThreshold` when the threshold passes while the replication is still pending
//!   (the watcher below delivers it at that moment, whether the work is queued, delayed by the
//!   latency control, paused or parked);
//! - `OperationReplicatedAfterThreshold` when such a late replication completes;
//! - `OperationNotTracked` when a tracked replication completes under a rule that no longer has
//!   RTC and metrics (the configuration changed while it was pending).
//!
//! Tests scale the clock with [`ReplicationControl::set_time_scale`] and cross the threshold on
//! purpose with the latency control.

use std::sync::{Arc, Weak};

use tokio::task::JoinHandle;

use super::engine;
use crate::runtime::failure::{FailureEvent, MISSED_THRESHOLD_EVENT, NOT_TRACKED_EVENT, REPLICATED_AFTER_THRESHOLD_EVENT};
use crate::runtime::queue::{rtc_minutes, ReplicationControl, RtcWatch};
use crate::runtime::Shared;
use crate::state::{now, World};

/// Delivers `OperationMissedThreshold` as each tracked replication's threshold passes; stops when
/// the emulator is dropped.
pub fn spawn_watcher(shared: &Arc<Shared>) -> JoinHandle<()> {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let control: ReplicationControl = shared.replication.clone();
    tokio::spawn(async move {
        loop {
            let notified = control.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let due = control.take_missed(now());
            if !due.is_empty() {
                let Some(shared) = weak.upgrade() else { return };
                let events = {
                    let world = shared.world();
                    due.iter().map(|w| missed(&world, &control, w)).collect()
                };
                control.record(events);
                continue;
            }
            let Some(deadline) = control.next_deadline() else {
                notified.await;
                continue;
            };
            let wait = std::time::Duration::try_from(deadline - now()).unwrap_or_default();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = &mut notified => {}
            }
        }
    })
}

/// The RTC events for the destinations a task finished with (`done`: destination, completed).
pub(super) fn on_finished(shared: &Shared, task_id: u64, done: &[(String, bool)]) -> Vec<FailureEvent> {
    let control = &shared.replication;
    let mut events = Vec::new();
    for (destination, completed) in done {
        let Some(watch) = control.unwatch(task_id, destination) else { continue };
        // A failure has its own event; it is no longer pending, so no threshold event follows.
        if !completed {
            continue;
        }
        let world = shared.world();
        let Some(target) = watch.target() else { continue };
        let finished = now();
        let tracked_now = engine::current_configuration(&world, &watch.task, target).is_ok_and(|(_, rule)| rtc_minutes(&rule).is_some());
        if !tracked_now {
            events.push(rtc_event(
                &world,
                &watch,
                NOT_TRACKED_EVENT,
                finished,
                None,
                "the rule that tracked this replication no longer has Replication Time Control and metrics enabled, so replication metrics stopped tracking it.".to_owned(),
            ));
            continue;
        }
        let threshold = control.threshold(watch.minutes);
        if finished - watch.task.requested <= threshold && !watch.missed {
            continue;
        }
        if !watch.missed {
            // The watcher had not woken yet: the threshold passed before completion all the same.
            events.push(missed(&world, control, &watch));
        }
        events.push(rtc_event(
            &world,
            &watch,
            REPLICATED_AFTER_THRESHOLD_EVENT,
            finished,
            Some(finished),
            format!(
                "replicated {} after the write, over the {}-minute threshold.",
                scaled(finished - watch.task.requested, control),
                watch.minutes
            ),
        ));
    }
    events
}

fn missed(world: &World, control: &ReplicationControl, watch: &RtcWatch) -> FailureEvent {
    let at = watch.task.requested + control.threshold(watch.minutes);
    rtc_event(
        world,
        watch,
        MISSED_THRESHOLD_EVENT,
        at,
        None,
        format!("not replicated within the {}-minute Replication Time Control threshold.", watch.minutes),
    )
}

/// A duration in the rule's minutes, as the (possibly scaled) clock counts them.
fn scaled(elapsed: time::Duration, control: &ReplicationControl) -> String {
    let minute = control.time_scale().as_secs_f64();
    format!("{:.1} minutes", elapsed.as_seconds_f64() / minute)
}

fn rtc_event(
    world: &World,
    watch: &RtcWatch,
    name: &str,
    at: time::OffsetDateTime,
    replicated: Option<time::OffsetDateTime>,
    explanation: String,
) -> FailureEvent {
    let source = world.buckets.get(&watch.task.source_bucket);
    let version = source.and_then(|b| b.version(&watch.task.key, &watch.task.version_id));
    let target = watch.target();
    FailureEvent {
        event_name: name.to_owned(),
        event_time: iso8601_ms(at),
        request_time: iso8601_ms(watch.task.requested),
        region: source.map_or_else(|| world.region.clone(), |b| b.region.clone()),
        rule_id: target.map(|t| t.rule_id.clone()).unwrap_or_default(),
        metrics_enabled: true,
        source_bucket: watch.task.source_bucket.clone(),
        source_owner_canonical_id: source.map(|b| world.canonical_id(&b.owner_account)).unwrap_or_default(),
        destination_bucket: target.map(|t| t.destination_bucket.clone()).unwrap_or_default(),
        key: watch.task.key.clone(),
        version_id: watch.task.version_id.clone(),
        size: version.map_or(0, |v| v.size() as u64),
        etag: version.map(|v| v.etag.clone()).unwrap_or_default(),
        operation: if watch.task.kind == crate::runtime::queue::TaskKind::DeleteMarker { "DeleteMarker" } else { "PutObject" }.to_owned(),
        failure_reason: String::new(),
        explanation,
        fix: None,
        threshold_minutes: Some(watch.minutes),
        replication_time: replicated.map(iso8601_ms),
    }
}

/// ISO 8601 with milliseconds, as S3's event records carry times.
fn iso8601_ms(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}
