// Runs a (full-size) package end to end under onnxruntime-node with three engines, each in its own process:
//   ours         web/assistant/runtime.js + the WASM core, decoder_fused on the CPU EP (image tokens bidirectional)
//   ours-causal  the same runtime on decoder_model_merged (causal image tokens: transformers.js' graph)
//   tjs          transformers.js 4.x Gemma3ForConditionalGeneration.generate, dtype q4, device cpu
//   ours-chromium  the app's runtime in headless Chromium (the e2e harness' flags), onnxruntime-web's WASM EP
//                (the app's choice on a software adapter), the package fetched from a local origin as Blobs
// Same prompt for all: `ours` builds it (chat template + image, core preprocessing) and hands the prompt ids
// and pixel values to the others. Reports load time, time to first token (image encode + prefill), decode
// tokens/s, peak RSS and the first tokens; ours-causal and tjs run the same graphs, so their tokens must agree.
//
//   node tools/bench/fullsize_run.mjs PACKAGE [--tokens 16] [--variant q4] [--image FILE] [--engines ours,ours-causal,tjs]
//     [--draft-tokens 6]   (our runtime's prompt-lookup drafts per step; 0 = one token per decoder run)
//     [--ort-options JSON] (extra onnxruntime session options for our engines, e.g. '{"enableCpuMemArena":false}')
// (one of ours / ours-causal must run before tjs: it writes the prompt; ours and ours-chromium run the same graph
// on two backends, so their first tokens and first-step logits are compared)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const QUESTION = 'What is shown in this image?';

function parseArgs(argv) {
  const a = { pkg: null, tokens: 16, variant: 'q4', engine: null, image: '', engines: ['ours', 'ours-causal', 'tjs'], prompt: null,
    draftTokens: 6, ortOptions: {} };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--tokens') a.tokens = Number(argv[++i]);
    else if (v === '--variant') a.variant = argv[++i];
    else if (v === '--engine') a.engine = argv[++i];
    else if (v === '--engines') a.engines = argv[++i].split(',');
    else if (v === '--image') a.image = argv[++i];
    else if (v === '--prompt') a.prompt = argv[++i];
    else if (v === '--draft-tokens') a.draftTokens = Number(argv[++i]);
    else if (v === '--ort-options') a.ortOptions = JSON.parse(argv[++i]);
    else a.pkg = path.resolve(v);
  }
  if (!a.image) {
    const ds = process.env.ES_DATASETS || path.join(ROOT, '../shared/datasets');
    const dir = path.join(ds, 'kvasir-seg/images');
    const first = fs.existsSync(dir) ? fs.readdirSync(dir).sort().find((f) => /\.jpe?g$/i.test(f)) : null;
    a.image = first ? path.join(dir, first) : path.join(ROOT, 'tests/fixtures/tiny-gemma3/golden/image.png');
  }
  return a;
}

// Wraps session.run to keep the last logits row of its first call (the prefill), written to FILE.
function keepFirstLogits(session, file, vocab) {
  const run = session.run.bind(session);
  let done = false;
  session.run = async (...a) => {
    const out = await run(...a);
    if (!done && out.logits) {
      done = true;
      const d = out.logits.location && out.logits.location !== 'cpu' ? await out.logits.getData() : out.logits.data;
      const row = Float32Array.from(d.subarray(d.length - vocab));
      fs.writeFileSync(file, Buffer.from(row.buffer));
    }
    return out;
  };
}

function top(row, k) {
  return Array.from(row.keys()).sort((a, b) => row[b] - row[a]).slice(0, k);
}

