// Shared helpers for the model package tests (tests/node/model_*.test.mjs): .npy reading, building a
// package with tools/build_model.py into a temp folder, and a greedy generation loop over the
// package's ONNX graphs (vision_encoder + embed_tokens + decoder) with onnxruntime-node.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { fromFloat32, toFloat32 } from '../../web/assistant/float16.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURE = path.join(ROOT, 'tests/fixtures/tiny-gemma3');
export const GOLDEN = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'golden/golden.json'), 'utf8'));
export const PYTHON = process.env.ES_PYTHON || '/usr/bin/python3';

export function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  if (descr !== '<f4') throw new Error(`${file}: unsupported dtype ${descr}`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  return { data, shape };
}

export function buildPackage(checkpoint, args = []) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pkg-'));
  fs.rmdirSync(out);
  execFileSync(PYTHON, [path.join(ROOT, 'tools/build_model.py'), checkpoint, out, '--quiet', ...args], { stdio: 'inherit' });
  return out;
}

export function makeCheckpoint(args) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'es-ckpt-'));
  execFileSync(PYTHON, [path.join(ROOT, 'tools/make_tiny_checkpoint.py'), out, ...args], { stdio: 'inherit' });
  return out;
}

export const maxAbsDiff = (a, b) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i])); return m; };

export function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

export function argmaxRows(data, rows, vocab) {
  const out = [];
  for (let r = 0; r < rows; r++) {
    let best = 0, bv = -Infinity;
    for (let v = 0; v < vocab; v++) { const x = data[r * vocab + v]; if (x > bv) { bv = x; best = v; } }
    out.push(best);
  }
  return out;
}

/** A loaded package (one variant) with a KV cache, run like the browser runtime will run it. */
export class PackageRunner {
  // decoderGraph: a runtime decoder with the token-type interface other than decoder_token_types
  // (decoder_fused, the CPU/WASM runtime's graph).
  // sharedBuffer (decoder_fused): the global layers' past tensors are preallocated buffers of `capacity`
  // rows bound as their present outputs too (PACKAGE.md "KV cache forms"), as the runtime does under
  // onnxruntime-node.
  static async load(dir, variant = 'fp32', { tokenTypes = true, decoderGraph = null, sharedBuffer = false, capacity = 0 } = {}) {
    const r = new PackageRunner();
    r.dir = dir;
    r.manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    r.cfg = r.manifest.model;
    const g = r.manifest.graphs;
    const open = (p) => ort.InferenceSession.create(path.join(dir, p));
    r.vision = await open(g.vision_encoder[variant]);
    r.embed = await open(g.embed_tokens[variant]);
    r.tokenTypes = tokenTypes;
    r.decoder = await open(tokenTypes ? g[decoderGraph ?? 'decoder_token_types'][variant] : g.decoder[variant]);
    // fp16 / q4f16 graphs take and return float16 embeddings, image features and KV cache.
    const type = (name) => r.decoder.inputMetadata.find((m) => m.name === name)?.type;
    r.embedsType = type('inputs_embeds');
    r.kvType = type('past_key_values.0.key');
    r.sharedBuffer = sharedBuffer;
    r.capacity = capacity;
    const layers = r.cfg.layer_types ?? [];
    r.windowed = new Set((r.manifest.builder.kv_cache?.window ?? []).includes(decoderGraph ?? 'decoder_token_types') && tokenTypes
      ? Object.keys(layers).filter((i) => layers[i] === 'sliding_attention').map(Number) : []);
    r.reset();
    return r;
  }

  reset() {
    const { num_hidden_layers: L, num_key_value_heads: kv, head_dim: D } = this.cfg;
    this.past = {};
    for (let i = 0; i < L; i++) for (const kind of ['key', 'value'])
    {
      const rows = this.sharedBuffer && !this.windowed.has(i) ? this.capacity : 0;
      this.past[`past_key_values.${i}.${kind}`] = new ort.Tensor(this.kvType, fromFloat32(new Float32Array(kv * rows * D), this.kvType),
        [1, kv, rows, D]);
    }
    this.length = 0;
  }

  async imageFeatures(pixels, shape) {
    const out = await this.vision.run({ pixel_values: new ort.Tensor('float32', pixels, shape) });
    return { dims: out.image_features.dims, type: out.image_features.type, data: toFloat32(out.image_features.data) };
  }

  /** Runs new tokens through the decoder (image features replace image-token embeddings); returns logits
   *  [1, S, vocab], or [1, min(keep, S), vocab] with keep > 0 on a decoder that has num_logits_to_keep. */
  async step(ids, imageFeatures = null, { keep = 0 } = {}) {
    const S = ids.length, H = this.cfg.hidden_size;
    const e = await this.embed.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, S]) });
    const embeds = toFloat32(e.inputs_embeds.data);
    const tti = new BigInt64Array(S);
    let f = 0;
    for (let s = 0; s < S; s++) {
      if (ids[s] === this.cfg.image_token_id && imageFeatures) {
        embeds.set(imageFeatures.data.subarray(f * H, (f + 1) * H), s * H); f++; tti[s] = 1n;
      }
    }
    const T = this.length + S;
    const feeds = {
      inputs_embeds: new ort.Tensor(this.embedsType, fromFloat32(embeds, this.embedsType), [1, S, H]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: S }, (_, i) => BigInt(this.length + i)), [1, S]),
      ...this.past,
    };
    if (this.tokenTypes) feeds.token_type_ids = new ort.Tensor('int64', tti, [1, S]);
    if (this.decoder.inputNames.includes('num_logits_to_keep'))
      feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.from([BigInt(keep)]), []);
    let fetches;
    if (this.sharedBuffer) {
      fetches = {};
      for (const n of this.decoder.outputNames) fetches[n] = null;
      for (const [k, t] of Object.entries(this.past))
        if (!this.windowed.has(Number(k.split('.')[1]))) fetches[k.replace('past_key_values', 'present')] = t;
    }
    const out = fetches ? await this.decoder.run(feeds, fetches) : await this.decoder.run(feeds);
    for (const k of Object.keys(this.past))
      if (!fetches?.[k.replace('past_key_values', 'present')]) this.past[k] = out[k.replace('past_key_values', 'present')];
    this.length = T;
    const l = out.logits;
    return l.type === 'float32' ? l : { dims: l.dims, type: l.type, data: toFloat32(l.data) };
  }

  /** Greedy continuation: feeds `ids`, then n tokens one at a time; returns the n new ids (the last is not fed).
   *  Asks for the last position's logits only, as the browser runtime does. */
  async greedy(ids, n, imageFeatures = null) {
    const V = this.cfg.vocab_size;
    let logits = await this.step(ids, imageFeatures, { keep: 1 });
    const out = [];
    for (let i = 0; i < n; i++) {
      const rows = logits.dims[1];
      const next = argmaxRows(logits.data.subarray((rows - 1) * V), 1, V)[0];
      out.push(next);
      if (i + 1 < n) logits = await this.step([next], null, { keep: 1 });
    }
    return out;
  }
}
