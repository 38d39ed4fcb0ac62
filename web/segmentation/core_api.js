// core_api.js: a thin JS face over the C++ core's segmentation exports
// (web/bindings/segmentation_bindings.cpp). Works on the Node module
// (<wasm build>/node/endoscribe_core.mjs) and on the app's module alike:
// only _malloc/_free, HEAPU8 and the es_* exports are used.

export class CoreApi {
  constructor(module) {
    this.m = module;
    for (const name of ['_es_image_decode', '_es_segmentation_preprocess', '_es_segmentation_postprocess', '_es_segmentation_next_click']) {
      if (typeof module[name] !== 'function') throw new Error(`core module lacks ${name}: rebuild the WASM core`);
    }
  }

  // Views over WASM memory must be made fresh after any call that may grow it.
  f32(ptr, n) { return new Float32Array(this.m.HEAPU8.buffer, ptr, n); }
  i32(ptr, n) { return new Int32Array(this.m.HEAPU8.buffer, ptr, n); }
  u8(ptr, n) { return new Uint8Array(this.m.HEAPU8.buffer, ptr, n); }
  str(ptr) {
    if (!ptr) return null;
    const heap = this.m.HEAPU8;
    let end = ptr;
    while (heap[end]) end++;
    return new TextDecoder().decode(heap.subarray(ptr, end));
  }
  lastError() { return this.str(this.m._es_segmentation_last_error()) || 'unknown error'; }

  withAlloc(bytes, fn) {
    const p = this.m._malloc(Math.max(1, bytes));
    if (!p) throw new Error(`out of WASM memory allocating ${bytes} bytes`);
    try { return fn(p); } finally { this.m._free(p); }
  }

  // ---- images
  decodeImage(bytes) {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    const h = this.withAlloc(u8.length, (p) => { this.u8(p, u8.length).set(u8); return this.m._es_image_decode(p, u8.length); });
    if (!h) throw new Error(`cannot decode image: ${this.lastError()}`);
    return { handle: h, width: this.m._es_image_width(h), height: this.m._es_image_height(h) };
  }
  freeImage(img) { this.m._es_image_free(img.handle ?? img); }

  // ---- masks (integer handles; free them)
  maskFromImage(img, channel = 0, threshold = 127) {
    const h = this.m._es_mask_from_image(img.handle ?? img, channel, threshold);
    if (!h) throw new Error(this.lastError());
    return h;
  }
  maskFromBytes(bytes, width, height, channels = 1, channel = 0, threshold = 0) {
    const h = this.withAlloc(bytes.length, (p) => {
      this.u8(p, bytes.length).set(bytes);
      return this.m._es_mask_from_bytes(p, width, height, channels, channel, threshold);
    });
    if (!h) throw new Error(this.lastError());
    return h;
  }
  freeMask(h) { if (h) this.m._es_mask_free(h); }
  maskSize(h) { return { width: this.m._es_mask_width(h), height: this.m._es_mask_height(h) }; }
  maskBytes(h) {
    const { width, height } = this.maskSize(h);
    return this.u8(this.m._es_mask_data(h), width * height).slice();
  }
  maskCount(h) { return this.m._es_mask_count(h); }
  iou(a, b) { return this.m._es_mask_iou(a, b); }
  dice(a, b) { return this.m._es_mask_dice(a, b); }
  maskBox(h) {
    return this.withAlloc(16, (p) => {
      const ok = this.m._es_mask_box(h, p);
      const [x, y, w, hh] = this.f32(p, 4);
      return ok ? { x, y, w, h: hh } : null;
    });
  }
  splitRegions(h, minArea = 1, max = 64) {
    return this.withAlloc(4 * max, (p) => {
      const n = this.m._es_mask_split_regions(h, minArea, p, max);
      if (n < 0) throw new Error(this.lastError());
      return Array.from(this.i32(p, Math.min(n, max)));
    });
  }
  countRegions(h, minArea = 1) { return this.m._es_mask_count_regions(h, minArea); }
  // SAM's hole/island cleanup (mask_cleanup.h): a new mask handle (caller frees).
  cleanMask(h, minArea) { return this.m._es_mask_cleanup(h, minArea); }
  polygons(h, epsilon = 1.0, minArea = 1) {
    return JSON.parse(this.str(this.m._es_mask_polygons_json(h, epsilon, minArea)));
  }
  rleString(h) { return this.str(this.m._es_mask_rle_string(h)); }
  maskPng(h) {
    return this.withAlloc(4, (sz) => {
      const p = this.m._es_mask_png(h, sz);
      if (!p) throw new Error(this.lastError());
      return this.u8(p, this.i32(sz, 1)[0]).slice();
    });
  }

