// Execution planning from the adapter's features and limits (fake adapters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { probeWebGpu, planExecution, isSoftwareAdapter, defaultVariant, FP32_MAX_BYTES } from '../../web/assistant/webgpu_check.js';

const pkg = {
  manifest: { files: [
    { path: 'onnx/decoder_model_merged_q4.onnx_data', kind: 'onnx_data', variant: 'q4', size: 3 * 2 ** 30 },
    { path: 'onnx/embed_tokens_q4.onnx_data', kind: 'onnx_data', variant: 'q4', size: 400 * 2 ** 20 },
  ] },
  graphPath: (g, v) => (v === 'q4' ? `onnx/${g}_q4.onnx` : null),
};

test('no WebGPU: WASM with a reason', { timeout: 10000 }, async () => {
  const probe = await probeWebGpu({});
  assert.equal(probe.adapter, null);
  const plan = planExecution(probe, pkg, 'q4');
  assert.deepEqual(plan.executionProviders, ['wasm']);
  assert.match(plan.notices[0], /no WebGPU.*WASM/);
  const noAdapter = await probeWebGpu({ gpu: { requestAdapter: async () => null } });
  assert.match(noAdapter.reason, /no GPU adapter/);
});

test('adapter too small for the weights: WASM, naming the file', { timeout: 10000 }, () => {
  const adapter = { features: new Set(), limits: { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 30 } };
  const plan = planExecution({ adapter }, pkg, 'q4');
  assert.deepEqual(plan.executionProviders, ['wasm']);
  assert.match(plan.notices[0], /3072 MiB.*1024 MiB.*decoder_model_merged_q4\.onnx_data/);
});

test('big adapter: WebGPU first; fp16 without shader-f16 falls back to the f32 variant', { timeout: 10000 }, () => {
  const adapter = { features: new Set(), limits: { maxBufferSize: 2 ** 34, maxStorageBufferBindingSize: 2 ** 34 } };
  const plan = planExecution({ adapter }, pkg, 'fp16');
  assert.deepEqual(plan.executionProviders, ['webgpu', 'wasm']);
  assert.equal(plan.variant, 'q4');
  assert.match(plan.notices[0], /shader-f16/);
  const f16 = { features: new Set(['shader-f16']), limits: adapter.limits };
  assert.equal(planExecution({ adapter: f16 }, pkg, 'fp16').variant, 'fp16');
});

const big = { maxBufferSize: 2 ** 34, maxStorageBufferBindingSize: 2 ** 34 };
const f16pkg = {
  manifest: { files: [] },
  graphPath: (g, v) => (['q4', 'q4f16', 'fp32'].includes(v) ? `onnx/${g}_${v}.onnx` : null),
};

