//! S3 API behaviour through aws-sdk-s3, asserted against AWS's recorded responses
//! (docs/aws-semantics.md §7, §8, §11).

mod common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
};
use common::{body, code, message, start, versioned_bucket, A, B};

#[tokio::test]
async fn bucket_lifecycle_and_global_names() {
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    a.create_bucket().bucket("alpha-bucket").send().await.expect("create");
    a.head_bucket().bucket("alpha-bucket").send().await.expect("head own bucket");
    // API Reference API_CreateBucket: re-creating your own bucket succeeds in us-east-1 and is
    // BucketAlreadyOwnedByYou in every other region.
    a.create_bucket().bucket("alpha-bucket").send().await.expect("us-east-1: again is fine");
    let eu = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    a.create_bucket().bucket("alpha-eu").create_bucket_configuration(eu.clone()).send().await.expect("create in eu-west-1");
    let err = a.create_bucket().bucket("alpha-eu").create_bucket_configuration(eu).send().await.expect_err("again");
    assert_eq!(code(&err), "BucketAlreadyOwnedByYou");
    let err = b.create_bucket().bucket("alpha-bucket").send().await.expect_err("taken");
    assert_eq!(code(&err), "BucketAlreadyExists");
    let err = a.create_bucket().bucket("Bad_Name").send().await.expect_err("invalid");
    assert_eq!(code(&err), "InvalidBucketName");
    let listed = a.list_buckets().send().await.expect("list");
    let names: Vec<_> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, vec!["alpha-bucket", "alpha-eu"]);
    assert_eq!(listed.owner().and_then(|o| o.id()), Some(env.canonical(A).as_str()));
    assert!(b.list_buckets().send().await.expect("list B").buckets().is_empty(), "B sees none of A's buckets");
    a.put_object().bucket("alpha-bucket").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let err = a.delete_bucket().bucket("alpha-bucket").send().await.expect_err("not empty");
    assert_eq!(code(&err), "BucketNotEmpty");
    a.delete_object().bucket("alpha-bucket").key("k").send().await.expect("delete object");
    a.delete_bucket().bucket("alpha-bucket").send().await.expect("delete bucket");
    let err = a.head_bucket().bucket("alpha-bucket").send().await.expect_err("gone");
    assert!(err.raw_response().is_some_and(|r| r.status().as_u16() == 404));
}

#[tokio::test]
async fn explicit_key_pairs_act_as_their_account() {
    let config = xrepl_emulator::EmulatorConfig::with_accounts(&[A]).root_key(B, "AKIAEXAMPLEKEYOFB000", "b-secret");
    let emulator = xrepl_emulator::Emulator::start(config).await.expect("start");
    let sdk = common::sdk_config(&emulator.endpoint(), "AKIAEXAMPLEKEYOFB000", "b-secret", None).await;
    let b = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    b.create_bucket().bucket("owned-by-b").send().await.expect("create");
    let owner = b.list_buckets().send().await.expect("list").owner().and_then(|o| o.id()).map(str::to_owned);
    assert_eq!(owner, emulator.account(B).map(|i| i.canonical_id));
    let bad = xrepl_emulator::Emulator::start(xrepl_emulator::EmulatorConfig::default().root_key("12", "K", "s")).await;
    assert!(bad.is_err(), "a key for a non-12-digit account is refused");
}

