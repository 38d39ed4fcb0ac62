// Grounding helpers over the wasm core: boxes in answers, region questions, crops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCore } from './assistant_helpers.mjs';
import { groundingConfig, boxesInAnswer, regionQuestion, cropRegion } from '../../web/assistant/grounding.js';

const { core, why } = await loadCore();
const opts = { skip: core ? false : why, timeout: 30000 };

const image = () => {
  const width = 8, height = 4, rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba[i * 4] = i;  // red = pixel index
  return { key: 'img', rgba, width, height };
};

test('package grounding config with defaults', { timeout: 30000 }, () => {
  assert.deepEqual(groundingConfig({ config: {} }), { format: 'auto', order: 'xyxy', regionInput: 'coordinates' });
  const cfg = groundingConfig({ config: { endoscribe: { grounding: { box_format: 'paligemma_loc', region_input: 'crop' } } } });
  assert.equal(cfg.format, 'paligemma_loc');
  assert.equal(cfg.regionInput, 'crop');
});

test('boxes in answers follow the package convention', opts, () => {
  const cfg = { format: 'normalized_1000', order: 'yxyx', regionInput: 'coordinates' };
  const boxes = boxesInAnswer(core, 'Polyp: [250, 500, 750, 1000]', { width: 800, height: 400 }, cfg);
  assert.equal(boxes.length, 1);
  assert.deepEqual([boxes[0].x1, boxes[0].y1, boxes[0].x2, boxes[0].y2], [400, 100, 800, 300]);
});

test('region question with coordinates, and crops', opts, () => {
  const img = image();
  const q = regionQuestion(core, { x1: 2, y1: 1, x2: 6, y2: 3 }, img, { format: 'auto', order: 'xyxy', regionInput: 'both' });
  assert.equal(q.question, 'What is in this region? Region: [250, 250, 750, 750]');
  assert.equal(q.image.width, 4);
  assert.equal(q.image.height, 2);
  assert.equal(q.image.rgba[0], 1 * 8 + 2);        // pixel (2, 1)
  assert.equal(q.image.rgba[(1 * 4 + 3) * 4], 2 * 8 + 5);  // pixel (5, 2)
  assert.notEqual(q.image.key, img.key);
  const edge = cropRegion(img, { x1: 7.5, y1: 3.5, x2: 9, y2: 9 });
  assert.deepEqual([edge.width, edge.height], [1, 1]);
});
