//! Bucket configurations named by an id: metrics (CloudWatch request metrics), analytics (storage
//! class analysis), inventory and S3 Intelligent-Tiering (User Guide `metrics-configurations`,
//! `analytics-storage-class`, `storage-inventory`, `intelligent-tiering`). Each kind is stored and
//! returned as put, up to 1,000 per bucket, and listed 100 a page in id order, with the answers
//! recorded from AWS (docs/aws-semantics.md §93). xrepl publishes no metrics, exports and inventory
//! reports and moves no objects between tiers: the configurations are kept for the tools that manage
//! them.

use std::collections::BTreeMap;

use s3s::dto;
use s3s::{s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use super::api::{authorize, bucket, bucket_mut, with_status, S3Api};
use super::listing::{continuation_token, resume_after_token};
use crate::state::s3::BucketSettings;

/// At most this many configurations of one kind per bucket.
const MAX_PER_BUCKET: usize = 1000;
/// List operations return 100 a page (as recorded: 102 metrics configurations, then a page of 2).
const PAGE: usize = 100;
const MALFORMED: &str = "The XML you provided was not well-formed or did not validate against our published schema";

/// One kind of id-named configuration: where a bucket keeps it, the actions that authorize it, and
/// what S3 checks in a put.
trait ById: Clone {
    /// Authorizes Get and List.
    const READ: &'static str;
    /// Authorizes Put and Delete (Service Authorization Reference).
    const WRITE: &'static str;
    fn id(&self) -> &str;
    fn stored(settings: &BucketSettings) -> &BTreeMap<String, Self>;
    fn stored_mut(settings: &mut BucketSettings) -> &mut BTreeMap<String, Self>;
    /// The put's checks; `id` is the request's `id` parameter.
    fn check(&self, id: &str) -> S3Result<()>;
}

/// A document whose id differs from the request's: MalformedXML for analytics and
/// Intelligent-Tiering, as recorded (`test_s3_analytics_configurations`, `test_s3_intelligent_tier_config`).
fn same_id_or_malformed(document: &str, id: &str) -> S3Result<()> {
    if document != id {
        return Err(s3_error!(MalformedXML, "{MALFORMED}"));
    }
    Ok(())
}

impl ById for dto::MetricsConfiguration {
    const READ: &'static str = "s3:GetMetricsConfiguration";
    const WRITE: &'static str = "s3:PutMetricsConfiguration";
    fn id(&self) -> &str {
        &self.id
    }
    fn stored(settings: &BucketSettings) -> &BTreeMap<String, Self> {
        &settings.metrics
    }
    fn stored_mut(settings: &mut BucketSettings) -> &mut BTreeMap<String, Self> {
        &mut settings.metrics
    }
    /// No recording shows a metrics id mismatch: the configuration is stored under the request's id.
    fn check(&self, _id: &str) -> S3Result<()> {
        Ok(())
    }
}

impl ById for dto::AnalyticsConfiguration {
    const READ: &'static str = "s3:GetAnalyticsConfiguration";
    const WRITE: &'static str = "s3:PutAnalyticsConfiguration";
    fn id(&self) -> &str {
        &self.id
    }
    fn stored(settings: &BucketSettings) -> &BTreeMap<String, Self> {
        &settings.analytics
    }
    fn stored_mut(settings: &mut BucketSettings) -> &mut BTreeMap<String, Self> {
        &mut settings.analytics
    }
    fn check(&self, id: &str) -> S3Result<()> {
        same_id_or_malformed(&self.id, id)
    }
}

impl ById for dto::IntelligentTieringConfiguration {
    const READ: &'static str = "s3:GetIntelligentTieringConfiguration";
    const WRITE: &'static str = "s3:PutIntelligentTieringConfiguration";
    fn id(&self) -> &str {
        &self.id
    }
    fn stored(settings: &BucketSettings) -> &BTreeMap<String, Self> {
        &settings.intelligent_tiering
    }
    fn stored_mut(settings: &mut BucketSettings) -> &mut BTreeMap<String, Self> {
        &mut settings.intelligent_tiering
    }
    fn check(&self, id: &str) -> S3Result<()> {
        same_id_or_malformed(&self.id, id)
    }
}

impl ById for dto::InventoryConfiguration {
    const READ: &'static str = "s3:GetInventoryConfiguration";
    const WRITE: &'static str = "s3:PutInventoryConfiguration";
    fn id(&self) -> &str {
        &self.id
    }
    fn stored(settings: &BucketSettings) -> &BTreeMap<String, Self> {
        &settings.inventory
    }
    fn stored_mut(settings: &mut BucketSettings) -> &mut BTreeMap<String, Self> {
        &mut settings.inventory
    }
    /// As recorded (`test_s3_put_inventory_report_exceptions`): IdMismatch, InvalidS3DestinationBucket for a
    /// destination that is not a bucket ARN, MalformedXML for a format, frequency, version choice or
    /// optional field S3 does not know.
    fn check(&self, id: &str) -> S3Result<()> {
        if self.id != id {
            return Err(bad_request("IdMismatch", "Document ID does not match the specified configuration ID."));
        }
        let destination = &self.destination.s3_bucket_destination;
        if crate::access::bucket_from_arn(&destination.bucket).is_none() {
            return Err(bad_request("InvalidS3DestinationBucket", "Invalid bucket ARN."));
        }
        let known = matches!(destination.format.as_str(), "CSV" | "ORC" | "Parquet")
            && matches!(self.schedule.frequency.as_str(), "Daily" | "Weekly")
            && matches!(self.included_object_versions.as_str(), "All" | "Current")
            && self.optional_fields.iter().flatten().all(|f| OPTIONAL_FIELDS.contains(&f.as_str()));
        if !known {
            return Err(s3_error!(MalformedXML, "{MALFORMED}"));
        }
        Ok(())
    }
}

/// The inventory's optional fields (API_InventoryConfiguration).
const OPTIONAL_FIELDS: &[&str] = &[
    "Size",
    "LastModifiedDate",
    "StorageClass",
    "ETag",
    "IsMultipartUploaded",
    "ReplicationStatus",
    "EncryptionStatus",
    "ObjectLockRetainUntilDate",
    "ObjectLockMode",
    "ObjectLockLegalHoldStatus",
    "IntelligentTieringAccessTier",
    "BucketKeyStatus",
    "ChecksumAlgorithm",
    "ObjectAccessControlList",
    "ObjectOwner",
];

fn bad_request(code: &str, message: &str) -> S3Error {
    let mut err = S3Error::with_message(S3ErrorCode::Custom(code.to_owned().into()), message.to_owned());
    err.set_status_code(http::StatusCode::BAD_REQUEST);
    err
}

/// 404 `NoSuchConfiguration`, as recorded (`test_get_bucket_metrics_configuration_not_exist`).
fn no_such_configuration() -> S3Error {
    let mut err = S3Error::with_message(S3ErrorCode::Custom("NoSuchConfiguration".into()), "The specified configuration does not exist.");
    err.set_status_code(http::StatusCode::NOT_FOUND);
    err
}

/// Which bucket a request names, and the expected owner it states (Intelligent-Tiering has none).
struct Target<'a> {
    bucket: &'a str,
    expected_owner: Option<&'a str>,
}

