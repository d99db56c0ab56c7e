#!/usr/bin/env python3
"""boto3 against a served xrepl emulator: every check asserts the exact outcome AWS gives.

Usage: XREPL_ENDPOINT=http://127.0.0.1:4566 python clients/boto3_conformance.py [name-filter]

Accounts A=111111111111 and B=222222222222 (access key id = account id, secret "test"), path-style
addressing, region us-east-1. Expected codes and messages come from
shared/docs/aws-replication-semantics.md (§5, §7, §8, §11). Bucket names carry a per-run suffix so
the script can run twice against one server.

Prints one PASS/FAIL line per check and closes with "boto3: N passed, M failed"; exit code 1 on
any failure.
"""

import hashlib
import json
import os
import random
import re
import string
import sys
import traceback
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("XREPL_ENDPOINT", "http://127.0.0.1:4566")
A = "111111111111"
B = "222222222222"
SECRET = "test"
REGION = "us-east-1"
RUN = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))

CONFIG = Config(
    region_name=REGION,
    s3={"addressing_style": "path"},
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
)


def client(service, key=A, secret=SECRET, token=None):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=REGION,
        config=CONFIG,
    )


def bucket_name(label):
    return f"{label}-{RUN}"


# ------------------------------------------------------------------------------------------------
# Assertions


class Mismatch(AssertionError):
    pass


def eq(actual, expected, what):
    if actual != expected:
        raise Mismatch(f"{what}: expected {expected!r}, got {actual!r}")


def true(cond, what):
    if not cond:
        raise Mismatch(what)


