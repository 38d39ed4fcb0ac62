// interactive.js: one object being segmented by clicks (and/or a box), on top
// of SamModel. This is what the app's click tool and the evaluation tool share.
//
// Strategies (how a user's clicks become decoder prompts):
//   feedback   – feed the previous low-res logits back as mask_input (SAM's
//                own interactive loop); the first click has none.
//   boxRefine  – after decoding the clicks, take the box of the resulting
//                mask (grown by boxMargin of its size, and always containing
//                the positive clicks) and decode again with the clicks plus
//                that box. A single click on a polyp often gives a fragment
//                (a highlight, one lobe); the box tells the decoder the scale.
//   multiScale – for the first click (when it is the only prompt): decode the
//                click with boxes of several sizes centred on it (fractions
//                of the image's longer side), and keep the candidate the
//                decoder itself rates best (predicted IoU, or predicted IoU x
//                stability score with select: 'stable'). The click alone
//                competes only when its mask covers under half the image: with
//                the default model a lone click on a polyp usually returns
//                most of the frame with a predicted IoU near 1. This stands in
//                for SAM's multimask output, which that decoder lacks. With
//                keepBox the chosen box stays in the prompt for later clicks,
//                grown to take in positive clicks that fall outside it;
//                without, later clicks are points plus the fed-back mask only
//                (a wrong first box then cannot trap the session).
//   iterations – extra decoder passes that feed the mask back with the same
//                prompt (a cheap self-refinement).
// A user box (setBox) is always part of the prompt.

export const STRATEGIES = {
  plain: { feedback: false, boxRefine: false, iterations: 0 },
  feedback: { feedback: true, boxRefine: false, iterations: 0 },
  box_refine: { feedback: true, boxRefine: true, boxMargin: 0.1, iterations: 0 },
  box_refine_plain: { feedback: false, boxRefine: true, boxMargin: 0.1, iterations: 0 },
  iterate: { feedback: true, boxRefine: false, iterations: 1 },
  multi_scale: { feedback: true, boxRefine: false, multiScale: [0.15, 0.25, 0.35, 0.5, 0.65, 0.8], select: 'iou', keepBox: true, iterations: 0 },
  multi_scale_stable: { feedback: true, boxRefine: false, multiScale: [0.15, 0.25, 0.35, 0.5, 0.65, 0.8], select: 'stable', keepBox: true, iterations: 0 },
  multi_scale_first: { feedback: true, boxRefine: false, multiScale: [0.15, 0.25, 0.35, 0.5, 0.65, 0.8], select: 'stable', keepBox: false, iterations: 0 },
};

// SAM's stability score: IoU of the mask thresholded at +offset and -offset.
export function stabilityScore(logits, offset = 1.0) {
  let inner = 0, outer = 0;
  for (let i = 0; i < logits.length; i++) { const v = logits[i]; if (v > offset) inner++; if (v > -offset) outer++; }
  return outer ? inner / outer : 0;
}

export class InteractiveSegmentation {
  constructor(model, embedded, strategy = STRATEGIES.feedback) {
    this.model = model;
    this.core = model.core;
    this.embedded = embedded;
    this.strategy = { boxMargin: 0.1, iterations: 0, ...strategy };
    this.points = [];
    this.box = null;      // user box
    this.autoBox = null;  // box chosen by multiScale
    this.lowRes = null;   // logits of the current mask
    this.mask = 0;        // core mask handle of the current result
    this.iou = 0;
  }

  setBox(box) { this.box = box; }

  async addClick(x, y, positive = true) {
    this.points.push({ x, y, positive });
    return this.run();
  }

  undoClick() {
    this.points.pop();
    return this.points.length || this.box ? this.run() : (this.reset(), null);
  }

  reset() {
    this.points = [];
    this.box = null;
    this.autoBox = null;
    this.lowRes = null;
    this.core.freeMask(this.mask);
    this.mask = 0;
  }

  // Takes ownership of the current mask handle (the caller frees it).
  takeMask() { const m = this.mask; this.mask = 0; return m; }

