// web/agent/remote_planner.js against endoscribe-server with a tiny random
// model (calls come from the server's tool calling under the constraint, so
// every one must validate), against scripted endpoints (one without tool
// calling, to check the response_format fallback; one whose model ignores the
// schemas; one that answers in words), and against a server that is down or
// wants a token: each failure is an Error in plain words.
// The registry here is the fixture's tool schemas and the action check is ajv
// over the action schema built as src/agent/tool_registry.h builds it: a
// stand-in for es_agent_registry / es_agent_parse_action, which
// tests/node/agent_remote.test.mjs uses with the real agent run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, FIXTURE, buildPackage, makeCheckpoint } from './model_helpers.mjs';
import { findServerBinary, startServer } from './server_helpers.mjs';
import { RemoteClient } from '../../web/remote/client.js';
import { RemotePlanner, PlannerError, actionTextFromToolCall, roundNumbers, toolCallingPromptVariants } from '../../web/agent/remote_planner.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const SCHEMAS = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/constrained/tool_schemas.json'), 'utf8'));
const REGISTRY = {
  tools: ['classify', 'ground', 'segment', 'finish'].map((name) => ({ name, description: `The ${name} tool.`, input_schema: SCHEMAS[name] })),
};
const actionSchema = (names) => {
  const alts = REGISTRY.tools.filter((t) => names.includes(t.name)).map((t) => ({
    type: 'object', properties: { tool: { const: t.name }, arguments: t.input_schema }, required: ['tool', 'arguments'], additionalProperties: false,
  }));
  return alts.length === 1 ? alts[0] : { oneOf: alts };
};
const ajv = new Ajv({ allErrors: true });
function parseAction(text, allowed) {
  let v;
  try { v = JSON.parse(text); } catch { return { ok: false, error: 'The tool call is not valid JSON.' }; }
  const names = allowed?.length ? allowed : REGISTRY.tools.map((t) => t.name);
  if (!names.includes(v?.tool)) return { ok: false, error: `The tool "${v?.tool}" is not one the agent may call now.` };
  const validate = ajv.compile(actionSchema(names));
  return validate(v) ? { ok: true, call: v } : { ok: false, error: `The call does not match its schema: ${ajv.errorsText(validate.errors)}` };
}
const IMAGE = fs.readFileSync(path.join(FIXTURE, 'golden/image.png'));
const imageFor = async (key) => (key === 'case/image.png' ? { key, bytes: IMAGE } : null);
const MODEL = 'tiny-random';
const SERVER = findServerBinary();

let tmp = null;
const servers = [];
// The server on the tiny package (server_helpers' startServer waits for the model); its URL.
async function serve(pkg, extra = []) {
  const s = await startServer(['--model', pkg, '--model-name', MODEL, '--variant', 'fp32', '--cpu', ...extra]);
  servers.push(s);
  return s.url;
}

// A scripted OpenAI-compatible endpoint: answer(body) -> [status, json]; every body is kept.
function scriptedEndpoint(answer) {
  const bodies = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => { text += d; });
    req.on('end', () => {
      const body = text ? JSON.parse(text) : null;
      if (req.url === '/v1/models') return res.end(JSON.stringify({ object: 'list', data: [{ id: 'big-model', object: 'model' }] }));
      bodies.push(body);
      const [status, json] = answer(body);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    base: `http://127.0.0.1:${server.address().port}`, bodies, close: () => new Promise((r) => server.close(r)),
  })));
}
const completion = (message, finish = 'stop') => ({ id: 'x', object: 'chat.completion', model: 'big-model',
  choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }] });
const planner = (base, extra = {}) => new RemotePlanner({ client: new RemoteClient({ base, retries: 0 }), model: extra.model ?? MODEL,
  registry: REGISTRY, parseAction, imageFor, backend: 'server', ...extra });
const ALL = REGISTRY.tools.map((t) => t.name);

