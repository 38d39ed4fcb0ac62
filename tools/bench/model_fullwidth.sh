#!/usr/bin/env bash
# Full-width proof for the model builder: a random checkpoint with MedGemma-4B's real widths, SigLIP
# vision tower and 262,208-token vocabulary but two decoder layers (one sliding, one global), in bf16
# and 4 shards, converted with peak memory and wall time measured, then smoke-run with onnxruntime-node.
# Needs ~12 GB of disk under OUT and ~6 GB of RAM for the smoke run; deletes everything unless KEEP=1.
#   tools/bench/model_fullwidth.sh [OUT=build-bench/fullwidth]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$ROOT/build-bench/fullwidth}"
mkdir -p "$OUT"; rm -rf "$OUT/ckpt" "$OUT/pkg"
/usr/bin/python3 "$ROOT/tools/make_tiny_checkpoint.py" "$OUT/ckpt" --preset medgemma-4b --layers 2 --sliding-pattern 2 \
  --dtype bf16 --shards 4 --std 0.02
du -sh "$OUT/ckpt"
/usr/bin/time -v /usr/bin/python3 "$ROOT/tools/build_model.py" "$OUT/ckpt" "$OUT/pkg" 2>"$OUT/time.log"
grep -E "Maximum resident|Elapsed \(wall" "$OUT/time.log"
du -sh "$OUT/pkg"
node "$ROOT/tools/bench/model_fullwidth_check.mjs" "$OUT/pkg"
[[ "${KEEP:-0}" == 1 ]] || rm -rf "$OUT/ckpt" "$OUT/pkg"
