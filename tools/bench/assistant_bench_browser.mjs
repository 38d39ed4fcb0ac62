// assistant_bench_browser.mjs: tools/bench/assistant_bench.mjs in headless
// Chromium (the e2e harness' launch: SwiftShader WebGPU): our runtime against
// transformers.js on the same package, on the WASM EP and on the WebGPU EP.
//
//   node tools/bench/assistant_bench_browser.mjs [PACKAGE_DIR] [--tokens N] [--variant fp32|q4] [--repeat R]
//     [--rounds K] [--eps wasm,webgpu] [--tjs-labels N] [--no-image] [--json OUT]
//   (default package: the tiny one, built into a temp dir; needs the built app and server, ES_BUILD_DIR)
//
// Engines: ours-<ep> (web/assistant/runtime.js as the app serves it, the app's
// core and onnxruntime-web 1.30) and tjs-<ep> (transformers.js 4.3's web build
// with its own onnxruntime-web, device 'wasm' / 'webgpu', same dtype, its KV
// cache, greedy). Each engine runs in a fresh browser (its own profile), K
// rounds in turn, R runs per browser, the first a warm-up. Both use one WASM
// thread (the app's server sends COOP/COEP, so onnxruntime could start more:
// pinned for a like-for-like comparison). The page is the app's own page
// (the core is the app's module), on a blank case, its frame loop held.
// Decode tokens/s is 1000 / the median gap between streamed tokens (wall
// clock; no per-process CPU clock in a page). Peak memory: the highest
// VmHWM of the browser's renderer plus that of its GPU process (/proc).
// SwiftShader runs WebGPU on the CPU: its WebGPU figures say nothing about a
// real GPU; the app uses the WASM EP there (web/assistant/webgpu_check.js).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, missingPrerequisites } from '../../tests/e2e/harness.mjs';
import { summarise, printTable } from './assistant_bench.mjs';
import { fileServer, openAppPage, peakMiB } from './browser_bench_helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TINY = path.join(ROOT, 'tests/fixtures/tiny-gemma3');
const TJS_DIST = path.join(ROOT, 'node_modules/@huggingface/transformers/dist');
const TJS_ORT = path.join(ROOT, 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist');

function parseArgs(argv) {
  const a = { pkg: null, tokens: 24, variant: 'fp32', repeat: 2, rounds: 2, eps: ['wasm', 'webgpu'], tjsLabels: 23, json: null,
    image: path.join(TINY, 'golden/image.png') };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--tokens') a.tokens = Number(argv[++i]);
    else if (v === '--variant') a.variant = argv[++i];
    else if (v === '--repeat') a.repeat = Number(argv[++i]);
    else if (v === '--rounds') a.rounds = Number(argv[++i]);
    else if (v === '--eps') a.eps = argv[++i].split(',');
    else if (v === '--tjs-labels') a.tjsLabels = Number(argv[++i]);
    else if (v === '--json') a.json = path.resolve(argv[++i]);
    else if (v === '--image') a.image = path.resolve(argv[++i]);
    else if (v === '--no-image') a.noImage = true;
    else a.pkg = path.resolve(v);
  }
  return a;
}

// The package, transformers.js and the shared runs, served from local files on a second origin.
function benchServer(args) {
  return fileServer({ dirs: [['/pkg/', args.pkg], ['/tjs/', TJS_DIST], ['/tjs-ort/', TJS_ORT]],
    files: { '/runs.mjs': path.join(ROOT, 'tools/bench/assistant_bench_runs.mjs'), '/image.png': args.image,
      '/labels.json': path.join(ROOT, 'models/labels/hyperkvasir.json') } });
}

