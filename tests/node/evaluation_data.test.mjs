// The evaluation tool's data side, without a model or the WASM core: dataset
// readers on small constructed datasets (bad rows are reported, never dropped
// silently), the seeded stratified split, split files, counts read from
// answers, label scoring from logprobs (and its requests to a mock
// OpenAI endpoint), and the append-only
// predictions file (resume, a torn last line, other settings refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDataset, imageBytes } from '../../tools/evaluation/datasets.mjs';
import { stratifiedSplit, splitFromFile } from '../../tools/evaluation/split.mjs';
import { countFromAnswer } from '../../tools/evaluation/answers.mjs';
import { logprobLabelScores } from '../../tools/evaluation/backends.mjs';
import { PredictionStore, readPredictions } from '../../tools/evaluation/predictions.mjs';
import { parseDelimited } from '../../tools/evaluation/table_text.mjs';
import { makeQueries, rotateOptions, mcqPrompt } from '../../tools/evaluation/tasks.mjs';
import { encodePng } from '../../tools/evaluation/png.mjs';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-eval-data-'));
const png = (w = 4, h = 3, v = 100) => encodePng({ rgba: new Uint8Array(w * h * 4).fill(v), width: w, height: h });
const write = (file, data) => { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, data); };

test('delimited text: quoted cells with delimiters, quotes and line breaks; short rows are problems', () => {
  const t = parseDelimited('a,b,c\n1,"x, ""y""\nz",3\n4,5\n6,7,8\n');
  assert.deepEqual(t.header, ['a', 'b', 'c']);
  assert.equal(t.rows.length, 2);
  assert.equal(t.rows[0].cells.b, 'x, "y"\nz');
  assert.equal(t.rows[1].line, 5);  // the quoted line break counts
  assert.deepEqual(t.problems, [{ line: 4, what: '2 cells where the header has 3' }]);
  assert.match(parseDelimited('a\n"open\n').problems[0].what, /never closed/);
});

test('folder per class (nested like HyperKvasir), non-images and loose images reported', () => {
  const d = tmp();
  write(path.join(d, 'lower-gi/polyps/a.jpg'), png());
  write(path.join(d, 'lower-gi/polyps/b.png'), png());
  write(path.join(d, 'upper-gi/z-line/c.jpg'), png());
  write(path.join(d, 'upper-gi/z-line/notes.docx'), 'x');
  write(path.join(d, 'loose.jpg'), png());
  const r = readDataset(d);
  assert.equal(r.format, 'folders');
  assert.deepEqual(r.items.map((i) => [i.id, i.label]), [['lower-gi/polyps/a.jpg', 'polyps'], ['lower-gi/polyps/b.png', 'polyps'], ['upper-gi/z-line/c.jpg', 'z-line']]);
  assert.equal(r.problems.length, 2);
  assert.ok(r.problems.some((p) => p.where === 'loose.jpg'));
  assert.ok(r.problems.some((p) => /notes\.docx/.test(p.where)));
});

test('CSV like HyperKvasir image-labels.csv: ids found under --images, bad rows reported by line', () => {
  const d = tmp();
  write(path.join(d, 'imgs/labeled/polyps/0001-aaa.jpg'), png());
  write(path.join(d, 'imgs/labeled/cecum/0002-bbb.jpg'), png());
  write(path.join(d, 'imgs/other/0002-bbb.jpg'), png());  // same id twice: ambiguous
  write(path.join(d, 'imgs/labeled/cecum/0003-ccc.jpg'), png());
  write(path.join(d, 'image-labels.csv'), 'Video file,Organ,Finding,Classification\n' +
    '0001-aaa,Lower GI,polyps,pathological-findings\n0002-bbb,Lower GI,cecum,anatomical-landmarks\n' +
    '0003-ccc,Lower GI,,anatomical-landmarks\n0004-ddd,Lower GI,cecum,anatomical-landmarks\nbroken row\n');
  const r = readDataset(path.join(d, 'image-labels.csv'), { images: path.join(d, 'imgs') });
  assert.equal(r.format, 'csv');
  assert.deepEqual(r.items.map((i) => [i.id, i.label]), [['labeled/polyps/0001-aaa.jpg', 'polyps']]);
  const byLine = Object.fromEntries(r.problems.map((p) => [p.where.replace('image-labels.csv line ', ''), p.what]));
  assert.match(byLine[3], /matches 2 files/);
  assert.match(byLine[4], /empty Finding/);
  assert.match(byLine[5], /not found/);
  assert.match(byLine[6], /1 cells where the header has 4/);
});

