// Execution planning from the adapter's features and limits (fake adapters).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeWebGpu, planExecution } from '../../web/assistant/webgpu_check.js';

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
