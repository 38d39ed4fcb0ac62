// The evaluation tool against the real endoscribe-server (server/API.md) with
// the tiny test model: the server's answers must be the local runtime's
// answers (same package, greedy decoding), image by image, through the
// OpenAI-compatible route, and its label scoring (/v1/endoscribe/classify,
// when the server has it) the local probabilities. Skipped, with the reason,
// when the server is not built with model support (build/native/server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { coreModulePath, ROOT, TINY } from './assistant_helpers.mjs';
import { parseArgs } from '../../tools/evaluate.mjs';
import { runEvaluation } from '../../tools/evaluation/run.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { readPredictions } from '../../tools/evaluation/predictions.mjs';
import { waitModelReady } from './server_helpers.mjs';

const serverBin = process.env.ES_SERVER_BIN || path.resolve(ROOT, process.env.ES_BUILD_DIR || 'build', 'native/server/endoscribe-server');
const DATASETS = [process.env.ES_DATASETS, path.resolve(fileURLToPath(import.meta.url), '../../../../shared/datasets')]
  .find((d) => d && fs.existsSync(path.join(d, 'kvasir-seg/labels.csv')));
const corePath = coreModulePath();
function why() {
  if (!fs.existsSync(corePath)) return `WASM core not built: ${corePath}`;
  if (!fs.existsSync(serverBin)) return `server not built: ${serverBin}`;
  if (!/--model/.test(spawnSync(serverBin, ['--help'], { encoding: 'utf8' }).stdout + spawnSync(serverBin, ['--help'], { encoding: 'utf8' }).stderr)) return 'this server build has no --model (inference engine not merged)';
  if (!DATASETS) return 'shared datasets not found (set ES_DATASETS or put them in ../shared/datasets)';
  if (!fs.existsSync('/usr/bin/python3')) return '/usr/bin/python3 missing (builds the tiny package)';
  return false;
}
const skip = why();
let tmp, pkg, server, url, core;

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-eval-server-'));
  pkg = path.join(tmp, 'pkg');
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'), pkg, '--quiet', '--test-model', 'random weights'], { stdio: 'pipe' });
  fs.mkdirSync(path.join(tmp, 'root'));
  fs.writeFileSync(path.join(tmp, 'root/index.html'), '<!doctype html>');
  server = spawn(serverBin, ['--root', path.join(tmp, 'root'), '--config', path.join(ROOT, 'server/config.json'), '--port', '0', '--model', pkg, '--cpu'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  server.stderr.on('data', (d) => { err += d; });
  url = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => { out += d; const m = /listening on (http:\/\/\S+?)\/?\n/.exec(out); if (m) resolve(m[1]); });
    server.on('exit', (code) => reject(new Error(`the server exited (${code}): ${err}`)));
  });
  await waitModelReady(url);  // the model loads after the server listens
  core = await loadCores(corePath);
  // Four real images in two classes.
  for (const [name, src] of [['kvasir', 'kvasir-seg'], ['cvc', 'cvc-clinicdb']]) {
    fs.mkdirSync(path.join(tmp, 'cls', name), { recursive: true });
    for (const f of fs.readdirSync(path.join(DATASETS, src, 'images')).sort().slice(0, 2)) fs.symlinkSync(path.join(DATASETS, src, 'images', f), path.join(tmp, 'cls', name, f));
  }
});
after(() => {
  if (server) server.kill('SIGTERM');
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const run = async (extra, out) => {
  await runEvaluation({ ...parseArgs(['classification', path.join(tmp, 'cls'), '--classify-by', 'generation', '--max-tokens', '10', '--out', out, ...extra]), core: corePath, threads: 1 }, core, { log: () => {}, progressStream: { write() {} } });
  return new Map(readPredictions(path.join(out, 'predictions.jsonl')).records.map((r) => [r.key, r]));
};

test('the server answers each image as our runtime does (greedy, same package), through the OpenAI route', { skip, timeout: 300000 }, async () => {
  // Neither side is told a variant: both pick by the one rule (web/assistant/variant_rule.json), fp32 here.
  const local = await run(['--model', pkg], path.join(tmp, 'local'));
  const remote = await run(['--backend', 'openai', '--url', url], path.join(tmp, 'openai'));
  const served = (await (await fetch(`${url}/v1/models`)).json()).data[0].endoscribe.variant;
  assert.equal(served, 'fp32', 'the server picks fp32 for the small test package, as the app does');
  assert.equal(remote.size, 4);
  for (const [key, r] of local) {
    const o = remote.get(key);
    assert.equal(o.status, 'ok');
    assert.deepEqual(Object.keys(o).filter((k) => k !== 'timings').sort(), Object.keys(r).filter((k) => k !== 'timings').sort());
    assert.equal(o.raw, r.raw, `${key}: the server's answer differs from the local runtime's (${JSON.stringify([...local].map(([k, x]) => [k, x.raw, remote.get(k).raw]))})`);
  }
});

test('label scoring through the server matches our runtime', { skip, timeout: 300000 }, async (t) => {
  const probe = await fetch(`${url}/v1/endoscribe/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  if (probe.status === 404 && /route/i.test(await probe.text())) { t.skip('this server has no /v1/endoscribe/classify yet'); return; }
  const scoring = ['--classify-by', 'scoring'];
  const local = await run([...scoring, '--model', pkg], path.join(tmp, 'local-s'));
  const remote = await run([...scoring, '--backend', 'server', '--url', url], path.join(tmp, 'server-s'));
  for (const [key, r] of local) {
    const o = remote.get(key);
    o.probabilities.forEach((p, i) => assert.ok(Math.abs(p - r.probabilities[i]) < 1e-3, `${key}: ${o.probabilities} vs ${r.probabilities}`));
  }
});

test('the server marks a test model in /v1/models, and a remote run\'s report carries the test-model banner', { skip, timeout: 300000 }, async () => {
  const models = await (await fetch(`${url}/v1/models`)).json();
  assert.equal(models.data[0].endoscribe.test_model, true, `GET /v1/models: ${JSON.stringify(models)}`);
  const out = path.join(tmp, 'server-banner');
  await run(['--backend', 'server', '--url', url, '--limit', '2'], out);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'dataset.json'), 'utf8')).test_model, true);
  const { writeResults } = await import('../../tools/evaluation/results.mjs');
  await writeResults(out, { core, bootstrap: 20 });
  assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /Test model with random weights/);
  // The whole run as one JSON array too, the same records as the JSONL.
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'predictions.json'), 'utf8')), readPredictions(path.join(out, 'predictions.jsonl')).records);
});
