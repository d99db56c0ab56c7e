//! S3 Batch Replication through `aws-sdk-s3control` (semantics doc §27, §50): jobs replicate
//! objects that existed before the rule and objects that FAILED, through the same engine as live
//! replication (status, version ids, owner, failure reasons), with AWS's job lifecycle, the
//! job role checked as documented, and the completion report read back and checked.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3control::error::ProvideErrorMetadata;
use aws_sdk_s3control::types::{
    GeneratedManifestFormat, JobManifest, JobManifestFieldName, JobManifestFormat, JobManifestGenerator, JobManifestGeneratorFilter,
    JobManifestLocation, JobManifestSpec, JobOperation, JobReport, JobReportFormat, JobReportScope, JobStatus, KeyNameConstraint,
    ReplicationStatus, RequestedJobStatus, S3JobManifestGenerator, S3ManifestOutputLocation, S3ReplicateObjectOperation,
};
use xrepl_harness::batch::{s3control_client, BATCH_ROLE};
use xrepl_harness::{BackendKind, BatchFilter, Harness, HarnessError};
use xrepl_provisioner::Spec;

const GUIDE_SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/guide/spec.toml");
const A: &str = "111111111111";

fn fail(e: HarnessError) -> ! {
    panic!("{e}")
}

/// The guide's setup with one object written before the rule exists (never replicated).
async fn guide_with_existing_object() -> (Harness, Spec, String) {
    let h = Harness::start(BackendKind::Embedded).await.unwrap_or_else(|e| fail(e));
    let spec = h.spec_from_file(GUIDE_SPEC).unwrap_or_else(|e| fail(e));
    h.create_versioned_source(&spec).await.unwrap_or_else(|e| fail(e));
    let before = h.put(&spec, "before.txt", b"written before the rule").await.unwrap_or_else(|e| fail(e));
    h.apply(&spec).await.unwrap_or_else(|e| fail(e));
    let reports = Harness::batch_report_bucket(&spec);
    let src = h.source(&spec).unwrap_or_else(|e| fail(e)).s3();
    src.create_bucket().bucket(&reports).send().await.unwrap_or_else(|e| fail(HarnessError::aws("CreateBucket", &e)));
    (h, spec, before)
}

fn control(h: &Harness, spec: &Spec) -> aws_sdk_s3control::Client {
    let endpoint = h.backend().endpoint(&spec.source.account_id);
    s3control_client(&endpoint, &spec.source.account_id, "test", "us-east-1")
}

async fn status(h: &Harness, spec: &Spec, key: &str, version: &str) -> Option<String> {
    h.source_status(spec, key, version).await.unwrap_or_else(|e| fail(e))
}

