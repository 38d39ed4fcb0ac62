// The server's classify and report/draft extensions against the app's own
// runtime (web/assistant/runtime.js on onnxruntime-web's WASM EP, as in the
// browser) on the tiny oracle package: the same label probabilities for the
// same prompt, the same draft answers for the same questions on the demo
// case, and tools/batch_reports.mjs end to end (draft on the server, render
// with tools/render_report).
//
// Tolerances: the server runs the package's fp32 graphs on ONNX Runtime's
// native CPU kernels (MLAS), the app on its WebAssembly kernels; the same fp32
// math summed in a different order differs by a few float32 ulps per
// operation, which through the tiny model's layers moves a log-likelihood by
// ~1e-5 (measured below); 1e-3 on log-likelihoods (the bound the engine's and
// the app's own parity tests use) and 1e-4 on probabilities leave room for
// that and nothing else: a wrong image, template or label token shifts them by
// 1e-1 or more.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, execFile } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { TINY, loadCore } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';
import { draftReport } from '../../web/report/report_draft.js';
import { writeBundle } from '../../web/annotation/case_bundle.js';
import { ROOT, findServerBinary, startServer, postJson, dataUrl } from './server_helpers.mjs';

ort.env.wasm.numThreads = 1;

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !findServerBinary()) skip = 'endoscribe-server is not built (scripts/build.sh)';
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';
const demoTool = ['build', ...fs.readdirSync(ROOT).filter((d) => d.startsWith('build-'))]
  .map((d) => path.join(ROOT, d, 'native/tools/make_demo_case')).find((p) => fs.existsSync(p));
if (!skip && !demoTool) skip = 'make_demo_case is not built';

let dir, rt, server;
const goldenPng = () => fs.readFileSync(path.join(TINY, 'golden/image.png'));
const LOG_TOL = 1e-3, P_TOL = 1e-4;

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-srv-ext-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quiet', '--variants', 'fp32', '--test-model', 'random weights'], { stdio: 'pipe' });
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
  server = await startServer(['--model', path.join(dir, 'pkg'), '--model-name', 'tiny', '--variant', 'fp32', '--cpu']);
});

after(async () => {
  if (server) await server.stop();
  if (rt) await rt.release();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const userMessage = (text, png) => [{ role: 'user', content: [
  { type: 'image_url', image_url: { url: dataUrl(png, 'image/png') } }, { type: 'text', text }] }];

test('classify: the server gives the app runtime\'s label probabilities for the same prompt', { skip, timeout: 120000 }, async () => {
  const question = 'Which one of these best describes the image? Answer with the name only.';
  const labels = ['polyp', 'ulcerative colitis', 'normal cecum', 'esophagitis'];
  const app = await rt.classify({ question, labels: labels.map((name) => ({ name })) },
    { image: { key: 'golden', bytes: goldenPng() } }).promise;
  const r = await postJson(`${server.url}/v1/endoscribe/classify`, { model: 'tiny', messages: userMessage(question, goldenPng()), labels });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.object, 'endoscribe.classification');
  assert.deepEqual(r.json.labels, labels);
  let worst = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = Math.abs(r.json.log_likelihoods[i] - app.labels[i].logLikelihood);
    worst = Math.max(worst, d);
    assert.ok(d < LOG_TOL, `${labels[i]}: log-likelihood ${r.json.log_likelihoods[i]} vs the app's ${app.labels[i].logLikelihood}`);
    assert.ok(Math.abs(r.json.probabilities[i] - app.labels[i].probability) < P_TOL, `${labels[i]}: probability`);
  }
  console.log(`# classify: largest log-likelihood difference server vs app ${worst.toExponential(2)}`);
  assert.ok(r.json.usage.prompt_tokens > 0);

  // The same question about another image, right after: the server must not
  // continue the first image's kept KV cache (an image's soft tokens are the
  // same ids whatever the image) - it agrees with the app's fresh answer.
  const demoPng = fs.readFileSync(path.join(demoDir(), 'image-1.png'));
  const app2 = await rt.classify({ question, labels: labels.map((name) => ({ name })) },
    { image: { key: 'demo-1', bytes: demoPng } }).promise;
  const r2 = await postJson(`${server.url}/v1/endoscribe/classify`, { model: 'tiny', messages: userMessage(question, demoPng), labels });
  for (let i = 0; i < labels.length; i++) {
    assert.ok(Math.abs(r2.json.log_likelihoods[i] - app2.labels[i].logLikelihood) < LOG_TOL,
      `second image, ${labels[i]}: ${r2.json.log_likelihoods[i]} vs the app's ${app2.labels[i].logLikelihood}`);
  }
  assert.ok(Math.abs(r2.json.log_likelihoods[0] - r.json.log_likelihoods[0]) > 10 * LOG_TOL, 'the images give different scores');

  // Another question moves the probabilities (the prompt reaches the model).
  const other = await postJson(`${server.url}/v1/endoscribe/classify`, { model: 'tiny', messages: userMessage('Name the finding.', goldenPng()), labels });
  assert.notDeepEqual(other.json.log_likelihoods, r.json.log_likelihoods);
  const unknown = await postJson(`${server.url}/v1/endoscribe/classify`, { model: 'nope', messages: userMessage('x', goldenPng()), labels });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'model_not_found');
});