async function ours(args, causal) {
  const { loadCore, diskSource } = await import('../../tests/node/assistant_helpers.mjs');
  const { ModelPackage } = await import('../../web/assistant/package.js');
  const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
  const ort = (await import('onnxruntime-node')).default;
  const { core, why } = await loadCore();
  if (!core) throw new Error(why);
  const t0 = performance.now();
  // On disk: onnxruntime-node reads the graphs by path (no weights held in JS while sessions load).
  const pkg = await ModelPackage.open(diskSource(args.pkg), { verify: false });
  if (causal) {  // hide the token-type decoders: the runtime then loads decoder_model_merged, as transformers.js does
    const graphPath = pkg.graphPath.bind(pkg);
    pkg.graphPath = (g, v) => (g === 'decoder_token_types' || g === 'decoder_fused' ? null : graphPath(g, v));
  }
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['cpu'], variant: args.variant,
    draftTokens: args.draftTokens, sessionOptions: args.ortOptions });
  const loadMs = performance.now() - t0;
  keepFirstLogits(rt.decoder, `${args.prompt}.${args.engine}.logits`, pkg.model.vocab_size);
  const bytes = fs.readFileSync(args.image);
  const conv = rt.newConversation();
  let first = null;
  const t1 = performance.now();
  const tEnc0 = performance.now();
  await rt.encodeImage({ key: 'img', bytes });
  const encodeMs = performance.now() - tEnc0;
  const r = await rt.ask(conv, QUESTION, { image: { key: 'img', bytes }, generation: { max_new_tokens: args.tokens },
    onToken: () => { if (first === null) first = performance.now(); } }).promise;
  const end = performance.now();
  const all = conv.chat.tokens();
  const promptIds = all.slice(0, all.length - r.ids.length);
  const px = core.preprocessImage(bytes, pkg.preprocessorConfigText);
  if (!fs.existsSync(args.prompt + '.json')) {  // the first of our engines to run writes the shared prompt
    fs.writeFileSync(args.prompt + '.json', JSON.stringify({ ids: promptIds, dims: px.dims }));
    fs.writeFileSync(args.prompt + '.f32', Buffer.from(px.data.buffer, px.data.byteOffset, px.data.byteLength));
  }
  const decodeRate = (r.ids.length - 1) / ((end - first) / 1000);
  return { loadMs, encodeMs, ttftMs: first - t1, decodeRate, ids: r.ids, promptTokens: promptIds.length, ep: rt.ep,
    decoder: rt.decoderGraph, drafting: r.drafting,
    estimateGiB: rt.memoryEstimate ? rt.memoryEstimate.total / 2 ** 30 : null };
}

