// hub_token.test.mjs: a gated model from "Hugging Face" in headless Chromium,
// with the hosts emulated by one local https server (no network): Chromium
// resolves huggingface.co, cas-bridge.xethub.hf.co, mirror.example and
// evil.example to it (--host-resolver-rules) and accepts its self-signed
// certificate, so redirects, CORS preflights and what Chromium does with the
// Authorization header on a cross-origin redirect are the real thing
// (playwright routes do not see a fulfilled redirect's next request). The server allows
// Hugging Face's hosts plus one mirror of the operator's own. Through the
// Models tab: loading the gated repo without a token gives the plain gated
// message; the token typed into the masked field is kept in this browser
// (shown only as a hint, also after a reload); with it the package loads
// (huggingface.co redirects each file to the storage bridge; big files stream
// into OPFS and reach onnxruntime as Blobs); the token is seen only by
// huggingface.co, never by the storage host, the mirror a redirect points to,
// or a host off the list (CSP blocks that one before any request); and
// "Remove token" forgets it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { spawn, execFileSync } from 'node:child_process';
import { launchBrowser, saveArtifact, missingPrerequisites, appDir, serverBin, clickWidget, openTab } from './harness.mjs';

const PKG = path.join(appDir, 'models/tiny-gemma3');
let skip = missingPrerequisites();
if (!skip && !fs.existsSync(path.join(PKG, 'manifest.json'))) skip = 'app built without models/tiny-gemma3';
if (!skip && !fs.existsSync('/usr/bin/openssl')) skip = 'no /usr/bin/openssl (for the emulated hosts\' certificate)';
if (skip) console.log(`# skipping e2e hub token tests: ${skip}`);

const REPO = 'google/medgemma-4b-it';
const TOKEN = 'hf_e2eGatedAccessToken0123456789';
const MIRROR = 'https://mirror.example';

// The real server with a config of this test's own (Hugging Face + the mirror).
function startServer(configText) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-hub-e2e-'));
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, configText);
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBin, ['--root', appDir, '--config', config, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+?)\/?\s/.exec(out);
      if (m) resolve({ url: `${m[1]}/`, stop: () => { proc.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); } });
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