// The demo case as the app exports it, with a started report: a colonoscopy
// with one polyp (its size entered by the user) on the first lesion image.
function demoDir() {
  const demo = path.join(dir, 'demo');
  if (!fs.existsSync(path.join(demo, 'case.json'))) execFileSync(demoTool, [demo]);
  return demo;
}

function demoBundle() {
  const demo = demoDir();
  const manifest = JSON.parse(fs.readFileSync(path.join(demo, 'case.json'), 'utf8'));
  const images = manifest.images.map((im) => ({ name: im.file, bytes: new Uint8Array(fs.readFileSync(path.join(demo, im.file))) }));
  const lesionImage = manifest.images.find((im) => im.lesions?.length).file;
  const user = { source: 'user', accepted: true, set_by: 'Dr Test', set_at: '2026-11-30T08:00:00Z' };
  const report = { format: 'endoscribe-report', format_version: 1, status: 'draft', version: 1,
    header: { procedure: { value: 'colonoscopy', ...user } },
    findings: [{ id: 'F1', term: { value: 'polyp', ...user }, size_mm: { value: 6, ...user },
      evidence: { value: [{ image: lesionImage, annotation_id: 0 }], ...user } }] };
  const doc = JSON.stringify({ format: 'endoscribe-annotations', version: 1, case: null, coco: { images: [], annotations: [], categories: [] } });
  return { text: writeBundle(doc, images, JSON.stringify(report)), images, lesionImage };
}

test('report/draft on the demo case: AI values only in empty fields, the same answers as the app runtime', { skip, timeout: 300000 }, async () => {
  const { text, images } = demoBundle();
  const r = await postJson(`${server.url}/v1/endoscribe/report/draft`, { model: 'tiny', bundle: JSON.parse(text), now: '2026-11-30T09:00:00Z' });
  assert.equal(r.status, 200, r.text);
  const j = r.json;
  assert.equal(j.object, 'endoscribe.report_draft');
  assert.equal(j.model, 'tiny');
  assert.ok(j.questions.length >= 5, `${j.questions.length} questions`);
  const paths = j.questions.map((q) => q.path);
  assert.ok(paths.includes('findings[0].paris') && paths.includes('impression'), paths.join(', '));
  assert.ok(!paths.includes('findings[0].size_mm') && !paths.includes('findings[0].term'), 'the user\'s fields are never asked');
  const f = j.report.findings[0];
  assert.deepEqual([f.size_mm.value, f.size_mm.source, f.term.value], [6, 'user', 'polyp']);
  assert.ok(j.outcome.applied.length > 0);
  for (const a of j.outcome.applied) {
    const [, sect, idx, field] = /^(findings)\[(\d+)\]\.(\w+)$/.exec(a.path) ?? [];
    if (sect) {
      const v = j.report.findings[Number(idx)][field];
      assert.equal(v.source, 'ai', a.path);
      assert.equal(v.accepted, false, a.path);
      assert.equal(v.set_by, 'tiny', a.path);
      assert.equal(v.set_at, '2026-11-30T09:00:00Z', a.path);
    }
  }
  for (const x of j.outcome.rejected) assert.ok(x.reason.length > 0);

  // The app's runtime on the same questions: the same scores and the same greedy texts.
  const bytes = new Map(images.map((im) => [im.name, im.bytes]));
  const app = await draftReport(rt, j.questions, { imageFor: (name) => (bytes.has(name) ? { key: name, bytes: bytes.get(name) } : null) }).promise;
  const byPath = new Map(app.answers.map((a) => [a.path, a]));
  let worst = 0, compared = 0, brokenBytes = 0;
  for (const a of j.answers) {
    const ref = byPath.get(a.path);
    assert.ok(ref, `the app answered ${a.path}`);
    assert.equal(a.error, undefined, `${a.path}: ${a.error}`);
    if (a.codes) {
      assert.deepEqual(a.codes, ref.codes, a.path);
      a.log_likelihoods.forEach((l, i) => { worst = Math.max(worst, Math.abs(l - ref.log_likelihoods[i])); });
      compared++;
    } else {
      // The random test model emits byte tokens that form no UTF-8 character:
      // the app shows each as U+FFFD; the server's engine does too inside the
      // text but drops such bytes left over at the end of the answer. Every
      // real character must agree.
      const whole = (t) => t.replaceAll('\uFFFD', '');
      assert.equal(whole(a.text), whole(ref.text), `${a.path}: the server's greedy answer ${JSON.stringify(a.text)} vs the app's ${JSON.stringify(ref.text)}`);
      if (ref.text.includes('\uFFFD')) brokenBytes++;
    }
  }
  assert.ok(compared > 0);
  assert.ok(worst < LOG_TOL, `largest log-likelihood difference ${worst}`);
  console.log(`# report draft: ${j.questions.length} questions, ${j.outcome.applied.length} applied, ${j.outcome.rejected.length} rejected, ` +
    `${Math.round(j.timings.total_ms)} ms; largest log-likelihood difference vs the app ${worst.toExponential(2)}; ` +
    `${brokenBytes} generated answers had bytes that form no character`);
});

