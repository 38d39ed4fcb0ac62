// core.js: the assistant's C++ core (web/bindings/assistant_bindings.cpp) as JS
// objects. Only marshalling lives here: strings, id arrays and float tensors go
// in and out of the WebAssembly heap; every decision is made by the core.
// Works with the app's module and with the Node module
// (build/wasm/node/endoscribe_core.mjs).

export class CoreError extends Error {}

export class Core {
  constructor(module) {
    this.m = module;
    this._scratch = { ptr: 0, bytes: 0 };
  }

  // Loads the Node/ES module build: `factory` is the module's default export.
  static async create(factory, options = {}) {
    return new Core(await factory(options));
  }

  error() {
    return this.m.UTF8ToString(this.m._es_assistant_last_error());
  }
  _fail(what) {
    throw new CoreError(`${what}: ${this.error()}`);
  }
  _str(ptr) {
    return ptr ? this.m.UTF8ToString(ptr) : null;
  }
  // Runs fn with NUL-terminated UTF-8 copies of the given strings on the heap.
  _withStrings(strings, fn) {
    const ptrs = strings.map((s) => {
      const n = this.m.lengthBytesUTF8(s) + 1;
      const p = this.m._malloc(n);
      this.m.stringToUTF8(s, p, n);
      return p;
    });
    try {
      return fn(...ptrs);
    } finally {
      ptrs.forEach((p) => this.m._free(p));
    }
  }
  _withBytes(bytes, fn) {
    const p = this.m._malloc(Math.max(1, bytes.byteLength));
    this.m.HEAPU8.set(bytes, p);
    try {
      return fn(p, bytes.byteLength);
    } finally {
      this.m._free(p);
    }
  }
  _withInt32(values, fn) {
    const a = Int32Array.from(values);
    return this._withBytes(new Uint8Array(a.buffer), fn);
  }
  // A reusable heap buffer for logits (one answer token = one vocab row).
  _floats(data) {
    const bytes = data.length * 4;
    if (bytes > this._scratch.bytes) {
      if (this._scratch.ptr) this.m._free(this._scratch.ptr);
      this._scratch = { ptr: this.m._malloc(bytes), bytes };
    }
    this.m.HEAPF32.set(data, this._scratch.ptr >> 2);
    return this._scratch.ptr;
  }
  _ids(n) {
    if (n < 0) this._fail('core');
    const p = this.m._es_assistant_result_i32() >> 2;
    return Array.from(this.m.HEAP32.subarray(p, p + n));
  }

  tokenizer(modelBytes, tokenizerConfigJson = null) {
    const h = this._withBytes(modelBytes, (p, n) => this.m._es_tokenizer_load(p, n));
    if (!h) this._fail('tokenizer.model');
    const t = new Tokenizer(this, h);
    if (tokenizerConfigJson) {
      const ok = this._withStrings([tokenizerConfigJson], (p) => this.m._es_tokenizer_add_config(h, p));
      if (!ok) { t.free(); this._fail('tokenizer_config.json'); }
    }
    return t;
  }

  // pixel_values [N, 3, H, W] from encoded image bytes, as preprocessor_config.json
  // says: N = 1 + the pan-and-scan crops (`crops`; 0 unless the config enables it).
  preprocessImage(imageBytes, preprocessorConfigJson) {
    const n = this._withStrings([preprocessorConfigJson], (cfg) =>
      this._withBytes(imageBytes, (p, len) => this.m._es_image_preprocess(p, len, cfg)));
    return this._pixelResult(n);
  }
  preprocessRgba(rgba, width, height, preprocessorConfigJson) {
    const n = this._withStrings([preprocessorConfigJson], (cfg) =>
      this._withBytes(rgba, (p) => this.m._es_image_preprocess_rgba(p, width, height, cfg)));
    return this._pixelResult(n);
  }
  _pixelResult(n) {
    if (n < 0) this._fail('image preprocessing');
    const dims = this._ids(4);
    const p = this.m._es_assistant_result_f32() >> 2;
    return { data: this.m.HEAPF32.slice(p, p + n), dims, crops: dims[0] - 1 };
  }
  // Pan-and-scan crops a width x height image gets; pass to Chat.ask({crops}).
  imageCropCount(width, height, preprocessorConfigJson) {
    const n = this._withStrings([preprocessorConfigJson], (cfg) => this.m._es_image_crop_count(width, height, cfg));
    if (n < 0) this._fail('preprocessor_config.json');
    return n;
  }

