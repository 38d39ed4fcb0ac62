#!/usr/bin/env bash
# The full-size package on a real GPU through WebGPU: for a GPU machine with no network that receives at
# most 64 MiB (the device tool's machine: python3 with PyTorch 2.11, transformers 5.17, onnx, numpy; no Node).
# First, here: tools/bench/gpu/prepare_carry.sh (Node, Dawn's Node binding, onnxruntime-web's WebGPU build,
# ~40 MiB xz-compressed into .gpu-carry/). Then, there (device run with carry [".gpu-carry"], timeout 600):
#   bash tools/bench/gpu/run_fullsize_gpu.sh
# Steps (each timed; results in $OUT/gpu_result.json and $OUT/gpu_log.txt):
#   1. unpack the carry (python's lzma: no xz needed there)
#   2. a random checkpoint with MedGemma-4B's configuration made by transformers on the GPU, saved as a
#      Hugging Face checkpoint, and transformers' greedy tokens for a fixed image + prompt (make_reference.py)
#   3. our builder converts it (q4f16 when the adapter has shader-f16, else q4; VARIANT= overrides)
#   4. onnxruntime-web's WebGPU EP under Node through Dawn runs it (webgpu_run.mjs): load time, image encode,
#      time to first token, decode tokens/s, its share of the memory-bandwidth bound, tokens vs transformers
# Environment: WORK (default /tmp/fullsize), OUT (default $WORK/out; the device tool sets it), TOKENS (32),
# LAYERS (34; fewer for a quick trial), VARIANT (auto), BANDWIDTH (bytes/s, default 4.8e12: H200 HBM3e).
# Vulkan: Dawn needs libvulkan and the NVIDIA ICD. If `ldconfig -p | grep libvulkan` prints nothing there,
# carry the loader debs as the device README says (.gl) and unpack them before this script.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CARRY="${CARRY:-$ROOT/.gpu-carry}"
WORK="${WORK:-/tmp/fullsize}"
OUT="${OUT:-$WORK/out}"
TOKENS="${TOKENS:-32}"
LAYERS="${LAYERS:-34}"
VARIANT="${VARIANT:-auto}"
BANDWIDTH="${BANDWIDTH:-4.8e12}"
mkdir -p "$WORK" "$OUT"
exec > >(tee -a "$OUT/gpu_log.txt") 2>&1
export PYTHONUNBUFFERED=1
t() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$1" "$(t)"; }

echo "== 1. unpack"
T=$(t)
python3 - "$CARRY" "$WORK/carry" <<'EOF'
import lzma, os, shutil, sys
src, dst = sys.argv[1:3]
for d, _, fs in os.walk(src):
    for f in fs:
        rel = os.path.relpath(os.path.join(d, f), src)
        out = os.path.join(dst, rel[:-3] if rel.endswith(".xz") else rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        if rel.endswith(".xz"):
            with lzma.open(os.path.join(d, f)) as a, open(out, "wb") as b:
                shutil.copyfileobj(a, b, 1 << 24)
        else:
            shutil.copyfile(os.path.join(d, f), out)
EOF
chmod +x "$WORK/carry/node"
NODE="$WORK/carry/node"
"$NODE" --version
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
ldconfig -p | grep -q libvulkan || echo "warning: no libvulkan in ldconfig: Dawn will find no adapter (see the header)"
echo "unpacked in $(since "$T")"

echo "== 2. checkpoint + transformers reference (GPU)"
T=$(t)
if [[ ! -f "$WORK/prompt.json" ]]; then
  rm -rf "$WORK/ckpt"
  python3 "$ROOT/tools/bench/gpu/make_reference.py" "$WORK/ckpt" "$WORK/prompt.json" "$WORK/px.f32" --tokens "$TOKENS" --layers "$LAYERS"
fi
echo "checkpoint + reference in $(since "$T")"

echo "== 3. variant and conversion"
if [[ "$VARIANT" == auto ]]; then
  VARIANT=$("$NODE" --input-type=module -e "
    import { setupWebGpu } from '$ROOT/tools/bench/gpu/webgpu_node.mjs';
    const { adapter } = await setupWebGpu({ webgpuDir: '$WORK/carry/webgpu', ortDir: '$WORK/carry/ort' });
    console.log(adapter.features.has('shader-f16') ? 'q4f16' : 'q4'); process.exit(0);")
fi
echo "variant $VARIANT"
T=$(t)
if [[ ! -f "$WORK/pkg/manifest.json" ]]; then
  python3 "$ROOT/tools/build_model.py" "$WORK/ckpt" "$WORK/pkg" --variants "$VARIANT" --force \
    --test-model "random weights with MedGemma-4B's shapes (tools/bench/gpu/run_fullsize_gpu.sh)"
fi
echo "converted in $(since "$T")"
du -sh "$WORK/pkg"

echo "== 4. WebGPU (onnxruntime-web under Node, Dawn)"
"$NODE" "$ROOT/tools/bench/gpu/webgpu_run.mjs" "$WORK/pkg" --variant "$VARIANT" --prompt "$WORK/prompt.json" \
  --pixels "$WORK/px.f32" --webgpu "$WORK/carry/webgpu" --ort "$WORK/carry/ort" --tokens "$TOKENS" \
  --bandwidth "$BANDWIDTH" --out "$OUT/gpu_result.json"
