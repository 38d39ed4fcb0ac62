#!/usr/bin/env node
// evaluate.mjs: runs a model over a dataset and writes the results: every
// prediction (predictions.jsonl), the metrics (metrics.csv, metrics.json), a
// self-contained HTML report with plots (report.html), and tables in the
// layout of the published ones. See tools/README-evaluation.md.
//
//   node tools/evaluate.mjs TASK DATASET --model PKG [--backend local|server|openai] [--out DIR] ...
//   node tools/evaluate.mjs segmentation DATASET [tools/eval_segmentation.mjs options] [--out DIR]
//   node tools/evaluate.mjs agent DATASET [--model PKG | --backend server|openai --url URL] [--out DIR]  (or --task agent)
//   node tools/evaluate.mjs --rescore OUT/predictions.jsonl [--out DIR] [--table NAME]
//   TASK: classification | rec | reg | count | caption | mcq
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEvaluation } from './evaluation/run.mjs';
import { loadCores } from './evaluation/cores.mjs';
import { writeResults, rescore } from './evaluation/results.mjs';
import { TABLES, printTable } from './evaluation/tables.mjs';
import { defaultThreads } from './evaluation/backends.mjs';
import { TASKS } from './evaluation/tasks.mjs';

const USAGE = `usage:
  node tools/evaluate.mjs TASK DATASET [options]        TASK: classification, rec, reg, count, caption, mcq
  node tools/evaluate.mjs segmentation DATASET [options] (the interactive segmentation protocol)
  node tools/evaluate.mjs agent DATASET [options]        (the case agent's ablation; agent --help for its options)
  node tools/evaluate.mjs --rescore PREDICTIONS.jsonl [--out DIR] [--table NAME] [--labels SET]
  node tools/evaluate.mjs --table NAME RESULTS_DIR...   (${Object.keys(TABLES).join(', ')})
model:    --backend local|server|openai (local)  --model PACKAGE_DIR | NAME  --url URL  --api-key KEY
          --variant q4|fp32|...  --threads N  --logprobs-prefill  --retries N  --concurrency N (remote: questions in flight)
data:     --format auto|folders|csv|coco|masks|tsv|pairs  --images DIR  --image-column C  --label-column C
          --reference-column C  --labels LABELSET.json
split:    --split-file FILE [--split-part test] | --test-fraction F [--seed S]   (default: every item)
          --train-counts FILE.csv|LABELSET.json  --frequency-threshold 100
task:     --classify-by scoring|generation|both  --prompt TEXT ({labels}, {label})  --system TEXT
          --max-tokens N  --temperature T  --seed S  --circular  --box-format F --box-order xyxy|yxyx
          --count-label NAME  --limit N
output:   --out DIR  --restart  --bootstrap N (1000)  --table NAME  --quiet`;

