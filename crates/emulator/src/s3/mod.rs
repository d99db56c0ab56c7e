//! The S3 API with AWS semantics, on top of `s3s` (which parses requests, verifies SigV4 and
//! renders responses). Every operation resolves the caller, authorizes it with [`crate::access`] and only
//! then touches the world; writes to buckets with a replication configuration feed the engine.

/// The `x-amz-grant-*` headers of any input that has them (the s3s input types differ).
macro_rules! grant_headers {
    ($input:expr) => {
        crate::s3::acl::GrantHeaders {
            full_control: $input.grant_full_control.as_deref(),
            read: $input.grant_read.as_deref(),
            read_acp: $input.grant_read_acp.as_deref(),
            write: None,
            write_acp: $input.grant_write_acp.as_deref(),
        }
    };
}

/// Same, for bucket-level inputs, which also carry `x-amz-grant-write`.
macro_rules! bucket_grant_headers {
    ($input:expr) => {
        crate::s3::acl::GrantHeaders { write: $input.grant_write.as_deref(), ..grant_headers!($input) }
    };
}

/// The representation headers an object is stored with, from any input that sets them.
macro_rules! content_headers {
    ($input:expr) => {
        crate::state::s3::ContentHeaders {
            content_type: $input.content_type.as_ref().map(ToString::to_string),
            content_encoding: crate::s3::validate::stored_content_encoding($input.content_encoding.as_deref()),
            content_disposition: $input.content_disposition.clone(),
            content_language: $input.content_language.clone(),
            cache_control: $input.cache_control.clone(),
            expires: $input.expires.clone().map(time::OffsetDateTime::from),
            website_redirect_location: $input.website_redirect_location.clone(),
        }
    };
}

/// The encryption headers of any input that writes an object (`$customer_key_md5`: its checked
/// SSE-C key), for `object::new_version_sse`.
macro_rules! sse_headers {
    ($input:expr, $customer_key_md5:expr) => {
        crate::s3::object::SseHeaders {
            sse: $input.server_side_encryption.as_ref(),
            kms_key: $input.ssekms_key_id.as_deref(),
            customer_key_md5: $customer_key_md5,
        }
    };
}

/// [`authorize_version`] for any input naming bucket, key, version id and expected owner.
macro_rules! authorize_object {
    ($world:expr, $caller:expr, $action:expr, $input:expr) => {
        crate::s3::api::authorize_version(
            &$world,
            &$caller,
            $action,
            &$input.bucket,
            Some(&$input.key),
            $input.version_id.as_deref(),
            $input.expected_bucket_owner.as_deref(),
        )
    };
}

#[macro_use]
mod checksum;
pub mod acl;
pub(crate) mod api;
mod attributes;
mod body;
mod bucket;
mod config;
mod configurations;
mod copy;
pub mod cors;
pub mod lifecycle;
mod listing;
mod lock;
mod multipart;
mod object;
mod public_access;
mod settings;
mod torrent;
mod validate;
mod version;

use std::sync::Arc;

use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::dto;
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};

use crate::runtime::Shared;

pub use api::S3Api;

/// Looks secrets up in the world; 12-digit access key ids create their account (LocalStack style).
pub struct WorldAuth {
    shared: Arc<Shared>,
}

impl WorldAuth {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[async_trait::async_trait]
impl S3Auth for WorldAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        self.shared
            .world()
            .secret_for(access_key)
            .map(SecretKey::from)
            .ok_or_else(|| s3_error!(InvalidAccessKeyId, "The AWS Access Key Id you provided does not exist in our records."))
    }
}

/// Authorization happens in the handlers (it needs the bucket, the object and the policies), so
/// the s3s-level check lets every request through, anonymous ones included.
pub struct AuthorizeInHandlers;

