// sam_model.js: a SAM-family model in the standard ONNX split, run with
// onnxruntime (onnxruntime-web in the browser and under Node, or
// onnxruntime-node; the caller passes the `ort` module in).
//
// Expected model files (the SAM web-demo / segment-anything export layout):
//   encoder: input  [1, 3, T, T] float32 (T = 1024): RGB resized so the longest
//            side is T, normalised with SAM's mean/std, zero-padded bottom-right
//            output [1, 256, 64, 64] float32 image embedding
//   decoder: image_embeddings [1,256,64,64], point_coords [1,N,2] (T frame),
//            point_labels [1,N] (1 +, 0 -, 2/3 box corners, -1 padding),
//            mask_input [1,1,256,256], has_mask_input [1], orig_im_size [2] (h, w)
//            → masks [1,K,h,w], iou_predictions [1,K], low_res_masks [1,K,256,256]
// The encoder runs once per image; its embedding is cached by image key. All
// pre/post-processing is the C++ core's (CoreApi), so the app, the Node tool
// and the tests share one implementation.

export const SAM_DECODER_INPUTS = ['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size'];
export const SAM_DECODER_OUTPUTS = ['iou_predictions', 'low_res_masks'];

export class SamModel {
  // ort: the onnxruntime module; core: CoreApi; encoder/decoder: bytes (Uint8Array) or URL.
  static async load(ort, core, { encoder, decoder, sessionOptions = {}, target = 1024, embeddingCacheSize = 8 }) {
    const create = async (src, what) => {
      try {
        return await ort.InferenceSession.create(src, sessionOptions);
      } catch (e) {
        throw new Error(`cannot load SAM ${what} model: ${e.message}`);
      }
    };
    const enc = await create(encoder, 'encoder');
    const dec = await create(decoder, 'decoder');
    if (enc.inputNames.length !== 1 || enc.outputNames.length < 1) {
      throw new Error(`SAM encoder must have one input and an embedding output (has inputs ${enc.inputNames.join(', ')})`);
    }
    const missing = SAM_DECODER_INPUTS.filter((n) => !dec.inputNames.includes(n))
      .concat(SAM_DECODER_OUTPUTS.filter((n) => !dec.outputNames.includes(n)));
    if (missing.length) throw new Error(`SAM decoder lacks ${missing.join(', ')}: not a SAM ONNX decoder export`);
    return new SamModel(ort, core, enc, dec, target, embeddingCacheSize);
  }

  constructor(ort, core, enc, dec, target, cacheSize) {
    Object.assign(this, { ort, core, enc, dec, target, cacheSize });
    this.cache = new Map();  // key → {embedding, width, height}; insertion order = LRU order
  }

  // Runs the encoder for a decoded core image (CoreApi.decodeImage); cached by key.
  async encode(img, key) {
    if (key != null && this.cache.has(key)) {
      const e = this.cache.get(key);
      this.cache.delete(key);
      this.cache.set(key, e);
      return { ...e, cached: true, ms: 0 };
    }
    const t0 = performance.now();
    const pixels = this.core.samPreprocess(img, this.target);
    const input = new this.ort.Tensor('float32', pixels, [1, 3, this.target, this.target]);
    const out = await this.enc.run({ [this.enc.inputNames[0]]: input });
    const e = { embedding: out[this.enc.outputNames[0]], width: img.width, height: img.height };
    const ms = performance.now() - t0;
    if (key != null) {
      this.cache.set(key, e);
      while (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value);
    }
    return { ...e, cached: false, ms };
  }

  // One decoder run. prompt: {points: [{x, y, positive}], box: {x,y,w,h}|null,
  // maskInput: Float32Array(256*256) of previous low-res logits | null}.
  // Returns {mask (core mask handle, caller frees), lowRes (best candidate's
  // logits), iou, index, count, ms}.
  async decode(embedded, { points = [], box = null, maskInput = null, multimaskSkipFirst = false }) {
    const { ort, core } = this;
    const t0 = performance.now();
    const p = core.samPrompt(embedded.width, embedded.height, points, box, this.target);
    const feeds = {
      image_embeddings: embedded.embedding,
      point_coords: new ort.Tensor('float32', p.coords, [1, p.count, 2]),
      point_labels: new ort.Tensor('float32', p.labels, [1, p.count]),
      mask_input: new ort.Tensor('float32', maskInput ?? new Float32Array(256 * 256), [1, 1, 256, 256]),
      has_mask_input: new ort.Tensor('float32', new Float32Array([maskInput ? 1 : 0]), [1]),
      orig_im_size: new ort.Tensor('float32', new Float32Array([embedded.height, embedded.width]), [2]),
    };
    // Only the low-res output is fetched: full-size masks are made by the core.
    const out = await this.dec.run(feeds, SAM_DECODER_OUTPUTS);
    const iou = out.iou_predictions.data, low = out.low_res_masks;
    const [, k, lh, lw] = low.dims;
    const index = k > 1 ? core.samSelect(iou, multimaskSkipFirst) : 0;
    const lowRes = low.data.slice(index * lh * lw, (index + 1) * lh * lw);
    const mask = core.samPostprocess(lowRes, lw, lh, embedded.width, embedded.height, this.target);
    return { mask, lowRes, iou: iou[index], index, count: k, ms: performance.now() - t0 };
  }

  clearCache() { this.cache.clear(); }
}
