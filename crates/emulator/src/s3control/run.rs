//! Running a Batch Replication job: `New` → `Preparing` (assume the job role, read or generate
//! the manifest) → `Suspended` (awaiting confirmation) or `Ready` → `Active` (one replication
//! task per manifest entry, queued into the engine) → `Complete` (report written), `Failed` (a
//! job-level failure, with its reason) or `Cancelled`. `drain` waits for jobs that are preparing
//! or running, so a test can wait for a job as it waits for live replication.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};

use super::report;
use crate::replication::batch::{self, Refusal};
use crate::replication::Task;
use crate::runtime::Shared;
use crate::state::batch::{Job, JobStatus, ManifestSource, TaskResult};
use crate::state::{now, World};

/// Where a runner starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Prepare,
    /// After confirmation (`UpdateJobStatus` to `Ready`).
    Execute,
}

/// Runs the job in the background from `phase`; `drain` waits for it.
pub fn start(shared: &Arc<Shared>, id: &str, phase: Phase) {
    shared.replication.job_busy();
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let control = shared.replication.clone();
    let id = id.to_owned();
    tokio::spawn(async move {
        if let Some(shared) = weak.upgrade() {
            let go_on = phase == Phase::Execute || prepare(&shared, &id);
            commit(&shared);
            if go_on {
                execute(&shared, &id).await;
                commit(&shared);
            }
        }
        control.job_idle();
    });
}

/// Durable mode: the job's progress (and what it wrote) is committed once a phase ends, as a
/// request's changes are before its answer; `drain` returns after it.
fn commit(shared: &Shared) {
    if let Err(e) = shared.checkpoint(&[]) {
        tracing::error!("a batch job's progress could not be made durable: {e}");
    }
}

fn fail(job: &mut Job, code: &str, reason: String) {
    job.failures.push((code.to_owned(), reason));
    job.status = JobStatus::Failed;
    job.terminated = Some(now());
}

/// `Preparing`: the role and the manifest. True when the job may run now (not suspended,
/// failed or cancelled).
fn prepare(shared: &Shared, id: &str) -> bool {
    let mut tasks = Vec::new();
    let go_on = {
        let mut world = shared.world();
        let Some(mut job) = world.batch.jobs.get(id).cloned() else { return false };
        if job.status != JobStatus::New {
            return false;
        }
        job.status = JobStatus::Preparing;
        match read_manifest(&mut world, &job, &mut tasks) {
            Ok((entries, generated)) => {
                job.entries = entries;
                job.generated_manifest = generated;
                if job.confirmation_required {
                    job.status = JobStatus::Suspended;
                    job.suspended_cause = Some("AwaitingConfirmation".to_owned());
                    job.suspended_date = Some(now());
                } else {
                    job.status = JobStatus::Ready;
                }
            }
            Err((code, reason)) => fail(&mut job, &code, reason),
        }
        let go_on = job.status == JobStatus::Ready;
        store(&mut world, job);
        go_on
    };
    shared.replication.enqueue(tasks);
    go_on
}

/// Writes the runner's copy back (preparing holds the world lock throughout, so nothing else
/// changed the job meanwhile).
fn store(world: &mut World, job: Job) {
    world.batch.jobs.insert(job.id.clone(), job);
}

type Entries = Vec<(String, String, Option<String>)>;
/// A job-level failure: (FailureCode, FailureReason).
type JobFailure = (String, String);
/// The manifest's entries and where a generated manifest was written (bucket, key).
type Manifest = (Entries, Option<(String, String)>);

