// webgpu_check.js: decides how a package can run on this machine, before
// anything is downloaded or compiled, and says why in words for the UI.
//   - no navigator.gpu / no adapter  -> WASM EP, with a notice
//   - adapter without shader-f16      -> f32 variants only (ours are f32 activations anyway)
//   - a weight file bigger than the adapter's largest buffer -> refuse WebGPU for it
// Pure functions over plain objects, so Node tests can pass fake adapters.

export async function probeWebGpu(nav = globalThis.navigator) {
  if (!nav?.gpu) return { adapter: null, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, reason: 'WebGPU is present but no GPU adapter is available' };
    return { adapter, reason: null };
  } catch (e) {
    return { adapter: null, reason: `WebGPU adapter request failed (${e.message})` };
  }
}

// pkg: a ModelPackage (manifest sizes); variant: 'fp32' | 'q4' | 'fp16'.
// Returns {executionProviders, variant, notices, ok}.
export function planExecution({ adapter, reason }, pkg, variant = 'q4') {
  const notices = [];
  if (!adapter) {
    notices.push(`${reason}: running on the CPU (WASM), expect slow answers`);
    return { executionProviders: ['wasm'], variant, notices, ok: true };
  }
  const hasF16 = adapter.features?.has?.('shader-f16') ?? false;
  if (variant === 'fp16' && !hasF16) {
    notices.push('this GPU adapter lacks shader-f16: using the f32 variant');
    variant = pkg.graphPath?.('decoder', 'q4') ? 'q4' : 'fp32';
  }
  const limits = adapter.limits ?? {};
  const maxBuffer = Math.min(limits.maxBufferSize ?? Infinity, limits.maxStorageBufferBindingSize ?? Infinity);
  const files = pkg.manifest?.files?.filter((f) => f.variant === variant && f.kind === 'onnx_data') ?? [];
  const tooBig = files.filter((f) => f.size > maxBuffer);
  if (tooBig.length) {
    const mb = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    notices.push(`the model needs GPU buffers up to ${mb(Math.max(...tooBig.map((f) => f.size)))} but this adapter allows ${mb(maxBuffer)} (${tooBig.map((f) => f.path).join(', ')}): running on the CPU (WASM) instead`);
    return { executionProviders: ['wasm'], variant, notices, ok: true };
  }
  return { executionProviders: ['webgpu', 'wasm'], variant, notices, ok: true };
}
