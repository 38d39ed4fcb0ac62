// The agent's driver (web/agent/agent_driver.js) and tools (agent_tools.js)
// over a scripted ToolEnvironment and a scripted planner, on the real core
// (es_agent_* in the Node build): the protocol's step sequence, the
// evaluator's warning and re-check on a constructed inconsistency, stop (by
// signal and by stop()), reject/edit and continue, failing tools and
// planners, replay, memory in the prompt only with use_memory, tool outputs
// in the registry's schemas, and a frame loop that keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCore } from './assistant_helpers.mjs';
import { scriptedEnvironment, rectsRle } from './agent_helpers.mjs';
import { AgentCore } from '../../web/agent/agent_core.js';
import { runAgent, requestSeed, rememberRun } from '../../web/agent/agent_driver.js';
import { createAgentTools, boxArray, boundText } from '../../web/agent/agent_tools.js';

const { core, why } = await loadCore();
const skip = core ? false : why;
const agentCore = core ? new AgentCore(core) : null;

const W = 100, H = 100;
// Outputs of a consistent case: two polyps, each box segmented to one part, two accepted lesions.
function consistentOutputs() {
  return {
    classify: [{ label: 'normal', probability: 0.1 }, { label: 'polyp', probability: 0.9 }],
    ground: [{ x1: 10, y1: 10, x2: 40, y2: 40, label: 'polyp', score: 0.8 }, { x1: 90, y1: 90, x2: 60, y2: 60, score: 0.7 }],
    segment: (key, p) => ({ rle: rectsRle(core.m, H, W, [[p.box.x1, p.box.y1, p.box.x2 - p.box.x1, p.box.y2 - p.box.y1]]),
      box: [p.box.x1, p.box.y1, p.box.x2, p.box.y2], score: 0.95 }),
    countLesions: { count: 2, mask_parts: 2 },
    ask: 'Two polyps: one on the left wall, one lower right.',
    draftReport: { applied: [{ path: 'findings[0].paris', value: '0-Is', probability: 0.7 }], rejected: [] },
    compare: 'No change.',
  };
}

// A planner that answers plans from a script (by step index) and reflects with a fixed text.
function scriptedPlanner(actions = [], { reflection = (p) => `Checked: ${p.seed}` } = {}) {
  const seen = { plans: [], reflections: [] };
  return {
    seen,
    identity: 'scripted-planner@1 (test)',
    async plan(req) {
      seen.plans.push(req);
      const a = actions[seen.plans.length - 1] ?? { tool: 'finish', arguments: { answer: 'done' } };
      return typeof a === 'string' ? a : JSON.stringify(a);
    },
    async reflect(req) {
      seen.reflections.push(req);
      return typeof reflection === 'function' ? reflection(req) : reflection;
    },
  };
}

function start(config, { question = 'What is on this image?', seed = 11, memory = null } = {}) {
  return agentCore.start({ config, question, imageKey: 'demo/image-2.png', model: 'scripted-planner@1 (test)', seed, memory });
}