#[tokio::test]
async fn existing_and_failed_objects_replicate_after_the_policy_is_repaired() {
    let (h, spec, before) = guide_with_existing_object().await;
    let done = h.put(&spec, "done.txt", b"replicated live").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    // Break the setup: the destination account drops its bucket policy, so writes fail.
    let dst = h.destination(&spec).unwrap_or_else(|e| fail(e)).s3();
    dst.delete_bucket_policy()
        .bucket(&spec.destination.bucket)
        .send()
        .await
        .unwrap_or_else(|e| fail(HarnessError::aws("DeleteBucketPolicy", &e)));
    let failed = h.put(&spec, "failed.txt", b"failed live").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    h.assert_failed(&spec, "failed.txt", &failed, "DstPutObjectNotPermitted").await.unwrap_or_else(|e| fail(e));
    assert_eq!(status(&h, &spec, "before.txt", &before).await, None, "objects written before the rule have no status");

    // A batch job while still broken: every task fails with live replication's reason.
    let broken = h.batch_replicate(&spec, &BatchFilter::existing_and_failed()).await.unwrap_or_else(|e| fail(e));
    assert_eq!((broken.status.as_str(), broken.total, broken.succeeded, broken.failed), ("Complete", 2, 0, 2), "{broken:?}");
    for (key, version) in [("before.txt", &before), ("failed.txt", &failed)] {
        let row = broken.row(key).unwrap_or_else(|| panic!("{key} in the report: {broken:?}"));
        assert_eq!(
            (row.task_status.as_str(), row.error_code.as_str(), row.http_status.as_str()),
            ("failed", "DstPutObjectNotPermitted", "403")
        );
        assert_eq!(&row.version_id, version);
        assert!(row.message.contains("s3:ReplicateObject"), "{}", row.message);
        assert_eq!(status(&h, &spec, key, version).await.as_deref(), Some("FAILED"));
    }
    assert!(broken.row("done.txt").is_none(), "COMPLETED objects are not selected: {broken:?}");

    // Repair (the provisioner puts the bucket policy back), then replicate again.
    h.apply(&spec).await.unwrap_or_else(|e| fail(e));
    let repaired = h.batch_replicate(&spec, &BatchFilter::existing_and_failed()).await.unwrap_or_else(|e| fail(e));
    assert_eq!((repaired.status.as_str(), repaired.total, repaired.succeeded, repaired.failed), ("Complete", 2, 2, 0), "{repaired:?}");
    for (key, version, data) in [("before.txt", &before, &b"written before the rule"[..]), ("failed.txt", &failed, &b"failed live"[..])] {
        let row = repaired.row(key).unwrap_or_else(|| panic!("{key} in the report: {repaired:?}"));
        assert_eq!((row.task_status.as_str(), row.http_status.as_str(), row.version_id.as_str()), ("succeeded", "200", version.as_str()));
        // Same engine: REPLICA with the source's version id, COMPLETED at the source, owner B.
        h.assert_replicated(&spec, key, version, data).await.unwrap_or_else(|e| fail(e));
        h.assert_owner(&spec, key, &spec.destination.account_id).await.unwrap_or_else(|e| fail(e));
    }
    h.assert_replicated(&spec, "done.txt", &done, b"replicated live").await.unwrap_or_else(|e| fail(e));

    // Nothing is left with those statuses: the next job has no tasks.
    let empty = h.batch_replicate(&spec, &BatchFilter::existing_and_failed()).await.unwrap_or_else(|e| fail(e));
    assert_eq!((empty.status.as_str(), empty.total), ("Complete", 0));
}

fn replicate_op() -> JobOperation {
    JobOperation::builder().s3_replicate_object(S3ReplicateObjectOperation::builder().build()).build()
}

fn report(bucket: &str) -> JobReport {
    JobReport::builder()
        .bucket(format!("arn:aws:s3:::{bucket}"))
        .enabled(true)
        .format(JobReportFormat::ReportCsv20180820)
        .prefix("reports")
        .report_scope(JobReportScope::AllTasks)
        .build()
}

fn generator(source: &str, filter: JobManifestGeneratorFilter) -> JobManifestGenerator {
    let generator = S3JobManifestGenerator::builder()
        .source_bucket(format!("arn:aws:s3:::{source}"))
        .enable_manifest_output(false)
        .filter(filter)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    JobManifestGenerator::S3JobManifestGenerator(generator)
}

fn code<E: ProvideErrorMetadata, R>(e: &aws_sdk_s3control::error::SdkError<E, R>) -> String {
    e.code().unwrap_or("<no code>").to_owned()
}

