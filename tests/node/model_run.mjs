// Runs a built package with onnxruntime-node for the Python tests (tests/python/test_build_model.py):
//   node tests/node/model_run.mjs REQUEST.json OUT_PREFIX
// REQUEST: {"package", "variant", "token_types": bool, "ids": [...], "pixels": "file.npy" | null, "greedy": n,
//           "decoder": "decoder_fused" (optional: another token-type decoder graph)}
// Writes OUT_PREFIX.logits.f32 (prompt logits, float32 [S, vocab]), OUT_PREFIX.json ({"greedy": [...], "shape"}).
import fs from 'node:fs';
import { PackageRunner, readNpy } from './model_helpers.mjs';

const [reqFile, outPrefix] = process.argv.slice(2);
const req = JSON.parse(fs.readFileSync(reqFile, 'utf8'));
const r = await PackageRunner.load(req.package, req.variant || 'fp32', { tokenTypes: req.token_types !== false, decoderGraph: req.decoder ?? null });
let feats = null;
if (req.pixels) { const px = readNpy(req.pixels); feats = await r.imageFeatures(px.data, px.shape); }
const logits = await r.step(req.ids, feats);
fs.writeFileSync(outPrefix + '.logits.f32', Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
r.reset();
const greedy = req.greedy ? await r.greedy(req.ids, req.greedy, feats) : [];
fs.writeFileSync(outPrefix + '.json', JSON.stringify({ greedy, shape: logits.dims }));
