#!/usr/bin/env bash
# Drives a served xrepl emulator with clients no one here wrote — boto3 and the AWS CLI from
# PyPI — through bucket, versioning, object, policy, replication, IAM and STS calls, and fails on
# any mismatch with AWS's behaviour (clients/boto3_conformance.py, clients/awscli_conformance.py).
#
# Usage: scripts/clients-check.sh [path/to/xrepl]
#   The binary is the argument, else $XREPL_BIN, else ${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-gnu/debug/xrepl
#   (built first with `cargo build -p xrepl-cli` unless XREPL_NO_BUILD=1).
#   XREPL_CLIENTS_VENV overrides the venv (default /var/tmp/xrepl-clients-venv).
#   XREPL_CLIENTS_FILTER runs only the checks whose name contains it.
#
# Closes with one line "N passed, M failed" (read by CI); exits non-zero on any failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${XREPL_CLIENTS_VENV:-/var/tmp/xrepl-clients-venv}
# Versions these checks were written and run against (awscli 1.46.3 vendors its own botocore).
BOTO3_VERSION=1.44.8
AWSCLI_VERSION=1.46.3
FILTER=${XREPL_CLIENTS_FILTER:-}

PASSED=0
FAILED=0
SERVER_PID=""
LOG=$(mktemp -t xrepl-clients-serve.XXXXXX)

finish() {
    echo "${PASSED} passed, ${FAILED} failed"
    if [ "$FAILED" -gt 0 ]; then exit 1; fi
    exit 0
}

abort() {
    echo "clients-check: $*" >&2
    FAILED=$((FAILED + 1))
    finish
}

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -f "$LOG"
}
trap cleanup EXIT

# --- the Python clients --------------------------------------------------------------------------
PY="$VENV/bin/python"
if ! "$PY" -c "import boto3, awscli, sys; sys.exit(0 if (boto3.__version__, awscli.__version__) == ('$BOTO3_VERSION', '$AWSCLI_VERSION') else 1)" 2>/dev/null; then
    echo "clients-check: installing boto3==$BOTO3_VERSION awscli==$AWSCLI_VERSION into $VENV" >&2
    python3 -m venv "$VENV" || abort "cannot create the venv $VENV (python3 -m venv; on Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "boto3==$BOTO3_VERSION" "awscli==$AWSCLI_VERSION" >&2 \
        || abort "pip install boto3==$BOTO3_VERSION awscli==$AWSCLI_VERSION failed"
fi

# --- the emulator binary -------------------------------------------------------------------------
BIN=${1:-${XREPL_BIN:-}}
if [ -z "$BIN" ]; then
    TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
    case "$TARGET" in /*) ;; *) TARGET="$ROOT/$TARGET" ;; esac
    BIN="$TARGET/x86_64-unknown-linux-gnu/debug/xrepl"
    if [ "${XREPL_NO_BUILD:-0}" != 1 ]; then
        (cd "$ROOT" && cargo build --quiet -p xrepl-cli) >&2 || abort "cargo build -p xrepl-cli failed"
    fi
fi
[ -x "$BIN" ] || abort "no xrepl binary at $BIN"

# --- serve on a free port and wait for health ----------------------------------------------------
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ENDPOINT="http://127.0.0.1:$PORT"
"$BIN" serve --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
if ! "$PY" - "$ENDPOINT" <<'EOF'
import json, sys, time, urllib.request
deadline = time.time() + 30
while time.time() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1] + "/_xrepl/health", timeout=2) as r:
            if json.loads(r.read()).get("status") == "ok":
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
then
    cat "$LOG" >&2
    abort "xrepl serve did not become healthy at $ENDPOINT"
fi
echo "clients-check: $BIN serving at $ENDPOINT" >&2

# --- run each client suite and add up its closing line -------------------------------------------
run_suite() {
    local label=$1
    shift
    local out
    out=$(mktemp -t "xrepl-clients-$label.XXXXXX")
    XREPL_ENDPOINT="$ENDPOINT" AWS_CLI="$VENV/bin/aws" "$@" 2>&1 | tee "$out" >&2
    local line
    line=$(grep -E "^$label: [0-9]+ passed, [0-9]+ failed$" "$out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "clients-check: the $label suite ended without its result line" >&2
        FAILED=$((FAILED + 1))
    else
        local p f
        p=$(echo "$line" | sed -E 's/^[a-z0-9]+: ([0-9]+) passed, ([0-9]+) failed$/\1/')
        f=$(echo "$line" | sed -E 's/^[a-z0-9]+: ([0-9]+) passed, ([0-9]+) failed$/\2/')
        PASSED=$((PASSED + p))
        FAILED=$((FAILED + f))
    fi
    rm -f "$out"
}

run_suite boto3 "$PY" "$ROOT/clients/boto3_conformance.py" "$FILTER"
run_suite awscli "$PY" "$ROOT/clients/awscli_conformance.py" "$FILTER"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "clients-check: the emulator exited during the run:" >&2
    cat "$LOG" >&2
    FAILED=$((FAILED + 1))
elif [ "$FAILED" -gt 0 ]; then
    echo "clients-check: emulator log (last 40 lines):" >&2
    tail -n 40 "$LOG" >&2
fi
finish
