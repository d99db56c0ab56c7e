#!/usr/bin/env bash
# Benchmarks xrepl against ministack (and LocalStack / fakecloud for start time and memory) with one
# Rust client, xrepl-bench, in one run on one machine, and prints docs/benchmarks.md's tables (markdown
# on stdout, progress on stderr). The boto3 tables come from scripts/bench-boto3.sh.
#
#   scripts/bench.sh > report.md
#   LOCALSTACK=0 scripts/bench.sh            # skip LocalStack (its start takes seconds)
#   FAKECLOUD_BIN=/path/to/fakecloud [FAKECLOUD_ARGS="--port 4610"] scripts/bench.sh
#
# Installs what it needs: ministack (pinned) in a venv at $BENCH_VENV, LocalStack through
# scripts/install-localstack.sh, hyperfine from Debian, and the release builds of xrepl and xrepl-bench.
# Servers listen on 127.0.0.1 only and run one at a time; every wait is bounded, each step runs under
# `timeout`, and the servers this script started are stopped on exit, error or Ctrl-C.
#
# Knobs (environment): OBJECTS=2000 SIZE=1024 CONCURRENCY=16 N_LATENCY=300 STARTS=5 BENCH_PORT=4610
# LIST_KEYS=1000000 BIG_MIB=256 (xrepl only: listing a big bucket, memory per object, one big object)
# MINISTACK_VERSION=1.5.33 BENCH_VENV=/var/tmp/xrepl-bench-venv CARGO_TARGET_DIR=/var/tmp/xrepl-target
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
OBJECTS="${OBJECTS:-2000}"
SIZE="${SIZE:-1024}"
CONCURRENCY="${CONCURRENCY:-16}"
N_LATENCY="${N_LATENCY:-300}"
LOCALSTACK="${LOCALSTACK:-1}"
LIST_KEYS="${LIST_KEYS:-1000000}"
BIG_MIB="${BIG_MIB:-256}"
CLIENT="$RELEASE/xrepl-bench"
ENDPOINT="http://127.0.0.1:$BENCH_PORT"
SERVER_PID=""

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
        kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
stop_servers() { stop_server; }

# ---- install
ensure_hyperfine
ensure_venv "ministack==$MINISTACK_VERSION"
if [[ "$LOCALSTACK" == 1 ]]; then
    timeout 1800 scripts/install-localstack.sh >&2
fi
log "building xrepl and xrepl-bench (release)"
timeout 3600 cargo build --release -p xrepl-cli -p xrepl-bench >&2
require_free_ports "$BENCH_PORT"

# ---- helpers
# Starts "$@" in its own session with the env in SERVER_ENV, waits for $HEALTH to answer 200 (a
# Python poller, every 1 ms, 120 s at most: spawning curl per poll would add its own start time) and
# prints the milliseconds from spawn to healthy. The server outlives the poller; SERVER_PID is its pid.
start_server() {
    local pid_file="$WORK/server.pid"
    local rc=0
    rm -f "$pid_file"
    env "${SERVER_ENV[@]}" python3 - "$HEALTH" "$pid_file" "$WORK/server.log" "$@" <<'PY' || rc=$?
import http.client, subprocess, sys, time, urllib.parse
health, pid_file, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
url = urllib.parse.urlsplit(health)
t0 = time.perf_counter()
proc = subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
open(pid_file, "w").write(str(proc.pid))
while time.perf_counter() - t0 < 120:
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=1)
        conn.request("GET", url.path)
        if conn.getresponse().status == 200:
            print(int((time.perf_counter() - t0) * 1e6))
            sys.exit(0)
    except OSError:
        pass
    if proc.poll() is not None:
        sys.exit(f"server exited during start: {open(log).read()[-2000:]}")
    time.sleep(0.001)
