// The hub as it is today, emulated locally (tests/node/hub_emulator.mjs; no
// network): package URLs built from a repo id, the access token sent only to
// Hugging Face token hosts (never on a hop to another host), gated repos
// named plainly, paths confined beneath the package URL, and multi-hundred-MB
// files streamed into a cache with resume, sha256 checked incrementally, and
// the client's memory far below the file size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSha256, sha256OfBlob } from '../../web/assistant/sha256.js';
import { urlSource, cachedSource, checkPackagePath, resolveBeneath, UnsafePathError, HostNotAllowedError } from '../../web/assistant/sources.js';
import { hubPackageUrl, parseHubRepo, tokenStore, isTokenHost, HUB_DOWNLOAD_HOSTS, HUB_DOWNLOAD_ORIGINS, GatedModelError, HubInputError } from '../../web/assistant/hub.js';
import { emulatedFetch, requestLog, HOSTS } from './hub_emulator.mjs';
import { fsModelCache } from './fs_model_cache.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let tmp;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-hub-')); });
after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

// Starts the emulated hosts in a child process; resolves {ports, stop}.
function startHosts(config) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'hub_emulator.mjs'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ ports: JSON.parse(String(d)), stop: () => child.kill() }));
  });
}

// A file of `size` bytes that never repeats a 4-byte word; returns its sha256.
function makeFile(file, size) {
  const fd = fs.openSync(file, 'w');
  const hash = crypto.createHash('sha256');
  const chunk = new Uint32Array(2 << 20);
  for (let o = 0; o < size; o += chunk.byteLength) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = Math.imul((o >>> 2) + i, 2654435761) ^ 0x5bd1e995;
    const bytes = new Uint8Array(chunk.buffer, 0, Math.min(chunk.byteLength, size - o));
    fs.writeSync(fd, bytes);
    hash.update(bytes);
  }
  fs.closeSync(fd);
  return hash.digest('hex');
}

const noDelay = { retryDelay: () => 5 };

test('sha256 in pieces (hash-wasm) equals node:crypto and Web Crypto', async (t) => {
  assert.equal((await createSha256()).update(new TextEncoder().encode('abc')).hex(),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 100003]) {
    const b = crypto.randomBytes(n);
    const h = await createSha256();
    for (let o = 0; o < n;) { const k = Math.min(n - o, 1 + ((o * 7919) % 97)); h.update(b.subarray(o, o + k)); o += k; }
    const web = Buffer.from(await crypto.subtle.digest('SHA-256', b)).toString('hex');
    assert.equal(h.hex(), crypto.createHash('sha256').update(b).digest('hex'), `n=${n}`);
    assert.equal(h.hex(), web);  // asking twice gives the same digest
    assert.throws(() => h.update(b), /update after digest/);
  }
  // Hashers are independent (several downloads at once).
  const [a, c] = [await createSha256(), await createSha256()];
  a.update(Buffer.from('ab'));
  c.update(Buffer.from('xyz'));
  a.update(Buffer.from('c'));
  assert.equal(a.hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(c.hex(), crypto.createHash('sha256').update('xyz').digest('hex'));
  const blob = new Blob([crypto.randomBytes(3 << 20)]);
  const ref = crypto.createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('hex');
  assert.equal((await sha256OfBlob(blob, { slice: 1 << 20 })).hex(), ref);
  // Speed, in 1 MiB pieces as a download delivers them (figures for README_hub.md).
  const piece = crypto.randomBytes(1 << 20), MiB = 64;
  let t0 = performance.now();
  const h = await createSha256();
  for (let i = 0; i < MiB; i++) h.update(piece);
  h.hex();
  const ours = MiB / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const n = crypto.createHash('sha256');
  for (let i = 0; i < MiB; i++) n.update(piece);
  n.digest();
  const native = MiB / ((performance.now() - t0) / 1000);
  t.diagnostic(`sha256 of ${MiB} MiB: hash-wasm ${ours.toFixed(0)} MiB/s, node:crypto ${native.toFixed(0)} MiB/s`);
});

