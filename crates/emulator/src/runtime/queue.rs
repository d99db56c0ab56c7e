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

/// How long an RTC minute lasts unless a test scales time ([`ReplicationControl::set_time_scale`]).
pub const REAL_MINUTE: Duration = Duration::from_secs(60);

/// The RTC threshold of a rule in minutes, when the rule is tracked by RTC: `ReplicationTime` and
/// `Metrics` both enabled (User Guide `replication-time-control`). The events use the metrics'
/// `EventThreshold`, which S3 requires to equal the replication time (15 minutes).
pub fn rtc_minutes(rule: &s3s::dto::ReplicationRule) -> Option<u32> {
    let rtc = rule.destination.replication_time.as_ref().filter(|t| t.status.as_str() == "Enabled")?;
    let metrics = rule.destination.metrics.as_ref().filter(|m| m.status.as_str() == "Enabled")?;
    let minutes = metrics.event_threshold.as_ref().and_then(|t| t.minutes).or(rtc.time.minutes).unwrap_or(15);
    Some(u32::try_from(minutes).unwrap_or(15).max(1))
}

/// One replication to one destination that RTC tracks until it completes.
#[derive(Debug, Clone)]
pub struct RtcWatch {
    /// The task with this destination as its only target.
    pub task: Task,
    pub minutes: u32,
    /// `OperationMissedThreshold` was delivered.
    pub missed: bool,
}

impl RtcWatch {
    pub fn target(&self) -> Option<&Target> {
        self.task.targets.first()
    }
}

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
    /// Queued by an S3 Batch Replication job (not live replication: RTC does not track it).
    #[serde(default)]
    pub batch: bool,
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
    /// Ids of the tasks being processed (batch jobs wait for theirs).
    running_ids: BTreeSet<u64>,
    /// Batch Replication jobs preparing or running: `drain` waits for them too.
    active_jobs: usize,
    paused: bool,
    latency: Duration,
    unavailable: BTreeSet<String>,
    events: Vec<FailureEvent>,
    processed: u64,
    next_id: u64,
    /// Fault injection: keys whose processing panics ([`ReplicationControl::inject_panic`]).
    panic_keys: BTreeSet<String>,
    /// How long an RTC minute lasts (None: a real minute).
    minute: Option<Duration>,
    /// RTC-tracked replications not yet finished.
    watches: Vec<RtcWatch>,
}

impl ControlState {
    fn minute(&self) -> Duration {
        self.minute.unwrap_or(REAL_MINUTE)
    }

    fn deadline(&self, watch: &RtcWatch) -> time::OffsetDateTime {
        watch.task.requested + self.minute() * watch.minutes
    }

    /// Starts watching the RTC-tracked targets of new live work (objects and delete markers;
    /// metadata updates and Batch Replication are not tracked by RTC).
    fn watch(&mut self, task: &Task) {
        if task.batch || !matches!(task.kind, TaskKind::Object | TaskKind::DeleteMarker) {
            return;
        }
        for target in &task.targets {
            if let Some(minutes) = rtc_minutes(&target.rule) {
                let task = Task { targets: vec![target.clone()], ..task.clone() };
                self.watches.push(RtcWatch { task, minutes, missed: false });
            }
        }
    }
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
            state.watch(&task);
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

    pub fn enqueue(&self, tasks: Vec<Task>) {
        self.enqueue_ids(tasks);
    }

