// runtime.js: runs a model package with onnxruntime-web for the assistant.
// The C++ core (core.js) decides everything about text and tokens; this file
// only moves tensors: pixel_values -> vision_encoder, ids -> embed_tokens,
// embeddings (+ image features on the image soft tokens) -> decoder, logits ->
// core. The KV cache stays as ort tensors between steps (on WebGPU as
// gpu-buffer outputs fed straight back), so a follow-up question prefills only
// its new tokens and the image is encoded once.
//
// Inference is a job: ask()/classify() return {promise, cancel}; tokens stream
// through onToken callbacks; the caller's frame loop never waits.

import { Chat, DEFAULT_CONTEXT_LIMIT } from './core.js';
import { fitExecutionProviders } from './package.js';
import { fromFloat32, toFloat32 } from './float16.js';

// Yields to the event loop between tokens so the page can paint and the Stop
// button can run. setTimeout(0) is clamped to 4 ms in browsers after a few
// nested calls (a floor of 4 ms per token); a MessageChannel post is not.
const nextTask = (() => {
  if (typeof globalThis.setImmediate === 'function') return () => new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === 'function') {
    const ch = new MessageChannel();
    const waiting = [];
    ch.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise((r) => { waiting.push(r); ch.port2.postMessage(0); });
  }
  return () => new Promise((r) => setTimeout(r, 0));
})();

// Yields only when YIELD_MS have passed since the last yield: a yield lets the
// page draw a frame, which on a software adapter (SwiftShader) costs 10-20 ms
// of CPU, while a small model's decode step takes ~1 ms. Tokens still reach
// the panel at ~30 Hz and Stop acts within one interval.
const YIELD_MS = 30;
let lastYield = 0;
async function maybeYield() {
  const now = performance.now();
  if (now - lastYield < YIELD_MS) return;
  await nextTask();
  lastYield = performance.now();
}

