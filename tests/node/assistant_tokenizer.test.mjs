// The WASM build of the tokenizer (SentencePiece from Debian's source package)
// reproduces the oracle's prompt ids, like the native one does in gtest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TINY, golden, loadCore } from './assistant_helpers.mjs';

const { core, why } = await loadCore();
const opts = { skip: core ? false : why, timeout: 30000 };

test('tokenizer (wasm) reproduces golden prompt ids', opts, () => {
  const tok = core.tokenizer(fs.readFileSync(path.join(TINY, 'checkpoint/tokenizer.model')));
  assert.equal(tok.vocabSize, 1024);
  assert.equal(tok.specialId('bos'), 2);
  const bos = tok.specialId('bos');
  assert.deepEqual([bos, ...tok.encode(golden.turn1_text)], golden.turn1_ids);
  const turn2 = [...golden.turn1_ids, ...golden.turn1_greedy_ids, ...tok.encode(golden.turn2_text)];
  assert.deepEqual(turn2, golden.turn2_prompt_ids);
  const textOnly = [bos, ...tok.encode('<start_of_turn>user\nDraft an endoscopy report.<end_of_turn>\n<start_of_turn>model\n')];
  assert.deepEqual(textOnly, golden.text_only_ids);
  assert.equal(tok.decode(golden.turn1_greedy_ids), golden.turn1_greedy_text);
  // Special-token strings in text, as chat templates emit them.
  assert.deepEqual(tok.encode('<bos><start_of_turn>', { special: true }), [2, 4]);
  assert.equal(tok.decode(tok.encode('Polyp \u00e9tendu \u2192 10 mm')), 'Polyp \u00e9tendu \u2192 10 mm');
  tok.free();
});

test('tokenizer (wasm) rejects a corrupt model with a message', opts, () => {
  assert.throws(() => core.tokenizer(new Uint8Array([1, 2, 3, 250, 251])), /tokenizer\.model/);
});

test('image preprocessing (wasm) reproduces pixel_values.npy', opts, async () => {
  const { readNpy } = await import('./assistant_helpers.mjs');
  const px = core.preprocessImage(fs.readFileSync(path.join(TINY, 'golden/image.png')),
    fs.readFileSync(path.join(TINY, 'checkpoint/preprocessor_config.json'), 'utf8'));
  const ref = readNpy(path.join(TINY, 'golden/pixel_values.npy'));
  assert.deepEqual(px.dims, ref.shape);
  let maxDiff = 0;
  for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(px.data[i] - ref.data[i]));
  assert.ok(maxDiff <= 1e-6, `max |diff| ${maxDiff}`);
  assert.throws(() => core.preprocessImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0]), '{}'), /image/);
  assert.throws(() => core.preprocessImage(fs.readFileSync(path.join(TINY, 'golden/image.png')), '{"size": 3'), /preprocessor_config/);
});

test('boxes and label sets through the wasm core', opts, () => {
  const boxes = core.parseBoxes('polyp at [0.1, 0.2, 0.5, 0.6]', { width: 100, height: 50 });
  assert.equal(boxes.length, 1);
  assert.ok(Math.abs(boxes[0].x1 - 10) < 1e-4 && Math.abs(boxes[0].y2 - 30) < 1e-4);
  assert.equal(core.formatBox({ x1: 0, y1: 0, x2: 50, y2: 25 }, { format: 'normalized_1000', width: 100, height: 50 }),
    '[0, 0, 500, 500]');
  assert.throws(() => core.parseBoxes('x', { format: 'inches', width: 1, height: 1 }), /box format/);
  const hk = core.labelSetForClassification(fs.readFileSync(path.join(ROOT, 'models/labels/hyperkvasir.json'), 'utf8'));
  assert.equal(hk.labels.length, 23);
  const ugi = core.labelSetForClassification(fs.readFileSync(path.join(ROOT, 'models/labels/upper_gi_three_level.json'), 'utf8'));
  assert.ok(ugi.labels.every((l) => l.leaf) && ugi.labels.some((l) => l.id === 'pylorus'));
  assert.ok(!ugi.labels.some((l) => l.id === 'anatomical-structure'));
  assert.throws(() => core.labelSetForClassification('{"labels": ['), /label set/);
});
