// The server's chat engine (C++, build/native/server/chat_engine_bench) against
// its peer in the same run: the same package's graphs driven from JavaScript
// by onnxruntime-node (the same ONNX Runtime release, tests/node/model_helpers.mjs
// PackageRunner, decoder_fused) on the same text-only prompt: time to first
// token (prefill of the prompt, last row of logits) and greedy decode tokens/s.
// Ratios > 1 mean the engine is faster.
//   node tools/bench/chat_engine_vs_node.mjs PACKAGE_DIR [VARIANT=q4] [TOKENS=256]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { GOLDEN, PackageRunner, ROOT } from '../../tests/node/model_helpers.mjs';

const [dir, variant = 'q4', tokensArg = '256'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/bench/chat_engine_vs_node.mjs PACKAGE_DIR [VARIANT] [TOKENS]');
  process.exit(2);
}
const tokens = Number(tokensArg);
// "Draft an endoscopy report." through the fixture tokenizer's chat template (the engine builds the same ids).
const prompt = GOLDEN.text_only_ids;

async function peer() {
  const r = await PackageRunner.load(dir, variant, { decoderGraph: 'decoder_fused' });
  let best = { ttft: Infinity, decode: 0 };
  for (let rep = 0; rep < 4; rep++) {  // best of 3 after a warm-up (a shared machine is noisy)
    r.reset();
    const t0 = performance.now();
    await r.greedy(prompt, 1);
    const ttft = performance.now() - t0;
    r.reset();
    const t1 = performance.now();
    await r.greedy(prompt, tokens);
    const total = performance.now() - t1;
    // Decode: the whole run minus one prefill.
    if (rep) best = { ttft: Math.min(best.ttft, ttft), decode: Math.max(best.decode, (tokens - 1) / ((total - ttft) / 1000)) };
  }
  return best;
}

const js = await peer();
const bench = path.join(ROOT, 'build/native/server/chat_engine_bench');
const text = execFileSync(bench, [dir, '--variant', variant, '--tokens', String(tokens), '--cpu'], { encoding: 'utf8' });
const m = /text-only: time to first token ([\d.]+) ms, decode ([\d.]+) tokens\/s/.exec(text);
if (!m) throw new Error(`unexpected chat_engine_bench output:\n${text}`);
const engine = { ttft: Number(m[1]), decode: Number(m[2]) };
console.log(text.trim());
console.log(`peer (onnxruntime-node from JS, ${variant}, decoder_fused): time to first token ${js.ttft.toFixed(2)} ms, decode ${js.decode.toFixed(1)} tokens/s (best of 3)`);
console.log(`engine / peer: time to first token ${(js.ttft / engine.ttft).toFixed(2)}x faster, decode ${(engine.decode / js.decode).toFixed(2)}x`);
