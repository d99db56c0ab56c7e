//! The S3 Control API for S3 Batch Operations jobs (semantics doc §27, §50): `CreateJob`,
//! `DescribeJob`, `ListJobs`, `UpdateJobStatus`, `UpdateJobPriority`, as `aws-sdk-s3control`
//! sends them (REST-XML under `/v20180820/jobs`, the account in `x-amz-account-id`). Only the
//! `S3ReplicateObject` operation is implemented: S3 Batch Replication. The front door verifies
//! the signature and names the caller; this module checks the request, the caller's permissions
//! (`s3:CreateJob`..., `iam:PassRole`) and runs the job ([`run`]).
//!
//! Depends on `runtime`, `state` and `replication` only.

mod errors;
pub mod report;
mod request;
pub mod run;

use std::sync::Arc;

use self::errors::{access_denied, not_found};
use crate::error::ServiceError;
use crate::identity::Caller;
use crate::replication::batch;
use crate::runtime::Shared;
use crate::state::batch::{Job, JobStatus};
use crate::state::iso8601;
use crate::xml::{escape, XmlBuf};

pub use self::errors::bad_request;

pub const NAMESPACE: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";
/// The path prefix every S3 Control jobs request has.
pub const PATH_PREFIX: &str = "/v20180820/";

/// One S3 Control request as the front door received it (signature already verified).
pub struct ControlRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// From `x-amz-account-id` or the `{account}.s3-control...` host.
    pub account_id: Option<&'a str>,
    pub body: &'a [u8],
}

/// Answers the request with the XML body of a 200 response, or the AWS error.
pub fn handle(shared: &Arc<Shared>, caller: &Caller, req: &ControlRequest<'_>) -> Result<String, ServiceError> {
    let Some(account) = req.account_id.filter(|a| !a.is_empty()) else {
        return Err(ServiceError::bad_request("InvalidRequest", "Missing required header for this request: x-amz-account-id"));
    };
    if !crate::config::is_account_id(account) {
        return Err(ServiceError::bad_request("InvalidAccountId", format!("Account id {account:?} is not valid")));
    }
    // The account named must be the caller's own.
    if caller.account.as_deref() != Some(account) {
        return Err(access_denied());
    }
    let rest = req.path.strip_prefix(PATH_PREFIX).unwrap_or("");
    let params: Vec<(String, String)> = form_urlencoded::parse(req.query.unwrap_or("").as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let segments: Vec<&str> = rest.split('/').collect();
    match (req.method, segments.as_slice()) {
        ("POST", ["jobs"]) => create_job(shared, caller, account, req.body),
        ("GET", ["jobs"]) => list_jobs(shared, caller, account, &params, param("nextToken"), param("maxResults")),
        ("GET", ["jobs", id]) => describe_job(shared, caller, account, id),
        ("POST", ["jobs", id, "status"]) => {
            update_status(shared, caller, account, id, param("requestedJobStatus"), param("statusUpdateReason"))
        }
        ("POST", ["jobs", id, "priority"]) => update_priority(shared, caller, account, id, param("priority")),
        _ => Err(ServiceError::new(
            501,
            "NotImplemented",
            format!("xrepl implements the S3 Control jobs API only; {} {} is not implemented", req.method, req.path),
        )),
    }
}

/// The caller's identity policies must allow `action` on the job (or every job).
fn authorize(shared: &Shared, caller: &Caller, account: &str, action: &str, job: Option<&str>) -> Result<(), ServiceError> {
    let resource = format!("arn:aws:s3:{}:{account}:job/{}", shared.config.region, job.unwrap_or("*"));
    if batch::identity_allows(&shared.world(), caller, action, &resource) {
        Ok(())
    } else {
        Err(access_denied())
    }
}

fn create_job(shared: &Arc<Shared>, caller: &Caller, account: &str, body: &[u8]) -> Result<String, ServiceError> {
    authorize(shared, caller, account, "s3:CreateJob", None)?;
    let parsed = request::parse_create_job(body)?;
    let mut world = shared.world();
    if !batch::may_pass_role(&world, caller, &parsed.role_arn) {
        return Err(access_denied());
    }
    // Idempotency: the same token from the same account is the same job.
    if let Some(existing) = world.batch.jobs.values().find(|j| j.account == account && j.client_token == parsed.client_token) {
        return Ok(wrap("CreateJobResult", XmlBuf::default().elem("JobId", &existing.id)));
    }
    let id = job_id();
    let job = Job {
        id: id.clone(),
        account: account.to_owned(),
        region: shared.config.region.clone(),
        description: parsed.description,
        priority: parsed.priority,
        role_arn: parsed.role_arn,
        confirmation_required: parsed.confirmation_required,
        client_token: parsed.client_token,
        manifest: parsed.manifest,
        report: parsed.report,
        status: JobStatus::New,
        status_update_reason: None,
        suspended_cause: None,
        suspended_date: None,
        created: crate::state::now(),
        terminated: None,
        started: None,
        failures: Vec::new(),
        entries: Vec::new(),
        results: Vec::new(),
        generated_manifest: None,
    };
    world.batch.jobs.insert(id.clone(), job);
    drop(world);
    run::start(shared, &id, run::Phase::Prepare);
    Ok(wrap("CreateJobResult", XmlBuf::default().elem("JobId", &id)))
}

/// A job id in AWS's shape (a UUID).
fn job_id() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The caller's job `id` (another account's jobs do not exist for it).
fn with_job<T>(shared: &Shared, account: &str, id: &str, f: impl FnOnce(&mut Job) -> Result<T, ServiceError>) -> Result<T, ServiceError> {
    let mut world = shared.world();
    match world.batch.jobs.get_mut(id).filter(|j| j.account == account) {
        Some(job) => f(job),
        None => Err(not_found(id)),
    }
}