def expect_error(call, code, status=None, message=None, **kwargs):
    """Runs call(**kwargs), which must fail with `code` (and status / exact message when given)."""
    try:
        result = call(**kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        meta = e.response.get("ResponseMetadata", {})
        eq(err.get("Code"), code, f"error code of {call.__name__}")
        if status is not None:
            eq(meta.get("HTTPStatusCode"), status, f"HTTP status of {call.__name__} ({code})")
        if message is not None:
            eq(err.get("Message"), message, f"message of {call.__name__} ({code})")
        return e
    raise Mismatch(f"{call.__name__} should fail with {code}, but it succeeded: {result!r}"[:400])


def headers_of(resp_or_error):
    resp = resp_or_error.response if isinstance(resp_or_error, ClientError) else resp_or_error
    return resp["ResponseMetadata"]["HTTPHeaders"]


def status_of(resp):
    return resp["ResponseMetadata"]["HTTPStatusCode"]


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def drain():
    req = urllib.request.Request(
        ENDPOINT + "/_xrepl/replication/drain", method="POST", data=b"", headers={"x-xrepl-admin": "1"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        body = json.loads(r.read())
    eq(body.get("drained"), True, "replication drained")


def canonical_id(s3):
    owner = s3.list_buckets()["Owner"]["ID"]
    true(re.fullmatch(r"[0-9a-f]{64}", owner) is not None, f"canonical id is 64 hex: {owner!r}")
    return owner


def versioned_bucket(s3, name):
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


# The guide's documents, verbatim: note the EN DASHES in "Version".
GUIDE_TRUST = """{
  "Version": "2012\u201310\u201317",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "s3.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}"""


def fixed(doc):
    return doc.replace("2012\u201310\u201317", "2012-10-17")


def trust_for(principal):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def allow(actions, resources):
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}
    )


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


# ------------------------------------------------------------------------------------------------
# Buckets


@check
def bucket_create_head_list_delete():
    a, b = client("s3", A), client("s3", B)
    name = bucket_name("life")
    resp = a.create_bucket(Bucket=name)
    eq(status_of(resp), 200, "CreateBucket status")
    eq(resp.get("Location"), f"/{name}", "CreateBucket Location")
    head = a.head_bucket(Bucket=name)
    eq(status_of(head), 200, "HeadBucket status")
    eq(headers_of(head).get("x-amz-bucket-region"), REGION, "x-amz-bucket-region")
    listed = a.list_buckets()
    true(name in [x["Name"] for x in listed["Buckets"]], f"{name} listed for A")
    eq(listed["Owner"].get("DisplayName"), None, "ListBuckets Owner has no DisplayName")
    true(name not in [x["Name"] for x in b.list_buckets()["Buckets"]], "B does not list A's bucket")
    eq(a.get_bucket_location(Bucket=name).get("LocationConstraint"), None, "us-east-1 LocationConstraint is null")
    resp = a.delete_bucket(Bucket=name)
    eq(status_of(resp), 204, "DeleteBucket status")
    expect_error(a.head_bucket, "404", 404, Bucket=name)
    expect_error(
        # AWS's exact message; the name is in the BucketName element (recorded: docs/aws-semantics.md §81).
        a.delete_bucket, "NoSuchBucket", 404, "The specified bucket does not exist", Bucket=name
    )
    true(name not in [x["Name"] for x in a.list_buckets()["Buckets"]], "deleted bucket not listed")


@check
def bucket_already_owned_by_you_vs_already_exists():
    a, b = client("s3", A), client("s3", B)
    name = bucket_name("taken")
    a.create_bucket(Bucket=name)
    # API_CreateBucket: re-creating your own bucket succeeds in us-east-1, and is
    # BucketAlreadyOwnedByYou in every other region.
    a.create_bucket(Bucket=name)
    eu = bucket_name("taken-eu")
    a.create_bucket(Bucket=eu, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    expect_error(
        a.create_bucket,
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
        Bucket=eu,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    expect_error(
        b.create_bucket,
        "BucketAlreadyExists",
        409,
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system."
        " Please select a different name and try again.",
        Bucket=name,
    )
    true(name not in [x["Name"] for x in b.list_buckets()["Buckets"]], "B still owns no such bucket")


@check
def bucket_not_empty_and_invalid_names():
    a = client("s3", A)
    name = bucket_name("full")
    a.create_bucket(Bucket=name)
    a.put_object(Bucket=name, Key="k", Body=b"x")
    expect_error(a.delete_bucket, "BucketNotEmpty", 409, "The bucket you tried to delete is not empty", Bucket=name)
    a.head_bucket(Bucket=name)
    a.delete_object(Bucket=name, Key="k")
    a.delete_bucket(Bucket=name)
    for bad in ["Bad_Name", "ab", "a" * 64, "-leading-dash", "trailing-dash-", "192.168.5.4", "double..dot", "xn--punycode"]:
        expect_error(a.create_bucket, "InvalidBucketName", 400, "The specified bucket is not valid.", Bucket=bad)
    listed = [x["Name"] for x in a.list_buckets()["Buckets"]]
    true(not any(n in listed for n in ["Bad_Name", "ab", "192.168.5.4"]), "no invalid bucket was created")


@check
def canonical_ids_differ_per_account():
    ca, cb = canonical_id(client("s3", A)), canonical_id(client("s3", B))
    true(ca != cb, "accounts have distinct canonical ids")


# ------------------------------------------------------------------------------------------------
# Versioning


@check
def versioning_enabled_versions_and_null_version():
    s3 = client("s3", A)
    name = bucket_name("vers")
    s3.create_bucket(Bucket=name)
    eq(s3.get_bucket_versioning(Bucket=name).get("Status"), None, "new bucket has no versioning status")
    # An object written before versioning is the null version.
    pre = s3.put_object(Bucket=name, Key="doc", Body=b"zero")
    eq(pre.get("VersionId"), None, "no version id on an unversioned bucket")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    eq(s3.get_bucket_versioning(Bucket=name).get("Status"), "Enabled", "versioning Enabled")
    v1 = s3.put_object(Bucket=name, Key="doc", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=name, Key="doc", Body=b"two")["VersionId"]
    true(v1 != v2 and v1 != "null", f"distinct version ids {v1} {v2}")
    eq(s3.get_object(Bucket=name, Key="doc")["Body"].read(), b"two", "latest bytes")
    got = s3.get_object(Bucket=name, Key="doc", VersionId=v1)
    eq(got["Body"].read(), b"one", "v1 bytes")
    eq(got["VersionId"], v1, "GET reports the version id")
    eq(s3.get_object(Bucket=name, Key="doc", VersionId="null")["Body"].read(), b"zero", "null version bytes")
    versions = s3.list_object_versions(Bucket=name)["Versions"]
    eq([(v["VersionId"], v["IsLatest"]) for v in versions], [(v2, True), (v1, False), ("null", False)], "versions newest first")
    eq([v["ETag"] for v in versions], [md5_etag(b"two"), md5_etag(b"one"), md5_etag(b"zero")], "version ETags")


@check
def versioning_suspended_writes_null_version():
    s3 = client("s3", A)
    name = bucket_name("susp")
    versioned_bucket(s3, name)
    v1 = s3.put_object(Bucket=name, Key="doc", Body=b"one")["VersionId"]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    eq(s3.get_bucket_versioning(Bucket=name).get("Status"), "Suspended", "versioning Suspended")
    # The write is the null version, but PutObject names no version id for it (recorded: aws-semantics §88).
    eq(s3.put_object(Bucket=name, Key="doc", Body=b"n1").get("VersionId"), None, "a suspended write names no version id")
    s3.put_object(Bucket=name, Key="doc", Body=b"n2")
    versions = s3.list_object_versions(Bucket=name)["Versions"]
    eq([v["VersionId"] for v in versions], ["null", v1], "the null version is replaced, not added")
    eq(s3.get_object(Bucket=name, Key="doc", VersionId="null")["Body"].read(), b"n2", "null version bytes")
    expect_error(
        s3.put_bucket_versioning,
        "MalformedXML",
        400,
        Bucket=name,
        VersioningConfiguration={"MFADelete": "Disabled"},
    )
    eq(s3.get_bucket_versioning(Bucket=name).get("Status"), "Suspended", "a refused change keeps the state")


@check
def delete_markers_404_405_and_listing():
    s3 = client("s3", A)
    name = bucket_name("marks")
    versioned_bucket(s3, name)
    v1 = s3.put_object(Bucket=name, Key="doc", Body=b"one")["VersionId"]
    deleted = s3.delete_object(Bucket=name, Key="doc")
    eq(status_of(deleted), 204, "DeleteObject status")
    eq(deleted.get("DeleteMarker"), True, "DeleteMarker")
    marker = deleted["VersionId"]
    true(marker not in (v1, "null"), "marker has its own version id")
    err = expect_error(s3.get_object, "NoSuchKey", 404, "The specified key does not exist.", Bucket=name, Key="doc")
    eq(headers_of(err).get("x-amz-delete-marker"), "true", "x-amz-delete-marker on the 404")
    eq(headers_of(err).get("x-amz-version-id"), marker, "x-amz-version-id on the 404")
    err = expect_error(
        s3.get_object,
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
        Bucket=name,
        Key="doc",
        VersionId=marker,
    )
    eq(headers_of(err).get("allow"), "DELETE", "Allow: DELETE on the 405")
    eq(headers_of(err).get("x-amz-delete-marker"), "true", "x-amz-delete-marker on the 405")
    expect_error(s3.head_object, "405", 405, Bucket=name, Key="doc", VersionId=marker)
    expect_error(s3.get_object_tagging, "MethodNotAllowed", 405, Bucket=name, Key="doc", VersionId=marker)
    expect_error(
        s3.get_object, "InvalidArgument", 400, "Invalid version id specified", Bucket=name, Key="doc", VersionId="not-a-version"
    )
    # A DELETE of a key that never existed still writes a marker.
    ghost = s3.delete_object(Bucket=name, Key="never-existed")
    eq(ghost.get("DeleteMarker"), True, "marker for a key that never existed")
    listed = s3.list_object_versions(Bucket=name)
    markers = listed["DeleteMarkers"]
    eq(sorted((m["Key"], m["VersionId"], m["IsLatest"]) for m in markers),
       sorted([("doc", marker, True), ("never-existed", ghost["VersionId"], True)]), "delete markers listed")
    eq(sorted(markers[0].keys()), ["IsLatest", "Key", "LastModified", "Owner", "VersionId"], "delete marker fields")
    eq(sorted(markers[0]["Owner"].keys()), ["ID"], "marker Owner has ID only")
    eq([(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]], [(v1, False)], "the object version is no longer latest")
    eq(s3.list_objects_v2(Bucket=name)["KeyCount"], 0, "ListObjectsV2 hides deleted keys")
    # Removing the marker (a versioned delete) brings the object back; a deleted version is NoSuchVersion.
    s3.delete_object(Bucket=name, Key="doc", VersionId=marker)
    eq(s3.get_object(Bucket=name, Key="doc")["Body"].read(), b"one", "object back after removing the marker")
    s3.delete_object(Bucket=name, Key="doc", VersionId=v1)
    expect_error(
        s3.get_object, "NoSuchVersion", 404, "The specified version does not exist.", Bucket=name, Key="doc", VersionId=v1
    )


# ------------------------------------------------------------------------------------------------
# Objects


@check
def objects_bytes_metadata_and_tags():
    s3 = client("s3", A)
    name = bucket_name("objs")
    versioned_bucket(s3, name)
    data = bytes(range(256)) * 17
    put = s3.put_object(
        Bucket=name,
        Key="dir/bin.dat",
        Body=data,
        ContentType="application/octet-stream",
        Metadata={"team": "dr", "origin": "ledger"},
        Tagging="class=gold&tier=1",
        CacheControl="max-age=60",
    )
    eq(put["ETag"], md5_etag(data), "PutObject ETag is the MD5 of the bytes")
    got = s3.get_object(Bucket=name, Key="dir/bin.dat")
    eq(got["Body"].read(), data, "bytes round-trip")
    eq(got["ContentLength"], len(data), "ContentLength")
    eq(got["ETag"], md5_etag(data), "GET ETag")
    eq(got["ContentType"], "application/octet-stream", "ContentType")
    eq(got["CacheControl"], "max-age=60", "CacheControl")
    eq(got["Metadata"], {"team": "dr", "origin": "ledger"}, "user metadata")
    eq(got.get("TagCount"), 2, "x-amz-tagging-count")
    eq(got["VersionId"], put["VersionId"], "version id")
    head = s3.head_object(Bucket=name, Key="dir/bin.dat")
    eq((head["ContentLength"], head["ETag"], head["Metadata"]), (len(data), md5_etag(data), {"team": "dr", "origin": "ledger"}), "HEAD")
    eq(head.get("ReplicationStatus"), None, "no replication status without a rule")
    tags = s3.get_object_tagging(Bucket=name, Key="dir/bin.dat")
    eq(tags["TagSet"], [{"Key": "class", "Value": "gold"}, {"Key": "tier", "Value": "1"}], "tags from x-amz-tagging")
    s3.put_object_tagging(Bucket=name, Key="dir/bin.dat", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    eq(s3.get_object_tagging(Bucket=name, Key="dir/bin.dat")["TagSet"], [{"Key": "k", "Value": "v"}], "tags replaced")
    expect_error(
        s3.put_object_tagging,
        "InvalidTag",
        400,
        "Object tags cannot be greater than 10",
        Bucket=name,
        Key="dir/bin.dat",
        Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]},
    )
    eq(s3.get_object_tagging(Bucket=name, Key="dir/bin.dat")["TagSet"], [{"Key": "k", "Value": "v"}], "refused tagging changes nothing")
    # Ranged GET.
    part = s3.get_object(Bucket=name, Key="dir/bin.dat", Range="bytes=10-19")
    eq((status_of(part), part["Body"].read(), part["ContentRange"]), (206, data[10:20], f"bytes 10-19/{len(data)}"), "range GET")
    expect_error(s3.get_object, "NoSuchKey", 404, "The specified key does not exist.", Bucket=name, Key="missing")
    expect_error(s3.get_object, "NoSuchBucket", 404, Bucket=bucket_name("no-such-bucket"), Key="k")


@check
def objects_copy():
    s3 = client("s3", A)
    name = bucket_name("copy")
    versioned_bucket(s3, name)
    src = s3.put_object(Bucket=name, Key="a.txt", Body=b"hello", ContentType="text/plain", Metadata={"m": "1"})
    copied = s3.copy_object(Bucket=name, Key="b.txt", CopySource={"Bucket": name, "Key": "a.txt"})
    eq(copied["CopyObjectResult"]["ETag"], md5_etag(b"hello"), "copy ETag")
    eq(copied.get("CopySourceVersionId"), src["VersionId"], "CopySourceVersionId")
    true(copied.get("VersionId") not in (None, src["VersionId"]), "the copy is a new version")
    got = s3.get_object(Bucket=name, Key="b.txt")
    eq((got["Body"].read(), got["ContentType"], got["Metadata"]), (b"hello", "text/plain", {"m": "1"}), "copied bytes and metadata")
    s3.copy_object(
        Bucket=name, Key="c.txt", CopySource=f"{name}/a.txt", MetadataDirective="REPLACE", Metadata={"m": "2"}, ContentType="text/x"
    )
    got = s3.head_object(Bucket=name, Key="c.txt")
    eq((got["ContentType"], got["Metadata"]), ("text/x", {"m": "2"}), "REPLACE directive")
    expect_error(s3.copy_object, "InvalidRequest", 400, Bucket=name, Key="a.txt", CopySource={"Bucket": name, "Key": "a.txt"})
    expect_error(s3.copy_object, "NoSuchKey", 404, Bucket=name, Key="d.txt", CopySource={"Bucket": name, "Key": "missing"})
    eq(sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]), ["a.txt", "b.txt", "c.txt"], "keys after copies")


