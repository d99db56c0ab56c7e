#!/usr/bin/env bash
# Run LocalStack's S3 tests whose responses were recorded from real AWS (`@markers.aws.validated`, the
# `*.snapshot.json` files) against `xrepl serve`, unchanged, and report per module what passed.
#
#   scripts/localstack-recorded.sh [options] XREPL_BINARY [MODULE ...]
#
#   XREPL_BINARY   the xrepl executable, e.g. target/debug/xrepl (or $XREPL_BIN)
#   MODULE         test modules of tests/aws/services/s3 without `.py`
#                  (default: test_s3_api test_s3_list_operations test_s3_preconditions test_s3_cors)
#
# Options:
#   --suite DIR           the pinned suite: LocalStack's tests at tag v4.14.0 with its `runner/` folder (run.sh,
#                         setup.sh, summarize.py, lsrecorded_plugin.py) (default: $LOCALSTACK_TESTS)
#   --out DIR             where results go (default: target/localstack-recorded)
#   --timeout SEC         per-test timeout (pytest-timeout; default: 240)
#   --module-timeout SEC  bound for one module, server start included (default: 2400)
#   --no-record           do not update scripts/localstack/last-failures-<module>.txt
#   --check               compare with scripts/localstack/last-failures-<module>.txt instead of updating it:
#                         exit 5 when a test that is not listed there (one that passed) fails now (what CI runs)
#   -- ARGS...            further arguments for pytest (e.g. -k test_put_object)
#
# The suite's Python 3.13 environment (localstack-core 4.14.0 and the suite's pins, from PyPI, as the runner's
# setup.sh makes it) lives in ${XDG_CACHE_HOME:-$HOME/.cache}/xrepl/localstack-venv: created on first use,
# reused afterwards. Python 3.13 is $PYTHON313, else `python3.13` on PATH, else pyenv's 3.13.
#
# Each module gets a fresh `xrepl serve --host 127.0.0.1 --port P` (its default accounts 111111111111 and
# 222222222222, secret `test`, as the runner's `run.sh xrepl` starts it), then the runner's `run.sh` runs the
# module against it in the suite's "against AWS" mode (TEST_TARGET=AWS_CLOUD, `-m aws_validated`, URL helpers
# pointed at the endpoint). The server is stopped after the module, and on exit.
#
# Output (--out): raw/xrepl-<module>.{jsonl,pytest.log,server.log} (one JSON line per test, with the snapshot
# differences), figures.md (per-module passed/failed), failures-<module>.txt (failing tests, their group and
# detail), summary.txt (the runner's summarize.py: groups, most frequent differing fields, greedy fix order).
#
# Exit status: 0 when the modules ran (whatever the tests' results: this is a measurement), 2 for bad
# arguments or a missing suite, 3 when a server does not start, 4 when pytest collected nothing for a module,
# 5 with --check when a test that passed fails, 6 when the recorded snapshots changed during the run (they must never
# be rewritten).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

suite="${LOCALSTACK_TESTS:-}"
out="$repo/target/localstack-recorded"
timeout_s=240
module_timeout=2400
record=1
check=0
binary="${XREPL_BIN:-}"
modules=()
extra=()

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "localstack-recorded: $*" >&2; exit "${2:-2}"; }

positional=()
while (($#)); do
    case "$1" in
        --suite) suite="${2:?--suite needs a directory}"; shift 2 ;;
        --out) out="${2:?--out needs a directory}"; shift 2 ;;
        --timeout) timeout_s="${2:?--timeout needs seconds}"; shift 2 ;;
        --module-timeout) module_timeout="${2:?--module-timeout needs seconds}"; shift 2 ;;
        --no-record) record=0; shift ;;
        --check) check=1; record=0; shift ;;
        -h|--help) usage ;;
        --) shift; extra=("$@"); break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) positional+=("$1"); shift ;;
    esac