/// The manifest's entries (and where a generated manifest was written), read or generated as
/// the job role; errors are the job's (FailureCode, FailureReason).
fn read_manifest(world: &mut World, job: &Job, tasks: &mut Vec<Task>) -> Result<Manifest, JobFailure> {
    let role = batch::assume_job_role(world, &job.role_arn, &job.account, &job.arn()).map_err(|e| ("AccessDenied".to_owned(), e))?;
    let denied = |what: String| ("AccessDenied".to_owned(), format!("the job role {} cannot {what}", job.role_arn));
    match &job.manifest {
        ManifestSource::Csv { bucket, key, version_id, etag, with_versions } => {
            let action = if version_id.is_some() { "s3:GetObjectVersion" } else { "s3:GetObject" };
            batch::role_may(world, &role, action, bucket, Some(key))
                .map_err(|why| denied(format!("read the manifest s3://{bucket}/{key} ({action}): {why}")))?;
            let (bytes, actual) = batch::read_object(world, bucket, key, version_id.as_deref())
                .ok_or_else(|| ("ManifestNotFound".to_owned(), format!("the manifest s3://{bucket}/{key} does not exist")))?;
            if actual != *etag {
                return Err((
                    "ManifestETagMismatch".to_owned(),
                    format!("the manifest's ETag is {actual}, the job names {etag}: the manifest changed after the job was created"),
                ));
            }
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| ("InvalidManifest".to_owned(), "the manifest is not UTF-8 text".to_owned()))?;
            let entries = report::parse_manifest(&text, *with_versions)
                .map_err(|e| ("InvalidManifest".to_owned(), format!("the manifest is not valid CSV: {e}")))?;
            Ok((entries, None))
        }
        ManifestSource::Generated(generator) => {
            let src = &generator.source_bucket;
            let Some(owner) = world.buckets.get(src).map(|b| b.owner_account.clone()) else {
                return Err(("NoSuchBucket".to_owned(), format!("the source bucket {src} does not exist")));
            };
            if generator.expected_bucket_owner.as_deref().is_some_and(|o| o != owner) {
                return Err(denied(format!("use the source bucket {src}: it is not owned by the expected bucket owner")));
            }
            // What S3 needs to build the manifest from the bucket (User Guide `s3-batch-replication-policies`).
            for action in ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"] {
                batch::role_may(world, &role, action, src, None).map_err(|why| denied(format!("{action} on bucket {src}: {why}")))?;
            }
            let entries = batch::generate_manifest(world, generator);
            let mut written = None;
            if let Some((bucket, prefix)) = &generator.output {
                let base = if prefix.is_empty() { String::new() } else { format!("{}/", prefix.trim_end_matches('/')) };
                let key = format!("{base}job-{}/manifest.csv", job.id);
                batch::role_may(world, &role, "s3:PutObject", bucket, Some(&key))
                    .map_err(|why| denied(format!("write the generated manifest to s3://{bucket}/{key}: {why}")))?;
                let (_, more) = batch::write_object(world, bucket, &key, report::manifest_csv(&entries), "text/csv")
                    .ok_or_else(|| ("NoSuchBucket".to_owned(), format!("the manifest output bucket {bucket} does not exist")))?;
                tasks.extend(more);
                written = Some((bucket.clone(), key));
            }
            Ok((entries, written))
        }
    }
}

fn task_failed(bucket: &str, key: &str, version: &str, (code, status, message): Refusal) -> TaskResult {
    TaskResult {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: version.to_owned(),
        succeeded: false,
        error_code: code,
        http_status: status,
        message,
    }
}