fn describe_job(shared: &Shared, caller: &Caller, account: &str, id: &str) -> Result<String, ServiceError> {
    authorize(shared, caller, account, "s3:DescribeJob", Some(id))?;
    let xml = with_job(shared, account, id, |job| Ok(describe(job)))?;
    Ok(wrap("DescribeJobResult", XmlBuf::default().open("Job").raw(&xml).close("Job")))
}

fn progress(job: &Job, out: &mut XmlBuf) {
    let active = job.started.map_or(0, |s| (job.terminated.unwrap_or_else(crate::state::now) - s).whole_seconds().max(0));
    out.open("ProgressSummary")
        .elem("TotalNumberOfTasks", &job.total_tasks().to_string())
        .elem("NumberOfTasksSucceeded", &job.succeeded_tasks().to_string())
        .elem("NumberOfTasksFailed", &job.failed_tasks().to_string())
        .open("Timers")
        .elem("ElapsedTimeInActiveSeconds", &active.to_string())
        .close("Timers")
        .close("ProgressSummary");
}

fn describe(job: &Job) -> String {
    let mut out = XmlBuf::default();
    out.elem("JobId", &job.id)
        .elem("ConfirmationRequired", if job.confirmation_required { "true" } else { "false" })
        .opt("Description", job.description.as_deref())
        .elem("JobArn", &job.arn())
        .elem("Status", job.status.as_str());
    request::render_manifest(job, &mut out);
    out.open("Operation").raw("<S3ReplicateObject/>").close("Operation").elem("Priority", &job.priority.to_string());
    progress(job, &mut out);
    out.opt("StatusUpdateReason", job.status_update_reason.as_deref());
    if !job.failures.is_empty() {
        out.open("FailureReasons");
        for (code, reason) in &job.failures {
            out.open("member").elem("FailureCode", code).elem("FailureReason", reason).close("member");
        }
        out.close("FailureReasons");
    }
    request::render_report(&job.report, &mut out);
    out.elem("CreationTime", &iso8601(job.created))
        .opt("TerminationDate", job.terminated.map(iso8601).as_deref())
        .elem("RoleArn", &job.role_arn)
        .opt("SuspendedDate", job.suspended_date.map(iso8601).as_deref())
        .opt("SuspendedCause", job.suspended_cause.as_deref());
    if let Some((bucket, key)) = &job.generated_manifest {
        out.open("GeneratedManifestDescriptor")
            .elem("Format", "S3InventoryReport_CSV_20211130")
            .open("Location")
            .elem("ObjectArn", &format!("arn:aws:s3:::{bucket}/{key}"))
            .close("Location")
            .close("GeneratedManifestDescriptor");
    }
    out.0
}

/// Jobs per page when the request names no `maxResults`.
const DEFAULT_PAGE: usize = 1000;

