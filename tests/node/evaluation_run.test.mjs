// The evaluation tool end to end against small mock endpoints (no model):
// an OpenAI-compatible server (chat answers, logprobs for label scoring) and
// endoscribe-server's classify extension. Constructed datasets whose answers
// are known, a broken image that must be reported and skipped, the results
// folder (predictions, metrics from the core, HTML with plots), re-scoring,
// resume after a kill, and a resumed run with other settings refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { coreModulePath, ROOT } from './assistant_helpers.mjs';
import { startMockServer } from './evaluation_mock_server.mjs';
import { encodePng } from '../../tools/evaluation/png.mjs';
import { parseArgs } from '../../tools/evaluate.mjs';
import { runEvaluation } from '../../tools/evaluation/run.mjs';
import { writeResults, rescore } from '../../tools/evaluation/results.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';
import { readPredictions } from '../../tools/evaluation/predictions.mjs';
import { parseDelimited } from '../../tools/evaluation/table_text.mjs';
import { printTable } from '../../tools/evaluation/tables.mjs';

const corePath = coreModulePath();
const skip = fs.existsSync(corePath) ? false : `WASM core not built: ${corePath}`;
const TOOL = path.join(ROOT, 'tools/evaluate.mjs');
let core, tmp;
const quiet = () => {};
const sink = { write() {} };  // the progress line, not wanted in test output

// A PNG whose pixels encode n (so every image has its own hash).
const image = (n, w = 40, h = 30) => {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) { rgba[i * 4] = n; rgba[i * 4 + 1] = (i * 7) & 255; rgba[i * 4 + 2] = 3 * n; rgba[i * 4 + 3] = 255; }
  return encodePng({ rgba, width: w, height: h });
};
const sha = async (bytes) => (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
const write = (file, data) => { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, data); };
const settings = (argv) => ({ ...parseArgs(argv), core: corePath });

before(async () => {
  if (skip) return;
  core = await loadCores(corePath);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-eval-run-'));
});
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

