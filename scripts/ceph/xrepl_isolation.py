"""pytest plugin loaded by scripts/ceph-s3-tests.sh (``-p xrepl_isolation``).

Ceph's suite creates every bucket under one session-wide name prefix and, before and after each test, deletes
all buckets with that prefix. If one test leaves a bucket the cleanup cannot empty (for example because a
listing bug hides a key), every later test errors in its setup and the run measures nothing. This plugin gives
each test its own prefix, so a failed cleanup is reported once, as an error of the test that caused it, and
the following tests run on a clean slate. Test bodies and assertions are untouched.

Disable with ``scripts/ceph-s3-tests.sh --no-isolation``.
"""

import itertools

import pytest

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _xrepl_fresh_bucket_prefix(configfile):
    import s3tests.functional as suite

    base = getattr(suite, "_xrepl_base_prefix", None)
    if base is None:
        base = suite.prefix
        suite._xrepl_base_prefix = base
    # "<base><n>-": no test's prefix is a prefix of another's, and names stay under 63 characters.
    suite.prefix = "{}{}-".format(base, next(_counter))
    yield
