// agent_core.js: the case agent's C++ core (web/bindings/agent_bindings.cpp,
// es_agent_*) as JS objects. Only marshalling lives here: JSON text goes in
// and out of the WebAssembly heap; every decision (what to do next, what a
// check says, whether a call or an output is valid) is made by the core.
// Works with the app's module and with the Node module
// (build/wasm/node/endoscribe_core.mjs); see web/agent/README.md (Contract A).

export class AgentError extends Error {}

// Wraps the module (the same one core.js' Core wraps: pass core.m or the module).
export class AgentCore {
  constructor(module) {
    this.m = module?.m ?? module;
    if (typeof this.m?._es_agent_registry !== 'function')
      throw new AgentError('This build of the app has no case agent (es_agent_* is missing): rebuild the WebAssembly module.');
    this._registry = null;
  }

  // Calls export `fn` with NUL-terminated UTF-8 copies of the string arguments
  // (numbers pass as they are) and returns what it returns.
  _raw(fn, ...args) {
    const m = this.m;
    const ptrs = [];
    try {
      const values = args.map((a) => {
        if (typeof a === 'number') return a;
        const s = a === null || a === undefined ? '' : String(a);
        const n = m.lengthBytesUTF8(s) + 1;
        const p = m._malloc(n);
        m.stringToUTF8(s, p, n);
        ptrs.push(p);
        return p;
      });
      return m[fn](...values);
    } finally {
      ptrs.forEach((p) => m._free(p));
    }
  }
  // An export's text result (a pointer to the result slot).
  _call(fn, ...args) { return this.m.UTF8ToString(this._raw(fn, ...args)); }
  // Calls an export that answers {ok, error, ...}; throws AgentError on !ok.
  _json(fn, ...args) {
    const r = JSON.parse(this._call(`_${fn}`, ...args));
    if (!r.ok) throw new AgentError(r.error);
    return r;
  }
  // As _json, but returns {ok:false, error} instead of throwing.
  _tryJson(fn, ...args) {
    return JSON.parse(this._call(`_${fn}`, ...args));
  }
  lastError() { return this.m.UTF8ToString(this.m._es_agent_last_error()); }

  // {tools: [{name, description, input_schema, output_schema}], action_schema, default_config}
  registry() {
    if (!this._registry) {
      const r = this._json('es_agent_registry');
      this._registry = { tools: r.tools, action_schema: r.action_schema, default_config: r.default_config };
    }
    return this._registry;
  }
  tool(name) { return this.registry().tools.find((t) => t.name === name) ?? null; }

  // Parses and validates a model's (or an endpoint's) call: {ok:true, call:{tool, arguments}} | {ok:false, error}.
  parseAction(text, allowedTools = null) {
    return this._tryJson('es_agent_parse_action', String(text ?? ''), allowedTools ? JSON.stringify(allowedTools) : '');
  }
  // {ok:true} | {ok:false, error}: a tool's arguments or output against the registry's schema.
  validateArguments(tool, args) { return this._tryJson('es_agent_validate', tool, 'arguments', JSON.stringify(args ?? null)); }
  validateOutput(tool, output) { return this._tryJson('es_agent_validate', tool, 'output', JSON.stringify(output ?? null)); }

  // Starts a run. config: AgentConfig fields ({mode: 'planned'|'protocol', max_rounds, reflect,
  // use_memory, label_set, describe_question, memory_chars, trace_chars, output_chars,
  // min_margin, min_part_area}); seed: a whole number (or its decimal text); memory: the
  // memory's JSON (object or text; null = none).
  start({ config = {}, question, imageKey = '', model = '', seed = 0, memory = null }) {
    const seedText = typeof seed === 'bigint' ? seed.toString() : String(seed ?? 0);
    const memoryText = memory === null || memory === undefined ? '' : typeof memory === 'string' ? memory : JSON.stringify(memory);
    const h = this._raw('_es_agent_create', JSON.stringify(config ?? {}), String(question ?? ''), String(imageKey ?? ''),
      String(model ?? ''), seedText, memoryText);
    if (!h) throw new AgentError(this.lastError());
    return new AgentRun(this, h);
  }

