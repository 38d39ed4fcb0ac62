// grounding.js: boxes in answers (REC) and questions about a drawn region
// (REG), in the box convention the model package declares:
//   config.json["endoscribe"]["grounding"] = {"box_format": "auto" | "normalized_1" |
//     "normalized_1000" | "pixels" | "paligemma_loc", "box_order": "xyxy" | "yxyx",
//     "region_input": "coordinates" | "crop" | "both"}
// Parsing and formatting are the core's (src/assistant/box_parse.h); this file only
// picks the options and copies pixels for crops.

export function groundingConfig(pkg) {
  const g = pkg?.config?.endoscribe?.grounding ?? {};
  return {
    format: g.box_format ?? 'auto',
    order: g.box_order ?? 'xyxy',
    regionInput: g.region_input ?? 'coordinates',
  };
}

// [{x1, y1, x2, y2, label, begin, end}] in image pixels.
export function boxesInAnswer(core, text, { width, height }, cfg) {
  return core.parseBoxes(text, { format: cfg.format, order: cfg.order, width, height });
}

// The question text (and, for crop mode, the image to send) for "what is in
// this region?". box in image pixels; image {key, rgba, width, height}.
export function regionQuestion(core, box, image, cfg, question = 'What is in this region?') {
  const out = { question, image };
  if (cfg.regionInput === 'coordinates' || cfg.regionInput === 'both') {
    const where = core.formatBox(box, { format: cfg.format === 'auto' ? 'normalized_1000' : cfg.format, order: cfg.order,
      width: image.width, height: image.height });
    out.question = `${question} Region: ${where}`;
  }
  if (cfg.regionInput === 'crop' || cfg.regionInput === 'both') out.image = cropRegion(image, box);
  return out;
}

// A copy of the box's pixels (RGBA8), at least 1x1, clamped to the image.
export function cropRegion(image, box, pad = 0) {
  const x1 = Math.max(0, Math.floor(box.x1 - pad)), y1 = Math.max(0, Math.floor(box.y1 - pad));
  const x2 = Math.min(image.width, Math.ceil(box.x2 + pad)), y2 = Math.min(image.height, Math.ceil(box.y2 + pad));
  const w = Math.max(1, x2 - x1), h = Math.max(1, y2 - y1);
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const src = ((y1 + y) * image.width + x1) * 4;
    rgba.set(image.rgba.subarray(src, src + w * 4), y * w * 4);
  }
  return { key: `${image.key}#crop(${x1},${y1},${x2},${y2})`, rgba, width: w, height: h };
}