sys.exit("server not healthy after 120 s")
PY
    [[ -s "$pid_file" ]] && SERVER_PID="$(cat "$pid_file")"
    return "$rc"
}
# Resident memory (KiB) of the server's process group: every process of a Python server counts.
rss_kib() {
    ps -o rss= -g "$SERVER_PID" 2>/dev/null | awk '{s += $1} END {print s + 0}'
}
# CPU time (clock ticks, user + system) of the server's process group so far.
cpu_ticks() {
    local total=0 pid
    for pid in $(ps -o pid= -g "$SERVER_PID" 2>/dev/null); do
        [[ -r "/proc/$pid/stat" ]] || continue
        total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
    done
    echo "$total"
}
# measure NAME FULL: start → healthy over $STARTS cold starts and idle RSS; with FULL=1 also the
# xrepl-bench runs (throughput, then latency) and server CPU per object. Writes $WORK/NAME.*.
measure() {
    local name="$1" full="$2" i
    shift 2
    : >"$WORK/$name.starts"
    for i in $(seq 1 "$STARTS"); do
        start_server "$@" >>"$WORK/$name.starts"
        [[ "$i" == "$STARTS" ]] || stop_server
    done
    sleep 1
    rss_kib >"$WORK/$name.idle_rss"
    if [[ "$full" == 1 ]]; then
        local before after hz
        hz="$(getconf CLK_TCK)"
        before="$(cpu_ticks)"
        log "$name: $OBJECTS objects of $SIZE B from $CONCURRENCY tasks"
        timeout 900 "$CLIENT" --endpoint "$ENDPOINT" --objects "$OBJECTS" --size "$SIZE" --concurrency "$CONCURRENCY" \
            --run-id "c$CONCURRENCY" --json >"$WORK/$name.throughput.json"
        after="$(cpu_ticks)"
        # xrepl only: how often the world lock made a request wait during the run.
        [[ "$name" != xrepl ]] || curl -fs -H 'x-xrepl-admin: 1' "$ENDPOINT/_xrepl/stats" >"$WORK/xrepl.lock.json" || true
        # Setup and warm-up are included (about 30 requests against $OBJECTS objects).
        echo "$after $before $hz $OBJECTS" | awk '{printf "%.4f\n", ($1 - $2) * 1000 / $3 / ($4 + 20)}' >"$WORK/$name.cpu_ms"
        log "$name: $N_LATENCY objects from 1 task"
        timeout 900 "$CLIENT" --endpoint "$ENDPOINT" --objects "$N_LATENCY" --size "$SIZE" --concurrency 1 \
            --run-id c1 --json >"$WORK/$name.latency.json"
        rss_kib >"$WORK/$name.end_rss"
    fi
    stop_server
}

note_busy_before

log "xrepl serve on $ENDPOINT"
SERVER_ENV=(RUST_LOG=warn) HEALTH="$ENDPOINT/_xrepl/health"
measure xrepl 1 "$XREPL" serve --host 127.0.0.1 --port "$BENCH_PORT"
log "ministack $MINISTACK_VERSION on $ENDPOINT"
SERVER_ENV=(GATEWAY_PORT="$BENCH_PORT" BIND_HOST=127.0.0.1 LOG_LEVEL=WARNING) HEALTH="$ENDPOINT/_ministack/health"
measure ministack 1 "$BENCH_VENV/bin/ministack"
OTHERS=()
if [[ "$LOCALSTACK" == 1 ]]; then
    log "LocalStack 4.13.1 on $ENDPOINT (start and idle memory only: it refuses the cross-account rule)"
    SERVER_ENV=(GATEWAY_LISTEN="127.0.0.1:$BENCH_PORT" GATEWAY_SERVER=hypercorn SERVICES=s3,iam,sts DNS_ADDRESS=0
        SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1) HEALTH="$ENDPOINT/_localstack/health"
    measure localstack 0 "${XREPL_LOCALSTACK_VENV:-/var/tmp/xrepl-localstack-venv}/bin/python" -m localstack.runtime.main
    OTHERS+=(localstack)
