// Constrained answers from the real endoscribe-server: response_format
// json_schema and tools/tool_choice through src/constrained, with a tiny
// random-weights model (tools/make_tiny_checkpoint.py, context 8192) sampled
// at temperature 1.5, so nothing but the constraint keeps the JSON valid.
// Every answer is validated by ajv and by Debian's python3-jsonschema (Draft
// 2020-12), two validators independent of ours; the `openai` npm client reads
// the tool calls, whole and streamed as tool-call deltas.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ROOT, buildPackage, makeCheckpoint } from './model_helpers.mjs';
import { findServerBinary, startServer } from './server_helpers.mjs';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const MODEL = 'tiny-random';
const SCHEMAS = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/constrained/tool_schemas.json'), 'utf8'));
const SERVER = findServerBinary();
const skip = SERVER ? false : 'endoscribe-server is not built (scripts/build.sh)';
if (skip) console.log(`# skipped: ${skip}`);

// The agent's tools as OpenAI tools (the fixture's schemas: enums, bounded numbers, arrays of objects, $defs).
const TOOLS = ['classify', 'ground', 'segment', 'finish'].map((name) => ({
  type: 'function', function: { name, description: `the ${name} tool`, parameters: SCHEMAS[name] },
}));

let pkg = null, server = null, tmp = null;

// The server on the tiny package (server_helpers' startServer waits for the model).
const start = (args) => startServer(['--model', pkg, '--model-name', MODEL, '--variant', 'fp32', '--cpu', ...args]);

const client = () => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0, timeout: 120000 });
const ask = (text) => [{ role: 'user', content: text }];

// Runs fns with at most `width` in flight (so the server decodes several constrained answers in one batch).
async function pool(fns, width) {
  const out = new Array(fns.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < fns.length) { const i = next++; out[i] = await fns[i](); }
  }));
  return out;
}

// Validates [{schema, text}] with python3-jsonschema (Draft 2020-12); returns the failures.
function pythonValidate(items) {
  const file = path.join(tmp, `items-${items.length}-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(items));
  const script = `
import json, sys
from jsonschema import Draft202012Validator
bad = []
for i, it in enumerate(json.load(open(sys.argv[1]))):
    try:
        v = json.loads(it["text"])
    except Exception as e:
        bad.append([i, "not JSON: %s" % e]); continue
    errs = [e.message for e in Draft202012Validator(it["schema"]).iter_errors(v)]
    if errs: bad.append([i, errs[0]])
print(json.dumps(bad))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }));
}