const DATASETS = [process.env.ES_DATASETS, path.resolve(fileURLToPath(import.meta.url), '../../../../shared/datasets')]
  .find((d) => d && fs.existsSync(path.join(d, 'hyperkvasir-labels/image-labels.csv')));

test('the real HyperKvasir label list reads with every row accounted for (no images here: all reported missing)',
  { skip: !DATASETS && 'shared datasets not found (set ES_DATASETS or put them in ../shared/datasets)' }, () => {
  const r = readDataset(path.join(DATASETS, 'hyperkvasir-labels/image-labels.csv'), { images: tmp() });
  assert.equal(r.items.length + r.problems.length, 10662);  // every data row of the file
  assert.ok(r.problems.every((p) => /not found/.test(p.what)));
  // Its classes and their sizes drive a stratified split of the real proportions.
  const rows = parseDelimited(fs.readFileSync(path.join(DATASETS, 'hyperkvasir-labels/image-labels.csv'), 'utf8')).rows;
  const items = rows.map((r) => ({ id: r.cells['Video file'], label: r.cells.Finding, image: { path: r.cells['Video file'] } }));
  const s = stratifiedSplit(items, { seed: 0, testFraction: 0.2 });
  assert.equal(s.testCounts.polyps, Math.round(1028 * 0.2));
  assert.equal(s.testCounts.hemorrhoids, 1);
  assert.equal(s.trainCounts.hemorrhoids, 5);
  // Classes of >= 125 images keep >= 100 for training: 16 of the 23 (impacted-stool, 131, is the smallest).
  assert.equal(Object.values(s.trainCounts).filter((n) => n >= 100).length, 16);
});

test('COCO boxes: items per image with [x, y, w, h] -> xyxy; bad boxes and missing images reported', () => {
  const d = tmp();
  write(path.join(d, 'a.png'), png());
  write(path.join(d, 'b.png'), png());
  write(path.join(d, 'coco.json'), JSON.stringify({
    images: [{ id: 1, file_name: 'a.png' }, { id: 2, file_name: 'b.png' }, { id: 3, file_name: 'gone.png' }],
    categories: [{ id: 7, name: 'polyp' }],
    annotations: [{ id: 10, image_id: 1, category_id: 7, bbox: [1, 2, 3, 4] }, { id: 11, image_id: 1, category_id: 7, bbox: [0, 0, 0, 4] },
      { id: 12, image_id: 2, category_id: 9, bbox: [0, 0, 1, 1] }, { id: 13, image_id: 3, category_id: 7, bbox: [0, 0, 1, 1] }],
  }));
  const r = readDataset(path.join(d, 'coco.json'));
  assert.equal(r.format, 'coco');
  assert.deepEqual(r.items.map((i) => [i.id, i.count]), [['a.png', 1], ['b.png', 0]]);
  assert.deepEqual(r.items[0].boxes[0], { id: 10, x1: 1, y1: 2, x2: 4, y2: 6, label: 'polyp' });
  assert.equal(r.problems.length, 4);
  const q = makeQueries('rec', r.items, {}, null);
  assert.deepEqual(q.map((x) => x.key), ['a.png|polyp']);
});

test('Kvasir-SEG style masks + boxes; an image with two boxes of one label is left out of REC with the reason', () => {
  const d = tmp();
  for (const f of ['images/a.jpg', 'masks/a.png', 'images/b.jpg', 'masks/b.png', 'images/c.jpg']) write(path.join(d, f), png());
  write(path.join(d, 'labels.csv'), 'image,mask,label,n_boxes,bboxes_xyxy\nimages/a.jpg,masks/a.png,polyp,1,1 1 3 2\n' +
    'images/b.jpg,masks/b.png,polyp,2,0 0 1 1;2 2 3 3\nimages/c.jpg,masks/c.png,polyp,1,0 0 1 1\n');
  const r = readDataset(d);
  assert.equal(r.format, 'masks');
  assert.deepEqual(r.items.map((i) => [i.id, i.count, i.boxes.length]), [['images/a.jpg', 1, 1], ['images/b.jpg', 2, 2]]);
  assert.match(r.problems[0].what, /mask 'masks\/c.png' not found/);
  const q = makeQueries('rec', r.items, {}, null);
  assert.equal(q.length, 2);
  assert.match(q[1].skip, /2 'polyp' boxes/);
  assert.deepEqual(makeQueries('count', r.items, {}, null).map((x) => x.truth), [1, 2]);
});