// Classification data: classes alpha (4 images) and beta (3), a broken PNG in alpha.
async function classificationData() {
  const dir = path.join(tmp, 'cls');
  const truth = new Map();
  for (let i = 0; i < 7; i++) {
    const cls = i < 4 ? 'alpha' : 'beta', bytes = image(i + 1);
    write(path.join(dir, cls, `img${i}.png`), bytes);
    truth.set(await sha(bytes), { cls, i });
  }
  write(path.join(dir, 'alpha', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not a picture'));
  return { dir, truth };
}

test('classification through an OpenAI endpoint: label scoring from logprobs and generation, broken image skipped and reported, HTML with plots, re-scoring', { skip, timeout: 120000 }, async () => {
  const { dir, truth } = await classificationData();
  // The "model": right on every image but img2 (alpha scored as beta); generation unmapped on img5.
  const mock = await startMockServer(({ imageSha256, body }) => {
    const t = truth.get(imageSha256);
    const right = t.i !== 2;
    const say = right ? t.cls : t.cls === 'alpha' ? 'beta' : 'alpha';
    if (body.logprobs) return { top: [{ token: say.slice(0, 2), logprob: Math.log(0.7) }, { token: (say === 'alpha' ? 'beta' : 'alpha').slice(0, 2), logprob: Math.log(0.2) }, { token: 'I', logprob: Math.log(0.1) }] };
    return { text: t.i === 5 ? 'I cannot tell.' : `This looks like ${say}.` };
  });
  try {
    const out = path.join(tmp, 'out-cls');
    const s = settings(['classification', dir, '--backend', 'openai', '--url', mock.url, '--classify-by', 'both', '--out', out, '--bootstrap', '200']);
    await runEvaluation(s, core, { log: quiet, progressStream: sink });
    const scores = await writeResults(out, { core, bootstrap: 200 });
    const { records } = readPredictions(path.join(out, 'predictions.jsonl'));
    assert.equal(records.length, 16);
    const skipped = records.filter((r) => r.status === 'skipped');
    assert.deepEqual(skipped.map((r) => r.key).sort(), ['alpha/broken.png|generation', 'alpha/broken.png|scoring']);
    assert.match(skipped[0].reason, /does not decode/);
    const scoring = records.find((r) => r.key === 'alpha/img0.png|scoring');
    assert.deepEqual(Object.keys(scoring).sort(), ['dataset_label', 'detail', 'id', 'image', 'image_sha256', 'key', 'method', 'predicted', 'probabilities', 'prompt', 'raw', 'status', 'task', 'timings', 'truth']);
    assert.equal(scoring.prompt, 'Which one of these best describes the image: alpha, beta? Answer with the name only.');
    assert.ok(Math.abs(scoring.probabilities[0] - 0.7 / 0.9) < 1e-6);
    assert.equal(scoring.detail.matched_mass.toFixed(6), '0.900000');
    const byName = Object.fromEntries(scores.results.map((r) => [r.name, r]));
    assert.equal(byName.scoring.items, 7);
    assert.equal(byName.scoring.metrics.accuracy.value, 6 / 7);
    assert.ok(byName.scoring.metrics.accuracy.low <= 6 / 7 && byName.scoring.metrics.accuracy.high >= 6 / 7);
    assert.deepEqual(byName.scoring.confusion_matrix.matrix, [[3, 1], [0, 3]]);
    assert.equal(byName.generation.metrics.unmapped_rate.value, 1 / 7);
    assert.equal(byName.generation.metrics.accuracy.value, 5 / 7);
    assert.equal(scores.counts.skipped, 2);
    assert.equal(scores.counts.unmapped, 1);
    // The CSV has every figure with its interval; the HTML the tables and the plots.
    const csv = parseDelimited(fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8')).rows.map((r) => r.cells);
    const acc = csv.find((r) => r.part === 'scoring' && r.group === 'all' && r.metric === 'accuracy');
    assert.equal(Number(acc.value), 6 / 7);
    assert.ok(Number(acc.ci_low) <= Number(acc.value));
    assert.equal(csv.find((r) => r.metric === 'skipped').value, '2');
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.equal(svgs.length, 6);  // confusion x2, per-class x2, ROC and reliability (label scoring only)
    for (const t of ['Confusion matrix', 'ROC curves', 'Reliability', 'Precision, recall and F1']) assert.ok(html.includes(t), t);
    assert.ok(svgs.some((s) => s.includes('alpha')), 'class names drawn in the plots');
    assert.match(html, /Skipped items \(2\)[\s\S]*alpha\/broken\.png/);
    assert.match(html, /share naming a label: median \(min – max\)<\/th><td class="n">0\.900/);
    assert.doesNotMatch(html, /<script/);
    // Re-scoring the saved predictions (no model) gives the same figures.
    const again = await rescore(path.join(out, 'predictions.jsonl'), path.join(tmp, 'rescored'), { core, bootstrap: 200 });
    assert.deepEqual(again.results, scores.results);
    assert.ok(fs.existsSync(path.join(tmp, 'rescored', 'report.html')));
  } finally { await mock.close(); }
});

test('endoscribe-server backend: classify extension, same record format as the OpenAI one', { skip, timeout: 120000 }, async () => {
  const { dir, truth } = await classificationData();
  const mock = await startMockServer(({ url, imageSha256, body, authorization }) => {
    assert.equal(url, '/v1/endoscribe/classify');
    assert.deepEqual(body.labels, ['alpha', 'beta']);
    assert.equal(authorization, 'Bearer secret');
    return { probabilities: truth.get(imageSha256).cls === 'alpha' ? [0.6, 0.4] : [0.1, 0.9] };
  }, { endoscribe: { test_model: true } });
  try {
    const out = path.join(tmp, 'out-srv');
    await runEvaluation(settings(['classification', dir, '--backend', 'server', '--url', mock.url, '--api-key', 'secret', '--out', out]), core, { log: quiet, progressStream: sink });
    const scores = await writeResults(out, { core, bootstrap: 0 });
    assert.equal(scores.results[0].metrics.accuracy.value, 1);
    assert.equal(scores.results[0].metrics.macro_auroc.value, 1);
    // The server says its model is a test model: the report says the figures mean nothing.
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /Test model with random weights/);
    const rec = readPredictions(path.join(out, 'predictions.jsonl')).records.find((r) => r.key === 'alpha/img0.png|scoring');
    const openaiRec = readPredictions(path.join(tmp, 'out-cls', 'predictions.jsonl')).records.find((r) => r.key === 'alpha/img0.png|scoring');
    const common = (r) => Object.keys(r).filter((k) => !['detail', 'log_likelihoods'].includes(k)).sort();
    assert.deepEqual(common(rec), common(openaiRec));
    assert.deepEqual(rec.log_likelihoods.map((x) => +x.toFixed(3)), [Math.log(0.6), Math.log(0.4)].map((x) => +x.toFixed(3)));
  } finally { await mock.close(); }
});

test('REC, REG (coordinates and crops), counting, multiple choice with CircularEval, captions and structured reports against known answers', { skip, timeout: 120000 }, async () => {
  // Kvasir-SEG style: 3 images, one box each, one image with two boxes (left out of REC, counted for counting).
  const seg = path.join(tmp, 'seg');
  const truth = new Map();
  const rows = ['image,mask,label,n_boxes,bboxes_xyxy'];
  const boxes = ['4 3 20 15', '10 10 30 25', '0 0 8 8', '1 1 5 5;20 20 30 28'];
  for (let i = 0; i < 4; i++) {
    const bytes = image(50 + i);
    write(path.join(seg, `images/${i}.png`), bytes);
    write(path.join(seg, `masks/${i}.png`), image(200));
    rows.push(`images/${i}.png,masks/${i}.png,polyp,${boxes[i].split(';').length},${boxes[i]}`);
    truth.set(await sha(bytes), i);
  }
  write(path.join(seg, 'labels.csv'), `${rows.join('\n')}\n`);
  const mock = await startMockServer(({ text, imageSha256 }) => {
    const i = truth.get(imageSha256);
    if (/How many/.test(text)) return { text: ['There is one polyp.', 'I see 3 polyps', 'No polyp.', 'Two polyps.'][i] };
    // Boxes in 0-1000 normalised coordinates (the auto format reads them): exact, shifted, none.
    if (/bounding box/.test(text)) return { text: ['[100, 100, 500, 500]', 'polyp at [333, 333, 1000, 833]', 'no polyp here'][i] };
    throw new Error(`unexpected question ${text}`);
  });
  try {
    const rec = path.join(tmp, 'out-rec');
    await runEvaluation(settings(['rec', seg, '--backend', 'openai', '--url', mock.url, '--out', rec]), core, { log: quiet, progressStream: sink });
    const r = await writeResults(rec, { core, bootstrap: 0 });
    const g = r.results.find((x) => x.task === 'grounding');
    assert.equal(g.items, 3);
    // Image 0 (40x30): [100,100,500,500]/1000 -> [4,3,20,15] = truth (IoU 1); image 1 -> [13.3,10,40,25] vs [10,10,30,25] (IoU 0.6).
    assert.ok(Math.abs(g.iou[0] - 1) < 1e-6 && Math.abs(g.iou[1] - (16.68 * 15) / (20 * 15 + 26.68 * 15 - 16.68 * 15)) < 0.01 && g.iou[2] === 0, JSON.stringify(g.iou));
    assert.equal(g.metrics.accuracy_at_iou.value, 2 / 3);
    assert.equal(r.counts.skipped, 1);
    assert.match(fs.readFileSync(path.join(rec, 'report.html'), 'utf8'), /IoU of each answer/);
    const cnt = path.join(tmp, 'out-count');
    await runEvaluation(settings(['count', seg, '--backend', 'openai', '--url', mock.url, '--out', cnt]), core, { log: quiet, progressStream: sink });
    const c = (await writeResults(cnt, { core, bootstrap: 0 })).results.find((x) => x.task === 'counting');
    assert.equal(c.metrics.accuracy.value, 0.5);  // 1 = 1 and 2 = 2; 3 != 1, 0 != 1
    const prompts = mock.requests.filter((q) => /How many/.test(q.text)).map((q) => q.text);
    assert.equal(prompts[0], 'How many polyps are visible in this image? Answer with a number.');
  } finally { await mock.close(); }

  // REG: the app's region question, with the region's coordinates (0-1000) or its crop (a PNG of the box).
  const regMock = await startMockServer(({ body, text }) => {
    const url = body.messages.at(-1).content.find((p) => p.type === 'image_url').image_url.url;
    const png = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
    return { text: `${png.readUInt32BE(16)}x${png.readUInt32BE(20)} ${/Region: \[/.test(text) ? 'coordinates' : 'crop'}: ${png.readUInt32BE(16) < 20 ? 'a polyp' : 'no idea'}` };
  });
  try {
    const coords = path.join(tmp, 'out-reg');
    await runEvaluation(settings(['reg', seg, '--backend', 'openai', '--url', regMock.url, '--out', coords]), core, { log: quiet, progressStream: sink });
    const rs = readPredictions(path.join(coords, 'predictions.jsonl')).records;
    assert.equal(rs.length, 5);  // every box, the two-box image's included
    assert.equal(rs[0].prompt, 'What is in this region? Region: [100, 100, 500, 500]');
    assert.ok(rs.every((r) => /^40x30 coordinates/.test(r.raw) && !r.cropped), JSON.stringify(rs.map((r) => r.raw)));
    const crop = path.join(tmp, 'out-reg-crop');
    await runEvaluation(settings(['reg', seg, '--backend', 'openai', '--url', regMock.url, '--region-input', 'crop', '--out', crop]), core, { log: quiet, progressStream: sink });
    const cs = readPredictions(path.join(crop, 'predictions.jsonl')).records;
    assert.deepEqual(cs.map((r) => r.raw.split(' ')[0]), ['16x12', '20x15', '8x8', '4x4', '10x8']);
    assert.ok(cs.every((r) => r.cropped && r.prompt === 'What is in this region?'));
    const scored = await writeResults(crop, { core, bootstrap: 0 });
    const m = scored.results.find((x) => x.name === 'reg');
    assert.equal(m.metrics.accuracy.value, 4 / 5);  // every crop narrower than 20 px is "a polyp"
    assert.equal(m.metrics.unmapped_rate.value, 1 / 5);
    assert.deepEqual(m.mapped_answers, ['polyp', null, 'polyp', 'polyp', 'polyp']);  // read by the metrics core, in key order (image 1's crop is 20 px wide)
    assert.equal(scored.counts.unmapped, 1);
  } finally { await regMock.close(); }

  // Multiple choice: 2 questions of 3 options; the model always says the option text "polyp".
  const b64 = Buffer.from(image(99)).toString('base64');
  const tsv = path.join(tmp, 'mc.tsv');
  write(tsv, `index\tquestion\tA\tB\tC\tanswer\tcategory\timage\n0\tWhat is it?\tpolyp\tulcer\tnormal\tA\tlesion classification\t${b64}\n1\tAnd this?\tulcer\tpolyp\tnormal\tA\tcounting\t0\n`);
  const mc = await startMockServer(({ text }) => {
    const letter = /([A-C])\. polyp/.exec(text)[1];
    return { text: `${letter}. polyp` };
  });
  try {
    const out = path.join(tmp, 'out-mc');
    await runEvaluation(settings(['mcq', tsv, '--backend', 'openai', '--url', mc.url, '--circular', '--out', out]), core, { log: quiet, progressStream: sink });
    const scores = await writeResults(out, { core, bootstrap: 0 });
    const m = scores.results.find((x) => x.task === 'multiple_choice');
    // The EndoAgentBench layout: its columns are the categories (bootstrap off: no intervals).
    assert.match(printTable('endoagentbench', scores), /\| mock-model \| 1\.000; circular 1\.000 \| 0\.000; circular 0\.000 \| – \| 0\.500; circular 0\.500 \| – \|/);
    assert.equal(m.items, 6);
    assert.equal(m.questions, 2);
    assert.equal(m.metrics.accuracy.value, 0.5);          // all 3 rotations of question 0, none of question 1
    assert.equal(m.metrics.circular_accuracy.value, 0.5);
  } finally { await mc.close(); }

  // Captions: the answer equals the reference for one image, shares nothing for the other.
  const pairs = path.join(tmp, 'caps');
  write(path.join(pairs, 'a.png'), image(120));
  write(path.join(pairs, 'b.png'), image(121));
  write(path.join(pairs, 'captions.csv'), 'image,caption\na.png,a small sessile polyp in the sigmoid colon\nb.png,normal cecum\n');
  const shaA = await sha(image(120));
  const cap = await startMockServer(({ imageSha256 }) => ({ text: imageSha256 === shaA ? 'A small sessile polyp in the sigmoid colon.' : 'xyz' }));
  try {
    const out = path.join(tmp, 'out-cap');
    await runEvaluation(settings(['caption', path.join(pairs, 'captions.csv'), '--backend', 'openai', '--url', cap.url, '--out', out]), core, { log: quiet, progressStream: sink });
    const t = (await writeResults(out, { core, bootstrap: 0 })).results.find((x) => x.task === 'text');
    assert.equal(t.metrics.rouge1.value, 0.5);
    assert.equal(t.metrics.rougeL.value, 0.5);
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /ROUGE-L F of each answer[\s\S]*<\/svg>/);
  } finally { await cap.close(); }

  // Structured reports: JSON references are also compared field by field (the answer's JSON object, prose around it allowed).
  const reports = path.join(tmp, 'reports.jsonl');
  fs.writeFileSync(reports, [{ image: 'caps/a.png', report: '{"finding": "polyp", "size_mm": 6, "location": "sigmoid"}' },
    { image: 'caps/b.png', report: '{"finding": "normal", "location": "cecum"}' }].map((x) => JSON.stringify(x)).join('\n') + '\n');
  const rep = await startMockServer(({ imageSha256 }) => ({ text: imageSha256 === shaA
    ? 'Report: {"finding": "Polyp", "size_mm": 6, "location": "rectum"}' : 'I cannot write a report.' }));
  try {
    const out = path.join(tmp, 'out-rep');
    await runEvaluation(settings(['caption', reports, '--backend', 'openai', '--url', rep.url, '--out', out]), core, { log: quiet, progressStream: sink });
    const f = (await writeResults(out, { core, bootstrap: 0 })).results.find((x) => x.task === 'report_fields');
    // 2 of 3 predicted pairs right; 5 reference pairs.
    assert.equal(f.metrics.precision.value, 2 / 3);
    assert.equal(f.metrics.recall.value, 2 / 5);
  } finally { await rep.close(); }
});

// The CLI in a child process, as a user runs it.
function cli(args, env = {}) {
  return spawn(process.execPath, [TOOL, ...args, '--core', corePath], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}
const finished = (child) => new Promise((resolve) => {
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  child.on('close', (code, signal) => resolve({ code, signal, out, err }));
});

test('an interrupted run resumes where it stopped and ends with what an uninterrupted run gives; other settings are refused', { skip, timeout: 180000 }, async () => {
  const { dir, truth } = await classificationData();
  const mock = await startMockServer(({ imageSha256 }) => ({ text: `${truth.get(imageSha256).cls}` }), { delayMs: 150 });
  try {
    const args = ['classification', dir, '--backend', 'openai', '--url', mock.url, '--classify-by', 'generation', '--bootstrap', '50'];
    const whole = path.join(tmp, 'whole'), cut = path.join(tmp, 'cut');
    const w = await finished(cli([...args, '--out', whole]));
    assert.equal(w.code, 0, w.err);
    assert.match(w.err, /\[#+\.*\] +8\/8 100\.0% \| .* left \| 1 skipped/);  // the progress line (not a terminal: printed at the end)
    // Kill the second run once it has written three answers.
    const child = cli([...args, '--out', cut]);
    const done = finished(child);
    const file = path.join(cut, 'predictions.jsonl');
    for (let t = 0; t < 400; t++) {
      if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length >= 3) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL');
    const before = readPredictions(file).records.length;
    assert.ok(before >= 3 && before < 8, `${before} answers before the kill`);
    const asked = mock.requests.length;
    const r = await finished(cli([...args, '--out', cut]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`resuming .*: ${before} answer\\(s\\) already there, ${8 - before} to go`));
    // Only the missing answers were asked again (the broken image never reaches the endpoint).
    const brokenBefore = readPredictions(file).records.slice(0, before).some((x) => x.status === 'skipped') ? 0 : 1;
    assert.equal(mock.requests.length - asked, 8 - before - brokenBefore);
    const strip = (recs) => recs.map(({ timings, ...x }) => x).sort((a, b) => (a.key < b.key ? -1 : 1));
    assert.deepEqual(strip(readPredictions(file).records), strip(readPredictions(path.join(whole, 'predictions.jsonl')).records));
    const m1 = JSON.parse(fs.readFileSync(path.join(whole, 'metrics.json'), 'utf8')), m2 = JSON.parse(fs.readFileSync(path.join(cut, 'metrics.json'), 'utf8'));
    assert.deepEqual(m1.results.filter((x) => x.task === 'classification'), m2.results.filter((x) => x.task === 'classification'));
    // Same folder, another prompt: refused, saying what differs.
    const other = await finished(cli([...args, '--out', cut, '--prompt', 'Name the class.']));
    assert.equal(other.code, 1);
    assert.match(other.err, /other settings[\s\S]*prompt: null before, "Name the class\." now/);
    // --rescore from the command line, with a published table.
    const rs = await finished(cli(['--rescore', file, '--out', path.join(tmp, 'cli-rescore'), '--table', 'medgemma-hyperkvasir']));
    assert.equal(rs.code, 0, rs.err);
    assert.match(rs.out, /\| model \| classes \| accuracy \| macro-F1 \| AUROC \|/);
  } finally { await mock.close(); }
});

test('an endpoint that fails stops the run with the answers kept; an input it refuses is skipped; the same command then finishes', { skip, timeout: 120000 }, async () => {
  const { dir, truth } = await classificationData();
  let failing = false;
  const mock = await startMockServer(({ imageSha256 }) => {
    const t = truth.get(imageSha256);
    if (t.i === 5) return { status: 413, message: 'image too large' };
    if (failing) return { status: 500, message: 'engine crashed' };
    if (t.i === 3) failing = true;  // from the next request on
    return { text: t.cls };
  });
  try {
    const out = path.join(tmp, 'out-fail');
    const s = settings(['classification', dir, '--backend', 'openai', '--url', mock.url, '--classify-by', 'generation', '--retries', '0', '--out', out]);
    await assert.rejects(runEvaluation(s, core, { log: quiet, progressStream: sink }), /engine crashed[\s\S]*answer\(s\) so far are kept in .*predictions\.jsonl; run the same command again/);
    const kept = readPredictions(path.join(out, 'predictions.jsonl')).records;
    assert.deepEqual(kept.map((r) => r.key), ['alpha/broken.png|generation', 'alpha/img0.png|generation', 'alpha/img1.png|generation', 'alpha/img2.png|generation', 'alpha/img3.png|generation']);
    failing = false;
    await runEvaluation(settings(['classification', dir, '--backend', 'openai', '--url', mock.url, '--classify-by', 'generation', '--retries', '0', '--out', out]), core, { log: quiet, progressStream: sink });
    const all = readPredictions(path.join(out, 'predictions.jsonl')).records;
    assert.equal(all.length, 8);
    const refused = all.find((r) => r.key === 'beta/img5.png|generation');
    assert.equal(refused.status, 'skipped');
    assert.match(refused.reason, /the model could not answer: .*image too large/);
  } finally { await mock.close(); }
});

test('bad input gets plain words and exit status 1', { skip, timeout: 60000 }, async () => {
  const r = spawnSync(process.execPath, [TOOL, 'classification', path.join(tmp, 'nowhere'), '--backend', 'openai', '--url', 'http://127.0.0.1:9', '--core', corePath], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /evaluate: .*nowhere does not exist/);
  const u = spawnSync(process.execPath, [TOOL, 'classification'], { encoding: 'utf8' });
  assert.equal(u.status, 1);
  assert.match(u.stderr, /usage:/);
});

test('a predictions file written by hand (no run.json) is re-scored from its records and --labels', { skip, timeout: 60000 }, async () => {
  const dir = path.join(tmp, 'own');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'mine.jsonl');
  const rows = [
    { task: 'classification', key: '1', probabilities: [0.7, 0.2, 0.1], truth: 'a' },
    { task: 'classification', key: '2', probabilities: [0.1, 0.6, 0.3], truth: 'b' },
    { task: 'classification', key: '3', probabilities: [0.5, 0.1, 0.4], truth: 'c' },
    { task: 'classification', key: '4', probabilities: [0.2, 0.2, 0.6], truth: 'c' },
  ];
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'labels.txt'), 'a\nb\nc\n');
  const r = await finished(cli(['--rescore', file, '--labels', path.join(dir, 'labels.txt'), '--out', path.join(dir, 'res'), '--bootstrap', '0']));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /no run\.json beside/);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'res', 'metrics.json'), 'utf8'));
  assert.equal(m.results[0].metrics.accuracy.value, 0.75);
  // What was scored is kept as the metrics core's own input (tools/score_predictions reads it).
  const input = JSON.parse(fs.readFileSync(path.join(dir, 'res', 'metrics_input.json'), 'utf8'));
  assert.deepEqual(input.tasks[0].labels, ['a', 'b', 'c']);
  assert.deepEqual(input.tasks[0].truth, ['a', 'b', 'c', 'c']);
  const noLabels = await finished(cli(['--rescore', file, '--out', path.join(dir, 'res2')]));
  assert.equal(noLabels.code, 1);
  assert.match(noLabels.err, /name it with --labels/);
});

