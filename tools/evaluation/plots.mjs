// plots.mjs: the report's figures as SVG text: Vega-Lite specifications
// compiled by vega-lite and rendered by vega's SVG renderer in Node (no
// canvas, no browser). Each function takes already-computed figures (from the
// metrics core) and only draws them.
import * as vega from 'vega';
import * as vl from 'vega-lite';

const FONT = { font: 'Helvetica, Arial, sans-serif' };
const CONFIG = { view: { stroke: null }, axis: { labelFont: FONT.font, titleFont: FONT.font, labelLimit: 220 },
  legend: { labelFont: FONT.font, titleFont: FONT.font, labelLimit: 340 }, title: { font: FONT.font, fontSize: 14, anchor: 'start' } };

export async function renderSvg(spec) {
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', config: CONFIG, background: 'white', ...spec }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// confusion: square matrix of counts [truth][predicted]; labels: names. Colour = share of the true class's items.
export function confusionSpec(labels, confusion, { title = 'Confusion matrix (rows: truth; colour: share of the row)', unmapped = null } = {}) {
  const values = [];
  const cols = unmapped ? [...labels, 'unmapped'] : labels;
  confusion.forEach((row, t) => {
    const full = unmapped ? [...row, unmapped[t] ?? 0] : row;
    const n = full.reduce((a, b) => a + b, 0);
    full.forEach((c, p) => values.push({ truth: labels[t], predicted: cols[p], count: c, share: n ? c / n : 0 }));
  });
  const side = Math.max(160, Math.min(720, 26 * cols.length));
  return {
    title, width: side, height: side * (labels.length / cols.length), data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: cols, title: 'predicted', axis: { labelAngle: -45 } },
      y: { field: 'truth', type: 'nominal', sort: labels, title: 'truth' },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, title: 'share of row' },
        tooltip: [{ field: 'truth' }, { field: 'predicted' }, { field: 'count' }] } },
      { mark: { type: 'text', fontSize: cols.length > 16 ? 8 : 11 }, transform: [{ filter: 'datum.count > 0' }],
        encoding: { text: { field: 'count', type: 'quantitative' }, color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' } } },
    ],
  };
}

// curves: [{label, fpr: [], tpr: [], auroc}]
export function rocSpec(curves, { title = 'ROC curves, one class against the rest' } = {}) {
  const values = [];
  for (const c of curves) {
    const name = `${c.label} (AUROC ${Number.isFinite(c.auroc) ? c.auroc.toFixed(3) : 'n/a'})`;
    c.fpr.forEach((x, i) => values.push({ curve: name, fpr: x, tpr: c.tpr[i], order: i }));
  }
  return {
    title, width: 360, height: 360,
    layer: [
      { data: { values: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' } } },
      { data: { values }, mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
          y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
          color: { field: 'curve', type: 'nominal', title: 'class', scale: { scheme: curves.length > 10 ? 'category20' : 'category10' } },
          order: { field: 'order', type: 'quantitative' },
        } },
    ],
  };
}

// perClass: [{label, precision, recall, f1, support}]
export function perClassSpec(perClass, { title = 'Per class: precision, recall, F1 (support in the labels)' } = {}) {
  const values = perClass.flatMap((c) => ['precision', 'recall', 'f1'].map((m) => ({ cls: `${c.label} (${c.support})`, measure: m, value: Number.isFinite(c[m]) ? c[m] : 0 })));
  const order = perClass.map((c) => `${c.label} (${c.support})`);
  return {
    title, data: { values }, width: 420, height: { step: 10 },
    mark: 'bar',
    encoding: {
      y: { field: 'cls', type: 'nominal', sort: order, title: null },
      yOffset: { field: 'measure', type: 'nominal', sort: ['precision', 'recall', 'f1'] },
      x: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, title: null },
      color: { field: 'measure', type: 'nominal', sort: ['precision', 'recall', 'f1'], title: null, scale: { range: ['#4c78a8', '#f58518', '#54a24b'] } },
      tooltip: [{ field: 'cls' }, { field: 'measure' }, { field: 'value', format: '.3f' }],
    },
  };
}

// bins: [{low, high, count, confidence, accuracy}] (bins with items)
export function reliabilitySpec(bins, { title = 'Reliability diagram (top-label confidence)', ece = null } = {}) {
  const values = bins.filter((b) => b.count > 0).map((b) => ({ ...b, mid: (b.low + b.high) / 2 }));
  return {
    title: ece === null ? title : `${title}, ECE ${ece.toFixed(3)}`, width: 360, height: 300,
    layer: [
      { data: { values }, mark: { type: 'rect', opacity: 0.8, color: '#4c78a8', stroke: 'white' },
        encoding: {
          x: { field: 'low', type: 'quantitative', scale: { domain: [0, 1] }, title: 'confidence' }, x2: { field: 'high' },
          y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, title: 'accuracy in bin' }, y2: { datum: 0 },
          tooltip: [{ field: 'low' }, { field: 'high' }, { field: 'count' }, { field: 'confidence', format: '.3f' }, { field: 'accuracy', format: '.3f' }],
        } },
      { data: { values }, mark: { type: 'point', filled: true, color: '#e45756' },
        encoding: { x: { field: 'confidence', type: 'quantitative' }, y: { field: 'confidence', type: 'quantitative' }, size: { field: 'count', type: 'quantitative', title: 'items' } } },
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
    ],
  };
}

// A histogram of per-item values in [0, 1] (IoU, ROUGE), with an optional threshold rule.
export function histogramSpec(values, { title, axis = 'value', threshold = null } = {}) {
  return {
    title, width: 360, height: 220,
    layer: [
      { data: { values: values.map((v) => ({ v })) }, mark: { type: 'bar', color: '#4c78a8' },
        encoding: { x: { field: 'v', type: 'quantitative', bin: { extent: [0, 1], step: 0.05 }, title: axis },
          y: { aggregate: 'count', type: 'quantitative', title: 'items', axis: { tickMinStep: 1, format: 'd' } } } },
      ...(threshold === null ? [] : [{ data: { values: [{ t: threshold }] }, mark: { type: 'rule', color: '#e45756', strokeDash: [4, 3] }, encoding: { x: { field: 't', type: 'quantitative' } } }]),
    ],
  };
}

// ious: per item IoU (0 when no box); threshold drawn as a rule.
export function iouHistogramSpec(ious, { title = 'IoU of predicted boxes with the true box', threshold = 0.5 } = {}) {
  return histogramSpec(ious, { title, axis: 'IoU', threshold });
}

// A bar per category of a metric (e.g. accuracy per multiple-choice category, or per count).
export function barsSpec(rows, { title, field = 'value', label = 'name', domain = [0, 1] }) {
  return {
    title, data: { values: rows }, width: 360, height: { step: 18 }, mark: 'bar',
    encoding: { y: { field: label, type: 'nominal', sort: null, title: null }, x: { field, type: 'quantitative', scale: { domain }, title: null },
      tooltip: [{ field: label }, { field, format: '.3f' }] },
  };
}