#[tokio::test]
async fn bad_requests_get_aws_errors_and_create_no_job() {
    let (h, spec, _) = guide_with_existing_object().await;
    let role = h.ensure_batch_role(&spec).await.unwrap_or_else(|e| fail(e));
    let c = control(&h, &spec);
    let src = spec.source.bucket.clone();
    let all = || JobManifestGeneratorFilter::builder().build();
    let create = || {
        c.create_job()
            .account_id(A)
            .operation(replicate_op())
            .report(report(&src))
            .priority(1)
            .role_arn(&role)
            .manifest_generator(generator(&src, all()))
    };
    let cases = [
        ("role ARN", create().role_arn("not-an-arn").send().await.err().map(|e| code(&e))),
        (
            "status filter",
            create()
                .manifest_generator(generator(
                    &src,
                    JobManifestGeneratorFilter::builder().object_replication_statuses(ReplicationStatus::from("BOGUS")).build(),
                ))
                .send()
                .await
                .err()
                .map(|e| code(&e)),
        ),
        (
            "manifest and generator",
            create()
                .manifest(
                    JobManifest::builder()
                        .spec(
                            JobManifestSpec::builder()
                                .format(JobManifestFormat::S3BatchOperationsCsv20180820)
                                .fields(JobManifestFieldName::Bucket)
                                .fields(JobManifestFieldName::Key)
                                .build()
                                .unwrap_or_else(|e| panic!("{e}")),
                        )
                        .location(
                            JobManifestLocation::builder()
                                .object_arn(format!("arn:aws:s3:::{src}/m.csv"))
                                .e_tag("x")
                                .build()
                                .unwrap_or_else(|e| panic!("{e}")),
                        )
                        .build(),
                )
                .send()
                .await
                .err()
                .map(|e| code(&e)),
        ),
        ("negative priority", create().priority(-1).send().await.err().map(|e| code(&e))),
    ];
    for (what, got) in cases {
        assert_eq!(got.as_deref(), Some("BadRequestException"), "{what}");
    }
    // iam:PassRole cannot pass another account's role.
    let other = create().role_arn(format!("arn:aws:iam::222222222222:role/{BATCH_ROLE}")).send().await.err().map(|e| code(&e));
    assert_eq!(other.as_deref(), Some("AccessDenied"));
    // The account in the request must be the caller's.
    let foreign = create().account_id("222222222222").send().await.err().map(|e| code(&e));
    assert_eq!(foreign.as_deref(), Some("AccessDenied"));
    let unknown = c.describe_job().account_id(A).job_id("00000000-0000-0000-0000-000000000000").send().await.err();
    assert!(unknown.as_ref().and_then(|e| e.as_service_error()).is_some_and(|e| e.is_not_found_exception()), "{unknown:?}");
    // A wrong secret fails the signature.
    let endpoint = h.backend().endpoint(A);
    let forged =
        s3control_client(&endpoint, A, "not-the-secret", "us-east-1").list_jobs().account_id(A).send().await.err().map(|e| code(&e));
    assert_eq!(forged.as_deref(), Some("SignatureDoesNotMatch"));

    let listed = c.list_jobs().account_id(A).send().await.unwrap_or_else(|e| panic!("ListJobs: {e:?}"));
    assert!(listed.jobs().is_empty(), "bad requests created no job: {listed:?}");
}

