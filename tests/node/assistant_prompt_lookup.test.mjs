// Prompt-lookup drafts (runtime.js `_answer` / `_drafts`, src/assistant/prompt_lookup.h): a decode pass that
// also runs tokens drafted from the conversation must give exactly the answers of one-token steps (greedy,
// seeded sampling, a repetition penalty, a JSON schema; the next question and an edit after an answer that
// ended mid-draft), on a whole-history cache, on a windowed cache whose window has not slid yet and with
// the shared in-place buffers; and where a wrong one cannot be cut off again (a window that has slid, a GPU
// cache), a pass is kept only when all its drafts are.
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
const py = (script, ...args) => execFileSync('/usr/bin/python3', [path.join(ROOT, script), ...args], { stdio: 'pipe' });

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-draft-'));
  const oracle = path.join(TINY, 'checkpoint');
  py('tools/build_model.py', oracle, path.join(dir, 'windowed'), '--quant', 'none', '--quiet');  // window 16
  py('tools/build_model.py', oracle, path.join(dir, 'whole'), '--quant', 'none', '--quiet', '--kv-cache', 'whole');
  // A random tiny model whose 256-position window the prompts below never fill.
  py('tools/make_tiny_checkpoint.py', path.join(dir, 'wide-ckpt'), '--preset', 'tiny', '--sliding-window', '256', '--dtype', 'f32');
  py('tools/build_model.py', path.join(dir, 'wide-ckpt'), path.join(dir, 'wide'), '--quant', 'none', '--quiet');
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

const open = async (name, options = {}) => AssistantRuntime.create({ ort: ortNode, core,
  pkg: await ModelPackage.open(diskSource(path.join(dir, name))), executionProviders: ['cpu'], variant: 'fp32', ...options });

// Two questions, then an edit of the second (a short answer: it likely ends mid-draft) and a third question;
// returns every answer and the drafting counts.
async function session(rt, generation, editTokens = 7) {
  const conv = rt.newConversation();
  const g = { max_new_tokens: 40, ...generation };
  const r1 = await rt.ask(conv, 'What is shown in this image?', { image: image(), generation: g }).promise;
  const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: g }).promise;
  const r3 = await rt.editQuestion(conv, 1, 'Is it bleeding?', { generation: { ...g, max_new_tokens: editTokens } }).promise;
  const r4 = await rt.ask(conv, 'Describe its surface.', { generation: g }).promise;
  const answers = [r1, r2, r3, r4].map((r) => r.ids);
  const kept = [r1, r2, r3, r4].reduce((n, r) => n + r.drafting.kept, 0);
  const drafted = [r1, r2, r3, r4].reduce((n, r) => n + r.drafting.drafted, 0);
  const passes = [r1, r2, r3, r4].reduce((n, r) => n + r.drafting.passes, 0);
  conv.free();
  return { answers, kept, drafted, passes, first: r1, second: r2 };
}

async function compare(name, generation, options = {}, editTokens = 7) {
  const plain = await open(name, { draftTokens: 0, ...options });
  const drafting = await open(name, { draftTokens: 6, ...options });
  try {
    const a = await session(plain, generation, editTokens);
    const b = await session(drafting, generation, editTokens);
    assert.deepEqual(b.answers, a.answers, `${name} ${JSON.stringify(generation)}: drafts changed an answer`);
    assert.equal(a.drafted, 0);
    return { plain: a, drafting: b, rt: drafting };
  } finally {
    await plain.release();
    await drafting.release();
  }
}

test('drafts on a whole-history cache: the golden answers in fewer decoder passes', { skip, timeout: 120000 }, async () => {
  const { plain, drafting } = await compare('whole', {});
  // A greedy answer of 40 tokens begins with the golden 24.
  assert.deepEqual(drafting.first.ids.slice(0, golden.turn1_greedy_ids.length), golden.turn1_greedy_ids);
  assert.ok(drafting.kept > 0, 'no draft was kept');
  assert.ok(drafting.passes < plain.passes, `${drafting.passes} passes with drafts vs ${plain.passes} without`);
  // Every kept draft is one pass saved.
  assert.equal(plain.passes - drafting.passes, drafting.kept);
});

test('drafts keep sampled, penalised and schema-constrained answers exact', { skip, timeout: 180000 }, async () => {
  await compare('whole', { temperature: 1, top_k: 50, seed: 7 });
  const penalised = await compare('whole', { repetition_penalty: 1.3 });
  assert.ok(penalised.drafting.drafted > 0, 'nothing was drafted: the comparison proves nothing');
  await compare('whole', { max_new_tokens: 60, json_schema: { type: 'object', properties: { finding: { type: 'string' },
    count: { type: 'integer' } }, required: ['finding', 'count'] } }, {}, 60);
});

test('drafts on a windowed cache before its window slides, copying and in place', { skip, timeout: 180000 }, async () => {
  for (const kvSharedBuffer of [false, true]) {
    const { drafting, rt } = await compare('wide', {}, { kvSharedBuffer });
    assert.ok(rt.windowNames.size > 0);
    assert.equal(rt.sharedKv, kvSharedBuffer);
    assert.ok(drafting.kept > 0, `kvSharedBuffer ${kvSharedBuffer}: no draft was kept`);
  }
});

test('past a slid window (and on GPU caches): a pass is kept only when all its drafts are', { skip, timeout: 180000 }, async () => {
  // The oracle's window is 16 positions, its prompt 41: a wrong draft cannot be cut from the sliding layers,
  // so such a pass is dropped and its kept tokens lead the next one (the path a WebGPU cache always takes).
  const { drafting, rt } = await compare('windowed', {});
  assert.equal(rt.model.sliding_window, 16);
  assert.ok(drafting.kept > 0, 'no draft was kept');
  assert.ok(drafting.kept < drafting.drafted, 'no draft was wrong: the drop path was not taken');
  assert.deepEqual(drafting.first.ids.slice(0, golden.turn1_greedy_ids.length), golden.turn1_greedy_ids);
  await compare('windowed', { temperature: 1, top_k: 50, seed: 3 });
  await compare('windowed', { repetition_penalty: 1.3 });
  const fresh = await open('windowed');
  try {
    const conv = fresh.newConversation();
    const r = await fresh.ask(conv, 'What is shown in this image?', { image: image(), generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r.ids, golden.turn1_greedy_ids);
    assert.ok(r.drafting.passes < 23, `${r.drafting.passes} passes for 24 tokens`);
    assert.ok(conv.chat.kvLength <= conv.kv.length);
    conv.free();
  } finally {
    await fresh.release();
  }
});