before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-remote-planner-')); });
after(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('tool calls become the action text the local planner writes', () => {
  assert.equal(actionTextFromToolCall({ function: { name: 'ground', arguments: '{"text": "polyp", "max_boxes": 2}' } }),
    '{"tool":"ground","arguments":{"text":"polyp","max_boxes":2}}');
  assert.deepEqual(roundNumbers({ a: [0.123456789, 1e-7, 3, -1e-9] }), { a: [0.123457, 0, 3, 0] });
  assert.throws(() => actionTextFromToolCall({ function: { name: 'ground', arguments: '{"text": ' } }), /not JSON/);
});

describe('against endoscribe-server and the tiny random model', { skip: SERVER ? false : 'endoscribe-server is not built', timeout: 300000 }, () => {
  let base = null, pkg = null;
  before(async () => {
    const ckpt = makeCheckpoint(['--seed', '11']);
    pkg = buildPackage(ckpt, ['--quant', 'none']);
    fs.rmSync(ckpt, { recursive: true, force: true });
    base = await serve(pkg);
  });
  after(() => { if (pkg) fs.rmSync(pkg, { recursive: true, force: true }); });

  test('plans are valid calls of an allowed tool, the same for the same seed, with the image sent', async () => {
    const p = planner(base, { temperature: 1.5 });
    p.identity = await RemotePlanner.describe(p.client, MODEL, 'server');
    assert.equal(p.identity, 'tiny-random (fp32, server)');
    const seen = new Set();
    for (let i = 0; i < 24; i++) {
      const allowed = i % 4 === 3 ? ['finish'] : i % 4 === 2 ? ['classify', 'finish'] : ALL;
      const text = await p.plan({ prompt: 'Question: is there a polyp? Choose the next tool.', actionSchema: actionSchema(allowed),
        allowedTools: allowed, imageKey: 'case/image.png', seed: 1000 + i });
      const r = parseAction(text, allowed);
      assert.ok(r.ok, `${text}: ${r.error}`);
      if (allowed.length === 1) assert.equal(r.call.tool, 'finish');
      seen.add(r.call.tool);
    }
    assert.equal(p.mode, 'tools');  // no fallback was needed
    assert.ok(seen.size >= 3, [...seen].join());
    const again = async () => p.plan({ prompt: 'Plan.', actionSchema: actionSchema(ALL), allowedTools: ALL, imageKey: 'case/image.png', seed: 7 });
    assert.equal(await again(), await again());
    const reflection = await p.reflect({ prompt: 'Reflect on the step.', imageKey: 'case/image.png', seed: 3 });
    assert.equal(typeof reflection, 'string');
  });

  test('a server that wants a token: plain words, the token named', async () => {
    const tokenFile = path.join(tmp, 'tok', 'api_token');
    const locked = await serve(pkg, ['--token-file', tokenFile]);
    await assert.rejects(planner(locked).plan({ prompt: 'x', actionSchema: actionSchema(ALL), allowedTools: ALL, seed: 1 }),
      (e) => e instanceof PlannerError && e.kind === 'auth' && /needs a valid access token/.test(e.message) && /401/.test(e.details));
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    const ok = new RemotePlanner({ client: new RemoteClient({ base: locked, token: () => token }), model: MODEL, registry: REGISTRY,
      parseAction, imageFor });
    assert.ok(parseAction(await ok.plan({ prompt: 'x', actionSchema: actionSchema(ALL), allowedTools: ALL, seed: 1 }), ALL).ok);
  });
});

test('an endpoint without tool calling: asked again with response_format json_schema, and so from then on', async () => {
  const ep = await scriptedEndpoint((body) => {
    if (body.tools) return [400, { error: { message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: 'BadRequestError', code: 400 } }];
    return [200, completion({ content: '{"tool": "finish", "arguments": {"answer": "a polyp"}}' })];
  });
  try {
    const p = planner(ep.base, { model: 'big-model', backend: 'endpoint' });
    for (let i = 0; i < 2; i++) {
      const text = await p.plan({ prompt: 'Plan.', actionSchema: actionSchema(ALL), allowedTools: ALL, imageKey: 'case/image.png', seed: 42 });
      assert.equal(text, '{"tool": "finish", "arguments": {"answer": "a polyp"}}');
    }
    assert.equal(p.mode, 'json_schema');
    assert.equal(ep.bodies.length, 3);  // tools (refused), schema, schema
    const [first, second, third] = ep.bodies;
    assert.equal(first.tool_choice, 'required');
    assert.deepEqual(first.tools.map((t) => t.function.name), ALL);
    assert.deepEqual(first.tools[0].function.parameters, SCHEMAS.classify);
    assert.equal(first.seed, 42);
    const image = first.messages[0].content[0];
    assert.equal(image.type, 'image_url');
    assert.equal(image.image_url.url, `data:image/png;base64,${IMAGE.toString('base64')}`);
    assert.equal(second.response_format.type, 'json_schema');
    assert.deepEqual(second.response_format.json_schema.schema, actionSchema(ALL));
    assert.equal(third.tools, undefined);
  } finally { await ep.close(); }
});

test('only finish allowed: the finish tool is named in tool_choice', async () => {
  const ep = await scriptedEndpoint(() => [200, completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function',
    function: { name: 'finish', arguments: '{"answer": "done", "confidence": 0.91234567}' } }] }, 'tool_calls')]);
  try {
    const p = planner(ep.base, { model: 'big-model' });
    const r = await p.plan({ prompt: 'Finish.', actionSchema: actionSchema(['finish']), allowedTools: ['finish'], seed: 5 })
      .then((t) => ({ ok: true, t }), (e) => ({ ok: false, e }));
    assert.deepEqual(ep.bodies[0].tool_choice, { type: 'function', function: { name: 'finish' } });
    assert.equal(ep.bodies[0].tools.length, 1);
    // The fixture's finish takes confidence as "low" | "medium" | "high": a number makes the call invalid, in plain words.
    assert.ok(!r.ok);
    assert.match(r.e.message, /wrote a call that is not valid/);
    assert.equal(r.e.kind, 'invalid_call');
  } finally { await ep.close(); }
});