  // ---- SAM
  samFrame(width, height, target = 1024) {
    return this.withAlloc(8, (p) => { this.m._es_segmentation_frame(width, height, target, p); const [w, h] = this.i32(p, 2); return { width: w, height: h }; });
  }
  // Encoder input as a Float32Array [3*target*target] (NCHW without the batch).
  samPreprocess(img, target = 1024) {
    const n = 3 * target * target;
    return this.withAlloc(4 * n, (p) => {
      if (!this.m._es_segmentation_preprocess(img.handle ?? img, target, p)) throw new Error(this.lastError());
      return this.f32(p, n).slice();
    });
  }
  // points: [{x, y, positive}] in image coordinates; box: {x, y, w, h} or null.
  samPrompt(width, height, points, box = null, target = 1024) {
    const n = points.length, cap = n + 2;
    const m = this.m;
    const xy = m._malloc(8 * Math.max(1, n)), lab = m._malloc(4 * Math.max(1, n));
    const bx = box ? m._malloc(16) : 0, oc = m._malloc(8 * cap), ol = m._malloc(4 * cap);
    try {
      const fxy = this.f32(xy, 2 * n), il = this.i32(lab, n);
      points.forEach((q, i) => { fxy[2 * i] = q.x; fxy[2 * i + 1] = q.y; il[i] = q.positive ? 1 : 0; });
      if (box) this.f32(bx, 4).set([box.x, box.y, box.w, box.h]);
      const count = m._es_segmentation_prompt(width, height, target, xy, lab, n, bx, oc, ol);
      return { coords: this.f32(oc, 2 * count).slice(), labels: this.f32(ol, count).slice(), count };
    } finally {
      for (const p of [xy, lab, bx, oc, ol]) if (p) m._free(p);
    }
  }
  // Low-res logits (Float32Array lw*lh) → mask handle at width x height.
  samPostprocess(logits, lw, lh, width, height, target = 1024, threshold = 0) {
    const h = this.withAlloc(4 * logits.length, (p) => {
      this.f32(p, logits.length).set(logits);
      return this.m._es_segmentation_postprocess(p, lw, lh, width, height, target, threshold);
    });
    if (!h) throw new Error(this.lastError());
    return h;
  }
  samSelect(iou, skipFirst = false) {
    return this.withAlloc(4 * iou.length, (p) => { this.f32(p, iou.length).set(iou); return this.m._es_segmentation_select(p, iou.length, skipFirst ? 1 : 0); });
  }

  // ---- click protocol
  nextClick(gt, pred = 0) {
    return this.withAlloc(16, (p) => {
      if (!this.m._es_segmentation_next_click(gt, pred || 0, p)) return null;
      const [x, y, pos, depth] = this.f32(p, 4);
      return { x, y, positive: pos > 0.5, depth };
    });
  }
  interiorPoint(h) {
    return this.withAlloc(12, (p) => {
      if (!this.m._es_mask_interior_point(h, p)) return null;
      const [x, y, depth] = this.f32(p, 3);
      return { x, y, depth };
    });
  }
}
