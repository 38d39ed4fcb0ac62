// assistant.test.mjs: the assistant end to end in headless Chromium (WebGPU on
// SwiftShader), served by the real server, driven through the real panels:
// the built-in tiny model is loaded from the server (Models tab), the golden
// image is opened through the file picker, two questions give the golden
// greedy continuations token for token (the second prefills only its new
// tokens on the kept KV cache), Stop ends an answer mid-way, editing the second
// question drops what followed and answers it again, Classify gives 23
// probabilities that sum to 1, and after a reload the model comes from the
// browser's cache (no model file requested) and the conversation is back and
// goes on; a region drawn on the viewer is asked about; a model host the
// server does not allow is refused by name.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, repoRoot, appDir, tinyAssistantReference, clickWidget, openTab as openTabUntil } from './harness.mjs';

const TINY = path.join(repoRoot, 'tests/fixtures/tiny-gemma3');
const IMAGE = path.join(TINY, 'golden/image.png');
let skip = missingPrerequisites();
if (!skip && !fs.existsSync(path.join(appDir, 'models/tiny-gemma3/manifest.json'))) skip = 'app built without models/tiny-gemma3';
if (!skip && !fs.existsSync(path.join(appDir, 'ort/ort.webgpu.min.mjs'))) skip = 'app built without onnxruntime-web';
if (skip) console.log(`# skipping e2e assistant tests: ${skip}`);
const golden = skip ? null : JSON.parse(fs.readFileSync(path.join(TINY, 'golden/golden.json'), 'utf8'));

