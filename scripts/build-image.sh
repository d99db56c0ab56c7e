#!/usr/bin/env bash
# Builds the static release `xrepl` binary and the FROM-scratch image xrepl-emulator:local.
# Idempotent and quick when nothing changed (cargo is a no-op, Docker reuses its layer cache).
#
#   scripts/build-image.sh                 # image xrepl-emulator:local
#   XREPL_IMAGE=name:tag scripts/build-image.sh
#
# Honours CARGO_TARGET_DIR: the binary is copied (stripped) to target/docker/xrepl inside the
# repo, because Docker can only COPY from its build context.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${XREPL_IMAGE:-xrepl-emulator:local}"
TRIPLE="x86_64-unknown-linux-gnu"
cd "$ROOT"

case "$(uname -m)" in
  x86_64) ;;
  *) echo "build-image: only x86_64 Linux hosts are supported (static glibc build for $TRIPLE)" >&2; exit 1 ;;
esac

echo "build-image: cargo build-static (release, crt-static, --target $TRIPLE)"
cargo build-static

TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET_DIR/$TRIPLE/release/xrepl"
[[ -x "$BIN" ]] || { echo "build-image: $BIN was not built" >&2; exit 1; }

# A FROM-scratch image has no dynamic loader: refuse a dynamically linked binary up front.
if command -v file >/dev/null 2>&1; then
  if ! file -L "$BIN" | grep -Eq 'static(-pie)? linked|statically linked'; then
    echo "build-image: $BIN is not statically linked: $(file -L "$BIN")" >&2; exit 1
  fi
elif ldd "$BIN" >/dev/null 2>&1 && ! ldd "$BIN" 2>&1 | grep -q 'statically linked'; then
  echo "build-image: $BIN is dynamically linked" >&2; exit 1
fi

# Stage a stripped copy inside the build context; rewrite it only when the binary changed so
# Docker's COPY cache stays warm.
STAGE="target/docker/xrepl"
mkdir -p "$(dirname "$STAGE")"
TMP="$STAGE.tmp"
if command -v strip >/dev/null 2>&1; then strip -o "$TMP" "$BIN"; else cp "$BIN" "$TMP"; fi
if [[ -f "$STAGE" ]] && cmp -s "$TMP" "$STAGE"; then rm -f "$TMP"; else mv -f "$TMP" "$STAGE"; fi

echo "build-image: docker build -t $IMAGE"
docker build --quiet --build-arg "XREPL_BINARY=$STAGE" -t "$IMAGE" . >/dev/null
SIZE="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
echo "build-image: $IMAGE ready ($((SIZE / 1024 / 1024)) MiB; binary $(du -h "$STAGE" | cut -f1) stripped)"
