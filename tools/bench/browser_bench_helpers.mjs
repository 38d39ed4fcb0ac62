// browser_bench_helpers.mjs: what the headless-Chromium benchmarks share: a
// second origin serving local files, and the browser's peak memory.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };

// Serves local files on a second origin (the app's service worker would answer
// same-origin requests from the app server), with CORS and CORP for the app's
// cross-origin-isolated page. dirs: [[url prefix, folder]]; files: {url: file}.
export async function fileServer({ dirs = [], files = {} }) {
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (process.env.ES_BENCH_DEBUG) console.log('GET', url);
    let file = files[url];
    for (const [prefix, dir] of dirs) if (!file && url.startsWith(prefix)) file = path.join(dir, url.slice(prefix.length));
    const headers = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.writeHead(404, headers); return res.end(); }
    res.writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

// Peak memory (MiB) of the browser whose profile directory is `profile`: renderer + GPU process VmHWM.
export function peakMiB(profile) {
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/--type=(renderer|gpu-process)/.test(cmd)) continue;
      // Child processes do not repeat --user-data-dir: match them through their parent browser.
      const ppid = /PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1];
      const parent = fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8');
      const grand = /PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${ppid}/status`, 'utf8'))[1];
      const grandCmd = fs.readFileSync(`/proc/${grand}/cmdline`, 'utf8');
      if (!parent.includes(profile) && !grandCmd.includes(profile)) continue;
      const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (hwm) total += Number(hwm[1]) / 1024;
    } catch { /* gone */ }
  }
  return total;
}

// The app's page on a blank case in a fresh headless Chromium (its own profile: peakMiB(profile) is its
// memory; the e2e harness' flags, CSP bypassed so the page may import from a fileServer origin), with the
// app's frame loop (requestAnimationFrame) held so what the page runs runs alone. Returns
// {page, profile, close}; close() ends the browser and removes the profile.
export async function openAppPage(appUrl) {
  const { chromium } = await import('playwright-core');
  const { CHROMIUM_FLAGS } = await import('../../tests/e2e/harness.mjs');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bench-chrome-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: false,
    args: CHROMIUM_FLAGS, bypassCSP: true, viewport: { width: 1280, height: 800 } });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] || await context.newPage();
    if (process.env.ES_BENCH_DEBUG) page.on('console', (m) => console.log('[page]', m.text().slice(0, 300)));
    await page.goto(appUrl + '?case=none');
    await page.evaluate(() => window.endoscribe.ready);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => { window.requestAnimationFrame = () => 0; r(); })));
    return { page, profile, close };
  } catch (e) {
    await close();
    throw e;
  }
}
