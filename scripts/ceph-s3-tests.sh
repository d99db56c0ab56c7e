#!/usr/bin/env bash
# Run Ceph's public S3 compatibility suite (https://github.com/ceph/s3-tests, MIT) against `xrepl serve`.
#
#   scripts/ceph-s3-tests.sh [options] XREPL_BINARY SELECTION
#
#   XREPL_BINARY   the xrepl executable, e.g. target/debug/xrepl (or $XREPL_BIN)
#   SELECTION      s3 | iam | replication-groups   (defined in scripts/ceph/selections.py)
#
# Options:
#   --suite DIR     a checkout of ceph/s3-tests (default: $CEPH_S3_TESTS)
#   --out DIR       where junit XML, logs and summaries go (default: target/ceph-s3-tests)
#   --timeout SEC   per-test timeout when pytest-timeout is installed (default: 120)
#   --no-record     do not update scripts/ceph/last-failures-<selection>.txt
#   --no-isolation  run the suite exactly as upstream (one bucket prefix for the whole session; a bucket that
#                   cannot be cleaned up then makes every later test error, see scripts/ceph/xrepl_isolation.py)
#   -- ARGS...      further arguments for pytest (e.g. -k test_bucket_policy)
#
# The suite's Python dependencies come from PyPI into a venv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/xrepl/ceph-venv (created on first use, reused afterwards).
#
# Exit status: 0 when the suite ran (whatever the tests' results: this is a measurement),
# 2 for bad arguments or a missing suite, 3 when the server does not start, 4 when pytest itself
# crashed or collected nothing, 5 when the server died during the run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

suite="${CEPH_S3_TESTS:-}"
out="$repo/target/ceph-s3-tests"
timeout_s=120
record=1
isolation=1
binary="${XREPL_BIN:-}"
selection=""
extra=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "ceph-s3-tests: $*" >&2; exit "${2:-2}"; }

positional=()
while (($#)); do
    case "$1" in
        --suite) suite="${2:?--suite needs a directory}"; shift 2 ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --timeout) timeout_s="${2:?--timeout needs seconds}"; shift 2 ;;
        --no-record) record=0; shift ;;
        --no-isolation) isolation=0; shift ;;
        -h|--help) usage ;;
        --) shift; extra=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) positional+=("$1"); shift ;;
    esac
done
case "${#positional[@]}" in
    2) binary="${positional[0]}"; selection="${positional[1]}" ;;
    1) selection="${positional[0]}" ;;
    *) usage ;;
esac

[[ -n "$binary" ]] || die "no xrepl binary given (argument or \$XREPL_BIN)"
[[ -x "$binary" ]] || die "xrepl binary not found or not executable: $binary"
[[ -n "$suite" ]] || die "where is ceph/s3-tests? Pass --suite DIR or set CEPH_S3_TESTS (git clone https://github.com/ceph/s3-tests)"
[[ -f "$suite/s3tests/functional/test_s3.py" && -f "$suite/requirements.txt" ]] \
    || die "$suite does not look like a ceph/s3-tests checkout (no s3tests/functional/test_s3.py or requirements.txt)"
suite="$(cd "$suite" && pwd)"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

python3 "$here/ceph/selections.py" args "$selection" >/dev/null 2>&1 \
    || die "unknown selection '$selection' (known: $(python3 "$here/ceph/selections.py" names | tr '\n' ' '))"
mapfile -t sel_args < <(python3 "$here/ceph/selections.py" args "$selection")

mkdir -p "$out"
out="$(cd "$out" && pwd)"

# --- Python environment -------------------------------------------------------------------------
venv="${XDG_CACHE_HOME:-$HOME/.cache}/xrepl/ceph-venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$suite/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/pytest" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "ceph-s3-tests: preparing $venv (PyPI: the suite's requirements.txt + pytest-timeout)" >&2
    python3 -m venv "$venv" || die "python3 -m venv failed (install python3-venv)"
    "$venv/bin/pip" install --quiet --upgrade pip >&2 || true
    "$venv/bin/pip" install --quiet -r "$suite/requirements.txt" >&2 || die "pip install -r $suite/requirements.txt failed"
    "$venv/bin/pip" install --quiet pytest-timeout >&2 || echo "ceph-s3-tests: pytest-timeout unavailable; running without a per-test timeout" >&2
    echo "$want" > "$stamp"
fi
py="$venv/bin/python"
pytest_opts=(-p no:cacheprovider -o junit_family=xunit2 -rfE --tb=short)
if "$py" -c 'import pytest_timeout' 2>/dev/null; then
    pytest_opts+=(--timeout "$timeout_s")
fi
if ((isolation)); then
    pytest_opts+=(-p xrepl_isolation)
fi
if "$py" -c 'import xdist' 2>/dev/null; then
    pytest_opts+=(-p no:xdist)   # the suite's tests share buckets' prefix cleanup; run them serially
fi

# --- Server ----------------------------------------------------------------------------------------
host=127.0.0.1
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
secret=test
main_acct=111111111111; alt_acct=222222222222; tenant_acct=333333333333
iam_root_acct=444444444444; iam_alt_root_acct=555555555555
server_log="$out/xrepl-serve-$selection.log"

"$binary" serve --host "$host" --port "$port" --secret "$secret" \
    --account "$main_acct" --account "$alt_acct" --account "$tenant_acct" \
    --account "$iam_root_acct" --account "$iam_alt_root_acct" >"$server_log" 2>&1 &
server_pid=$!
cleanup() {
    if kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

endpoint="http://$host:$port"
for _ in $(seq 1 60); do
    kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; die "xrepl serve exited at start (log: $server_log)" 3; }
    if "$binary" health --endpoint "$endpoint" >/dev/null 2>&1; then break; fi
    sleep 0.5
