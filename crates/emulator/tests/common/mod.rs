//! Shared test support: an emulator with two accounts and SDK clients for each.
#![allow(dead_code)]

use aws_sdk_s3::error::ProvideErrorMetadata;
use xrepl_emulator::{Emulator, EmulatorConfig};

pub const A: &str = "111111111111";
pub const B: &str = "222222222222";

pub struct Env {
    pub emulator: Emulator,
}

pub async fn start() -> Env {
    let emulator = Emulator::start(EmulatorConfig::with_accounts(&[A, B])).await.expect("emulator starts");
    Env { emulator }
}

pub async fn sdk_config(endpoint: &str, key: &str, secret: &str, token: Option<String>) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(key, secret, token, None, "test"))
        .load()
        .await
}

impl Env {
    pub async fn s3_with(&self, key: &str, secret: &str, token: Option<String>) -> aws_sdk_s3::Client {
        let config = sdk_config(&self.emulator.endpoint(), key, secret, token).await;
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
    }
    pub async fn s3(&self, account: &str) -> aws_sdk_s3::Client {
        self.s3_with(account, "test", None).await
    }
    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&sdk_config(&self.emulator.endpoint(), account, "test", None).await)
    }
    pub async fn sts(&self, account: &str) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&sdk_config(&self.emulator.endpoint(), account, "test", None).await)
    }
    pub fn canonical(&self, account: &str) -> String {
        self.emulator.account(account).expect("account exists").canonical_id
    }
}

/// The AWS error code of a failed SDK call.
pub fn code<E: ProvideErrorMetadata, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    err.code().unwrap_or("<no code>").to_owned()
}

pub fn message<E: ProvideErrorMetadata, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    err.message().unwrap_or("<no message>").to_owned()
}

pub async fn versioned_bucket(s3: &aws_sdk_s3::Client, name: &str) {
    if let Err(err) = s3.create_bucket().bucket(name).send().await {
        assert_eq!(code(&err), "BucketAlreadyOwnedByYou", "create bucket {name}");
    }
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Enabled).build(),
        )
        .send()
        .await
        .expect("enable versioning");
}

pub async fn body(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, version: Option<&str>) -> Vec<u8> {
    let out = s3.get_object().bucket(bucket).key(key).set_version_id(version.map(str::to_owned)).send().await.expect("get object");
    out.body.collect().await.expect("read body").into_bytes().to_vec()
}
