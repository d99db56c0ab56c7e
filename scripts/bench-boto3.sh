#!/usr/bin/env bash
# Benchmarks xrepl against ministack with the same boto3 client (the second table of docs/benchmarks.md;
# scripts/bench.sh measures with xrepl-bench, a Rust client) and prints markdown on stdout.
#
#   scripts/bench-boto3.sh                 # everything: install, build, measure, report
#   scripts/bench-boto3.sh > report.md
#
# Installs what it needs: a venv with boto3 and ministack (pinned) at $BENCH_VENV, hyperfine from
# Debian (apt-get, as root), and the release build of xrepl. Servers listen on 127.0.0.1 only; every
# loop is bounded (counts below, a 30 s deadline per wait in the Python client, `timeout` around each
# step) and the servers this script starts are stopped on exit, error or Ctrl-C.
#
# Knobs (environment): N_LATENCY=200 N_THROUGHPUT=500 THREADS=8 ROUNDS=3 STARTS=5 BENCH_PORT=4610
# MINISTACK_VERSION=1.5.33 BENCH_VENV=/var/tmp/xrepl-bench-venv CARGO_TARGET_DIR=/var/tmp/xrepl-target
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
BOTO3_VERSION="${BOTO3_VERSION:-1.43.106}"
N_LATENCY="${N_LATENCY:-200}"
N_THROUGHPUT="${N_THROUGHPUT:-500}"
THREADS="${THREADS:-8}"
ROUNDS="${ROUNDS:-3}"
PIDS=("$WORK/xrepl.pid" "$WORK/ministack.pid")

# Long steps run in the background and are waited for, so a signal reaches the trap at once
# (bash runs traps only between foreground commands) and the trap can stop the step.
CHILD=""
step() {
    "$@" &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=""
    return "$rc"
}

stop_servers() {
    if [[ -n "$CHILD" ]] && kill -0 "$CHILD" 2>/dev/null; then
        kill -TERM "$CHILD" 2>/dev/null || true   # the Python client stops its server on SIGTERM
        wait "$CHILD" 2>/dev/null || true
    fi
    # The Python client stops its server itself; this catches a client that was killed outright.
    # Only PIDs this run recorded are signalled (each server runs in its own process group).
    for f in "${PIDS[@]}"; do
        if [[ -s "$f" ]]; then
            pid="$(cat "$f")"
            if kill -0 "$pid" 2>/dev/null; then
                log "stopping leftover server pid $pid"
                kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
            fi
        fi
    done
}

# ---- install
ensure_hyperfine
ensure_venv "boto3==$BOTO3_VERSION" "ministack==$MINISTACK_VERSION"
log "building the release binary ($XREPL)"
step timeout 3600 cargo build --release -p xrepl-cli >&2
require_free_ports "$BENCH_PORT" "$((BENCH_PORT + 1))"

note_busy_before
PY="$BENCH_VENV/bin/python"
BENCH="$ROOT/bench/replication_bench.py"
COMMON=(--n-latency "$N_LATENCY" --n-throughput "$N_THROUGHPUT" --threads "$THREADS" --rounds "$ROUNDS" --starts "$STARTS" --log-dir "$WORK")

# ---- the same client against each emulator, one at a time
log "xrepl serve on 127.0.0.1:$BENCH_PORT"
step timeout 1200 "$PY" "$BENCH" run --emulator xrepl --xrepl-bin "$XREPL" --port "$BENCH_PORT" \
    --pid-file "${PIDS[0]}" --out "$WORK/xrepl.json" "${COMMON[@]}"
log "ministack $MINISTACK_VERSION on 127.0.0.1:$((BENCH_PORT + 1))"
step timeout 1200 "$PY" "$BENCH" run --emulator ministack --ministack-bin "$BENCH_VENV/bin/ministack" --port "$((BENCH_PORT + 1))" \
    --pid-file "${PIDS[1]}" --out "$WORK/ministack.json" "${COMMON[@]}"

# ---- the whole demo, no Python client: embedded emulator, guide spec, writes, drain, report
log "hyperfine: $XREPL demo"
step timeout 600 hyperfine --warmup 3 --style none --export-json "$WORK/hyperfine.json" "$XREPL demo" >&2
step timeout 120 /usr/bin/time -v -o "$WORK/time-v.txt" "$XREPL" demo >/dev/null 2>&1
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report
echo "## xrepl vs ministack — $(date -u +%Y-%m-%dT%H:%MZ)"
echo
machine_line
echo "Client: Python $("$PY" -c 'import platform; print(platform.python_version())'), boto3 $BOTO3_VERSION, path-style, 127.0.0.1."
echo "xrepl: $("$XREPL" --version) ($(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ', dirty tree')), release build; rustc $(rustc --version | cut -d' ' -f2)."
echo "N_LATENCY=$N_LATENCY N_THROUGHPUT=$N_THROUGHPUT THREADS=$THREADS ROUNDS=$ROUNDS STARTS=$STARTS"
echo
"$PY" "$BENCH" report "$WORK/xrepl.json" "$WORK/ministack.json" --hyperfine "$WORK/hyperfine.json" --time-v "$WORK/time-v.txt"
if [[ -n "${BENCH_KEEP:-}" ]]; then
    mkdir -p "$BENCH_KEEP" && cp "$WORK"/*.json "$WORK"/time-v.txt "$BENCH_KEEP"/ && log "raw results copied to $BENCH_KEEP"
fi
