// agent_run.mjs: the case agent on multiple-choice items, in the three
// configurations of the EndoAgent paper's ablation:
//   single      no reflection, no memory: the model plans its tool calls and
//               answers (finish) after them
//   reflection  + a reflection after every tool, in the next planning prompt
//   memory      + the long-term memory, built from the reflections of the
//               warm-up items (a disjoint set of images, agent_items.mjs),
//               never from the test items
// The loop is the core's (src/agent through es_agent_*), driven by
// web/agent/agent_driver.js's runAgent with a planner (the model) and the
// tools; finish's answer is constrained to the option letters
// (AgentConfig.answer_choices). Every run's trace is kept (traces.jsonl) and
// each answer is one record of predictions.jsonl (resumable, as every task of
// tools/evaluate.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { hash32 } from './split.mjs';
import { itemQuestion } from './agent_items.mjs';
import { ABLATION } from './agent_scoring.mjs';

export const TRACES = 'traces.jsonl';
export const MEMORY = 'memory.json';
export const MEMORY_HEADING = 'Lessons from earlier cases:';  // how src/agent's planning prompt introduces the memory

// Each item's seed: the same in every configuration (paired runs), independent of order and resume.
export const itemSeed = (seed, item) => hash32(`${seed}\u0000${item.id}`) & 0x7fffffff;

// One run of the agent on one item. host: {agentCore, runAgent, planner, tools}.
// -> the record's fields (answer, steps, reflect_requests, memory_in_prompt, error, trace lines)
export async function runAgentOnItem(host, item, cfg, { memory = null, seed = 0, maxRounds = 3, signal } = {}) {
  const { agentCore, runAgent, planner, tools } = host;
  let reflectRequests = 0, planRequests = 0, memoryInPrompt = false;
  // The planner seen through a counter: what the loop asked of the model, for the record (and the tests).
  const watched = {
    identity: planner.identity,
    plan: (a) => { planRequests++; if (a.prompt?.includes(MEMORY_HEADING)) memoryInPrompt = true; return planner.plan(a); },
    reflect: (a) => { reflectRequests++; return planner.reflect(a); },
  };
  // An image that cannot be read: the item is skipped with the reason (the run goes on).
  try { host.beforeRun?.(item); } catch (e) { return { skipped: `the image cannot be read (${e.message})` }; }
  const t0 = performance.now();
  const config = { mode: 'planned', max_rounds: maxRounds, reflect: cfg.reflect, use_memory: cfg.use_memory,
    answer_choices: Object.keys(item.options) };
  const run = agentCore.start({ config, question: itemQuestion(item), imageKey: item.image, model: identityText(planner.identity),
    seed: itemSeed(seed, item), memory });
  let error = null;
  try {
    // The driver never throws for a tool's or the model's failure: a model failure stops the run with `error`.
    const res = await runAgent({ agent: run, planner: watched, tools, signal });
    if (res?.error) error = res.error;
  } catch (e) {
    error = e.message;
  }
  try {
    const request = run.next();
    const traceText = run.traceJsonl();
    const trace = traceText.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const steps = trace.slice(1);
    return {
      answer: request.kind === 'finished' ? request.answer : null,
      finished: request.kind === 'finished',
      ...(error ? { error } : request.kind !== 'finished' ? { error: `the run ended without finish (${request.kind})` } : {}),
      tools: steps.map((s) => s.tool),
      reflections: steps.map((s) => s.reflection).filter(Boolean),
      plan_requests: planRequests, reflect_requests: reflectRequests, memory_in_prompt: memoryInPrompt,
      total_ms: Math.round(performance.now() - t0),
      trace,
    };
  } finally {
    run.free();
  }
}

export function identityText(identity) {
  if (!identity) return '';
  if (typeof identity === 'string') return identity;
  return [identity.model ?? identity.package ?? identity.name, identity.revision, identity.backend].filter(Boolean).join(' / ');
}

