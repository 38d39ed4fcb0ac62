// Runs a built package with onnxruntime-node for the Python tests (tests/python/test_build_model.py):
//   node tests/node/model_run.mjs REQUEST.json OUT_PREFIX
// REQUEST: {"package", "variant", "token_types": bool, "ids": [...], "pixels": "file.npy" | null, "greedy": n,
//           "decoder": "decoder_fused" (optional: another token-type decoder graph),
//           "chunks": [[ids], [ids], ...] (optional: instead of ids/greedy, run these one after another through
//           the KV cache; the image features go to the first),
//           "shared_buffer": true, "capacity": N (optional, decoder_fused: global layers append in place into
//           preallocated buffers of N rows, see PackageRunner)}
// Writes OUT_PREFIX.logits.f32 (prompt logits, float32 [S, vocab]; with chunks every chunk's rows, in order),
// OUT_PREFIX.json ({"greedy": [...], "shape"}; with chunks also "kv_lengths": per chunk, dim 2 of each
// layer's present.*.key).
import fs from 'node:fs';
import { PackageRunner, readNpy } from './model_helpers.mjs';

const [reqFile, outPrefix] = process.argv.slice(2);
const req = JSON.parse(fs.readFileSync(reqFile, 'utf8'));
const r = await PackageRunner.load(req.package, req.variant || 'fp32', { tokenTypes: req.token_types !== false,
  decoderGraph: req.decoder ?? null, sharedBuffer: !!req.shared_buffer, capacity: req.capacity ?? 0 });
let feats = null;
if (req.pixels) { const px = readNpy(req.pixels); feats = await r.imageFeatures(px.data, px.shape); }
if (req.chunks) {
  const rows = [], kvLengths = [];
  for (const [i, ids] of req.chunks.entries()) {
    rows.push((await r.step(ids, i === 0 ? feats : null)).data);
    kvLengths.push(Object.keys(r.past).filter((k) => k.endsWith('.key')).map((k) => r.past[k].dims[2]));
  }
  const all = new Float32Array(rows.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of rows) { all.set(a, off); off += a.length; }
  fs.writeFileSync(outPrefix + '.logits.f32', Buffer.from(all.buffer));
  fs.writeFileSync(outPrefix + '.json', JSON.stringify({ greedy: [], shape: [1, all.length / r.cfg.vocab_size, r.cfg.vocab_size], kv_lengths: kvLengths }));
  process.exit(0);
}
const logits = await r.step(req.ids, feats);
fs.writeFileSync(outPrefix + '.logits.f32', Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
r.reset();
const greedy = req.greedy ? await r.greedy(req.ids, req.greedy, feats) : [];
fs.writeFileSync(outPrefix + '.json', JSON.stringify({ greedy, shape: logits.dims }));
