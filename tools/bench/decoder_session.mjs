// decoder_session.mjs: a package graph as a raw onnxruntime session for the benches that time decoder
// steps without the runtime (kv_cache_bench.mjs, draft_pass_bench.mjs): onnxruntime-node reads the file by
// path; onnxruntime-web's WASM EP (ep 'wasm') is handed the bytes and external data. One intra-op thread
// by default, the same for every form the bench compares.
import fs from 'node:fs';
import path from 'node:path';

export async function openGraphSession(ort, dir, manifest, graph, variant, { ep = 'node', threads = 1 } = {}) {
  const file = manifest.graphs[graph]?.[variant];
  if (!file) throw new Error(`${dir} has no ${variant} ${graph}`);
  const opts = { executionProviders: [ep === 'wasm' ? 'wasm' : 'cpu'], intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all' };
  if (ep !== 'wasm') return ort.InferenceSession.create(path.join(dir, file), opts);
  opts.externalData = manifest.files.find((f) => f.path === file).external_data
    .map((d) => ({ path: path.basename(d), data: fs.readFileSync(path.join(dir, d)) }));
  return ort.InferenceSession.create(fs.readFileSync(path.join(dir, file)), opts);
}