// The KV cache of one conversation: ort tensors per layer, and `length`, the
// positions of the conversation it holds. Two forms per layer (PACKAGE.md "KV
// cache forms"; rt.windowNames, rt.sharedKv):
// - a windowed sliding layer (packages with builder.kv_cache.window) holds only
//   the last positions, at most sliding_window - 1: rows [0, dims[2]) are
//   positions [length - dims[2], length);
// - any other layer holds rows [0, length) = positions [0, length); with a
//   shared past/present buffer (onnxruntime-node, decoder_fused) its tensor is
//   a preallocated buffer of `capacity` rows (dims[2]) that onnxruntime appends
//   to in place, otherwise exactly `length` rows.
// `owned`: the buffers are this cache's own (a fork shares its parent's until
// its first step, which then runs without writing in place).
// `snapshot`: the windowed layers' tensors as they were when the latest
// question's prefill began (references, no copy: steps replace those tensors,
// never write into them), so editing the latest question keeps the cache up
// to it; editing an earlier one re-prefills from the start.
class KvCache {
  constructor(rt) {
    this.rt = rt;
    this.length = 0;
    this.past = rt._emptyPast();
    this.owned = true;
    this.snapshot = null;
  }
  // Remembers the windowed layers' tensors at this length (CPU tensors only).
  takeSnapshot() {
    if (!this.rt.windowNames.size || this.length === 0) { this.snapshot = null; return; }
    const past = {};
    for (const n of this.rt.windowNames) past[n] = this.past[n];
    const first = Object.values(past)[0];
    this.snapshot = first.location && first.location !== 'cpu' ? null : { length: this.length, past };
  }
  // Rows the preallocated buffers hold (0 without).
  get capacity() {
    const name = this.rt.kvNames.find(([n]) => !this.rt.windowNames.has(n))?.[0];
    return name ? this.past[name].dims[2] : 0;
  }
  // Replaces the cache with a step's present.* outputs (inPlace: the global
  // layers' buffers were written by the step itself and stay).
  replace(outputs, newLength, inPlace = false) {
    const old = this.past;
    this.past = {};
    for (const [past, present] of this.rt.kvNames)
      this.past[past] = inPlace && !this.rt.windowNames.has(past) ? old[past] : outputs[present];
    this.length = newLength;
    this.owned = true;
    this.rt._dispose(Object.values(old).filter((t) => !Object.values(this.past).includes(t)));
  }
  // A pass run with keep 'later' (its drafts not yet checked): adopt() makes its present the cache, drop()
  // leaves the cache as it was before the pass.
  adopt() {
    const d = this.deferred;
    this.deferred = null;
    if (d) this.replace(d.out, d.T);
  }
  drop() {
    const d = this.deferred;
    this.deferred = null;
    if (d) this.rt._dispose(Object.entries(d.out).filter(([n]) => n !== 'logits').map(([, t]) => t));
  }
  // Makes the preallocated buffers hold at least `rows` rows: doubling, capped
  // by the context the runtime plans for (rt.kvCapacityLimit), never below rows.
  reserve(rows) {
    const cap = this.capacity;
    if (cap >= rows) return;
    const next = Math.min(Math.max(rows, 2 * cap, 256), Math.max(rows, this.rt.kvCapacityLimit));
    for (const [name] of this.rt.kvNames) {
      if (this.rt.windowNames.has(name)) continue;
      const t = this.past[name];
      const [b, h, p, d] = t.dims;
      const data = new t.data.constructor(b * h * next * d);  // float32, or float16 bits
      for (let i = 0; i < b * h; i++) data.set(t.data.subarray(i * p * d, i * p * d + this.length * d), i * next * d);
      this.past[name] = new this.rt.ort.Tensor(t.type, data, [b, h, next, d]);
    }
    this.owned = true;
  }
  reset() {
    this.rt._dispose(Object.values(this.past));
    this.past = this.rt._emptyPast();
    this.length = 0;
    this.owned = true;
    this.snapshot = null;
  }
  // Keeps the first n positions, or as many as it can: returns how many it
  // kept (n; or the snapshot's length when the windowed layers no longer hold
  // the positions before n; or 0 after a reset: a GPU cache, or an edit more
  // than a window before the latest question). CPU tensors only.
  truncate(n) {
    if (n >= this.length) return this.length;
    if (n === 0) { this.reset(); return 0; }
    const first = Object.values(this.past)[0];
    if (first.location && first.location !== 'cpu') { this.reset(); return 0; }
    const keepWindow = this.rt.model.sliding_window - 1;
    const plan = (past, length, m) => {  // rows to keep of each tensor for positions < m, null if gone
      const rows = {};
      for (const [name, t] of Object.entries(past)) {
        if (!this.rt.windowNames.has(name)) { rows[name] = [0, m]; continue; }
        const firstHeld = length - t.dims[2];                        // positions [firstHeld, length)
        const lo = Math.max(0, m - keepWindow);
        if (lo < firstHeld) return null;
        rows[name] = [lo - firstHeld, m - firstHeld];
      }
      return rows;
    };
    let rows = plan(this.past, this.length, n);
    let source = this.past;
    if (!rows && this.snapshot && this.snapshot.length <= n) {
      // the latest question's start: windowed layers from the snapshot, the others cut there
      source = { ...this.past, ...this.snapshot.past };
      n = this.snapshot.length;
      rows = {};
      for (const name of Object.keys(this.past))
        rows[name] = this.rt.windowNames.has(name) ? [0, source[name].dims[2]] : [0, n];
    }
    if (!rows) { this.reset(); return 0; }
    const inPlace = this.rt.sharedKv && this.owned;
    const next = {};
    for (const [name, t] of Object.entries(source)) {
      if (inPlace && !this.rt.windowNames.has(name)) { next[name] = t; continue; }  // rows past n are written over
      const [r0, r1] = rows[name], k = r1 - r0;
      const [b, h, p, d] = t.dims;
      if (r0 === 0 && k === p) { next[name] = t; continue; }  // unchanged (tensors are never written into)
      const out = new t.data.constructor(b * h * k * d);  // float32, or float16 bits (fp16/q4f16)
      for (let i = 0; i < b * h; i++) out.set(t.data.subarray((i * p + r0) * d, (i * p + r1) * d), i * k * d);
      next[name] = new this.rt.ort.Tensor(t.type, out, [b, h, k, d]);
    }
    this.past = next;
    this.length = n;
    this.owned = true;
    if (this.snapshot && this.snapshot.length > n) this.snapshot = null;
    return n;
  }
  dispose() { this.rt._dispose(Object.values(this.past)); this.past = {}; }
}

export class AssistantRuntime {
  constructor(fields) { Object.assign(this, fields); }

