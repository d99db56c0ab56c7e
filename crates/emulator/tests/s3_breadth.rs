//! The S3 calls applications and tools make besides replication, through aws-sdk-s3, each as the
//! AWS page it quotes describes it (issue 13; docs/aws-semantics.md §30–§39).

mod common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, EncodingType, ServerSideEncryption};
use common::{body, code, message, start, versioned_bucket, A};

const SSE_C_KEY: &str = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=";
const SSE_C_MD5: &str = "DWygnHRtgiJ77HCm+1rvHw==";

/// API_CopyObject / API_UploadPartCopy: the response names the encryption of what was written;
/// a part copy takes `bytes=first-last` of the source and nothing else.
#[tokio::test]
async fn copies_answer_with_their_encryption_and_part_copies_take_ranges() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("copy-src").send().await.expect("bucket");
    s3.create_bucket().bucket("copy-dst").send().await.expect("bucket");
    let data: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket("copy-src")
        .key("big")
        .body(ByteStream::from(data.clone()))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(SSE_C_KEY)
        .sse_customer_key_md5(SSE_C_MD5)
        .send()
        .await
        .expect("SSE-C source");

    let copied = s3
        .copy_object()
        .bucket("copy-dst")
        .key("as-s3")
        .copy_source("copy-src/big")
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(SSE_C_KEY)
        .copy_source_sse_customer_key_md5(SSE_C_MD5)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .expect("copy SSE-C to SSE-S3");
    assert_eq!(copied.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    let err = s3.copy_object().bucket("copy-dst").key("no-key").copy_source("copy-src/big").send().await.expect_err("no source key");
    assert_eq!(code(&err), "InvalidRequest");
    let err = s3
        .copy_object()
        .bucket("copy-dst")
        .key("as-s3")
        .copy_source("copy-dst/as-s3")
        .copy_source_if_match("\"not-the-etag\"")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .expect_err("copy-source-if-match");
    assert_eq!(code(&err), "PreconditionFailed");

    // UploadPartCopy into an SSE-C upload: the upload's key is required on every part.
    let upload = s3
        .create_multipart_upload()
        .bucket("copy-dst")
        .key("assembled")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(SSE_C_KEY)
        .sse_customer_key_md5(SSE_C_MD5)
        .send()
        .await
        .expect("create upload");
    assert_eq!(upload.sse_customer_key_md5(), Some(SSE_C_MD5));
    let id = upload.upload_id().expect("upload id");
    let part = |n: i32, range: &str| {
        s3.upload_part_copy()
            .bucket("copy-dst")
            .key("assembled")
            .upload_id(id)
            .part_number(n)
            .copy_source("copy-src/big")
            .copy_source_range(range)
            .copy_source_sse_customer_algorithm("AES256")
            .copy_source_sse_customer_key(SSE_C_KEY)
            .copy_source_sse_customer_key_md5(SSE_C_MD5)
    };
    let err = part(1, "bytes=0-5242879").send().await.expect_err("part without the upload's key");
    assert_eq!(code(&err), "InvalidRequest");
    let with_key = |b: aws_sdk_s3::operation::upload_part_copy::builders::UploadPartCopyFluentBuilder| {
        b.sse_customer_algorithm("AES256").sse_customer_key(SSE_C_KEY).sse_customer_key_md5(SSE_C_MD5)
    };
    for bad in ["0-10", "bytes=0", "bytes=hello-world", "bytes=0-2,3-5", "bytes=5-1"] {
        let err = with_key(part(1, bad)).send().await.expect_err(bad);
        assert_eq!(code(&err), "InvalidArgument", "{bad}");
    }
    // As recorded (aws-semantics §96, `test_upload_part_copy_range`): past the end is InvalidArgument naming the size.
    let err = with_key(part(1, "bytes=0-99999999")).send().await.expect_err("past the end");
    assert_eq!(code(&err), "InvalidArgument");
    assert!(message(&err).starts_with("Range specified is not valid for source object of size: "), "{}", message(&err));
    let err = with_key(part(1, "bytes=99999998-99999999")).send().await.expect_err("starting past the end");
    assert_eq!(code(&err), "InvalidRequest");
    let first = with_key(part(1, "bytes=0-5242879")).send().await.expect("part 1");
    let second = with_key(part(2, &format!("bytes=5242880-{}", data.len() - 1))).send().await.expect("part 2");
    assert_eq!(first.sse_customer_algorithm(), Some("AES256"));
    let parts = [first, second]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            CompletedPart::builder()
                .part_number(i32::try_from(i + 1).unwrap_or(1))
                .e_tag(p.copy_part_result().and_then(|r| r.e_tag()).unwrap_or_default())
                .build()
        })
        .collect::<Vec<_>>();
    s3.complete_multipart_upload()
        .bucket("copy-dst")
        .key("assembled")
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .expect("complete");
    let got = s3
        .get_object()
        .bucket("copy-dst")
        .key("assembled")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(SSE_C_KEY)
        .sse_customer_key_md5(SSE_C_MD5)
        .send()
        .await
        .expect("get assembled");
    let bytes = got.body.collect().await.expect("body").into_bytes();
    assert!(bytes == data, "the two copied ranges make the source again");
}

