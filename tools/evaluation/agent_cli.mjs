// agent_cli.mjs: `node tools/evaluate.mjs agent DATASET ...` (or `--task agent`):
// builds (or reads) the multiple-choice items, runs the agent's ablation,
// scores it and writes the results folder. See tools/README-evaluation.md
// ("The case agent").
import fs from 'node:fs';
import path from 'node:path';
import { readDataset } from './datasets.mjs';
import { labelSpace } from './tasks.mjs';
import { PredictionStore, readPredictions } from './predictions.mjs';
import { Progress } from './progress.mjs';
import { buildAgentItems, writeItems, readItems, itemsText, AGENT_TASKS } from './agent_items.mjs';
import { runAblation, TRACES } from './agent_run.mjs';
import { scoreAblation, ablationTables, ABLATION } from './agent_scoring.mjs';
import { scorePredictions } from '../../web/metrics/metrics_api.js';
import { esc, markdownTable } from './report_html.mjs';
import { toCsv } from './table_text.mjs';
import { defaultThreads } from './backends.mjs';

export const AGENT_TOOL_VERSION = 1;

export const AGENT_USAGE = `usage:
  node tools/evaluate.mjs agent DATASET [options]          (or: --task agent DATASET)
  node tools/evaluate.mjs agent --items ITEMS.jsonl --images DATASET_DIR [options]
items:    --labels LABELSET.json (classification options)  --seed S (0)  --items-per-task N (30)
          --warmup N (6 warm-up images, never test images)  --agent-tasks classification,counting,grounding
          --min-part-area PX (16)  --items FILE (reuse an item file; the dataset folder is then --images or DATASET)
agent:    --configs single,reflection,memory  --max-rounds N (3)
model:    --backend local|server|openai (local)  --model PACKAGE_DIR | NAME  --url URL (--server URL, --endpoint URL)  --api-key KEY
          --tool-model PACKAGE_DIR (remote: the tools' model questions on this local package)  --variant V  --threads N
output:   --out DIR  --restart  --bootstrap N (1000)  --build-items-only
          --rescore RESULTS_DIR [--out DIR] [--bootstrap N] [--seed S]   (score a saved run again, no model)`;

