// The agent evaluation's items and scoring on a tiny synthetic dataset
// (tests/fixtures/agent-eval/make_dataset.mjs: masks with 0, 1, 2 and 3 known
// parts): the builder is deterministic for a seed and independent of the
// dataset's row order, counting keys follow the mask's parts, grounding
// distractors obey the IoU rule, warm-up and test images are disjoint, the
// item file round-trips and refuses damage; answers are read as letters by
// the metrics core (unparseable = wrong and counted); paired differences.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coreModulePath, ROOT } from './assistant_helpers.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { readDataset } from '../../tools/evaluation/datasets.mjs';
import { labelSpace } from '../../tools/evaluation/tasks.mjs';
import { buildAgentItems, writeItems, readItems, boxIou, countOption, itemQuestion, MAX_DISTRACTOR_IOU, COUNT_OPTIONS } from '../../tools/evaluation/agent_items.mjs';
import { scoreAblation, ablationTables } from '../../tools/evaluation/agent_scoring.mjs';
import { parseAgentArgs, agentItems } from '../../tools/evaluation/agent_cli.mjs';
import { scorePredictions } from '../../web/metrics/metrics_api.js';
import { makeDataset, LAYOUTS } from '../fixtures/agent-eval/make_dataset.mjs';

const corePath = coreModulePath();
const skip = fs.existsSync(corePath) ? false : `WASM core not built: ${corePath}`;
let core, tmp, ds;
const labelsText = fs.readFileSync(path.join(ROOT, 'models/labels/hyperkvasir.json'), 'utf8');

before(async () => {
  if (skip) return;
  core = await loadCores(corePath);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-items-'));
  ds = makeDataset(path.join(tmp, 'ds'));
});
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

function build(dir, opts = {}) {
  const data = readDataset(dir);
  const space = labelSpace(core.assistant, labelsText, ['polyp']);
  const base = space.classOf;
  space.classOf = (c) => base(c) ?? base(`${c}s`);
  return buildAgentItems(data, { space, seg: core.seg, seed: 3, perTask: 20, warmup: 3, ...opts });
}

test('the same seed gives the same item file, whatever the order of the dataset rows; another seed another', { skip }, () => {
  const a = path.join(tmp, 'a.jsonl'), b = path.join(tmp, 'b.jsonl'), c = path.join(tmp, 'c.jsonl');
  const ha = writeItems(a, build(ds.dir));
  // The same dataset with its rows reversed.
  const rev = path.join(tmp, 'rev');
  fs.cpSync(ds.dir, rev, { recursive: true });
  const lines = fs.readFileSync(path.join(rev, 'labels.csv'), 'utf8').trim().split('\n');
  fs.writeFileSync(path.join(rev, 'labels.csv'), `${[lines[0], ...lines.slice(1).reverse()].join('\n')}\n`);
  const built = build(rev, { datasetName: 'ds' });
  const hb = writeItems(b, built);
  assert.equal(hb, ha);
  assert.equal(fs.readFileSync(b, 'utf8'), fs.readFileSync(a, 'utf8'));
  const hc = writeItems(c, build(ds.dir, { seed: 4 }));
  assert.notEqual(hc, ha);
  const back = readItems(a);
  assert.equal(back.sha256, ha);
  assert.equal(back.header.seed, 3);
  assert.equal(back.items.length, built.items.length);
});

test('warm-up and test items never share an image; each task has its warm-up and test items', { skip }, () => {
  const { items } = build(ds.dir);
  const warm = new Set(items.filter((i) => i.split === 'warmup').map((i) => i.image));
  const testImages = new Set(items.filter((i) => i.split === 'test').map((i) => i.image));
  assert.equal(warm.size, 3);
  for (const im of warm) assert.ok(!testImages.has(im), im);
  for (const t of ['classification', 'counting']) {
    assert.equal(items.filter((i) => i.task === t && i.split === 'warmup').length, 3);
    assert.equal(items.filter((i) => i.task === t && i.split === 'test').length, LAYOUTS.length - 3);
  }
});