  // A models/labels/*.json set ready for classify(): leaves only by default
  // (hierarchical sets score their most specific labels).
  labelSetForClassification(jsonText, { leavesOnly = true } = {}) {
    const s = this._withStrings([jsonText], (p) => this._str(this.m._es_classification_label_set(p)));
    if (s === null) this._fail('label set');
    const set = JSON.parse(s);
    if (leavesOnly) set.labels = set.labels.filter((l) => l.leaf);
    return set;
  }
  // A vocabulary for JSON-schema constraints outside a chat (a sampling loop
  // of one's own): tokens[i] is token i's bytes (Uint8Array; empty = never).
  constraintVocabulary(tokens) {
    const ends = new Int32Array(tokens.length);
    let n = 0;
    tokens.forEach((t, i) => { n += t.length; ends[i] = n; });
    const all = new Uint8Array(n);
    n = 0;
    for (const t of tokens) { all.set(t, n); n += t.length; }
    const h = this._withBytes(all, (p) => this._withBytes(new Uint8Array(ends.buffer), (e) =>
      this.m._es_constraint_vocabulary_create(p, e, tokens.length)));
    if (!h) throw new CoreError(`vocabulary: ${this.m.UTF8ToString(this.m._es_constraint_last_error())}`);
    return new ConstraintVocabulary(this, h);
  }
  parseBoxes(text, { format = 'auto', order = 'xyxy', width, height }) {
    const s = this._withStrings([text, JSON.stringify({ format, order, width, height })],
      (t, o) => this._str(this.m._es_box_parse(t, o)));
    if (s === null) this._fail('boxes');
    return JSON.parse(s);
  }
  formatBox(box, { format = 'auto', order = 'xyxy', width, height }) {
    const s = this._withStrings([JSON.stringify({ format, order, width, height })],
      (o) => this._str(this.m._es_box_format(box.x1, box.y1, box.x2, box.y2, o)));
    if (s === null) this._fail('box');
    return s;
  }
}

export class Tokenizer {
  constructor(core, handle) {
    this.core = core;
    this.h = handle;
  }
  get vocabSize() { return this.core.m._es_tokenizer_vocab_size(this.h); }
  specialId(which) { return this.core._withStrings([which], (p) => this.core.m._es_tokenizer_special_id(this.h, p)); }
  pieceToId(piece) { return this.core._withStrings([piece], (p) => this.core.m._es_tokenizer_piece_to_id(this.h, p)); }
  piece(id) { return this.core._str(this.core.m._es_tokenizer_piece(this.h, id)); }
  // special: special-token strings become their ids (template text);
  // typed: text someone typed, where no special piece can come out.
  encode(text, { special = false, typed = false } = {}) {
    const mode = special ? 1 : typed ? 2 : 0;
    const n = this.core._withStrings([text], (p) => this.core.m._es_tokenizer_encode(this.h, p, mode));
    return this.core._ids(n);
  }
  decode(ids) {
    return this.core._withInt32(ids, (p) => this.core._str(this.core.m._es_tokenizer_decode(this.h, p, ids.length)));
  }
  free() { this.core.m._es_tokenizer_free(this.h); this.h = 0; }
  // Throws CoreError with the reason when a JSON schema cannot constrain this
  // tokenizer's output (unsupported keyword, too large, ...).
  checkSchema(schema) {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    if (!this.core._withStrings([text], (p) => this.core.m._es_generation_check_schema(this.h, p))) this.core._fail('JSON schema');
  }
}

export class ConstraintVocabulary {
  constructor(core, handle) { this.core = core; this.h = handle; }
  // Throws CoreError with the reason when the schema cannot be used.
  constraint(schema) {
    const m = this.core.m;
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    const h = this.core._withStrings([text], (p) => m._es_constraint_create(this.h, p));
    if (!h) throw new CoreError(`JSON schema: ${m.UTF8ToString(m._es_constraint_last_error())}`);
    return new TokenConstraint(this.core, h);
  }
  free() { this.core.m._es_constraint_vocabulary_free(this.h); this.h = 0; }
}

// allowed(remaining): Uint32Array bitmask (32 ids per word) of the content
// tokens allowed next when `remaining` tokens are left, this one included;
// a stop token is allowed when `complete`.
export class TokenConstraint {
  constructor(core, handle) { this.core = core; this.h = handle; }
  get m() { return this.core.m; }
  allowed(remaining) {
    const n = this.m._es_constraint_allowed_tokens(this.h, remaining);
    const p = this.m._es_constraint_mask() >> 2;
    return new Uint32Array(this.m.HEAP32.buffer.slice(p * 4, (p + n) * 4));
  }
  accept(token) { return this.m._es_constraint_accept_token(this.h, token) === 1; }
  get complete() { return this.m._es_constraint_is_complete(this.h) === 1; }
  get minTokens() { return this.m._es_constraint_min_tokens(this.h); }
  reset() { this.m._es_constraint_reset(this.h); }
  free() { this.m._es_constraint_free(this.h); this.h = 0; }
}

// The app's practical context cap in tokens when the chat config sets no
// context_limit: the conversation holds at most min(this, the model's
// max_position_embeddings when the config passes it). See src/assistant/README.md.
export const DEFAULT_CONTEXT_LIMIT = 8192;