describe('hub token', { skip: skip || false, timeout: 300000 }, () => {
  let server, browser, page, hosts, certDir;
  const seen = [];   // every request to an emulated host: {host, path, authorization}
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'authorization, range',
    'access-control-expose-headers': 'content-length, content-range, x-error-code' };

  const state = () => page.evaluate(() => window.endoscribe.assistant.state());
  const waitFor = (fn, arg, timeout = 120000) => page.waitForFunction(fn, arg, { timeout, polling: 100 });
  // Runs `act` and waits until the load it starts has ended (ready, or a new message).
  const settleAfter = async (act) => {
    const n = (await state()).messages.length;
    await act();
    await waitFor((n) => {
      const s = window.endoscribe.assistant.state();
      return s.busy === null && s.status !== 'loading' && (s.status === 'ready' || s.messages.length > n);
    }, n);
  };

  before(async () => {
    server = await startServer(JSON.stringify({ hugging_face_hosts: true, model_hosts: [MIRROR] }));
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-hub-cert-'));
    execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(certDir, 'key.pem'),
      '-out', path.join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=emulated-hosts'], { stdio: 'ignore' });
    hosts = https.createServer({ key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(path.join(certDir, 'cert.pem')) }, answer);
    await new Promise((r) => hosts.listen(0, '127.0.0.1', r));
    const port = hosts.address().port;
    const map = ['huggingface.co', 'cas-bridge.xethub.hf.co', 'mirror.example', 'evil.example'].map((h) => `MAP ${h}:443 127.0.0.1:${port}`);
    browser = await launchBrowser({ extraArgs: [`--host-resolver-rules=${map.join(', ')}`], ignoreHTTPSErrors: true });
    page = browser.page;
  });

  // The emulated hosts.
  function answer(req, res) {
    const host = req.headers.host.replace(/:\d+$/, '');
    const url = new URL(req.url, `https://${host}`);
    const reply = (status, headers, body = '') => { res.writeHead(status, { ...cors, ...headers }); res.end(body); };
    if (req.method === 'OPTIONS') return reply(204, {});   // CORS preflight (Authorization, Range)
    seen.push({ host, path: url.pathname, authorization: req.headers.authorization ?? null });
    if (host === 'huggingface.co') {
      const m = new RegExp(`^/${REPO}/resolve/main/(.+)$`).exec(url.pathname);
      if (!m) return reply(404, {}, 'not found');
      if (req.headers.authorization !== `Bearer ${TOKEN}`)
        return reply(req.headers.authorization ? 403 : 401, { 'x-error-code': 'GatedRepo' }, 'gated');
      const file = decodeURIComponent(m[1]);
      if (!fs.existsSync(path.join(PKG, file))) return reply(404, { 'x-error-code': 'EntryNotFound' }, 'entry not found');
      // Like the hub: a redirect to a signed URL on the storage bridge; the
      // tokenizer goes to the operator's mirror instead (cross-origin too).
      const target = file === 'tokenizer.model' ? `${MIRROR}/${REPO}/${file}` : `https://cas-bridge.xethub.hf.co/xet-bridge-us/abc/${encodeURIComponent(file)}?X-Amz-Signature=xyz`;
      return reply(302, { location: target });
    }
    if (host === 'cas-bridge.xethub.hf.co' || host === 'mirror.example') {
      const file = decodeURIComponent(url.pathname.split('/').pop());
      if (!fs.existsSync(path.join(PKG, file))) return reply(404, {});
      return reply(200, { 'content-type': 'application/octet-stream' }, fs.readFileSync(path.join(PKG, file)));
    }
    return reply(200, {}, 'should never be asked');
  }
  after(async () => {
    await browser?.close();
    server?.stop();
    hosts?.close();
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('asks for a token for a gated repo, keeps it in this browser, sends it only to huggingface.co, and removes it', async () => {
    await page.goto(server.url + '?case=none');
    await page.evaluate(() => window.endoscribe.ready);
    await waitFor(() => window.endoscribe.assistant?.started === true);
    await openTab(page, 'tab_assistant', 'asst_tab_chat', 'hub_token');
    await openTab(page, 'asst_tab_models', 'asst_hub_repo', 'hub_token');
    let s = await state();
    assert.deepEqual(s.allowedOrigins, ['Hugging Face', MIRROR]);
    assert.equal(s.hfToken, null);

    // No token: the gated message, in plain words.
    await clickWidget(page, 'asst_hub_repo');
    await page.keyboard.type(REPO);
    await settleAfter(() => clickWidget(page, 'asst_hub_load'));
    s = await state();
    assert.equal(s.status, 'error', JSON.stringify(s.messages));
    const gated = await page.evaluate(() => window.endoscribe.assistant.lastError ?? window.endoscribe.assistant.state().messages.at(-1)?.text);
    assert.match(gated, /this model is gated: accept its licence on huggingface\.co and enter an access token in Models > Hugging Face token/i);

    // The token, typed into the masked field.
    await clickWidget(page, 'asst_hf_token');
    await page.keyboard.type(TOKEN);
    saveArtifact('hub_token_typed.png', await page.screenshot());
    await clickWidget(page, 'asst_hf_token_save');
    await waitFor(() => window.endoscribe.assistant.state().hfToken !== null, undefined, 10000);
    s = await state();
    assert.equal(s.hfToken.hint, 'hf_...6789');
    assert.ok(!JSON.stringify(s).includes(TOKEN), 'the panels never get the token back');
    assert.equal(await page.evaluate(() => localStorage.getItem('endoscribe.huggingface.token')), TOKEN);

    // With it the package loads through the redirects.
    await settleAfter(() => clickWidget(page, 'asst_hub_load'));
    s = await state();
    assert.equal(s.status, "ready", JSON.stringify(s.messages) + JSON.stringify(seen.slice(-8)) + browser.problems.slice(-6).join("\n"));
    assert.equal(s.model.id, `hub:${REPO}@main`);
    assert.ok(s.cached.some((c) => c.id === `hub:${REPO}@main` && c.bytes > 1e6), JSON.stringify(s.cached));
    saveArtifact('hub_token_loaded.png', await page.screenshot());

    // A redirect to a host off the list: blocked by the page's CSP before any request.
    const blocked = await page.evaluate(async () => {
      try { await fetch('https://evil.example/x'); return 'fetched'; } catch (e) { return e.name; }
    });
    assert.equal(blocked, 'TypeError');

    const withToken = seen.filter((r) => r.authorization);
    assert.ok(withToken.length > 0);
    assert.deepEqual([...new Set(withToken.map((r) => r.host))], ['huggingface.co'], JSON.stringify(withToken.slice(0, 5)));
    const storage = seen.filter((r) => r.host === 'cas-bridge.xethub.hf.co');
    const mirror = seen.filter((r) => r.host === 'mirror.example');
    assert.ok(storage.length >= 5 && mirror.length >= 1, JSON.stringify(seen.map((r) => r.host)));
    assert.ok([...storage, ...mirror].every((r) => r.authorization === null));
    assert.ok(!seen.some((r) => r.host === 'evil.example'));

    // Kept across a reload (this browser), shown only as its hint; then removed.
    await page.reload();
    await waitFor(() => window.endoscribe.assistant?.started === true);
    assert.equal((await state()).hfToken.hint, 'hf_...6789');
    await openTab(page, 'tab_assistant', 'asst_tab_chat', 'hub_token');
    await openTab(page, 'asst_tab_models', 'asst_hf_token_remove', 'hub_token');
    saveArtifact('hub_token_saved.png', await page.screenshot());
    await clickWidget(page, 'asst_hf_token_remove');
    await waitFor(() => window.endoscribe.assistant.state().hfToken === null, undefined, 10000);
    assert.equal(await page.evaluate(() => localStorage.getItem('endoscribe.huggingface.token')), null);
    browser.assertClean([/401|403|gated|evil\.example|Content Security Policy|Failed to load resource/i]);
  });

  // The OPFS side of streaming: a 160 MiB file cut off at 100 MiB (past the
  // first 64 MiB segment), the page reloaded, the download resumed with a
  // Range request from what the segments hold; the Blob is intact and the
  // sha256 (hashed incrementally, the partial re-read from disk) matches.
  it('a big download cut off in the browser resumes from OPFS after a reload', async () => {
    const SIZE = 160 * 2 ** 20, CUT = 100 * 2 ** 20;
    // The bytes: byte i = (i * 31 + (i >>> 11)) & 255, so a misplaced range shows.
    const byteAt = (i) => (Math.imul(i, 31) + (i >>> 11)) & 255;
    const crypto = await import('node:crypto');
    const h = crypto.createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (let o = 0; o < SIZE; o += buf.length) { for (let i = 0; i < buf.length; i++) buf[i] = byteAt(o + i); h.update(buf); }
    const sha256 = h.digest('hex');
    const run = (args) => page.evaluate(async ({ SIZE, CUT, sha256, cut }) => {
      const { urlSource, cachedSource } = await import('./assistant/sources.js');
      const { opfsCache } = await import('./assistant/opfs_cache.js');
      const calls = [];
      const fetchImpl = async (url, init) => {
        const range = init.headers?.Range ?? null;
        calls.push(range);
        const start = range ? Number(/bytes=(\d+)-/.exec(range)[1]) : 0;
        let at = start;
        const stop = cut && calls.length === 1 ? CUT : SIZE;
        const body = new ReadableStream({
          pull(ctrl) {
            if (at >= stop) { if (stop < SIZE) ctrl.error(new TypeError('network error')); else ctrl.close(); return; }
            const n = Math.min(1 << 20, stop - at);
            const c = new Uint8Array(n);
            for (let i = 0; i < n; i++) c[i] = (Math.imul(at + i, 31) + ((at + i) >>> 11)) & 255;
            at += n;
            ctrl.enqueue(c);
          },
        }, { highWaterMark: 0 });
        return new Response(body, { status: start ? 206 : 200,
          headers: { 'content-length': String(SIZE - start), 'content-range': `bytes ${start}-${SIZE - 1}/${SIZE}` } });
      };
      const src = cachedSource(urlSource('https://huggingface.co/org/big/resolve/main/', { fetchImpl, maxRetries: 0 }), opfsCache, 'hub:org/big@main');
      let error = null, blob = null;
      try { blob = await src.blob('onnx/model.onnx_data', { size: SIZE, sha256 }); } catch (e) { error = e.message; }
      let intact = null;
      if (blob) {
        intact = true;
        for (const o of [0, 64 * 2 ** 20 - 3, CUT - 5, SIZE - 4096]) {
          const b = new Uint8Array(await blob.slice(o, o + 4096).arrayBuffer());
          for (let i = 0; i < b.length; i++) if (b[i] !== ((Math.imul(o + i, 31) + ((o + i) >>> 11)) & 255)) intact = false;
        }
      }
      const listed = (await opfsCache.list()).find((e) => e.id === 'hub:org/big@main');
      return { calls, error, size: blob?.size ?? null, intact, cachedBytes: listed?.bytes ?? 0 };
    }, { SIZE, CUT, sha256, ...args });
    const first = await run({ cut: true });
    assert.match(first.error ?? '', /network error/);
    assert.deepEqual(first.calls, [null]);
    assert.ok(first.cachedBytes > 64 * 2 ** 20 && first.cachedBytes <= CUT, `kept ${first.cachedBytes}`);
    await page.reload();
    await page.evaluate(() => window.endoscribe.ready);
    const second = await run({ cut: false });
    assert.equal(second.error, null);
    assert.equal(second.calls.length, 1);
    const from = Number(/bytes=(\d+)-/.exec(second.calls[0])[1]);
    assert.equal(from, first.cachedBytes, 'resumed from what the segments hold');
    assert.equal(second.size, SIZE);
    assert.equal(second.intact, true);
    await page.evaluate(async () => (await import('./assistant/opfs_cache.js')).opfsCache.remove('hub:org/big@main'));
  });
});
