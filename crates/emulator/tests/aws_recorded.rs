//! Responses LocalStack recorded from real AWS (its `*.snapshot.json` files, tag v4.14.0, re-recorded February
//! 2026), checked field by field: docs/aws-semantics.md §80–§89 name the snapshot file and key of each.

mod common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use common::{code, message, start, versioned_bucket, A};

/// The raw XML body of a failed call (what AWS sends, before the SDK picks Code and Message out of it).
fn error_body<E>(err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String {
    let raw = err.raw_response().expect("an HTTP response");
    String::from_utf8_lossy(raw.body().bytes().expect("a buffered error body")).into_owned()
}

/// Keeps the HTTP status of a response (the SDK's outputs do not carry it).
#[derive(Debug)]
struct HttpStatus(std::sync::Arc<std::sync::atomic::AtomicU16>);

impl aws_sdk_s3::config::Intercept for HttpStatus {
    fn name(&self) -> &'static str {
        "HttpStatus"
    }

    fn read_before_deserialization(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        self.0.store(context.response().status().as_u16(), std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// A new bucket with one multipart upload of `key` begun; its upload id.
async fn bucket_with_upload(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    s3.create_bucket().bucket(bucket).send().await.expect("create");
    let upload = s3.create_multipart_upload().bucket(bucket).key(key).send().await.expect("create upload");
    upload.upload_id().expect("upload id").to_owned()
}

/// Uploads part 1 (`p`) of an upload; its ETag.
async fn upload_part_1(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, id: &str) -> Option<String> {
    let part = s3.upload_part().bucket(bucket).key(key).upload_id(id).part_number(1).body(ByteStream::from_static(b"p"));
    part.send().await.expect("part").e_tag().map(str::to_owned)
}

/// §80 — test_s3_api.snapshot.json, `TestS3ObjectCRUD::test_delete_object_versioned` → `get-object-with-version`:
/// an object put without a Content-Type answers `ContentType: binary/octet-stream`; one put with a type keeps it.
#[tokio::test]
async fn object_put_without_content_type_is_binary_octet_stream() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("ct-default").send().await.expect("create");
    // The Rust SDK sends `Content-Type: application/octet-stream` of its own; boto3 (as in the recording) sends none.
    let put = s3.put_object().bucket("ct-default").key("plain").body(ByteStream::from_static(b"x")).customize();
    put.mutate_request(|r| drop(r.headers_mut().remove("content-type"))).send().await.expect("put");
    let got = s3.get_object().bucket("ct-default").key("plain").send().await.expect("get");
    assert_eq!(got.content_type(), Some("binary/octet-stream"));
    let head = s3.head_object().bucket("ct-default").key("plain").send().await.expect("head");
    assert_eq!(head.content_type(), Some("binary/octet-stream"));
    let upload = s3.create_multipart_upload().bucket("ct-default").key("mpu").customize();
    let upload = upload.mutate_request(|r| drop(r.headers_mut().remove("content-type"))).send().await.expect("create upload");
    let id = upload.upload_id().expect("upload id");
    let part = s3.upload_part().bucket("ct-default").key("mpu").upload_id(id).part_number(1).body(ByteStream::from_static(b"p")).send();
    let etag = part.await.expect("part").e_tag().map(str::to_owned);
    let parts = CompletedMultipartUpload::builder().parts(CompletedPart::builder().part_number(1).set_e_tag(etag).build()).build();
    s3.complete_multipart_upload().bucket("ct-default").key("mpu").upload_id(id).multipart_upload(parts).send().await.expect("complete");
    let head = s3.head_object().bucket("ct-default").key("mpu").send().await.expect("head mpu");
    assert_eq!(head.content_type(), Some("binary/octet-stream"));
    s3.put_object()
        .bucket("ct-default")
        .key("typed")
        .content_type("text/plain")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("put");
    let head = s3.head_object().bucket("ct-default").key("typed").send().await.expect("head typed");
    assert_eq!(head.content_type(), Some("text/plain"));
    let got = s3.get_object().bucket("ct-default").key("plain").response_content_type("a/b").send().await.expect("override");
    assert_eq!(got.content_type(), Some("a/b"), "response-content-type still wins");
}

/// §81 — AWS's exact `Message` and the element that names what was missing or failed: test_s3.snapshot.json
/// `TestS3::test_get_object_no_such_bucket` (`BucketName`), test_s3_api.snapshot.json
/// `TestS3ObjectCRUD::test_delete_object_versioned` (`NoSuchKey` with `Key`; `NoSuchVersion` with `Key` and
/// `VersionId`), test_s3.snapshot.json `TestS3::test_multipart_and_list_parts` (`NoSuchUpload` with `UploadId`),
/// `TestS3::test_precondition_failed_error` (`Condition`), test_s3_api.snapshot.json
/// `TestS3BucketObjectTagging::test_bucket_tagging_crud` (`NoSuchTagSet` with `BucketName`).
#[tokio::test]
async fn error_bodies_carry_aws_message_and_elements() {
    let env = start().await;
    let s3 = env.s3(A).await;

    let err = s3.get_object().bucket("no-such-bucket-here").key("k").send().await.expect_err("no bucket");
    assert_eq!(code(&err), "NoSuchBucket");
    assert_eq!(message(&err), "The specified bucket does not exist", "no name appended to AWS's message");
    assert!(error_body(&err).contains("<BucketName>no-such-bucket-here</BucketName>"), "{}", error_body(&err));

    versioned_bucket(&s3, "err-elements").await;
    let err = s3.get_object().bucket("err-elements").key("missing key&<").send().await.expect_err("no key");
    assert_eq!(code(&err), "NoSuchKey");
    assert_eq!(message(&err), "The specified key does not exist.");
    assert!(error_body(&err).contains("<Key>missing key&amp;&lt;</Key>"), "{}", error_body(&err));

    let put = s3.put_object().bucket("err-elements").key("k").body(ByteStream::from_static(b"v")).send().await.expect("put");
    assert!(put.version_id().is_some());
    let gone = s3.put_object().bucket("err-elements").key("k").body(ByteStream::from_static(b"w")).send().await.expect("put 2");
    let gone = gone.version_id().expect("version id").to_owned();
    s3.delete_object().bucket("err-elements").key("k").version_id(&gone).send().await.expect("delete version");
    let err = s3.get_object().bucket("err-elements").key("k").version_id(&gone).send().await.expect_err("no version");
    assert_eq!(code(&err), "NoSuchVersion");
    let body = error_body(&err);
    assert!(body.contains("<Key>k</Key>") && body.contains(&format!("<VersionId>{gone}</VersionId>")), "{body}");

    let err = s3.get_object().bucket("err-elements").key("k").if_match("\"nope\"").send().await.expect_err("412");
    assert_eq!(code(&err), "PreconditionFailed");
    assert!(error_body(&err).contains("<Condition>If-Match</Condition>"), "{}", error_body(&err));

    let err = s3.list_parts().bucket("err-elements").key("k").upload_id("unknown-upload").send().await.expect_err("no upload");
    assert_eq!(code(&err), "NoSuchUpload");
    assert!(error_body(&err).contains("<UploadId>unknown-upload</UploadId>"), "{}", error_body(&err));

    let err = s3.get_bucket_tagging().bucket("err-elements").send().await.expect_err("no tags");
    assert_eq!(code(&err), "NoSuchTagSet");
    let body = error_body(&err);
    assert!(body.contains("<BucketName>err-elements</BucketName>"), "{body}");
    assert!(!body.contains("x-xrepl"), "{body}");
    let raw = err.raw_response().expect("response");
    assert!(raw.headers().get("x-xrepl-error-element").is_none(), "the carrier header never leaves the server");
    assert_eq!(raw.headers().get("content-type"), Some("application/xml"));

    // A delete marker keeps its own headers next to the element.
    s3.delete_object().bucket("err-elements").key("k").send().await.expect("delete");
    let err = s3.get_object().bucket("err-elements").key("k").send().await.expect_err("delete marker");
    assert_eq!(code(&err), "NoSuchKey");
    let raw = err.raw_response().expect("response");
    assert_eq!(raw.headers().get("x-amz-delete-marker"), Some("true"));
    assert!(error_body(&err).contains("<Key>k</Key>"));
}

/// §82 — the markers AWS always sends, empty (or 0) when the request had none: test_s3_api.snapshot.json
/// `TestS3ObjectCRUD::test_delete_object_versioned` → `list-object-versions` (`KeyMarker`, `VersionIdMarker`,
/// `Prefix` ""), test_s3_list_operations.snapshot.json `TestS3ListObjectsV2` (`Prefix` ""), test_s3.snapshot.json
/// `TestS3::test_multipart_and_list_parts` → `list-part-after-created` (`PartNumberMarker` and
/// `NextPartNumberMarker` 0), `list-all-uploads` (`KeyMarker`/`UploadIdMarker` "", `NextKeyMarker`/
/// `NextUploadIdMarker` the last upload listed although not truncated) and `list-all-uploads-completed` (both "");
/// test_s3_list_operations.snapshot.json `TestS3ListParts::test_list_parts_pagination` → `list-parts-empty`.
#[tokio::test]
async fn listings_echo_empty_markers() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "markers").await;
    let uploads = s3.list_multipart_uploads().bucket("markers").send().await.expect("no uploads");
    assert_eq!((uploads.key_marker(), uploads.upload_id_marker()), (Some(""), Some("")));
    assert_eq!((uploads.next_key_marker(), uploads.next_upload_id_marker()), (Some(""), Some("")));
    s3.put_object().bucket("markers").key("k").body(ByteStream::from_static(b"v")).send().await.expect("put");
    let versions = s3.list_object_versions().bucket("markers").send().await.expect("versions");
    assert_eq!((versions.prefix(), versions.key_marker(), versions.version_id_marker()), (Some(""), Some(""), Some("")));
    let v2 = s3.list_objects_v2().bucket("markers").send().await.expect("v2");
    assert_eq!(v2.prefix(), Some(""));
    let upload = s3.create_multipart_upload().bucket("markers").key("mpu").send().await.expect("create upload");
    let id = upload.upload_id().expect("upload id");
    let parts = s3.list_parts().bucket("markers").key("mpu").upload_id(id).send().await.expect("no parts");
    assert_eq!((parts.part_number_marker(), parts.next_part_number_marker()), (Some("0"), Some("0")));
    upload_part_1(&s3, "markers", "mpu", id).await;
    let parts = s3.list_parts().bucket("markers").key("mpu").upload_id(id).send().await.expect("parts");
    assert_eq!((parts.is_truncated(), parts.next_part_number_marker()), (Some(false), Some("1")));
    let uploads = s3.list_multipart_uploads().bucket("markers").send().await.expect("uploads");
    assert_eq!(uploads.is_truncated(), Some(false));
    assert_eq!((uploads.next_key_marker(), uploads.next_upload_id_marker()), (Some("mpu"), Some(id)));
}