test('--concurrency keeps several questions in flight and gives the same results as one at a time', { skip, timeout: 120000 }, async () => {
  const { dir, truth } = await classificationData();
  const mock = await startMockServer(({ imageSha256, body }) => {
    const t = truth.get(imageSha256);
    if (body.logprobs) return { top: [{ token: t.cls.slice(0, 2), logprob: Math.log(0.4 + 0.05 * t.i) }, { token: 'x', logprob: Math.log(0.1) }, { token: t.cls === 'alpha' ? 'be' : 'al', logprob: Math.log(0.3) }] };
    return { text: t.i % 2 ? t.cls : 'unsure' };
  }, { delayMs: 60 });
  try {
    const run = async (out, extra) => {
      await runEvaluation(settings(['classification', dir, '--backend', 'openai', '--url', mock.url, '--classify-by', 'both', '--out', out, ...extra]), core, { log: quiet, progressStream: sink });
      return writeResults(out, { core, bootstrap: 300 });
    };
    const one = await run(path.join(tmp, 'conc-1'), []);
    assert.equal(mock.load.maxInFlight, 1);
    const four = await run(path.join(tmp, 'conc-4'), ['--concurrency', '4']);
    assert.ok(mock.load.maxInFlight >= 3, `at most ${mock.load.maxInFlight} in flight`);
    const figures = (r) => r.results.filter((x) => x.task !== 'generation_speed');  // times differ, figures must not
    assert.equal(figures(one).length, 2);
    assert.deepEqual(figures(four), figures(one));
  } finally { await mock.close(); }
});

