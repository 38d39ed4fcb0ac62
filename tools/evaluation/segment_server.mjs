// segment_server.mjs: the segmentation protocol's model through
// endoscribe-server's POST /v1/endoscribe/segment (server/API.md) instead of
// the SAM model in this process. The clicks, masks' scoring and records are
// tools/eval_segmentation.mjs's; only who runs SAM differs.
//
// The server keeps no click session: its "interactive" strategy replays a
// prompt's points as the app's Segment tool (multi_scale_first) would take
// them one by one, so the mask after click k is asked with clicks 1..k. The
// image goes once; later requests name it by image_id, and it is sent again
// when the server answers image_not_cached (evicted).
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

// The one strategy the server runs: its "interactive" is the app's multi_scale_first.
export const SERVER_STRATEGY = 'multi_scale_first';

const MIME = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.bmp': 'image/bmp' };

// An error about this image (unreadable, too large): the image is skipped, the run goes on.
export class ImageRefused extends Error {}

// One request; a fresh connection each time (httplib closes idle keep-alive
// connections after 5 s, and a reused one then fails).
function postJson(url, body, apiKey) {
  const text = JSON.stringify(body);
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text), ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const t = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(t); } catch { /* not JSON: reported below */ }
        resolve({ status: res.statusCode, json, text: t, retryAfter: Number(res.headers['retry-after']) || 0 });
      });
    });
    req.on('error', (e) => reject(new Error(`cannot reach ${u.origin} (${e.message}): is endoscribe-server running with --sam, and is --url right?`)));
    req.end(text);
  });
}

export class ServerSam {
  constructor({ url, apiKey = null, retries = 3 }) {
    if (!url) throw new Error('--url is needed for the server backend (e.g. --url http://127.0.0.1:8080)');
    this.endpoint = `${url.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/endoscribe/segment`;
    this.apiKey = apiKey;
    this.retries = retries;
    this.ids = new Map();  // image path -> image_id the server gave
    this.embeddingMs = new Map();  // image path -> the first answer's timings.embedding_ms (encoder, or 0 when it was cached)
  }

  // -> the server's answer plus ms (round trip). image: {file, bytes}.
  async segment(image, prompts, cleanup) {
    const id = this.ids.get(image.file);
    const body = { prompts, strategy: 'interactive', cleanup };
    if (id) body.image_id = id;
    else body.image = `data:${MIME[path.extname(image.file).toLowerCase()] ?? 'application/octet-stream'};base64,${Buffer.from(image.bytes).toString('base64')}`;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      const r = await postJson(this.endpoint, body, this.apiKey);
      const ms = performance.now() - t0;
      if (r.status === 200 && r.json?.object === 'endoscribe.segmentation') {
        this.ids.set(image.file, r.json.image_id);
        if (!this.embeddingMs.has(image.file) || !r.json.timings.embedding_cached) this.embeddingMs.set(image.file, r.json.timings.embedding_ms);
        return { ...r.json, ms };
      }
      const err = r.json?.error;
      if (r.status === 404 && err?.code === 'image_not_cached' && body.image_id) {
        // Evicted by other images: send the image itself again (not counted as a retry).
        this.ids.delete(image.file);
        return this.segment(image, prompts, cleanup);
      }
      if ((r.status === 429 || r.status === 503) && attempt < this.retries) {
        await new Promise((res) => setTimeout(res, 1000 * Math.max(1, r.retryAfter)));
        continue;
      }
      const what = err?.message ?? r.text.slice(0, 200);
      if (r.status === 400 && err?.code === 'image_unreadable') throw new ImageRefused(`the server cannot read the image: ${what}`);
      if (r.status === 413) throw new ImageRefused(`the image is over the server's limits: ${what}`);
      if (r.status === 503) throw new Error(`the server has no segmentation model (${what}): start it with --sam DIR`);
      throw new Error(`POST ${this.endpoint} answered HTTP ${r.status}: ${what}`);
    }
  }
}

// A mask handle from the server's COCO compressed RLE (caller frees).
export function maskFromRle(core, rle) {
  const [h, w] = rle.size;
  const s = Buffer.from(rle.counts);
  const m = core.withAlloc(s.length + 1, (p) => {
    core.u8(p, s.length + 1).set([...s, 0]);
    return core.m._es_mask_from_rle_string(p, h, w);
  });
  if (!(m > 0)) throw new Error(`the server's mask does not decode: ${core.lastError()}`);
  return m;
}

const cleanupFor = (minArea) => (minArea > 0 ? { min_area_px: minArea } : false);

// The click protocol of eval_segmentation.mjs runOurs, through the server:
// after each click the mask the user would see (cleaned when minArea > 0) is
// what the clicker answers. ms: the request's round trip (it replays every
// earlier click); passes: the decoder runs this click added.
export async function runServerClicks(core, sam, image, gt, args, minArea = 0) {
  const ious = [], ms = [], passes = [], regions = [];
  const points = [];
  let shown = 0, runsBefore = 0;
  try {
    for (let k = 0; k < args.maxClicks; k++) {
      const c = core.nextClick(gt, shown);
      if (!c) break;
      points.push([c.x + 0.5, c.y + 0.5, c.positive ? 1 : 0]);
      const r = await sam.segment(image, [{ points }], cleanupFor(minArea));
      core.freeMask(shown);
      shown = 0;
      shown = maskFromRle(core, r.masks[0].rle);
      ious.push(core.iou(gt, shown)); ms.push(r.ms); passes.push(r.timings.decoder_runs - runsBefore);
      runsBefore = r.timings.decoder_runs;
      regions.push(core.countRegions(shown, 1));
      if (ious.at(-1) >= args.stopIou) break;
    }
  } finally { core.freeMask(shown); }
  return { ious, ms, passes, regions };
}

// The box prompt (the region's tight box alone, one decoder run), raw and cleaned at each of minAreas.
export async function runServerBox(core, sam, image, gt, minAreas = []) {
  const b = core.maskBox(gt);
  const prompts = [{ box: [b.x, b.y, b.x + b.w, b.y + b.h] }];
  const score = async (minArea) => {
    const r = await sam.segment(image, prompts, cleanupFor(minArea));
    const m = maskFromRle(core, r.masks[0].rle);
    try { return { iou: core.iou(gt, m), dice: core.dice(gt, m), ms: r.ms }; } finally { core.freeMask(m); }
  };
  const raw = await score(0);
  const cleaned = [];
  for (const a of minAreas) cleaned.push(await score(a));
  return { ...raw, cleaned };
}