/// §83 — `Initiator.DisplayName` is still sent in ListParts and ListMultipartUploads (the `Owner` has none since
/// 2025): test_s3.snapshot.json `TestS3::test_multipart_and_list_parts` → `list-part-after-created`, `list-all-uploads`.
#[tokio::test]
async fn multipart_listings_name_the_initiator() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = &bucket_with_upload(&s3, "initiator", "k").await;
    let parts = s3.list_parts().bucket("initiator").key("k").upload_id(id).send().await.expect("parts");
    let initiator = parts.initiator().expect("initiator");
    assert_eq!((initiator.id(), initiator.display_name()), (Some(env.canonical(A).as_str()), Some(A)));
    assert_eq!(parts.owner().and_then(|o| o.display_name()), None, "the owner has no DisplayName");
    let uploads = s3.list_multipart_uploads().bucket("initiator").send().await.expect("uploads");
    let listed = uploads.uploads().first().and_then(|u| u.initiator()).and_then(|i| i.display_name());
    assert_eq!(listed, Some(A));
}

/// §84 — an `x-amz-expected-bucket-owner` that is not a 12-digit account id: 400 `InvalidBucketOwnerAWSAccountID`
/// naming the value (test_s3.snapshot.json `TestS3::test_delete_bucket_policy_expected_bucket_owner` →
/// `delete-bucket-policy-invalid-bucket-owner`, `TestS3::test_get_bucket_policy` →
/// `get-bucket-policy-invalid-bucket-owner`); another account's id stays 403 `AccessDenied`.
#[tokio::test]
async fn expected_bucket_owner_must_be_an_account_id() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("expected-owner").send().await.expect("create");
    for value in ["invalid", "0000", "0000000000020"] {
        let err = s3.get_bucket_policy().bucket("expected-owner").expected_bucket_owner(value).send().await.expect_err(value);
        assert_eq!(code(&err), "InvalidBucketOwnerAWSAccountID", "{value}");
        assert_eq!(message(&err), format!("The value of the expected bucket owner parameter must be an AWS Account ID... [{value}]"));
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    }
    let err = s3.get_bucket_policy().bucket("expected-owner").expected_bucket_owner(common::B).send().await.expect_err("other account");
    assert_eq!(code(&err), "AccessDenied");
}

/// §85 — listings name each object's checksum algorithm and type: test_s3_list_operations.snapshot.json
/// `TestS3ListObjects::test_list_objects_with_prefix[]` → `list-objects` (`ChecksumAlgorithm: ["CRC32"]`,
/// `ChecksumType: FULL_OBJECT`), test_s3_api.snapshot.json `TestS3ObjectCRUD::test_delete_object_versioned` →
/// `list-object-versions` (the same in `Versions`).
#[tokio::test]
async fn listings_name_the_checksum() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType};
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "listed-checksums").await;
    let put = s3.put_object().bucket("listed-checksums").key("k").checksum_algorithm(ChecksumAlgorithm::Crc32);
    put.body(ByteStream::from_static(b"v")).send().await.expect("put");
    let v2 = s3.list_objects_v2().bucket("listed-checksums").send().await.expect("v2");
    let o = v2.contents().first().expect("one object");
    assert_eq!((o.checksum_algorithm(), o.checksum_type()), (&[ChecksumAlgorithm::Crc32][..], Some(&ChecksumType::FullObject)));
    let v1 = s3.list_objects().bucket("listed-checksums").send().await.expect("v1");
    assert_eq!(v1.contents().first().map(|o| o.checksum_algorithm()), Some(&[ChecksumAlgorithm::Crc32][..]));
    let versions = s3.list_object_versions().bucket("listed-checksums").send().await.expect("versions");
    let v = versions.versions().first().expect("one version");
    assert_eq!((v.checksum_algorithm(), v.checksum_type()), (&[ChecksumAlgorithm::Crc32][..], Some(&ChecksumType::FullObject)));
}

/// §86 — `InvalidPart` in AWS's words (two spaces after "found.") naming `ETag`, `PartNumber` and `UploadId`;
/// `InvalidPartOrder` naming `UploadId`: test_s3.snapshot.json `TestS3::test_multipart_complete_multipart_wrong_part`
/// → `complete-exc-wrong-etag`, `complete-exc-wrong-part-number`; `TestS3::test_complete_multipart_parts_order` →
/// `complete-multipart-unordered`.
#[tokio::test]
async fn invalid_part_names_the_part() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = &bucket_with_upload(&s3, "invalid-part", "k").await;
    upload_part_1(&s3, "invalid-part", "k", id).await;
    let wrong = CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(2).e_tag("\"8d777f385d3dfec8815d20f7496026dc\"").build())
        .build();
    let err = s3.complete_multipart_upload().bucket("invalid-part").key("k").upload_id(id).multipart_upload(wrong).send().await;
    let err = err.expect_err("no part 2");
    assert_eq!(code(&err), "InvalidPart");
    assert_eq!(
        message(&err),
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    );
    let body = error_body(&err);
    assert!(body.contains("<ETag>8d777f385d3dfec8815d20f7496026dc</ETag>") && body.contains("<PartNumber>2</PartNumber>"), "{body}");
    assert!(body.contains(&format!("<UploadId>{id}</UploadId>")), "{body}");
}

/// §87 — test_s3_list_operations.snapshot.json, `test_list_objects_marker_common_prefixes` → `list-objects-manual-first-file`,
/// `test_list_object_versions_pagination_common_prefixes` → `list-object-versions-start` and `…-manual-first-file`,
/// `test_list_multipart_uploads_marker_common_prefixes`: a marker inside a common prefix resumes after all of it; a
/// versions page ending with a prefix resumes at it; uploads are grouped by the delimiter like keys.
#[tokio::test]
async fn markers_inside_a_common_prefix_resume_after_it() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "cp-markers").await;
    for key in ["folder/aSubfolder/subFile1", "folder/aSubfolder/subFile2", "folder/file1", "folder/file2"] {
        s3.put_object().bucket("cp-markers").key(key).body(ByteStream::from_static(b"content 123")).send().await.expect("put");
        s3.create_multipart_upload().bucket("cp-markers").key(key).send().await.expect("upload");
    }
    let v1 = s3.list_objects().bucket("cp-markers").prefix("folder/").delimiter("/").max_keys(1);
    let v1 = v1.marker("folder/aSubfolder/subFile1").send().await.expect("list v1");
    assert_eq!(v1.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["folder/file1"]);
    assert!(v1.common_prefixes().is_empty());
    assert_eq!(v1.next_marker(), Some("folder/file1"));

    let start_page = s3.list_object_versions().bucket("cp-markers").prefix("folder/").delimiter("/").max_keys(1).send();
    let start_page = start_page.await.expect("versions");
    assert_eq!(start_page.next_key_marker(), Some("folder/aSubfolder/"));
    assert_eq!(start_page.next_version_id_marker(), None);
    let inside = s3.list_object_versions().bucket("cp-markers").prefix("folder/").delimiter("/").max_keys(1);
    let inside = inside.key_marker("folder/aSubfolder/subFile1").send().await.expect("versions after marker");
    assert_eq!(inside.versions().iter().filter_map(|v| v.key()).collect::<Vec<_>>(), ["folder/file1"]);

    let uploads = s3.list_multipart_uploads().bucket("cp-markers").prefix("folder/").delimiter("/").max_uploads(1).send();
    let uploads = uploads.await.expect("uploads");
    assert_eq!(uploads.common_prefixes().iter().filter_map(|p| p.prefix()).collect::<Vec<_>>(), ["folder/aSubfolder/"]);
    assert!(uploads.uploads().is_empty());
    assert_eq!((uploads.is_truncated(), uploads.next_key_marker(), uploads.delimiter()), (Some(true), Some(""), Some("/")));
    let after = s3.list_multipart_uploads().bucket("cp-markers").prefix("folder/").delimiter("/").max_uploads(1);
    let after = after.key_marker("folder/aSubfolder/subFile1").send().await.expect("uploads after marker");
    assert_eq!(after.uploads().iter().filter_map(|u| u.key()).collect::<Vec<_>>(), ["folder/file1"]);
}