test('protocol: the expected steps, every output in its schema, updates after every change', { skip }, async () => {
  const env = scriptedEnvironment(consistentOutputs(), { width: W, height: H });
  const run = start({ mode: 'protocol', label_set: 'hyperkvasir' });
  const updates = [];
  const r = await runAgent({ agent: run, planner: scriptedPlanner(), tools: createAgentTools(env), onUpdate: (s) => updates.push(s) });
  assert.equal(r.kind, 'finished');
  const { steps } = run.state().trace;
  assert.deepEqual(steps.map((s) => s.tool),
    ['classify', 'ground', 'segment', 'segment', 'count_lesions', 'describe_image', 'fill_report_fields', 'finish']);
  assert.deepEqual(steps.map((s) => s.origin), [...Array(7).fill('protocol'), 'protocol']);
  assert.deepEqual(steps[0].arguments, { label_set: 'hyperkvasir' });
  assert.deepEqual(steps[1].arguments, { text: 'polyp' });
  // The second box came in reversed: the tool orders it.
  assert.deepEqual(steps[1].output.boxes[1].box, [60, 60, 90, 90]);
  assert.deepEqual(steps[3].arguments, { boxes: [[60, 60, 90, 90]] });
  assert.deepEqual(steps[0].output.labels.map((l) => l.label), ['polyp', 'normal']);
  for (const s of steps.slice(0, -1)) {
    assert.equal(s.error, undefined, `${s.tool}: ${s.error}`);
    assert.deepEqual(agentCore.validateOutput(s.tool, s.output), { ok: true }, s.tool);
    assert.ok(s.checks.every((c) => c.level === 'pass'), `${s.tool}: ${JSON.stringify(s.checks)}`);
    assert.match(s.reflection, /^Checked: \d+$/);
    assert.ok(s.finished_ms >= s.started_ms);
  }
  assert.match(r.answer, /Most likely class: polyp \(90%\)\. Boxes found: 2\. Lesions counted: 2\./);
  assert.match(r.answer, /All checks agree/);
  // Updates: each step seen running (output null) and finished.
  for (let i = 0; i < 7; i++) {
    assert.ok(updates.some((u) => u.trace.steps.length === i + 1 && u.trace.steps[i].output === null), `step ${i} running`);
    assert.ok(updates.some((u) => u.trace.steps[i]?.output !== null && u.trace.steps[i]?.output !== undefined), `step ${i} done`);
  }
  assert.equal(updates.at(-1).request.kind, 'finished');
  // The environment was called with the image key and pixel boxes.
  assert.deepEqual(env.calls.filter((c) => c[0] === 'segment').map((c) => c[2].box),
    [{ x1: 10, y1: 10, x2: 40, y2: 40 }, { x1: 60, y1: 60, x2: 90, y2: 90 }]);
  run.free();
});

test('an inconsistency: ground finds 2 boxes, segment gives 1 part: the evaluator warns and the protocol re-checks', { skip }, async () => {
  const outputs = consistentOutputs();
  let segments = 0;
  // The second box's mask comes back empty (SAM found nothing there).
  outputs.segment = (key, p) => {
    segments++;
    const rects = segments === 2 ? [] : [[p.box.x1, p.box.y1, p.box.x2 - p.box.x1, p.box.y2 - p.box.y1]];
    return { rle: rectsRle(core.m, H, W, rects), box: [p.box.x1, p.box.y1, p.box.x2, p.box.y2], score: 0.5 };
  };
  const env = scriptedEnvironment(outputs, { width: W, height: H });
  const run = start({ mode: 'protocol', label_set: 'hyperkvasir' });
  const planner = scriptedPlanner();
  const r = await runAgent({ agent: run, planner, tools: createAgentTools(env) });
  assert.equal(r.kind, 'finished');
  const { steps } = run.state().trace;
  const tools = steps.map((s) => s.tool);
  assert.deepEqual(tools.slice(0, 4), ['classify', 'ground', 'segment', 'segment']);
  const warn = steps[3].checks.find((c) => c.id === 'boxes_vs_masks');
  assert.equal(warn.level, 'warn');
  assert.match(warn.message, /2 box/);
  // The re-check comes right after the segment stage, from the evaluator, and segments the box no mask covers.
  assert.equal(steps[4].origin, 'recheck');
  assert.equal(steps[4].recheck_of, 'boxes_vs_masks');
  assert.equal(steps[4].tool, 'segment');
  assert.deepEqual(steps[4].arguments, { boxes: [[60, 60, 90, 90]] });
  // The reflection prompt of the warned step shows the warning to the model.
  const reflectPrompt = planner.seen.reflections.find((q) => /check:/.test(q.prompt));
  assert.ok(reflectPrompt, 'a reflection prompt carries the warning');
  // Re-segmented (the third call gives a mask): the check passes again, the protocol goes on.
  assert.equal(steps[4].checks.find((c) => c.id === 'boxes_vs_masks').level, 'pass');
  assert.deepEqual(tools.slice(5), ['count_lesions', 'describe_image', 'fill_report_fields', 'finish']);
  run.free();
});

