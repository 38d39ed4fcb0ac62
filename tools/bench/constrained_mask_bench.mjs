// Per-step token-mask cost of JSON-schema-constrained decoding on a
// 262,144-token vocabulary: our WASM core (src/constrained via
// web/assistant/core.js) against XGrammar's WebAssembly build
// (@mlc-ai/web-xgrammar), in the same Node process, same schemas
// (tests/fixtures/constrained/tool_schemas.json), same vocabulary.
//
//   node tools/bench/constrained_mask_bench.mjs [--steps 300] [--vocab 262144]
//
// The vocabulary is synthetic (no real Gemma tokenizer here), shaped like
// Gemma's: byte pieces, ASCII, punctuation and whitespace runs, words with
// and without a leading space, 15% CJK/Cyrillic, 3% ending in a quote or a
// backslash. XGrammar is loaded from node_modules when installed, or from
// ES_XGRAMMAR=path/to/web-xgrammar/lib/index.js; without it only ours runs.
// Times are process CPU time (the machine is shared), per mask, including
// the copy of the mask out of the WASM heap that each API makes.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, loadCore } from '../../tests/node/assistant_helpers.mjs';

const args = process.argv.slice(2);
const opt = (name, d) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : d; };
const STEPS = opt('--steps', 300);
const VOCAB = opt('--vocab', 262144);
const schemas = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/constrained/tool_schemas.json'), 'utf8'));

function rng(seed) {  // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// SentencePiece-style pieces ("▁" = space, "<0xNN>" = one byte) and their bytes.
function syntheticVocabulary(size) {
  const pieces = ['<pad>', '<eos>', '<bos>'];
  const bytes = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
  const seen = new Set();
  const enc = new TextEncoder();
  for (let b = 0; b < 256; b++) {
    pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    bytes.push(Uint8Array.of(b));
  }
  const add = (text) => {
    if (pieces.length >= size || !text || seen.has(text)) return;
    seen.add(text);
    pieces.push(text.replaceAll(' ', '\u2581'));
    bytes.push(enc.encode(text));
  };
  for (let c = 32; c < 127; c++) add(String.fromCharCode(c));
  for (const p of ['"', '",', '":', '": "', '"}', '{"', '\\n', '\\"', '\n', '\n\n', '\t', '},', '],', '</', '/>', '==', '--', '**']) add(p);
  for (let n = 2; n <= 31; n++) { add(' '.repeat(n)); add('\n'.repeat(n)); }
  const r = rng(42);
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  while (pieces.length < size) {
    const u = r();
    let w = '';
    if (u < 0.10) {
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) w += String.fromCodePoint(0x4E00 + Math.floor(r() * 20000));
    } else if (u < 0.15) {
      const n = 2 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) w += String.fromCodePoint(0x430 + Math.floor(r() * 32));
    } else {
      const n = 2 + Math.min(Math.floor(r() * 6) + Math.floor(r() * 6), 14);
      for (let i = 0; i < n; i++) { const x = r(); w += letters[Math.floor(x * x * 26) % 26]; }
      if (r() < 0.2) w = w[0].toUpperCase() + w.slice(1);
      if (u > 0.97) w += r() < 0.5 ? '"' : '\\';
    }
    add(r() < 0.5 ? ' ' + w : w);
  }
  return { pieces, bytes };
}

const STOP = 1;  // <eos>: xgrammar puts it in the mask once the value is complete
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

function setBits(mask, vocab) {
  const ids = [];
  for (let w = 0; w < mask.length; w++) {
    let bits = mask[w] >>> 0;
    while (bits) {
      const b = 31 - Math.clz32(bits & -bits);
      const id = w * 32 + b;
      if (id < vocab) ids.push(id);
      bits &= bits - 1;
    }
  }
  return ids;
}