/// §87 — `test_list_objects_v2_continuation_start_after` → `list-objects-v2-max-5`, `list-objects-start-after-token` and
/// `exc-continuation-token`; `test_list_buckets_with_continuation_token`: tokens are opaque (never a key or a bucket
/// name), a token wins over StartAfter (not echoed then), and an empty token is 400 InvalidArgument naming it.
#[tokio::test]
async fn continuation_tokens_are_opaque_and_checked() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("tokens").send().await.expect("create");
    for i in 0..4 {
        s3.put_object().bucket("tokens").key(format!("test_{i}")).body(ByteStream::from_static(b"x")).send().await.expect("put");
    }
    let first = s3.list_objects_v2().bucket("tokens").max_keys(2).send().await.expect("page 1");
    let token = first.next_continuation_token().expect("a token").to_owned();
    assert!(!token.contains("test_"), "the token is opaque: {token}");
    let rest = s3.list_objects_v2().bucket("tokens").continuation_token(&token).start_after("test_3").send().await.expect("page 2");
    assert_eq!(rest.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["test_2", "test_3"]);
    assert_eq!(rest.start_after(), None);
    let err = s3.list_objects_v2().bucket("tokens").continuation_token("").send().await.expect_err("empty token");
    assert_eq!((code(&err).as_str(), message(&err).as_str()), ("InvalidArgument", "The continuation token provided is incorrect"));
    assert!(error_body(&err).contains("<ArgumentName>continuation-token</ArgumentName>"), "{}", error_body(&err));

    s3.create_bucket().bucket("tokens-2").send().await.expect("create 2");
    let buckets = s3.list_buckets().max_buckets(1).send().await.expect("list buckets");
    let token = buckets.continuation_token().expect("a bucket token");
    assert!(!token.starts_with("tokens"), "the token is opaque: {token}");
    let next = s3.list_buckets().max_buckets(1).continuation_token(token).send().await.expect("next buckets");
    assert_ne!(next.buckets()[0].name(), buckets.buckets()[0].name());
}

/// §87 — `test_list_objects_versions_markers` → `list-objects-next-version-only`, `test_list_ops_encoding_type_validation`,
/// `test_list_multiparts_next_marker` → `list-multiparts-wrong-id-for-key`, `test_list_buckets_region_validation`:
/// listing arguments refused with InvalidArgument naming the argument (and its value).
#[tokio::test]
async fn listing_arguments_are_refused_naming_the_argument() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "args").await;
    let err = s3.list_object_versions().bucket("args").version_id_marker("abc").send().await.expect_err("marker alone");
    assert_eq!(message(&err).as_str(), "A version-id marker cannot be specified without a key marker.");
    let body = error_body(&err);
    assert!(body.contains("<ArgumentName>version-id-marker</ArgumentName><ArgumentValue>abc</ArgumentValue>"), "{body}");

    let err = s3.list_objects_v2().bucket("args").encoding_type("value".into()).send().await.expect_err("encoding");
    assert!(error_body(&err).contains("<ArgumentName>encoding-type</ArgumentName><ArgumentValue>value</ArgumentValue>"));
    let err = s3.list_multipart_uploads().bucket("args").encoding_type("value".into()).send().await.expect_err("encoding");
    assert_eq!(code(&err).as_str(), "InvalidArgument");

    let b = s3.create_multipart_upload().bucket("args").key("b").send().await.expect("upload b");
    let err = s3.list_multipart_uploads().bucket("args").key_marker("c").upload_id_marker(b.upload_id().expect("id")).send();
    let err = err.await.expect_err("an upload of another key");
    assert_eq!(message(&err).as_str(), "Invalid uploadId marker");
    assert!(error_body(&err).contains("<ArgumentName>upload-id-marker</ArgumentName>"));
    let ignored = s3.list_multipart_uploads().bucket("args").upload_id_marker(b.upload_id().expect("id")).send().await.expect("ignored");
    assert_eq!(ignored.upload_id_marker(), Some(""));

    let err = s3.list_buckets().bucket_region("eu-east-1").send().await.expect_err("no such region");
    assert_eq!(message(&err).as_str(), "Argument value eu-east-1 is not a valid AWS Region");
    let none = s3.list_buckets().bucket_region("eu-central-1").send().await.expect("a region without buckets");
    assert!(none.buckets().is_empty());
}

/// §87 — `test_s3_list_objects_timestamp_precision` and its ListObjectVersions, ListMultipartUploads and ListParts
/// siblings (raw XML ends in `.000Z`); `test_list_buckets_by_bucket_region` → `BucketArn`.
#[tokio::test]
async fn listings_show_whole_seconds_and_bucket_arns() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = bucket_with_upload(&s3, "whole-seconds", "k").await;
    upload_part_1(&s3, "whole-seconds", "k", &id).await;
    s3.put_object().bucket("whole-seconds").key("o").body(ByteStream::from_static(b"x")).send().await.expect("put");
    for got in [
        s3.list_objects_v2().bucket("whole-seconds").send().await.expect("v2").contents()[0].last_modified().copied(),
        s3.list_object_versions().bucket("whole-seconds").send().await.expect("versions").versions()[0].last_modified().copied(),
        s3.list_multipart_uploads().bucket("whole-seconds").send().await.expect("uploads").uploads()[0].initiated().copied(),
        s3.list_parts().bucket("whole-seconds").key("k").upload_id(&id).send().await.expect("parts").parts()[0].last_modified().copied(),
    ] {
        assert_eq!(got.expect("a time").subsec_nanos(), 0, "listings show whole seconds");
    }
    let buckets = s3.list_buckets().send().await.expect("list buckets");
    assert_eq!(buckets.buckets()[0].bucket_arn(), Some("arn:aws:s3:::whole-seconds"));
}

/// §88 — test_s3_api.snapshot.json, `test_put_object_on_suspended_bucket`, `test_get_object_with_version_unversioned_bucket`,
/// `test_delete_object`, `test_delete_objects`, `test_delete_objects_versioned`: null versions and version ids as recorded.
#[tokio::test]
async fn null_and_foreign_version_ids_answer_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("plain-ids").send().await.expect("create");
    s3.put_object().bucket("plain-ids").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let foreign = "HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD";
    let err = s3.get_object().bucket("plain-ids").key("k").version_id(foreign).send().await.expect_err("unversioned");
    assert_eq!((code(&err).as_str(), message(&err).as_str()), ("InvalidArgument", "Invalid version id specified"));
    assert!(error_body(&err).contains("<ArgumentName>versionId</ArgumentName>"), "{}", error_body(&err));
    let err = s3.delete_object().bucket("plain-ids").key("k").version_id(foreign).send().await.expect_err("unversioned delete");
    assert_eq!(code(&err), "InvalidArgument");
    let one = aws_sdk_s3::types::ObjectIdentifier::builder().key("k").version_id(foreign).build().expect("identifier");
    let delete = aws_sdk_s3::types::Delete::builder().objects(one).build().expect("delete");
    let out = s3.delete_objects().bucket("plain-ids").delete(delete).send().await.expect("delete objects");
    assert!(out.deleted().is_empty());
    assert_eq!(out.errors()[0].code(), Some("NoSuchVersion"));
    assert_eq!(out.errors()[0].version_id(), Some(foreign));

    versioned_bucket(&s3, "suspended-ids").await;
    let suspended = aws_sdk_s3::types::VersioningConfiguration::builder().status(aws_sdk_s3::types::BucketVersioningStatus::Suspended);
    s3.put_bucket_versioning().bucket("suspended-ids").versioning_configuration(suspended.build()).send().await.expect("suspend");
    let put = s3.put_object().bucket("suspended-ids").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    assert_eq!(put.version_id(), None, "a null version is not named");
}

/// §88 — `test_delete_object_versioned` → `get-delete-marker`, `test_object_tagging_versioned`, `test_delete_objects_versioned`
/// → `delete-objects-marker`: what a delete marker answers.
#[tokio::test]
async fn delete_markers_answer_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "markers-405").await;
    s3.put_object().bucket("markers-405").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let marker = s3.delete_object().bucket("markers-405").key("k").send().await.expect("delete");
    let marker = marker.version_id().expect("marker id").to_owned();
    let err = s3.get_object().bucket("markers-405").key("k").version_id(&marker).send().await.expect_err("405");
    let body = error_body(&err);
    assert!(body.contains("<Method>GET</Method>") && body.contains("<ResourceType>DeleteMarker</ResourceType>"), "{body}");
    let tags = aws_sdk_s3::types::Tagging::builder().set_tag_set(Some(Vec::new())).build().expect("tagging");
    let err = s3.put_object_tagging().bucket("markers-405").key("k").tagging(tags).send().await.expect_err("tag a marker");
    assert_eq!(code(&err), "MethodNotAllowed");
    assert!(error_body(&err).contains("<Method>PUT</Method>"));
    let err = s3.delete_object_tagging().bucket("markers-405").key("k").send().await.expect_err("untag a marker");
    assert_eq!(code(&err), "MethodNotAllowed");
    let one = aws_sdk_s3::types::ObjectIdentifier::builder().key("k").version_id(&marker).build().expect("identifier");
    let delete = aws_sdk_s3::types::Delete::builder().objects(one).build().expect("delete");
    let out = s3.delete_objects().bucket("markers-405").delete(delete).send().await.expect("delete marker by id");
    assert_eq!(out.deleted()[0].delete_marker_version_id(), Some(marker.as_str()));
}

