// cases.test.mjs: named cases end to end in headless Chromium (SwiftShader
// WebGPU), through the Case menu's real controls: images opened over the demo
// start a new case (two real Kvasir-SEG frames, or the demo PNGs when the data
// set is absent), rename, a second case, switching (each shows its own images
// and annotations), export file names, two different files with one name stay
// two images (the same file twice is one), the read-only demo (a change goes
// into a copy; the demo is never written; a reload with saved cases does not
// open it), current image / zoom / levels / undo back after a reload, delete
// with confirmation, and a version-1 database migrated into a named case.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir, repoRoot, freeViewerPoint } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e case tests: ${skip}`);
const KVASIR = path.join(process.env.ES_DATASETS || path.resolve(repoRoot, '../shared/datasets'), 'kvasir-seg/images');
const kvasirFiles = fs.existsSync(KVASIR)
  ? fs.readdirSync(KVASIR).filter((f) => /\.jpe?g$/i.test(f)).map((f) => path.join(KVASIR, f))
    .sort((a, b) => fs.statSync(a).size - fs.statSync(b).size).slice(0, 2)
  : [];
if (!kvasirFiles.length) console.log(`# cases: ${KVASIR} absent: the demo PNGs stand in for real frames`);

describe('cases', { skip: skip || false, timeout: 300000 }, () => {
  let server, browser, page;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-cases-'));
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const annState = () => page.evaluate(() => window.endoscribe.annotation.state());
  const session = () => page.evaluate(() => ({ current: window.endoscribe.cases.current, images: window.endoscribe.cases.images }));
  const waitFor = async (fn, what, timeout = 30000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) throw new Error('timed out waiting for ' + what);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // Two frames drawn (or the page navigated away meanwhile: a case action reloads it).
  const frames = (p = page) => p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
    .catch((e) => { if (!/context was destroyed|navigation/i.test(e.message)) throw e; });

  async function loaded(p = page) {
    await p.evaluate(() => window.endoscribe.caseLoaded);
    await p.waitForFunction(() => window.endoscribe.annotation && window.endoscribe.annotation.state() &&
      window.endoscribe.cases && window.endoscribe.cases.current !== undefined);
    await frames(p);
  }
  async function reload() {
    await page.evaluate(() => window.endoscribe.annotation.saved());
    await page.reload();
    await loaded();
  }
  // Case actions that reload the page (switch, open demo, delete).
  async function clickAndReload(widget) {
    await Promise.all([page.waitForEvent('load', { timeout: 20000 }), clickWidget(widget)]).catch(async (e) => {
      saveArtifact(`cases-failed-${widget}.png`, await page.screenshot());
      throw e;
    });
    await loaded();
  }

  // A click as a person makes it: move, then press and release on later frames
  // (on a busy machine a burst of events can otherwise land in one frame).
  async function clickWidget(name) {
    const s = await waitFor(async () => { await frames(); const t = await appState(); return t.widgets[name] && t; }, `widget ${name}`, 5000)
      .catch(async () => { throw new Error(`widget ${name} not on screen (${Object.keys((await appState()).widgets).join(', ')})`); });
    const r = s.widgets[name];
    await page.mouse.move(r[0] + r[2] / 2, r[1] + r[3] / 2);
    await frames();
    await page.mouse.down();
    await frames();
    await page.mouse.up();
    await frames();
  }
  async function menu(widget) {
    await clickWidget('case_menu');
    await clickWidget(widget);
  }
  async function openFiles(files) {
    const n0 = (await appState()).images.length;
    await page.setInputFiles('#file-input', files);
    await waitFor(async () => (await session()).current && !(await session()).current.readOnly, 'a writable case');
    await page.evaluate(() => window.endoscribe.annotation.saved());
    return n0;
  }
  // Draws a box with the Box tool by mouse; -> the new annotation's bounds.
  async function drawBox(dx = 0) {
    await page.evaluate(() => window.endoscribe.module().ccall('es_annotation_set_tool', 'number', ['string'], ['Box']));
    const s = await appState();
    const [vx, vy, vw, vh] = s.viewer_rect;
    const [x, y] = freeViewerPoint(s, [vx + vw / 2 - 40 + dx, vy + vh / 2 - 30]);
    const img = s.images[s.current].name;
    const n = ((await annState()).images[img]?.annotations || []).length;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + 50, y + 36, { steps: 4 });
    await page.mouse.up();
    const st = await waitFor(async () => { const a = await annState(); return (a.images[img]?.annotations || []).length === n + 1 && a; }, 'the box');
    return { image: img, bounds: st.images[img].annotations[n].bounds };
  }
  async function capture(widget) {
    await clickWidget('case_menu');
    const [download] = await Promise.all([page.waitForEvent('download'), clickWidget(widget)]);
    const file = path.join(tmp, download.suggestedFilename());
    await download.saveAs(file);
    return { name: download.suggestedFilename(), file };
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    if (process.env.ES_DEBUG) browser.page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    page = browser.page;
    await page.goto(server.url);
    await loaded();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const demoPng = (n) => path.join(appDir, 'demo', `image-${n}.png`);
  let firstCase, firstBox, firstImages;

  it('a fresh browser shows the read-only demo; images opened over it start a new case', async () => {
    let ses = await session();
    assert.equal(ses.current.readOnly, true, 'the demo is read-only');
    assert.equal((await appState()).case, 'Demo case (synthetic)');
    const files = kvasirFiles.length ? kvasirFiles : [demoPng(1), demoPng(2)];
    await openFiles(files);
    const s = await waitFor(async () => { const a = await appState(); return a.images.length === files.length && a; }, 'the opened images');
    assert.deepEqual(s.images.map((i) => i.name), files.map((f) => path.basename(f)), 'only the opened images: the demo images are not mixed in');
    ses = await session();
    assert.equal(ses.current.readOnly, false);
    assert.match(ses.current.name, /^Case \d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.equal(s.case, ses.current.name, 'the toolbar shows the new case');
    firstImages = s.images.map((i) => i.name);
    firstBox = await drawBox();
    firstCase = ses.current.id;
    saveArtifact('cases-new-case.png', await page.screenshot());
  });

  it('renames the case inline from the Case menu; exports are named after it', async () => {
    await clickWidget('case_menu');
    await clickWidget('case_rename_field');
    await page.keyboard.press('Control+A');
    // The app takes one key transition per frame: type at a human pace.
    await page.keyboard.type('Colonoscopy 12/3: polyp follow-up', { delay: 20 });
    await page.waitForTimeout(400);
    await page.keyboard.press('Enter');
    await waitFor(async () => (await appState()).case === 'Colonoscopy 12/3: polyp follow-up', 'the new name');
    saveArtifact('cases-menu.png', await page.screenshot());
    await page.keyboard.press('Escape');
    await frames();
    assert.ok(!(await appState()).widgets.case_new, 'Escape closed the menu');
    const bundle = await capture('case_export_bundle');
    assert.equal(bundle.name, 'Colonoscopy-12-3-polyp-follow-up.endoscribe.json');
    const b = JSON.parse(fs.readFileSync(bundle.file, 'utf8'));
    assert.deepEqual(b.images.map((i) => i.name), firstImages, 'the bundle carries this case\'s images only');
    const coco = await capture('case_export_coco');
    assert.equal(coco.name, 'Colonoscopy-12-3-polyp-follow-up-coco.json');
    assert.equal(JSON.parse(fs.readFileSync(coco.file, 'utf8')).annotations.length, 1);
  });

  it('two different files with one name are two images; the same file twice is one', async () => {
    await menu('case_new');
    await waitFor(async () => { const s = await session(); return s.current.id !== firstCase && s.current.name !== 'Colonoscopy 12/3: polyp follow-up'; }, 'the new case');
    assert.equal((await appState()).images.length, 0, 'a new case starts empty');
    const a = path.join(tmp, 'a'), b = path.join(tmp, 'b');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.copyFileSync(demoPng(3), path.join(a, 'frame.png'));
    fs.copyFileSync(demoPng(4), path.join(b, 'frame.png'));
    await openFiles([path.join(a, 'frame.png')]);
    await openFiles([path.join(b, 'frame.png')]);
    await openFiles([path.join(a, 'frame.png')]);
    const s = await waitFor(async () => { const x = await appState(); return x.images.length === 2 && x; }, 'two images');
    await page.waitForTimeout(300);
    assert.deepEqual((await appState()).images.map((i) => i.name), ['frame.png', 'frame (2).png']);
    const ses = await session();
    assert.equal(new Set(ses.images.map((i) => i.hash)).size, 2);
    assert.ok(ses.images.every((i) => /^[0-9a-f]{64}$/.test(i.hash)), 'keyed by SHA-256');
    // Annotations stay with their own image.
    await page.evaluate(() => window.endoscribe.module()._es_app_select_image(1));
    const box = await drawBox();
    assert.equal(box.image, 'frame (2).png');
    const st = await annState();
    assert.equal((st.images['frame.png']?.annotations || []).length, 0);
    assert.equal(s.images[0].width, 640);
  });

  it('switches between cases from the list: each shows its own images and annotations', async () => {
    const second = (await session()).current.id;
    const list = await page.evaluate(() => window.endoscribe.cases.store.listCases());
    assert.equal(list.length, 2);
    const index = list.findIndex((c) => c.id === firstCase);
    await clickWidget('case_menu');
    await clickAndReload(`case_item_${index}`);
    let s = await appState();
    assert.equal(s.case, 'Colonoscopy 12/3: polyp follow-up');
    assert.deepEqual(s.images.map((i) => i.name), firstImages);
    let st = await annState();
    assert.deepEqual(st.images[firstBox.image].annotations.map((a) => a.bounds), [firstBox.bounds]);
    const back = (await page.evaluate(() => window.endoscribe.cases.store.listCases())).findIndex((c) => c.id === second);
    await clickWidget('case_menu');
    await clickAndReload(`case_item_${back}`);
    s = await appState();
    assert.deepEqual(s.images.map((i) => i.name), ['frame.png', 'frame (2).png']);
    st = await annState();
    assert.equal(st.images['frame (2).png'].annotations.length, 1);
    assert.ok(!st.images[firstBox.image], 'no annotation of the other case');
  });

  it('brings back the current image, zoom, levels and undo after a reload', async () => {
    await page.evaluate(() => window.endoscribe.module()._es_app_select_image(1));
    await drawBox(60);
    await clickWidget('zoom_in');
    await clickWidget('zoom_in');
    const r = (await appState()).widgets.brightness;
    await page.mouse.click(r[0] + r[2] * 0.55, r[1] + r[3] / 2);  // the slider (its label is on the right)
    const before = await waitFor(async () => { const a = await appState(); return a.levels.brightness > 0.1 && !a.view.auto_fit && a; }, 'zoom and levels');
    const undoBefore = (await annState()).undo;
    await page.waitForTimeout(900);  // the view is saved when it changes (polled)
    await reload();
    const after = await appState();
    assert.equal(after.current, 1, 'the same image is shown');
    assert.ok(Math.abs(after.view.scale - before.view.scale) < 1e-9, `zoom ${after.view.scale} vs ${before.view.scale}`);
    assert.ok(Math.abs(after.view.offset_x - before.view.offset_x) < 1e-6);
    assert.equal(after.view.auto_fit, false);
    assert.deepEqual(after.levels, before.levels);
    let st = await annState();
    assert.equal(st.can_undo, true, 'undo history restored');
    assert.equal(st.undo, undoBefore);
    assert.equal(st.images['frame (2).png'].annotations.length, 2);
    await clickWidget('ann_undo');
    await clickWidget('ann_undo');
    st = await waitFor(async () => { const a = await annState(); return a.images['frame (2).png'].annotations.length === 0 && a; }, 'two undos after reload');
    assert.equal(st.can_redo, true);
    await page.evaluate(() => window.endoscribe.annotation.saved());
  });

  it('the demo case is read-only: a change goes into a copy and the demo is never written', async () => {
    await clickWidget('case_menu');
    await clickAndReload('case_open_demo');
    let ses = await session();
    assert.equal(ses.current.readOnly, true);
    const st0 = await annState();
    const n0 = (st0.images['image-1.png']?.annotations || []).length;
    await drawBox();
    ses = await waitFor(async () => { const x = await session(); return !x.current.readOnly && x; }, 'the copy');
    assert.match(ses.current.name, /^Demo copy /);
    const notices = (await appState()).notices;
    assert.ok(notices.some((n) => /demo case is read-only/.test(n)), notices.join('\n'));
    saveArtifact('cases-demo-copy.png', await page.screenshot());
    // A reload with saved cases opens the case open last, not the demo.
    await reload();
    assert.match((await appState()).case, /^Demo copy /);
    assert.equal((await annState()).images['image-1.png'].annotations.length, n0 + 1);
    // The demo itself is unchanged.
    await clickWidget('case_menu');
    await clickAndReload('case_open_demo');
    assert.equal((await session()).current.readOnly, true);
    assert.equal(((await annState()).images['image-1.png']?.annotations || []).length, n0);
  });

  it('deletes a case after a confirmation that names it; the demo does not come back over saved cases', async () => {
    const list = await page.evaluate(() => window.endoscribe.cases.store.listCases());
    const first = list.findIndex((c) => c.id === firstCase);
    await clickWidget('case_menu');
    await clickAndReload(`case_item_${first}`);
    await menu('case_delete');
    await frames();
    const s = await appState();
    assert.ok(s.windows.some((w) => w.name === 'Delete case?'), 'a confirmation popup');
    saveArtifact('cases-delete-confirm.png', await page.screenshot());
    await clickWidget('case_delete_cancel');
    await frames();
    assert.equal((await session()).current.id, firstCase, 'Cancel keeps the case');
    await menu('case_delete');
    await clickAndReload('case_delete_confirm');
    const left = await page.evaluate(() => window.endoscribe.cases.store.listCases());
    assert.equal(left.length, list.length - 1);
    assert.ok(!left.some((c) => c.id === firstCase));
    const ses = await session();
    assert.equal(ses.current.readOnly, false, 'another saved case opened, not the demo');
    assert.equal(ses.current.id, left[0].id);
    browser.assertClean();
  });

  it('says plainly when the browser storage is full, and keeps the work on screen', async () => {
    await page.evaluate(() => {
      window.__put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
    });
    const box = await drawBox(-80);
    const st = await waitFor(async () => { const a = await annState(); return a.storage.error && a; }, 'the storage error');
    assert.match(st.storage.status, /storage for EndoScribe is full: the last change is NOT saved\. Export the case now/);
    assert.ok((await appState()).errors.some((e) => /storage for EndoScribe is full/.test(e)), 'an error banner');
    assert.ok(st.images[box.image].annotations.some((a) => JSON.stringify(a.bounds) === JSON.stringify(box.bounds)), 'the box stays');
    saveArtifact('cases-storage-full.png', await page.screenshot());
    await page.evaluate(() => { IDBObjectStore.prototype.put = window.__put; });
    await drawBox(-40);
    await waitFor(async () => { const a = await annState(); return !a.storage.error && /^Saved/.test(a.storage.status) && a; }, 'saving again');
    await reload();
    const after = await annState();
    assert.ok(after.images[box.image].annotations.some((a) => JSON.stringify(a.bounds) === JSON.stringify(box.bounds)),
      'the change made while full is saved with the next one');
  });

  it('a case saved by the previous version (one case, images keyed by name) becomes a named case', async () => {
    const old = await launchBrowser();
    try {
      const p = old.page;
      await p.goto(server.url + 'manifest.webmanifest');
      const bytes = fs.readFileSync(demoPng(2)).toString('base64');
      await p.evaluate(async (b64) => {
        const db = await new Promise((res, rej) => {
          const r = indexedDB.open('endoscribe-case', 1);
          r.onupgradeneeded = () => { r.result.createObjectStore('images', { keyPath: 'name' }); r.result.createObjectStore('document'); };
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        const tx = db.transaction(['images', 'document'], 'readwrite');
        tx.objectStore('images').put({ name: 'old.png', order: 0, bytes: Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)) });
        await new Promise((r) => { tx.oncomplete = r; });
        db.close();
      }, bytes);
      await p.goto(server.url);
      await loaded(p);
      const s = await p.evaluate(() => window.endoscribe.state());
      assert.equal(s.case, 'Case restored from the previous version');
      assert.deepEqual(s.images.map((i) => i.name), ['old.png']);
      old.assertClean();
    } finally {
      await old.close();
    }
  });
});
