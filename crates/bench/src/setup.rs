//! The guide's cross-account replication, set up through the endpoint with plain SDK calls that
//! every emulator answers: two versioned buckets, the replication role with its trust and
//! permission policies, the destination bucket policy, and a rule with owner override and
//! delete-marker replication. The role and its policy come before the bucket policy that names
//! the role, because AWS (and xrepl) refuse a policy whose principal does not exist yet.

use std::time::Duration;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::types::{
    AccessControlTranslation, BucketVersioningStatus, DeleteMarkerReplication, DeleteMarkerReplicationStatus, Destination, OwnerOverride,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus, VersioningConfiguration,
};
use serde_json::json;

const REGION: &str = "us-east-1";
/// The secret every LocalStack-style emulator accepts; the access key id names the account.
const SECRET: &str = "test";

/// What the measurement needs once the setup is in place.
pub struct Setup {
    pub source: aws_sdk_s3::Client,
    pub destination: aws_sdk_s3::Client,
    pub source_bucket: String,
    pub destination_bucket: String,
}

/// Clients for one account. Retries are off so that every failed request counts as an error
/// instead of hiding behind a retry; checksums only where S3 requires them, so that the client
/// spends no time on CRCs the benchmark does not ask for (the same for every server).
pub fn s3_client(endpoint: &str, account: &str, timeout: Duration) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(account, SECRET, None, None, "xrepl-bench"))
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(timeout).build())
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn iam_client(endpoint: &str, account: &str, timeout: Duration) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
        .region(aws_sdk_iam::config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(account, SECRET, None, None, "xrepl-bench"))
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
        .timeout_config(aws_sdk_iam::config::timeout::TimeoutConfig::builder().operation_timeout(timeout).build())
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

pub struct Accounts<'a> {
    pub endpoint: &'a str,
    pub source: &'a str,
    pub destination: &'a str,
    pub run_id: &'a str,
    pub timeout: Duration,
}

/// Runs the eight setup calls in the guide's order (role before the policy that names it).
pub async fn apply(accounts: &Accounts<'_>) -> anyhow::Result<Setup> {
    let Accounts { endpoint, source, destination, run_id, timeout } = *accounts;
    let s3_a = s3_client(endpoint, source, timeout);
    let s3_b = s3_client(endpoint, destination, timeout);
    let iam_a = iam_client(endpoint, source, timeout);
    let source_bucket = format!("xrepl-bench-{run_id}-source");
    let destination_bucket = format!("xrepl-bench-{run_id}-destination");
    let role_name = format!("xrepl-bench-{run_id}");
    let role_arn = format!("arn:aws:iam::{source}:role/service-role/{role_name}");

    for (client, bucket) in [(&s3_a, &source_bucket), (&s3_b, &destination_bucket)] {
        client.create_bucket().bucket(bucket).send().await.with_context(|| format!("CreateBucket {bucket}"))?;
        client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build())
            .send()
            .await
            .with_context(|| format!("PutBucketVersioning {bucket}"))?;
    }

    let trust = trust_policy();
    iam_a
        .create_role()
        .role_name(&role_name)
        .path("/service-role/")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .context("CreateRole")?;
    let permissions = role_permissions(&source_bucket, &destination_bucket);
    iam_a
        .put_role_policy()
        .role_name(&role_name)
        .policy_name("replication")
        .policy_document(permissions.to_string())
        .send()
        .await
        .context("PutRolePolicy")?;

    let bucket_policy = destination_bucket_policy(&role_arn, &destination_bucket);
    s3_b.put_bucket_policy()
        .bucket(&destination_bucket)
        .policy(bucket_policy.to_string())
        .send()
        .await
        .context("PutBucketPolicy on the destination")?;

    let rule = replication_rule(&destination_bucket, destination)?;
    s3_a.put_bucket_replication()
        .bucket(&source_bucket)
        .replication_configuration(ReplicationConfiguration::builder().role(role_arn).rules(rule).build()?)
        .send()
        .await
        .context("PutBucketReplication")?;

    Ok(Setup { source: s3_a, destination: s3_b, source_bucket, destination_bucket })
}

/// The role's trust policy: S3 may assume it.
fn trust_policy() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    })
}

/// The role's permissions: read the source's versions, ACLs and tags, replicate into the destination.
fn role_permissions(source_bucket: &str, destination_bucket: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
             "Resource": format!("arn:aws:s3:::{source_bucket}")},
            {"Effect": "Allow",
             "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
             "Resource": format!("arn:aws:s3:::{source_bucket}/*")},
            {"Effect": "Allow",
             "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
             "Resource": format!("arn:aws:s3:::{destination_bucket}/*")}
        ]
    })
}

/// The destination bucket policy: the other account's role may replicate into it.
fn destination_bucket_policy(role_arn: &str, destination_bucket: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReplicaObjects", "Effect": "Allow", "Principal": {"AWS": role_arn},
             "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
             "Resource": format!("arn:aws:s3:::{destination_bucket}/*")},
            {"Sid": "ReplicaBucket", "Effect": "Allow", "Principal": {"AWS": role_arn},
             "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"],
             "Resource": format!("arn:aws:s3:::{destination_bucket}")}
        ]
    })
}

/// The rule: everything, delete markers included, owner override to the destination account.
fn replication_rule(destination_bucket: &str, destination: &str) -> anyhow::Result<ReplicationRule> {
    Ok(ReplicationRule::builder()
        .id("xrepl-bench")
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("").build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(DeleteMarkerReplicationStatus::Enabled).build())
        .destination(
            Destination::builder()
                .bucket(format!("arn:aws:s3:::{destination_bucket}"))
                .account(destination)
                .access_control_translation(AccessControlTranslation::builder().owner(OwnerOverride::Destination).build()?)
                .build()?,
        )
        .build()?)
}
