// Public transformers.js exports load unchanged: a package laid out exactly like onnx-community's Gemma-3 /
// MedGemma exports (no manifest.json, no decoder_token_types graphs, variants fp32 / fp16 / q4 / q4f16 as
// "<graph><suffix>.onnx", weights in "<graph><suffix>.onnx_data", "_data_1", ... chunks listed in
// config.json) is made from the tiny oracle, then read by web/assistant/package.js, run by onnxruntime-web
// (WASM EP, the browser runtime's engine) from exactly the bytes package.js hands out, by the assistant
// runtime itself (when the WASM core is built), and by transformers.js. Also: the memory estimate and the
// refusal when a variant cannot fit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { FIXTURE, GOLDEN, PackageRunner, buildPackage, maxAbsDiff, readNpy } from './model_helpers.mjs';
import { MIN_CONTEXT, ModelPackage, ModelTooLargeError, PLANNED_CONTEXT, checkMemoryFit, estimateMemory,
  fitExecutionProviders } from '../../web/assistant/package.js';
import { defaultVariant, planExecution } from '../../web/assistant/webgpu_check.js';
import { folderSource } from '../../web/assistant/sources.js';
import { fromFloat32, toFloat32 } from '../../web/assistant/float16.js';

const VARIANTS = ['fp32', 'fp16', 'q4', 'q4f16'];
const SUFFIX = { fp32: '', fp16: '_fp16', q4: '_q4', q4f16: '_q4f16' };
let built, pub;
const gold = (f) => readNpy(path.join(FIXTURE, 'golden', f));

before(() => {
  // ~100 KiB external data chunks, so every decoder is split as the hub's multi-GB files are.
  built = buildPackage(path.join(FIXTURE, 'checkpoint'), ['--variants', VARIANTS.join(','), '--chunk-gb', '0.0001',
    '--accuracy-level', '0']);
  pub = fs.mkdtempSync(path.join(os.tmpdir(), 'es-public-'));
  fs.cpSync(built, pub, { recursive: true });
  fs.rmSync(path.join(pub, 'manifest.json'));
  const ours = (f) => f.startsWith('decoder_token_types') || f.startsWith('decoder_fused');  // the EndoScribe runtime's graphs
  for (const f of fs.readdirSync(path.join(pub, 'onnx'))) if (ours(f)) fs.rmSync(path.join(pub, 'onnx', f));
  // The public exports' config lists only the files they ship.
  const cfgFile = path.join(pub, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  const ext = cfg['transformers.js_config'].use_external_data_format;
  for (const k of Object.keys(ext)) if (ours(k)) delete ext[k];
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
});
after(() => { for (const d of [built, pub]) if (d) fs.rmSync(d, { recursive: true, force: true }); });

const openPublic = (dir = pub) => ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, p))));

