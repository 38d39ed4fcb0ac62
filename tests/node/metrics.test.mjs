// metrics.test.mjs: the metrics of the WASM core (es_metrics_score_predictions
// through web/metrics/metrics_api.js) give the same text as the native
// command tools/score_predictions for the same input, bootstrap intervals
// included (own splitmix64 generator, no libc++/libstdc++ differences), and
// refuse bad input with the same plain-words message.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNodeCore } from '../../web/segmentation/node_core.js';
import { scorePredictions, MetricsError } from '../../web/metrics/metrics_api.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = path.resolve(root, process.env.ES_BUILD_DIR || 'build');
const modulePath = path.join(build, 'wasm/node/endoscribe_core.mjs');
const tool = path.join(build, 'native/tools/score_predictions');

let M = null;
before(async () => {
  if (fs.existsSync(modulePath)) M = (await loadNodeCore(modulePath)).m;
});

// A seeded pseudo-random classification run (no Math.random: the same input every time).
function classificationTask(n, k, seed) {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  const labels = Array.from({ length: k }, (_, i) => `class ${i}`);
  const truth = [], predicted = [], probabilities = [];
  for (let i = 0; i < n; i++) {
    const t = Math.floor(next() * k);
    const w = labels.map((_, c) => Math.floor(next() * 4) + (c === t ? 2 : 0));
    const sum = w.reduce((a, b) => a + b, 0);
    probabilities.push(w.map((x) => x / sum));
    truth.push(t);
    predicted.push(next() < 0.1 ? null : w.indexOf(Math.max(...w)));
  }
  return { task: 'classification', labels, truth, predicted, probabilities,
    train_counts: labels.map((_, c) => (c % 2 ? 40 : 160)), bootstrap: { resamples: 400, seed: 99 } };
}

// A COCO file as the app exports it: one 10 x 10 image, polyp boxes.
function coco(boxes) {
  return { images: [{ id: 1, file_name: 'a.png', width: 10, height: 10 }], categories: [{ id: 1, name: 'polyp' }],
    annotations: boxes.map((bbox, i) => ({ id: i + 1, image_id: 1, category_id: 1, bbox, area: bbox[2] * bbox[3], iscrowd: 0, segmentation: [] })) };
}

function native(input) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-metrics-'));
  const file = path.join(dir, 'in.json');
  fs.writeFileSync(file, typeof input === 'string' ? input : JSON.stringify(input));
  const r = spawnSync(tool, [file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return r;
}

const INPUTS = [
  classificationTask(300, 5, 1),
  classificationTask(40, 23, 2),
  { tasks: [
    { task: 'grounding', truth: [[0, 0, 10, 10], [5, 5, 20, 20], [1, 1, 3, 3]], predicted: [[2, 0, 10, 10], null, [1, 1, 3, 3]] },
    { task: 'text', references: ['A 5 mm sessile polyp in the sigmoid colon.', ['No bleeding.', 'There was no bleeding.']],
      generated: ['Sessile polyp, 5 mm, sigmoid.', 'no bleeding'] },
    { task: 'multiple_choice', items: [{ question: 'q1', truth: 'A', predicted: 'A' }, { question: 'q1', truth: 'C', predicted: 'B' },
      { question: 'q2', truth: 'B', predicted: 'B' }] },
    { task: 'label_agreement', labels: ['polyp', 'normal'], first: ['polyp', 'normal', 'polyp'], second: ['polyp', 'polyp', 'polyp'] },
    { task: 'classification', labels: ['polyps', 'normal-cecum'], synonyms: { polyps: ['polyp'] }, truth: [0, 1, 0, 1],
      answers: ['A polyp.', 'normal cecum', 'no idea', 'polyp'] },
    { task: 'annotation_agreement', match_iou: 0.5, first: coco([[0, 0, 4, 4]]), second: coco([[1, 0, 4, 4], [6, 6, 2, 2]]) },
  ] },
];

test('WASM metrics equal the native command byte for byte, intervals included', (t) => {
  if (!M || typeof M._es_metrics_score_predictions !== 'function') { t.skip('WASM Node module without metrics: build with scripts/build.sh'); return; }
  if (!fs.existsSync(tool)) { t.skip(`${tool} is not built`); return; }
  for (const input of INPUTS) {
    const r = native(input);
    assert.equal(r.status, 0, r.stderr);
    const wasm = scorePredictions(M, input);
    assert.equal(JSON.stringify(wasm), JSON.stringify(JSON.parse(r.stdout)));
  }
  const first = scorePredictions(M, INPUTS[0]);
  assert.ok(first.metrics.accuracy.low < first.metrics.accuracy.value && first.metrics.accuracy.value < first.metrics.accuracy.high);
  assert.equal(first.groups.length, 2);
  assert.equal(first.confusion_matrix.matrix.length, 5);
  const several = scorePredictions(M, INPUTS[2]).results;
  assert.deepEqual(several[4].mapped_answers, ['polyps', 'normal-cecum', null, 'polyps']);
  assert.equal(several[5].objects.matched, 1);  // IoU 12/20 = 0.6
  assert.equal(several[5].metrics.object_precision.value, 0.5);
});

test('bad input is refused with the same plain message in WASM and natively', (t) => {
  if (!M || typeof M._es_metrics_score_predictions !== 'function') { t.skip('WASM Node module without metrics: build with scripts/build.sh'); return; }
  const bad = { task: 'classification', labels: ['a', 'b'], truth: ['a', 'b'], predicted: ['a', 'c'] };
  assert.throws(() => scorePredictions(M, bad), (e) => e instanceof MetricsError && /predicted\[1\] is "c", which is not one of the labels/.test(e.message));
  assert.throws(() => scorePredictions(M, '{"task": '), (e) => /not valid JSON/.test(e.message) && /line 1/.test(e.detail));
  if (fs.existsSync(tool)) {
    const r = native(bad);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /predicted\[1\] is "c", which is not one of the labels/);
  }
  // The module still works after a refusal.
  assert.equal(scorePredictions(M, { task: 'counting', truth: [1, 2], predicted: [1, 2] }).metrics.accuracy.value, 1);
});