/// API_ListObjectsV2 / API_ListObjects: `EncodingType=url` percent-encodes keys and prefixes; a
/// common prefix is the v1 `NextMarker` and resuming from it skips what it rolled up; `MaxKeys=0`
/// is an empty page that is not truncated; an empty delimiter is none.
#[tokio::test]
async fn listings_encode_page_and_roll_up_as_s3_does() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("listing").send().await.expect("bucket");
    for key in ["foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b", "boo/bar", "boo/baz"] {
        s3.put_object().bucket("listing").key(key).body(ByteStream::from_static(b"x")).send().await.expect("put");
    }
    // aws-sdk-s3 hands the encoded names through (boto3 decodes them): what S3 sent is visible.
    let listed = s3.list_objects_v2().bucket("listing").delimiter("/").encoding_type(EncodingType::Url).send().await.expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["asdf%2Bb"]);
    let prefixes: Vec<_> = listed.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["boo/", "foo%2B1/", "foo/", "quux%20ab/"]);

    let page = s3.list_objects().bucket("listing").delimiter("/").max_keys(2).send().await.expect("page 1");
    assert_eq!(page.next_marker(), Some("boo/"), "a common prefix is the marker");
    let page = s3.list_objects().bucket("listing").delimiter("/").max_keys(2).marker("boo/").send().await.expect("page 2");
    let prefixes: Vec<_> = page.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["foo+1/", "foo/"], "resuming after boo/ skips everything under it");

    let empty = s3.list_objects_v2().bucket("listing").max_keys(0).send().await.expect("MaxKeys=0");
    assert!(empty.contents().is_empty());
    assert_eq!(empty.is_truncated(), Some(false));
    let all = s3.list_objects_v2().bucket("listing").delimiter("").send().await.expect("empty delimiter");
    assert_eq!(all.contents().len(), 6);
    assert_eq!(all.delimiter(), None);
    let err = s3.list_objects_v2().bucket("listing").encoding_type(EncodingType::from("base64")).send().await.expect_err("encoding");
    assert_eq!(code(&err), "InvalidArgument");
}

/// User Guide `conditional-writes`: `If-None-Match: *` refuses to overwrite, `If-Match` writes
/// only over the ETag given, and a delete marker counts as no object (404).
#[tokio::test]
async fn conditional_writes_protect_what_is_there() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "conditional").await;
    let put = |body: &'static [u8]| s3.put_object().bucket("conditional").key("k").body(ByteStream::from_static(body));
    let first = put(b"one").if_none_match("*").send().await.expect("create-only write");
    let etag = first.e_tag().expect("etag").to_owned();
    let err = put(b"two").if_none_match("*").send().await.expect_err("exists");
    assert_eq!(code(&err), "PreconditionFailed");
    let err = put(b"two").if_match("\"0123456789abcdef0123456789abcdef\"").send().await.expect_err("other etag");
    assert_eq!(code(&err), "PreconditionFailed");
    put(b"two").if_match(&etag).send().await.expect("matching etag");
    assert_eq!(body(&s3, "conditional", "k", None).await, b"two");
    s3.delete_object().bucket("conditional").key("k").send().await.expect("delete marker");
    let err = put(b"three").if_match(&etag).send().await.expect_err("marker is no object");
    assert_eq!(code(&err), "NoSuchKey");
    // Writes take no `If-Match: *` (recorded from AWS, aws-semantics §88).
    let err = put(b"three").if_match("*").send().await.expect_err("not accepted");
    assert_eq!(code(&err), "NotImplemented");

    // CompleteMultipartUpload checks the same conditions when the object would be written.
    let upload = s3.create_multipart_upload().bucket("conditional").key("k").send().await.expect("upload");
    let id = upload.upload_id().expect("id");
    let part = s3
        .upload_part()
        .bucket("conditional")
        .key("k")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"mp"))
        .send()
        .await
        .expect("part");
    let complete = || {
        s3.complete_multipart_upload().bucket("conditional").key("k").upload_id(id).multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(part.e_tag().unwrap_or_default()).build())
                .build(),
        )
    };
    let err = complete().if_match("\"0123456789abcdef0123456789abcdef\"").send().await.expect_err("nothing to match");
    assert_eq!(code(&err), "NoSuchKey");
    complete().if_none_match("*").send().await.expect("create-only complete");
    assert_eq!(body(&s3, "conditional", "k", None).await, b"mp");
}

