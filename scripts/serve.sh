#!/usr/bin/env bash
# Installs what is missing, builds, and serves the app with its demo case at
# http://127.0.0.1:${PORT:-8080}/ until Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build.sh
exec build/native/server/endoscribe-server --root build/wasm/app \
  --config server/config.json --host 127.0.0.1 --port "${PORT:-8080}" "$@"
