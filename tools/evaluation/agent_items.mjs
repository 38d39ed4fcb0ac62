// agent_items.mjs: EndoAgentBench-style multiple-choice items built from a
// dataset on disk, the same for the same dataset and seed (file order, run
// order and machine do not matter). Three tasks, four options each (A-D),
// the key's letter placed by the seeded generator:
//   classification  "Which finding does this image show?": the image's class
//                   and three other labels of the label set
//   counting        "How many separate <label>s ...?": 0, 1, 2, 3 or more;
//                   the truth is the number of separate parts of the
//                   ground-truth mask (8-connected, at least minPartArea
//                   pixels: the core's mask parts, as the agent's evaluator
//                   counts them)
//   grounding       "Which box contains the <label>?": the box of one part of
//                   the mask and three boxes of about its size elsewhere, each
//                   overlapping no part's box by IoU > 0.3 nor each other
// Images are split first (seeded): the first `warmup` images only give
// warm-up items (where the memory's reflections come from), the others only
// test items, so no test image is ever seen while the memory is built.
// The item file (JSON lines) is described in tools/README-evaluation.md.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { rng, hash32, shuffle } from './split.mjs';
import { imageName } from './datasets.mjs';

export const ITEM_FORMAT = 'endoscribe-agent-items';
export const ITEM_VERSION = 1;
export const AGENT_TASKS = ['classification', 'counting', 'grounding'];
export const LETTERS = ['A', 'B', 'C', 'D'];
export const COUNT_OPTIONS = ['0', '1', '2', '3 or more'];
export const MAX_DISTRACTOR_IOU = 0.3;

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function boxIou(a, b) {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih, area = (r) => (r.x2 - r.x1) * (r.y2 - r.y1);
  return inter / (area(a) + area(b) - inter);
}

const boxText = (b) => `[${b.x1}, ${b.y1}, ${b.x2}, ${b.y2}]`;

// The count's option: 0, 1, 2, or "3 or more".
export const countOption = (n) => COUNT_OPTIONS[Math.min(n, 3)];

// Places the true option among `distractors` with the item's generator. -> {options {A: text}, answer}
function placeOptions(truth, distractors, random) {
  const texts = shuffle([truth, ...distractors], random);
  const options = Object.fromEntries(texts.map((t, i) => [LETTERS[i], t]));
  return { options, answer: LETTERS[texts.indexOf(truth)] };
}

// The ground-truth mask's parts: boxes (x1 y1 x2 y2, pixel edges) and areas, largest first.
// seg: the core's CoreApi (web/segmentation/core_api.js).
export function maskParts(seg, maskBytes, minPartArea) {
  const img = seg.decodeImage(maskBytes);
  let m = 0;
  const handles = [];
  try {
    m = seg.maskFromImage(img, 0, 127);
    const count = seg.countRegions(m, minPartArea);
    handles.push(...seg.splitRegions(m, minPartArea, 64));
    const parts = handles.map((h) => {
      const b = seg.maskBox(h);
      return { x1: b.x, y1: b.y, x2: b.x + b.w, y2: b.y + b.h, area: seg.maskCount(h) };
    });
    return { count, parts, width: img.width, height: img.height };
  } finally {
    for (const h of handles) seg.freeMask(h);
    seg.freeMask(m);
    seg.freeImage(img);
  }
}

// Three boxes of about the truth's size (scaled 0.8-1.25, shrunk when the image
// leaves no room) inside the image, each with IoU <= 0.3 against every part's
// box and against each other. null when no placement is found.
export function distractorBoxes(truth, parts, width, height, random, { tries = 400 } = {}) {
  const tw = truth.x2 - truth.x1, th = truth.y2 - truth.y1;
  const out = [];
  for (const shrink of [1, 0.75, 0.55, 0.4]) {
    for (let t = 0; t < tries && out.length < 3; t++) {
      const s = shrink * (0.8 + random() * 0.45);
      const w = Math.max(4, Math.min(width - 1, Math.round(tw * s))), h = Math.max(4, Math.min(height - 1, Math.round(th * s)));
      const x1 = Math.floor(random() * (width - w + 1)), y1 = Math.floor(random() * (height - h + 1));
      const b = { x1, y1, x2: x1 + w, y2: y1 + h };
      if ([...parts, truth].some((p) => boxIou(b, p) > MAX_DISTRACTOR_IOU)) continue;
      if (out.some((o) => boxIou(b, o) > MAX_DISTRACTOR_IOU)) continue;
      out.push(b);
    }
    if (out.length === 3) return out;
    out.length = 0;
  }
  return null;
}

