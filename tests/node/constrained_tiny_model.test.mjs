// Constrained decoding end to end on the real random tiny model (the model
// builder's fp32 package run by onnxruntime-web's WASM EP through
// AssistantRuntime, as the app runs it): `generation.json_schema` makes every
// answer a complete JSON value that ajv validates, with and without the image,
// at temperature 1.5.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { ROOT, TINY, loadCore } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';

ort.env.wasm.numThreads = 1;
const require = createRequire(import.meta.url);
let Ajv = null;
try { Ajv = require('ajv'); } catch { /* skip below */ }

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !Ajv) skip = 'ajv is not installed (npm ci)';
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';
const schemas = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/constrained/tool_schemas.json'), 'utf8'));
const SEEDS = 6;

let dir, rt;
before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-constrained-pkg-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet'], { stdio: 'pipe' });
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
});
after(async () => {
  if (rt) await rt.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('tool calls from the tiny model (wasm, onnxruntime-web) all validate', { skip, timeout: 300000 }, async () => {
  const ajv = new Ajv({ allErrors: true });
  const image = { key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) };
  let n = 0;
  for (const [name, schema] of Object.entries(schemas)) {
    const validate = ajv.compile(schema);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const conv = rt.newConversation();
      const withImage = seed === 1;
      const r = await rt.ask(conv, `Call the ${name} tool as JSON.`, {
        image: withImage ? image : undefined,
        generation: { max_new_tokens: 160, temperature: 1.5, seed, json_schema: schema } }).promise;
      assert.equal(r.reason, 'stop', `${name} seed ${seed}: ${r.message ?? ''} ${JSON.stringify(r.text)}`);
      let value;
      assert.doesNotThrow(() => { value = JSON.parse(r.text); }, `${name} seed ${seed}: ${JSON.stringify(r.text)}`);
      assert.ok(validate(value), `${name} seed ${seed}: ${JSON.stringify(r.text)} ${ajv.errorsText(validate.errors)}`);
      conv.free();
      n++;
    }
  }
  assert.equal(n, SEEDS * Object.keys(schemas).length);
});
