// harness.mjs: end-to-end test harness. It builds nothing: it takes the build
// from ES_BUILD_DIR (default `build`; native tree in <dir>/native, app in
// <dir>/wasm/app), starts the real server on a free port, and drives Debian's
// Chromium through playwright-core with the only flags that give WebGPU
// without a GPU (SwiftShader). Any console error, page error or WebGPU error
// is recorded; tests call assertClean() to fail on them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = path.resolve(repoRoot, process.env.ES_BUILD_DIR || 'build');
export const appDir = path.join(buildDir, 'wasm', 'app');
export const serverBin = path.join(buildDir, 'native', 'server', 'endoscribe-server');
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'e2e');

export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan',
  '--use-vulkan=swiftshader', '--use-angle=swiftshader',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

// Why the suite cannot run, or null.
export function missingPrerequisites() {
  if (!fs.existsSync('/usr/bin/chromium')) return 'no /usr/bin/chromium';
  if (!fs.existsSync(serverBin)) return `no server at ${serverBin} (build first; ES_BUILD_DIR=${buildDir})`;
  if (!fs.existsSync(path.join(appDir, 'endoscribe.wasm'))) return `no app at ${appDir} (build first)`;
  return null;
}

// Starts `endoscribe-server --port 0`; resolves with { url, stop() } once it
// prints its "listening on" line (within 15 s).
export function startServer({ root = appDir } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(serverBin, ['--root', root, '--config', path.join(repoRoot, 'server/config.json'),
      '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { proc.kill(); reject(new Error('server did not start: ' + out + err)); }, 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+?)\/?\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1] + '/',
          // SIGTERM; a server still running 5 s later is killed and the stop fails, naming it.
          stop: () => new Promise((res, rej) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return res();
            const kill = setTimeout(() => { proc.kill('SIGKILL'); rej(new Error('server ignored SIGTERM for 5 s')); }, 5000);
            proc.once('exit', () => { clearTimeout(kill); res(); });
            proc.kill('SIGTERM');
          }),
        });
      }
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${err}`)); });
  });
}

// Launches Chromium with a fresh profile. Returns { context, page, problems,
// assertClean(), close() }.
export async function launchBrowser({ viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1 } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'endoscribe-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: false,  // --headless=new is among the flags; let playwright add no other mode
    args: CHROMIUM_FLAGS,
    viewport,
    deviceScaleFactor,
  });
  const problems = [];
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const where = msg.location().url || page.url();
      // Chromium itself asks non-HTML pages for /favicon.ico; not the app's doing.
      if (/^Failed to load resource/.test(msg.text()) && /\/favicon\.ico$/.test(where)) return;
      problems.push(`console error: ${msg.text()} (${where})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('crash', () => problems.push('page crashed'));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  // WebGPU errors are caught here too, independently of the app's own
  // 'uncapturederror' handler: every device any page creates reports to us.
  await context.exposeBinding('__esHarnessGpuError', (_source, msg) => problems.push(`WebGPU error: ${msg}`));
  await context.addInitScript(() => {
    if (typeof GPUAdapter === 'undefined') return;
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await requestDevice.apply(this, args);
      device.addEventListener('uncapturederror', (ev) => window.__esHarnessGpuError(ev.error.message));
      return device;
    };
  });
  const page = context.pages()[0] || await context.newPage();
  return {
    context,
    page,
    problems,
    userDataDir,
    // Fails with every console/page/WebGPU error seen so far, except those
    // matching one of `allowed` (regexps the test expects on purpose).
    assertClean(allowed = []) {
      const unexpected = problems.filter((p) => !allowed.some((re) => re.test(p)));
      if (unexpected.length) throw new Error('browser reported errors:\n' + unexpected.join('\n'));
    },
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function saveArtifact(name, data) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, name);
  fs.writeFileSync(file, data);
  return file;
}

