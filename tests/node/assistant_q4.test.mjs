// The 4-bit variant (MatMulNBits, 4-bit embeddings) runs through the same
// runtime on the WASM EP: two turns with the kept cache, classification;
// embeddings the backend has no kernel for fall back to another variant.
// On the oracle its tokens differ from fp32 (random width-64 weights: top-1
// margins down to 3.6e-4, so 4-bit noise flips argmaxes; model_golden.test.mjs
// bounds that). So the q4 answers are checked where they must be exact: a
// checkpoint whose weights already lie on the 4-bit grid (block 32) gives a q4
// package equal to its fp32 one (the model builder's Python test: |logits| within
// 1e-3 with accuracy_level 0), so through this runtime the q4 variant must give
// the fp32 variant's tokens, turn for turn, and the same classification.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import * as ort from 'onnxruntime-web';
import { ROOT, TINY, golden, loadCore } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';

ort.env.wasm.numThreads = 1;
const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync(path.join(ROOT, 'tools/build_model.py'))) skip = 'tools/build_model.py missing';
let dir, rt, gridRt = {};

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-q4-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'q4', '--quiet'], { stdio: 'pipe' });
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'q4' });
  // The same shape (tiny preset, 2 layers) with every 2-D weight on the 4-bit grid.
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/make_tiny_checkpoint.py'), path.join(dir, 'grid'),
    '--layers', '2', '--q4-grid', '32', '--seed', '7'], { stdio: 'pipe' });
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(dir, 'grid'),
    path.join(dir, 'grid-pkg'), '--accuracy-level', '0', '--quiet'], { stdio: 'pipe' });
  const gridPkg = () => ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'grid-pkg', p))));
  for (const variant of ['fp32', 'q4'])
    gridRt[variant] = await AssistantRuntime.create({ ort, core, pkg: await gridPkg(), executionProviders: ['wasm'], variant });
});
after(async () => {
  if (rt) await rt.release();
  for (const r of Object.values(gridRt)) await r.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('q4 package: two turns through the kept cache, then classification', { skip, timeout: 120000 }, async () => {
  assert.ok(rt.pkg.verified.has('onnx/decoder_fused_q4.onnx'));
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

test('weights on the 4-bit grid: q4 answers and classification equal fp32 through the runtime', { skip, timeout: 120000 }, async () => {
  assert.ok(gridRt.q4.pkg.verified.has('onnx/decoder_fused_q4.onnx'));
  assert.ok(gridRt.fp32.pkg.verified.has('onnx/decoder_fused.onnx'));
  const image = { key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) };
  const labels = { labels: ['polyp', 'ulcer', 'normal', 'bleeding'].map((a) => ({ id: a, name: a })) };
  const run = async (r) => {
    const conv = r.newConversation();
    const t1 = await r.ask(conv, 'What is shown in this image?', { image, generation: { max_new_tokens: 24 } }).promise;
    const t2 = await r.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 16 } }).promise;
    conv.free();
    const c = await r.classify(labels, { image }).promise;
    return { t1: t1.ids, t2: t2.ids, probs: Object.fromEntries(c.labels.map((l) => [l.id, l.probability])) };
  };
  const f = await run(gridRt.fp32), q = await run(gridRt.q4);
  assert.equal(f.t1.length, 24);
  assert.deepEqual(q.t1, f.t1, 'turn 1 (image) greedy tokens');
  assert.deepEqual(q.t2, f.t2, 'turn 2 greedy tokens through the kept cache');
  // Logits agree within 1e-3, so label probabilities (a softmax over label scores) within 1e-3 too.
  for (const id of Object.keys(f.probs))
    assert.ok(Math.abs(q.probs[id] - f.probs[id]) < 1e-3, `${id}: q4 ${q.probs[id]} vs fp32 ${f.probs[id]}`);
  // Not vacuous: the grid model is not uniform over the labels.
  const p = Object.values(f.probs);
  assert.ok(Math.max(...p) - Math.min(...p) > 1e-3, `probabilities ${p}`);
});

test('4-bit embeddings the backend has no kernel for: the package\'s fp32 embeddings, with a notice', { skip, timeout: 120000 }, async () => {
  // As a public export whose embed_tokens_q4 uses com.microsoft GatherBlockQuantized meets the WASM EP of
  // onnxruntime-web's WebGPU build (no CPU kernel for it): here an op no build has, so it fails everywhere.
  const copy = path.join(dir, 'grid-nokernel');
  fs.cpSync(path.join(dir, 'grid-pkg'), copy, { recursive: true });
  const graph = path.join(copy, 'onnx/embed_tokens_q4.onnx');
  execFileSync('/usr/bin/python3', ['-c', `import onnx, sys
m = onnx.load(sys.argv[1], load_external_data=False)
n = next(n for n in m.graph.node if n.op_type == "Gather")
n.op_type, n.domain = "NoSuchKernel", "com.microsoft"
onnx.save(m, sys.argv[1])`, graph]);
  const mp = path.join(copy, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(mp, 'utf8'));
  const entry = manifest.files.find((f) => f.path === 'onnx/embed_tokens_q4.onnx');
  const bytes = fs.readFileSync(graph);
  Object.assign(entry, { size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
  fs.writeFileSync(mp, JSON.stringify(manifest));
  const fallback = await AssistantRuntime.create({ ort, core, variant: 'q4', executionProviders: ['wasm'],
    pkg: await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(copy, p)))) });
  try {
    assert.ok(fallback.notices.some((n) => /embed_tokens: using its fp32 variant/.test(n)), fallback.notices.join('; '));
    assert.ok(fallback.pkg.verified.has('onnx/embed_tokens.onnx'));
    assert.ok(fallback.pkg.verified.has('onnx/decoder_fused_q4.onnx'));
    // Weights on the 4-bit grid: the q4 decoder with the fp32 embeddings answers as the fp32 package.
    const image = { key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) };
    const ask = async (r) => {
      const conv = r.newConversation();
      const a = await r.ask(conv, 'What is shown in this image?', { image, generation: { max_new_tokens: 12 } }).promise;
      conv.free();
      return a.ids;
    };
    assert.deepEqual(await ask(fallback), await ask(gridRt.fp32));
  } finally {
    await fallback.release();
  }
});
