#!/usr/bin/env node
// batch_reports.mjs: drafts the reports of several case bundles on an
// EndoScribe server and renders them.
//
//   node tools/batch_reports.mjs --server http://127.0.0.1:8080 [--model ID] [--token TOKEN]
//        [--out DIR] [--jobs N] [--pdf] [--html] [--text] [--fhir] [--no-draft] BUNDLE.json...
//
// For each bundle (the app's Case menu > Export bundle): POST
// /v1/endoscribe/report/draft with the bundle (server/API.md), which fills the
// report's empty fields with AI suggestions (marked as such, never over what a
// user entered), writes OUT/<case>/<case>.drafted.endoscribe.json (the bundle
// with the drafted report) and OUT/<case>/draft.json (what was applied and
// rejected, usage, timings), then runs the core's renderer (tools/render_report)
// on it for PDF, FHIR, HTML and text (all four when none is named). A case
// that fails is reported and the others go on; exit status 1 when any failed,
// 2 for bad arguments. --no-draft renders the bundles as they are.
//
// The server must offer the EndoScribe extensions (endoscribe-server with a
// chat model); vLLM or llama.cpp's server do not have /v1/endoscribe/report/draft.
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node tools/batch_reports.mjs --server URL [--model ID] [--token TOKEN] [--out DIR]
                 [--jobs N] [--pdf] [--html] [--text] [--fhir] [--no-draft] [--render PATH] BUNDLE.json...
Drafts each case bundle's report on the EndoScribe server at URL (POST /v1/endoscribe/report/draft)
and renders it with tools/render_report into OUT/<case>/ (default OUT: reports/).
  --model ID     the server's chat model (default: its first)
  --token TOKEN  bearer token (needed when the server listens beyond loopback); or ES_SERVER_TOKEN
  --jobs N       bundles drafted at the same time (default 1; the server queues the rest)
  --no-draft     render the bundles as they are, without a server
  --render PATH  the render_report program (default: the newest build*/native/tools/render_report)
`;

export function parseArgs(argv) {
  const a = { server: null, model: null, token: process.env.ES_SERVER_TOKEN || null, out: 'reports', jobs: 1,
    formats: [], draft: true, render: null, bundles: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--help' || arg === '-h') a.help = true;
    else if (arg === '--server') a.server = value().replace(/\/+$/, '');
    else if (arg === '--model') a.model = value();
    else if (arg === '--token') a.token = value();
    else if (arg === '--out') a.out = value();
    else if (arg === '--render') a.render = value();
    else if (arg === '--jobs') {
      a.jobs = Number(value());
      if (!Number.isInteger(a.jobs) || a.jobs < 1 || a.jobs > 64) throw new Error('--jobs must be a whole number from 1 to 64');
    } else if (['--pdf', '--html', '--text', '--fhir'].includes(arg)) a.formats.push(arg);
    else if (arg === '--no-draft') a.draft = false;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
    else a.bundles.push(arg);
  }
  if (a.help) return a;
  if (!a.bundles.length) throw new Error('name at least one case bundle');
  if (a.draft && !a.server) throw new Error('--server URL is needed to draft (or --no-draft to render as they are)');
  return a;
}

export function findRenderer() {
  const found = [];
  for (const d of fs.readdirSync(ROOT)) {
    const p = path.join(ROOT, d, 'native/tools/render_report');
    if (d.startsWith('build') && fs.existsSync(p)) found.push({ p, t: fs.statSync(p).mtimeMs });
  }
  return found.sort((x, y) => y.t - x.t)[0]?.p ?? null;
}

// "case-7.endoscribe.json" -> "case-7"
export function caseName(file) {
  return path.basename(file).replace(/(\.endoscribe)?\.json$/i, '') || 'case';
}

// The server's plain-words error, or what went wrong on the way there.
async function draftOnServer(a, bundle) {
  const body = { bundle };
  if (a.model) body.model = a.model;
  const headers = { 'Content-Type': 'application/json' };
  if (a.token) headers.Authorization = `Bearer ${a.token}`;
  let res;
  try {
    res = await fetch(`${a.server}/v1/endoscribe/report/draft`, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (e) {
    throw new Error(`the server at ${a.server} could not be reached (${e.cause?.code || e.message}); is it running?`);
  }
  const text = await res.text();
  let j = null;
  try { j = JSON.parse(text); } catch { /* below */ }
  if (res.status === 404 && !j?.error?.code) {
    throw new Error(`the server at ${a.server} has no report drafting (/v1/endoscribe/report/draft): it is not an EndoScribe server`);
  }
  if (!res.ok) throw new Error(j?.error?.message ? `the server refused: ${j.error.message}` : `the server answered ${res.status}: ${text.slice(0, 200)}`);
  if (!j || typeof j.report !== 'object') throw new Error('the server answered without a report');
  return j;
}

function render(renderer, bundlePath, outDir, formats) {
  return new Promise((resolve, reject) => {
    execFile(renderer, [bundlePath, outDir, ...formats], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error((stderr || err.message).trim()));
      else resolve(stdout);
    });
  });
}

export async function processBundle(a, renderer, file) {
  const name = caseName(file);
  const dir = path.join(a.out, name);
  fs.mkdirSync(dir, { recursive: true });
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file} (${e.code || e.message})`);
  }
  let bundle;
  try {
    bundle = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not a case bundle (not JSON: ${e.message})`);
  }
  let toRender = file;
  let summary = { case: name, drafted: false };
  if (a.draft) {
    const t0 = performance.now();
    const d = await draftOnServer(a, bundle);
    bundle.report = d.report;
    toRender = path.join(dir, `${name}.drafted.endoscribe.json`);
    fs.writeFileSync(toRender, JSON.stringify(bundle));
    summary = { case: name, drafted: true, model: d.model, applied: d.outcome.applied, rejected: d.outcome.rejected,
      usage: d.usage, timings: { ...d.timings, request_ms: performance.now() - t0 } };
    fs.writeFileSync(path.join(dir, 'draft.json'), `${JSON.stringify(summary, null, 1)}\n`);
  }
  await render(renderer, toRender, dir, a.formats);
  summary.files = fs.readdirSync(dir).filter((f) => f.startsWith('report.'));
  return summary;
}

async function main() {
  let a;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`batch_reports: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (a.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const renderer = a.render || findRenderer();
  if (!renderer || !fs.existsSync(renderer)) {
    process.stderr.write('batch_reports: tools/render_report is not built (run scripts/build.sh, or pass --render PATH)\n');
    return 2;
  }
  let failed = 0;
  const queue = [...a.bundles];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      try {
        const s = await processBundle(a, renderer, file);
        const what = s.drafted ? `${s.applied.length} fields drafted, ${s.rejected.length} rejected (${s.model})` : 'not drafted';
        process.stdout.write(`${s.case}: ${what}; ${s.files.join(', ')} in ${path.join(a.out, s.case)}\n`);
      } catch (e) {
        failed++;
        process.stdout.write(`${caseName(file)}: FAILED: ${e.message}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(a.jobs, a.bundles.length) }, worker));
  process.stdout.write(`${a.bundles.length - failed} of ${a.bundles.length} cases done${failed ? `, ${failed} failed` : ''}\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => { process.exitCode = code; });
}