#[tokio::test]
async fn confirmation_priority_cancel_and_list_follow_the_job_lifecycle() {
    let (h, spec, _) = guide_with_existing_object().await;
    let role = h.ensure_batch_role(&spec).await.unwrap_or_else(|e| fail(e));
    let c = control(&h, &spec);
    let src = spec.source.bucket.clone();
    let reports = Harness::batch_report_bucket(&spec);
    let new_job = |token: &str| {
        c.create_job()
            .account_id(A)
            .confirmation_required(true)
            .client_request_token(token)
            .operation(replicate_op())
            .report(report(&reports))
            .priority(5)
            .role_arn(&role)
            .manifest_generator(generator(
                &src,
                JobManifestGeneratorFilter::builder().object_replication_statuses(ReplicationStatus::None).build(),
            ))
    };
    let first = new_job("token-1").send().await.unwrap_or_else(|e| panic!("CreateJob: {e:?}")).job_id().unwrap_or_default().to_owned();
    let again = new_job("token-1").send().await.unwrap_or_else(|e| panic!("CreateJob: {e:?}")).job_id().unwrap_or_default().to_owned();
    assert_eq!(first, again, "the same ClientRequestToken is the same job");
    let second = new_job("token-2").send().await.unwrap_or_else(|e| panic!("CreateJob: {e:?}")).job_id().unwrap_or_default().to_owned();
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));

    let describe = |id: String| {
        let c = c.clone();
        async move { c.describe_job().account_id(A).job_id(id).send().await.unwrap_or_else(|e| panic!("DescribeJob: {e:?}")).job().cloned() }
    };
    let job = describe(first.clone()).await.unwrap_or_else(|| panic!("no job"));
    assert_eq!(job.status(), Some(&JobStatus::Suspended));
    assert_eq!(job.suspended_cause(), Some("AwaitingConfirmation"));
    assert_eq!(job.progress_summary().and_then(|p| p.total_number_of_tasks()), Some(1), "before.txt is the one object without status");
    assert_eq!(job.job_arn(), Some(format!("arn:aws:s3:us-east-1:{A}:job/{first}").as_str()));

    let priority = c.update_job_priority().account_id(A).job_id(&first).priority(42).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(priority.priority(), 42);
    let ready = c
        .update_job_status()
        .account_id(A)
        .job_id(&first)
        .requested_job_status(RequestedJobStatus::Ready)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(ready.status(), Some(&JobStatus::Ready));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    let job = describe(first.clone()).await.unwrap_or_else(|| panic!("no job"));
    assert_eq!((job.status(), job.priority()), (Some(&JobStatus::Complete), 42));
    assert_eq!(job.progress_summary().and_then(|p| p.number_of_tasks_succeeded()), Some(1));

    let cancelled = c
        .update_job_status()
        .account_id(A)
        .job_id(&second)
        .requested_job_status(RequestedJobStatus::Cancelled)
        .status_update_reason("not needed")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(cancelled.status(), Some(&JobStatus::Cancelled));
    let late = c.update_job_status().account_id(A).job_id(&first).requested_job_status(RequestedJobStatus::Cancelled).send().await.err();
    assert_eq!(late.map(|e| code(&e)).as_deref(), Some("JobStatusException"), "a Complete job cannot be cancelled");

    let complete = c.list_jobs().account_id(A).job_statuses(JobStatus::Complete).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    let ids: Vec<&str> = complete.jobs().iter().filter_map(|j| j.job_id()).collect();
    assert_eq!(ids, [first.as_str()]);
    let all = c.list_jobs().account_id(A).max_results(1).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(all.jobs().len(), 1);
    assert!(all.next_token().is_some(), "two jobs, one per page");
}

