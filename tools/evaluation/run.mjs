// run.mjs: one evaluation run: read the dataset, choose the items, ask the
// backend query by query (skipping what the predictions file already holds),
// write each answer as it arrives. Images are decoded by the core first: one
// that does not decode is recorded as skipped with the reason, and the run
// goes on.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { readDataset, imageBytes, imageName } from './datasets.mjs';
import { stratifiedSplit, splitFromFile } from './split.mjs';
import { makeQueries, runQuery, labelSpace, TASKS } from './tasks.mjs';
import { PredictionStore } from './predictions.mjs';
import { Progress } from './progress.mjs';
import { localBackend, serverBackend, openaiBackend } from './backends.mjs';

export const TOOL_VERSION = 1;

const mimeOf = (b) => (b[0] === 0x89 && b[1] === 0x50 ? 'image/png' : b[0] === 0xff && b[1] === 0xd8 ? 'image/jpeg'
  : b[0] === 0x42 && b[1] === 0x4d ? 'image/bmp' : 'application/octet-stream');

// The items evaluated and the training counts per class (for the frequency split).
export function chooseItems(data, s) {
  let parts;
  if (s.splitFile) parts = splitFromFile(data.items, s.splitFile, { part: s.splitPart });
  else if (s.testFraction) parts = stratifiedSplit(data.items, { seed: s.seed, testFraction: s.testFraction });
  else parts = { test: data.items, train: [], trainCounts: null, testCounts: null };
  return parts;
}

function readTrainCounts(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    const j = JSON.parse(text);
    // A label set (models/labels/*.json): its labels' counts.
    if (Array.isArray(j.labels)) return Object.fromEntries(j.labels.filter((l) => Number.isFinite(l.count)).map((l) => [l.id, l.count]));
    return j;
  }
  const out = {};
  for (const line of text.split(/\r?\n/).slice(1)) {
    const [k, v] = line.split(',');
    if (k && Number.isFinite(Number(v))) out[k.trim()] = Number(v);
  }
  return out;
}

// Everything that decides the results: a resumed run must have the same.
export function runConfig(s, backendIdentity, data, parts, space) {
  return {
    tool_version: TOOL_VERSION, task: s.task, dataset: path.resolve(s.dataset), format: data.format,
    split: s.splitFile ? { file: path.resolve(s.splitFile), part: s.splitPart } : s.testFraction ? { seed: s.seed, test_fraction: s.testFraction } : 'all',
    items: parts.test.length, backend: backendIdentity,
    labels: space ? space.labels.map((l) => l.id) : undefined,
    label_set: s.labels ? path.resolve(s.labels) : undefined,
    classify_by: s.task === 'classification' ? s.classifyBy : undefined,
    circular: s.task === 'mcq' ? !!s.circular : undefined,
    prompt: s.prompt ?? null, system_prompt: s.systemPrompt ?? null,
    generation: { max_tokens: s.maxTokens, temperature: s.temperature, seed: s.seed },
    grounding: s.task === 'rec' || s.task === 'reg' ? s.grounding : undefined,
  };
}

export async function openBackend(s, core) {
  if (s.backend === 'local') {
    if (!s.model) throw new Error('--model PACKAGE_FOLDER is needed for the local backend');
    return localBackend({ core, packageDir: s.model, variant: s.variant, threads: s.threads });
  }
  if (!s.url) throw new Error(`--url is needed for the ${s.backend} backend`);
  if (s.backend === 'server') return serverBackend({ url: s.url, apiKey: s.apiKey ?? process.env.ES_SERVER_TOKEN, model: s.model, retries: s.retries });
  if (s.backend === 'openai') return openaiBackend({ url: s.url, apiKey: s.apiKey ?? process.env.OPENAI_API_KEY, model: s.model, prefill: s.logprobsPrefill, retries: s.retries });
  throw new Error(`unknown backend '${s.backend}' (local, server or openai)`);
}

// An error about this one input (the endpoint refused the image or question): skip it; anything else stops the run.
const inputError = (e) => [400, 413, 422].includes(e?.status) || /image: |cannot decode/i.test(e?.message ?? '');