/// §88 — `test_head_object_with_tags`, `test_bucket_tagging_crud` → `put-bucket-tags`,
/// `test_put_object_if_none_match_validation`: tag count on HEAD, 204 for PutBucketTagging, 501 for conditions S3 takes not.
#[tokio::test]
async fn tags_statuses_and_write_conditions_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("tags-204").send().await.expect("create");
    let put = s3.put_object().bucket("tags-204").key("k").tagging("a=1&b=2").body(ByteStream::from_static(b"x"));
    put.send().await.expect("put");
    let head = s3.head_object().bucket("tags-204").key("k").send().await.expect("head");
    assert_eq!(head.tag_count(), Some(2));
    let tag = aws_sdk_s3::types::Tag::builder().key("team").value("a").build().expect("tag");
    let tagging = aws_sdk_s3::types::Tagging::builder().tag_set(tag).build().expect("tagging");
    let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(0));
    let put = s3.put_bucket_tagging().bucket("tags-204").tagging(tagging).customize();
    put.interceptor(HttpStatus(std::sync::Arc::clone(&status))).send().await.expect("put bucket tagging");
    assert_eq!(status.load(std::sync::atomic::Ordering::SeqCst), 204);
    let err = s3.put_object().bucket("tags-204").key("k").if_none_match("\"abc\"").body(ByteStream::from_static(b"y")).send();
    let err = err.await.expect_err("not implemented");
    assert_eq!(code(&err), "NotImplemented");
    assert!(error_body(&err).contains("<Header>If-None-Match</Header>"), "{}", error_body(&err));
}

/// §89 — test_s3_api.snapshot.json, `TestS3ObjectWritePrecondition::test_multipart_if_match_etag` → `complete-multipart-if-match`,
/// `test_copy_object_if_match` → `copy-obj-if-match`, `test_copy_object_if_none_match`, `test_object_tagging_versioned` →
/// `get-object-tags-delete-marker-latest`: default checksums named, CopyObject's write conditions, GetObjectTagging on a marker.
#[tokio::test]
async fn checksums_and_copy_conditions_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = bucket_with_upload(&s3, "defaults", "mpu").await;
    let etag = upload_part_1(&s3, "defaults", "mpu", &id).await;
    let parts = CompletedMultipartUpload::builder().parts(CompletedPart::builder().part_number(1).set_e_tag(etag).build()).build();
    let done = s3.complete_multipart_upload().bucket("defaults").key("mpu").upload_id(&id).multipart_upload(parts).send();
    let done = done.await.expect("complete");
    assert!(done.checksum_crc64_nvme().is_some(), "S3's default checksum is named");
    assert_eq!(done.checksum_type().map(|t| t.as_str()), Some("FULL_OBJECT"));

    let put = s3.put_object().bucket("defaults").key("src").body(ByteStream::from_static(b"source")).send().await.expect("put");
    let copy = s3.copy_object().bucket("defaults").key("dst").copy_source("defaults/src").send().await.expect("copy");
    let result = copy.copy_object_result().expect("result");
    assert!(result.checksum_crc32().is_some() || result.checksum_crc64_nvme().is_some(), "{result:?}");
    assert_eq!(result.checksum_type().map(|t| t.as_str()), Some("FULL_OBJECT"));
    let err = s3.copy_object().bucket("defaults").key("dst").copy_source("defaults/src").if_none_match("*").send();
    assert_eq!(code(&err.await.expect_err("dst exists")), "PreconditionFailed");
    let err = s3.copy_object().bucket("defaults").key("new").copy_source("defaults/src").if_match(put.e_tag().expect("etag")).send();
    assert_eq!(code(&err.await.expect_err("no new yet")), "NoSuchKey");
    let wrong = s3.copy_object().bucket("defaults").key("dst").copy_source("defaults/src").if_match("\"0123456789abcdef0123456789abcdef\"");
    assert_eq!(code(&wrong.send().await.expect_err("other etag")), "PreconditionFailed");

    versioned_bucket(&s3, "tags-on-marker").await;
    s3.put_object().bucket("tags-on-marker").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    s3.delete_object().bucket("tags-on-marker").key("k").send().await.expect("marker");
    let err = s3.get_object_tagging().bucket("tags-on-marker").key("k").send().await.expect_err("405");
    assert_eq!(code(&err), "MethodNotAllowed");
}

/// §90 — test_s3.snapshot.json, `TestS3PutObjectChecksum::test_put_object_checksum` → `put-wrong-checksum-no-b64`,
/// `TestS3::test_s3_invalid_content_md5`, `TestS3::test_s3_bucket_acl_exceptions`, `TestS3BucketLifecycle`, and the
/// `HostId` of every error body: validation as recorded.
#[tokio::test]
async fn malformed_values_are_refused_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("malformed").send().await.expect("create");
    let put = || s3.put_object().bucket("malformed").key("k").body(ByteStream::from_static(b"x"));
    let err = put().checksum_crc32("not-a-crc").send().await.expect_err("malformed checksum");
    assert_eq!((code(&err).as_str(), message(&err).as_str()), ("InvalidRequest", "Value for x-amz-checksum-crc32 header is invalid."));
    let body = error_body(&err);
    assert!(body.contains("<HostId>") && body.contains("<RequestId>"), "{body}");
    let err = put().content_md5("bm90LW1kNQ==").send().await.expect_err("not an MD5");
    assert_eq!((code(&err).as_str(), message(&err).as_str()), ("InvalidDigest", "The Content-MD5 you specified was invalid."));

    let err = s3.put_bucket_acl().bucket("malformed").grant_write("uri=\"http://acs.amazonaws.com/groups/s3/FakeGroup\"").send();
    let err = err.await.expect_err("fake group");
    assert_eq!(message(&err), "Invalid group uri");
    assert!(error_body(&err).contains("<ArgumentName>uri</ArgumentName>"));
    let err = s3.put_bucket_acl().bucket("malformed").grant_write("id=\"wrong-id\"").send().await.expect_err("bad id");
    assert_eq!(message(&err), "Invalid id");
    let err = s3.put_bucket_acl().bucket("malformed").grant_write("fakekey=\"1234\"").send().await.expect_err("bad key");
    assert_eq!(message(&err), "Argument format not recognized");
    let grant = aws_sdk_s3::types::Grant::builder()
        .grantee(
            aws_sdk_s3::types::Grantee::builder()
                .r#type(aws_sdk_s3::types::Type::Group)
                .uri("http://acs.amazonaws.com/groups/s3/LogDelivery")
                .build()
                .expect("grantee"),
        )
        .permission(aws_sdk_s3::types::Permission::Write)
        .build();
    let ownerless = aws_sdk_s3::types::AccessControlPolicy::builder().grants(grant).build();
    let err = s3.put_bucket_acl().bucket("malformed").access_control_policy(ownerless).send().await.expect_err("no owner");
    assert_eq!(code(&err), "MalformedACLError");

    let rule = aws_sdk_s3::types::LifecycleRule::builder()
        .id("expire")
        .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
        .filter(aws_sdk_s3::types::LifecycleRuleFilter::builder().prefix("").build())
        .expiration(aws_sdk_s3::types::LifecycleExpiration::builder().days(1).build())
        .build()
        .expect("rule");
    let config = aws_sdk_s3::types::BucketLifecycleConfiguration::builder().rules(rule).build().expect("config");
    let put = s3.put_bucket_lifecycle_configuration().bucket("malformed").lifecycle_configuration(config).send();
    let put = put.await.expect("lifecycle");
    assert_eq!(put.transition_default_minimum_object_size().map(|m| m.as_str()), Some("all_storage_classes_128K"));
    let got = s3.get_bucket_lifecycle_configuration().bucket("malformed").send().await.expect("get lifecycle");
    assert_eq!(got.transition_default_minimum_object_size().map(|m| m.as_str()), Some("all_storage_classes_128K"));
}

