//! Bucket sub-resources infrastructure tools read on every refresh (Terraform's `aws_s3_bucket`
//! asks for all of them): lifecycle, CORS, website, logging, transfer acceleration, request
//! payment and default encryption. Each is validated, stored and returned as S3 does, and a
//! missing one answers with S3's own `NoSuch…` error (or its documented default).

use s3s::dto;
use s3s::{s3_error, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, S3Api};
use crate::state::s3::BucketSettings;

const MALFORMED: &str = "The XML you provided was not well-formed or did not validate against our published schema";

/// Authorizes `action` on the bucket, then reads its settings with `read`.
fn read<T>(
    api: &S3Api,
    caller: &crate::identity::Caller,
    action: &str,
    bucket_name: &str,
    expected_owner: Option<&str>,
    read: impl FnOnce(&BucketSettings) -> S3Result<T>,
) -> S3Result<T> {
    let world = api.shared.world();
    authorize(&world, caller, action, bucket_name, None, expected_owner)?;
    read(&bucket(&world, bucket_name)?.settings)
}

/// Authorizes `action` on the bucket, then changes its settings with `write`.
fn write(
    api: &S3Api,
    caller: &crate::identity::Caller,
    action: &str,
    bucket_name: &str,
    expected_owner: Option<&str>,
    write: impl FnOnce(&mut BucketSettings),
) -> S3Result<()> {
    let mut world = api.shared.world();
    authorize(&world, caller, action, bucket_name, None, expected_owner)?;
    write(&mut bucket_mut(&mut world, bucket_name)?.settings);
    Ok(())
}

fn no_content<T>(output: T) -> S3Response<T> {
    super::api::with_status(output, http::StatusCode::NO_CONTENT)
}

// ---- lifecycle (User Guide `object-lifecycle-mgmt`; API PutBucketLifecycleConfiguration) ----

fn validate_lifecycle(config: &dto::BucketLifecycleConfiguration) -> S3Result<()> {
    if config.rules.is_empty() || config.rules.len() > 1000 {
        return Err(s3_error!(MalformedXML, "{MALFORMED}"));
    }
    let mut ids = std::collections::BTreeSet::new();
    for rule in &config.rules {
        if !matches!(rule.status.as_str(), "Enabled" | "Disabled") {
            return Err(s3_error!(MalformedXML, "{MALFORMED}"));
        }
        if let Some(id) = &rule.id {
            if id.len() > 255 {
                return Err(s3_error!(InvalidArgument, "ID length should not exceed allowed limit of 255"));
            }
            if !ids.insert(id.clone()) {
                return Err(s3_error!(InvalidArgument, "Rule ID must be unique. Found same ID for more than one rule"));
            }
        }
        let acts = rule.expiration.is_some()
            || rule.transitions.as_ref().is_some_and(|t| !t.is_empty())
            || rule.noncurrent_version_expiration.is_some()
            || rule.noncurrent_version_transitions.as_ref().is_some_and(|t| !t.is_empty())
            || rule.abort_incomplete_multipart_upload.is_some();
        if !acts {
            return Err(s3_error!(InvalidRequest, "At least one action needs to be specified in a rule"));
        }
        if rule.expiration.as_ref().and_then(|e| e.days).is_some_and(|d| d <= 0) {
            return Err(s3_error!(InvalidArgument, "'Days' for Expiration action must be a positive integer"));
        }
        // "The date value must conform to the ISO 8601 format. The time is always midnight UTC."
        // (API_LifecycleExpiration, API_Transition)
        let dates =
            rule.expiration.iter().filter_map(|e| e.date.as_ref()).chain(rule.transitions.iter().flatten().filter_map(|t| t.date.as_ref()));
        for date in dates {
            let at = time::OffsetDateTime::from(date.clone()).to_offset(time::UtcOffset::UTC);
            if at.time() != time::Time::MIDNIGHT {
                return Err(s3_error!(InvalidArgument, "'Date' must be at midnight GMT"));
            }
        }
    }
    Ok(())
}