test('software adapter (SwiftShader / fallback): WASM, saying why; ?assistant_ep=webgpu forces WebGPU', { timeout: 10000 }, async () => {
  const swiftshader = { features: new Set(), limits: big, info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' } };
  const probe = await probeWebGpu({ gpu: { requestAdapter: async () => swiftshader } });
  assert.equal(probe.software, true);
  const plan = planExecution(probe, pkg, 'q4');
  assert.deepEqual(plan.executionProviders, ['wasm']);
  assert.match(plan.notices[0], /software adapter \(google swiftshader SwiftShader Device.*WASM.*faster.*assistant_ep=webgpu/);
  assert.deepEqual(planExecution(probe, pkg, 'q4', { ep: 'webgpu' }).executionProviders, ['webgpu', 'wasm']);
  assert.equal(isSoftwareAdapter({ isFallbackAdapter: true }), true);
  assert.equal(isSoftwareAdapter({ info: { vendor: 'nvidia', architecture: 'ampere' } }), false);
  assert.equal(isSoftwareAdapter({}, { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }), true);
  // A real GPU asked to run on WASM.
  const gpu = { features: new Set(), limits: big, info: { vendor: 'nvidia', architecture: 'ampere' } };
  const forced = planExecution({ adapter: gpu, software: false }, pkg, 'q4', { ep: 'wasm' });
  assert.deepEqual(forced.executionProviders, ['wasm']);
  assert.match(forced.notices[0], /assistant_ep=wasm/);
  assert.match(planExecution({ adapter: gpu }, pkg, 'q4', { ep: 'cuda' }).notices[0], /unknown assistant_ep 'cuda'/);
});

test('shader-f16: the q4f16 variant when the package has it, q4 without the feature or on WASM', { timeout: 10000 }, () => {
  const f16 = { features: new Set(['shader-f16']), limits: big };
  assert.equal(planExecution({ adapter: f16 }, f16pkg, 'q4').variant, 'q4f16');
  assert.equal(planExecution({ adapter: f16 }, pkg, 'q4').variant, 'q4');  // package without q4f16
  const plain = { features: new Set(), limits: big };
  assert.equal(planExecution({ adapter: plain }, f16pkg, 'q4').variant, 'q4');
  const noGpu = planExecution({ adapter: null, reason: 'no WebGPU' }, f16pkg, 'q4f16');
  assert.equal(noGpu.variant, 'q4');  // f16 activations are for the GPU; WASM runs the f32 variant
  assert.equal(planExecution({ adapter: f16 }, f16pkg, 'q4', { ep: 'wasm' }).variant, 'q4');
});

test('no variant asked (the app\'s default): q4 when the fp32 weights are large or absent, fp32 for small models', { timeout: 10000 }, () => {
  const sized = (fp32Bytes, variants = ['fp32', 'q4']) => ({
    manifest: { files: [
      { path: 'onnx/decoder_model_merged.onnx_data', kind: 'onnx_data', variant: 'fp32', size: fp32Bytes },
      { path: 'onnx/decoder_model_merged_q4.onnx_data', kind: 'onnx_data', variant: 'q4', size: fp32Bytes / 6 },
    ] },
    graphPath: (g, v) => (variants.includes(v) ? `onnx/${g}_${v}.onnx` : null),
  });
  const f16 = { features: new Set(['shader-f16']), limits: big };
  assert.equal(defaultVariant(sized(FP32_MAX_BYTES + 1)), 'q4');
  assert.equal(defaultVariant(sized(FP32_MAX_BYTES - 1)), 'fp32');
  assert.equal(defaultVariant(sized(FP32_MAX_BYTES + 1, ['fp32'])), 'fp32');  // nothing smaller
  assert.equal(defaultVariant(sized(0, ['q4', 'q4f16'])), 'q4');
  assert.equal(defaultVariant(sized(0, ['q4f16', 'fp16'])), 'q4f16');
  // planExecution with no variant (as app_assistant.js calls it) starts from that default.
  assert.equal(planExecution({ adapter: null, reason: 'no WebGPU' }, sized(2 ** 31)).variant, 'q4');
  assert.equal(planExecution({ adapter: f16 }, sized(2 ** 31, ['fp32', 'q4', 'q4f16'])).variant, 'q4f16');
  assert.equal(planExecution({ adapter: f16 }, sized(2 ** 20, ['fp32', 'q4', 'q4f16'])).variant, 'fp32');
  // An explicit choice (a model description's variant) wins over the default.
  assert.equal(planExecution({ adapter: null, reason: 'no WebGPU' }, sized(2 ** 20), 'q4').variant, 'q4');
});

test('the default-variant rule is the file the server compiles in (web/assistant/variant_rule.json)', () => {
  const rule = JSON.parse(fs.readFileSync(new URL('../../web/assistant/variant_rule.json', import.meta.url), 'utf8'));
  assert.equal(rule.format, 'endoscribe-variant-rule');
  assert.equal(FP32_MAX_BYTES, rule.fp32_max_bytes);
  // The twins planExecution swaps in where the GPU has shader-f16 are the file's.
  const pkgWith = (variants) => ({ manifest: { files: [] }, graphPath: (g, v) => (variants.includes(v) ? `onnx/${g}_${v}.onnx` : null) });
  const f16 = { features: new Set(['shader-f16']), limits: {} };
  for (const [f32, twin] of Object.entries(rule.f16_twin)) {
    assert.equal(planExecution({ adapter: f16 }, pkgWith([f32, twin]), f32).variant, twin);
    assert.equal(planExecution({ adapter: null, reason: 'no WebGPU' }, pkgWith([f32, twin]), twin).variant, f32);
  }
});