@check
def objects_multipart_etag():
    s3 = client("s3", A)
    name = bucket_name("multi")
    versioned_bucket(s3, name)
    upload = s3.create_multipart_upload(Bucket=name, Key="big", Metadata={"kind": "mp"})["UploadId"]
    chunks = [os.urandom(5 * 1024 * 1024), b"tail-bytes"]
    parts = []
    for n, chunk in enumerate(chunks, start=1):
        out = s3.upload_part(Bucket=name, Key="big", UploadId=upload, PartNumber=n, Body=chunk)
        eq(out["ETag"], md5_etag(chunk), f"part {n} ETag")
        parts.append({"PartNumber": n, "ETag": out["ETag"]})
    listed = s3.list_parts(Bucket=name, Key="big", UploadId=upload)
    eq([(p["PartNumber"], p["Size"]) for p in listed["Parts"]], [(1, len(chunks[0])), (2, len(chunks[1]))], "ListParts")
    uploads = s3.list_multipart_uploads(Bucket=name).get("Uploads", [])
    eq([u["UploadId"] for u in uploads], [upload], "ListMultipartUploads")
    done = s3.complete_multipart_upload(Bucket=name, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    expected = '"' + hashlib.md5(b"".join(hashlib.md5(c).digest() for c in chunks)).hexdigest() + '-2"'
    eq(done["ETag"], expected, "multipart ETag is MD5 of part MD5s with -N")
    true(done.get("VersionId") is not None, "multipart object has a version id")
    got = s3.get_object(Bucket=name, Key="big")
    eq((got["ContentLength"], got["ETag"], got["Metadata"]), (sum(map(len, chunks)), expected, {"kind": "mp"}), "completed object")
    eq(got["Body"].read(), b"".join(chunks), "multipart bytes")
    expect_error(s3.abort_multipart_upload, "NoSuchUpload", 404, Bucket=name, Key="big", UploadId=upload)
    # An upload with a part smaller than 5 MiB before the last is refused.
    upload = s3.create_multipart_upload(Bucket=name, Key="small")["UploadId"]
    e1 = s3.upload_part(Bucket=name, Key="small", UploadId=upload, PartNumber=1, Body=b"a")["ETag"]
    e2 = s3.upload_part(Bucket=name, Key="small", UploadId=upload, PartNumber=2, Body=b"b")["ETag"]
    expect_error(
        s3.complete_multipart_upload,
        "EntityTooSmall",
        400,
        Bucket=name,
        Key="small",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    s3.abort_multipart_upload(Bucket=name, Key="small", UploadId=upload)
    expect_error(s3.head_object, "404", 404, Bucket=name, Key="small")


@check
def objects_delete_objects():
    s3 = client("s3", A)
    name = bucket_name("bulk")
    versioned_bucket(s3, name)
    v = {k: s3.put_object(Bucket=name, Key=k, Body=k.encode())["VersionId"] for k in ["a", "b", "c"]}
    out = s3.delete_objects(
        Bucket=name,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c", "VersionId": v["c"]}, {"Key": "never-existed"}]},
    )
    deleted = {d["Key"]: d for d in out["Deleted"]}
    eq(sorted(deleted), ["a", "b", "c", "never-existed"], "all four reported deleted")
    eq(out.get("Errors"), None, "no errors")
    for k in ["a", "b", "never-existed"]:
        eq(deleted[k].get("DeleteMarker"), True, f"{k}: delete marker created")
        true(deleted[k].get("DeleteMarkerVersionId"), f"{k}: DeleteMarkerVersionId")
    eq((deleted["c"].get("VersionId"), deleted["c"].get("DeleteMarker")), (v["c"], None), "versioned delete of c")
    versions = s3.list_object_versions(Bucket=name)
    eq(sorted(x["Key"] for x in versions.get("Versions", [])), ["a", "b"], "c's only version is gone for good")
    eq(sorted(x["Key"] for x in versions["DeleteMarkers"]), ["a", "b", "never-existed"], "markers listed")
    quiet = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a", "VersionId": v["a"]}], "Quiet": True})
    eq(quiet.get("Deleted"), None, "Quiet mode lists nothing deleted")
    bad = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "b", "VersionId": "not-a-version"}]})
    eq([(e["Key"], e["Code"]) for e in bad.get("Errors", [])], [("b", "InvalidArgument")], "per-key error for a bad version id")
    eq(sorted(x["Key"] for x in s3.list_object_versions(Bucket=name).get("Versions", [])), ["b"], "b's version survives the bad delete")