done
if ((${#positional[@]} == 0)); then usage; fi
if [[ -z "$binary" || -x "${positional[0]}" || "${positional[0]}" == */* ]]; then
    binary="${positional[0]}"; positional=("${positional[@]:1}")
fi
modules=("${positional[@]}")
((${#modules[@]})) || modules=(test_s3_api test_s3_list_operations test_s3_preconditions test_s3_cors)

[[ -n "$binary" ]] || die "no xrepl binary given (argument or \$XREPL_BIN)"
[[ -x "$binary" ]] || die "xrepl binary not found or not executable: $binary"
[[ -n "$suite" ]] || die "where is the suite? Pass --suite DIR or set LOCALSTACK_TESTS"
[[ -f "$suite/runner/run.sh" && -f "$suite/runner/summarize.py" && -d "$suite/tests/aws/services/s3" ]] \
    || die "$suite does not look like the pinned LocalStack suite (no runner/run.sh, runner/summarize.py or tests/aws/services/s3)"
suite="$(cd "$suite" && pwd)"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
for m in "${modules[@]}"; do
    [[ "$m" =~ ^test_[A-Za-z0-9_]+$ && -f "$suite/tests/aws/services/s3/$m.py" ]] \
        || die "no module $m in $suite/tests/aws/services/s3"
done

mkdir -p "$out/raw"
out="$(cd "$out" && pwd)"

# --- Python environment (what runner/setup.sh makes) ------------------------------------------------
venv="${XDG_CACHE_HOME:-$HOME/.cache}/xrepl/localstack-venv"
stamp="$venv/.setup.sha256"
want="$(cat "$suite/runner/setup.sh" "$suite/requirements-runtime.txt" | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]] \
    || ! "$venv/bin/python" -c 'import localstack.testing, pytest_timeout' 2>/dev/null; then
    # The first candidate that runs as 3.13: a pyenv shim for python3.13 exists even when pyenv's
    # selected version is another one, and then it fails.
    is_313() { [[ -n "$1" && -x "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; }
    py313=""
    for cand in "${PYTHON313:-}" "$(command -v python3.13 || true)" \
        "$(command -v pyenv >/dev/null 2>&1 && v="$(pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.|$)' | sort -V | tail -n1)" && [[ -n "$v" ]] && echo "$(pyenv root)/versions/$v/bin/python" || true)" \
        "$(ls -d "$HOME"/.pyenv/versions/3.13*/bin/python 2>/dev/null | sort -V | tail -n1 || true)"; do
        if is_313 "$cand"; then py313="$cand"; break; fi
    done
    [[ -n "$py313" && -x "$py313" ]] || die "Python 3.13 not found (set PYTHON313; the suite's fixtures need 3.13)"
    echo "localstack-recorded: preparing $venv with $py313 (PyPI: localstack-core 4.14.0 and the suite's pins)" >&2
    VENV="$venv" PYTHON313="$py313" bash "$suite/runner/setup.sh" >&2 || die "the suite's runner/setup.sh failed"
    echo "$want" > "$stamp"
fi

# --- Run, one fresh server per module ---------------------------------------------------------------
host=127.0.0.1
server_pid=""
stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap stop_server EXIT INT TERM

started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
for mod in "${modules[@]}"; do
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    endpoint="http://$host:$port"
    server_log="$out/raw/xrepl-$mod.server.log"
    "$binary" serve --host "$host" --port "$port" >"$server_log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 120); do
        kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; die "xrepl serve exited at start (log: $server_log)" 3; }
        if curl -s -o /dev/null "$endpoint/"; then break; fi
        sleep 0.5
    done
    curl -s -o /dev/null "$endpoint/" || die "xrepl serve did not answer on $endpoint within 60 s (log: $server_log)" 3
    echo "localstack-recorded: $mod against $endpoint" >&2
    t0=$(date +%s)
    set +e
    # run.sh's `endpoint` target runs pytest exactly as its `xrepl` target does, against the server started here
    env -u AWS_PROFILE -u AWS_SESSION_TOKEN OUT="$out/raw" VENV="$venv" PORT="$port" PATCH_URLS=1 \
        AWS_ENDPOINT_URL_OVERRIDE="$endpoint" TEST_TIMEOUT="$timeout_s" PYTEST_ARGS="${extra[*]:-}" \
        timeout --kill-after=30 "$module_timeout" bash "$suite/runner/run.sh" endpoint "$mod" >&2
    rc=$?
    set -e
    alive=1; kill -0 "$server_pid" 2>/dev/null || alive=0
    stop_server
    for ext in jsonl pytest.log; do
        [[ -f "$out/raw/endpoint-$mod.$ext" ]] && mv -f "$out/raw/endpoint-$mod.$ext" "$out/raw/xrepl-$mod.$ext"
    done
    echo "$mod seconds=$(($(date +%s) - t0)) exit=$rc server_alive=$alive" >> "$out/raw/runs.txt"
    ((rc == 124 || rc == 137)) && echo "localstack-recorded: $mod stopped after $module_timeout s" >&2
    ((alive)) || echo "localstack-recorded: xrepl serve died during $mod (log: $server_log)" >&2
    [[ -s "$out/raw/xrepl-$mod.jsonl" ]] || { tail -n 20 "$out/raw/xrepl-$mod.pytest.log" >&2; die "no test results for $mod" 4; }
done
finished="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# run.sh checks the recorded snapshots' md5 after each module; a changed snapshot invalidates the oracle
( cd "$suite/tests/aws/services/s3" && md5sum --quiet -c "$out/raw/snapshots.md5" ) >/dev/null 2>&1 \
    || die "the recorded snapshots changed during the run: restore the suite" 6

# --- Figures ----------------------------------------------------------------------------------------
failures_dir=""
((record)) && failures_dir="$here/localstack"
{
    echo "### LocalStack's AWS-recorded suite: $(printf '%s ' "${modules[@]}")"
    echo
    echo "- command: \`scripts/localstack-recorded.sh --suite <suite> <xrepl> ${modules[*]}\`${extra:+ (pytest ${extra[*]})}"
    echo "- xrepl binary: \`$binary\` ($("$binary" --version 2>/dev/null || echo 'version unknown'), built $(date -u -r "$binary" +%Y-%m-%dT%H:%MZ)); repository HEAD at run time: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- ran: $started → $finished"
    echo
    python3 "$here/localstack/figures.py" --runner "$suite/runner" --out "$out" ${failures_dir:+--record "$failures_dir"} "${modules[@]}"
} > "$out/figures.md"
python3 "$suite/runner/summarize.py" "$out/raw" --target xrepl --json "$out/summary.json" --top 40 > "$out/summary.txt"
cat "$out/figures.md"
echo "localstack-recorded: details in $out/summary.txt and $out/failures-<module>.txt" >&2

# --- Check: every test that passed before still passes ----------------------------------------------
if ((check)); then
    regressed=0
    for mod in "${modules[@]}"; do
        baseline="$here/localstack/last-failures-$mod.txt"
        [[ -f "$baseline" ]] || die "no baseline $baseline to check $mod against"
        now_failing="$(cut -f1 "$out/failures-$mod.txt" 2>/dev/null | sort -u)"
        new="$(comm -23 <(printf '%s\n' "$now_failing" | sed '/^$/d') <(cut -f1 "$baseline" | sort -u))"
        if [[ -n "$new" ]]; then
            regressed=1
            echo "localstack-recorded: $mod: tests that passed now fail:" >&2
            printf '%s\n' "$new" | while read -r name; do grep -F "$name" "$out/failures-$mod.txt" | head -n1 >&2; done
        fi
    done
    ((regressed)) && exit 5
    echo "localstack-recorded: no test that passed fails (baseline: scripts/localstack/last-failures-<module>.txt)" >&2
fi
exit 0