test('the public layout: every variant resolved by its transformers.js name, chunks from config.json', { timeout: 120000 }, async () => {
  const pkg = await openPublic();
  assert.equal(pkg.manifest, null);
  assert.ok(pkg.notices.some((n) => /no manifest/.test(n)));
  assert.deepEqual(pkg.variants().sort(), [...VARIANTS].sort());
  for (const v of VARIANTS) {
    assert.equal(pkg.graphPath('decoder', v), `onnx/decoder_model_merged${SUFFIX[v]}.onnx`);
    assert.equal(pkg.graphPath('decoder_token_types', v), null);
    const g = await pkg.graph('decoder', v);
    const onDisk = fs.readdirSync(path.join(pub, 'onnx')).filter((f) => f.startsWith(`decoder_model_merged${SUFFIX[v]}.onnx_data`)).sort();
    assert.ok(onDisk.length > 1, `${v}: the decoder is chunked`);
    assert.deepEqual(g.externalData.map((d) => d.path).sort(), onDisk);
  }
  // A variant the export does not ship is absent, not guessed.
  const cfg = JSON.parse(fs.readFileSync(path.join(pub, 'config.json'), 'utf8'));
  for (const k of Object.keys(cfg['transformers.js_config'].use_external_data_format)) if (k.includes('_fp16')) delete cfg['transformers.js_config'].use_external_data_format[k];
  const partial = fs.mkdtempSync(path.join(os.tmpdir(), 'es-public-partial-'));
  try {
    fs.cpSync(pub, partial, { recursive: true });
    fs.writeFileSync(path.join(partial, 'config.json'), JSON.stringify(cfg));
    for (const f of fs.readdirSync(path.join(partial, 'onnx'))) if (f.includes('_fp16.')) fs.rmSync(path.join(partial, 'onnx', f));
    const p2 = await openPublic(partial);
    assert.deepEqual(p2.variants().sort(), ['fp32', 'q4', 'q4f16']);
    assert.equal(p2.graphPath('vision_encoder', 'fp16'), null);
    // The app's chooser (webgpu_check.js planExecution, as app_assistant.js calls it) on this layout.
    const f16 = { features: new Set(['shader-f16']), limits: {} }, plain = { features: new Set(), limits: {} };
    assert.equal(defaultVariant(p2), 'fp32');  // the tiny model's fp32 weights are small: full precision
    assert.equal(planExecution({ adapter: f16 }, p2, null).variant, 'fp32');  // no fp16 twin in this export
    assert.equal(planExecution({ adapter: f16 }, p2, 'q4').variant, 'q4f16');
    assert.equal(planExecution({ adapter: plain }, p2, 'q4').variant, 'q4');
    assert.equal(planExecution({ adapter: null, reason: 'no WebGPU' }, p2, 'q4f16').variant, 'q4');
    // The same export at MedGemma-4B's widths (config.json only: no manifest to give sizes): its fp32
    // weights would be ~16 GB, so 4-bit, with f16 activations where the GPU has shader-f16.
    const big = Object.create(p2);
    big.config = { ...p2.config, text_config: { ...p2.textConfig, hidden_size: 2560, intermediate_size: 10240,
      num_hidden_layers: 34, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, vocab_size: 262208 } };
    assert.ok(estimateMemory(big, 'fp32').weights > 8 * 2 ** 30);
    assert.equal(defaultVariant(big), 'q4');
    assert.equal(planExecution({ adapter: f16 }, big, null).variant, 'q4f16');
    assert.equal(planExecution({ adapter: plain }, big, null).variant, 'q4');
    assert.equal(planExecution({ adapter: null, reason: 'no WebGPU' }, big, null).variant, 'q4');
  } finally { fs.rmSync(partial, { recursive: true, force: true }); }
});

test('onnxruntime-web (WASM EP) runs every variant from the bytes package.js hands out', { timeout: 300000 }, async () => {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const pkg = await openPublic();
  const px = gold('pixel_values.npy');
  const want = gold('turn1_logits.npy').data;
  const ids = GOLDEN.turn1_ids;
  // Reference: our own runner (onnxruntime-node) on the causal decoder of the same variant.
  for (const v of VARIANTS) {
    const sess = {};
    for (const g of ['vision_encoder', 'embed_tokens', 'decoder']) {
      const { model, externalData } = await pkg.graph(g, v);
      sess[g] = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], externalData });
    }
    const type = (s, n) => s.inputMetadata.find((m) => m.name === n).type;
    const f = (await sess.vision_encoder.run({ pixel_values: new ort.Tensor('float32', px.data, px.shape) })).image_features;
    const feats = toFloat32(f.data);
    const e = await sess.embed_tokens.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) });
    const embeds = toFloat32(e.inputs_embeds.data);
    const H = 64;
    let row = 0;
    ids.forEach((id, i) => { if (id === 8) embeds.set(feats.subarray(row * H, ++row * H), i * H); });
    const et = type(sess.decoder, 'inputs_embeds'), kt = type(sess.decoder, 'past_key_values.0.key');
    assert.equal(et, v.endsWith('16') ? 'float16' : 'float32');
    assert.equal(kt, et);
    const feeds = { inputs_embeds: new ort.Tensor(et, fromFloat32(embeds, et), [1, ids.length, H]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, ids.length]) };
    for (let i = 0; i < 6; i++) for (const k of ['key', 'value'])
      feeds[`past_key_values.${i}.${k}`] = new ort.Tensor(kt, fromFloat32(new Float32Array(0), kt), [1, 2, 0, 16]);
    const out = await sess.decoder.run(feeds);
    const logits = toFloat32(out.logits.data);
    const r = await PackageRunner.load(built, v, { tokenTypes: false });
    const mine = await r.step(ids, await r.imageFeatures(px.data, px.shape));
    const d = maxAbsDiff(logits, mine.data);
    // same graphs, two builds of onnxruntime (node's CPU EP, web's WASM EP): float rounding only
    assert.ok(d < (v.endsWith('16') ? 2e-2 : 1e-3), `${v}: WASM EP vs onnxruntime-node ${d}`);
    if (v === 'fp32') assert.ok(maxAbsDiff(feats, gold('image_features.npy').data) < 1e-4);
    for (const s of Object.values(sess)) await s.release();
  }
  assert.ok(want.length > 0);
});