#[tokio::test]
async fn canonical_ids_are_distinct_64_hex() {
    let env = start().await;
    let (ca, cb) = (env.canonical(A), env.canonical(B));
    assert_ne!(ca, cb);
    for c in [&ca, &cb] {
        assert_eq!(c.len(), 64);
        assert!(c.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[tokio::test]
async fn versions_delete_markers_and_null_versions() {
    // semantics doc §11: delete markers, 404 + x-amz-delete-marker, 405 on the marker's id.
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "versions").await;
    let v1 = s3.put_object().bucket("versions").key("doc").body(ByteStream::from_static(b"one")).send().await.expect("put 1");
    let v2 = s3.put_object().bucket("versions").key("doc").body(ByteStream::from_static(b"two")).send().await.expect("put 2");
    let (id1, id2) = (v1.version_id().expect("id").to_owned(), v2.version_id().expect("id").to_owned());
    assert_ne!(id1, id2);
    assert_eq!(id1.len(), 32);
    assert_eq!(body(&s3, "versions", "doc", None).await, b"two");
    assert_eq!(body(&s3, "versions", "doc", Some(&id1)).await, b"one");
    assert_eq!(v1.e_tag(), Some("\"f97c5d29941bfb1b2fdab0874906ab82\""), "ETag is the MD5 of the bytes");

    let del = s3.delete_object().bucket("versions").key("doc").send().await.expect("delete");
    assert_eq!(del.delete_marker(), Some(true));
    let marker = del.version_id().expect("marker id").to_owned();
    let err = s3.get_object().bucket("versions").key("doc").send().await.expect_err("deleted");
    assert_eq!(code(&err), "NoSuchKey");
    let raw = err.raw_response().expect("raw");
    assert_eq!(raw.headers().get("x-amz-delete-marker"), Some("true"));
    assert_eq!(raw.headers().get("x-amz-version-id"), Some(marker.as_str()));
    let err = s3.get_object().bucket("versions").key("doc").version_id(&marker).send().await.expect_err("405");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(405));
    assert_eq!(code(&err), "MethodNotAllowed");
    let err = s3.get_object().bucket("versions").key("doc").version_id("not-a-version").send().await.expect_err("bad id");
    assert_eq!(code(&err), "InvalidArgument");
    assert_eq!(message(&err), "Invalid version id specified");

    let listed = s3.list_object_versions().bucket("versions").send().await.expect("list versions");
    assert_eq!(listed.versions().len(), 2);
    assert_eq!(listed.delete_markers().len(), 1);
    let m = &listed.delete_markers()[0];
    assert_eq!((m.is_latest(), m.version_id()), (Some(true), Some(marker.as_str())));
    assert_eq!(m.owner().and_then(|o| o.id()), Some(env.canonical(A).as_str()));

    // A versioned delete removes that version for good.
    s3.delete_object().bucket("versions").key("doc").version_id(&marker).send().await.expect("remove marker");
    assert_eq!(body(&s3, "versions", "doc", None).await, b"two");
    s3.delete_object().bucket("versions").key("doc").version_id(&id2).send().await.expect("remove v2");
    assert_eq!(body(&s3, "versions", "doc", None).await, b"one");
    let err = s3.get_object().bucket("versions").key("doc").version_id(&id2).send().await.expect_err("gone");
    assert_eq!(code(&err), "NoSuchVersion");

    // Suspended: new writes get the null version, replacing the previous null version.
    s3.put_bucket_versioning()
        .bucket("versions")
        .versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Suspended).build())
        .send()
        .await
        .expect("suspend");
    s3.put_object().bucket("versions").key("doc").body(ByteStream::from_static(b"n1")).send().await.expect("null 1");
    s3.put_object().bucket("versions").key("doc").body(ByteStream::from_static(b"n2")).send().await.expect("null 2");
    let listed = s3.list_object_versions().bucket("versions").send().await.expect("list");
    let ids: Vec<_> = listed.versions().iter().filter_map(|v| v.version_id()).collect();
    assert_eq!(ids, vec!["null", id1.as_str()]);
    assert_eq!(body(&s3, "versions", "doc", Some("null")).await, b"n2");
}

