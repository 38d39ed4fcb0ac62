// The evaluation tool end to end with a real model: the tiny random test
// model (tests/fixtures/tiny-gemma3, built by tools/build_model.py) on
// onnxruntime-node through our runtime, over a few real polyp images from
// ../shared/datasets (skipped with a message when they are absent). The
// figures are at chance (random weights); what is checked is the pipeline:
// every answer recorded, probabilities over the whole label set, the report
// saying it is a test model, the same seed giving the same answers, and the
// segmentation protocol folded in under the same command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { coreModulePath, ROOT, TINY } from './assistant_helpers.mjs';
import { parseArgs } from '../../tools/evaluate.mjs';
import { runEvaluation } from '../../tools/evaluation/run.mjs';
import { writeResults } from '../../tools/evaluation/results.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { readPredictions } from '../../tools/evaluation/predictions.mjs';

const DATASETS = [process.env.ES_DATASETS, path.resolve(fileURLToPath(import.meta.url), '../../../../shared/datasets')]
  .find((d) => d && fs.existsSync(path.join(d, 'kvasir-seg/labels.csv')));
const corePath = coreModulePath();
const skip = !fs.existsSync(corePath) ? `WASM core not built: ${corePath}`
  : !DATASETS ? 'shared datasets not found (set ES_DATASETS or put them in ../shared/datasets): the tiny-model run over real images is skipped'
  : !fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3 missing (builds the tiny package)' : false;
let core, tmp, pkg;
const quiet = () => {};
const sink = { write() {} };  // the progress line, not wanted in test output
const settings = (argv) => ({ ...parseArgs(argv), core: corePath, threads: 1 });

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-eval-tiny-'));
  pkg = path.join(tmp, 'pkg');
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'), pkg, '--quant', 'none', '--quiet',
    '--test-model', 'random weights: a pipeline test, not a model'], { stdio: 'pipe' });
  core = await loadCores(corePath);
});
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

test('classification on real images with the tiny model (local backend): label scoring and generation', { skip, timeout: 300000 }, async () => {
  // Two classes by source: three Kvasir-SEG and three CVC-ClinicDB frames.
  const cls = path.join(tmp, 'cls');
  for (const [name, src] of [['kvasir', 'kvasir-seg'], ['cvc', 'cvc-clinicdb']]) {
    fs.mkdirSync(path.join(cls, name), { recursive: true });
    for (const f of fs.readdirSync(path.join(DATASETS, src, 'images')).sort().slice(0, 3)) fs.symlinkSync(path.join(DATASETS, src, 'images', f), path.join(cls, name, f));
  }
  const out = path.join(tmp, 'out-cls');
  await runEvaluation(settings(['classification', cls, '--model', pkg, '--classify-by', 'both', '--max-tokens', '8', '--out', out]), core, { log: quiet, progressStream: sink });
  const scores = await writeResults(out, { core, bootstrap: 100 });
  const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
  assert.equal(records.length, 12);
  assert.ok(records.every((r) => r.status === 'ok'), JSON.stringify(records.filter((r) => r.status !== 'ok')));
  for (const r of records.filter((x) => x.method === 'scoring')) {
    assert.equal(r.probabilities.length, 2);
    assert.ok(Math.abs(r.probabilities[0] + r.probabilities[1] - 1) < 1e-6);
    assert.equal(r.log_likelihoods.length, 2);
  }
  for (const r of records.filter((x) => x.method === 'generation')) {
    assert.equal(typeof r.raw, 'string');
    assert.ok(r.timings.tokens >= 1 && r.timings.tokens <= 8 && r.timings.tokens_per_s > 0);
  }
  assert.deepEqual(scores.results.filter((r) => r.task === 'classification').map((r) => [r.name, r.items]), [['scoring', 6], ['generation', 6]]);
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.match(html, /Test model with random weights/);
  assert.equal(scores.run.backend.backend, 'local');
});

test('REC and counting over Kvasir-SEG with the tiny model; the same seed gives the same sampled answers', { skip, timeout: 300000 }, async () => {
  const seg = path.join(DATASETS, 'kvasir-seg');
  const rec = path.join(tmp, 'out-rec');
  await runEvaluation(settings(['rec', seg, '--model', pkg, '--limit', '3', '--max-tokens', '12', '--out', rec]), core, { log: quiet, progressStream: sink });
  const r = await writeResults(rec, { core, bootstrap: 0 });
  const g = r.results.find((x) => x.task === 'grounding');
  assert.equal(g.items + r.counts.skipped, 3);
  assert.equal(g.iou.length, g.items);
  const sampled = (out) => runEvaluation(settings(['count', seg, '--model', pkg, '--limit', '3', '--max-tokens', '12', '--temperature', '1', '--seed', '5', '--out', out]), core, { log: quiet, progressStream: sink });
  await sampled(path.join(tmp, 'count-a'));
  await sampled(path.join(tmp, 'count-b'));
  const answers = (d) => readPredictions(path.join(d, 'predictions.jsonl')).records.map((x) => x.raw);
  assert.deepEqual(answers(path.join(tmp, 'count-a')), answers(path.join(tmp, 'count-b')));
  assert.equal(answers(path.join(tmp, 'count-a')).length, 3);
});

test('the segmentation protocol runs under the same command and writes the same kind of results folder', { skip, timeout: 300000 }, () => {
  const out = path.join(tmp, 'out-seg');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools/evaluate.mjs'), 'segmentation', path.join(DATASETS, 'cvc-clinicdb'), '--limit', '1',
    '--max-clicks', '2', '--strategies', 'feedback', '--no-reference', '--threads', '1', '--core', corePath, '--out', out], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| ours \(core \+ ort-web WASM\), feedback \| \d\.\d{3} \|/);
  const csv = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8');
  assert.match(csv, /feedback,miou@1,0\.\d+,1/);
  assert.match(csv, /box prompt,box_miou,0\.\d+,1/);
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg/g) ?? []).length, 2);  // IoU after the last click (one strategy), IoU of the box prompt
});
