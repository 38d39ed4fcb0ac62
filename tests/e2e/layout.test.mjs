// layout.test.mjs: the fixed regions never hide the image. At 1280x800,
// 1024x640 and 1024x640 at device pixel ratio 2: no panel overlaps the viewer
// or another panel, Fit puts the whole image in the viewer (centred, touching
// two sides), the demo lesion is on screen and its pixels are the image's,
// dragging a splitter moves the viewer and Fit follows (the size survives a
// reload; a double-click restores the default), the side panel toggle gives
// the viewer the room, Escape closes a popup (and only that), and a long file
// name is shortened with the full name in a tooltip.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e layout tests: ${skip}`);

// The fixed regions (ui/layout.h); message banners sit inside the viewer on
// purpose and tooltips/popups come and go with the mouse.
const REGIONS = ['##toolbar', '##tools', '##side', '##thumbnails', '##status', '##split_side', '##split_thumbs'];
const TRANSIENT = /^(##message|##Tooltip|##Combo|##Popup|##Menu)/;

const overlaps = ([ax, ay, aw, ah], [bx, by, bw, bh]) =>
  ax < bx + bw - 0.5 && bx < ax + aw - 0.5 && ay < by + bh - 0.5 && by < ay + ah - 0.5;
const inside = ([ix, iy, iw, ih], [ox, oy, ow, oh], tol = 0.5) =>
  ix >= ox - tol && iy >= oy - tol && ix + iw <= ox + ow + tol && iy + ih <= oy + oh + tol;

describe('layout', { skip: skip || false, timeout: 300000 }, () => {
  let server, demoCase;
  before(async () => {
    server = await startServer();
    demoCase = await (await fetch(server.url + 'demo/case.json')).json();
  });
  after(async () => { if (server) await server.stop(); });

  async function openApp(viewport, deviceScaleFactor) {
    const browser = await launchBrowser({ viewport, deviceScaleFactor });
    const { page } = browser;
    await page.goto(server.url);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    // A page of the same origin without the app decodes PNGs for comparisons.
    const decoder = await browser.context.newPage();
    await decoder.goto(server.url + 'manifest.webmanifest');
    await decoder.evaluate(() => {
      window.decode = async (blob) => {
        const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const ctx = c.getContext('2d');
        ctx.drawImage(bmp, 0, 0);
        return ctx.getImageData(0, 0, bmp.width, bmp.height);
      };
      window.decodeBase64 = (b64) => window.decode(new Blob([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))]));
    });
    await page.bringToFront();
    return { browser, page, decoder };
  }

  const stateOf = (page) => page.evaluate(() => window.endoscribe.state());
  // The state once the view, the regions and the windows stopped changing.
  async function settled(page, pred = () => true, what = 'the layout') {
    let last = null;
    for (let i = 0; i < 100; i++) {
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const s = await stateOf(page);
      const key = JSON.stringify([s.view, s.viewer_rect, s.windows.filter((w) => !TRANSIENT.test(w.name))]);
      if (pred(s) && key === last) return s;
      last = pred(s) ? key : null;
      await page.waitForTimeout(60);
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await stateOf(page))}`);
  }
  async function click(page, name) {
    const s = await settled(page, (t) => !!t.widgets[name], `widget ${name}`);
    const [x, y, w, h] = s.widgets[name];
    await page.mouse.click(x + w / 2, y + h / 2);
  }

  function checkRegions(s, label) {
    const byName = Object.fromEntries(s.windows.map((w) => [w.name, w.rect]));
    const canvas = [0, 0, s.canvas.css_width, s.canvas.css_height];
    for (const name of REGIONS) {
      if (!byName[name]) continue;  // e.g. the side panel when hidden
      assert.ok(inside(byName[name], canvas), `${label}: ${name} ${byName[name]} inside the canvas`);
    }
    for (const w of s.windows) {
      if (TRANSIENT.test(w.name)) continue;
      assert.ok(!overlaps(w.rect, s.viewer_rect), `${label}: window ${w.name} ${w.rect} overlaps the viewer ${s.viewer_rect}`);
    }
    const regions = s.windows.filter((w) => REGIONS.includes(w.name));
    for (let i = 0; i < regions.length; i++)
      for (let j = i + 1; j < regions.length; j++)
        assert.ok(!overlaps(regions[i].rect, regions[j].rect), `${label}: ${regions[i].name} overlaps ${regions[j].name}`);
    for (const w of s.windows.filter((w) => /^##message/.test(w.name)))
      assert.ok(inside(w.rect, s.viewer_rect), `${label}: banner ${w.name} ${w.rect} inside the viewer ${s.viewer_rect}`);
    for (const [name, r] of Object.entries(s.widgets))
      assert.ok(inside(r, canvas), `${label}: control ${name} ${r} on the canvas`);
  }

  // Fit: the whole image inside the viewer, centred, touching two opposite sides.
  function checkFitted(s, label) {
    const img = s.images[s.current];
    const [vx, vy, vw, vh] = s.viewer_rect;
    const x0 = s.view.offset_x, y0 = s.view.offset_y;
    const x1 = x0 + s.view.scale * img.width, y1 = y0 + s.view.scale * img.height;
    assert.ok(inside([x0, y0, x1 - x0, y1 - y0], s.viewer_rect), `${label}: image [${x0}, ${y0}, ${x1}, ${y1}] in viewer ${s.viewer_rect}`);
    assert.ok(Math.abs((x0 - vx) - (vx + vw - x1)) < 1 && Math.abs((y0 - vy) - (vy + vh - y1)) < 1, `${label}: centred`);
    assert.ok(Math.abs(x1 - x0 - vw) < 1 || Math.abs(y1 - y0 - vh) < 1, `${label}: touches two sides`);
  }

  // The demo image's lesion: on screen, nothing over it, its pixels the image's.
  async function checkLesion(page, decoder, s, label, file) {
    const img = s.images[s.current];
    const lesion = demoCase.images.find((i) => i.file === img.name).lesions[0];
    const [bx0, by0, bx1, by1] = lesion.box;
    const { scale, offset_x: ox, offset_y: oy } = s.view;
    const rect = [ox + scale * bx0, oy + scale * by0, scale * (bx1 - bx0), scale * (by1 - by0)];
    assert.ok(inside(rect, s.viewer_rect, 0), `${label}: lesion ${rect} inside the viewer ${s.viewer_rect}`);
    for (const w of s.windows)
      assert.ok(!overlaps(w.rect, rect), `${label}: window ${w.name} covers the lesion`);
    const png = await page.screenshot();
    saveArtifact(file, png);
    const dpr = s.canvas.dpr;
    const pairs = await decoder.evaluate(async ({ b64, imageUrl, box, scale, ox, oy, dpr }) => {
      const shot = await window.decodeBase64(b64);
      const demo = await window.decode(await (await fetch(imageUrl)).blob());
      const px = (d, x, y) => Array.from(d.data.slice((y * d.width + x) * 4, (y * d.width + x) * 4 + 3));
      const out = [];
      for (let i = 1; i <= 6; i++) {
        for (let j = 1; j <= 6; j++) {
          const ix = Math.floor(box[0] + (box[2] - box[0]) * i / 7), iy = Math.floor(box[1] + (box[3] - box[1]) * j / 7);
          const sx = Math.floor(dpr * (ox + scale * (ix + 0.5))), sy = Math.floor(dpr * (oy + scale * (iy + 0.5)));
          // The screen pixel shows texel (ix, iy), or (zoomed out, filtered)
          // a blend of it and its neighbours: its colour lies in their range.
          const lo = [255, 255, 255], hi = [0, 0, 0];
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++)
              px(demo, ix + dx, iy + dy).forEach((v, k) => { lo[k] = Math.min(lo[k], v); hi[k] = Math.max(hi[k], v); });
          out.push({ ix, iy, sx, sy, lo, hi, screen: px(shot, sx, sy) });
        }
      }
      return out;
    }, { b64: png.toString('base64'), imageUrl: server.url + 'demo/' + img.name, box: lesion.box, scale, ox, oy, dpr });
    assert.equal(pairs.length, 36);
    const bad = pairs.filter((p) => p.screen.some((v, k) => v < p.lo[k] - 3 || v > p.hi[k] + 3));
    assert.deepEqual(bad.map((p) => `image (${p.ix},${p.iy}) ${p.lo}..${p.hi} but screen (${p.sx},${p.sy}) ${p.screen}`), [],
      `${label}: lesion pixels differ from the image`);
  }

  async function drag(page, name, dx, dy) {
    const s = await settled(page, (t) => !!t.widgets[name], `widget ${name}`);
    const [x, y, w, h] = s.widgets[name];
    const cx = x + w / 2, cy = y + h / 2;
    await page.mouse.move(cx, cy);
    // The pointer says the bar can be dragged.
    const cursor = dx !== 0 ? 'ew-resize' : 'ns-resize';
    await page.waitForFunction((c) => document.getElementById('canvas').style.cursor === c, cursor, { timeout: 5000, polling: 50 });
    await page.mouse.down();
    await page.mouse.move(cx + dx, cy + dy, { steps: 8 });
    await page.mouse.up();
  }

  const sizes = [
    { label: '1280x800', viewport: { width: 1280, height: 800 }, dpr: 1 },
    { label: '1024x640', viewport: { width: 1024, height: 640 }, dpr: 1 },
    { label: '1024x640@2x', viewport: { width: 1024, height: 640 }, dpr: 2 },
  ];
  for (const { label, viewport, dpr } of sizes) {
    it(`keeps the image clear at ${label}: regions, Fit, the lesion, splitters, toggle, Escape`, { timeout: 120000 }, async () => {
      const { browser, page, decoder } = await openApp(viewport, dpr);
      try {
        let s = await settled(page, (t) => t.images.length >= 3 && t.current === 0, 'the demo case');
        assert.equal(s.canvas.dpr, dpr);
        assert.equal(s.canvas.css_width, viewport.width);
        checkRegions(s, `${label} start`);
        checkFitted(s, `${label} start`);
        // The viewer keeps a usable share of the window.
        assert.ok(s.viewer_rect[2] >= 0.5 * viewport.width && s.viewer_rect[3] >= 0.6 * viewport.height,
          `${label}: viewer ${s.viewer_rect} too small`);
        await checkLesion(page, decoder, s, `${label} start`, `layout-${label}.png`);

        // Splitters: a narrower viewer and a shorter one; the fitted view follows.
        const before = s.viewer_rect;
        await drag(page, 'split_side', -120, 0);
        s = await settled(page, (t) => Math.abs(t.viewer_rect[2] - (before[2] - 120)) <= 2, 'the side splitter');
        await drag(page, 'split_thumbs', 0, -60);
        s = await settled(page, (t) => Math.abs(t.viewer_rect[3] - (before[3] - 60)) <= 2, 'the thumbnail splitter');
        checkRegions(s, `${label} after dragging`);
        checkFitted(s, `${label} after dragging`);
        await checkLesion(page, decoder, s, `${label} after dragging`, `layout-${label}-dragged.png`);
        // Zoomed in, then Fit: back to the new viewer rect.
        await click(page, 'zoom_in');
        await settled(page, (t) => !t.view.auto_fit, 'zoom in');
        await click(page, 'fit');
        s = await settled(page, (t) => t.view.auto_fit, 'Fit');
        checkFitted(s, `${label} Fit after zoom`);
        const dragged = s.viewer_rect;

        // Hiding the side panel gives its room to the viewer; showing it brings it back.
        await click(page, 'side_toggle');
        s = await settled(page, (t) => t.viewer_rect[2] > dragged[2] + 100, 'the panel hidden');
        assert.ok(!s.windows.some((w) => w.name === '##side'), 'side panel hidden');
        checkRegions(s, `${label} panel hidden`);
        checkFitted(s, `${label} panel hidden`);
        saveArtifact(`layout-${label}-panel-hidden.png`, await page.screenshot());
        await click(page, 'side_toggle');
        s = await settled(page, (t) => t.viewer_rect[2] === dragged[2], 'the panel shown again');

        // Escape closes an open combo (the label picker) and does nothing
        // else: the box just drawn stays selected; the next Escape deselects it.
        const annotation = () => page.evaluate(() => window.endoscribe.annotation.state());
        await click(page, 'tool_Box');
        await settled(page, () => true);
        const [vx, vy] = s.viewer_rect;
        await page.mouse.move(vx + 40, vy + 40);
        await page.mouse.down();
        await page.mouse.move(vx + 140, vy + 110, { steps: 6 });
        await page.mouse.up();
        await settled(page, () => true);
        const drawn = (await annotation()).selected;
        assert.ok(drawn > 0, `${label}: a box drawn and selected`);
        await click(page, 'label');
        s = await settled(page, (t) => t.windows.some((w) => w.name.startsWith('##Combo')), 'the label list');
        saveArtifact(`layout-${label}-popup.png`, await page.screenshot());
        await page.keyboard.press('Escape');
        s = await settled(page, (t) => !t.windows.some((w) => w.name.startsWith('##Combo')), 'the popup closed by Escape');
        assert.equal((await annotation()).selected, drawn, `${label}: the Escape that closed the popup kept the selection`);
        await page.mouse.move(vx + 200, vy + 200);
        await page.keyboard.press('Escape');
        await settled(page, () => true);
        assert.equal((await annotation()).selected, 0, `${label}: a second Escape deselects`);

        // The splitter sizes are the user's: they survive a reload.
        await page.reload();
        await page.evaluate(() => window.endoscribe.caseLoaded);
        s = await settled(page, (t) => t.images.length >= 3, 'the reloaded case');
        assert.deepEqual(s.viewer_rect.map(Math.round), dragged.map(Math.round), `${label}: sizes kept after reload`);
        // Double-clicking a splitter puts its default size back.
        for (const name of ['split_side', 'split_thumbs']) {
          const [x, y, w, h] = s.widgets[name];
          await page.mouse.dblclick(x + w / 2, y + h / 2);
          s = await settled(page, (t) => t.widgets[name][name === 'split_side' ? 0 : 1] !== (name === 'split_side' ? x : y), `${name} reset`);
        }
        assert.deepEqual(s.viewer_rect, before, `${label}: default sizes after double-clicks`);
        checkFitted(s, `${label} default sizes`);
        browser.assertClean();
      } finally {
        await browser.close();
      }
    });
  }

  it('shortens a long file name in the panels, with the whole name in a tooltip', { timeout: 60000 }, async () => {
    const { browser, page } = await openApp({ width: 1024, height: 640 }, 1);
    try {
      await settled(page, (t) => t.images.length >= 3, 'the demo case');
      const bytes = await (await fetch(server.url + 'demo/image-2.png')).arrayBuffer();
      const name = 'sigmoid-colon-polypectomy-site-after-resection-follow-up-2026-11-30-image-0042.png';
      // Opened over the demo, the two images start a case of their own: the long name first, then a short one.
      const short = await (await fetch(server.url + 'demo/image-3.png')).arrayBuffer();
      await page.setInputFiles('#file-input', [{ name, mimeType: 'image/png', buffer: Buffer.from(bytes) },
        { name: 'short.png', mimeType: 'image/png', buffer: Buffer.from(short) }]);
      let s = await settled(page, (t) => t.images[t.current]?.name === name && !!t.widgets.image_name, 'the long-named image');
      const [x, y, w, h] = s.widgets.image_name;
      // One line, shortened to the side panel's width (not wrapped, not cut off at its edge).
      const side = s.windows.find((w) => w.name === '##side').rect;
      assert.ok(inside(s.widgets.image_name, side) && h < 20, `name ${s.widgets.image_name} in one line in the panel ${side}`);
      await page.mouse.move(x + w / 2, y + h / 2);
      s = await settled(page, (t) => t.windows.some((w) => w.name.startsWith('##Tooltip')), 'the tooltip');
      const tip = s.windows.find((w) => w.name.startsWith('##Tooltip'));
      assert.ok(tip.rect[2] > w, `tooltip ${tip.rect} wider than the shortened name ${s.widgets.image_name}`);
      saveArtifact('layout-long-name.png', await page.screenshot());
      // A short name gets no tooltip.
      await page.mouse.move(5, 5);
      await settled(page, (t) => t.images.length === 2 && !!t.widgets.thumb_1, 'the short-named image');
      await click(page, 'thumb_1');
      s = await settled(page, (t) => t.images[t.current]?.name === 'short.png' && !!t.widgets.image_name, 'the short-named image');
      const r = s.widgets.image_name;
      await page.mouse.move(r[0] + r[2] / 2, r[1] + r[3] / 2);
      await page.waitForTimeout(800);
      s = await settled(page);
      assert.ok(!s.windows.some((w) => w.name.startsWith('##Tooltip')), 'no tooltip for a name that fits');
      browser.assertClean();
    } finally {
      await browser.close();
    }
  });
});
