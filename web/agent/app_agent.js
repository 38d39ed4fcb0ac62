// app_agent.js: the case agent in the app. The Agent tab (ui/panel_agent.cpp)
// draws the state this file pushes (es_agent_ui_set_state, after every change)
// and sends the clinician's actions here (Module.agent.action(name, args_json),
// Contract D in web/agent/README.md):
//   start {question, mode, max_rounds, reflect, use_memory, seed}, stop,
//   reject {step, note}, edit {step, output, note}, continue, replay {trace_id},
//   open_trace {trace_id}, memory_add {text}, memory_edit {id, text},
//   memory_enable {id, enabled}, memory_remove {id}, accepted {step, into}.
// A run is the core's loop (agent_core.js) pumped by agent_driver.js with:
//   - the planner: the loaded in-browser model (local_planner.js), or the
//     inference server when Answers run there (remote_planner.js: tool calls
//     on endoscribe-server or an OpenAI-compatible endpoint such as vLLM);
//   - the tools (agent_tools.js) over the app (app_environment.js).
// The trace is saved with the case as it is made (JSON lines, one record per
// run in the case's storage, case_store.js "agent_traces"; part of the case
// bundle), so a reload or a crash loses at most the step under way; the
// long-term memory is kept in this browser (agent_memory_store.js). The frame
// loop never waits: everything here is awaited.
//
// Test hook: window.endoscribe.agent: state() (what the panel was last sent),
// action(name, args) (-> a promise for the action's end), running(),
// traces() (the case's trace records), lastRun ({kind, answer, error}).
import { AgentCore, AgentError } from './agent_core.js';
import { runAgent, rememberRun } from './agent_driver.js';
import { createAgentTools } from './agent_tools.js';
import { LocalPlanner, packageIdentity } from './local_planner.js';
import { RemotePlanner } from './remote_planner.js';
import { AppEnvironment } from './app_environment.js';
import { memoryStore } from './agent_memory_store.js';
import { plainError, reportMessage } from '../messages.js';
import { RemoteError, plainRemoteError } from '../remote/errors.js';

const app = window.endoscribe;
// The label set the protocol's classify step scores (the Classify tab's first).
const PROTOCOL_LABEL_SET = 'hyperkvasir';
const PROTOCOL_QUESTION = 'Examine this image: what is there, where, how many, and what goes in the report?';

let M = null;
let core = null;
let env = null;
let memory = null;        // the long-term memory ({version, next_id, entries})
let run = null;           // {agent, record, planner, config, replay} of the run shown
let driving = null;       // the promise of the pump while it runs
let controller = null;    // aborts the pump (Stop)
let saving = Promise.resolve();
let saveFailedSaid = false;
const hook = { lastRun: null };

const S = {
  running: false, backend: 'in-browser', model: '', test_model: false,
  mode: 'protocol', question: '', seed: '1', max_rounds: 3, reflect: true, use_memory: true,
  request: null, error: '', notice: '', action_result: null, blocked: '',
  header: null, steps: [], memory: [], saved: true, traces: [],
  // The last replay: {trace_id (the recording), status: running|same|different|failed, difference, error, text}.
  replay: null,
  trace_id: '',            // the trace shown
  unreadable: [],          // lines of the shown trace that could not be read (kept as they were)
};

// ---- the panel -------------------------------------------------------------------

let pushScheduled = false;
function push() {
  if (!M || pushScheduled) return;
  pushScheduled = true;
  queueMicrotask(() => {
    pushScheduled = false;
    const m = env?.model();
    S.backend = m?.backend ?? env?.backend() ?? 'in-browser';
    if (!S.running && !S.trace_id) { S.model = m?.name ?? ''; S.test_model = !!m?.test_model; }
    // Why Run cannot start now (the panel shows it by the disabled button).
    S.blocked = S.running ? '' : (env?.whyNoModel() ?? '');
    S.memory = memory?.entries ?? [];
    hook.sent = JSON.parse(JSON.stringify(S));
    if (M._es_agent_ui_set_state) M.ccall('es_agent_ui_set_state', null, ['string'], [JSON.stringify(S)]);
  });
}

function message(kind, text, details = '') {
  reportMessage(M, kind, text, details);
  if (kind === 'error') S.error = text;
  else S.notice = text;
  push();
}

// Plain words for an exception; a server's failures say which server.
function plainFailure(what, e, fallback = 'try again') {
  if (e instanceof RemoteError) return plainRemoteError(what, e, app.remote?.job?.().address ?? 'the server');
  return plainError(what, e, { fallback });
}

