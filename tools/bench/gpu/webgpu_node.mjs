// webgpu_node.mjs: a WebGPU adapter for onnxruntime-web under Node through Dawn's binding (npm `webgpu`,
// dawn.node), with the three fixes onnxruntime-web 1.30 needed here (Dawn's Node binding over SwiftShader's
// Vulkan; unverified on a real GPU):
//   - createComputePipelineAsync never resolved: pipelines are compiled with createComputePipeline;
//   - writeBuffer rejected views of onnxruntime-web's shared WASM memory ("Invalid argument"): copied first;
//   - onnxruntime-web's own navigator.gpu.requestAdapter hung: the adapter is passed in env.webgpu.adapter.
//
//   const { ort, adapter } = await setupWebGpu({ webgpuDir, ortDir });
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function setupWebGpu({ webgpuDir, ortDir, powerPreference = 'high-performance' }) {
  webgpuDir = path.resolve(webgpuDir);
  ortDir = path.resolve(ortDir);
  const { create, globals } = await import(pathToFileURL(path.join(webgpuDir, 'index.js')).href);
  Object.assign(globalThis, globals);
  const writeBuffer = globals.GPUQueue.prototype.writeBuffer;
  globals.GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset = 0, size) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const n = size ?? data.length - dataOffset;
      return writeBuffer.call(this, buffer, offset, data.slice(dataOffset, dataOffset + n), 0, n);
    }
    return size === undefined ? writeBuffer.call(this, buffer, offset, data, dataOffset)
      : writeBuffer.call(this, buffer, offset, data, dataOffset, size);
  };
  globals.GPUDevice.prototype.createComputePipelineAsync = function (descriptor) {
    try { return Promise.resolve(this.createComputePipeline(descriptor)); } catch (e) { return Promise.reject(e); }
  };
  const gpu = create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, hardwareConcurrency: 4, userAgent: 'node' }, configurable: true });
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) throw new Error('Dawn found no GPU adapter (Vulkan driver missing? see tools/bench/gpu/README)');
  const ort = await import(pathToFileURL(path.join(ortDir, 'ort.webgpu.min.mjs')).href);
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = ortDir.endsWith('/') ? ortDir : ortDir + '/';
  ort.env.webgpu.adapter = adapter;
  return { ort, adapter, gpu };
}