export function parseArgs(argv) {
  const s = { backend: 'local', classifyBy: ['scoring'], seed: 0, temperature: 0, maxTokens: null, limit: 0, bootstrap: 1000,
    frequencyThreshold: 100, splitPart: 'test', threads: defaultThreads(), retries: 2 };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    const num = () => { const x = Number(v()); if (!Number.isFinite(x)) throw new Error(`${k} needs a number`); return x; };
    switch (k) {
      case '--backend': s.backend = v(); break;
      case '--model': s.model = v(); break;
      case '--url': s.url = v(); break;
      case '--api-key': s.apiKey = v(); break;
      case '--variant': s.variant = v(); break;
      case '--threads': s.threads = num(); break;
      case '--retries': s.retries = num(); break;
      case '--concurrency': s.concurrency = num(); break;
      case '--logprobs-prefill': s.logprobsPrefill = true; break;
      case '--format': s.format = v(); break;
      case '--images': s.images = v(); break;
      case '--image-column': s.imageColumn = v(); break;
      case '--label-column': s.labelColumn = v(); break;
      case '--reference-column': s.referenceColumn = v(); break;
      case '--labels': s.labels = v(); break;
      case '--split-file': s.splitFile = v(); break;
      case '--split-part': s.splitPart = v(); break;
      case '--test-fraction': s.testFraction = num(); break;
      case '--seed': s.seed = num(); break;
      case '--train-counts': s.trainCounts = v(); break;
      case '--frequency-threshold': s.frequencyThreshold = num(); break;
      case '--classify-by': { const m = v(); s.classifyBy = m === 'both' ? ['scoring', 'generation'] : [m]; break; }
      case '--prompt': s.prompt = v(); break;
      case '--system': s.systemPrompt = v(); break;
      case '--max-tokens': s.maxTokens = num(); break;
      case '--temperature': s.temperature = num(); break;
      case '--circular': s.circular = true; break;
      case '--box-format': s.boxFormat = v(); break;
      case '--box-order': s.boxOrder = v(); break;
      case '--region-input': s.regionInput = v(); break;
      case '--count-label': s.countLabel = v(); break;
      case '--limit': s.limit = num(); break;
      case '--out': s.out = v(); break;
      case '--restart': s.restart = true; break;
      case '--bootstrap': s.bootstrap = num(); break;
      case '--table': s.table = v(); break;
      case '--rescore': s.rescore = v(); break;
      case '--core': s.core = v(); break;
      case '--quiet': s.quiet = true; break;
      case '-h': case '--help': s.help = true; break;
      default:
        if (k.startsWith('--')) throw new Error(`unknown option ${k}\n${USAGE}`);
        rest.push(k);
    }
  }
  if (s.help || s.rescore) return s;
  // --table NAME DIR...: saved runs' tables (several runs for the upper-GI and EndoAgentBench layouts).
  if (s.table && rest.length >= 1 && !['segmentation', ...TASKS].includes(rest[0])) { s.tableDirs = rest; return s; }
  if (rest.length !== 2) throw new Error(USAGE);
  [s.task, s.dataset] = rest;
  for (const m of s.classifyBy) if (!['scoring', 'generation'].includes(m)) throw new Error(`--classify-by: scoring, generation or both (got ${m})`);
  if (!['local', 'server', 'openai'].includes(s.backend)) throw new Error(`--backend: local, server or openai (got ${s.backend})`);
  s.maxTokens ??= s.task === 'caption' ? 256 : 32;
  s.out ??= path.join('eval-results', `${s.task}-${path.basename(path.resolve(s.dataset)).replace(/\.[^.]+$/, '')}-${s.backend}`);
  return s;
}

// The segmentation protocol, folded in: tools/eval_segmentation.mjs's own
// options and code, plus --out DIR (results folder), --restart, and the same
// long-run behaviour: one record per image appended to predictions.jsonl,
// resumed when run again with the same settings, a progress line, an image
// that cannot be read skipped and reported.
async function segmentation(argv) {
  const seg = await import('./eval_segmentation.mjs');
  const { writeSegmentationResults } = await import('./evaluation/results.mjs');
  const { PredictionStore } = await import('./evaluation/predictions.mjs');
  const { Progress } = await import('./evaluation/progress.mjs');
  const own = { out: null, restart: false };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') own.out = argv[++i];
    else if (argv[i] === '--restart') own.restart = true;
    else rest.push(argv[i]);
  }
  const args = seg.parseArgs(rest);
  const csv = path.join(args.dataset, 'labels.csv');
  if (!fs.existsSync(csv)) throw new Error(`${csv} not found: segmentation needs a Kvasir-SEG style folder (labels.csv with image and mask columns)`);
  const out = own.out ?? path.join('eval-results', `segmentation-${path.basename(path.resolve(args.dataset))}`);
  const { limit, offset, json, threads, core, ...decisive } = args;
  const store = PredictionStore.open(out, { task: 'segmentation', ...decisive, dataset: path.resolve(args.dataset) }, { restart: own.restart });
  const { readCsv } = seg;
  const rows = readCsv(fs.readFileSync(csv, 'utf8')).slice(args.offset || 0);
  const total = args.limit > 0 ? Math.min(args.limit, rows.length) : rows.length;
  const progress = new Progress(total, { already: rows.slice(0, total).filter((r) => store.has(r.image)).length, label: 'segmentation ' });
  if (store.resumed) console.error(`resuming ${out}: ${store.resumed} image(s) already there`);
  try {
    await seg.evaluate(args, (m) => progress.message(m), {
      skip: (row) => store.has(row.image),
      onImage: (row, part) => { store.append({ key: row.image, task: 'segmentation', image: row.image, status: 'ok', ...part }); progress.tick(); },
      onBroken: (row, why) => { store.append({ key: row.image, task: 'segmentation', image: row.image, status: 'skipped', reason: why }); progress.message(`skipped ${row.image}: ${why}`); progress.tick({ skipped: true }); },
    });
  } catch (e) {
    e.message += `\n${store.records.length} image(s) are kept in ${out}/predictions.jsonl; the same command goes on from there.`;
    throw e;
  } finally { progress.end(); store.close(); }
  // Every image recorded in this folder, this run's and earlier ones', as one result.
  const { segmentationResult } = await import('./evaluation/results.mjs');
  const res = segmentationResult(store.records, args, path.basename(path.resolve(args.dataset)));
  console.log(`\n${seg.report(res, args.maxClicks)}`);
  if (res.skipped.length) console.log(`\n${res.skipped.length} image(s) skipped: ${res.skipped.map((x) => `${x.image} (${x.reason})`).join('; ')}`);
  await writeSegmentationResults(out, res, args, store.records);
  console.log(`\nresults: ${out}/ (predictions.jsonl, predictions.json, segmentation.json, metrics.csv, report.html)`);
}