test('transformers.js loads all four dtypes of the public layout and generates our tokens', { timeout: 300000 }, async () => {
  const { Gemma3ForConditionalGeneration, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = '/';
  const t = GOLDEN.text_only_ids;
  for (const dtype of VARIANTS) {
    const model = await Gemma3ForConditionalGeneration.from_pretrained(pub, { dtype, device: 'cpu' });
    const out = await model.generate({ input_ids: new Tensor('int64', BigInt64Array.from(t, BigInt), [1, t.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(t.length).fill(1n), [1, t.length]), max_new_tokens: 10,
      do_sample: false, eos_token_id: [] });
    const r = await PackageRunner.load(built, dtype, { tokenTypes: false });
    assert.deepEqual(Array.from(out.data, Number).slice(t.length), await r.greedy(t, 10), dtype);
    if (dtype === 'fp32' || dtype === 'fp16') assert.deepEqual(Array.from(out.data, Number).slice(t.length), GOLDEN.text_only_greedy_ids.slice(0, 10), dtype);
    await model.dispose();
  }
});

test('the assistant runtime answers with a public export in every variant (no token-type decoder)', { timeout: 300000 }, async (t) => {
  const { loadCore } = await import('./assistant_helpers.mjs');
  const { core, why } = await loadCore();
  if (!core) return t.skip(why);
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
  for (const variant of VARIANTS) {
    const pkg = await openPublic();
    const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant });
    assert.ok(rt.notices.some((n) => /without token_type_ids/.test(n)));
    assert.equal(rt.kvType, variant.endsWith('16') ? 'float16' : 'float32');
    const conv = rt.newConversation();
    const px = gold('pixel_values.npy');
    const ans = await rt.ask(conv, 'What is shown in this image?', { image: { key: 'golden', pixelValues: { data: px.data, dims: px.shape } },
      generation: { max_new_tokens: 6 } }).promise;
    assert.ok(ans.ids.length > 0, variant);
    // The causal decoder of the same variant, run by our reference runner, picks the same first token.
    const r = await PackageRunner.load(built, variant, { tokenTypes: false });
    const first = (await r.greedy(GOLDEN.turn1_ids, 1, await r.imageFeatures(px.data, px.shape)))[0];
    assert.equal(ans.ids[0], first, variant);
    conv.free();
    await rt.release?.();
  }
});

