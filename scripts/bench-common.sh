# Sourced by scripts/bench.sh and scripts/bench-boto3.sh, not run: what both do around their
# measurements. Sets ROOT (and cds there), CARGO_TARGET_DIR, BENCH_VENV, MINISTACK_VERSION, STARTS,
# BENCH_PORT, RELEASE, XREPL and WORK (a temporary directory); defines the helpers below; traps
# EXIT, INT and TERM so that on any exit the script's stop_servers runs, then WORK is removed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/xrepl-target}"
BENCH_VENV="${BENCH_VENV:-/var/tmp/xrepl-bench-venv}"
MINISTACK_VERSION="${MINISTACK_VERSION:-1.5.33}"
STARTS="${STARTS:-5}"
BENCH_PORT="${BENCH_PORT:-4610}"
RELEASE="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release"
XREPL="$RELEASE/xrepl"

WORK="$(mktemp -d /tmp/xrepl-bench.XXXXXX)"

log() { printf '[bench] %s\n' "$*" >&2; }

# Each script redefines this to stop the servers it started (this one is for an exit before then).
stop_servers() { :; }
bench_cleanup() {
    local status=$?
    stop_servers
    rm -rf "$WORK"
    exit "$status"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Exits when one of the ports is taken (another server would answer the benchmark).
require_free_ports() {
    local p
    for p in "$@"; do
        port_free "$p" || { log "port $p is in use; set BENCH_PORT"; exit 2; }
    done
}

ensure_hyperfine() {
    if ! command -v hyperfine >/dev/null; then
        log "installing hyperfine (Debian)"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2
    fi
}

# ensure_venv NAME==VERSION...: $BENCH_VENV with ministack and exactly these pinned packages;
# created (and they installed) when one is missing or at another version.
ensure_venv() {
    local check="import importlib.metadata as m, sys; sys.exit(any(m.version(n) != v for n, v in (a.split('==') for a in sys.argv[1:])))"
    if [[ ! -x "$BENCH_VENV/bin/ministack" ]] || ! "$BENCH_VENV/bin/python" -c "$check" "$@" 2>/dev/null; then
        local what
        printf -v what '%s, ' "${@/==/ }"
        log "creating $BENCH_VENV (${what%, })"
        python3 -m venv "$BENCH_VENV"
        "$BENCH_VENV/bin/pip" install -q "$@" >&2
    fi
}

# How busy the machine is without us: CPU time not idle over 3 s (other builds skew every number).
cpu_busy() {
    local a b
    read -r -a a < <(grep '^cpu ' /proc/stat); sleep 3; read -r -a b < <(grep '^cpu ' /proc/stat)
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
# Sets BUSY_BEFORE and LOAD_BEFORE for machine_line, warning when other work is running.
note_busy_before() {
    BUSY_BEFORE="$(cpu_busy)"
    LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
    (( BUSY_BEFORE <= 10 )) || log "warning: the CPUs were ${BUSY_BEFORE}% busy before the run; other work will skew the numbers"
}

# The report's line on the machine and its load; the script sets LOAD_AFTER once it has measured.
machine_line() {
    local cpu mem
    cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    mem="$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "Machine: $(nproc) cores, $cpu, $mem; $(uname -sr); CPU busy in the 3 s before the run: ${BUSY_BEFORE}%; load average before/after: $LOAD_BEFORE / $LOAD_AFTER."
}
