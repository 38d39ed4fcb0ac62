// results.mjs: a run's results folder from its predictions: metrics.json (the
// core's figures, the counts, the run's settings), metrics.csv (one figure a
// row, with its interval) and report.html. The same code re-scores a saved
// predictions file (--rescore) without any model.
import fs from 'node:fs';
import path from 'node:path';
import { readPredictions, RUN, PREDICTIONS } from './predictions.mjs';
import { metricsInput, scoreWithCore, recordCounts, readings } from './scoring.mjs';
import { renderReport } from './report_html.mjs';
import { toCsv } from './table_text.mjs';

export function metricsRows(scores) {
  const rows = [];
  const task = scores.run.task;
  const add = (part, group, cls, metric, m, items) => rows.push({ task, part, group, class: cls, metric,
    value: m?.value ?? m, ci_low: m?.low ?? '', ci_high: m?.high ?? '', items });
  for (const r of scores.results) {
    for (const [k, m] of Object.entries(r.metrics ?? {})) add(r.name, 'all', '', k, m, r.items);
    for (const g of r.groups ?? []) for (const [k, m] of Object.entries(g.metrics)) add(r.name, g.name, '', k, m, g.items);
    for (const c of r.per_class ?? []) for (const k of ['precision', 'recall', 'f1', 'support', 'auroc']) if (c[k] !== undefined) add(r.name, 'class', c.label, k, c[k], c.support);
  }
  for (const k of ['records', 'scored', 'skipped', 'unmapped']) add('run', 'all', '', k, scores.counts[k], scores.counts.records);
  return rows;
}

