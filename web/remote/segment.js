// segment.js: the Segment tool on endoscribe-server (POST
// /v1/endoscribe/segment, server/API.md). The image's file bytes go once;
// later clicks on it send only the image_id the server answered with (its
// embedding is computed once per image); an image_id the server has evicted
// (404, code image_not_cached) is answered by sending the image again.
// Plain OpenAI servers have no segmentation endpoint (404: 'unsupported').
//
// RemoteSegmentJob has SegmentJob's request()/prepare() face
// (web/annotation/segment_job.js): the C++ side's whole prompt of an image
// ({request, image, width, height, clicks, box}) comes in, only the newest
// waiting request is kept, and the mask goes back through
// es_annotation_segmentation_result as a core mask handle.

import { RemoteError } from './errors.js';
import { dataUrlFromBytes } from './image_url.js';

// COCO RLE counts (a list) -> row-major 0/1 bytes. Runs go down the columns
// and start with zeros (src/mask/rle.h).
export function decodeRleCounts(counts, height, width) {
  const out = new Uint8Array(width * height);
  let pos = 0, value = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0 || pos + c > width * height) throw new Error('RLE counts do not fit the mask size');
    if (value) for (let k = pos; k < pos + c; k++) out[(k % height) * width + Math.floor(k / height)] = 1;
    pos += c;
    value ^= 1;
  }
  if (pos !== width * height) throw new Error(`RLE counts cover ${pos} pixels, the mask has ${width * height}`);
  return out;
}

// The size of an RLE object: COCO's {"size": [h, w]} or {"height", "width"}.
export function rleSize(rle, fallback = {}) {
  const h = rle?.size?.[0] ?? rle?.height ?? fallback.height;
  const w = rle?.size?.[1] ?? rle?.width ?? fallback.width;
  return { height: h, width: w };
}

// The prompt of one request in the API's shape.
export function segmentPrompt({ clicks = [], box = null }) {
  const p = {};
  if (clicks.length) p.points = clicks.map((c) => [c.x, c.y, c.positive ? 1 : 0]);
  if (box) p.box = [box.x, box.y, box.x + box.w, box.y + box.h];
  return p;
}

export class RemoteSegmenter {
  // client(): the RemoteClient in use; bytesOf(name): the image file's bytes.
  constructor({ client, bytesOf }) {
    this.client = client;
    this.bytesOf = bytesOf;
    this.ids = new Map();  // image name -> image_id (per server base)
    this.stats = { requests: 0, imagesSent: 0, resent: 0, embeddingCached: 0 };
  }

  forget() { this.ids.clear(); }

  // -> {masks: [...], image_id, width, height, timings}.
  async segment(name, prompt, { signal = null } = {}) {
    const c = this.client();
    const key = `${c.base}|${name}`;
    const send = async (withImage) => {
      // cleanup: false: the app cleans the mask with the user's own Segment settings.
      const body = { prompts: [prompt], multimask: false, cleanup: false };
      if (withImage) {
        const bytes = this.bytesOf(name);
        if (!bytes) throw new Error(`the file of "${name}" is not available in this browser`);
        body.image = dataUrlFromBytes(bytes);
        this.stats.imagesSent++;
      } else body.image_id = this.ids.get(key);
      this.stats.requests++;
      return c.post('/v1/endoscribe/segment', body, { signal });
    };
    let r;
    try {
      r = await send(!this.ids.has(key));
    } catch (e) {
      if (!(e instanceof RemoteError) || e.kind !== 'image_not_cached') throw e;
      this.ids.delete(key);
      this.stats.resent++;
      r = await send(true);
    }
    if (typeof r.image_id === 'string') this.ids.set(key, r.image_id);
    if (r.timings?.embedding_cached) this.stats.embeddingCached++;
    if (!Array.isArray(r.masks)) throw new RemoteError('bad_response', '/v1/endoscribe/segment: no "masks" list');
    return r;
  }
}

// The Segment tool's jobs on the server. Module: the app's module; core:
// CoreApi (web/segmentation/core_api.js) for mask handles.
export class RemoteSegmentJob {
  constructor(Module, core, segmenter) {
    Object.assign(this, { Module, core, segmenter });
    this.latest = null;
    this.running = false;
    this.current = null;
    this.stats = { decodeMs: [], backend: 'server', lastError: null };
  }

  status(text, progress = -1, error = false) {
    this.Module.ccall('es_annotation_segmentation_status', null, ['string', 'number', 'number', 'string', 'number'],
      [text, progress, error ? 1 : 0, 'server', 0]);
  }

  request(req) {
    this.latest = req;
    this.current = req.image;
    if (!this.running) this.drain();
  }

  // Nothing to prepare ahead: the first click sends the image.
  prepare(names) { this.current = names[0] ?? null; }

  async drain() {
    this.running = true;
    try {
      while (this.latest) {
        const req = this.latest;
        this.latest = null;
        try {
          await this.run(req);
        } catch (e) {
          this.stats.lastError = e.message;
          this.onError?.(e);
          this.status(`Segment on the server did not work (${e.message})`, -1, true);
        }
      }
    } finally {
      this.running = false;
    }
  }

  // A core mask handle from the answer's RLE (the caller frees it).
  maskHandle(rle, width, height) {
    const size = rleSize(rle, { width, height });
    if (size.width !== width || size.height !== height)
      throw new RemoteError('bad_response', `mask is ${size.width}x${size.height}, the image ${width}x${height}`);
    if (typeof rle.counts === 'string') {
      const h = this.Module.ccall('es_mask_from_rle_string', 'number', ['string', 'number', 'number'], [rle.counts, height, width]);
      if (!h) throw new RemoteError('bad_response', `mask RLE: ${this.core.lastError()}`);
      return h;
    }
    if (Array.isArray(rle.counts)) return this.core.maskFromBytes(decodeRleCounts(rle.counts, height, width), width, height, 1, 0, 0);
    throw new RemoteError('bad_response', 'mask without RLE counts');
  }

  async run(req) {
    if (!req.box && !req.clicks?.length) return;
    const t0 = performance.now();
    this.status('Segmenting on the server...', 0);
    const r = await this.segmenter.segment(req.image, segmentPrompt(req));
    const best = r.masks[0];
    if (!best) throw new RemoteError('bad_response', 'the server returned no mask');
    const h = this.maskHandle(best.rle, req.width, req.height);
    const ms = performance.now() - t0;
    this.stats.decodeMs.push(ms);
    try {
      this.Module._es_annotation_segmentation_result(req.request, h, best.score ?? 0, ms);
    } finally {
      this.core.freeMask(h);
    }
    const emb = r.timings?.embedding_cached ? 'image embedding reused' : `image embedded in ${Math.round(r.timings?.embedding_ms ?? 0)} ms`;
    this.status(`Mask ready (server; ${emb}, ${Math.round(ms)} ms in all)`, -1);
  }
}
