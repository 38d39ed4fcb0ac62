// tasks.mjs: what is asked of the model for each task, and what is recorded.
// A task turns dataset items into queries (one key each: what resume skips),
// asks the backend, and reads the answer into a prediction record. Scoring is
// separate (scoring.mjs): a predictions file can be re-scored without a model.
//
//   classification  label scoring (the probability of every label, as the
//                   Classify tab computes it) and/or generation (a free answer
//                   read as a label; unreadable answers are kept as unmapped)
//   rec             text -> box: "find the <label>", the answer's first box
//                   (read by the app's box parser in the package's box convention)
//   reg             box -> label: the app's region question, answer read as a label
//   count           "how many <label>s", the first number in the answer
//   caption         free text against reference texts (captions, reports)
//   mcq             VLMEvalKit-style multiple choice, optionally every rotation
//                   of the options (CircularEval)
import { labelKey } from './datasets.mjs';
import { countFromAnswer } from './answers.mjs';
import { hash32 } from './split.mjs';
import { encodePng } from './png.mjs';
import { boxesInAnswer, regionQuestion } from '../../web/assistant/grounding.js';

export const TASKS = ['classification', 'rec', 'reg', 'count', 'caption', 'mcq'];

export const DEFAULT_PROMPTS = {
  // The Classify tab's question (web/assistant/runtime.js classify()).
  classification: 'Which one of these best describes the image: {labels}? Answer with the name only.',
  rec: 'Find the {label} in this image. Answer with its bounding box.',
  reg: 'What is in this region?',
  count: 'How many {label} are visible in this image? Answer with a number.',
  caption: 'Describe this endoscopy image.',
};

// The label set a classification / REG run scores: a models/labels/*.json set
// (its leaves) or, without one, the classes found in the data. Dataset
// classes are matched to the set's labels by id or name (case, spaces, '-'
// and '_' aside). -> {labels: [{id, name, answer}], classOf(datasetLabel) -> id | null}
export function labelSpace(core, labelSetText, datasetLabels) {
  let labels;
  if (labelSetText) {
    labels = core.labelSetForClassification(labelSetText).labels.map((l) => ({ id: l.id, name: l.name, answer: l.answer ?? l.name }));
  } else {
    labels = [...new Set(datasetLabels)].sort().map((c) => ({ id: c, name: c, answer: c.replace(/[-_]+/g, ' ') }));
  }
  const byKey = new Map();
  for (const l of labels) { byKey.set(labelKey(l.id), l.id); byKey.set(labelKey(l.name), l.id); }
  return { labels, classOf: (c) => byKey.get(labelKey(c)) ?? null };
}

const fill = (template, vars) => template.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));

// VLMEvalKit's multiple-choice prompt (image_mcq build_prompt).
export function mcqPrompt(item, options) {
  let p = item.hint ? `Hint: ${item.hint}\n` : '';
  p += `Question: ${item.question}\nOptions:\n`;
  for (const [l, t] of Object.entries(options)) p += `${l}. ${t}\n`;
  return `${p}Please select the correct answer from the options above.`;
}

// Rotation k of an item's options: letter i shows the original option (i + k) mod n.
export function rotateOptions(item, k) {
  const letters = Object.keys(item.options);
  const n = letters.length;
  const options = {}, original = {};
  letters.forEach((l, i) => { const from = letters[(i + k) % n]; options[l] = item.options[from]; original[l] = from; });
  const truth = letters.find((l) => original[l] === item.answer);
  return { options, original, truth };
}

// The queries of a task over the evaluated items. settings: the run's settings (cli).
export function makeQueries(task, items, settings, space) {
  const q = [];
  for (const it of items) {
    if (task === 'classification') {
      const truth = space.classOf(it.label);
      const skip = truth ? {} : { skip: `class '${it.label}' is not in the label set (left out)` };
      for (const method of settings.classifyBy) q.push({ key: `${it.id}|${method}`, item: it, method, truth, datasetLabel: it.label, ...skip });
    } else if (task === 'rec') {
      // One question per label present in the image; any of its boxes counts as the answer.
      const byLabel = new Map();
      for (const b of it.boxes ?? []) { if (!byLabel.has(b.label)) byLabel.set(b.label, []); byLabel.get(b.label).push(b); }
      // REC asks for one referent: a label with several boxes in one image has no single answer.
      for (const [label, boxes] of byLabel) {
        q.push({ key: `${it.id}|${label}`, item: it, label, boxes,
          ...(boxes.length > 1 ? { skip: `${boxes.length} '${label}' boxes in this image: REC needs exactly one referent (left out)` } : {}) });
      }
    } else if (task === 'reg') {
      (it.boxes ?? []).forEach((b, k) => {
        const truth = space.classOf(b.label);
        q.push({ key: `${it.id}#${k}`, item: it, box: b, truth, datasetLabel: b.label, ...(truth ? {} : { skip: `class '${b.label}' is not in the label set (left out)` }) });
      });
    } else if (task === 'count') {
      if (Number.isInteger(it.count)) q.push({ key: it.id, item: it, truth: it.count });
    } else if (task === 'caption') {
      q.push({ key: it.id, item: it, references: it.references });
    } else if (task === 'mcq') {
      const n = Object.keys(it.options).length;
      for (let k = 0; k < (settings.circular ? n : 1); k++) q.push({ key: `${it.id}@${k}`, item: it, rotation: k });
    }
  }
  return q;
}