/// `Active`: one replication task per entry into the engine, then the results and the report.
async fn execute(shared: &Shared, id: &str) {
    let control = &shared.replication;
    let (tasks, refused, baseline) = {
        let mut world = shared.world();
        let Some(job) = world.batch.jobs.get_mut(id) else { return };
        if job.status != JobStatus::Ready {
            return;
        }
        job.status = JobStatus::Active;
        job.started = Some(now());
        let job = job.clone();
        let role = match batch::assume_job_role(&world, &job.role_arn, &job.account, &job.arn()) {
            Ok(role) => role,
            Err(why) => {
                if let Some(j) = world.batch.jobs.get_mut(id) {
                    fail(j, "AccessDenied", why);
                }
                return;
            }
        };
        let (mut tasks, mut refused) = (Vec::new(), Vec::new());
        for (bucket, key, version) in &job.entries {
            match batch::plan_entry(&mut world, &role, bucket, key, version.as_deref()) {
                Ok(task) => tasks.push(task),
                Err(why) => refused.push(task_failed(bucket, key, version.as_deref().unwrap_or(""), why)),
            }
        }
        (tasks, refused, control.failures().len())
    };
    let planned: Vec<(String, String, String)> =
        tasks.iter().map(|t| (t.source_bucket.clone(), t.key.clone(), t.version_id.clone())).collect();
    let ids: BTreeSet<u64> = control.enqueue_ids(tasks);
    control.wait_finished(&ids).await;

    // The engine's failures for this job's versions: the first reason per version.
    let mut failed: BTreeMap<(String, String, String), (String, String)> = BTreeMap::new();
    for event in control.failures().into_iter().skip(baseline) {
        let version = (event.source_bucket.clone(), event.key.clone(), event.version_id.clone());
        if planned.contains(&version) {
            failed.entry(version).or_insert((event.failure_reason.clone(), event.explanation.clone()));
        }
    }
    let mut results = refused;
    for (bucket, key, version) in planned {
        results.push(match failed.remove(&(bucket.clone(), key.clone(), version.clone())) {
            Some((reason, explanation)) => {
                let status = if reason.ends_with("NotPermitted") { 403 } else { 400 };
                task_failed(&bucket, &key, &version, (reason, status, explanation))
            }
            None => TaskResult {
                bucket,
                key,
                version_id: version,
                succeeded: true,
                error_code: String::new(),
                http_status: 200,
                message: "Successful".to_owned(),
            },
        });
    }
    finish(shared, id, results);
}

/// Records the results, writes the completion report as the job role, and ends the job.
fn finish(shared: &Shared, id: &str, results: Vec<TaskResult>) {
    let mut world = shared.world();
    let Some(mut job) = world.batch.jobs.get(id).cloned() else { return };
    job.results = results;
    let mut tasks = Vec::new();
    if job.report.enabled {
        if let Err((code, reason)) = write_report(&mut world, &job, &mut tasks) {
            fail(&mut job, &code, reason);
        }
    }
    if !job.status.is_terminal() {
        job.status = if job.status == JobStatus::Cancelling { JobStatus::Cancelled } else { JobStatus::Complete };
        job.terminated = Some(now());
    }
    if let Some(current) = world.batch.jobs.get_mut(id) {
        // The API may have asked to cancel while the tasks ran.
        if current.status == JobStatus::Cancelling && job.status == JobStatus::Complete {
            job.status = JobStatus::Cancelled;
        }
        job.priority = current.priority;
        job.status_update_reason = current.status_update_reason.clone();
        *current = job;
    }
    drop(world);
    shared.replication.enqueue(tasks);
}

fn write_report(world: &mut World, job: &Job, tasks: &mut Vec<Task>) -> Result<(), JobFailure> {
    let role = batch::assume_job_role(world, &job.role_arn, &job.account, &job.arn()).map_err(|e| ("AccessDenied".to_owned(), e))?;
    let bucket = &job.report.bucket;
    for (key, body) in report::report_objects(job) {
        batch::role_may(world, &role, "s3:PutObject", bucket, Some(&key)).map_err(|why| {
            (
                "AccessDenied".to_owned(),
                format!("the job role {} cannot write the completion report to s3://{bucket}/{key}: {why}", job.role_arn),
            )
        })?;
        let content_type = if key.ends_with(".json") { "application/json" } else { "text/csv" };
        let (_, more) = batch::write_object(world, bucket, &key, body, content_type)
            .ok_or_else(|| ("NoSuchBucket".to_owned(), format!("the report bucket {bucket} does not exist")))?;
        tasks.extend(more);
    }
    Ok(())
}
