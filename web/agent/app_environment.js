// app_environment.js: the case agent's tools over the app (the ToolEnvironment
// of web/agent/README.md, Contract C). Each call runs where the app's own
// feature runs:
//   - the model (classify, ask, ground, describe a region, compare two images):
//     the assistant's backend, the loaded in-browser model or the inference
//     server chosen for Answers / Classify in the Models tab (one model call at a
//     time: the assistant is marked busy for each, as for the Classify tab);
//   - segment: the Segment tool's backend (this browser's SAM or the server);
//   - count_lesions: the image's accepted annotations (the Annotations panel's
//     lesion count);
//   - fill_report_fields: the Report tab's "Draft with AI".
// Images are named by the assistant's key, "<case name>|<image name>|<w>x<h>"
// (es_assistant_current_image; the Agent panel draws a step on the image with
// that key), so the runtime's cached image features are shared with the chat.
// A key is matched by its image name and size whatever its case name (a case
// renamed after the run still finds its image).
// Model calls are greedy (temperature 0) whatever the chat's settings: the same
// model, image and seed must give the same trace.
import { groundingConfig, boxesInAnswer, regionQuestion } from '../assistant/grounding.js';
import { chatMessages } from '../remote/chat_messages.js';
import { classifyRemote } from '../remote/classify.js';
import { dataUrlFromBytes, dataUrlFromRgba, sniffImageType } from '../remote/image_url.js';
import { RemoteError } from '../remote/errors.js';

// The prompts behind the tools (ground's as node_environment.js asks it, so the
// app and the evaluation tool ask the model the same thing).
export const PROMPTS = {
  ground: (text) => `Find every ${text} in this image. Answer with their bounding boxes.`,
  region: 'What is in this region?',
  caption: 'Describe this endoscopy image.',
  compare: 'What differs between these two images?',
};

import { ToolUnavailableError } from './agent_tools.js';

const MAX_ANSWER_TOKENS = 160;

// Does `key` name the image {name, width, height}? ("<case>|<name>|<w>x<h>",
// "<name>|<w>x<h>" or the bare name.)
export function keyNamesImage(key, { name, width, height }) {
  const k = String(key);
  return k === name || k === `${name}|${width}x${height}` || k.endsWith(`|${name}|${width}x${height}`);
}

export class AppEnvironment {
  // app: window.endoscribe; M: the app's module.
  constructor(app, M) {
    this.app = app;
    this.M = M;
  }

  // ---- where things run ---------------------------------------------------------

  get assistant() {
    const a = this.app.assistant;
    if (!a?.agentAccess) throw new ToolUnavailableError('The assistant has not started in this page; reload it.');
    return a;
  }

  // 'server' when the chat goes to an inference server (Models tab), else 'in-browser'.
  backend() {
    return this.app.assistant?.routes?.('chat') ? 'server' : 'in-browser';
  }

  // {name, id, test_model, backend, address} of the model the agent would use now, or null.
  model() {
    const a = this.app.assistant;
    if (!a?.agentAccess) return null;
    if (this.backend() === 'server') {
      const st = a.remote?.state?.();
      if (!st?.model) return null;
      return { name: `${st.model} (server ${st.origin ?? st.address})`, id: st.model, test_model: !!st.test_model,
        backend: st.endoscribe ? 'server' : 'endpoint', address: st.origin ?? st.address };
    }
    const m = a.agentAccess.model();
    return m ? { name: m.name, id: m.id, variant: m.variant, test_model: !!m.test_model, backend: 'in-browser' } : null;
  }

  // Why the model cannot be used now (plain words), or null.
  whyNoModel() {
    if (!this.app.assistant?.agentAccess) return 'The assistant has not started in this page; reload it.';
    if (this.backend() === 'server') return this.app.remote?.whyNot?.('chat') ?? null;
    return this.assistant.agentAccess.model() ? null : 'Load a model first (Assistant tab, Models), then start the agent.';
  }

  // ---- images -------------------------------------------------------------------

  str(p) { return p ? this.M.UTF8ToString(p) : null; }
  appState() { return JSON.parse(this.str(this.M._es_app_state_json())); }

