#!/usr/bin/env bash
# Installs LocalStack community (localstack-core, S3/IAM/STS) into a venv for the harness's
# LocalStack backend. Idempotent: a venv that already has the pinned version is left alone.
#
#   scripts/install-localstack.sh            # venv at /var/tmp/xrepl-localstack-venv
#   XREPL_LOCALSTACK_VENV=/some/dir scripts/install-localstack.sh
#
# LocalStack runs as a HOST PROCESS (python -m localstack.runtime.main), not a container:
# no image can be pulled on machines without a registry.
set -euo pipefail

VERSION="4.13.1"
VENV="${XREPL_LOCALSTACK_VENV:-/var/tmp/xrepl-localstack-venv}"
PYTHON="${PYTHON:-}"

# localstack-core 4.13.1 supports Python 3.10-3.13 (2026.x needs >= 3.12).
if [[ -z "$PYTHON" ]]; then
  for candidate in python3.11 python3.12 python3.13 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
[[ -n "$PYTHON" ]] || { echo "install-localstack: no python3 found" >&2; exit 1; }

if [[ -x "$VENV/bin/python" ]] \
   && "$VENV/bin/python" - "$VERSION" 2>/dev/null <<'PY'; then
import importlib.metadata as m, sys
major = lambda name: int(m.version(name).split(".")[0])
ok = m.version("localstack-core") == sys.argv[1] and major("pyOpenSSL") < 26 and major("cbor2") < 6
sys.exit(0 if ok else 1)
PY
  echo "install-localstack: localstack-core $VERSION already in $VENV"
  exit 0
fi

echo "install-localstack: creating $VENV with $("$PYTHON" --version)"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# The runtime extra brings the server (hypercorn, moto-ext, ...). Pins for 4.13.1's code:
# cbor2 6 breaks its imports; pyOpenSSL 26 removed X509.add_extensions, which it calls to make
# its self-signed certificate at start ("'X509' object has no attribute 'add_extensions'").
"$VENV/bin/python" -m pip install --quiet "localstack-core[runtime]==$VERSION" "cbor2<6" "pyopenssl<26"
"$VENV/bin/python" -c "import localstack, importlib.metadata as m; print('install-localstack: localstack-core', m.version('localstack-core'), 'ready in $VENV')"