test('VLMEvalKit TSV: base64 images, a repeated image given by index, bad answers reported; CircularEval rotations', () => {
  const d = tmp();
  const b64 = Buffer.from(png()).toString('base64');
  write(path.join(d, 'bench.tsv'), 'index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\timage\n' +
    `0\tWhich lesion?\tnan\tpolyp\tulcer\tnormal\tbleeding\tA\tclassification\t${b64}\n` +
    '1\t"How many ""polyps""?"\tnan\t1\t2\t3\tnan\tC\tcounting\t0\n' +
    `2\tBad key\tnan\tx\ty\tz\tw\tE\tclassification\t${b64}\n`);
  const r = readDataset(path.join(d, 'bench.tsv'));
  assert.equal(r.format, 'tsv');
  assert.equal(r.items.length, 2);
  assert.equal(r.items[1].question, 'How many "polyps"?');
  assert.deepEqual(Object.keys(r.items[1].options), ['A', 'B', 'C']);  // "nan" option dropped
  assert.equal(r.items[1].image.base64, b64);  // image by reference to row 0
  assert.ok(imageBytes(r.items[1]).bytes.length > 20);
  assert.match(r.problems[0].what, /answer 'E' is not one of/);
  const q = makeQueries('mcq', r.items, { circular: true }, null);
  assert.deepEqual(q.map((x) => x.key), ['0@0', '0@1', '0@2', '0@3', '1@0', '1@1', '1@2']);
  const rot = rotateOptions(r.items[0], 1);
  assert.deepEqual(rot.options, { A: 'ulcer', B: 'normal', C: 'bleeding', D: 'polyp' });
  assert.equal(rot.truth, 'D');
  assert.equal(mcqPrompt(r.items[0], rot.options), 'Question: Which lesion?\nOptions:\nA. ulcer\nB. normal\nC. bleeding\nD. polyp\nPlease select the correct answer from the options above.');
});

test('image/reference pairs from JSONL (several references) and CSV; bad lines reported', () => {
  const d = tmp();
  write(path.join(d, 'a.png'), png());
  write(path.join(d, 'b.png'), png());
  write(path.join(d, 'pairs.jsonl'), `${JSON.stringify({ image: 'a.png', references: ['A polyp.', 'One polyp.'] })}\n{oops\n${JSON.stringify({ image: 'b.png', report: '' })}\n`);
  const r = readDataset(path.join(d, 'pairs.jsonl'));
  assert.equal(r.format, 'pairs');
  assert.deepEqual(r.items.map((i) => i.references), [['A polyp.', 'One polyp.']]);
  assert.equal(r.problems.length, 2);
  write(path.join(d, 'reports.csv'), 'image,report,question\nb.png,"Normal mucosa, no polyp.",Write the report.\n');
  const c = readDataset(path.join(d, 'reports.csv'));
  assert.deepEqual(c.items.map((i) => [i.references[0], i.question]), [['Normal mucosa, no polyp.', 'Write the report.']]);
  // A folder of images with same-name .txt files.
  const f = tmp();
  write(path.join(f, 'x.png'), png());
  write(path.join(f, 'x.txt'), 'A polyp.\n');
  write(path.join(f, 'y.png'), png());
  const r2 = readDataset(f);
  assert.equal(r2.format, 'pairs');
  assert.deepEqual(r2.items.map((i) => [i.id, i.references]), [['x.png', ['A polyp.']]]);
  assert.deepEqual(r2.problems, [{ where: 'y.png', what: 'no reference text (y.txt)' }]);
});

test('split: same seed same split, whatever the item order; stratified by class; another seed differs', () => {
  const items = [];
  const sizes = { a: 50, b: 20, c: 5, d: 2, e: 1 };
  for (const [c, n] of Object.entries(sizes)) for (let i = 0; i < n; i++) items.push({ id: `${c}/${i}.jpg`, label: c, image: { path: `${c}/${i}.jpg` } });
  const s1 = stratifiedSplit(items, { seed: 7, testFraction: 0.2 });
  const s2 = stratifiedSplit([...items].reverse(), { seed: 7, testFraction: 0.2 });
  assert.deepEqual(s1.test.map((i) => i.id).sort(), s2.test.map((i) => i.id).sort());
  assert.deepEqual(s1.testCounts, { a: 10, b: 4, c: 1, d: 1 });
  assert.deepEqual(s1.trainCounts, { a: 40, b: 16, c: 4, d: 1, e: 1 });
  const s3 = stratifiedSplit(items, { seed: 8, testFraction: 0.2 });
  assert.notDeepEqual(s1.test.map((i) => i.id).sort(), s3.test.map((i) => i.id).sort());
  assert.throws(() => stratifiedSplit(items, { testFraction: 1 }), /between 0 and 1/);
});