test('counting: the key is the number of separate parts of the mask (0, 1, 2, 3 or more; specks left out)', { skip }, () => {
  const { items } = build(ds.dir);
  const counting = items.filter((i) => i.task === 'counting');
  assert.equal(counting.length, LAYOUTS.length);
  const seen = new Set();
  for (const it of counting) {
    const truth = ds.masks.find((m) => m.image === it.image).parts.length;
    assert.equal(it.truth, truth, it.image);
    assert.equal(it.options[it.answer], countOption(truth));
    assert.deepEqual(Object.values(it.options).sort(), [...COUNT_OPTIONS].sort());
    seen.add(truth);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3]);
  // The speck image (two rectangles, one of 9 px) counts 1.
  assert.equal(counting.find((i) => i.image === 'images/img_08.png').truth, 1);
  const letters = new Set(counting.map((i) => i.answer));
  assert.ok(letters.size >= 3, `the key's letter varies (${[...letters]})`);
});

test('grounding: the key is a part\'s box; the three others lie in the image and overlap no part nor each other by IoU > 0.3', { skip }, () => {
  const { items, skipped } = build(ds.dir);
  const grounding = items.filter((i) => i.task === 'grounding');
  // The empty mask cannot be grounded: left out with the reason.
  assert.ok(skipped.some((s) => s.task === 'grounding' && s.image === 'images/img_00.png' && /empty/.test(s.reason)));
  assert.equal(grounding.length, LAYOUTS.length - 1);
  for (const it of grounding) {
    const parts = ds.masks.find((m) => m.image === it.image).parts;
    const box = (t) => { const [x1, y1, x2, y2] = JSON.parse(t); return { x1, y1, x2, y2 }; };
    const key = box(it.options[it.answer]);
    assert.ok(parts.some((p) => p.x1 === key.x1 && p.y1 === key.y1 && p.x2 === key.x2 && p.y2 === key.y2), `${it.image}: ${it.options[it.answer]}`);
    const others = Object.entries(it.options).filter(([l]) => l !== it.answer).map(([, t]) => box(t));
    assert.equal(others.length, 3);
    for (const o of others) {
      assert.ok(o.x1 >= 0 && o.y1 >= 0 && o.x2 <= 64 && o.y2 <= 48 && o.x2 > o.x1 && o.y2 > o.y1, JSON.stringify(o));
      for (const p of [...parts, key]) assert.ok(boxIou(o, p) <= MAX_DISTRACTOR_IOU, `${it.image}: ${JSON.stringify(o)} vs ${JSON.stringify(p)}`);
      for (const q of others) if (q !== o) assert.ok(boxIou(o, q) <= MAX_DISTRACTOR_IOU);
    }
    assert.match(itemQuestion(it), /64x48 image\) contains .*\nOptions:\nA\. \[/);
  }
});

test('classification: the image\'s class and three other labels of the set, four different options', { skip }, () => {
  const { items } = build(ds.dir);
  const cls = items.filter((i) => i.task === 'classification');
  assert.ok(cls.length > 0);
  for (const it of cls) {
    assert.equal(it.options[it.answer], 'Polyps');
    assert.equal(it.truth, 'polyps');
    assert.equal(new Set(Object.values(it.options)).size, 4);
  }
  // Without a label set a one-class dataset cannot give four options: said plainly.
  const s = parseAgentArgs([ds.dir, '--out', path.join(tmp, 'nolabels')]);
  assert.throws(() => agentItems(s, core, () => {}), /1 class\(es\) \(polyp\).*--labels/);
});

test('a damaged item file is refused with its line', { skip }, () => {
  const f = path.join(tmp, 'bad.jsonl');
  writeItems(f, build(ds.dir));
  const lines = fs.readFileSync(f, 'utf8').split('\n');
  const it = JSON.parse(lines[2]);
  it.answer = 'E';
  lines[2] = JSON.stringify(it);
  fs.writeFileSync(f, lines.join('\n'));
  assert.throws(() => readItems(f), /line 3: the answer 'E' is not one of its options/);
  fs.writeFileSync(f, `${lines[0]}\n{not json\n`);
  assert.throws(() => readItems(f), /line 2 is not JSON/);
});