test('a count that disagrees with the boxes is a warning with a re-ground, then stays in the answer', { skip }, async () => {
  const outputs = consistentOutputs();
  outputs.countLesions = { count: 3, mask_parts: 3 };
  const run = start({ mode: 'protocol', label_set: 'hyperkvasir', reflect: false });
  const r = await runAgent({ agent: run, planner: scriptedPlanner(), tools: createAgentTools(scriptedEnvironment(outputs)) });
  const { steps } = run.state().trace;
  const recheck = steps.find((s) => s.origin === 'recheck');
  assert.equal(recheck.recheck_of, 'count_vs_boxes');
  assert.equal(recheck.tool, 'ground');
  assert.match(r.answer, /Unresolved checks: 1/);
  run.free();
});

test('stop: by AbortSignal while a tool runs, and by run.stop(); a late output is refused', { skip }, async () => {
  const outputs = consistentOutputs();
  const controller = new AbortController();
  let release;
  const gate = new Promise((r) => { release = r; });
  const env = scriptedEnvironment(outputs);
  env.ground = async (...a) => { controller.abort(); await gate; return outputs.ground; };
  const run = start({ mode: 'protocol', label_set: 'hyperkvasir' });
  const pending = runAgent({ agent: run, planner: scriptedPlanner(), tools: createAgentTools(env), signal: controller.signal });
  setTimeout(() => release(), 10);
  const r = await pending;
  assert.equal(r.kind, 'stopped');
  const st = run.state();
  assert.equal(st.request.kind, 'stopped');
  assert.deepEqual(st.trace.steps.map((s) => s.tool), ['classify', 'ground']);
  assert.equal(st.trace.steps[1].output, null, 'the stopped step stays without output');
  run.free();

  // run.stop() from the panel while the planner thinks.
  const run2 = start({ mode: 'planned', max_rounds: 2 });
  const planner = scriptedPlanner();
  const plan = planner.plan;
  planner.plan = async (req) => { run2.stop(); return plan(req); };
  const r2 = await runAgent({ agent: run2, planner, tools: createAgentTools(scriptedEnvironment(outputs)) });
  assert.equal(r2.kind, 'stopped');
  assert.equal(run2.state().trace.steps.length, 0);
  run2.free();
});

test('reject and continue; edit and continue (after the finish and while running)', { skip }, async () => {
  const outputs = consistentOutputs();
  const env = scriptedEnvironment(outputs);
  const tools = createAgentTools(env);
  const planner = scriptedPlanner();
  const run = start({ mode: 'protocol', label_set: 'hyperkvasir' });
  await runAgent({ agent: run, planner, tools });
  const before = run.state().trace.steps;
  assert.equal(before.length, 8);
  // The clinician rejects the ground step: the steps after it are dropped and the run continues.
  assert.deepEqual(run.rejectStep(1, 'boxes on the wrong folds'), { ok: true });
  const r = await runAgent({ agent: run, planner, tools });
  assert.equal(r.kind, 'finished');
  const after = run.state().trace.steps;
  assert.equal(after[1].status, 'rejected');
  assert.equal(after[1].note, 'boxes on the wrong folds');
  assert.equal(after[1].reflection, '');
  // A rejected ground is not segmented; the evaluator ignores it.
  assert.ok(!after.slice(2).some((s) => s.tool === 'segment' && s.origin === 'protocol'), after.map((s) => s.tool).join(','));
  assert.equal(after.at(-1).tool, 'finish');

  // Edit the classify step while the run is waiting on a tool: the old request's answer is refused, the run follows the edit.
  const run2 = start({ mode: 'protocol', label_set: 'hyperkvasir', reflect: false });
  const env2 = scriptedEnvironment(outputs);
  let edited = false;
  env2.ground = async (key, text) => {
    if (!edited) {
      edited = true;
      const e = run2.editStep(0, { labels: [{ label: 'ulcer', probability: 0.8 }, { label: 'polyp', probability: 0.2 }] }, 'it is an ulcer');
      assert.deepEqual(e, { ok: true });
    }
    env2.calls.push(['ground', key, text]);
    return outputs.ground;
  };
  const r2 = await runAgent({ agent: run2, planner, tools: createAgentTools(env2) });
  assert.equal(r2.kind, 'finished');
  const s2 = run2.state().trace.steps;
  assert.equal(s2[0].status, 'edited');
  assert.equal(s2[0].original_output.labels[0].label, 'polyp');
  assert.deepEqual(s2[1].arguments, { text: 'ulcer' });
  assert.deepEqual(env2.calls.filter((c) => c[0] === 'ground').map((c) => c[2]), ['polyp', 'ulcer']);
  run.free();
  run2.free();
});