/// §92 — test_s3.snapshot.json, `TestS3::test_s3_get_object_preconditions` → `obj-ignore-future-modified-since`,
/// `TestS3::test_copy_in_place_with_bucket_encryption` → `copy-obj`, `TestS3::test_s3_copy_object_in_place_with_encryption`
/// → `copy-object-in-place-without-kms-sse`: a future If-Modified-Since is ignored; in-place copies that change encryption pass.
#[tokio::test]
async fn future_dates_and_in_place_encryption_copies_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("future").send().await.expect("create");
    s3.put_object().bucket("future").key("k").body(ByteStream::from_static(b"data")).send().await.expect("put");
    let tomorrow = aws_sdk_s3::primitives::DateTime::from_secs(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64 + 86_400,
    );
    s3.get_object().bucket("future").key("k").if_modified_since(tomorrow).send().await.expect("a future date is ignored");
    let copy = s3.copy_object().bucket("future").key("c").copy_source("future/k").copy_source_if_modified_since(tomorrow).send();
    copy.await.expect("a future copy-source date is ignored");

    let in_place = || s3.copy_object().bucket("future").key("k").copy_source("future/k");
    assert_eq!(code(&in_place().send().await.expect_err("nothing changes")), "InvalidRequest");
    let default = aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
        .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .build()
        .expect("default");
    let rule = aws_sdk_s3::types::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(default).build();
    let config = aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("config");
    s3.put_bucket_encryption().bucket("future").server_side_encryption_configuration(config).send().await.expect("encryption");
    in_place().send().await.expect("the bucket's default encryption applies: accepted");
}

/// §93 — test_s3_api.snapshot.json, `TestS3MetricsConfiguration` (all eight tests): metrics configurations are
/// stored by id and returned as put, PutBucketMetricsConfiguration and DeleteBucketMetricsConfiguration answer 204,
/// a missing one is 404 NoSuchConfiguration, and listings come 100 a page with an opaque continuation token.
#[tokio::test]
async fn metrics_configurations_as_recorded() {
    use aws_sdk_s3::types::{MetricsConfiguration, MetricsFilter};
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("metrics").send().await.expect("create");
    let config = |id: &str, prefix: &str| {
        let filter = MetricsFilter::Prefix(prefix.to_owned());
        MetricsConfiguration::builder().id(id).filter(filter).build().expect("metrics configuration")
    };
    let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(0));
    let put = s3.put_bucket_metrics_configuration().bucket("metrics").id("m1").metrics_configuration(config("m1", "logs/"));
    put.customize().interceptor(HttpStatus(std::sync::Arc::clone(&status))).send().await.expect("put");
    assert_eq!(status.load(std::sync::atomic::Ordering::SeqCst), 204);
    let overwrite = s3.put_bucket_metrics_configuration().bucket("metrics").id("m1").metrics_configuration(config("m1", "logs/new"));
    overwrite.send().await.expect("overwrite");
    let got = s3.get_bucket_metrics_configuration().bucket("metrics").id("m1").send().await.expect("get");
    let got = got.metrics_configuration().expect("configuration");
    assert_eq!((got.id(), got.filter()), ("m1", Some(&MetricsFilter::Prefix("logs/new".to_owned()))));

    let err = s3.get_bucket_metrics_configuration().bucket("metrics").id("does-not-exist").send().await.expect_err("missing");
    assert_eq!(code(&err), "NoSuchConfiguration");
    assert_eq!(message(&err), "The specified configuration does not exist.");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));

    for i in 0..102 {
        let id = format!("{}-x", 100 + i);
        s3.put_bucket_metrics_configuration().bucket("metrics").id(&id).metrics_configuration(config(&id, "p")).send().await.expect("put");
    }
    let first = s3.list_bucket_metrics_configurations().bucket("metrics").send().await.expect("list");
    assert_eq!((first.metrics_configuration_list().len(), first.is_truncated()), (100, Some(true)));
    let token = first.next_continuation_token().expect("a next token");
    let second = s3.list_bucket_metrics_configurations().bucket("metrics").continuation_token(token).send().await.expect("page 2");
    let ids: Vec<&str> = second.metrics_configuration_list().iter().map(MetricsConfiguration::id).collect();
    assert_eq!((ids, second.is_truncated(), second.continuation_token()), (vec!["200-x", "201-x", "m1"], Some(false), Some(token)));

    let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(0));
    let delete = s3.delete_bucket_metrics_configuration().bucket("metrics").id("m1").customize();
    delete.interceptor(HttpStatus(std::sync::Arc::clone(&status))).send().await.expect("delete");
    assert_eq!(status.load(std::sync::atomic::Ordering::SeqCst), 204);
    let err = s3.delete_bucket_metrics_configuration().bucket("metrics").id("m1").send().await.expect_err("deleted twice");
    assert_eq!(code(&err), "NoSuchConfiguration");
}

/// §94 — test_s3.snapshot.json, `TestS3MultipartUploadChecksum::test_multipart_upload_part_checksum_exception` →
/// `put-wrong-checksum-value`: a part of a default upload that declares a CRC32 is checked against it.
#[tokio::test]
async fn part_checksums_of_a_default_upload_are_checked() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = bucket_with_upload(&s3, "part-sums", "k").await;
    let part = |crc32: &'static str| {
        let part = s3.upload_part().bucket("part-sums").key("k").upload_id(&id).part_number(1);
        part.checksum_crc32(crc32).body(ByteStream::from_static(b"right body")).send()
    };
    // BD5xyQ== is the CRC32 of "bad data"; KB8VcQ== that of "right body".
    let err = part("BD5xyQ==").await.expect_err("a wrong CRC32");
    assert_eq!(code(&err), "BadDigest");
    assert_eq!(message(&err), "The CRC32 you specified did not match the calculated checksum.");
    let err = part("abcdefgh").await.expect_err("not a CRC32");
    assert_eq!(code(&err), "InvalidRequest");
    assert_eq!(message(&err), "Value for x-amz-checksum-crc32 header is invalid.");
    part("KB8VcQ==").await.expect("the right CRC32");
}

/// §94 — test_s3.snapshot.json, `TestS3MultipartUploadChecksum::test_complete_multipart_parts_checksum_composite` →
/// `complete-multipart-no-checksum`: completing a COMPOSITE upload needs every part's checksum.
#[tokio::test]
async fn composite_completion_names_every_part_checksum() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType};
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("composite").send().await.expect("create");
    let create = s3.create_multipart_upload().bucket("composite").key("k").checksum_algorithm(ChecksumAlgorithm::Crc32);
    let upload = create.checksum_type(ChecksumType::Composite).send().await.expect("create upload");
    let id = upload.upload_id().expect("upload id");
    let part = s3.upload_part().bucket("composite").key("k").upload_id(id).part_number(1);
    let part = part.checksum_algorithm(ChecksumAlgorithm::Crc32).body(ByteStream::from_static(b"right body")).send().await.expect("part");
    let etag = part.e_tag().expect("etag").to_owned();
    let without = CompletedPart::builder().part_number(1).e_tag(&etag).build();
    let complete = s3.complete_multipart_upload().bucket("composite").key("k").upload_id(id);
    let upload_of = |p: CompletedPart| CompletedMultipartUpload::builder().parts(p).build();
    let err = complete.clone().multipart_upload(upload_of(without)).send().await.expect_err("no part checksum");
    assert_eq!(code(&err), "InvalidRequest");
    assert_eq!(
        message(&err),
        "The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request."
    );
    let with = CompletedPart::builder().part_number(1).e_tag(&etag).checksum_crc32("KB8VcQ==").build();
    complete.multipart_upload(upload_of(with)).send().await.expect("complete with the part's checksum");
}

