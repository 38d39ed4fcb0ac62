// THE PARITY TEST: the WASM core + onnxruntime-web's WASM EP, running the
// model builder's fp32 tiny package, reproduce transformers' greedy
// continuations token for token: turn 1 (image), turn 2 through the kept KV
// cache (prefilling only its new tokens, no second image encode), and the
// text-only prompt. Plus cancel mid-answer and classification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { ROOT, TINY, golden, loadCore, readNpy } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';

ort.env.wasm.numThreads = 1;

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync(path.join(ROOT, 'tools/build_model.py'))) skip = 'tools/build_model.py missing';
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';

let dir, rt;
const image = () => ({ key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) });

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-pkg-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet'], { stdio: 'pipe' });
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
});

after(async () => {
  if (rt) await rt.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('package is verified against its manifest and uses the fused token-type decoder on the WASM EP', { skip, timeout: 120000 }, () => {
  assert.ok(rt.pkg.verified.has('onnx/decoder_fused.onnx'));
  assert.ok(!rt.pkg.verified.has('onnx/decoder_token_types.onnx'));  // only one decoder is read and loaded
  assert.ok(rt.pkg.verified.has('onnx/decoder_model_merged.onnx_data'));
  assert.equal(rt.decoderGraph, 'decoder_fused');
  assert.ok(rt.decoderInputs.has('token_type_ids'));
  assert.equal(rt.ep, 'wasm');
});

test('the plain token-type decoder (the WebGPU EP\'s graph) gives the same golden answers', { skip, timeout: 120000 }, async () => {
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  const plain = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32',
    decoderGraph: 'decoder_token_types' });
  try {
    assert.equal(plain.decoderGraph, 'decoder_token_types');
    const conv = plain.newConversation();
    const r1 = await plain.ask(conv, 'What is shown in this image?', { image: image(), generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
    const r2 = await plain.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r2.ids, golden.turn2_greedy_ids);
    conv.free();
  } finally {
    await plain.release();
  }
});

test('a fused decoder the backend cannot load falls through to decoder_token_types, saying so', { skip, timeout: 120000 }, async () => {
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  const broken = Object.create(pkg);
  broken.graph = async (name, v) => (name === 'decoder_fused'
    ? { path: 'onnx/decoder_fused.onnx', model: new Uint8Array([8, 1, 2, 3]), externalData: [] } : pkg.graph(name, v));
  const r = await AssistantRuntime.create({ ort, core, pkg: broken, executionProviders: ['wasm'], variant: 'fp32' });
  try {
    assert.equal(r.decoderGraph, 'decoder_token_types');
    assert.match(r.notices.join(' '), /wasm backend could not load decoder_fused/);
    const conv = r.newConversation();
    const r1 = await r.ask(conv, 'What is shown in this image?', { image: image(), generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
    conv.free();
  } finally {
    await r.release();
  }
});

test('image features match the oracle', { skip, timeout: 120000 }, async () => {
  const feats = await rt.encodeImage({ key: 'features-check', bytes: image().bytes });
  const ref = readNpy(path.join(TINY, 'golden/image_features.npy'));
  let maxDiff = 0;
  for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(feats[i] - ref.data[i]));
  assert.ok(maxDiff < 1e-4, `image features max |diff| ${maxDiff}`);
});

test('two turns reproduce the golden greedy continuations through the kept KV cache', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  const encodesBefore = rt.stats.imageEncodes;
  const streamed = [];
  const r1 = await rt.ask(conv, 'What is shown in this image?', {
    image: image(), generation: { max_new_tokens: 24 }, onToken: (d) => streamed.push(d) }).promise;
  assert.deepEqual(conv.chat.tokens().slice(0, golden.turn1_ids.length), golden.turn1_ids);
  assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
  assert.equal(r1.text, golden.turn1_greedy_text);
  assert.equal(streamed.join(''), golden.turn1_greedy_text);
  assert.equal(r1.reason, 'length');
  assert.equal(r1.prefilled, golden.turn1_ids.length);
  assert.equal(rt.stats.imageEncodes, encodesBefore + 1);

  const kvBefore = conv.kv.length;
  // The 24th token is never fed; past the oracle's 16-position window a pass with a wrong draft is not kept,
  // so up to a few more answer tokens may wait for the next question (src/assistant/README.md "Drafted tokens").
  const unfed = golden.turn1_ids.length + 23 - kvBefore;
  assert.ok(unfed >= 0 && unfed <= 6, `${unfed}`);
  assert.equal(conv.chat.kvLength, kvBefore);
  const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } }).promise;
  assert.deepEqual(conv.chat.tokens().slice(0, golden.turn2_prompt_ids.length), golden.turn2_prompt_ids);
  // Only the unfed answer tokens + the new turn: no history, no image.
  assert.equal(r2.prefilled, golden.turn2_prompt_ids.length - kvBefore);
  assert.equal(r2.prefilled, 20 + unfed);
  assert.equal(rt.stats.imageEncodes, encodesBefore + 1);
  assert.deepEqual(r2.ids, golden.turn2_greedy_ids);
  assert.equal(r2.text, golden.turn2_greedy_text);
  // The sliding layers kept only their window (the oracle's is 16: 15 cached positions), the global ones all.
  const W = rt.model.sliding_window;
  assert.equal(W, 16);
  assert.ok(conv.kv.length > 3 * W);
  rt.model.layer_types.forEach((kind, i) => {
    const rows = conv.kv.past[`past_key_values.${i}.key`].dims[2];
    assert.equal(rows, kind === 'sliding_attention' ? W - 1 : conv.kv.length, `layer ${i} (${kind})`);
  });
  assert.equal(rt.windowNames.size, 2 * rt.model.layer_types.filter((k) => k === 'sliding_attention').length);
  conv.free();
});

