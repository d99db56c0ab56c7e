"""Test selections of Ceph's s3-tests that scripts/ceph-s3-tests.sh knows, and the groups of the
replication-relevant selection.

    python3 selections.py args SELECTION   -> pytest arguments, one per line
    python3 selections.py names            -> the selection names

Kept in one place so the runner and the summary agree on what a selection is.
"""

import re
import sys

# Marks that need RGW-only features or an RGW debug setting (lifecycle days shortened to seconds,
# RGW's bucket-logging journal and rollover, cloud tiering, S3 Select, website endpoints, SNS,
# append-object, tenants named in bucket names). `fails_on_aws` marks tests whose expectations
# AWS itself does not meet; `fails_on_rgw` tests that are known broken on the reference server.
RGW_ONLY_MARKS = [
    "fails_on_aws",
    "fails_on_rgw",
    "appendobject",
    "bucket_logging",
    "bucket_logging_cleanup",
    "fails_without_logging_rollover",
    "cloud_transition",
    "cloud_restore",
    "target_by_bucket",
    "lifecycle_expiration",
    "lifecycle_transition",
    "s3select",
    "s3website",
    "s3website_routing_rules",
    "s3website_redirect_location",
    "sns",
    "fails_with_subdomain",
]

S3_MARK_EXPR = " and ".join("not " + m for m in RGW_ONLY_MARKS)

# The groups that matter to replication tests: two-user ACLs, bucket policies, versioning and
# object ownership. A test belongs to the first group whose pattern matches its name.
GROUPS = [
    ("ownership", r"ownership|owner|object_writer"),
    ("bucket_policy", r"policy|block_public|ignore_public"),
    ("acl_two_user", r"acl|grant|access_bucket"),
    ("versioning", r"version|delete_marker"),
]

# pytest -k expression: the union of the groups, without POST-form policies, lifecycle, logging,
# CORS, tenant-named buckets and ListObjectsV2 FetchOwner (listing, not ownership).
REPLICATION_K = (
    "(acl or grant or policy or version or ownership or owner or delete_marker or access_bucket"
    " or block_public or ignore_public)"
    " and not post_object and not lifecycle and not logging and not cors and not tenant"
    " and not fetchowner"
)

SELECTIONS = {
    "s3": ["s3tests/functional/test_s3.py", "-m", S3_MARK_EXPR],
    "iam": ["s3tests/functional/test_iam.py", "-m", "iam_account and not fails_on_aws"],
    "replication-groups": ["s3tests/functional/test_s3.py", "-m", S3_MARK_EXPR, "-k", REPLICATION_K],
}


def group_of(test_name):
    """The replication group of a test name, or None."""
    for group, pattern in GROUPS:
        if re.search(pattern, test_name):
            return group
    return None


def main(argv):
    if len(argv) >= 2 and argv[1] == "names":
        print("\n".join(SELECTIONS))
        return 0
    if len(argv) == 3 and argv[1] == "args":
        if argv[2] not in SELECTIONS:
            print("unknown selection %r (known: %s)" % (argv[2], ", ".join(SELECTIONS)), file=sys.stderr)
            return 2
        print("\n".join(SELECTIONS[argv[2]]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