test('split file: CSV with a split column or a plain list; names match ids, file names or stems', () => {
  const d = tmp();
  const items = ['x/1.jpg', 'x/2.jpg', 'y/3.jpg'].map((id) => ({ id, label: id[0], image: { path: `/data/${id}` } }));
  write(path.join(d, 'split.csv'), 'file,split\n1,test\n2.jpg,train\ny/3.jpg,test\nnot-there,test\n');
  const s = splitFromFile(items, path.join(d, 'split.csv'));
  assert.deepEqual(s.test.map((i) => i.id), ['x/1.jpg', 'y/3.jpg']);
  assert.deepEqual(s.trainCounts, { x: 1 });
  assert.deepEqual(s.unmatched, ['not-there']);
  write(path.join(d, 'test.txt'), '2.jpg\n');
  assert.deepEqual(splitFromFile(items, path.join(d, 'test.txt')).test.map((i) => i.id), ['x/2.jpg']);
  // HyperKvasir's own split files: semicolons, file-name / split-index.
  write(path.join(d, '2_fold_split.csv'), 'file-name;class-name;split-index\n1.jpg;x;0\n2.jpg;x;1\n3.jpg;y;1\n');
  const hk = splitFromFile(items, path.join(d, '2_fold_split.csv'), { part: '1' });
  assert.deepEqual(hk.test.map((i) => i.id), ['x/2.jpg', 'y/3.jpg']);
  assert.deepEqual(hk.trainCounts, { x: 1 });
  write(path.join(d, 'none.txt'), 'zzz\n');
  assert.throws(() => splitFromFile(items, path.join(d, 'none.txt')), /no item of the dataset is in split 'test'/);
});

test('counts read from free answers (labels and option letters are read by the metrics core)', () => {
  assert.equal(countFromAnswer('There are 3 polyps.'), 3);
  assert.equal(countFromAnswer('Two polyps and 5 specks'), 2);
  assert.equal(countFromAnswer('No polyps are visible'), 0);
  assert.equal(countFromAnswer('unclear'), null);
});

test('label scoring from logprobs: first tokens, shared prefixes tied or resolved with prefill', async () => {
  const labels = [{ id: 'p', answer: 'Polyps' }, { id: 'u1', answer: 'Ulcerative colitis grade 1' }, { id: 'u2', answer: 'Ulcerative colitis grade 2' }, { id: 'z', answer: 'Z-line' }];
  const lp = (p) => Math.log(p);
  // A fake endpoint: the first token, then (after "Ulcer") what follows.
  const calls = [];
  const step = async (partial) => {
    calls.push(partial);
    if (partial === '') return [{ token: 'Ulcer', logprob: lp(0.5) }, { token: 'Pol', logprob: lp(0.3) }, { token: 'Z', logprob: lp(0.1) }, { token: 'Maybe', logprob: lp(0.1) }];
    if (partial === 'Ulcer') return [{ token: 'ative colitis grade ', logprob: lp(0.9) }, { token: 'ated', logprob: lp(0.1) }];
    if (partial === 'Ulcerative colitis grade ') return [{ token: '2', logprob: lp(0.75) }, { token: '1', logprob: lp(0.25) }];
    throw new Error(`unexpected prefix ${partial}`);
  };
  const tied = await logprobLabelScores(step, labels);
  assert.deepEqual(calls, ['']);
  const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
  close(tied.matchedMass, 0.9);
  [0.3 / 0.9, 0.25 / 0.9, 0.25 / 0.9, 0.1 / 0.9].forEach((p, i) => close(tied.probabilities[i], p));
  assert.deepEqual(tied.ties, ['u1 | u2']);
  calls.length = 0;
  const deep = await logprobLabelScores(step, labels, { prefill: true });
  assert.deepEqual(calls, ['', 'Ulcer', 'Ulcerative colitis grade ']);
  // The 0.5 of "Ulcer" goes to grade 2 : grade 1 as 3 : 1 (the "ated" branch continues neither).
  [0.3 / 0.9, 0.125 / 0.9, 0.375 / 0.9, 0.1 / 0.9].forEach((p, i) => close(deep.probabilities[i], p));
  assert.deepEqual(deep.ties, []);
  assert.equal(deep.requests, 3);
});