// Every record of the run as one JSON array (predictions.json), for readers
// that take a whole file; predictions.jsonl stays the file a run appends to and resumes from.
export function writePredictionsArray(outDir, records) {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'predictions.json'), `[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);
}

// Scores the records and writes the results folder. -> scores (metrics.json's content)
export async function scoreAndWrite(outDir, records, run, dataset, { core, bootstrap = 1000, seed = 0, frequencyThreshold = 100 } = {}) {
  const input = metricsInput(records, run.config, dataset, { bootstrap, seed, frequencyThreshold });
  if (!input.tasks.length || !records.some((r) => r.status === 'ok')) {
    const counts = recordCounts(records);
    throw new Error(`nothing to score: ${counts.records} record(s), ${counts.skipped} skipped${counts.skipped ? ` (${Object.keys(counts.skipped_reasons).join('; ')})` : ''}`);
  }
  // The metrics core's input as it was scored: tools/score_predictions (native) or any other scorer can read it.
  fs.mkdirSync(outDir, { recursive: true });
  const coreInput = { tasks: input.tasks };
  fs.writeFileSync(path.join(outDir, 'metrics_input.json'), JSON.stringify(coreInput));
  const results = scoreWithCore(core, coreInput);
  const read = readings(records, input, results);
  const counts = recordCounts(records, read);
  const scores = { created: new Date().toISOString(), run: run.config, config_sha256: run.config_sha256, counts, dataset, results };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'metrics.json'), JSON.stringify(scores, null, 1));
  fs.writeFileSync(path.join(outDir, 'metrics.csv'), toCsv(['task', 'part', 'group', 'class', 'metric', 'value', 'ci_low', 'ci_high', 'items'], metricsRows(scores)));
  fs.writeFileSync(path.join(outDir, 'report.html'), await renderReport(scores, records, read));
  writePredictionsArray(outDir, records);
  scores.summaryText = summaryText(scores);
  return scores;
}

function summaryText(scores) {
  const lines = [`${scores.run.task}: ${scores.counts.scored} scored, ${scores.counts.skipped} skipped, ${scores.counts.unmapped} unmapped answers`];
  for (const r of scores.results) {
    const ms = Object.entries(r.metrics ?? {}).map(([k, m]) => `${k} ${Number.isFinite(m.value) ? m.value.toFixed(3) : 'n/a'}${Number.isFinite(m.low) ? ` [${m.low.toFixed(3)}, ${m.high.toFixed(3)}]` : ''}`);
    lines.push(`  ${r.name}: ${ms.join(', ')}`);
  }
  return lines.join('\n');
}

function readRunFiles(dir) {
  const runFile = path.join(dir, RUN);
  if (!fs.existsSync(runFile)) throw new Error(`${runFile} is missing: a predictions file is scored with the run.json written beside it`);
  const run = JSON.parse(fs.readFileSync(runFile, 'utf8'));
  const dsFile = path.join(dir, 'dataset.json');
  const dataset = fs.existsSync(dsFile) ? JSON.parse(fs.readFileSync(dsFile, 'utf8')) : {};
  return { run, dataset };
}

export async function writeResults(outDir, opts) {
  const { run, dataset } = readRunFiles(outDir);
  const { records } = readPredictions(path.join(outDir, PREDICTIONS));
  return scoreAndWrite(outDir, records, run, dataset, opts);
}

// The settings of a predictions file written without run.json (by another
// tool, or by hand): the task and methods from the records; the label order
// from `labels` (ids) when given, else the labels named in truth / predicted
// (sorted; label scoring needs the order its probabilities follow, so --labels).
export function inferRun(records, labels = null) {
  const tasks = [...new Set(records.map((r) => r.task))];
  if (tasks.length !== 1 || !tasks[0]) throw new Error(`the records name ${tasks.length ? `the tasks ${tasks.join(', ')}` : 'no task'}: a predictions file holds one task ("task" in every record)`);
  const task = tasks[0];
  const config = { task };
  if (task === 'classification' || task === 'reg') {
    config.classify_by = [...new Set(records.map((r) => r.method ?? (r.probabilities ? 'scoring' : 'generation')))];
    for (const r of records) r.method ??= r.probabilities ? 'scoring' : 'generation';
    if (!labels && config.classify_by.includes('scoring'))
      throw new Error('label scoring records give probabilities in the order of a label set: name it with --labels (a models/labels/*.json or a text file, one label a line)');
    config.labels = labels ?? [...new Set(records.flatMap((r) => [r.truth, r.predicted]).filter((x) => typeof x === 'string'))].sort();
  }
  for (const r of records) r.status ??= 'ok';
  return { config, config_sha256: null };
}

// Re-scores a saved predictions file into outDir: with the run.json and
// dataset.json beside it, or, without them, settings inferred from the records.
export async function rescore(file, outDir, opts) {
  const { records, torn } = readPredictions(file);
  if (torn) process.stderr.write(`note: the last line of ${file} was cut short (an interrupted run) and is left out\n`);
  const dir = path.dirname(file);
  if (fs.existsSync(path.join(dir, RUN))) {
    const { run, dataset } = readRunFiles(dir);
    if (run.config.task === 'segmentation') {
      const { task, dataset: datasetDir, ...args } = run.config;
      const res = segmentationResult(records, args, path.basename(datasetDir ?? dir));
      await writeSegmentationResults(outDir, res, args, records);
      return { run: run.config, segmentation: res };
    }
    return scoreAndWrite(outDir, records, run, dataset, opts);
  }
  if (records.some((r) => r.task === 'segmentation'))
    throw new Error(`${file} holds segmentation records but no ${RUN} is beside it: its settings (clicks, stop IoU, strategies) are needed to score them`);
  process.stderr.write(`note: no ${RUN} beside ${file}: the task and labels are taken from the records${opts.labels ? ' and --labels' : ''}\n`);
  return scoreAndWrite(outDir, records, inferRun(records, opts.labels ?? null), {}, opts);
}

// The segmentation protocol's result over its records (one a image,
// tools/evaluate.mjs segmentation), in eval_segmentation.mjs's format.
export function segmentationResult(records, args, datasetName) {
  const res = { dataset: datasetName, images: 0, objects: 0, args: { ...args }, ours: {}, oursBox: [], oursBoxClean: {},
    ref: [], refBox: [], encoderMs: [], refEncoderMs: [], skipped: [] };
  for (const r of records) {
    if (r.status !== 'ok') { res.skipped.push({ image: r.image, reason: r.reason }); continue; }
    res.images++;
    res.objects += r.objects;
    for (const [k, v] of Object.entries(r.ours)) (res.ours[k] ??= []).push(...v);
    for (const [k, v] of Object.entries(r.oursBoxClean)) (res.oursBoxClean[k] ??= []).push(...v);
    for (const k of ['oursBox', 'ref', 'refBox', 'encoderMs', 'refEncoderMs']) res[k].push(...r[k]);
  }
  if (!res.images) throw new Error(`no image could be evaluated (${res.skipped.length} skipped)`);
  return res;
}

// The segmentation protocol's results folder: its JSON, a metrics CSV and an HTML report with the IoU histograms.
export async function writeSegmentationResults(outDir, res, args, records = null) {
  const { summarize, report } = await import('../eval_segmentation.mjs');
  const { renderSvg, iouHistogramSpec } = await import('./plots.mjs');
  const { esc, markdownTable } = await import('./report_html.mjs');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'segmentation.json'), JSON.stringify(res, null, 1));
  const rows = [];
  for (const [pipeline, objs] of Object.entries(res.ours)) {
    const s = summarize(objs, args.maxClicks);
    for (const [k, v] of Object.entries(s.miou)) rows.push({ pipeline, metric: `miou@${k}`, value: v, objects: s.objects });
    for (const k of ['noc85', 'noc90', 'fail85', 'fail90', 'clickMsMedian', 'decoderPassesPerClick']) rows.push({ pipeline, metric: k, value: s[k], objects: s.objects });
  }
  const box = (name, b) => { if (b.length) for (const k of ['iou', 'dice']) rows.push({ pipeline: name, metric: `box_m${k}`, value: b.reduce((a, x) => a + x[k], 0) / b.length, objects: b.length }); };
  box('box prompt', res.oursBox);
  if (res.refBox?.length) box('box prompt (reference)', res.refBox);
  fs.writeFileSync(path.join(outDir, 'metrics.csv'), toCsv(['pipeline', 'metric', 'value', 'objects'], rows));
  const figs = [];
  for (const [pipeline, objs] of Object.entries(res.ours)) {
    figs.push(await renderSvg(iouHistogramSpec(objs.map((o) => o.ious.at(-1) ?? 0), { title: `IoU after the last click: ${pipeline}`, threshold: args.stopIou })));
  }
  figs.push(await renderSvg(iouHistogramSpec(res.oursBox.map((b) => b.iou), { title: 'IoU of the box prompt\'s mask', threshold: 0.5 })));
  const md = report(res, args.maxClicks);
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Segmentation: ${esc(res.dataset)}</title>
<style>body{font:14px/1.45 Helvetica,Arial,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px}table{border-collapse:collapse;margin:10px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}</style></head><body>
<h1>Interactive segmentation: ${esc(res.dataset)}</h1><p>Protocol: tools/README-segmentation.md.</p>${markdownTable(md)}
${res.skipped?.length ? `<h2>Skipped images (${res.skipped.length})</h2><ul>${res.skipped.map((x) => `<li>${esc(x.image)}: ${esc(x.reason)}</li>`).join('')}</ul>` : '<p>No image was skipped.</p>'}${figs.map((f) => `<figure>${f}</figure>`).join('\n')}</body></html>\n`;
  fs.writeFileSync(path.join(outDir, 'report.html'), html);
  if (records) writePredictionsArray(outDir, records);
}
