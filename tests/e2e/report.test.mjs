// report.test.mjs: the Report tab end to end in headless Chromium, on the demo
// case, with real mouse and keyboard on the real controls: boxes over the
// demo's lesions become findings in one click (term from the label, segment
// from the case, evidence, lesion count), BBPS and fields set (the quality
// warnings change), sign, amend, sign again, exports (text, HTML, PDF, FHIR:
// the downloads' contents are checked), a reload mid-typing, a reload that
// brings everything back, the case bundle round trip (the report comes back
// unchanged) and a hostile bundle (a message naming the field; images and
// annotations still open). Screenshots at the default size and a narrow one
// (test-artifacts/e2e/report-*.png).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e report tests: ${skip}`);

// About 2 minutes on an idle machine; SwiftShader frames slow down a lot on a busy one.
describe('report', { skip: skip || false, timeout: 480000 }, () => {
  let server, browser, page;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-report-'));
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const repState = () => page.evaluate(() => window.endoscribe.report.state());
  const annState = () => page.evaluate(() => window.endoscribe.annotation.state());
  const waitFor = async (fn, what, timeout = 20000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) {
        saveArtifact('report-timeout.png', await page.screenshot());
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
      window.endoscribe.report.state() && window.endoscribe.report.state().vocabulary_ready);
    await frames();
  }

  // Scrolls the side panel until the control is on screen; -> its rectangle.
  async function reach(name) {
    for (const dir of [0, 1, -1]) {
      for (let i = 0; i < (dir ? 40 : 1); i++) {
        await frames();
        const s = await appState();
        const r = s.widgets[name];
        if (r && r[3] >= 8) return r;
        const side = s.widgets.tab_image;  // the side panel's first tab
        if (!side) throw new Error('the side panel is not shown');
        if (dir) {
          await page.mouse.move(side[0] + 120, s.canvas.css_height / 2);
          await page.mouse.wheel(0, dir * 160);
        }
      }
    }
    saveArtifact(`report-missing-${name.replace(/[^\w.-]/g, '_')}.png`, await page.screenshot());
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
  // A combo's option (options are report_option_<id> while the combo is open).
  async function choose(field, option) {
    await click(`report_${field}`);
    await waitFor(async () => (await appState()).widgets[`report_option_${option}`], `option ${option}`, 5000);
    await click(`report_option_${option}`);
  }
  // Types into a text field, over what it holds (the next click elsewhere ends the typing).
  async function type(field, text) {
    await click(`report_${field}`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type(text, { delay: 15 });
    await frames();
  }
  // The tab shows: some report_ control is drawn (the panel may be scrolled anywhere).
  const reportShown = (s) => Object.keys(s.widgets).some((k) => k.startsWith('report_'));
  async function openReportTab() {
    for (let i = 0; i < 4; i++) {
      const s = await appState();
      if (reportShown(s)) return;
      if (s.widgets.tab_report) await click('tab_report');
      await waitFor(async () => reportShown(await appState()), 'the Report tab', 3000).catch(() => {});
    }
    assert.ok(reportShown(await appState()), 'the Report tab opens');
  }
  // The Image tab's "Open bundle..." (a file chooser needs a real click).
  async function openBundleButton() {
    for (let i = 0; i < 5 && !(await appState()).widgets.image_name; i++) {
      await click('tab_image');
      await waitFor(async () => (await appState()).widgets.image_name, 'the Image tab', 3000).catch(() => {});
    }
    await click('import_bundle');
  }
  // Box tool drag over image pixels [x0, y0, x1, y1] of the current image.
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
  async function selectImage(name) {
    const s = await appState();
    const i = s.images.findIndex((im) => im.name === name);
    await page.evaluate((k) => window.endoscribe.module()._es_app_select_image(k), i);
    await waitFor(async () => (await appState()).current === i, `image ${name}`);
  }
  async function capture(widget) {
    const [download] = await Promise.all([page.waitForEvent('download'), click(widget)]);
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    return { name: download.suggestedFilename(), file };
  }
  const report = async () => (await repState()).report;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    if (process.env.ES_DEBUG) page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    await page.goto(server.url);
    await loaded();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  let demoLesions;

  it('makes findings from the lesion annotations of the demo case in one click', async () => {
    demoLesions = JSON.parse(fs.readFileSync(path.join(appDir, 'demo', 'case.json'), 'utf8'))
      .images.filter((im) => im.lesions.length);
    // The demo case is read-only: the first report edit goes to a "Demo copy" case.
    assert.equal(await page.evaluate(() => window.endoscribe.cases.current.readOnly), true);
    await openReportTab();
    await choose('header.procedure', 'colonoscopy');
    await waitFor(async () => /^Demo copy /.test(await page.evaluate(() => window.endoscribe.cases.current.readOnly ? '' : window.endoscribe.cases.current.name)), 'the demo copy');
    await page.evaluate(() => window.endoscribe.annotation.saved());
    assert.equal((await report()).header.procedure.value, 'colonoscopy');
    // Boxes over the demo's lesions.
    for (const im of demoLesions) {
      await selectImage(im.file);
      for (const l of im.lesions) await drawBox(l.box);
    }
    await openReportTab();
    const r0 = await repState();
    assert.equal((r0.report.findings ?? []).length, 0, 'no findings yet');
    const warnings0 = r0.warnings.length;
    await click('report_findings_from_lesions');
    const lesionCount = demoLesions.reduce((n, im) => n + im.lesions.length, 0);
    const rep = await waitFor(async () => { const r = await report(); return r.findings && r.findings.length === lesionCount && r; }, 'a finding per lesion');
    assert.equal(rep.findings.length, lesionCount);
    for (const f of rep.findings) {
      assert.equal(f.term.value, 'polyp');
      assert.equal(f.term.source, 'user');
      assert.equal(f.number.value, 1);
      assert.equal(f.evidence.value.length, 1);
    }
    const segOf = (f) => f.location_segment && f.location_segment.value;
    assert.equal(segOf(rep.findings[0]), 'sigmoid-colon', 'image-1 is in the sigmoid colon (case.json)');
    assert.equal(segOf(rep.findings[1]), 'descending-colon');
    assert.equal(rep.findings[0].evidence.value[0].image, demoLesions[0].file);
    assert.match((await page.evaluate(() => window.endoscribe.cases.current.name)), /^Demo copy /);
    // Selecting a finding shows its image with its annotation selected.
    await selectImage(demoLesions[0].file);
    await click('report_finding_F2');
    await waitFor(async () => (await appState()).images[(await appState()).current].name === demoLesions[1].file, 'F2 image shown');
    const ann = await annState();
    assert.equal(ann.selected, rep.findings[1].evidence.value[0].annotation_id);
    saveArtifact('report-findings.png', await page.screenshot());
    // The warnings now include the findings' missing sizes.
    assert.notEqual((await repState()).warnings.length, warnings0);
  });

  it('sets BBPS and header fields; warnings change; each value records who and when', async () => {
    await choose('header.procedure', 'colonoscopy');
    const before = (await waitFor(async () => { const s = await repState(); return s.report.header?.procedure && s; }, 'procedure')).warnings;
    assert.ok(before.some((w) => /bbps_right/.test(w.path)), 'an unscored segment is warned about: ' + JSON.stringify(before));
    await choose('bowel_preparation.bbps_right', 'bbps_2');
    await choose('bowel_preparation.bbps_transverse', 'bbps_3');
    await choose('bowel_preparation.bbps_left', 'bbps_2');
    let st = await waitFor(async () => { const s = await repState(); return s.bbps_total === 7 && s; }, 'BBPS total 7');
    assert.equal(st.bbps_adequate, true);
    assert.ok(!st.warnings.some((w) => /bbps_/.test(w.path)), 'no BBPS warning once scored');
    // Values set so far carry the fallback name; "Your name" names the user from now on.
    assert.equal(st.report.bowel_preparation.bbps_left.set_by, 'user');
    await type('user_name', 'Dr Ada Test');
    await waitFor(async () => (await repState()).who === 'Dr Ada Test', 'your name');
    await type('header.endoscopist', 'Dr Ada Test');
    st = await waitFor(async () => { const s = await repState(); return s.report.header?.endoscopist?.value === 'Dr Ada Test' && s; }, 'endoscopist');
    assert.equal(st.report.header.endoscopist.set_by, 'Dr Ada Test');
    assert.match(st.report.header.endoscopist.set_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await type('bowel_preparation.withdrawal_time_min', '4');
    st = await waitFor(async () => { const s = await repState(); return s.report.bowel_preparation?.withdrawal_time_min?.value === 4 && s; }, 'withdrawal 4');
    const short = st.warnings.find((w) => /withdrawal/.test(w.path));
    assert.ok(short, 'a withdrawal time under 6 min is warned about');
    // Clicking the warning scrolls to its field (it stays reachable and the warning text is plain words).
    assert.doesNotMatch(short.message, /bowel_preparation\./, 'plain words, not the path');
    // Undo of a typed field is one step.
    await click('report_undo');
    st = await waitFor(async () => { const s = await repState(); return !s.report.bowel_preparation?.withdrawal_time_min && s; }, 'undo');
    await click('report_redo');
    await waitFor(async () => (await report()).bowel_preparation?.withdrawal_time_min?.value === 4, 'redo');
    await type('bowel_preparation.withdrawal_time_min', '8');
    await waitFor(async () => (await report()).bowel_preparation?.withdrawal_time_min?.value === 8, 'withdrawal 8');
    // An impossible value is not kept.
    await type('findings[1].size_mm', '-3');
    st = await repState();
    assert.ok(!st.report.findings[1].size_mm || st.report.findings[1].size_mm.value >= 0, 'no negative size');
    await page.evaluate(() => window.endoscribe.annotation.saved());
    saveArtifact('report-fields.png', await page.screenshot());
  });

  it('signs, amends with its own version, signs again', async () => {
    await click('report_sign');
    let rep = await waitFor(async () => { const r = await report(); return r.status === 'final' && r; }, 'signed');
    assert.equal(rep.version, 1);
    assert.equal(rep.versions.length, 1);
    assert.equal(rep.versions[0].signed_by, 'Dr Ada Test');
    await type('amend_reason', 'size added');
    await click('report_amend');
    rep = await waitFor(async () => { const r = await report(); return r.status === 'amended' && r; }, 'amendment');
    assert.equal(rep.version, 2);
    await type('findings[1].size_mm', '6');
    await waitFor(async () => (await report()).findings[1].size_mm?.value === 6, 'size 6');
    await click('report_sign');
    rep = await waitFor(async () => { const r = await report(); return r.status === 'final' && r.versions.length === 2 && r; }, 'signed again');
    assert.equal(rep.versions[1].number, 2);
    assert.equal(rep.versions[1].reason, 'size added');
    assert.notEqual(rep.versions[0].snapshot, rep.versions[1].snapshot);
    saveArtifact('report-signed.png', await page.screenshot());
  });

  it('exports text, HTML, PDF and FHIR named after the case', async () => {
    const caseName = await page.evaluate(() => window.endoscribe.cases.current.name);
    const stem = caseName.replace(/[^A-Za-z0-9._-]+/g, '-');
    const text = await capture('report_export_text');
    assert.equal(text.name, `${stem}-report.txt`);
    const t = fs.readFileSync(text.file, 'utf8');
    assert.match(t, /Dr Ada Test/);
    assert.match(t, /olyp/);
    const html = await capture('report_export_html');
    assert.match(fs.readFileSync(html.file, 'utf8'), /<html[\s\S]*Dr Ada Test/);
    const pdf = await capture('report_export_pdf');
    assert.equal(pdf.name, `${stem}-report.pdf`);
    const bytes = fs.readFileSync(pdf.file);
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    try {
      const pdfText = execFileSync('pdftotext', [pdf.file, '-'], { encoding: 'utf8' });
      assert.match(pdfText, /Dr Ada Test/);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      console.log('# pdftotext missing: PDF text not checked');
    }
    const fhir = await capture('report_export_fhir');
    const b = JSON.parse(fs.readFileSync(fhir.file, 'utf8'));
    assert.equal(b.resourceType, 'Bundle');
    const types = b.entry.map((e) => e.resource.resourceType);
    assert.ok(types.includes('DiagnosticReport'), types.join(','));
    assert.ok(types.filter((x) => x === 'Observation').length >= 3, 'an Observation per finding');
  });

  it('keeps the keystrokes typed just before a reload, and everything else', async () => {
    const before = await report();
    await click('report_amend');  // the impression is edited in an amendment
    await click('report_impression');
    await page.keyboard.type('Three small polyps', { delay: 10 });
    // Once the app has the text (keys reach it a frame at a time), reload at once: no wait for the save.
    await waitFor(async () => (await report()).impression?.value === 'Three small polyps', 'the typed impression');
    await page.reload();
    await loaded();
    await openReportTab();
    const after = await report();
    assert.equal(after.impression?.value, 'Three small polyps', 'nothing typed is lost');
    assert.deepEqual(after.versions, before.versions);
    assert.deepEqual(after.findings, before.findings);
    assert.deepEqual(after.bowel_preparation, before.bowel_preparation);
    assert.equal(after.status, 'amended');
  });

  it('travels in the case bundle unchanged; a hostile report loses nothing else', async () => {
    await page.evaluate(() => window.endoscribe.annotation.saved());
    const rep = await report();
    const [download] = await Promise.all([page.waitForEvent('download'), page.evaluate(() => window.endoscribe.cases.action('export_bundle'))]);
    const bundleFile = path.join(tmp, 'case.endoscribe.json');
    await download.saveAs(bundleFile);
    const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8'));
    assert.deepEqual(bundle.report, rep);
    const annotations = (await annState()).images;
    // Hostile: an impossible size in one finding.
    bundle.report.findings[0].size_mm = { value: -3, source: 'user', accepted: true };
    const bad = path.join(tmp, 'hostile.endoscribe.json');
    fs.writeFileSync(bad, JSON.stringify(bundle));
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), openBundleButton()]);
    await Promise.all([page.waitForEvent('load'), chooser.setFiles(bad)]);
    await loaded();
    const st = await waitFor(async () => { const s = await appState(); return s.errors.some((e) => /findings\[0\]\.size_mm/.test(e)) && s; }, 'the message naming the field');
    assert.equal(st.images.length, 4, 'the images opened');
    const ann = (await annState()).images;
    for (const im of demoLesions) assert.equal(ann[im.file].annotations.length, annotations[im.file].annotations.length);
    assert.equal(((await report()).findings ?? []).length, 0, 'the bad report was not loaded');
    await openReportTab();
    saveArtifact('report-hostile.png', await page.screenshot());
    // The good bundle: the report comes back unchanged.
    const [chooser2] = await Promise.all([page.waitForEvent('filechooser'), openBundleButton()]);
    await Promise.all([page.waitForEvent('load'), chooser2.setFiles(bundleFile)]);
    await loaded();
    assert.deepEqual(await report(), rep);
    browser.assertClean();
  });

  it('marks an AI value with its probability until it is accepted', async () => {
    // A report with an unaccepted AI value, loaded as a saved one is (report-draft fills such values).
    const rep = await report();
    const f = rep.findings[0];
    f.jnet = { value: '2A', source: 'ai', probability: 0.62, accepted: false, set_by: 'test-model', set_at: '2026-11-30T05:00:00Z' };
    const ok = await page.evaluate((t) => window.endoscribe.module().ccall('es_report_load_document', 'number', ['string'], [t]), JSON.stringify(rep));
    assert.equal(ok, 1, 'the report with an AI value loads');
    await openReportTab();
    await click(`report_finding_${f.id}`);
    await reach('report_accept_findings[0].jnet');
    saveArtifact('report-ai-value.png', await page.screenshot());
    await click('report_accept_findings[0].jnet');
    const after = await waitFor(async () => { const r = await report(); return r.findings[0].jnet?.accepted && r; }, 'accepted');
    assert.equal(after.findings[0].jnet.source, 'ai', 'still marked as the AI\'s value');
    assert.equal(after.findings[0].jnet.probability, 0.62);
  });

  it('is readable at the default size and on a narrow window', async () => {
    await openReportTab();
    await reach('report_section_findings');
    saveArtifact('report-1280.png', await page.screenshot());
    await page.setViewportSize({ width: 900, height: 640 });
    await frames();
    await frames();
    await openReportTab();
    await reach('report_section_findings');
    saveArtifact('report-900.png', await page.screenshot());
    const s = await appState();
    const side = s.widgets.tab_image;  // the first tab: the panel's left edge
    for (const [name, r] of Object.entries(s.widgets)) {
      if (!name.startsWith('report_')) continue;
      assert.ok(r[0] + r[2] <= s.canvas.css_width + 1, `${name} inside the window`);
      assert.ok(r[0] >= side[0] - 1, `${name} inside the side panel`);
    }
  });
});
