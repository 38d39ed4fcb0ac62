// draft_pass_bench.mjs: what a decoder pass over S new positions costs against a pass over one, the price
// of prompt-lookup drafts (src/assistant/README.md "Drafted tokens"): a pass that runs the next token and
// S - 1 drafts saves one pass per kept draft and costs cost(S) / cost(1) passes. Not part of the test suite.
//
//   node tools/bench/draft_pass_bench.mjs PACKAGE_DIR [--variant q4] [--past 300] [--sizes 1,2,4,7] [--steps 16]
//     [--rounds 3] [--threads 1] [--ep node|wasm]
//
// One process, raw decoder_fused session (the runtime's CPU/WASM graph), a cache of --past positions from
// one prefill of random embeddings; each pass feeds S embeddings on top of it with num_logits_to_keep S
// (the rows the generator reads) and leaves the cache as it was, sizes alternating round by round.
// Reported: median CPU time per pass (process.cpuUsage, 1 onnxruntime thread: the work itself), its ratio
// to S = 1, and the break-even: the drafts a pass must keep on average to pay for itself.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { openGraphSession } from './decoder_session.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(ROOT, 'package.json'));

const args = { variant: 'q4', past: 300, sizes: [1, 2, 4, 7], steps: 16, rounds: 3, threads: 1, ep: 'node' };
const argv = process.argv.slice(2);
let dir = null;
for (let i = 0; i < argv.length; i++) {
  const v = argv[i];
  if (v === '--variant') args.variant = argv[++i];
  else if (v === '--past') args.past = Number(argv[++i]);
  else if (v === '--sizes') args.sizes = argv[++i].split(',').map(Number);
  else if (v === '--steps') args.steps = Number(argv[++i]);
  else if (v === '--rounds') args.rounds = Number(argv[++i]);
  else if (v === '--threads') args.threads = Number(argv[++i]);
  else if (v === '--ep') args.ep = argv[++i];
  else dir = v;
}
if (!dir) { console.error('usage: node tools/bench/draft_pass_bench.mjs PACKAGE_DIR [--variant q4] [--past 300] [--sizes 1,2,4,7]'); process.exit(2); }

const ort = await import(require.resolve(args.ep === 'wasm' ? 'onnxruntime-web' : 'onnxruntime-node'));
if (args.ep === 'wasm') ort.env.wasm.numThreads = args.threads;
const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
const m = manifest.model;
const { num_hidden_layers: L, num_key_value_heads: nKV, head_dim: D, hidden_size: H } = m;
let session;
try {
  session = await openGraphSession(ort, dir, manifest, 'decoder_fused', args.variant, args);
} catch (e) { console.error(e.message); process.exit(2); }
const kvType = session.inputMetadata.find((x) => x.name === 'past_key_values.0.key').type;
if (kvType !== 'float32') { console.error('f16 variants: not handled by this bench'); process.exit(2); }
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function feeds(S, P, past) {
  const e = new Float32Array(S * H);
  for (let i = 0; i < e.length; i++) e[i] = Math.sin(i * 0.37) * 0.5;
  return {
    inputs_embeds: new ort.Tensor('float32', e, [1, S, H]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(P + S).fill(1n), [1, P + S]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(P + i)), [1, S]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(S), [1, S]),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([BigInt(S)]), []),
    ...past,
  };
}

const empty = {};
for (let i = 0; i < L; i++) for (const k of ['key', 'value'])
  empty[`past_key_values.${i}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [1, nKV, 0, D]);
const prefill = await session.run(feeds(args.past, 0, empty));
const past = {};
for (const n of Object.keys(empty)) past[n] = prefill[n.replace('past_key_values', 'present')];
const P = args.past;
const cpu = Object.fromEntries(args.sizes.map((S) => [S, []]));
for (const S of args.sizes) await session.run(feeds(S, P, past));  // warm-up
for (let r = 0; r < args.rounds; r++) {
  for (const S of args.sizes) {
    for (let i = 0; i < args.steps; i++) {
      const f = feeds(S, P, past);
      const c0 = cpuMs();
      await session.run(f);
      cpu[S].push(cpuMs() - c0);
    }
  }
}
console.log(`${dir} ${args.variant}: ${L} layers, hidden ${H}, vocab ${m.vocab_size}; past ${P} positions; ` +
  `${args.ep === 'wasm' ? 'onnxruntime-web WASM EP' : 'onnxruntime-node CPU EP'}, ${args.threads} thread(s)`);
const one = median(cpu[args.sizes[0]]);
for (const S of args.sizes) {
  const c = median(cpu[S]);
  console.log(`S=${S}: pass CPU ${c.toFixed(2)} ms = ${(c / one).toFixed(2)}x one token; ` +
    (S > 1 ? `pays when more than ${(c / one - 1).toFixed(2)} of its ${S - 1} drafts are kept on average` : ''));
}
