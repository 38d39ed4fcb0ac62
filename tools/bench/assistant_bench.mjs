// assistant_bench.mjs: our assistant runtime (web/assistant/runtime.js + the
// WASM core) against transformers.js (@huggingface/transformers) on the same
// model package, same machine, same run. Not part of the test suite.
//
//   node tools/bench/assistant_bench.mjs [PACKAGE_DIR] [--tokens N] [--variant fp32|q4] [--repeat R] [--rounds K]
//     [--engines ours-node,ours-wasm,tjs] [--tjs-labels N] [--tjs-pkg DIR] [--threads N] [--no-image] [--json OUT]
//     [--repetition-penalty 1.3]   (both engines; a random model otherwise repeats itself, which drafts predict)
//   (--no-image: text-only prompts, for full-width packages whose 896 px vision encoder takes minutes per image here)
//   (default package: the tiny one, built into a temp dir; ES_BUILD_DIR picks
//   the build with wasm/node/endoscribe_core.mjs, default `build`)
//
// Each engine runs in its own child process (so peak RSS is its own), K rounds
// in turn (engine A, B, C, A, B, C, ...) so that a busy machine slows them
// alike; each child does R runs, the first a warm-up (kernels, allocator) that
// is not counted:
//   ours-node  our runtime on onnxruntime-node (CPU EP): the backend transformers.js uses in Node; the
//              package on disk is handed to onnxruntime-node as file paths (ModelPackage.graphOnDisk)
//   ours-node-1tok  ours-node without prompt-lookup drafts (draftTokens 0): one token per decoder run, as
//              transformers.js; ours-node runs up to 6 drafts with each step and keeps those the model agrees with
//   ours-node-bytes  the same, every file read into JS and handed over as bytes (the browser's way, and
//              what ours-node did before graphOnDisk)
//   ours-node-shared  ours-node with kvSharedBuffer (decoder_fused's global layers append in place into one
//              preallocated buffer each: PACKAGE.md "KV cache forms")
//   ours-wasm  our runtime on onnxruntime-web's WASM EP, 1 thread (what a browser without a usable GPU runs;
//              transformers.js has no WASM device in Node: tools/bench/assistant_bench_browser.mjs compares it)
//   tjs        transformers.js 4.x, Gemma3ForConditionalGeneration.generate, device 'cpu' (onnxruntime-node),
//              same dtype, its KV cache (generate's default), greedy, warmed up
//   tjs-alt    the same on --tjs-pkg DIR: another build of the same checkpoint (e.g. --attention gqa, whose
//              decoder_model_merged uses GroupQueryAttention: transformers.js' fastest graph on the CPU EP)
// Measured: time to first token (image + question), decode tokens/s, second-
// turn time to first token, classification of the 23 HyperKvasir labels,
// peak RSS. Decode tokens/s is 1000 / the median gap between streamed tokens
// over all counted runs (on a shared machine the median is what the code
// costs), and over the whole answer (tokens after the first / time from the
// first to the last): with drafts several tokens come from one decoder pass,
// so only the whole-answer rates compare engines. The CPU-time
// rows divide this process' CPU time (process.cpuUsage, all threads) instead of
// wall time: with one onnxruntime thread per session (--threads 1, the default,
// for both engines) that is the work itself, unaffected by other processes.
// transformers.js has no conversation state: a follow-up is a new
// generate() over the whole conversation with the image again; we count its
// vision-encoder runs and decoder prefill length to show what it re-does.
// Classification with transformers.js is one forward pass per label over
// prompt + label (no shared prefix cache); ours scores every label in one
// decoder run on top of one prefilled prefix.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runOurs, runTjs } from './assistant_bench_runs.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TINY = path.join(ROOT, 'tests/fixtures/tiny-gemma3');

function parseArgs(argv) {
  const a = { pkg: null, tokens: 24, variant: 'fp32', repeat: 2, rounds: 3, engine: null, image: path.join(TINY, 'golden/image.png'),
    engines: ['ours-node', 'ours-wasm', 'tjs'], tjsLabels: 23, tjsPkg: null, json: null, decoder: null, threads: 1,
    repetitionPenalty: 1 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--tokens') a.tokens = Number(argv[++i]);
    else if (v === '--variant') a.variant = argv[++i];
    else if (v === '--repeat') a.repeat = Number(argv[++i]);
    else if (v === '--engine') a.engine = argv[++i];
    else if (v === '--image') a.image = argv[++i];
    else if (v === '--engines') a.engines = argv[++i].split(',');
    else if (v === '--tjs-labels') a.tjsLabels = Number(argv[++i]);
    else if (v === '--rounds') a.rounds = Number(argv[++i]);
    else if (v === '--tjs-pkg') a.tjsPkg = path.resolve(argv[++i]);
    else if (v === '--json') a.json = path.resolve(argv[++i]);
    else if (v === '--decoder') a.decoder = argv[++i];
    else if (v === '--threads') a.threads = Number(argv[++i]);
    else if (v === '--no-image') a.noImage = true;
    else if (v === '--repetition-penalty') a.repetitionPenalty = Number(argv[++i]);
    else a.pkg = path.resolve(v);
  }
  return a;
}