test('the hub hosts come from one file and cover today\'s redirect targets', () => {
  const data = JSON.parse(fs.readFileSync(path.join(here, '../../web/assistant/hub_hosts.json'), 'utf8'));
  assert.deepEqual(HUB_DOWNLOAD_ORIGINS, data.download_origins.map((o) => o.origin));
  for (const h of ['huggingface.co', 'cas-bridge.xethub.hf.co', 'cdn-lfs-us-1.hf.co', 'cdn-lfs-eu-1.hf.co', 'us.aws.cdn.hf.co', 'transfer.xethub.hf.co'])
    assert.ok(HUB_DOWNLOAD_HOSTS.includes(h), h);
  for (const o of HUB_DOWNLOAD_ORIGINS) assert.match(o, /^https:\/\/[a-z0-9.-]+$/);
  assert.ok(data.download_origins.every((o) => o.why.length > 10), 'each host says why it is there');
});

test('package URL from a repo id and revision (onnx-community layout beneath it)', () => {
  assert.equal(hubPackageUrl('google/medgemma-4b-it'), 'https://huggingface.co/google/medgemma-4b-it/resolve/main/');
  assert.equal(hubPackageUrl('onnx-community/medgemma-4b-it-ONNX', 'refs/pr/3'),
    'https://huggingface.co/onnx-community/medgemma-4b-it-ONNX/resolve/refs%2Fpr%2F3/');
  assert.deepEqual(parseHubRepo('https://huggingface.co/google/medgemma-4b-it/tree/v1.0'), { repo: 'google/medgemma-4b-it', revision: 'v1.0' });
  assert.deepEqual(parseHubRepo(' hf.co/google/medgemma-4b-it ', ''), { repo: 'google/medgemma-4b-it', revision: 'main' });
  const src = urlSource(hubPackageUrl('google/medgemma-4b-it', 'abc123'));
  assert.equal(resolveBeneath(src.baseUrl, 'onnx/decoder_model_merged_q4.onnx_data').href,
    'https://huggingface.co/google/medgemma-4b-it/resolve/abc123/onnx/decoder_model_merged_q4.onnx_data');
  for (const bad of ['medgemma', 'a/b/c', '../x', 'a/..', 'google/medgemma 4b', 'https://evil.example/a/b', '.a/b', 'a/b.'])
    assert.throws(() => parseHubRepo(bad), HubInputError, bad);
  for (const rev of ['..', 'a/../b', 'main?x=1', 'ma in', 'a%2f'])
    assert.throws(() => parseHubRepo('a/b', rev), HubInputError, rev);
});

test('the token is kept in this browser\'s storage, shown only as a hint, removable', () => {
  const m = new Map();
  const storage = { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) };
  const t = tokenStore(storage);
  assert.equal(t.get(), null);
  t.set('  hf_abcdefghijklmnopqrstuvwxyz0123  ');
  assert.equal(t.get(), 'hf_abcdefghijklmnopqrstuvwxyz0123');
  assert.equal(t.hint(), 'hf_...0123');
  assert.throws(() => t.set(''), /empty/);
  assert.throws(() => t.set('hf_abc def ghijk'), /one word/);
  assert.throws(() => t.set('hf_\u00e9abcdefgh'), /one word/);
  t.remove();
  assert.equal(t.get(), null);
  assert.ok(isTokenHost('https://huggingface.co/x'));
  assert.ok(!isTokenHost('http://huggingface.co/x'));
  assert.ok(!isTokenHost('https://huggingface.co:8443/x'));
  assert.ok(!isTokenHost('https://cas-bridge.xethub.hf.co/x'));
  assert.ok(!isTokenHost('https://huggingface.co.evil.example/x'));
  assert.ok(!isTokenHost('https://evil.example/huggingface.co'));
});