pub fn put_lifecycle(
    api: &S3Api,
    req: S3Request<dto::PutBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<dto::PutBucketLifecycleConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let mut config = input.lifecycle_configuration.ok_or_else(|| s3_error!(MalformedXML, "{MALFORMED}"))?;
    validate_lifecycle(&config)?;
    // A rule sent without an ID gets one S3 makes up (GetBucketLifecycleConfiguration returns it).
    for rule in config.rules.iter_mut().filter(|r| r.id.as_deref().is_none_or(str::is_empty)) {
        rule.id = Some(crate::state::random_id(48));
    }
    let minimum = input.transition_default_minimum_object_size.map(|m| m.as_str().to_owned());
    write(api, &caller, "s3:PutLifecycleConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        s.lifecycle = Some(config);
        s.lifecycle_minimum_size.clone_from(&minimum);
    })?;
    Ok(S3Response::new(dto::PutBucketLifecycleConfigurationOutput {
        transition_default_minimum_object_size: Some(transition_minimum(minimum)),
    }))
}

pub fn get_lifecycle(
    api: &S3Api,
    req: S3Request<dto::GetBucketLifecycleConfigurationInput>,
) -> S3Result<S3Response<dto::GetBucketLifecycleConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let (rules, minimum) =
        read(api, &caller, "s3:GetLifecycleConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
            s.lifecycle.as_ref().map(|l| (l.rules.clone(), s.lifecycle_minimum_size.clone())).ok_or_else(|| {
                let err = s3_error!(NoSuchLifecycleConfiguration, "The lifecycle configuration does not exist");
                crate::s3::api::error_element(err, "BucketName", &input.bucket)
            })
        })?;
    Ok(S3Response::new(dto::GetBucketLifecycleConfigurationOutput {
        rules: Some(rules),
        transition_default_minimum_object_size: Some(transition_minimum(minimum)),
    }))
}

/// The lifecycle's minimum transition size as S3 names it in both answers, its default when none was sent
/// (as recorded: `test_s3.snapshot.json` → `TestS3BucketLifecycle::test_s3_transition_default_minimum_object_size`,
/// `test_bucket_lifecycle_multiple_rules`).
fn transition_minimum(sent: Option<String>) -> dto::TransitionDefaultMinimumObjectSize {
    dto::TransitionDefaultMinimumObjectSize::from(sent.unwrap_or_else(|| "all_storage_classes_128K".to_owned()))
}

pub fn delete_lifecycle(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketLifecycleInput>,
) -> S3Result<S3Response<dto::DeleteBucketLifecycleOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    // AWS authorizes DeleteBucketLifecycle with s3:PutLifecycleConfiguration.
    write(api, &caller, "s3:PutLifecycleConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.lifecycle = None)?;
    Ok(no_content(dto::DeleteBucketLifecycleOutput::default()))
}

// ---- CORS (User Guide `cors`; API PutBucketCors) ----

// ---- notifications (API GetBucketNotificationConfiguration) ----

/// No bucket here sends event notifications (PutBucketNotificationConfiguration needs SQS, SNS or
/// Lambda, which xrepl does not emulate, and stays NotImplemented): every bucket answers with an
/// empty configuration, as a new bucket does on AWS; a missing one with NoSuchBucket (as recorded:
/// `test_get_bucket_notification_configuration_no_such_bucket`).
pub fn get_notification(
    api: &S3Api,
    req: S3Request<dto::GetBucketNotificationConfigurationInput>,
) -> S3Result<S3Response<dto::GetBucketNotificationConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    read(api, &caller, "s3:GetBucketNotification", &input.bucket, input.expected_bucket_owner.as_deref(), |_| Ok(()))?;
    Ok(S3Response::new(dto::GetBucketNotificationConfigurationOutput::default()))
}

