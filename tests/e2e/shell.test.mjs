// shell.test.mjs: the app shell around the viewer, in headless Chromium:
// high-DPI canvases, touchpad pinch (ctrl+wheel), keyboard, and the plain
// message a browser without WebGPU gets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, freeViewerPoint } from './harness.mjs';

const skip = missingPrerequisites();

describe('app shell', { skip: skip || false, timeout: 120000 }, () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { if (server) await server.stop(); });

  const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

  it('renders a device-pixel-ratio 2 canvas at full resolution, and pinch-zooms around the fingers', async () => {
    const browser = await launchBrowser({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 2 });
    try {
      const { page } = browser;
      await page.goto(server.url);
      await page.evaluate(() => window.endoscribe.caseLoaded);
      await settle(page);
      let s = await page.evaluate(() => window.endoscribe.state());
      assert.equal(s.canvas.dpr, 2);
      assert.equal(s.canvas.css_width, 800);
      assert.equal(s.canvas.width, 1600);
      assert.equal(s.canvas.height, 1200);
      const backing = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
      assert.deepEqual(backing, [1600, 1200]);

      // Touchpad pinch arrives as wheel events with ctrlKey set; the page
      // itself must not zoom (devicePixelRatio stays 2).
      const [mx, my] = freeViewerPoint(s, [300, 250]);
      await page.mouse.move(mx, my);
      const ix = (mx - s.view.offset_x) / s.view.scale;
      await page.keyboard.down('Control');
      for (let i = 0; i < 5; i++) await page.mouse.wheel(0, -8);
      await page.keyboard.up('Control');
      await settle(page);
      const t = await page.evaluate(() => window.endoscribe.state());
      const factor = t.view.scale / s.view.scale;
      // (Chromium may rescale ctrl+wheel deltas on the way, so only the sense
      // and the order of magnitude are checked: 5 x 8 px ~ up to e^0.4.)
      assert.ok(factor > 1.05 && factor < Math.exp(0.4) + 1e-3, `pinch factor ${factor}`);
      assert.ok(Math.abs((mx - t.view.offset_x) / t.view.scale - ix) < 1e-6);
      assert.equal(await page.evaluate(() => window.devicePixelRatio), 2);
      const png = await page.screenshot();
      saveArtifact('shell-dpr2-pinched.png', png);
      // The screenshot has device pixels: 1600 x 1200.
      const size = await page.evaluate(async (b64) => {
        const bmp = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]));
        return [bmp.width, bmp.height];
      }, png.toString('base64'));
      assert.deepEqual(size, [1600, 1200]);
      browser.assertClean();
    } finally {
      await browser.close();
    }
  });

  it('keyboard: arrows change image, F fits, 1 is 1:1, + and - zoom, paste; resize refits', async () => {
    const browser = await launchBrowser({ viewport: { width: 900, height: 700 } });
    try {
      const { page } = browser;
      await page.goto(server.url);
      await page.evaluate(() => window.endoscribe.caseLoaded);
      const state = () => page.evaluate(() => window.endoscribe.state());
      const waitFor = async (pred, what) => {
        for (let i = 0; i < 100; i++) {
          const s = await state();
          if (pred(s)) return s;
          await page.waitForTimeout(50);
        }
        throw new Error('timed out: ' + what);
      };
      await page.mouse.move(300, 300);
      await page.keyboard.press('ArrowRight');
      await waitFor((s) => s.current === 1, 'next image');
      await page.keyboard.press('ArrowLeft');
      await waitFor((s) => s.current === 0, 'previous image');
      await page.keyboard.press('1');
      await waitFor((s) => s.view.scale === 1, '1:1');
      await page.keyboard.press('Equal');
      await waitFor((s) => Math.abs(s.view.scale - 1.25) < 1e-9, 'zoom in');
      await page.keyboard.press('Minus');
      await waitFor((s) => Math.abs(s.view.scale - 1.0) < 1e-9, 'zoom out');
      await page.keyboard.press('f');
      await waitFor((s) => s.view.auto_fit, 'fit');
      // Clipboard: Ctrl+V into a slider's text field (Ctrl+click edits it).
      await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.replace(/\/$/, '') });
      await page.evaluate(() => navigator.clipboard.writeText('2.5'));
      const g = (await state()).widgets.gamma;
      await page.keyboard.down('Control');
      await page.mouse.click(g[0] + g[2] / 2, g[1] + g[3] / 2);
      await page.keyboard.up('Control');
      await page.keyboard.press('Control+a');
      await page.keyboard.press('Control+v');
      await page.keyboard.press('Enter');
      await waitFor((s) => Math.abs(s.levels.gamma - 2.5) < 1e-6, 'pasted gamma');
      // Resizing the window resizes the canvas and refits the image.
      await page.setViewportSize({ width: 700, height: 560 });
      const r = await waitFor((s) => s.canvas.width === 700 && s.canvas.height === 560, 'canvas follows the window');
      const img = r.images[r.current];
      const [, , vw, vh] = r.viewer_rect;
      assert.ok(Math.abs(r.view.scale - Math.min(vw / img.width, vh / img.height)) < 1e-9, 'refitted');
      browser.assertClean();
    } finally {
      await browser.close();
    }
  });

  it('a malformed or unsafe case.json gives an error and the app stays usable', async () => {
    const browser = await launchBrowser({ viewport: { width: 900, height: 700 } });
    try {
      const { page } = browser;
      await page.route('**/demo/case.json', (route) => route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ format: 'endoscribe-case', version: 1, id: 'x', images: [{ file: '../../etc/passwd' }] }),
      }));
      await page.goto(server.url);
      await page.evaluate(() => window.endoscribe.caseLoaded);
      const s = await page.evaluate(() => window.endoscribe.state());
      assert.equal(s.images.length, 0);
      assert.equal(s.errors.length, 1, JSON.stringify(s.errors));
      assert.match(s.errors[0], /demo\/case\.json/);
      assert.match(s.messages.find((m) => m.kind === 'error').details, /images\[0\]/);
      saveArtifact('shell-bad-case.png', await page.screenshot());
      browser.assertClean();
    } finally {
      await browser.close();
    }
  });

  it('says in plain words when the browser has no WebGPU, and which browser to use', async () => {
    const browser = await launchBrowser({ viewport: { width: 800, height: 600 } });
    try {
      const { page } = browser;
      await page.addInitScript(() => { Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }); });
      await page.goto(server.url);
      await page.waitForSelector('#fatal:not([hidden])');
      const text = await page.textContent('#fatal');
      assert.match(text, /does not support WebGPU/);
      assert.match(text, /Chrome/);
      saveArtifact('shell-no-webgpu.png', await page.screenshot());
      browser.assertClean();
    } finally {
      await browser.close();
    }
  });
});