const run = (args) => new Promise((resolve) => {
  execFile(process.execPath, [path.join(ROOT, 'tools/batch_reports.mjs'), ...args], { timeout: 240000 },
    (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
});

test('batch_reports.mjs drafts bundles on the server and renders them; a broken one does not stop the rest', { skip, timeout: 300000 }, async () => {
  const { text } = demoBundle();
  const cases = path.join(dir, 'cases');
  fs.mkdirSync(cases, { recursive: true });
  fs.writeFileSync(path.join(cases, 'demo-1.endoscribe.json'), text);
  fs.writeFileSync(path.join(cases, 'broken.endoscribe.json'), '{"format": "endoscribe-case-bundle", ');
  const out = path.join(dir, 'reports');
  const r = await run(['--server', server.url, '--model', 'tiny', '--out', out,
    path.join(cases, 'demo-1.endoscribe.json'), path.join(cases, 'broken.endoscribe.json')]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /demo-1: \d+ fields drafted/);
  assert.match(r.stdout, /broken: FAILED: .*not a case bundle \(not JSON/);
  assert.match(r.stdout, /1 of 2 cases done, 1 failed/);
  const caseDir = path.join(out, 'demo-1');
  for (const f of ['report.pdf', 'report.html', 'report.txt', 'report.fhir.json', 'draft.json', 'demo-1.drafted.endoscribe.json']) {
    assert.ok(fs.existsSync(path.join(caseDir, f)), `${f} written`);
  }
  assert.equal(fs.readFileSync(path.join(caseDir, 'report.pdf')).subarray(0, 5).toString(), '%PDF-');
  const drafted = JSON.parse(fs.readFileSync(path.join(caseDir, 'demo-1.drafted.endoscribe.json'), 'utf8'));
  const summary = JSON.parse(fs.readFileSync(path.join(caseDir, 'draft.json'), 'utf8'));
  assert.ok(summary.applied.length > 0);
  assert.equal(drafted.findings, undefined);
  assert.equal(drafted.report.findings[0].paris.source, 'ai');
  // The rendered text carries a drafted value (the Paris class the model chose).
  const paris = drafted.report.findings[0].paris.value;
  assert.ok(fs.readFileSync(path.join(caseDir, 'report.txt'), 'utf8').includes(paris), `report.txt mentions ${paris}`);

  // A server that is not there: a plain message, exit 1.
  const down = await run(['--server', 'http://127.0.0.1:9', '--out', out, path.join(cases, 'demo-1.endoscribe.json')]);
  assert.equal(down.code, 1);
  assert.match(down.stdout, /could not be reached/);
  const usage = await run(['--out', out, path.join(cases, 'demo-1.endoscribe.json')]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--server URL is needed/);
});