pub fn put_cors(api: &S3Api, req: S3Request<dto::PutBucketCorsInput>) -> S3Result<S3Response<dto::PutBucketCorsOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let config = input.cors_configuration;
    if config.cors_rules.is_empty() || config.cors_rules.len() > 100 {
        return Err(s3_error!(MalformedXML, "{MALFORMED}"));
    }
    for rule in &config.cors_rules {
        if let Some(method) = rule.allowed_methods.iter().find(|m| !matches!(m.as_str(), "GET" | "PUT" | "POST" | "DELETE" | "HEAD")) {
            return Err(s3_error!(InvalidRequest, "Found unsupported HTTP method in CORS config. Unsupported method is {method}"));
        }
        if rule.allowed_methods.is_empty() || rule.allowed_origins.is_empty() {
            return Err(s3_error!(MalformedXML, "{MALFORMED}"));
        }
    }
    write(api, &caller, "s3:PutBucketCORS", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.cors = Some(config))?;
    Ok(S3Response::new(dto::PutBucketCorsOutput::default()))
}

pub fn get_cors(api: &S3Api, req: S3Request<dto::GetBucketCorsInput>) -> S3Result<S3Response<dto::GetBucketCorsOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let rules = read(api, &caller, "s3:GetBucketCORS", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        s.cors.as_ref().map(|c| c.cors_rules.clone()).ok_or_else(|| {
            crate::s3::api::error_element(
                s3_error!(NoSuchCORSConfiguration, "The CORS configuration does not exist"),
                "BucketName",
                &input.bucket,
            )
        })
    })?;
    Ok(S3Response::new(dto::GetBucketCorsOutput { cors_rules: Some(rules) }))
}

pub fn delete_cors(api: &S3Api, req: S3Request<dto::DeleteBucketCorsInput>) -> S3Result<S3Response<dto::DeleteBucketCorsOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    write(api, &caller, "s3:PutBucketCORS", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.cors = None)?;
    Ok(no_content(dto::DeleteBucketCorsOutput::default()))
}

// ---- website (User Guide `WebsiteHosting`; API PutBucketWebsite) ----

pub fn put_website(api: &S3Api, req: S3Request<dto::PutBucketWebsiteInput>) -> S3Result<S3Response<dto::PutBucketWebsiteOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let config = input.website_configuration;
    if config.index_document.is_none() && config.redirect_all_requests_to.is_none() {
        return Err(s3_error!(InvalidArgument, "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"));
    }
    write(api, &caller, "s3:PutBucketWebsite", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.website = Some(config))?;
    Ok(S3Response::new(dto::PutBucketWebsiteOutput::default()))
}

pub fn get_website(api: &S3Api, req: S3Request<dto::GetBucketWebsiteInput>) -> S3Result<S3Response<dto::GetBucketWebsiteOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let config = read(api, &caller, "s3:GetBucketWebsite", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        s.website.clone().ok_or_else(|| {
            let err = s3_error!(NoSuchWebsiteConfiguration, "The specified bucket does not have a website configuration");
            crate::s3::api::error_element(err, "BucketName", &input.bucket)
        })
    })?;
    Ok(S3Response::new(dto::GetBucketWebsiteOutput {
        error_document: config.error_document,
        index_document: config.index_document,
        redirect_all_requests_to: config.redirect_all_requests_to,
        routing_rules: config.routing_rules,
    }))
}

pub fn delete_website(api: &S3Api, req: S3Request<dto::DeleteBucketWebsiteInput>) -> S3Result<S3Response<dto::DeleteBucketWebsiteOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    write(api, &caller, "s3:DeleteBucketWebsite", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.website = None)?;
    Ok(no_content(dto::DeleteBucketWebsiteOutput::default()))
}

// ---- logging (User Guide `ServerLogs`): stored and returned; no log objects are written ----

/// A log target in another region than its source: 403, naming the target's region and, outside
/// us-east-1, the source's (as recorded: `test_put_bucket_logging_wrong_target`,
/// `test_put_bucket_logging_cross_locations`).
fn cross_location_logging(source_region: &str, target_region: &str) -> s3s::S3Error {
    let mut err = s3s::S3Error::with_message(
        s3s::S3ErrorCode::Custom("CrossLocationLoggingProhibitted".into()),
        "Cross S3 location logging not allowed. ",
    );
    err.set_status_code(http::StatusCode::FORBIDDEN);
    let err = super::api::error_element(err, "TargetBucketLocation", target_region);
    if source_region == "us-east-1" {
        err
    } else {
        super::api::error_element(err, "SourceBucketLocation", source_region)
    }
}

