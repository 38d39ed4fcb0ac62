// agent_tools.js: the agent's nine tools (src/agent/tool_registry.cpp) over a
// ToolEnvironment (Contract C, web/agent/README.md): each tool's arguments
// become environment calls and the results become exactly the tool's output
// schema (boxes [x1, y1, x2, y2] in image pixels, masks as COCO RLE, texts and
// lists within the schema's bounds). The same file runs in the app (over
// app_environment.js) and in Node (over node_environment.js). A tool that
// fails throws an Error in plain words; the driver records it as the step's
// error.

// The registry's bounds (tool_registry.cpp), applied here so an environment's
// long text or many boxes still make a valid output.
const MAX_TEXT = 4000;
const MAX_LABEL = 64;
const MAX_BOXES = 32;
const MAX_MASKS = 32;
const MAX_COORD = 100000;

export class ToolUnavailableError extends Error {}

const clampNumber = (v, lo, hi) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo);
const probability = (v) => clampNumber(Number(v), 0, 1);
// Cuts at a code point boundary (schemas count code points).
export function boundText(text, max) {
  const s = String(text ?? '');
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join('');
}

// {x1, y1, x2, y2} | [x1, y1, x2, y2] -> [x1, y1, x2, y2] ordered, clamped to the image when its size is known.
export function boxArray(b, size = null) {
  const [a, c, d, e] = Array.isArray(b) ? b : [b.x1, b.y1, b.x2, b.y2];
  let x1 = Math.min(a, d), x2 = Math.max(a, d), y1 = Math.min(c, e), y2 = Math.max(c, e);
  const W = size?.width ?? MAX_COORD, H = size?.height ?? MAX_COORD;
  x1 = clampNumber(x1, 0, W); x2 = clampNumber(x2, 0, W); y1 = clampNumber(y1, 0, H); y2 = clampNumber(y2, 0, H);
  return [x1, y1, x2, y2];
}
const boxObject = ([x1, y1, x2, y2]) => ({ x1, y1, x2, y2 });

// The names of the tools this file runs (all but finish, which the loop handles).
export const TOOL_NAMES = ['classify', 'ground', 'describe_region', 'segment', 'count_lesions', 'describe_image',
  'fill_report_fields', 'compare_images'];

function need(env, method, what) {
  if (typeof env[method] !== 'function')
    throw new ToolUnavailableError(`${what} is not available here (the environment has no ${method}()).`);
}

// env: a ToolEnvironment. Returns {run(name, args, {imageKey, step, signal}) -> Promise<output>}.
export function createAgentTools(env) {
  const sizeOf = async (imageKey) => {
    const img = typeof env.imageSize === 'function' ? await env.imageSize(imageKey) : await env.image?.(imageKey);
    if (!img) throw new Error(`The image "${imageKey}" is not in the case.`);
    return { width: img.width, height: img.height };
  };

  const tools = {
    async classify(args, { imageKey, signal }) {
      need(env, 'classify', 'Classification');
      const labels = await env.classify(imageKey, args.label_set, { signal });
      if (!Array.isArray(labels) || !labels.length) throw new Error(`The label set "${args.label_set}" gave no labels.`);
      const out = labels.map((l) => ({ label: boundText(l.label, MAX_LABEL), probability: probability(l.probability) }))
        .filter((l) => l.label.length > 0)
        .sort((a, b) => b.probability - a.probability)
        .slice(0, 64);
      return { labels: out };
    },

    async ground(args, { imageKey, signal }) {
      need(env, 'ground', 'Grounding');
      const size = await sizeOf(imageKey);
      const max = Math.min(args.max_boxes ?? 4, MAX_BOXES);
      const found = await env.ground(imageKey, args.text, max, { signal });
      const boxes = (found ?? []).slice(0, max).map((b) => {
        const o = { box: boxArray(b, size), label: boundText(b.label ?? args.text, MAX_LABEL) };
        if (Number.isFinite(b.score)) o.score = probability(b.score);
        return o;
      });
      return { boxes };
    },

    async describe_region(args, { imageKey, signal }) {
      need(env, 'ask', 'Describing a region');
      const size = await sizeOf(imageKey);
      const text = await env.ask(imageKey, args.question || 'What is in this region?',
        { region: boxObject(boxArray(args.box, size)), signal });
      return { text: boundText(text, MAX_TEXT) };
    },

    async segment(args, { imageKey, signal }) {
      need(env, 'segment', 'Segmentation');
      const boxes = args.boxes ?? [];
      if (!(args.points ?? []).length && !boxes.length) throw new Error('Segmenting needs points or boxes: give at least one.');
      const size = await sizeOf(imageKey);
      // Points onto the image (a model may write any coordinate the schema allows).
      const points = (args.points ?? []).map((p) => ({ x: clampNumber(p.x, 0, size.width), y: clampNumber(p.y, 0, size.height),
        positive: !!p.positive }));
      const prompts = boxes.length ? boxes.map((b) => ({ points, box: boxObject(boxArray(b, size)) })) : [{ points, box: null }];
      const masks = [];
      for (const p of prompts.slice(0, MAX_MASKS)) {
        if (signal?.aborted) throw new Error('stopped');
        const m = await env.segment(imageKey, p, { signal });
        if (!m?.rle?.counts || !Array.isArray(m.rle.size)) throw new Error('The segmentation gave no mask.');
        const o = { box: boxArray(m.box ?? (p.box ? [p.box.x1, p.box.y1, p.box.x2, p.box.y2] : [0, 0, size.width, size.height]), size),
          rle: { size: m.rle.size.map((v) => Math.max(0, Math.round(v))), counts: String(m.rle.counts) } };
        if (Number.isFinite(m.score)) o.score = probability(m.score);
        masks.push(o);
      }
      return { masks };
    },

    async count_lesions(_args, { imageKey, signal }) {
      need(env, 'countLesions', 'Counting the accepted annotations');
      const c = await env.countLesions(imageKey, { signal });
      const out = { count: Math.max(0, Math.round(c?.count ?? 0)) };
      if (Number.isFinite(c?.mask_parts)) out.mask_parts = Math.max(0, Math.round(c.mask_parts));
      return out;
    },

    async describe_image(args, { imageKey, signal }) {
      need(env, 'ask', 'Describing the image');
      const text = await env.ask(imageKey, args.question || 'Describe this image.', { region: null, signal });
      return { text: boundText(text, MAX_TEXT) };
    },

    async fill_report_fields(args, { imageKey, signal }) {
      need(env, 'draftReport', 'Drafting the report');
      const r = await env.draftReport(imageKey, args.findings ?? [], { signal });
      return {
        applied: (r?.applied ?? []).map((a) => {
          const o = { path: boundText(a.path, 200) || '?', value: boundText(a.value ?? '', 2000) };
          if (Number.isFinite(a.probability)) o.probability = probability(a.probability);
          return o;
        }),
        rejected: (r?.rejected ?? []).map((a) => ({ path: boundText(a.path, 200) || '?', reason: boundText(a.reason, 500) || 'refused' })),
      };
    },

    async compare_images(args, { signal }) {
      need(env, 'compare', 'Comparing images');
      const text = await env.compare(args.image_a, args.image_b, args.question ?? '', { signal });
      return { text: boundText(text, MAX_TEXT) };
    },
  };

  return {
    names: TOOL_NAMES,
    async run(name, args, ctx = {}) {
      const tool = tools[name];
      if (!tool) throw new Error(`There is no tool "${name}" to run.`);
      return tool(args ?? {}, ctx);
    },
  };
}