async function runEngine(server, files, args, engine) {
  const [who, ep] = engine.split('-');
  // In the app (drawing the streamed answer costs extra CPU on SwiftShader; transformers.js' generate() never
  // yields to it) the frame loop is held for both engines.
  const { page, profile, close } = await openAppPage(server.url);
  try {
    const opts = { ep, variant: args.variant, repeat: args.repeat, tokens: args.tokens, tjsLabels: args.tjsLabels, base: files.url,
      noImage: !!args.noImage };
    const runs = await page.evaluate(who === 'ours' ? async (o) => {
      const { runOurs } = await import(o.base + 'runs.mjs');
      const { AssistantRuntime } = await import('/assistant/runtime.js');
      const { ModelPackage } = await import('/assistant/package.js');
      const { Core } = await import('/assistant/core.js');
      const ort = await import('/ort/ort.webgpu.min.mjs');
      ort.env.wasm.numThreads = 1;
      const core = new Core(window.endoscribe.module());
      const read = async (p) => {
        const r = await fetch(o.base + 'pkg/' + p);
        if (!r.ok) throw new Error(`${p}: HTTP ${r.status}`);
        return new Uint8Array(await r.arrayBuffer());
      };
      const pkg = await ModelPackage.open({ read });
      const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: [o.ep], variant: o.variant,
        sessionOptions: { logSeverityLevel: 3 } });
      if (rt.ep !== o.ep) throw new Error(`wanted ${o.ep}, got ${rt.ep}: ${rt.notices.join('; ')}`);
      const imageBytes = o.noImage ? null : await read('../image.png');
      const labelSet = core.labelSetForClassification(await (await fetch(o.base + 'labels.json')).text());
      const runs = await runOurs({ rt, imageBytes, labelSet, repeat: o.repeat, tokens: o.tokens });
      await rt.release();
      return runs;
    } : async (o) => {
      const { runTjs } = await import(o.base + 'runs.mjs');
      const tjs = await import(o.base + 'tjs/transformers.js');
      // The files origin as its "hub" (its local-path loader takes no URLs); nothing leaves the machine.
      tjs.env.allowLocalModels = false;
      tjs.env.allowRemoteModels = true;
      tjs.env.remoteHost = o.base;
      tjs.env.remotePathTemplate = '{model}/';
      tjs.env.useBrowserCache = false;
      tjs.env.backends.onnx.wasm.wasmPaths = o.base + 'tjs-ort/';
      tjs.env.backends.onnx.wasm.numThreads = 1;
      tjs.env.backends.onnx.logLevel = 'error';
      return runTjs({ tjs, model: 'pkg', device: o.ep, dtype: o.variant === 'fp32' ? 'fp32' : 'q4',
        image: o.noImage ? null : await tjs.RawImage.fromURL(o.base + 'image.png'), labelsJson: await (await fetch(o.base + 'labels.json')).text(),
        repeat: o.repeat, tokens: o.tokens, tjsLabels: o.tjsLabels });
    }, opts);
    return { engine, runs, maxRssMiB: peakMiB(profile) };
  } finally {
    await close();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const why = missingPrerequisites();
  if (why) { console.log(`cannot run: ${why}`); process.exit(1); }
  let tmp = null;
  if (!args.pkg) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-bench-'));
    args.pkg = path.join(tmp, 'pkg');
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'), args.pkg, '--quiet']);
  }
  const engines = args.eps.flatMap((ep) => [`ours-${ep}`, `tjs-${ep}`]);
  console.log(`headless Chromium (SwiftShader WebGPU), package ${args.pkg} (${args.variant})${args.noImage ? ', text only' : ''}, ${args.tokens} new tokens, ` +
    `${args.rounds} rounds x ${args.repeat} runs (first of each a warm-up), ${os.cpus().length} CPUs, load average ` +
    `${os.loadavg().map((x) => x.toFixed(1)).join(' ')}` + (args.tjsLabels < 23 ? `; transformers.js classify time scaled from ${args.tjsLabels} labels` : ''));
  const server = await startServer();
  const files = await benchServer(args);
  const results = {};
  try {
    for (let round = 0; round < args.rounds; round++) {
      for (const engine of engines) {
        try {
          (results[engine] ??= []).push(await runEngine(server, files, args, engine));
        } catch (e) {
          console.log(`${engine}: failed: ${e.message.split('\n').slice(0, 3).join(' ')}`);
        }
      }
    }
  } finally {
    files.close();
    await server.stop();
  }
  const sum = summarise(Object.fromEntries(Object.entries(results).filter(([, r]) => r.length)));
  for (const ep of args.eps) {
    console.log(`\n${ep.toUpperCase()} EP:`);
    printTable(sum, [`ours-${ep}`, `tjs-${ep}`], `tjs-${ep}`);
  }
  const o = Object.values(sum).find((x) => x.decoder);
  if (o) console.log(`ours: decoder graph per EP: ${args.eps.map((ep) => `${ep} ${sum[`ours-${ep}`]?.decoder}`).join(', ')}`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ args, summary: sum, loadavg: os.loadavg() }, null, 1));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

await main();
