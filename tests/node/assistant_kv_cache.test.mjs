// The assistant runtime's KV cache forms (PACKAGE.md "KV cache forms"): a package built before
// builder.kv_cache (every layer keeps the whole history) still loads and answers; the opt-in shared
// past/present buffers under onnxruntime-node answer like the copying path, grow, keep the parent of a
// fork intact and survive an edit; a windowed cache forked and batched (report drafting) scores like one
// run per continuation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import ortNode from 'onnxruntime-node';
import { ROOT, TINY, golden, loadCore, diskSource } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';

let dir;
const image = () => ({ key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) });
const build = (out, ...args) => execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'),
  path.join(TINY, 'checkpoint'), path.join(dir, out), '--quant', 'none', '--quiet', ...args], { stdio: 'pipe' });

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-kv-'));
  build('pkg');
  // A package as built before builder.kv_cache existed: whole-history decoders, no kv_cache in the manifest.
  build('old', '--kv-cache', 'whole');
  const mp = path.join(dir, 'old', 'manifest.json');
  const m = JSON.parse(fs.readFileSync(mp, 'utf8'));
  delete m.builder.kv_cache;
  fs.writeFileSync(mp, JSON.stringify(m));
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const open = async (name, options = {}) => AssistantRuntime.create({ ort: ortNode, core,
  pkg: await ModelPackage.open(diskSource(path.join(dir, name))), executionProviders: ['cpu'], variant: 'fp32', ...options });

async function twoTurns(rt) {
  const conv = rt.newConversation();
  const r1 = await rt.ask(conv, 'What is shown in this image?', { image: image(), generation: { max_new_tokens: 24 } }).promise;
  const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } }).promise;
  return { conv, r1, r2 };
}

test('a package without builder.kv_cache (whole-history decoders) loads and gives the golden answers', { skip, timeout: 120000 }, async () => {
  const rt = await open('old');
  try {
    assert.equal(rt.decoderGraph, 'decoder_fused');
    assert.equal(rt.windowNames.size, 0);
    const { conv, r1, r2 } = await twoTurns(rt);
    assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
    assert.deepEqual(r2.ids, golden.turn2_greedy_ids);
    for (const t of Object.values(conv.kv.past)) assert.equal(t.dims[2], conv.kv.length);  // whole history
    // Editing an early question just cuts the cache (no window to lose).
    const r = await rt.editQuestion(conv, 1, 'Is it bleeding?', { generation: { max_new_tokens: 3 } }).promise;
    assert.ok(r.prefilled < 20, `${r.prefilled}`);
    conv.free();
  } finally {
    await rt.release();
  }
});

test('shared past/present buffers (onnxruntime-node, opt-in): golden answers, in place, forks and edits', { skip, timeout: 180000 }, async () => {
  const rt = await open('pkg', { kvSharedBuffer: true });
  const copying = await open('pkg');
  try {
    assert.equal(rt.sharedKv, true);
    assert.equal(copying.sharedKv, false);
    const { conv, r1, r2 } = await twoTurns(rt);
    assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
    assert.deepEqual(r2.ids, golden.turn2_greedy_ids);
    assert.equal(rt.sharedKv, true, rt.notices.join('; '));  // the first in-place step was verified
    const global = rt.kvNames.find(([n]) => !rt.windowNames.has(n))[0];
    const buffer = conv.kv.past[global];
    assert.ok(conv.kv.capacity >= conv.kv.length && conv.kv.capacity >= 256);
    // A fork decodes on its own copy: the parent's buffer and length are untouched.
    const before = Float32Array.from(buffer.data.subarray(0, conv.kv.length * rt.model.head_dim));
    const fork = rt.forkCache(conv.kv);
    await rt._decode(fork, [golden.turn2_greedy_ids[0], golden.turn2_greedy_ids[1]], [0, 0], null);
    assert.notEqual(fork.past[global], buffer);
    assert.equal(conv.kv.past[global], buffer);
    assert.deepEqual(Float32Array.from(buffer.data.subarray(0, conv.kv.length * rt.model.head_dim)), before);
    fork.dispose();
    // The same third turn as the copying path, then an edit of it.
    const conv2 = (await twoTurns(copying)).conv;
    const a = await rt.ask(conv, 'Anything else?', { generation: { max_new_tokens: 6 } }).promise;
    const b = await copying.ask(conv2, 'Anything else?', { generation: { max_new_tokens: 6 } }).promise;
    assert.deepEqual(a.ids, b.ids);
    const ea = await rt.editQuestion(conv, 2, 'Is it bleeding?', { generation: { max_new_tokens: 6 } }).promise;
    const eb = await copying.editQuestion(conv2, 2, 'Is it bleeding?', { generation: { max_new_tokens: 6 } }).promise;
    assert.deepEqual(ea.ids, eb.ids);
    assert.equal(ea.prefilled, eb.prefilled);
    assert.equal(conv.chat.kvLength, conv.kv.length);
    conv.free();
    conv2.free();
  } finally {
    await rt.release();
    await copying.release();
  }
});

test('a windowed cache forked and batched scores like one run per continuation', { skip, timeout: 120000 }, async () => {
  const rt = await open('pkg');
  try {
    const { conv } = await twoTurns(rt);
    assert.ok(rt.windowNames.size > 0);
    const runs = [[golden.turn2_greedy_ids[0]], [golden.turn2_greedy_ids[1]], [golden.turn2_greedy_ids[2]]];
    const batched = await rt.decodeBatch(conv.kv, runs);
    assert.ok(batched, 'decodeBatch ran');
    const V = rt.model.vocab_size;
    for (const [i, run] of runs.entries()) {
      const fork = rt.forkCache(conv.kv);
      const one = await rt._decode(fork, run, [0], null);
      fork.dispose();
      let d = 0;
      for (let j = 0; j < V; j++) d = Math.max(d, Math.abs(one[j] - batched[i][j]));
      assert.ok(d < 1e-4, `run ${i}: max |diff| ${d}`);
    }
    conv.free();
  } finally {
    await rt.release();
  }
});
