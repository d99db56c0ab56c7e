//! Bucket metrics configurations (CloudWatch request metrics; User Guide
//! `metrics-configurations`): up to 1,000 per bucket, each named by its id, stored and returned as
//! S3 does. xrepl publishes no CloudWatch metrics; the configurations are kept so that tools that
//! manage them (and the recorded answers, `test_s3_api.snapshot.json` → `TestS3MetricsConfiguration`)
//! see what AWS answers.

use s3s::dto;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, with_status, S3Api};
use super::listing::{continuation_token, resume_after_token};

/// At most this many configurations per bucket (API_PutBucketMetricsConfiguration).
const MAX_PER_BUCKET: usize = 1000;
/// ListBucketMetricsConfigurations returns 100 per page (as recorded: 102 configurations, then a
/// second page of 2).
const PAGE: usize = 100;

/// 404 `NoSuchConfiguration`, as recorded (`test_get_bucket_metrics_configuration_not_exist`).
fn no_such_configuration() -> S3Error {
    let mut err = S3Error::with_message(S3ErrorCode::Custom("NoSuchConfiguration".into()), "The specified configuration does not exist.");
    err.set_status_code(http::StatusCode::NOT_FOUND);
    err
}

pub fn put(
    api: &S3Api,
    req: S3Request<dto::PutBucketMetricsConfigurationInput>,
) -> S3Result<S3Response<dto::PutBucketMetricsConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutMetricsConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let configurations = &mut bucket_mut(&mut world, &input.bucket)?.settings.metrics;
    if !configurations.contains_key(&input.id) && configurations.len() >= MAX_PER_BUCKET {
        let mut err = S3Error::with_message(
            S3ErrorCode::Custom("TooManyConfigurations".into()),
            "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.",
        );
        err.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(err);
    }
    configurations.insert(input.id, input.metrics_configuration);
    Ok(with_status(dto::PutBucketMetricsConfigurationOutput {}, http::StatusCode::NO_CONTENT))
}

pub fn get(
    api: &S3Api,
    req: S3Request<dto::GetBucketMetricsConfigurationInput>,
) -> S3Result<S3Response<dto::GetBucketMetricsConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetMetricsConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let configuration = bucket(&world, &input.bucket)?.settings.metrics.get(&input.id).cloned().ok_or_else(no_such_configuration)?;
    Ok(S3Response::new(dto::GetBucketMetricsConfigurationOutput { metrics_configuration: Some(configuration) }))
}

/// DeleteBucketMetricsConfiguration is authorized by s3:PutMetricsConfiguration (Service
/// Authorization Reference).
pub fn delete(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketMetricsConfigurationInput>,
) -> S3Result<S3Response<dto::DeleteBucketMetricsConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut world = api.shared.world();
    authorize(&world, &caller, "s3:PutMetricsConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    bucket_mut(&mut world, &input.bucket)?.settings.metrics.remove(&input.id).ok_or_else(no_such_configuration)?;
    Ok(with_status(dto::DeleteBucketMetricsConfigurationOutput {}, http::StatusCode::NO_CONTENT))
}

/// In id order, 100 a page; the continuation token is opaque, as for object listings.
pub fn list(
    api: &S3Api,
    req: S3Request<dto::ListBucketMetricsConfigurationsInput>,
) -> S3Result<S3Response<dto::ListBucketMetricsConfigurationsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let world = api.shared.world();
    authorize(&world, &caller, "s3:GetMetricsConfiguration", &input.bucket, None, input.expected_bucket_owner.as_deref())?;
    let configurations = &bucket(&world, &input.bucket)?.settings.metrics;
    let after = input.continuation_token.as_deref().map(resume_after_token).transpose()?;
    let mut rest = configurations.iter().filter(|(id, _)| after.as_ref().is_none_or(|a| id.as_str() > a.as_str()));
    let page: Vec<(&String, &dto::MetricsConfiguration)> = rest.by_ref().take(PAGE).collect();
    let truncated = rest.next().is_some();
    Ok(S3Response::new(dto::ListBucketMetricsConfigurationsOutput {
        continuation_token: input.continuation_token,
        is_truncated: Some(truncated),
        next_continuation_token: page.last().filter(|_| truncated).map(|(id, _)| continuation_token(id)),
        metrics_configuration_list: Some(page.into_iter().map(|(_, c)| c.clone()).collect()),
    }))
}