test('hostile package paths are refused before any request', async () => {
  const hostile = ['https://evil.example/x.onnx_data', 'http://127.0.0.1:1/x', '//evil.example/x', '/etc/passwd',
    '../other-repo/x', 'onnx/../../x', 'onnx/./x', './x', '%2e%2e/x', 'onnx%2f..%2fx', '%252e%252e/x', 'onnx\\..\\x',
    'C:/x', 'file:///etc/passwd', 'javascript:alert(1)', 'data:,x', 'x?y=1', 'x#y', 'onnx//x', 'x/', '', 'a\u0000b',
    '\uff0e\uff0e/x', ' ../x', '..', '.'];
  let calls = 0;
  const src = urlSource('https://huggingface.co/org/model/resolve/main/', { fetchImpl: async () => { calls++; throw new Error('no'); } });
  for (const p of hostile) {
    assert.throws(() => checkPackagePath(p), UnsafePathError, JSON.stringify(p));
    await assert.rejects(src.read(p), UnsafePathError, JSON.stringify(p));
  }
  assert.equal(calls, 0);
  for (const ok of ['config.json', 'onnx/decoder_model_merged_q4.onnx_data_1', 'a b/c..d.json', 'onnx/x.onnx'])
    assert.equal(checkPackagePath(ok), ok);
  // Confined after URL parsing too.
  assert.equal(resolveBeneath(new URL('https://h.example/p/q/'), 'a b/c').href, 'https://h.example/p/q/a%20b/c');
});

test('a hostile manifest cannot send the loader to another host', async () => {
  const { ModelPackage } = await import('../../web/assistant/package.js');
  const enc = (o) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));
  const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
  const files = {
    'config.json': enc({ model_type: 'gemma3', text_config: {} }),
    'preprocessor_config.json': enc({}),
    'tokenizer_config.json': enc({ chat_template: 'x' }),
  };
  for (const evil of ['https://evil.example/x.onnx_data', '//evil.example/x', '../../../evil/x', '%2e%2e/%2e%2e/x', 'onnx\\..\\..\\x']) {
    const manifest = { format: 'endoscribe-model-package', graphs: { decoder: { fp32: 'onnx/d.onnx' } },
      files: [...Object.entries(files).map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) })),
        { path: 'onnx/d.onnx', size: 1, sha256: sha(enc('m')), external_data: [evil] }, { path: evil, size: 1, sha256: sha(enc('e')) }] };
    const served = { ...files, 'manifest.json': enc(manifest), 'onnx/d.onnx': enc('m') };
    const asked = [];
    const fetchImpl = async (url) => {
      asked.push(String(url));
      const p = decodeURIComponent(new URL(url).pathname.replace('/org/m/resolve/main/', ''));
      if (!new URL(url).href.startsWith('https://huggingface.co/org/m/resolve/main/') || !(p in served)) return new Response('no', { status: 404 });
      return new Response(served[p], { status: 200, headers: { 'content-length': String(served[p].length) } });
    };
    const pkg = await ModelPackage.open(urlSource('https://huggingface.co/org/m/resolve/main/', { fetchImpl }));
    await assert.rejects(pkg.graph('decoder', 'fp32'), (e) => /unsafe file path/.test(e.message), evil);
    assert.ok(asked.every((u) => u.startsWith('https://huggingface.co/org/m/resolve/main/')), asked.join(' '));
    // The same through the streaming (cached) path.
    const cached = cachedSource(urlSource('https://huggingface.co/org/m/resolve/main/', { fetchImpl }), fsModelCache(path.join(tmp, 'hostile')), 'hostile');
    const pkg2 = await ModelPackage.open(cached);
    await assert.rejects(pkg2.graph('decoder', 'fp32'), (e) => /unsafe file path/.test(e.message), evil);
    assert.ok(asked.every((u) => u.startsWith('https://huggingface.co/org/m/resolve/main/')), asked.join(' '));
  }
});

for (const mode of ['node', 'browser']) {
  test(`the token goes to huggingface.co only, never on the redirect to storage (${mode} redirects)`, async () => {
    const file = path.join(tmp, `small-${mode}.bin`);
    const sum = makeFile(file, 300000);
    const hosts = await startHosts({ files: { 'google/medgemma-4b-it/onnx/x.onnx_data': file }, gated: { 'google/medgemma-4b-it': 'hf_rightrightright' } });
    try {
      const fetchImpl = emulatedFetch(hosts.ports, { mode });
      let token = null;
      const src = () => urlSource(hubPackageUrl('google/medgemma-4b-it'), { fetchImpl, token: () => token, allowedHosts: HUB_DOWNLOAD_HOSTS, ...noDelay });
      // No token: a plain gated message, nothing downloaded.
      await assert.rejects(src().read('onnx/x.onnx_data'), (e) => e instanceof GatedModelError && e.status === 401 &&
        /this model is gated: accept its licence on huggingface\.co and enter an access token in Models > Hugging Face token/i.test(e.message));
      token = 'hf_wrongwrongwrong';
      await assert.rejects(src().read('onnx/x.onnx_data'), (e) => e instanceof GatedModelError && e.status === 403 && /refused/.test(e.message));
      token = 'hf_rightrightright';
      const bytes = await src().read('onnx/x.onnx_data');
      assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), sum);
      const log = await requestLog(hosts.ports);
      const withToken = log.filter((r) => r.authorization);
      assert.ok(withToken.length >= 2 && withToken.every((r) => r.host === 'hub'), JSON.stringify(log));
      assert.ok(log.some((r) => r.host === 'cdn' && r.authorization === null));
      assert.ok(!log.some((r) => r.host === 'evil'));
    } finally { hosts.stop(); }
  });
}

