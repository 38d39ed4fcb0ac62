// report_draft.test.mjs: "Draft with AI" end to end in headless Chromium on
// the demo case: findings made from the lesion annotations, a few values the
// user sets, the Draft with AI button disabled (with its reason) until the
// built-in tiny model is loaded, then a draft with progress and Cancel shown;
// every empty field the model can fill gets an AI value with its probability
// and an Accept control, the user's values stay as they were, the panel says
// the test model's values are meaningless; accepted values and the others
// come back after a reload. Screenshots: test-artifacts/e2e/report-draft-*.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir } from './harness.mjs';

let skip = missingPrerequisites();
if (!skip && !fs.existsSync(path.join(appDir, 'models/tiny-gemma3/manifest.json'))) skip = 'app built without models/tiny-gemma3';
if (!skip && !fs.existsSync(path.join(appDir, 'report/app_report_draft.js'))) skip = 'app built without the report draft';
if (skip) console.log(`# skipping e2e report draft tests: ${skip}`);

const MODEL = 'tiny-gemma3 (built-in test model)';

describe('report: draft with AI', { skip: skip || false, timeout: 600000 }, () => {
  let server, browser, page;
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const repState = () => page.evaluate(() => window.endoscribe.report.state());
  const draftState = () => page.evaluate(() => window.endoscribe.reportDraft.state());
  const annState = () => page.evaluate(() => window.endoscribe.annotation.state());
  const report = async () => (await repState()).report;
  const waitFor = async (fn, what, timeout = 20000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) {
        saveArtifact('report-draft-timeout.png', await page.screenshot());
        throw new Error('timed out waiting for ' + what);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
    .catch((e) => { if (!/context was destroyed|navigation/i.test(e.message)) throw e; });

  async function loaded() {
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.annotation && window.endoscribe.annotation.state() &&
      window.endoscribe.annotation.state().label_sets.length >= 5 && window.endoscribe.report &&
      window.endoscribe.report.state() && window.endoscribe.report.state().vocabulary_ready &&
      window.endoscribe.assistant?.started === true && window.endoscribe.reportDraft?.state);
    await frames();
  }
  // Scrolls the side panel until the control is on screen; -> its rectangle.
  async function reach(name) {
    for (const dir of [0, -1, 1]) {
      for (let i = 0; i < (dir ? 40 : 1); i++) {
        await frames();
        const s = await appState();
        const r = s.widgets[name];
        if (r && r[3] >= 8 && r[1] >= 0 && r[1] + r[3] <= s.canvas.css_height) return r;
        const side = s.widgets.tab_report;
        if (!side) throw new Error('the Report tab is not shown');
        if (dir) {
          // Over the form, at heights that change so a scrolling list inside
          // the panel (quality checks, preview) does not take every turn of the wheel.
          await page.mouse.move(side[0] + 10, s.canvas.css_height * [0.9, 0.6, 0.3][i % 3]);
          await page.mouse.wheel(0, dir * 160);
        }
      }
    }
    saveArtifact(`report-draft-missing-${name.replace(/[^\w.-]/g, '_')}.png`, await page.screenshot());
    throw new Error(`control ${name} not found in the Report tab`);
  }
  async function click(name) {
    const r = await reach(name);
    await page.mouse.move(r[0] + Math.min(r[2] / 2, 40), r[1] + r[3] / 2);
    await frames();
    await page.mouse.down();
    await frames();
    await page.mouse.up();
    await frames();
  }
  async function choose(field, option) {
    await click(`report_${field}`);
    await waitFor(async () => (await appState()).widgets[`report_option_${option}`], `option ${option}`, 5000);
    await click(`report_option_${option}`);
  }
  async function type(field, text) {
    await click(`report_${field}`);
    await page.keyboard.type(text, { delay: 15 });
    await page.keyboard.press('Tab');
    await frames();
  }
  async function openReportTab() {
    for (let i = 0; i < 4; i++) {
      const s = await appState();
      if (s.widgets.report_user_name) return;
      if (s.widgets.tab_report) {
        const r = s.widgets.tab_report;
        await page.mouse.click(r[0] + r[2] / 2, r[1] + r[3] / 2);
      }
      await waitFor(async () => (await appState()).widgets.report_user_name, 'the Report tab', 3000).catch(() => {});
    }
    assert.ok((await appState()).widgets.report_user_name, 'the Report tab opens');
  }
  async function drawBox([x0, y0, x1, y1]) {
    await page.evaluate(() => window.endoscribe.module().ccall('es_annotation_set_tool', 'number', ['string'], ['Box']));
    const s = await appState();
    const img = s.images[s.current].name;
    const n = ((await annState()).images[img]?.annotations || []).length;
    const sx = (x) => s.view.offset_x + s.view.scale * x, sy = (y) => s.view.offset_y + s.view.scale * y;
    await page.mouse.move(sx(x0), sy(y0));
    await page.mouse.down();
    await page.mouse.move(sx(x1), sy(y1), { steps: 5 });
    await page.mouse.up();
    await waitFor(async () => ((await annState()).images[img]?.annotations || []).length === n + 1, 'the box');
  }
  // Opens a finding's form (clicking the open one would close it).
  async function selectFinding(id) {
    if ((await repState()).selected_finding === id) return;
    await click(`report_finding_${id}`);
    await waitFor(async () => (await repState()).selected_finding === id, `finding ${id} open`, 5000);
  }
  async function selectImage(name) {
    const s = await appState();
    const i = s.images.findIndex((im) => im.name === name);
    await page.evaluate((k) => window.endoscribe.module()._es_app_select_image(k), i);
    await waitFor(async () => (await appState()).current === i, `image ${name}`);
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    page = browser.page;
    if (process.env.ES_DEBUG) page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    await page.goto(server.url);
    await loaded();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  let userValues;
  let drafted;
  let lesionCount;

  it('findings from the lesion annotations; the button waits for a model and says so', async () => {
    const demo = JSON.parse(fs.readFileSync(path.join(appDir, 'demo', 'case.json'), 'utf8')).images.filter((im) => im.lesions.length);
    lesionCount = demo.reduce((n, im) => n + im.lesions.length, 0);
    // A few values the user sets: the procedure (the read-only demo becomes a
    // "Demo copy" case), then findings from boxes over the demo's lesions, one
    // BBPS segment, a size.
    await openReportTab();
    await choose('header.procedure', 'colonoscopy');
    await waitFor(async () => !(await page.evaluate(() => window.endoscribe.cases.current.readOnly)), 'the demo copy');
    for (const im of demo) {
      await selectImage(im.file);
      for (const l of im.lesions) await drawBox(l.box);
    }
    await openReportTab();
    await click('report_findings_from_lesions');
    await waitFor(async () => (await report()).findings?.length === lesionCount, 'a finding per lesion');
    await choose('bowel_preparation.bbps_right', 'bbps_2');
    await selectFinding('F1');
    await type('findings[0].size_mm', '7');
    const rep = await waitFor(async () => { const r = await report(); return r.findings[0].size_mm?.value === 7 && r; }, 'size 7');
    userValues = {
      procedure: rep.header.procedure, bbps_right: rep.bowel_preparation.bbps_right, size: rep.findings[0].size_mm,
      findings: rep.findings.map((f) => ({ term: f.term, location_segment: f.location_segment, number: f.number, evidence: f.evidence })),
    };
    assert.equal(userValues.bbps_right.source, 'user');
    // No model yet: the button is disabled and says why.
    await reach('report_draft_button');  // the Draft with AI button is shown,
    await reach('report_draft_reason');  // with the reason it is disabled
    await click('report_draft_button');
    await frames();
    assert.equal((await draftState()).job.running ?? false, false, 'a disabled button does nothing');
    assert.equal(await page.evaluate(() => window.endoscribe.reportDraft.running()), false);
    saveArtifact('report-draft-01-no-model.png', await page.screenshot());
  });

  it('drafts with the tiny model: progress and Cancel while it runs, AI values with probabilities after', { timeout: 480000 }, async () => {
    await page.evaluate(() => window.endoscribe.assistant.action('load_default'));
    await waitFor(async () => (await page.evaluate(() => window.endoscribe.assistant.state())).status === 'ready', 'the tiny model', 120000);
    await openReportTab();
    await reach('report_draft_button');
    await waitFor(async () => !(await appState()).widgets.report_draft_reason, 'the button enabled', 10000);
    await reach('report_draft_test_model_warning');  // the test-model warning with the button
    const t0 = Date.now();
    await click('report_draft_button');
    await waitFor(async () => (await appState()).widgets.report_draft_progress, 'progress', 20000);
    const running = await appState();
    assert.ok(running.widgets.report_draft_cancel, 'a Cancel button while it runs');
    assert.equal((await page.evaluate(() => window.endoscribe.assistant.state())).busy, 'draft', 'the assistant is busy meanwhile');
    saveArtifact('report-draft-02-running.png', await page.screenshot());
    const st = await waitFor(async () => { const d = await draftState(); return d.job.running === false && d.outcome && d; }, 'the draft', 420000);
    const seconds = (Date.now() - t0) / 1000;
    const last = await page.evaluate(() => window.endoscribe.reportDraft.last);
    const asked = last.rounds.reduce((n, r) => n + r.questions.length, 0);
    console.log(`# drafted ${st.outcome.applied.length} of ${asked} questions in ${seconds.toFixed(1)} s; ` +
      `stats ${JSON.stringify(last.rounds.map((r) => r.stats))}`);
    assert.equal(st.model, MODEL);
    assert.equal(st.test_model, true);
    // Each image encoded once per round; one prefix prefill per image (+1 text-only group).
    for (const r of last.rounds) {
      assert.ok(r.stats.imageEncodes <= r.stats.images, JSON.stringify(r.stats));
      assert.ok(r.stats.prefixRuns <= r.stats.images + 1, JSON.stringify(r.stats));
    }
    drafted = await report();
    // The user's values are as they were.
    assert.deepEqual(drafted.header.procedure, userValues.procedure);
    assert.deepEqual(drafted.bowel_preparation.bbps_right, userValues.bbps_right);
    assert.deepEqual(drafted.findings[0].size_mm, userValues.size);
    drafted.findings.forEach((f, i) => {
      for (const k of ['term', 'location_segment', 'number', 'evidence']) assert.deepEqual(f[k], userValues.findings[i][k], `F${i + 1} ${k}`);
    });
    // Enumerated fields: AI values from the vocabulary, with their probability, not accepted.
    for (const f of drafted.findings) {
      for (const k of ['paris', 'nice', 'jnet']) {
        const v = f[k];
        assert.ok(v, `${f.id} ${k} drafted`);
        assert.equal(v.source, 'ai');
        assert.equal(v.accepted, false);
        assert.equal(v.set_by, MODEL);
        assert.ok(v.probability > 0 && v.probability <= 1, `${f.id} ${k} p=${v.probability}`);
      }
      assert.ok(['1', '2', '3'].includes(f.nice.value));
    }
    for (const k of ['bbps_transverse', 'bbps_left']) {
      assert.equal(drafted.bowel_preparation[k].source, 'ai');
      assert.ok([0, 1, 2, 3].includes(drafted.bowel_preparation[k].value));
    }
    await reach('report_draft_outcome');  // the outcome line
    await reach('report_draft_test_model_warning');  // and the test-model warning with it
    assert.match((await repState()).undo, /Draft with AI/);
    saveArtifact('report-draft-03-drafted.png', await page.screenshot());
  });

  it('accepts AI values one by one; a reload brings back accepted and unaccepted values', { timeout: 180000 }, async () => {
    await selectFinding('F1');
    await reach('report_accept_findings[0].paris');
    // (the Accept button says the value's probability: "Accept 62%", panel_report.cpp)
    saveArtifact('report-draft-04-finding.png', await page.screenshot());
    await click('report_accept_findings[0].paris');
    await waitFor(async () => (await report()).findings[0].paris.accepted === true, 'F1 Paris accepted');
    await click('report_accept_bowel_preparation.bbps_left');
    await waitFor(async () => (await report()).bowel_preparation.bbps_left.accepted === true, 'BBPS left accepted');
    const acceptedRep = await report();
    assert.equal(acceptedRep.findings[0].paris.source, 'ai', 'an accepted AI value stays an AI value');
    assert.equal(acceptedRep.findings[0].paris.probability, drafted.findings[0].paris.probability);
    await page.evaluate(() => window.endoscribe.annotation.saved?.());
    await page.reload();
    await loaded();
    await openReportTab();
    const back = await waitFor(async () => { const r = await report(); return r.findings?.length === lesionCount && r; }, 'the report after reload');
    assert.deepEqual(back.findings[0].paris, acceptedRep.findings[0].paris);
    assert.deepEqual(back.bowel_preparation.bbps_left, acceptedRep.bowel_preparation.bbps_left);
    assert.deepEqual(back.findings[1].nice, drafted.findings[1].nice, 'an unaccepted AI value comes back unaccepted');
    assert.equal(back.findings[1].nice.accepted, false);
    assert.deepEqual(back.findings[0].size_mm, userValues.size);
    await selectFinding('F2');
    await reach('report_accept_findings[1].nice');
    saveArtifact('report-draft-05-reloaded.png', await page.screenshot());
    browser.assertClean();
  });
});
