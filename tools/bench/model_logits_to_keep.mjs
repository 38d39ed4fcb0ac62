// What num_logits_to_keep saves on a MedGemma-sized vocabulary: an image-prompt prefill (S = 280, 256 of
// them image tokens) through decoder_token_types on onnxruntime-web's WASM EP (the browser fallback, in
// Node, 1 thread), once with num_logits_to_keep = 0 (all rows) and once with 1 (the runtime's setting).
// Each mode runs in its own process so that peak RSS is its own. The model is random and narrow
// (2 layers, hidden 256) but has the real 262,208-token vocabulary, so the logits are real-sized.
//   node tools/bench/model_logits_to_keep.mjs [--variant q4|fp32] [--reps 3]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PY = process.env.ES_PYTHON || '/usr/bin/python3';
const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const S = 280, IMG = 256;

if (process.argv[2] === '--child') {
  const [, , , dir, variant, keep, reps] = process.argv;
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const c = m.model, p = m.graphs.decoder_token_types[variant];
  const ext = m.files.find((f) => f.path === p).external_data;
  const session = await ort.InferenceSession.create(fs.readFileSync(path.join(dir, p)), { executionProviders: ['wasm'],
    externalData: ext.map((e) => ({ path: path.basename(e), data: fs.readFileSync(path.join(dir, e)) })) });
  const x = new Float32Array(S * c.hidden_size);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
  const tti = new BigInt64Array(S);
  for (let s = 10; s < 10 + IMG; s++) tti[s] = 1n;
  const feeds = {
    inputs_embeds: new ort.Tensor('float32', x, [1, S, c.hidden_size]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(S).fill(1n), [1, S]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(i)), [1, S]),
    token_type_ids: new ort.Tensor('int64', tti, [1, S]),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([BigInt(keep)]), []),
  };
  for (let i = 0; i < c.num_hidden_layers; i++) for (const k of ['key', 'value'])
    feeds[`past_key_values.${i}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [1, c.num_key_value_heads, 0, c.head_dim]);
  const times = [];
  let out;
  for (let r = 0; r < Number(reps); r++) {
    const t0 = performance.now();
    out = await session.run(feeds);
    times.push(performance.now() - t0);
  }
  const last = out.logits.data.subarray(out.logits.data.length - c.vocab_size);
  let sum = 0;
  for (const v of last) sum += v;
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ keep: Number(keep), logits_dims: out.logits.dims, logits_mib: out.logits.data.byteLength / 2 ** 20,
    median_ms: times[times.length >> 1], max_rss_mib: process.resourceUsage().maxRSS / 1024, last_row_sum: sum }));
  process.exit(0);
}

const variant = arg('--variant', 'q4'), reps = arg('--reps', '3');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-keep-'));
try {
  const ck = path.join(tmp, 'ckpt'), pkg = path.join(tmp, 'pkg');
  execFileSync(PY, [path.join(ROOT, 'tools/make_tiny_checkpoint.py'), ck, '--layers', '2', '--hidden', '256',
    '--intermediate', '512', '--heads', '4', '--kv-heads', '2', '--head-dim', '64', '--vocab', '262208', '--seed', '3'], { stdio: 'ignore' });
  execFileSync(PY, [path.join(ROOT, 'tools/build_model.py'), ck, pkg, '--quiet', ...(variant === 'fp32' ? ['--quant', 'none'] : [])]);
  const runs = ['0', '1'].map((keep) => JSON.parse(execFileSync(process.execPath,
    [fileURLToPath(import.meta.url), '--child', pkg, variant, keep, reps], { encoding: 'utf8' }).trim().split('\n').at(-1)));
  const [all, one] = runs;
  console.log(JSON.stringify({ variant, S, vocab: 262208, all_rows: all, last_row_only: one,
    ratio_ms: one.median_ms / all.median_ms, ratio_rss: one.max_rss_mib / all.max_rss_mib,
    same_last_row: all.last_row_sum === one.last_row_sum }, null, 1));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