export function parseAgentArgs(argv) {
  const s = { backend: 'local', seed: 0, perTask: 30, warmup: 6, tasks: AGENT_TASKS, maxRounds: 3, bootstrap: 1000,
    configs: ABLATION.map((c) => c.id), minPartArea: 16, threads: defaultThreads(), retries: 2 };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    const num = () => { const x = Number(v()); if (!Number.isFinite(x)) throw new Error(`${k} needs a number`); return x; };
    const list = (allowed) => {
      const xs = v().split(',').map((x) => x.trim()).filter(Boolean);
      for (const x of xs) if (!allowed.includes(x)) throw new Error(`${k}: '${x}' is not one of ${allowed.join(', ')}`);
      return xs;
    };
    switch (k) {
      case '--task': if (v() !== 'agent') throw new Error('--task: only agent is taken here'); break;
      case '--backend': s.backend = v(); break;
      case '--model': s.model = v(); break;
      case '--url': s.url = v(); break;
      case '--endpoint': s.url = v(); s.endpoint = true; break;
      case '--server': s.url = v(); s.backend = 'server'; break;
      case '--api-key': s.apiKey = v(); break;
      case '--variant': s.variant = v(); break;
      case '--tool-model': s.toolModel = v(); break;
      case '--threads': s.threads = num(); break;
      case '--retries': s.retries = num(); break;
      case '--labels': s.labels = v(); break;
      case '--images': s.images = v(); break;
      case '--seed': s.seed = num(); break;
      case '--items-per-task': s.perTask = num(); break;
      case '--warmup': s.warmup = num(); break;
      case '--agent-tasks': s.tasks = list(AGENT_TASKS); break;
      case '--min-part-area': s.minPartArea = num(); break;
      case '--items': s.items = v(); break;
      case '--configs': s.configs = list(ABLATION.map((c) => c.id)); break;
      case '--max-rounds': s.maxRounds = num(); break;
      case '--out': s.out = v(); break;
      case '--restart': s.restart = true; break;
      case '--bootstrap': s.bootstrap = num(); break;
      case '--build-items-only': s.buildOnly = true; break;
      case '--rescore': s.rescore = v(); break;
      case '--core': s.core = v(); break;
      case '--quiet': s.quiet = true; break;
      case '-h': case '--help': s.help = true; break;
      default:
        if (k.startsWith('--')) throw new Error(`unknown option ${k}\n${AGENT_USAGE}`);
        rest.push(k);
    }
  }
  if (s.help) return s;
  if (s.endpoint && s.backend === 'local') s.backend = 'openai';  // --endpoint URL: an OpenAI-compatible endpoint
  if (rest[0] === 'agent') rest.shift();
  if (s.rescore) return s;
  if (rest.length > 1) throw new Error(`one dataset folder, please (got ${rest.join(', ')})\n${AGENT_USAGE}`);
  s.dataset = rest[0] ?? s.images;
  if (!s.dataset) throw new Error(`give a dataset folder${s.items ? ' (the folder the item file\'s images are in: DATASET or --images DIR)' : ', or --items FILE with --images DIR'}\n${AGENT_USAGE}`);
  if (!(s.perTask >= 1 && Number.isInteger(s.perTask))) throw new Error('--items-per-task needs a whole number, 1 or more');
  if (!(s.warmup >= 0 && Number.isInteger(s.warmup))) throw new Error('--warmup needs a whole number, 0 or more');
  if (s.configs.includes('memory') && s.warmup === 0 && !s.items) throw new Error('the memory configuration needs warm-up items (--warmup 1 or more)');
  if (!['local', 'server', 'openai'].includes(s.backend)) throw new Error(`--backend: local, server or openai (got ${s.backend})`);
  s.out ??= path.join('eval-results', `agent-${path.basename(path.resolve(s.dataset ?? s.items)).replace(/\.[^.]+$/, '')}-${s.backend}`);
  return s;
}

// The items: read from --items, or built from the dataset and written to OUT/items.jsonl.
export function agentItems(s, core, log) {
  if (s.items) {
    const got = readItems(s.items);
    log(`items: ${got.items.length} from ${s.items} (sha256 ${got.sha256.slice(0, 12)}...)`);
    return { ...got, file: path.resolve(s.items) };
  }
  const data = readDataset(s.dataset, { format: s.format });
  let space = null;
  if (s.tasks.includes('classification')) {
    const text = s.labels ? fs.readFileSync(s.labels, 'utf8') : null;
    const classes = [...new Set(data.items.map((it) => it.label).filter(Boolean))];
    if (!text && classes.length < 4)
      throw new Error(`${s.dataset} has ${classes.length} class(es) (${classes.join(', ')}): classification items need 4 options; give a label set with --labels (e.g. models/labels/hyperkvasir.json), or leave classification out with --agent-tasks counting,grounding`);
    space = labelSpace(core.assistant, text, classes);
    // A dataset's singular class name ("polyp") matches the set's plural ("polyps") and back.
    const base = space.classOf;
    space.classOf = (c) => base(c) ?? base(`${c}s`) ?? base(String(c).replace(/s$/, ''));
  }
  const built = buildAgentItems(data, { space, seg: core.seg, seed: s.seed, perTask: s.perTask, warmup: s.warmup, tasks: s.tasks, minPartArea: s.minPartArea });
  for (const k of built.skipped) log(`items: ${k.task}${k.image ? ` ${k.image}` : ''}: ${k.reason}`);
  // Written once the results folder has accepted the run (a folder holding another run keeps its item file).
  const file = path.join(s.out, 'items.jsonl');
  const text = itemsText(built);
  const got = readItems(file, text);
  return { ...got, file: path.resolve(file), root: data.root, text };
}

