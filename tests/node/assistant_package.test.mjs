// The package loader names a corrupt, truncated, missing or malformed file and
// never hands it to the runtime; the URL source resumes a dropped download.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, TINY } from './assistant_helpers.mjs';
import { ModelPackage, PackageError, sha256Hex } from '../../web/assistant/package.js';
import { folderSource, urlSource, cachedSource, HostNotAllowedError } from '../../web/assistant/sources.js';

let skip = fs.existsSync(path.join(ROOT, 'tools/build_model.py')) && fs.existsSync('/usr/bin/python3')
  ? false : 'tools/build_model.py or /usr/bin/python3 missing';
let dir;

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-pkgtest-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet'], { stdio: 'pipe' });
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

// A source over the built package with some files replaced.
const source = (overrides = {}) => folderSource(async (p) => {
  if (p in overrides) {
    if (overrides[p] === null) throw new Error('ENOENT');
    return overrides[p];
  }
  return fs.promises.readFile(path.join(dir, 'pkg', p));
});
const read = (p) => new Uint8Array(fs.readFileSync(path.join(dir, 'pkg', p)));

test('a good package opens and its graphs verify', { skip, timeout: 60000 }, async () => {
  const pkg = await ModelPackage.open(source());
  assert.equal(pkg.model.mm_tokens_per_image, 16);
  assert.deepEqual(pkg.model.eos_token_ids, [1, 5]);
  const g = await pkg.graph('decoder_token_types', 'fp32');
  assert.deepEqual(g.externalData.map((e) => e.path), ['decoder_model_merged.onnx_data']);
  assert.ok(pkg.verified.has('onnx/decoder_model_merged.onnx_data'));
  assert.equal(pkg.chatConfig().image_token, '<image_soft_token>');
  await assert.rejects(pkg.graph('decoder', 'q4'), /no q4 decoder graph/);
});

test('a corrupt file is named (sha256)', { skip, timeout: 60000 }, async () => {
  const bad = read('onnx/decoder_model_merged.onnx_data');
  bad[1234] ^= 0xff;
  const pkg = await ModelPackage.open(source({ 'onnx/decoder_model_merged.onnx_data': bad }));
  await assert.rejects(pkg.graph('decoder_token_types', 'fp32'),
    (e) => e instanceof PackageError && e.file === 'onnx/decoder_model_merged.onnx_data' && /sha256/.test(e.message));
});

test('a truncated file is named (size)', { skip, timeout: 60000 }, async () => {
  const cut = read('onnx/vision_encoder.onnx_data').slice(0, 1000);
  const pkg = await ModelPackage.open(source({ 'onnx/vision_encoder.onnx_data': cut }));
  await assert.rejects(pkg.graph('vision_encoder', 'fp32'), /vision_encoder\.onnx_data: size 1000 bytes.*truncated/);
});

test('malformed JSON and missing files are named', { skip, timeout: 60000 }, async () => {
  await assert.rejects(ModelPackage.open(source({ 'manifest.json': new TextEncoder().encode('{"format":') })),
    /manifest\.json: malformed JSON/);
  await assert.rejects(ModelPackage.open(source({ 'tokenizer_config.json': null })), /tokenizer_config\.json: cannot read/);
  // A tampered config is caught by the manifest.
  const cfg = read('config.json');
  cfg[10] = 0x20;
  await assert.rejects(ModelPackage.open(source({ 'config.json': cfg })), /config\.json: sha256/);
});

test('a package without manifest (public export) opens with a notice', { skip, timeout: 60000 }, async () => {
  const pkg = await ModelPackage.open(source({ 'manifest.json': null }));
  assert.match(pkg.notices.join(' '), /no manifest\.json/);
  assert.equal(pkg.graphPath('decoder', 'fp32'), 'onnx/decoder_model_merged.onnx');
  assert.equal(pkg.graphPath('decoder', 'q4'), null);  // built with --quant none: config.json lists no _q4 file
  assert.equal(pkg.graphPath('decoder_token_types', 'fp32'), null);
  const g = await pkg.graph('vision_encoder', 'fp32');  // external data from transformers.js_config
  assert.deepEqual(g.externalData.map((e) => e.path), ['vision_encoder.onnx_data']);
});

