// server_helpers.mjs: start the native endoscribe-server for a Node test and
// talk JSON to it.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// The newest built server (build*/native/server/endoscribe-server), or null.
export function findServerBinary() {
  const cands = [];
  for (const d of fs.readdirSync(ROOT)) {
    const p = path.join(ROOT, d, 'native/server/endoscribe-server');
    if (d.startsWith('build') && fs.existsSync(p)) cands.push({ p, t: fs.statSync(p).mtimeMs });
  }
  if (process.env.ES_BUILD_DIR) {
    const p = path.resolve(ROOT, process.env.ES_BUILD_DIR, 'native/server/endoscribe-server');
    if (fs.existsSync(p)) return p;
  }
  return cands.sort((a, b) => b.t - a.t)[0]?.p ?? null;
}

// Waits until the server's /health says its --model packages are loaded
// ("ready"; they load after it listens); throws with the reason on "failed".
export async function waitModelReady(url, { timeoutMs = 120000 } = {}) {
  const t0 = Date.now();
  for (;;) {
    const h = await (await fetch(`${url}/health`)).json();
    if (h.status === 'ready') return h;
    if (h.status !== 'loading') throw new Error(`the server's model did not load (${h.status}): ${h.error ?? ''}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`the server's model did not load in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Starts the server on a free port with extra arguments; resolves to
// {url, proc, stderr(), stop()} once it prints its "listening on" line and,
// with --model, once the model is loaded.
export async function startServer(args = [], { timeoutMs = 60000 } = {}) {
  const bin = findServerBinary();
  if (!bin) throw new Error('endoscribe-server is not built (scripts/build.sh)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-srv-root-'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>test</title>');
  const proc = spawn(bin, ['--root', root, '--config', path.join(ROOT, 'server/config.json'), '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms: ${err}`)), timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, '')); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${err}`)); });
  });
  if (args.includes('--model')) await waitModelReady(url, { timeoutMs });
  return {
    url, proc, stderr: () => err,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.on('exit', () => { fs.rmSync(root, { recursive: true, force: true }); resolve(); });
      proc.kill('SIGTERM');
    }),
  };
}

// One fresh connection per request (agent: false): httplib closes idle
// keep-alive connections after 5 s, and a client reusing one then fails.
export function postJson(url, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(t); } catch { /* left null: the test says so */ }
        resolve({ status: res.statusCode, json, text: t, headers: res.headers });
      });
    });
    req.on('error', (e) => reject(new Error(`POST ${url}: ${e.message}`)));
    req.end(text);
  });
}

export const dataUrl = (bytes, mime) => `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;

// The shared datasets folder (ES_DATASETS or ../shared/datasets), or null.
export function datasetsDir() {
  for (const d of [process.env.ES_DATASETS, path.join(ROOT, '../shared/datasets')]) {
    if (d && fs.existsSync(d)) return d;
  }
  return null;
}
