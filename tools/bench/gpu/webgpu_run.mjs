// Runs a package on onnxruntime-web's WebGPU EP under Node (Dawn's binding, webgpu_node.mjs) the way the
// browser runtime does (vision_encoder -> embed_tokens -> decoder_token_types with the KV cache kept on
// the GPU as gpu-buffer outputs, num_logits_to_keep 1), greedy, and prints load time, image encode,
// time to first token, decode tokens/s, and decode speed as a share of the memory-bandwidth bound
// (every decode step reads the decoder's weights and the KV cache once).
//
//   node tools/bench/gpu/webgpu_run.mjs PACKAGE --variant q4f16 --prompt prompt.json [--pixels px.f32]
//        --webgpu DIR --ort DIR [--tokens 32] [--bandwidth 4.8e12] [--out result.json]
// prompt.json: {"ids": [...], "dims": [1, 3, 896, 896], "reference_ids": [...]?}; without --pixels the
// image is a fixed smooth pattern. reference_ids (transformers' greedy tokens) are compared when given.
import fs from 'node:fs';
import path from 'node:path';
import { setupWebGpu } from './webgpu_node.mjs';
import { fromFloat32, toFloat32 } from '../../../web/assistant/float16.js';

const args = { pkg: null, variant: 'q4f16', tokens: 32, bandwidth: 4.8e12, prompt: null, pixels: null, webgpu: null, ort: null, out: null };
for (let i = 2; i < process.argv.length; i++) {
  const v = process.argv[i];
  const next = () => process.argv[++i];
  if (v === '--variant') args.variant = next();
  else if (v === '--tokens') args.tokens = Number(next());
  else if (v === '--bandwidth') args.bandwidth = Number(next());
  else if (v === '--prompt') args.prompt = next();
  else if (v === '--pixels') args.pixels = next();
  else if (v === '--webgpu') args.webgpu = next();
  else if (v === '--ort') args.ort = next();
  else if (v === '--out') args.out = next();
  else args.pkg = path.resolve(v);
}

const { ort, adapter } = await setupWebGpu({ webgpuDir: args.webgpu, ortDir: args.ort });
const info = adapter.info ?? {};
console.log(`adapter: ${info.vendor} ${info.architecture} ${info.description ?? ''}; shader-f16 ${adapter.features.has('shader-f16')}`);
const manifest = JSON.parse(fs.readFileSync(path.join(args.pkg, 'manifest.json'), 'utf8'));
const m = manifest.model;
const entry = (p) => manifest.files.find((f) => f.path === p);
const read = (p) => fs.readFileSync(path.join(args.pkg, p));

const t0 = performance.now();
async function open(graph, gpuKv = false) {
  const p = manifest.graphs[graph]?.[args.variant];
  if (!p) return null;
  const options = { executionProviders: ['webgpu'], graphOptimizationLevel: 'all',
    externalData: entry(p).external_data.map((d) => ({ path: path.basename(d), data: read(d) })) };
  if (gpuKv) {
    options.preferredOutputLocation = {};
    for (let i = 0; i < m.num_hidden_layers; i++) for (const k of ['key', 'value']) options.preferredOutputLocation[`present.${i}.${k}`] = 'gpu-buffer';
  }
  return ort.InferenceSession.create(read(p), options);
}
const vision = await open('vision_encoder');
const embed = await open('embed_tokens');
const tokenTypes = !!manifest.graphs.decoder_token_types?.[args.variant];
const decoder = await open(tokenTypes ? 'decoder_token_types' : 'decoder', true);
const loadMs = performance.now() - t0;
const typeOf = (s, n) => s.inputMetadata.find((x) => x.name === n)?.type ?? 'float32';
const embType = typeOf(decoder, 'inputs_embeds'), kvType = typeOf(decoder, 'past_key_values.0.key');

const prompt = JSON.parse(fs.readFileSync(args.prompt, 'utf8'));
const dims = prompt.dims ?? [1, 3, m.image_size, m.image_size];
let px;
if (args.pixels) { const b = fs.readFileSync(args.pixels); px = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); }
else { px = new Float32Array(dims.reduce((a, b) => a * b, 1)); for (let i = 0; i < px.length; i++) px[i] = Math.sin(i * 0.001) * 0.9; }