test('a template kept in chat_template.jinja (newer hub layout) is found', { skip, timeout: 60000 }, async () => {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'pkg', 'tokenizer_config.json'), 'utf8'));
  const template = cfg.chat_template;
  delete cfg.chat_template;
  const pkg = await ModelPackage.open(source({
    'manifest.json': null,
    'tokenizer_config.json': new TextEncoder().encode(JSON.stringify(cfg)),
    'chat_template.jinja': new TextEncoder().encode(template) }));
  assert.equal(pkg.chatConfig().chat_template, template);
  const none = await ModelPackage.open(source({ 'manifest.json': null,
    'tokenizer_config.json': new TextEncoder().encode(JSON.stringify(cfg)), 'chat_template.jinja': null }));
  assert.equal(none.chatConfig().chat_template, '');
});

test('url source resumes a dropped connection with a Range request and reports progress', { timeout: 60000 }, async () => {
  const body = new Uint8Array(100000).map((_, i) => (i * 7) & 0xff);
  const requests = [];
  let dropped = false;
  const fetchImpl = async (url, { headers }) => {
    requests.push(headers.Range ?? null);
    const from = headers.Range ? Number(/bytes=(\d+)-/.exec(headers.Range)[1]) : 0;
    const part = body.subarray(from);
    let pulls = 0;
    const stream = new ReadableStream({
      pull(ctrl) {
        if (!dropped && from === 0) {
          // 30000 bytes arrive, then the connection drops.
          if (pulls++ === 0) { ctrl.enqueue(part.subarray(0, 30000)); return; }
          dropped = true;
          ctrl.error(new Error('network reset'));
          return;
        }
        ctrl.enqueue(part);
        ctrl.close();
      },
    });
    return new Response(stream, { status: from ? 206 : 200, headers: { 'content-length': String(part.length) } });
  };
  const progress = [];
  const src = urlSource('http://models.example/pkg/', { fetchImpl, onProgress: (p) => progress.push(p), maxRetries: 2 });
  const got = await src.read('onnx/x.onnx_data');
  assert.deepEqual(requests, [null, 'bytes=30000-']);
  assert.equal(await sha256Hex(got), await sha256Hex(body));
  assert.equal(progress.at(-1).loaded, 100000);
  assert.equal(progress.at(-1).total, 100000);
  assert.throws(() => urlSource('https://evil.example/m/', { allowedHosts: ['huggingface.co'] }),
    (e) => e instanceof HostNotAllowedError && /evil\.example/.test(e.message) && /model_hosts/.test(e.message));
});

test('cached source serves the second read from the cache', { timeout: 60000 }, async () => {
  const store = new Map();
  const cache = { get: async (id, p) => store.get(`${id}/${p}`) ?? null, put: async (id, p, b) => store.set(`${id}/${p}`, b),
    removeFile: async (id, p) => store.delete(`${id}/${p}`) };
  let reads = 0;
  const inner = folderSource(async () => { reads++; return new Uint8Array([1, 2, 3]); });
  const src = cachedSource(inner, cache, 'tiny');
  await src.read('a');
  await src.read('a');
  assert.equal(reads, 1);
  assert.equal(src.hits, 1);
  await src.evict('a');
  await src.read('a');
  assert.equal(reads, 2);
});

test('a corrupt cached file is evicted and fetched again', { skip, timeout: 60000 }, async () => {
  const store = new Map();
  const cache = { get: async (id, p) => store.get(p) ?? null, put: async (id, p, b) => store.set(p, b),
    removeFile: async (id, p) => store.delete(p) };
  const src = cachedSource(source(), cache, 'tiny');
  await (await ModelPackage.open(src)).graph('vision_encoder', 'fp32');
  const bad = store.get('onnx/vision_encoder.onnx_data').slice();
  bad[7] ^= 1;
  store.set('onnx/vision_encoder.onnx_data', bad);
  const pkg = await ModelPackage.open(src);
  const g = await pkg.graph('vision_encoder', 'fp32');
  assert.match(pkg.notices.join(' '), /vision_encoder\.onnx_data: sha256.*downloaded again/);
  assert.equal(await sha256Hex(g.externalData[0].data), pkg.entry('onnx/vision_encoder.onnx_data').sha256);
});