test('a redirect to a host off the list is refused; an allowed non-HF host never sees the token', async () => {
  const file = path.join(tmp, 'r.bin');
  makeFile(file, 1000);
  const hosts = await startHosts({ files: { 'org/m/x.bin': file }, redirectTo: { 'org/m/x.bin': `https://${HOSTS.evil}/steal` } });
  try {
    const token = () => 'hf_secretsecretsecret';
    await assert.rejects(urlSource(hubPackageUrl('org/m'), { fetchImpl: emulatedFetch(hosts.ports), token, allowedHosts: HUB_DOWNLOAD_HOSTS, ...noDelay }).read('x.bin'),
      (e) => e instanceof HostNotAllowedError && e.host === HOSTS.evil);
    assert.ok(!(await requestLog(hosts.ports)).some((r) => r.host === 'evil'));
    // A server admin who added that host: it is reached, without the token (both redirect modes).
    for (const mode of ['node', 'browser']) {
      await urlSource(hubPackageUrl('org/m'), { fetchImpl: emulatedFetch(hosts.ports, { mode }), token,
        allowedHosts: [...HUB_DOWNLOAD_HOSTS, HOSTS.evil], ...noDelay }).read('x.bin');
    }
    const evil = (await requestLog(hosts.ports)).filter((r) => r.host === 'evil');
    assert.equal(evil.length, 2);
    assert.ok(evil.every((r) => r.authorization === null), JSON.stringify(evil));
  } finally { hosts.stop(); }
});

test('a server that ignores Range restarts the file cleanly', async () => {
  const file = path.join(tmp, 'ir.bin');
  const sum = makeFile(file, 5_000_000);
  const hosts = await startHosts({ files: { 'org/m/onnx/a.onnx_data': file }, dropAfter: [2_000_000], ignoreRange: 1 });
  try {
    const cache = fsModelCache(path.join(tmp, 'cache-ir'));
    const src = cachedSource(urlSource(hubPackageUrl('org/m'), { fetchImpl: emulatedFetch(hosts.ports), ...noDelay }), cache, 'ir');
    const blob = await src.blob('onnx/a.onnx_data', { size: 5_000_000, sha256: sum });
    assert.equal(blob.size, 5_000_000);
    assert.equal(crypto.createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('hex'), sum);
    const cdn = (await requestLog(hosts.ports)).filter((r) => r.host === 'cdn');
    assert.equal(cdn.length, 2);
    assert.match(cdn[1].range, /^bytes=\d+-$/);  // asked to resume, got the whole file: started over
    // A second load is served by the cache.
    const again = await src.blob('onnx/a.onnx_data', { size: 5_000_000, sha256: sum });
    assert.equal(again.size, 5_000_000);
    assert.equal((await requestLog(hosts.ports)).filter((r) => r.host === 'cdn').length, 2);
  } finally { hosts.stop(); }
});