test('our package in fp16 / q4f16 on the WASM EP: decoder_fused on the float16 cache, the token-type decoder\'s tokens', { timeout: 300000 }, async (t) => {
  const { loadCore } = await import('./assistant_helpers.mjs');
  const { core, why } = await loadCore();
  if (!core) return t.skip(why);
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
  const px = gold('pixel_values.npy');
  for (const variant of ['fp16', 'q4f16']) {
    const answers = {};
    for (const decoderGraph of [null, 'decoder_token_types']) {
      const rt = await AssistantRuntime.create({ ort, core, pkg: await openPublic(built), executionProviders: ['wasm'], variant, decoderGraph });
      assert.equal(rt.decoderGraph, decoderGraph ?? 'decoder_fused', variant);
      assert.equal(rt.kvType, 'float16');
      const conv = rt.newConversation();
      const ans = await rt.ask(conv, 'What is shown in this image?', { image: { key: 'golden', pixelValues: { data: px.data, dims: px.shape } },
        generation: { max_new_tokens: 8 } }).promise;
      answers[rt.decoderGraph] = ans.ids;
      conv.free();
      await rt.release?.();
    }
    assert.ok(answers.decoder_fused.length > 0, variant);
    assert.deepEqual(answers.decoder_fused, answers.decoder_token_types, variant);
  }
});

// A MedGemma-4B-shaped config (no manifest: sizes from the parameter counts).
function medgemmaPackage(extra = {}) {
  const config = { model_type: 'gemma3', mm_tokens_per_image: 256, tie_word_embeddings: true,
    text_config: { hidden_size: 2560, intermediate_size: 10240, num_hidden_layers: 34, num_attention_heads: 8,
      num_key_value_heads: 4, head_dim: 256, vocab_size: 262208, max_position_embeddings: 131072 },
    vision_config: { hidden_size: 1152, intermediate_size: 4304, num_hidden_layers: 27, num_attention_heads: 16,
      image_size: 896, patch_size: 14 }, ...extra };
  const pkg = Object.create(ModelPackage.prototype);
  Object.assign(pkg, { manifest: null, config, notices: [] });
  return pkg;
}

test('estimateMemory: MedGemma-4B variants from config; manifest sizes for built packages', async () => {
  const pkg = medgemmaPackage();
  const q4 = estimateMemory(pkg, 'q4'), q4f16 = estimateMemory(pkg, 'q4f16'), fp32 = estimateMemory(pkg, 'fp32');
  // 34 layers x (K + V) x 4 KV heads x 256 x 4 B = 272 KiB per token in float32, half in float16.
  assert.equal(q4.kvBytesPerToken, 34 * 2 * 4 * 256 * 4);
  assert.equal(q4f16.kvBytesPerToken, q4.kvBytesPerToken / 2);
  assert.equal(q4.contextLength, PLANNED_CONTEXT);
  assert.equal(q4.kvCache, 2 * q4.kvBytesPerToken * PLANNED_CONTEXT);
  // Stored parameters: vision 0.41 B + embeddings 0.67 B + 34 layers x 94 M + lm_head 0.67 B (the decoder
  // graph keeps its own copy of the tied matrix) = 4.96 B: fp32 19.9 GB, q4 (0.64 B/param) 3.2 GB.
  assert.ok(Math.abs(fp32.weights - 4.96e9 * 4) < 0.05e9 * 4, `${fp32.weights}`);
  assert.ok(Math.abs(q4.weights - 4.96e9 * 20.5 / 32) < 0.05e9, `${q4.weights}`);
  assert.equal(estimateMemory(pkg, 'q4', { contextLength: 1e9 }).contextLength, 131072);
  // A built package: the manifest's sizes of the graphs the runtime loads.
  const built_ = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(built, p))));
  const e = estimateMemory(built_, 'q4');
  const m = built_.manifest;
  const sum = ['vision_encoder', 'embed_tokens', 'decoder_token_types'].reduce((n, g) => {
    const f = m.files.find((x) => x.path === m.graphs[g].q4);
    return n + f.size + f.external_data.reduce((k, d) => k + m.files.find((x) => x.path === d).size, 0);
  }, 0);
  assert.equal(e.weights, sum);
  assert.equal(e.weightsFrom, 'manifest');
});