  // The image in view: {key, name, width, height} or null.
  currentImage() {
    const info = JSON.parse(this.str(this.M._es_assistant_current_image()));
    return info ? { key: info.key, name: info.name, width: info.width, height: info.height } : null;
  }

  // The case's images: [{key, name, width, height}] (key: the assistant's).
  images() {
    const st = this.appState();
    return (st.images ?? []).map((i) => ({ key: `${st.case ?? ''}|${i.name}|${i.width}x${i.height}`, name: i.name, width: i.width, height: i.height }));
  }

  // A case image by key (or name): {key, name, width, height}; throws plain words.
  imageInfo(key) {
    const all = this.images();
    const img = all.find((i) => i.key === key) ?? all.find((i) => keyNamesImage(key, i));
    if (!img) {
      const names = all.map((i) => `"${i.name}"`).join(', ');
      throw new ToolUnavailableError(`The case has no image "${key}"${names ? ` (its images: ${names})` : ''}.`);
    }
    return img;
  }

  // Contract C: the size of an image, and its pixels for the model.
  imageSize(key) {
    const { width, height } = this.imageInfo(key);
    return { width, height };
  }
  image(key) { return this.pixels(key); }

  // {key (the assistant's), rgba (a copy), width, height} for the model.
  pixels(key) {
    const info = this.imageInfo(key);
    const j = JSON.parse(this.M.ccall('es_report_draft_image', 'string', ['string'], [info.name]));
    if (!j) throw new ToolUnavailableError(`The image "${info.name}" is no longer open.`);
    return { key: j.key, rgba: this.M.HEAPU8.slice(j.rgba, j.rgba + j.width * j.height * 4), width: j.width, height: j.height };
  }

  // The file's own bytes (null when only pixels are at hand).
  bytes(key) {
    const b = this.app.cases?.imageBytes?.get(this.imageInfo(key).name);
    return b ?? null;
  }

  async imageUrl(image, name) {
    const b = !image.key.includes('#crop(') ? this.app.cases?.imageBytes?.get(name) : null;
    return b && sniffImageType(b) ? dataUrlFromBytes(b) : dataUrlFromRgba(image);
  }

  // ---- model calls ----------------------------------------------------------------

  // fn(rt) on the loaded model, the assistant busy meanwhile; signal aborts the job.
  async withRuntime(fn) {
    return this.assistant.withRuntime('agent', (rt) => fn(rt));
  }

  // fn(backend, onRetry) on the server the task runs on (Models tab); plain words when it is not set up.
  async withServer(fn, task = 'chat') {
    const why = this.app.remote?.whyNot?.(task);
    if (why) throw new ToolUnavailableError(`The server cannot be used: ${why}`);
    return this.assistant.withRemote('agent', (backend, { onRetry }) => fn(backend, onRetry));
  }

  // A runtime job ({promise, cancel}) awaited with the run's stop signal.
  static async awaitJob(job, signal) {
    if (!signal) return job.promise;
    if (signal.aborted) { job.cancel(); throw new Error('stopped'); }
    const onAbort = () => job.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try { return await job.promise; } finally { signal.removeEventListener('abort', onAbort); }
  }

  generation() {
    const g = this.assistant.agentAccess.generation();
    return { max_new_tokens: Math.max(MAX_ANSWER_TOKENS, g.max_new_tokens ?? 0), temperature: 0, top_k: 0, top_p: 1 };
  }

  // One question about an image (or a crop of it), a fresh conversation: -> text.
  async askImage(image, name, question, { signal = null } = {}) {
    if (this.backend() === 'server') {
      return this.withServer(async (backend, onRetry) => {
        const url = await this.imageUrl(image, name);
        const g = this.generation();
        const r = await backend.client.chat({ model: backend.model, messages: chatMessages([], question, url),
          max_tokens: g.max_new_tokens, temperature: 0 }, { signal, onRetry });
        return String(r.choices[0]?.message?.content ?? '');
      });
    }
    return this.withRuntime(async (rt) => {
      const conv = rt.newConversation();
      try {
        const r = await AppEnvironment.awaitJob(rt.ask(conv, question, { image, generation: this.generation() }), signal);
        return r.text;
      } finally {
        conv.free();
      }
    });
  }

