// agent_scoring.mjs: the agent ablation's figures from its records, all by the
// metrics core (src/metrics through the WASM export, as every other task):
//   - per configuration and task (and all tasks together): multiple-choice
//     accuracy with its 95 % bootstrap interval; the finish answer is read as
//     an option letter by the core (answer_mapping.h: a lone letter,
//     "Answer: B", the only option text named); an answer that names no
//     option (or a run without a finish) is wrong and counted as unmapped
//   - paired differences between configurations on the same items
//     (paired_difference.h: accuracy difference with a paired bootstrap
//     interval, discordant pairs, McNemar's exact p)
import { scorePredictions } from '../../web/metrics/metrics_api.js';
import { AGENT_TASKS } from './agent_items.mjs';

export const ABLATION = [
  { id: 'single', name: 'single pass', reflect: false, use_memory: false },
  { id: 'reflection', name: '+ reflection', reflect: true, use_memory: false },
  { id: 'memory', name: '+ reflection + memory', reflect: true, use_memory: true },
];
export const COMPARISONS = [['single', 'reflection'], ['reflection', 'memory'], ['single', 'memory']];

// records: the test records (status ok), one per (configuration, item).
// -> {accuracy: [{config, task, items, accuracy {value, low, high}, unmapped}], differences: [...], chosen: Map key -> letter|null}
export function scoreAblation(module, records, { bootstrap = 1000, seed = 0, configs = ABLATION.map((c) => c.id) } = {}) {
  const boot = { resamples: bootstrap, seed, confidence: 0.95 };
  const groups = [];
  const tasks = AGENT_TASKS.filter((t) => records.some((r) => r.task === t));
  for (const config of configs) {
    for (const task of [...tasks, 'all']) {
      const rs = records.filter((r) => r.config === config && (task === 'all' || r.task === task)).sort((a, b) => (a.item < b.item ? -1 : 1));
      if (rs.length) groups.push({ config, task, rs });
    }
  }
  const input = { tasks: groups.map((g) => ({ task: 'multiple_choice', name: `${g.config}:${g.task}`, bootstrap: boot,
    items: g.rs.map((r) => ({ question: r.item, truth: r.truth, answer: r.answer ?? '', options: r.options })) })) };
  const results = groups.length ? scorePredictions(module, input).results : [];
  const chosen = new Map();
  const right = new Map();  // `${config}|${item}` -> 0/1
  const accuracy = groups.map((g, i) => {
    const res = results[i];
    g.rs.forEach((r, j) => {
      chosen.set(r.key, res.chosen[j]);
      right.set(`${g.config}|${r.item}`, res.chosen[j] === r.truth ? 1 : 0);
    });
    return { config: g.config, task: g.task, items: g.rs.length, accuracy: res.metrics.accuracy,
      unmapped: res.chosen.filter((c) => c === null).length };
  });
  // Paired: only the items both configurations answered.
  const diffInput = [], diffMeta = [];
  for (const [a, b] of COMPARISONS) {
    if (!configs.includes(a) || !configs.includes(b)) continue;
    for (const task of [...tasks, 'all']) {
      const items = [...new Set(records.filter((r) => task === 'all' || r.task === task).map((r) => r.item))].sort()
        .filter((it) => right.has(`${a}|${it}`) && right.has(`${b}|${it}`));
      if (!items.length) continue;
      diffInput.push({ task: 'paired_difference', name: `${a}->${b}:${task}`, bootstrap: boot,
        first: items.map((it) => right.get(`${a}|${it}`)), second: items.map((it) => right.get(`${b}|${it}`)) });
      diffMeta.push({ first: a, second: b, task });
    }
  }
  const diffResults = diffInput.length ? scorePredictions(module, { tasks: diffInput }).results : [];
  const differences = diffResults.map((d, i) => ({ ...diffMeta[i], items: d.items, difference: d.metrics.difference,
    first_accuracy: d.metrics.first_accuracy, second_accuracy: d.metrics.second_accuracy,
    first_only: d.first_only, second_only: d.second_only, both_right: d.both_right, both_wrong: d.both_wrong, mcnemar_p: d.mcnemar_p }));
  return { accuracy, differences, chosen, metrics_input: { accuracy: input, differences: { tasks: diffInput } } };
}

const f3 = (v) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const ci = (m) => (m && Number.isFinite(m.low) ? ` [${f3(m.low)}, ${f3(m.high)}]` : '');
const signed = (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : 'n/a');

// The two markdown tables (accuracy per configuration and task; paired differences).
export function ablationTables(scores, configs = ABLATION) {
  const tasks = [...new Set(scores.accuracy.map((a) => a.task))];
  const cell = (c, t) => {
    const a = scores.accuracy.find((x) => x.config === c && x.task === t);
    return a ? `${f3(a.accuracy.value)}${ci(a.accuracy)} (n=${a.items}${a.unmapped ? `, ${a.unmapped} unmapped` : ''})` : '–';
  };
  const rows = configs.filter((c) => scores.accuracy.some((a) => a.config === c.id));
  let md = `| configuration | ${tasks.join(' | ')} |\n|---|${tasks.map(() => '---').join('|')}|\n`;
  for (const c of rows) md += `| ${c.name} | ${tasks.map((t) => cell(c.id, t)).join(' | ')} |\n`;
  const name = (id) => configs.find((c) => c.id === id)?.name ?? id;
  let diff = '| comparison | task | items | difference [95 % CI] | first only right | second only right | McNemar p |\n|---|---|---|---|---|---|---|\n';
  for (const d of scores.differences) {
    diff += `| ${name(d.first)} → ${name(d.second)} | ${d.task} | ${d.items} | ${signed(d.difference.value)}${Number.isFinite(d.difference.low) ? ` [${signed(d.difference.low)}, ${signed(d.difference.high)}]` : ''} | ${d.first_only} | ${d.second_only} | ${f3(d.mcnemar_p)} |\n`;
  }
  return { accuracy: md, differences: diff };
}
