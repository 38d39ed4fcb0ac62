// The 4-bit variant (MatMulNBits, GatherBlockQuantized) runs through the same
// runtime on the WASM EP: two turns with the kept cache, classification.
// Its tokens may differ from the fp32 oracle (quantised random weights); the
// model builder's tests bound that error. Here: the plumbing (q4 graphs load
// and verify, cache reuse, no second image encode, classification).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { ROOT, TINY, golden, loadCore } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';

ort.env.wasm.numThreads = 1;
const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync(path.join(ROOT, 'tools/build_model.py'))) skip = 'tools/build_model.py missing';
let dir, rt;

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-q4-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'q4', '--quiet'], { stdio: 'pipe' });
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'q4' });
});
after(async () => {
  if (rt) await rt.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('q4 package: two turns through the kept cache, then classification', { skip }, async () => {
  assert.ok(rt.pkg.verified.has('onnx/decoder_token_types_q4.onnx'));
  const image = { key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) };
  const conv = rt.newConversation();
  const r1 = await rt.ask(conv, 'What is shown in this image?', { image, generation: { max_new_tokens: 24 } }).promise;
  assert.equal(r1.ids.length, 24);
  assert.equal(r1.prefilled, golden.turn1_ids.length);
  const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 8 } }).promise;
  assert.equal(r2.prefilled, 20);
  assert.equal(rt.stats.imageEncodes, 1);
  assert.ok(r1.ids.every((id) => id >= 0 && id < 1024));
  conv.free();
  const c = await rt.classify({ labels: ['polyp', 'ulcer', 'normal'].map((a) => ({ id: a, name: a })) }, { image }).promise;
  assert.ok(Math.abs(c.labels.reduce((s, l) => s + l.probability, 0) - 1) < 1e-9);
});
