// Smoke check of a full-width package (tools/bench/model_fullwidth.sh): loads embed_tokens + decoder in
// fp32 and q4 with onnxruntime-node, runs one prompt + 4 cached decode steps, reports logits agreement.
//   node tools/bench/model_fullwidth_check.mjs PACKAGE_DIR
import path from 'node:path';
import { PackageRunner, cosine, argmaxRows } from '../../tests/node/model_helpers.mjs';
import ort from 'onnxruntime-node';

const dir = process.argv[2];
const ids = [2, 4, 363, 284, 19, 762, 430, 765, 763, 983, 5, 19, 4, 847, 357, 978, 19];
const res = {};
for (const v of ['fp32', 'q4']) {
  const r = new PackageRunner();
  r.dir = dir;
  r.manifest = JSON.parse((await import('node:fs')).readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  r.cfg = r.manifest.model;
  const t0 = performance.now();
  r.embed = await ort.InferenceSession.create(path.join(dir, r.manifest.graphs.embed_tokens[v]));
  r.decoder = await ort.InferenceSession.create(path.join(dir, r.manifest.graphs.decoder_token_types[v]));
  r.tokenTypes = true; r.reset();
  const load = performance.now() - t0;
  const logits = await r.step(ids);  // all rows (num_logits_to_keep 0), to report their dims
  const last = logits.data.slice((ids.length - 1) * r.cfg.vocab_size);
  const t1 = performance.now();
  const gen = [argmaxRows(last, 1, r.cfg.vocab_size)[0]];
  for (let i = 0; i < 4; i++) { const l = await r.step([gen.at(-1)], null, { keep: 1 }); gen.push(argmaxRows(l.data, 1, r.cfg.vocab_size)[0]); }
  res[v] = { load_s: load / 1000, decode_ms_per_token: (performance.now() - t1) / 4, last, gen, dims: logits.dims };
  await r.embed.release(); await r.decoder.release();
}
console.log(JSON.stringify({ logits_dims: res.fp32.dims, fp32_greedy: res.fp32.gen, q4_greedy: res.q4.gen,
  last_logits_cosine_q4_vs_fp32: cosine(res.fp32.last, res.q4.last),
  load_s: { fp32: res.fp32.load_s, q4: res.q4.load_s }, decode_ms_per_token: { fp32: res.fp32.decode_ms_per_token, q4: res.q4.decode_ms_per_token } }, null, 1));