@check
def objects_list_v2_and_versions_paging():
    s3 = client("s3", A)
    name = bucket_name("list")
    versioned_bucket(s3, name)
    keys = ["a/1", "a/2", "b/1", "c", "d"]
    for k in keys:
        s3.put_object(Bucket=name, Key=k, Body=b"x")
    s3.put_object(Bucket=name, Key="d", Body=b"xy")
    full = s3.list_objects_v2(Bucket=name)
    eq([o["Key"] for o in full["Contents"]], keys, "keys in order")
    eq((full["KeyCount"], full["IsTruncated"], full["MaxKeys"]), (5, False, 1000), "KeyCount/IsTruncated/MaxKeys")
    eq(full["Contents"][-1]["Size"], 2, "size of the latest version")
    eq(full["Contents"][0].get("Owner"), None, "no Owner without FetchOwner")
    owned = s3.list_objects_v2(Bucket=name, FetchOwner=True, MaxKeys=1)
    eq(owned["Contents"][0]["Owner"]["ID"], canonical_id(s3), "FetchOwner")
    grouped = s3.list_objects_v2(Bucket=name, Delimiter="/")
    eq([o["Key"] for o in grouped["Contents"]], ["c", "d"], "keys without delimiter")
    eq([p["Prefix"] for p in grouped["CommonPrefixes"]], ["a/", "b/"], "CommonPrefixes")
    eq([o["Key"] for o in s3.list_objects_v2(Bucket=name, Prefix="a/")["Contents"]], ["a/1", "a/2"], "Prefix")
    eq([o["Key"] for o in s3.list_objects_v2(Bucket=name, StartAfter="b/1")["Contents"]], ["c", "d"], "StartAfter")
    seen, token = [], None
    while True:
        kwargs = {"Bucket": name, "MaxKeys": 2}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    eq(seen, keys, "paging with continuation tokens")
    paginator = s3.get_paginator("list_object_versions")
    versions = [(v["Key"], v["IsLatest"]) for p in paginator.paginate(Bucket=name, PaginationConfig={"PageSize": 2}) for v in p.get("Versions", [])]
    eq(versions, [("a/1", True), ("a/2", True), ("b/1", True), ("c", True), ("d", True), ("d", False)], "ListObjectVersions paging")