test('predictions file: append, resume skips what is done, a torn last line is redone, other settings refused', () => {
  const d = tmp();
  const cfg = { task: 'count', seed: 1 };
  let s = PredictionStore.open(d, cfg);
  s.append({ key: 'a', status: 'ok' });
  s.append({ key: 'b', status: 'skipped', reason: 'broken' });
  s.close();
  fs.appendFileSync(path.join(d, 'predictions.jsonl'), '{"key":"c","sta');  // killed mid-write
  s = PredictionStore.open(d, cfg);
  assert.equal(s.resumed, 2);
  assert.ok(s.has('a') && s.has('b') && !s.has('c'));
  s.append({ key: 'c', status: 'ok' });
  s.close();
  const { records, torn } = readPredictions(path.join(d, 'predictions.jsonl'));
  assert.equal(torn, false);
  assert.deepEqual(records.map((r) => r.key), ['a', 'b', 'c']);
  assert.throws(() => PredictionStore.open(d, { task: 'count', seed: 2 }), /seed: 1 before, 2 now/);
  const fresh = PredictionStore.open(d, { task: 'count', seed: 2 }, { restart: true });
  assert.equal(fresh.resumed, 0);
  fresh.close();
});

test('label scoring from logprobs: raw SentencePiece tokens, a repeated token, a blank first token', async () => {
  const labels = [{ id: 'z', answer: 'Z-line' }, { id: 'p', answer: 'Pylorus' }];
  const step = async () => [{ token: '\u2581Z', logprob: Math.log(0.4) }, { token: '\u2581Z', logprob: Math.log(0.4) }, { token: ' ', logprob: Math.log(0.3) },
    { token: 'py', logprob: Math.log(0.2) }];
  const s = await logprobLabelScores(step, labels);
  assert.ok(Math.abs(s.matchedMass - 0.6) < 1e-9);
  assert.ok(Math.abs(s.probabilities[0] - 2 / 3) < 1e-9 && Math.abs(s.probabilities[1] - 1 / 3) < 1e-9);
});

test('OpenAI backend: label scoring requests (logprobs, and the partial answer sent back with --logprobs-prefill)', async () => {
  const { startMockServer } = await import('./evaluation_mock_server.mjs');
  const { openaiBackend } = await import('../../tools/evaluation/backends.mjs');
  const mock = await startMockServer(({ partial }) => ({ top: partial === ''
    ? [{ token: 'Ulcer', logprob: Math.log(0.8) }, { token: 'Z', logprob: Math.log(0.2) }]
    : [{ token: 'ative colitis grade 2', logprob: Math.log(0.6) }, { token: 'ative colitis grade 1', logprob: Math.log(0.4) }] }));
  try {
    const labels = [{ id: 'u1', answer: 'Ulcerative colitis grade 1' }, { id: 'u2', answer: 'Ulcerative colitis grade 2' }, { id: 'z', answer: 'Z-line' }];
    const image = { key: 'x', bytes: png(), mime: 'image/png' };
    const b = await openaiBackend({ url: mock.url, apiKey: 'k', prefill: true, retries: 0 });
    assert.equal(b.identity.model, 'mock-model');
    const r = await b.classify(image, labels, 'Which one?');
    [0.32, 0.48, 0.2].forEach((p, i) => assert.ok(Math.abs(r.probabilities[i] - p) < 1e-9, `${r.probabilities}`));
    const [first, second] = mock.requests;
    assert.deepEqual([first.body.max_tokens, first.body.temperature, first.body.logprobs, first.body.top_logprobs], [1, 0, true, 20]);
    assert.equal(first.body.continue_final_message, undefined);
    assert.match(first.body.messages[0].content[0].image_url.url, /^data:image\/png;base64,/);
    assert.equal(first.authorization, 'Bearer k');
    assert.deepEqual(second.body.messages.at(-1), { role: 'assistant', content: 'Ulcer' });
    assert.equal(second.body.continue_final_message, true);
    assert.equal(second.body.add_generation_prompt, false);
    assert.equal(r.detail.requests, 2);
  } finally { await mock.close(); }
});