const read = (p) => fs.readFileSync(p);

// data: readDataset()'s result. space: labelSpace() (classification; null: no
// classification items). seg: CoreApi. -> {items, skipped: [{task, image, reason}], settings}
export function buildAgentItems(data, { space = null, seg, seed = 0, perTask = 30, warmup = 6, tasks = AGENT_TASKS,
  minPartArea = 16, label = null, datasetName = path.basename(data.root) } = {}) {
  const images = shuffle([...data.items].sort(byId), rng(hash32(`${seed}\u0000agent-images`)));
  const pools = { warmup: images.slice(0, warmup), test: images.slice(warmup) };
  const items = [], skipped = [];
  const partsCache = new Map();
  const partsOf = (it) => {
    if (!partsCache.has(it.id)) {
      try { partsCache.set(it.id, maskParts(seg, read(it.mask), minPartArea)); } catch (e) { partsCache.set(it.id, { error: e.message }); }
    }
    return partsCache.get(it.id);
  };
  const warmupPerTask = Math.min(perTask, warmup);
  for (const task of tasks) {
    if (!AGENT_TASKS.includes(task)) throw new Error(`unknown agent task '${task}' (${AGENT_TASKS.join(', ')})`);
    if (task === 'classification' && !space) throw new Error('classification items need a label set (--labels LABELSET.json, or a dataset with several classes)');
    if (task === 'classification' && space.labels.length < 4) throw new Error(`classification items need at least 4 labels for 4 options; the label set has ${space.labels.length}`);
    if (task !== 'classification' && !data.items.some((it) => it.mask)) throw new Error(`${task} items need ground-truth masks (a Kvasir-SEG style folder with labels.csv); ${datasetName} has none`);
    for (const [split, pool] of Object.entries(pools)) {
      const want = split === 'warmup' ? warmupPerTask : perTask;
      // Each task walks the pool in its own order, so the tasks do not all use the same first images.
      for (const it of shuffle(pool, rng(hash32(`${seed}\u0000${task}\u0000order`)))) {
        if (items.filter((x) => x.task === task && x.split === split).length >= want) break;
        const random = rng(hash32(`${seed}\u0000${task}\u0000${it.id}`));
        const image = imageName(it, data.root);
        const base = { id: `${task}:${image}`, task, split, dataset: datasetName, image };
        const what = it.label ?? label ?? 'lesion';
        if (task === 'classification') {
          const truthId = space.classOf(it.label);
          if (!truthId) { skipped.push({ task, image, reason: `class '${it.label}' is not in the label set` }); continue; }
          const truth = space.labels.find((l) => l.id === truthId);
          const others = shuffle(space.labels.filter((l) => l.id !== truthId), random).slice(0, 3);
          const { options, answer } = placeOptions(truth.name, others.map((l) => l.name), random);
          items.push({ ...base, question: 'Which finding does this endoscopy image show?', options, answer, truth: truth.id });
          continue;
        }
        const mp = partsOf(it);
        if (mp.error) { skipped.push({ task, image, reason: `the mask cannot be read (${mp.error})` }); continue; }
        const noun = what.replace(/s$/, '');
        if (task === 'counting') {
          const others = COUNT_OPTIONS.filter((o) => o !== countOption(mp.count));
          const { options, answer } = placeOptions(countOption(mp.count), others, random);
          items.push({ ...base, question: `How many separate ${noun}s are visible in this endoscopy image?`, options, answer, truth: mp.count,
            detail: { min_part_area: minPartArea, parts: mp.parts.length } });
          continue;
        }
        // grounding: one part (seeded), its box against three boxes elsewhere.
        if (!mp.parts.length) { skipped.push({ task, image, reason: 'the mask is empty: nothing to ground' }); continue; }
        const target = mp.parts[Math.floor(random() * mp.parts.length)];
        const truthBox = { x1: target.x1, y1: target.y1, x2: target.x2, y2: target.y2 };
        const distractors = distractorBoxes(truthBox, mp.parts, mp.width, mp.height, random);
        if (!distractors) { skipped.push({ task, image, reason: `no room for three boxes of its size away from the ${noun} (IoU <= ${MAX_DISTRACTOR_IOU})` }); continue; }
        const { options, answer } = placeOptions(boxText(truthBox), distractors.map(boxText), random);
        items.push({ ...base, question: `Which box (x1, y1, x2, y2 in pixels of this ${mp.width}x${mp.height} image) contains ${mp.parts.length > 1 ? `one of the ${noun}s` : `the ${noun}`}?`,
          options, answer, truth: [truthBox.x1, truthBox.y1, truthBox.x2, truthBox.y2],
          detail: { width: mp.width, height: mp.height, parts: mp.parts.length } });
      }
      const got = items.filter((x) => x.task === task && x.split === split).length;
      if (got < want) skipped.push({ task, image: null, reason: `only ${got} ${split} item(s) of ${want} could be built from ${pool.length} image(s)` });
    }
  }
  return { items, skipped, settings: { seed, per_task: perTask, warmup_images: warmup, warmup_per_task: warmupPerTask, tasks, min_part_area: minPartArea, dataset: datasetName } };
}

