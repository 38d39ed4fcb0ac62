// compare.test.mjs: the Compare tab (issue 13, item 7) in headless Chromium on
// the demo case. Annotator A: the demo's lesion boxes, imported as COCO through
// the Image tab. Annotator B: the same COCO with image-1's box moved 40 px to
// the right and image-3's label changed, imported in the Compare tab. The
// figures the tab shows must equal what the core computes for the two files
// (annotation_agreement through the Node module of the same core). Also: what
// the tab says with nothing to compare, the model's outputs as the assistant
// reports them (a classification and an answer's box), a row shown on the
// viewer in two colours, and the JSON export.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir, buildDir, clickWidget, openTab } from './harness.mjs';
import { loadNodeCore } from '../../web/segmentation/node_core.js';
import { scorePredictions } from '../../web/metrics/metrics_api.js';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e compare tests: ${skip}`);

// COCO of the demo case's lesion boxes ([x1, y1, x2, y2] in case.json), every one "polyps".
function demoCoco(edit = () => {}) {
  const demo = JSON.parse(fs.readFileSync(path.join(appDir, 'demo/case.json'), 'utf8'));
  const coco = { images: [], annotations: [], categories: [{ id: 1, name: 'polyps' }, { id: 2, name: 'dyed-lifted-polyps' }] };
  demo.images.forEach((im, i) => {
    coco.images.push({ id: i + 1, file_name: im.file, width: im.width, height: im.height });
    for (const l of im.lesions) {
      const [x1, y1, x2, y2] = l.box;
      coco.annotations.push({ id: coco.annotations.length + 1, image_id: i + 1, category_id: 1, bbox: [x1, y1, x2 - x1, y2 - y1],
        area: (x2 - x1) * (y2 - y1), iscrowd: 0, segmentation: [] });
    }
  });
  edit(coco);
  return coco;
}

const fixed = (v) => (v === null || v === undefined || Number.isNaN(v) ? '-' : v.toFixed(3));

describe('compare', { skip: skip || false, timeout: 240000 }, () => {
  let server, browser, page, core;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-compare-'));
  const compareState = () => page.evaluate(() => {
    const m = window.endoscribe.module();
    return JSON.parse(m.UTF8ToString(m._es_compare_state()));
  });
  const waitFor = async (fn, what, timeout = 30000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) throw new Error('timed out waiting for ' + what);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

  const cocoA = demoCoco();
  const cocoB = demoCoco((c) => {
    c.annotations[0].bbox[0] += 40;   // image-1: box moved 40 px right (IoU 101x120 / 181x120 = 0.558: still a match)
    c.annotations[3].category_id = 2;  // image-3: another label
  });
  const fileA = path.join(tmp, 'annotator-a.coco.json');
  const fileB = path.join(tmp, 'annotator-b.coco.json');
  fs.writeFileSync(fileA, JSON.stringify(cocoA));
  fs.writeFileSync(fileB, JSON.stringify(cocoB));

  before(async () => {
    core = (await loadNodeCore(path.join(buildDir, 'wasm', 'node', 'endoscribe_core.mjs'))).m;
    server = await startServer();
    browser = await launchBrowser();
    if (process.env.ES_DEBUG) browser.page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    page = browser.page;
    await page.goto(server.url);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.annotation && window.endoscribe.annotation.state() &&
      window.endoscribe.annotation.state().label_sets.length >= 5);
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('says there is nothing to compare yet, and what to do', async () => {
    await openTab(page, 'tab_compare', 'compare_import_b', 'compare');
    await frames();
    const s = await compareState();
    assert.equal(s.shown.compare_classification, 'Nothing to compare yet.');
    assert.match(s.shown.compare_boxes, /^Nothing to compare yet \(0 annotated boxes\)\.$/);
    assert.equal(s.shown.compare_masks, 'Nothing to compare yet.');
    assert.equal(s.annotators, null);
    saveArtifact('compare-empty.png', await page.screenshot());
  });

  it("annotator B's kappa, regions and objects equal the core's figures", async () => {
    // A: through the Image tab's COCO import (the demo then becomes a case of its own).
    await openTab(page, 'tab_image', 'import_coco', 'compare');
    const [chooserA] = await Promise.all([page.waitForEvent('filechooser'), clickWidget(page, 'import_coco')]);
    await chooserA.setFiles(fileA);
    await waitFor(async () => {
      const a = await page.evaluate(() => window.endoscribe.annotation.state());
      return a.images['image-3.png'] && a.images['image-3.png'].annotations.length === 1;
    }, 'annotator A imported');
    await waitFor(async () => /^Demo copy /.test((await page.evaluate(() => window.endoscribe.state())).case), 'the demo copy');
    await page.evaluate(() => window.endoscribe.annotation.saved());

    // B: through the Compare tab.
    await openTab(page, 'tab_compare', 'compare_import_b', 'compare');
    const [chooserB] = await Promise.all([page.waitForEvent('filechooser'), clickWidget(page, 'compare_import_b')]);
    await chooserB.setFiles(fileB);
    await waitFor(async () => (await compareState()).shown.compare_kappa, 'the agreement figures');
    await frames();
    const s = await compareState();

    const ref = scorePredictions(core, { task: 'annotation_agreement', first: cocoA, second: cocoB, bootstrap: false });
    const m = Object.fromEntries(Object.entries(ref.metrics).map(([k, v]) => [k, v.value]));
    // The hand check of the constructed change: labels present per (image, label):
    // polyps on 1, 2, 3 in A and 1, 2 in B; dyed-lifted-polyps on 3 in B only; 4 has none.
    // 8 pairs, 6 agree (0.75); each version marks 3 of 8: chance 34/64; kappa = (0.75 - 34/64) / (1 - 34/64) = 7/15.
    assert.ok(Math.abs(m.kappa - 7 / 15) < 1e-12, `core kappa ${m.kappa}`);
    for (const k of ['kappa', 'observed_agreement', 'mean_iou', 'mean_dice', 'object_precision', 'object_recall', 'object_f1', 'matched_mean_iou']) {
      assert.ok(Math.abs(s.annotators.metrics[k] - m[k]) < 1e-12, `${k}: app ${s.annotators.metrics[k]}, core ${m[k]}`);
    }
    assert.equal(s.annotators.regions.length, ref.regions.length);
    assert.equal(s.shown.compare_kappa,
      `Cohen's kappa (labels per image) ${fixed(m.kappa)}, observed agreement ${fixed(m.observed_agreement)} over 8 (image, label) pairs`);
    assert.equal(s.shown.compare_regions,
      `Regions: mean Dice ${fixed(m.mean_dice)}, mean IoU ${fixed(m.mean_iou)} over ${ref.regions.length} (image, label) pairs`);
    assert.match(s.shown.compare_objects, new RegExp(`^Objects matched at IoU >= 0\\.5: ${ref.objects.matched} \\(A ${ref.objects.first}, B ${ref.objects.second}\\): ` +
      `precision ${fixed(m.object_precision)}, recall ${fixed(m.object_recall)}, F1 ${fixed(m.object_f1)}, matched mean IoU ${fixed(m.matched_mean_iou)}$`));
    // The moved box: its region's IoU as computed by hand (pixel centres of 141x120 and the same 40 px right).
    const moved = s.annotators.regions.find((r) => r.image === 'image-1.png');
    assert.ok(Math.abs(moved.iou - (101 * 120) / (181 * 120)) < 1e-12, `image-1 IoU ${moved.iou}`);
    await page.mouse.move(5, 795);  // no tooltip over the figures
    await frames();
    saveArtifact('compare-annotators.png', await page.screenshot());

    // A row shows both outlines on its image.
    await clickWidget(page, 'compare_region_0');
    const sel = await waitFor(async () => { const c = await compareState(); return c.selected === 0 && c; }, 'the selected row');
    assert.equal(sel.outlines.image, 'image-1.png');
    assert.equal(sel.outlines.a, 1);
    assert.equal(sel.outlines.b, 1);
    await waitFor(async () => (await page.evaluate(() => window.endoscribe.state())).widgets.compare_legend, 'the legend on the viewer');
    const app = await page.evaluate(() => window.endoscribe.state());
    assert.equal(app.images[app.current].name, 'image-1.png');
    saveArtifact('compare-row-on-viewer.png', await page.screenshot());
  });

  it("compares the model's outputs the assistant reported with the annotations", async () => {
    // The snapshot app_assistant.js sends after classifying image-3 and answering with a box there
    // (no model is needed for the comparison itself; the figures are checked by hand).
    await page.evaluate(() => {
      const m = window.endoscribe.module();
      m.ccall('es_assistant_ui_state', null, ['string'], [JSON.stringify({
        status: 'ready', image: { key: 'x|image-3.png|640x512', name: 'image-3.png', width: 640, height: 512 },
        classification: { set: 'hyperkvasir', name: 'HyperKvasir', ms: 1, labels: [{ id: 'polyps', name: 'Polyps', probability: 0.7 }, { id: 'cecum', name: 'Cecum', probability: 0.3 }] },
        turns: [{ question: 'Where is the polyp?', answer: '...', done: true, boxes: [{ x1: 177, y1: 206, x2: 419, y2: 396, label: 'polyp' }] }],
      })]);
    });
    const s = await waitFor(async () => { const c = await compareState(); return c.shown.compare_accuracy && c; }, 'the model figures');
    assert.equal(s.shown.compare_accuracy, 'Accuracy 1.000 (1 of 1 images)   macro-F1 1.000');
    assert.equal(s.model_vs_annotations.classification.per_image[0].image, 'image-3.png');
    assert.deepEqual(s.model_vs_annotations.classification.per_image[0].annotated, ['polyps']);
    // The answer's box is image-3's annotated box exactly: 1 matched of 1 model and 4 annotated boxes.
    assert.equal(s.shown.compare_boxes, 'Matched 1 of 1 model and 4 annotated boxes: precision 1.000, recall 0.250, mean IoU 1.000');
    saveArtifact('compare-model.png', await page.screenshot());
  });

  it("a real classification by the built-in test model joins the comparison, marked as meaningless", async () => {
    // image-1 is in view (the selected row). The random-weights test model's top label is whatever it is;
    // the tab must score it against image-1's annotated label (polyps) and say the model is a test model.
    await page.evaluate(() => { window.endoscribe.assistant.action('load_default'); });
    await waitFor(() => page.evaluate(() => ['ready', 'error'].includes(window.endoscribe.assistant.state().status) &&
      window.endoscribe.assistant.state().busy === null), 'the test model', 120000);
    assert.equal(await page.evaluate(() => window.endoscribe.assistant.state().status), 'ready');
    await page.evaluate(() => { window.endoscribe.assistant.action('classify', { set: 'hyperkvasir' }); });
    const c = await waitFor(() => page.evaluate(() => window.endoscribe.assistant.state().classification), 'the classification', 120000);
    const top = c.labels[0];
    assert.ok(top.id, 'the classification carries label ids');
    // (the figures are recomputed at once; the lines shown follow at the next frame)
    const s = await waitFor(async () => {
      const x = await compareState();
      return x.model_vs_annotations.classification.images === 2 && / of 2 images/.test(x.shown.compare_accuracy) && x;
    }, 'two classified images');
    const row = s.model_vs_annotations.classification.per_image.find((r) => r.image === 'image-1.png');
    const right = top.id === 'polyps';
    assert.equal(row.right, right);
    assert.equal(row.predicted, top.id);
    assert.ok(Math.abs(row.probability - top.probability) < 1e-9);
    assert.equal(s.shown.compare_accuracy, `Accuracy ${fixed(right ? 1 : 0.5)} (${right ? 2 : 1} of 2 images)   macro-F1 ${fixed(s.model_vs_annotations.classification.macro_f1)}`);
    await frames();
    const widgets = (await page.evaluate(() => window.endoscribe.state())).widgets;
    assert.ok(widgets.compare_test_model_warning, 'the test-model warning is on the Compare tab');
    await page.mouse.move(5, 795);
    await frames();
    saveArtifact('compare-test-model.png', await page.screenshot());
  });

  it('Segment masks against the annotated region: Dice and IoU per image', async () => {
    // image-4 gets a drawn polygon (100..200 x 100..200) and a Segment mask (source "sam", as the tool
    // stores it) of the same size 50 px to the right: overlap 50x100, union 150x100.
    const W = 640, H = 512;
    const flat = new Uint8Array(W * H);  // column-major, as COCO RLE counts
    for (let x = 150; x < 250; x++) for (let y = 100; y < 200; y++) flat[x * H + y] = 1;
    const counts = [];
    let run = 0, value = 0;
    for (const v of flat) { if (v === value) run++; else { counts.push(run); run = 1; value = v; } }
    counts.push(run);
    const coco = { images: [{ id: 1, file_name: 'image-4.png', width: W, height: H }], categories: [{ id: 1, name: 'polyps' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, iscrowd: 0, bbox: [100, 100, 100, 100], area: 10000,
          segmentation: [[100, 100, 200, 100, 200, 200, 100, 200]], endoscribe: { kind: 'polygon', source: 'manual' } },
        { id: 2, image_id: 1, category_id: 1, iscrowd: 1, bbox: [150, 100, 100, 100], area: 10000,
          segmentation: { size: [H, W], counts }, endoscribe: { kind: 'mask', source: 'sam' } },
      ] };
    const file = path.join(tmp, 'image-4-segment.coco.json');
    fs.writeFileSync(file, JSON.stringify(coco));
    await openTab(page, 'tab_image', 'import_coco', 'compare');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), clickWidget(page, 'import_coco')]);
    await chooser.setFiles(file);
    await waitFor(async () => {
      const a = await page.evaluate(() => window.endoscribe.annotation.state());
      return a.images['image-4.png'] && a.images['image-4.png'].annotations.length === 2;
    }, 'the image-4 annotations');
    await openTab(page, 'tab_compare', 'compare_import_b', 'compare');
    const s = await waitFor(async () => { const c = await compareState(); return /^Mean Dice/.test(c.shown.compare_masks || '') && c; }, 'the mask figures');
    const row = s.model_vs_annotations.masks.per_image.find((r) => r.image === 'image-4.png');
    assert.ok(Math.abs(row.iou - 1 / 3) < 1e-12, `IoU ${row.iou}`);
    assert.ok(Math.abs(row.dice - 0.5) < 1e-12, `Dice ${row.dice}`);
    assert.equal(s.shown.compare_masks, 'Mean Dice 0.500, mean IoU 0.333 over 1 image(s)');
  });

  it('exports the figures as JSON', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), clickWidget(page, 'compare_export')]);
    assert.match(download.suggestedFilename(), /-compare\.json$/);
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    const s = await compareState();
    delete s.shown; delete s.selected; delete s.outlines;
    assert.deepEqual(j, s);
    assert.equal(j.annotators.annotator_b, 'annotator-b.coco.json');
  });

  it('a file that is not a version of the case is refused and changes nothing; a case bundle is read as B', async () => {
    const bad = path.join(tmp, 'labels.json');
    fs.writeFileSync(bad, fs.readFileSync(path.join(appDir, 'labels/hyperkvasir.json')));
    const before = await compareState();
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), clickWidget(page, 'compare_import_b')]);
    await chooser.setFiles(bad);
    const app = await waitFor(async () => { const a = await page.evaluate(() => window.endoscribe.state()); return a.errors.some((e) => /labels\.json/.test(e)) && a; }, 'the error');
    assert.match(app.errors.find((e) => /labels\.json/.test(e)), /could not be compared: .*Nothing was changed\./);
    const after = await compareState();
    assert.deepEqual(after.annotators, before.annotators);

    // The open case's own bundle as B (several MB: the images ride along): both versions are the same, so every
    // figure is perfect, and kappa is undefined (every image has polyps in both: no chance disagreement).
    await page.evaluate(() => window.endoscribe.annotation.saved());
    await openTab(page, 'tab_image', 'export_bundle', 'compare');
    const [download] = await Promise.all([page.waitForEvent('download'), clickWidget(page, 'export_bundle')]);
    const bundle = path.join(tmp, download.suggestedFilename());
    await download.saveAs(bundle);
    await openTab(page, 'tab_compare', 'compare_import_b', 'compare');
    const [chooser2] = await Promise.all([page.waitForEvent('filechooser'), clickWidget(page, 'compare_import_b')]);
    await chooser2.setFiles(bundle);
    await waitFor(async () => { const c = await compareState(); return c.annotators?.annotator_b_kind === 'case bundle' && c; }, 'the bundle as B');
    await frames();  // the lines shown are those of the last frame drawn
    const s = await compareState();
    assert.equal(s.annotators.metrics.kappa, null);
    assert.match(s.shown.compare_kappa, /^Cohen's kappa \(labels per image\) -, observed agreement 1\.000 /);
    for (const k of ['observed_agreement', 'mean_iou', 'mean_dice', 'object_precision', 'object_recall', 'object_f1', 'matched_mean_iou']) {
      assert.equal(s.annotators.metrics[k], 1, k);
    }
    await page.mouse.move(5, 795);
    await frames();
    saveArtifact('compare-bundle-b.png', await page.screenshot());
    browser.assertClean();
  });

  it("the tab's work (the model's outputs, annotator B) is saved with the case and survives a reload", async () => {
    await frames();
    const before = await compareState();
    assert.equal(before.model_vs_annotations.classification.images, 2);
    assert.equal(before.model_vs_annotations.boxes.model, 1);
    assert.equal(before.annotators.annotator_b_kind, 'case bundle');
    const caseName = (await page.evaluate(() => window.endoscribe.state())).case;
    await page.evaluate(() => window.endoscribe.annotation.saved());  // every write started so far
    await page.reload();
    await page.evaluate(() => window.endoscribe.caseLoaded);
    assert.equal((await page.evaluate(() => window.endoscribe.state())).case, caseName);
    const after = await waitFor(async () => {
      const c = await compareState();
      return c.model_vs_annotations.classification.images === 2 && c.annotators && c;
    }, 'the restored Compare work');
    assert.deepEqual(after.model_vs_annotations, before.model_vs_annotations);
    assert.deepEqual(after.annotators, before.annotators);
    await openTab(page, 'tab_compare', 'compare_import_b', 'compare');
    await frames();
    const shown = (await compareState()).shown;
    assert.equal(shown.compare_accuracy, before.shown.compare_accuracy);
    assert.equal(shown.compare_boxes, 'Matched 1 of 1 model and 4 annotated boxes: precision 1.000, recall 0.250, mean IoU 1.000');
    assert.equal(shown.compare_kappa, before.shown.compare_kappa);
    saveArtifact('compare-after-reload.png', await page.screenshot());

    // Removing B is saved too.
    // (a click can land before the frame that draws the button: again until B is gone)
    await waitFor(async () => {
      if ((await compareState()).annotators === null) return true;
      await clickWidget(page, 'compare_remove_b');
      await frames();
      return (await compareState()).annotators === null;
    }, 'B removed');
    await page.evaluate(() => window.endoscribe.annotation.saved());
    await page.reload();
    await page.evaluate(() => window.endoscribe.caseLoaded);
    const again = await waitFor(async () => { const c = await compareState(); return c.model_vs_annotations.classification.images === 2 && c; }, 'the restored outputs');
    assert.equal(again.annotators, null);
    browser.assertClean();
  });
});