describe('assistant', { skip: skip || false, timeout: 420000 }, () => {
  let server, browser, page;

  const t0 = Date.now();
  const step = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const hookState = () => page.evaluate(() => window.endoscribe.assistant.state());
  const waitFor = (fn, arg, timeout = 60000) => page.waitForFunction(fn, arg, { timeout, polling: 100 });

  const click = (name) => clickWidget(page, name);
  const openTab = (tab, expect) => openTabUntil(page, tab, expect, 'assistant');

  // SwiftShader is a software adapter: by default the assistant runs on the
  // WASM EP there (last test); ?assistant_ep=webgpu keeps the WebGPU path tested.
  async function openApp(query = '?case=none&assistant_ep=webgpu') {
    await page.goto(server.url + query);
    await page.evaluate(() => window.endoscribe.ready);
    await waitFor(() => window.endoscribe.assistant?.started === true);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    // After a reload the annotation side may have restored the case (and the image) already.
    if (!(await page.evaluate(() => window.endoscribe.state().images.some((i) => i.name === 'image.png'))))
      await page.setInputFiles('#file-input', IMAGE);
    await waitFor(() => window.endoscribe.assistant.state().image?.name === 'image.png');
    await openTab('tab_assistant', 'asst_tab_chat');  // the side panel's Assistant tab
  }

  async function askByTyping(question, turn) {
    await click('asst_question');
    await page.keyboard.type(question);
    await click('asst_ask');
    await waitFor((t) => window.endoscribe.assistant.state().turns[t]?.done === true, turn, 90000);
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('loads the tiny model, answers like the oracle, stops, classifies, and comes back after a reload', async () => {
    await openApp();

    step('app open');
    // Models tab: the built-in package from this server.
    await openTab('asst_tab_models', 'asst_load_default');
    await click('asst_load_default');
    await waitFor(() => ['ready', 'error'].includes(window.endoscribe.assistant.state().status) &&
      window.endoscribe.assistant.state().busy === null);
    let s = await hookState();
    assert.equal(s.status, 'ready', JSON.stringify(s.messages));
    assert.equal(s.model.ep, 'webgpu', `fell back: ${s.model.notices.join('; ')}`);
    assert.equal(s.model.variant, 'fp32');
    assert.ok(s.cached.some((c) => c.id === 'server:models/tiny-gemma3/' && c.bytes > 1e6), JSON.stringify(s.cached));
    assert.ok(await page.evaluate(() => window.endoscribe.assistant.modelRequests) >= 8);
    saveArtifact('assistant-models.png', await page.screenshot());

    step('model loaded');
    // Two questions, greedy, 24 tokens: the golden continuations, streamed.
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 24, temperature: 0 }));
    await openTab('asst_tab_chat', 'asst_question');
    await askByTyping('What is shown in this image?', 0);
    await askByTyping('How many polyps are visible?', 1);
    const ids = await page.evaluate(() => window.endoscribe.assistant.turnIds);
    assert.deepEqual(ids[0], golden.turn1_greedy_ids);
    assert.deepEqual(ids[1], golden.turn2_greedy_ids);
    s = await hookState();
    assert.equal(s.turns[0].answer, golden.turn1_greedy_text);
    // Its own 20 tokens, plus any answer tokens of a draft pass the cache did not keep (a GPU cache keeps a
    // pass only when all its drafts are: src/assistant/README.md "Drafted tokens"); never the image or history.
    assert.ok(s.turns[1].prefilled >= 20 && s.turns[1].prefilled < 40, `the follow-up prefilled ${s.turns[1].prefilled} tokens`);
    saveArtifact('assistant-chat.png', await page.screenshot());

    step('two answers');
    // Stop mid-answer.
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 400 }));
    await click('asst_question');
    await page.keyboard.type('Describe it in detail.');
    await click('asst_ask');
    await waitFor(() => (window.endoscribe.assistant.turnIds[2]?.length ?? 0) >= 3);
    await click('asst_stop');
    await waitFor(() => window.endoscribe.assistant.state().turns[2]?.done === true);
    s = await hookState();
    assert.equal(s.turns[2].reason, 'cancelled');
    const stoppedAt = (await page.evaluate(() => window.endoscribe.assistant.turnIds[2])).length;
    assert.ok(stoppedAt >= 3 && stoppedAt < 400, `stopped after ${stoppedAt} tokens`);
    saveArtifact('assistant-stopped.png', await page.screenshot());

    step('stopped');
    // Edit the second question (same words): later turns are dropped, the
    // cache (on the GPU) is rebuilt, and the golden answer comes again.
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 24 }));
    await click('asst_edit_1');
    await click('asst_edit_ask');
    await waitFor(() => window.endoscribe.assistant.state().turns.length === 2 &&
      window.endoscribe.assistant.state().turns[1].done === true, null, 90000);
    assert.deepEqual(await page.evaluate(() => window.endoscribe.assistant.turnIds[1]), golden.turn2_greedy_ids);
    step('edited');

    // Classify: 23 HyperKvasir labels, ranked, summing to 1.
    await openTab('asst_tab_classify', 'asst_classify');
    await click('asst_classify');
    await waitFor(() => !!window.endoscribe.assistant.classification);
    const c = await page.evaluate(() => window.endoscribe.assistant.classification);
    assert.equal(c.labels.length, 23);
    const sum = c.labels.reduce((n, l) => n + l.probability, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `sum ${sum}`);
    for (let i = 1; i < c.labels.length; i++) assert.ok(c.labels[i - 1].probability >= c.labels[i].probability);
    await page.waitForTimeout(300);
    saveArtifact('assistant-classify.png', await page.screenshot());

    step('classified');
    // Reload: the model comes from the cache by itself, nothing downloaded;
    // the conversation about this image is back.
    await openApp();
    await waitFor(() => window.endoscribe.assistant.state().status === 'ready');
    assert.equal(await page.evaluate(() => window.endoscribe.assistant.modelRequests), 0);
    await waitFor(() => window.endoscribe.assistant.state().turns.length === 2);
    s = await hookState();
    assert.equal(s.turns[0].answer, golden.turn1_greedy_text);
    assert.equal(s.turns[1].answer, golden.turn2_greedy_text);
    step('reloaded');
    // And it goes on: a follow-up on the restored conversation.
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 4 }));
    await openTab('asst_tab_chat', 'asst_question');
    await askByTyping('Any bleeding?', 2);
    s = await hookState();
    assert.equal(s.turns.length, 3);
    // The restored conversation goes on exactly as the same conversation
    // restored in Node (WASM EP) does, prefilling the whole history once.
    const ref = await tinyAssistantReference({ packageDir: path.join(appDir, 'models/tiny-gemma3'), imageFile: IMAGE,
      questions: [{ text: 'What is shown in this image?', max_new_tokens: 24 },
        { text: 'How many polyps are visible?', max_new_tokens: 24 }, { text: 'Any bleeding?', max_new_tokens: 4 }] });
    assert.ok(!ref.why, ref.why);
    assert.deepEqual(ref.straightIds, ref.ids, 'reference: restoring changes nothing');
    assert.equal(ref.ids.length, 4);
    assert.equal(s.turns[2].answer, ref.text);  // (turnIds holds only tokens that completed a character)
    assert.equal(s.turns[2].reason, ref.reason);
    assert.equal(s.turns[2].prefilled, ref.prefilled, 'after a reload the history is prefilled once');
    saveArtifact('assistant-restored.png', await page.screenshot());
    step('follow-up answered');

    // A region drawn on the viewer, then "what is in this region?": the
    // question carries the region's coordinates (the tiny package's default).
    await click('asst_region');
    // The mouse goes to the region layer once the app has drawn it (else the drag pans).
    await waitFor(() => window.endoscribe.state().windows?.some((w) => w.name === '##region_catcher'), null, 10000);
    const v = (await page.evaluate(() => window.endoscribe.state())).viewer_rect;
    const [x0, y0] = [v[0] + v[2] * 0.3, v[1] + v[3] * 0.3];
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move(x0 + 60, y0 + 40, { steps: 5 });
    await page.mouse.up();
    await page.waitForTimeout(200);
    saveArtifact('assistant-region.png', await page.screenshot());
    await click('asst_ask');
    await waitFor(() => window.endoscribe.assistant.state().turns[3]?.done === true, null, 60000).catch(async (e) => {
      saveArtifact('assistant-region-failed.png', await page.screenshot());
      throw new Error(`${e.message}: ${JSON.stringify((await hookState()).turns.slice(3))}`);
    });
    s = await hookState();
    assert.match(s.turns[3].question, /^What is in this region\? Region: \[\d+, \d+, \d+, \d+\]$/);
    assert.ok(s.turns[3].region.x2 > s.turns[3].region.x1 && s.turns[3].region.y2 > s.turns[3].region.y1);
    step('region asked');

    // A model host the server does not allow is refused by name, with the way to allow it.
    await page.evaluate(() => window.endoscribe.assistant.action('load_url', { url: 'https://models.example.org/pkg/' }));
    s = await hookState();
    assert.match(s.messages.at(-1).text, /models\.example\.org is not on this server's list of allowed model hosts/);
    assert.match(s.messages.at(-1).details, /models\.example\.org.*not allowed.*model_hosts.*config\.json/);
    assert.equal(s.status, 'ready', 'the loaded model stays');
    assert.equal(s.model.id, 'server:models/tiny-gemma3/');
    saveArtifact('assistant-host-refused.png', await page.screenshot());
    browser.assertClean();
  });

  it('on a software WebGPU adapter (SwiftShader) runs on the WASM EP by default and says so', async () => {
    await openApp('?case=none');
    await waitFor(() => window.endoscribe.assistant.state().status === 'ready');  // the cached model, loaded by itself
    const s = await hookState();
    assert.equal(s.model.ep, 'wasm', JSON.stringify(s.model.notices));
    assert.ok(s.model.notices.some((n) => /software adapter.*WASM/.test(n)), JSON.stringify(s.model.notices));
    assert.ok(s.model.notes.some((n) => /runs in software.*processor, which is faster here/.test(n.text)), JSON.stringify(s.model.notes));
    assert.equal(await page.evaluate(() => window.endoscribe.assistant.debug().rt.decoderGraph), 'decoder_fused');
    await openTab('asst_tab_models', 'asst_load_default');
    saveArtifact('assistant-software-adapter.png', await page.screenshot());
    // It answers: the golden continuation of a new conversation's first question.
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 24, temperature: 0 }));
    await openTab('asst_tab_chat', 'asst_question');
    const before = (await hookState()).turns.length;
    await askByTyping('What is in this region? Region: [0, 0, 1, 1]', before);
    assert.equal((await hookState()).turns[before].done, true);
    browser.assertClean();
  });

  it('says when an answer fills the model\'s context and when older turns are set aside (tiny: 512 positions)', async () => {
    await openApp('?case=none');
    await waitFor(() => window.endoscribe.assistant.state().status === 'ready');
    await page.evaluate(() => window.endoscribe.assistant.action('new_chat'));
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 1000, temperature: 0 }));
    await openTab('asst_tab_chat', 'asst_question');
    await askByTyping('Describe finding number 1 in detail.', 0);
    let s = await hookState();
    assert.equal(s.turns[0].reason, 'context', JSON.stringify(s.turns[0]).slice(0, 300));
    assert.match(s.turns[0].context_message, /reached the model's context of 512 tokens/);
    assert.ok(s.messages.some((m) => /reached the model's context of 512 tokens/.test(m.text)), 'shown as a banner too');
    // Shown under the answer (scrolled into view when it arrives).
    await waitFor(() => !!window.endoscribe.state().widgets.asst_context_message_0, null, 10000);
    saveArtifact('assistant-context-full.png', await page.screenshot());
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 8 }));
    await askByTyping('Describe finding number 2 in detail.', 1);
    s = await hookState();
    assert.match(s.turns[1].context_notice, /context of 512 tokens, the 1 oldest question and answer was set aside/);
    await waitFor(() => !!window.endoscribe.state().widgets.asst_context_notice_1, null, 10000);  // above its answer
    saveArtifact('assistant-context-set-aside.png', await page.screenshot());
    browser.assertClean();
  });

  it('hashes model downloads offline: hash-wasm comes from the service worker\'s copy of the app', async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      while (!navigator.serviceWorker.controller) await new Promise((r) => setTimeout(r, 50));
    });
    assert.ok(await page.evaluate(async () => !!(await caches.match('hash-wasm/sha256.umd.min.js'))), 'precached');
    await browser.context.setOffline(true);
    try {
      await page.reload();
      const hex = await page.evaluate(async () => {
        const { createSha256 } = await import('./assistant/sha256.js');
        const h = await createSha256();
        h.update(new TextEncoder().encode('ab'));
        h.update(new TextEncoder().encode('c'));
        return h.hex();
      });
      assert.equal(hex, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    } finally {
      await browser.context.setOffline(false);
    }
  });
});