/// The [`Target`] of an input with `bucket` and `expected_bucket_owner`.
macro_rules! target {
    ($input:expr) => {
        Target { bucket: &$input.bucket, expected_owner: $input.expected_bucket_owner.as_deref() }
    };
}

fn put<T: ById>(api: &S3Api, caller: &crate::identity::Caller, at: &Target<'_>, id: String, configuration: T) -> S3Result<()> {
    configuration.check(&id)?;
    let mut world = api.shared.world();
    authorize(&world, caller, T::WRITE, at.bucket, None, at.expected_owner)?;
    let stored = T::stored_mut(&mut bucket_mut(&mut world, at.bucket)?.settings);
    if !stored.contains_key(&id) && stored.len() >= MAX_PER_BUCKET {
        return Err(bad_request(
            "TooManyConfigurations",
            "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.",
        ));
    }
    stored.insert(id, configuration);
    Ok(())
}

fn get<T: ById>(api: &S3Api, caller: &crate::identity::Caller, at: &Target<'_>, id: &str) -> S3Result<T> {
    let world = api.shared.world();
    authorize(&world, caller, T::READ, at.bucket, None, at.expected_owner)?;
    T::stored(&bucket(&world, at.bucket)?.settings).get(id).cloned().ok_or_else(no_such_configuration)
}

fn delete<T: ById>(api: &S3Api, caller: &crate::identity::Caller, at: &Target<'_>, id: &str) -> S3Result<()> {
    let mut world = api.shared.world();
    authorize(&world, caller, T::WRITE, at.bucket, None, at.expected_owner)?;
    T::stored_mut(&mut bucket_mut(&mut world, at.bucket)?.settings).remove(id).map(drop).ok_or_else(no_such_configuration)
}

/// One page of a List…Configurations answer.
struct Page<T> {
    items: Option<Vec<T>>,
    truncated: Option<bool>,
    next: Option<String>,
}

fn list<T: ById>(api: &S3Api, caller: &crate::identity::Caller, at: &Target<'_>, token: Option<&str>) -> S3Result<Page<T>> {
    let world = api.shared.world();
    authorize(&world, caller, T::READ, at.bucket, None, at.expected_owner)?;
    let stored = T::stored(&bucket(&world, at.bucket)?.settings);
    let after = token.map(resume_after_token).transpose()?;
    let mut rest = stored.values().filter(|c| after.as_deref().is_none_or(|a| c.id() > a));
    let items: Vec<T> = rest.by_ref().take(PAGE).cloned().collect();
    let truncated = rest.next().is_some();
    let next = items.last().filter(|_| truncated).map(|c| continuation_token(c.id()));
    // An empty list is left out, as recorded (`test_s3_inventory_report_crud` → `list-inventory-config-after-del`).
    Ok(Page { items: (!items.is_empty()).then_some(items), truncated: Some(truncated), next })
}

