// Attention form for the decoder: plain ONNX ops vs com.microsoft GroupQueryAttention.
// Builds one mid-size random Gemma-3 checkpoint, converts it twice (--attention plain / gqa), then runs
// the q4 decoders on onnxruntime-web's WASM EP (Node) and WebGPU EP (headless Chromium, SwiftShader
// here) on the same inputs: correctness (max |logits(gqa) - logits(plain)|, and vs WASM) and speed
// (median ms of prefill and of decode steps at two past lengths). Prints a table and writes JSON.
//   node tools/bench/attention_bench.mjs [OUT_DIR=build-bench/attention]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = path.resolve(process.argv[2] || path.join(ROOT, 'build-bench/attention'));
const PY = process.env.ES_PYTHON || '/usr/bin/python3';
const SHAPE = { hidden: 1024, intermediate: 4096, heads: 8, kv_heads: 4, head_dim: 128, layers: 4,
  sliding_window: 512, sliding_pattern: 2 };
const SCENARIOS = [
  { name: 'prefill S=128', S: 128, P: 0, reps: 3 },
  { name: 'decode P=128', S: 1, P: 128, reps: 10 },
  { name: 'decode P=1024', S: 1, P: 1024, reps: 10 },
];

function prepare() {
  fs.mkdirSync(OUT, { recursive: true });
  const ck = path.join(OUT, 'ckpt');
  if (!fs.existsSync(path.join(ck, 'config.json'))) {
    const a = ['--layers', SHAPE.layers, '--hidden', SHAPE.hidden, '--intermediate', SHAPE.intermediate, '--heads', SHAPE.heads,
      '--kv-heads', SHAPE.kv_heads, '--head-dim', SHAPE.head_dim, '--query-pre-attn-scalar', SHAPE.head_dim,
      '--sliding-window', SHAPE.sliding_window, '--sliding-pattern', SHAPE.sliding_pattern, '--std', '0.03', '--seed', '11'];
    execFileSync(PY, [path.join(ROOT, 'tools/make_tiny_checkpoint.py'), ck, ...a.map(String)], { stdio: 'inherit' });
  }
  for (const att of ['plain', 'gqa']) {
    const p = path.join(OUT, att);
    if (!fs.existsSync(path.join(p, 'manifest.json')))
      execFileSync(PY, [path.join(ROOT, 'tools/build_model.py'), ck, p, '--quiet', '--attention', att, '--force'], { stdio: 'inherit' });
  }
}

// Deterministic inputs shared by both EPs (same generator in the page).
const INPUT_GEN = `
function inputs(ort, cfg, S, P) {
  let s = 12345; const rnd = () => { s = (s * 1103515245 + 12345) >>> 0; return (s / 4294967296) * 2 - 1; };
  const H = cfg.hidden_size, L = cfg.num_hidden_layers, kv = cfg.num_key_value_heads, D = cfg.head_dim, T = P + S;
  const f = {
    inputs_embeds: new ort.Tensor('float32', Float32Array.from({ length: S * H }, rnd), [1, S, H]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(P + i)), [1, S]),
  };
  for (let i = 0; i < L; i++) for (const k of ['key', 'value'])
    f['past_key_values.' + i + '.' + k] = new ort.Tensor('float32', Float32Array.from({ length: kv * P * D }, rnd), [1, kv, P, D]);
  return f;
}
async function bench(ort, session, cfg, sc) {
  const feeds = inputs(ort, cfg, sc.S, sc.P);
  let out = await session.run(feeds);            // warm-up (compiles kernels)
  const logits = Array.from(out.logits.data.slice(-cfg.vocab_size));
  const times = [];
  for (let r = 0; r < sc.reps; r++) { const t0 = performance.now(); out = await session.run(feeds); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  return { median_ms: times[times.length >> 1], logits };
}`;

const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

async function runWasm(cfg) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const { inputs: _i, bench } = new Function('return (function(){' + INPUT_GEN + '; return { inputs, bench }; })()')();
  const res = {};
  for (const att of ['plain', 'gqa']) {
    const dir = path.join(OUT, att, 'onnx');
    const s = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, 'decoder_model_merged_q4.onnx')), {
      executionProviders: ['wasm'],
      externalData: [{ path: 'decoder_model_merged_q4.onnx_data', data: fs.readFileSync(path.join(dir, 'decoder_model_merged_q4.onnx_data')) }],
    });
    res[att] = {};
    for (const sc of SCENARIOS) res[att][sc.name] = await bench(ort, s, cfg, sc);
    await s.release();
  }
  return res;
}

