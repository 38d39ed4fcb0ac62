// report_html.mjs: the run's report as one self-contained HTML file: the
// tables and the plots (inline SVG from plots.mjs), no script, no external
// file, so it can be mailed or attached to a validation report as it is.
import { renderSvg, confusionSpec, rocSpec, perClassSpec, reliabilitySpec, iouHistogramSpec, histogramSpec, barsSpec } from './plots.mjs';
import { TABLES } from './tables.mjs';

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const num = (v, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '–');

const METRIC_NAMES = {
  accuracy: 'accuracy', macro_f1: 'macro-F1', unmapped_rate: 'unmapped answers (share)', macro_auroc: 'AUROC (macro, one-vs-rest)',
  brier: 'Brier score', ece: 'expected calibration error', accuracy_at_iou: 'accuracy at IoU ≥ 0.5', mean_iou: 'mean IoU',
  missing_rate: 'answers without a usable value (share)', circular_accuracy: 'CircularEval accuracy', mean_absolute_error: 'mean absolute error',
  rouge1: 'ROUGE-1 F', rouge2: 'ROUGE-2 F', rougeL: 'ROUGE-L F', bleu4: 'BLEU-4', precision: 'precision', recall: 'recall', f1: 'F1',
  answers: 'answers', mean_seconds: 'seconds per answer (mean)', median_seconds: 'seconds per answer (median)', p90_seconds: 'seconds per answer (90th percentile)',
  tokens_per_second: 'tokens/s (all tokens / all seconds)', median_tokens_per_second: 'tokens/s (median of answers)',
};

function metricsTable(metrics, caption) {
  const rows = Object.entries(metrics ?? {}).map(([k, m]) =>
    `<tr><td>${esc(METRIC_NAMES[k] ?? k)}</td><td class="n">${num(m.value, k === "answers" ? 0 : /seconds|tokens|error/.test(k) ? 2 : 3)}</td>` +
    `<td class="n">${Number.isFinite(m.low) ? `${num(m.low)} – ${num(m.high)}` : ''}</td></tr>`).join('');
  return `<table><caption>${esc(caption)}</caption><tr><th>metric</th><th>value</th><th>95 % CI (bootstrap)</th></tr>${rows}</table>`;
}