#[async_trait::async_trait]
impl S3Access for AuthorizeInHandlers {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        // What the front door found in a configuration body, raised now that the signature
        // has been verified (see the front door's guard module).
        match cx.extensions_mut().get::<crate::wire::Refusal>() {
            Some(refusal) => Err(refusal.to_s3_error()),
            None => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl S3 for S3Api {
    async fn create_bucket(&self, req: S3Request<dto::CreateBucketInput>) -> S3Result<S3Response<dto::CreateBucketOutput>> {
        bucket::create_bucket(self, req)
    }
    async fn head_bucket(&self, req: S3Request<dto::HeadBucketInput>) -> S3Result<S3Response<dto::HeadBucketOutput>> {
        bucket::head_bucket(self, req)
    }
    async fn list_buckets(&self, req: S3Request<dto::ListBucketsInput>) -> S3Result<S3Response<dto::ListBucketsOutput>> {
        bucket::list_buckets(self, req)
    }
    async fn delete_bucket(&self, req: S3Request<dto::DeleteBucketInput>) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
        bucket::delete_bucket(self, req)
    }
    async fn get_bucket_location(&self, req: S3Request<dto::GetBucketLocationInput>) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
        bucket::get_bucket_location(self, req)
    }
    async fn put_bucket_versioning(
        &self,
        req: S3Request<dto::PutBucketVersioningInput>,
    ) -> S3Result<S3Response<dto::PutBucketVersioningOutput>> {
        config::put_bucket_versioning(self, req)
    }
    async fn get_bucket_versioning(
        &self,
        req: S3Request<dto::GetBucketVersioningInput>,
    ) -> S3Result<S3Response<dto::GetBucketVersioningOutput>> {
        config::get_bucket_versioning(self, req)
    }
    async fn put_bucket_policy(&self, req: S3Request<dto::PutBucketPolicyInput>) -> S3Result<S3Response<dto::PutBucketPolicyOutput>> {
        config::put_bucket_policy(self, req)
    }
    async fn get_bucket_policy(&self, req: S3Request<dto::GetBucketPolicyInput>) -> S3Result<S3Response<dto::GetBucketPolicyOutput>> {
        config::get_bucket_policy(self, req)
    }
    async fn delete_bucket_policy(
        &self,
        req: S3Request<dto::DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketPolicyOutput>> {
        config::delete_bucket_policy(self, req)
    }
    async fn put_bucket_replication(
        &self,
        req: S3Request<dto::PutBucketReplicationInput>,
    ) -> S3Result<S3Response<dto::PutBucketReplicationOutput>> {
        config::put_bucket_replication(self, req)
    }
    async fn get_bucket_replication(
        &self,
        req: S3Request<dto::GetBucketReplicationInput>,
    ) -> S3Result<S3Response<dto::GetBucketReplicationOutput>> {
        config::get_bucket_replication(self, req)
    }
    async fn delete_bucket_replication(
        &self,
        req: S3Request<dto::DeleteBucketReplicationInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketReplicationOutput>> {
        config::delete_bucket_replication(self, req)
    }
    async fn put_bucket_ownership_controls(
        &self,
        req: S3Request<dto::PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<dto::PutBucketOwnershipControlsOutput>> {
        config::put_bucket_ownership_controls(self, req)
    }
    async fn get_bucket_ownership_controls(
        &self,
        req: S3Request<dto::GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<dto::GetBucketOwnershipControlsOutput>> {
        config::get_bucket_ownership_controls(self, req)
    }
    async fn delete_bucket_ownership_controls(
        &self,
        req: S3Request<dto::DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketOwnershipControlsOutput>> {
        config::delete_bucket_ownership_controls(self, req)
    }
    async fn put_bucket_tagging(&self, req: S3Request<dto::PutBucketTaggingInput>) -> S3Result<S3Response<dto::PutBucketTaggingOutput>> {
        config::put_bucket_tagging(self, req)
    }
    async fn get_bucket_tagging(&self, req: S3Request<dto::GetBucketTaggingInput>) -> S3Result<S3Response<dto::GetBucketTaggingOutput>> {
        config::get_bucket_tagging(self, req)
    }
    async fn delete_bucket_tagging(
        &self,
        req: S3Request<dto::DeleteBucketTaggingInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketTaggingOutput>> {
        config::delete_bucket_tagging(self, req)
    }
    async fn put_bucket_acl(&self, req: S3Request<dto::PutBucketAclInput>) -> S3Result<S3Response<dto::PutBucketAclOutput>> {
        acl::put_bucket_acl(self, req)
    }
    async fn get_bucket_acl(&self, req: S3Request<dto::GetBucketAclInput>) -> S3Result<S3Response<dto::GetBucketAclOutput>> {
        acl::get_bucket_acl(self, req)
    }
    async fn put_object_acl(&self, req: S3Request<dto::PutObjectAclInput>) -> S3Result<S3Response<dto::PutObjectAclOutput>> {
        acl::put_object_acl(self, req)
    }
    async fn get_object_acl(&self, req: S3Request<dto::GetObjectAclInput>) -> S3Result<S3Response<dto::GetObjectAclOutput>> {
        acl::get_object_acl(self, req)
    }
    async fn put_object(&self, req: S3Request<dto::PutObjectInput>) -> S3Result<S3Response<dto::PutObjectOutput>> {
        object::put_object(self, req).await
    }
    async fn put_object_lock_configuration(
        &self,
        req: S3Request<dto::PutObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutObjectLockConfigurationOutput>> {
        lock::put_object_lock_configuration(self, req)
    }
    async fn get_object_lock_configuration(
        &self,
        req: S3Request<dto::GetObjectLockConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetObjectLockConfigurationOutput>> {
        lock::get_object_lock_configuration(self, req)
    }
    async fn put_object_retention(
        &self,
        req: S3Request<dto::PutObjectRetentionInput>,
    ) -> S3Result<S3Response<dto::PutObjectRetentionOutput>> {
        lock::put_object_retention(self, req)
    }
    async fn get_object_retention(
        &self,
        req: S3Request<dto::GetObjectRetentionInput>,
    ) -> S3Result<S3Response<dto::GetObjectRetentionOutput>> {
        lock::get_object_retention(self, req)
    }
    async fn put_object_legal_hold(
        &self,
        req: S3Request<dto::PutObjectLegalHoldInput>,
    ) -> S3Result<S3Response<dto::PutObjectLegalHoldOutput>> {
        lock::put_object_legal_hold(self, req)
    }
    async fn get_object_legal_hold(
        &self,
        req: S3Request<dto::GetObjectLegalHoldInput>,
    ) -> S3Result<S3Response<dto::GetObjectLegalHoldOutput>> {
        lock::get_object_legal_hold(self, req)
    }
    async fn put_bucket_lifecycle_configuration(
        &self,
        req: S3Request<dto::PutBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketLifecycleConfigurationOutput>> {
        settings::put_lifecycle(self, req)
    }
    async fn get_bucket_lifecycle_configuration(
        &self,
        req: S3Request<dto::GetBucketLifecycleConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketLifecycleConfigurationOutput>> {
        settings::get_lifecycle(self, req)
    }
    async fn delete_bucket_lifecycle(
        &self,
        req: S3Request<dto::DeleteBucketLifecycleInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketLifecycleOutput>> {
        settings::delete_lifecycle(self, req)
    }
    async fn put_bucket_cors(&self, req: S3Request<dto::PutBucketCorsInput>) -> S3Result<S3Response<dto::PutBucketCorsOutput>> {
        settings::put_cors(self, req)
    }
    async fn get_bucket_notification_configuration(
        &self,
        req: S3Request<dto::GetBucketNotificationConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketNotificationConfigurationOutput>> {
        settings::get_notification(self, req)
    }
    async fn get_bucket_cors(&self, req: S3Request<dto::GetBucketCorsInput>) -> S3Result<S3Response<dto::GetBucketCorsOutput>> {
        settings::get_cors(self, req)
    }
    async fn delete_bucket_cors(&self, req: S3Request<dto::DeleteBucketCorsInput>) -> S3Result<S3Response<dto::DeleteBucketCorsOutput>> {
        settings::delete_cors(self, req)
    }
    async fn put_bucket_website(&self, req: S3Request<dto::PutBucketWebsiteInput>) -> S3Result<S3Response<dto::PutBucketWebsiteOutput>> {
        settings::put_website(self, req)
    }
    async fn get_bucket_website(&self, req: S3Request<dto::GetBucketWebsiteInput>) -> S3Result<S3Response<dto::GetBucketWebsiteOutput>> {
        settings::get_website(self, req)
    }
    async fn delete_bucket_website(
        &self,
        req: S3Request<dto::DeleteBucketWebsiteInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketWebsiteOutput>> {
        settings::delete_website(self, req)
    }
    async fn put_bucket_logging(&self, req: S3Request<dto::PutBucketLoggingInput>) -> S3Result<S3Response<dto::PutBucketLoggingOutput>> {
        settings::put_logging(self, req)
    }
    async fn get_bucket_logging(&self, req: S3Request<dto::GetBucketLoggingInput>) -> S3Result<S3Response<dto::GetBucketLoggingOutput>> {
        settings::get_logging(self, req)
    }
    async fn put_bucket_accelerate_configuration(
        &self,
        req: S3Request<dto::PutBucketAccelerateConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketAccelerateConfigurationOutput>> {
        settings::put_accelerate(self, req)
    }
    async fn get_bucket_accelerate_configuration(
        &self,
        req: S3Request<dto::GetBucketAccelerateConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketAccelerateConfigurationOutput>> {
        settings::get_accelerate(self, req)
    }
    async fn put_bucket_request_payment(
        &self,
        req: S3Request<dto::PutBucketRequestPaymentInput>,
    ) -> S3Result<S3Response<dto::PutBucketRequestPaymentOutput>> {
        settings::put_request_payment(self, req)
    }
    async fn get_bucket_request_payment(
        &self,
        req: S3Request<dto::GetBucketRequestPaymentInput>,
    ) -> S3Result<S3Response<dto::GetBucketRequestPaymentOutput>> {
        settings::get_request_payment(self, req)
    }
    async fn put_bucket_metrics_configuration(
        &self,
        req: S3Request<dto::PutBucketMetricsConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketMetricsConfigurationOutput>> {
        configurations::put_metrics(self, req)
    }
    async fn get_bucket_metrics_configuration(
        &self,
        req: S3Request<dto::GetBucketMetricsConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketMetricsConfigurationOutput>> {
        configurations::get_metrics(self, req)
    }
    async fn delete_bucket_metrics_configuration(
        &self,
        req: S3Request<dto::DeleteBucketMetricsConfigurationInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketMetricsConfigurationOutput>> {
        configurations::delete_metrics(self, req)
    }
    async fn list_bucket_metrics_configurations(
        &self,
        req: S3Request<dto::ListBucketMetricsConfigurationsInput>,
    ) -> S3Result<S3Response<dto::ListBucketMetricsConfigurationsOutput>> {
        configurations::list_metrics(self, req)
    }
    async fn put_bucket_analytics_configuration(
        &self,
        req: S3Request<dto::PutBucketAnalyticsConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketAnalyticsConfigurationOutput>> {
        configurations::put_analytics(self, req)
    }
    async fn get_bucket_analytics_configuration(
        &self,
        req: S3Request<dto::GetBucketAnalyticsConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketAnalyticsConfigurationOutput>> {
        configurations::get_analytics(self, req)
    }
    async fn delete_bucket_analytics_configuration(
        &self,
        req: S3Request<dto::DeleteBucketAnalyticsConfigurationInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketAnalyticsConfigurationOutput>> {
        configurations::delete_analytics(self, req)
    }
    async fn list_bucket_analytics_configurations(
        &self,
        req: S3Request<dto::ListBucketAnalyticsConfigurationsInput>,
    ) -> S3Result<S3Response<dto::ListBucketAnalyticsConfigurationsOutput>> {
        configurations::list_analytics(self, req)
    }
    async fn put_bucket_inventory_configuration(
        &self,
        req: S3Request<dto::PutBucketInventoryConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketInventoryConfigurationOutput>> {
        configurations::put_inventory(self, req)
    }
    async fn get_bucket_inventory_configuration(
        &self,
        req: S3Request<dto::GetBucketInventoryConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketInventoryConfigurationOutput>> {
        configurations::get_inventory(self, req)
    }
    async fn delete_bucket_inventory_configuration(
        &self,
        req: S3Request<dto::DeleteBucketInventoryConfigurationInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketInventoryConfigurationOutput>> {
        configurations::delete_inventory(self, req)
    }
    async fn list_bucket_inventory_configurations(
        &self,
        req: S3Request<dto::ListBucketInventoryConfigurationsInput>,
    ) -> S3Result<S3Response<dto::ListBucketInventoryConfigurationsOutput>> {
        configurations::list_inventory(self, req)
    }
    async fn put_bucket_intelligent_tiering_configuration(
        &self,
        req: S3Request<dto::PutBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<S3Response<dto::PutBucketIntelligentTieringConfigurationOutput>> {
        configurations::put_intelligent_tiering(self, req)
    }
    async fn get_bucket_intelligent_tiering_configuration(
        &self,
        req: S3Request<dto::GetBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<S3Response<dto::GetBucketIntelligentTieringConfigurationOutput>> {
        configurations::get_intelligent_tiering(self, req)
    }
    async fn delete_bucket_intelligent_tiering_configuration(
        &self,
        req: S3Request<dto::DeleteBucketIntelligentTieringConfigurationInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketIntelligentTieringConfigurationOutput>> {
        configurations::delete_intelligent_tiering(self, req)
    }
    async fn list_bucket_intelligent_tiering_configurations(
        &self,
        req: S3Request<dto::ListBucketIntelligentTieringConfigurationsInput>,
    ) -> S3Result<S3Response<dto::ListBucketIntelligentTieringConfigurationsOutput>> {
        configurations::list_intelligent_tiering(self, req)
    }
    async fn put_bucket_encryption(
        &self,
        req: S3Request<dto::PutBucketEncryptionInput>,
    ) -> S3Result<S3Response<dto::PutBucketEncryptionOutput>> {
        settings::put_encryption(self, req)
    }
    async fn get_bucket_encryption(
        &self,
        req: S3Request<dto::GetBucketEncryptionInput>,
    ) -> S3Result<S3Response<dto::GetBucketEncryptionOutput>> {
        settings::get_encryption(self, req)
    }
    async fn delete_bucket_encryption(
        &self,
        req: S3Request<dto::DeleteBucketEncryptionInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketEncryptionOutput>> {
        settings::delete_encryption(self, req)
    }
    async fn put_public_access_block(
        &self,
        req: S3Request<dto::PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<dto::PutPublicAccessBlockOutput>> {
        public_access::put_public_access_block(self, req)
    }

    async fn get_public_access_block(
        &self,
        req: S3Request<dto::GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<dto::GetPublicAccessBlockOutput>> {
        public_access::get_public_access_block(self, req)
    }

    async fn delete_public_access_block(
        &self,
        req: S3Request<dto::DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<dto::DeletePublicAccessBlockOutput>> {
        public_access::delete_public_access_block(self, req)
    }

    async fn get_bucket_policy_status(
        &self,
        req: S3Request<dto::GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<dto::GetBucketPolicyStatusOutput>> {
        public_access::get_bucket_policy_status(self, req)
    }

    async fn restore_object(&self, req: S3Request<dto::RestoreObjectInput>) -> S3Result<S3Response<dto::RestoreObjectOutput>> {
        object::restore_object(self, req)
    }
    async fn get_object(&self, req: S3Request<dto::GetObjectInput>) -> S3Result<S3Response<dto::GetObjectOutput>> {
        object::get_object(self, req).await
    }
    async fn get_object_attributes(
        &self,
        req: S3Request<dto::GetObjectAttributesInput>,
    ) -> S3Result<S3Response<dto::GetObjectAttributesOutput>> {
        attributes::get_object_attributes(self, req)
    }

    async fn get_object_torrent(&self, req: S3Request<dto::GetObjectTorrentInput>) -> S3Result<S3Response<dto::GetObjectTorrentOutput>> {
        torrent::get_object_torrent(self, req)
    }

    async fn head_object(&self, req: S3Request<dto::HeadObjectInput>) -> S3Result<S3Response<dto::HeadObjectOutput>> {
        object::head_object(self, req)
    }
    async fn delete_object(&self, req: S3Request<dto::DeleteObjectInput>) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
        object::delete_object(self, req)
    }
    async fn delete_objects(&self, req: S3Request<dto::DeleteObjectsInput>) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
        object::delete_objects(self, req)
    }
    async fn copy_object(&self, req: S3Request<dto::CopyObjectInput>) -> S3Result<S3Response<dto::CopyObjectOutput>> {
        copy::copy_object(self, req).await
    }
    async fn list_objects_v2(&self, req: S3Request<dto::ListObjectsV2Input>) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
        listing::list_objects_v2(self, req)
    }
    async fn list_objects(&self, req: S3Request<dto::ListObjectsInput>) -> S3Result<S3Response<dto::ListObjectsOutput>> {
        listing::list_objects(self, req)
    }
    async fn list_object_versions(
        &self,
        req: S3Request<dto::ListObjectVersionsInput>,
    ) -> S3Result<S3Response<dto::ListObjectVersionsOutput>> {
        listing::list_object_versions(self, req)
    }
    async fn put_object_tagging(&self, req: S3Request<dto::PutObjectTaggingInput>) -> S3Result<S3Response<dto::PutObjectTaggingOutput>> {
        object::put_object_tagging(self, req)
    }
    async fn get_object_tagging(&self, req: S3Request<dto::GetObjectTaggingInput>) -> S3Result<S3Response<dto::GetObjectTaggingOutput>> {
        object::get_object_tagging(self, req)
    }
    async fn delete_object_tagging(
        &self,
        req: S3Request<dto::DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectTaggingOutput>> {
        object::delete_object_tagging(self, req)
    }
    async fn create_multipart_upload(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
        multipart::create_multipart_upload(self, req)
    }
    async fn upload_part(&self, req: S3Request<dto::UploadPartInput>) -> S3Result<S3Response<dto::UploadPartOutput>> {
        multipart::upload_part(self, req).await
    }

    async fn upload_part_copy(&self, req: S3Request<dto::UploadPartCopyInput>) -> S3Result<S3Response<dto::UploadPartCopyOutput>> {
        copy::upload_part_copy(self, req).await
    }
    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        multipart::complete_multipart_upload(self, req)
    }
    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        multipart::abort_multipart_upload(self, req)
    }
    async fn list_parts(&self, req: S3Request<dto::ListPartsInput>) -> S3Result<S3Response<dto::ListPartsOutput>> {
        multipart::list_parts(self, req)
    }
    async fn list_multipart_uploads(
        &self,
        req: S3Request<dto::ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
        multipart::list_multipart_uploads(self, req)
    }
}
