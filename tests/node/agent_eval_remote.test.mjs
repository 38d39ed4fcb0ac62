// The agent ablation through an OpenAI-compatible endpoint (--endpoint URL):
// web/agent/remote_planner.js plans with OpenAI tool calls against a small
// scripted endpoint here (describe_image first, then finish with a fixed
// answer; reflections as plain completions). Checks the plumbing: the
// model's identity in the results, the image sent with each planning request,
// answers read as letters, the single pass sending no reflection request, and
// a finish answer that is not a letter refused by the loop (answer_choices)
// and counted as wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { coreModulePath, ROOT } from './assistant_helpers.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { runAgentCommand, parseAgentArgs } from '../../tools/evaluation/agent_cli.mjs';
import { readPredictions } from '../../tools/evaluation/predictions.mjs';
import { makeDataset } from '../fixtures/agent-eval/make_dataset.mjs';

const corePath = coreModulePath();
let skip = !fs.existsSync(corePath) ? `WASM core not built: ${corePath}`
  : !fs.existsSync(path.join(ROOT, 'web/agent/remote_planner.js')) ? 'web/agent/remote_planner.js is not in this tree' : false;
let core = null, tmp, ds, server, url;
if (!skip) {
  core = await loadCores(corePath);
  if (typeof core.module._es_agent_create !== 'function') skip = 'the WASM core has no es_agent_* exports: rebuild it';
}
const state = { finishAnswer: 'C', requests: [] };

before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-eval-remote-'));
  ds = makeDataset(path.join(tmp, 'ds')).dir;
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const send = (obj) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
      if (req.method === 'GET' && req.url === '/v1/models') return send({ object: 'list', data: [{ id: 'scripted-vlm', object: 'model' }] });
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') { res.writeHead(404); return res.end('{}'); }
      const b = JSON.parse(body);
      state.requests.push(b);
      const text = b.messages.at(-1).content.find?.((p) => p.type === 'text')?.text ?? b.messages.at(-1).content;
      const message = { role: 'assistant', content: 'The description is plausible.' };
      if (b.tools) {
        const names = b.tools.map((t) => t.function.name);
        const call = names.includes('describe_image') && /Steps so far:\n\(none\)/.test(text)
          ? { name: 'describe_image', arguments: JSON.stringify({ question: 'What is there?' }) }
          : { name: 'finish', arguments: JSON.stringify({ answer: state.finishAnswer }) };
        message.content = null;
        message.tool_calls = [{ id: `call_${state.requests.length}`, type: 'function', function: call }];
      }
      send({ id: 'x', object: 'chat.completion', model: b.model, choices: [{ index: 0, message, finish_reason: b.tools ? 'tool_calls' : 'stop' }] });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
});
after(() => { server?.close(); if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

async function run(out, extra = []) {
  const orig = console.log;
  console.log = () => {};
  try {
    return await runAgentCommand(['agent', ds, '--endpoint', url, '--agent-tasks', 'counting', '--items-per-task', '2', '--warmup', '1',
      '--max-rounds', '2', '--bootstrap', '50', '--out', out, ...extra], { core, log: () => {}, progressStream: { write() {} } });
  } finally { console.log = orig; }
}

test('--endpoint: an OpenAI-compatible endpoint', () => {
  const s = parseAgentArgs(['agent', 'ds', '--endpoint', 'http://h:1']);
  assert.equal(s.backend, 'openai');
  assert.equal(s.url, 'http://h:1');
  assert.equal(parseAgentArgs(['agent', 'ds', '--server', 'http://h:2']).backend, 'server');
});

test('the ablation through tool calls: letters read, the image sent, no reflection request in the single pass', { skip }, async () => {
  state.finishAnswer = 'C';
  state.requests.length = 0;
  const out = path.join(tmp, 'run');
  const scores = await run(out);
  assert.match(scores.run.backend.planner, /^scripted-vlm \(remote, endpoint\)$/);
  const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
  const test_ = records.filter((r) => r.split === 'test');
  assert.equal(test_.length, 6);
  for (const r of test_) {
    assert.equal(r.answer, 'C', r.key);
    assert.deepEqual(r.tools, ['describe_image', 'finish'], r.key);
    assert.equal(r.reflect_requests, r.config === 'single' ? 0 : 1, r.key);
    assert.equal(r.memory_in_prompt, r.config === 'memory', r.key);
  }
  const plans = state.requests.filter((b) => b.tools);
  assert.ok(plans.length >= 12);
  for (const b of plans) assert.ok(b.messages.at(-1).content.some((p) => p.type === 'image_url' && /^data:image\/png;base64,/.test(p.image_url.url)));
  // Accuracy: "C" is right exactly where the key is C.
  const items = fs.readFileSync(path.join(out, 'items.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l)).filter((i) => i.split === 'test');
  const expect = items.filter((i) => i.answer === 'C').length / items.length;
  assert.equal(scores.accuracy.find((a) => a.config === 'single' && a.task === 'all').accuracy.value, expect);
});

test('a finish answer that is not one of the letters is refused by the loop: no answer, wrong, counted', { skip }, async () => {
  state.finishAnswer = 'two polyps';
  const out = path.join(tmp, 'free');
  const scores = await run(out, ['--configs', 'single']);
  const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
  for (const r of records) {
    assert.equal(r.finished, false, r.key);
    assert.match(r.error, /"two polyps" is not one of the choices \(A, B, C, D\)/);
  }
  assert.equal(scores.counts.unmapped, 2);
  assert.equal(scores.accuracy.find((a) => a.task === 'all').accuracy.value, 0);
});