// The trace in the panel's form: the core's steps, each check's level also as `status`.
function showTrace(trace) {
  S.header = trace?.header ?? null;
  S.steps = (trace?.steps ?? []).map((s) => ({ ...s, checks: (s.checks ?? []).map((c) => ({ ...c, status: c.status ?? c.level })) }));
}

// st: the run's state (agent.state()), read again when not given.
function showRun(st = null) {
  if (!run?.agent?.h) return;
  st ??= run.agent.state();
  showTrace(st.trace);
  const q = st.request;
  S.request = q && q.kind !== 'idle' ? { kind: q.kind, step: q.step ?? -1, tool: q.tool ?? '' } : null;
}

function stamp(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

async function refreshTraces() {
  let list = [];
  try { list = await app.cases?.agentTraces?.() ?? []; } catch (e) { console.warn('agent traces', e); }
  S.traces = list.map((t) => ({ id: t.id, image: t.image, question: t.question, when: stamp(t.when), replay_of: t.replay_of ?? '' }));
  push();
  return list;
}

// ---- saving ------------------------------------------------------------------------

// Saves the shown run's trace with the case (queued: the newest state wins).
function saveTrace() {
  if (!run?.agent || !run.record) return saving;
  run.dirty = true;
  const r = run;
  saving = saving.then(async () => {
    if (!r.dirty || !r.agent?.h) return;
    r.dirty = false;
    r.record.jsonl = r.agent.traceJsonl();
    try {
      await app.cases.saveAgentTrace({ ...r.record });
      S.saved = true;
      saveFailedSaid = false;
    } catch (e) {
      S.saved = false;
      if (!saveFailedSaid) {
        saveFailedSaid = true;
        const m = plainError('The agent\'s trace could not be saved with the case', e,
          { fallback: 'export the case (Case menu) to keep it', after: 'The run goes on; the trace stays on screen.' });
        message('error', m.text, m.details);
      }
    }
    push();
  });
  return saving;
}

async function saveMemory(next) {
  const text = JSON.stringify(next);
  await memoryStore.put(text);  // throws: the caller says so, the memory shown stays as it was
  memory = next;
  push();
}

// ---- planners and tools ------------------------------------------------------------

// The planner for the backend the chat uses now: {identity, plan, reflect}.
async function makePlanner() {
  const model = env.model();
  if (env.backend() === 'server') {
    // The same server (and model) the chat uses (Models tab): endoscribe-server or an OpenAI-compatible endpoint.
    const backend = app.remote.job();
    const kind = model?.backend ?? 'server';
    const identity = await RemotePlanner.describe(backend.client, backend.model, kind);
    const planner = new RemotePlanner({ client: backend.client, model: backend.model, registry: core.registry(),
      parseAction: (text, allowed) => core.parseAction(text, allowed), identity, backend: kind,
      imageFor: (key) => ({ ...env.pixels(key), bytes: env.bytes(key) ?? undefined }) });
    return {
      identity,
      plan: (a) => env.withServer(() => planner.plan(a)),
      reflect: (a) => env.withServer(() => planner.reflect(a)),
    };
  }
  const identity = await env.withRuntime(async (rt) => packageIdentity(rt, 'in-browser', model?.name ?? null));
  const make = (rt) => new LocalPlanner({ runtime: rt, imageFor: (key) => env.pixels(key), identity });
  return {
    identity,
    plan: (a) => env.withRuntime((rt) => make(rt).plan(a)),
    reflect: (a) => env.withRuntime((rt) => make(rt).reflect(a)),
  };
}

// The tools, with a failure in plain words (a server gone: which one, and what to do).
function makeTools() {
  const tools = createAgentTools(env);
  return {
    async run(name, args, ctx) {
      if (ctx.signal?.aborted) throw new Error('stopped');
      try {
        return await tools.run(name, args, ctx);
      } catch (e) {
        if (e instanceof RemoteError) throw new Error(plainFailure(`The server could not run ${name}`, e).text);
        throw e;
      }
    },
  };
}

// ---- running -----------------------------------------------------------------------

// Pumps the shown run until it finishes or stops. `pending`: the recorded
// rejections/edits a replay makes once their step is done.
async function drive(pending = []) {
  const r = run;
  S.running = true;
  S.error = '';
  S.notice = '';
  push();
  let result = null;
  const tools = makeTools();
  try {
    for (;;) {
      controller = new AbortController();
      const target = pending[0] ?? null;
      let ours = false;
      result = await runAgent({
        agent: r.agent, planner: r.planner, tools, signal: controller.signal,
        onUpdate: (st) => {
          showRun(st);
          if (st.error) S.error = st.error;
          push();
          saveTrace();
          if (target && stepSettled(st, target.index)) { ours = true; controller.abort(); }
        },
      });
      if (!(ours && target)) break;
      // A replay: the clinician's rejection or edit, where the recording has it.
      pending.shift();
      const done = target.status === 'edited' ? r.agent.editStep(target.index, target.output, target.note ?? '')
        : r.agent.rejectStep(target.index, target.note ?? '');
      if (!done.ok) { result = { kind: 'stopped', answer: '', error: `The replay could not repeat the change to step ${target.index + 1}: ${done.error}` }; break; }
    }
  } catch (e) {
    const m = plainFailure('The agent stopped', e);
    result = { kind: 'stopped', answer: '', error: m.text };
    console.warn('agent run', e);
  } finally {
    controller = null;
    S.running = false;
  }
  showRun();
  hook.lastRun = result;
  if (result.error) {
    const more = ' The trace so far is saved with the case; press Continue to go on from where it stopped.';
    message('error', `${result.error.replace(/[.\s]*$/, '.')}${more}`);
  }
  await saveTrace();
  push();
  return result;
}

// Step `i` is done (output or error, reflection asked) and the run has moved past it.
function stepSettled(st, i) {
  const s = st.trace.steps[i];
  if (!s || (s.output === null && !s.error)) return false;
  const q = st.request;
  if (!q) return true;
  if ((q.kind === 'reflect' || q.kind === 'run_tool') && q.step === i) return false;
  return true;
}

function newTraceId() {
  return `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

// The case must be writable before a run (the demo case is copied: its key names the copy).
async function writableCase() {
  const cases = app.cases;
  if (!cases) throw new AgentError('Cases cannot be saved in this page, so the agent\'s trace would be lost.');
  if (!cases.current || cases.current.readOnly) {
    await cases.copyDemo();
    if (!cases.current || cases.current.readOnly) throw new AgentError('The demo case could not be copied into a new case to keep the trace.');
  }
}

function seedOf(v) {
  const t = String(v ?? '').trim() || '1';
  if (!/^\d{1,19}$/.test(t)) throw new AgentError(`The seed must be a whole number (0 or more), not "${t}".`);
  return t;
}

function configOf(args) {
  const mode = args.mode === 'planned' ? 'planned' : 'protocol';
  const rounds = Number.isInteger(+args.max_rounds) ? Math.max(1, Math.min(8, +args.max_rounds)) : 3;
  return { mode, max_rounds: rounds, reflect: args.reflect !== false, use_memory: args.use_memory !== false,
    label_set: typeof args.label_set === 'string' && args.label_set ? args.label_set : PROTOCOL_LABEL_SET };
}

function freeRun() {
  const old = run;
  run = null;
  if (old?.agent) saving.then(() => old.agent.free()).catch(() => {});
}

async function start(args = {}) {
  if (S.running) return message('notice', 'The agent is running: press Stop first.');
  const config = configOf(args);
  const question = String(args.question ?? '').trim() || (config.mode === 'protocol' ? PROTOCOL_QUESTION : '');
  if (!question) return message('notice', 'Type a question for the agent first (or choose the protocol).');
  const seed = seedOf(args.seed);
  Object.assign(S, { mode: config.mode, question, seed, max_rounds: config.max_rounds, reflect: config.reflect,
    use_memory: config.use_memory, replay: null, unreadable: [] });
  const why = env.whyNoModel();
  if (why) return message('error', `The agent cannot start: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
  if (!env.currentImage()) return message('notice', 'Open an image first: the agent works on the image in view.');
  await writableCase();
  const image = env.currentImage();
  const planner = await makePlanner();
  const memoryUsed = config.use_memory ? memory : null;
  freeRun();
  const agent = core.start({ config, question, imageKey: image.key, model: planner.identity, seed, memory: memoryUsed });
  const record = { id: newTraceId(), image: image.key, question, when: Date.now(), jsonl: '', config, seed,
    memory: memoryUsed ? JSON.stringify(memoryUsed) : null, model: planner.identity };
  run = { agent, record, planner, config };
  S.trace_id = record.id;
  const m = env.model();
  S.model = planner.identity;
  S.test_model = !!m?.test_model;
  await saveTrace();
  await refreshTraces();
  const result = await drive();
  // A finished run's reflections join the long-term memory (the clinician can edit or remove them).
  if (result.kind === 'finished' && config.reflect) {
    try {
      const r = rememberRun(core, memory, agent.state().trace);
      if (r.added) {
        await saveMemory(r.memory);
        message('notice', `The agent kept ${r.added} reflection${r.added === 1 ? '' : 's'} in its memory (Agent tab, Memory: edit or remove ${r.added === 1 ? 'it' : 'them'}).`);
      }
    } catch (e) {
      const f = plainError('The agent\'s reflections could not be kept in its memory', e, { fallback: 'the run itself is saved' });
      message('error', f.text, f.details);
    }
  }
  return result;
}

async function stop() {
  if (!S.running) return;
  controller?.abort();
  run?.agent?.stop();
  await driving;
}

// Waits for the pump to end (after Stop).
async function halt() {
  if (!S.running) return;
  controller?.abort();
  while (S.running) await new Promise((r) => setTimeout(r, 20));
}

function result(name, args, ok, error = '') {
  S.action_result = { action_id: args.action_id ?? null, name, step: args.step ?? -1, ok, error };
  if (!ok && error) message('notice', error);
  push();
  return ok;
}

function needRun(name, args) {
  if (run?.agent) return true;
  return result(name, args, false, 'This trace was opened from the case: replay it to run it again, or start a new run.');
}

async function reject(args = {}) {
  if (!needRun('reject', args)) return;
  await halt();
  const r = run.agent.rejectStep(Number(args.step), String(args.note ?? ''));
  showRun();
  await saveTrace();
  return result('reject', args, r.ok, r.ok ? '' : `Step ${Number(args.step) + 1} cannot be rejected: ${r.error}`);
}

async function edit(args = {}) {
  if (!needRun('edit', args)) return;
  let output;
  try {
    output = typeof args.output === 'string' ? JSON.parse(args.output) : args.output;
  } catch (e) {
    return result('edit', args, false, `The edited output is not JSON (${e.message}); nothing was changed.`);
  }
  await halt();
  const r = run.agent.editStep(Number(args.step), output, String(args.note ?? ''));
  showRun();
  await saveTrace();
  return result('edit', args, r.ok, r.ok ? '' : `The edit of step ${Number(args.step) + 1} was not taken: ${r.error}`);
}

async function continueRun(args = {}) {
  if (S.running) return;
  if (!needRun('continue', args)) return;
  if (run.agent.next().kind === 'finished') return message('notice', 'The run has finished; reject or edit a step to go on from it, or start a new run.');
  // The model may have changed since: the planner is made again (the trace names each step's model).
  const why = env.whyNoModel();
  if (why) return message('error', `The agent cannot go on: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
  try {
    run.planner = await makePlanner();
  } catch (e) {
    const m = plainFailure('The agent cannot go on', e);
    return message('error', m.text, m.details);
  }
  return drive();
}

function findTrace(list, id) {
  const rec = list.find((t) => t.id === id);
  if (!rec) throw new AgentError('That trace is no longer saved with this case.');
  return rec;
}

// A saved trace of this case, read: {rec, parsed}; null once the user is told
// it cannot be read (`consequence`, e.g. ", so it cannot be replayed"). The
// record itself is never rewritten.
async function readSavedTrace(traceId, consequence) {
  const rec = findTrace(await refreshTraces(), traceId);
  try {
    return { rec, parsed: core.parseTrace(rec.jsonl) };
  } catch (e) {
    message('error', `The saved trace of ${stamp(rec.when)} could not be read (${e.message})${consequence}. It stays saved with the case as it was.`);
    return null;
  }
}

// Shows a saved trace (not running). Lines that cannot be read are named and
// kept as they were (the record is not rewritten).
async function openTrace(args = {}) {
  if (S.running) return message('notice', 'The agent is running: press Stop first.');
  const saved = await readSavedTrace(args.trace_id, '');
  if (!saved) return undefined;
  const { rec, parsed } = saved;
  freeRun();
  showTrace(parsed.trace);
  S.request = null;
  S.trace_id = rec.id;
  S.replay = null;
  S.unreadable = parsed.problems ?? [];
  const h = parsed.trace.header ?? {};
  Object.assign(S, { question: h.question ?? '', mode: h.mode ?? S.mode, seed: String(h.seed ?? S.seed),
    max_rounds: h.max_rounds ?? S.max_rounds, model: h.model ?? '' });
  if (rec.config) Object.assign(S, { reflect: rec.config.reflect !== false, use_memory: rec.config.use_memory !== false });
  if (S.unreadable.length) {
    const n = S.unreadable.length;
    message('notice', `${n} line${n === 1 ? '' : 's'} of this trace could not be read and ${n === 1 ? 'is' : 'are'} kept in the saved file as ${n === 1 ? 'it was' : 'they were'}: ${S.unreadable.slice(0, 3).join('; ')}${n > 3 ? '; ...' : ''}`);
  }
  push();
  return parsed;
}

// Runs a saved trace again with its question, image, seed and settings (and
// the memory it used), repeats the clinician's rejections and edits where the
// recording has them, and says whether the new trace is the same.
async function replay(args = {}) {
  if (S.running) return message('notice', 'The agent is running: press Stop first.');
  const saved = await readSavedTrace(args.trace_id, ', so it cannot be replayed');
  if (!saved) return undefined;
  const { rec, parsed } = saved;
  const h = parsed.trace.header;
  const notes = [];
  if (parsed.problems?.length) notes.push(`${parsed.problems.length} line(s) of the recording could not be read (${parsed.problems[0]})`);
  let image;
  try { image = env.imageInfo(h.image); } catch (e) { return message('error', `The trace cannot be replayed: ${e.message}`); }
  const why = env.whyNoModel();
  if (why) return message('error', `The trace cannot be replayed: ${why.charAt(0).toLowerCase()}${why.slice(1)}`);
  const planner = await makePlanner();
  if (planner.identity !== h.model) notes.push(`it was recorded with ${h.model || 'an unnamed model'}; the model now is ${planner.identity}`);
  const config = { ...(rec.config ?? {}), mode: h.mode, max_rounds: h.max_rounds };
  let mem = null;
  try { mem = rec.memory ? JSON.parse(rec.memory) : null; } catch { mem = null; }
  freeRun();
  const agent = core.start({ config, question: h.question, imageKey: image.key, model: planner.identity, seed: String(h.seed), memory: mem });
  const record = { id: newTraceId(), image: image.key, question: h.question, when: Date.now(), jsonl: '', config,
    seed: String(h.seed), memory: rec.memory ?? null, model: planner.identity, replay_of: rec.id };
  run = { agent, record, planner, config, replay: rec.id };
  Object.assign(S, { trace_id: record.id, question: h.question, mode: h.mode, seed: String(h.seed), max_rounds: h.max_rounds,
    model: planner.identity, replay: { trace_id: rec.id, status: 'running', difference: '', error: '', text: '' }, unreadable: [] });
  await saveTrace();
  await refreshTraces();
  const pending = parsed.trace.steps.filter((s) => s.status === 'rejected' || s.status === 'edited')
    .map((s) => ({ index: s.index, status: s.status, note: s.note ?? '', output: s.output }))
    .sort((a, b) => a.index - b.index);
  const res = await drive(pending);
  let difference = '', error = res.error ?? '';
  try { difference = core.traceDifference(rec.jsonl, agent.traceJsonl()); } catch (e) { error ||= e.message; }
  const status = error ? 'failed' : difference ? 'different' : 'same';
  const when = stamp(rec.when);
  const noted = notes.length ? ` (${notes.join('; ')})` : '';
  const text = status === 'same' ? `The replay gave the same trace as the run of ${when}.`
    : status === 'different' ? `The replay differs from the run of ${when}: ${difference.replace(/[.\s]*$/, '')}${noted}.`
      : `The replay of the run of ${when} did not finish: ${error.replace(/[.\s]*$/, '')}${noted}.`;
  S.replay = { trace_id: rec.id, status, difference, error, text };
  message('notice', text);
  return S.replay;
}

// ---- memory ------------------------------------------------------------------------

async function memoryChange(name, args, change) {
  let next;
  try {
    next = change();
  } catch (e) {
    return result(name, args, false, e instanceof AgentError ? e.message : plainError('The memory was not changed', e).text);
  }
  try {
    await saveMemory(next);
  } catch (e) {
    const m = plainError('The agent\'s memory could not be saved in this browser', e, { fallback: 'try again', after: 'It was not changed.' });
    message('error', m.text, m.details);
    return result(name, args, false, m.text);
  }
  return result(name, args, true);
}

const ACTIONS = {
  start,
  stop,
  reject,
  edit,
  continue: continueRun,
  replay,
  open_trace: openTrace,
  memory_add: (a) => memoryChange('memory_add', a, () => core.addMemory(memory, String(a.text ?? '').trim(), { source: '' }).memory),
  memory_edit: (a) => memoryChange('memory_edit', a, () => core.editMemory(memory, a.id, String(a.text ?? '').trim())),
  memory_enable: (a) => memoryChange('memory_enable', a, () => core.enableMemory(memory, a.id, !!a.enabled)),
  memory_remove: (a) => memoryChange('memory_remove', a, () => core.removeMemory(memory, a.id)),
  // The panel put a step's output into the annotations or the report: the record keeps it.
  accepted: async (a) => {
    if (!run?.record) return;
    run.record.accepted = [...(run.record.accepted ?? []), { step: a.step, into: a.into, when: Date.now() }];
    await saveTrace();
  },
};

function action(name, argsJson) {
  const fn = ACTIONS[name];
  if (!fn) { console.warn(`agent: unknown action ${name}`); return Promise.resolve(); }
  let args = {};
  try { args = argsJson ? (typeof argsJson === 'string' ? JSON.parse(argsJson) : argsJson) : {}; } catch { args = {}; }
  const p = Promise.resolve().then(() => fn(args)).catch((e) => {
    S.running = S.running && !!controller;
    const m = e instanceof AgentError ? { text: e.message, details: '' } : plainFailure('The agent could not do that', e);
    message('error', m.text, `${name}: ${m.details}`);
  });
  if (name === 'start' || name === 'continue' || name === 'replay') driving = p;
  return p;
}

// ---- start-up ----------------------------------------------------------------------

async function loadMemory() {
  let text = null;
  try {
    text = await memoryStore.get();
  } catch (e) {
    const m = plainError('The agent\'s memory could not be read from this browser', e, { fallback: 'reload the page', after: 'The agent starts without it.' });
    message('error', m.text, m.details);
  }
  memory = core.readMemory('').memory;
  if (text === null) return;
  try {
    const r = core.readMemory(text);
    memory = r.memory;
    if (r.skipped?.length) {
      await memoryStore.putBackup(text).catch(() => {});
      message('notice', `${r.skipped.length} entr${r.skipped.length === 1 ? 'y' : 'ies'} of the agent's memory could not be read and ${r.skipped.length === 1 ? 'was' : 'were'} left out ` +
        '(the saved memory is kept aside in this browser as it was).', r.skipped.join('; '));
    }
  } catch (e) {
    // Not read: kept aside as it was; the agent starts with an empty memory.
    const kept = await memoryStore.putBackup(text).then(() => true, () => false);
    message('error', `The agent's memory saved in this browser could not be read, so the agent starts with an empty memory` +
      `${kept ? ' (the unreadable one is kept aside in this browser, unchanged)' : ''}.`, e.message);
  }
}