test('a download cut off (tab closed) resumes from the cached partial; a corrupt one is refused and not kept', async () => {
  const file = path.join(tmp, 'p.bin');
  const sum = makeFile(file, 3_000_000);
  const hosts = await startHosts({ files: { 'org/m/onnx/a.onnx_data': file }, dropAfter: [1_234_567] });
  try {
    const cache = fsModelCache(path.join(tmp, 'cache-p'));
    const mk = (maxRetries) => cachedSource(urlSource(hubPackageUrl('org/m'), { fetchImpl: emulatedFetch(hosts.ports), maxRetries, ...noDelay }), cache, 'p');
    await assert.rejects(mk(0).blob('onnx/a.onnx_data', { size: 3_000_000, sha256: sum }), /terminated|closed|socket|other side/i);
    const blob = await mk(0).blob('onnx/a.onnx_data', { size: 3_000_000, sha256: sum });
    assert.equal(crypto.createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('hex'), sum);
    // The second load asks only for the rest: from what the partial holds (bytes
    // in flight when the connection dropped are lost, so at most the cut).
    const ranges = (await requestLog(hosts.ports)).filter((r) => r.host === 'cdn').map((r) => r.range);
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], null);
    const from = Number(/^bytes=(\d+)-$/.exec(ranges[1])[1]);
    assert.ok(from > 0 && from <= 1_234_567, ranges[1]);
    await cache.removeFile('p', 'onnx/a.onnx_data');
    await assert.rejects(mk(0).blob('onnx/a.onnx_data', { size: 3_000_000, sha256: '0'.repeat(64) }),
      (e) => e.name === 'DownloadCheckError' && /sha256/.test(e.message));
    assert.equal(await cache.file('p', 'onnx/a.onnx_data'), null);
  } finally { hosts.stop(); }
});

test('a 320 MB file streams through hub redirects and dropped connections with memory far below its size', { timeout: 600000 }, async (t) => {
  const SIZE = 320 * 2 ** 20;
  const file = path.join(tmp, 'big.onnx_data');
  const sum = makeFile(file, SIZE);
  const repo = 'google/medgemma-4b-it';
  const hosts = await startHosts({ files: { [`${repo}/onnx/decoder_model_merged_q4.onnx_data`]: file },
    gated: { [repo]: 'hf_rightrightright' }, dropAfter: [90 * 2 ** 20, 70 * 2 ** 20] });
  try {
    const cache = fsModelCache(path.join(tmp, 'cache-big'));
    globalThis.gc?.();
    const base = process.memoryUsage();
    const peak = { rss: base.rss, heapUsed: base.heapUsed, arrayBuffers: base.arrayBuffers };
    const sample = () => {
      const m = process.memoryUsage();
      for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], m[k]);
    };
    const timer = setInterval(sample, 10);
    const progress = [];
    const src = cachedSource(urlSource(hubPackageUrl(repo, 'main'), { fetchImpl: emulatedFetch(hosts.ports),
      token: () => 'hf_rightrightright', allowedHosts: HUB_DOWNLOAD_HOSTS, onProgress: (p) => { progress.push(p.loaded); sample(); }, ...noDelay }), cache, 'big');
    const t0 = performance.now();
    const blob = await src.blob('onnx/decoder_model_merged_q4.onnx_data', { size: SIZE, sha256: sum });
    const secs = (performance.now() - t0) / 1000;
    clearInterval(timer);
    sample();
    assert.equal(blob.size, SIZE);
    // The bytes on disk, checked independently (node:crypto, streamed).
    const onDisk = await new Promise((resolve, reject) => {
      const h = crypto.createHash('sha256');
      fs.createReadStream(path.join(tmp, 'cache-big', 'big', 'onnx', 'decoder_model_merged_q4.onnx_data'))
        .on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
    });
    assert.equal(onDisk, sum);
    const log = await requestLog(hosts.ports);
    const cdn = log.filter((r) => r.host === 'cdn');
    // Two drops, two resumes, each from what had arrived (at most where the cut was).
    assert.equal(cdn.length, 3, JSON.stringify(cdn));
    const starts = cdn.map((r) => (r.range ? Number(/^bytes=(\d+)-$/.exec(r.range)[1]) : 0));
    assert.ok(starts[0] === 0 && starts[1] > 0 && starts[1] <= 90 * 2 ** 20 && starts[2] > starts[1] && starts[2] <= starts[1] + 70 * 2 ** 20, String(starts));
    assert.ok(log.filter((r) => r.authorization).every((r) => r.host === 'hub'));
    assert.equal(progress.at(-1), SIZE);
    const MB = (n) => (n / 2 ** 20).toFixed(1);
    const grew = { rss: peak.rss - base.rss, heapUsed: peak.heapUsed - base.heapUsed, arrayBuffers: peak.arrayBuffers - base.arrayBuffers };
    t.diagnostic(`${MB(SIZE)} MB in ${secs.toFixed(1)} s (${MB(SIZE / secs)} MB/s incl. sha256); peak growth: rss ${MB(grew.rss)} MB, ` +
      `heap ${MB(grew.heapUsed)} MB, array buffers ${MB(grew.arrayBuffers)} MB`);
    // Far below the file size: holding the file would add 320 MB to each. The
    // margins leave room for garbage the collector has not reclaimed yet (a
    // busy machine: up to ~45 MB of array buffers seen).
    assert.ok(grew.arrayBuffers < SIZE / 4, `array buffers grew ${MB(grew.arrayBuffers)} MB`);
    assert.ok(grew.heapUsed < SIZE / 8, `heap grew ${MB(grew.heapUsed)} MB`);
    assert.ok(grew.rss < SIZE / 3, `rss grew ${MB(grew.rss)} MB`);
  } finally { hosts.stop(); }
});

