// server_bench.mjs: endoscribe-server (OpenAI API, continuous batching) against
// transformers.js under onnxruntime-node on the same package, the same machine,
// in the same run: time to first token, per-client decode tokens/s and
// aggregate tokens/s with 1, 4 and 16 concurrent clients.
//
//   node tools/bench/server_bench.mjs [PKG] [--variant fp32|q4] [--clients 1,4,16] [--tokens 64]
//        [--rounds 2] [--no-image] [--tjs-spin] [--json OUT]
//
// PKG defaults to the tiny oracle built by tools/build_model.py into a temp folder.
// Every client sends its own image (a different picture: no image cache hit) and
// its own text first (no shared KV prefix beyond the chat template), greedy.
//
// Peer, given its best configuration: transformers.js 4.x
// Gemma3ForConditionalGeneration.generate() in this process (no HTTP in its way),
// same dtype, onnxruntime-node CPU EP, onnxruntime's default threads as in the
// server, worker spinning off as in the server, warmed up, KV cache on; N
// clients are N concurrent generate() calls (transformers.js has no batching
// across requests; onnxruntime-node runs them concurrently on its thread pool).
// Rounds alternate engines (ours N=1, theirs N=1, ours N=4, ...); medians over rounds.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.resolve(ROOT, process.env.ES_BUILD_DIR || 'build');
const SERVER = path.join(BUILD, 'native/server/endoscribe-server');
const QUESTION = 'What is shown in this image?';

function parseArgs(argv) {
  const a = { pkg: null, variant: 'fp32', clients: [1, 4, 16], tokens: 64, rounds: 2, image: true, json: null, tjsSpin: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--variant') a.variant = argv[++i];
    else if (v === '--clients') a.clients = argv[++i].split(',').map(Number);
    else if (v === '--tokens') a.tokens = Number(argv[++i]);
    else if (v === '--rounds') a.rounds = Number(argv[++i]);
    else if (v === '--no-image') a.image = false;
    else if (v === '--json') a.json = argv[++i];
    else if (v === '--tjs-spin') a.tjsSpin = true;
    else if (!v.startsWith('--')) a.pkg = path.resolve(v);
    else throw new Error(`unknown argument ${v}`);
  }
  return a;
}

// A 64x64 RGB picture, different for every (round, client): mucosa-like stripes and a blob.
function picture(seed, size = 64) {
  const rgb = new Uint8Array(size * size * 3);
  const cx = 16 + (seed * 7) % 32, cy = 16 + (seed * 13) % 32;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      const blob = (x - cx) ** 2 + (y - cy) ** 2 < 90;
      rgb[i] = blob ? 170 : 200 + 30 * Math.sin((x + seed) / 7);
      rgb[i + 1] = blob ? 40 : 110 + 20 * Math.cos((y + seed) / 5);
      rgb[i + 2] = blob ? 50 : 120;
    }
  }
  return { rgb, width: size, height: size };
}

// Uncompressed 24-bit BMP (the server's decoder reads BMP; no encoder needed here).
function bmp({ rgb, width, height }) {
  const row = Math.ceil((width * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + row * height);
  buf.write('BM', 0);
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);  // bottom-up
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++) {
    const dst = 54 + (height - 1 - y) * row;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      buf[dst + x * 3] = rgb[s + 2];
      buf[dst + x * 3 + 1] = rgb[s + 1];
      buf[dst + x * 3 + 2] = rgb[s];
    }
  }
  return buf;
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// One client's figures from its token arrival times.
function clientFigures(t0, times) {
  const ttft = times[0] - t0;
  const decode = times.length > 1 ? (times.length - 1) / ((times.at(-1) - times[0]) / 1000) : NaN;
  return { ttft, decode, tokens: times.length, end: times.at(-1) };
}

function roundFigures(t0, clients) {
  const total = clients.reduce((n, c) => n + c.tokens, 0);
  const end = Math.max(...clients.map((c) => c.end));
  return { ttft: median(clients.map((c) => c.ttft)), decode: median(clients.map((c) => c.decode)),
    aggregate: total / ((end - t0) / 1000), tokens: total };
}

// ---- ours: endoscribe-server -----------------------------------------------