async function main(argv) {
  if (argv[0] === 'segmentation') return segmentation(argv.slice(1));
  // The case agent's ablation on multiple-choice items (tools/evaluation/agent_cli.mjs).
  if (argv[0] === 'agent' || argv[argv.indexOf('--task') + 1] === 'agent') {
    const { runAgentCommand, parseAgentArgs, AGENT_USAGE } = await import('./evaluation/agent_cli.mjs');
    if (parseAgentArgs(argv).help) { console.log(AGENT_USAGE); return; }
    const coreAt = argv.indexOf('--core');
    await runAgentCommand(argv, { core: await loadCores(coreAt >= 0 ? argv[coreAt + 1] : null) });
    return;
  }
  const s = parseArgs(argv);
  if (s.help) { console.log(USAGE); return; }
  if (s.tableDirs) {
    const list = s.tableDirs.map((d) => {
      const f = path.join(d, 'metrics.json');
      if (!fs.existsSync(f)) throw new Error(`${f} not found: give the results folders of scored runs`);
      return JSON.parse(fs.readFileSync(f, 'utf8'));
    });
    console.log(printTable(s.table, list));
    return;
  }
  const core = await loadCores(s.core);
  if (s.rescore) {
    const out = s.out ?? path.dirname(s.rescore);
    let labels = null;
    if (s.labels) {
      const text = fs.readFileSync(s.labels, 'utf8');
      labels = s.labels.endsWith('.json') ? core.assistant.labelSetForClassification(text).labels.map((l) => l.id) : text.split(/\r?\n/).map((x) => x.trim()).filter(Boolean);
    }
    const scores = await rescore(s.rescore, out, { core, bootstrap: s.bootstrap, frequencyThreshold: s.frequencyThreshold, seed: s.seed, labels });
    if (scores.segmentation) {
      const { report } = await import('./eval_segmentation.mjs');
      console.log(report(scores.segmentation, scores.segmentation.args.maxClicks));
      console.log(`re-scored ${s.rescore}: results in ${out}/ (segmentation.json, metrics.csv, report.html, predictions.json)`);
      return;
    }
    console.log(`re-scored ${s.rescore}: results in ${out}/ (metrics.csv, metrics.json, report.html, predictions.json)`);
    if (s.table) console.log(printTable(s.table, scores));
    return;
  }
  // Ctrl-C: every answer so far is already on disk (one line each, written as it came).
  process.once('SIGINT', () => {
    process.stderr.write(`\ninterrupted: the answers so far are kept in ${s.out}/predictions.jsonl; run the same command again to go on.\n`);
    process.exit(130);
  });
  const run = await runEvaluation(s, core);
  const scores = await writeResults(run.outDir, { core, bootstrap: s.bootstrap, frequencyThreshold: s.frequencyThreshold, seed: s.seed });
  if (!s.quiet) console.log(scores.summaryText);
  console.log(`results: ${run.outDir}/ (predictions.jsonl, predictions.json, metrics.csv, metrics.json, report.html)`);
  if (s.table) console.log(printTable(s.table, scores));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await main(process.argv.slice(2));
    process.exit(0);
  } catch (e) {
    console.error(`evaluate: ${e.message}`);
    if (process.env.ES_DEBUG) console.error(e.stack);
    process.exit(1);
  }
}