test("the request's action schema narrows a tool's parameters (finish's answer to the option letters)", async () => {
  const ep = await scriptedEndpoint(() => [200, completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function',
    function: { name: 'finish', arguments: '{"answer": "B"}' } }] }, 'tool_calls')]);
  try {
    const schema = actionSchema(['classify', 'finish']);
    const finish = schema.oneOf.find((a) => a.properties.tool.const === 'finish');
    const letters = { type: 'object', properties: { answer: { enum: ['A', 'B', 'C', 'D'] } }, required: ['answer'], additionalProperties: false };
    finish.properties.arguments = letters;
    await planner(ep.base, { model: 'big-model' }).plan({ prompt: 'Choose.', actionSchema: schema, allowedTools: ['classify', 'finish'], seed: 3 });
    const tools = Object.fromEntries(ep.bodies[0].tools.map((t) => [t.function.name, t.function.parameters]));
    assert.deepEqual(tools.finish, letters);
    assert.deepEqual(tools.classify, SCHEMAS.classify);
  } finally { await ep.close(); }
});

test('a model that ignores the schemas or answers in words: plain-words errors', async () => {
  const answers = [
    completion({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'ground', arguments: '{"text": 5}' } }] }, 'tool_calls'),
    completion({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'delete_case', arguments: '{}' } }] }, 'tool_calls'),
    completion({ content: 'I think it is a polyp.' }),
  ];
  let n = 0;
  const ep = await scriptedEndpoint(() => [200, answers[n++]]);
  try {
    const p = planner(ep.base, { model: 'big-model' });
    const ask = () => p.plan({ prompt: 'Plan.', actionSchema: actionSchema(ALL), allowedTools: ALL, seed: 1 });
    await assert.rejects(ask(), (e) => e instanceof PlannerError && /not valid/.test(e.message) && /"text":5/.test(e.details));
    await assert.rejects(ask(), (e) => /not valid/.test(e.message) && /delete_case/.test(e.message));
    await assert.rejects(ask(), (e) => /answered in words instead of calling a tool/.test(e.message) && /polyp/.test(e.details));
  } finally { await ep.close(); }
});

