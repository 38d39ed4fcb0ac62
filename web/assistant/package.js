// package.js: reads a model package in the transformers.js layout (see
// tools/model_builder/PACKAGE.md) from a source, checks every file it uses
// against manifest.json (size, then sha256) and hands out what the runtime
// needs. A public export without a manifest (e.g. the MedGemma q4 export for
// transformers.js) is accepted with size-less, hash-less loading and a notice.
//
// A source is anything with `read(path) -> Promise<Uint8Array>`; see
// sources.js for folders, URLs and the browser cache.

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
    pkg.preprocessorConfigText = textDecoder.decode(await pkg.file('preprocessor_config.json'));
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
  // 'decoder_token_types') in `variant` ('fp32' | 'q4'); null when absent.
  graphPath(graph, variant) {
    if (this.manifest) return this.manifest.graphs?.[graph]?.[variant] ?? null;
    const file = graph === 'decoder' ? 'decoder_model_merged' : graph;
    if (graph === 'decoder_token_types') return null;  // ours only
    return `onnx/${file}${variant === 'fp32' ? '' : `_${variant}`}.onnx`;
  }

  // {model: Uint8Array, externalData: [{path, data}]} for ort's session options.
  async graph(graph, variant) {
    const path = this.graphPath(graph, variant);
    if (!path) throw new PackageError(`package has no ${variant} ${graph} graph`);
    const model = await this.file(path);
    let external = this.entry(path)?.external_data;
    if (!external && !this.manifest) {
      const chunks = this.config['transformers.js_config']?.use_external_data_format?.[basename(path)];
      const n = chunks === true ? 1 : Number(chunks || 0);
      external = Array.from({ length: n }, (_, i) => `${path}_data${i ? `_${i}` : ''}`);
    }
    const externalData = [];
    for (const p of external ?? []) externalData.push({ path: basename(p), data: await this.externalFile(p) });
    return { path, model, externalData };
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
    };
  }
}