fn list_jobs(
    shared: &Shared,
    caller: &Caller,
    account: &str,
    params: &[(String, String)],
    next_token: Option<&str>,
    max_results: Option<&str>,
) -> Result<String, ServiceError> {
    authorize(shared, caller, account, "s3:ListJobs", None)?;
    let mut statuses = Vec::new();
    for (_, value) in params.iter().filter(|(k, _)| k == "jobStatuses") {
        statuses.push(JobStatus::parse(value).ok_or_else(|| bad_request(format!("Invalid job status {value:?}")))?);
    }
    let page = match max_results.map(str::parse::<usize>) {
        None => DEFAULT_PAGE,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return Err(bad_request("maxResults must be a number from 1 to 1000")),
    };
    let world = shared.world();
    let mut jobs: Vec<&Job> =
        world.batch.jobs.values().filter(|j| j.account == account && (statuses.is_empty() || statuses.contains(&j.status))).collect();
    // Newest first, then by id so pages are stable.
    jobs.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    let start = match next_token {
        None => 0,
        Some(token) => jobs.iter().position(|j| j.id == token).ok_or_else(|| bad_request("The continuation token is not valid"))?,
    };
    let mut out = XmlBuf::default();
    out.open("Jobs");
    for job in jobs.iter().skip(start).take(page) {
        out.open("member")
            .elem("JobId", &job.id)
            .opt("Description", job.description.as_deref())
            .elem("Operation", "S3ReplicateObject")
            .elem("Priority", &job.priority.to_string())
            .elem("Status", job.status.as_str())
            .elem("CreationTime", &iso8601(job.created))
            .opt("TerminationDate", job.terminated.map(iso8601).as_deref());
        progress(job, &mut out);
        out.close("member");
    }
    out.close("Jobs");
    if let Some(next) = jobs.get(start + page) {
        out.elem("NextToken", &next.id);
    }
    Ok(wrap("ListJobsResult", &mut out))
}

fn update_status(
    shared: &Arc<Shared>,
    caller: &Caller,
    account: &str,
    id: &str,
    requested: Option<&str>,
    reason: Option<&str>,
) -> Result<String, ServiceError> {
    authorize(shared, caller, account, "s3:UpdateJobStatus", Some(id))?;
    let requested = match requested {
        Some("Ready") => JobStatus::Ready,
        Some("Cancelled") => JobStatus::Cancelled,
        Some(other) => return Err(bad_request(format!("requestedJobStatus must be Ready or Cancelled, not {other:?}"))),
        None => return Err(bad_request("The request must contain the parameter requestedJobStatus")),
    };
    let (status, resume) = with_job(shared, account, id, |job| {
        let refuse = || {
            ServiceError::bad_request(
                "JobStatusException",
                format!("Job {id} is {} and cannot be moved to {}", job.status.as_str(), requested.as_str()),
            )
        };
        let resume = match (job.status, requested) {
            (JobStatus::Suspended, JobStatus::Ready) => {
                job.status = JobStatus::Ready;
                job.suspended_cause = None;
                true
            }
            (JobStatus::New | JobStatus::Preparing | JobStatus::Suspended | JobStatus::Ready, JobStatus::Cancelled) => {
                job.status = JobStatus::Cancelled;
                job.terminated = Some(crate::state::now());
                false
            }
            // Tasks already handed to the engine finish; the runner then writes the report.
            (JobStatus::Active, JobStatus::Cancelled) => {
                job.status = JobStatus::Cancelling;
                false
            }
            _ => return Err(refuse()),
        };
        if let Some(r) = reason {
            job.status_update_reason = Some(r.to_owned());
        }
        Ok((job.status, resume))
    })?;
    if resume {
        run::start(shared, id, run::Phase::Execute);
    }
    let mut out = XmlBuf::default();
    out.elem("JobId", id).elem("Status", status.as_str()).opt("StatusUpdateReason", reason);
    Ok(wrap("UpdateJobStatusResult", &mut out))
}

fn update_priority(shared: &Shared, caller: &Caller, account: &str, id: &str, priority: Option<&str>) -> Result<String, ServiceError> {
    authorize(shared, caller, account, "s3:UpdateJobPriority", Some(id))?;
    let priority = match priority.map(str::parse::<i32>) {
        Some(Ok(p)) if p >= 0 => p,
        Some(_) => return Err(bad_request("priority must be a number from 0 to 2147483647")),
        None => return Err(bad_request("The request must contain the parameter priority")),
    };
    with_job(shared, account, id, |job| {
        job.priority = priority;
        Ok(())
    })?;
    Ok(wrap("UpdateJobPriorityResult", XmlBuf::default().elem("JobId", id).elem("Priority", &priority.to_string())))
}

fn wrap(root: &str, body: &mut XmlBuf) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><{root} xmlns=\"{NAMESPACE}\">{}</{root}>", body.0)
}

/// S3 Control's error body (REST-XML, wrapped), with the request id.
pub fn render_error(err: &ServiceError, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse><Error><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        escape(&err.code),
        escape(&err.message),
        escape(request_id)
    )
}