  groundingConfig() {
    return this.backend() === 'server' ? groundingConfig(null) : this.assistant.agentAccess.grounding();
  }

  // ---- the tools' calls (Contract C) --------------------------------------------------

  // -> [{label, probability}], most probable first.
  async classify(key, labelSetId, { signal = null } = {}) {
    const access = this.assistant.agentAccess;
    const ids = access.labelSetIds();
    if (!ids.includes(labelSetId)) {
      throw new ToolUnavailableError(`There is no label set "${labelSetId}"; the label sets are ${ids.map((i) => `"${i}"`).join(', ')}.`);
    }
    const ls = await access.labelSet(labelSetId);
    const image = this.pixels(key);
    let ranked;
    if (this.app.assistant.routes('classify')) {
      ranked = await this.withServer(async (backend, onRetry) => {
        const url = await this.imageUrl(image, this.imageInfo(key).name);
        const r = await classifyRemote(backend.client, { model: backend.model, labelSet: ls, imageUrl: url,
          endoscribe: backend.endoscribe, signal, onRetry });
        return r.probabilities.map((p, i) => ({ label: ls.labels[i].name, probability: p }));
      }, 'classify');
    } else {
      ranked = await this.withRuntime(async (rt) => {
        const r = await AppEnvironment.awaitJob(rt.classify(ls, { image }), signal);
        return r.labels.map((l) => ({ label: l.name, probability: l.probability }));
      });
    }
    return ranked.sort((a, b) => b.probability - a.probability).slice(0, 64)
      .map((l) => ({ label: String(l.label).slice(0, 64), probability: Math.max(0, Math.min(1, l.probability)) }));
  }

  // A question about the whole image, or about region {x1, y1, x2, y2} -> text.
  async ask(key, question, { region = null, signal = null } = {}) {
    const info = this.imageInfo(key);
    let image = this.pixels(key);
    let text = question || PROMPTS.caption;
    if (region) {
      const rq = regionQuestion(this.assistant.agentAccess.core(), region, image, this.groundingConfig(),
        question || PROMPTS.region);
      text = rq.question;
      image = rq.image;
    }
    return this.askImage(image, info.name, text, { signal });
  }

