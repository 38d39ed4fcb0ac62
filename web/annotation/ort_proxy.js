// ort_proxy.js: the part of onnxruntime's JS API that SamModel uses
// (InferenceSession.create/run, Tensor), with the sessions living in
// ort_worker.js. Tensors cross as {type, data, dims}; an output tensor stays a
// plain object on this side and can be fed back (the cached SAM embedding).
export class Tensor {
  constructor(type, data, dims) { Object.assign(this, { type, data, dims }); }
}

export function createOrtProxy({ numThreads = 1 } = {}) {
  const worker = new Worker(new URL('./ort_worker.js', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 1;
  const call = (msg, transfer = []) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id }, transfer);
  });
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    pending.delete(data.id);
    if (data.error) p.reject(new Error(data.error)); else p.resolve(data);
  };
  worker.onerror = (e) => {
    const err = new Error('onnxruntime worker failed: ' + (e.message || 'could not start'));
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const configured = call({ op: 'config', numThreads });

  class InferenceSession {
    static async create(src, options = {}) {
      await configured;
      const r = await call({ op: 'create', src, options });
      return new InferenceSession(r);
    }
    constructor(r) { Object.assign(this, { key: r.session, inputNames: r.inputNames, outputNames: r.outputNames }); }
    async run(feeds, fetches) {
      const plain = {};
      // Copies, so the caller's arrays (the cached embedding) stay usable.
      for (const [k, t] of Object.entries(feeds)) {
        // A view into a larger buffer (WASM memory) would be cloned whole: copy just the view.
        const data = t.data.byteLength === t.data.buffer.byteLength ? t.data : t.data.slice();
        plain[k] = { type: t.type, data, dims: t.dims };
      }
      const r = await call({ op: 'run', session: this.key, feeds: plain, fetches });
      const out = {};
      for (const [k, t] of Object.entries(r.outputs)) out[k] = new Tensor(t.type, t.data, t.dims);
      return out;
    }
    release() { return call({ op: 'release', session: this.key }); }
  }
  return { Tensor, InferenceSession, terminate: () => worker.terminate() };
}