test('a failing tool is the step\'s error; a failing or refused planner stops the run in words', { skip }, async () => {
  const outputs = consistentOutputs();
  outputs.classify = new Error('There is no label set "gi_findings".');
  const run = start({ mode: 'protocol' });
  const r = await runAgent({ agent: run, planner: scriptedPlanner(), tools: createAgentTools(scriptedEnvironment(outputs)) });
  assert.equal(r.kind, 'finished');
  const steps = run.state().trace.steps;
  assert.match(steps[0].error, /no label set "gi_findings"/);
  assert.deepEqual(steps[1].arguments, { text: 'lesion' });  // no class: ground "lesion"
  run.free();

  const run2 = start({ mode: 'planned' });
  const bad = scriptedPlanner(['nonsense', '{"tool":"ground"}', '{"tool":"nope","arguments":{}}']);
  const r2 = await runAgent({ agent: run2, planner: bad, tools: createAgentTools(scriptedEnvironment(outputs)) });
  assert.equal(r2.kind, 'stopped');
  assert.match(r2.error, /refused 3 times: The tool "nope" is not one the agent may call now/);
  assert.deepEqual(bad.seen.plans.map((p) => p.seed), [0, 1, 2].map((a) => requestSeed('11', 'plan', 0, a)));
  run2.free();

  const run3 = start({ mode: 'planned' });
  const broken = scriptedPlanner();
  broken.plan = async () => { throw new Error('the model is not loaded'); };
  const r3 = await runAgent({ agent: run3, planner: broken, tools: createAgentTools(scriptedEnvironment(outputs)) });
  assert.equal(r3.kind, 'stopped');
  assert.match(r3.error, /could not plan the next step: the model is not loaded/);
  run3.free();
});

test('planned mode: the model\'s calls, then only finish after max_rounds; the run ends only on finish', { skip }, async () => {
  const outputs = consistentOutputs();
  const actions = [
    { tool: 'ground', arguments: { text: 'polyp', max_boxes: 2 } },
    { tool: 'describe_region', arguments: { box: [10, 10, 40, 40], question: 'What is this?' } },
  ];
  const planner = scriptedPlanner(actions, { reflection: 'Final answer: two polyps.' });
  const run = start({ mode: 'planned', max_rounds: 2 });
  const r = await runAgent({ agent: run, planner, tools: createAgentTools(scriptedEnvironment(outputs)) });
  assert.equal(r.kind, 'finished');
  assert.equal(r.answer, 'done');
  assert.deepEqual(run.state().trace.steps.map((s) => [s.tool, s.origin, s.round]),
    [['ground', 'model', 1], ['describe_region', 'model', 2], ['finish', 'model', 3]]);
  assert.deepEqual(planner.seen.plans.map((p) => p.allowedTools.length), [9, 9, 1]);
  assert.deepEqual(planner.seen.plans[2].allowedTools, ['finish']);
  assert.deepEqual(planner.seen.plans[2].actionSchema.properties.tool, { const: 'finish' });
  assert.match(planner.seen.plans[1].prompt, /reflection: Final answer: two polyps\./);
  run.free();
});