  // ort: the onnxruntime-web module; core: a Core; pkg: a ModelPackage.
  // executionProviders: tried in order ('webgpu' then 'wasm' by default).
  // variant: 'fp32', 'q4' (f32 activations), 'fp16' or 'q4f16' (f16 embeddings,
  // image features and KV cache, for adapters with shader-f16; logits stay f32
  // in decoder_token_types and decoder_fused).
  // sessionOptions: extra ort session options (e.g. {logSeverityLevel: 3}).
  // decoderGraph: force one decoder graph (tests and benchmarks); by default
  // decoder_fused on the CPU / WASM EPs (onnxruntime's fused kernels: the
  // fastest decode step there), decoder_token_types on WebGPU (its
  // GroupQueryAttention lacks causal=0), decoder_model_merged when the package
  // has neither (a public export: image tokens then attend causally).
  // kvSharedBuffer: true = bind one preallocated buffer per global layer as
  // both past and present where that works (onnxruntime-node and a
  // decoder_fused built for it: GroupQueryAttention then appends each step in
  // place instead of copying the history). Off by default: onnxruntime-node
  // 1.30 still copies every fetched output into a new ArrayBuffer after the
  // run, so it measured no faster (tools/bench/README-assistant.md).
  // draftTokens: the most prompt-lookup drafts run with each decode step
  // (0 = one token per step; answers are the same either way; fewer while
  // the model keeps few of them).
  static async create({ ort, core, pkg, executionProviders = ['webgpu', 'wasm'], variant = 'fp32', onStatus = null,
    sessionOptions = {}, decoderGraph = null, kvSharedBuffer = false, draftTokens = 6 }) {
    const notices = [...pkg.notices];
    // Refuses (ModelTooLargeError, plain words) before any weight is read when no backend can hold it.
    const fit = await fitExecutionProviders(pkg, variant, executionProviders);
    executionProviders = fit.executionProviders;
    notices.push(...fit.notices);
    const model = pkg.model;
    const tokenizer = core.tokenizer(await pkg.file('tokenizer.model'), pkg.tokenizerConfigText);
    // Decoder graphs to try on an EP, best first (a graph the EP cannot run falls through to the next).
    const decoderFor = (ep) => (decoderGraph ? [decoderGraph]
      : ['decoder_fused', 'decoder_token_types', 'decoder'].filter((n) => (n !== 'decoder_fused' || ep !== 'webgpu') && pkg.graphPath(n, variant)));
    if (!pkg.graphPath('decoder_token_types', variant) && !pkg.graphPath('decoder_fused', variant))
      notices.push('decoder without token_type_ids: image tokens attend causally (answers can differ slightly from transformers)');
    // onnxruntime-node reads a package on disk itself (file paths, streamed
    // checks): the weights are never held in JS memory while sessions load.
    const byPath = !!ort.env?.versions?.node && !!pkg.source?.localPath;
    // variants: the package variants to try for this graph, in order (the embeddings may fall back to a
    // variant the backend has kernels for; any embeddings variant feeds any decoder: _embed converts).
    const load = async (graph, eps = executionProviders, variants = [variant]) => {
      const graphsFor = typeof graph === 'function' ? graph : () => [graph];
      let lastError = null, g = null;
      for (const v of variants) for (const ep of eps) for (const name of graphsFor(ep)) {
        if (v !== variant && !pkg.graphPath(name, v)) continue;
        if (g?.name !== name || g?.variant !== v) {
          onStatus?.(`loading ${name}`);
          g = { name, variant: v, ...(await (byPath ? pkg.graphOnDisk(name, v) : pkg.graph(name, v))) };
          if (v !== variant) notices.push(`${name}: using its ${v} variant (${pkg.graphPath(name, v)}): this browser's backends cannot run the ${variant} one`);
        }
        try {
          const options = { graphOptimizationLevel: 'all', ...sessionOptions, executionProviders: [ep], externalData: g.externalData };
          if (ep === 'webgpu' && name.startsWith('decoder')) {
            // Keep the KV cache on the GPU between steps.
            options.preferredOutputLocation = {};
            for (let i = 0; i < model.num_hidden_layers; i++) {
              options.preferredOutputLocation[`present.${i}.key`] = 'gpu-buffer';
              options.preferredOutputLocation[`present.${i}.value`] = 'gpu-buffer';
            }
          }
          const session = await ort.InferenceSession.create(g.model, options);
          return { session, ep, graph: name };
        } catch (e) {
          lastError = e;
          const why = e.message?.split('\n')[0];
          notices.push(ep === 'webgpu' ? `WebGPU unavailable for ${name} (${why}); using the next backend`
            : `the ${ep} backend could not load ${name} (${why}); trying the next graph`);
        }
      }
      throw new Error(`${g?.path}: no execution provider could load it (${lastError?.message})`);
    };
    const vision = await load('vision_encoder');
    // The embedding lookup is a Gather: on the WASM EP it costs microseconds and
    // saves each decode step a GPU round trip (its output is read back anyway).
    // Public q4 exports may store the embeddings as com.microsoft GatherBlockQuantized, which the WASM EP of
    // onnxruntime-web's WebGPU build cannot run: then WebGPU, then the package's fp16 / fp32 embeddings.
    const embed = await load('embed_tokens', executionProviders.includes('webgpu') && executionProviders.includes('wasm')
      ? ['wasm', 'webgpu'] : executionProviders, [...new Set([variant, 'fp16', 'fp32'])]);
    const decoder = await load(decoderFor);
    const typeOf = (session, name, fallback) =>
      session.inputMetadata?.find?.((m) => m.name === name)?.type ?? fallback;
    const pastNames = decoder.session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    // KV cache forms the package's builder gave this decoder (PACKAGE.md "KV cache forms"; absent in older packages).
    const kvForms = pkg.manifest?.builder?.kv_cache ?? {};
    const layerOf = (n) => Number(n.split('.')[1]);
    const windowNames = new Set((kvForms.window ?? []).includes(decoder.graph) && Array.isArray(model.layer_types)
      ? pastNames.filter((n) => model.layer_types[layerOf(n)] === 'sliding_attention') : []);
    // onnxruntime-node passes a tensor's own memory to onnxruntime for feeds and preallocated fetches alike,
    // so binding one buffer as past and present makes GroupQueryAttention append in place; onnxruntime-web
    // copies every CPU tensor into the WASM heap (input and output separately), so it cannot (README-assistant.md).
    const sharedKv = kvSharedBuffer === true && (kvForms.shared_buffer ?? []).includes(decoder.graph) &&
      !!ort.env?.versions?.node && !ort.env?.versions?.web && decoder.ep !== 'webgpu';
    const rt = new AssistantRuntime({
      ort, core, pkg, model, tokenizer, notices, variant, memoryEstimate: fit.estimate,
      maxContext: fit.maxContext[decoder.ep] ?? null,  // tokens of conversation the backend has memory for (null: unknown)
      vision: vision.session, embed: embed.session, decoder: decoder.session, ep: decoder.ep, decoderGraph: decoder.graph,
      decoderInputs: new Set(decoder.session.inputNames),
      pastNames,
      kvNames: pastNames.map((n) => [n, n.replace('past_key_values', 'present')]),
      windowNames, sharedKv,
      draftTokens,
      outputNames: decoder.session.outputNames,
      // The longest a shared buffer grows to (rows): the context the runtime plans for.
      kvCapacityLimit: Math.min(DEFAULT_CONTEXT_LIMIT, fit.maxContext[decoder.ep] ?? Infinity,
        pkg.textConfig?.max_position_embeddings ?? Infinity),
      // float32, or float16 for the f16-activation variants (q4f16, fp16).
      kvType: typeOf(decoder.session, pastNames[0], variant.endsWith('16') ? 'float16' : 'float32'),
      embedsType: typeOf(decoder.session, 'inputs_embeds', variant.endsWith('16') ? 'float16' : 'float32'),
      pixelType: typeOf(vision.session, 'pixel_values', 'float32'),
      imageFeatures: new Map(),   // image key -> Float32Array [mm_tokens * hidden]
      stats: { imageEncodes: 0, decoderRuns: 0, prefilledTokens: 0 },
      queue: Promise.resolve(),
      // Per-step feeds reused between steps (a decode step is ~1 ms on small models).
      ones: new BigInt64Array(0),
      keepOne: new ort.Tensor('int64', BigInt64Array.from([1n]), []),
      textType: new ort.Tensor('int64', new BigInt64Array(1), [1, 1]),
    });
    return rt;
  }