async function metric(name) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('constrained answers from endoscribe-server (tiny random model)', { skip, timeout: 600000 }, () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-server-tools-'));
    const ckpt = makeCheckpoint(['--seed', '7']);
    pkg = buildPackage(ckpt, ['--quant', 'none']);
    fs.rmSync(ckpt, { recursive: true, force: true });
    server = await start([]);
  });
  after(async () => {
    if (server) await server.stop();
    if (pkg) fs.rmSync(pkg, { recursive: true, force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('200 json_schema answers at temperature 1.5, streamed or not, all validate', async () => {
    const ajv = new Ajv({ allErrors: true });
    const names = Object.keys(SCHEMAS);
    const jobs = [];
    for (let i = 0; i < 200; i++) {
      const name = names[i % names.length];
      const stream = i % 2 === 1;
      jobs.push(async () => {
        const body = {
          model: MODEL, messages: ask(`Write the ${name} record.`), temperature: 1.5, seed: 1000 + i, max_tokens: 160,
          response_format: { type: 'json_schema', json_schema: { name, schema: SCHEMAS[name], strict: true } },
        };
        if (!stream) {
          const r = await client().chat.completions.create(body);
          return { name, text: r.choices[0].message.content, finish: r.choices[0].finish_reason };
        }
        let text = '', finish = null;
        for await (const chunk of await client().chat.completions.create({ ...body, stream: true })) {
          const c = chunk.choices[0];
          if (c?.delta?.content) text += c.delta.content;
          if (c?.finish_reason) finish = c.finish_reason;
        }
        return { name, text, finish };
      });
    }
    const t0 = performance.now();
    const answers = await pool(jobs, 16);
    const seconds = (performance.now() - t0) / 1000;
    const distinct = new Set(answers.map((a) => a.text)).size;
    for (const a of answers) {
      assert.equal(a.finish, 'stop', `${a.name}: ${a.text}`);
      const value = JSON.parse(a.text);
      const validate = ajv.compile(SCHEMAS[a.name]);
      assert.ok(validate(value), `${a.name}: ${a.text}: ${ajv.errorsText(validate.errors)}`);
    }
    const bad = pythonValidate(answers.map((a) => ({ schema: SCHEMAS[a.name], text: a.text })));
    assert.deepEqual(bad, [], JSON.stringify(bad.slice(0, 3)));
    // Sampled, not a fixed answer per schema; several constrained answers decoded in one batch.
    assert.ok(distinct > 150, `only ${distinct} distinct answers of 200`);
    assert.ok((await metric('endoscribe_max_batch_observed')) > 1);
    console.log(`# 200 constrained answers in ${seconds.toFixed(1)} s (${distinct} distinct), all valid (ajv, python3-jsonschema)`);
  });

  test('the same seed gives the same constrained answer', async () => {
    const body = { model: MODEL, messages: ask('again'), temperature: 1.5, seed: 99, max_tokens: 120,
      response_format: { type: 'json_schema', json_schema: { name: 'classify', schema: SCHEMAS.classify } } };
    const a = await client().chat.completions.create(body);
    const b = await client().chat.completions.create(body);
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  test('tool_choice required: the openai client reads message.tool_calls, and every call validates', async () => {
    const ajv = new Ajv({ allErrors: true });
    const byName = Object.fromEntries(TOOLS.map((t) => [t.function.name, ajv.compile(t.function.parameters)]));
    const seen = new Set();
    const ids = new Set();
    const calls = await pool(Array.from({ length: 40 }, (_, i) => async () => {
      const r = await client().chat.completions.create({ model: MODEL, messages: ask('Plan the next step.'), tools: TOOLS,
        tool_choice: 'required', temperature: 1.5, seed: i, max_tokens: 200 });
      return r.choices[0];
    }), 8);
    for (const c of calls) {
      assert.equal(c.finish_reason, 'tool_calls');
      assert.equal(c.message.content, null);
      assert.equal(c.message.tool_calls.length, 1);
      const call = c.message.tool_calls[0];
      assert.match(call.id, /^call_[0-9a-f]{24}$/);
      assert.equal(call.type, 'function');
      assert.ok(byName[call.function.name], call.function.name);
      const args = JSON.parse(call.function.arguments);
      assert.ok(byName[call.function.name](args), `${call.function.name}(${call.function.arguments})`);
      seen.add(call.function.name);
      ids.add(call.id);
    }
    assert.equal(ids.size, calls.length);
    assert.ok(seen.size >= 2, `the model only ever called ${[...seen]}`);
    // A named tool_choice: that tool, always.
    for (let i = 0; i < 5; i++) {
      const r = await client().chat.completions.create({ model: MODEL, messages: ask('Finish.'), tools: TOOLS,
        tool_choice: { type: 'function', function: { name: 'finish' } }, temperature: 1.5, seed: 50 + i, max_tokens: 200 });
      const call = r.choices[0].message.tool_calls[0];
      assert.equal(call.function.name, 'finish');
      assert.ok(byName.finish(JSON.parse(call.function.arguments)));
    }
  });

  test('streamed tool calls arrive as OpenAI tool-call deltas that the openai client assembles', async () => {
    const ajv = new Ajv({ allErrors: true });
    for (let i = 0; i < 6; i++) {
      const body = { model: MODEL, messages: ask('Plan the next step.'), tools: TOOLS, tool_choice: 'required',
        temperature: 1.5, seed: 200 + i, max_tokens: 200 };
      const stream = client().chat.completions.stream(body);
      let argumentDeltas = 0;
      stream.on('tool_calls.function.arguments.delta', () => { argumentDeltas++; });
      const final = await stream.finalChatCompletion();
      const call = final.choices[0].message.tool_calls[0];
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      const parameters = TOOLS.find((t) => t.function.name === call.function.name).function.parameters;
      assert.ok(ajv.validate(parameters, JSON.parse(call.function.arguments)), call.function.arguments);
      assert.ok(argumentDeltas > 1, 'the arguments came in one piece');
      // The same seed not streamed: the same call.
      const whole = await client().chat.completions.create(body);
      assert.equal(whole.choices[0].message.tool_calls[0].function.name, call.function.name);
      assert.equal(whole.choices[0].message.tool_calls[0].function.arguments, call.function.arguments);
    }
  });

  test('tool_choice auto: text, or a complete valid call when the first token starts one', async () => {
    const ajv = new Ajv({ allErrors: true });
    let texts = 0, callsMade = 0;
    for (let i = 0; i < 30; i++) {
      const r = await client().chat.completions.create({ model: MODEL, messages: ask('Anything?'), tools: TOOLS,
        temperature: 1.5, seed: 300 + i, max_tokens: 120 });
      const m = r.choices[0].message;
      if (m.tool_calls) {
        callsMade++;
        assert.equal(r.choices[0].finish_reason, 'tool_calls');
        const t = TOOLS.find((x) => x.function.name === m.tool_calls[0].function.name);
        assert.ok(t && ajv.validate(t.function.parameters, JSON.parse(m.tool_calls[0].function.arguments)));
      } else {
        texts++;
        assert.equal(typeof m.content, 'string');
        assert.ok(!/^[{\s]/.test(m.content), JSON.stringify(m.content));
      }
    }
    console.log(`# tool_choice auto: ${texts} text answers, ${callsMade} calls`);
  });

  test('a conversation with tool calls and tool results is read, and answered again', async () => {
    const r = await client().chat.completions.create({
      model: MODEL, tools: TOOLS, tool_choice: 'required', temperature: 0, max_tokens: 200,
      messages: [
        { role: 'system', content: 'You plan tool calls.' },
        { role: 'user', content: 'Is there a polyp?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function',
          function: { name: 'classify', arguments: JSON.stringify({ label: 'polyp', confidence: 0.9 }) } }] },
        { role: 'tool', tool_call_id: 'call_a', content: JSON.stringify({ probabilities: { polyp: 0.9 } }) },
      ] });
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.ok(r.usage.prompt_tokens > 100);
  });

  test('schemas the constrained decoder refuses are 400s in OpenAI\'s shape, in plain words', async () => {
    const hostile = [
      [{ type: 'string', pattern: '^(yes|no)$' }, /alternation|group/],
      [{ type: 'string', format: 'date-time' }, /format/],
      [{ not: { type: 'null' } }, /not/],
      [{ $ref: 'http://example.com/x.json' }, /\$ref/],
      [{ type: 'object', properties: { a: { $ref: '#' } }, required: ['a'] }, /./],
      [{ enum: Array.from({ length: 400 }, (_, i) => `v${i}`) }, /enum/],
    ];
    for (const [schema, words] of hostile) {
      await assert.rejects(client().chat.completions.create({ model: MODEL, messages: ask('x'), max_tokens: 20,
        response_format: { type: 'json_schema', json_schema: { name: 'h', schema } } }), (e) => {
        assert.equal(e.status, 400, JSON.stringify(schema));
        assert.equal(e.error?.param ?? e.param, 'response_format.json_schema.schema');
        assert.match(e.message, /cannot be used to constrain the answer/);
        assert.match(e.message, words);
        return true;
      });
    }
    // A budget below the shortest value: refused before any token, with both numbers.
    await assert.rejects(client().chat.completions.create({ model: MODEL, messages: ask('x'), max_tokens: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'c', schema: SCHEMAS.classify } } }), (e) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /shortest answer the schema allows takes \d+ tokens, but only 3/);
      return true;
    });
    // A tool whose parameters are refused is named, with the place in its schema.
    await assert.rejects(client().chat.completions.create({ model: MODEL, messages: ask('x'), tool_choice: 'required',
      tools: [TOOLS[0], { type: 'function', function: { name: 'bad', parameters: { type: 'object', properties: { a: { type: 'string', format: 'uri' } } } } }] }),
    (e) => e.status === 400 && (e.param ?? e.error?.param) === 'tools[1].function.parameters'
      && /The parameters of the tool "bad" cannot be used to constrain the answer \(at \/properties\/a\): "format"/.test(e.message));
  });
});
