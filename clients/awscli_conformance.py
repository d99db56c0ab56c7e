#!/usr/bin/env python3
"""The AWS CLI (`aws`, installed from PyPI) against a served xrepl emulator.

Usage: XREPL_ENDPOINT=http://127.0.0.1:4566 [AWS_CLI=/path/to/aws] python clients/awscli_conformance.py [name-filter]

Every step shells out to `aws --endpoint-url ... s3api|s3|iam|sts ...` with the account's keys in
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (an isolated config file: region us-east-1, path-style
S3 addressing, no retries) and asserts the CLI's output (`--query` / `--output text` or JSON) or its
error line `An error occurred (CODE) when calling the OP operation: MESSAGE`. Expected outcomes are
AWS's, from shared/docs/aws-replication-semantics.md (§5, §7, §8, §11).

Prints one PASS/FAIL line per check and closes with "awscli: N passed, M failed"; exit code 1 on
any failure.
"""

import hashlib
import json
import os
import random
import re
import shutil
import string
import subprocess
import sys
import tempfile
import traceback
import urllib.request

ENDPOINT = os.environ.get("XREPL_ENDPOINT", "http://127.0.0.1:4566")
_VENV_AWS = os.path.join(os.path.dirname(sys.executable), "aws")
AWS = os.environ.get("AWS_CLI") or (_VENV_AWS if os.path.exists(_VENV_AWS) else shutil.which("aws") or "aws")
A = "111111111111"
B = "222222222222"
RUN = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))
WORK = tempfile.mkdtemp(prefix="xrepl-awscli-")

CONFIG_FILE = os.path.join(WORK, "config")
with open(CONFIG_FILE, "w", encoding="utf-8") as f:
    f.write("[default]\nregion = us-east-1\noutput = json\nretry_mode = standard\nmax_attempts = 1\ns3 =\n    addressing_style = path\n")


class Mismatch(AssertionError):
    pass


class Failed(Exception):
    """A CLI call that exited non-zero: the AWS error code, message and the operation."""

    def __init__(self, code, message, operation, rc, stderr):
        super().__init__(f"{operation}: {code}: {message}")
        self.code, self.message, self.operation, self.rc, self.stderr = code, message, operation, rc, stderr


ERROR_LINE = re.compile(r"An error occurred \(([^)]*)\) when calling the (\w+) operation(?: \([^)]*\))?: ?(.*)")


