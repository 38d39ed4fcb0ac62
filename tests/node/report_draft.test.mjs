// "Draft with AI" through the tiny model package (onnxruntime-web's WASM EP and
// the WASM core, as the app runs it): the answers fit the questions' structure,
// each image is encoded once and its prefix prefilled once for all the fields
// about it, a forked cache leaves the shared prefix intact, Cancel stops, and
// the core applies the answers without overwriting what the user entered.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { ROOT, TINY, loadCore } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';
import { draftReport, commonPrefixLength, draftQuestionsForDocument, applyDraftToDocument } from '../../web/report/report_draft.js';

ort.env.wasm.numThreads = 1;

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';

let dir, rt;
const visionRuns = [];    // image keys the vision encoder ran for
const decoderRuns = [];   // {past, tokens} per decoder session run

const goldenBytes = () => fs.readFileSync(path.join(TINY, 'golden/image.png'));
// Two "case images": the golden image and the same pixels flipped (another key).
function imageFor(name) {
  if (name === 'a.png') return { key: 'case|a.png', bytes: goldenBytes() };
  if (name === 'b.png') {
    const px = core.preprocessImage(goldenBytes(), rt.pkg.preprocessorConfigText);
    const flipped = { data: px.data.slice().reverse(), dims: px.dims };
    return { key: 'case|b.png', pixelValues: flipped };
  }
  return null;
}

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-draft-pkg-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet', '--test-model', 'random weights'], { stdio: 'pipe' });
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
  // Count every session run (what the vision encoder and the decoder were given).
  const visionRun = rt.vision.run.bind(rt.vision);
  rt.vision.run = (feeds) => { visionRuns.push(feeds.pixel_values.dims.join('x')); return visionRun(feeds); };
  const decoderRun = rt.decoder.run.bind(rt.decoder);
  rt.decoder.run = (feeds) => {
    // cached positions: attention_mask covers past + new (a sliding layer's past holds only its window)
    const past = feeds.attention_mask.dims[1] - feeds.inputs_embeds.dims[1];
    decoderRuns.push({ past, tokens: feeds.inputs_embeds.dims[1], batch: feeds.inputs_embeds.dims[0] });
    return decoderRun(feeds);
  };
});