fn no_content<T>(output: T) -> S3Response<T> {
    with_status(output, http::StatusCode::NO_CONTENT)
}

/// The four handlers of one kind (Put, Get, Delete, List) for the dispatcher in `s3/mod.rs`; the s3s
/// input and output types differ by kind, the steps do not. `owner`: the inputs carry
/// `expected_bucket_owner` (Intelligent-Tiering's do not: `none`).
macro_rules! by_id_handlers {
    (@target owner, $i:ident) => {
        target!($i)
    };
    (@target none, $i:ident) => {
        Target { bucket: &$i.bucket, expected_owner: None }
    };
    ($config:ty, $owner:ident, $field:ident, $list_field:ident,
     $put:ident($put_in:ident, $put_out:ident), $get:ident($get_in:ident, $get_out:ident),
     $delete:ident($delete_in:ident, $delete_out:ident), $list:ident($list_in:ident, $list_out:ident)) => {
        pub fn $put(api: &S3Api, req: S3Request<dto::$put_in>) -> S3Result<S3Response<dto::$put_out>> {
            let caller = api.caller(&req)?;
            let i = req.input;
            put(api, &caller, &by_id_handlers!(@target $owner, i), i.id, i.$field)?;
            Ok(no_content(dto::$put_out {}))
        }

        pub fn $get(api: &S3Api, req: S3Request<dto::$get_in>) -> S3Result<S3Response<dto::$get_out>> {
            let caller = api.caller(&req)?;
            let i = req.input;
            let configuration = get::<$config>(api, &caller, &by_id_handlers!(@target $owner, i), &i.id)?;
            Ok(S3Response::new(dto::$get_out { $field: Some(configuration) }))
        }

        pub fn $delete(api: &S3Api, req: S3Request<dto::$delete_in>) -> S3Result<S3Response<dto::$delete_out>> {
            let caller = api.caller(&req)?;
            let i = req.input;
            delete::<$config>(api, &caller, &by_id_handlers!(@target $owner, i), &i.id)?;
            Ok(no_content(dto::$delete_out {}))
        }

        pub fn $list(api: &S3Api, req: S3Request<dto::$list_in>) -> S3Result<S3Response<dto::$list_out>> {
            let caller = api.caller(&req)?;
            let i = req.input;
            let page = list::<$config>(api, &caller, &by_id_handlers!(@target $owner, i), i.continuation_token.as_deref())?;
            Ok(S3Response::new(dto::$list_out {
                continuation_token: i.continuation_token,
                is_truncated: page.truncated,
                next_continuation_token: page.next,
                $list_field: page.items,
            }))
        }
    };
}

by_id_handlers!(
    dto::MetricsConfiguration,
    owner,
    metrics_configuration,
    metrics_configuration_list,
    put_metrics(PutBucketMetricsConfigurationInput, PutBucketMetricsConfigurationOutput),
    get_metrics(GetBucketMetricsConfigurationInput, GetBucketMetricsConfigurationOutput),
    delete_metrics(DeleteBucketMetricsConfigurationInput, DeleteBucketMetricsConfigurationOutput),
    list_metrics(ListBucketMetricsConfigurationsInput, ListBucketMetricsConfigurationsOutput)
);

by_id_handlers!(
    dto::AnalyticsConfiguration,
    owner,
    analytics_configuration,
    analytics_configuration_list,
    put_analytics(PutBucketAnalyticsConfigurationInput, PutBucketAnalyticsConfigurationOutput),
    get_analytics(GetBucketAnalyticsConfigurationInput, GetBucketAnalyticsConfigurationOutput),
    delete_analytics(DeleteBucketAnalyticsConfigurationInput, DeleteBucketAnalyticsConfigurationOutput),
    list_analytics(ListBucketAnalyticsConfigurationsInput, ListBucketAnalyticsConfigurationsOutput)
);

by_id_handlers!(
    dto::InventoryConfiguration,
    owner,
    inventory_configuration,
    inventory_configuration_list,
    put_inventory(PutBucketInventoryConfigurationInput, PutBucketInventoryConfigurationOutput),
    get_inventory(GetBucketInventoryConfigurationInput, GetBucketInventoryConfigurationOutput),
    delete_inventory(DeleteBucketInventoryConfigurationInput, DeleteBucketInventoryConfigurationOutput),
    list_inventory(ListBucketInventoryConfigurationsInput, ListBucketInventoryConfigurationsOutput)
);

by_id_handlers!(
    dto::IntelligentTieringConfiguration,
    none,
    intelligent_tiering_configuration,
    intelligent_tiering_configuration_list,
    put_intelligent_tiering(PutBucketIntelligentTieringConfigurationInput, PutBucketIntelligentTieringConfigurationOutput),
    get_intelligent_tiering(GetBucketIntelligentTieringConfigurationInput, GetBucketIntelligentTieringConfigurationOutput),
    delete_intelligent_tiering(DeleteBucketIntelligentTieringConfigurationInput, DeleteBucketIntelligentTieringConfigurationOutput),
    list_intelligent_tiering(ListBucketIntelligentTieringConfigurationsInput, ListBucketIntelligentTieringConfigurationsOutput)
);
