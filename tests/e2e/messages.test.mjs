// messages.test.mjs: messages for clinicians, end to end. A malformed
// case.json and a corrupt JPEG dropped on the app give banners in plain words
// (no parser exception ids), the technical text behind "Details", a close
// button each; banners stay inside the viewer (never over the toolbar, side
// panel, thumbnails, status bar or a floating window's buttons); the same
// message again is counted, not stacked; more than three are summed up.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e messages tests: ${skip}`);

// Line 3, column 5 is the '}' after the trailing comma.
const BAD_CASE = '{\n  "format": "endoscribe-case",\n    }\n';
const BROKEN_JPEG = [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x13, 0x37];

const inside = ([x, y, w, h], [X, Y, W, H]) => x >= X - 0.5 && y >= Y - 0.5 && x + w <= X + W + 0.5 && y + h <= Y + H + 0.5;
const overlap = ([x, y, w, h], [X, Y, W, H]) => x < X + W && X < x + w && y < Y + H && Y < y + h;

describe('messages', { skip: skip || false, timeout: 120000 }, () => {
  let server, browser, page;
  const state = () => page.evaluate(() => window.endoscribe.state());
  // Polls state() until pred holds, then lets one more frame reach the screen.
  async function waitState(pred, what, timeout = 15000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const s = await state();
      if (pred(s)) {
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        return state();
      }
      if (Date.now() > deadline) {
        saveArtifact('messages-timeout.png', await page.screenshot());
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.messages)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function drop(files) {
    await page.evaluate(async (files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type || '' }));
      const canvas = document.getElementById('canvas');
      for (const type of ['dragenter', 'dragover', 'drop'])
        canvas.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, clientX: 400, clientY: 300 }));
    }, files);
  }
  const text = (s) => Array.from(new TextEncoder().encode(s));
  async function click(name) {
    const s = await waitState((t) => !!t.widgets[name], `widget ${name}`);
    const [x, y, w, h] = s.widgets[name];
    await page.mouse.click(x + w / 2, y + h / 2);
  }
  const bannerOf = (s, re) => s.messages.find((m) => re.test(m.text));
  // Banner controls are recorded under the message's index in state().messages.
  const indexOf = (s, re) => s.messages.findIndex((m) => re.test(m.text));

  before(async () => {
    server = await startServer();
    browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    page = browser.page;
    await page.goto(server.url);
    await page.evaluate(() => window.endoscribe.caseLoaded);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a malformed case.json and a corrupt JPEG: plain words, details apart, inside the viewer', { timeout: 60000 }, async () => {
    const before = await state();
    await drop([
      { name: 'bad-case.json', bytes: text(BAD_CASE), type: 'application/json' },
      { name: 'broken-scan.jpg', bytes: BROKEN_JPEG, type: 'image/jpeg' },
    ]);
    const s = await waitState((t) => t.messages.filter((m) => m.banner >= 0).length >= 2, 'two banners');
    const kase = bannerOf(s, /bad-case\.json/);
    const jpeg = bannerOf(s, /broken-scan\.jpg/);
    assert.equal(kase.text, '"bad-case.json" is not a valid case file, so it was not opened. Nothing else changed.');
    assert.match(kase.details, /^not valid JSON at line 3, column 5: unexpected '}'/);
    assert.equal(jpeg.text, '"broken-scan.jpg" could not be opened: the file is damaged or not an image. Other images are unaffected.');
    assert.ok(jpeg.details.length > 0 && jpeg.details !== jpeg.text);
    for (const m of s.messages) assert.doesNotMatch(`${m.text} ${m.details}`, /json\.exception|parse_error\.\d+/);
    assert.deepEqual(s.errors.slice(before.errors.length).sort(), [kase.text, jpeg.text].sort());
    assert.equal(s.images.length, before.images.length, 'nothing else changed');

    // Rect checks: each banner lies in the viewer, over no fixed panel and
    // none of the floating windows (Annotations tools, Assistant).
    const viewer = s.viewer_rect;
    const others = s.windows.filter((w) => !w.name.startsWith('##message') && w.name !== '##region_catcher');
    for (const slot of [indexOf(s, /bad-case\.json/), indexOf(s, /broken-scan\.jpg/)]) {
      const r = s.widgets[`message_${slot}`];
      assert.ok(r, `banner ${slot} recorded`);
      assert.ok(inside(r, viewer), `banner ${slot} ${JSON.stringify(r)} inside the viewer ${JSON.stringify(viewer)}`);
      for (const w of others) assert.ok(!overlap(r, w.rect), `banner ${slot} covers window ${w.name} ${JSON.stringify(w.rect)}`);
      for (const name of ['open', 'fit', 'one_to_one', 'zoom_in', 'zoom_out', 'brightness', 'thumb_0'])
        if (s.widgets[name]) assert.ok(!overlap(r, s.widgets[name]), `banner ${slot} covers ${name}`);
      assert.ok(s.widgets[`message_close_${slot}`], 'close button');
      assert.ok(s.widgets[`message_details_${slot}`], 'details toggle');
    }
    const [a, b] = [s.widgets[`message_${indexOf(s, /bad-case\.json/)}`], s.widgets[`message_${indexOf(s, /broken-scan\.jpg/)}`]];
    assert.ok(!overlap(a, b), 'banners stack without overlapping');
    assert.equal(jpeg.banner, 0, 'the newest on top');
    saveArtifact('messages-01-two-banners.png', await page.screenshot());
  });

  it('Details shows the technical text; the close button dismisses one banner only', { timeout: 60000 }, async () => {
    let s = await state();
    const slot = indexOf(s, /bad-case\.json/);
    assert.equal(s.widgets[`message_details_text_${slot}`], undefined, 'details hidden at first');
    await click(`message_details_${slot}`);
    s = await waitState((t) => t.messages.some((m) => /bad-case\.json/.test(m.text) && m.details_shown), 'details shown');
    assert.ok(s.widgets[`message_details_text_${slot}`], 'the details text is drawn');
    assert.ok(s.widgets[`message_copy_${slot}`], 'with a Copy button');
    saveArtifact('messages-02-details.png', await page.screenshot());

    const jpegSlot = indexOf(s, /broken-scan\.jpg/);
    await click(`message_close_${jpegSlot}`);
    s = await waitState((t) => t.messages.find((m) => /broken-scan\.jpg/.test(m.text)).dismissed, 'jpeg dismissed');
    assert.equal(bannerOf(s, /broken-scan\.jpg/).banner, -1);
    assert.ok(bannerOf(s, /bad-case\.json/).banner >= 0, 'the other banner stays');
    assert.ok(s.errors.some((e) => /broken-scan\.jpg/.test(e)), 'still in the log');
  });

  it('the same message again is counted; more than three are summed up as "+K more"', { timeout: 60000 }, async () => {
    const bytes = text('not an image at all');
    await drop([{ name: 'notes.txt', bytes }]);
    await waitState((t) => t.messages.some((m) => /notes\.txt/.test(m.text) && m.banner >= 0), 'notes.txt banner');
    await drop([{ name: 'notes.txt', bytes }]);
    let s = await waitState((t) => t.messages.some((m) => /notes\.txt/.test(m.text) && m.count === 2), 'counted twice');
    assert.equal(s.messages.filter((m) => /notes\.txt/.test(m.text)).length, 1, 'one banner for both');
    await drop([{ name: 'a.txt', bytes }, { name: 'b.txt', bytes }, { name: 'c.txt', bytes }]);
    s = await waitState((t) => !!t.widgets.message_more, '+K more');
    const live = s.messages.filter((m) => !m.dismissed).length;
    assert.ok(live >= 5, `${live} undismissed`);
    assert.equal(s.messages.filter((m) => m.banner >= 0).length, 3, 'three banners drawn');
    assert.ok(inside(s.widgets.message_more, s.viewer_rect));
    saveArtifact('messages-03-more.png', await page.screenshot());
    await click('message_close_all');
    s = await waitState((t) => t.messages.every((m) => m.dismissed), 'all closed');
    assert.deepEqual(Object.keys(s.widgets).filter((k) => k.startsWith('message_')), []);
  });

  it('notices leave by themselves, errors stay until closed (JS messages, es_app_report_message)', { timeout: 60000 }, async () => {
    await page.evaluate(() => {
      const M = window.endoscribe.module();
      M.ccall('es_app_report_message', null, ['string', 'string', 'string'], ['error', 'Plain error words.', 'technical error']);
      M.ccall('es_app_report_message', null, ['string', 'string', 'string'], ['notice', 'Plain notice words.', '']);
    });
    let s = await waitState((t) => t.messages.filter((m) => /^Plain (error|notice) words\.$/.test(m.text) && m.banner >= 0).length === 2,
      'both shown');
    const notice = s.messages.findIndex((m) => m.text === 'Plain notice words.');
    assert.equal(s.widgets[`message_details_${notice}`], undefined, 'no Details toggle without details');
    assert.deepEqual(s.messages.find((m) => m.text === 'Plain error words.').details, 'technical error');
    const t0 = Date.now();
    s = await waitState((t) => t.messages.find((m) => m.text === 'Plain notice words.').dismissed, 'the notice leaves', 20000);
    assert.ok(Date.now() - t0 > 5000, 'the notice stayed a while');
    assert.ok(s.messages.find((m) => m.text === 'Plain error words.').banner >= 0, 'the error stays');
    browser.assertClean();
  });
  // ccall puts 'string' arguments on the 5 MiB wasm stack unless the loader
  // routes them through the heap; a case bundle or an undo history is larger.
  it('string arguments larger than the wasm stack reach the core intact', { timeout: 60000 }, async () => {
    const checked = await page.evaluate(() => {
      const M = window.endoscribe.module();
      const big = '{"format": "endoscribe-annotations", "padding": "' + 'a'.repeat(12 << 20) + '"}';
      const ok = M.ccall('es_annotation_check_document', 'number', ['string'], [big]);
      M.ccall('es_app_report_message', null, ['string', 'string', 'string'], ['notice', 'After a 12 MiB argument.', '']);
      return ok;
    });
    assert.equal(checked, 0, 'not an annotation document, and said so');
    const s = await waitState((t) => t.messages.some((m) => m.text === 'After a 12 MiB argument.' && m.banner >= 0),
      'a message after the large argument');
    assert.ok(s.frame > 0);
    browser.assertClean();
  });
});
