#!/usr/bin/env bash
# Full-size proof: a random checkpoint with MedGemma-4B's configuration (34 decoder layers, hidden 2560,
# SigLIP so400m at 896 px, 262,208-token vocabulary, bf16, 4 shards; 4.30 B parameters) converted to the q4
# variant with tools/build_model.py (wall time and peak RSS), then run end to end under onnxruntime-node by
# our assistant runtime (web/assistant/runtime.js + the WASM core) and by transformers.js on the same
# package, same prompt (image + question), each engine in its own process: load time, time to first token,
# decode tokens/s, peak RSS, first tokens (tools/bench/fullsize_run.mjs), and by our runtime in headless
# Chromium on the WASM EP (ENGINES=ours,ours-causal,tjs to leave it out: it takes ~5 minutes here). Not part
# of the test suite.
#
#   tools/bench/fullsize.sh [OUT=/work/fullsize] [TOKENS=16]   (DRAFTS=0: one token per decoder run)
# Needs ~9 GB (checkpoint) + ~3.5 GB (q4 package) of disk under OUT and ~8 GB of RAM. Steps whose output
# exists are skipped (delete OUT/ckpt or OUT/pkg to redo them); nothing is deleted afterwards.
# The checkpoint keeps the tiny oracle's tokenizer (make_tiny_checkpoint.py), so config.json's image /
# begin-of-image / end-of-image ids are set to that tokenizer's (8 / 6 / 7 instead of 262144 / 255999 /
# 256000); every shape is MedGemma-4B's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-/work/fullsize}"
TOKENS="${2:-16}"
PY=/usr/bin/python3
mkdir -p "$OUT"
if [[ ! -f "$OUT/ckpt/model.safetensors.index.json" ]]; then
  rm -rf "$OUT/ckpt"
  /usr/bin/time -v "$PY" "$ROOT/tools/make_tiny_checkpoint.py" "$OUT/ckpt" --preset medgemma-4b --dtype bf16 --shards 4 \
    --std 0.02 2> "$OUT/make_ckpt.time"
  grep -E "Maximum resident|Elapsed \(wall" "$OUT/make_ckpt.time"
fi
"$PY" - "$OUT/ckpt/config.json" "$ROOT/tests/fixtures/tiny-gemma3/checkpoint/config.json" <<'EOF'
import json, sys
path, oracle = sys.argv[1], json.load(open(sys.argv[2]))
c = json.load(open(path))
for k in ("image_token_index", "boi_token_index", "eoi_token_index"):
    c[k] = oracle[k]
json.dump(c, open(path, "w"), indent=2)
t = c["text_config"]
print(f"checkpoint: {t['num_hidden_layers']} layers, hidden {t['hidden_size']}, vocab {t['vocab_size']}, "
      f"vision {c['vision_config']['num_hidden_layers']} x {c['vision_config']['hidden_size']} at {c['vision_config']['image_size']} px")
EOF
du -sh "$OUT/ckpt"
if [[ ! -f "$OUT/pkg/manifest.json" ]]; then
  /usr/bin/time -v "$PY" "$ROOT/tools/build_model.py" "$OUT/ckpt" "$OUT/pkg" --variants q4 --force \
    --test-model "random weights with MedGemma-4B's shapes (tools/bench/fullsize.sh)" 2> "$OUT/convert.time"
  grep -E "Maximum resident|Elapsed \(wall" "$OUT/convert.time"
fi
du -sh "$OUT/pkg"
ls -l "$OUT/pkg/onnx"
node "$ROOT/tools/bench/fullsize_run.mjs" "$OUT/pkg" --tokens "$TOKENS" --image "${IMAGE:-}" \
  --engines "${ENGINES:-ours,ours-causal,tjs,ours-chromium}" --draft-tokens "${DRAFTS:-6}"
