// hub_token.test.mjs: a gated model from "Hugging Face" in headless Chromium,
// with the hosts emulated by playwright routes (no network). The server allows
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
import { spawn } from 'node:child_process';
import { launchBrowser, saveArtifact, missingPrerequisites, appDir, serverBin, clickWidget, openTab } from './harness.mjs';

const PKG = path.join(appDir, 'models/tiny-gemma3');
let skip = missingPrerequisites();
if (!skip && !fs.existsSync(path.join(PKG, 'manifest.json'))) skip = 'app built without models/tiny-gemma3';
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
  let server, browser, page;
  const seen = [];   // every request to a non-local host: {host, path, authorization}
  const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-length, content-range, x-error-code' };

  const state = () => page.evaluate(() => window.endoscribe.assistant.state());
  const waitFor = (fn, arg, timeout = 120000) => page.waitForFunction(fn, arg, { timeout, polling: 100 });
  const settled = () => waitFor(() => window.endoscribe.assistant.state().busy === null && window.endoscribe.assistant.state().status !== 'loading');

  before(async () => {
    server = await startServer(JSON.stringify({ hugging_face_hosts: true, model_hosts: [MIRROR] }));
    browser = await launchBrowser();
    page = browser.page;
    const ctx = browser.context;
    // Nothing leaves the machine: every non-local request is answered here.
    await ctx.route((url) => !/^http:\/\/127\.0\.0\.1[:/]/.test(url.href), async (route) => {
      const req = route.request();
      const url = new URL(req.url());
      const headers = await req.allHeaders();
      seen.push({ host: url.host, path: url.pathname, authorization: headers.authorization ?? null });
      if (url.host === 'huggingface.co') {
        const m = new RegExp(`^/${REPO}/resolve/main/(.+)$`).exec(url.pathname);
        if (!m) return route.fulfill({ status: 404, headers: cors, body: 'not found' });
        if (headers.authorization !== `Bearer ${TOKEN}`)
          return route.fulfill({ status: headers.authorization ? 403 : 401, headers: { ...cors, 'x-error-code': 'GatedRepo' }, body: 'gated' });
        const file = decodeURIComponent(m[1]);
        if (!fs.existsSync(path.join(PKG, file))) return route.fulfill({ status: 404, headers: { ...cors, 'x-error-code': 'EntryNotFound' }, body: 'entry not found' });
        // Like the hub: a redirect to a signed URL on the storage bridge; the
        // tokenizer goes to the operator's mirror instead (cross-origin too).
        const target = file === 'tokenizer.model' ? `${MIRROR}/${REPO}/${file}` : `https://cas-bridge.xethub.hf.co/xet-bridge-us/abc/${encodeURIComponent(file)}?X-Amz-Signature=xyz`;
        return route.fulfill({ status: 302, headers: { ...cors, location: target }, body: '' });
      }
      if (url.host === 'cas-bridge.xethub.hf.co' || url.host === 'mirror.example') {
        const file = url.host === 'mirror.example' ? url.pathname.split('/').pop() : decodeURIComponent(url.pathname.split('/').pop());
        return route.fulfill({ status: 200, headers: { ...cors, 'content-type': 'application/octet-stream' }, body: fs.readFileSync(path.join(PKG, file)) });
      }
      return route.fulfill({ status: 200, headers: cors, body: 'should never be asked' });
    });
  });

  after(async () => {
    await browser?.close();
    server?.stop();
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
    await clickWidget(page, 'asst_hub_load');
    await settled();
    s = await state();
    assert.equal(s.status, 'error');
    const gated = await page.evaluate(() => window.endoscribe.assistant.lastError ?? window.endoscribe.assistant.state().messages.at(-1)?.text);
    assert.match(gated, /this model is gated: accept its licence on huggingface\.co and enter an access token in Models > Hugging Face token/i);

    // The token, typed into the masked field.
    await clickWidget(page, 'asst_hf_token');
    await page.keyboard.type(TOKEN);
    saveArtifact('hub_token_typed.png', await page.screenshot());
    await clickWidget(page, 'asst_hf_token_save');
    await waitFor(() => window.endoscribe.assistant.state().hfToken !== null, undefined, 10000);
    s = await state();
    assert.equal(s.hfToken.hint, 'hf_…6789');
    assert.ok(!JSON.stringify(s).includes(TOKEN), 'the panels never get the token back');
    assert.equal(await page.evaluate(() => localStorage.getItem('endoscribe.huggingface.token')), TOKEN);

    // With it the package loads through the redirects.
    await clickWidget(page, 'asst_hub_load');
    await settled();
    s = await state();
    assert.equal(s.status, 'ready', JSON.stringify(s.messages));
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
    assert.equal((await state()).hfToken.hint, 'hf_…6789');
    await openTab(page, 'tab_assistant', 'asst_tab_chat', 'hub_token');
    await openTab(page, 'asst_tab_models', 'asst_hf_token_remove', 'hub_token');
    saveArtifact('hub_token_saved.png', await page.screenshot());
    await clickWidget(page, 'asst_hf_token_remove');
    await waitFor(() => window.endoscribe.assistant.state().hfToken === null, undefined, 10000);
    assert.equal(await page.evaluate(() => localStorage.getItem('endoscribe.huggingface.token')), null);
    browser.assertClean([/401|403|gated|evil\.example|Content Security Policy|Failed to load resource/i]);
  });
});