/// §93 — test_s3.snapshot.json, `TestS3::test_s3_analytics_configurations`, `test_s3_intelligent_tier_config`,
/// `test_s3_inventory_report_crud`, `test_s3_put_inventory_report_exceptions`: the other id-named configurations
/// answer like metrics, with the id and inventory checks AWS makes.
#[tokio::test]
async fn analytics_inventory_and_tiering_configurations_as_recorded() {
    use aws_sdk_s3::types::{
        AnalyticsConfiguration, AnalyticsExportDestination, AnalyticsS3BucketDestination, AnalyticsS3ExportFileFormat,
        IntelligentTieringAccessTier, IntelligentTieringConfiguration, IntelligentTieringStatus, InventoryConfiguration,
        InventoryDestination, InventoryFormat, InventoryFrequency, InventoryIncludedObjectVersions, InventoryS3BucketDestination,
        InventorySchedule, StorageClassAnalysis, StorageClassAnalysisDataExport, StorageClassAnalysisSchemaVersion, Tiering,
    };
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("by-id").send().await.expect("create");

    let destination = AnalyticsS3BucketDestination::builder().format(AnalyticsS3ExportFileFormat::Csv).bucket("arn:aws:s3:::by-id");
    let export = StorageClassAnalysisDataExport::builder()
        .output_schema_version(StorageClassAnalysisSchemaVersion::V1)
        .destination(AnalyticsExportDestination::builder().s3_bucket_destination(destination.build().expect("dest")).build())
        .build()
        .expect("export");
    let analytics = AnalyticsConfiguration::builder()
        .id("a1")
        .storage_class_analysis(StorageClassAnalysis::builder().data_export(export).build())
        .build()
        .expect("analytics");
    let err = s3.put_bucket_analytics_configuration().bucket("by-id").id("other").analytics_configuration(analytics.clone()).send();
    assert_eq!(code(&err.await.expect_err("id mismatch")), "MalformedXML");
    let err = s3.delete_bucket_analytics_configuration().bucket("by-id").id("a1").send().await.expect_err("none yet");
    assert_eq!(code(&err), "NoSuchConfiguration");
    s3.put_bucket_analytics_configuration().bucket("by-id").id("a1").analytics_configuration(analytics).send().await.expect("put");
    let listed = s3.list_bucket_analytics_configurations().bucket("by-id").send().await.expect("list");
    assert_eq!(listed.analytics_configuration_list().iter().map(|c| c.id()).collect::<Vec<_>>(), vec!["a1"]);

    let tiering = |id: &str| {
        let tier = Tiering::builder().days(90).access_tier(IntelligentTieringAccessTier::ArchiveAccess).build().expect("tier");
        let config = IntelligentTieringConfiguration::builder().id(id).status(IntelligentTieringStatus::Enabled).tierings(tier);
        config.build().expect("tiering")
    };
    let err =
        s3.put_bucket_intelligent_tiering_configuration().bucket("by-id").id("wrong").intelligent_tiering_configuration(tiering("t1"));
    assert_eq!(code(&err.send().await.expect_err("id mismatch")), "MalformedXML");
    for id in ["t2", "t1"] {
        let put = s3.put_bucket_intelligent_tiering_configuration().bucket("by-id").id(id).intelligent_tiering_configuration(tiering(id));
        put.send().await.expect("put tiering");
    }
    let listed = s3.list_bucket_intelligent_tiering_configurations().bucket("by-id").send().await.expect("list");
    let ids: Vec<&str> = listed.intelligent_tiering_configuration_list().iter().map(|c| c.id()).collect();
    assert_eq!(ids, vec!["t1", "t2"]);

    let inventory = |id: &str, bucket: &str, format: &str| {
        let dest = InventoryS3BucketDestination::builder().bucket(bucket).format(InventoryFormat::from(format)).build().expect("dest");
        InventoryConfiguration::builder()
            .id(id)
            .destination(InventoryDestination::builder().s3_bucket_destination(dest).build())
            .is_enabled(true)
            .included_object_versions(InventoryIncludedObjectVersions::All)
            .schedule(InventorySchedule::builder().frequency(InventoryFrequency::Daily).build().expect("schedule"))
            .build()
            .expect("inventory")
    };
    let put = |id: &str, config: InventoryConfiguration| {
        s3.put_bucket_inventory_configuration().bucket("by-id").id(id).inventory_configuration(config).send()
    };
    let err = put("i1", inventory("i2", "arn:aws:s3:::by-id", "CSV")).await.expect_err("id mismatch");
    assert_eq!(
        (code(&err), message(&err)),
        ("IdMismatch".to_owned(), "Document ID does not match the specified configuration ID.".to_owned())
    );
    let err = put("i1", inventory("i1", "by-id", "CSV")).await.expect_err("not an ARN");
    assert_eq!((code(&err), message(&err)), ("InvalidS3DestinationBucket".to_owned(), "Invalid bucket ARN.".to_owned()));
    assert_eq!(code(&put("i1", inventory("i1", "arn:aws:s3:::by-id", "WRONG")).await.expect_err("format")), "MalformedXML");
    put("i1", inventory("i1", "arn:aws:s3:::by-id", "CSV")).await.expect("put inventory");
    let got = s3.get_bucket_inventory_configuration().bucket("by-id").id("i1").send().await.expect("get");
    assert_eq!(got.inventory_configuration().map(|c| c.id()), Some("i1"));
    s3.delete_bucket_inventory_configuration().bucket("by-id").id("i1").send().await.expect("delete");
    let listed = s3.list_bucket_inventory_configurations().bucket("by-id").send().await.expect("list");
    assert!(listed.inventory_configuration_list().is_empty());
    assert_eq!(listed.is_truncated(), Some(false));
}

/// §94 — test_s3.snapshot.json, `TestS3MultipartUploadChecksum::test_multipart_parts_checksum_exceptions_composite`:
/// an unsupported algorithm, the upload's algorithm and mode in ListMultipartUploads, a part checksum in another
/// algorithm and a completion in another checksum mode.
#[tokio::test]
async fn composite_upload_exceptions_as_recorded() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType};
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("composite-exc").send().await.expect("create");
    let create = s3.create_multipart_upload().bucket("composite-exc").key("k");
    let err = create.clone().checksum_algorithm(ChecksumAlgorithm::from("TEST")).send().await.expect_err("unsupported");
    assert_eq!(
        message(&err),
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
    );
    let upload = create.checksum_algorithm(ChecksumAlgorithm::Crc32).checksum_type(ChecksumType::Composite).send().await.expect("create");
    let id = upload.upload_id().expect("upload id");
    let uploads = s3.list_multipart_uploads().bucket("composite-exc").send().await.expect("list uploads");
    let listed = uploads.uploads().first().expect("one upload");
    assert_eq!((listed.checksum_algorithm(), listed.checksum_type()), (Some(&ChecksumAlgorithm::Crc32), Some(&ChecksumType::Composite)));
    let part = s3.upload_part().bucket("composite-exc").key("k").upload_id(id).part_number(1).body(ByteStream::from_static(b"abc"));
    let etag = part.send().await.expect("part").e_tag().expect("etag").to_owned();
    let complete = s3.complete_multipart_upload().bucket("composite-exc").key("k").upload_id(id);
    // The SHA-256 of "abc", on a CRC32 upload.
    let sha = "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=";
    let part = CompletedPart::builder().part_number(1).e_tag(&etag).checksum_sha256(sha).build();
    let with_sha = CompletedMultipartUpload::builder().parts(part).build();
    let err = complete.clone().multipart_upload(with_sha).send().await.expect_err("another algorithm");
    assert_eq!(code(&err), "BadDigest");
    assert_eq!(message(&err), "The sha256 you specified for part 1 did not match what we received.");
    let bare = CompletedMultipartUpload::builder().parts(CompletedPart::builder().part_number(1).e_tag(&etag).build()).build();
    let err = complete.multipart_upload(bare).checksum_type(ChecksumType::FullObject).send().await.expect_err("another mode");
    assert_eq!(code(&err), "InvalidRequest");
    assert_eq!(
        message(&err),
        "The upload was created using the COMPOSITE checksum mode. The complete request must use the same checksum mode."
    );
}

/// §96 — test_s3.snapshot.json, `TestS3`: `test_invalid_range_error` → `exc`, `test_get_object_part` →
/// `part-no-multipart`, `test_upload_file_multipart` → `get_object` (no PartsCount without a part number),
/// `test_put_object_storage_class_outposts`, `test_s3_uppercase_bucket_name`, `test_complete_multipart_parts_order`
/// → `upload-part-negative-part-number`, `test_multipart_complete_multipart_too_small` → `complete-exc-too-small`,
/// `upload-part1` (a default upload reports the part checksum the request declared), `test_s3_copy_object_wrong_format`.
#[tokio::test]
async fn ranges_parts_and_names_are_refused_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = bucket_with_upload(&s3, "refusals", "mpu").await;
    s3.put_object().bucket("refusals").key("small").body(ByteStream::from_static(b"12345678")).send().await.expect("put");

    let err = s3.get_object().bucket("refusals").key("small").range("bytes=1024-4096").send().await.expect_err("416");
    assert_eq!(code(&err), "InvalidRange");
    let body = error_body(&err);
    assert!(
        body.contains("<ActualObjectSize>8</ActualObjectSize>") && body.contains("<RangeRequested>bytes=1024-4096</RangeRequested>"),
        "{body}"
    );
    let err = s3.get_object().bucket("refusals").key("small").part_number(2).send().await.expect_err("no part 2");
    assert_eq!(code(&err), "InvalidPartNumber");
    let body = error_body(&err);
    assert!(
        body.contains("<ActualPartCount>1</ActualPartCount>") && body.contains("<PartNumberRequested>2</PartNumberRequested>"),
        "{body}"
    );

    let err = s3.put_object().bucket("refusals").key("o").storage_class("OUTPOSTS".into()).send().await.expect_err("class");
    assert_eq!(code(&err), "InvalidStorageClass");
    assert!(error_body(&err).contains("<StorageClassRequested>OUTPOSTS</StorageClassRequested>"), "{}", error_body(&err));
    let err = s3.create_bucket().bucket("UPPERCASE-NAME").send().await.expect_err("invalid name");
    assert_eq!(code(&err), "InvalidBucketName");
    assert!(error_body(&err).contains("<BucketName>UPPERCASE-NAME</BucketName>"), "{}", error_body(&err));

    let part = s3.upload_part().bucket("refusals").key("mpu").upload_id(&id).part_number(-1).body(ByteStream::from_static(b"p"));
    let err = part.send().await.expect_err("negative part number");
    let body = error_body(&err);
    assert!(body.contains("<ArgumentName>partNumber</ArgumentName><ArgumentValue>-1</ArgumentValue>"), "{body}");
    let mut completed = Vec::new();
    for n in 1..=2 {
        let part = s3.upload_part().bucket("refusals").key("mpu").upload_id(&id).part_number(n);
        let part = part.checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32).body(ByteStream::from_static(b"data"));
        let part = part.send().await.expect("part");
        assert!(part.checksum_crc32().is_some() && part.checksum_crc64_nvme().is_none(), "the declared algorithm: {part:?}");
        completed.push(CompletedPart::builder().part_number(n).set_e_tag(part.e_tag().map(str::to_owned)).build());
    }
    let parts = CompletedMultipartUpload::builder().set_parts(Some(completed)).build();
    let err = s3.complete_multipart_upload().bucket("refusals").key("mpu").upload_id(&id).multipart_upload(parts).send().await;
    let err = err.expect_err("part 1 too small");
    assert_eq!(message(&err), "Your proposed upload is smaller than the minimum allowed size");
    let body = error_body(&err);
    for element in ["<MinSizeAllowed>5242880</MinSizeAllowed>", "<PartNumber>1</PartNumber>", "<ProposedSize>4</ProposedSize>", "<ETag>"] {
        assert!(body.contains(element), "{element} in {body}");
    }

    let copy = s3.copy_object().bucket("refusals").key("copy").copy_source("wrongformat").send().await;
    let err = copy.expect_err("no key in the copy source");
    assert_eq!(message(&err), "Invalid copy source object key");
    assert!(error_body(&err).contains("<ArgumentName>x-amz-copy-source</ArgumentName>"), "{}", error_body(&err));

    let listed = s3.list_parts().bucket("refusals").key("mpu").upload_id(&id).send().await.expect("parts");
    let first = listed.parts().first().and_then(|p| p.e_tag()).map(str::to_owned);
    let one = CompletedMultipartUpload::builder().parts(CompletedPart::builder().part_number(1).set_e_tag(first).build()).build();
    s3.complete_multipart_upload().bucket("refusals").key("mpu").upload_id(&id).multipart_upload(one).send().await.expect("complete");
    let whole = s3.head_object().bucket("refusals").key("mpu").send().await.expect("head");
    assert_eq!(whole.parts_count(), None, "PartsCount answers a request for a part only");
    let part = s3.head_object().bucket("refusals").key("mpu").part_number(1).send().await.expect("head part 1");
    assert_eq!(part.parts_count(), Some(1));
}