// Drives one matcher through random allowed tokens; returns per-mask CPU µs.
async function drive(peer, steps) {
  const times = [];
  const r = rng(7);
  while (times.length < steps) {
    peer.reset();
    for (let k = 0; k < 96 && times.length < steps; k++) {
      const t0 = cpuUs();
      const mask = await peer.mask(96 - k);
      times.push(cpuUs() - t0);
      const all = setBits(mask, VOCAB);
      const complete = peer.complete(all);
      const ids = all.filter((id) => id !== STOP);
      if (ids.length === 0 || (complete && r() < 0.3)) break;
      peer.accept(ids[Math.floor(r() * ids.length)]);
    }
  }
  times.sort((a, b) => a - b);
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, p50: times[times.length >> 1], worst: times[times.length - 1] };
}

// Its lib/index.js is a UMD bundle inside a "type": "module" package.
async function loadXGrammar() {
  const require = createRequire(import.meta.url);
  let file = process.env.ES_XGRAMMAR;
  if (!file) {
    try { file = require.resolve('@mlc-ai/web-xgrammar'); } catch { return null; }
  }
  // The bundle expects CommonJS globals that Node's ESM loader does not give
  // (__filename): run it as the CommonJS module it is.
  const mod = { exports: {} };
  new Function('exports', 'module', 'require', '__filename', '__dirname', fs.readFileSync(file, 'utf8'))(
    mod.exports, mod, require, path.resolve(file), path.dirname(path.resolve(file)));
  return mod.exports?.TokenizerInfo ? mod.exports : null;
}

const { core, why } = await loadCore();
if (!core) { console.log(JSON.stringify({ skipped: why })); process.exit(0); }
const { pieces, bytes } = syntheticVocabulary(VOCAB);
let t0 = cpuUs();
const vocab = core.constraintVocabulary(bytes);
const oursIndexMs = (cpuUs() - t0) / 1000;
const xg = await loadXGrammar();
let xgInfo = null;
let xgCompiler = null;
let xgIndexMs = null;
if (xg) {
  t0 = cpuUs();
  xgInfo = await xg.TokenizerInfo.createTokenizerInfo(pieces, 'byte_fallback', false, VOCAB, [1]);
  xgCompiler = await xg.GrammarCompiler.createGrammarCompiler(xgInfo);
  xgIndexMs = (cpuUs() - t0) / 1000;
}
console.log(JSON.stringify({ vocab: VOCAB, steps: STEPS, ours_vocabulary_cpu_ms: Math.round(oursIndexMs),
  xgrammar: xg ? 'loaded' : 'not installed (npm @mlc-ai/web-xgrammar, or ES_XGRAMMAR=.../lib/index.js)',
  xgrammar_tokenizer_info_cpu_ms: xgIndexMs && Math.round(xgIndexMs) }));

for (const [name, schema] of Object.entries(schemas)) {
  t0 = cpuUs();
  const c = vocab.constraint(schema);
  const oursCompileMs = (cpuUs() - t0) / 1000;
  const ours = await drive({ reset: () => c.reset(), mask: (rem) => c.allowed(rem), accept: (id) => c.accept(id), complete: () => c.complete }, STEPS);
  c.free();
  const row = { schema: name, ours_compile_cpu_ms: +oursCompileMs.toFixed(1), ours_mask_cpu_us: { mean: Math.round(ours.mean), p50: ours.p50, worst: ours.worst } };
  if (xg) {
    try {
      t0 = cpuUs();
      const compiled = await xgCompiler.compileJSONSchema(JSON.stringify(schema), true, undefined, undefined, true, 4);
      const m = await xg.GrammarMatcher.createGrammarMatcher(compiled);
      const xgCompileMs = (cpuUs() - t0) / 1000;
      const theirs = await drive({ reset: () => m.reset(), mask: () => m.getNextTokenBitmask(), accept: (id) => m.acceptToken(id),
        complete: (ids) => ids.includes(STOP) }, STEPS);
      row.xgrammar_compile_cpu_ms = +xgCompileMs.toFixed(1);
      row.xgrammar_mask_cpu_us = { mean: Math.round(theirs.mean), p50: theirs.p50, worst: theirs.worst };
      row.mean_ratio_ours_over_xgrammar = +(ours.mean / theirs.mean).toFixed(2);
      m.dispose();
      compiled.dispose();
    } catch (e) {
      row.xgrammar_error = String(e.message ?? e).slice(0, 200);
    }
  }
  console.log(JSON.stringify(row));
}
vocab.free();