// A markdown table (tables.mjs) as HTML.
export function markdownTable(md) {
  const blocks = md.split(/\n\s*\n/);
  return blocks.map((b) => {
    const lines = b.split('\n').filter((l) => l.startsWith('|'));
    if (lines.length < 2) return /^#+ /.test(b) ? `<h2>${esc(b.replace(/^#+ /, ''))}</h2>` : `<p>${esc(b)}</p>`;
    const cells = (l) => l.slice(1, -1).split('|').map((c) => c.trim());
    const head = cells(lines[0]).map((c) => `<th>${esc(c)}</th>`).join('');
    const body = lines.slice(2).map((l) => `<tr>${cells(l).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
    return `<table><tr>${head}</tr>${body}</table>`;
  }).join('\n');
}

const figure = (svg, caption) => `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;

async function classificationSection(r, labelNames) {
  const name = (id) => labelNames?.get(id) ?? id;
  const what = { scoring: 'Label scoring', generation: 'Generation (free answer read as a label)', reg: 'Region naming (REG: box → label, the answer read as a label)' }[r.name] ?? r.name;
  let html = metricsTable(r.metrics, `${what}: ${r.items} items`);
  if (r.groups?.length) {
    html += `<table><caption>By class frequency in training (threshold ${esc(r.groups[0].threshold)} images)</caption>` +
      '<tr><th>classes</th><th>items</th><th>accuracy</th><th>macro-F1</th><th>AUROC</th></tr>' +
      r.groups.map((g) => `<tr><td>${esc(g.name)} (${g.classes.length}): ${esc(g.classes.map(name).join(', ') || 'no class')}</td><td class="n">${g.items}</td>` +
        (g.classes.length ? `<td class="n">${num(g.metrics.accuracy?.value)}</td><td class="n">${num(g.metrics.macro_f1?.value)}</td><td class="n">${num(g.metrics.macro_auroc?.value)}</td>`
          : '<td class="n">–</td><td class="n">–</td><td class="n">–</td>') + '</tr>').join('') + '</table>';
  }
  html += '<table><caption>Per class</caption><tr><th>class</th><th>support</th><th>predicted</th><th>precision</th><th>recall</th><th>F1</th>' +
    `${r.per_class?.[0]?.auroc !== undefined ? '<th>AUROC</th>' : ''}${r.per_class?.[0]?.train_count !== undefined ? '<th>training images</th>' : ''}</tr>` +
    (r.per_class ?? []).map((c) => `<tr><td>${esc(name(c.label))}</td><td class="n">${c.support}</td><td class="n">${c.predicted}</td><td class="n">${num(c.precision)}</td>` +
      `<td class="n">${num(c.recall)}</td><td class="n">${num(c.f1)}</td>${c.auroc !== undefined ? `<td class="n">${num(c.auroc)}</td>` : ''}` +
      `${c.train_count !== undefined ? `<td class="n">${c.train_count}</td>` : ''}</tr>`).join('') + '</table>';
  const cm = r.confusion_matrix;
  const anyUnmapped = cm.unmapped?.some((x) => x > 0);
  html += figure(await renderSvg(confusionSpec(cm.labels.map(name), cm.matrix, { unmapped: anyUnmapped ? cm.unmapped : null })), 'Confusion matrix: counts, coloured by the share of the true class (row).');
  // Plots show the classes present in the truth or the answers (a 23-class set scored on a few classes would be mostly empty rows).
  const present = r.per_class.filter((c) => c.support > 0 || c.predicted > 0);
  html += figure(await renderSvg(perClassSpec(present.map((c) => ({ ...c, label: name(c.label) })))), `Precision, recall and F1 per class (the ${present.length} classes in the truth or the answers).`);
  if (r.roc_curves) html += figure(await renderSvg(rocSpec(r.roc_curves.filter((c) => Number.isFinite(c.auroc)).map((c) => ({ ...c, label: name(c.label) })))), 'ROC curves, each class against the rest (only classes with both positives and negatives among the items have one).');
  if (r.calibration) html += figure(await renderSvg(reliabilitySpec(r.calibration.bins, { ece: r.metrics.ece?.value ?? null })), 'Reliability: accuracy per confidence bin (bars) against the bin\'s mean confidence (dots, sized by items); the dashed line is perfect calibration.');
  return html;
}

export async function renderReport(scores, records, read = new Map()) {
  const cfg = scores.run, counts = scores.counts, ds = scores.dataset ?? {};
  const labelNames = ds.labels ? new Map(ds.labels.map((l) => [l.id, l.name])) : null;
  const parts = [];
  const title = `Evaluation: ${cfg.task}${cfg.dataset ? ` on ${cfg.dataset.split('/').pop()}` : ''}`;
  parts.push(`<h1>${esc(title)}</h1>`);
  if (ds.test_model) parts.push('<p class="warn">Test model with random weights: its answers are meaningless, so these figures are at chance. They show that the pipeline works, not how good a model is.</p>');
  parts.push('<p class="ai">Model outputs are AI suggestions, not diagnoses.</p>');
  const b = cfg.backend ?? {};
  parts.push(`<table><caption>Run</caption>${[
    ['backend', b.backend], ['model', b.model ?? b.package], ['variant', b.variant], ['endpoint', b.url], ['dataset', cfg.dataset], ['format', cfg.format],
    ['split', typeof cfg.split === 'string' ? cfg.split : JSON.stringify(cfg.split)], ['prompt', cfg.prompt ?? '(the task\'s default)'],
    ['generation', JSON.stringify(cfg.generation)], ['scored', scores.created],
  ].filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`);
  // Nothing is dropped silently: rows left out, items skipped, answers unmapped.
  parts.push('<h2>What was scored</h2>');
  parts.push(`<table><tr><th>dataset items</th><td class="n">${ds.total_items ?? '?'}</td></tr><tr><th>evaluated (after split / limit)</th><td class="n">${ds.evaluated_items ?? '?'}</td></tr>` +
    `<tr><th>answers recorded</th><td class="n">${counts.records}</td></tr><tr><th>scored</th><td class="n">${counts.scored}</td></tr>` +
    `<tr><th>skipped</th><td class="n">${counts.skipped}</td></tr><tr><th>answers that could not be read (unmapped: scored as wrong)</th><td class="n">${counts.unmapped}</td></tr>` +
    `<tr><th>dataset rows left out when reading</th><td class="n">${ds.problems?.length ?? 0}</td></tr></table>`);
  if (counts.skipped) {
    parts.push(`<table><caption>Skipped items (${counts.skipped})</caption><tr><th>item</th><th>why</th></tr>${counts.skipped_items.slice(0, 200)
      .map((s) => `<tr><td>${esc(s.key)}</td><td>${esc(s.reason)}</td></tr>`).join('')}${counts.skipped > 200 ? `<tr><td colspan="2">… ${counts.skipped - 200} more in predictions.jsonl</td></tr>` : ''}</table>`);
  }
  if (ds.problems?.length) {
    parts.push(`<table><caption>Dataset rows left out (${ds.problems.length})</caption><tr><th>where</th><th>why</th></tr>${ds.problems.slice(0, 200)
      .map((p) => `<tr><td>${esc(p.where)}</td><td>${esc(p.what)}</td></tr>`).join('')}${ds.problems.length > 200 ? `<tr><td colspan="2">… ${ds.problems.length - 200} more in dataset.json</td></tr>` : ''}</table>`);
  }
  parts.push('<h2>Results</h2>');
  for (const r of scores.results) {
    if (r.task === 'classification') parts.push(`<h3>${r.name === 'reg' ? 'REG' : `Classification: ${esc(r.name)}`}</h3>`, await classificationSection(r, labelNames));
    else if (r.task === 'grounding') {
      parts.push('<h3>REC (text → box)</h3>', metricsTable(r.metrics, `${r.items} items`));
      parts.push(figure(await renderSvg(iouHistogramSpec(r.iou, { threshold: r.iou_threshold })), 'IoU of each answer\'s box with the true box (0 when the answer gave none); the dashed line is the accuracy threshold.'));
    } else if (r.task === 'multiple_choice') parts.push(`<h3>Multiple choice${r.name.includes(':') ? `: ${esc(r.name.split(':')[1])}` : ''}</h3>`, metricsTable(r.metrics, `${r.items} answers, ${r.questions} questions`));
    else if (r.task === 'generation_speed') parts.push(`<h3>Time per answer: ${esc(r.name.replace(/:speed$/, ''))}</h3>`, metricsTable(r.metrics, `${r.items} answers`));
    else if (r.task === 'report_fields') {
      parts.push('<h3>Structured report fields</h3>', metricsTable(r.metrics, `${r.items} reports`));
      parts.push(`<table><caption>Per field</caption><tr><th>field</th><th>precision</th><th>recall</th><th>F1</th><th>reference pairs</th></tr>${r.per_field.map((f) =>
        `<tr><td>${esc(f.field)}</td><td class="n">${num(f.precision)}</td><td class="n">${num(f.recall)}</td><td class="n">${num(f.f1)}</td><td class="n">${f.reference}</td></tr>`).join('')}</table>`);
    } else if (r.task === 'text') {
      parts.push('<h3>Captions / reports against the references</h3>', metricsTable(r.metrics, `${r.items} answers`));
      parts.push(figure(await renderSvg(histogramSpec(r.per_item.map((x) => x.rougeL), { title: 'ROUGE-L F of each answer', axis: 'ROUGE-L F' })), 'ROUGE-L F-measure of each answer against its best reference.'));
    } else if (r.task === 'counting') {
      parts.push('<h3>Counting</h3>', metricsTable(r.metrics, `${r.items} images`));
    } else parts.push(`<h3>${esc(r.name ?? r.task)}</h3>`, metricsTable(r.metrics, `${r.items} items`));
  }
  // Label scoring through logprobs (OpenAI-compatible endpoints) is an approximation: say how good.
  const viaLogprobs = records.filter((r) => r.status === 'ok' && r.detail?.matched_mass !== undefined);
  if (viaLogprobs.length) {
    const mm = viaLogprobs.map((r) => r.detail.matched_mass).sort((a, b) => a - b);
    const ties = new Map();
    for (const r of viaLogprobs) for (const t of r.detail.tied ?? []) ties.set(t, (ties.get(t) ?? 0) + 1);
    parts.push('<h3>Label scoring through logprobs</h3><p>The endpoint gave the top 20 first tokens of the answer; each label got the probability of the tokens that begin it ' +
      '(tools/README-evaluation.md). The share of that probability that named any label at all, and the labels left tied because they begin alike:</p>' +
      `<table><tr><th>answers</th><td class="n">${mm.length}</td></tr><tr><th>share naming a label: median (min – max)</th><td class="n">${num(mm[Math.floor(mm.length / 2)])} (${num(mm[0])} – ${num(mm.at(-1))})</td></tr>` +
      [...ties].map(([t, n]) => `<tr><th>tied: ${esc(t)}</th><td class="n">${n} answers</td></tr>`).join('') + '</table>');
  }
  const cats = scores.results.filter((r) => r.task === 'multiple_choice' && r.name.startsWith('mcq:'));
  if (cats.length) parts.push(figure(await renderSvg(barsSpec(cats.map((c) => ({ name: c.name.slice(4), value: c.metrics.accuracy.value })), { title: 'Multiple-choice accuracy per category' })), 'Accuracy per question category.'));
  const table = { classification: 'medgemma-hyperkvasir', rec: 'upper-gi', reg: 'upper-gi', count: 'endoagentbench', mcq: 'endoagentbench', caption: 'text' }[cfg.task];
  if (table) parts.push(`<h2>In the published layout (${esc(table)})</h2>`, markdownTable(TABLES[table]([scores])));
  const shown = records.filter((r) => r.status === 'ok').slice(0, 12);
  if (shown.length) {
    parts.push(`<h2>First answers</h2><table class="answers"><tr><th>item</th><th>answer</th><th>read as</th><th>truth</th></tr>${shown.map((r) =>
      `<tr><td>${esc(r.key)}</td><td>${esc(r.raw ?? (r.probabilities ? `(label scoring) top: ${r.predicted}` : ''))}</td>` +
      `<td>${esc(r.task === 'caption' ? '' : read.has(r.key) ? (read.get(r.key) === null ? 'unmapped' : typeof read.get(r.key) === 'object' ? JSON.stringify(read.get(r.key)) : read.get(r.key)) : '')}</td>` +
      `<td>${esc(r.truth_box ? JSON.stringify(r.truth_box) : Array.isArray(r.references) ? r.references[0] : r.truth)}</td></tr>`).join('')}</table>`);
  }
  const css = `body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px;margin-top:22px}
table{border-collapse:collapse;margin:10px 0 16px}caption{text-align:left;font-weight:bold;padding:4px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.answers td{max-width:420px;overflow-wrap:anywhere}figure{margin:14px 0}figcaption{color:#555;font-size:12px;max-width:720px}
.warn{background:#fff3cd;border:1px solid #e0c36a;padding:8px 12px}.ai{color:#555;font-size:12px}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${css}</style></head><body>\n${parts.join('\n')}\n</body></html>\n`;
}