async function init() {
  try {
    await app.ready;
  } catch {
    hook.started = true;
    return;  // no WebGPU / no app: the page already says why
  }
  M = app.module();
  if (!M._es_agent_registry) { hook.started = true; return; }  // an app built without the agent
  core = new AgentCore(M);
  env = new AppEnvironment(app, M);
  M.agent = { action };
  hook.state = () => JSON.parse(JSON.stringify(S));
  hook.sentState = () => hook.sent ?? null;
  hook.action = (name, args = {}) => action(name, args);
  hook.running = () => S.running;
  hook.traces = async () => app.cases?.agentTraces?.() ?? [];
  hook.memory = () => memory;
  hook.env = env;
  await loadMemory();
  push();
  // The model and the backend change in the Models tab: Run's reason and the model line follow.
  let seen = '';
  setInterval(() => {
    const m = env.model();
    const now = `${env.whyNoModel() ?? ''}|${m?.name ?? ''}|${m?.backend ?? ''}`;
    if (now !== seen) { seen = now; push(); }
  }, 500);
  await app.caseLoaded;
  await app.assistantReady?.catch(() => {});
  // The case's newest trace is shown again after a reload.
  const list = await refreshTraces();
  if (list.length && !run) await openTrace({ trace_id: list[0].id });
  hook.started = true;
  push();
}

app.agent = hook;
init().catch((e) => console.warn('agent start-up', e));