test('memory goes into the planning prompt only with use_memory; rememberRun keeps warned reflections', { skip }, async () => {
  let memory = agentCore.addMemory(null, 'On flat lesions, ground "flat polyp" first.', { source: 'earlier.png' }).memory;
  for (const useMemory of [true, false]) {
    const planner = scriptedPlanner();
    const run = start({ mode: 'planned', use_memory: useMemory }, { memory });
    await runAgent({ agent: run, planner, tools: createAgentTools(scriptedEnvironment(consistentOutputs())) });
    const shown = planner.seen.plans.every((p) => p.prompt.includes('ground "flat polyp" first'));
    assert.equal(shown, useMemory, `use_memory ${useMemory}`);
    assert.equal(planner.seen.plans.some((p) => p.prompt.includes('flat polyp')), useMemory);
    run.free();
  }
  // A disabled entry is not shown either.
  memory = agentCore.enableMemory(memory, 1, false);
  const planner = scriptedPlanner();
  const run = start({ mode: 'planned' }, { memory });
  await runAgent({ agent: run, planner, tools: createAgentTools(scriptedEnvironment(consistentOutputs())) });
  assert.ok(!planner.seen.plans[0].prompt.includes('flat polyp'));
  run.free();
  // rememberRun: from a run with a warning, its reflection is kept (once).
  const outputs = consistentOutputs();
  outputs.countLesions = { count: 3 };
  const run2 = start({ mode: 'protocol', label_set: 'hyperkvasir' });
  await runAgent({ agent: run2, planner: scriptedPlanner([], { reflection: (p) => (/check:/.test(p.prompt) ? 'Counts and boxes disagree: ground again.' : 'Fine.') }),
    tools: createAgentTools(scriptedEnvironment(outputs)) });
  const trace = run2.state().trace;
  const a = rememberRun(agentCore, memory, trace);
  assert.equal(a.added, 1);
  assert.equal(a.memory.entries.at(-1).text, 'Counts and boxes disagree: ground again.');
  assert.equal(a.memory.entries.at(-1).source, 'demo/image-2.png');
  assert.equal(rememberRun(agentCore, a.memory, trace).added, 0);
  run2.free();
});

test('replay: the same planner, tools and seed give the same trace; a hand-altered trace is caught', { skip }, async () => {
  const traces = [];
  for (let i = 0; i < 2; i++) {
    const run = start({ mode: 'protocol', label_set: 'hyperkvasir' }, { seed: 42 });
    await runAgent({ agent: run, planner: scriptedPlanner(), tools: createAgentTools(scriptedEnvironment(consistentOutputs())) });
    traces.push(run.traceJsonl());
    run.free();
  }
  assert.equal(agentCore.traceDifference(traces[0], traces[1]), '');
  // The replay needs the run's settings the header does not hold (here the label set).
  assert.match(agentCore.replay(traces[0], { config: { label_set: 'polyp_attributes' } }).difference, /step 1 \(classify\): the arguments differ/);
  assert.equal(agentCore.replay(traces[0], { config: { label_set: 'hyperkvasir' } }).difference, '');
  // Another seed: the reflections (which name their seed here) differ.
  const other = start({ mode: 'protocol', label_set: 'hyperkvasir' }, { seed: 43 });
  await runAgent({ agent: other, planner: scriptedPlanner(), tools: createAgentTools(scriptedEnvironment(consistentOutputs())) });
  assert.match(agentCore.traceDifference(traces[0], other.traceJsonl()), /step 1 \(classify\): the reflections differ/);
  other.free();
  // Hand-altered: the probability of the top class lowered so the margin check would warn.
  const altered = traces[0].replace('"probability":0.9', '"probability":0.5');
  assert.notEqual(altered, traces[0]);
  assert.match(agentCore.replay(altered, { config: { label_set: 'hyperkvasir' } }).difference, /step 1 \(classify\)/);
});

