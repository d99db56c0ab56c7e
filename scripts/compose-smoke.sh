#!/usr/bin/env bash
# Smoke test of docker-compose.yml: builds the image, brings the `xrepl` service up, waits for it
# to be healthy, drives it with the AWS CLI as two accounts, and tears it down. Any mismatch fails.
#
#   scripts/compose-smoke.sh
#
# Needs Docker, docker-compose (v1 or v2) and Python 3 (the AWS CLI is installed into
# /var/tmp/xrepl-awscli-venv when `aws` is not on PATH). Uses 127.0.0.1:4566.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ENDPOINT="http://127.0.0.1:4566"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-xrepl-smoke}"

fail() { echo "compose-smoke: FAIL: $*" >&2; exit 1; }
step() { echo "compose-smoke: $*"; }

if docker-compose version >/dev/null 2>&1; then COMPOSE=(docker-compose)
elif docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
else fail "neither docker-compose nor 'docker compose' is installed"; fi

if command -v aws >/dev/null 2>&1 && aws --version >/dev/null 2>&1; then AWS=(aws)
else
  VENV=/var/tmp/xrepl-awscli-venv
  if [[ ! -x "$VENV/bin/aws" ]]; then
    step "installing the AWS CLI into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet awscli
  fi
  AWS=("$VENV/bin/aws")
fi

scripts/build-image.sh

WORK="$(mktemp -d)"
cleanup() {
  local rc=$?
  if [[ $rc -ne 0 ]]; then "${COMPOSE[@]}" logs --no-color xrepl 2>/dev/null | tail -40 >&2 || true; fi
  "${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

start=$(date +%s.%N)
"${COMPOSE[@]}" up -d xrepl
CID="$("${COMPOSE[@]}" ps -q xrepl)"
[[ -n "$CID" ]] || fail "compose started no xrepl container"
status=""
for _ in $(seq 1 600); do
  status="$(docker inspect -f '{{.State.Health.Status}}' "$CID")"
  [[ "$status" == healthy ]] && break
  [[ "$(docker inspect -f '{{.State.Running}}' "$CID")" == true ]] || fail "container exited"
  sleep 0.1
done
[[ "$status" == healthy ]] || fail "not healthy after 60 s (status: $status)"
step "healthy after $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s (compose up to Docker health status)"

# Path-style addressing: virtual-hosted names cannot resolve to 127.0.0.1.
cat > "$WORK/config" <<CFG
[default]
region = us-east-1
s3 =
    addressing_style = path
CFG
export AWS_CONFIG_FILE="$WORK/config" AWS_SHARED_CREDENTIALS_FILE="$WORK/none" AWS_DEFAULT_REGION=us-east-1
as() { local account=$1; shift; AWS_ACCESS_KEY_ID="$account" AWS_SECRET_ACCESS_KEY=test "${AWS[@]}" --endpoint-url "$ENDPOINT" --output json "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

A=111111111111 B=222222222222
BA="xrepl-smoke-a-$$" BB="xrepl-smoke-b-$$"

step "creating s3://$BA as $A and s3://$BB as $B"
as $A s3api create-bucket --bucket "$BA" >/dev/null
as $B s3api create-bucket --bucket "$BB" >/dev/null
for pair in "$A:$BA" "$B:$BB"; do
  acct=${pair%%:*} bucket=${pair#*:}
  as "$acct" s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
  got="$(as "$acct" s3api get-bucket-versioning --bucket "$bucket" | json 'd.get("Status")')"
  [[ "$got" == Enabled ]] || fail "versioning of $bucket: expected Enabled, got $got"
done

# Each account sees only its own bucket, and the two have different canonical ids.
la="$(as $A s3api list-buckets)"; lb="$(as $B s3api list-buckets)"
[[ "$(echo "$la" | json '[b["Name"] for b in d["Buckets"]]')" == "['$BA']" ]] || fail "account $A lists $(echo "$la" | json '[b["Name"] for b in d["Buckets"]]')"
[[ "$(echo "$lb" | json '[b["Name"] for b in d["Buckets"]]')" == "['$BB']" ]] || fail "account $B lists $(echo "$lb" | json '[b["Name"] for b in d["Buckets"]]')"
oa="$(echo "$la" | json 'd["Owner"]["ID"]')"; ob="$(echo "$lb" | json 'd["Owner"]["ID"]')"
[[ ${#oa} -eq 64 && ${#ob} -eq 64 && "$oa" != "$ob" ]] || fail "canonical ids: A=$oa B=$ob (want two distinct 64-hex ids)"

step "put/get an object in s3://$BA"
head -c 4096 /dev/urandom > "$WORK/body"
put="$(as $A s3api put-object --bucket "$BA" --key smoke/object.bin --body "$WORK/body" --content-type application/x-smoke)"
vid="$(echo "$put" | json 'd.get("VersionId", "")')"
[[ -n "$vid" && "$vid" != null ]] || fail "PutObject on a versioned bucket returned no VersionId: $put"
get="$(as $A s3api get-object --bucket "$BA" --key smoke/object.bin "$WORK/out")"
cmp -s "$WORK/body" "$WORK/out" || fail "GetObject returned different bytes"
[[ "$(echo "$get" | json 'd["VersionId"]')" == "$vid" ]] || fail "GetObject version: expected $vid, got $(echo "$get" | json 'd["VersionId"]')"
[[ "$(echo "$get" | json 'd["ContentType"]')" == application/x-smoke ]] || fail "content type: $(echo "$get" | json 'd["ContentType"]')"

# Account B has no access to A's bucket (no bucket policy): AWS says AccessDenied.
if err="$(as $B s3api get-object --bucket "$BA" --key smoke/object.bin "$WORK/denied" 2>&1)"; then
  fail "account $B read account $A's object without a bucket policy"
fi
[[ "$err" == *AccessDenied* ]] || fail "cross-account read: expected AccessDenied, got: $err"

step "PASS: two accounts, versioning, put/get, cross-account denial"