function startServer(args) {
  return new Promise((resolve, reject) => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bench-app-'));
    fs.writeFileSync(path.join(app, 'index.html'), '<!doctype html>');
    const proc = spawn(SERVER, ['--root', app, '--config', path.join(ROOT, 'server/config.json'), '--port', '0',
      '--model', args.pkg, '--model-name', 'bench', '--variant', args.variant, '--cpu', '--max-queue', '1024'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/[^\s/]+:(\d+)\//.exec(out);
      if (m) resolve({ proc, url: `http://127.0.0.1:${m[1]}`, log: () => err, stop: () => proc.kill('SIGTERM') });
    });
  }).then(async (srv) => {
    // The model loads after the server listens; measure only once it is in.
    for (;;) {
      const h = await (await fetch(`${srv.url}/health`)).json();
      if (h.status === 'ready') return srv;
      if (h.status !== 'loading') throw new Error(`the model did not load: ${h.error ?? h.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
}

async function oursRound(client, n, round, args) {
  const t0 = performance.now();
  const clients = await Promise.all(Array.from({ length: n }, async (_, k) => {
    const seed = round * 1000 + k;
    const content = [{ type: 'text', text: `Client ${seed}. ` }];
    if (args.image) content.push({ type: 'image_url', image_url: { url: 'data:image/bmp;base64,' + bmp(picture(seed)).toString('base64') } });
    content.push({ type: 'text', text: QUESTION });
    const stream = await client.chat.completions.create({ model: 'bench', messages: [{ role: 'user', content }],
      temperature: 0, max_tokens: args.tokens, stream: true });
    const times = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.content !== undefined && chunk.choices[0].delta.content !== '') times.push(performance.now());
    return clientFigures(t0, times);
  }));
  return roundFigures(t0, clients);
}

// ---- peer: transformers.js -------------------------------------------------

async function loadTjs(args) {
  const tjs = await import('@huggingface/transformers');
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = '/';
  const processor = await tjs.AutoProcessor.from_pretrained(args.pkg);
  // Spinning off, as in the server (it was the better setting for both here); --tjs-spin turns it on.
  const session_options = args.tjsSpin ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } };
  const model = await tjs.Gemma3ForConditionalGeneration.from_pretrained(args.pkg, { dtype: args.variant === 'fp32' ? 'fp32' : 'q4',
    device: 'cpu', session_options });
  // The tiny oracle's tokenizer writes a soft-token id that may differ from config.image_token_index: map it.
  const tok = processor.tokenizer;
  const imageTokenId = model.config.image_token_index ?? model.config.image_token_id;
  const softIds = Array.from(tok('<image_soft_token>', { add_special_tokens: false }).input_ids.data, Number);
  const softId = softIds.length === 1 ? softIds[0] : undefined;
  return { tjs, processor, model, tok, imageTokenId, softId };
}

async function tjsRound(t, n, round, args) {
  const { tjs, processor, model, tok, imageTokenId, softId } = t;
  const t0 = performance.now();
  const clients = await Promise.all(Array.from({ length: n }, async (_, k) => {
    const seed = round * 1000 + k;
    const text = processor.apply_chat_template([{ role: 'user', content: `Client ${seed}. ${args.image ? '<start_of_image>' : ''}${QUESTION}` }],
      { add_generation_prompt: true });
    let inputs;
    if (args.image) {
      const p = picture(seed);
      inputs = await processor(text, new tjs.RawImage(p.rgb, p.width, p.height, 3), { add_special_tokens: false });
    } else {
      inputs = tok(text, { add_special_tokens: false });
    }
    if (softId !== undefined && softId !== imageTokenId) {
      const d = inputs.input_ids.data;
      for (let i = 0; i < d.length; i++) if (Number(d[i]) === softId) d[i] = BigInt(imageTokenId);
    }
    const times = [];
    let prompt = true;
    const streamer = { put() { if (prompt) { prompt = false; return; } times.push(performance.now()); }, end() {} };
    await model.generate({ ...inputs, max_new_tokens: args.tokens, do_sample: false, streamer });
    return clientFigures(t0, times);
  }));
  return roundFigures(t0, clients);
}

// ---- run -------------------------------------------------------------------

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(SERVER)) throw new Error(`build the server first: ${SERVER}`);
  let built = null;
  if (!args.pkg) {
    built = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bench-pkg-'));
    fs.rmdirSync(built);
    execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(ROOT, 'tests/fixtures/tiny-gemma3/checkpoint'), built, '--quiet'], { stdio: 'inherit' });
    args.pkg = built;
  }
  console.log(`package ${args.pkg} (${args.variant}), ${args.tokens} tokens per answer, ${args.image ? 'an image per client' : 'text only'}, ` +
    `${args.rounds} rounds after a warm-up, onnxruntime's default threads, transformers.js spinning ${args.tjsSpin ? 'on' : 'off'}; ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const server = await startServer(args);
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
  const tjs = await loadTjs(args);
  // Warm-up: both engines, every concurrency once.
  for (const n of args.clients) {
    await oursRound(client, n, 900 + n, args);
    await tjsRound(tjs, n, 900 + n, args);
  }
  const results = {};
  for (const n of args.clients) {
    const ours = [], theirs = [];
    for (let r = 0; r < args.rounds; r++) {
      ours.push(await oursRound(client, n, r * 10 + n, args));
      theirs.push(await tjsRound(tjs, n, r * 10 + n, args));
    }
    const sum = (rs) => ({ ttft: median(rs.map((x) => x.ttft)), decode: median(rs.map((x) => x.decode)), aggregate: median(rs.map((x) => x.aggregate)) });
    results[n] = { ours: sum(ours), tjs: sum(theirs), rounds: { ours, tjs: theirs } };
  }
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  server.stop();
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log('\nclients | TTFT ms ours vs tjs (tjs/ours) | decode tok/s per client ours vs tjs (ours/tjs) | aggregate tok/s ours vs tjs (ours/tjs)');
  for (const n of args.clients) {
    const { ours: o, tjs: t } = results[n];
    console.log(`${String(n).padStart(7)} | ${f(o.ttft)} vs ${f(t.ttft)} (${f(t.ttft / o.ttft, 2)}x) | ${f(o.decode)} vs ${f(t.decode)} (${f(o.decode / t.decode, 2)}x) | ` +
      `${f(o.aggregate)} vs ${f(t.aggregate)} (${f(o.aggregate / t.aggregate, 2)}x)`);
  }
  const widest = /^endoscribe_max_batch_observed (\S+)$/m.exec(metrics);
  console.log(`\nserver: widest decode batch ${widest ? widest[1] : '?'}; ratios > 1 = ours better`);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ args, results }, null, 1));
  if (built) fs.rmSync(built, { recursive: true, force: true });
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
