// The assistant runtime on onnxruntime-web's WebGPU EP in headless Chromium
// (SwiftShader when there is no GPU): the core comes from the app's own
// WebAssembly module (started with noInitialRun), the KV cache stays on the
// GPU as gpu-buffer outputs fed back, and the golden greedy continuations of
// both turns and the text-only prompt come out token for token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, TINY, golden } from './assistant_helpers.mjs';

const appDir = path.resolve(ROOT, process.env.ES_BUILD_DIR || 'build', 'wasm/app');
let skip = false;
if (!fs.existsSync('/usr/bin/chromium')) skip = 'no /usr/bin/chromium';
else if (!fs.existsSync(path.join(appDir, 'endoscribe.js'))) skip = `app module not built: ${appDir}/endoscribe.js`;
else if (!fs.existsSync(path.join(ROOT, 'tools/build_model.py'))) skip = 'tools/build_model.py missing';

const PAGE = `<!doctype html><meta charset="utf-8"><script src="/app/endoscribe.js"></script>
<script type="module">
  import * as ort from '/ort/ort.webgpu.min.mjs';
  import { Core } from '/web/assistant/core.js';
  import { ModelPackage } from '/web/assistant/package.js';
  import { urlSource, cachedSource } from '/web/assistant/sources.js';
  import { opfsCache } from '/web/assistant/opfs_cache.js';
  import { AssistantRuntime } from '/web/assistant/runtime.js';
  ort.env.wasm.numThreads = 1;
  window.run = async () => {
    const core = new Core(await createEndoScribe({ noInitialRun: true, locateFile: (f) => '/app/' + f }));
    const pkg = await ModelPackage.open(urlSource('/pkg/'));
    const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['webgpu'], variant: 'fp32' });
    const bytes = new Uint8Array(await (await fetch('/fixture/golden/image.png')).arrayBuffer());
    const conv = rt.newConversation();
    const streamed = [];
    const r1 = await rt.ask(conv, 'What is shown in this image?', { image: { key: 'g', bytes },
      generation: { max_new_tokens: 24 }, onToken: (d) => streamed.push(d) }).promise;
    const kvLocation = Object.values(conv.kv.past)[0].location;
    const kvAfter1 = conv.kv.length;
    const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } }).promise;
    const text = rt.newConversation();
    const r3 = await rt.ask(text, 'Draft an endoscopy report.', { generation: { max_new_tokens: 24 } }).promise;
    return { ep: rt.ep, notices: rt.notices, kvLocation, kvAfter1, r1, r2, r3, streamed: streamed.join(''),
             encodes: rt.stats.imageEncodes };
  };
  // The package through the OPFS cache: first open downloads, a second open
  // (a reload) reads only from the cache; a corrupted cached file is caught.
  window.cacheRun = async () => {
    const open = async () => {
      const src = cachedSource(urlSource('/pkg/'), opfsCache, 'tiny-test');
      const pkg = await ModelPackage.open(src);
      await pkg.graph('decoder_token_types', 'fp32');
      return src;
    };
    const first = await open();
    const second = await open();
    const listed = await opfsCache.list();
    // External data is streamed into segments (opfs_cache.js) and comes back as a Blob.
    const streamed = await opfsCache.file('tiny-test', 'onnx/decoder_model_merged.onnx_data');
    const streamedOk = streamed instanceof Blob && streamed.size > 100000;
    const bad = await opfsCache.get('tiny-test', 'onnx/decoder_token_types.onnx');
    bad[100] ^= 0xff;
    await opfsCache.put('tiny-test', 'onnx/decoder_token_types.onnx', bad);
    const src = cachedSource(urlSource('/pkg/'), opfsCache, 'tiny-test');
    const pkg = await ModelPackage.open(src);
    await pkg.graph('decoder_token_types', 'fp32');
    const corrupt = pkg.notices.join(' ');
    const healed = await opfsCache.get('tiny-test', 'onnx/decoder_token_types.onnx');
    const healedOk = healed[100] !== bad[100];
    await opfsCache.remove('tiny-test');
    const after = await opfsCache.list();
    return { first: [first.hits, first.misses], second: [second.hits, second.misses],
             listed: listed.find((e) => e.id === 'tiny-test'), corrupt, healedOk, streamedOk, after: after.map((e) => e.id) };
  };
  window.ready = true;
</script>`;