/// An S3 client of account A that signs for `region`.
async fn s3_in(env: &common::Env, region: &'static str) -> aws_sdk_s3::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(env.emulator.endpoint())
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_credential_types::Credentials::new(A, "test", None, None, "test"))
        .load()
        .await;
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build())
}

/// §97 — test_s3.snapshot.json, `TestS3`: `test_create_bucket_with_invalid_location_constraint`,
/// `test_different_location_constraint`, `test_create_bucket_with_eu_location_constraint*`, `test_create_bucket_head_bucket`
/// (ARN and region headers), `test_region_header_exists_outside_us_east_1`.
#[tokio::test]
async fn location_constraints_are_judged_by_the_endpoint_as_recorded() {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let env = start().await;
    let east = env.s3(A).await;
    let constraint = |c: &str| CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(c)).build();
    for invalid in ["us-east-1", "foo", "aws-global"] {
        let err = east.create_bucket().bucket("lc-bad").create_bucket_configuration(constraint(invalid)).send().await.expect_err(invalid);
        assert_eq!(code(&err), "InvalidLocationConstraint", "{invalid}");
        assert!(error_body(&err).contains(&format!("<LocationConstraint>{invalid}</LocationConstraint>")), "{}", error_body(&err));
    }
    let created = east.create_bucket().bucket("lc-west").create_bucket_configuration(constraint("us-west-2")).send().await;
    assert_eq!(created.expect("the us-east-1 endpoint takes any region").bucket_arn(), Some("arn:aws:s3:::lc-west"));
    let head = east.head_bucket().bucket("lc-west").send().await.expect("head");
    assert_eq!(
        (head.bucket_region(), head.bucket_arn(), head.access_point_alias()),
        (Some("us-west-2"), Some("arn:aws:s3:::lc-west"), Some(false))
    );

    let eu = s3_in(&env, "eu-west-1").await;
    let err = eu.create_bucket().bucket("lc-none").send().await.expect_err("no constraint outside us-east-1");
    assert_eq!(code(&err), "IllegalLocationConstraintException");
    assert_eq!(
        message(&err),
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
    );
    let err = eu.create_bucket().bucket("lc-other").create_bucket_configuration(constraint("us-west-1")).send().await.expect_err("other");
    assert_eq!(
        message(&err),
        "The us-west-1 location constraint is incompatible for the region specific endpoint this request was sent to."
    );
    eu.create_bucket().bucket("lc-eu").create_bucket_configuration(constraint("EU")).send().await.expect("EU in eu-west-1");
    let location = eu.get_bucket_location().bucket("lc-eu").send().await.expect("location");
    assert_eq!(location.location_constraint().map(BucketLocationConstraint::as_str), Some("EU"));
    let listed = eu.list_buckets().send().await.expect("list");
    let region = listed.buckets().iter().find(|b| b.name() == Some("lc-eu")).and_then(|b| b.bucket_region());
    assert_eq!(region, Some("eu-west-1"), "an EU bucket is in eu-west-1");

    // Access logs stay in their region (`test_put_bucket_logging_cross_locations`, `test_put_bucket_logging_wrong_target`).
    east.create_bucket().bucket("lc-east").send().await.expect("create");
    let logging = |target: &str| {
        let enabled = aws_sdk_s3::types::LoggingEnabled::builder().target_bucket(target).target_prefix("log").build().expect("logging");
        aws_sdk_s3::types::BucketLoggingStatus::builder().logging_enabled(enabled).build()
    };
    let err = east.put_bucket_logging().bucket("lc-east").bucket_logging_status(logging("lc-west")).send().await.expect_err("cross-region");
    assert_eq!(code(&err), "CrossLocationLoggingProhibitted");
    assert!(error_body(&err).contains("<TargetBucketLocation>us-west-2</TargetBucketLocation>"), "{}", error_body(&err));
    let err = east.put_bucket_logging().bucket("lc-east").bucket_logging_status(logging("lc-nowhere")).send().await.expect_err("no target");
    assert!(error_body(&err).contains("<TargetBucket>lc-nowhere</TargetBucket>"), "{}", error_body(&err));
}

/// §97 — test_s3_api.snapshot.json, `TestS3ObjectWritePrecondition`: `test_multipart_if_match_with_put` and
/// `test_multipart_if_none_match_with_delete` (a conditional completion after another write to the key is 409
/// ConditionalRequestConflict); `TestS3BucketVersioning::test_bucket_versioning_crud` → `put-versioning-empty`;
/// test_s3.snapshot.json `test_bucket_lifecycle_multiple_rules` (x-amz-expiration), `test_put_object_acl_on_delete_marker`,
/// `test_get_bucket_notification_configuration_no_such_bucket`.
#[tokio::test]
async fn conditional_completions_expirations_and_bucket_answers_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = bucket_with_upload(&s3, "conditions", "k").await;
    let part = upload_part_1(&s3, "conditions", "k", &id).await;
    let parts =
        || CompletedMultipartUpload::builder().parts(CompletedPart::builder().part_number(1).set_e_tag(part.clone()).build()).build();
    let put = s3.put_object().bucket("conditions").key("k").body(ByteStream::from_static(b"during")).send().await.expect("put during");
    let complete = s3.complete_multipart_upload().bucket("conditions").key("k").upload_id(&id).multipart_upload(parts());
    let err = complete.if_match(put.e_tag().unwrap_or_default()).send().await.expect_err("written after the upload began");
    assert_eq!(code(&err), "ConditionalRequestConflict");
    let body = error_body(&err);
    assert!(body.contains("<Condition>If-Match</Condition>") && body.contains("<Key>k</Key>"), "{body}");
    let complete = s3.complete_multipart_upload().bucket("conditions").key("k").upload_id(&id).multipart_upload(parts());
    complete.send().await.expect("an unconditional completion still completes");

    let err = s3
        .put_bucket_versioning()
        .bucket("conditions")
        .versioning_configuration(aws_sdk_s3::types::VersioningConfiguration::builder().build())
        .send()
        .await;
    assert_eq!(code(&err.expect_err("no Status")), "IllegalVersioningConfigurationException");

    let rule = |id: &str, prefix: &str| {
        aws_sdk_s3::types::LifecycleRule::builder()
            .id(id)
            .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
            .filter(aws_sdk_s3::types::LifecycleRuleFilter::builder().prefix(prefix).build())
            .expiration(aws_sdk_s3::types::LifecycleExpiration::builder().days(7).build())
            .build()
            .expect("rule")
    };
    let config =
        aws_sdk_s3::types::BucketLifecycleConfiguration::builder().rules(rule("one", "testobject")).rules(rule("two", "test")).build();
    s3.put_bucket_lifecycle_configuration()
        .bucket("conditions")
        .lifecycle_configuration(config.expect("config"))
        .send()
        .await
        .expect("lifecycle");
    let put = s3.put_object().bucket("conditions").key("testobject-x").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let expiration = put.expiration().unwrap_or_default().to_owned();
    assert!(expiration.starts_with("expiry-date=\"") && expiration.ends_with("00:00:00 GMT\", rule-id=\"one\""), "{expiration}");
    let head = s3.head_object().bucket("conditions").key("testobject-x").send().await.expect("head");
    assert_eq!(head.expiration(), Some(expiration.as_str()));
    let other = s3.put_object().bucket("conditions").key("other").body(ByteStream::from_static(b"x")).send().await.expect("put");
    assert_eq!(other.expiration(), None, "no rule matches");

    versioned_bucket(&s3, "acl-marker").await;
    s3.put_object().bucket("acl-marker").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    s3.delete_object().bucket("acl-marker").key("k").send().await.expect("delete marker");
    let acl = s3.put_object_acl().bucket("acl-marker").key("k").acl(aws_sdk_s3::types::ObjectCannedAcl::Private).send().await;
    assert_eq!(code(&acl.expect_err("a delete marker is current")), "MethodNotAllowed");

    let err = s3.get_bucket_notification_configuration().bucket("no-such-bucket-here").send().await.expect_err("no bucket");
    assert_eq!(code(&err), "NoSuchBucket");
    let empty = s3.get_bucket_notification_configuration().bucket("conditions").send().await.expect("empty configuration");
    assert!(empty.queue_configurations().is_empty() && empty.topic_configurations().is_empty());
}

