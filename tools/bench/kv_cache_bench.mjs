// kv_cache_bench.mjs: what a decode step costs at P cached positions, and what the KV cache holds, for the
// KV cache forms of PACKAGE.md ("KV cache forms"). Not part of the test suite.
//
//   node tools/bench/kv_cache_bench.mjs PACKAGE_DIR [--variant q4] [--positions 64,512,2048] [--steps 24]
//     [--rounds 3] [--threads 1] [--ep node|wasm]
//
// One process, onnxruntime-node's CPU EP (--ep wasm: onnxruntime-web's WASM EP in Node), raw decoder
// sessions (no runtime, no tokenizer): for each P the cache is filled by one prefill of P random
// embeddings, then decode steps run from P in turn, round by round (so a busy machine slows them alike):
//   whole   decoder_model_merged (transformers.js' graph: plain ops, every layer keeps the whole history,
//           the history copied by Concat each step)
//   copy    decoder_fused fed present -> past (the sliding layers keep their window; GroupQueryAttention
//           copies the global layers' history into a new present each step)
//   shared  decoder_fused with each global layer's past bound as its present too: one preallocated buffer
//           per layer (capacity: the next power of two >= P + steps) that onnxruntime appends to in place
//           (onnxruntime-node only: onnxruntime-web copies every tensor into the WASM heap)
// Reported per form: median CPU time per step (process.cpuUsage: the work itself, whatever else runs on
// the machine; 1 onnxruntime thread), median wall time per step, and the bytes of KV cache the step is fed.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { openGraphSession } from './decoder_session.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(ROOT, 'package.json'));

const args = { variant: 'q4', positions: [64, 512, 2048], steps: 24, rounds: 3, threads: 1, ep: 'node' };
const argv = process.argv.slice(2);
const dir = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
for (let i = 0; i < argv.length; i++) {
  const v = argv[i];
  if (v === '--variant') args.variant = argv[++i];
  else if (v === '--positions') args.positions = argv[++i].split(',').map(Number);
  else if (v === '--steps') args.steps = Number(argv[++i]);
  else if (v === '--rounds') args.rounds = Number(argv[++i]);
  else if (v === '--threads') args.threads = Number(argv[++i]);
  else if (v === '--ep') args.ep = argv[++i];
}
if (!dir) { console.error('usage: node tools/bench/kv_cache_bench.mjs PACKAGE_DIR [--variant q4] [--positions 64,512,2048]'); process.exit(2); }

const ort = await import(require.resolve(args.ep === 'wasm' ? 'onnxruntime-web' : 'onnxruntime-node'));
if (args.ep === 'wasm') ort.env.wasm.numThreads = args.threads;
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const m = manifest.model;
const { num_hidden_layers: L, num_key_value_heads: nKV, head_dim: D, hidden_size: H } = m;
const open = (graph) => openGraphSession(ort, dir, manifest, graph, args.variant, args);
const kvType = (s) => s.inputMetadata.find((x) => x.name === 'past_key_values.0.key').type;
const zerosOf = (type, n) => (type === 'float16' ? new Uint16Array(n) : new Float32Array(n));
const windowLayers = (graph) => new Set((manifest.builder.kv_cache?.window ?? []).includes(graph)
  ? m.layer_types.map((k, i) => (k === 'sliding_attention' ? i : -1)).filter((i) => i >= 0) : []);
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function embeds(S, type) {
  const a = new Float32Array(S * H);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37) * 0.5;
  if (type === 'float16') throw new Error('f16 variants: not handled by this bench');
  return new ort.Tensor('float32', a, [1, S, H]);
}