fi
if [[ -n "${FAKECLOUD_BIN:-}" ]]; then
    log "fakecloud ($FAKECLOUD_BIN) on $ENDPOINT"
    # Its command line is configurable: FAKECLOUD_ARGS must make it listen on 127.0.0.1:$BENCH_PORT.
    read -r -a fakecloud_args <<<"${FAKECLOUD_ARGS:---port $BENCH_PORT}"
    SERVER_ENV=(RUST_LOG=warn) HEALTH="$ENDPOINT/_fakecloud/health"
    measure fakecloud 1 "$FAKECLOUD_BIN" "${fakecloud_args[@]}"
    OTHERS+=(fakecloud)
fi

# ---- xrepl only: a big bucket (listing, memory per stored object) and one big object (peak RSS)
SERVER_ENV=(RUST_LOG=warn) HEALTH="$ENDPOINT/_xrepl/health"
log "xrepl: $LIST_KEYS keys, then 1,000-key pages across them"
start_server "$XREPL" serve --host 127.0.0.1 --port "$BENCH_PORT" >/dev/null
rss_kib >"$WORK/big.rss_before"
timeout 1800 "$CLIENT" --endpoint "$ENDPOINT" --list-keys "$LIST_KEYS" --concurrency "$CONCURRENCY" --run-id list >"$WORK/xrepl.listing.json"
rss_kib >"$WORK/big.rss_after"
stop_server
log "xrepl: one $BIG_MIB MiB object, replicated"
start_server "$XREPL" serve --host 127.0.0.1 --port "$BENCH_PORT" >/dev/null
timeout 600 "$CLIENT" --endpoint "$ENDPOINT" --objects 1 --warmup 0 --size "$((BIG_MIB * 1024 * 1024))" --concurrency 1 \
    --run-id big --json >"$WORK/xrepl.bigobject.json"
awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" >"$WORK/big.hwm"
stop_server

log "hyperfine: $XREPL demo"
timeout 600 hyperfine -N --warmup 3 --style none --export-json "$WORK/demo.json" "$XREPL demo" >&2
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report
echo "## xrepl-bench: xrepl vs ministack — $(date -u +%Y-%m-%dT%H:%MZ)"
echo
machine_line
echo "xrepl $("$XREPL" --version | cut -d' ' -f2) at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)'), release build, rustc $(rustc --version | cut -d' ' -f2); ministack $MINISTACK_VERSION."
echo "Client: xrepl-bench (aws-sdk-s3, release), OBJECTS=$OBJECTS SIZE=$SIZE CONCURRENCY=$CONCURRENCY N_LATENCY=$N_LATENCY STARTS=$STARTS."
echo
python3 - "$WORK" "${OTHERS[@]}" <<'PY'
import json, statistics, sys
work, others = sys.argv[1], sys.argv[2:]
def read(name, what):
    try:
        with open(f"{work}/{name}.{what}") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None
def starts(name):
    values = [int(x) / 1000 for x in read(name, "starts").split()]
    return statistics.median(values), min(values), max(values)
def mib(name, what):
    v = read(name, what)
    return int(v) / 1024 if v else None
def run(name, what):
    v = read(name, f"{what}.json")
    return json.loads(v) if v else None