async function runWebGPU(cfg) {
  const { chromium } = await import('playwright-core');
  const files = { '/ort/': path.join(ROOT, 'node_modules/onnxruntime-web/dist/'), '/pkg/': OUT + '/' };
  const page_html = `<!doctype html><script type="module">
    import * as ort from '/ort/ort.webgpu.min.mjs';
    ort.env.wasm.numThreads = 1;
    ${INPUT_GEN}
    window.runBench = async (cfg, scenarios) => {
      if (!navigator.gpu) throw new Error('no navigator.gpu');
      const res = {};
      for (const att of ['plain', 'gqa']) {
        const base = '/pkg/' + att + '/onnx/';
        const s = await ort.InferenceSession.create(base + 'decoder_model_merged_q4.onnx', {
          executionProviders: ['webgpu'], externalData: [{ path: 'decoder_model_merged_q4.onnx_data', data: base + 'decoder_model_merged_q4.onnx_data' }] });
        res[att] = {};
        for (const sc of scenarios) res[att][sc.name] = await bench(ort, s, cfg, sc);
        await s.release();
      }
      return res;
    };
    window.ready = true;
  </script>`;
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    if (url === '/') { res.writeHead(200, { 'content-type': 'text/html' }); return res.end(page_html); }
    for (const [prefix, dir] of Object.entries(files)) {
      if (url.startsWith(prefix)) {
        const f = path.join(dir, url.slice(prefix.length));
        if (!f.startsWith(dir) || !fs.existsSync(f)) break;
        const type = f.endsWith('.mjs') ? 'text/javascript' : f.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type }); return fs.createReadStream(f).pipe(res);
      }
    }
    res.writeHead(404); res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bench-chrome-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: '/usr/bin/chromium', headless: false,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
      '--use-angle=swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.ready === true, null, { timeout: 60000 });
    const adapter = await page.evaluate(async () => { const a = await navigator.gpu.requestAdapter(); return a?.info ? `${a.info.vendor} ${a.info.architecture} ${a.info.description}` : String(!!a); });
    const res = await page.evaluate(([c, s]) => window.runBench(c, s), [cfg, SCENARIOS]);
    return { adapter, res };
  } finally {
    await ctx.close(); server.close(); fs.rmSync(userDir, { recursive: true, force: true });
  }
}

prepare();
const cfg = JSON.parse(fs.readFileSync(path.join(OUT, 'plain/manifest.json'), 'utf8')).model;
const wasm = await runWasm(cfg);
let webgpu = null, webgpuError = null;
try { webgpu = await runWebGPU(cfg); } catch (e) { webgpuError = String(e.message || e); }
const rows = [];
for (const sc of SCENARIOS) {
  const row = { scenario: sc.name };
  row.wasm_plain_ms = wasm.plain[sc.name].median_ms; row.wasm_gqa_ms = wasm.gqa[sc.name].median_ms;
  row.wasm_gqa_vs_plain = row.wasm_gqa_ms / row.wasm_plain_ms;
  row.wasm_maxdiff_gqa_plain = maxDiff(wasm.gqa[sc.name].logits, wasm.plain[sc.name].logits);
  if (webgpu) {
    const w = webgpu.res;
    row.webgpu_plain_ms = w.plain[sc.name].median_ms; row.webgpu_gqa_ms = w.gqa[sc.name].median_ms;
    row.webgpu_gqa_vs_plain = row.webgpu_gqa_ms / row.webgpu_plain_ms;
    row.webgpu_maxdiff_gqa_plain = maxDiff(w.gqa[sc.name].logits, w.plain[sc.name].logits);
    row.webgpu_plain_vs_wasm_maxdiff = maxDiff(w.plain[sc.name].logits, wasm.plain[sc.name].logits);
    row.webgpu_gqa_vs_wasm_maxdiff = maxDiff(w.gqa[sc.name].logits, wasm.plain[sc.name].logits);
  }
  rows.push(row);
}
const report = { shape: SHAPE, variant: 'q4 decoder (MatMulNBits, block 32)', webgpu_adapter: webgpu?.adapter, webgpuError, rows,
  host: `${os.cpus()[0].model} x${os.cpus().length}`, date: new Date().toISOString() };
fs.writeFileSync(path.join(OUT, 'attention_bench.json'), JSON.stringify(report, null, 1));
console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? +v.toPrecision(4) : v]))));
if (webgpuError) console.log('WebGPU failed:', webgpuError);
console.log('adapter:', webgpu?.adapter, '\nwritten', path.join(OUT, 'attention_bench.json'));