// A point of the viewer (CSS px) that no ImGui window covers, as close as
// possible to `preferred` [x, y] - floating panels may lie over the image.
export function freeViewerPoint(state, preferred) {
  const [vx, vy, vw, vh] = state.viewer_rect;
  const covered = (x, y) => (state.windows || []).some(({ rect: [wx, wy, ww, wh] }) =>
    x >= wx && y >= wy && x < wx + ww && y < wy + wh);
  const inside = (x, y) => x >= vx + 2 && y >= vy + 2 && x < vx + vw - 2 && y < vy + vh - 2;
  let best = null;
  for (let y = vy + 4; y < vy + vh; y += 8) {
    for (let x = vx + 4; x < vx + vw; x += 8) {
      if (!inside(x, y) || covered(x, y)) continue;
      const d = (x - preferred[0]) ** 2 + (y - preferred[1]) ** 2;
      if (!best || d < best.d) best = { x, y, d };
    }
  }
  if (!best) throw new Error('no part of the viewer is free of windows: ' + JSON.stringify(state.windows));
  return [Math.round(best.x), Math.round(best.y)];
}

// The tiny assistant run in Node (onnxruntime-web's WASM EP, the same core
// module as tests/node/) as a reference for what the page must show:
// `questions` [{ text, max_new_tokens }] about `imageFile`; the conversation
// is saved and restored (as across a page reload) before the last question.
// Returns the last answer's { ids, text, prefilled, reason } and the ids the
// same last question gets without the restore. Null with `why` when the core
// module is not built.
export async function tinyAssistantReference({ packageDir, imageFile, questions }) {
  const { loadCore } = await import('../node/assistant_helpers.mjs');
  const { core, why } = await loadCore();
  if (!core) return { why };
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const { ModelPackage } = await import('../../web/assistant/package.js');
  const { folderSource } = await import('../../web/assistant/sources.js');
  const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(packageDir, p))));
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
  const image = { key: path.basename(imageFile), bytes: fs.readFileSync(imageFile) };
  const ask = (conv, q, i) => rt.ask(conv, q.text, { image: i === 0 ? image : undefined,
    generation: { max_new_tokens: q.max_new_tokens, temperature: 0 } }).promise;
  try {
    const conv = rt.newConversation();
    for (let i = 0; i < questions.length - 1; i++) await ask(conv, questions[i], i);
    const saved = JSON.parse(JSON.stringify(conv.chat.save()));
    const last = questions.length - 1;
    const straight = await ask(conv, questions[last], last);
    conv.free();
    const back = rt.restoreConversation(saved, { imageKey: image.key });
    const r = await ask(back, questions[last], last);
    back.free();
    return { ids: r.ids, text: r.text, prefilled: r.prefilled, reason: r.reason, straightIds: straight.ids };
  } finally {
    await rt.release();
  }
}

// Clicks a control by the name the app records for it (state().widgets),
// once it is drawn.
export async function clickWidget(page, name, timeout = 10000) {
  await page.waitForFunction((n) => !!window.endoscribe.state().widgets[n], name, { timeout, polling: 100 });
  const [x, y, w, h] = await page.evaluate((n) => window.endoscribe.state().widgets[n], name);
  await page.mouse.click(x + w / 2, y + h / 2);
}

// Clicks a tab until the control it shows (`expect`) is drawn; a click can land
// before the frame that draws the tab. Saves `<artifact>-tab-failed.png` when it never shows.
export async function openTab(page, tab, expect, artifact = 'e2e') {
  for (let i = 0; i < 4; i++) {
    await clickWidget(page, tab);
    try {
      await page.waitForFunction((n) => !!window.endoscribe.state().widgets[n], expect, { timeout: 3000, polling: 100 });
      return;
    } catch { /* try again */ }
  }
  saveArtifact(`${artifact}-tab-failed.png`, await page.screenshot());
  throw new Error(`tab ${tab} did not show ${expect}`);
}
