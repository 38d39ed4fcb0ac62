#!/usr/bin/env bash
# Prepares what tools/bench/gpu/run_fullsize_gpu.sh needs on a GPU machine that has no network, no Node
# and receives at most 64 MiB: this machine's Node binary, Dawn's Node binding (npm `webgpu`, linux-x64
# only) and onnxruntime-web's WebGPU build, xz-compressed, in DEST (default <repo>/.gpu-carry, added to
# the repository's info/exclude so git ignores it). Pass DEST as the device run's `carry` path.
#   tools/bench/gpu/prepare_carry.sh [DEST] [WEBGPU_PACKAGE_DIR]
# WEBGPU_PACKAGE_DIR: an unpacked `npm pack webgpu@0.6.2` (its package/ folder); fetched with npm pack
# into a temporary folder when not given.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DEST="${1:-$ROOT/.gpu-carry}"
WEBGPU="${2:-}"
rm -rf "$DEST"; mkdir -p "$DEST/webgpu/dist/linux-x64" "$DEST/ort"
if [[ "$DEST" == "$ROOT/.gpu-carry" ]]; then
  EXCLUDE="$(git -C "$ROOT" rev-parse --git-common-dir)/info/exclude"
  grep -qx '/.gpu-carry/' "$EXCLUDE" 2>/dev/null || echo '/.gpu-carry/' >> "$EXCLUDE"
fi
if [[ -z "$WEBGPU" ]]; then
  TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
  (cd "$TMP" && npm pack webgpu@0.6.2 >/dev/null && tar -xzf webgpu-0.6.2.tgz)
  WEBGPU="$TMP/package"
fi
cp "$WEBGPU/index.js" "$WEBGPU/package.json" "$DEST/webgpu/"
xz -9 -T2 -c "$WEBGPU/dist/linux-x64/dawn.node" > "$DEST/webgpu/dist/linux-x64/dawn.node.xz"
ORT="$ROOT/node_modules/onnxruntime-web/dist"
cp "$ORT/ort.webgpu.min.mjs" "$ORT/ort-wasm-simd-threaded.asyncify.mjs" "$DEST/ort/"
xz -9 -T2 -c "$ORT/ort-wasm-simd-threaded.asyncify.wasm" > "$DEST/ort/ort-wasm-simd-threaded.asyncify.wasm.xz"
xz -9 -T2 -c "$(readlink -f "$(command -v node)")" > "$DEST/node.xz"
node --version > "$DEST/node.version"
du -ab "$DEST" | sort -n | tail -8
TOTAL=$(( $(du -sb "$DEST" | cut -f1) + $(git -C "$ROOT" ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) ))
echo "carry + tracked files: $((TOTAL / 1048576)) MiB (limit 64 MiB)"