/// RFC 9110 §15.4.5 (and API_GetObject): a 304 carries the ETag.
#[tokio::test]
async fn not_modified_carries_the_etag() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("cached").send().await.expect("bucket");
    let put = s3.put_object().bucket("cached").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let etag = put.e_tag().expect("etag");
    let err = s3.get_object().bucket("cached").key("k").if_none_match(etag).send().await.expect_err("304");
    let raw = err.raw_response().expect("raw response");
    assert_eq!(raw.status().as_u16(), 304);
    assert_eq!(raw.headers().get("etag"), Some(etag));
}

/// API_PutObject `Expires` (docs/aws-semantics.md §45): stored with the object and returned by GET and
/// HEAD as sent (and, like the other representation headers, carried to copies that replace nothing).
#[tokio::test]
async fn expires_is_stored_and_returned() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("expiring").send().await.expect("bucket");
    let expires = aws_sdk_s3::primitives::DateTime::from_secs(1_900_000_000);
    s3.put_object().bucket("expiring").key("k").body(ByteStream::from_static(b"x")).expires(expires).send().await.expect("put");
    let head = s3.head_object().bucket("expiring").key("k").send().await.expect("head");
    assert_eq!(head.expires_string(), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    s3.copy_object().bucket("expiring").key("copy").copy_source("expiring/k").send().await.expect("copy");
    let get = s3.get_object().bucket("expiring").key("copy").send().await.expect("get");
    assert_eq!(get.expires_string(), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    let plain = s3.put_object().bucket("expiring").key("none").body(ByteStream::from_static(b"x")).send().await;
    plain.expect("put without Expires");
    let head = s3.head_object().bucket("expiring").key("none").send().await.expect("head");
    assert_eq!(head.expires_string(), None);
}

/// User Guide `checking-object-integrity`: a declared checksum is checked (`BadDigest`), stored
/// and returned with `ChecksumMode=ENABLED`; undeclared uploads get a CRC64NVME; multipart
/// objects carry COMPOSITE (`-N`) or FULL_OBJECT checksums.
#[tokio::test]
async fn checksums_are_checked_stored_and_returned() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("sums").send().await.expect("bucket");
    let body = vec![b'A'; 1024];
    // Values from Ceph's s3-tests (test_object_checksum_crc64nvme / _sha256), computed independently.
    let put = s3
        .put_object()
        .bucket("sums")
        .key("crc")
        .body(ByteStream::from(body.clone()))
        .checksum_crc64_nvme("Qeh8oXvGiSo=")
        .send()
        .await
        .expect("put with CRC64NVME");
    assert_eq!(put.checksum_crc64_nvme(), Some("Qeh8oXvGiSo="));
    let err = s3
        .put_object()
        .bucket("sums")
        .key("crc")
        .body(ByteStream::from(body.clone()))
        .checksum_sha256("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .send()
        .await
        .expect_err("wrong checksum");
    assert_eq!(code(&err), "BadDigest");
    // Not a SHA-256 value at all: InvalidRequest, as recorded from AWS (aws-semantics §90).
    let put = s3.put_object().bucket("sums").key("crc").body(ByteStream::from(body.clone())).checksum_sha256("bad");
    assert_eq!(code(&put.send().await.expect_err("malformed checksum")), "InvalidRequest");
    let head = s3.head_object().bucket("sums").key("crc").send().await.expect("head");
    assert_eq!(head.checksum_crc64_nvme(), None, "only with ChecksumMode=ENABLED");
    let head = s3.head_object().bucket("sums").key("crc").checksum_mode(ChecksumMode::Enabled).send().await.expect("head");
    assert_eq!(head.checksum_crc64_nvme(), Some("Qeh8oXvGiSo="));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
    // The SDK's own checksum (CRC32 over an aws-chunked body with a trailer) is checked and kept.
    s3.put_object()
        .bucket("sums")
        .key("sdk")
        .body(ByteStream::from(body.clone()))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("put with the SDK's CRC32");
    let got = s3.get_object().bucket("sums").key("sdk").checksum_mode(ChecksumMode::Enabled).send().await.expect("get");
    assert!(got.checksum_crc32().is_some(), "CRC32 stored");

    // Multipart with SHA256: COMPOSITE, the checksum of the part checksums with `-<parts>`.
    let upload =
        s3.create_multipart_upload().bucket("sums").key("mp").checksum_algorithm(ChecksumAlgorithm::Sha256).send().await.expect("upload");
    assert_eq!(upload.checksum_algorithm(), Some(&ChecksumAlgorithm::Sha256));
    let id = upload.upload_id().expect("id");
    let part = s3
        .upload_part()
        .bucket("sums")
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from(body.clone()))
        .checksum_sha256("arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=")
        .send()
        .await
        .expect("part");
    let done = s3
        .complete_multipart_upload()
        .bucket("sums")
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap_or_default())
                        .checksum_sha256(part.checksum_sha256().unwrap_or_default())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("complete");
    assert_eq!(done.checksum_type(), Some(&ChecksumType::Composite));
    assert!(done.checksum_sha256().is_some_and(|v| v.ends_with("-1")), "{:?}", done.checksum_sha256());

    // GetObjectAttributes: size, checksum and the parts, paged.
    use aws_sdk_s3::types::ObjectAttributes;
    let attrs = s3
        .get_object_attributes()
        .bucket("sums")
        .key("mp")
        .object_attributes(ObjectAttributes::ObjectSize)
        .object_attributes(ObjectAttributes::Checksum)
        .object_attributes(ObjectAttributes::ObjectParts)
        .object_attributes(ObjectAttributes::Etag)
        .send()
        .await
        .expect("attributes");
    assert_eq!(attrs.object_size(), Some(1024));
    // GetObjectAttributes names a COMPOSITE checksum without its `-<parts>` (aws-semantics §97).
    let composite = done.checksum_sha256().map(|c| c.rsplit_once('-').map_or(c, |(value, _)| value));
    assert_eq!(attrs.checksum().and_then(|c| c.checksum_sha256()), composite);
    let parts = attrs.object_parts().expect("parts");
    assert_eq!(parts.total_parts_count(), Some(1));
    assert_eq!(parts.parts()[0].checksum_sha256(), Some("arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="));
    assert_eq!(attrs.e_tag(), done.e_tag().map(|e| e.trim_matches('"')), "ETag unquoted");
}