test('estimateMemory: a package whose runtime decoders keep only the window in the sliding layers', () => {
  // MedGemma-4B's layers: every 6th global (5 of 34), window 1024 (PACKAGE.md "KV cache forms").
  const layerTypes = Array.from({ length: 34 }, (_, i) => ((i + 1) % 6 ? 'sliding_attention' : 'full_attention'));
  const whole = medgemmaPackage();
  const windowed = medgemmaPackage();
  windowed.config.text_config.sliding_window = 1024;
  windowed.manifest = { builder: { kv_cache: { window: ['decoder_token_types', 'decoder_fused'] }, lm_head_rows: 32768 },
    model: { layer_types: layerTypes, sliding_window: 1024 },
    graphs: { decoder_token_types: { q4: 'onnx/decoder_token_types_q4.onnx' } } };
  const perLayer = 2 * 4 * 256 * 4;  // K and V, 4 KV heads x 256, float32: 8 KiB per position per layer
  const a = estimateMemory(whole, 'q4'), b = estimateMemory(windowed, 'q4');
  assert.equal(a.kvWindowBytes, 0);
  assert.equal(b.kvBytesPerToken, 5 * perLayer);
  assert.equal(b.kvWindowBytes, 29 * 1023 * perLayer);
  // 8192 tokens: 2 x (5 x 8192 + 29 x 1023) x 8 KiB = 1.1 GiB instead of 2 x 34 x 8192 x 8 KiB = 4.25 GiB.
  assert.equal(b.kvCache, 2 * (5 * 8192 + 29 * 1023) * perLayer);
  assert.equal(a.kvCache, 2 * 34 * 8192 * perLayer);
  assert.ok(b.kvCache < a.kvCache / 3.5);
  // Shorter than the window: the sliding layers hold the whole (short) conversation.
  assert.equal(estimateMemory(windowed, 'q4', { contextLength: 500 }).kvCache, 2 * 34 * 500 * perLayer);
  // The WASM heap: a package built here holds about 2,600 tokens of conversation (q4, float32 cache); a
  // public export none, as its one 262k-row 4-bit lm_head becomes a 2.7 GB float32 copy on each run there.
  const fa = checkMemoryFit(a, 'wasm'), fb = checkMemoryFit(b, 'wasm');
  assert.equal(fa.ok, false);
  assert.ok(a.activations > 2.68e9, `${a.activations}`);
  assert.ok(b.activations < a.activations - 2.3e9, `${b.activations}`);
  assert.equal(fb.maxContext, Math.floor((4 * 2 ** 30 - b.weights - b.activations - 2 * 29 * 1023 * perLayer) / (2 * 5 * perLayer)));
  assert.ok(fb.maxContext > 2000, `${fb.maxContext}`);
});