pub fn put_logging(api: &S3Api, req: S3Request<dto::PutBucketLoggingInput>) -> S3Result<S3Response<dto::PutBucketLoggingOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let enabled = input.bucket_logging_status.logging_enabled;
    {
        let world = api.shared.world();
        if let Some(target) = &enabled {
            let target_bucket = bucket(&world, &target.target_bucket).map_err(|_| {
                let err = s3_error!(InvalidTargetBucketForLogging, "The target bucket for logging does not exist");
                super::api::error_element(err, "TargetBucket", &target.target_bucket)
            })?;
            let source = bucket(&world, &input.bucket)?;
            if target_bucket.region != source.region {
                return Err(cross_location_logging(&source.region, &target_bucket.region));
            }
            if target_bucket.owner_account != source.owner_account {
                return Err(s3_error!(
                    InvalidTargetBucketForLogging,
                    "The owner for the bucket to be logged and the target bucket must be the same."
                ));
            }
        }
    }
    let target = enabled.map(|e| (e.target_bucket, e.target_prefix));
    write(api, &caller, "s3:PutBucketLogging", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.logging = target)?;
    Ok(S3Response::new(dto::PutBucketLoggingOutput::default()))
}

pub fn get_logging(api: &S3Api, req: S3Request<dto::GetBucketLoggingInput>) -> S3Result<S3Response<dto::GetBucketLoggingOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let logging_enabled = read(api, &caller, "s3:GetBucketLogging", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        Ok(s.logging.clone().map(|(target_bucket, target_prefix)| dto::LoggingEnabled {
            target_bucket,
            target_prefix,
            target_grants: None,
            target_object_key_format: None,
        }))
    })?;
    Ok(S3Response::new(dto::GetBucketLoggingOutput { logging_enabled }))
}

// ---- transfer acceleration and request payment ----

pub fn put_accelerate(
    api: &S3Api,
    req: S3Request<dto::PutBucketAccelerateConfigurationInput>,
) -> S3Result<S3Response<dto::PutBucketAccelerateConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let status = input.accelerate_configuration.status.map(|s| s.as_str().to_owned());
    if !matches!(status.as_deref(), Some("Enabled" | "Suspended")) {
        return Err(s3_error!(MalformedXML, "{MALFORMED}"));
    }
    if input.bucket.contains('.') {
        return Err(s3_error!(InvalidRequest, "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"));
    }
    write(api, &caller, "s3:PutAccelerateConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.accelerate = status)?;
    Ok(S3Response::new(dto::PutBucketAccelerateConfigurationOutput::default()))
}

pub fn get_accelerate(
    api: &S3Api,
    req: S3Request<dto::GetBucketAccelerateConfigurationInput>,
) -> S3Result<S3Response<dto::GetBucketAccelerateConfigurationOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let status = read(api, &caller, "s3:GetAccelerateConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        Ok(s.accelerate.clone())
    })?;
    Ok(S3Response::new(dto::GetBucketAccelerateConfigurationOutput {
        status: status.map(dto::BucketAccelerateStatus::from),
        ..Default::default()
    }))
}

pub fn put_request_payment(
    api: &S3Api,
    req: S3Request<dto::PutBucketRequestPaymentInput>,
) -> S3Result<S3Response<dto::PutBucketRequestPaymentOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let payer = input.request_payment_configuration.payer.as_str().to_owned();
    if !matches!(payer.as_str(), "BucketOwner" | "Requester") {
        return Err(s3_error!(MalformedXML, "{MALFORMED}"));
    }
    write(api, &caller, "s3:PutBucketRequestPayment", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        s.request_payer = Some(payer);
    })?;
    Ok(S3Response::new(dto::PutBucketRequestPaymentOutput::default()))
}

