#!/usr/bin/env bash
# Measures what xrepl-harness costs a user's crate to build: the cold `cargo test --no-run` of
# examples/adopter (CPU user+sys, wall, crates compiled), then the incremental rebuild after editing
# one test. The crate is copied outside this repository (so this repo's .cargo/config.toml does not
# apply, as in a user's repository) and built in a fresh target directory.
#
#   scripts/adopter-build-bench.sh                       # this checkout's harness
#   HARNESS=/path/to/other/checkout/crates/harness scripts/adopter-build-bench.sh
#   CRATE=/path/to/a/crate scripts/adopter-build-bench.sh   # another crate (its path dependency rewritten)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
crate="${CRATE:-$root/examples/adopter}"
harness="${HARNESS:-$root/crates/harness}"
work="$(mktemp -d /var/tmp/xrepl-adopter-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cp -r "$crate" "$work/crate"
rm -rf "$work/crate/target"
sed -i "s|xrepl-harness = { path = \"[^\"]*\"|xrepl-harness = { path = \"$harness\"|" "$work/crate/Cargo.toml"
cd "$work/crate"
export CARGO_TARGET_DIR="$work/target"
cargo fetch -q   # downloads are not build time
if ! /usr/bin/time -f '%U %S %e' -o "$work/cold" cargo test --no-run 2> "$work/cold.log" >/dev/null; then
  tail -n 30 "$work/cold.log" >&2
  exit 1
fi
read -r user sys wall < "$work/cold"
crates=$(grep -c '^ *Compiling ' "$work/cold.log" || true)
test_file=$(ls tests/*.rs | head -n 1)
printf '\n// edited for the incremental measurement\n' >> "$test_file"
if ! /usr/bin/time -f '%U %S %e' -o "$work/incr" cargo test --no-run 2> "$work/incr.log" >/dev/null; then
  tail -n 30 "$work/incr.log" >&2
  exit 1
fi
read -r iuser isys iwall < "$work/incr"
printf '| cold `cargo test --no-run` | %s crates | CPU %.0f s (user %.0f + sys %.0f) | wall %.0f s |\n' "$crates" "$(echo "$user + $sys" | bc)" "$user" "$sys" "$wall"
printf '| after editing %s | | CPU %.1f s | wall %.1f s |\n' "$test_file" "$(echo "$iuser + $isys" | bc)" "$iwall"
