// package.js: reads a model package in the transformers.js layout (see
// tools/model_builder/PACKAGE.md) from a source, checks every file it uses
// against manifest.json (size, then sha256) and hands out what the runtime
// needs. A public export without a manifest (e.g. the MedGemma q4 export for
// transformers.js) is accepted with size-less, hash-less loading and a notice.
//
// A source is anything with `read(path) -> Promise<Uint8Array>`; see
// sources.js for folders, URLs and the browser cache.
//
// Variants are transformers.js' dtypes with its file suffixes: fp32 (""),
// fp16 ("_fp16"), q4 ("_q4"), q4f16 ("_q4f16"). A public export (no
// manifest.json, no decoder_token_types graphs) is read by those names; its
// chunked external data ("x.onnx_data", "x.onnx_data_1", ...) comes from
// config.json's transformers.js_config.use_external_data_format.
// estimateMemory() / checkMemoryFit() say before any weight is downloaded
// whether a variant can fit the execution provider (README "Memory estimate").

export class PackageError extends Error {
  constructor(message, file = null) {
    super(file ? `${file}: ${message}` : message);
    this.file = file;
  }
}

const textDecoder = new TextDecoder();

export async function sha256Hex(bytes) {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function parseJson(bytes, file) {
  try {
    return JSON.parse(textDecoder.decode(bytes));
  } catch (e) {
    throw new PackageError(`malformed JSON (${e.message})`, file);
  }
}

const basename = (p) => p.slice(p.lastIndexOf('/') + 1);

// transformers.js dtype -> file suffix, in order of preference when the GPU has shader-f16.
export const VARIANT_SUFFIX = { q4f16: '_q4f16', q4: '_q4', fp16: '_fp16', fp32: '' };
const GRAPH_FILE = { vision_encoder: 'vision_encoder', embed_tokens: 'embed_tokens', decoder: 'decoder_model_merged' };

export class ModelPackage {
  constructor(source, manifest, notices) {
    this.source = source;
    this.manifest = manifest;          // null for public exports without one
    this.notices = notices;            // human-readable remarks for the UI
    this.verified = new Set();
  }

  // Opens a package: reads manifest.json when there is one, then the configs.
  static async open(source, { verify = true } = {}) {
    const notices = [];
    let manifest = null;
    try {
      manifest = parseJson(await source.read('manifest.json'), 'manifest.json');
    } catch (e) {
      if (e instanceof PackageError) throw e;
      // Only a manifest that is not there means "public export": a dropped
      // connection or a gated repo must not turn integrity checks off.
      const absent = e.code === 'ENOENT' || e.name === 'NotFoundError' || /^404\b|ENOENT|not in the picked folder/.test(e.message);
      if (!absent) throw Object.assign(new PackageError(`cannot read (${e.message})`, 'manifest.json'), { cause: e });
      notices.push('no manifest.json: files are not integrity-checked (public export?)');
    }
    if (manifest && manifest.format !== 'endoscribe-model-package')
      throw new PackageError(`unknown package format '${manifest.format}'`, 'manifest.json');
    const pkg = new ModelPackage(source, manifest, notices);
    pkg.verify = verify && manifest !== null;
    pkg.config = await pkg.json('config.json');
    pkg.generationConfig = await pkg.json('generation_config.json', {});
    pkg.preprocessorConfigText = await pkg._preprocessorConfigText();
    pkg.tokenizerConfigText = textDecoder.decode(await pkg.file('tokenizer_config.json'));
    pkg.tokenizerConfig = parseJson(new TextEncoder().encode(pkg.tokenizerConfigText), 'tokenizer_config.json');
    pkg.specialTokens = await pkg.json('special_tokens_map.json', {});
    // Newer hub checkpoints keep the template beside tokenizer_config.json.
    pkg.chatTemplate = pkg._templateFrom(pkg.tokenizerConfig.chat_template);
    if (!pkg.chatTemplate) {
      try {
        pkg.chatTemplate = textDecoder.decode(await pkg.file('chat_template.jinja'));
      } catch {
        try {
          pkg.chatTemplate = pkg._templateFrom((await pkg.json('chat_template.json')).chat_template);
        } catch { /* none: the chat fails with a clear message when created */ }
      }
    }
    return pkg;
  }

  // preprocessor_config.json, or (checkpoints saved by transformers 5, which may ship no
  // preprocessor_config.json) the "image_processor" object of processor_config.json.
  async _preprocessorConfigText() {
    try {
      return textDecoder.decode(await this.file('preprocessor_config.json'));
    } catch (e) {
      if (!(e instanceof PackageError) || !/cannot read|not listed/.test(e.message)) throw e;
      let proc;
      try { proc = await this.json('processor_config.json'); } catch { throw e; }
      if (!proc?.image_processor || typeof proc.image_processor !== 'object') throw e;
      return JSON.stringify(proc.image_processor);
    }
  }

  entry(path) {
    return this.manifest?.files?.find((f) => f.path === path) ?? null;
  }

  // Reads one file and checks it against the manifest; a corrupt or truncated
  // file is named and never returned.
  async file(path) {
    try {
      return await this._file(path);
    } catch (e) {
      // A bad copy in a cache is dropped and fetched again, once.
      if (!(e instanceof PackageError) || !this.source.evict || !/sha256|size/.test(e.message)) throw e;
      await this.source.evict(path);
      this.notices.push(`${e.message}; the cached copy was discarded and downloaded again`);
      return this._file(path);
    }
  }

  async _file(path) {
    let bytes;
    try {
      bytes = await this.source.read(path);
    } catch (e) {
      throw Object.assign(new PackageError(`cannot read (${e.message})`, path), { cause: e });
    }
    if (this.verify) {
      const entry = this.entry(path);
      if (!entry) throw new PackageError('not listed in manifest.json', path);
      if (bytes.byteLength !== entry.size)
        throw new PackageError(`size ${bytes.byteLength} bytes, manifest says ${entry.size} (truncated or corrupt download)`, path);
      if (entry.sha256 && (await sha256Hex(bytes)) !== entry.sha256)
        throw new PackageError('sha256 does not match manifest.json (corrupt file)', path);
      this.verified.add(path);
    }
    return bytes;
  }

  // An external-data file for onnxruntime: a Blob backed by the browser's
  // cache when the source streams (sources.js cachedSource.blob: size and
  // sha256 checked as the bytes arrive, never whole in JS memory; ort-web reads
  // a Blob itself), else the bytes from file().
  async externalFile(path) {
    if (!this.source.blob) return this.file(path);
    const entry = this.entry(path);
    if (this.verify && !entry) throw new PackageError('not listed in manifest.json', path);
    const expected = this.verify ? { size: entry.size, sha256: entry.sha256 } : {};
    for (let attempt = 0; ; attempt++) {
      try {
        const blob = await this.source.blob(path, expected);
        if (this.verify) this.verified.add(path);
        return blob;
      } catch (e) {
        // A bad download was discarded by the source: fetched again, once.
        if (e.name === 'DownloadCheckError' && attempt === 0) {
          this.notices.push(`${path}: ${e.message}; downloaded again`);
          continue;
        }
        throw Object.assign(new PackageError(e.name === 'DownloadCheckError' ? e.message : `cannot read (${e.message})`, path), { cause: e });
      }
    }
  }

  async json(path, fallback) {
    let bytes;
    try {
      bytes = await this.file(path);
    } catch (e) {
      if (fallback !== undefined && !(e instanceof PackageError && /sha256|size/.test(e.message))) return fallback;
      throw e;
    }
    return parseJson(bytes, path);
  }

  get textConfig() { return this.config.text_config ?? this.config; }

  // The model facts the runtime needs, from the manifest or config.json.
  get model() {
    const m = this.manifest?.model;
    if (m) return m;
    const t = this.textConfig;
    const eos = this.generationConfig.eos_token_id ?? this.config.eos_token_id ?? t.eos_token_id;
    return {
      num_hidden_layers: t.num_hidden_layers, num_key_value_heads: t.num_key_value_heads,
      head_dim: t.head_dim ?? t.hidden_size / t.num_attention_heads, hidden_size: t.hidden_size,
      vocab_size: t.vocab_size, sliding_window: t.sliding_window,
      image_size: this.config.vision_config?.image_size, mm_tokens_per_image: this.config.mm_tokens_per_image,
      image_token_id: this.config.image_token_index ?? this.config.image_token_id,
      boi_token_id: this.config.boi_token_index, eoi_token_id: this.config.eoi_token_index,
      eos_token_ids: Array.isArray(eos) ? eos : [eos],
    };
  }

  // Graph file for `graph` ('vision_encoder', 'embed_tokens', 'decoder',
  // 'decoder_token_types') in `variant` ('fp32' | 'fp16' | 'q4' | 'q4f16');
  // null when absent (for a public export: when config.json's external-data
  // list names other files of that graph but not this one).
  graphPath(graph, variant) {
    if (this.manifest) return this.manifest.graphs?.[graph]?.[variant] ?? null;
    if (graph === 'decoder_token_types' || !(variant in VARIANT_SUFFIX) || !GRAPH_FILE[graph]) return null;  // ours only
    const file = `${GRAPH_FILE[graph]}${VARIANT_SUFFIX[variant]}.onnx`;
    const listed = this.config?.['transformers.js_config']?.use_external_data_format;
    if (listed && typeof listed === 'object' && Object.keys(listed).some((f) => f.startsWith(GRAPH_FILE[graph])) && !(file in listed))
      return null;
    return `onnx/${file}`;
  }

  // The variants whose three graphs are all present (a public export whose
  // config does not list its files: every variant is assumed, and a missing
  // file is reported when it is read).
  variants() {
    return Object.keys(VARIANT_SUFFIX).filter((v) =>
      ['vision_encoder', 'embed_tokens', 'decoder'].every((g) => this.graphPath(g, v)));
  }

  // The external-data files of a graph file (the manifest's list; for a
  // public export, config.json's chunk count).
  _externalPaths(path) {
    let external = this.entry(path)?.external_data;
    if (!external && !this.manifest) {
      const chunks = this.config['transformers.js_config']?.use_external_data_format?.[basename(path)];
      const n = chunks === true ? 1 : Number(chunks || 0);
      external = Array.from({ length: n }, (_, i) => `${path}_data${i ? `_${i}` : ''}`);
    }
    return external ?? [];
  }

  // {model: Uint8Array, externalData: [{path, data}]} for ort's session options.
  async graph(graph, variant) {
    const path = this.graphPath(graph, variant);
    if (!path) throw new PackageError(`package has no ${variant} ${graph} graph`);
    const model = await this.file(path);
    const externalData = [];
    for (const p of this._externalPaths(path)) externalData.push({ path: basename(p), data: await this.externalFile(p) });
    return { path, model, externalData };
  }

  // The same graph as a file path, for a runtime that reads files itself
  // (onnxruntime-node finds the external data beside the graph file), when the
  // source is a folder on disk (source.localPath; see folderSource). Every
  // file is checked against the manifest first with the source's streamed
  // size and sha256, so its bytes are never held in JS memory. null when the
  // source has no files on disk (browsers, URLs, caches).
  async graphOnDisk(graph, variant) {
    if (!this.source.localPath) return null;
    const path = this.graphPath(graph, variant);
    if (!path) throw new PackageError(`package has no ${variant} ${graph} graph`);
    for (const p of [path, ...this._externalPaths(path)]) await this._verifyOnDisk(p);
    return { path, model: this.source.localPath(path), externalData: [] };
  }

  async _verifyOnDisk(path) {
    let size;
    try {
      size = await this.source.size(path);
    } catch (e) {
      throw Object.assign(new PackageError(`cannot read (${e.message})`, path), { cause: e });
    }
    if (!this.verify) return;
    const entry = this.entry(path);
    if (!entry) throw new PackageError('not listed in manifest.json', path);
    if (size !== entry.size)
      throw new PackageError(`size ${size} bytes, manifest says ${entry.size} (truncated or corrupt download)`, path);
    if (entry.sha256 && (await this.source.sha256(path)) !== entry.sha256)
      throw new PackageError('sha256 does not match manifest.json (corrupt file)', path);
    this.verified.add(path);
  }

  _templateFrom(t) {
    if (typeof t === 'string') return t;
    if (Array.isArray(t)) return t.find((x) => x.name === 'default')?.template ?? null;
    return null;
  }

  // The chat configuration for the core (web/assistant/core.js Chat).
  chatConfig() {
    const tc = this.tokenizerConfig;
    const st = this.specialTokens;
    const tokenText = (v, d) => (typeof v === 'string' ? v : v?.content ?? d);
    return {
      chat_template: this.chatTemplate ?? '',
      bos_token: tokenText(tc.bos_token ?? st.bos_token, '<bos>'),
      eos_token: tokenText(tc.eos_token ?? st.eos_token, '<eos>'),
      boi_token: tokenText(tc.boi_token ?? st.boi_token, '<start_of_image>'),
      eoi_token: tokenText(tc.eoi_token ?? st.eoi_token, '<end_of_image>'),
      image_token: tokenText(tc.image_token ?? st.image_token, '<image_soft_token>'),
      mm_tokens_per_image: this.model.mm_tokens_per_image,
      stop_ids: this.model.eos_token_ids,
      // The model's positions (its RoPE tables end there): the core keeps the
      // conversation within the smaller of this and the app's context_limit.
      max_position_embeddings: this.textConfig.max_position_embeddings ?? null,
    };
  }
}

// ---- variant choice and memory estimate ------------------------------------

// Which variant runs where: webgpu_check.js planExecution (the app's only chooser).

// Context the estimate plans for (the config's limit, capped: MedGemma allows 131,072 positions, whose
// float32 KV cache alone is 34 GiB), and the least a model must hold to be worth loading: one image (256
// tokens) and a few turns.
export const PLANNED_CONTEXT = 8192;
export const MIN_CONTEXT = 1024;
const GiB = 2 ** 30;
// Bytes per parameter of a variant's weights: 4-bit blocks of 32 = 16 bytes of
// nibbles + a scale (4 or 2 bytes) + half a byte of zero point.
const BYTES_PER_PARAM = { fp32: 4, fp16: 2, q4: 20.5 / 32, q4f16: 18.5 / 32 };

function configSizes(pkg) {
  const t = pkg.textConfig, v = pkg.config.vision_config ?? {};
  const H = t.hidden_size, D = t.head_dim ?? H / t.num_attention_heads, I = t.intermediate_size;
  const nH = t.num_attention_heads, nKV = t.num_key_value_heads, L = t.num_hidden_layers, vocab = t.vocab_size;
  const VH = v.hidden_size ?? 1152, VI = v.intermediate_size ?? 4304, VL = v.num_hidden_layers ?? 27;
  const side = (v.image_size ?? 896) / (v.patch_size ?? 14);
  const types = pkg.manifest?.model?.layer_types ?? t.layer_types ?? null;
  const sliding = Array.isArray(types) ? types.filter((k) => k === 'sliding_attention').length : 0;
  return { H, D, I, nH, nKV, L, vocab, VH, VI, VL, visionTokens: side * side, visionHeads: v.num_attention_heads ?? 16,
    sliding, window: t.sliding_window ?? pkg.manifest?.model?.sliding_window ?? null,
    mmTokens: pkg.config.mm_tokens_per_image ?? 256, maxPositions: t.max_position_embeddings ?? 131072,
    tied: pkg.config.tie_word_embeddings ?? t.tie_word_embeddings ?? true };
}

// {weights, kvCache, activations, total, largestTensor, contextLength, kvBytesPerToken, kvWindowBytes,
// weightsFrom} in bytes for `variant`. Weights: the manifest's file sizes of the graphs the runtime loads
// (the token-types decoder when present), else parameter counts from config.json (public exports). KV
// cache, float16 in fp16/q4f16, at contextLength tokens: every layer keeps the whole history, except in
// packages whose runtime decoders keep only the window in the sliding layers (manifest builder.kv_cache.window,
// PACKAGE.md "KV cache forms"): then kvBytesPerToken counts the global layers only and kvWindowBytes is
// the sliding layers' window (sliding_window - 1 positions each), whatever the length. Activations: the
// vision encoder at its image size (fused attention: no token x token matrix) or a prefill, whichever is
// larger, in float32, the prefill's with (4-bit variants) the decoder's largest weight dequantised to float32.
export function estimateMemory(pkg, variant, { contextLength = null } = {}) {
  const c = configSizes(pkg);
  const f16 = variant === 'fp16' || variant === 'q4f16';
  const ctx = Math.min(contextLength ?? PLANNED_CONTEXT, c.maxPositions);
  let weights = 0, weightsFrom = 'manifest';
  const decoder = pkg.graphPath('decoder_token_types', variant) ? 'decoder_token_types' : 'decoder';
  if (pkg.manifest?.files) {
    for (const graph of ['vision_encoder', 'embed_tokens', decoder]) {
      const path = pkg.graphPath(graph, variant);
      const e = path && pkg.entry(path);
      if (!e) continue;
      weights += e.size;
      for (const d of e.external_data ?? []) weights += pkg.entry(d)?.size ?? 0;
    }
  } else {
    weightsFrom = 'config';
    const vision = c.VL * (4 * c.VH * c.VH + 2 * c.VH * c.VI) + c.VH * c.H;
    const layer = c.H * c.D * (2 * c.nH + 2 * c.nKV) + 3 * c.H * c.I;
    const embed = c.vocab * c.H;
    weights = (vision + embed + c.L * layer + embed /* lm_head, stored apart from the embeddings in 4-bit exports */) *
      BYTES_PER_PARAM[variant];
  }
  const layerToken = 2 * c.nKV * c.D * (f16 ? 2 : 4);  // K and V of one position in one layer
  const windowed = !!pkg.manifest?.builder?.kv_cache?.window?.includes(decoder) && c.sliding > 0 && c.window > 0;
  const kvBytesPerToken = (windowed ? c.L - c.sliding : c.L) * layerToken;
  const kvWindowBytes = windowed ? c.sliding * (c.window - 1) * layerToken : 0;
  // The step's inputs (past) and outputs (present) coexist for one step: twice the cache.
  const kvCache = 2 * (kvBytesPerToken * ctx + (windowed ? c.sliding * Math.min(ctx, c.window - 1) * layerToken : 0));
  const visionAct = c.visionTokens * (6 * c.VH + 2 * c.VI) * 4;
  const S = c.mmTokens + 64;
  const prefillAct = S * (6 * c.H + 3 * c.I) * 4 + c.nH * S * S * 4 * 3 + c.vocab * 4 * 2;
  // 4-bit linears where onnxruntime has no 4-bit GEMM (its WASM EP) run as a float32 copy of the weight made
  // for each run: the largest is an MLP matrix or the lm_head (sliced in packages built here: builder.lm_head_rows).
  const headRows = Math.min(c.vocab, pkg.manifest?.builder?.lm_head_rows ?? c.vocab);
  const dequant = variant.startsWith('q4') ? Math.max(headRows, c.I) * c.H * 4 : 0;
  const activations = Math.max(visionAct, prefillAct + dequant);
  const largestTensor = c.vocab * c.H * BYTES_PER_PARAM[variant];
  return { variant, weights, kvCache, activations, total: weights + kvCache + activations, largestTensor,
    contextLength: ctx, maxPositions: c.maxPositions, kvBytesPerToken, kvWindowBytes, weightsFrom };
}

const gib = (n) => `${(n / GiB).toFixed(1)} GiB`;
const mib = (n) => `${(n / 2 ** 20).toFixed(0)} MiB`;

// Can `ep` ('webgpu' | 'wasm' | 'cpu') hold the estimate? {ok, reason, maxContext}: maxContext is the
// longest conversation (tokens) whose KV cache fits beside the weights and activations (null: no limit
// known); ok when it is at least MIN_CONTEXT.
//   wasm:   a 32-bit WASM heap addresses 4 GiB; the weights live in it (external data is copied from JS
//           memory into each initialiser, so not twice), the KV cache twice during a step (past copied in,
//           present written), and the activations.
//   webgpu: the largest weight tensor must fit one buffer (adapter.limits maxBufferSize and
//           maxStorageBufferBindingSize); GPU memory is not exposed, so the total is compared with the
//           device memory the browser reports (navigator.deviceMemory, GiB, capped at 8 by Chrome: only a
//           lower figure can refuse), three quarters of it for the model.
export function checkMemoryFit(estimate, ep, { adapter = null, deviceMemoryGiB = null } = {}) {
  const perToken = 2 * estimate.kvBytesPerToken;
  const fixed = estimate.weights + estimate.activations + 2 * (estimate.kvWindowBytes ?? 0);
  const within = (budget, what) => {
    const maxContext = Math.max(0, Math.floor((budget - fixed) / perToken));
    if (maxContext >= MIN_CONTEXT) return { ok: true, reason: null, maxContext: Math.min(maxContext, estimate.maxPositions ?? maxContext) };
    return { ok: false, maxContext, reason: `${what}, and this model needs about ${gib(fixed + perToken * MIN_CONTEXT)} ` +
      `(weights ${gib(estimate.weights)}, working memory ${gib(estimate.activations)}, conversation memory ` +
      `${gib(perToken * MIN_CONTEXT + 2 * (estimate.kvWindowBytes ?? 0))} for ${MIN_CONTEXT} tokens)` };
  };
  if (ep === 'wasm') return within(4 * GiB, 'the CPU backend (WASM) can use at most 4 GiB');
  if (ep === 'webgpu') {
    const limits = adapter?.limits ?? {};
    const maxBuffer = Math.min(limits.maxBufferSize ?? Infinity, limits.maxStorageBufferBindingSize ?? Infinity);
    if (estimate.largestTensor > maxBuffer)
      return { ok: false, maxContext: 0, reason: `the largest weight (${mib(estimate.largestTensor)}) is bigger than this GPU's largest buffer (${mib(maxBuffer)})` };
    if (deviceMemoryGiB && deviceMemoryGiB < 8)
      return within(0.75 * deviceMemoryGiB * GiB, `this device reports ${deviceMemoryGiB} GiB of memory`);
    return { ok: true, reason: null, maxContext: null };
  }
  return { ok: true, reason: null, maxContext: null };
}

export class ModelTooLargeError extends PackageError {}

// The execution providers of `executionProviders` (in order) that can hold `variant` of `pkg`, with a
// notice for each one dropped and the conversation length each can hold ({executionProviders, notices,
// estimate, maxContext: {ep: tokens | null}}); throws ModelTooLargeError (plain words: what, why, what to
// do) when none can. Called once, where the runtime creates its sessions, before any weight is read.
export async function fitExecutionProviders(pkg, variant, executionProviders, { contextLength = null,
  adapter = undefined, deviceMemoryGiB = globalThis.navigator?.deviceMemory ?? null } = {}) {
  const estimate = estimateMemory(pkg, variant, { contextLength });
  if (adapter === undefined && executionProviders.includes('webgpu') && globalThis.navigator?.gpu) {
    try { adapter = await globalThis.navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }); } catch { adapter = null; }
  }
  const notices = [], kept = [], reasons = [], maxContext = {};
  for (const ep of executionProviders) {
    const fit = checkMemoryFit(estimate, ep, { adapter, deviceMemoryGiB });
    const name = ep === 'wasm' ? 'CPU (WASM)' : ep === 'webgpu' ? 'GPU (WebGPU)' : ep;
    if (fit.ok) {
      kept.push(ep);
      maxContext[ep] = fit.maxContext;
      if (fit.maxContext !== null && fit.maxContext < estimate.contextLength)
        notices.push(`${name}: memory for about ${fit.maxContext} tokens of conversation (image included)`);
    } else {
      reasons.push(`${name}: ${fit.reason}`);
      notices.push(`not using ${ep}: ${fit.reason}`);
    }
  }
  if (!kept.length) {
    const smaller = pkg.variants().filter((v) => v !== variant && estimateMemory(pkg, v, { contextLength }).weights < estimate.weights);
    throw new ModelTooLargeError(`This model (${variant}) does not fit in this browser's memory: ${reasons.join('; ')}. ` +
      (smaller.length ? `Try its smaller ${smaller.join(' or ')} variant, ` : 'Try a smaller (4-bit) build of the model, ') +
      'or use a computer with a WebGPU graphics card.');
  }
  return { executionProviders: kept, notices, estimate, maxContext };
}