# ------------------------------------------------------------------------------------------------
# Bucket policy and ownership


@check
def bucket_policy_validation_and_cross_account_grant():
    a, b = client("s3", A), client("s3", B)
    name = bucket_name("policy")
    a.create_bucket(Bucket=name)
    a.put_object(Bucket=name, Key="k", Body=b"secret")
    expect_error(b.get_object, "AccessDenied", 403, "Access Denied", Bucket=name, Key="k")
    expect_error(a.get_bucket_policy, "NoSuchBucketPolicy", 404, "The bucket policy does not exist", Bucket=name)
    guide_policy = json.dumps(
        {
            "Version": "2012\u201310\u201317",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}
            ],
        },
        ensure_ascii=False,
    )
    cases = [
        (guide_policy, "The policy must contain a valid version string"),
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("{}", "Missing required field Statement"),
        (guide_policy.replace("\u2013", "-").replace(f"{name}/*", "some-other-bucket/*"), "Policy has invalid resource"),
    ]
    for doc, message in cases:
        expect_error(a.put_bucket_policy, "MalformedPolicy", 400, message, Bucket=name, Policy=doc)
    expect_error(a.get_bucket_policy, "NoSuchBucketPolicy", 404, Bucket=name)
    valid = guide_policy.replace("\u2013", "-")
    resp = a.put_bucket_policy(Bucket=name, Policy=valid)
    eq(status_of(resp), 204, "PutBucketPolicy status")
    eq(a.get_bucket_policy(Bucket=name)["Policy"], valid, "policy stored verbatim")
    eq(b.get_object(Bucket=name, Key="k")["Body"].read(), b"secret", "B reads through the bucket policy")
    expect_error(b.put_object, "AccessDenied", 403, Bucket=name, Key="x", Body=b"x")
    expect_error(b.delete_object, "AccessDenied", 403, Bucket=name, Key="k")
    eq([o["Key"] for o in a.list_objects_v2(Bucket=name)["Contents"]], ["k"], "B changed nothing")
    eq(status_of(a.delete_bucket_policy(Bucket=name)), 204, "DeleteBucketPolicy status")
    expect_error(b.get_object, "AccessDenied", 403, Bucket=name, Key="k")