test('a saved conversation comes back and continues to the golden turn 2', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  await rt.ask(conv, 'What is shown in this image?', { image: image(), generation: { max_new_tokens: 24 } }).promise;
  const saved = JSON.parse(JSON.stringify(conv.chat.save()));  // as stored with the case
  conv.free();
  const back = rt.restoreConversation(saved, { imageKey: 'golden' });
  assert.equal(back.chat.kvLength, 0);
  const encodes = rt.stats.imageEncodes;
  const r2 = await rt.ask(back, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } }).promise;
  assert.equal(r2.prefilled, golden.turn2_prompt_ids.length);  // everything once, after a reload
  assert.deepEqual(r2.ids, golden.turn2_greedy_ids);
  assert.equal(rt.stats.imageEncodes, encodes);  // features still cached by this runtime
  back.free();
});

test('text-only prompt reproduces the golden continuation', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  const r = await rt.ask(conv, 'Draft an endoscopy report.', { generation: { max_new_tokens: 24 } }).promise;
  assert.deepEqual(conv.chat.tokens().slice(0, golden.text_only_ids.length), golden.text_only_ids);
  assert.deepEqual(r.ids, golden.text_only_greedy_ids);
  conv.free();
});

test('turn-1 logits match the oracle (token_type_ids honoured)', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  conv.chat.ask('What is shown in this image?', { image: true });
  conv.imageKey = 'golden';
  await rt.encodeImage(image());
  const ids = conv.chat.pending();
  const logits = await rt._decode(conv.kv, ids, conv.chat.pendingTokenTypes(), rt.imageFeatures.get('golden'), { rows: ids.length });
  const ref = readNpy(path.join(TINY, 'golden/turn1_logits.npy'));
  let maxDiff = 0;
  for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(logits[i] - ref.data[i]));
  assert.ok(maxDiff < 1e-3, `turn-1 logits max |diff| ${maxDiff} (without token types it would be ~${golden.max_abs_diff_logits_without_token_type_ids})`);
  conv.free();
});

