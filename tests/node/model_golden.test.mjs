// The tiny oracle converted by tools/build_model.py must reproduce Hugging Face transformers' golden
// outputs with onnxruntime-node: logits within 1e-3 and greedy continuations token for token
// (turn 1, turn 2 through the KV cache, text-only). The q4 variant must stay above measured floors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURE, GOLDEN, PackageRunner, argmaxRows, buildPackage, cosine, maxAbsDiff, readNpy } from './model_helpers.mjs';

const gold = (f) => readNpy(path.join(FIXTURE, 'golden', f));
let pkg;
before(() => { pkg = buildPackage(path.join(FIXTURE, 'checkpoint')); });
after(() => fs.rmSync(pkg, { recursive: true, force: true }));

// Turn 2 continues turn 1's cache: it feeds the last generated token (never fed in turn 1) + the new turn.
const turn2Tokens = () => GOLDEN.turn2_prompt_ids.slice(GOLDEN.turn1_ids.length + GOLDEN.turn1_greedy_ids.length - 1);

test('fp32 image features and turn-1 logits match transformers', { timeout: 120000 }, async () => {
  const r = await PackageRunner.load(pkg, 'fp32');
  const px = gold('pixel_values.npy');
  const feats = await r.imageFeatures(px.data, px.shape);
  assert.deepEqual(feats.dims, [1, 16, 64]);
  assert.ok(maxAbsDiff(feats.data, gold('image_features.npy').data) < 1e-4);
  const logits = await r.step(GOLDEN.turn1_ids, feats);
  const d = maxAbsDiff(logits.data, gold('turn1_logits.npy').data);
  assert.ok(d <= 1e-3, `turn-1 logits differ by ${d}`);
});

test('fp32 greedy: turn 1, turn 2 through the KV cache, text-only', { timeout: 120000 }, async () => {
  const r = await PackageRunner.load(pkg, 'fp32');
  const px = gold('pixel_values.npy');
  const feats = await r.imageFeatures(px.data, px.shape);
  assert.deepEqual(await r.greedy(GOLDEN.turn1_ids, 24, feats), GOLDEN.turn1_greedy_ids);
  assert.deepEqual(await r.greedy(turn2Tokens(), 24), GOLDEN.turn2_greedy_ids);
  r.reset();
  const tl = await r.step(GOLDEN.text_only_ids);
  assert.ok(maxAbsDiff(tl.data, gold('text_only_logits.npy').data) <= 1e-3);
  r.reset();
  assert.deepEqual(await r.greedy(GOLDEN.text_only_ids, 24), GOLDEN.text_only_greedy_ids);
});

// decoder_token_types has a required num_logits_to_keep (PackageRunner.greedy above already asks for 1 row).
test('num_logits_to_keep: last rows identical to the full logits, shapes right, fp32 and q4', { timeout: 120000 }, async () => {
  const px = gold('pixel_values.npy');
  const S = GOLDEN.turn1_ids.length, V = 1024;
  for (const variant of ['fp32', 'q4']) {
    const r = await PackageRunner.load(pkg, variant);
    assert.equal(r.decoder.inputNames.at(-1), 'num_logits_to_keep');
    const feats = await r.imageFeatures(px.data, px.shape);
    const full = await r.step(GOLDEN.turn1_ids, feats, { keep: 0 });
    assert.deepEqual(full.dims, [1, S, V]);
    for (const [keep, rows] of [[1, 1], [3, 3], [S, S], [S + 5, S], [-1, S]]) {
      r.reset();
      const l = await r.step(GOLDEN.turn1_ids, feats, { keep });
      assert.deepEqual(l.dims, [1, rows, V], `${variant} keep ${keep}`);
      const d = maxAbsDiff(l.data, full.data.subarray((S - rows) * V));
      assert.ok(d <= 1e-6, `${variant} keep ${keep}: last ${rows} rows differ by ${d}`);
    }
    // A cached decode step (S = 1): keep 1 equals keep 0, and the cache a keep-1 prefill left is the same.
    r.reset();
    await r.step(GOLDEN.turn1_ids, feats, { keep: 1 });
    const a = await r.step([GOLDEN.turn1_greedy_ids[0]], null, { keep: 1 });
    r.reset();
    await r.step(GOLDEN.turn1_ids, feats, { keep: 0 });
    const b = await r.step([GOLDEN.turn1_greedy_ids[0]], null, { keep: 0 });
    assert.deepEqual(b.dims, [1, 1, V]);
    assert.ok(maxAbsDiff(a.data, b.data) <= 1e-6);
    if (variant === 'fp32') assert.ok(maxAbsDiff(full.data, gold('turn1_logits.npy').data) <= 1e-3);
  }
  // The transformers.js decoder keeps its four inputs: no num_logits_to_keep there.
  const plain = await PackageRunner.load(pkg, 'fp32', { tokenTypes: false });
  assert.ok(!plain.decoder.inputNames.includes('num_logits_to_keep'));
});