// The memory entry a warm-up run leaves: what was asked, what the agent did,
// whether it was right (the warm-up items' keys may be used: they are never
// test items), and its last reflection. At most 1000 characters (agent_memory.h).
export function memoryEntryText(item, rec, chosen) {
  const right = chosen === item.answer;
  const said = chosen ? `${chosen} (${item.options[chosen]})` : `"${String(rec.answer ?? 'nothing').slice(0, 60)}", which names no option`;
  let t = `${item.task} question "${item.question}": tools ${rec.tools.filter((x) => x !== 'finish').join(' -> ') || 'none'}; ` +
    `answered ${said}, ${right ? 'right' : `wrong (the answer was ${item.answer}: ${item.options[item.answer]})`}.`;
  const last = rec.reflections.at(-1);
  if (last) t += ` Reflection: ${last}`;
  return t.length > 1000 ? `${t.slice(0, 996)}...` : t;
}

// The whole ablation over the items, appending to `store` (PredictionStore)
// and `tracesFile`. readLetter(item, answer) -> letter | null (the metrics
// core's reading). Warm-up first (reflection on, no memory), its entries make
// the memory; then each configuration over the test items.
export async function runAblation(host, items, { store, tracesFile, outDir, seed = 0, maxRounds = 3, configs = ABLATION.map((c) => c.id),
  readLetter, progress = null, log = () => {}, signal } = {}) {
  const cfgs = ABLATION.filter((c) => configs.includes(c.id));
  const warmup = items.filter((it) => it.split === 'warmup');
  const test = items.filter((it) => it.split === 'test');
  const appendTrace = (key, rec) => { if (rec.trace) fs.appendFileSync(tracesFile, `${JSON.stringify({ key, trace: rec.trace })}\n`); };
  const record = (key, cfgId, item, rec) => {
    if (rec.skipped) return { key, config: cfgId, split: item.split, task: item.task, item: item.id, image: item.image, status: 'skipped', reason: rec.skipped };
    const { trace, ...kept } = rec;
    return { key, config: cfgId, split: item.split, task: item.task, item: item.id, image: item.image, question: item.question,
      options: item.options, truth: item.answer, status: 'ok', ...kept, steps: trace.length - 1 };
  };
  // 1. Warm-up: reflections for the memory (needed only by the memory configuration).
  let memory = null;
  if (cfgs.some((c) => c.use_memory)) {
    const warmCfg = { id: 'warmup', reflect: true, use_memory: false };
    for (const item of warmup) {
      const key = `warmup|${item.id}`;
      if (store.has(key)) { progress?.tick(); continue; }
      const rec = await runAgentOnItem(host, item, warmCfg, { seed, maxRounds, signal });
      appendTrace(key, rec);
      const r = record(key, 'warmup', item, rec);
      if (!rec.skipped) r.memory_entry = memoryEntryText(item, rec, readLetter(item, rec.answer));
      store.append(r);
      progress?.tick();
    }
    // In item order, whatever order the runs were made in (a resumed run gives the same memory).
    for (const item of warmup) {
      const r = store.records.find((x) => x.key === `warmup|${item.id}`);
      if (!r?.memory_entry) continue;
      ({ memory } = host.agentCore.addMemory(memory, r.memory_entry, { createdAt: '2000-01-01T00:00:00Z', source: `warm-up: ${item.id}` }));
    }
    if (outDir) fs.writeFileSync(path.join(outDir, MEMORY), JSON.stringify(memory ?? { version: 1, next_id: 1, entries: [] }, null, 1));
    log(`memory: ${memory?.entries?.length ?? 0} entr${memory?.entries?.length === 1 ? 'y' : 'ies'} from ${warmup.length} warm-up item(s)`);
  }
  // 2. The configurations over the test items (the memory is passed to every run: use_memory decides).
  for (const cfg of cfgs) {
    for (const item of test) {
      const key = `${cfg.id}|${item.id}`;
      if (store.has(key)) { progress?.tick(); continue; }
      const rec = await runAgentOnItem(host, item, cfg, { memory, seed, maxRounds, signal });
      appendTrace(key, rec);
      store.append(record(key, cfg.id, item, rec));
      progress?.tick();
    }
  }
  return { memory, warmup: warmup.length, test: test.length };
}