function saveBuiltItems(items, log) {
  if (!items.text) return;
  writeItems(items.file, items.text);
  log(`items: ${items.items.length} written to ${items.file} (sha256 ${items.sha256.slice(0, 12)}...)`);
}

// The metrics core's reading of one answer as an option letter (null: names no option).
export function letterReader(module) {
  return (item, answer) => {
    if (typeof answer !== 'string') return null;
    const r = scorePredictions(module, { task: 'multiple_choice', bootstrap: false, items: [{ question: item.id, truth: item.answer, answer, options: item.options }] });
    return r.chosen[0];
  };
}

// Everything that decides the results: a resumed run must have the same.
export function agentRunConfig(s, items, identity, testModel = false) {
  return { tool_version: AGENT_TOOL_VERSION, task: 'agent', items_sha256: items.sha256, items_file: items.file, item_settings: items.header,
    images: path.resolve(s.images ?? s.dataset), backend: identity, seed: s.seed, max_rounds: s.maxRounds, configs: s.configs, test_model: !!testModel };
}

// A results folder scored again from its run.json and predictions.jsonl (no model): another --bootstrap or --seed, or a newer report.
export function rescoreAgent(dir, module, { bootstrap = 1000, seed = 0, out = dir } = {}) {
  const runFile = path.join(dir, 'run.json');
  if (!fs.existsSync(runFile)) throw new Error(`${runFile} is missing: give the results folder of an agent run`);
  const { config } = JSON.parse(fs.readFileSync(runFile, 'utf8'));
  if (config.task !== 'agent') throw new Error(`${dir} holds a ${config.task} run, not an agent run: use tools/evaluate.mjs --rescore`);
  const { records } = readPredictions(path.join(dir, 'predictions.jsonl'));
  const before = path.join(dir, 'metrics.json');
  const testModel = config.test_model ?? (fs.existsSync(before) ? !!JSON.parse(fs.readFileSync(before, 'utf8')).test_model : false);
  fs.mkdirSync(out, { recursive: true });
  return writeAgentResults(out, module, records, config, { bootstrap, seed, testModel });
}

export async function runAgentCommand(argv, { core, host = null, log = (m) => process.stderr.write(`${m}\n`), progressStream = process.stderr } = {}) {
  const s = parseAgentArgs(argv);
  if (s.help) { console.log(AGENT_USAGE); return null; }
  if (s.rescore) {
    const scores = rescoreAgent(s.rescore, core.module, { bootstrap: s.bootstrap, seed: s.seed, out: s.out ?? s.rescore });
    if (!s.quiet) console.log(scores.summaryText);
    console.log(`re-scored ${s.rescore}: results in ${s.out ?? s.rescore}/ (metrics.json, metrics.csv, report.md, report.html)`);
    return scores;
  }
  const items = agentItems(s, core, log);
  if (s.buildOnly) { saveBuiltItems(items, log); return { items, out: s.out }; }
  const imagesRoot = path.resolve(s.images ?? items.root ?? s.dataset);
  const test = items.items.filter((it) => it.split === 'test');
  if (!test.length) throw new Error('no test items: nothing to evaluate');
  if (s.configs.includes('memory') && !items.items.some((it) => it.split === 'warmup'))
    throw new Error('the memory configuration needs warm-up items, and the item file has none (build it with --warmup 1 or more)');
  host ??= await (await import('./agent_host.mjs')).openAgentHost(s, core, imagesRoot);
  const config = agentRunConfig(s, items, host.identity ?? host.planner.identity, host.testModel);
  const store = PredictionStore.open(s.out, config, { restart: s.restart });
  saveBuiltItems(items, log);
  const tracesFile = path.join(s.out, TRACES);
  if (s.restart) fs.rmSync(tracesFile, { force: true });
  const warm = s.configs.includes('memory') ? items.items.filter((it) => it.split === 'warmup').length : 0;
  const total = warm + test.length * s.configs.length;
  const progress = new Progress(total, { already: store.records.length, label: 'agent ', stream: progressStream });
  if (store.resumed) log(`resuming ${s.out}: ${store.resumed} run(s) already there`);
  try {
    await runAblation(host, items.items, { store, tracesFile, outDir: s.out, seed: s.seed, maxRounds: s.maxRounds, configs: s.configs,
      readLetter: letterReader(core.module), progress, log });
  } catch (e) {
    e.message += `\nThe ${store.records.length} run(s) so far are kept in ${store.file}; the same command goes on from there.`;
    throw e;
  } finally {
    progress.end();
    store.close();
    await host.close?.();
  }
  const scores = writeAgentResults(s.out, core.module, store.records, config, { bootstrap: s.bootstrap, seed: s.seed, testModel: host.testModel });
  if (!s.quiet) console.log(scores.summaryText);
  console.log(`results: ${s.out}/ (items.jsonl, predictions.jsonl, traces.jsonl, memory.json, metrics.json, metrics.csv, report.md, report.html)`);
  return scores;
}