// s: settings from the command line. core: {assistant: Core, seg: CoreApi}. -> {store, data, parts, space, backend, outDir}
// progressStream: where the progress line goes (standard error; tests pass a sink).
export async function runEvaluation(s, core, { log = (m) => process.stderr.write(`${m}\n`), backend = null, progressStream = process.stderr } = {}) {
  if (!TASKS.includes(s.task)) throw new Error(`unknown task '${s.task}' (have ${TASKS.join(', ')}, segmentation)`);
  const data = readDataset(s.dataset, { format: s.format, images: s.images, imageColumn: s.imageColumn, labelColumn: s.labelColumn, referenceColumn: s.referenceColumn });
  if (data.problems.length) {
    log(`${data.problems.length} row(s) of the dataset cannot be used and are left out (listed in the report):`);
    for (const p of data.problems.slice(0, 5)) log(`  ${p.where}: ${p.what}`);
    if (data.problems.length > 5) log(`  ... and ${data.problems.length - 5} more`);
  }
  if (!data.items.length) {
    const p = data.problems[0];
    throw new Error(`${s.dataset}: none of its ${data.problems.length} row(s) can be used${p ? ` (the first: ${p.where}: ${p.what})` : ''}` +
      (data.problems.some((x) => /not found under/.test(x.what)) ? '; if the images are elsewhere, give their folder with --images' : ''));
  }
  const parts = chooseItems(data, s);
  if (s.trainCounts) parts.trainCounts = readTrainCounts(s.trainCounts);
  const needsLabels = s.task === 'classification' || s.task === 'reg';
  const datasetLabels = s.task === 'reg' ? data.items.flatMap((it) => (it.boxes ?? []).map((b) => b.label)) : data.items.map((it) => it.label).filter(Boolean);
  if (s.task === 'classification' && !datasetLabels.length) throw new Error(`${s.dataset}: no class labels in this dataset, so it cannot be used for classification`);
  const labelText = s.labels ? fs.readFileSync(s.labels, 'utf8') : null;
  const space = needsLabels ? labelSpace(core.assistant, labelText, datasetLabels) : null;
  let items = parts.test;
  if (s.limit > 0) items = items.slice(0, s.limit);
  const queries = makeQueries(s.task, items, s, space);
  if (!queries.length) throw new Error(`${s.dataset}: nothing to evaluate for ${s.task} (${items.length} items; does the dataset have what the task needs?)`);

  backend ??= await openBackend(s, core.assistant);
  for (const n of backend.notices ?? []) log(`note: ${n}`);
  // Box convention: the package's (local) or the flags' (remote; auto by default).
  s.grounding = backend.grounding && !s.boxFormat ? backend.grounding
    : { format: s.boxFormat ?? 'auto', order: s.boxOrder ?? 'xyxy', regionInput: s.regionInput ?? 'coordinates' };
  const config = runConfig(s, backend.identity, data, { test: parts.test }, space);
  // Training counts by label id (the metrics core matches them to the label set).
  if (space && parts.trainCounts) {
    const byId = {};
    for (const [cls, n] of Object.entries(parts.trainCounts)) { const id = space.classOf(cls) ?? cls; byId[id] = (byId[id] ?? 0) + n; }
    parts.trainCounts = byId;
  }
  const outDir = s.out;
  const store = PredictionStore.open(outDir, config, { restart: s.restart });
  // What the report needs beside the predictions, rewritten each run.
  fs.writeFileSync(path.join(outDir, 'dataset.json'), JSON.stringify({
    problems: data.problems, format: data.format, root: data.root, total_items: data.items.length, evaluated_items: items.length,
    train_counts: parts.trainCounts ?? null, test_counts: parts.testCounts ?? null, unmatched_split_names: parts.unmatched ?? [],
    labels: space?.labels ?? null, test_model: !!backend.testModel, backend: backend.identity,
  }, null, 1));

  const todo = queries.filter((q) => !store.has(q.key));
  const progress = new Progress(queries.length, { already: queries.length - todo.length, label: `${s.task} `, stream: progressStream });
  if (store.resumed) log(`resuming ${outDir}: ${store.resumed} answer(s) already there, ${todo.length} to go`);
  const ctx = { backend, settings: s, space, core: core.assistant, grounding: s.grounding };
  // The questions of one image go together (REC / REG ask several): the image is read and decoded once.
  const groups = [];
  for (const q of todo) {
    if (groups.at(-1)?.[0].item.id === q.item.id) groups.at(-1).push(q);
    else groups.push([q]);
  }
  let failure = null, refusals = 0, answered = 0;
  const runGroup = async (group) => {
    const item = group[0].item, name = imageName(item, data.root);
    let image = null, handle = 0, error = null;
    if (group.some((q) => !q.skip)) {
      const got = imageBytes(item);
      if (got.error) error = got.error;
      else {
        try {
          const d = core.seg.decodeImage(got.bytes);
          handle = d.handle;
          image = { key: name, bytes: got.bytes, width: d.width, height: d.height, mime: mimeOf(got.bytes),
            sha256: crypto.createHash('sha256').update(got.bytes).digest('hex'),
            decodeRgba: () => core.seg.u8(core.seg.m._es_image_rgba(d.handle), d.width * d.height * 4).slice() };
        } catch (e) { error = `the image does not decode (${e.message.replace(/^cannot decode image: /, '')})`; }
      }
      if (error) progress.message(`skipped ${name}: ${error}`);
    }
    try {
      for (const q of group) {
        if (failure) return;
        const common = { key: q.key, task: s.task, id: item.id, image: name };
        const reason = q.skip ?? error;
        if (reason) {
          store.append({ ...common, status: 'skipped', reason });
          progress.tick({ skipped: true });
          continue;
        }
        let rec;
        try {
          rec = await runQuery(s.task, q, image, ctx);
        } catch (e) {
          if (!inputError(e)) { failure ??= e; return; }
          // The same refusal for every question from the start is about the request, not one input: stop.
          if (++refusals >= 3 && !answered) {
            failure ??= new Error(`the endpoint refused the first ${refusals} questions (${e.message}): check --url, --model and the options`);
            return;
          }
          store.append({ ...common, status: 'skipped', reason: `the model could not answer: ${e.message}` });
          progress.message(`skipped ${q.key}: ${e.message}`);
          progress.tick({ skipped: true });
          continue;
        }
        store.append({ ...common, image_sha256: image.sha256, status: 'ok', ...rec });
        answered++;
        progress.tick();
      }
    } finally {
      if (handle) core.seg.freeImage(handle);
    }
  };
  // Remote endpoints answer several questions at once (--concurrency); our runtime runs one at a time.
  const workers = backend.kind === 'local' ? 1 : Math.max(1, s.concurrency ?? 1);
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(workers, groups.length) }, async () => {
      while (!failure && next < groups.length) await runGroup(groups[next++]);
    }));
    if (failure) {
      throw Object.assign(new Error(`${failure.message}\nThe ${store.records.length} answer(s) so far are kept in ${store.file}; ` +
        'run the same command again to go on from there.'), { cause: failure });
    }
  } finally {
    progress.end();
    store.close();
    await backend.close?.();
  }
  return { store, data, parts, space, backend, outDir, config };
}