test('scoring: answers read as letters by the metrics core; an unreadable answer is wrong and counted', { skip }, () => {
  const opts = { A: '0', B: '1', C: '2', D: '3 or more' };
  const rec = (config, item, answer, truth = 'B', task = 'counting') => ({ key: `${config}|${item}`, config, item, task, truth, options: opts, answer });
  const records = [
    rec('single', 'i1', 'B'), rec('single', 'i2', 'I cannot tell'), rec('single', 'i3', 'Answer: C', 'C'), rec('single', 'i4', null),
    rec('reflection', 'i1', 'B'), rec('reflection', 'i2', 'B'), rec('reflection', 'i3', 'A', 'C'), rec('reflection', 'i4', 'The count is 1', 'B'),
  ];
  const s = scoreAblation(core.module, records, { bootstrap: 200, seed: 1, configs: ['single', 'reflection'] });
  assert.equal(s.chosen.get('single|i1'), 'B');
  assert.equal(s.chosen.get('single|i2'), null);
  assert.equal(s.chosen.get('single|i3'), 'C');
  assert.equal(s.chosen.get('single|i4'), null);
  assert.equal(s.chosen.get('reflection|i4'), 'B');  // the only option text named
  const single = s.accuracy.find((a) => a.config === 'single' && a.task === 'counting');
  assert.equal(single.accuracy.value, 0.5);
  assert.equal(single.unmapped, 2);
  const refl = s.accuracy.find((a) => a.config === 'reflection' && a.task === 'all');
  assert.equal(refl.accuracy.value, 0.75);
  const d = s.differences.find((x) => x.first === 'single' && x.second === 'reflection' && x.task === 'counting');
  assert.equal(d.items, 4);
  assert.equal(d.difference.value, 0.25);
  assert.equal(d.first_only, 1);   // i3
  assert.equal(d.second_only, 2);  // i2, i4
  assert.equal(d.both_right, 1);
  assert.equal(d.mcnemar_p, 1);    // 2 * P(X <= 1), X ~ Bin(3, 1/2) = 2 * 0.5 = 1
  assert.ok(d.difference.low <= 0.25 && d.difference.high >= 0.25);
  const tables = ablationTables(s);
  assert.match(tables.accuracy, /\| single pass \| 0\.500 \[.*\] \(n=4, 2 unmapped\) \|/);
  assert.match(tables.differences, /single pass → \+ reflection \| counting \| 4 \| \+0\.250/);
});

test('paired difference in the metrics core: values, McNemar exact p, bad input refused', { skip }, () => {
  const first = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0], second = [0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
  const r = scorePredictions(core.module, { task: 'paired_difference', first, second, bootstrap: { resamples: 500, seed: 2 } });
  assert.equal(r.items, 10);
  assert.equal(r.metrics.first_accuracy.value, 0.8);
  assert.equal(r.metrics.second_accuracy.value, 0.2);
  assert.ok(Math.abs(r.metrics.difference.value + 0.6) < 1e-12);
  assert.equal(r.first_only, 7);
  assert.equal(r.second_only, 1);
  // 2 * (C(8,0) + C(8,1)) / 2^8 = 18 / 256
  assert.ok(Math.abs(r.mcnemar_p - 18 / 256) < 1e-12, r.mcnemar_p);
  assert.ok(r.metrics.difference.high < 0, 'the interval excludes 0 here');
  const big = Array(2000).fill(1);
  const r2 = scorePredictions(core.module, { task: 'paired_difference', first: big, second: big.map((_, i) => (i % 2)), bootstrap: false });
  // 2 * 0.5^1000: summed in log space, not lost to underflow.
  assert.ok(Math.abs(r2.mcnemar_p / (2 * 2 ** -1000) - 1) < 1e-9, r2.mcnemar_p);
  assert.equal(r2.first_only, 1000);
  assert.throws(() => scorePredictions(core.module, { task: 'paired_difference', first: [1, 0.5], second: [1, 0] }), /first\[1\] must be 1 \(right\) or 0 \(wrong\)/);
  assert.throws(() => scorePredictions(core.module, { task: 'paired_difference', first: [1], second: [1, 0] }), /"first" has 1 entries but "second" has 2/);
});