test('checkMemoryFit / fitExecutionProviders: the conversation each backend can hold, plain-words refusal', async () => {
  const pkg = medgemmaPackage();
  // As built here (the 4-bit lm_head in 32k-row slices: builder.lm_head_rows), whole-history cache.
  const ours = medgemmaPackage();
  ours.manifest = { builder: { lm_head_rows: 32768 } };
  const GiB = 2 ** 30;
  // fp32 MedGemma-4B (19.9 GB of weights) cannot be in a 4 GiB WASM heap at all.
  const fp32 = estimateMemory(pkg, 'fp32');
  const wasm = checkMemoryFit(fp32, 'wasm');
  assert.equal(wasm.ok, false);
  assert.match(wasm.reason, /at most 4 GiB/);
  assert.match(wasm.reason, /weights \d+\.\d GiB/);
  // q4: the heap holds the weights and activations, and the rest goes to the KV cache (twice during a step).
  const q4 = estimateMemory(ours, 'q4');
  const w = checkMemoryFit(q4, 'wasm');
  const expect = Math.floor((4 * GiB - q4.weights - q4.activations) / (2 * q4.kvBytesPerToken));
  assert.equal(w.maxContext, expect);
  assert.equal(w.ok, expect >= MIN_CONTEXT);
  assert.ok(expect > 512 && expect < 8192, `${expect}`);  // about 900 tokens: one image and a few turns
  // A public export's unsliced lm_head: its float32 copy (2.7 GB) leaves no room in the heap.
  const pub4 = checkMemoryFit(estimateMemory(medgemmaPackage(), 'q4'), 'wasm');
  assert.equal(pub4.ok, false);
  assert.match(pub4.reason, /working memory 2\.\d GiB/);
  // q4f16 halves the cache: more than twice the conversation fits.
  assert.ok(checkMemoryFit(estimateMemory(ours, 'q4f16'), 'wasm').maxContext > 2 * expect);
  const adapter = { limits: { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 } };
  const gpu = checkMemoryFit(q4, 'webgpu', { adapter });
  assert.equal(gpu.ok, false);  // the 4-bit embeddings (~320 MiB) exceed a 128 MiB binding
  assert.match(gpu.reason, /largest weight/);
  const big = { limits: { maxBufferSize: 4 * GiB, maxStorageBufferBindingSize: 4 * GiB } };
  assert.deepEqual(checkMemoryFit(q4, 'webgpu', { adapter: big }), { ok: true, reason: null, maxContext: null });
  assert.equal(checkMemoryFit(q4, 'webgpu', { adapter: big, deviceMemoryGiB: 4 }).ok, false);  // 3 GiB for 3.4
  assert.equal(checkMemoryFit(q4, 'webgpu', { adapter: big, deviceMemoryGiB: 8 }).ok, true);   // "8" = at least 8
  // No backend can: a ModelTooLargeError naming each reason and what to do.
  await assert.rejects(fitExecutionProviders(pkg, 'fp32', ['webgpu', 'wasm'], { adapter }), (e) => {
    assert.ok(e instanceof ModelTooLargeError);
    assert.match(e.message, /does not fit in this browser's memory/);
    assert.match(e.message, /GPU \(WebGPU\)/);
    assert.match(e.message, /CPU \(WASM\)/);
    assert.match(e.message, /Try its smaller .*q4/);
    return true;
  });
  // Both can: the WASM EP's shorter conversation is said and returned.
  const f = await fitExecutionProviders(ours, 'q4', ['webgpu', 'wasm'], { adapter: big });
  assert.deepEqual(f.executionProviders, ['webgpu', 'wasm']);
  assert.deepEqual(f.maxContext, { webgpu: null, wasm: expect });
  assert.ok(f.notices.some((n) => n.includes(`about ${expect} tokens`)));
  // One can: the other is dropped with a notice.
  const g = await fitExecutionProviders(ours, 'q4', ['webgpu', 'wasm'], { adapter });
  assert.deepEqual(g.executionProviders, ['wasm']);
  assert.ok(g.notices.some((n) => /not using webgpu/.test(n)));
  // The tiny package fits everywhere, without a limit worth mentioning.
  const tiny = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(built, p))));
  const t = await fitExecutionProviders(tiny, 'fp32', ['wasm']);
  assert.deepEqual(t.executionProviders, ['wasm']);
  assert.deepEqual(t.notices, []);
});

test('a checkpoint without preprocessor_config.json: the image processor of processor_config.json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-public-proc-'));
  try {
    for (const f of fs.readdirSync(pub)) if (f !== 'onnx') fs.copyFileSync(path.join(pub, f), path.join(dir, f));
    const pre = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8'));
    fs.rmSync(path.join(dir, 'preprocessor_config.json'));
    fs.writeFileSync(path.join(dir, 'processor_config.json'), JSON.stringify({ processor_class: 'Gemma3Processor', image_seq_length: 16, image_processor: pre }));
    const pkg = await openPublic(dir);
    assert.deepEqual(JSON.parse(pkg.preprocessorConfigText), pre);
    fs.writeFileSync(path.join(dir, 'processor_config.json'), JSON.stringify({ processor_class: 'Gemma3Processor' }));
    await assert.rejects(openPublic(dir), /preprocessor_config\.json: cannot read/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