test('cancel mid-answer stops generation and the chat continues consistently', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  let job;
  const seen = [];
  job = rt.ask(conv, 'What is shown in this image?', {
    image: image(), generation: { max_new_tokens: 24 },
    onToken: (d, t) => { seen.push(t); if (seen.length === 3) job.cancel(); } });
  const r = await job.promise;
  assert.equal(r.reason, 'cancelled');
  assert.deepEqual(r.ids, golden.turn1_greedy_ids.slice(0, 3));
  // Every sampled token of a cancelled answer was fed (one-token steps: the cache holds them all; a dropped
  // pass of drafts leaves some for the next question); the conversation's count matches the cache.
  assert.ok(conv.kv.length <= golden.turn1_ids.length + 3 && conv.kv.length >= golden.turn1_ids.length, `${conv.kv.length}`);
  assert.equal(conv.chat.kvLength, conv.kv.length);
  const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 4 } }).promise;
  assert.equal(r2.ids.length, 4);
  assert.equal(conv.chat.kvLength, conv.kv.length);
  conv.free();
});

test('editing questions: the cache is cut to before the edited turn, the image is reused', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  await rt.ask(conv, 'Describe the lesion.', { image: image(), generation: { max_new_tokens: 3 } }).promise;
  const turn1Length = conv.chat.tokens().length;  // turn-1 prompt + its 3 answer tokens
  assert.ok(turn1Length > rt.model.sliding_window);  // the sliding layers' cache has dropped positions already
  await rt.ask(conv, 'Is it bleeding?', { generation: { max_new_tokens: 3 } }).promise;
  const turn2Length = conv.chat.tokens().length;
  await rt.ask(conv, 'Anything else?', { generation: { max_new_tokens: 3 } }).promise;
  const encodes = rt.stats.imageEncodes;
  // Edit the latest (3rd) question: the cache is kept up to its start (the sliding layers' window from the
  // snapshot taken when that question was prefilled), only the new question runs.
  const snap = conv.kv.snapshot.length;
  assert.ok(snap >= turn2Length - 1 && snap <= turn2Length, `${snap} vs ${turn2Length}`);
  const r3 = await rt.editQuestion(conv, 2, 'Is there a second polyp?', { generation: { max_new_tokens: 3 } }).promise;
  assert.equal(conv.chat.turnCount, 3);
  assert.equal(r3.prefilled, conv.chat.tokens().length - 3 - snap);
  assert.equal(conv.chat.kvLength, conv.kv.length);
  const fresh3 = rt.newConversation();
  await rt.ask(fresh3, 'Describe the lesion.', { image: image(), generation: { max_new_tokens: 3 } }).promise;
  await rt.ask(fresh3, 'Is it bleeding?', { generation: { max_new_tokens: 3 } }).promise;
  const f3 = await rt.ask(fresh3, 'Is there a second polyp?', { generation: { max_new_tokens: 3 } }).promise;
  assert.deepEqual(r3.ids, f3.ids);
  fresh3.free();
  // Edit the 2nd question: turn 1's end is more than a window before the cached positions the sliding
  // layers still hold, so the conversation is prefilled again from the start (the image is not re-encoded).
  const r = await rt.editQuestion(conv, 1, 'How many polyps are visible?', { generation: { max_new_tokens: 3 } }).promise;
  assert.equal(conv.chat.turnCount, 2);
  assert.equal(r.prefilled, conv.chat.tokens().length - 3);
  assert.equal(conv.chat.kvLength, conv.kv.length);
  // Same answer as a fresh conversation with those two questions.
  const fresh = rt.newConversation();
  await rt.ask(fresh, 'Describe the lesion.', { image: image(), generation: { max_new_tokens: 3 } }).promise;
  const f2 = await rt.ask(fresh, 'How many polyps are visible?', { generation: { max_new_tokens: 3 } }).promise;
  assert.deepEqual(r.ids, f2.ids);
  fresh.free();
  // Edit the 1st question: everything is prefilled again, and it is the golden turn 1.
  const r1 = await rt.editQuestion(conv, 0, 'What is shown in this image?', { generation: { max_new_tokens: 24 } }).promise;
  assert.equal(r1.prefilled, golden.turn1_ids.length);
  assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
  assert.equal(rt.stats.imageEncodes, encodes);
  conv.free();
});

