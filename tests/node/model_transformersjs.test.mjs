// transformers.js 4.x loads a package built by tools/build_model.py unchanged (tokenizer.json, configs,
// vision_encoder + embed_tokens + decoder_model_merged with external data) and generates. The package is
// built with a grounding convention, so config.json carries the extra "endoscribe" block throughout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { AutoProcessor, AutoTokenizer, Gemma3ForConditionalGeneration, RawImage, Tensor, env } from '@huggingface/transformers';
import { FIXTURE, GOLDEN, PackageRunner, buildPackage, maxAbsDiff, readNpy } from './model_helpers.mjs';
import { groundingConfig } from '../../web/assistant/grounding.js';

env.allowRemoteModels = false;
env.localModelPath = '/';
let pkg;
const GROUNDING = { box_format: 'normalized_1000', box_order: 'yxyx', region_input: 'both' };
before(() => {
  pkg = path.resolve(buildPackage(path.join(FIXTURE, 'checkpoint'), ['--grounding', JSON.stringify(GROUNDING)]));
});
after(() => fs.rmSync(pkg, { recursive: true, force: true }));

const ids = (a) => new Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]);
const ones = (n) => new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);

test('config.json carries the grounding convention the runtime reads', { timeout: 120000 }, () => {
  const config = JSON.parse(fs.readFileSync(path.join(pkg, 'config.json'), 'utf8'));
  assert.deepEqual(config.endoscribe, { grounding: GROUNDING });
  assert.deepEqual(groundingConfig({ config }), { format: 'normalized_1000', order: 'yxyx', regionInput: 'both' });
});

test('tokenizer.json tokenizes the golden prompts like SentencePiece', { timeout: 120000 }, async () => {
  const tok = await AutoTokenizer.from_pretrained(pkg);
  assert.deepEqual(Array.from(tok(GOLDEN.turn1_text).input_ids.data, Number), GOLDEN.turn1_ids);
  assert.deepEqual(Array.from(tok(GOLDEN.turn2_text, { add_special_tokens: false }).input_ids.data, Number),
    GOLDEN.turn2_prompt_ids.slice(GOLDEN.turn1_ids.length + GOLDEN.turn1_greedy_ids.length));
  assert.equal(tok.decode(GOLDEN.turn1_greedy_ids), GOLDEN.turn1_greedy_text);
});

test('AutoProcessor (chat template + image) builds the golden prompt and pixel values', { timeout: 120000 }, async () => {
  const p = await AutoProcessor.from_pretrained(pkg);
  const text = p.apply_chat_template([{ role: 'user', content: '<start_of_image>What is shown in this image?' }],
    { add_generation_prompt: true });
  const img = await RawImage.read(path.join(FIXTURE, 'golden/image.png'));
  const inp = await p(text, img, { add_special_tokens: false });
  assert.deepEqual(Array.from(inp.input_ids.data, Number), GOLDEN.turn1_ids);
  assert.ok(maxAbsDiff(inp.pixel_values.data, readNpy(path.join(FIXTURE, 'golden/pixel_values.npy')).data) < 1e-5);
});

test('fp32: text-only greedy equals golden; image prompt equals our causal decoder', { timeout: 120000 }, async () => {
  const model = await Gemma3ForConditionalGeneration.from_pretrained(pkg, { dtype: 'fp32', device: 'cpu' });
  const t = GOLDEN.text_only_ids;
  const out = await model.generate({ input_ids: ids(t), attention_mask: ones(t.length), max_new_tokens: 24,
    do_sample: false, eos_token_id: [] });
  assert.deepEqual(Array.from(out.data, Number).slice(t.length), GOLDEN.text_only_greedy_ids);
  // transformers.js feeds no token_type_ids: compare its image generation with decoder_model_merged run directly.
  const px = readNpy(path.join(FIXTURE, 'golden/pixel_values.npy'));
  const t1 = GOLDEN.turn1_ids;
  const out1 = await model.generate({ input_ids: ids(t1), attention_mask: ones(t1.length),
    pixel_values: new Tensor('float32', px.data, px.shape), max_new_tokens: 12, do_sample: false, eos_token_id: [] });
  const r = await PackageRunner.load(pkg, 'fp32', { tokenTypes: false });
  const mine = await r.greedy(t1, 12, await r.imageFeatures(px.data, px.shape));
  assert.deepEqual(Array.from(out1.data, Number).slice(t1.length), mine);
  await model.dispose();
});

test('q4 loads and generates the same tokens as our q4 graphs', { timeout: 120000 }, async () => {
  const model = await Gemma3ForConditionalGeneration.from_pretrained(pkg, { dtype: 'q4', device: 'cpu' });
  const t = GOLDEN.text_only_ids;
  const out = await model.generate({ input_ids: ids(t), attention_mask: ones(t.length), max_new_tokens: 12,
    do_sample: false, eos_token_id: [] });
  const r = await PackageRunner.load(pkg, 'q4', { tokenTypes: false });
  assert.deepEqual(Array.from(out.data, Number).slice(t.length), await r.greedy(t, 12));
  await model.dispose();
});
