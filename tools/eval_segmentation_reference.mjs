// eval_segmentation_reference.mjs: a deliberately plain, independent SAM
// pipeline for cross-checking ours: onnxruntime-node, pre/post-processing
// and the evaluation clicker written directly in JS here, sharing nothing with
// the C++ core except the decoded pixels it is handed. If our pipeline and
// this one disagree, one of them is wrong.
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];

export class ReferenceSam {
  static async load(encoderPath, decoderPath, threads = 0) {
    const ort = require('onnxruntime-node');
    const opts = threads ? { intraOpNumThreads: threads } : {};
    const enc = await ort.InferenceSession.create(fs.readFileSync(encoderPath), opts);
    const dec = await ort.InferenceSession.create(fs.readFileSync(decoderPath), opts);
    return new ReferenceSam(ort, enc, dec);
  }
  constructor(ort, enc, dec) { Object.assign(this, { ort, enc, dec }); }

  // rgba: Uint8Array width*height*4. Plain bilinear resize (no antialias), as
  // most SAM demos do with a canvas.
  preprocess(rgba, width, height) {
    const T = 1024, s = T / Math.max(width, height);
    const nw = Math.round(width * s), nh = Math.round(height * s);
    const out = new Float32Array(3 * T * T);
    for (let y = 0; y < nh; y++) {
      const sy = Math.min(height - 1, Math.max(0, (y + 0.5) / s - 0.5));
      const y0 = Math.floor(sy), y1 = Math.min(height - 1, y0 + 1), fy = sy - y0;
      for (let x = 0; x < nw; x++) {
        const sx = Math.min(width - 1, Math.max(0, (x + 0.5) / s - 0.5));
        const x0 = Math.floor(sx), x1 = Math.min(width - 1, x0 + 1), fx = sx - x0;
        for (let c = 0; c < 3; c++) {
          const a = rgba[(y0 * width + x0) * 4 + c], b = rgba[(y0 * width + x1) * 4 + c];
          const d = rgba[(y1 * width + x0) * 4 + c], e = rgba[(y1 * width + x1) * 4 + c];
          const v = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
          out[c * T * T + y * T + x] = (v - MEAN[c]) / STD[c];
        }
      }
    }
    return out;
  }

  async encode(rgba, width, height) {
    const t0 = performance.now();
    const x = new this.ort.Tensor('float32', this.preprocess(rgba, width, height), [1, 3, 1024, 1024]);
    const out = await this.enc.run({ [this.enc.inputNames[0]]: x });
    return { embedding: out[this.enc.outputNames[0]], width, height, ms: performance.now() - t0 };
  }

  // points [{x, y, positive}] (image coords), box {x,y,w,h}|null, prevLowRes|null.
  // Uses the decoder's own full-size `masks` output, thresholded at 0.
  async decode(e, points, box, prevLowRes) {
    const t0 = performance.now();
    const s = 1024 / Math.max(e.width, e.height);
    const sx = Math.round(e.width * s) / e.width, sy = Math.round(e.height * s) / e.height;
    const coords = [], labels = [];
    for (const p of points) { coords.push(p.x * sx, p.y * sy); labels.push(p.positive ? 1 : 0); }
    if (box) { coords.push(box.x * sx, box.y * sy, (box.x + box.w) * sx, (box.y + box.h) * sy); labels.push(2, 3); }
    else { coords.push(0, 0); labels.push(-1); }
    const T = this.ort.Tensor;
    const out = await this.dec.run({
      image_embeddings: e.embedding,
      point_coords: new T('float32', Float32Array.from(coords), [1, labels.length, 2]),
      point_labels: new T('float32', Float32Array.from(labels), [1, labels.length]),
      mask_input: new T('float32', prevLowRes ?? new Float32Array(65536), [1, 1, 256, 256]),
      has_mask_input: new T('float32', Float32Array.from([prevLowRes ? 1 : 0]), [1]),
      orig_im_size: new T('float32', Float32Array.from([e.height, e.width]), [2]),
    });
    const logits = out.masks.data, n = e.width * e.height;
    const mask = new Uint8Array(n);
    for (let i = 0; i < n; i++) mask[i] = logits[i] > 0 ? 1 : 0;
    return { mask, lowRes: out.low_res_masks.data.slice(0, 65536), ms: performance.now() - t0 };
  }
}

export function iou(a, b) {
  let inter = 0, uni = 0;
  for (let i = 0; i < a.length; i++) { inter += a[i] & b[i]; uni += a[i] | b[i]; }
  return uni ? inter / uni : 1;
}

// Squared EDT along one line (Felzenszwalb & Huttenlocher), f: 0 or Infinity.
function edt1d(f, n) {
  const d = new Float64Array(n), v = new Int32Array(n), z = new Float64Array(n + 1);
  let k = -1;
  for (let q = 0; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (k < 0) { k = 0; v[0] = q; z[0] = -Infinity; z[1] = Infinity; continue; }
    let s;
    for (;;) {
      const p = v[k];
      s = (f[q] + q * q - (f[p] + p * p)) / (2 * (q - p));
      if (s <= z[k] && k > 0) { k--; continue; }
      break;
    }
    k++; v[k] = q; z[k] = s; z[k + 1] = Infinity;
  }
  if (k < 0) { d.fill(Infinity); return d; }
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (z[j + 1] < q) j++;
    d[q] = (q - v[j]) ** 2 + f[v[j]];
  }
  return d;
}

// Deepest pixel of a 0/1 mask (border counts as background): {x, y, dist}.
export function deepestPoint(mask, w, h) {
  const W = w + 2, H = h + 2, g = new Float64Array(W * H);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (mask[y * w + x]) g[(y + 1) * W + x + 1] = Infinity;
  const col = new Float64Array(H);
  for (let x = 0; x < W; x++) {
    for (let y = 0; y < H; y++) col[y] = g[y * W + x];
    const d = edt1d(col, H);
    for (let y = 0; y < H; y++) g[y * W + x] = d[y];
  }
  let best = { x: -1, y: -1, dist: 0 };
  for (let y = 0; y < H; y++) {
    const d = edt1d(g.subarray(y * W, (y + 1) * W), W);
    if (y === 0 || y === H - 1) continue;
    for (let x = 1; x < W - 1; x++) {
      const v = Math.sqrt(d[x]);
      if (mask[(y - 1) * w + x - 1] && v > best.dist) best = { x: x - 1, y: y - 1, dist: v };
    }
  }
  return best;
}

// RITM's clicker: deeper of (missed, false) error regions; null when perfect.
export function nextClick(gt, pred, w, h) {
  const n = w * h, fn = new Uint8Array(n), fp = new Uint8Array(n);
  for (let i = 0; i < n; i++) { const p = pred ? pred[i] : 0; fn[i] = gt[i] & (1 - p); fp[i] = p & (1 - gt[i]); }
  const a = deepestPoint(fn, w, h), b = deepestPoint(fp, w, h);
  if (a.x < 0 && b.x < 0) return null;
  const positive = b.x < 0 || a.dist > b.dist;
  const c = positive ? a : b;
  return { x: c.x, y: c.y, positive };
}