test('an endpoint that refuses every question stops the run instead of skipping everything', { skip, timeout: 60000 }, async () => {
  const { dir } = await classificationData();
  const mock = await startMockServer(() => ({ status: 400, message: 'unknown field "continue_final_message"' }));
  try {
    const s = settings(['classification', dir, '--backend', 'openai', '--url', mock.url, '--logprobs-prefill', '--out', path.join(tmp, 'out-refused')]);
    await assert.rejects(runEvaluation(s, core, { log: quiet, progressStream: sink }), /refused the first 3 questions .*unknown field/);
    assert.equal(mock.requests.length, 3);
  } finally { await mock.close(); }
});

test('segmentation subcommand: an image that cannot be read is recorded as skipped and reported, not fatal to the others', { skip, timeout: 120000 }, async () => {
  const d = path.join(tmp, 'segbroken');
  fs.mkdirSync(path.join(d, 'images'), { recursive: true });
  fs.mkdirSync(path.join(d, 'masks'), { recursive: true });
  fs.writeFileSync(path.join(d, 'images/bad.png'), 'not a png');
  fs.writeFileSync(path.join(d, 'masks/bad.png'), image(1));
  fs.writeFileSync(path.join(d, 'labels.csv'), 'image,mask\nimages/bad.png,masks/bad.png\n');
  const out = path.join(tmp, 'segbroken-out');
  const r = await finished(cli(['segmentation', d, '--no-reference', '--threads', '1', '--out', out]));
  assert.equal(r.code, 1);
  assert.match(r.err, /skipped images\/bad\.png: .*not a supported image/);
  assert.match(r.err, /no image could be evaluated \(1 skipped\)/);
  const recs = readPredictions(path.join(out, 'predictions.jsonl')).records;
  assert.deepEqual(recs.map((x) => [x.key, x.status]), [['images/bad.png', 'skipped']]);
});