const H = m.hidden_size, V = m.vocab_size;
let past = {};
for (let i = 0; i < m.num_hidden_layers; i++) for (const k of ['key', 'value'])
  past[`past_key_values.${i}.${k}`] = new ort.Tensor(kvType, fromFloat32(new Float32Array(0), kvType), [1, m.num_key_value_heads, 0, m.head_dim]);
let length = 0;

async function step(ids, feats) {
  const S = ids.length;
  const e = await embed.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, S]) });
  const x = toFloat32(await e.inputs_embeds.getData());
  const tti = new BigInt64Array(S);
  let r = 0;
  for (let s = 0; s < S; s++) if (ids[s] === m.image_token_id && feats) { x.set(feats.subarray(r * H, ++r * H), s * H); tti[s] = 1n; }
  const T = length + S;
  const feeds = { inputs_embeds: new ort.Tensor(embType, fromFloat32(x, embType), [1, S, H]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(length + i)), [1, S]), ...past };
  if (tokenTypes) {
    feeds.token_type_ids = new ort.Tensor('int64', tti, [1, S]);
    feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([1n]), []);
  }
  const out = await decoder.run(feeds);
  const old = past;
  past = {};
  for (const n of Object.keys(old)) { past[n] = out[n.replace('past_key_values', 'present')]; if (old[n].location === 'gpu-buffer') old[n].dispose(); }
  length = T;
  const logits = toFloat32(await out.logits.getData());
  const row = logits.subarray(logits.length - V);
  let best = 0;
  for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
  return best;
}

const t1 = performance.now();
const f = (await vision.run({ pixel_values: new ort.Tensor('float32', px, dims) })).image_features;
const feats = toFloat32(await f.getData());
const encodeMs = performance.now() - t1;
const ids = [await step(prompt.ids, feats)];
const ttftMs = performance.now() - t1;
const t2 = performance.now();
while (ids.length < args.tokens) ids.push(await step([ids.at(-1)], null));
const decodeS = (performance.now() - t2) / 1000;
const decodeRate = (ids.length - 1) / decodeS;

// Bandwidth bound: a decode step reads every decoder weight once (the token-type decoder's data files) and
// the KV cache of the positions so far (mean length over the decode), on top of small activations.
const dec = entry(manifest.graphs[tokenTypes ? 'decoder_token_types' : 'decoder'][args.variant]);
const weightBytes = dec.external_data.reduce((n, d) => n + entry(d).size, dec.size);
const kvBytesPerToken = m.num_hidden_layers * 2 * m.num_key_value_heads * m.head_dim * (kvType === 'float16' ? 2 : 4);
const meanLen = prompt.ids.length + ids.length / 2;
const bytesPerStep = weightBytes + kvBytesPerToken * meanLen;
const bound = args.bandwidth / bytesPerStep;
const result = { adapter: `${info.vendor} ${info.architecture}`, variant: args.variant, decoder: tokenTypes ? 'decoder_token_types' : 'decoder_model_merged',
  promptTokens: prompt.ids.length, loadMs, encodeMs, ttftMs, decodeRate, boundTokensPerS: bound, shareOfBound: decodeRate / bound,
  bytesPerStep, ids };
if (prompt.reference_ids) {
  let n = 0;
  while (n < Math.min(ids.length, prompt.reference_ids.length) && ids[n] === prompt.reference_ids[n]) n++;
  result.agreeWithReference = n;
}
console.log(`load ${(loadMs / 1000).toFixed(1)} s; image encode ${(encodeMs / 1000).toFixed(2)} s; time to first token ${(ttftMs / 1000).toFixed(2)} s ` +
  `(${prompt.ids.length} prompt tokens); decode ${decodeRate.toFixed(1)} tokens/s = ${(100 * decodeRate / bound).toFixed(0)} % of the ` +
  `bandwidth bound ${bound.toFixed(0)} tokens/s (${(bytesPerStep / 2 ** 30).toFixed(2)} GiB per step at ${(args.bandwidth / 1e12).toFixed(1)} TB/s)`);
if (prompt.reference_ids) console.log(`first ${result.agreeWithReference} of ${ids.length} tokens equal transformers' greedy tokens`);
console.log(`tokens: ${ids.join(' ')}`);
if (args.out) fs.writeFileSync(args.out, JSON.stringify(result, null, 1));
process.exit(0);