// One conversation: its tokens, its KV bookkeeping, its generator and its
// label scorer (see src/assistant/conversation.h for the protocol).
export class Chat {
  constructor(core, tokenizer, config) {
    this.core = core;
    const cfg = { context_limit: DEFAULT_CONTEXT_LIMIT, ...config };
    this.h = core._withStrings([JSON.stringify(cfg)], (p) => core.m._es_chat_create(tokenizer.h, p));
    if (!this.h) core._fail('chat');
  }
  get m() { return this.core.m; }
  free() { this.m._es_chat_free(this.h); this.h = 0; }
  get imageTokenId() { return this.m._es_chat_image_token_id(this.h); }
  setSystemPrompt(text) {
    if (!this.core._withStrings([text], (p) => this.m._es_chat_set_system(this.h, p))) this.core._fail('system prompt');
  }
  // crops: the image's pan-and-scan crop count (Core.imageCropCount, or the
  // preprocessed pixel values' `crops`). May set the oldest turns aside to fit
  // the context (contextNotice says so; kvLength drops to 0).
  ask(question, { image = false, crops = 0 } = {}) {
    if (!this.core._withStrings([question], (p) => this.m._es_chat_ask(this.h, p, image ? 1 : 0, crops))) this.core._fail('ask');
  }
  get maxContext() { return this.m._es_chat_max_context(this.h); }
  get contextNotice() { return this.core._str(this.m._es_chat_context_notice(this.h)); }
  get earlierTurnCount() { return this.m._es_chat_earlier_turn_count(this.h); }
  editQuestion(turn, question) {
    if (!this.core._withStrings([question], (p) => this.m._es_chat_edit(this.h, turn, p))) this.core._fail('edit');
  }
  clear() { this.m._es_chat_clear(this.h); }
  dropLastTurn() { this.m._es_chat_drop_last_turn(this.h); }
  tokens() { return this.core._ids(this.m._es_chat_tokens(this.h)); }
  get kvLength() { return this.m._es_chat_kv_length(this.h); }
  pending() { return this.core._ids(this.m._es_chat_pending(this.h)); }
  pendingTokenTypes() { return this.core._ids(this.m._es_chat_pending_token_types(this.h)); }
  pendingHasImage() { return this.m._es_chat_pending_has_image(this.h) === 1; }
  onPrefilled(n) { this.m._es_chat_on_prefilled(this.h, n); }
  rewindKv(n) { this.m._es_chat_rewind_kv(this.h, n); }
  get turnCount() { return this.m._es_chat_turn_count(this.h); }
  answerText(turn) { return this.core._str(this.m._es_chat_answer_text(this.h, turn)); }
  answerIds(turn) { return this.core._ids(this.m._es_chat_answer_ids(this.h, turn)); }
  messages() { return JSON.parse(this.core._str(this.m._es_chat_messages_json(this.h))); }
  // For saving with the case; restore() leaves the KV cache empty.
  save() { return JSON.parse(this.core._str(this.m._es_chat_save_json(this.h))); }
  restore(saved) {
    const text = typeof saved === 'string' ? saved : JSON.stringify(saved);
    if (!this.core._withStrings([text], (p) => this.m._es_chat_restore_json(this.h, p))) this.core._fail('restore');
  }

  // config: {max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed,
  // json_schema}: with json_schema the answer is always a complete JSON value of it.
  startGeneration(config = {}) {
    if (!this.core._withStrings([JSON.stringify(config)], (p) => this.m._es_generation_start(this.h, p))) this.core._fail('generation');
  }
  // logits: Float32Array of one vocab row. Returns {feed, token, delta, done,
  // reason, message}; reason 'context' = the answer filled the model's context
  // (message says so in plain words).
  step(logits) {
    const next = this.m._es_generation_step(this.h, this.core._floats(logits), logits.length);
    const token = this.m._es_generation_last_token(this.h);
    const delta = this.core._str(this.m._es_generation_text_delta(this.h));
    const reason = this.core._str(this.m._es_generation_finish_reason(this.h));
    const r = { feed: next >= 0 ? next : null, token, delta, done: next < 0, reason };
    if (reason === 'context') r.message = this.core._str(this.m._es_generation_context_message(this.h));
    if (reason === 'error') r.message = this.core._str(this.m._es_generation_error_message(this.h));
    return r;
  }
  // Tokens to run after the one step() just returned, in the same decoder
  // pass (prompt lookup: src/assistant/prompt_lookup.h); keep each only while
  // step() on the row before it returns it.
  draft(maxDraft) {
    const n = this.m._es_generation_draft(this.h, maxDraft);
    return n > 0 ? this.core._ids(n) : [];
  }
  cancel() { this.m._es_generation_cancel(this.h); }
  generated() { return this.core._ids(this.m._es_generation_generated(this.h)); }

  beginClassification(answers, endId) {
    const n = this.core._withStrings([JSON.stringify(answers)], (p) => this.m._es_classification_begin(this.h, p, endId));
    if (n < 0) this.core._fail('classification');
    return n;
  }
  labelRunTokens(i) { return this.core._ids(this.m._es_classification_run_tokens(this.h, i)); }
  setPrefixLogits(row) { this.m._es_classification_set_prefix_logits(this.h, this.core._floats(row), row.length); }
  addLabelLogits(i, logits, rows) {
    const vocab = logits.length / rows;
    if (!this.m._es_classification_add(this.h, i, this.core._floats(logits), rows, vocab)) this.core._fail('classification');
  }
  classificationResult() {
    const s = this.core._str(this.m._es_classification_result_json(this.h));
    if (s === null) this.core._fail('classification');
    return JSON.parse(s);
  }
}
