#!/usr/bin/env bash
# Builds everything: the native core, tests, tools and server (build/native) and
# the WebAssembly app (build/wasm/app, a plain folder of static files).
# Incremental: with nothing changed it rebuilds nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
JOBS="${JOBS:-$(nproc)}"
export NODE_PATH=/usr/share/nodejs   # Debian's emscripten 3.1.6 needs it to link

if [[ ! -f build/native/CMakeCache.txt ]]; then
  cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/native -j"$JOBS" -- --no-print-directory -s

if [[ ! -f build/wasm/CMakeCache.txt ]]; then
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release \
    -DES_NATIVE_BUILD_DIR="$ROOT/build/native" >/dev/null
fi
cmake --build build/wasm -j"$JOBS" -- --no-print-directory -s