    /// Queues tasks and returns the ids they were given.
    pub fn enqueue_ids(&self, mut tasks: Vec<Task>) -> BTreeSet<u64> {
        let mut state = self.state();
        for task in &mut tasks {
            task.id = state.next_id;
            state.next_id += 1;
            state.watch(task);
        }
        if let Some(persist) = &self.inner.persist {
            let encoded: Vec<(u64, Vec<u8>)> = tasks.iter().filter_map(|t| serde_json::to_vec(t).ok().map(|e| (t.id, e))).collect();
            if let Err(e) = persist.add_tasks(&encoded) {
                tracing::error!("queued replication could not be recorded (it is lost on a crash): {e}");
            }
        }
        let ids = tasks.iter().map(|t| t.id).collect();
        state.queue.extend(tasks);
        drop(state);
        self.changed();
        ids
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

    /// Scales Replication Time Control's clock for tests: how long one of the rule's threshold
    /// minutes lasts (`Duration::from_millis(10)` makes "15 minutes" 150 ms). Applies to work
    /// already queued. Zero is taken as one millisecond.
    pub fn set_time_scale(&self, minute: Duration) {
        self.state().minute = Some(minute.max(Duration::from_millis(1)));
        self.changed();
    }

    /// How long an RTC minute lasts now.
    pub fn time_scale(&self) -> Duration {
        self.state().minute()
    }

    /// The scaled RTC threshold of `minutes`.
    pub fn threshold(&self, minutes: u32) -> Duration {
        self.state().minute() * minutes
    }

    /// Takes the watches whose threshold has passed at `now` without an event yet, marking them
    /// missed (the caller delivers `OperationMissedThreshold` for each).
    pub(crate) fn take_missed(&self, now: time::OffsetDateTime) -> Vec<RtcWatch> {
        let mut s = self.state();
        let mut due = Vec::new();
        for i in 0..s.watches.len() {
            if !s.watches[i].missed && s.deadline(&s.watches[i]) <= now {
                s.watches[i].missed = true;
                due.push(s.watches[i].clone());
            }
        }
        due
    }

    /// The next threshold to pass, if anything tracked is still pending.
    pub(crate) fn next_deadline(&self) -> Option<time::OffsetDateTime> {
        let s = self.state();
        s.watches.iter().filter(|w| !w.missed).map(|w| s.deadline(w)).min()
    }

    /// Stops watching a replication that finished (completed or failed); returns the watch.
    pub(crate) fn unwatch(&self, task_id: u64, destination: &str) -> Option<RtcWatch> {
        let mut s = self.state();
        let at = s.watches.iter().position(|w| w.task.id == task_id && w.target().is_some_and(|t| t.destination_bucket == destination))?;
        Some(s.watches.remove(at))
    }

    /// Records events produced outside a task's processing (the RTC watcher's).
    pub(crate) fn record(&self, events: Vec<FailureEvent>) {
        if events.is_empty() {
            return;
        }
        self.state().events.extend(events);
        self.changed();
    }

    /// A batch job starts preparing or running: `drain` waits until [`Self::job_idle`].
    pub fn job_busy(&self) {
        self.state().active_jobs += 1;
        self.changed();
    }

    /// A batch job finished, or stopped to await confirmation.
    pub fn job_idle(&self) {
        let mut s = self.state();
        s.active_jobs = s.active_jobs.saturating_sub(1);
        drop(s);
        self.changed();
    }

    /// Waits until none of these tasks is queued, running or parked.
    pub async fn wait_finished(&self, ids: &BTreeSet<u64>) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.state();
                let pending = |t: &Task| ids.contains(&t.id);
                if !s.queue.iter().any(pending) && !s.parked.iter().any(pending) && s.running_ids.is_disjoint(ids) {
                    return;
                }
            }
            notified.await;
        }
    }

    /// Waits until every RTC-tracked replication still pending has missed its threshold (and
    /// `OperationMissedThreshold` is recorded). With time scaled this is short; with real
    /// minutes it is up to 15 of them.
    pub async fn wait_rtc(&self) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.state().watches.iter().all(|w| w.missed) {
                return;
            }
            notified.await;
        }
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
        self.state().events.iter().filter(|e| e.is_failure()).cloned().collect()
    }

    /// Every replication event so far: failures and RTC events, in the order they happened.
    pub fn events(&self) -> Vec<FailureEvent> {
        self.state().events.clone()
    }

    /// The replication event records AWS would deliver, in order: `OperationFailedReplication`
    /// only for rules with replication metrics enabled (User Guide `replication-metrics-events`),
    /// and the RTC events for rules with RTC.
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
        let live: BTreeSet<u64> = s.queue.iter().chain(s.parked.iter()).map(|t| t.id).collect();
        s.watches.retain(|w| live.contains(&w.task.id));
        drop(s);
        self.changed();
    }

    pub fn status(&self) -> EngineStatus {
        let s = self.state();
        EngineStatus { queued: s.queue.len() + s.running, parked: s.parked.len(), paused: s.paused, processed: s.processed }
    }

    /// Waits until nothing is queued or running (batch jobs included). Parked work (unavailable
    /// destinations) and jobs awaiting confirmation do not count; while paused this waits for a
    /// resume.
    pub async fn drain(&self) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.state();
                if s.queue.is_empty() && s.running == 0 && s.active_jobs == 0 {
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
        s.running_ids.insert(task.id);
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

    pub(crate) fn finish(&self, id: u64, parked: Option<Task>, events: Vec<FailureEvent>) {
        let mut s = self.state();
        s.running = s.running.saturating_sub(1);
        s.running_ids.remove(&id);
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
