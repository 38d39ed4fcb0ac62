// ort_worker.js: onnxruntime-web sessions in a dedicated worker, so a slow
// model run (the SAM image encoder on the WASM EP takes seconds) never blocks
// the page's frame loop. Driven by ort_proxy.js; messages:
//   {id, op: 'create', src: URL | Uint8Array, options}  -> {id, inputNames, outputNames, session}
//   {id, op: 'run', session, feeds: {name: {type, data, dims}}, fetches} -> {id, outputs: {name: {type, data, dims}}}
//   {id, op: 'release', session}
// Errors come back as {id, error}.
import * as ort from '../ort/ort.webgpu.min.mjs';

const sessions = new Map();
let next = 1;

self.onmessage = async ({ data: m }) => {
  try {
    if (m.op === 'config') {
      ort.env.wasm.numThreads = m.numThreads || 1;
      self.postMessage({ id: m.id });
    } else if (m.op === 'create') {
      const s = await ort.InferenceSession.create(m.src, m.options || {});
      const key = next++;
      sessions.set(key, s);
      self.postMessage({ id: m.id, session: key, inputNames: s.inputNames, outputNames: s.outputNames });
    } else if (m.op === 'run') {
      const s = sessions.get(m.session);
      if (!s) throw new Error('session was released');
      const feeds = {};
      for (const [k, t] of Object.entries(m.feeds)) feeds[k] = new ort.Tensor(t.type, t.data, t.dims);
      const out = await s.run(feeds, m.fetches);
      const outputs = {}, transfer = [];
      for (const [k, t] of Object.entries(out)) {
        const data = t.location && t.location !== 'cpu' ? await t.getData() : t.data;
        outputs[k] = { type: t.type, data, dims: t.dims };
        transfer.push(data.buffer);
      }
      self.postMessage({ id: m.id, outputs }, transfer);
    } else if (m.op === 'release') {
      const s = sessions.get(m.session);
      sessions.delete(m.session);
      if (s) await s.release();
      self.postMessage({ id: m.id });
    }
  } catch (e) {
    self.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
};
