// Runs web/webgpu_compat.js, exactly as shipped, over mock WebGPU classes that
// behave like current Chromium (they reject the 2021-draft shapes that
// emscripten 3.1.6's library_webgpu.js produces), and checks that what the
// library sends is translated into what the browser accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import vm from 'node:vm';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const source = fs.readFileSync(path.join(root, 'web/webgpu_compat.js'), 'utf8');

// Mock classes: validate like Chromium does and record what they received.
function makeMockGpu() {
  const calls = [];
  class GPUCommandEncoder {
    beginRenderPass(desc) {
      for (const a of desc.colorAttachments) {
        if ('loadValue' in a) throw new TypeError("Failed to read 'loadOp'");
        if (a.loadOp !== 'load' && a.loadOp !== 'clear') throw new TypeError('loadOp required');
        if (!a.storeOp) throw new TypeError('storeOp required');
      }
      calls.push(['beginRenderPass', desc]);
      return new GPURenderPassEncoder();
    }
  }
  class GPURenderPassEncoder { end() { calls.push(['end']); } }
  class GPUComputePassEncoder {
    dispatchWorkgroups(x, y, z) { calls.push(['dispatchWorkgroups', x, y, z]); }
    dispatchWorkgroupsIndirect(b, o) { calls.push(['dispatchWorkgroupsIndirect', b, o]); }
    end() { calls.push(['computeEnd']); }
  }
  class GPUDevice {
    createRenderPipeline(desc) {
      if (desc.layout === undefined) throw new TypeError("required member layout is undefined");
      calls.push(['createRenderPipeline', desc]); return {};
    }
    createComputePipeline(desc) {
      if (desc.layout === undefined) throw new TypeError("required member layout is undefined");
      calls.push(['createComputePipeline', desc]); return {};
    }
    createBindGroup(desc) {
      for (const e of desc.entries) {
        if (e.resource.buffer && e.resource.size > Number.MAX_SAFE_INTEGER) throw new TypeError('size out of range');
      }
      calls.push(['createBindGroup', desc]); return {};
    }
  }
  class GPUAdapter {
    constructor() { this.limits = { maxTextureDimension2D: 8192, maxBindGroups: 4 }; }
    requestDevice(desc) {
      for (const k of Object.keys((desc && desc.requiredLimits) || {})) {
        if (!(k in this.limits)) return Promise.reject(new Error(`The limit "${k}" is not recognized.`));
      }
      calls.push(['requestDevice', desc]);
      return Promise.resolve(new GPUDevice());
    }
  }
  class GPUCanvasContext {
    constructor() { this.canvas = { width: 300, height: 150 }; }
    configure(config) {
      if ('size' in config || 'compositingAlphaMode' in config) throw new TypeError('unknown member');
      calls.push(['configure', config]);
    }
  }
  const navigator = { gpu: { getPreferredCanvasFormat: () => 'rgba8unorm' } };
  return { calls, GPUCommandEncoder, GPURenderPassEncoder, GPUComputePassEncoder, GPUDevice, GPUAdapter,
    GPUCanvasContext, navigator };
}

function load() {
  const g = makeMockGpu();
  const context = vm.createContext({ ...g });
  vm.runInContext(source, context, { filename: 'webgpu_compat.js' });
  return { g, compat: context.EndoScribeWebGPUCompat };
}

test('installs every fix when WebGPU is present', { timeout: 10000 }, () => {
  const { compat } = load();
  for (const fix of ['beginRenderPass', 'createRenderPipeline', 'createComputePipeline', 'createBindGroup',
    'requestDevice', 'getPreferredFormat', 'configure', 'dispatch', 'dispatchIndirect']) {
    assert.ok(compat.applied.includes(fix), `missing fix ${fix}; applied: ${compat.applied}`);
  }
});

test('installing twice wraps nothing twice', { timeout: 10000 }, () => {
  const { g, compat } = load();
  const again = compat.install(g);
  assert.deepEqual(Array.from(again), []);
});

test('does nothing and throws nothing without WebGPU', { timeout: 10000 }, () => {
  const context = vm.createContext({ navigator: {} });
  vm.runInContext(source, context);
  assert.equal(context.EndoScribeWebGPUCompat.applied, undefined);
});

test('render pass: loadValue colour becomes loadOp clear + clearValue', { timeout: 10000 }, () => {
  const { g } = load();
  const view = { id: 'view' };
  const color = { r: 0.1, g: 0.2, b: 0.3, a: 1 };
  // The exact shape library_webgpu.js builds (wgpuCommandEncoderBeginRenderPass).
  new g.GPUCommandEncoder().beginRenderPass({
    label: undefined,
    colorAttachments: [{ view, resolveTarget: undefined, storeOp: 'store', loadValue: color }],
    depthStencilAttachment: undefined, occlusionQuerySet: undefined,
  });
  const [, desc] = g.calls.find((c) => c[0] === 'beginRenderPass');
  const a = desc.colorAttachments[0];
  assert.equal(a.loadOp, 'clear');
  assert.deepEqual(a.clearValue, color);
  assert.equal(a.view, view);
  assert.ok(!('loadValue' in a));
  assert.ok(!('resolveTarget' in a));
  assert.ok(!('depthStencilAttachment' in desc));
});

