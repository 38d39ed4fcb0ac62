// tables.mjs: results printed in the layout of the published tables (markdown),
// from one or more runs' metrics.json (scores):
//   medgemma-hyperkvasir  accuracy, macro-F1, AUROC: all classes, classes with
//                         >= 100 and < 100 training images (MedGemma on HyperKvasir)
//   upper-gi              CLS accuracy, REG accuracy, REC accuracy at IoU >= 0.5
//                         (the upper-GI multi-task VLM)
//   endoagentbench        lesion classification, counting, visual grounding (from
//                         the multiple-choice categories or separate runs), all
//                         multiple choice, report ROUGE-L
//   text                  ROUGE-1/2/L, BLEU-4 and time per answer (zero-shot MLLM comparisons)

const fmt = (m, d = 3) => (m && Number.isFinite(m.value) ? m.value.toFixed(d) : '–');
const withCi = (m, d = 3) => (m && Number.isFinite(m.value)
  ? `${m.value.toFixed(d)}${Number.isFinite(m.low) ? ` (${m.low.toFixed(d)}–${m.high.toFixed(d)})` : ''}` : '–');

function results(scoresList, kind) {
  return scoresList.flatMap((s) => (s.results ?? []).filter((r) => r.task === kind).map((r) => ({ ...r, run: s })));
}
const first = (scoresList, kind, name) => results(scoresList, kind).find((r) => !name || r.name === name || r.name?.startsWith(name)) ?? null;
const speedOf = (scoresList, name) => first(scoresList, 'generation_speed', `${name}:speed`);
// Classification runs (label scoring, generation), not region naming (REG is scored as classification too).
const classification = (list) => results(list, 'classification').find((r) => r.name !== 'reg') ?? null;
const regResult = (list) => results(list, 'classification').find((r) => r.name === 'reg') ?? first(list, 'label_match', 'reg');
const model = (s) => s.run?.backend?.model ?? s.run?.backend?.package?.split('/').pop() ?? '?';

export const TABLES = {
  'medgemma-hyperkvasir': (list) => {
    const lines = ['| model | classes | accuracy | macro-F1 | AUROC |', '|---|---|---|---|---|'];
    for (const s of list) {
      for (const r of results([s], 'classification').filter((x) => x.name !== 'reg')) {
        const name = `${model(s)} (${r.name === 'scoring' ? 'label scoring' : 'generation'})`;
        lines.push(`| ${name} | all (${r.per_class?.length ?? '?'}) | ${withCi(r.metrics.accuracy)} | ${withCi(r.metrics.macro_f1)} | ${withCi(r.metrics.macro_auroc)} |`);
        for (const g of r.groups ?? []) {
          const what = g.name === 'frequent' ? `≥ ${g.threshold} training images (${g.classes.length})` : `< ${g.threshold} training images (${g.classes.length})`;
          lines.push(g.classes.length ? `| | ${what} | ${withCi(g.metrics.accuracy)} | ${withCi(g.metrics.macro_f1)} | ${withCi(g.metrics.macro_auroc)} |` : `| | ${what} | – | – | – |`);
        }
        if (!r.groups?.length) lines.push('| | (no training counts: give a split or --train-counts for the ≥ 100 / < 100 rows) | | | |');
      }
    }
    return lines.join('\n');
  },
  'upper-gi': (list) => {
    const cls = classification(list), reg = regResult(list), rec = first(list, 'grounding', 'rec');
    return ['| model | CLS accuracy | REG accuracy | REC accuracy (IoU ≥ 0.5) | REC mean IoU |', '|---|---|---|---|---|',
      `| ${model(list[0])} | ${withCi(cls?.metrics.accuracy)} | ${withCi(reg?.metrics.accuracy)} | ${withCi(rec?.metrics.accuracy_at_iou)} | ${fmt(rec?.metrics.mean_iou)} |`].join('\n');
  },
  // EndoAgentBench asks its tasks as multiple choice (one TSV, a category per task): a column takes
  // the category whose name says it (classification, counting, grounding / location), else a run of
  // that task (classification / count / rec) given as another results folder.
  endoagentbench: (list) => {
    const cats = results(list, 'multiple_choice').filter((r) => r.name?.startsWith('mcq:'));
    const cat = (re) => cats.find((c) => re.test(c.name.slice(4)));
    const mcCell = (c) => (c ? `${withCi(c.metrics.accuracy)}${c.metrics.circular_accuracy ? `; circular ${fmt(c.metrics.circular_accuracy)}` : ''}` : null);
    const cls = mcCell(cat(/classif|lesion type|diagnos/i)) ?? withCi(classification(list)?.metrics.accuracy);
    const cnt = mcCell(cat(/count/i)) ?? withCi(first(list, 'counting')?.metrics.accuracy);
    const grd = mcCell(cat(/ground|locat|detect|where/i)) ?? withCi(first(list, 'grounding', 'rec')?.metrics.accuracy_at_iou);
    const all = mcCell(first(list, 'multiple_choice', 'mcq')) ?? '–';
    const txt = first(list, 'text');
    const lines = ['| model | lesion classification | lesion counting | visual grounding | all multiple choice | report ROUGE-L |', '|---|---|---|---|---|---|',
      `| ${model(list[0])} | ${cls} | ${cnt} | ${grd} | ${all} | ${withCi(txt?.metrics.rougeL)} |`];
    if (cats.length) {
      lines.push('', '| multiple-choice category | questions | accuracy | circular accuracy |', '|---|---|---|---|');
      for (const c of cats) lines.push(`| ${c.name.slice(4)} | ${c.questions} | ${withCi(c.metrics.accuracy)} | ${fmt(c.metrics.circular_accuracy)} |`);
    }
    return lines.join('\n');
  },
  text: (list) => {
    const lines = ['| model | ROUGE-1 | ROUGE-2 | ROUGE-L | BLEU-4 | s per answer (median) | tokens/s |', '|---|---|---|---|---|---|---|'];
    for (const s of list) {
      for (const r of results([s], 'text')) {
        const sp = speedOf([s], r.name);
        lines.push(`| ${model(s)} | ${withCi(r.metrics.rouge1)} | ${withCi(r.metrics.rouge2)} | ${withCi(r.metrics.rougeL)} | ${withCi(r.metrics.bleu4)} | ${fmt(sp?.metrics.median_seconds, 2)} | ${fmt(sp?.metrics.tokens_per_second, 1)} |`);
      }
    }
    return lines.join('\n');
  },
};

export function printTable(name, scores) {
  const t = TABLES[name];
  if (!t) throw new Error(`unknown table '${name}' (have ${Object.keys(TABLES).join(', ')})`);
  return t(Array.isArray(scores) ? scores : [scores]);
}