  _emptyPast() {
    const past = {};
    for (const n of this.pastNames)
      past[n] = new this.ort.Tensor(this.kvType, fromFloat32(new Float32Array(0), this.kvType), [1, this.model.num_key_value_heads, 0, this.model.head_dim]);
    return past;
  }
  // A [1, T] int64 tensor of ones (a view of one growing buffer).
  _onesTensor(T) {
    if (this.ones.length < T) this.ones = new BigInt64Array(Math.max(T, 2 * this.ones.length, 256)).fill(1n);
    return new this.ort.Tensor('int64', this.ones.subarray(0, T), [1, T]);
  }
  _floatTensor(type, data, dims) {
    return new this.ort.Tensor(type, fromFloat32(data, type), dims);
  }
  _dispose(tensors) {
    for (const t of tensors) if (t && t.location && t.location !== 'cpu' && t.dispose) t.dispose();
  }

  // A new conversation (one image, many questions).
  newConversation({ systemPrompt = '' } = {}) {
    // The context: the model's positions, the app's cap, and the conversation
    // memory the backend was found to have room for (fitExecutionProviders).
    const config = this.pkg.chatConfig();
    if (this.maxContext) config.context_limit = Math.min(DEFAULT_CONTEXT_LIMIT, this.maxContext);
    const chat = new Chat(this.core, this.tokenizer, config);
    if (systemPrompt) chat.setSystemPrompt(systemPrompt);
    return { chat, kv: new KvCache(this), imageKey: null, free() { chat.free(); this.kv.dispose(); } };
  }

  // A conversation saved with a case (Chat.save()). Its cache is empty: the
  // next question prefills the history once (image features are re-encoded
  // only if this runtime has not seen imageKey).
  restoreConversation(saved, { imageKey = null, systemPrompt = '' } = {}) {
    const conv = this.newConversation({ systemPrompt });
    conv.chat.restore(saved);
    conv.imageKey = imageKey;
    return conv;
  }

  // Encodes an image once per key. image: {key, pixelValues: {data, dims}} or
  // {key, bytes} (PNG/JPEG) or {key, rgba, width, height}.
  // Returns Float32Array [(1 + crops) * mm_tokens * hidden]: the image's
  // features, then its pan-and-scan crops' (when preprocessor_config.json
  // enables pan-and-scan), in the order of their image blocks in the prompt.
  async encodeImage(image) {
    if (this.imageFeatures.has(image.key)) return this.imageFeatures.get(image.key);
    const cfg = this.pkg.preprocessorConfigText;
    const px = image.pixelValues ?? (image.bytes ? this.core.preprocessImage(image.bytes, cfg)
      : this.core.preprocessRgba(image.rgba, image.width, image.height, cfg));
    const out = await this.vision.run({ pixel_values: this._floatTensor(this.pixelType, px.data, px.dims) });
    const feats = out.image_features ?? Object.values(out)[0];
    this.stats.imageEncodes++;
    const data = toFloat32(feats.data);  // a float32 copy (image features are float16 in fp16/q4f16)
    this.imageFeatures.set(image.key, data);
    while (this.imageFeatures.size > 4) this.imageFeatures.delete(this.imageFeatures.keys().next().value);
    return data;
  }

  // The pan-and-scan crops encoded with an image (encodeImage's result): what
  // Chat.ask({crops}) needs so the prompt has one image block per encoded image.
  cropsOf(features) {
    const { mm_tokens_per_image: mm, hidden_size: H } = this.model;
    return Math.max(0, Math.round(features.length / (mm * H)) - 1);
  }

