//! `EmulatorConfig::data_dir`: everything a test or a tool set up is there after a restart —
//! accounts, IAM users, keys and policies, STS sessions, KMS keys, buckets with their settings,
//! object versions with bytes, tags and statuses, multipart uploads in progress. (The kill -9 case
//! runs the real binary: crates/cli/tests/durable.rs.)

mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::{sdk_config, versioned_bucket, Env, A, B};
use xrepl_emulator::{Emulator, EmulatorConfig};

async fn start_in(dir: &std::path::Path) -> Env {
    let emulator = Emulator::start(EmulatorConfig::with_accounts(&[A, B]).data_dir(dir)).await.expect("emulator starts");
    Env { emulator }
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("xrepl-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (user_key, session, kms_key, upload_id);
    {
        let env = start_in(&dir).await;
        let (a, iam) = (env.s3(A).await, env.iam(A).await);
        versioned_bucket(&a, "kept").await;
        a.put_bucket_policy()
            .bucket("kept")
            .policy(format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::kept/*"}}]}}"#
            ))
            .send()
            .await
            .expect("policy");
        a.put_object().bucket("kept").key("k").body(ByteStream::from_static(b"one")).send().await.expect("v1");
        a.put_object().bucket("kept").key("k").tagging("t=2").body(ByteStream::from_static(b"two")).send().await.expect("v2");
        a.delete_object().bucket("kept").key("gone").send().await.expect("marker");
        let mpu = a.create_multipart_upload().bucket("kept").key("big").send().await.expect("mpu");
        upload_id = mpu.upload_id().expect("upload id").to_owned();
        a.upload_part()
            .bucket("kept")
            .key("big")
            .upload_id(&upload_id)
            .part_number(1)
            .body(ByteStream::from_static(b"part"))
            .send()
            .await
            .expect("part");
        iam.create_user().user_name("alice").send().await.expect("user");
        iam.put_user_policy()
            .user_name("alice")
            .policy_name("read")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","sts:AssumeRole"],"Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("user policy");
        let key = iam.create_access_key().user_name("alice").send().await.expect("key");
        let key = key.access_key().expect("access key");
        user_key = (key.access_key_id().to_owned(), key.secret_access_key().to_owned());
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        iam.create_role().role_name("reader").assume_role_policy_document(trust).send().await.expect("role");
        let alice_sts = aws_sdk_sts::Client::new(&sdk_config(&env.emulator.endpoint(), &user_key.0, &user_key.1, None).await);
        let creds = alice_sts.assume_role().role_arn(format!("arn:aws:iam::{A}:role/reader")).role_session_name("restart").send().await;
        let creds = creds.expect("assume role").credentials().cloned().expect("credentials");
        session = (creds.access_key_id().to_owned(), creds.secret_access_key().to_owned(), creds.session_token().to_owned());
        let kms = aws_sdk_kms::Client::new(&sdk_config(&env.emulator.endpoint(), A, "test", None).await);
        kms_key = kms.create_key().description("survives").send().await.expect("key").key_metadata().expect("meta").key_id().to_owned();
    }

    let env = start_in(&dir).await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    let versions = a.list_object_versions().bucket("kept").send().await.expect("versions");
    assert_eq!(versions.versions().len(), 2, "both versions of k");
    assert_eq!(versions.delete_markers().len(), 1, "the delete marker");
    let read = b.get_object().bucket("kept").key("k").send().await.expect("B reads through the stored bucket policy");
    assert_eq!(read.body.collect().await.expect("body").into_bytes().as_ref(), b"two");
    let tags = a.get_object_tagging().bucket("kept").key("k").send().await.expect("tags");
    assert_eq!(tags.tag_set().first().map(|t| (t.key(), t.value())), Some(("t", "2")));
    let parts = a.list_parts().bucket("kept").key("big").upload_id(&upload_id).send().await.expect("upload in progress");
    assert_eq!(parts.parts().len(), 1);
    let alice = env.s3_with(&user_key.0, &user_key.1, None).await;
    alice.get_object().bucket("kept").key("k").send().await.expect("the user's key and policy survive");
    let role = env.s3_with(&session.0, &session.1, Some(session.2.clone())).await;
    let err = role.get_object().bucket("kept").key("k").send().await.expect_err("the session survives, with no permissions");
    assert_eq!(common::code(&err), "AccessDenied");
    let kms = aws_sdk_kms::Client::new(&sdk_config(&env.emulator.endpoint(), A, "test", None).await);
    let described = kms.describe_key().key_id(&kms_key).send().await.expect("KMS key survives");
    assert_eq!(described.key_metadata().and_then(|m| m.description()), Some("survives"));
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn reset_empties_one_account_or_everything_and_stays_reset_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("xrepl-reset-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let names = |env: &Env, account: &'static str| {
        let endpoint = env.emulator.endpoint();
        async move {
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk_config(&endpoint, account, "test", None).await).force_path_style(true).build(),
            );
            let listed = s3.list_buckets().send().await.expect("list");
            listed.buckets().iter().filter_map(|b| b.name().map(str::to_owned)).collect::<Vec<_>>()
        }
    };
    {
        let env = start_in(&dir).await;
        let (a, b) = (env.s3(A).await, env.s3(B).await);
        versioned_bucket(&a, "a-bucket").await;
        versioned_bucket(&b, "b-bucket").await;
        a.put_object().bucket("a-bucket").key("k").body(ByteStream::from_static(b"a")).send().await.expect("put A");
        b.put_object().bucket("b-bucket").key("k").body(ByteStream::from_static(b"b")).send().await.expect("put B");
        env.iam(A).await.create_user().user_name("gone").send().await.expect("user");
        env.emulator.reset(Some(A)).expect("reset A");
        assert!(names(&env, A).await.is_empty(), "A's buckets are gone");
        assert_eq!(names(&env, B).await, vec!["b-bucket"], "B's are untouched");
        assert!(env.iam(A).await.get_user().user_name("gone").send().await.is_err(), "A's IAM is empty");
        a.create_bucket().bucket("a-bucket").send().await.expect("the name is free again");
    }
    let env = start_in(&dir).await;
    assert_eq!(names(&env, A).await, vec!["a-bucket"]);
    let b = env.s3(B).await;
    let kept = b.get_object().bucket("b-bucket").key("k").send().await.expect("B's object survived the reset and the restart");
    assert_eq!(kept.body.collect().await.expect("body").into_bytes().as_ref(), b"b");
    env.emulator.reset(None).expect("reset everything");
    drop(env);
    let env = start_in(&dir).await;
    assert!(names(&env, A).await.is_empty() && names(&env, B).await.is_empty(), "everything stays reset after a restart");
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}

/// S3 Batch Replication jobs are kept in the data dir: listed and described after a restart as
/// they were (a job awaiting confirmation can still be confirmed then).
#[tokio::test]
async fn batch_jobs_survive_a_restart() {
    use aws_sdk_s3control::types::{
        JobManifestGenerator, JobManifestGeneratorFilter, JobOperation, JobReport, JobStatus, S3JobManifestGenerator,
        S3ReplicateObjectOperation,
    };
    let dir = std::env::temp_dir().join(format!("xrepl-batch-durable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let control = |env: &Env| xrepl_harness::batch::s3control_client(&env.emulator.endpoint(), A, "test", "us-east-1");
    let describe = |c: aws_sdk_s3control::Client, id: String| async move {
        c.describe_job().account_id(A).job_id(id).send().await.expect("DescribeJob").job().cloned().expect("a job")
    };
    let (id, before) = {
        let env = start_in(&dir).await;
        let a = env.s3(A).await;
        versioned_bucket(&a, "jobs-source").await;
        a.put_object().bucket("jobs-source").key("k").body(ByteStream::from_static(b"k")).send().await.expect("put");
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"batchoperations.s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let role = env.iam(A).await.create_role().role_name("batch").assume_role_policy_document(trust).send().await.expect("role");
        let generator = S3JobManifestGenerator::builder()
            .source_bucket("arn:aws:s3:::jobs-source")
            .enable_manifest_output(false)
            .filter(JobManifestGeneratorFilter::builder().build())
            .build()
            .expect("generator");
        let c = control(&env);
        let id = c
            .create_job()
            .account_id(A)
            .confirmation_required(true)
            .client_request_token("kept")
            .operation(JobOperation::builder().s3_replicate_object(S3ReplicateObjectOperation::builder().build()).build())
            .report(JobReport::builder().enabled(false).build())
            .priority(7)
            .description("kept across a restart")
            .role_arn(role.role().map(|r| r.arn()).unwrap_or_default())
            .manifest_generator(JobManifestGenerator::S3JobManifestGenerator(generator))
            .send()
            .await
            .expect("CreateJob")
            .job_id()
            .unwrap_or_default()
            .to_owned();
        env.emulator.drain().await;
        let job = describe(c.clone(), id.clone()).await;
        assert!(matches!(job.status(), Some(JobStatus::Suspended | JobStatus::Failed)), "{job:?}");
        (id, job)
    };
    let env = start_in(&dir).await;
    let c = control(&env);
    let after = describe(c.clone(), id.clone()).await;
    assert_eq!(
        (after.status(), after.priority(), after.description(), after.creation_time(), after.progress_summary()),
        (before.status(), 7, Some("kept across a restart"), before.creation_time(), before.progress_summary()),
    );
    let listed = c.list_jobs().account_id(A).send().await.expect("ListJobs");
    assert_eq!(listed.jobs().iter().filter_map(|j| j.job_id()).collect::<Vec<_>>(), vec![id.as_str()]);
    drop(env);
    let _ = std::fs::remove_dir_all(&dir);
}