async function tjs(args) {
  const { Gemma3ForConditionalGeneration, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = '/';
  const t0 = performance.now();
  const model = await Gemma3ForConditionalGeneration.from_pretrained(args.pkg, { dtype: args.variant, device: 'cpu' });
  const loadMs = performance.now() - t0;
  const p = JSON.parse(fs.readFileSync(args.prompt + '.json', 'utf8'));
  const pxBuf = fs.readFileSync(args.prompt + '.f32');
  const px = new Float32Array(pxBuf.buffer, pxBuf.byteOffset, pxBuf.byteLength / 4);
  let encodeMs = 0;
  keepFirstLogits(model.sessions.decoder_model_merged, `${args.prompt}.tjs.logits`, model.config.text_config.vocab_size);
  const s = model.sessions.vision_encoder;
  const run = s.run.bind(s);
  s.run = async (...a) => { const t = performance.now(); const o = await run(...a); encodeMs += performance.now() - t; return o; };
  const times = [];
  const streamer = { put() { times.push(performance.now()); }, end() {} };
  const t1 = performance.now();
  const out = await model.generate({ input_ids: new Tensor('int64', BigInt64Array.from(p.ids, BigInt), [1, p.ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(p.ids.length).fill(1n), [1, p.ids.length]),
    pixel_values: new Tensor('float32', px, p.dims), max_new_tokens: args.tokens, do_sample: false, streamer });
  const end = performance.now();
  const ids = Array.from(out.data, Number).slice(p.ids.length);
  // streamer.put is called with the prompt first, then once per new token
  const firstAt = times[1];
  await model.dispose();
  return { loadMs, encodeMs, ttftMs: firstAt - t1, decodeRate: (ids.length - 1) / ((end - firstAt) / 1000), ids,
    promptTokens: p.ids.length };
}

// The app's runtime in headless Chromium on onnxruntime-web's WASM EP: the same image bytes, question and greedy
// decoding as `ours`; the first-step logits come back as base64 float32.
async function oursChromium(args) {
  const { startServer, missingPrerequisites } = await import('../../tests/e2e/harness.mjs');
  const { fileServer, openAppPage, peakMiB } = await import('./browser_bench_helpers.mjs');
  const why = missingPrerequisites();
  if (why) throw new Error(why);
  const server = await startServer();
  const files = await fileServer({ dirs: [['/pkg/', args.pkg]], files: { '/image': path.resolve(args.image) } });
  let app = null;
  try {
    app = await openAppPage(server.url);
    const { page, profile } = app;
    const r = await page.evaluate(async (o) => {
      const { AssistantRuntime } = await import('/assistant/runtime.js');
      const { ModelPackage } = await import('/assistant/package.js');
      const { Core } = await import('/assistant/core.js');
      const ort = await import('/ort/ort.webgpu.min.mjs');
      const core = new Core(window.endoscribe.module());
      const get = async (p) => {
        const res = await fetch(o.base + 'pkg/' + p);
        if (!res.ok) throw new Error(`${p}: HTTP ${res.status}`);
        return res;
      };
      const t0 = performance.now();
      // As the app's cached source: small files as bytes, weights as Blobs (onnxruntime-web reads them itself).
      const pkg = await ModelPackage.open({ read: async (p) => new Uint8Array(await (await get(p)).arrayBuffer()),
        blob: async (p) => (await get(p)).blob() }, { verify: false });
      const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: o.variant,
        sessionOptions: { logSeverityLevel: 3, ...o.ortOptions }, draftTokens: o.draftTokens });
      const loadMs = performance.now() - t0;
      const V = pkg.model.vocab_size;
      let logits = null;
      const run = rt.decoder.run.bind(rt.decoder);
      rt.decoder.run = async (...a) => {
        const out = await run(...a);
        if (!logits && out.logits) {
          const row = new Uint8Array(Float32Array.from(out.logits.data.subarray(out.logits.data.length - V)).buffer);
          let s = '';
          for (let i = 0; i < row.length; i += 0x8000) s += String.fromCharCode.apply(null, row.subarray(i, i + 0x8000));
          logits = btoa(s);
        }
        return out;
      };
      const bytes = new Uint8Array(await (await fetch(o.base + 'image')).arrayBuffer());
      const conv = rt.newConversation();
      let first = null;
      const t1 = performance.now();
      try {
        await rt.encodeImage({ key: 'img', bytes });
      } catch (e) { throw new Error(`image encode: ${e.message}`); }
      const encodeMs = performance.now() - t1;
      let a;
      try {
        a = await rt.ask(conv, o.question, { image: { key: 'img', bytes }, generation: { max_new_tokens: o.tokens },
          onToken: () => { if (first === null) first = performance.now(); } }).promise;
      } catch (e) { throw new Error(`${first === null ? 'prefill' : 'decode'}: ${e.message}`); }
      const end = performance.now();
      const all = conv.chat.tokens();
      return { loadMs, encodeMs, ttftMs: first - t1, decodeRate: (a.ids.length - 1) / ((end - first) / 1000), ids: a.ids,
        promptTokens: all.length - a.ids.length, ep: rt.ep, decoder: rt.decoderGraph, drafting: a.drafting, logits,
        estimateGiB: rt.memoryEstimate ? rt.memoryEstimate.total / 2 ** 30 : null, notices: rt.notices };
    }, { base: files.url, variant: args.variant, tokens: args.tokens, question: QUESTION, draftTokens: args.draftTokens,
      ortOptions: args.ortOptions });
    r.maxRssMiB = peakMiB(profile);
    const b = Buffer.from(r.logits, 'base64');
    fs.writeFileSync(`${args.prompt}.${args.engine}.logits`, b);
    delete r.logits;
    return r;
  } finally {
    await app?.close();
    files.close();
    await server.stop();
  }
}