done
"$binary" health --endpoint "$endpoint" >/dev/null 2>&1 || { cat "$server_log" >&2; die "xrepl serve did not become healthy on $endpoint within 30 s" 3; }

# Canonical ids as the server prints them ("account A  access key id K  canonical id C").
canonical() {
    local id
    id="$(awk -v a="$1" '$1=="account" && $2==a {for(i=1;i<=NF;i++) if($i=="canonical" && $(i+1)=="id") print $(i+2)}' "$server_log" | head -n1)"
    if [[ -z "$id" ]]; then
        id="$(printf 'xrepl-canonical-user:%s' "$1" | sha256sum | cut -d' ' -f1)"
    fi
    printf '%s' "$id"
}

# Two KMS keys in the main account for the suite's SSE-KMS tests (kms_keyid, kms_keyid2), created through the
# emulator's KMS API like a user would create them on AWS. Without them the suite names keys that do not exist.
mapfile -t kms_keys < <(AWS_ACCESS_KEY_ID="$main_acct" AWS_SECRET_ACCESS_KEY="$secret" AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$py" - "$endpoint" <<'PY' 2>>"$server_log"
import sys, boto3
kms = boto3.client("kms", endpoint_url=sys.argv[1])
for n in (1, 2):
    # The ARN, as AWS reports it in x-amz-server-side-encryption-aws-kms-key-id (the suite compares the two).
    print(kms.create_key(Description="ceph s3-tests key %d" % n)["KeyMetadata"]["Arn"])
PY
) || true
if ((${#kms_keys[@]} < 2)); then
    echo "ceph-s3-tests: could not create KMS keys (see $server_log); SSE-KMS tests will name keys that do not exist" >&2
    kms_keys=(testkey-1 testkey-2)
fi

conf="$out/s3tests-$selection.conf"
sed -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" -e "s|@SECRET@|$secret|g" \
    -e "s|@MAIN_ACCOUNT@|$main_acct|g" -e "s|@MAIN_CANONICAL@|$(canonical $main_acct)|g" \
    -e "s|@ALT_ACCOUNT@|$alt_acct|g" -e "s|@ALT_CANONICAL@|$(canonical $alt_acct)|g" \
    -e "s|@TENANT_ACCOUNT@|$tenant_acct|g" -e "s|@TENANT_CANONICAL@|$(canonical $tenant_acct)|g" \
    -e "s|@IAM_ROOT_ACCOUNT@|$iam_root_acct|g" -e "s|@IAM_ROOT_CANONICAL@|$(canonical $iam_root_acct)|g" \
    -e "s|@IAM_ALT_ROOT_ACCOUNT@|$iam_alt_root_acct|g" -e "s|@IAM_ALT_ROOT_CANONICAL@|$(canonical $iam_alt_root_acct)|g" \
    -e "s|@KMS_KEY_1@|${kms_keys[0]}|g" -e "s|@KMS_KEY_2@|${kms_keys[1]}|g" \
    "$here/ceph/s3tests.conf.in" > "$conf"

# --- Run -------------------------------------------------------------------------------------------
junit="$out/junit-$selection.xml"
log="$out/pytest-$selection.log"
rm -f "$junit"
echo "ceph-s3-tests: $selection against $endpoint ($(basename "$binary")); log: $log" >&2
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
set +e
(
    cd "$suite"
    env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_DEFAULT_REGION=us-east-1 \
        AWS_EC2_METADATA_DISABLED=true PYTHONDONTWRITEBYTECODE=1 S3TEST_CONF="$conf" PYTHONPATH="$here/ceph${PYTHONPATH:+:$PYTHONPATH}" \
        "$venv/bin/pytest" "${pytest_opts[@]}" --junitxml "$junit" "${sel_args[@]}" "${extra[@]}"
) >"$log" 2>&1
rc=$?
set -e
finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
tail -n 3 "$log" >&2

server_alive=1
kill -0 "$server_pid" 2>/dev/null || server_alive=0

if [[ ! -s "$junit" ]] || ((rc >= 2)); then
    echo "ceph-s3-tests: pytest exited $rc without a usable result (see $log)" >&2
    [[ -s "$junit" ]] || exit 4
    ((rc == 2)) || exit 4   # 2 = interrupted (e.g. a test aborted the session): summarise what ran
fi

failures_file=""
((record)) && failures_file="$here/ceph/last-failures-$selection.txt"
{
    echo "### Ceph s3-tests: \`$selection\`"
    echo
    echo "- command: \`scripts/ceph-s3-tests.sh <xrepl> $selection\` (pytest $(printf '%q ' "${sel_args[@]}"))"
    echo "- suite: ceph/s3-tests $(git -C "$suite" rev-parse --short HEAD 2>/dev/null || echo '(not a git checkout)')"
    echo "- xrepl binary: \`$binary\` ($("$binary" --version 2>/dev/null || echo 'version unknown'), built $(date -u -r "$binary" +%Y-%m-%dT%H:%MZ)); repository HEAD at run time: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- ran: $started → $finished, pytest exit $rc; per-test bucket prefix: $( ((isolation)) && echo on || echo off)"
    echo
    "$py" "$here/ceph/summarize.py" "$junit" "$selection" "$out" $failures_file
} > "$out/summary-$selection.full.md"
cat "$out/summary-$selection.full.md"

if ((server_alive == 0)); then
    echo "ceph-s3-tests: xrepl serve died during the run (log: $server_log)" >&2
    exit 5
fi
if ((rc >= 2)); then exit 4; fi
exit 0