/// API_GetObject `partNumber`: one part of a multipart object (206), the whole of any other
/// object as part 1, `InvalidPart` past the last part.
#[tokio::test]
async fn part_numbers_address_parts() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("parts").send().await.expect("bucket");
    let upload = s3.create_multipart_upload().bucket("parts").key("mp").send().await.expect("upload");
    let id = upload.upload_id().expect("id");
    let mut completed = Vec::new();
    for (n, fill, size) in [(1, b'a', 5 * 1024 * 1024), (2, b'b', 1000)] {
        let part = s3
            .upload_part()
            .bucket("parts")
            .key("mp")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(vec![fill; size]))
            .send()
            .await
            .expect("part");
        completed.push(CompletedPart::builder().part_number(n).e_tag(part.e_tag().unwrap_or_default()).build());
    }
    s3.complete_multipart_upload()
        .bucket("parts")
        .key("mp")
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(completed)).build())
        .send()
        .await
        .expect("complete");
    let second = s3.get_object().bucket("parts").key("mp").part_number(2).send().await.expect("part 2");
    assert_eq!(second.parts_count(), Some(2));
    assert_eq!(second.content_length(), Some(1000));
    assert_eq!(second.content_range(), Some("bytes 5242880-5243879/5243880"));
    let bytes = second.body.collect().await.expect("body").into_bytes();
    assert!(bytes.iter().all(|b| *b == b'b'));
    let head = s3.head_object().bucket("parts").key("mp").part_number(1).send().await.expect("head part 1");
    assert_eq!(head.content_length(), Some(5 * 1024 * 1024));
    let err = s3.get_object().bucket("parts").key("mp").part_number(3).send().await.expect_err("past the end");
    assert_eq!(code(&err), "InvalidPartNumber", "as recorded (aws-semantics §96)");
    s3.put_object().bucket("parts").key("single").body(ByteStream::from_static(b"body")).send().await.expect("put");
    let whole = s3.get_object().bucket("parts").key("single").part_number(1).send().await.expect("part 1 of a plain object");
    assert_eq!(whole.body.collect().await.expect("body").into_bytes().as_ref(), b"body");
    let err = s3.get_object().bucket("parts").key("single").part_number(2).send().await.expect_err("no part 2");
    assert_eq!(code(&err), "InvalidPartNumber");
}