async function child(args) {
  if (args.engine === 'ours-chromium') {  // the browser's memory, not this process'
    process.stdout.write(`\nRESULT ${JSON.stringify(await oursChromium(args))}\n`);
    return;
  }
  const r = args.engine === 'tjs' ? await tjs(args) : await ours(args, args.engine === 'ours-causal');
  r.maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`\nRESULT ${JSON.stringify(r)}\n`);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.engine) return child(args);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-fullsize-'));
  const prompt = path.join(tmp, 'prompt');
  const manifest = JSON.parse(fs.readFileSync(path.join(args.pkg, 'manifest.json'), 'utf8'));
  const m = manifest.model;
  console.log(`package ${args.pkg} (${args.variant}): ${m.num_hidden_layers} layers, hidden ${m.hidden_size}, vocab ${m.vocab_size}, ` +
    `image ${m.image_size} px; image ${args.image}; ${args.tokens} new tokens; ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
  const results = {};
  for (const engine of args.engines) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), args.pkg, '--engine', engine, '--tokens', String(args.tokens),
      '--variant', args.variant, '--image', args.image, '--prompt', prompt, '--draft-tokens', String(args.draftTokens),
      '--ort-options', JSON.stringify(args.ortOptions)],
      { encoding: 'utf8', maxBuffer: 1 << 26 });
    const mm = /RESULT (.*)/.exec(r.stdout);
    if (!mm) { console.log(`${engine}: failed (exit ${r.status})\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`); continue; }
    results[engine] = JSON.parse(mm[1]);
    console.log(`${engine}: ${JSON.stringify(results[engine])}`);
  }
  const engines = Object.keys(results);
  const f = (x, d = 0) => (x === undefined || x === null ? '-' : x.toFixed(d));
  console.log(`\n| | ${engines.join(' | ')} |\n|---|${engines.map(() => '---').join('|')}|`);
  console.log(`| load (s) | ${engines.map((e) => f(results[e].loadMs / 1000, 1)).join(' | ')} |`);
  console.log(`| image encode (s) | ${engines.map((e) => f(results[e].encodeMs / 1000, 1)).join(' | ')} |`);
  console.log(`| time to first token, image + ${results[engines[0]]?.promptTokens} prompt tokens (s) | ${engines.map((e) => f(results[e].ttftMs / 1000, 1)).join(' | ')} |`);
  console.log(`| decode (tokens/s) | ${engines.map((e) => f(results[e].decodeRate, 2)).join(' | ')} |`);
  console.log(`| peak RSS (GiB) | ${engines.map((e) => f(results[e].maxRssMiB / 1024, 2)).join(' | ')} |`);
  console.log(`| first tokens | ${engines.map((e) => results[e].ids.slice(0, 8).join(' ')).join(' | ')} |`);
  const logits = (e) => { try { const b = fs.readFileSync(`${prompt}.${e}.logits`); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); } catch { return null; } };
  for (const e of engines) { const l = logits(e); if (l) console.log(`${e}: first-step top-5 ids ${top(l, 5).join(' ')}`); }
  for (const [x, y] of [['ours-causal', 'tjs'], ['ours', 'ours-chromium']]) {
    const la = logits(x), lb = logits(y);
    if (!la || !lb) continue;
    let d = 0;
    for (let i = 0; i < la.length; i++) d = Math.max(d, Math.abs(la[i] - lb[i]));
    console.log(`first-step logits (${la.length} values), ${x} vs ${y}: max |diff| ${d.toExponential(2)}`);
    const ta = results[x].ids, tb = results[y].ids;
    let n = 0;
    while (n < Math.min(ta.length, tb.length) && ta[n] === tb[n]) n++;
    console.log(`${x} vs ${y}: first ${n} of ${Math.min(ta.length, tb.length)} tokens identical`);
  }
  if (results.ours && results.tjs) console.log(`decode ours / transformers.js = ${(results.ours.decodeRate / results.tjs.decodeRate).toFixed(2)}x; ` +
    `time to first token transformers.js / ours = ${(results.tjs.ttftMs / results.ours.ttftMs).toFixed(2)}x`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

await main();