names = ["xrepl", "ministack"]
x, m = run("xrepl", "throughput"), run("ministack", "throughput")
xl, ml = run("xrepl", "latency"), run("ministack", "latency")
rows = [
    ("replicated objects/s, concurrency 16 (higher is better)", x["replicated_per_s"], m["replicated_per_s"], True),
    ("  PUT → replica visible p50, ms", x["visible_p50_ms"], m["visible_p50_ms"], False),
    ("  PUT → replica visible p95, ms", x["visible_p95_ms"], m["visible_p95_ms"], False),
    ("  PutObject p50, ms", x["put_p50_ms"], m["put_p50_ms"], False),
    ("  HEADs that found no replica yet", x["head_misses"], m["head_misses"], None),
    ("PUT → replica visible p50, concurrency 1, ms", xl["visible_p50_ms"], ml["visible_p50_ms"], False),
    ("  p95, ms", xl["visible_p95_ms"], ml["visible_p95_ms"], False),
    ("  PutObject p50, ms", xl["put_p50_ms"], ml["put_p50_ms"], False),
    ("  replicated objects/s, concurrency 1", xl["replicated_per_s"], ml["replicated_per_s"], True),
    ("server CPU per object (PUT + replication + HEADs), ms", float(read("xrepl", "cpu_ms")), float(read("ministack", "cpu_ms")), False),
    ("guide setup (8 SDK calls), ms", x["setup_ms"], m["setup_ms"], False),
    ("start → healthy, median ms", starts("xrepl")[0], starts("ministack")[0], False),
    ("idle RSS, MiB", mib("xrepl", "idle_rss"), mib("ministack", "idle_rss"), False),
    ("RSS after both runs, MiB", mib("xrepl", "end_rss"), mib("ministack", "end_rss"), False),
]
print("| measure | xrepl | ministack | xrepl's lead |")
print("| --- | --- | --- | --- |")
for label, a, b, higher in rows:
    if higher is None or not a or not b:
        lead = ""
    else:
        lead = f"{(a / b if higher else b / a):.1f}×"
    fa = f"{a:.3f}".rstrip("0").rstrip(".") if isinstance(a, float) else a
    fb = f"{b:.3f}".rstrip("0").rstrip(".") if isinstance(b, float) else b
    print(f"| {label} | {fa} | {fb} | {lead} |")
print(f"| errors | {x['errors'] + xl['errors']} | {m['errors'] + ml['errors']} | |")
lock = read("xrepl", "lock.json")
if lock:
    w = json.loads(lock)["world_lock"]
    share = 100 * w["contended"] / max(w["acquisitions"], 1)
    print(f"\nxrepl's world lock over start, setup and the concurrency-16 run: {w['acquisitions']} acquisitions, {w['contended']} had to wait ({share:.2f} %).")
for name in others:
    med, lo, hi = starts(name)
    print(f"\n{name}: start → healthy median {med:.1f} ms ({lo:.1f}–{hi:.1f}), idle RSS {mib(name, 'idle_rss'):.1f} MiB.")
    t = run(name, "throughput")
    if t:
        print(f"{name}: {t['replicated_per_s']} replicated objects/s at concurrency {t['concurrency']}, CPU {read(name, 'cpu_ms')} ms/object.")
listing = run("xrepl", "listing")
if listing:
    before, after = int(read("big", "rss_before")), int(read("big", "rss_after"))
    per = (after - before) * 1024 / listing["keys"]
    print(f"\nxrepl, one bucket of {listing['keys']:,} one-byte objects (filled at {listing['fill_per_s']:.0f} PUTs/s): a 1,000-key ListObjectsV2 page "
          f"p50 {listing['list_p50_ms']} ms, slowest of {listing['list_pages']} {listing['list_max_ms']} ms; RSS {before / 1024:.1f} → {after / 1024:.1f} MiB, "
          f"{per:.0f} B ({per / 1024:.2f} KiB) per stored object.")
big = read("big", "hwm")
if big:
    mib = int(big) / 1024
    size = run("xrepl", "bigobject")["size"] / 1048576
    print(f"\nxrepl, one {size:.0f} MiB object put and replicated: peak RSS {mib:.1f} MiB = {mib / size:.2f}× the object.")
d = json.loads(open(f"{work}/demo.json").read())["results"][0]
print(f"\n`xrepl demo` (hyperfine -N, {len(d['times'])} runs): median {d['median'] * 1000:.1f} ms, mean {d['mean'] * 1000:.1f} ± {d['stddev'] * 1000:.1f} ms.")
PY