@check
def ownership_controls_default_enforced_and_acls_refused():
    s3 = client("s3", A)
    name = bucket_name("owned")
    s3.create_bucket(Bucket=name)
    rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    eq(rules, [{"ObjectOwnership": "BucketOwnerEnforced"}], "default ownership controls")
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    err = expect_error(s3.put_object_acl, "AccessControlListNotSupported", 400, Bucket=name, Key="k", ACL="public-read")
    true(err.response["Error"]["Message"].startswith("The bucket does not allow ACLs"), "AccessControlListNotSupported message")
    expect_error(s3.put_bucket_acl, "AccessControlListNotSupported", 400, Bucket=name, ACL="public-read")
    expect_error(s3.put_object, "AccessControlListNotSupported", 400, Bucket=name, Key="k2", Body=b"x", ACL="public-read")
    expect_error(s3.head_object, "404", 404, Bucket=name, Key="k2")
    acl = s3.get_object_acl(Bucket=name, Key="k")
    owner = canonical_id(s3)
    eq(acl["Owner"], {"ID": owner}, "ACL owner: ID only")
    eq(acl["Grants"], [{"Grantee": {"ID": owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}], "owner-only grant")
    expect_error(
        s3.create_bucket, "InvalidBucketAclWithObjectOwnership", 400, Bucket=bucket_name("acl-enforced"), ACL="public-read"
    )
    s3.delete_bucket_ownership_controls(Bucket=name)
    expect_error(
        s3.get_bucket_ownership_controls,
        "OwnershipControlsNotFoundError",
        404,
        "The bucket ownership controls were not found",
        Bucket=name,
    )
    # New buckets also block public ACLs (Block Public Access, on by default as on AWS).
    expect_error(s3.put_object_acl, "AccessDenied", 403, Bucket=name, Key="k", ACL="public-read")
    s3.delete_public_access_block(Bucket=name)
    s3.put_object_acl(Bucket=name, Key="k", ACL="public-read")
    eq(len(s3.get_object_acl(Bucket=name, Key="k")["Grants"]), 2, "ACL applied once ACLs are enabled")


# ------------------------------------------------------------------------------------------------
# Replication


def replication_config(role_arn, dest_bucket, account=B, **rule_extra):
    rule = {
        "ID": "guide-rule",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {
            "Bucket": f"arn:aws:s3:::{dest_bucket}",
            "Account": account,
            "AccessControlTranslation": {"Owner": "Destination"},
        },
    }
    rule.update(rule_extra)
    return {"Role": role_arn, "Rules": [rule]}


@check
def put_bucket_replication_validation():
    a, b = client("s3", A), client("s3", B)
    src, dst, plain = bucket_name("rv-src"), bucket_name("rv-dst"), bucket_name("rv-plain")
    role = f"arn:aws:iam::{A}:role/service-role/any-role"
    a.create_bucket(Bucket=src)
    b.create_bucket(Bucket=plain)
    expect_error(
        a.put_bucket_replication,
        "InvalidRequest",
        400,
        "Versioning must be 'Enabled' on the bucket to apply a replication configuration",
        Bucket=src,
        ReplicationConfiguration=replication_config(role, plain),
    )
    a.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})
    for dest in (plain, bucket_name("rv-missing")):
        expect_error(
            a.put_bucket_replication,
            "InvalidRequest",
            400,
            "Destination bucket must have versioning enabled.",
            Bucket=src,
            ReplicationConfiguration=replication_config(role, dest),
        )
    versioned_bucket(b, dst)
    no_account = replication_config(role, dst)
    del no_account["Rules"][0]["Destination"]["Account"]
    expect_error(a.put_bucket_replication, "InvalidRequest", 400, Bucket=src, ReplicationConfiguration=no_account)
    no_dmr = replication_config(role, dst)
    del no_dmr["Rules"][0]["DeleteMarkerReplication"]
    expect_error(
        a.put_bucket_replication,
        "InvalidRequest",
        400,
        "DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema."
        " Please refer to S3 Developer Guide for more information.",
        Bucket=src,
        ReplicationConfiguration=no_dmr,
    )
    expect_error(a.put_bucket_replication, "MalformedXML", 400, Bucket=src, ReplicationConfiguration={"Role": role, "Rules": []})
    expect_error(
        a.get_bucket_replication,
        "ReplicationConfigurationNotFoundError",
        404,
        "The replication configuration was not found",
        Bucket=src,
    )
    resp = a.put_bucket_replication(Bucket=src, ReplicationConfiguration=replication_config(role, dst))
    eq(status_of(resp), 200, "PutBucketReplication status")
    got = a.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
    eq(got, replication_config(role, dst), "GetBucketReplication echoes the rules as sent")
    eq(status_of(a.delete_bucket_replication(Bucket=src)), 204, "DeleteBucketReplication status")
    expect_error(a.get_bucket_replication, "ReplicationConfigurationNotFoundError", 404, Bucket=src)