test('switching image starts the conversation over on the new image', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  await rt.ask(conv, 'Describe the lesion.', { image: image(), generation: { max_new_tokens: 5 } }).promise;
  await rt.ask(conv, 'Is it bleeding?', { generation: { max_new_tokens: 5 } }).promise;
  const encodes = rt.stats.imageEncodes;
  const other = { ...image(), key: 'another-frame' };
  const r = await rt.ask(conv, 'What is shown in this image?', { image: other, generation: { max_new_tokens: 24 } }).promise;
  assert.equal(conv.chat.turnCount, 1);
  assert.equal(r.prefilled, golden.turn1_ids.length);
  assert.equal(rt.stats.imageEncodes, encodes + 1);
  assert.deepEqual(r.ids, golden.turn1_greedy_ids);
  conv.free();
});

test('classification: probabilities sum to 1 and follow the logits', { skip, timeout: 120000 }, async () => {
  // Single-token answers without an end token: each probability must equal the
  // next-token softmax restricted to the label tokens.
  const piece = (id) => rt.tokenizer.piece(id).replace(/^\u2581/, ' ');
  const answers = [954, 674, 325, 656].map(piece);
  const set = { question: 'What is shown in this image?', labels: answers.map((a, i) => ({ id: `l${i}`, name: a, answer: a })) };
  const r = await rt.classify(set, { image: image(), endId: -1 }).promise;
  const sum = r.labels.reduce((s, l) => s + l.probability, 0);
  assert.ok(Math.abs(sum - 1) < 1e-9, `sum ${sum}`);
  const ref = readNpy(path.join(TINY, 'golden/turn1_logits.npy'));
  const V = ref.shape[2], last = ref.data.subarray((ref.shape[1] - 1) * V, ref.shape[1] * V);
  const z = [954, 674, 325, 656].reduce((s, id) => s + Math.exp(last[id]), 0);
  [954, 674, 325, 656].forEach((id, i) => assert.ok(Math.abs(r.labels[i].probability - Math.exp(last[id]) / z) < 1e-3,
    `${i}: ${r.labels[i].probability} vs ${Math.exp(last[id]) / z}`));
  assert.equal(r.labels[r.ranking[0]].id, 'l0');  // 954 is the greedy token

  // Multi-token labels with the end-of-turn token: still a distribution, and
  // the ranking is the order of the log-likelihoods.
  const multi = { labels: ['polyp', 'ulcerative colitis', 'normal cecum', 'esophagitis'].map((a) => ({ id: a, name: a, answer: a })) };
  const decodesBefore = rt.stats.decoderRuns;
  const m = await rt.classify(multi, { image: image() }).promise;
  assert.ok(Math.abs(m.labels.reduce((s, l) => s + l.probability, 0) - 1) < 1e-9);
  const byLl = [...m.labels.keys()].sort((a, b) => m.labels[b].logLikelihood - m.labels[a].logLikelihood);
  assert.deepEqual(m.ranking, byLl);
  // One prefix run + ONE run for all labels (packed as branches of the prefix).
  assert.equal(rt.stats.decoderRuns - decodesBefore, 2);
  // The same scores as one run per label on top of the prefix.
  const one = await rt.classify(multi, { image: image(), batch: false }).promise;
  m.labels.forEach((l, i) => assert.ok(Math.abs(l.logLikelihood - one.labels[i].logLikelihood) < 1e-4,
    `${l.id}: packed ${l.logLikelihood} vs one by one ${one.labels[i].logLikelihood}`));
  // A small logits budget splits the labels over several passes, same scores.
  const before2 = rt.stats.decoderRuns;
  const split = await rt.classify(multi, { image: image(), logitsBudget: 5 * 4 * rt.model.vocab_size }).promise;
  assert.ok(rt.stats.decoderRuns - before2 > 2);
  split.labels.forEach((l, i) => assert.ok(Math.abs(l.logLikelihood - one.labels[i].logLikelihood) < 1e-4));
});

