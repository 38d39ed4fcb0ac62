// webgpu_check.js: decides how a package can run on this machine, before
// anything is downloaded or compiled, and says why in words for the UI.
//   - no navigator.gpu / no adapter  -> WASM EP, with a notice
//   - a software adapter (SwiftShader, a browser's fallback adapter: WebGPU
//     emulated on the CPU)            -> WASM EP, with a notice: onnxruntime's
//     WASM kernels are far faster there (tiny model: ~0.67 s per token on
//     SwiftShader's WebGPU, milliseconds on WASM), as the Segment tool does
//   - adapter with shader-f16         -> the f16-activation variant (q4f16 /
//     fp16) when the package has one; without it, or on WASM, the f32 one
//   - a weight file bigger than the adapter's largest buffer -> refuse WebGPU for it
//   - ep override ('webgpu' | 'wasm', the page's ?assistant_ep=) wins over
//     the software-adapter choice
// Pure functions over plain objects, so Node tests can pass fake adapters.

import { estimateMemory } from './package.js';
// The default-variant rule, shared with the server (server/API.md, "Default variant").
import RULE from './variant_rule.json' with { type: 'json' };

export async function probeWebGpu(nav = globalThis.navigator) {
  if (!nav?.gpu) return { adapter: null, reason: 'this browser has no WebGPU (navigator.gpu is missing)', software: false };
  try {
    const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, reason: 'WebGPU is present but no GPU adapter is available', software: false };
    const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo().catch(() => ({})) : {});
    return { adapter, reason: null, software: isSoftwareAdapter(adapter, info), info: adapterName(info) };
  } catch (e) {
    return { adapter: null, reason: `WebGPU adapter request failed (${e.message})`, software: false };
  }
}

// WebGPU emulated on the CPU: SwiftShader (Chromium's fallback), llvmpipe /
// lavapipe (Mesa), Microsoft Basic Render Driver (WARP).
export function isSoftwareAdapter(adapter, info = adapter?.info ?? {}) {
  if (adapter?.isFallbackAdapter || info?.isFallbackAdapter) return true;
  const text = `${info?.vendor ?? ''} ${info?.architecture ?? ''} ${info?.device ?? ''} ${info?.description ?? ''}`;
  return /swiftshader|llvmpipe|lavapipe|softpipe|basic render|\bwarp\b/i.test(text);
}

function adapterName(info) {
  return [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || null;
}

// The f16-activation variant of an f32 one, and back.
const F16_OF = RULE.f16_twin;
const F32_OF = Object.fromEntries(Object.entries(F16_OF).map(([f32, f16]) => [f16, f32]));
const has = (pkg, variant) => !!pkg.graphPath?.('decoder', variant);

// Full-precision weights are worth loading only for small models.
export const FP32_MAX_BYTES = RULE.fp32_max_bytes;

// The weights to load when nobody asked for a variant: 4-bit (q4) when the
// package has it and its fp32 weights would be large (over FP32_MAX_BYTES: the
// manifest's file sizes, else config.json's parameter count) or absent, else
// fp32; a package with only f16-activation variants: its 4-bit one first.
// planExecution then swaps in the f16-activation twin where the GPU has
// shader-f16.
export function defaultVariant(pkg) {
  const fp32 = has(pkg, 'fp32');
  const fp32Bytes = !fp32 ? Infinity : pkg.manifest?.files
    ? pkg.manifest.files.filter((f) => f.variant === 'fp32').reduce((n, f) => n + f.size, 0)
    : estimateMemory(pkg, 'fp32').weights;
  if (has(pkg, 'q4') && fp32Bytes > FP32_MAX_BYTES) return 'q4';
  if (fp32) return 'fp32';
  return ['q4', 'q4f16', 'fp16'].find((v) => has(pkg, v)) ?? 'fp32';
}

// The single place the app decides which variant runs on which backend.
// pkg: a ModelPackage (manifest sizes); variant: the wanted weights
// ('q4' | 'fp32', or 'q4f16' | 'fp16' to ask for f16 outright), or null for
// defaultVariant(pkg); ep: an override ('webgpu' | 'wasm') or null.
// Returns {executionProviders, variant, notices, ok, software}.
export function planExecution({ adapter, reason, software = false, info = null }, pkg, variant = null, { ep = null } = {}) {
  const notices = [];
  variant ??= defaultVariant(pkg);
  const f32Variant = (v) => (F32_OF[v] && has(pkg, F32_OF[v]) ? F32_OF[v] : v);
  if (ep && ep !== 'webgpu' && ep !== 'wasm') {
    notices.push(`unknown assistant_ep '${ep}' (use webgpu or wasm): ignored`);
    ep = null;
  }
  if (ep === 'wasm') {
    notices.push('assistant_ep=wasm: running on the CPU (WASM) as asked');
    return { executionProviders: ['wasm'], variant: f32Variant(variant), notices, ok: true, software };
  }
  if (!adapter) {
    notices.push(`${reason}: running on the CPU (WASM), expect slow answers`);
    return { executionProviders: ['wasm'], variant: f32Variant(variant), notices, ok: true, software };
  }
  if (software && ep !== 'webgpu') {
    notices.push(`WebGPU here is a software adapter (${info ?? 'emulated on the CPU'}): running on the CPU with the WASM ` +
      'backend, which is much faster than software WebGPU (?assistant_ep=webgpu forces WebGPU)');
    return { executionProviders: ['wasm'], variant: f32Variant(variant), notices, ok: true, software };
  }
  const hasF16 = adapter.features?.has?.('shader-f16') ?? false;
  if (F32_OF[variant] && !hasF16) {
    notices.push('this GPU adapter lacks shader-f16: using the f32 variant');
    variant = has(pkg, 'q4') ? 'q4' : 'fp32';
  } else if (F16_OF[variant] && hasF16 && has(pkg, F16_OF[variant])) {
    variant = F16_OF[variant];  // f16 activations and KV cache: half the memory traffic
  }
  const limits = adapter.limits ?? {};
  const maxBuffer = Math.min(limits.maxBufferSize ?? Infinity, limits.maxStorageBufferBindingSize ?? Infinity);
  const files = pkg.manifest?.files?.filter((f) => f.variant === variant && f.kind === 'onnx_data') ?? [];
  const tooBig = files.filter((f) => f.size > maxBuffer);
  if (tooBig.length) {
    const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    notices.push(`the model needs GPU buffers up to ${mb(Math.max(...tooBig.map((f) => f.size)))} but this adapter allows ${mb(maxBuffer)} (${tooBig.map((f) => f.path).join(', ')}): running on the CPU (WASM) instead`);
    return { executionProviders: ['wasm'], variant: f32Variant(variant), notices, ok: true, software };
  }
  return { executionProviders: ['webgpu', 'wasm'], variant, notices, ok: true, software };
}