pub fn get_request_payment(
    api: &S3Api,
    req: S3Request<dto::GetBucketRequestPaymentInput>,
) -> S3Result<S3Response<dto::GetBucketRequestPaymentOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let payer = read(api, &caller, "s3:GetBucketRequestPayment", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        Ok(s.request_payer.clone().unwrap_or_else(|| "BucketOwner".to_owned()))
    })?;
    Ok(S3Response::new(dto::GetBucketRequestPaymentOutput { payer: Some(dto::Payer::from(payer)) }))
}

// ---- default encryption (User Guide `default-bucket-encryption`) ----

/// Since January 2023 every bucket has SSE-S3 default encryption; GetBucketEncryption returns it
/// when nothing else was put (User Guide `default-encryption-faq`).
fn sse_s3_default() -> dto::ServerSideEncryptionConfiguration {
    dto::ServerSideEncryptionConfiguration {
        rules: vec![dto::ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(dto::ServerSideEncryptionByDefault {
                sse_algorithm: dto::ServerSideEncryption::from_static(dto::ServerSideEncryption::AES256),
                kms_master_key_id: None,
            }),
            bucket_key_enabled: Some(false),
        }],
    }
}

pub fn put_encryption(api: &S3Api, req: S3Request<dto::PutBucketEncryptionInput>) -> S3Result<S3Response<dto::PutBucketEncryptionOutput>> {
    let caller = api.caller(&req)?;
    let input = req.input;
    let config = input.server_side_encryption_configuration;
    // A missing bucket is named before the document is judged (as recorded:
    // `test_s3_default_bucket_encryption_exc` → `put-bucket-enc-no-bucket`).
    bucket(&api.shared.world(), &input.bucket)?;
    if config.rules.len() != 1 {
        return Err(s3_error!(MalformedXML, "{MALFORMED}"));
    }
    if let Some(default) = config.rules.first().and_then(|r| r.apply_server_side_encryption_by_default.as_ref()) {
        match default.sse_algorithm.as_str() {
            "AES256" if default.kms_master_key_id.is_some() => {
                return Err(super::api::invalid_argument(
                    "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                    "ApplyServerSideEncryptionByDefault",
                    None,
                ));
            }
            "AES256" | "aws:kms" | "aws:kms:dsse" => {}
            _ => return Err(s3_error!(MalformedXML, "{MALFORMED}")),
        }
    }
    write(api, &caller, "s3:PutEncryptionConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        s.encryption = Some(config)
    })?;
    Ok(S3Response::new(dto::PutBucketEncryptionOutput::default()))
}

pub fn get_encryption(api: &S3Api, req: S3Request<dto::GetBucketEncryptionInput>) -> S3Result<S3Response<dto::GetBucketEncryptionOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    let config = read(api, &caller, "s3:GetEncryptionConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| {
        Ok(s.encryption.clone().unwrap_or_else(sse_s3_default))
    })?;
    Ok(S3Response::new(dto::GetBucketEncryptionOutput { server_side_encryption_configuration: Some(config) }))
}

pub fn delete_encryption(
    api: &S3Api,
    req: S3Request<dto::DeleteBucketEncryptionInput>,
) -> S3Result<S3Response<dto::DeleteBucketEncryptionOutput>> {
    let caller = api.caller(&req)?;
    let input = &req.input;
    // Deleting it restores SSE-S3, the default of every bucket.
    write(api, &caller, "s3:PutEncryptionConfiguration", &input.bucket, input.expected_bucket_owner.as_deref(), |s| s.encryption = None)?;
    Ok(no_content(dto::DeleteBucketEncryptionOutput::default()))
}

/// The bucket's default encryption for an object written without encryption headers: the KMS key
/// (None = the account's `aws/s3` key) when the default is SSE-KMS.
pub fn default_kms_key(settings: &BucketSettings) -> Option<Option<String>> {
    let default = settings.encryption.as_ref()?.rules.first()?.apply_server_side_encryption_by_default.as_ref()?;
    matches!(default.sse_algorithm.as_str(), "aws:kms" | "aws:kms:dsse").then(|| default.kms_master_key_id.clone())
}
