// The evaluation report as a reader sees it: a classification run (against
// the mock OpenAI endpoint of tests/node, answers known) rendered in headless
// Chromium from the file alone (no server, no script): no error, every plot
// drawn with its axes and class names, the tables there, and a screenshot in
// test-artifacts/e2e/evaluation-report.png to look at.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser, saveArtifact } from './harness.mjs';
import { coreModulePath } from '../node/assistant_helpers.mjs';
import { startMockServer } from '../node/evaluation_mock_server.mjs';
import { encodePng } from '../../tools/evaluation/png.mjs';
import { parseArgs } from '../../tools/evaluate.mjs';
import { runEvaluation } from '../../tools/evaluation/run.mjs';
import { writeResults } from '../../tools/evaluation/results.mjs';
import { loadCores } from '../../tools/evaluation/cores.mjs';

const corePath = coreModulePath();
const skip = !fs.existsSync('/usr/bin/chromium') ? 'no /usr/bin/chromium' : !fs.existsSync(corePath) ? `WASM core not built: ${corePath}` : false;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-eval-report-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the HTML report renders in Chromium with its plots and tables', { skip, timeout: 180000 }, async () => {
  // Three classes, 5 images each; the "model" leans (0.55) to the right class except on image 2 of each.
  const classes = ['polyps', 'z-line', 'cecum'];
  const truth = new Map();
  const crypto = await import('node:crypto');
  for (const [c, cls] of classes.entries()) {
    fs.mkdirSync(path.join(tmp, 'data', cls), { recursive: true });
    for (let i = 0; i < 5; i++) {
      const rgba = new Uint8Array(16 * 16 * 4).fill(20 * c + 3 * i + 1);
      const bytes = encodePng({ rgba, width: 16, height: 16 });
      fs.writeFileSync(path.join(tmp, 'data', cls, `${i}.png`), bytes);
      truth.set(crypto.createHash('sha256').update(bytes).digest('hex'), { c, i });
    }
  }
  const mock = await startMockServer(({ imageSha256 }) => {
    const { c, i } = truth.get(imageSha256);
    const said = i % 3 === 2 ? (c + 1) % 3 : c;
    const p = [0.15, 0.15, 0.15];
    p[said] = 0.55;
    return { top: classes.map((name, k) => ({ token: name.slice(0, 3), logprob: Math.log(p[k]) })) };
  });
  const out = path.join(tmp, 'out');
  try {
    const core = await loadCores(corePath);
    await runEvaluation({ ...parseArgs(['classification', path.join(tmp, 'data'), '--backend', 'openai', '--url', mock.url, '--out', out]), core: corePath }, core, { log: () => {}, progressStream: { write() {} } });
    await writeResults(out, { core, bootstrap: 200 });
  } finally { await mock.close(); }

  const browser = await launchBrowser({ viewport: { width: 1200, height: 900 } });
  try {
    const { page } = browser;
    await page.goto(pathToFileURL(path.join(out, 'report.html')).href);
    const svgs = await page.$$eval('svg', (els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { w: r.width, h: r.height, text: [...e.querySelectorAll('text')].map((t) => t.textContent), marks: e.querySelectorAll('path, rect, line').length };
    }));
    assert.equal(svgs.length, 4);  // confusion matrix, per-class bars, ROC curves, reliability diagram
    for (const s of svgs) {
      assert.ok(s.w > 150 && s.h > 100, `a plot of ${s.w}x${s.h}`);
      assert.ok(s.marks > 5 && s.text.length > 5, 'a plot with marks and labels');
    }
    const all = svgs.flatMap((s) => s.text).join(' ');
    for (const t of ['polyps', 'z-line', 'cecum', 'false positive rate', 'confidence', 'predicted', 'truth']) assert.ok(all.includes(t), t);
    const headings = await page.$$eval('h2, h3, caption', (els) => els.map((e) => e.textContent));
    for (const h of ['What was scored', 'Classification: scoring', 'Per class', 'In the published layout (medgemma-hyperkvasir)']) assert.ok(headings.some((x) => x.includes(h)), h);
    assert.match(await page.textContent("body"), /accuracy\s*0\.800/);  // 12 of 15 right (image 2 of each class is wrong)
    saveArtifact('evaluation-report.png', await page.screenshot({ fullPage: true }));
    browser.assertClean();
  } finally { await browser.close(); }
});