def aws(*args, key=A, secret="test", token=None, text=False):
    """Runs `aws ARGS` as the given credentials; returns parsed JSON (or stripped text)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_CONFIG_FILE=CONFIG_FILE,
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(WORK, "no-credentials"),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_PAGER="",
    )
    if token:
        env["AWS_SESSION_TOKEN"] = token
    cmd = [AWS, "--endpoint-url", ENDPOINT, *args]
    if text:
        cmd += ["--output", "text"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        m = ERROR_LINE.search(proc.stderr)
        if m:
            raise Failed(m.group(1), m.group(3).strip(), m.group(2), proc.returncode, proc.stderr)
        raise Failed("<no AWS error>", proc.stderr.strip()[-400:], args[1] if len(args) > 1 else args[0], proc.returncode, proc.stderr)
    out = proc.stdout.strip()
    if text or args[0] == "s3":
        return out
    return json.loads(out) if out else {}


def eq(actual, expected, what):
    if actual != expected:
        raise Mismatch(f"{what}: expected {expected!r}, got {actual!r}")


def true(cond, what):
    if not cond:
        raise Mismatch(what)


def fails(code, *args, message=None, **kwargs):
    """`aws ARGS` must fail with AWS error `code` (and exactly `message` when given)."""
    try:
        out = aws(*args, **kwargs)
    except Failed as e:
        eq(e.code, code, f"error code of aws {' '.join(args[:2])}")
        if message is not None:
            eq(e.message, message, f"message of aws {' '.join(args[:2])} ({code})")
        true(e.rc != 0, "non-zero exit")
        return e
    raise Mismatch(f"aws {' '.join(args[:3])} should fail with {code} but printed {out!r}"[:400])


def path(name, content):
    p = os.path.join(WORK, name)
    with open(p, "wb") as f:
        f.write(content.encode("utf-8") if isinstance(content, str) else content)
    return p


def read(p):
    with open(p, "rb") as f:
        return f.read()


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def bucket(label):
    return f"cli-{label}-{RUN}"


def drain():
    req = urllib.request.Request(
        ENDPOINT + "/_xrepl/replication/drain", method="POST", data=b"", headers={"x-xrepl-admin": "1"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        eq(json.loads(r.read()).get("drained"), True, "replication drained")


def canonical(account):
    owner = aws("s3api", "list-buckets", "--query", "Owner.ID", key=account, text=True)
    true(re.fullmatch(r"[0-9a-f]{64}", owner) is not None, f"canonical id is 64 hex: {owner!r}")
    return owner


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


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


# ------------------------------------------------------------------------------------------------


@check
def cli_buckets():
    name = bucket("life")
    # CreateBucket names the bucket's ARN (recorded: aws-semantics §97).
    created = {"Location": f"/{name}", "BucketArn": f"arn:aws:s3:::{name}"}
    eq(aws("s3api", "create-bucket", "--bucket", name), created, "create-bucket output")
    eq(aws("s3api", "head-bucket", "--bucket", name).get("BucketRegion"), "us-east-1", "head-bucket BucketRegion")
    names = aws("s3api", "list-buckets", "--query", "Buckets[].Name", text=True).split()
    true(name in names, "bucket listed")
    true(name not in aws("s3api", "list-buckets", "--query", "Buckets[].Name", key=B, text=True).split(), "B does not list A's bucket")
    # API_CreateBucket: re-creating your own bucket succeeds in us-east-1 (BucketAlreadyOwnedByYou elsewhere).
    eq(aws("s3api", "create-bucket", "--bucket", name), created, "create-bucket again in us-east-1")
    fails("BucketAlreadyExists", "s3api", "create-bucket", "--bucket", name, key=B)
    fails("InvalidBucketName", "s3api", "create-bucket", "--bucket", "Bad_Name", message="The specified bucket is not valid.")
    aws("s3api", "put-object", "--bucket", name, "--key", "k", "--body", path("x", "x"))
    fails("BucketNotEmpty", "s3api", "delete-bucket", "--bucket", name, message="The bucket you tried to delete is not empty")
    aws("s3", "rm", f"s3://{name}/k")
    aws("s3api", "delete-bucket", "--bucket", name)
    fails("404", "s3api", "head-bucket", "--bucket", name, message="Not Found")
    true(canonical(A) != canonical(B), "distinct canonical ids")


@check
def cli_versioning_and_delete_markers():
    name = bucket("vers")
    aws("s3api", "create-bucket", "--bucket", name)
    eq(aws("s3api", "get-bucket-versioning", "--bucket", name), {}, "no versioning status on a new bucket")
    aws("s3api", "put-bucket-versioning", "--bucket", name, "--versioning-configuration", "Status=Enabled")
    eq(aws("s3api", "get-bucket-versioning", "--bucket", name, "--query", "Status", text=True), "Enabled", "Enabled")
    v1 = aws("s3api", "put-object", "--bucket", name, "--key", "doc", "--body", path("one", "one"))["VersionId"]
    v2 = aws("s3api", "put-object", "--bucket", name, "--key", "doc", "--body", path("two", "two"))["VersionId"]
    true(v1 != v2, "distinct version ids")
    out = os.path.join(WORK, "got")
    meta = aws("s3api", "get-object", "--bucket", name, "--key", "doc", "--version-id", v1, out)
    eq((read(out), meta["VersionId"], meta["ETag"]), (b"one", v1, md5_etag(b"one")), "get-object by version")
    deleted = aws("s3api", "delete-object", "--bucket", name, "--key", "doc")
    eq(deleted.get("DeleteMarker"), True, "DeleteMarker")
    marker = deleted["VersionId"]
    fails("NoSuchKey", "s3api", "get-object", "--bucket", name, "--key", "doc", out, message="The specified key does not exist.")
    fails("MethodNotAllowed", "s3api", "get-object", "--bucket", name, "--key", "doc", "--version-id", marker, out,
          message="The specified method is not allowed against this resource.")
    fails("InvalidArgument", "s3api", "get-object", "--bucket", name, "--key", "doc", "--version-id", "bogus", out,
          message="Invalid version id specified")
    listed = aws("s3api", "list-object-versions", "--bucket", name)
    eq([(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]], [(v2, False), (v1, False)], "versions")
    eq([(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]], [(marker, True)], "delete markers")
    aws("s3api", "delete-object", "--bucket", name, "--key", "doc", "--version-id", marker)
    aws("s3api", "get-object", "--bucket", name, "--key", "doc", out)
    eq(read(out), b"two", "removing the marker restores the object")
    aws("s3api", "put-bucket-versioning", "--bucket", name, "--versioning-configuration", "Status=Suspended")
    eq(aws("s3api", "put-object", "--bucket", name, "--key", "doc", "--body", path("n", "n"), "--query", "VersionId", text=True),
       "None", "a suspended write names no version id (the null version; recorded: aws-semantics §88)")


@check
def cli_objects():
    name = bucket("objs")
    aws("s3api", "create-bucket", "--bucket", name)
    aws("s3api", "put-bucket-versioning", "--bucket", name, "--versioning-configuration", "Status=Enabled")
    data = bytes(range(256)) * 64
    put = aws("s3api", "put-object", "--bucket", name, "--key", "dir/a.bin", "--body", path("a.bin", data),
              "--content-type", "application/x-test", "--metadata", "team=dr,origin=ledger", "--tagging", "class=gold&tier=1")
    eq(put["ETag"], md5_etag(data), "put-object ETag")
    head = aws("s3api", "head-object", "--bucket", name, "--key", "dir/a.bin")
    eq((head["ContentLength"], head["ContentType"], head["Metadata"]), (len(data), "application/x-test", {"team": "dr", "origin": "ledger"}), "head-object")
    out = os.path.join(WORK, "a.out")
    aws("s3api", "get-object", "--bucket", name, "--key", "dir/a.bin", out)
    eq(read(out), data, "bytes round-trip")
    eq(aws("s3api", "get-object-tagging", "--bucket", name, "--key", "dir/a.bin")["TagSet"],
       [{"Key": "class", "Value": "gold"}, {"Key": "tier", "Value": "1"}], "tags")
    aws("s3api", "copy-object", "--bucket", name, "--key", "dir/b.bin", "--copy-source", f"{name}/dir/a.bin")
    eq(aws("s3api", "head-object", "--bucket", name, "--key", "dir/b.bin", "--query", "ETag", text=True), md5_etag(data), "copy ETag")
    fails("InvalidRequest", "s3api", "copy-object", "--bucket", name, "--key", "dir/a.bin", "--copy-source", f"{name}/dir/a.bin")
    aws("s3api", "put-object", "--bucket", name, "--key", "top", "--body", path("t", "t"))
    eq(aws("s3api", "list-objects-v2", "--bucket", name, "--query", "Contents[].Key"), ["dir/a.bin", "dir/b.bin", "top"], "list-objects-v2")
    grouped = aws("s3api", "list-objects-v2", "--bucket", name, "--delimiter", "/")
    eq(([o["Key"] for o in grouped["Contents"]], [p["Prefix"] for p in grouped["CommonPrefixes"]]), (["top"], ["dir/"]), "delimiter")
    delete = path("delete.json", json.dumps({"Objects": [{"Key": "dir/a.bin"}, {"Key": "top"}]}))
    result = aws("s3api", "delete-objects", "--bucket", name, "--delete", f"file://{delete}")
    eq(sorted((d["Key"], d.get("DeleteMarker")) for d in result["Deleted"]), [("dir/a.bin", True), ("top", True)], "delete-objects")
    eq(aws("s3api", "list-objects-v2", "--bucket", name, "--query", "Contents[].Key"), ["dir/b.bin"], "one key left")
    # The high-level `aws s3 cp` splits 9 MiB into 8 MiB parts: a multipart upload with a -2 ETag.
    big = os.urandom(9 * 1024 * 1024)
    aws("s3", "cp", path("big", big), f"s3://{name}/big")
    parts = [big[: 8 * 1024 * 1024], big[8 * 1024 * 1024:]]
    expected = '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + '-2"'
    eq(aws("s3api", "head-object", "--bucket", name, "--key", "big", "--query", "ETag", text=True), expected, "multipart ETag")
    aws("s3", "cp", f"s3://{name}/big", os.path.join(WORK, "big.out"))
    eq(read(os.path.join(WORK, "big.out")) == big, True, "multipart bytes round-trip")
    listing = aws("s3", "ls", f"s3://{name}/", text=True)
    true(re.search(r"\s9437184 big$", listing, re.M) is not None and "PRE dir/" in listing, f"aws s3 ls: {listing!r}")


@check
def cli_bucket_policy_and_ownership():
    name = bucket("policy")
    aws("s3api", "create-bucket", "--bucket", name)
    aws("s3api", "put-object", "--bucket", name, "--key", "k", "--body", path("s", "secret"))
    out = os.path.join(WORK, "k.out")
    fails("AccessDenied", "s3api", "get-object", "--bucket", name, "--key", "k", out, key=B, message="Access Denied")
    guide = json.dumps(
        {"Version": "2012\u201310\u201317", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                                                          "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}]},
        ensure_ascii=False,
    )
    fails("MalformedPolicy", "s3api", "put-bucket-policy", "--bucket", name, "--policy", f"file://{path('guide-policy.json', guide)}",
          message="The policy must contain a valid version string")
    fails("NoSuchBucketPolicy", "s3api", "get-bucket-policy", "--bucket", name, message="The bucket policy does not exist")
    aws("s3api", "put-bucket-policy", "--bucket", name, "--policy", f"file://{path('policy.json', fixed(guide))}")
    eq(aws("s3api", "get-bucket-policy", "--bucket", name, "--query", "Policy", text=True), fixed(guide), "policy stored verbatim")
    aws("s3api", "get-object", "--bucket", name, "--key", "k", out, key=B)
    eq(read(out), b"secret", "B reads through the policy")
    fails("AccessDenied", "s3api", "put-object", "--bucket", name, "--key", "x", "--body", path("x", "x"), key=B)
    eq(aws("s3api", "get-bucket-ownership-controls", "--bucket", name, "--query", "OwnershipControls.Rules[0].ObjectOwnership", text=True),
       "BucketOwnerEnforced", "default ownership")
    e = fails("AccessControlListNotSupported", "s3api", "put-object-acl", "--bucket", name, "--key", "k", "--acl", "public-read")
    true(e.message.startswith("The bucket does not allow ACLs"), f"message: {e.message}")


@check
def cli_replication():
    src, dst = bucket("src"), bucket("dst")
    role_name = f"cli-crr-{RUN}"
    role_arn = f"arn:aws:iam::{A}:role/service-role/{role_name}"
    aws("s3api", "create-bucket", "--bucket", src)
    aws("s3api", "create-bucket", "--bucket", dst, key=B)
    config = {
        "Role": role_arn,
        "Rules": [{"ID": "r1", "Priority": 1, "Status": "Enabled", "Filter": {}, "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "Account": B, "AccessControlTranslation": {"Owner": "Destination"}}}],
    }
    config_file = f"file://{path('replication.json', json.dumps(config))}"
    fails("InvalidRequest", "s3api", "put-bucket-replication", "--bucket", src, "--replication-configuration", config_file,
          message="Versioning must be 'Enabled' on the bucket to apply a replication configuration")
    aws("s3api", "put-bucket-versioning", "--bucket", src, "--versioning-configuration", "Status=Enabled")
    fails("InvalidRequest", "s3api", "put-bucket-replication", "--bucket", src, "--replication-configuration", config_file,
          message="Destination bucket must have versioning enabled.")
    aws("s3api", "put-bucket-versioning", "--bucket", dst, "--versioning-configuration", "Status=Enabled", key=B)
    aws("iam", "create-role", "--role-name", role_name, "--path", "/service-role/", "--assume-role-policy-document",
        f"file://{path('trust.json', fixed(GUIDE_TRUST))}")
    role_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetReplicationConfiguration", "s3:GetObjectVersionForReplication",
                                       "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
         "Resource": [f"arn:aws:s3:::{src}", f"arn:aws:s3:::{src}/*"]},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
         "Resource": f"arn:aws:s3:::{dst}/*"}]}
    aws("iam", "put-role-policy", "--role-name", role_name, "--policy-name", "replication", "--policy-document",
        f"file://{path('role-policy.json', json.dumps(role_policy))}")
    dest_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["s3:ReplicateObject", "s3:ReplicateDelete",
                                                                       "s3:ObjectOwnerOverrideToBucketOwner"], "Resource": f"arn:aws:s3:::{dst}/*"},
        {"Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"],
         "Resource": f"arn:aws:s3:::{dst}"}]}
    aws("s3api", "put-bucket-policy", "--bucket", dst, "--policy", f"file://{path('dest-policy.json', json.dumps(dest_policy))}", key=B)
    aws("s3api", "put-bucket-replication", "--bucket", src, "--replication-configuration", config_file)
    eq(aws("s3api", "get-bucket-replication", "--bucket", src)["ReplicationConfiguration"], config, "get-bucket-replication echoes the rule")
    vid = aws("s3api", "put-object", "--bucket", src, "--key", "q1.csv", "--body", path("q1", "a,b,c"), "--query", "VersionId", text=True)
    drain()
    eq(aws("s3api", "head-object", "--bucket", src, "--key", "q1.csv", "--query", "ReplicationStatus", text=True), "COMPLETED", "source status")
    replica = aws("s3api", "head-object", "--bucket", dst, "--key", "q1.csv", "--version-id", vid, key=B)
    eq((replica["VersionId"], replica.get("ReplicationStatus"), replica["ETag"]), (vid, "REPLICA", md5_etag(b"a,b,c")), "replica")
    owner = aws("s3api", "list-object-versions", "--bucket", dst, "--query", "Versions[0].Owner.ID", key=B, text=True)
    eq(owner, canonical(B), "replica owned by B")


@check
def cli_iam_roles():
    name = f"cli-role-{RUN}"
    fails("MalformedPolicyDocument", "iam", "create-role", "--role-name", name, "--path", "/service-role/",
          "--assume-role-policy-document", f"file://{path('guide-trust.json', GUIDE_TRUST)}")
    fails("MalformedPolicyDocument", "iam", "create-role", "--role-name", name, "--assume-role-policy-document", "{not json",
          message="This policy contains invalid Json")
    fails("NoSuchEntity", "iam", "get-role", "--role-name", name, message=f"The role with name {name} cannot be found.")
    trust = f"file://{path('trust-ok.json', fixed(GUIDE_TRUST))}"
    arn = aws("iam", "create-role", "--role-name", name, "--path", "/service-role/", "--assume-role-policy-document", trust,
              "--query", "Role.Arn", text=True)
    eq(arn, f"arn:aws:iam::{A}:role/service-role/{name}", "role ARN")
    eq(aws("iam", "get-role", "--role-name", name, "--query", "Role.AssumeRolePolicyDocument"), json.loads(fixed(GUIDE_TRUST)), "trust round-trip")
    fails("EntityAlreadyExists", "iam", "create-role", "--role-name", name, "--assume-role-policy-document", trust,
          message=f"Role with name {name} already exists.")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    aws("iam", "put-role-policy", "--role-name", name, "--policy-name", "p", "--policy-document", doc)
    eq(aws("iam", "get-role-policy", "--role-name", name, "--policy-name", "p", "--query", "PolicyDocument"), json.loads(doc), "get-role-policy")
    fails("MalformedPolicyDocument", "iam", "put-role-policy", "--role-name", name, "--policy-name", "q", "--policy-document",
          '{"Version":"2012-10-17"}', message="Syntax errors in policy.")
    fails("DeleteConflict", "iam", "delete-role", "--role-name", name, message="Cannot delete entity, must delete policies first.")
    aws("iam", "delete-role-policy", "--role-name", name, "--policy-name", "p")
    aws("iam", "delete-role", "--role-name", name)
    fails("NoSuchEntity", "iam", "get-role", "--role-name", name)


@check
def cli_sts():
    for account in (A, B):
        eq(aws("sts", "get-caller-identity", "--query", "[Account,Arn,UserId]", key=account),
           [account, f"arn:aws:iam::{account}:root", account], f"identity of {account}")
    user, role = f"cli-user-{RUN}", f"cli-assumable-{RUN}"
    aws("iam", "create-user", "--user-name", user)
    key = aws("iam", "create-access-key", "--user-name", user)["AccessKey"]
    aws("iam", "put-user-policy", "--user-name", user, "--policy-name", "assume", "--policy-document",
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    aws("iam", "create-role", "--role-name", role, "--assume-role-policy-document",
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                                                            "Action": "sts:AssumeRole"}]}))
    fails("AccessDenied", "sts", "assume-role", "--role-arn", f"arn:aws:iam::{A}:role/{role}", "--role-session-name", "root-try",
          message="Roles may not be assumed by root accounts.")
    creds = aws("sts", "assume-role", "--role-arn", f"arn:aws:iam::{A}:role/{role}", "--role-session-name", "cli-session",
                "--query", "Credentials", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    arn = aws("sts", "get-caller-identity", "--query", "Arn", text=True,
              key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    eq(arn, f"arn:aws:sts::{A}:assumed-role/{role}/cli-session", "session identity")
    fails("SignatureDoesNotMatch", "sts", "get-caller-identity", secret="wrong")
    fails("SignatureDoesNotMatch", "s3api", "list-buckets", secret="wrong")
    fails("SignatureDoesNotMatch", "iam", "list-roles", secret="wrong")
    fails("InvalidClientTokenId", "sts", "get-caller-identity", key="AKIAUNKNOWNKEY000000",
          message="The security token included in the request is invalid.")
    fails("InvalidAccessKeyId", "s3api", "list-buckets", key="AKIAUNKNOWNKEY000000",
          message="The AWS Access Key Id you provided does not exist in our records.")


def main():
    wanted = sys.argv[1] if len(sys.argv) > 1 else ""
    passed = failed = 0
    version = subprocess.run([AWS, "--version"], capture_output=True, text=True, check=False)
    print(f"using {(version.stdout or version.stderr).strip()}", flush=True)
    for fn in CHECKS:
        if wanted not in fn.__name__:
            continue
        try:
            fn()
        except (Mismatch, Failed) as e:
            failed += 1
            print(f"FAIL awscli {fn.__name__}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - an unexpected error is a failed check, with its trace
            failed += 1
            print(f"FAIL awscli {fn.__name__}: unexpected {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=3)
        else:
            passed += 1
            print(f"PASS awscli {fn.__name__}", flush=True)
    shutil.rmtree(WORK, ignore_errors=True)
    print(f"awscli: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
