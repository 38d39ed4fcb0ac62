// scoring.mjs: predictions -> metrics. Every figure is computed by the C++
// core's metrics (src/metrics, through the WASM export
// es_metrics_score_predictions: the same JSON in and out as the native
// tools/score_predictions); this file only gathers the records into that
// input and names the results. Skipped records are counted, never scored;
// unmapped answers are scored as answers that named nothing.
import { scorePredictions } from '../../web/metrics/metrics_api.js';

// The metrics input for a run's records, and the keys of each task's items in
// order (to tie the core's readings of free answers back to the records).
// config: run.json's config; info: dataset.json.
export function metricsInput(records, config, info, { bootstrap = 1000, seed = 0, frequencyThreshold = 100 } = {}) {
  // In key order: the file's order depends on when answers arrived (--concurrency), the
  // bootstrap's resamples on the items' order, and the same answers must give the same intervals.
  const ok = records.filter((r) => r.status === 'ok').sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const boot = { resamples: bootstrap, seed };
  const tasks = [], keys = {};
  const add = (task, rs) => { tasks.push(task); keys[task.name] = rs.map((r) => r.key); };
  const speed = (name, rs) => {
    const timed = rs.filter((r) => Number.isFinite(r.timings?.total_ms));
    if (timed.length) add({ task: 'generation_speed', name: `${name}:speed`, seconds: timed.map((r) => r.timings.total_ms / 1000), tokens: timed.map((r) => r.timings.tokens ?? null) }, timed);
  };
  // Free answers are read as labels by the core (answer_mapping.h) by each label's id, name and answer text.
  const labelInfo = new Map((info?.labels ?? []).map((l) => [l.id, l]));
  const synonyms = (labels) => Object.fromEntries(labels.map((id) => [id, [...new Set([labelInfo.get(id)?.name, labelInfo.get(id)?.answer].filter((x) => x && x !== id))]]).filter(([, v]) => v.length));
  if (config.task === 'classification' || config.task === 'reg') {
    const labels = config.labels;
    const train = info?.train_counts ? Object.fromEntries(labels.map((l) => [l, info.train_counts[l] ?? 0])) : null;
    const methods = config.task === 'reg' ? ['reg'] : config.classify_by;
    for (const method of methods) {
      const rs = config.task === 'reg' ? ok : ok.filter((r) => r.method === method);
      if (!rs.length) continue;
      const t = { task: 'classification', name: method, labels, truth: rs.map((r) => r.truth), bootstrap: boot };
      if (method === 'scoring') t.probabilities = rs.map((r) => normalised(r.probabilities));
      else if (rs.every((r) => typeof r.raw === 'string')) { t.answers = rs.map((r) => r.raw); t.synonyms = synonyms(labels); }
      else t.predicted = rs.map((r) => r.predicted ?? null);  // records written elsewhere with labels already read
      if (config.task === 'classification') {
        t.frequency_threshold = frequencyThreshold;
        if (train && Object.values(train).some((n) => n > 0)) t.train_counts = train;
      }
      add(t, rs);
      speed(method, rs);
    }
  } else if (config.task === 'rec') {
    const xywh = (b) => (b ? [b[0], b[1], b[2] - b[0], b[3] - b[1]] : null);
    add({ task: 'grounding', name: 'rec', truth: ok.map((r) => xywh(r.truth_box)), predicted: ok.map((r) => xywh(r.predicted_box)), iou_threshold: 0.5, bootstrap: boot }, ok);
    speed('rec', ok);
  } else if (config.task === 'count') {
    add({ task: 'counting', name: 'count', truth: ok.map((r) => r.truth), predicted: ok.map((r) => r.predicted ?? null), bootstrap: boot }, ok);
    speed('count', ok);
  } else if (config.task === 'caption') {
    add({ task: 'text', name: 'caption', references: ok.map((r) => r.references), generated: ok.map((r) => r.raw ?? ''), bootstrap: boot }, ok);
    // Structured reports: references that are JSON objects are also compared field by field.
    const structured = ok.map((r) => ({ ref: jsonObject(r.references[0]), pred: jsonObject(r.raw) })).filter((x) => x.ref);
    if (structured.length === ok.length && ok.length) {
      add({ task: 'report_fields', name: 'report_fields', references: structured.map((x) => x.ref), predicted: structured.map((x) => x.pred), bootstrap: boot }, ok);
    }
    speed('caption', ok);
  } else if (config.task === 'mcq') {
    const item = (r) => (typeof r.raw === 'string' && r.options ? { question: r.group, truth: r.truth, answer: r.raw, options: r.options }
      : { question: r.group, truth: r.truth, predicted: r.predicted ?? null });
    add({ task: 'multiple_choice', name: 'mcq', items: ok.map(item), bootstrap: boot }, ok);
    // Per category (EndoAgentBench reports its sub-tasks apart).
    const cats = [...new Set(ok.map((r) => r.category).filter(Boolean))];
    if (cats.length > 1) for (const c of cats) {
      const rs = ok.filter((r) => r.category === c);
      add({ task: 'multiple_choice', name: `mcq:${c}`, items: rs.map(item), bootstrap: boot }, rs);
    }
    speed('mcq', ok);
  }
  return { tasks, keys };
}

// What each scored answer was read as (key -> label / letter / count / box, null
// when nothing could be read), from the records and the core's readings.
export function readings(records, input, results) {
  const out = new Map();
  for (const r of records) {
    if (r.status !== 'ok') continue;
    if (r.method === 'scoring' || r.task === 'count') out.set(r.key, r.predicted ?? null);
    else if (r.task === 'rec') out.set(r.key, r.predicted_box ?? null);
    else if (r.task !== 'caption' && r.predicted !== undefined) out.set(r.key, r.predicted);
  }
  for (const res of results) {
    const keys = input.keys[res.name] ?? [];
    const read = res.mapped_answers ?? res.chosen;
    if (read) keys.forEach((k, i) => out.set(k, read[i]));
  }
  return out;
}

// Rounded probabilities re-normalised (the records keep 8 decimals).
function normalised(p) {
  const s = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / s);
}

function jsonObject(text) {
  if (typeof text !== 'string') return null;
  const m = /\{[\s\S]*\}/.exec(text);
  if (!m) return null;
  try { const v = JSON.parse(m[0]); return v && typeof v === 'object' && !Array.isArray(v) ? v : null; } catch { return null; }
}

// Runs the core's scorer (web/metrics/metrics_api.js). core: loadCores() result.
export function scoreWithCore(core, input) {
  const parsed = scorePredictions(core.module, input);
  return parsed.results ?? [parsed];
}

// Counts beside the metrics: evaluated, skipped (with reasons), answers that could not be read.
export function recordCounts(records, read = new Map()) {
  const skipped = records.filter((r) => r.status === 'skipped');
  const reasons = {};
  for (const r of skipped) {
    const why = r.reason.replace(/\(.*\)$/, '').trim();
    reasons[why] = (reasons[why] ?? 0) + 1;
  }
  const ok = records.filter((r) => r.status === 'ok');
  return { records: records.length, scored: ok.length, skipped: skipped.length, skipped_reasons: reasons,
    skipped_items: skipped.map((r) => ({ key: r.key, image: r.image, reason: r.reason })),
    unmapped: [...read.values()].filter((v) => v === null).length };
}
