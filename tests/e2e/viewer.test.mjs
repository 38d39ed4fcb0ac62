// viewer.test.mjs: the app end to end in headless Chromium (SwiftShader
// WebGPU), served by the real server. Pixels on screen are checked against the
// demo image decoded independently by the browser (createImageBitmap), mapped
// through the view transform the app reports; zoom and pan use real mouse
// events; levels are set through the real sliders with the keyboard.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, freeViewerPoint } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e viewer tests: ${skip}`);

// The formula of src/image/image_levels.h, for one 8-bit channel.
function levels8(v, { brightness, contrast, gamma }) {
  const c = v / 255;
  let x = Math.min(1, Math.max(0, (c - 0.5) * contrast + 0.5 + brightness));
  const out = x <= 0 ? 0 : Math.pow(x, 1 / gamma);
  return Math.floor(out * 255 + 0.5);
}

describe('viewer', { skip: skip || false, timeout: 150000 }, () => {
  let server, browser, page, decoder;
  const IMAGE_FILE = 'image-1.png';

  // Decodes PNGs in a separate page of the same origin (no app code there).
  async function openDecoder() {
    decoder = await browser.context.newPage();
    await decoder.goto(server.url + 'manifest.webmanifest');
    await decoder.evaluate(async (file) => {
      const decode = async (blob) => {
        const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const ctx = c.getContext('2d');
        ctx.drawImage(bmp, 0, 0);
        return ctx.getImageData(0, 0, bmp.width, bmp.height);
      };
      // (The server's CSP allows no data: fetches, so build the blob by hand.)
      window.decodeBase64 = async (b64) => decode(new Blob([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))]));
      window.demo = await decode(await (await fetch('demo/' + file)).blob());
    }, IMAGE_FILE);
    // A page in the background gets ~2 frames a second: bring the app back.
    await page.bringToFront();
  }

  // Screenshot of the app, saved as an artefact, decoded in the decoder page.
  async function screenshot(name) {
    const png = await page.screenshot();
    saveArtifact(name, png);
    await decoder.evaluate(async (b64) => { window.shot = await window.decodeBase64(b64); }, png.toString('base64'));
  }

  // For screen pixels (sx, sy) inside the image: the screen colour and the
  // demo image's colour at the texel the view transform puts there.
  async function samplePairs(points, state) {
    const { scale, offset_x: ox, offset_y: oy } = state.view;
    return decoder.evaluate(({ points, scale, ox, oy }) => points.map(([sx, sy]) => {
      const s = window.shot, d = window.demo;
      const si = (sy * s.width + sx) * 4;
      const ix = Math.floor((sx + 0.5 - ox) / scale), iy = Math.floor((sy + 0.5 - oy) / scale);
      const di = (iy * d.width + ix) * 4;
      return { sx, sy, ix, iy, screen: [s.data[si], s.data[si + 1], s.data[si + 2]],
        image: [d.data[di], d.data[di + 1], d.data[di + 2]] };
    }), { points, scale, ox, oy });
  }

  // Screen points on a grid over the part of the image visible in the viewer,
  // kept a couple of pixels away from texel edges so rounding cannot flip them.
  function gridPoints(state, n = 7, top = 120) {
    const { scale, offset_x: ox, offset_y: oy } = state.view;
    const img = state.images[state.current];
    const [vx, vy, vw, vh] = state.viewer_rect;
    const x0 = Math.max(vx, ox) + 4, x1 = Math.min(vx + vw, ox + scale * img.width) - 4;
    const y0 = Math.max(vy + top, oy) + 4, y1 = Math.min(vy + vh, oy + scale * img.height) - 4;  // below message banners
    const pts = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let sx = Math.floor(x0 + (x1 - x0) * (i + 0.5) / n), sy = Math.floor(y0 + (y1 - y0) * (j + 0.5) / n);
        // Move to the middle of the texel under (sx, sy).
        const ix = Math.floor((sx + 0.5 - ox) / scale), iy = Math.floor((sy + 0.5 - oy) / scale);
        sx = Math.floor(ox + scale * (ix + 0.5)); sy = Math.floor(oy + scale * (iy + 0.5));
        const covered = (state.windows || []).some(({ rect: [wx, wy, ww, wh] }) =>
          sx >= wx && sy >= wy && sx < wx + ww && sy < wy + wh);  // floating panels
        if (sx >= x0 && sx < x1 && sy >= y0 && sy < y1 && !covered) pts.push([sx, sy]);
      }
    }
    return pts;
  }

  async function checkPixels(state, levels = null, label = '', top = 120) {
    state = await settled(state);
    const pairs = await samplePairs(gridPoints(state, 7, top), state);
    assert.ok(pairs.length >= 20, `${label}: too few sample points (${pairs.length})`);
    let bad = [];
    for (const p of pairs) {
      const want = levels ? p.image.map((v) => levels8(v, levels)) : p.image;
      const diff = Math.max(...want.map((v, k) => Math.abs(v - p.screen[k])));
      if (diff > 2) bad.push(`screen (${p.sx},${p.sy}) = ${p.screen} but image (${p.ix},${p.iy}) gives ${want}`);
    }
    assert.deepEqual(bad, [], `${label}: ${bad.length}/${pairs.length} pixels differ`);
    return pairs.length;
  }

  const state = () => page.evaluate(() => window.endoscribe.state());
  // Panels can still change size for a frame or two after a state was read (a
  // restore finishing adds a status line): sample only once the view and the
  // floating windows have stopped moving.
  async function settled(s) {
    const key = (t) => JSON.stringify([t.view, t.windows, t.viewer_rect]);
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await state();
      if (key(now) === key(s)) return now;
      s = now;
    }
    throw new Error('the view or the panels kept changing');
  }
  async function waitState(pred, what) {
    const deadline = Date.now() + 20000;
    for (;;) {
      const s = await state();
      if (pred(s)) {
        // Let one more frame reach the screen.
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        return s;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(s)}`);
      await page.waitForTimeout(50);
    }
  }
  const center = (r) => [r[0] + r[2] / 2, r[1] + r[3] / 2];

  let mainResponse;
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    mainResponse = await page.goto(server.url);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await openDecoder();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it('serves the app with cross-origin isolation and a strict CSP', async () => {
    const h = mainResponse.headers();
    assert.equal(h['cross-origin-opener-policy'], 'same-origin');
    assert.equal(h['cross-origin-embedder-policy'], 'require-corp');
    assert.match(h['content-security-policy'], /script-src 'self'/);
    assert.match(h['content-security-policy'], /connect-src 'self'/);
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    const wasmType = await page.evaluate(async () => (await fetch('endoscribe.wasm', { method: 'HEAD' })).headers.get('content-type'));
    assert.equal(wasmType, 'application/wasm');
  });

  it('opens the demo case, fitted, and draws its pixels exactly', async () => {
    const s = await waitState((s) => s.images.length >= 3 && s.current === 0, 'the demo case');
    assert.equal(s.case, 'Demo case (synthetic)');
    assert.equal(s.images[0].name, IMAGE_FILE);
    assert.deepEqual(s.errors, []);
    assert.equal(s.canvas.width, 1280);
    assert.equal(s.canvas.dpr, 1);
    assert.ok(s.view.auto_fit);
    // Fit: the whole image inside the viewer, touching two of its sides.
    const [vx, vy, vw, vh] = s.viewer_rect;
    const w = s.view.scale * 640, h = s.view.scale * 512;
    assert.ok(Math.abs(w - vw) < 0.5 || Math.abs(h - vh) < 0.5, `not fitted: ${JSON.stringify(s.view)}`);
    assert.ok(s.view.offset_x >= vx - 0.5 && s.view.offset_y >= vy - 0.5);
    await screenshot('01-demo-case.png');
    await checkPixels(s, null, 'fit');
    browser.assertClean();
  });

  it('shows the pixel under the cursor in the status bar', async () => {
    const s = await state();
    const [sx, sy] = freeViewerPoint(s, [Math.floor(s.view.offset_x + s.view.scale * 300.5), Math.floor(s.view.offset_y + s.view.scale * 260.5)]);
    // The texel drawn at that screen pixel's centre.
    const ix = Math.floor((sx + 0.5 - s.view.offset_x) / s.view.scale), iy = Math.floor((sy + 0.5 - s.view.offset_y) / s.view.scale);
    await page.mouse.move(sx, sy);
    const c = await waitState((t) => t.cursor && t.cursor.x === ix && t.cursor.y === iy, 'cursor read-out');
    const px = await decoder.evaluate(([x, y]) => Array.from(window.demo.data.slice((y * 640 + x) * 4, (y * 640 + x) * 4 + 3)), [ix, iy]);
    assert.deepEqual([c.cursor.r, c.cursor.g, c.cursor.b], px);
    await screenshot('01b-status-bar.png');
  });

  it('zooms with the mouse wheel around the cursor', async () => {
    const s0 = await state();
    const [mx, my] = freeViewerPoint(s0, [420, 330]);
    await page.mouse.move(mx, my);
    const ix = (mx - s0.view.offset_x) / s0.view.scale, iy = (my - s0.view.offset_y) / s0.view.scale;
    await page.mouse.wheel(0, -100);
    const s1 = await waitState((s) => s.view.scale > s0.view.scale * 1.1, 'zoom in');
    await page.mouse.wheel(0, -100);
    const s2 = await waitState((s) => s.view.scale > s1.view.scale * 1.1, 'second zoom in');
    assert.ok(Math.abs(s2.view.scale / s0.view.scale - 1.5625) < 1e-3, `zoom factor ${s2.view.scale / s0.view.scale}`);
    assert.equal(s2.view.auto_fit, false);
    // The image point under the cursor stays under the cursor.
    assert.ok(Math.abs((mx - s2.view.offset_x) / s2.view.scale - ix) < 1e-6);
    assert.ok(Math.abs((my - s2.view.offset_y) / s2.view.scale - iy) < 1e-6);
    await screenshot('02-zoomed.png');
    await checkPixels(s2, null, 'zoomed');
    browser.assertClean();
  });

  it('pans by dragging', async () => {
    const s0 = await state();
    const [px, py] = freeViewerPoint(s0, [500, 400]);
    await page.mouse.move(px, py);
    await page.mouse.down();
    await page.mouse.move(px + 60, py + 30, { steps: 4 });
    await page.mouse.move(px + 120, py + 55, { steps: 4 });
    await page.mouse.up();
    const s1 = await waitState((s) => s.view.offset_x !== s0.view.offset_x, 'pan');
    assert.equal(s1.view.offset_x - s0.view.offset_x, 120);
    assert.equal(s1.view.offset_y - s0.view.offset_y, 55);
    assert.equal(s1.view.scale, s0.view.scale);
    await screenshot('03-panned.png');
    await checkPixels(s1, null, 'panned');
    browser.assertClean();
  });

  it('fit and 1:1 from the toolbar and the keyboard', async () => {
    let s = await state();
    await page.mouse.click(...center(s.widgets.one_to_one));
    s = await waitState((t) => t.view.scale === 1, '1:1');
    await page.mouse.move(5, 5);
    await screenshot('04-one-to-one.png');
    await checkPixels(s, null, '1:1');
    await page.mouse.move(...freeViewerPoint(s, [500, 400]));
    await page.keyboard.press('f');
    s = await waitState((t) => t.view.auto_fit, 'fit by keyboard');
    await page.mouse.wheel(0, 100);  // zoom out a little: filtered, not exact
    s = await waitState((t) => !t.view.auto_fit, 'zoom out');
    assert.ok(s.view.scale < 1);
    await page.mouse.click(...center(s.widgets.fit));
    s = await waitState((t) => t.view.auto_fit, 'fit button');
  });

  it('applies brightness, contrast and gamma in the shader by the documented formula', async () => {
    let s = await state();
    const typeInto = async (widget, text) => {
      await page.keyboard.down('Control');
      await page.mouse.click(...center(s.widgets[widget]));
      await page.keyboard.up('Control');
      await page.keyboard.press('Control+a');
      await page.keyboard.type(text, { delay: 20 });
      await page.keyboard.press('Enter');
    };
    await typeInto('brightness', '0.1');
    s = await waitState((t) => Math.abs(t.levels.brightness - 0.1) < 1e-6, 'brightness 0.1');
    await typeInto('contrast', '1.4');
    s = await waitState((t) => Math.abs(t.levels.contrast - 1.4) < 1e-6, 'contrast 1.4');
    await typeInto('gamma', '1.6');
    s = await waitState((t) => Math.abs(t.levels.gamma - 1.6) < 1e-6, 'gamma 1.6');
    await page.mouse.move(5, 5);
    await screenshot('05-levels.png');
    const n = await checkPixels(s, s.levels, 'levels');
    assert.ok(n > 20);
    await page.mouse.click(...center(s.widgets.reset_levels));
    s = await waitState((t) => t.levels.brightness === 0 && t.levels.contrast === 1 && t.levels.gamma === 1, 'reset');
    browser.assertClean();
  });

  it('switches images from the thumbnail strip', async () => {
    let s = await state();
    await page.mouse.click(...center(s.widgets.thumb_2));
    s = await waitState((t) => t.current === 2, 'third image');
    await screenshot('06-third-image.png');
    await page.mouse.click(...center(s.widgets.thumb_0));
    await waitState((t) => t.current === 0, 'first image again');
  });

  it('reports a corrupt, truncated or unsupported dropped file by name and keeps working', async () => {
    const before = await state();
    const drop = (files) => page.evaluate(async (files) => {
      const dt = new DataTransfer();
      for (const f of files) {
        const bytes = f.fetch ? new Uint8Array(await (await fetch(f.fetch)).arrayBuffer()) : new Uint8Array(f.bytes);
        dt.items.add(new File([bytes.slice(0, f.truncate || bytes.length)], f.name, { type: f.type || '' }));
      }
      const canvas = document.getElementById('canvas');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        canvas.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true, clientX: 400, clientY: 300 }));
      }
    }, files);
    await drop([
      { name: 'broken-scan.jpg', bytes: [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x13, 0x37], type: 'image/jpeg' },
      { name: 'half-frame.png', fetch: 'demo/image-2.png', truncate: 5000, type: 'image/png' },
      { name: 'notes.txt', bytes: Array.from(new TextEncoder().encode('not an image at all')), type: 'text/plain' },
    ]);
    const s = await waitState((t) => t.errors.length >= before.errors.length + 3, 'three errors');
    for (const name of ['broken-scan.jpg', 'half-frame.png', 'notes.txt']) {
      assert.ok(s.errors.some((e) => e.includes(name)), `no error names ${name}: ${JSON.stringify(s.errors)}`);
    }
    assert.equal(s.images.length, before.images.length);
    assert.equal(s.current, before.current);
    await screenshot('07-corrupt-drop.png');
    // Everything else still works: the image is still drawn right (below the
    // error banners), zoom works, and a good file dropped afterwards opens.
    await checkPixels(s, null, 'after errors', s.viewer_rect[3] * 0.55);
    await page.mouse.move(...freeViewerPoint(s, [600, 500]));
    await page.mouse.wheel(0, -100);
    await waitState((t) => t.view.scale > s.view.scale * 1.1, 'zoom after errors');
    await drop([{ name: 'dropped-frame.png', fetch: 'demo/image-3.png', type: 'image/png' }]);
    // Over the read-only demo case, a good image starts a new case of its own.
    const s2 = await waitState((t) => t.images.length === 1, 'dropped image opened in a new case');
    assert.match(s2.case, /^Case /);
    assert.equal(s2.current, s2.images.length - 1);
    assert.equal(s2.images[s2.current].name, 'dropped-frame.png');
    await screenshot('08-dropped-image.png');
    browser.assertClean();
  });

  it('opens a case (case.json with its images) dropped together', async () => {
    const before = await state();
    await page.evaluate(async () => {
      const dt = new DataTransfer();
      const add = async (url, name, type) => dt.items.add(new File([await (await fetch(url)).arrayBuffer()], name, { type }));
      const json = { format: 'endoscribe-case', version: 1, id: 'visit-2', title: 'Follow-up visit',
        images: [{ file: 'frames/second.png', width: 640, height: 512 }, { file: 'first.png', width: 640, height: 512 }] };
      dt.items.add(new File([JSON.stringify(json)], 'case.json', { type: 'application/json' }));
      await add('demo/image-1.png', 'first.png', 'image/png');
      await add('demo/image-2.png', 'second.png', 'image/png');
      document.getElementById('canvas').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    // A case file opens as a case of its own.
    const s = await waitState((t) => t.case === 'Follow-up visit' && t.images.length === 2, 'case images opened');
    // In the case's order, the first one shown.
    assert.deepEqual(s.images.map((i) => i.name), ['second.png', 'first.png']);
    assert.equal(s.current, 0);
    assert.equal(s.errors.length, before.errors.length);
    browser.assertClean();
  });

  it('opens images from the file picker', async () => {
    const before = await state();
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.mouse.click(...center(before.widgets.open)),
    ]);
    assert.ok(chooser.isMultiple());
    const bytes = await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch('demo/image-4.png')).arrayBuffer())));
    await chooser.setFiles([{ name: 'picked-frame.png', mimeType: 'image/png', buffer: Buffer.from(bytes) }]);
    const s = await waitState((t) => t.images.length === before.images.length + 1, 'picked image opened');
    assert.equal(s.images[s.current].name, 'picked-frame.png');
    browser.assertClean();
  });

  it('starts with the network off after the first visit', async () => {
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      while (!navigator.serviceWorker.controller) await new Promise((r) => setTimeout(r, 50));
      // The demo case is cached by the page once loaded.
      while (!(await caches.match('demo/image-4.png'))) await new Promise((r) => setTimeout(r, 50));
    });
    // The demo case, as Case > Open demo case asks for it (saved cases open first otherwise).
    await page.evaluate(() => window.endoscribe.cases.store.setLastCaseId('demo'));
    await browser.context.setOffline(true);
    try {
      await page.reload();
      await page.evaluate(() => window.endoscribe.caseLoaded);
      const s = await waitState((t) => t.images.length >= 3, 'offline demo case');
      assert.deepEqual(s.errors, []);
      await screenshot('10-offline.png');
      await checkPixels(s, null, 'offline');
    } finally {
      await browser.context.setOffline(false);
    }
    browser.assertClean();
  });

  it('downscales a dropped image wider than the real GPU texture limit', async () => {
    const before = await state();
    const limit = before.max_texture_dimension;
    const width = limit + 808, height = 500;
    await page.evaluate(async ({ width, height }) => {
      const c = new OffscreenCanvas(width, height);
      const ctx = c.getContext('2d');
      const g = ctx.createLinearGradient(0, 0, width, 0);
      g.addColorStop(0, '#802020');
      g.addColorStop(1, '#20a0e0');
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, width, height);
      const blob = await c.convertToBlob({ type: 'image/png' });
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'wide-panorama.png', { type: 'image/png' }));
      document.getElementById('canvas').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, { width, height });
    // Over the demo case it opens in a new case.
    const s = await waitState((t) => t.images.length === 1 && t.images[0].name === 'wide-panorama.png', 'wide image opened');
    const img = s.images[s.current];
    assert.equal(img.name, 'wide-panorama.png');
    assert.equal(img.width, width);
    assert.equal(img.downscaled, true);
    assert.equal(img.texture_width, limit);
    assert.equal(img.texture_height, Math.round(height * limit / width));
    assert.ok(s.notices.some((n) => n.includes('wide-panorama.png')));
    await screenshot('09-wide-downscaled.png');
    browser.assertClean();
  });

  it('downscales an image above the GPU texture limit with a visible notice', async () => {
    await page.evaluate(() => window.endoscribe.cases.store.setLastCaseId('demo'));
    await page.goto(server.url + '?max_texture=256');
    await page.evaluate(() => window.endoscribe.caseLoaded);
    const s = await waitState((t) => t.images.length >= 3, 'demo case');
    const img = s.images[0];
    assert.equal(img.downscaled, true);
    assert.equal(img.texture_width, 256);
    assert.equal(img.texture_height, 205);
    assert.equal(img.width, 640);
    assert.ok(s.notices.some((n) => n.includes(IMAGE_FILE) && n.includes('downscaled')), JSON.stringify(s.notices));
    await screenshot('11-downscaled.png');
    browser.assertClean();
  });
});
