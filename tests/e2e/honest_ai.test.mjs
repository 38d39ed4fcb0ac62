// honest_ai.test.mjs: everything a model produces is marked as an AI
// suggestion, and the built-in tiny model (random weights, built with
// `build_model.py --test-model`) is named as a test model whose output is
// meaningless wherever that output appears: the Models tab, the chat header,
// each answer, the line under the chat, the Classify header, and a notice.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir, clickWidget, openTab as openTabUntil } from './harness.mjs';

let skip = missingPrerequisites();
if (!skip && !fs.existsSync(path.join(appDir, 'models/tiny-gemma3/manifest.json'))) skip = 'app built without models/tiny-gemma3';
if (!skip && !fs.existsSync(path.join(appDir, 'ort/ort.webgpu.min.mjs'))) skip = 'app built without onnxruntime-web';
if (skip) console.log(`# skipping e2e honest AI tests: ${skip}`);

const WARNING = 'Test model with random weights: its answers are meaningless. Load a real model in Models.';

describe('honest AI', { skip: skip || false, timeout: 150000 }, () => {
  let server, browser, page;
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const hookState = () => page.evaluate(() => window.endoscribe.assistant.state());
  const waitFor = (fn, arg, timeout = 60000) => page.waitForFunction(fn, arg, { timeout, polling: 100 });

  const click = (name) => clickWidget(page, name);
  const openTab = (tab, expect) => openTabUntil(page, tab, expect, 'honest-ai');
  const widgetShown = (name) => waitFor((n) => !!window.endoscribe.state().widgets[n], name, 10000).then(() => true);

  before(async () => {
    server = await startServer();
    browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    page = browser.page;
    await page.goto(server.url);
    await page.evaluate(() => window.endoscribe.ready);
    await waitFor(() => window.endoscribe.assistant?.started === true);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await waitFor(() => !!window.endoscribe.assistant.state().image);
    await openTab('tab_assistant', 'asst_tab_chat');  // the side panel's Assistant tab
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the package says it is a test model; the Models tab warns', { timeout: 120000 }, async () => {
    const config = JSON.parse(fs.readFileSync(path.join(appDir, 'models/tiny-gemma3/config.json'), 'utf8'));
    assert.equal(config.endoscribe?.test_model, true);
    assert.match(config.endoscribe.description, /[Rr]andom weights/);

    await openTab('asst_tab_models', 'asst_load_default');
    await click('asst_load_default');
    await waitFor(() => ['ready', 'error'].includes(window.endoscribe.assistant.state().status) &&
      window.endoscribe.assistant.state().busy === null);
    const s = await hookState();
    assert.equal(s.status, 'ready', JSON.stringify(s.messages));
    assert.equal(s.model.test_model, true);
    assert.equal(s.model.test_model_description, config.endoscribe.description);
    assert.equal(s.testModelWarning, WARNING);
    assert.ok(await widgetShown('asst_models_test_model_warning'));
    // The warning is also a notice in the app's banners; the app's state says it too.
    const app = await appState();
    assert.deepEqual(app.assistant, { test_model: true, model: 'tiny-gemma3 (built-in test model)' });
    assert.ok(app.messages.some((m) => m.kind === 'notice' && m.text === WARNING), JSON.stringify(app.messages));
    // Runtime remarks reach people in plain words (no WebGPU feature names).
    for (const m of app.messages) assert.doesNotMatch(m.text, /shader-f16|WASM EP|json\.exception/);
    saveArtifact('honest-ai-01-models.png', await page.screenshot());
  });

  it('classification: an AI-suggestion header and the test-model warning above the bars', { timeout: 120000 }, async () => {
    await openTab('asst_tab_classify', 'asst_classify');
    assert.ok(await widgetShown('asst_classify_test_model_warning'));
    await click('asst_classify');
    await waitFor(() => !!window.endoscribe.assistant.state().classification, null, 60000);
    assert.ok(await widgetShown('asst_classify_ai_label'));
    const s = await appState();
    const [lx, ly] = s.widgets.asst_classify_ai_label;
    const [, wy, , wh] = s.widgets.asst_classify_test_model_warning;
    assert.ok(wy + wh <= ly, 'the warning is above the results');
    assert.ok(lx > 0);
    saveArtifact('honest-ai-02-classify.png', await page.screenshot());
  });

  it('chat: the header warns, each answer is labelled, a line under the chat says what answers are', { timeout: 120000 }, async () => {
    await page.evaluate(() => window.endoscribe.assistant.action('set_generation', { max_new_tokens: 12, temperature: 0 }));
    await openTab('asst_tab_chat', 'asst_question');
    assert.ok(await widgetShown('asst_chat_test_model_warning'));
    assert.ok(await widgetShown('asst_ai_disclaimer'));
    await page.evaluate(() => window.endoscribe.assistant.action('ask', { question: 'Is there a polyp?' }));
    await waitFor(() => window.endoscribe.assistant.state().turns[0]?.done === true, null, 90000);
    assert.ok(await widgetShown('asst_answer_ai_0'));
    const s = await appState();
    const label = s.widgets.asst_answer_ai_0, warn = s.widgets.asst_chat_test_model_warning;
    assert.ok(warn[1] + warn[3] <= label[1], 'the warning heads the chat');
    saveArtifact('honest-ai-03-chat.png', await page.screenshot());
  });

  it('boxes from answers: dashed "AI" boxes with a legend; accepted ones keep an AI marker', { timeout: 120000 }, async () => {
    // The random model rarely writes a box, so the panels are handed a
    // snapshot with one (what app_assistant.js pushes when an answer has a box).
    await page.evaluate(() => {
      const st = window.endoscribe.assistant.state();
      st.messages = [];
      st.turns = [{ question: 'Where is the polyp?', answer: 'polyp [120, 90, 330, 260]', done: true, reason: 'eos',
        boxes: [{ x1: 120, y1: 90, x2: 330, y2: 260, label: 'polyp' }] }];
      window.endoscribe.module().ccall('es_assistant_ui_state', null, ['string'], [JSON.stringify(st)]);
    });
    assert.ok(await widgetShown('ai_box_legend'));
    let s = await appState();
    const [lx, ly, lw, lh] = s.widgets.ai_box_legend;
    const [vx, vy, vw, vh] = s.viewer_rect;
    assert.ok(lx >= vx && ly >= vy && lx + lw <= vx + vw && ly + lh <= vy + vh, 'the legend lies in the viewer');
    saveArtifact('honest-ai-04-box.png', await page.screenshot());
    await click('asst_accept_box_0_0');
    await waitFor(() => Object.values(window.endoscribe.annotation.state()?.images ?? {}).some((img) =>
      img.annotations.some((a) => a.source === 'assistant' && a.kind === 'box')), null, 10000);
    await openTab('tab_image', 'image_name');  // the annotation list is in the side panel's Image tab
    await waitFor(() => Object.keys(window.endoscribe.state().widgets).some((k) => k.startsWith('ann_ai_marker_')), null, 10000);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    s = await appState();
    const marker = Object.keys(s.widgets).find((k) => k.startsWith('ann_ai_marker_'));
    assert.ok(marker, `an AI marker in the annotation list: ${Object.keys(s.widgets).join(', ')}`);
    saveArtifact('honest-ai-05-accepted.png', await page.screenshot());
    browser.assertClean();
  });
});