test('tools: outputs cut to the schema\'s bounds; missing environment methods and bad prompts in words', { skip }, async () => {
  const env = scriptedEnvironment({
    classify: Array.from({ length: 80 }, (_, i) => ({ label: `label ${i} ${'x'.repeat(70)}`, probability: i === 3 ? 1.5 : -0.2 })),
    ground: Array.from({ length: 40 }, () => ({ x1: -5, y1: 3, x2: 500, y2: 60 })),
    ask: 'é'.repeat(5000),
  });
  const tools = createAgentTools(env);
  const ctx = { imageKey: 'img', step: 0 };
  const c = await tools.run('classify', { label_set: 'x' }, ctx);
  assert.equal(c.labels.length, 64);
  assert.equal(c.labels[0].probability, 1);
  assert.equal(c.labels[0].label.length, 64);
  assert.deepEqual(agentCore.validateOutput('classify', c), { ok: true });
  const g = await tools.run('ground', { text: 'polyp', max_boxes: 16 }, ctx);
  assert.equal(g.boxes.length, 16);
  assert.deepEqual(g.boxes[0].box, [0, 3, 100, 60]);
  assert.deepEqual(agentCore.validateOutput('ground', g), { ok: true });
  const d = await tools.run('describe_image', { question: '' }, ctx);
  assert.equal(Array.from(d.text).length, 4000);
  assert.deepEqual(agentCore.validateOutput('describe_image', d), { ok: true });
  await assert.rejects(tools.run('segment', {}, ctx), /needs points or boxes/);
  // Points and boxes are put onto the image before the environment sees them.
  const seen = [];
  const segEnv = scriptedEnvironment({ segment: (key, p) => { seen.push(p); return { rle: { size: [100, 100], counts: '0' } }; } });
  const s = await createAgentTools(segEnv).run('segment', { points: [{ x: 500, y: -0, positive: false }], boxes: [[90, 90, 400, 400]] }, ctx);
  assert.deepEqual(seen, [{ points: [{ x: 100, y: 0, positive: false }], box: { x1: 90, y1: 90, x2: 100, y2: 100 } }]);
  assert.deepEqual(s.masks[0].box, [90, 90, 100, 100]);
  await assert.rejects(tools.run('ground', { text: 'x' }, { imageKey: 'missing' }), /"missing" is not in the case/);
  const bare = createAgentTools({ image: () => ({ width: 10, height: 10 }) });
  await assert.rejects(bare.run('fill_report_fields', {}, ctx), /Drafting the report is not available here/);
  await assert.rejects(bare.run('finish', {}, ctx), /no tool "finish"/);
  assert.deepEqual(boxArray({ x1: 5, y1: 9, x2: 1, y2: 2 }), [1, 2, 5, 9]);
  assert.equal(boundText('😀😀😀', 2), '😀😀');
});

test('the driver never holds the event loop: the loop turns between any two requests', { skip }, async () => {
  let ticks = 0, done = false;
  const spin = () => { ticks++; if (!done) setImmediate(spin); };
  setImmediate(spin);
  const seen = [];
  const env = scriptedEnvironment(consistentOutputs());
  const tools = createAgentTools(env);
  const planner = scriptedPlanner();
  const reflect = planner.reflect;
  planner.reflect = (q) => { seen.push(ticks); return reflect(q); };
  const run = start({ mode: 'protocol', label_set: 'hyperkvasir' });
  const r = await runAgent({ agent: run, planner, tools: { run: (...a) => { seen.push(ticks); return tools.run(...a); } } });
  done = true;
  assert.equal(r.kind, 'finished');
  assert.equal(seen.length, 14);  // 7 tools, 7 reflections, all answered synchronously
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `no task between requests ${i - 1} and ${i}: ${seen}`);
  run.free();
});
