// Constrained decoding in the WASM core (src/constrained through
// es_generation_start's json_schema): tool calls sampled at high temperature
// from the random tiny model (its tied embeddings as a bigram model, as
// build/native/tools/constrained_sample does natively) all parse and validate
// with ajv (pinned in package-lock.json), an independent validator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, TINY, loadCore } from './assistant_helpers.mjs';

const { core, why } = await loadCore();
const require = createRequire(import.meta.url);
let Ajv = null;
try { Ajv = require('ajv'); } catch { /* reported as a skip below */ }
const skip = !core ? why : !Ajv ? 'ajv is not installed (npm ci)' : false;
const schemas = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/constrained/tool_schemas.json'), 'utf8'));
const PER_SCHEMA = 150;

// language_model.model.embed_tokens.weight [vocab, hidden] from the tiny checkpoint.
function embeddings() {
  const buf = fs.readFileSync(path.join(TINY, 'checkpoint/model.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n));
  const e = header['language_model.model.embed_tokens.weight'];
  const [b, end] = e.data_offsets;
  const bytes = buf.subarray(8 + n + b, 8 + n + end);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { data, vocab: e.shape[0], hidden: e.shape[1] };
}

test('sampled tool calls (wasm) are complete JSON that validates against each schema', { skip, timeout: 300000 }, async () => {
  const { Chat } = await import('../../web/assistant/core.js');
  const tok = core.tokenizer(fs.readFileSync(path.join(TINY, 'checkpoint/tokenizer.model')),
    fs.readFileSync(path.join(TINY, 'checkpoint/tokenizer_config.json'), 'utf8'));
  const template = fs.readFileSync(path.join(ROOT, 'tests/fixtures/chat_templates/tiny-gemma3.jinja'), 'utf8');
  const chat = new Chat(core, tok, { chat_template: template, mm_tokens_per_image: 16, stop_ids: [1, 5] });
  const E = embeddings();
  const rows = new Map();
  const bigram = (prev) => {
    let row = rows.get(prev);
    if (!row) {
      row = new Float32Array(E.vocab);
      for (let v = 0; v < E.vocab; v++) {
        let d = 0;
        for (let i = 0; i < E.hidden; i++) d += E.data[prev * E.hidden + i] * E.data[v * E.hidden + i];
        row[v] = d;
      }
      rows.set(prev, row);
    }
    return row;
  };
  const ajv = new Ajv({ allErrors: true });
  let outputs = 0;
  let steps = 0;
  const t0 = performance.now();
  for (const [name, schema] of Object.entries(schemas)) {
    const validate = ajv.compile(schema);
    const seen = new Set();
    for (let seed = 1; seed <= PER_SCHEMA; seed++) {
      chat.clear();
      chat.ask(`Call the ${name} tool.`);
      chat.onPrefilled(chat.pending().length);
      chat.startGeneration({ max_new_tokens: 160, temperature: 1.7, seed, json_schema: schema });
      let prev = 2;
      let r;
      do {
        r = chat.step(bigram(prev));
        steps++;
        prev = r.token;
      } while (!r.done);
      assert.equal(r.reason, 'stop', `${name} seed ${seed}: ${r.message ?? ''}`);
      const text = chat.answerText(0);
      let value;
      assert.doesNotThrow(() => { value = JSON.parse(text); }, `${name} seed ${seed}: ${JSON.stringify(text)}`);
      assert.ok(validate(value), `${name} seed ${seed}: ${JSON.stringify(text)} ${ajv.errorsText(validate.errors)}`);
      seen.add(text);
      outputs++;
    }
    assert.ok(seen.size > PER_SCHEMA / 2, `${name}: only ${seen.size} distinct outputs`);
  }
  const ms = performance.now() - t0;
  console.log(`${outputs} outputs, ${steps} steps, ${(1000 * ms / steps).toFixed(0)} us per step (mask + sampling + marshalling, wasm)`);
  assert.equal(outputs, PER_SCHEMA * Object.keys(schemas).length);
  chat.free();
  tok.free();
});

test('hostile schemas are refused with a message (wasm)', { skip }, async () => {
  const tok = core.tokenizer(fs.readFileSync(path.join(TINY, 'checkpoint/tokenizer.model')));
  assert.throws(() => tok.checkSchema({ type: 'string', pattern: '(a+)+$' }), /groups or alternatives/);
  assert.throws(() => tok.checkSchema({ $ref: 'https://example.org/x.json' }), /outside this schema/);
  assert.throws(() => tok.checkSchema({ enum: Array.from({ length: 5000 }, (_, i) => i) }), /at most 256/);
  assert.throws(() => tok.checkSchema('{"type":'), /not valid JSON/);
  assert.doesNotThrow(() => tok.checkSchema(schemas.tool_call));
  tok.free();
});

test('a token budget below the shortest value is refused at start (wasm)', { skip }, async () => {
  const { Chat } = await import('../../web/assistant/core.js');
  const tok = core.tokenizer(fs.readFileSync(path.join(TINY, 'checkpoint/tokenizer.model')));
  const template = fs.readFileSync(path.join(ROOT, 'tests/fixtures/chat_templates/tiny-gemma3.jinja'), 'utf8');
  const chat = new Chat(core, tok, { chat_template: template, mm_tokens_per_image: 16, stop_ids: [1, 5] });
  chat.ask('Classify.');
  chat.onPrefilled(chat.pending().length);
  assert.throws(() => chat.startGeneration({ max_new_tokens: 10, json_schema: schemas.classify }), /shortest JSON value of this schema needs 33/);
  chat.free();
  tok.free();
});

test('a constraint over a vocabulary of one\'s own (wasm): allowed tokens, accept, complete', { skip }, () => {
  const enc = new TextEncoder();
  const texts = [''];  // id 0: a special token, never allowed
  for (let c = 32; c < 127; c++) texts.push(String.fromCharCode(c));
  texts.push('"ab"', 'ab"', '"a');
  const vocab = core.constraintVocabulary(texts.map((t) => enc.encode(t)));
  const c = vocab.constraint({ enum: ['ab', 'ba'] });
  assert.equal(c.minTokens, 4);
  const allowedTexts = (remaining) => {
    const mask = c.allowed(remaining);
    const out = [];
    for (let id = 0; id < texts.length; id++) if ((mask[id >> 5] >>> (id & 31)) & 1) out.push(texts[id]);
    return out.sort();
  };
  assert.deepEqual(allowedTexts(100), [' ', '"', '"a', '"ab"']);
  assert.deepEqual(allowedTexts(5), ['"', '"a', '"ab"']);  // no room left for leading blanks
  assert.ok(c.accept(texts.indexOf('"a')));
  assert.deepEqual(allowedTexts(100), ['b']);
  assert.equal(c.accept(texts.indexOf('a')), false);
  assert.ok(c.accept(texts.indexOf('b')));
  assert.equal(c.complete, false);
  assert.ok(c.accept(texts.indexOf('"')));
  assert.equal(c.complete, true);
  assert.throws(() => vocab.constraint({ type: 'string', format: 'email' }), /"format" is not supported/);
  c.free();
  vocab.free();
});