/// User Guide `access-control-block-public-access`: new buckets block public access; a public
/// policy is refused until `BlockPublicPolicy` is off, GetBucketPolicyStatus says whether the
/// policy is public, and `RestrictPublicBuckets` keeps other accounts out while it is.
#[tokio::test]
async fn block_public_access_guards_new_buckets() {
    use aws_sdk_s3::types::PublicAccessBlockConfiguration;
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(common::B).await);
    a.create_bucket().bucket("guarded-pub").send().await.expect("bucket");
    a.put_object().bucket("guarded-pub").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let block = a.get_public_access_block().bucket("guarded-pub").send().await.expect("default block");
    let config = block.public_access_block_configuration().expect("configuration");
    assert_eq!(
        (config.block_public_acls(), config.ignore_public_acls(), config.block_public_policy(), config.restrict_public_buckets()),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded-pub/*"}]}"#;
    let err = a.put_bucket_policy().bucket("guarded-pub").policy(public).send().await.expect_err("public policy blocked");
    assert_eq!(code(&err), "AccessDenied");
    // Pinned to an account, the same grant is not public.
    let pinned = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded-pub/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}}]}"#;
    a.put_bucket_policy().bucket("guarded-pub").policy(pinned).send().await.expect("non-public policy");
    let status = a.get_bucket_policy_status().bucket("guarded-pub").send().await.expect("status");
    assert_eq!(status.policy_status().and_then(|s| s.is_public()), Some(false));
    b.get_object().bucket("guarded-pub").key("k").send().await.expect("B reads through the pinned grant");

    a.put_public_access_block()
        .bucket("guarded-pub")
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder().block_public_policy(false).restrict_public_buckets(true).build(),
        )
        .send()
        .await
        .expect("relax");
    a.put_bucket_policy().bucket("guarded-pub").policy(public).send().await.expect("public policy now accepted");
    let status = a.get_bucket_policy_status().bucket("guarded-pub").send().await.expect("status");
    assert_eq!(status.policy_status().and_then(|s| s.is_public()), Some(true));
    let err = b.get_object().bucket("guarded-pub").key("k").send().await.expect_err("restricted: public policy grants no one else");
    assert_eq!(code(&err), "AccessDenied");
    a.delete_public_access_block().bucket("guarded-pub").send().await.expect("delete block");
    b.get_object().bucket("guarded-pub").key("k").send().await.expect("public now");
    let err = a.get_public_access_block().bucket("guarded-pub").send().await.expect_err("none");
    assert_eq!(code(&err), "NoSuchPublicAccessBlockConfiguration");
}

/// User Guide `amazon-s3-policy-keys` and `tagging-and-policies`: request headers, copy sources,
/// listing parameters and existing object tags are condition keys bucket policies can test.
#[tokio::test]
async fn bucket_policies_see_request_and_object_condition_keys() {
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(common::B).await);
    a.create_bucket().bucket("keyed").send().await.expect("bucket");
    a.put_object().bucket("keyed").key("public-doc").tagging("class=public").body(ByteStream::from_static(b"p")).send().await.expect("put");
    a.put_object().bucket("keyed").key("secret-doc").tagging("class=secret").body(ByteStream::from_static(b"s")).send().await.expect("put");
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "tagged-reads", "Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::keyed/*", "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "public"}}},
        {"Sid": "listing-under-prefix", "Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::keyed", "Condition": {"StringEquals": {"s3:prefix": "public-"}}},
        {"Sid": "encrypted-writes-only", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::keyed/*", "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}},
        {"Sid": "no-copies-from-secret", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::keyed/*", "Condition": {"StringLike": {"s3:x-amz-copy-source": "keyed/secret-*"}}},
        {"Sid": "tagged-uploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::keyed/*", "Condition": {"StringEquals": {"s3:RequestObjectTag/class": "secret"}}}
    ]});
    a.put_bucket_policy().bucket("keyed").policy(policy.to_string()).send().await.expect("policy");
    b.get_object().bucket("keyed").key("public-doc").send().await.expect("tag matches");
    let err = b.get_object().bucket("keyed").key("secret-doc").send().await.expect_err("tag differs");
    assert_eq!(code(&err), "AccessDenied");
    b.list_objects_v2().bucket("keyed").prefix("public-").send().await.expect("allowed prefix");
    let err = b.list_objects_v2().bucket("keyed").send().await.expect_err("no prefix");
    assert_eq!(code(&err), "AccessDenied");
    let err = a.put_object().bucket("keyed").key("plain").body(ByteStream::from_static(b"x")).send().await.expect_err("unencrypted");
    assert_eq!(code(&err), "AccessDenied");
    let kms = |key: &'static str| {
        a.put_object().bucket("keyed").key(key).server_side_encryption(ServerSideEncryption::AwsKms).body(ByteStream::from_static(b"x"))
    };
    kms("encrypted").send().await.expect("SSE-KMS write allowed");
    let err = kms("tagged").tagging("class=secret").send().await.expect_err("tag in request");
    assert_eq!(code(&err), "AccessDenied");
    let copy = |source: &'static str| {
        a.copy_object().bucket("keyed").key("copy").copy_source(source).server_side_encryption(ServerSideEncryption::AwsKms)
    };
    copy("keyed/public-doc").send().await.expect("copy from public");
    let err = copy("keyed/secret-doc").send().await.expect_err("copy from secret");
    assert_eq!(code(&err), "AccessDenied");
}

/// Every S3 answer names its request in `x-amz-request-id`, and an error body repeats it in
/// `<RequestId>` (API Reference `ErrorResponses`).
#[tokio::test]
async fn errors_name_their_request() {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("ids").send().await.expect("bucket");
    let err = s3.get_object().bucket("ids").key("missing").send().await.expect_err("404");
    let raw = err.raw_response().expect("raw");
    let header = raw.headers().get("x-amz-request-id").expect("request id header").to_owned();
    let body = std::str::from_utf8(raw.body().bytes().expect("body")).expect("utf-8").to_owned();
    assert!(body.contains(&format!("<RequestId>{header}</RequestId>")), "{body}");
    assert_eq!(err.meta().code(), Some("NoSuchKey"));
}

/// API_PutObject: a KMS key id goes only with `aws:kms`; User Guide `UsingKMSEncryption`: GET and
/// HEAD with `x-amz-server-side-encryption` get 400.
#[tokio::test]
async fn encryption_headers_are_checked_where_they_do_not_belong() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("enc-headers").send().await.expect("bucket");
    let err = s3
        .put_object()
        .bucket("enc-headers")
        .key("k")
        .server_side_encryption(ServerSideEncryption::Aes256)
        .ssekms_key_id("alias/aws/s3")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("SSE-S3 with a KMS key");
    assert_eq!(code(&err), "InvalidArgument");
    s3.put_object().bucket("enc-headers").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let err = s3
        .head_object()
        .bucket("enc-headers")
        .key("k")
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-amz-server-side-encryption", "aws:kms");
        })
        .send()
        .await
        .expect_err("HEAD with an encryption header");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
}

/// API_GetObjectTorrent: the object's BitTorrent metainfo, bencoded with SHA-1 piece hashes.
#[tokio::test]
async fn torrents_describe_their_object() {
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("seeds").send().await.expect("bucket");
    s3.put_object().bucket("seeds").key("movie").body(ByteStream::from(vec![b'A'; 300 * 1024])).send().await.expect("put");
    let torrent = s3.get_object_torrent().bucket("seeds").key("movie").send().await.expect("torrent");
    let bytes = torrent.body.collect().await.expect("body").into_bytes();
    assert!(bytes.starts_with(b"d8:announce"), "{:?}", String::from_utf8_lossy(&bytes[..20.min(bytes.len())]));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("6:lengthi307200e4:name5:movie12:piece lengthi262144e6:pieces40:"), "two 20-byte piece hashes");
    let err = s3.get_object_torrent().bucket("seeds").key("missing").send().await.expect_err("no object");
    assert_eq!(code(&err), "NoSuchKey");
}