#[tokio::test]
async fn objects_metadata_tags_copy_listing() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "objects").await;
    s3.put_object()
        .bucket("objects")
        .key("dir/a.txt")
        .content_type("text/plain")
        .metadata("team", "dr")
        .tagging("class=gold&tier=1")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .expect("put");
    let head = s3.head_object().bucket("objects").key("dir/a.txt").send().await.expect("head");
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(head.metadata().and_then(|m| m.get("team")).map(String::as_str), Some("dr"));
    assert_eq!(head.content_length(), Some(5));
    let tags = s3.get_object_tagging().bucket("objects").key("dir/a.txt").send().await.expect("tags");
    let pairs: Vec<_> = tags.tag_set().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(pairs, vec![("class", "gold"), ("tier", "1")]);

    let copied = s3.copy_object().bucket("objects").key("dir/b.txt").copy_source("objects/dir/a.txt").send().await.expect("copy");
    assert!(copied.version_id().is_some());
    assert_eq!(body(&s3, "objects", "dir/b.txt", None).await, b"hello");
    let err = s3.copy_object().bucket("objects").key("dir/a.txt").copy_source("objects/dir/a.txt").send().await.expect_err("self");
    assert_eq!(code(&err), "InvalidRequest");

    s3.put_object().bucket("objects").key("top.txt").body(ByteStream::from_static(b"t")).send().await.expect("put top");
    let listed = s3.list_objects_v2().bucket("objects").delimiter("/").send().await.expect("list");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<_> = listed.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(keys, vec!["top.txt"]);
    assert_eq!(prefixes, vec!["dir/"]);
    let page = s3.list_objects_v2().bucket("objects").max_keys(1).send().await.expect("page");
    assert_eq!(page.is_truncated(), Some(true));
    let next = s3
        .list_objects_v2()
        .bucket("objects")
        .continuation_token(page.next_continuation_token().expect("token"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(next.contents().first().and_then(|o| o.key()), Some("dir/b.txt"));

    let out = s3
        .delete_objects()
        .bucket("objects")
        .delete(
            Delete::builder()
                .objects(ObjectIdentifier::builder().key("dir/a.txt").build().expect("id"))
                .objects(ObjectIdentifier::builder().key("top.txt").build().expect("id"))
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("delete objects");
    assert_eq!(out.deleted().len(), 2);
    assert!(out.deleted().iter().all(|d| d.delete_marker() == Some(true)));
    let listed = s3.list_objects_v2().bucket("objects").send().await.expect("list");
    assert_eq!(listed.key_count(), Some(1));

    s3.put_object_tagging()
        .bucket("objects")
        .key("dir/b.txt")
        .tagging(Tagging::builder().tag_set(Tag::builder().key("k").value("v").build().expect("tag")).build().expect("tagging"))
        .send()
        .await
        .expect("put tagging");
    let too_many: Vec<Tag> = (0..11).map(|i| Tag::builder().key(format!("k{i}")).value("v").build().expect("tag")).collect();
    let err = s3
        .put_object_tagging()
        .bucket("objects")
        .key("dir/b.txt")
        .tagging(Tagging::builder().set_tag_set(Some(too_many)).build().expect("tagging"))
        .send()
        .await
        .expect_err("11 tags");
    assert_eq!(code(&err), "InvalidTag");
    let tags = s3.get_object_tagging().bucket("objects").key("dir/b.txt").send().await.expect("tags");
    assert_eq!(tags.tag_set().len(), 1, "a rejected tagging call changes nothing");
}

#[tokio::test]
async fn multipart_upload_has_multipart_etag() {
    let env = start().await;
    let s3 = env.s3(A).await;
    versioned_bucket(&s3, "multi").await;
    let created = s3.create_multipart_upload().bucket("multi").key("big").send().await.expect("create");
    let upload_id = created.upload_id().expect("id").to_owned();
    let part1 = vec![b'a'; 5 * 1024 * 1024];
    let part2 = b"tail".to_vec();
    let mut parts = Vec::new();
    for (n, data) in [(1, part1.clone()), (2, part2.clone())] {
        let out = s3
            .upload_part()
            .bucket("multi")
            .key("big")
            .upload_id(&upload_id)
            .part_number(n)
            .body(ByteStream::from(data))
            .send()
            .await
            .expect("part");
        parts.push(CompletedPart::builder().part_number(n).e_tag(out.e_tag().expect("etag")).build());
    }
    let listed = s3.list_parts().bucket("multi").key("big").upload_id(&upload_id).send().await.expect("list parts");
    assert_eq!(listed.parts().len(), 2);
    let done = s3
        .complete_multipart_upload()
        .bucket("multi")
        .key("big")
        .upload_id(&upload_id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .expect("complete");
    assert!(done.e_tag().is_some_and(|e| e.ends_with("-2\"")), "multipart ETag: {:?}", done.e_tag());
    let data = body(&s3, "multi", "big", None).await;
    assert_eq!(data.len(), part1.len() + part2.len());
    assert!(data.ends_with(b"tail"));
    let err = s3.abort_multipart_upload().bucket("multi").key("big").upload_id(&upload_id).send().await.expect_err("completed");
    assert_eq!(code(&err), "NoSuchUpload");
}

#[tokio::test]
async fn ownership_controls_default_to_bucket_owner_enforced() {
    // semantics doc §7 and §11.
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("owned").send().await.expect("create");
    let oc = s3.get_bucket_ownership_controls().bucket("owned").send().await.expect("get");
    let rule = &oc.ownership_controls().expect("controls").rules()[0];
    assert_eq!(rule.object_ownership().as_str(), "BucketOwnerEnforced");
    s3.put_object().bucket("owned").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    let err = s3
        .put_object_acl()
        .bucket("owned")
        .key("k")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .send()
        .await
        .expect_err("acls disabled");
    assert_eq!(code(&err), "AccessControlListNotSupported");
    let err = s3
        .create_bucket()
        .bucket("acl-bucket")
        .acl(aws_sdk_s3::types::BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect_err("acl + enforced");
    assert_eq!(code(&err), "InvalidBucketAclWithObjectOwnership");
    s3.delete_bucket_ownership_controls().bucket("owned").send().await.expect("delete controls");
    let err = s3.get_bucket_ownership_controls().bucket("owned").send().await.expect_err("none");
    assert_eq!(code(&err), "OwnershipControlsNotFoundError");
    // ACLs are on now, but new buckets also block public ACLs (access-control-block-public-access).
    let err =
        s3.put_object_acl().bucket("owned").key("k").acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead).send().await.expect_err("blocked");
    assert_eq!(code(&err), "AccessDenied");
    s3.delete_public_access_block().bucket("owned").send().await.expect("allow public ACLs");
    s3.put_object_acl().bucket("owned").key("k").acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead).send().await.expect("acls now on");
    let acl = s3.get_object_acl().bucket("owned").key("k").send().await.expect("get acl");
    assert_eq!(acl.grants().len(), 2);
    assert_eq!(acl.owner().and_then(|o| o.id()), Some(env.canonical(A).as_str()));
    assert_eq!(acl.owner().and_then(|o| o.display_name()), None, "no DisplayName since 2025");
}

#[tokio::test]
async fn bucket_policy_validation_and_cross_account_access() {
    let env = start().await;
    let (a, b) = (env.s3(A).await, env.s3(B).await);
    a.create_bucket().bucket("guarded").send().await.expect("create");
    a.put_object().bucket("guarded").key("k").body(ByteStream::from_static(b"secret")).send().await.expect("put");
    // Account B cannot read A's bucket until A grants it (semantics doc §5).
    let err = b.get_object().bucket("guarded").key("k").send().await.expect_err("denied");
    assert_eq!(code(&err), "AccessDenied");
    let err = b.put_object().bucket("guarded").key("x").body(ByteStream::from_static(b"x")).send().await.expect_err("denied");
    assert_eq!(code(&err), "AccessDenied");

    let cases = [
        ("", "Policies must be valid JSON and the first byte must be '{'"),
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("{}", "Missing required field Statement"),
        (
            r#"{"Version":"2012–10–17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded/*"}]}"#,
            "The policy must contain a valid version string",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#,
            "Policy has invalid resource",
        ),
    ];
    for (doc, expected) in cases {
        let err = a.put_bucket_policy().bucket("guarded").policy(doc).send().await.expect_err(doc);
        assert_eq!(code(&err), "MalformedPolicy", "{doc}");
        assert_eq!(message(&err), expected, "{doc}");
    }
    let err = a.get_bucket_policy().bucket("guarded").send().await.expect_err("nothing stored");
    assert_eq!(code(&err), "NoSuchBucketPolicy");

    let grant = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded/*"}}]}}"#
    );
    a.put_bucket_policy().bucket("guarded").policy(&grant).send().await.expect("valid policy");
    assert_eq!(a.get_bucket_policy().bucket("guarded").send().await.expect("get").policy(), Some(grant.as_str()));
    assert_eq!(body(&b, "guarded", "k", None).await, b"secret");
    let err = b.put_object().bucket("guarded").key("x").body(ByteStream::from_static(b"x")).send().await.expect_err("still denied");
    assert_eq!(code(&err), "AccessDenied");

    let deny = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{B}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded/*"}},{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::guarded/k"}}]}}"#
    );
    a.put_bucket_policy().bucket("guarded").policy(&deny).send().await.expect("deny policy");
    let err = b.get_object().bucket("guarded").key("k").send().await.expect_err("explicit deny wins");
    assert_eq!(code(&err), "AccessDenied");
    let err = a.get_object().bucket("guarded").key("k").send().await.expect_err("even for the owner");
    assert_eq!(code(&err), "AccessDenied");
    let err = a.head_bucket().bucket("guarded").expected_bucket_owner(B).send().await.expect_err("wrong owner");
    assert!(err.raw_response().is_some_and(|r| r.status().as_u16() == 403));
}

#[tokio::test]
async fn signatures_are_verified() {
    let env = start().await;
    let good = env.s3(A).await;
    good.create_bucket().bucket("signed").send().await.expect("create");
    let wrong = env.s3_with(A, "not-the-secret", None).await;
    let err = wrong.list_buckets().send().await.expect_err("wrong secret");
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    let unknown = env.s3_with("AKIAUNKNOWNKEY000000", "x", None).await;
    let err = unknown.list_buckets().send().await.expect_err("unknown key");
    assert_eq!(code(&err), "InvalidAccessKeyId");
    let err = wrong.put_object().bucket("signed").key("k").body(ByteStream::from_static(b"x")).send().await.expect_err("no write");
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    assert!(good.list_objects_v2().bucket("signed").send().await.expect("list").contents().is_empty(), "nothing was written");
    // Anonymous (unsigned) requests are evaluated as anonymous: denied without a public policy.
    let url = format!("{}/signed", env.emulator.endpoint());
    let status = raw_get(&url).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn presigned_urls_are_verified() {
    use aws_sdk_s3::presigning::PresigningConfig;
    let env = start().await;
    let s3 = env.s3(A).await;
    s3.create_bucket().bucket("presigned").send().await.expect("create");
    s3.put_object().bucket("presigned").key("k").body(ByteStream::from_static(b"shared by url")).send().await.expect("put");
    let config = PresigningConfig::expires_in(std::time::Duration::from_secs(300)).expect("config");
    let url = s3.get_object().bucket("presigned").key("k").presigned(config.clone()).await.expect("presign").uri().to_owned();
    let (status, body) = raw_get_body(&url).await;
    assert_eq!(status, 200);
    assert!(body.ends_with("shared by url"), "{body}");
    // Tampering with the signed URL (another key) breaks the signature.
    let tampered = url.replace("/presigned/k?", "/presigned/other?");
    let (status, body) = raw_get_body(&tampered).await;
    assert_eq!(status, 403);
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    // A URL presigned by another account reads only what that account may read.
    let b = env.s3(B).await;
    let url = b.get_object().bucket("presigned").key("k").presigned(config).await.expect("presign").uri().to_owned();
    let (status, body) = raw_get_body(&url).await;
    assert_eq!(status, 403);
    assert!(body.contains("AccessDenied"), "{body}");
}

/// A plain HTTP GET; returns the status code and the whole response text.
async fn raw_get_body(url: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let req = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status line");
    (status, text)
}

/// A plain unsigned HTTP GET; returns the status code.
async fn raw_get(url: &str) -> u16 {
    raw_get_body(url).await.0
}

#[tokio::test]
async fn wildcard_policy_resources_and_malformed_grant_ids_answer_as_aws() {
    // Found by Ceph's s3-tests (test_bucket_policy_another_bucket, test_bucket_acl_grant_nonexist_user),
    // which pass on AWS: a Resource that reaches the bucket through wildcards is accepted; a grant to a
    // malformed canonical id is InvalidArgument, reported before the ACLs-disabled check.
    let env = start().await;
    let a = env.s3(A).await;
    a.create_bucket().bucket("wild").send().await.expect("create");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":"s3:ListBucket","Resource":["arn:aws:s3:::*","arn:aws:s3:::*/*"]}}]}}"#
    );
    a.put_bucket_policy().bucket("wild").policy(policy).send().await.expect("wildcards that reach the bucket");
    let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other-*"}]}"#;
    let err = a.put_bucket_policy().bucket("wild").policy(other).send().await.expect_err("another bucket only");
    assert_eq!((code(&err), message(&err)), ("MalformedPolicy".to_owned(), "Policy has invalid resource".to_owned()));
    env.s3(B).await.list_objects_v2().bucket("wild").send().await.expect("B lists through the wildcard statement");

    let grant = aws_sdk_s3::types::Grant::builder()
        .grantee(aws_sdk_s3::types::Grantee::builder().r#type(aws_sdk_s3::types::Type::CanonicalUser).id("_foo").build().expect("grantee"))
        .permission(aws_sdk_s3::types::Permission::Read)
        .build();
    let owner = aws_sdk_s3::types::Owner::builder().id(env.canonical(A)).build();
    let acl = aws_sdk_s3::types::AccessControlPolicy::builder().grants(grant).owner(owner).build();
    let err = a.put_bucket_acl().bucket("wild").access_control_policy(acl).send().await.expect_err("malformed id");
    assert_eq!(code(&err), "InvalidArgument");
}

#[tokio::test]
async fn bucket_sub_resources_are_stored_returned_and_missing_ones_answer_as_aws() {
    // What an infrastructure tool's refresh reads (Terraform's aws_s3_bucket): each sub-resource is
    // stored and returned; a missing one is S3's NoSuch… error or its documented default.
    use aws_sdk_s3::types as t;
    let env = start().await;
    let a = env.s3(A).await;
    a.create_bucket().bucket("subs").send().await.expect("create");
    let missing = |e: &str| e.to_owned();
    let err = a.get_bucket_lifecycle_configuration().bucket("subs").send().await.expect_err("none yet");
    assert_eq!(code(&err), missing("NoSuchLifecycleConfiguration"));
    let err = a.get_bucket_cors().bucket("subs").send().await.expect_err("none yet");
    assert_eq!(code(&err), "NoSuchCORSConfiguration");
    let err = a.get_bucket_website().bucket("subs").send().await.expect_err("none yet");
    assert_eq!(code(&err), "NoSuchWebsiteConfiguration");
    assert!(a.get_bucket_logging().bucket("subs").send().await.expect("logging").logging_enabled().is_none());
    assert!(a.get_bucket_accelerate_configuration().bucket("subs").send().await.expect("accelerate").status().is_none());
    assert_eq!(a.get_bucket_request_payment().bucket("subs").send().await.expect("payer").payer(), Some(&t::Payer::BucketOwner));
    // Every bucket has SSE-S3 default encryption since 2023 (User Guide default-encryption-faq).
    let enc = a.get_bucket_encryption().bucket("subs").send().await.expect("default encryption");
    let algorithm = |o: &aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput| {
        o.server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_owned())
    };
    assert_eq!(algorithm(&enc).as_deref(), Some("AES256"));

    let rule = t::LifecycleRule::builder()
        .id("expire-logs")
        .status(t::ExpirationStatus::Enabled)
        .filter(t::LifecycleRuleFilter::builder().prefix("logs/").build())
        .expiration(t::LifecycleExpiration::builder().days(30).build())
        .build()
        .expect("rule");
    let lifecycle = t::BucketLifecycleConfiguration::builder().rules(rule).build().expect("lifecycle");
    a.put_bucket_lifecycle_configuration().bucket("subs").lifecycle_configuration(lifecycle).send().await.expect("put lifecycle");
    let got = a.get_bucket_lifecycle_configuration().bucket("subs").send().await.expect("lifecycle");
    assert_eq!(got.rules().first().and_then(|r| r.id()), Some("expire-logs"));
    let cors_rule = t::CorsRule::builder().allowed_methods("GET").allowed_origins("*").build().expect("cors rule");
    a.put_bucket_cors()
        .bucket("subs")
        .cors_configuration(t::CorsConfiguration::builder().cors_rules(cors_rule).build().expect("cors"))
        .send()
        .await
        .expect("put cors");
    assert_eq!(a.get_bucket_cors().bucket("subs").send().await.expect("cors").cors_rules().len(), 1);
    let bad = t::CorsRule::builder().allowed_methods("PATCH").allowed_origins("*").build().expect("bad rule");
    let err = a
        .put_bucket_cors()
        .bucket("subs")
        .cors_configuration(t::CorsConfiguration::builder().cors_rules(bad).build().expect("cors"))
        .send()
        .await
        .expect_err("PATCH");
    assert_eq!(code(&err), "InvalidRequest");
    a.put_bucket_accelerate_configuration()
        .bucket("subs")
        .accelerate_configuration(t::AccelerateConfiguration::builder().status(t::BucketAccelerateStatus::Enabled).build())
        .send()
        .await
        .expect("accelerate");
    let accel = a.get_bucket_accelerate_configuration().bucket("subs").send().await.expect("accelerate");
    assert_eq!(accel.status(), Some(&t::BucketAccelerateStatus::Enabled));
    a.delete_bucket_lifecycle().bucket("subs").send().await.expect("delete lifecycle");
    let err = a.get_bucket_lifecycle_configuration().bucket("subs").send().await.expect_err("deleted");
    assert_eq!(code(&err), "NoSuchLifecycleConfiguration");

    // Default SSE-KMS applies to objects written without encryption headers.
    let kms = aws_sdk_kms::Client::new(&common::sdk_config(&env.emulator.endpoint(), A, "test", None).await);
    let key = kms.create_key().send().await.expect("key").key_metadata().and_then(|m| m.arn().map(str::to_owned)).expect("arn");
    let by_default =
        t::ServerSideEncryptionByDefault::builder().sse_algorithm(t::ServerSideEncryption::AwsKms).kms_master_key_id(&key).build();
    let rule = t::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default.expect("default")).build();
    a.put_bucket_encryption()
        .bucket("subs")
        .server_side_encryption_configuration(t::ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("config"))
        .send()
        .await
        .expect("put encryption");
    let put = a.put_object().bucket("subs").key("k").body(ByteStream::from_static(b"x")).send().await.expect("put");
    assert_eq!(put.server_side_encryption(), Some(&t::ServerSideEncryption::AwsKms));
    assert_eq!(put.ssekms_key_id(), Some(key.as_str()));
    a.delete_bucket_encryption().bucket("subs").send().await.expect("delete encryption");
    let enc = a.get_bucket_encryption().bucket("subs").send().await.expect("back to the default");
    assert_eq!(algorithm(&enc).as_deref(), Some("AES256"));
}