after(async () => {
  if (rt) await rt.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const PARIS = ['0-Ip', '0-Isp', '0-Is', '0-IIa', '0-IIb', '0-IIc', '0-III'];
const NICE = ['1', '2', '3'];
const questionsFor = (img, finding) => [
  { path: `findings[${finding}].paris`, image: img, kind: 'choice', prompt: 'What is the Paris classification of this lesion? Answer with the class only.',
    options: PARIS.map((c) => ({ code: c, answer: c })) },
  { path: `findings[${finding}].nice`, image: img, kind: 'choice', prompt: 'What is the NICE type of this lesion? Answer with 1, 2 or 3.',
    options: NICE.map((c) => ({ code: c, answer: `NICE type ${c}` })) },
  { path: `findings[${finding}].size_mm`, image: img, kind: 'number', prompt: 'How large is this lesion in millimetres? Answer with a number.',
    max_tokens: 6, min: 0, max: 300 },
  { path: `findings[${finding}].notes`, image: img, kind: 'text', prompt: 'Describe this lesion in one sentence.', max_tokens: 12 },
];

test('common prefix of token lists', () => {
  assert.equal(commonPrefixLength([[1, 2, 3], [1, 2, 4], [1, 2]]), 2);
  assert.equal(commonPrefixLength([[1, 2, 3]]), 3);
  assert.equal(commonPrefixLength([]), 0);
  assert.equal(commonPrefixLength([[5], [6]]), 0);
});

test('answers fit the questions; each image encoded once and its prefix prefilled once', { skip, timeout: 120000 }, async () => {
  const questions = [...questionsFor('a.png', 0), ...questionsFor('b.png', 1), ...questionsFor('a.png', 2)];
  rt.imageFeatures.clear();
  visionRuns.length = 0;
  decoderRuns.length = 0;
  const progress = [];
  const r = await draftReport(rt, questions, { imageFor, onProgress: (p) => progress.push(p) }).promise;
  assert.equal(r.cancelled, false);
  assert.equal(r.answers.length, questions.length);
  // Vision encoder: once per image (two images), however many fields.
  assert.equal(visionRuns.length, 2, `vision runs ${visionRuns.length}`);
  assert.equal(r.stats.imageEncodes, 2);
  assert.equal(r.stats.images, 2);
  // The image tokens go through the decoder once per image: exactly two runs
  // start from an empty cache, and each holds all 16 image tokens of the tiny model.
  const fromEmpty = decoderRuns.filter((d) => d.past === 0);
  assert.equal(fromEmpty.length, 2, JSON.stringify(decoderRuns.slice(0, 5)));
  for (const d of fromEmpty) assert.ok(d.tokens > rt.model.mm_tokens_per_image, `prefix of ${d.tokens} tokens`);
  // Every other run continues that prefix.
  const prefixLen = fromEmpty[0].tokens;
  assert.ok(decoderRuns.filter((d) => d.past > 0).every((d) => d.past >= prefixLen));
  assert.equal(r.stats.prefixTokens, fromEmpty.reduce((n, d) => n + d.tokens, 0));
  for (const [i, a] of r.answers.entries()) {
    const q = questions.find((x) => x.path === a.path);
    assert.ok(q, `answer for an asked path ${a.path}`);
    assert.equal(a.error, undefined, `${a.path}: ${a.error}`);
    if (q.kind === 'choice') {
      assert.deepEqual(a.codes, q.options.map((o) => o.code));
      assert.equal(a.probabilities.length, q.options.length);
      const sum = a.probabilities.reduce((s, p) => s + p, 0);
      assert.ok(Math.abs(sum - 1) < 1e-9, `${a.path}: probabilities sum to ${sum}`);
      assert.ok(a.log_likelihoods.every((x) => Number.isFinite(x) && x <= 0));
    } else {
      assert.equal(typeof a.text, 'string');
      assert.ok(['length', 'stop'].includes(a.reason), `${i}: ${a.reason}`);
    }
  }
  assert.deepEqual(progress.map((p) => p.done), questions.map((_, i) => i + 1));
});

test('fields drafted on forks of the shared prefix equal the Classify tab and a plain chat answer', { skip, timeout: 120000 }, async () => {
  const q = questionsFor('a.png', 0);
  const together = await draftReport(rt, q, { imageFor }).promise;
  // The Classify tab's path: the whole question prefilled in one run, no fork.
  for (const k of [0, 1]) {
    const ref = await rt.classify({ question: q[k].prompt, labels: q[k].options.map((o) => ({ name: o.code, answer: o.answer })) },
      { image: imageFor('a.png') }).promise;
    const a = together.answers[k];
    for (let i = 0; i < a.log_likelihoods.length; i++) {
      assert.ok(Math.abs(a.log_likelihoods[i] - ref.labels[i].logLikelihood) < 1e-3,
        `${a.path} ${a.codes[i]}: ${a.log_likelihoods[i]} vs ${ref.labels[i].logLikelihood}`);
      assert.ok(Math.abs(a.probabilities[i] - ref.labels[i].probability) < 1e-4);
    }
  }
  // The greedy number answer is the same as a plain chat answer to that question.
  const conv = rt.newConversation();
  const chat = await rt.ask(conv, q[2].prompt, { image: imageFor('a.png'), generation: { max_new_tokens: 6, temperature: 0 } }).promise;
  conv.free();
  assert.equal(together.answers[2].text, chat.text);
});

// What batching saves: per field, the options a decoder can take in one run
// (all of them, or only one-token runs on decoder_fused) cost one run instead of one each.
function expectedSaving(runtime, questions) {
  let saved = 0;
  for (const q of questions) {
    const lens = q.options.map((o) => runtime.tokenizer.encode(o.answer).length).filter((n) => n > 0);
    const all = runtime.decoderGraph !== 'decoder_fused' || lens.every((n) => n === 1);
    const batchable = all ? lens.length : lens.filter((n) => n === 1).length;
    if (batchable > 1) saved += batchable - 1;
  }
  return saved;
}

async function batchedVersusSingle(runtime) {
  const bbps = (img) => ({ path: 'bowel_preparation.bbps_left', image: img, kind: 'choice',
    prompt: 'On the Boston Bowel Preparation Scale, how clean is the left colon in this image? Answer with 0, 1, 2 or 3.',
    options: ['0', '1', '2', '3'].map((c) => ({ code: c, answer: c })) });
  const q = [...questionsFor('a.png', 0), bbps('a.png'), ...questionsFor('b.png', 1)].filter((x) => x.kind === 'choice');
  const counted = [];
  const run = runtime.decoder.run.bind(runtime.decoder);
  runtime.decoder.run = (feeds) => { counted.push(feeds.inputs_embeds.dims[0]); return run(feeds); };
  try {
    const batched = await draftReport(runtime, q, { imageFor }).promise;
    const runsBatched = counted.length;
    const widest = Math.max(...counted);
    counted.length = 0;
    const single = await draftReport(runtime, q, { imageFor, batchOptions: false }).promise;
    for (let k = 0; k < q.length; k++) {
      const a = batched.answers[k], b = single.answers[k];
      assert.equal(a.error, undefined, a.error);
      for (let i = 0; i < a.log_likelihoods.length; i++)
        assert.ok(Math.abs(a.log_likelihoods[i] - b.log_likelihoods[i]) < 1e-3,
          `${runtime.decoderGraph} ${a.path} ${a.codes[i]}: ${a.log_likelihoods[i]} vs ${b.log_likelihoods[i]}`);
    }
    assert.ok(counted.every((n) => n === 1), 'batchOptions: false runs one option at a time');
    return { saved: counted.length - runsBatched, expected: expectedSaving(runtime, q), widest };
  } finally {
    runtime.decoder.run = run;
  }
}

test('options scored in one batched run equal one run per option (fused and token-type decoders)', { skip, timeout: 180000 }, async () => {
  const r1 = await batchedVersusSingle(rt);
  console.log(`${rt.decoderGraph}: ${JSON.stringify(r1)}`);
  assert.equal(r1.saved, r1.expected, `${rt.decoderGraph}: ${JSON.stringify(r1)}`);
  // The token-type decoder (WebGPU's) batches every option of a field.
  const pkg = rt.pkg;
  if (!pkg.graphPath('decoder_token_types', 'fp32')) return;
  const rt2 = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32', decoderGraph: 'decoder_token_types' });
  try {
    const r2 = await batchedVersusSingle(rt2);
    console.log(`decoder_token_types: ${JSON.stringify(r2)}`);
    assert.equal(r2.saved, r2.expected, `decoder_token_types: ${JSON.stringify(r2)}`);
    assert.ok(r2.saved >= 2 * (7 - 1 + 3 - 1) + 3, `every option of a field batched: ${JSON.stringify(r2)}`);
    assert.ok(r2.widest >= 7, 'a batch as wide as the Paris options');
  } finally {
    await rt2.release();
  }
});

test('cancel stops between model runs and keeps the answers finished so far', { skip, timeout: 120000 }, async () => {
  const questions = [...questionsFor('a.png', 0), ...questionsFor('b.png', 1)];
  let job = null;
  job = draftReport(rt, questions, { imageFor, onProgress: (p) => { if (p.done === 2) job.cancel(); } });
  const r = await job.promise;
  assert.equal(r.cancelled, true);
  assert.equal(r.answers.length, 2);
  // The runtime is free again for the next job.
  const again = await draftReport(rt, questions.slice(0, 1), { imageFor }).promise;
  assert.equal(again.answers.length, 1);
});

test('a missing image is named, the other fields still drafted', { skip, timeout: 120000 }, async () => {
  const questions = [...questionsFor('gone.png', 0).slice(0, 1), ...questionsFor('a.png', 1).slice(0, 1)];
  const r = await draftReport(rt, questions, { imageFor }).promise;
  assert.match(r.answers[0].error, /gone\.png is not in the case/);
  assert.equal(r.answers[1].error, undefined);
});

// ---- with the core: a report's questions, the model's answers, applied ----

const coreDraft = core && typeof core.m._es_report_draft_questions_for_document === 'function';
const skipCore = skip || (coreDraft ? false : 'WASM module built without the report draft bindings');
const vocabularyTexts = () => ['report_lists.json', 'classifications.json', 'mst3_terms.json', 'label_map.json']
  .map((f) => fs.readFileSync(path.join(ROOT, 'models/report', f), 'utf8'));
const user = (value) => ({ value, source: 'user', accepted: true, set_by: 'Dr A', set_at: '2026-11-30T05:00:00Z' });
const REPORT = {
  format: 'endoscribe-report', format_version: 1, status: 'draft', version: 1,
  header: { procedure: user('colonoscopy') },
  findings: [
    { id: 'F1', term: user('polyp'), paris: user('0-Is'), size_mm: user(6), evidence: user([{ image: 'a.png', annotation_id: 1 }]) },
    { id: 'F2', evidence: user([{ image: 'b.png', annotation_id: 2 }]) },  // no term yet: the term is asked
  ],
  recommendations: user('Repeat colonoscopy as advised.'),
};

test('a report drafted through the tiny model: valid values, user values untouched, each image encoded once', { skip: skipCore, timeout: 180000 }, async () => {
  const vocab = vocabularyTexts();
  const reportJson = JSON.stringify(REPORT);
  const questions = draftQuestionsForDocument(core.m, reportJson, vocab, { images: ['a.png'] });
  const paths = questions.map((q) => q.path);
  // Only empty fields: not the user's Paris, size, term or recommendations.
  for (const p of ['findings[0].paris', 'findings[0].size_mm', 'findings[0].term', 'recommendations'])
    assert.ok(!paths.includes(p), `${p} is the user's`);
  for (const p of ['findings[0].nice', 'findings[0].location_segment', 'findings[1].term', 'bowel_preparation.bbps_right', 'impression'])
    assert.ok(paths.includes(p), `${p} asked (${paths.join(', ')})`);
  rt.imageFeatures.clear();  // earlier tests encoded these images
  visionRuns.length = 0;
  decoderRuns.length = 0;
  const r = await draftReport(rt, questions, { imageFor }).promise;
  assert.equal(r.answers.length, questions.length);
  // Images a.png (F1 and bowel preparation) and b.png (F2): two encodes; the
  // text-only impression is a third group; one prefix prefill per group.
  assert.equal(visionRuns.length, 2);
  assert.equal(decoderRuns.filter((d) => d.past === 0).length, 3);
  const { report, outcome } = applyDraftToDocument(core.m, reportJson, vocab, questions, r.answers, 'tiny-gemma3', '2026-11-30T05:30:00Z');
  // The user's values are exactly as they were.
  assert.deepEqual(report.findings[0].paris, REPORT.findings[0].paris);
  assert.deepEqual(report.findings[0].size_mm, REPORT.findings[0].size_mm);
  assert.deepEqual(report.findings[0].term, REPORT.findings[0].term);
  assert.deepEqual(report.header.procedure, REPORT.header.procedure);
  assert.deepEqual(report.recommendations, REPORT.recommendations);
  // Every choice was applied, as an unaccepted AI value with a probability.
  const choices = questions.filter((q) => q.kind === 'choice');
  assert.ok(choices.length >= 6);
  const lists = JSON.parse(vocab[1]).lists;
  for (const q of choices) {
    const a = outcome.applied.find((x) => x.path === q.path);
    assert.ok(a, `${q.path} applied (${JSON.stringify(outcome.rejected)})`);
    assert.ok(q.options.some((o) => o.code === a.value), `${q.path}: ${a.value} is an option`);
    assert.ok(a.probability > 0 && a.probability <= 1);
    const sum = a.ranking.reduce((s, [, p]) => s + p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `${q.path}: ${sum}`);
    if (lists[q.list]) assert.ok(lists[q.list].some((o) => o.id === a.value), `${q.path}: ${a.value} in ${q.list}`);
  }
  const nice = report.findings[0].nice;
  assert.equal(nice.source, 'ai');
  assert.equal(nice.accepted, false);
  assert.equal(nice.set_by, 'tiny-gemma3');
  assert.equal(nice.set_at, '2026-11-30T05:30:00Z');
  assert.ok(nice.probability > 0);
  assert.ok(['0', '1', '2', '3'].includes(String(report.bowel_preparation.bbps_right.value)));
  // Numbers and text: applied within limits or rejected with a reason (the random model writes anything).
  for (const q of questions.filter((x) => x.kind !== 'choice')) {
    const a = outcome.applied.find((x) => x.path === q.path);
    const no = outcome.rejected.find((x) => x.path === q.path);
    assert.ok(!!a !== !!no, `${q.path}: applied or rejected`);
    if (a && q.kind === 'number') assert.ok(Number(a.value) >= q.min && Number(a.value) <= q.max, `${q.path}: ${a.value}`);
    if (a && q.kind === 'text') assert.ok(a.value.length <= q.max_chars);
    if (no) assert.match(no.reason, /\w/);
  }
  // Drafting again asks nothing already drafted or entered: only what the new term calls for.
  const again = draftQuestionsForDocument(core.m, JSON.stringify(report), vocab, { images: ['a.png'] });
  for (const q of again) assert.ok(!paths.includes(q.path) || outcome.rejected.some((x) => x.path === q.path), `${q.path} asked twice`);
});

test('the core refuses a report it cannot read, naming the field', { skip: skipCore }, () => {
  const bad = { ...REPORT, findings: [{ ...REPORT.findings[0], size_mm: user(-3) }] };
  assert.throws(() => draftQuestionsForDocument(core.m, JSON.stringify(bad), vocabularyTexts(), {}), /findings\[0\]\.size_mm/);
});