// A planning prompt in the core's form (src/agent/agent_loop.cpp planning_prompt).
function planningPrompt(steps) {
  const tools = REGISTRY.tools.map((t) => `- ${t.name}: ${t.description} Arguments: ${JSON.stringify(t.input_schema)}`).join('\n');
  const blocks = Array.from({ length: steps }, (_, i) => `${i + 1}. ground {"text":"polyp number ${i}"}\n   output: {"boxes":[]}\n   reflection: nothing found at step ${i}, try again.`).join('\n');
  return 'You examine one endoscopy image with tools, one call at a time, and end with finish and your answer.\nQuestion: Is there a polyp?\n'
    + `\nTools:\n${tools}\n\nSteps so far:\n${blocks}\n\nTool calls left: 1. Reply with one JSON object {"tool": ..., "arguments": {...}}. Call finish when you can answer.`;
}

test('with tool calling the prompt lists the tools without their schemas; a prompt too long for the context is shortened', async () => {
  let limit = 1e9;
  const ep = await scriptedEndpoint((body) => {
    const text = body.messages.at(-1).content.find((c) => c.type === 'text').text;
    if (text.length > limit)
      return [400, { error: { message: `This model's maximum context length is 100 tokens. However, you requested ${text.length} tokens.`, type: 'BadRequestError', code: 400 } }];
    return [200, completion({ content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'finish', arguments: '{"answer":"a polyp"}' } }] }, 'tool_calls')];
  });
  try {
    const prompt = planningPrompt(6);
    const p = planner(ep.base, { model: 'big-model' });
    const ask = () => p.plan({ prompt, actionSchema: actionSchema(ALL), allowedTools: ALL, imageKey: 'case/image.png', seed: 9 });
    assert.equal(await ask(), '{"tool":"finish","arguments":{"answer":"a polyp"}}');
    const sent = (i) => ep.bodies[i].messages.at(-1).content.find((c) => c.type === 'text').text;
    assert.ok(!sent(0).includes(' Arguments: '), sent(0));
    assert.ok(sent(0).includes('- segment: The segment tool.'));
    assert.ok(sent(0).endsWith('Tool calls left: 1. Call one of the tools. Call finish when you can answer.'), sent(0));
    assert.ok(sent(0).includes('6. ground'));
    // A context that holds only the shorter forms: the oldest steps go first, and the same prompt ends at the same form.
    const variants = toolCallingPromptVariants(prompt);
    limit = variants[3].length;
    ep.bodies.length = 0;
    await ask();
    assert.deepEqual(ep.bodies.map((_, i) => sent(i)), variants.slice(0, 4));
    assert.ok(!sent(3).includes('1. ground') && sent(3).includes('6. ground') && sent(3).includes('(earlier steps left out)'));
    limit = 10;
    await assert.rejects(ask(), (e) => e instanceof PlannerError && e.kind === 'context' && /does not fit the context/.test(e.message));
  } finally { await ep.close(); }
});

test('an endpoint that is down: plain words saying it could not be reached', async () => {
  const ep = await scriptedEndpoint(() => [200, {}]);
  const base = ep.base;
  await ep.close();
  await assert.rejects(planner(base).plan({ prompt: 'x', actionSchema: actionSchema(ALL), allowedTools: ALL, seed: 1 }),
    (e) => e instanceof PlannerError && e.kind === 'unreachable' && /could not be reached/.test(e.message) && e.details.length > 0);
  await assert.rejects(planner(base).reflect({ prompt: 'x', seed: 1 }), /could not be reached/);
  await assert.rejects(planner(base).plan({ prompt: 'x', actionSchema: actionSchema(ALL), imageKey: 'gone.png' }), /not in the case any more/);
});
