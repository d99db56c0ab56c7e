//! The replication engine (semantics doc §2–§10).
//!
//! Writes to a bucket with a replication configuration are planned under the world lock
//! ([`on_change`]: eligibility, priority, `PENDING`), then queued. One worker takes tasks from the
//! queue and, for each destination, does what S3 does: assume the role, check every read and
//! write with the role's policies (and, cross-account, the destination bucket policy), copy with
//! the source's version id, and record `COMPLETED` or `FAILED` with AWS's failure reason.
//! Tests steer it through [`ReplicationControl`]: drain, pause, latency, unavailable buckets.
//!
//! The worker is supervised: a panic while processing one task marks that task `FAILED` with the
//! reason `InternalError` (and an event and an error log line saying so), and the worker goes on
//! with the next task, so `drain` still returns.

pub mod batch;
mod engine;
mod plan;
mod rtc;

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Weak};

use tokio::task::JoinHandle;

use crate::runtime::failure;
pub use crate::runtime::failure::{
    FailureEvent, FailureReason, FAILED_REPLICATION_EVENT, MISSED_THRESHOLD_EVENT, NOT_TRACKED_EVENT, REPLICATED_AFTER_THRESHOLD_EVENT,
};
pub use crate::runtime::queue::{EngineStatus, ReplicationControl, Target, Task, TaskKind, MAX_LATENCY};
use crate::runtime::Shared;
pub use plan::on_change;
pub use rtc::spawn_watcher as spawn_rtc_watcher;

/// How long the worker waits before retrying a task whose outcome could not be committed.
const COMMIT_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// Starts the worker; it stops when the emulator (the last `Arc<Shared>`) is dropped.
pub fn spawn_worker(shared: &Arc<Shared>) -> JoinHandle<()> {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let control = shared.replication.clone();
    tokio::spawn(async move {
        loop {
            let notified = control.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Some(task) = control.next_task() else {
                notified.await;
                continue;
            };
            control.wait_latency(tokio::time::Instant::now()).await;
            let Some(shared) = weak.upgrade() else { return };
            let id = task.id;
            let attempt = task.clone();
            let destinations: Vec<String> = task.targets.iter().map(|t| t.destination_bucket.clone()).collect();
            let engine::Processed { parked, mut events, completed } = process_supervised(&shared, &control, task);
            let waiting = |d: &String| parked.as_ref().is_some_and(|p| p.targets.iter().any(|t| &t.destination_bucket == d));
            let done: Vec<(String, bool)> =
                destinations.iter().filter(|d| !waiting(d)).map(|d| (d.clone(), completed.contains(d))).collect();
            // Durable mode: the outcome and the task's removal are committed together, so a
            // crash either repeats the task (idempotent: same version id) or never loses it.
            let finished = if parked.is_none() { vec![id] } else { Vec::new() };
            if let Err(e) = shared.checkpoint(&finished) {
                // The outcome was undone (in memory too): the version is PENDING again and the
                // task still on disk, so it goes back in the queue and is tried again, after a
                // pause, until the disk takes it (e.g. once space is freed), without a restart.
                tracing::error!("replication outcome could not be made durable ({e}); the task is retried");
                drop(shared);
                tokio::time::sleep(COMMIT_RETRY_PAUSE).await;
                control.finish(id, Some(attempt), Vec::new());
                continue;
            }
            events.extend(rtc::on_finished(&shared, id, &done));
            drop(shared);
            control.finish(id, parked, events);
        }
    })
}

/// Processes a task; a panic fails the task (every destination `FAILED` with `InternalError`,
/// an event and an error log line) instead of killing the worker.
fn process_supervised(shared: &Shared, control: &ReplicationControl, task: Task) -> engine::Processed {
    let attempt = task.clone();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if control.panics_on(&attempt.key) {
            panic!("fault injected for key {:?}", attempt.key);
        }
        engine::process(shared, attempt)
    }));
    let payload = match outcome {
        Ok(done) => return done,
        Err(payload) => payload,
    };
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    tracing::error!(
        bucket = %task.source_bucket, key = %task.key, version_id = %task.version_id,
        "replication worker panicked while processing a task, which is marked FAILED (InternalError): {message}"
    );
    let failure = failure::Failure::new(
        FailureReason::InternalError,
        format!("The xrepl emulator failed while replicating this version (a bug in the emulator, not in your setup): {message}"),
    );
    let mut world = shared.world();
    let events = task
        .targets
        .iter()
        .map(|target| {
            engine::record_status(
                &mut world,
                &task,
                target,
                crate::state::s3::DestinationStatus::Failed { reason: FailureReason::InternalError.as_str().to_owned() },
            );
            engine::event(&world, &task, target, &failure)
        })
        .collect();
    engine::Processed { parked: None, events, completed: Vec::new() }
}
