// reload_stress.test.mjs: nothing accepted is lost, whenever the page reloads.
// A saved case gets boxes drawn with the real Box tool and undos through the
// real button; the page is reloaded at random moments (seeded PRNG, so a
// failure reproduces with ES_STRESS_SEED): right as a change is accepted (its
// save still running), a random 0-400 ms later, or in the middle of a drag.
// After every reload the case open before must be back (never the demo) with
// exactly the boxes accepted before the reload, in order, and its undo history.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e reload stress test: ${skip}`);
const SEED = Number(process.env.ES_STRESS_SEED || 20261130);
const RELOADS = Number(process.env.ES_STRESS_RELOADS || 50);

// mulberry32: small, seedable, good enough to pick moments.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('reload stress', { skip: skip || false, timeout: 400000 }, () => {
  let server, browser, page;
  const rnd = prng(SEED);
  const IMAGE = 'image-2.png';
  const annState = () => page.evaluate(() => window.endoscribe.annotation.state());
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const boxes = async () => ((await annState()).images[IMAGE]?.annotations || []).map((a) => a.bounds);
  const waitFor = async (fn, what, timeout = 20000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) throw new Error('timed out waiting for ' + what);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  async function loaded() {
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.annotation && window.endoscribe.annotation.state() && window.endoscribe.cases);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }
  async function boxTool() {
    await page.evaluate(() => window.endoscribe.module().ccall('es_annotation_set_tool', 'number', ['string'], ['Box']));
  }
  // A drag start inside the image, clear of windows (start and end), at random.
  async function dragStart() {
    const s = await appState();
    const [vx, vy, vw, vh] = s.viewer_rect;
    const img = s.images[s.current];
    const x0 = Math.max(vx, s.view.offset_x) + 6, y0 = Math.max(vy, s.view.offset_y) + 6;
    const x1 = Math.min(vx + vw, s.view.offset_x + img.width * s.view.scale) - 70;
    const y1 = Math.min(vy + vh, s.view.offset_y + img.height * s.view.scale) - 55;
    const free = (x, y) => !s.windows.some(({ rect: [wx, wy, ww, wh] }) => x >= wx - 2 && y >= wy - 2 && x < wx + ww + 2 && y < wy + wh + 2);
    const spots = [];
    for (let y = y0; y < y1; y += 6) for (let x = x0; x < x1; x += 6) if (free(x, y) && free(x + 64, y + 50)) spots.push([x, y]);
    assert.ok(spots.length > 20, `room to draw: ${JSON.stringify(s.windows)}`);
    return spots[Math.floor(rnd() * spots.length)];
  }
  async function drawBox() {
    const n = (await boxes()).length;
    const [x, y] = await dragStart();
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + 20 + rnd() * 40, y + 15 + rnd() * 30, { steps: 3 });
    await page.mouse.up();
    const b = await waitFor(async () => { const v = await boxes(); return v.length === n + 1 && v; }, 'the box to be accepted')
      .catch(async (e) => {
        saveArtifact('reload-stress-no-box.png', await page.screenshot());
        throw new Error(`${e.message}: drag from (${x}, ${y}); ${JSON.stringify(await annState())}`);
      });
    return b[n];
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.url);
    await loaded();
    await page.setInputFiles('#file-input', [path.join(appDir, 'demo', IMAGE)]);
    await waitFor(async () => { const s = await appState(); return s.images.length === 1 && s.images[0].name === IMAGE; }, 'the case');
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
  });

  it(`${RELOADS} reloads at random moments lose no accepted change (seed ${SEED})`, async () => {
    const caseId = await page.evaluate(() => window.endoscribe.cases.current.id);
    const expected = [];
    const modes = { accepted: 0, later: 0, drag: 0, undo: 0 };
    // After a reload: the same case, never the demo, exactly the accepted boxes.
    async function checkRestored(r) {
      const cur = await page.evaluate(() => window.endoscribe.cases.current);
      assert.ok(cur && cur.id === caseId && !cur.readOnly, `reload ${r}: the saved case came back (got ${JSON.stringify(cur)})`);
      const s = await appState();
      assert.notEqual(s.case, 'Demo case (synthetic)', `reload ${r}: not the demo`);
      assert.deepEqual(s.images.map((i) => i.name), [IMAGE], `reload ${r}: the case's image`);
      const got = await boxes();
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        saveArtifact('reload-stress-failed.png', await page.screenshot());
        assert.deepEqual(got, expected, `reload ${r} (seed ${SEED}): the accepted boxes`);
      }
    }
    const t0 = Date.now();
    for (let r = 0; r < RELOADS; r++) {
      await boxTool();
      const roll = rnd();
      let dragging = false;
      if (roll < 0.3) {
        // The page reloads itself in the very frame that accepts the change:
        // its IndexedDB write has at most just started.
        const n = (await boxes()).length;
        const [x, y] = await dragStart();
        await page.mouse.move(x, y);
        await page.mouse.down();
        await page.mouse.move(x + 20 + rnd() * 40, y + 15 + rnd() * 30, { steps: 3 });
        await page.evaluate((image) => {
          const count = () => (window.endoscribe.annotation.state().images[image]?.annotations || []).length;
          const n0 = count();
          const watch = () => {
            if (count() > n0) {
              window.__accepted = window.endoscribe.annotation.state().images[image].annotations[n0].bounds;
              sessionStorage.setItem('accepted', JSON.stringify(window.__accepted));
              location.reload();
            } else {
              requestAnimationFrame(watch);
            }
          };
          sessionStorage.removeItem('accepted');
          requestAnimationFrame(watch);
        }, IMAGE);
        await Promise.all([page.waitForEvent('load'), page.mouse.up()]);
        await loaded();
        const got = JSON.parse(await page.evaluate(() => sessionStorage.getItem('accepted')));
        assert.ok(got, `reload ${r}: the box was accepted before the reload`);
        assert.equal(n, expected.length);
        expected.push(got);
        modes.accepted++;
        await checkRestored(r);
        continue;
      } else if (roll < 0.65) {
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) expected.push(await drawBox());
        await page.waitForTimeout(Math.floor(rnd() * 400));
        modes.later++;
      } else if (roll < 0.85 || !expected.length) {
        // In the middle of a drag: that box was never accepted.
        const [x, y] = await dragStart();
        await page.mouse.move(x, y);
        await page.mouse.down();
        await page.mouse.move(x + 30, y + 20, { steps: 2 });
        await page.waitForTimeout(Math.floor(rnd() * 150));
        dragging = true;
        modes.drag++;
      } else {
        const st = await annState();
        assert.ok(st.can_undo, `reload ${r}: undo history is there`);
        const n = expected.length;
        const r0 = (await appState()).widgets.ann_undo;
        await page.mouse.click(r0[0] + r0[2] / 2, r0[1] + r0[3] / 2);
        await waitFor(async () => (await boxes()).length === n - 1, 'the undo');
        expected.pop();
        await page.waitForTimeout(Math.floor(rnd() * 400));
        modes.undo++;
      }
      await page.reload();
      if (dragging) {
        // Release the button away from the image on the new page.
        await page.mouse.move(5, 5);
        await page.mouse.up();
      }
      await loaded();
      await checkRestored(r);
    }
    const seconds = (Date.now() - t0) / 1000;
    console.log(`# ${RELOADS} reloads in ${seconds.toFixed(0)} s (${JSON.stringify(modes)}); ${expected.length} boxes at the end`);
    assert.ok(modes.accepted > 0 && modes.later > 0 && modes.drag > 0, 'every kind of moment was tried');
    saveArtifact('reload-stress-end.png', await page.screenshot());
    browser.assertClean();
  });
});