// The multiple-choice text the agent is asked (VLMEvalKit's layout, plus the letter instruction).
export function itemQuestion(item) {
  let q = `${item.question}\nOptions:\n`;
  for (const [l, t] of Object.entries(item.options)) q += `${l}. ${t}\n`;
  return `${q}Answer with the letter of the correct option.`;
}

// ---- the item file: a header line, then one item a line -------------------

export function itemsText(built) {
  const header = { format: ITEM_FORMAT, version: ITEM_VERSION, ...built.settings, items: built.items.length, skipped: built.skipped };
  return [header, ...built.items].map((x) => JSON.stringify(x)).join('\n') + '\n';
}

// Writes the item file; -> its sha256.
export function writeItems(file, built) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const text = typeof built === 'string' ? built : itemsText(built);
  fs.writeFileSync(file, text);
  return sha256(text);
}

export const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex');

// -> {header, items, sha256}; a line that is not a usable item stops with its line number.
export function readItems(file, text = null) {
  if (text === null) {
    try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new Error(`cannot read the item file ${file} (${e.code ?? e.message})`); }
  }
  const lines = text.split('\n').filter((l) => l.trim());
  const parse = (l, i) => { try { return JSON.parse(l); } catch { throw new Error(`${file} line ${i + 1} is not JSON: the item file is damaged; build it again (drop --items)`); } };
  const header = parse(lines[0] ?? '{}', 0);
  if (header.format !== ITEM_FORMAT) throw new Error(`${file} is not an agent item file (its first line should have "format": "${ITEM_FORMAT}")`);
  const items = lines.slice(1).map((l, i) => {
    const it = parse(l, i + 1);
    const where = `${file} line ${i + 2}`;
    if (!AGENT_TASKS.includes(it.task)) throw new Error(`${where}: task '${it.task}' is not one of ${AGENT_TASKS.join(', ')}`);
    if (!['test', 'warmup'].includes(it.split)) throw new Error(`${where}: split must be test or warmup`);
    if (!it.options || !(it.answer in it.options)) throw new Error(`${where}: the answer '${it.answer}' is not one of its options`);
    if (typeof it.image !== 'string' || typeof it.id !== 'string') throw new Error(`${where}: needs id and image`);
    return it;
  });
  const ids = new Set();
  for (const it of items) { if (ids.has(it.id)) throw new Error(`${file}: item id '${it.id}' occurs twice`); ids.add(it.id); }
  return { header, items, sha256: sha256(text) };
}