  // Boxes of what `text` names -> [{x1, y1, x2, y2, label}] in pixels (at most maxBoxes).
  async ground(key, text, maxBoxes = 4, { signal = null } = {}) {
    const info = this.imageInfo(key);
    const image = this.pixels(key);
    const answer = await this.askImage(image, info.name, PROMPTS.ground(text), { signal });
    const core = this.assistant.agentAccess.core();
    const boxes = boxesInAnswer(core, answer, image, this.groundingConfig());
    return boxes.slice(0, maxBoxes).map((b) => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, label: String(b.label || text) }));
  }

  // One mask for prompt {points: [{x, y, positive}], box: {x1, y1, x2, y2} | null}
  // -> {box: [x1, y1, x2, y2], rle: {size: [h, w], counts}, score}.
  async segment(key, { points = [], box = null } = {}, { signal = null } = {}) {
    const info = this.imageInfo(key);
    const annotation = this.app.annotation;
    if (!annotation?.segmentPrompts) throw new ToolUnavailableError('Segmentation is not available in this page.');
    const prompt = { points, box: box ? { x: box.x1, y: box.y1, w: box.x2 - box.x1, h: box.y2 - box.y1 } : null };
    const [m] = await annotation.segmentPrompts(info.name, [prompt], { signal });
    return {
      box: m.box ? [m.box.x, m.box.y, m.box.x + m.box.w, m.box.y + m.box.h] : [0, 0, 0, 0],
      rle: { size: [m.height, m.width], counts: m.rle },
      score: Math.max(0, Math.min(1, m.score ?? 0)),
    };
  }

  // What count_lesions counts: the image's accepted annotations.
  // -> {count (lesions, as the Annotations panel counts them), mask_parts, annotations}.
  countLesions(key) { return this.acceptedAnnotations(key); }

  acceptedAnnotations(key) {
    const info = this.imageInfo(key);
    const st = this.app.annotation?.state?.();
    if (!st) throw new ToolUnavailableError('The annotations are not available in this page.');
    const img = st.images?.[info.name] ?? { annotations: [], lesions: 0, parts: [] };
    const parts = (img.parts ?? []).reduce((n, p) => n + (Number.isFinite(p) ? p : 0), 0);
    return { count: img.lesions ?? 0, mask_parts: parts, annotations: img.annotations ?? [] };
  }

  // The Report tab's "Draft with AI" for the image's findings (texts matched
  // against the report's findings; none matching: every finding).
  // -> {applied: [{path, value, probability}], rejected: [{path, reason}]}.
  async draftReport(key, findings = [], { signal = null } = {}) {
    const info = this.imageInfo(key);
    const draft = this.app.reportDraft;
    if (!draft?.action) throw new ToolUnavailableError('Drafting the report is not available in this page.');
    const report = this.app.report?.state?.()?.report;
    const wanted = findings.map((f) => String(f).toLowerCase()).filter(Boolean);
    const ids = wanted.length ? (report?.findings ?? []).filter((f) =>
      wanted.some((w) => JSON.stringify(f).toLowerCase().includes(w))).map((f) => f.id).filter(Boolean) : [];
    const onAbort = () => draft.action('cancel');
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await draft.action('start', { images: [info.name], ...(ids.length ? { findings: ids } : {}) });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    const last = draft.last ?? {};
    if (last.error) throw new ToolUnavailableError(last.error);
    const applied = [], rejected = [];
    for (const r of last.rounds ?? []) {
      for (const a of r.outcome?.applied ?? []) {
        const e = { path: String(a.path).slice(0, 200), value: String(a.value ?? '').slice(0, 2000) };
        if (Number.isFinite(a.probability)) e.probability = Math.max(0, Math.min(1, a.probability));
        applied.push(e);
      }
      for (const x of r.outcome?.rejected ?? []) rejected.push({ path: String(x.path).slice(0, 200), reason: String(x.reason || 'not applied').slice(0, 500) });
    }
    if (last.notice && !applied.length && !rejected.length) rejected.push({ path: 'report', reason: last.notice.slice(0, 500) });
    return { applied, rejected };
  }

  // Two case images side by side (one picture, A left, B right) with the question -> text.
  async compare(keyA, keyB, question = '', { signal = null } = {}) {
    const a = this.pixels(keyA), b = this.pixels(keyB);
    const nameA = this.imageInfo(keyA).name, nameB = this.imageInfo(keyB).name;
    const pair = sideBySide(a, b);
    const q = `${question || PROMPTS.compare} The left half is image "${nameA}", the right half "${nameB}".`;
    return this.askImage(pair, `${nameA}+${nameB}`, q, { signal });
  }
}

// Images A and B next to each other on black, both at the taller one's height
// (nearest-neighbour scaling), as one RGBA image for a one-image model.
export function sideBySide(a, b) {
  const H = Math.max(a.height, b.height);
  const wa = Math.round(a.width * H / a.height), wb = Math.round(b.width * H / b.height);
  const W = wa + wb;
  const rgba = new Uint8Array(W * H * 4);
  const blit = (img, x0, w) => {
    for (let y = 0; y < H; y++) {
      const sy = Math.min(img.height - 1, Math.floor(y * img.height / H));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(img.width - 1, Math.floor(x * img.width / w));
        const s = (sy * img.width + sx) * 4, d = (y * W + x0 + x) * 4;
        rgba[d] = img.rgba[s]; rgba[d + 1] = img.rgba[s + 1]; rgba[d + 2] = img.rgba[s + 2]; rgba[d + 3] = 255;
      }
    }
  };
  blit(a, 0, wa);
  blit(b, wa, wb);
  return { key: `compare(${a.key},${b.key})`, rgba, width: W, height: H };
}

export { RemoteError };