const round = (x, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);
function timingFields(r) {
  const t = { total_ms: round(r.timings?.totalMs) };
  if (r.timings?.firstTokenMs !== undefined) t.first_token_ms = round(r.timings.firstTokenMs);
  if (r.timings?.serverMs != null) t.server_ms = round(r.timings.serverMs);
  if (r.tokens != null) { t.tokens = r.tokens; t.tokens_per_s = r.timings?.totalMs > 0 ? round((1000 * r.tokens) / r.timings.totalMs, 3) : null; }
  return t;
}

// Asks the backend one query; returns the prediction record (without the common fields).
export async function runQuery(task, query, image, ctx) {
  const { backend, settings, space, core } = ctx;
  // Each question its own sampling seed (31 bits: every endpoint takes it), so order and resume do not matter.
  const gen = { maxTokens: settings.maxTokens, temperature: settings.temperature, seed: hash32(`${settings.seed}|${query.key}`) & 0x7fffffff,
    systemPrompt: settings.systemPrompt };
  const prompt = (t) => fill(settings.prompt ?? DEFAULT_PROMPTS[t], { labels: space?.labels.map((l) => l.answer).join(', ') ?? '', label: query.label ?? '' });
  if (task === 'classification') {
    const p = prompt('classification');
    const base = { method: query.method, prompt: p, truth: query.truth, dataset_label: query.datasetLabel };
    if (query.method === 'scoring') {
      const r = await backend.classify(image, space.labels, p, gen);
      const probs = r.probabilities.map((x) => round(x, 8));
      let best = 0;
      probs.forEach((x, i) => { if (x > probs[best]) best = i; });
      return { ...base, raw: null, probabilities: probs, ...(r.logLikelihoods ? { log_likelihoods: r.logLikelihoods.map((x) => round(x, 5)) } : {}),
        predicted: space.labels[best].id, timings: timingFields(r), ...(r.detail ? { detail: r.detail } : {}) };
    }
    // Read as a label when scored (the metrics core's answer_mapping, as the app would): the record keeps the words.
    const r = await backend.generate(image, p, gen);
    return { ...base, raw: r.text, finish: r.finish, timings: timingFields(r) };
  }
  if (task === 'rec') {
    const p = prompt('rec');
    const r = await backend.generate(image, p, gen);
    // The app's reading of boxes in answers (web/assistant/grounding.js over the core's box parser).
    const boxes = boxesInAnswer(core, r.text, { width: image.width, height: image.height }, ctx.grounding);
    const b = boxes[0];
    const t = query.boxes[0];
    return { prompt: p, raw: r.text, label: query.label, truth_box: [t.x1, t.y1, t.x2, t.y2],
      predicted_box: b ? [round(b.x1), round(b.y1), round(b.x2), round(b.y2)] : null, ...(b ? {} : { unmapped: 'no box in the answer' }),
      width: image.width, height: image.height, timings: timingFields(r) };
  }
  if (task === 'reg') {
    const b = query.box;
    const withPixels = image.rgba ? image : { ...image, rgba: image.decodeRgba() };
    const q = regionQuestion(core, b, withPixels, ctx.grounding, settings.prompt ?? DEFAULT_PROMPTS.reg);
    // A crop (packages whose region_input is crop or both: a new key) goes as its pixels, or as a PNG to a remote backend.
    const cropped = q.image.key !== image.key;
    const sent = !cropped ? image : { ...q.image, ...(backend.kind === 'local' ? {} : { bytes: encodePng(q.image), mime: 'image/png' }) };
    const r = await backend.generate(sent, q.question, gen);
    return { prompt: q.question, raw: r.text, box: [b.x1, b.y1, b.x2, b.y2], truth: query.truth, dataset_label: query.datasetLabel,
      ...(cropped ? { cropped: true } : {}), timings: timingFields(r) };
  }
  if (task === 'count') {
    const label = settings.countLabel ?? query.item.label ?? 'lesions';
    const p = fill(settings.prompt ?? DEFAULT_PROMPTS.count, { label: /s$/.test(label) ? label : `${label}s` });
    const r = await backend.generate(image, p, gen);
    const n = countFromAnswer(r.text);
    return { prompt: p, raw: r.text, truth: query.truth, predicted: n, ...(n === null ? { unmapped: 'no number in the answer' } : {}), timings: timingFields(r) };
  }
  if (task === 'caption') {
    const p = query.item.question ?? settings.prompt ?? DEFAULT_PROMPTS.caption;
    const r = await backend.generate(image, p, gen);
    return { prompt: p, raw: r.text, references: query.references, timings: timingFields(r) };
  }
  if (task === 'mcq') {
    const { options, original, truth } = rotateOptions(query.item, query.rotation);
    const p = mcqPrompt(query.item, options);
    const r = await backend.generate(image, p, gen);
    // The letter is read from the answer when scored (the metrics core, close to VLMEvalKit's reading).
    return { prompt: p, raw: r.text, group: query.item.id, rotation: query.rotation, category: query.item.category || undefined,
      options, original, truth, timings: timingFields(r) };
  }
  throw new Error(`unknown task ${task}`);
}