test('token_type_ids matter: without them the image prompt does not match', { timeout: 120000 }, async () => {
  const r = await PackageRunner.load(pkg, 'fp32', { tokenTypes: false });
  const px = gold('pixel_values.npy');
  const logits = await r.step(GOLDEN.turn1_ids, await r.imageFeatures(px.data, px.shape));
  const d = maxAbsDiff(logits.data, gold('turn1_logits.npy').data);
  assert.ok(d > 0.1, `causal-only decoder unexpectedly matched (${d})`);
});

// Floors measured on this random tiny model (hidden 64, min top-1/top-2 margin 3.6e-4, so 4-bit noise
// flips many argmaxes): top-1 0.41 (turn 1), 0.47 (text-only), image-feature cosine 0.9939 at block 32.
test('q4: top-1 agreement and image-feature cosine stay above measured floors', { timeout: 120000 }, async () => {
  const r = await PackageRunner.load(pkg, 'q4');
  const px = gold('pixel_values.npy');
  const feats = await r.imageFeatures(px.data, px.shape);
  const cos = cosine(feats.data, gold('image_features.npy').data);
  const V = 1024;
  const agree = (logits, ref, S) => {
    const a = argmaxRows(logits.data, S, V), b = argmaxRows(ref.data, S, V);
    return a.filter((x, i) => x === b[i]).length / S;
  };
  const t1 = agree(await r.step(GOLDEN.turn1_ids, feats), gold('turn1_logits.npy'), GOLDEN.turn1_ids.length);
  r.reset();
  const t0 = agree(await r.step(GOLDEN.text_only_ids), gold('text_only_logits.npy'), GOLDEN.text_only_ids.length);
  console.log(`q4: image-feature cosine ${cos.toFixed(5)}, top-1 agreement turn1 ${t1.toFixed(3)}, text-only ${t0.toFixed(3)}`);
  assert.ok(cos >= 0.99, `cosine ${cos}`);
  assert.ok(t1 >= 0.38, `turn-1 top-1 agreement ${t1}`);
  assert.ok(t0 >= 0.4, `text-only top-1 agreement ${t0}`);
});

test('batch of two with left padding: each row equals its unpadded golden run', { timeout: 120000 }, async () => {
  const ort = (await import('onnxruntime-node')).default;
  const m = JSON.parse(fs.readFileSync(path.join(pkg, 'manifest.json'), 'utf8'));
  const c = m.model, V = c.vocab_size;
  const emb = await ort.InferenceSession.create(path.join(pkg, m.graphs.embed_tokens.fp32));
  const dec = await ort.InferenceSession.create(path.join(pkg, m.graphs.decoder.fp32));
  const a = GOLDEN.text_only_ids, b = GOLDEN.turn2_prompt_ids.slice(-30);  // 17 and 30 tokens, text only
  const T = Math.max(a.length, b.length);
  const rows = [a, b].map((r) => [...new Array(T - r.length).fill(0), ...r]);
  const ids = new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [2, T]);
  const mask = BigInt64Array.from(rows.flatMap((r, i) => r.map((_, j) => BigInt(j >= T - [a, b][i].length ? 1 : 0))));
  const pos = BigInt64Array.from(rows.flatMap((r, i) => r.map((_, j) => BigInt(Math.max(0, j - (T - [a, b][i].length))))));
  const feeds = { inputs_embeds: (await emb.run({ input_ids: ids })).inputs_embeds,
    attention_mask: new ort.Tensor('int64', mask, [2, T]), position_ids: new ort.Tensor('int64', pos, [2, T]) };
  for (let i = 0; i < c.num_hidden_layers; i++) for (const k of ['key', 'value'])
    feeds[`past_key_values.${i}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [2, c.num_key_value_heads, 0, c.head_dim]);
  const out = await dec.run(feeds);
  assert.ok(out.logits.data.every(Number.isFinite), 'padding rows must not produce NaN');
  const golden = gold('text_only_logits.npy').data;
  const rowA = out.logits.data.subarray((T - a.length) * V, T * V);
  assert.ok(maxAbsDiff(rowA, golden) <= 1e-3, `padded row differs by ${maxAbsDiff(rowA, golden)}`);
  const r = await PackageRunner.load(pkg, 'fp32', { tokenTypes: false });
  const single = await r.step(b);
  assert.ok(maxAbsDiff(out.logits.data.subarray(T * V), single.data) <= 1e-4);
});