test('render pass: load, missing storeOp and depth/stencil values', { timeout: 10000 }, () => {
  const { g } = load();
  new g.GPUCommandEncoder().beginRenderPass({
    colorAttachments: [{ view: 1, storeOp: undefined, loadValue: 'load' }],
    depthStencilAttachment: { view: 2, depthStoreOp: 'store', depthLoadValue: 1.0, depthReadOnly: false,
      stencilStoreOp: 'store', stencilLoadValue: 'load', stencilReadOnly: false },
  });
  const [, desc] = g.calls.find((c) => c[0] === 'beginRenderPass');
  assert.equal(desc.colorAttachments[0].loadOp, 'load');
  assert.equal(desc.colorAttachments[0].storeOp, 'store');
  const ds = desc.depthStencilAttachment;
  assert.equal(ds.depthLoadOp, 'clear');
  assert.equal(ds.depthClearValue, 1.0);
  assert.equal(ds.stencilLoadOp, 'load');
  assert.ok(!('depthLoadValue' in ds) && !('stencilLoadValue' in ds));
});

test('render pass: already-modern descriptors pass through unchanged', { timeout: 10000 }, () => {
  const { compat } = load();
  const a = { view: 1, loadOp: 'clear', clearValue: [0, 0, 0, 1], storeOp: 'store' };
  const out = compat.fixRenderPassDescriptor({ colorAttachments: [a] });
  assert.equal(out.colorAttachments[0], a);
});

test('pipelines without a layout get layout auto; explicit layouts are kept', { timeout: 10000 }, () => {
  const { g } = load();
  const dev = new g.GPUDevice();
  dev.createRenderPipeline({ label: undefined, layout: undefined, vertex: {} });
  dev.createComputePipeline({ layout: undefined, compute: {} });
  const explicit = { id: 'layout' };
  dev.createRenderPipeline({ layout: explicit, vertex: {} });
  const pipes = g.calls.filter((c) => c[0].startsWith('create') && c[0].endsWith('Pipeline'));
  assert.equal(pipes[0][1].layout, 'auto');
  assert.equal(pipes[1][1].layout, 'auto');
  assert.equal(pipes[2][1].layout, explicit);
});

test('getPreferredFormat comes from navigator.gpu.getPreferredCanvasFormat', { timeout: 10000 }, () => {
  const { g } = load();
  assert.equal(new g.GPUCanvasContext().getPreferredFormat({}), 'rgba8unorm');
});

test('dispatch and dispatchIndirect map to dispatchWorkgroups*', { timeout: 10000 }, () => {
  const { g } = load();
  const pass = new g.GPUComputePassEncoder();
  pass.dispatch(4, 2, 1);
  pass.dispatchIndirect('buf', 16);
  assert.deepEqual(g.calls.filter((c) => c[0].startsWith('dispatch')),
    [['dispatchWorkgroups', 4, 2, 1], ['dispatchWorkgroupsIndirect', 'buf', 16]]);
});

test('requestDevice drops limits the adapter does not know', { timeout: 10000 }, async () => {
  const { g } = load();
  const dev = await new g.GPUAdapter().requestDevice({
    requiredLimits: { maxTextureDimension2D: 8192, maxInterStageShaderComponents: 60, maxBindGroups: undefined },
  });
  assert.ok(dev instanceof g.GPUDevice);
  const [, desc] = g.calls.find((c) => c[0] === 'requestDevice');
  assert.deepEqual({ ...desc.requiredLimits }, { maxTextureDimension2D: 8192 });
});

test('bind group: WGPU_WHOLE_SIZE read as 2^64-1 becomes "whole buffer"', { timeout: 10000 }, () => {
  const { g } = load();
  const whole = 0xFFFFFFFF * 0x100000000 + 0xFFFFFFFF;
  new g.GPUDevice().createBindGroup({ layout: {}, entries: [
    { binding: 0, resource: { buffer: 'b', offset: 0, size: whole } },
    { binding: 1, resource: { buffer: 'c', offset: 0, size: 64 } },
    { binding: 2, resource: 'sampler' }] });
  const [, desc] = g.calls.find((c) => c[0] === 'createBindGroup');
  assert.ok(!('size' in desc.entries[0].resource));
  assert.equal(desc.entries[1].resource.size, 64);
  assert.equal(desc.entries[2].resource, 'sampler');
});

test('configure: size goes to the canvas, compositingAlphaMode becomes alphaMode', { timeout: 10000 }, () => {
  const { g } = load();
  const ctx = new g.GPUCanvasContext();
  ctx.configure({ device: {}, format: 'bgra8unorm', usage: 16, size: [640, 480], compositingAlphaMode: 'opaque' });
  const [, config] = g.calls.find((c) => c[0] === 'configure');
  assert.equal(ctx.canvas.width, 640);
  assert.equal(ctx.canvas.height, 480);
  assert.equal(config.alphaMode, 'opaque');
  assert.ok(!('size' in config) && !('compositingAlphaMode' in config));
});