  // Chat.ask with the image's crop count (the image is encoded first, once per
  // key). Returns the core's notice when older turns were set aside to fit the
  // context (null otherwise).
  async _askChat(conv, question, image) {
    const { chat } = conv;
    const crops = image ? this.cropsOf(await this.encodeImage(image)) : 0;
    const earlier = chat.earlierTurnCount;
    chat.ask(question, { image: !!image, crops });
    return chat.earlierTurnCount > earlier ? chat.contextNotice : null;
  }

  async _embed(ids, imageFeatures) {
    const H = this.model.hidden_size;
    const out = await this.embed.run({
      input_ids: new this.ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) });
    const embeds = toFloat32((out.inputs_embeds ?? Object.values(out)[0]).data);
    const imageId = this.model.image_token_id;
    let row = 0;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== imageId) continue;
      if (!imageFeatures) throw new Error('image tokens to prefill but no image features');
      if ((row + 1) * H > imageFeatures.length) throw new Error('more image tokens than image features');
      embeds.set(imageFeatures.subarray(row * H, (row + 1) * H), i * H);
      row++;
    }
    return embeds;
  }

  // Runs the decoder on `ids` on top of `kv`. keep=false leaves kv untouched
  // (label scoring). Returns the logits of the last `rows` positions,
  // Float32Array [rows * vocab]. A decoder with a `num_logits_to_keep` /
  // `logits_to_keep` input computes only those rows (a MedGemma prefill of 256
  // image tokens would otherwise return ~280 MB of logits).
  // positions: the new tokens' position ids (default: P, P+1, ...).
  async _decode(kv, ids, tokenTypes, imageFeatures, { keep = true, rows = 1, positions = null } = {}) {
    const S = ids.length, P = kv.length, T = P + S;
    const embeds = await this._embed(ids, imageFeatures);
    const feeds = {
      inputs_embeds: this._floatTensor(this.embedsType, embeds, [1, S, this.model.hidden_size]),
      attention_mask: this._onesTensor(T),
      position_ids: new this.ort.Tensor('int64', positions ? BigInt64Array.from(positions, BigInt)
        : BigInt64Array.from({ length: S }, (_, i) => BigInt(P + i)), [1, S]),
      ...kv.past,
    };
    for (const name of ['num_logits_to_keep', 'logits_to_keep'])
      if (this.decoderInputs.has(name))
        feeds[name] = rows === 1 ? this.keepOne : new this.ort.Tensor('int64', BigInt64Array.from([BigInt(rows)]), []);
    if (this.decoderInputs.has('token_type_ids'))
      feeds.token_type_ids = S === 1 && !tokenTypes?.[0] ? this.textType
        : new this.ort.Tensor('int64', BigInt64Array.from(tokenTypes ?? new Array(S).fill(0), BigInt), [1, S]);
    // Shared buffer: the global layers' past tensors are also their present outputs (steps that keep the
    // cache, on the cache's own buffers); every output is listed, in the session's order (onnxruntime-node
    // names the results by position).
    const inPlace = this.sharedKv && keep === true && kv.owned;
    let fetches;
    if (inPlace) {
      kv.reserve(T);
      Object.assign(feeds, kv.past);
      fetches = {};
      for (const n of this.outputNames) fetches[n] = null;
      for (const [past, present] of this.kvNames) if (!this.windowNames.has(past)) fetches[present] = kv.past[past];
    }
    const out = fetches ? await this.decoder.run(feeds, fetches) : await this.decoder.run(feeds);
    this.stats.decoderRuns++;
    if (inPlace && !this._checkedInPlace) this._checkInPlace(kv, out, P, T);
    const logits = out.logits;
    let data = logits.location && logits.location !== 'cpu' ? await logits.getData(true) : logits.data;
    if (logits.type === 'float16') data = toFloat32(data);  // decoder_model_merged_{fp16,q4f16} of a public export
    if (keep === 'later') kv.deferred = { out, T };  // kv.adopt() or kv.drop() once the drafts are checked
    else if (keep) kv.replace(out, T, inPlace && this.sharedKv);
    else this._dispose(Object.entries(out).filter(([n]) => n !== 'logits').map(([, t]) => t));
    const V = this.model.vocab_size;
    return data.length > rows * V ? data.subarray(data.length - rows * V) : data;
  }

  // The first in-place step checks that onnxruntime did write into the bound
  // buffer (its returned copy of present must equal the buffer's new rows);
  // if not, shared buffers are turned off and the returned copies are used.
  _checkInPlace(kv, out, P, T) {
    this._checkedInPlace = true;
    const pair = this.kvNames.find(([n]) => !this.windowNames.has(n));
    if (!pair) return;
    const buf = kv.past[pair[0]], copy = out[pair[1]];
    const d = buf.dims[3], rowsBuf = buf.dims[2], rowsCopy = copy.dims[2];
    for (let r = P; r < T; r++) for (let j = 0; j < d; j++)
      if (buf.data[r * d + j] !== copy.data[r * d + j] || rowsCopy !== rowsBuf) {
        this.sharedKv = false;
        this.notices.push('the KV cache could not be written in place: copying it each step');
        return;
      }
  }

  // Brings the runtime's cache in line with the conversation (after an edit or
  // a new image), then prefills what is pending. Returns the last logits row.
  async _prefill(conv, image) {
    const { chat, kv } = conv;
    if (chat.kvLength < kv.length) {
      const kept = kv.truncate(chat.kvLength);
      if (kept < chat.kvLength) chat.rewindKv(kept);  // the rest is prefilled again
    }
    if (chat.kvLength !== kv.length) throw new Error(`KV cache out of step (${kv.length} vs ${chat.kvLength})`);
    const pending = chat.pending();
    const types = chat.pendingTokenTypes();
    kv.takeSnapshot();
    let feats = null;
    if (chat.pendingHasImage()) {
      if (!image && !conv.imageKey) throw new Error('this question needs the image');
      feats = await this.encodeImage(image ?? { key: conv.imageKey });
    }
    const logits = await this._decode(kv, pending, types, feats);
    chat.onPrefilled(pending.length);
    this.stats.prefilledTokens += pending.length;
    conv.lastPrefill = pending.length;
    return logits;
  }

  // Jobs run one after another (one model, one KV cache at a time); a job
  // cancelled while waiting never starts.
  _job(run) {
    const state = { cancelled: false };
    const promise = this.queue.then(() => run(state));
    this.queue = promise.catch(() => {});
    return { promise, cancel: () => { state.cancelled = true; } };
  }

  // Asks a question. image: needed on the first question of a conversation
  // (and when switching image, which starts the conversation over).
  // Returns {promise, cancel}; promise -> {text, ids, reason, message, contextNotice,
  // prefilled, timings}: reason 'context' = the answer stopped at the model's
  // context (message says so); contextNotice = older turns were set aside to
  // make room for this question (plain words), else null.
  ask(conv, question, { image = null, generation = {}, onToken = null } = {}) {
    return this._job(async (state) => {
      if (state.cancelled) return { text: '', ids: [], reason: 'cancelled', prefilled: 0, timings: null };
      const { chat } = conv;
      if (image && conv.imageKey !== null && image.key !== conv.imageKey) {
        chat.clear();
        conv.kv.reset();
      }
      const withImage = !!image && chat.turnCount === 0;
      if (image) conv.imageKey = image.key;
      const contextNotice = await this._askChat(conv, question, withImage ? image : null);
      return { ...(await this._answer(conv, image, state, generation, onToken)), contextNotice };
    });
  }

  // Replaces question `turn` (later turns are dropped) and answers it again.
  // The cache keeps everything before that turn (cut on the CPU; a GPU cache
  // is rebuilt from the start); the image is not encoded again.
  editQuestion(conv, turn, question, { generation = {}, onToken = null } = {}) {
    return this._job(async (state) => {
      if (state.cancelled) return { text: '', ids: [], reason: 'cancelled', prefilled: 0, timings: null };
      const earlier = conv.chat.earlierTurnCount;
      conv.chat.editQuestion(turn, question);
      const contextNotice = conv.chat.earlierTurnCount > earlier ? conv.chat.contextNotice : null;
      return { ...(await this._answer(conv, null, state, generation, onToken)), contextNotice };
    });
  }

  async _answer(conv, image, state, generation, onToken) {
    const t0 = performance.now();
    const { chat } = conv;
    let row;
    try {
      row = await this._prefill(conv, image);
    } catch (e) {
      chat.dropLastTurn();  // the question was never answered: leave no trace
      throw e;
    }
    const prefilled = conv.lastPrefill;
    const tFirst = performance.now();
    chat.startGeneration(generation);
    const V = this.model.vocab_size;
    const drafting = { passes: 0, drafted: 0, kept: 0 };
    let firstTokenAt = null;
    let rows = [row], drafts = [];
    // Drafts per pass: a pass over more positions costs more (tools/bench/draft_pass_bench.mjs: 7 positions cost
    // 2.4x one at MedGemma's width on a CPU), so the count follows what the model keeps: +2 after a pass that
    // kept every draft, -1 after one that did not (as transformers' assisted generation schedules it).
    let draftLength = Math.min(2, this.draftTokens);
    // A pass whose cache cannot be cut back (GPU buffers, or a window that slid) is kept only when every
    // draft was; otherwise the cache stays as before it, and its kept tokens (`carry`) lead the next pass.
    let deferred = false, carry = [], fed = [];  // fed: the last pass' ids
    const settle = (i) => {  // i of the last pass' drafts were kept
      if (!deferred) return;
      deferred = false;
      if (i === drafts.length) { conv.kv.adopt(); carry = []; } else { conv.kv.drop(); carry = fed.slice(0, fed.length - drafts.length + i); }
    };
    for (;;) {
      // One pass gave a row for the fed token and one per draft after it: a draft is kept while the
      // generator, given the row before it, picks it (then its own row is the next one's logits).
      let r, i = 0;
      for (;;) {
        if (state.cancelled) chat.cancel();
        r = chat.step(rows[i]);
        if (firstTokenAt === null) firstTokenAt = performance.now();
        if (r.delta) onToken?.(r.delta, r.token);
        if (r.done) {
          settle(i);
          if (chat.kvLength > conv.kv.length) chat.rewindKv(conv.kv.length);  // the next question feeds them again
          const turn = chat.turnCount - 1;
          return {
            // message: plain words when reason is 'context' (the answer filled the model's context).
            text: chat.answerText(turn), ids: chat.answerIds(turn), reason: r.reason, message: r.message ?? null, prefilled,
            timings: { prefillMs: tFirst - t0, firstTokenMs: firstTokenAt - t0, totalMs: performance.now() - t0 },
            drafting,
          };
        }
        if (i < drafts.length && r.feed === drafts[i]) { i++; drafting.kept++; continue; }
        break;
      }
      if (drafts.length) {
        draftLength = i === drafts.length ? Math.min(this.draftTokens, draftLength + 2) : Math.max(1, draftLength - 1);
        if (deferred) settle(i);
        else if (i < drafts.length) conv.kv.truncate(chat.kvLength);  // the drafts after a wrong one are not the answer
      }
      // A long carry (drafts wrong pass after pass) is absorbed by a pass without drafts.
      drafts = carry.length < 8 ? this._drafts(conv, draftLength) : [];
      try {
        const ids = [...carry, r.feed, ...drafts];
        const S = 1 + drafts.length;
        deferred = drafts.length > 0 && !this._canCut(conv.kv, ids.length);
        fed = ids;
        const logits = await this._decode(conv.kv, ids, new Array(ids.length).fill(0), null, { rows: S, keep: deferred ? 'later' : true });
        if (!deferred) carry = [];
        rows = Array.from({ length: S }, (_, k) => logits.subarray(k * V, (k + 1) * V));
        drafting.passes++;
        drafting.drafted += drafts.length;
      } catch (e) {
        deferred = false;
        chat.cancel();  // keep what was answered so far; the error goes to the caller
        chat.step(new Float32Array(V));
        chat.rewindKv(conv.kv.length);  // the failed tokens are not in the cache
        throw e;
      }
      await maybeYield();  // let the page paint and the Stop button work
    }
  }

  // Draft tokens for the next decode pass (prompt lookup, Chat.draft).
  _drafts(conv, most) {
    const room = Math.min(most, this.draftTokens);
    return room > 0 ? conv.chat.draft(room) : [];
  }

  // Can a pass of S tokens on `kv` be cut back to any shorter length afterwards? Only a CPU cache, and only
  // while every windowed sliding layer still holds the whole conversation after the pass (a window that has
  // slid has dropped positions the cut would need).
  _canCut(kv, S) {
    const first = Object.values(kv.past)[0];
    if (first?.location && first.location !== 'cpu') return false;
    return !this.windowNames.size || kv.length + S <= this.model.sliding_window - 1;
  }

  // Probability of every label after one shared prompt: the question (with the
  // image) is prefilled once; then every label's tokens run in ONE decoder
  // pass on top of that cache, packed one after another as branches
  // (token_type_ids 2, 3, ...: each label sees the prompt and itself only, at
  // positions P, P+1, ...; PACKAGE.md), in as few passes as the logits budget
  // allows (logitsBudget bytes of logits per pass: 128 MiB is ~128 label tokens
  // at MedGemma's 262k vocabulary). A decoder without token types (public
  // exports) or batch=false runs one pass per label.
  // labelSet: {question, labels: [{id, name, answer}]}. Returns {promise, cancel}.
  classify(labelSet, { image, question = null, systemPrompt = '', endId = undefined, batch = true,
    logitsBudget = 128 * 2 ** 20 } = {}) {
    return this._job(async (state) => {
      if (state.cancelled) throw new Error('classification cancelled');
      const conv = this.newConversation({ systemPrompt });
      try {
        const t0 = performance.now();
        const names = labelSet.labels.map((l) => l.answer ?? l.name);
        const q = question ?? labelSet.question ??
          `Which one of these best describes the image: ${names.join(', ')}? Answer with the name only.`;
        await this._askChat(conv, q, image);
        conv.imageKey = image?.key ?? null;
        const prefix = await this._prefill(conv, image);
        const end = endId ?? this.model.eos_token_ids[this.model.eos_token_ids.length - 1];
        const n = conv.chat.beginClassification(names, end);
        conv.chat.setPrefixLogits(prefix);
        const runs = Array.from({ length: n }, (_, i) => conv.chat.labelRunTokens(i));
        const packed = batch && this.decoderInputs.has('token_type_ids');
        const maxRows = packed ? Math.max(1, Math.floor(logitsBudget / (4 * this.model.vocab_size))) : 1;
        const P = conv.kv.length, V = this.model.vocab_size;
        for (let i = 0; i < n;) {
          if (state.cancelled) throw new Error('classification cancelled');
          // The labels of this pass: as many as fit the budget (always at least one).
          const group = [];
          let rows = 0;
          for (; i < n && (group.length === 0 || rows + runs[i].length <= maxRows); i++) {
            if (runs[i].length) { group.push(i); rows += runs[i].length; }
          }
          if (!group.length) continue;
          const ids = group.flatMap((j) => runs[j]);
          const types = group.flatMap((j, g) => runs[j].map(() => (packed ? 2 + g : 0)));
          const positions = group.flatMap((j) => runs[j].map((_, k) => P + k));
          const logits = await this._decode(conv.kv, ids, packed ? types : null, null, { keep: false, rows, positions });
          let row = 0;
          for (const j of group) {
            conv.chat.addLabelLogits(j, logits.subarray(row * V, (row + runs[j].length) * V), runs[j].length);
            row += runs[j].length;
          }
          await nextTask();
        }
        const r = conv.chat.classificationResult();
        const labels = labelSet.labels.map((l, i) => ({ ...l, probability: r.probabilities[i], logLikelihood: r.log_likelihoods[i] }));
        return { labels, ranking: r.ranking, totalMs: performance.now() - t0 };
      } finally {
        conv.free();
      }
    });
  }

  async release() {
    for (const s of [this.vision, this.embed, this.decoder]) await s?.release?.();
    this.tokenizer.free();
  }

  // A KV cache that continues `kv` without changing it: steps run on the fork
  // (_decode(fork, ...)) never alter or dispose kv's tensors, so one prefilled
  // prefix (an image and the text before the question) serves many questions
  // (report drafting, web/report/report_draft.js). Free it with fork.dispose();
  // kv stays valid until its own dispose().
  forkCache(kv) {
    const shared = new Set(Object.values(kv.past));
    const fork = new KvCache(Object.create(this, {
      _dispose: { value: (tensors) => this._dispose(tensors.filter((t) => !shared.has(t))) },
    }));
    fork.past = { ...kv.past };
    fork.length = kv.length;
    fork.owned = false;  // its first step copies (never writes into kv's buffers)
    return fork;
  }

  // Several short continuations of one cached prefix in ONE decoder run
  // (batch = runs.length; report drafting scores all options of a field this
  // way): runs are right-padded (masked), the prefix cache is repeated per row
  // on the CPU, so only while that copy stays under maxBytes. kv is not
  // changed. Returns one Float32Array [runs[i].length * vocab] per run (the
  // logits of its own positions), or null when the cache is too large or the
  // decoder cannot take such a batch (the caller then runs them one by one).
  async decodeBatch(kv, runs, { maxBytes = 64 * 2 ** 20 } = {}) {
    const B = runs.length, S = Math.max(...runs.map((r) => r.length)), P = kv.length, T = P + S;
    const { hidden_size: H, vocab_size: V } = this.model;
    if (!B || !S) return null;
    // onnxruntime's GroupQueryAttention (decoder_fused) takes a batch only one token at a time.
    if (this.decoderGraph === 'decoder_fused' && S > 1) return null;
    let bytes = 0;
    for (const t of Object.values(kv.past)) bytes += t.dims.reduce((a, b) => a * b, 1) * (t.type === 'float16' ? 2 : 4) * B;
    if (bytes > maxBytes) return null;
    const past = {};
    for (const [name, t] of Object.entries(kv.past)) {
      const data = t.location && t.location !== 'cpu' ? await t.getData() : t.data;
      const rep = new data.constructor(B * data.length);  // float32 or float16 bits, as the cache holds them
      for (let i = 0; i < B; i++) rep.set(data, i * data.length);
      past[name] = new this.ort.Tensor(t.type, rep, [B, ...t.dims.slice(1)]);
    }
    const ids = [], mask = new BigInt64Array(B * T), pos = new BigInt64Array(B * S);
    runs.forEach((run, i) => {
      for (let j = 0; j < S; j++) {
        ids.push(run[Math.min(j, run.length - 1)]);  // padding repeats the last token; it is masked
        pos[i * S + j] = BigInt(P + j);
      }
      for (let k = 0; k < P + run.length; k++) mask[i * T + k] = 1n;
    });
    const embeds = await this._embed(ids, null);
    const feeds = {
      inputs_embeds: this._floatTensor(this.embedsType, embeds, [B, S, H]),
      attention_mask: new this.ort.Tensor('int64', mask, [B, T]),
      position_ids: new this.ort.Tensor('int64', pos, [B, S]),
      ...past,
    };
    for (const name of ['num_logits_to_keep', 'logits_to_keep'])
      if (this.decoderInputs.has(name)) feeds[name] = new this.ort.Tensor('int64', BigInt64Array.from([BigInt(S)]), []);
    if (this.decoderInputs.has('token_type_ids'))
      feeds.token_type_ids = new this.ort.Tensor('int64', new BigInt64Array(B * S), [B, S]);
    const out = await this.decoder.run(feeds);
    this.stats.decoderRuns++;
    const logits = out.logits;
    let data = logits.location && logits.location !== 'cpu' ? await logits.getData(true) : logits.data;
    if (logits.type === 'float16') data = toFloat32(data);
    this._dispose(Object.entries(out).filter(([n]) => n !== 'logits').map(([, t]) => t));
    const rows = data.length / (B * V);  // S, unless the graph kept fewer
    return runs.map((run, i) => data.slice((i * rows + rows - S) * V, (i * rows + rows - S + run.length) * V));
  }
}