#[tokio::test]
async fn the_job_role_is_checked_as_aws_documents() {
    let (h, spec, before) = guide_with_existing_object().await;
    let role = h.ensure_batch_role(&spec).await.unwrap_or_else(|e| fail(e));
    let iam = h.source(&spec).unwrap_or_else(|e| fail(e)).iam();
    let c = control(&h, &spec);
    let src = spec.source.bucket.clone();
    let run = |token: &'static str| {
        let (c, role, src) = (c.clone(), role.clone(), src.clone());
        async move {
            c.create_job()
                .account_id(A)
                .client_request_token(token)
                .operation(replicate_op())
                .report(report(&src))
                .priority(1)
                .role_arn(&role)
                .manifest_generator(generator(
                    &src,
                    JobManifestGeneratorFilter::builder().object_replication_statuses(ReplicationStatus::None).build(),
                ))
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateJob: {e:?}"))
                .job_id()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let put_policy = |doc: serde_json::Value| {
        let iam = iam.clone();
        async move {
            iam.put_role_policy()
                .role_name(BATCH_ROLE)
                .policy_name("batch-replication")
                .policy_document(doc.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
        }
    };
    // Without s3:PutInventoryConfiguration S3 cannot generate the manifest: the job fails.
    put_policy(serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:InitiateReplication"], "Resource": format!("arn:aws:s3:::{src}/*")},
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:PutObject"], "Resource": [format!("arn:aws:s3:::{src}"), format!("arn:aws:s3:::{src}/*")]}
    ]}))
    .await;
    let id = run("no-inventory").await;
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    let outcome = h.batch_outcome(&spec, &id).await.unwrap_or_else(|e| fail(e));
    assert_eq!(outcome.status, "Failed");
    assert!(
        outcome.failure_reasons.iter().any(|r| r.starts_with("AccessDenied") && r.contains("s3:PutInventoryConfiguration")),
        "{outcome:?}"
    );

    // Without s3:InitiateReplication on the objects, each task fails (the report says why).
    put_policy(serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration", "s3:PutObject"], "Resource": [format!("arn:aws:s3:::{src}"), format!("arn:aws:s3:::{src}/*")]}
    ]}))
    .await;
    let id = run("no-initiate").await;
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    let outcome = h.batch_outcome(&spec, &id).await.unwrap_or_else(|e| fail(e));
    assert_eq!((outcome.status.as_str(), outcome.failed), ("Complete", 1), "{outcome:?}");
    let row = outcome.row("before.txt").unwrap_or_else(|| panic!("{outcome:?}"));
    assert_eq!((row.error_code.as_str(), row.http_status.as_str()), ("AccessDenied", "403"));
    assert!(row.message.contains("s3:InitiateReplication"), "{}", row.message);
    assert_eq!(status(&h, &spec, "before.txt", &before).await, None, "a refused task starts no replication");

    // A role that trusts s3.amazonaws.com instead of batchoperations: the job fails.
    iam.update_assume_role_policy()
        .role_name(BATCH_ROLE)
        .policy_document(serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = run("wrong-trust").await;
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    let outcome = h.batch_outcome(&spec, &id).await.unwrap_or_else(|e| fail(e));
    assert_eq!(outcome.status, "Failed");
    assert!(outcome.failure_reasons.iter().any(|r| r.contains("batchoperations.s3.amazonaws.com")), "{outcome:?}");
}

#[tokio::test]
async fn csv_and_generated_manifests_select_what_they_name() {
    let (h, spec, before) = guide_with_existing_object().await;
    let role = h.ensure_batch_role(&spec).await.unwrap_or_else(|e| fail(e));
    let s3 = h.source(&spec).unwrap_or_else(|e| fail(e)).s3();
    let src = spec.source.bucket.clone();
    let c = control(&h, &spec);
    let reports = Harness::batch_report_bucket(&spec);
    // A CSV manifest (keys URL-encoded, with version ids) where the job role may read it.
    let put_manifest = |bucket: String| {
        let (s3, body) = (s3.clone(), format!("{src},before.txt,{before}\n"));
        async move {
            let put = s3.put_object().bucket(bucket).key("manifests/m.csv").body(ByteStream::from(body.into_bytes())).send().await;
            put.unwrap_or_else(|e| panic!("{e:?}")).e_tag().unwrap_or_default().to_owned()
        }
    };
    let etag = put_manifest(reports.clone()).await;
    let csv_job = |bucket: String, etag: String, token: &'static str| {
        let spec_fields = JobManifestSpec::builder()
            .format(JobManifestFormat::S3BatchOperationsCsv20180820)
            .fields(JobManifestFieldName::Bucket)
            .fields(JobManifestFieldName::Key)
            .fields(JobManifestFieldName::VersionId)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let location = JobManifestLocation::builder()
            .object_arn(format!("arn:aws:s3:::{bucket}/manifests/m.csv"))
            .e_tag(etag)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let c = c.clone();
        let (role, reports) = (role.clone(), reports.clone());
        async move {
            let created = c
                .create_job()
                .account_id(A)
                .client_request_token(token)
                .operation(replicate_op())
                .report(report(&reports))
                .priority(1)
                .role_arn(&role)
                .manifest(JobManifest::builder().spec(spec_fields).location(location).build())
                .send()
                .await;
            created.unwrap_or_else(|e| panic!("{e:?}")).job_id().unwrap_or_default().to_owned()
        }
    };
    let outcome_of = |id: String| {
        let h = &h;
        let spec = &spec;
        async move {
            h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
            h.batch_outcome(spec, &id).await.unwrap_or_else(|e| fail(e))
        }
    };
    // The manifest changed since the job named its ETag: the job fails.
    let outcome = outcome_of(csv_job(reports.clone(), "\"0000\"".to_owned(), "stale").await).await;
    assert_eq!(outcome.status, "Failed");
    assert!(outcome.failure_reasons.iter().any(|r| r.starts_with("ManifestETagMismatch")), "{outcome:?}");
    // The right ETag: the one object it names replicates.
    let outcome = outcome_of(csv_job(reports.clone(), etag, "csv").await).await;
    assert_eq!((outcome.status.as_str(), outcome.total, outcome.succeeded), ("Complete", 1, 1), "{outcome:?}");
    h.assert_replicated(&spec, "before.txt", &before, b"written before the rule").await.unwrap_or_else(|e| fail(e));
    // A manifest the job role may not read (it reads the report bucket only): the job fails.
    let etag = put_manifest(src.clone()).await;
    let outcome = outcome_of(csv_job(src.clone(), etag, "unreadable").await).await;
    assert_eq!(outcome.status, "Failed");
    assert!(outcome.failure_reasons.iter().any(|r| r.starts_with("AccessDenied") && r.contains("s3:GetObject")), "{outcome:?}");

    // Generated manifests: prefix filter, and EnableManifestOutput writes the list.
    h.put(&spec, "logs/one.txt", b"1").await.unwrap_or_else(|e| fail(e));
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    let output = S3ManifestOutputLocation::builder()
        .bucket(format!("arn:aws:s3:::{}", Harness::batch_report_bucket(&spec)))
        .manifest_prefix("generated")
        .manifest_format(GeneratedManifestFormat::S3InventoryReportCsv20211130)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let filter = JobManifestGeneratorFilter::builder()
        .object_replication_statuses(ReplicationStatus::None)
        .object_replication_statuses(ReplicationStatus::Completed)
        .key_name_constraint(KeyNameConstraint::builder().match_any_prefix("logs/").build())
        .build();
    let generated = S3JobManifestGenerator::builder()
        .source_bucket(format!("arn:aws:s3:::{src}"))
        .enable_manifest_output(true)
        .manifest_output_location(output)
        .filter(filter)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let id = c
        .create_job()
        .account_id(A)
        .client_request_token("generated")
        .operation(replicate_op())
        .report(report(&Harness::batch_report_bucket(&spec)))
        .priority(1)
        .role_arn(&role)
        .manifest_generator(JobManifestGenerator::S3JobManifestGenerator(generated))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .job_id()
        .unwrap_or_default()
        .to_owned();
    h.wait_for_replication().await.unwrap_or_else(|e| fail(e));
    let job = c.describe_job().account_id(A).job_id(&id).send().await.unwrap_or_else(|e| panic!("{e:?}"));
    let job = job.job().unwrap_or_else(|| panic!("no job"));
    assert_eq!(job.status(), Some(&JobStatus::Complete), "{job:?}");
    assert_eq!(job.progress_summary().and_then(|p| p.total_number_of_tasks()), Some(1), "only logs/one.txt: {job:?}");
    let written = job.generated_manifest_descriptor().and_then(|d| d.location()).map(|l| l.object_arn().to_owned()).unwrap_or_default();
    let key = written.split_once(&format!("{}/", Harness::batch_report_bucket(&spec))).map(|(_, k)| k.to_owned()).unwrap_or_default();
    let listed =
        s3.get_object().bucket(Harness::batch_report_bucket(&spec)).key(&key).send().await.unwrap_or_else(|e| panic!("{written}: {e:?}"));
    let text = String::from_utf8(listed.body.collect().await.unwrap_or_else(|e| panic!("{e}")).into_bytes().to_vec()).unwrap_or_default();
    assert!(text.starts_with(&format!("{src},logs/one.txt,")), "{text}");
}

#[tokio::test]
async fn a_bucket_named_like_the_jobs_path_is_still_s3() {
    let (h, _spec, _) = guide_with_existing_object().await;
    let s3 = h.account(A).unwrap_or_else(|e| fail(e)).s3();
    s3.create_bucket().bucket("v20180820").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    s3.put_object()
        .bucket("v20180820")
        .key("jobs")
        .body(ByteStream::from_static(b"not a job"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let got = s3.get_object().bucket("v20180820").key("jobs").send().await.unwrap_or_else(|e| panic!("{e:?}"));
    let body = got.body.collect().await.unwrap_or_else(|e| panic!("{e}")).into_bytes();
    assert_eq!(body.as_ref(), b"not a job");
}