  async run() {
    const s = this.strategy;
    const t0 = performance.now();
    const { width: W, height: H } = this.embedded;
    if (this.points.length <= 1) this.autoBox = null;
    if (this.autoBox) this.autoBox = this.growBox(this.autoBox);
    let r = await this.model.decode(this.embedded, {
      points: this.points, box: this.box ?? this.autoBox, maskInput: s.feedback ? this.lowRes : null,
    });
    let passes = 1;
    if (s.multiScale && !this.box && this.points.length === 1 && this.points[0].positive) {
      const L = Math.max(W, H), p = this.points[0];
      const score = (c) => (s.select === 'stable' ? c.iou * stabilityScore(c.lowRes) : c.iou);
      let best = r, bestScore = this.core.maskCount(r.mask) < 0.5 * W * H ? score(r) : -Infinity;
      for (const f of s.multiScale) {
        const half = (f * L) / 2;
        const x0 = Math.max(0, p.x - half), y0 = Math.max(0, p.y - half);
        const box = { x: x0, y: y0, w: Math.min(W, p.x + half) - x0, h: Math.min(H, p.y + half) - y0 };
        const c = await this.model.decode(this.embedded, { points: this.points, box, maskInput: null });
        passes++;
        const sc = score(c);
        if (sc > bestScore) {
          this.core.freeMask(best.mask);
          best = c; bestScore = sc;
          if (s.keepBox) this.autoBox = box;
        } else this.core.freeMask(c.mask);
      }
      r = best;
    }
    for (let i = 0; i < s.iterations; i++, passes++) {
      const next = await this.model.decode(this.embedded, { points: this.points, box: this.box, maskInput: r.lowRes });
      this.core.freeMask(r.mask);
      r = next;
    }
    if (s.boxRefine && !this.box) {
      const b = this.derivedBox(r.mask);
      if (b) {
        const next = await this.model.decode(this.embedded, { points: this.points, box: b, maskInput: s.feedback ? r.lowRes : null });
        this.core.freeMask(r.mask);
        r = next;
        passes++;
      }
    }
    this.core.freeMask(this.mask);
    this.mask = r.mask;
    this.lowRes = r.lowRes;
    this.iou = r.iou;
    return { mask: this.mask, iou: r.iou, passes, ms: performance.now() - t0 };
  }

  // The box grown (by boxMargin) to take in positive clicks outside it.
  growBox(b) {
    let x0 = b.x, y0 = b.y, x1 = b.x + b.w, y1 = b.y + b.h, grown = false;
    for (const p of this.points) {
      if (!p.positive || (p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1)) continue;
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
      grown = true;
    }
    if (!grown) return b;
    const { width: W, height: H } = this.embedded, m = this.strategy.boxMargin;
    const mx = (x1 - x0) * m, my = (y1 - y0) * m;
    x0 = Math.max(0, x0 - mx); y0 = Math.max(0, y0 - my); x1 = Math.min(W, x1 + mx); y1 = Math.min(H, y1 + my);
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }

  derivedBox(mask) {
    const { width: W, height: H } = this.embedded;
    const b = this.core.maskBox(mask);
    let x0, y0, x1, y1;
    if (b) { x0 = b.x; y0 = b.y; x1 = b.x + b.w; y1 = b.y + b.h; } else { x0 = y0 = Infinity; x1 = y1 = -Infinity; }
    for (const p of this.points) {
      if (!p.positive) continue;
      x0 = Math.min(x0, p.x - 1); y0 = Math.min(y0, p.y - 1);
      x1 = Math.max(x1, p.x + 1); y1 = Math.max(y1, p.y + 1);
    }
    if (!(x1 > x0 && y1 > y0)) return null;
    const mx = (x1 - x0) * this.strategy.boxMargin, my = (y1 - y0) * this.strategy.boxMargin;
    x0 = Math.max(0, x0 - mx); y0 = Math.max(0, y0 - my);
    x1 = Math.min(W, x1 + mx); y1 = Math.min(H, y1 + my);
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }
}
