// The agent ablation's mechanics with the core's real loop (es_agent_* in the
// WASM module, web/agent's driver) and a scripted planner and tools, so what
// each configuration asks of the model is known: no reflection request in the
// single pass, the memory in the planning prompt only in the third
// configuration and built only from warm-up items, finish constrained to the
// option letters, every run's trace kept, the figures scored from the
// answers, and a resumed run redoing nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { coreModulePath, ROOT } from './assistant_helpers.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { readDataset } from '../../tools/evaluation/datasets.mjs';
import { buildAgentItems, writeItems, readItems } from '../../tools/evaluation/agent_items.mjs';
import { runAblation, MEMORY_HEADING, TRACES } from '../../tools/evaluation/agent_run.mjs';
import { writeAgentResults, letterReader, runAgentCommand } from '../../tools/evaluation/agent_cli.mjs';
import { PredictionStore, readPredictions } from '../../tools/evaluation/predictions.mjs';
import { makeDataset } from '../fixtures/agent-eval/make_dataset.mjs';

const corePath = coreModulePath();
const haveDriver = fs.existsSync(path.join(ROOT, 'web/agent/agent_driver.js')) && fs.existsSync(path.join(ROOT, 'web/agent/agent_core.js'));
let skip = !fs.existsSync(corePath) ? `WASM core not built: ${corePath}` : !haveDriver ? 'web/agent (the agent driver) is not in this tree' : false;
let core, tmp, AgentCore, runAgent, itemsFile;
if (!skip) {
  core = await loadCores(corePath);
  if (typeof core.module._es_agent_create !== 'function') skip = 'the WASM core has no es_agent_* exports: rebuild it';
}