const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor((xs.length - 1) / 2)];
const labelSetText = () => fs.readFileSync(path.join(ROOT, 'models/labels/hyperkvasir.json'), 'utf8');

// This process' CPU time (all threads), ms.
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
// onnxruntime-node's intra-op threads, the same for both engines (--threads N; 0 = onnxruntime's default).
const threadOptions = (args) => (args.threads ? { intraOpNumThreads: args.threads, interOpNumThreads: 1 } : {});

// ---- our runtime -----------------------------------------------------------
// bytes: hand onnxruntime every file's bytes (read whole into JS, as before
// ModelPackage.graphOnDisk) instead of the files' paths.
async function benchOurs(args, backend, { bytes = false, kvSharedBuffer = false, draftTokens = 6 } = {}) {
  const { loadCore, diskSource } = await import('../../tests/node/assistant_helpers.mjs');
  const { ModelPackage } = await import('../../web/assistant/package.js');
  const { folderSource } = await import('../../web/assistant/sources.js');
  const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
  let ort, eps;
  if (backend === 'node') { ort = (await import('onnxruntime-node')).default; eps = ['cpu']; }
  else { ort = await import('onnxruntime-web'); ort.env.wasm.numThreads = 1; eps = ['wasm']; }
  const { core, why } = await loadCore();
  if (!core) throw new Error(why);
  const pkg = await ModelPackage.open(bytes ? folderSource((p) => fs.promises.readFile(path.join(args.pkg, p)))
    : diskSource(args.pkg));
  const tLoad = performance.now();
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: eps, variant: args.variant,
    decoderGraph: args.decoder, sessionOptions: backend === 'node' ? threadOptions(args) : {}, kvSharedBuffer, draftTokens });
  const loadMs = performance.now() - tLoad;
  const runs = await runOurs({ rt, imageBytes: args.noImage ? null : fs.readFileSync(args.image), labelSet: core.labelSetForClassification(labelSetText()),
    repeat: args.repeat, tokens: args.tokens, cpu: cpuMs, repetitionPenalty: args.repetitionPenalty });
  await rt.release();
  return runs.map((r) => ({ ...r, loadMs }));
}

// ---- transformers.js -------------------------------------------------------
async function benchTjs(args, alt) {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = '/';
  return runTjs({ tjs, model: alt ? args.tjsPkg : args.pkg, device: 'cpu', dtype: args.variant === 'fp32' ? 'fp32' : 'q4',
    image: args.noImage ? null : await tjs.RawImage.read(args.image), labelsJson: labelSetText(), repeat: args.repeat, tokens: args.tokens,
    tjsLabels: args.tjsLabels, sessionOptions: threadOptions(args), cpu: cpuMs, repetitionPenalty: args.repetitionPenalty });
}

// ---- driver ----------------------------------------------------------------
async function child(args) {
  const runs = args.engine.startsWith('tjs') ? await benchTjs(args, args.engine === 'tjs-alt')
    : await benchOurs(args, args.engine.startsWith('ours-node') ? 'node' : 'wasm',
      { bytes: args.engine === 'ours-node-bytes', kvSharedBuffer: args.engine === 'ours-node-shared',
        draftTokens: args.engine.endsWith('-1tok') ? 0 : 6 });
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`\nRESULT ${JSON.stringify({ engine: args.engine, runs, maxRssMiB })}\n`);
}

// Medians over the counted runs of every round (each child's first run is its warm-up).
export function summarise(results) {
  const out = {};
  for (const [engine, rounds] of Object.entries(results)) {
    const runs = rounds.flatMap((r) => (r.runs.length > 1 ? r.runs.slice(1) : r.runs));
    const m = (k) => median(runs.map((x) => x[k]));
    const allGaps = runs.flatMap((x) => x.decodeGaps);
    const cpuGaps = runs.flatMap((x) => x.decodeCpuGaps ?? []).filter((x) => !Number.isNaN(x));
    out[engine] = {
      ttft1Cpu: m('ttft1Cpu'), decodeCpu: cpuGaps.length ? 1000 / median(cpuGaps) : NaN,
      ttft1: m('ttft1'), decode: 1000 / median(allGaps), decodeMean: m('decodeRate'), decodeCpuMean: m('decodeCpuRate'), ttft2: m('ttft2'),
      classifyMs: m('classifyMs'), rss: Math.max(...rounds.map((r) => r.maxRssMiB)), runs: runs.length,
      loadMs: median(rounds.map((r) => r.runs[0]?.loadMs).filter((x) => x !== undefined)),
      decodeSteps: allGaps.length, decoder: runs[0].decoder, first: runs[0],
      drafts: runs.some((x) => x.drafting) ? ['passes', 'drafted', 'kept'].map((k) => runs.reduce((n, x) => n + (x.drafting?.[k] ?? 0), 0)) : null,
      tokens: runs.reduce((n, x) => n + x.tokens1, 0),
    };
  }
  return out;
}