  // {trace: {header, steps}, problems: ["line N: ..."], unreadable: [lines kept]}; throws
  // AgentError when the text has no readable header.
  parseTrace(jsonl) { return this._json('es_agent_trace_parse', String(jsonl ?? '')); }
  // Replays a recorded trace through a fresh loop: {trace_jsonl, trace, difference ("" = same), error}.
  replay(jsonl, { config = {}, memory = null } = {}) {
    const memoryText = memory === null ? '' : typeof memory === 'string' ? memory : JSON.stringify(memory);
    return this._json('es_agent_replay', String(jsonl ?? ''), JSON.stringify(config ?? {}), memoryText);
  }
  // "" when the two traces are the same run (timings ignored), else the first difference in words.
  traceDifference(expectedJsonl, actualJsonl) {
    return this._json('es_agent_trace_difference', String(expectedJsonl ?? ''), String(actualJsonl ?? '')).difference;
  }

  // Long-term memory: JS keeps the JSON (an object {version, next_id, entries}); every change
  // returns the new one and leaves the old one as it was (throws AgentError with plain words).
  readMemory(memory) { const r = this._json('es_agent_memory_read', memText(memory)); return { memory: r.memory, skipped: r.skipped }; }
  addMemory(memory, text, { createdAt = new Date().toISOString(), source = '' } = {}) {
    const r = this._json('es_agent_memory_add', memText(memory), String(text ?? ''), createdAt, source);
    return { memory: r.memory, id: r.id };
  }
  editMemory(memory, id, text) { return this._json('es_agent_memory_edit', memText(memory), Number(id), String(text ?? '')).memory; }
  enableMemory(memory, id, enabled) { return this._json('es_agent_memory_enable', memText(memory), Number(id), enabled ? 1 : 0).memory; }
  removeMemory(memory, id) { return this._json('es_agent_memory_remove', memText(memory), Number(id)).memory; }
  memoryForPrompt(memory, maxChars = 2000) { return this._json('es_agent_memory_prompt', memText(memory), maxChars).text; }
}

function memText(memory) {
  return memory === null || memory === undefined ? '' : typeof memory === 'string' ? memory : JSON.stringify(memory);
}

// One run: a loop in the core behind a handle. Free it when done.
export class AgentRun {
  constructor(agentCore, handle) {
    this.core = agentCore;
    this.h = handle;
  }
  _live() { if (!this.h) throw new AgentError('This agent run was closed.'); }
  // The request standing now: {kind: 'plan'|'run_tool'|'reflect'|'finished'|'stopped'|'idle',
  // ticket, step, prompt, action_schema, allowed_tools, tool, arguments, answer}.
  next() { this._live(); return this.core._json('es_agent_next', this.h).request; }
  get running() { this._live(); return this.core._json('es_agent_next', this.h).running; }
  // Answers the standing request; {ok:true} | {ok:false, error} (the request then still stands).
  answer(answer) { this._live(); return this.core._tryJson('es_agent_answer', this.h, JSON.stringify(answer)); }
  answerAction(ticket, text) { return this.answer({ ticket, action: String(text ?? '') }); }
  answerOutput(ticket, output, startedMs = 0, finishedMs = 0) {
    return this.answer({ ticket, output, started_ms: startedMs, finished_ms: finishedMs });
  }
  answerError(ticket, error, startedMs = 0, finishedMs = 0) {
    return this.answer({ ticket, error: String(error ?? ''), started_ms: startedMs, finished_ms: finishedMs });
  }
  answerReflection(ticket, text) { return this.answer({ ticket, reflection: String(text ?? '') }); }
  stop() { this._live(); return this.core._tryJson('es_agent_stop', this.h); }
  // step: 0-based. {ok:true} | {ok:false, error}; the run continues from that step.
  rejectStep(step, note = '') { this._live(); return this.core._tryJson('es_agent_reject_step', this.h, step | 0, String(note ?? '')); }
  editStep(step, output, note = '') {
    this._live();
    const text = typeof output === 'string' ? output : JSON.stringify(output);
    return this.core._tryJson('es_agent_edit_step', this.h, step | 0, text, String(note ?? ''));
  }
  // The trace as JSON lines (the file saved with the case).
  traceJsonl() { this._live(); return this.core._call('_es_agent_trace', this.h); }
  // {request, running, trace: {header, steps}, config}
  state() { this._live(); const r = this.core._json('es_agent_state', this.h); delete r.ok; return r; }
  free() { if (this.h) this.core.m._es_agent_free(this.h); this.h = 0; }
}
