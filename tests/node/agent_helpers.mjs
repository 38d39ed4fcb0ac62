// Shared set-up for the agent's Node tests: the tiny random model package
// (built by tools/build_model.py as the other runtime tests build it), the
// demo case (tools/make_demo_case), the shared datasets, and a scripted
// ToolEnvironment whose outputs a test chooses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT, TINY } from './assistant_helpers.mjs';

// Builds the fp32 package of the tiny random checkpoint into a temporary
// folder; returns {dir, pkgDir}. Needs /usr/bin/python3 with the builder's modules.
export function buildTinyPackage(prefix = 'es-agent-pkg-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const pkgDir = path.join(dir, 'pkg');
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'), pkgDir,
    '--quant', 'none', '--quiet', '--test-model', 'random weights'], { stdio: 'pipe' });
  return { dir, pkgDir };
}

// The newest make_demo_case of any build folder, or null.
export function findDemoTool() {
  const cands = ['build', ...fs.readdirSync(ROOT).filter((d) => d.startsWith('build-'))]
    .map((d) => path.join(ROOT, d, 'native/tools/make_demo_case')).filter((p) => fs.existsSync(p));
  return cands.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0] ?? null;
}

// Writes the demo case into a temporary folder: {dir, manifest} or null when the tool is not built.
export function demoCase() {
  const tool = findDemoTool();
  if (!tool) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-agent-demo-'));
  execFileSync(tool, [dir]);
  return { dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) };
}

// The shared datasets folder (ES_DATASETS or ../shared/datasets), or null.
export function datasetsDir() {
  return [process.env.ES_DATASETS, path.resolve(fileURLToPath(import.meta.url), '../../../../shared/datasets')]
    .find((d) => d && fs.existsSync(d)) ?? null;
}

// A ToolEnvironment whose answers are fixed by the test (Contract C), with a
// log of the calls. outputs: {classify: [...], ground: [...], ask: text,
// segment: (key, prompt) -> mask, countLesions: {...}, draftReport: {...}}.
export function scriptedEnvironment(outputs, { width = 100, height = 100 } = {}) {
  const calls = [];
  const get = (name, ...args) => {
    calls.push([name, ...args]);
    const v = outputs[name];
    if (v instanceof Error) throw v;
    return typeof v === 'function' ? v(...args) : v;
  };
  return {
    calls,
    image: (key) => (key === 'missing' ? null : { key, width, height, bytes: new Uint8Array(0) }),
    classify: async (key, set) => get('classify', key, set),
    ask: async (key, q, o) => get('ask', key, q, o.region),
    ground: async (key, text, max) => get('ground', key, text, max),
    segment: async (key, prompt) => get('segment', key, prompt),
    countLesions: async (key) => get('countLesions', key),
    draftReport: async (key, findings) => get('draftReport', key, findings),
    compare: async (a, b, q) => get('compare', a, b, q),
  };
}

// A COCO RLE ({size, counts}) of an h x w mask with filled rectangles [x, y, w, h],
// made by the core's encoder.
export function rectsRle(module, h, w, rects) {
  const px = new Uint8Array(w * h);
  for (const [x0, y0, rw, rh] of rects) for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) px[y * w + x] = 255;
  const p = module._malloc(px.length);
  module.HEAPU8.set(px, p);
  const mh = module._es_mask_from_bytes(p, w, h, 1, 0, 127);
  module._free(p);
  const counts = module.UTF8ToString(module._es_mask_rle_string(mh));
  module._es_mask_free(mh);
  return { size: [h, w], counts };
}

// One line per step, for reading a trace in a test's output.
export function traceSummary(trace) {
  const lines = [`question: ${trace.header.question} | image: ${trace.header.image} | model: ${trace.header.model} | mode: ${trace.header.mode} | seed: ${trace.header.seed}`];
  for (const s of trace.steps) {
    const out = s.error ? `ERROR ${s.error}` : JSON.stringify(s.output ?? null).replace(/"counts":"[^"]{20,}"/g, '"counts":"…"').slice(0, 300);
    lines.push(`${s.index + 1}. [${s.origin}${s.recheck_of ? `:${s.recheck_of}` : ''}] ${s.tool} ${JSON.stringify(s.arguments)} -> ${out} (${s.status})`);
    for (const c of s.checks ?? []) if (c.level === 'warn') lines.push(`   warn ${c.id}: ${c.message}`);
    if (s.reflection) lines.push(`   reflection: ${s.reflection.slice(0, 200)}`);
  }
  lines.push(`answer: ${trace.header.answer}`);
  return lines.join('\n');
}
