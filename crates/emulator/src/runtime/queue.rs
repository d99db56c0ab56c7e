//! The replication queue and its test controls (drain, pause, latency, unavailable buckets,
//! fault injection): state the engine works from, kept below the services so that S3 can
//! queue work and the engine can take it without either reaching into the other.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::failure::FailureEvent;
use crate::state::persist::Persist;

/// The largest replication latency a test may set ([`ReplicationControl::set_latency`]).
pub const MAX_LATENCY: Duration = Duration::from_secs(60);

/// What changed on the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TaskKind {
    /// A new object version (PutObject, CopyObject, CompleteMultipartUpload).
    Object,
    /// A delete marker created by a DELETE without version id.
    DeleteMarker,
    /// The tag set of an already replicated version changed.
    Tags,
    /// The ACL of an already replicated version changed (only without owner override).
    Acl,
}

/// One destination of a task: the rule (as configured when the write happened) that sends it there.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Target {
    pub rule_id: String,
    pub role_arn: String,
    pub rule: s3s::dto::ReplicationRule,
    pub destination_bucket: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Task {
    /// Assigned when queued; identifies the task's row in the data dir.
    #[serde(default)]
    pub id: u64,
    pub source_bucket: String,
    pub key: String,
    pub version_id: String,
    pub kind: TaskKind,
    pub targets: Vec<Target>,
    /// When the write that caused this task happened (the event's `requestTime`).
    pub requested: time::OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStatus {
    pub queued: usize,
    pub parked: usize,
    pub paused: bool,
    pub processed: u64,
}

#[derive(Default)]
struct ControlState {
    queue: VecDeque<Task>,
    /// Tasks waiting for an unavailable destination bucket to come back (S3 retries these).
    parked: Vec<Task>,
    running: usize,
    paused: bool,
    latency: Duration,
    unavailable: BTreeSet<String>,
    events: Vec<FailureEvent>,
    processed: u64,
    next_id: u64,
    /// Fault injection: keys whose processing panics ([`ReplicationControl::inject_panic`]).
    panic_keys: BTreeSet<String>,
}

struct ControlInner {
    state: Mutex<ControlState>,
    changed: Notify,
    /// Durable mode: tasks are recorded before they can run.
    persist: Option<Arc<Persist>>,
}

/// Handle to the engine's queue and test controls. Cheap to clone.
#[derive(Clone)]
pub struct ReplicationControl {
    inner: Arc<ControlInner>,
}

impl Default for ReplicationControl {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplicationControl {
    pub fn new() -> Self {
        Self { inner: Arc::new(ControlInner { state: Mutex::new(ControlState::default()), changed: Notify::new(), persist: None }) }
    }

    /// A queue whose tasks are recorded in `persist` before they can run.
    pub fn durable(persist: Arc<Persist>) -> Self {
        Self {
            inner: Arc::new(ControlInner { state: Mutex::new(ControlState::default()), changed: Notify::new(), persist: Some(persist) }),
        }
    }

    /// Queues the tasks a data dir held (work queued or parked when the emulator stopped).
    pub fn restore(&self, stored: Vec<(u64, Vec<u8>)>) -> Result<(), String> {
        let mut state = self.state();
        for (id, encoded) in stored {
            let mut task: Task =
                serde_json::from_slice(&encoded).map_err(|e| format!("a queued replication task could not be read: {e}"))?;
            task.id = id;
            state.next_id = state.next_id.max(id + 1);
            state.queue.push_back(task);
        }
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, ControlState> {
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves when the queue changes (arm it before looking, so no change is missed).
    pub(crate) fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.changed.notified()
    }

    fn changed(&self) {
        self.inner.changed.notify_waiters();
    }

    pub fn enqueue(&self, mut tasks: Vec<Task>) {
        let mut state = self.state();
        for task in &mut tasks {
            task.id = state.next_id;
            state.next_id += 1;
        }
        if let Some(persist) = &self.inner.persist {
            let encoded: Vec<(u64, Vec<u8>)> = tasks.iter().filter_map(|t| serde_json::to_vec(t).ok().map(|e| (t.id, e))).collect();
            if let Err(e) = persist.add_tasks(&encoded) {
                tracing::error!("queued replication could not be recorded (it is lost on a crash): {e}");
            }
        }
        state.queue.extend(tasks);
        drop(state);
        self.changed();
    }

    /// Stops taking work from the queue (writes still queue up and show `PENDING`).
    pub fn pause(&self) {
        self.state().paused = true;
        self.changed();
    }

    pub fn resume(&self) {
        self.state().paused = false;
        self.changed();
    }

    /// Delay before each task is processed, to make `PENDING` observable or mimic S3's lag. At
    /// most [`MAX_LATENCY`] (longer is cut to it); a change applies to the task already waiting.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency.min(MAX_LATENCY);
        self.changed();
    }

    fn latency(&self) -> Duration {
        self.state().latency
    }

    /// Fault injection, for tests of the worker's supervision only: processing any task for
    /// `key` panics, as a bug in the engine would.
    pub fn inject_panic(&self, key: &str) {
        self.state().panic_keys.insert(key.to_owned());
    }

    pub(crate) fn panics_on(&self, key: &str) -> bool {
        self.state().panic_keys.contains(key)
    }

    /// Makes a destination bucket temporarily unavailable: its work stays `PENDING` and is retried
    /// when the bucket is made available again.
    pub fn set_unavailable(&self, bucket: &str, unavailable: bool) {
        let mut state = self.state();
        if unavailable {
            state.unavailable.insert(bucket.to_owned());
        } else {
            state.unavailable.remove(bucket);
            let parked = std::mem::take(&mut state.parked);
            state.queue.extend(parked);
        }
        drop(state);
        self.changed();
    }

    pub fn is_unavailable(&self, bucket: &str) -> bool {
        self.state().unavailable.contains(bucket)
    }

    /// Every replication failure so far, with xrepl's explanation and fix (whether or not the
    /// rule has metrics enabled).
    pub fn failures(&self) -> Vec<FailureEvent> {
        self.state().events.clone()
    }

    /// The `Replication:OperationFailedReplication` records AWS would deliver: only for rules
    /// with replication metrics enabled (User Guide `replication-metrics-events`).
    pub fn notifications(&self) -> Vec<serde_json::Value> {
        self.state().events.iter().filter_map(FailureEvent::aws_record).collect()
    }

    /// Forgets queued, parked and failed work (the admin reset). With `keep`, tasks it accepts stay.
    pub fn forget(&self, keep: impl Fn(&Task) -> bool) {
        let mut s = self.state();
        s.queue.retain(&keep);
        s.parked.retain(&keep);
        let buckets: BTreeSet<String> = s.queue.iter().chain(s.parked.iter()).map(|t| t.source_bucket.clone()).collect();
        s.events.retain(|e| buckets.contains(&e.source_bucket));
        drop(s);
        self.changed();
    }

    pub fn status(&self) -> EngineStatus {
        let s = self.state();
        EngineStatus { queued: s.queue.len() + s.running, parked: s.parked.len(), paused: s.paused, processed: s.processed }
    }

    /// Waits until nothing is queued or running. Parked work (unavailable destinations) does not
    /// count; while paused this waits for a resume.
    pub async fn drain(&self) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.state();
                if s.queue.is_empty() && s.running == 0 {
                    return;
                }
            }
            notified.await;
        }
    }

    pub(crate) fn next_task(&self) -> Option<Task> {
        let mut s = self.state();
        if s.paused {
            return None;
        }
        let task = s.queue.pop_front()?;
        s.running += 1;
        Some(task)
    }

    /// Waits out the latency for a task taken at `started`, re-reading it whenever the controls
    /// change (a lowered latency releases the waiting task at once).
    pub(crate) async fn wait_latency(&self, started: tokio::time::Instant) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let deadline = started + self.latency();
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return,
                () = &mut notified => {}
            }
        }
    }

    pub(crate) fn finish(&self, parked: Option<Task>, events: Vec<FailureEvent>) {
        let mut s = self.state();
        s.running = s.running.saturating_sub(1);
        s.processed += 1;
        s.events.extend(events);
        if let Some(task) = parked {
            // The bucket may have come back while we worked: then retry at once.
            if task.targets.iter().any(|t| s.unavailable.contains(&t.destination_bucket)) {
                s.parked.push(task);
            } else {
                s.queue.push_back(task);
            }
        }
        drop(s);
        self.changed();
    }
}