before(async () => {
  if (skip) return;
  ({ AgentCore } = await import('../../web/agent/agent_core.js'));
  ({ runAgent } = await import('../../web/agent/agent_driver.js'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-ablation-'));
  const ds = makeDataset(path.join(tmp, 'ds'));
  const built = buildAgentItems(readDataset(ds.dir), { seg: core.seg, seed: 5, perTask: 4, warmup: 2, tasks: ['counting', 'grounding'] });
  itemsFile = path.join(tmp, 'items.jsonl');
  writeItems(itemsFile, built);
});
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

// A planner that calls describe_image once, then answers `letter` (or `text`), recording what it was asked.
function scriptedPlanner(answer = 'A') {
  const p = {
    identity: 'scripted-planner@test (none, node)',
    plans: [], reflections: 0,
    async plan({ prompt, actionSchema, allowedTools }) {
      p.plans.push({ prompt, actionSchema, allowedTools });
      if (allowedTools.includes('describe_image') && /Steps so far:\n\(none\)/.test(prompt))
        return JSON.stringify({ tool: 'describe_image', arguments: { question: 'What is there?' } });
      return JSON.stringify({ tool: 'finish', arguments: { answer } });
    },
    async reflect() { p.reflections++; return 'The description names a polyp; answer from it.'; },
  };
  return p;
}
const fakeTools = { async run(name) { if (name !== 'describe_image') throw new Error(`unexpected tool ${name}`); return { text: 'A reddish polyp.' }; } };

test('single pass asks for no reflection; memory reaches the prompt only in the third configuration, from warm-up items only', { skip }, async () => {
  const items = readItems(itemsFile);
  const planner = scriptedPlanner('A');
  const host = { agentCore: new AgentCore(core.module), runAgent, planner, tools: fakeTools };
  const out = path.join(tmp, 'run1');
  const config = { task: 'agent', items_sha256: items.sha256, configs: ['single', 'reflection', 'memory'] };
  const store = PredictionStore.open(out, config);
  await runAblation(host, items.items, { store, tracesFile: path.join(out, TRACES), outDir: out, seed: 1, maxRounds: 2,
    readLetter: letterReader(core.module) });
  store.close();
  const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
  const test_ = items.items.filter((i) => i.split === 'test'), warm = items.items.filter((i) => i.split === 'warmup');
  assert.equal(records.length, warm.length + 3 * test_.length);
  const of = (c) => records.filter((r) => r.config === c);
  for (const r of of('single')) {
    assert.equal(r.reflect_requests, 0, r.key);
    assert.equal(r.memory_in_prompt, false, r.key);
    assert.deepEqual(r.tools, ['describe_image', 'finish']);
    assert.equal(r.answer, 'A');
  }
  for (const r of of('reflection')) { assert.equal(r.reflect_requests, 1, r.key); assert.equal(r.memory_in_prompt, false, r.key); }
  for (const r of of('memory')) { assert.equal(r.reflect_requests, 1, r.key); assert.equal(r.memory_in_prompt, true, r.key); }
  // The memory: one entry per warm-up item, naming only warm-up items as sources.
  const memory = JSON.parse(fs.readFileSync(path.join(out, 'memory.json'), 'utf8'));
  assert.equal(memory.entries.length, warm.length);
  const warmIds = new Set(warm.map((i) => i.id));
  for (const e of memory.entries) assert.ok(warmIds.has(e.source.replace(/^warm-up: /, '')), e.source);
  assert.ok(memory.entries.every((e) => /answered A \(/.test(e.text) && /Reflection: The description names a polyp/.test(e.text)));
  const withMemory = planner.plans.filter((p) => p.prompt.includes(MEMORY_HEADING));
  assert.equal(withMemory.length, 2 * test_.length);  // two plans per run, memory configuration only
  assert.ok(withMemory.every((p) => p.prompt.includes(memory.entries[0].text.slice(0, 80))));
  // finish's answer is constrained to the letters.
  const finishOnly = planner.plans.find((p) => p.allowedTools.length === 1 || !p.allowedTools.includes('describe_image'));
  const schemaText = JSON.stringify(planner.plans.map((p) => p.actionSchema));
  assert.match(schemaText, /"answer":\{"enum":\["A","B","C","D"\]\}/);
  assert.ok(planner.plans.every((p) => /finish's answer is one of: A, B, C, D\./.test(p.prompt)));
  void finishOnly;
  // Every run's trace is kept under its key.
  const traces = fs.readFileSync(path.join(out, TRACES), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(traces.length, records.length);
  assert.equal(traces[0].trace[0].question.split('\n')[0], items.items.find((i) => i.id === records[0].item).question);

  // Scored: always "A" is right exactly on the items whose key is A.
  const scores = writeAgentResults(out, core.module, records, config, { bootstrap: 100, seed: 0 });
  const expect = test_.filter((i) => i.answer === 'A').length / test_.length;
  for (const c of ['single', 'reflection', 'memory']) {
    assert.equal(scores.accuracy.find((a) => a.config === c && a.task === 'all').accuracy.value, expect);
  }
  assert.deepEqual(scores.counts.reflect_requests, { single: 0, reflection: test_.length, memory: test_.length });
  assert.deepEqual(scores.counts.runs_with_memory_in_prompt, { single: 0, reflection: 0, memory: test_.length });
  for (const f of ['metrics.json', 'metrics.csv', 'report.md', 'report.html']) assert.ok(fs.existsSync(path.join(out, f)), f);
  assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /\| single pass \| /);

  // Resumed: nothing is asked again.
  const again = scriptedPlanner('A');
  const store2 = PredictionStore.open(out, config);
  await runAblation({ ...host, planner: again }, items.items, { store: store2, tracesFile: path.join(out, TRACES), outDir: out, seed: 1, maxRounds: 2,
    readLetter: letterReader(core.module) });
  store2.close();
  assert.equal(again.plans.length, 0);
  assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'memory.json'), 'utf8')).entries.length, warm.length);
});

test('an answer that names no option is wrong and counted as unmapped; a planner failure is recorded, the run goes on', { skip }, async () => {
  const items = readItems(itemsFile);
  const core_ = new AgentCore(core.module);
  // Without answer_choices honoured, a free text would be accepted: here the loop refuses it and the driver stops after 3 tries.
  const free = scriptedPlanner('I think it is the second one');
  const out = path.join(tmp, 'run2');
  const config = { task: 'agent', items_sha256: items.sha256, configs: ['single'] };
  const store = PredictionStore.open(out, config);
  await runAblation({ agentCore: core_, runAgent, planner: free, tools: fakeTools }, items.items, { store, tracesFile: path.join(out, TRACES), outDir: out,
    configs: ['single'], readLetter: letterReader(core.module) });
  store.close();
  const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
  const test_ = items.items.filter((i) => i.split === 'test');
  assert.equal(records.length, test_.length);  // no warm-up without the memory configuration
  for (const r of records) {
    assert.equal(r.finished, false);
    assert.equal(r.answer, null);
    assert.match(r.error, /not one of the choices/);
  }
  const scores = writeAgentResults(out, core.module, records, config, { bootstrap: 50 });
  assert.equal(scores.accuracy.find((a) => a.task === 'all').accuracy.value, 0);
  assert.equal(scores.counts.unmapped, test_.length);
  assert.equal(scores.counts.unfinished, test_.length);
});

test('the command builds the items, reuses them with --items, and refuses a resumed run with another item file', { skip }, async () => {
  const ds = path.join(tmp, 'ds');
  const out = path.join(tmp, 'cmd');
  const host = () => ({ agentCore: new AgentCore(core.module), runAgent, planner: scriptedPlanner('B'), tools: fakeTools });
  const quiet = () => {};
  const sink = { write() {} };
  const logs = [];
  const orig = console.log;
  console.log = (m) => logs.push(String(m));
  try {
    const s1 = await runAgentCommand(['agent', ds, '--agent-tasks', 'counting', '--items-per-task', '3', '--warmup', '2', '--out', out, '--bootstrap', '50'],
      { core, host: host(), log: quiet, progressStream: sink });
    assert.equal(s1.counts.test_runs, 9);
    const itemsPath = path.join(out, 'items.jsonl');
    assert.equal(s1.run.items_sha256, readItems(itemsPath).sha256);
    // The same items from the file into another folder: the same figures.
    const s2 = await runAgentCommand(['agent', '--items', itemsPath, '--images', ds, '--out', path.join(tmp, 'cmd2'), '--bootstrap', '50'],
      { core, host: host(), log: quiet, progressStream: sink });
    assert.deepEqual(s2.accuracy, s1.accuracy);
    // Scored again without a model: the same figures; another bootstrap seed moves only the intervals.
    const s3 = await runAgentCommand(['agent', '--rescore', out, '--out', path.join(tmp, 'cmd3'), '--bootstrap', '50'], { core, log: quiet });
    assert.deepEqual(s3.accuracy, s1.accuracy);
    assert.deepEqual(s3.differences, s1.differences);
    const s4 = await runAgentCommand(['agent', '--rescore', out, '--out', path.join(tmp, 'cmd4'), '--bootstrap', '50', '--seed', '7'], { core, log: quiet });
    assert.deepEqual(s4.accuracy.map((a) => a.accuracy.value), s1.accuracy.map((a) => a.accuracy.value));
    // Other items in the first folder: refused, naming the difference.
    await assert.rejects(runAgentCommand(['agent', ds, '--agent-tasks', 'counting', '--items-per-task', '3', '--warmup', '2', '--seed', '9', '--out', out],
      { core, host: host(), log: quiet, progressStream: sink }), /other settings[\s\S]*items_sha256/);
  } finally { console.log = orig; }
});
