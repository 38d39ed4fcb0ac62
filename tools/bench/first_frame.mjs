#!/usr/bin/env node
// first_frame.mjs: how fast the app starts, next to its peer - a plain page
// that loads onnxruntime-web (node_modules/onnxruntime-web/dist, the WebGPU
// build the app will use) and nothing else - measured in the same run, same
// server, same browser flags, each load in a fresh profile (cold caches).
//
//   node tools/bench/first_frame.mjs [runs]      (ES_BUILD_DIR as for the e2e tests)
//
// App:  first frame = navigation start -> the app's first drawn frame
//       case shown  = navigation start -> the demo case drawn
// Peer: ort ready   = navigation start -> onnxruntime-web imported and a
//       WebGPU session on a one-node model created and run once.
// Sizes: what each page must download before it can do its work, raw and gzip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { startServer, launchBrowser, appDir, repoRoot, missingPrerequisites } from '../../tests/e2e/harness.mjs';

const runs = Number(process.argv[2] || 3);
const why = missingPrerequisites();
if (why) {
  console.error(`cannot run: ${why}`);
  process.exit(2);
}

const ortDist = path.join(repoRoot, 'node_modules/onnxruntime-web/dist');
const ORT_FILES = ['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

// The peer page, in a temporary folder served by the same server program.
function makePeerSite() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'endoscribe-bench-peer-'));
  for (const f of ORT_FILES) fs.copyFileSync(path.join(ortDist, f), path.join(dir, f));
  // A one-node model (Identity), made with Debian's python3-onnx.
  execFileSync('/usr/bin/python3', ['-c', `
import onnx, onnx.helper as h
x = h.make_tensor_value_info('x', onnx.TensorProto.FLOAT, [4])
y = h.make_tensor_value_info('y', onnx.TensorProto.FLOAT, [4])
g = h.make_graph([h.make_node('Identity', ['x'], ['y'])], 'identity', [x], [y])
m = h.make_model(g, opset_imports=[h.make_opsetid('', 17)]); m.ir_version = 8
onnx.save(m, '${path.join(dir, 'identity.onnx')}')`]);
  fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>onnxruntime-web alone</title>
<link rel="icon" href="data:,"><script type="module" src="peer.mjs"></script>`);
  fs.writeFileSync(path.join(dir, 'peer.mjs'), `import * as ort from './ort.webgpu.min.mjs';
performance.mark('ort-imported');
ort.env.wasm.wasmPaths = './';
const session = await ort.InferenceSession.create('identity.onnx', { executionProviders: ['webgpu'] });
await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]) });
performance.mark('ort-ready');
window.peerDone = true;`);
  return dir;
}

const sizes = (dir, files) => files.reduce((acc, f) => {
  const bytes = fs.readFileSync(path.join(dir, f));
  acc.raw += bytes.length;
  acc.gzip += zlib.gzipSync(bytes, { level: 9 }).length;
  return acc;
}, { raw: 0, gzip: 0 });

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const mark = (page, name) => page.evaluate((n) => performance.getEntriesByName(n)[0]?.startTime ?? null, name);

async function measureApp(url) {
  const b = await launchBrowser();
  try {
    await b.page.goto(url);
    await b.page.evaluate(() => window.endoscribe.caseLoaded);
    const r = { firstFrame: await mark(b.page, 'endoscribe-first-frame'), caseShown: await mark(b.page, 'endoscribe-case-shown') };
    b.assertClean();
    return r;
  } finally {
    await b.close();
  }
}

async function measurePeer(url) {
  const b = await launchBrowser();
  try {
    await b.page.goto(url);
    await b.page.waitForFunction(() => window.peerDone === true, null, { timeout: 60000 });
    return { imported: await mark(b.page, 'ort-imported'), ready: await mark(b.page, 'ort-ready') };
  } finally {
    await b.close();
  }
}

const peerDir = makePeerSite();
const appServer = await startServer();
const peerServer = await startServer({ root: peerDir });
const app = [], peer = [];
try {
  for (let i = 0; i < runs; i++) {  // interleaved, so drift hits both alike
    app.push(await measureApp(appServer.url));
    peer.push(await measurePeer(peerServer.url));
  }
} finally {
  await appServer.stop();
  await peerServer.stop();
}

const appFiles = ['index.html', 'loader.js', 'style.css', 'endoscribe.js', 'endoscribe.wasm'];
const appSize = sizes(appDir, appFiles);
const appWasm = sizes(appDir, ['endoscribe.wasm']);
const peerSize = sizes(peerDir, ORT_FILES);
const peerWasm = sizes(peerDir, ['ort-wasm-simd-threaded.asyncify.wasm']);
fs.rmSync(peerDir, { recursive: true, force: true });

const ms = (v) => `${v.toFixed(0)} ms`;
const mb = (v) => `${(v / 1048576).toFixed(2)} MiB`;
const ratio = (a, b) => `${(a / b).toFixed(3)}`;
const appFirst = median(app.map((r) => r.firstFrame)), appCase = median(app.map((r) => r.caseShown));
const peerReady = median(peer.map((r) => r.ready)), peerImported = median(peer.map((r) => r.imported));
const rows = [
  ['metric', 'EndoScribe app', 'onnxruntime-web alone', 'app / peer'],
  ['start: first frame vs ORT session ready', ms(appFirst), ms(peerReady), ratio(appFirst, peerReady)],
  ['start: demo case shown vs ORT session ready', ms(appCase), ms(peerReady), ratio(appCase, peerReady)],
  ['(ORT module imported)', '', ms(peerImported), ''],
  ['wasm size, raw', mb(appWasm.raw), mb(peerWasm.raw), ratio(appWasm.raw, peerWasm.raw)],
  ['wasm size, gzip -9', mb(appWasm.gzip), mb(peerWasm.gzip), ratio(appWasm.gzip, peerWasm.gzip)],
  ['all files loaded, raw', mb(appSize.raw), mb(peerSize.raw), ratio(appSize.raw, peerSize.raw)],
  ['all files loaded, gzip -9', mb(appSize.gzip), mb(peerSize.gzip), ratio(appSize.gzip, peerSize.gzip)],
];
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(`first frame benchmark: median of ${runs} cold loads each, headless Chromium (SwiftShader WebGPU), ${os.cpus().length} CPUs`);
for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c])).join('  |  '));
console.log('runs (ms): app first frame', app.map((r) => r.firstFrame.toFixed(0)).join(', '),
  '; app case shown', app.map((r) => r.caseShown.toFixed(0)).join(', '),
  '; ORT ready', peer.map((r) => r.ready.toFixed(0)).join(', '));