test('a gated package opens from the emulated hub by repo id; external data arrives as cache-backed Blobs', { timeout: 120000 }, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { ROOT, TINY } = await import('./assistant_helpers.mjs');
  if (!fs.existsSync('/usr/bin/python3') || !fs.existsSync(path.join(ROOT, 'tools/build_model.py'))) return t.skip('tools/build_model.py or /usr/bin/python3 missing');
  const { openPackage, gatedError } = await import('../../web/assistant/model_manager.js');
  const pkgDir = path.join(tmp, 'tiny-pkg');
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'), pkgDir, '--quant', 'none', '--quiet'], { stdio: 'pipe' });
  const repo = 'org/tiny-gated';
  const files = {};
  const walk = (d, rel = '') => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) walk(path.join(d, e.name), r); else files[`${repo}/${r}`] = path.join(d, e.name);
  } };
  walk(pkgDir);
  const hosts = await startHosts({ files, gated: { [repo]: 'hf_rightrightright' } });
  try {
    const opts = (token) => ({ allowedHosts: HUB_DOWNLOAD_HOSTS, cache: fsModelCache(path.join(tmp, 'cache-tiny')), token: () => token, fetchImpl: emulatedFetch(hosts.ports) });
    await assert.rejects(openPackage({ kind: 'hub', repo, revision: 'main' }, opts(null)), (e) => gatedError(e)?.status === 401 && /gated/.test(gatedError(e).message));
    const { pkg, id } = await openPackage({ kind: 'hub', repo: `https://huggingface.co/${repo}`, revision: '' }, opts('hf_rightrightright'));
    assert.equal(id, `hub:${repo}@main`);
    const g = await pkg.graph('decoder_token_types', 'fp32');
    const ext = g.externalData[0];
    assert.ok(ext.data instanceof Blob);
    const onDisk = fs.readFileSync(path.join(pkgDir, 'onnx', ext.path));
    assert.equal(ext.data.size, onDisk.length);
    assert.ok(Buffer.from(await ext.data.arrayBuffer()).equals(onDisk));
    assert.ok(pkg.verified.has(`onnx/${ext.path}`));
    const log = await requestLog(hosts.ports);
    assert.ok(log.filter((r) => r.authorization).every((r) => r.host === 'hub'));
    assert.ok(log.some((r) => r.host === 'cdn' && r.path.includes('onnx_data')));
  } finally { hosts.stop(); }
});

test('a manifest that cannot be fetched (network, gated) does not turn integrity checks off', async () => {
  const { ModelPackage } = await import('../../web/assistant/package.js');
  const failing = urlSource('https://huggingface.co/org/m/resolve/main/', { fetchImpl: async () => { throw new TypeError('Failed to fetch'); }, maxRetries: 1, ...noDelay });
  await assert.rejects(ModelPackage.open(failing), /manifest\.json: cannot read \(Failed to fetch\)/);
  const gated = urlSource('https://huggingface.co/org/m/resolve/main/', { fetchImpl: async () => new Response('gated', { status: 401 }) });
  await assert.rejects(ModelPackage.open(gated), (e) => e.cause instanceof GatedModelError);
});