export function printTable(sum, engines, peer = 'tjs', log = console.log) {
  const ours = engines.filter((e) => e !== peer && sum[e]);
  const rows = [['time to first token', 'ttft1', 'ms', 'lower'], ['  (CPU time)', 'ttft1Cpu', 'ms', 'lower'],
    ['decode (median gap)', 'decode', 'tok/s', 'higher'], ['  (CPU time per token)', 'decodeCpu', 'tok/s', 'higher'],
    ['decode (whole answer)', 'decodeMean', 'tok/s', 'higher'], ['  (CPU time, whole answer)', 'decodeCpuMean', 'tok/s', 'higher'],
    ['second-turn first token', 'ttft2', 'ms', 'lower'],
    ['classify 23 labels', 'classifyMs', 'ms', 'lower'], ['load (sessions ready)', 'loadMs', 'ms', 'lower'],
    ['peak RSS', 'rss', 'MiB', 'lower']];
  const fmt = (x) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(x < 10 ? 2 : 0));
  log(`${''.padEnd(26)}${engines.map((e) => e.padStart(12)).join('')}         (ratio vs ${peer}: >1 = ours better)`);
  for (const [name, key, unit, better] of rows) {
    const v = (e) => sum[e]?.[key];
    const ratio = (e) => (v(e) && v(peer) ? (better === 'lower' ? v(peer) / v(e) : v(e) / v(peer)) : NaN);
    log(`${name.padEnd(26)}${engines.map((e) => fmt(v(e)).padStart(12)).join('')}  ${unit.padEnd(6)} ` +
      ours.map((e) => `${e} ${ratio(e).toFixed(2)}x`).join('  '));
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.engine) return child(args);
  let tmp = null;
  if (!args.pkg) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-bench-'));
    args.pkg = path.join(tmp, 'pkg');
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'), args.pkg, '--quiet']);
  }
  console.log(`package ${args.pkg} (${args.variant})${args.noImage ? ', text only' : ''}, ${args.tokens} new tokens, ${args.rounds} rounds x ${args.repeat} runs ` +
    `(first of each a warm-up), ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}` +
    (args.tjsPkg ? `; tjs-alt reads ${args.tjsPkg}` : '') +
    (args.repetitionPenalty !== 1 ? `; repetition penalty ${args.repetitionPenalty}` : '') +
    (args.tjsLabels < 23 ? `; transformers.js classify time scaled from ${args.tjsLabels} labels` : ''));
  const results = {};
  for (let round = 0; round < args.rounds; round++) {
    for (const engine of args.engines) {
      const childArgs = [fileURLToPath(import.meta.url), args.pkg, '--engine', engine, '--tokens', String(args.tokens),
        '--variant', args.variant, '--repeat', String(args.repeat), '--image', args.image, '--tjs-labels', String(args.tjsLabels)];
      if (args.tjsPkg) childArgs.push('--tjs-pkg', args.tjsPkg);
      if (args.decoder) childArgs.push('--decoder', args.decoder);
      childArgs.push('--threads', String(args.threads));
      if (args.noImage) childArgs.push('--no-image');
      childArgs.push('--repetition-penalty', String(args.repetitionPenalty));
      const r = spawnSync(process.execPath, childArgs, { encoding: 'utf8', maxBuffer: 1 << 26 });
      const m = /RESULT (.*)/.exec(r.stdout);
      if (!m) { console.log(`${engine}: failed\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`); continue; }
      (results[engine] ??= []).push(JSON.parse(m[1]));
    }
  }
  const sum = summarise(results);
  printTable(sum, args.engines);
  if (sum['tjs-alt']) {
    console.log(`\nagainst transformers.js on ${args.tjsPkg}:`);
    printTable(sum, args.engines.filter((e) => e !== 'tjs'), 'tjs-alt');
  }
  for (const [e, x] of Object.entries(sum)) {
    if (x.drafts && x.drafts[1]) console.log(`${e}: first answers ${x.tokens} tokens in ${x.drafts[0] + x.runs} decoder passes ` +
      `(prefill included); ${x.drafts[2]} of ${x.drafts[1]} drafts kept`);
  }
  const o = sum['ours-node']?.first, t = sum.tjs?.first;
  if (o) console.log(`ours: decoder graph ${o.decoder}; follow-up prefilled ${o.prefill2} new tokens, image encoded ${o.imageEncodes}x for both turns + classify`);
  if (t) console.log(`transformers.js follow-up: vision encoder ran ${t.followUpVisionRuns}x again, decoder prefilled ${t.prefill2} tokens (the whole conversation)`);
  console.log(`load average after: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ args, summary: sum, loadavg: os.loadavg() }, null, 1));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