@check
def cross_account_replication_end_to_end():
    a, b, iam = client("s3", A), client("s3", B), client("iam", A)
    src, dst = bucket_name("guide-src"), bucket_name("guide-dst")
    role_name = f"s3crr_role_for_{src}"
    versioned_bucket(a, src)
    versioned_bucket(b, dst)
    role = iam.create_role(RoleName=role_name, Path="/service-role/", AssumeRolePolicyDocument=fixed(GUIDE_TRUST))["Role"]
    role_arn = f"arn:aws:iam::{A}:role/service-role/{role_name}"
    eq(role["Arn"], role_arn, "role ARN carries the path")
    reads = ["s3:ListBucket", "s3:GetReplicationConfiguration", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
             "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold"]
    writes = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"]
    iam.put_role_policy(
        RoleName=role_name,
        PolicyName="replication",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": reads, "Resource": [f"arn:aws:s3:::{src}", f"arn:aws:s3:::{src}/*"]},
                    {"Effect": "Allow", "Action": writes, "Resource": f"arn:aws:s3:::{dst}/*"},
                ],
            }
        ),
    )
    b.put_bucket_policy(
        Bucket=dst,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["s3:ReplicateObject", "s3:ReplicateDelete",
                     "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"], "Resource": f"arn:aws:s3:::{dst}/*"},
                    {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["s3:List*", "s3:GetBucketVersioning",
                     "s3:PutBucketVersioning"], "Resource": f"arn:aws:s3:::{dst}"},
                ],
            }
        ),
    )
    a.put_bucket_replication(Bucket=src, ReplicationConfiguration=replication_config(role_arn, dst))
    put = a.put_object(Bucket=src, Key="reports/q1.csv", Body=b"a,b,c", ContentType="text/csv", Metadata={"origin": "ledger"},
                       Tagging="class=finance")
    vid = put["VersionId"]
    drain()
    eq(a.head_object(Bucket=src, Key="reports/q1.csv", VersionId=vid).get("ReplicationStatus"), "COMPLETED", "source status")
    replica = b.head_object(Bucket=dst, Key="reports/q1.csv", VersionId=vid)
    eq(replica["VersionId"], vid, "replica keeps the source version id")
    eq(replica.get("ReplicationStatus"), "REPLICA", "replica status")
    eq((replica["ETag"], replica["ContentType"], replica["Metadata"]), (md5_etag(b"a,b,c"), "text/csv", {"origin": "ledger"}), "replica headers")
    source_head = a.head_object(Bucket=src, Key="reports/q1.csv")
    eq(replica["LastModified"], source_head["LastModified"], "replica keeps last-modified")
    eq(b.get_object(Bucket=dst, Key="reports/q1.csv")["Body"].read(), b"a,b,c", "replica bytes")
    eq(b.get_object_tagging(Bucket=dst, Key="reports/q1.csv")["TagSet"], [{"Key": "class", "Value": "finance"}], "replica tags")
    owner_b = canonical_id(b)
    versions = b.list_object_versions(Bucket=dst)["Versions"]
    eq([(v["VersionId"], v["Owner"]["ID"]) for v in versions], [(vid, owner_b)], "replica owned by B")
    eq(b.get_object_acl(Bucket=dst, Key="reports/q1.csv")["Owner"]["ID"], owner_b, "replica ACL owner is B")
    # A user delete replicates as a marker with the same version id.
    marker = a.delete_object(Bucket=src, Key="reports/q1.csv")["VersionId"]
    drain()
    err = expect_error(b.get_object, "NoSuchKey", 404, Bucket=dst, Key="reports/q1.csv")
    eq(headers_of(err).get("x-amz-version-id"), marker, "replicated marker keeps its version id")
    # A versioned delete is not replicated: the replica version stays.
    a.delete_object(Bucket=src, Key="reports/q1.csv", VersionId=vid)
    drain()
    eq(b.get_object(Bucket=dst, Key="reports/q1.csv", VersionId=vid)["Body"].read(), b"a,b,c", "versioned delete not replicated")
    with urllib.request.urlopen(ENDPOINT + "/_xrepl/replication/failures", timeout=10) as r:
        events = [e for e in json.loads(r.read())["failures"] if src in json.dumps(e)]
    eq(events, [], "no replication failure events for this setup")


# ------------------------------------------------------------------------------------------------
# IAM


@check
def iam_role_lifecycle_and_documents():
    iam = client("iam", A)
    name = f"role-{RUN}"
    expect_error(iam.create_role, "MalformedPolicyDocument", 400, RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=GUIDE_TRUST)
    expect_error(
        iam.create_role, "MalformedPolicyDocument", 400, "This policy contains invalid Json", RoleName=name, AssumeRolePolicyDocument="{not json"
    )
    expect_error(iam.get_role, "NoSuchEntity", 404, f"The role with name {name} cannot be found.", RoleName=name)
    role = iam.create_role(RoleName=name, Path="/service-role/", AssumeRolePolicyDocument=fixed(GUIDE_TRUST), Description="guide")["Role"]
    eq(role["Arn"], f"arn:aws:iam::{A}:role/service-role/{name}", "role ARN")
    eq(role["Path"], "/service-role/", "role path")
    true(re.fullmatch(r"AROA[A-Z0-9]{17}", role["RoleId"]) is not None, f"RoleId shape: {role['RoleId']}")
    got = iam.get_role(RoleName=name)["Role"]
    eq(got["AssumeRolePolicyDocument"], json.loads(fixed(GUIDE_TRUST)), "trust policy round-trip (URL-decoded by botocore)")
    eq((got["Description"], got["MaxSessionDuration"]), ("guide", 3600), "Description / MaxSessionDuration")
    true(name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/service-role/")["Roles"]], "ListRoles PathPrefix")
    expect_error(
        iam.create_role,
        "EntityAlreadyExists",
        409,
        f"Role with name {name} already exists.",
        RoleName=name,
        AssumeRolePolicyDocument=fixed(GUIDE_TRUST),
    )
    policy = allow(["s3:GetObject"], "arn:aws:s3:::some-bucket/*")
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=policy)
    got = iam.get_role_policy(RoleName=name, PolicyName="read")
    eq((got["RoleName"], got["PolicyName"], got["PolicyDocument"]), (name, "read", json.loads(policy)), "GetRolePolicy")
    eq(iam.list_role_policies(RoleName=name)["PolicyNames"], ["read"], "ListRolePolicies")
    expect_error(
        iam.put_role_policy,
        "MalformedPolicyDocument",
        400,
        "Syntax errors in policy.",
        RoleName=name,
        PolicyName="bad",
        PolicyDocument='{"Version":"2012-10-17"}',
    )
    expect_error(
        iam.put_role_policy, "MalformedPolicyDocument", 400, RoleName=name, PolicyName="bad", PolicyDocument=policy.replace("2012-10-17", "2012\u201310\u201317")
    )
    expect_error(
        iam.get_role_policy, "NoSuchEntity", 404, "The role policy with name bad cannot be found.", RoleName=name, PolicyName="bad"
    )
    expect_error(iam.put_role_policy, "NoSuchEntity", 404, RoleName=f"missing-{RUN}", PolicyName="p", PolicyDocument=policy)
    expect_error(iam.delete_role, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.", RoleName=name)
    eq(iam.get_role(RoleName=name)["Role"]["Arn"], role["Arn"], "refused delete kept the role")
    iam.delete_role_policy(RoleName=name, PolicyName="read")
    iam.delete_role(RoleName=name)
    expect_error(iam.get_role, "NoSuchEntity", 404, RoleName=name)
    expect_error(iam.delete_role, "NoSuchEntity", 404, RoleName=name)


# ------------------------------------------------------------------------------------------------
# STS and authentication


@check
def sts_caller_identity_per_account():
    for account in (A, B):
        ident = client("sts", account).get_caller_identity()
        eq((ident["Account"], ident["Arn"], ident["UserId"]), (account, f"arn:aws:iam::{account}:root", account), f"identity of {account}")
    fresh = "333333333333"
    eq(client("sts", fresh).get_caller_identity()["Account"], fresh, "any 12-digit key is its own account")


@check
def sts_assume_role_and_session_credentials():
    iam, s3 = client("iam", A), client("s3", A)
    user, role = f"dave-{RUN}", f"assumable-{RUN}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    iam.put_user_policy(UserName=user, PolicyName="assume", PolicyDocument=allow(["sts:AssumeRole"], f"arn:aws:iam::{A}:role/{role}"))
    role_id = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_for({"AWS": f"arn:aws:iam::{A}:root"}))["Role"]["RoleId"]
    bucket = bucket_name("session")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"via role")
    iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=allow(["s3:GetObject"], f"arn:aws:s3:::{bucket}/*"))
    user_sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
    ident = user_sts.get_caller_identity()
    eq(ident["Arn"], f"arn:aws:iam::{A}:user/{user}", "user identity")
    # Root may not assume roles (AWS's rule).
    expect_error(
        client("sts", A).assume_role,
        "AccessDenied",
        403,
        "Roles may not be assumed by root accounts.",
        RoleArn=f"arn:aws:iam::{A}:role/{role}",
        RoleSessionName="s0",
    )
    out = user_sts.assume_role(RoleArn=f"arn:aws:iam::{A}:role/{role}", RoleSessionName="sess1")
    creds = out["Credentials"]
    true(creds["AccessKeyId"].startswith("ASIA"), f"session key id {creds['AccessKeyId']}")
    eq(out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{A}:assumed-role/{role}/sess1", "AssumedRoleUser.Arn")
    eq(out["AssumedRoleUser"]["AssumedRoleId"], f"{role_id}:sess1", "AssumedRoleId")
    session = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    ident = client("sts", **session).get_caller_identity()
    eq((ident["Arn"], ident["UserId"], ident["Account"]), (f"arn:aws:sts::{A}:assumed-role/{role}/sess1", f"{role_id}:sess1", A), "session identity")
    session_s3 = client("s3", **session)
    eq(session_s3.get_object(Bucket=bucket, Key="k")["Body"].read(), b"via role", "the session has the role's permissions")
    expect_error(session_s3.put_object, "AccessDenied", 403, Bucket=bucket, Key="x", Body=b"x")
    expect_error(client("iam", **session).list_roles, "AccessDenied", 403)
    bad_token = dict(session, token=creds["SessionToken"][:-4] + "AAAA")
    expect_error(client("sts", **bad_token).get_caller_identity, "InvalidClientTokenId", 403)
    # A role whose trust policy does not name the caller.
    other = f"not-for-dave-{RUN}"
    iam.create_role(RoleName=other, AssumeRolePolicyDocument=trust_for({"Service": "ec2.amazonaws.com"}))
    err = expect_error(user_sts.assume_role, "AccessDenied", 403, RoleArn=f"arn:aws:iam::{A}:role/{other}", RoleSessionName="s0")
    true("is not authorized to perform: sts:AssumeRole" in err.response["Error"]["Message"], "AccessDenied wording")
    expect_error(iam.delete_user, "DeleteConflict", 409, UserName=user)


@check
def authentication_failures():
    wrong = dict(key=A, secret="not-the-secret")
    expect_error(client("sts", **wrong).get_caller_identity, "SignatureDoesNotMatch", 403)
    expect_error(client("iam", **wrong).list_roles, "SignatureDoesNotMatch", 403)
    expect_error(client("s3", **wrong).list_buckets, "SignatureDoesNotMatch", 403)
    name = bucket_name("signed")
    expect_error(client("s3", **wrong).create_bucket, "SignatureDoesNotMatch", 403, Bucket=name)
    expect_error(client("s3", A).head_bucket, "404", 404, Bucket=name)
    unknown = dict(key="AKIAUNKNOWNKEY000000", secret="x")
    expect_error(
        client("sts", **unknown).get_caller_identity, "InvalidClientTokenId", 403, "The security token included in the request is invalid."
    )
    expect_error(client("iam", **unknown).list_roles, "InvalidClientTokenId", 403)
    expect_error(
        client("s3", **unknown).list_buckets,
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
    )


# ------------------------------------------------------------------------------------------------


def main():
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    passed = failed = 0
    for fn in CHECKS:
        if wanted not in fn.__name__:
            continue
        try:
            fn()
        except Mismatch as e:
            failed += 1
            print(f"FAIL boto3 {fn.__name__}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - an unexpected error is a failed check, with its trace
            failed += 1
            print(f"FAIL boto3 {fn.__name__}: unexpected {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=3)
        else:
            passed += 1
            print(f"PASS boto3 {fn.__name__}", flush=True)
    print(f"boto3: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