let dir, server, ctx;
before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-webgpu-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet'], { stdio: 'pipe' });
  // hash-wasm beside assistant/, as the app folder has it (web/assistant/sha256.js imports ../hash-wasm/).
  const roots = { '/app/': appDir, '/ort/': path.join(ROOT, 'node_modules/onnxruntime-web/dist'),
    '/web/hash-wasm/': path.join(ROOT, 'node_modules/hash-wasm/dist'),
    '/web/': path.join(ROOT, 'web'), '/pkg/': path.join(dir, 'pkg'), '/fixture/': TINY };
  const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    if (url === '/') { res.writeHead(200, { 'content-type': 'text/html' }); return res.end(PAGE); }
    const prefix = Object.keys(roots).find((p) => url.startsWith(p));
    const base = prefix && path.resolve(roots[prefix]);
    const f = prefix && path.resolve(base, url.slice(prefix.length));
    if (!f || !f.startsWith(base) || !fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': types[path.extname(f)] ?? 'application/octet-stream', 'content-length': fs.statSync(f).size });
    fs.createReadStream(f).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  const userDir = path.join(dir, 'chrome');
  ctx = await chromium.launchPersistentContext(userDir, { executablePath: '/usr/bin/chromium', headless: false,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
      '--use-angle=swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
});

after(async () => {
  await ctx?.close();
  server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('WebGPU EP: golden continuations with the KV cache kept on the GPU', { skip, timeout: 240000 }, async () => {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60000 }).catch(() => {
    throw new Error(`page did not load: ${errors.join('; ')}`);
  });
  const r = await page.evaluate(() => window.run());
  assert.equal(r.ep, 'webgpu', `fell back: ${r.notices.join('; ')}`);
  assert.equal(r.kvLocation, 'gpu-buffer');
  assert.deepEqual(r.r1.ids, golden.turn1_greedy_ids);
  assert.equal(r.streamed, golden.turn1_greedy_text);
  // Drafts on a GPU cache: a pass is kept only when all its drafts are, so the answer may end with its last
  // tokens not yet in the cache; the next question feeds them first (without drafts: 23 fed, 20 prefilled).
  assert.ok(r.r1.drafting.kept > 0, JSON.stringify(r.r1.drafting));
  const unfed = golden.turn1_ids.length + 23 - r.kvAfter1;
  assert.ok(unfed >= 0, `${r.kvAfter1}`);
  assert.equal(r.r2.prefilled, 20 + unfed);
  assert.deepEqual(r.r2.ids, golden.turn2_greedy_ids);
  assert.deepEqual(r.r3.ids, golden.text_only_greedy_ids);
  assert.equal(r.encodes, 1);
});

test('OPFS cache: a reopened package comes from the cache; a corrupted entry is named and replaced', { skip, timeout: 120000 }, async () => {
  const page = await ctx.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60000 });
  const r = await page.evaluate(() => window.cacheRun());
  assert.equal(r.first[0], 0);
  assert.ok(r.first[1] >= 8, `first open misses ${r.first[1]}`);
  assert.deepEqual(r.second, [r.first[1], 0]);  // everything from the cache, nothing downloaded
  assert.ok(r.listed && r.listed.bytes > 1000000, JSON.stringify(r.listed));
  assert.match(r.corrupt, /decoder_token_types\.onnx: sha256.*discarded and downloaded again/);
  assert.ok(r.streamedOk);
  assert.ok(r.healedOk);
  assert.ok(!r.after.includes('tiny-test'));
});