// Scores the test records and writes metrics.json, metrics.csv, report.md and report.html.
export function writeAgentResults(outDir, module, records, config, { bootstrap = 1000, seed = 0, testModel = false } = {}) {
  const test = records.filter((r) => r.split === 'test' && r.status === 'ok');
  const scored = scoreAblation(module, test, { bootstrap, seed, configs: config.configs });
  const warm = records.filter((r) => r.split === 'warmup');
  const counts = {
    test_runs: test.length, warmup_runs: warm.length,
    skipped: records.filter((r) => r.status === 'skipped').map((r) => ({ key: r.key, reason: r.reason })),
    unfinished: test.filter((r) => !r.finished).length,
    errors: test.filter((r) => r.error).length,
    unmapped: test.filter((r) => scored.chosen.get(r.key) === null).length,
    reflect_requests: Object.fromEntries(config.configs.map((c) => [c, test.filter((r) => r.config === c).reduce((a, r) => a + r.reflect_requests, 0)])),
    runs_with_memory_in_prompt: Object.fromEntries(config.configs.map((c) => [c, test.filter((r) => r.config === c && r.memory_in_prompt).length])),
  };
  const tables = ablationTables(scored);
  const scores = { created: new Date().toISOString(), run: config, test_model: !!testModel, counts, accuracy: scored.accuracy, differences: scored.differences,
    answers: test.map((r) => ({ key: r.key, chosen: scored.chosen.get(r.key), right: scored.chosen.get(r.key) === r.truth })) };
  fs.writeFileSync(path.join(outDir, 'metrics.json'), JSON.stringify(scores, null, 1));
  fs.writeFileSync(path.join(outDir, 'metrics_input.json'), JSON.stringify(scored.metrics_input));
  const rows = [
    ...scored.accuracy.map((a) => ({ part: 'accuracy', config: a.config, task: a.task, metric: 'accuracy', value: a.accuracy.value, ci_low: a.accuracy.low ?? '', ci_high: a.accuracy.high ?? '', items: a.items, unmapped: a.unmapped })),
    ...scored.differences.map((d) => ({ part: 'paired_difference', config: `${d.first}->${d.second}`, task: d.task, metric: 'difference', value: d.difference.value, ci_low: d.difference.low ?? '', ci_high: d.difference.high ?? '', items: d.items, unmapped: '', mcnemar_p: d.mcnemar_p })),
  ];
  fs.writeFileSync(path.join(outDir, 'metrics.csv'), toCsv(['part', 'config', 'task', 'metric', 'value', 'ci_low', 'ci_high', 'items', 'unmapped', 'mcnemar_p'], rows));
  const md = agentMarkdown(scores, tables);
  fs.writeFileSync(path.join(outDir, 'report.md'), md);
  fs.writeFileSync(path.join(outDir, 'report.html'), agentHtml(scores, tables, test, scored.chosen));
  scores.summaryText = `agent: ${test.length} test runs (${counts.unmapped} unmapped, ${counts.unfinished} without finish), ${warm.length} warm-up runs\n\n${tables.accuracy}\n${tables.differences}`;
  return scores;
}

