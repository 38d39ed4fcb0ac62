// The agent ablation end to end with a real model: the tiny random test model
// (tests/fixtures/tiny-gemma3, its context raised from 512 to 4096 tokens: the
// planning prompt with the nine tools' schemas is about 2,200 tokens; the
// weights are the same random ones) planning through web/agent's local
// planner under the action schema, the tools on NodeEnvironment, over the
// synthetic dataset (no shared data needed). Its accuracy is chance; what is
// checked is the mechanics: every run recorded with its trace, finish answers
// that are option letters (the constraint), reflections only with reflection
// on, the memory only in the third configuration, the same seed giving the
// same answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { coreModulePath, ROOT, TINY } from './assistant_helpers.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { runAgentCommand } from '../../tools/evaluation/agent_cli.mjs';
import { readPredictions } from '../../tools/evaluation/predictions.mjs';
import { makeDataset } from '../fixtures/agent-eval/make_dataset.mjs';

const corePath = coreModulePath();
let skip = !fs.existsSync(corePath) ? `WASM core not built: ${corePath}`
  : !fs.existsSync(path.join(ROOT, 'web/agent/agent_driver.js')) ? 'web/agent (the agent driver) is not in this tree'
  : !fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3 missing (builds the tiny package)' : false;
let core = null, tmp, pkg, ds;
if (!skip) {
  core = await loadCores(corePath);
  if (typeof core.module._es_agent_create !== 'function') skip = 'the WASM core has no es_agent_* exports: rebuild it';
}
const quiet = () => {};
const sink = { write() {} };

before(() => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-eval-tiny-'));
  const ckpt = path.join(tmp, 'ckpt');
  fs.cpSync(path.join(TINY, 'checkpoint'), ckpt, { recursive: true });
  const cfg = path.join(ckpt, 'config.json');
  fs.writeFileSync(cfg, fs.readFileSync(cfg, 'utf8').replace('"max_position_embeddings": 512', '"max_position_embeddings": 4096'));
  pkg = path.join(tmp, 'pkg');
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), ckpt, pkg, '--quant', 'none', '--quiet',
    '--test-model', 'random weights: a pipeline test, not a model'], { stdio: 'pipe' });
  ds = makeDataset(path.join(tmp, 'ds')).dir;
});
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

async function run(out, extra = []) {
  const orig = console.log;
  console.log = () => {};
  try {
    return await runAgentCommand(['agent', ds, '--model', pkg, '--agent-tasks', 'counting,grounding', '--items-per-task', '1', '--warmup', '1',
      '--max-rounds', '1', '--threads', '1', '--bootstrap', '50', '--out', out, ...extra], { core, log: quiet, progressStream: sink });
  } finally { console.log = orig; }
}

test('the tiny model through the three configurations: letters, reflections and memory where they belong, traces kept', { skip, timeout: 900000 }, async () => {
  const out = path.join(tmp, 'run');
  const scores = await run(out);
  const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
  const test_ = records.filter((r) => r.split === 'test');
  assert.equal(records.filter((r) => r.split === 'warmup').length, 2);
  assert.equal(test_.length, 6);
  const finished = test_.filter((r) => r.finished);
  assert.ok(finished.length > 0, `no run finished: ${test_.map((r) => r.error).join(' | ')}`);
  for (const r of finished) assert.ok(['A', 'B', 'C', 'D'].includes(r.answer), `${r.key}: finish answered ${JSON.stringify(r.answer)}`);
  for (const r of test_) {
    if (r.config === 'single') assert.equal(r.reflect_requests, 0, r.key);
    // One tool call at most (max rounds 1): a reflection after it when reflection is on.
    else assert.equal(r.reflect_requests, r.tools.filter((t) => t !== 'finish').length, r.key);
    assert.equal(r.memory_in_prompt, r.config === 'memory', r.key);
  }
  const traces = fs.readFileSync(path.join(out, 'traces.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(traces.length, records.length);
  for (const t of traces) assert.match(t.trace[0].model, /@[0-9a-f]{12} \(/);  // the model's identity in each trace
  assert.equal(scores.test_model, true);
  assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /Test model \(random weights\)/);
  const memory = JSON.parse(fs.readFileSync(path.join(out, 'memory.json'), 'utf8'));
  assert.equal(memory.entries.length, 2);

  // The same seed: the same answers (the single-pass configuration again, into another folder).
  const again = path.join(tmp, 'again');
  await run(again, ['--configs', 'single']);
  const second = readPredictions(path.join(again, 'predictions.jsonl')).records;
  for (const r of second) {
    const first = test_.find((x) => x.key === r.key);
    assert.equal(r.answer, first.answer, r.key);
    assert.deepEqual(r.tools, first.tools, r.key);
  }
});
