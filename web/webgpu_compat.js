// webgpu_compat.js: adapts emscripten 3.1.6's library_webgpu.js (written
// against the 2021 WebGPU draft) to the WebGPU that browsers ship today.
//
// It is passed to emcc with --pre-js, so it runs before the wasm touches the
// GPU, and it patches the browser's WebGPU prototypes: every object the
// emscripten library creates then speaks the current API. Each fix is one
// small function below, named after what changed in the spec. The Node test
// tests/node/webgpu_compat.test.mjs runs this exact file over mock classes.
//
// Breakages found by reading /usr/share/emscripten/src/library_webgpu.js:
//  1. beginRenderPass: colour attachments carry `loadValue` ('load' or a
//     colour); now `loadOp` + `clearValue` (+ `storeOp` required). Depth and
//     stencil: `depthLoadValue`/`stencilLoadValue` -> `depthLoadOp` +
//     `depthClearValue`, `stencilLoadOp` + `stencilClearValue`.
//  2. createRenderPipeline / createComputePipeline: `layout` may be missing;
//     it is now required ('auto' for the implicit layout).
//  3. GPUCanvasContext.getPreferredFormat(adapter) is gone:
//     navigator.gpu.getPreferredCanvasFormat().
//  4. GPUComputePassEncoder.dispatch / dispatchIndirect are now
//     dispatchWorkgroups / dispatchWorkgroupsIndirect.
//  5. requestDevice: the library sends a `requiredLimits` object built from
//     its limits struct, including limits that no longer exist
//     (maxInterStageShaderComponents), which makes requestDevice reject. Keep
//     only limits the adapter knows and that ask for more than the default.
//  6. createBindGroup: WGPU_WHOLE_SIZE is read as an unsigned 64-bit number
//     (1.8e19) instead of undefined, so a whole-buffer binding fails
//     validation; sizes past 2^53 mean "whole buffer".
//  7. GPUCanvasContext.configure: `size` was removed (the canvas element's
//     width/height are the size now); apply it to the canvas, and drop
//     `compositingAlphaMode` in favour of `alphaMode`.
//  8. (Not fixable here.) The 3.1.6 header numbers WGPULoadOp Clear = 1,
//     Load = 2, but the library treats 0 as clear and anything else as load,
//     so by the time a JS descriptor exists "clear" has become "load". The C
//     side sends 0 for clear: ui/webgpu_fixups.h.
(function (root) {
  'use strict';

  function fixColorAttachment(a) {
    if (!a || a.loadOp !== undefined) return a;
    var out = Object.assign({}, a);
    if ('loadValue' in out) {
      if (out.loadValue === 'load') {
        out.loadOp = 'load';
      } else {
        out.loadOp = 'clear';
        out.clearValue = out.loadValue;
      }
      delete out.loadValue;
    }
    if (out.storeOp === undefined) out.storeOp = 'store';
    if (out.resolveTarget === undefined) delete out.resolveTarget;
    return out;
  }

  function fixDepthStencilAttachment(a) {
    if (!a) return a;
    var out = Object.assign({}, a);
    if ('depthLoadValue' in out) {
      if (out.depthLoadValue === 'load') out.depthLoadOp = 'load';
      else { out.depthLoadOp = 'clear'; out.depthClearValue = out.depthLoadValue; }
      delete out.depthLoadValue;
    }
    if ('stencilLoadValue' in out) {
      if (out.stencilLoadValue === 'load') out.stencilLoadOp = 'load';
      else { out.stencilLoadOp = 'clear'; out.stencilClearValue = out.stencilLoadValue; }
      delete out.stencilLoadValue;
    }
    // Read-only aspects must not name load/store ops any more.
    if (out.depthReadOnly) { delete out.depthLoadOp; delete out.depthStoreOp; delete out.depthClearValue; }
    if (out.stencilReadOnly) { delete out.stencilLoadOp; delete out.stencilStoreOp; delete out.stencilClearValue; }
    return out;
  }

  function fixRenderPassDescriptor(desc) {
    if (!desc) return desc;
    var out = Object.assign({}, desc);
    if (out.colorAttachments) out.colorAttachments = Array.prototype.map.call(out.colorAttachments, fixColorAttachment);
    if (out.depthStencilAttachment) out.depthStencilAttachment = fixDepthStencilAttachment(out.depthStencilAttachment);
    else delete out.depthStencilAttachment;
    if (out.occlusionQuerySet === undefined) delete out.occlusionQuerySet;
    return out;
  }

  function fixPipelineDescriptor(desc) {
    if (!desc || desc.layout) return desc;
    var out = Object.assign({}, desc);
    out.layout = 'auto';
    return out;
  }

  var MAX_SAFE = 9007199254740991;
  function fixBindGroupDescriptor(desc) {
    if (!desc || !desc.entries) return desc;
    var changed = false;
    var entries = Array.prototype.map.call(desc.entries, function (e) {
      var r = e && e.resource;
      if (r && r.buffer && typeof r.size === 'number' && r.size > MAX_SAFE) {
        changed = true;
        var res = Object.assign({}, r);
        delete res.size;
        return Object.assign({}, e, { resource: res });
      }
      return e;
    });
    return changed ? Object.assign({}, desc, { entries: entries }) : desc;
  }

  function fixDeviceDescriptor(desc, adapter) {
    if (!desc || !desc.requiredLimits) return desc;
    var out = Object.assign({}, desc);
    var limits = {};
    var known = adapter && adapter.limits;
    Object.keys(desc.requiredLimits).forEach(function (name) {
      var v = desc.requiredLimits[name];
      if (v === undefined || !known || !(name in known)) return;
      limits[name] = v;
    });
    out.requiredLimits = limits;
    return out;
  }

  function fixCanvasConfiguration(config, context) {
    if (!config) return config;
    var out = Object.assign({}, config);
    if (out.size) {
      var w = out.size[0] !== undefined ? out.size[0] : out.size.width;
      var h = out.size[1] !== undefined ? out.size[1] : out.size.height;
      var canvas = context && context.canvas;
      if (canvas && w && h && (canvas.width !== w || canvas.height !== h)) {
        canvas.width = w;
        canvas.height = h;
      }
      delete out.size;
    }
    if ('compositingAlphaMode' in out) {
      if (out.alphaMode === undefined) out.alphaMode = out.compositingAlphaMode;
      delete out.compositingAlphaMode;
    }
    return out;
  }

  function wrap(proto, name, makeWrapper) {
    if (!proto || typeof proto[name] !== 'function') return false;
    var original = proto[name];
    if (original.__esCompat) return false;
    var wrapped = makeWrapper(original);
    wrapped.__esCompat = true;
    proto[name] = wrapped;
    return true;
  }

  function alias(proto, oldName, newName) {
    if (!proto || typeof proto[newName] !== 'function' || typeof proto[oldName] === 'function') return false;
    proto[oldName] = function () { return proto[newName].apply(this, arguments); };
    return true;
  }

  // Installs every fix on the classes found in `g` (the browser's global
  // object, or a mock in tests). Returns the list of fixes it applied.
  function install(g) {
    var applied = [];
    function note(ok, what) { if (ok) applied.push(what); }
    if (g.GPUCommandEncoder) {
      note(wrap(g.GPUCommandEncoder.prototype, 'beginRenderPass', function (orig) {
        return function (desc) { return orig.call(this, fixRenderPassDescriptor(desc)); };
      }), 'beginRenderPass');
    }
    if (g.GPUDevice) {
      note(wrap(g.GPUDevice.prototype, 'createRenderPipeline', function (orig) {
        return function (desc) { return orig.call(this, fixPipelineDescriptor(desc)); };
      }), 'createRenderPipeline');
      note(wrap(g.GPUDevice.prototype, 'createComputePipeline', function (orig) {
        return function (desc) { return orig.call(this, fixPipelineDescriptor(desc)); };
      }), 'createComputePipeline');
      note(wrap(g.GPUDevice.prototype, 'createBindGroup', function (orig) {
        return function (desc) { return orig.call(this, fixBindGroupDescriptor(desc)); };
      }), 'createBindGroup');
    }
    if (g.GPUAdapter) {
      note(wrap(g.GPUAdapter.prototype, 'requestDevice', function (orig) {
        return function (desc) { return orig.call(this, fixDeviceDescriptor(desc, this)); };
      }), 'requestDevice');
    }
    if (g.GPUCanvasContext) {
      var ctxProto = g.GPUCanvasContext.prototype;
      if (typeof ctxProto.getPreferredFormat !== 'function') {
        ctxProto.getPreferredFormat = function () {
          var gpu = g.navigator && g.navigator.gpu;
          return gpu && gpu.getPreferredCanvasFormat ? gpu.getPreferredCanvasFormat() : 'bgra8unorm';
        };
        applied.push('getPreferredFormat');
      }
      note(wrap(ctxProto, 'configure', function (orig) {
        return function (config) { return orig.call(this, fixCanvasConfiguration(config, this)); };
      }), 'configure');
    }
    if (g.GPUComputePassEncoder) {
      var cp = g.GPUComputePassEncoder.prototype;
      note(alias(cp, 'dispatch', 'dispatchWorkgroups'), 'dispatch');
      note(alias(cp, 'dispatchIndirect', 'dispatchWorkgroupsIndirect'), 'dispatchIndirect');
      note(alias(cp, 'endPass', 'end'), 'computeEndPass');
    }
    if (g.GPURenderPassEncoder) {
      note(alias(g.GPURenderPassEncoder.prototype, 'endPass', 'end'), 'renderEndPass');
    }
    return applied;
  }

  var api = {
    install: install,
    fixRenderPassDescriptor: fixRenderPassDescriptor,
    fixPipelineDescriptor: fixPipelineDescriptor,
    fixBindGroupDescriptor: fixBindGroupDescriptor,
    fixDeviceDescriptor: fixDeviceDescriptor,
    fixCanvasConfiguration: fixCanvasConfiguration,
  };
  root.EndoScribeWebGPUCompat = api;
  if (root.navigator && root.navigator.gpu) {
    root.EndoScribeWebGPUCompat.applied = install(root);
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