function settingsLines(scores) {
  const r = scores.run;
  const b = r.backend ?? {};
  const id = typeof b === 'string' ? b : [b.planner, b.backend && `backend ${b.backend}`, b.url,
    b.package && `package ${b.package.package} (${b.package.variant}, manifest sha256 ${b.package.manifest_sha256})`].filter(Boolean).join('; ');
  return [`model: ${id}`, `items: ${r.items_file} (sha256 ${r.items_sha256})`,
    `item seed ${r.item_settings?.seed ?? '?'}, ${r.item_settings?.per_task ?? '?'} per task, ${r.item_settings?.warmup_images ?? '?'} warm-up images; agent seed ${r.seed}; max rounds ${r.max_rounds}`,
    `runs: ${scores.counts.test_runs} test, ${scores.counts.warmup_runs} warm-up, ${scores.counts.skipped.length} skipped${scores.counts.skipped.length ? ` (${scores.counts.skipped.slice(0, 3).map((k) => `${k.key}: ${k.reason}`).join('; ')})` : ''}; unmapped answers ${scores.counts.unmapped}; runs without finish ${scores.counts.unfinished}; errors ${scores.counts.errors}`,
    `reflection requests per configuration: ${JSON.stringify(scores.counts.reflect_requests)}; runs with memory in the prompt: ${JSON.stringify(scores.counts.runs_with_memory_in_prompt)}`];
}

function agentMarkdown(scores, tables) {
  const warn = scores.test_model ? '\n**Test model (random weights): every figure is at chance; this run shows the pipeline, not the method.**\n' : '';
  return `# Case agent ablation (EndoAgentBench-style multiple choice)\n${warn}\n${settingsLines(scores).map((l) => `- ${l}`).join('\n')}\n\n` +
    `## Accuracy (95 % bootstrap CI)\n\n${tables.accuracy}\n## Paired differences (same items)\n\n${tables.differences}`;
}

function agentHtml(scores, tables, test, chosen) {
  const warn = scores.test_model ? '<p class="warn">Test model (random weights): every figure is at chance; this run shows the pipeline, not the method.</p>' : '';
  const answers = test.map((r) => `<tr><td>${esc(r.config)}</td><td>${esc(r.task)}</td><td>${esc(r.item)}</td><td>${esc(r.truth)}</td>` +
    `<td>${esc(chosen.get(r.key) ?? '—')}</td><td>${esc(String(r.answer ?? ''))}</td><td>${esc(r.tools.join(' → '))}</td><td>${esc(r.error ?? '')}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Case agent ablation</title>
<style>body{font:14px/1.45 Helvetica,Arial,sans-serif;max-width:1200px;margin:24px auto;padding:0 16px}table{border-collapse:collapse;margin:10px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}.warn{background:#fff3cd;padding:8px}</style></head><body>
<h1>Case agent ablation (EndoAgentBench-style multiple choice)</h1>${warn}<ul>${settingsLines(scores).map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
<h2>Accuracy (95 % bootstrap CI)</h2>${markdownTable(tables.accuracy)}<h2>Paired differences (same items)</h2>${markdownTable(tables.differences)}
<h2>Answers (${test.length}; each run's trace is in traces.jsonl under its key "configuration|item")</h2>
<table><tr><th>configuration</th><th>task</th><th>item</th><th>key</th><th>read as</th><th>finish answer</th><th>tools</th><th>error</th></tr>${answers}</table></body></html>\n`;
}