test('classification with the 23 HyperKvasir labels: packed scores equal one run per label (both decoders)', { skip, timeout: 180000 }, async () => {
  const set = core.labelSetForClassification(fs.readFileSync(path.join(ROOT, 'models/labels/hyperkvasir.json'), 'utf8'));
  const packed = await rt.classify(set, { image: image() }).promise;
  const one = await rt.classify(set, { image: image(), batch: false }).promise;
  assert.equal(packed.labels.length, 23);
  packed.labels.forEach((l, i) => assert.ok(Math.abs(l.logLikelihood - one.labels[i].logLikelihood) < 1e-4,
    `${l.name}: ${l.logLikelihood} vs ${one.labels[i].logLikelihood}`));
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  const plain = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32', decoderGraph: 'decoder_token_types' });
  try {
    const p2 = await plain.classify(set, { image: image() }).promise;
    p2.labels.forEach((l, i) => assert.ok(Math.abs(l.logLikelihood - one.labels[i].logLikelihood) < 1e-4));
  } finally {
    await plain.release();
  }
});

test('jobs queue instead of failing, and a failed step loses nothing', { skip, timeout: 120000 }, async () => {
  const conv = rt.newConversation();
  // Two jobs at once: the second waits for the first.
  const a = rt.ask(conv, 'What is shown in this image?', { image: image(), generation: { max_new_tokens: 24 } });
  const b = rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } });
  const [ra, rb] = await Promise.all([a.promise, b.promise]);
  assert.deepEqual(ra.ids, golden.turn1_greedy_ids);
  assert.deepEqual(rb.ids, golden.turn2_greedy_ids);
  // A job cancelled while queued never runs.
  const c1 = rt.ask(conv, 'One more?', { generation: { max_new_tokens: 2 } });
  const c2 = rt.ask(conv, 'And another?', { generation: { max_new_tokens: 2 } });
  c2.cancel();
  await c1.promise;
  assert.equal((await c2.promise).reason, 'cancelled');
  assert.equal(conv.chat.turnCount, 3);

  // The decoder fails during a prefill: the question leaves no trace.
  const real = rt._decode;
  rt._decode = async () => { throw new Error('device lost'); };
  await assert.rejects(rt.ask(conv, 'Will this fail?', {}).promise, /device lost/);
  rt._decode = real;
  assert.equal(conv.chat.turnCount, 3);
  // ... and mid-answer: the partial answer stays, the cache stays in step.
  let calls = 0;
  rt._decode = async (...args) => { if (++calls === 3) throw new Error('device lost'); return real.apply(rt, args); };
  await assert.rejects(rt.ask(conv, 'Fail later?', { generation: { max_new_tokens: 10 } }).promise, /device lost/);
  rt._decode = real;
  assert.equal(conv.chat.kvLength, conv.kv.length);
  const ok = await rt.ask(conv, 'Still there?', { generation: { max_new_tokens: 3 } }).promise;
  assert.equal(ok.ids.length, 3);
  assert.equal(conv.chat.kvLength, conv.kv.length);
  conv.free();
});

test('WebGPU missing (Node): falls back to the WASM EP and says so', { skip, timeout: 120000 }, async () => {
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  const fallback = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['webgpu', 'wasm'] });
  try {
    assert.equal(fallback.ep, 'wasm');
    assert.match(fallback.notices.join(' '), /WebGPU unavailable/);
    const conv = fallback.newConversation();
    const r = await fallback.ask(conv, 'Draft an endoscopy report.', { generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r.ids, golden.text_only_greedy_ids);
    conv.free();
  } finally {
    await fallback.release();
  }
});