// A decoder and its cache; step() runs one token at position `length`.
class Form {
  constructor(name, session, graph, shared) {
    Object.assign(this, { name, session, graph, shared, windowed: windowLayers(graph), type: kvType(session),
      hasTypes: session.inputNames.includes('token_type_ids') });
    this.cpu = []; this.wall = [];
  }
  feeds(S, P) {
    const T = P + S;
    const f = {
      inputs_embeds: embeds(S, this.type),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(P + i)), [1, S]),
    };
    if (this.hasTypes) {
      f.token_type_ids = new ort.Tensor('int64', new BigInt64Array(S), [1, S]);
      f.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([1n]), []);
    }
    return f;
  }
  async fill(P, capacity) {
    const past = {};
    for (let i = 0; i < L; i++) for (const k of ['key', 'value'])
      past[`past_key_values.${i}.${k}`] = new ort.Tensor(this.type, zerosOf(this.type, 0), [1, nKV, 0, D]);
    const out = await this.session.run({ ...this.feeds(P, 0), ...past });
    this.past = {};
    for (const n of Object.keys(past)) {
      const t = out[n.replace('past_key_values', 'present')];
      const layer = Number(n.split('.')[1]);
      if (this.shared && !this.windowed.has(layer)) {  // copy the prefill's rows into a buffer of `capacity` rows
        const data = zerosOf(this.type, nKV * capacity * D);
        for (let h = 0; h < nKV; h++) data.set(t.data.subarray(h * P * D, (h + 1) * P * D), h * capacity * D);
        this.past[n] = new ort.Tensor(this.type, data, [1, nKV, capacity, D]);
      } else this.past[n] = t;
    }
    this.length = P;
  }
  bytes() {
    let n = 0;
    for (const [name, t] of Object.entries(this.past)) {
      const layer = Number(name.split('.')[1]);
      const rows = this.shared && !this.windowed.has(layer) ? this.length : t.dims[2];
      n += nKV * rows * D * (this.type === 'float16' ? 2 : 4);
    }
    return n;
  }
  async step() {
    const feeds = { ...this.feeds(1, this.length), ...this.past };
    let fetches;
    if (this.shared) {
      fetches = {};
      for (const o of this.session.outputNames) fetches[o] = null;
      for (const [n, t] of Object.entries(this.past))
        if (!this.windowed.has(Number(n.split('.')[1]))) fetches[n.replace('past_key_values', 'present')] = t;
    }
    const c0 = cpuMs(), w0 = performance.now();
    const out = fetches ? await this.session.run(feeds, fetches) : await this.session.run(feeds);
    this.cpu.push(cpuMs() - c0); this.wall.push(performance.now() - w0);
    for (const n of Object.keys(this.past)) {
      const p = n.replace('past_key_values', 'present');
      if (!fetches?.[p]) this.past[n] = out[p];
    }
    this.length++;
  }
}

const whole = await open('decoder');
const fused = await open('decoder_fused');
const forms = [new Form('whole', whole, 'decoder', false), new Form('copy', fused, 'decoder_fused', false)];
if (args.ep === 'node' && (manifest.builder.kv_cache?.shared_buffer ?? []).includes('decoder_fused'))
  forms.push(new Form('shared', fused, 'decoder_fused', true));
console.log(`${dir} ${args.variant}, ${L} layers (${m.layer_types.filter((k) => k === 'full_attention').length} global), ` +
  `${nKV} KV heads x ${D}, window ${m.sliding_window}, ${args.ep === 'wasm' ? 'onnxruntime-web WASM EP' : 'onnxruntime-node CPU EP'}, ` +
  `${args.threads} thread(s); kv_cache ${JSON.stringify(manifest.builder.kv_cache ?? null)}`);
const rows = [];
for (const P of args.positions) {
  const capacity = 2 ** Math.ceil(Math.log2(P + args.steps * args.rounds + 1));
  for (const f of forms) { f.cpu = []; f.wall = []; await f.fill(P, capacity); await f.step(); f.cpu = []; f.wall = []; }
  const kvBytes = Object.fromEntries(forms.map((f) => [f.name, f.bytes()]));
  for (let r = 0; r < args.rounds; r++) for (const f of forms) for (let i = 0; i < args.steps; i++) await f.step();
  for (const f of forms) {
    const row = { P, form: f.name, cpuMs: median(f.cpu), wallMs: median(f.wall), kvMiB: kvBytes[f.name] / 2 ** 20 };
    rows.push(row);
    console.log(`P=${String(P).padStart(5)} ${f.name.padEnd(6)} step CPU ${row.cpuMs.toFixed(2)} ms, wall ${row.wallMs.toFixed(2)} ms, ` +
      `KV fed ${row.kvMiB.toFixed(1)} MiB`);
  }
}
if (process.env.KV_BENCH_JSON) fs.writeFileSync(process.env.KV_BENCH_JSON, JSON.stringify(rows, null, 1));