/// §97 — test_s3.snapshot.json: `test_s3_copy_object_with_checksum` (a copy asking for another algorithm gets a
/// checksum of that algorithm), `test_multipart_copy_object_etag` (a copy of a multipart object gets a plain MD5
/// ETag), `test_complete_multipart_parts_checksum_full_object` (GetObjectAttributes counts a FULL_OBJECT object's
/// parts only; a part of it answers no checksum), `test_s3_copy_object_in_place_website_redirect_location`.
#[tokio::test]
async fn copies_parts_and_attributes_as_recorded() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ObjectAttributes};
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("copies").send().await.expect("create");
    let body = b"{\"key\": \"value\"}";
    let put = s3.put_object().bucket("copies").key("src").website_redirect_location("/test/direct").body(ByteStream::from_static(body));
    put.send().await.expect("put");
    let copy = s3.copy_object().bucket("copies").key("dst").copy_source("copies/src").checksum_algorithm(ChecksumAlgorithm::Sha256);
    let result = copy.send().await.expect("copy").copy_object_result.expect("result");
    use sha2::Digest as _;
    let sha = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, sha2::Sha256::digest(body));
    assert_eq!((result.checksum_sha256(), result.checksum_crc32()), (Some(sha.as_str()), None));
    let head = s3.head_object().bucket("copies").key("dst").send().await.expect("head");
    assert_eq!(head.website_redirect_location(), Some("/test/direct"), "kept by the copy");

    let id = bucket_with_upload(&s3, "copies-mpu", "mpu").await;
    let mut parts = Vec::new();
    for n in 1..=2 {
        let data = if n == 1 { vec![b'a'; 5 * 1024 * 1024] } else { b"tail".to_vec() };
        let part = s3.upload_part().bucket("copies-mpu").key("mpu").upload_id(&id).part_number(n).body(ByteStream::from(data));
        let etag = part.send().await.expect("part").e_tag().map(str::to_owned);
        parts.push(CompletedPart::builder().part_number(n).set_e_tag(etag).build());
    }
    let done = CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
    s3.complete_multipart_upload().bucket("copies-mpu").key("mpu").upload_id(&id).multipart_upload(done).send().await.expect("complete");
    let attributes = s3.get_object_attributes().bucket("copies-mpu").key("mpu").object_attributes(ObjectAttributes::ObjectParts);
    let parts = attributes.send().await.expect("attributes").object_parts.expect("parts");
    assert_eq!((parts.total_parts_count(), parts.parts().len()), (Some(2), 0), "a FULL_OBJECT object only counts its parts");
    let part = s3.get_object().bucket("copies-mpu").key("mpu").part_number(1).checksum_mode(ChecksumMode::Enabled).send().await;
    let part = part.expect("part 1");
    assert_eq!((part.checksum_crc64_nvme(), part.checksum_type()), (None, None), "a part of a FULL_OBJECT object has no checksum");
    let copy = s3.copy_object().bucket("copies-mpu").key("copy").copy_source("copies-mpu/mpu").send().await.expect("copy");
    let etag = copy.copy_object_result.and_then(|r| r.e_tag).unwrap_or_default();
    assert!(!etag.contains('-') && etag.len() == 34, "a plain MD5 ETag: {etag}");
}

/// §97 — test_s3.snapshot.json, `TestS3`: `test_s3_invalid_content_md5` (InvalidDigest names the value; BadDigest
/// both digests, UploadPart checks Content-MD5 too) and `test_s3_bucket_acl_exceptions` (`put-bucket-empty`,
/// `put-bucket-canned-acl`, `put-bucket-two-type-acl-acp`).
#[tokio::test]
async fn digests_and_acl_requests_are_refused_as_recorded() {
    let env = start().await;
    let s3 = env.s3(A).await;
    let id = bucket_with_upload(&s3, "digests", "mpu").await;
    let put = |md5: &'static str| s3.put_object().bucket("digests").key("k").content_md5(md5).body(ByteStream::from_static(b"test"));
    let err = put("MTIz").send().await.expect_err("not an MD5");
    assert_eq!(code(&err), "InvalidDigest");
    assert!(error_body(&err).contains("<Content-MD5>MTIz</Content-MD5>"), "{}", error_body(&err));
    let other = "CYketZBSTjX8czcs3cXVlg==";
    let err = put(other).send().await.expect_err("another MD5");
    assert_eq!(code(&err), "BadDigest");
    let body = error_body(&err);
    assert!(body.contains("<ExpectedDigest>09891eb590524e35fc73372cddc5d596</ExpectedDigest>"), "{body}");
    assert!(body.contains("<CalculatedDigest>CY9rzUYh03PK3k6DJie09g==</CalculatedDigest>"), "{body}");
    let part = s3.upload_part().bucket("digests").key("mpu").upload_id(&id).part_number(1).content_md5(other);
    let err = part.body(ByteStream::from_static(b"test")).send().await.expect_err("UploadPart checks Content-MD5");
    assert_eq!(code(&err), "BadDigest");
    assert!(error_body(&err).contains(&format!("<ExpectedDigest>{other}</ExpectedDigest>")), "{}", error_body(&err));
    let listed = s3.list_parts().bucket("digests").key("mpu").upload_id(&id).send().await.expect("parts");
    assert!(listed.parts().is_empty(), "a refused part is not kept");

    let err = s3.put_bucket_acl().bucket("digests").send().await.expect_err("nothing to set");
    assert_eq!(code(&err), "MissingSecurityHeader");
    assert!(error_body(&err).contains("<MissingHeaderName>x-amz-acl</MissingHeaderName>"), "{}", error_body(&err));
}

/// §97 — test_s3.snapshot.json, `TestS3SSECEncryption::test_put_object_validation_sse_c` and
/// `TestS3ObjectLockRetention::test_s3_object_lock_mode_validation`: the refusals name the header (and value).
#[tokio::test]
async fn customer_keys_and_lock_headers_are_refused_naming_the_header() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("named-headers").object_lock_enabled_for_bucket(true).send().await.expect("create");
    let key = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="; // 32 bytes
    let put = || s3.put_object().bucket("named-headers").key("k").body(ByteStream::from_static(b"x"));
    let both = put().server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256).sse_customer_algorithm("KMS");
    let err = both.sse_customer_key(key).send().await.expect_err("both kinds of encryption");
    assert_eq!(message(&err), "Server Side Encryption with Customer provided key is incompatible with the encryption method specified");
    let body = error_body(&err);
    assert!(body.contains("<ArgumentName>x-amz-server-side-encryption</ArgumentName><ArgumentValue>AES256</ArgumentValue>"), "{body}");
    let err = put().sse_customer_algorithm("KMS").sse_customer_key(key).send().await.expect_err("not AES256");
    assert_eq!(code(&err), "InvalidEncryptionAlgorithmError");
    assert!(error_body(&err).contains("<ArgumentValue>KMS</ArgumentValue>"), "{}", error_body(&err));

    let until = aws_sdk_s3::primitives::DateTime::from_secs(4_102_444_800); // 2100-01-01
    let bad_mode = put().object_lock_mode("BAD-VALUE".into()).object_lock_retain_until_date(until).send().await;
    let err = bad_mode.expect_err("unknown mode");
    assert_eq!(message(&err), "Unknown wormMode directive.");
    assert!(error_body(&err).contains("<ArgumentName>x-amz-object-lock-mode</ArgumentName><ArgumentValue>BAD-VALUE</ArgumentValue>"));
    let err = put().object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Governance).send().await.expect_err("no date");
    assert!(error_body(&err).contains("<ArgumentName>x-amz-object-lock-retain-until-date</ArgumentName>"), "{}", error_body(&err));

    // `test_delete_object_with_no_locking`, `test_bucket_ownership_controls_exc` → `ownership-wrong-value-at-creation`.
    s3.create_bucket().bucket("no-lock").send().await.expect("create");
    for bypass in [true, false] {
        let err = s3.delete_object().bucket("no-lock").key("k").bypass_governance_retention(bypass).send().await.expect_err("no lock");
        assert_eq!(message(&err), "x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.");
        assert!(error_body(&err).contains("<ArgumentName>x-amz-bypass-governance-retention</ArgumentName>"), "{}", error_body(&err));
    }
    let err = s3.create_bucket().bucket("odd-owner").object_ownership("RandomValue".into()).send().await.expect_err("bad ownership");
    assert!(error_body(&err).contains("<ArgumentName>x-amz-object-ownership</ArgumentName>"), "{}", error_body(&err));
}
