// A planned agent run whose plans and reflections come from endoscribe-server
// (web/agent/remote_planner.js over OpenAI tool calling, constrained by
// src/constrained) with a tiny random-weights model, driven by the agent's
// driver (web/agent/agent_driver.js) on the real core (es_agent_* in the Node
// build), tools over a scripted ToolEnvironment (tests/node/agent_helpers.mjs):
// the run ends on finish, every step is a valid call of an allowed tool, the
// trace has the same header and step fields as a run of the local planner
// (web/agent/local_planner.js) on the same package, the same seed gives the
// same trace, and it replays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, FIXTURE, buildPackage, makeCheckpoint } from './model_helpers.mjs';
import { findServerBinary, startServer } from './server_helpers.mjs';
import { RemoteClient } from '../../web/remote/client.js';
import { RemotePlanner } from '../../web/agent/remote_planner.js';

// The driver, tools and core wrapper come from the agent-run branch; skip until they are here.
const need = ['web/agent/agent_core.js', 'web/agent/agent_driver.js', 'web/agent/agent_tools.js', 'tests/node/agent_helpers.mjs',
  'tests/node/assistant_helpers.mjs'].filter((f) => !fs.existsSync(path.join(ROOT, f)));
let agentCore = null, agentCoreModule = null, runAgent = null, createAgentTools = null, helpers = null, why = null;
if (need.length) {
  why = `the agent's driver is not on this branch (${need.join(', ')})`;
} else {
  const { loadCore } = await import('./assistant_helpers.mjs');
  const { core, why: coreWhy } = await loadCore();
  if (!core) why = coreWhy;
  else if (typeof core.m._es_agent_registry !== 'function') why = 'the WASM module has no es_agent_* exports (rebuild it)';
  else {
    agentCoreModule = core;
    agentCore = new (await import('../../web/agent/agent_core.js')).AgentCore(core);
    ({ runAgent } = await import('../../web/agent/agent_driver.js'));
    ({ createAgentTools } = await import('../../web/agent/agent_tools.js'));
    helpers = await import('./agent_helpers.mjs');
  }
}
const SERVER = findServerBinary();
if (!why && !SERVER) why = 'endoscribe-server is not built';
if (why) console.log(`# skipped: ${why}`);

const MODEL = 'tiny-random';
const IMAGE_KEY = 'demo/image-2.png';
const IMAGE = fs.readFileSync(path.join(FIXTURE, 'golden/image.png'));
const W = 100, H = 100;

function outputs() {
  return {
    classify: [{ label: 'normal', probability: 0.2 }, { label: 'polyp', probability: 0.8 }],
    ground: [{ x1: 10, y1: 10, x2: 40, y2: 40, label: 'polyp', score: 0.8 }],
    segment: (key, p) => ({ rle: helpers.rectsRle(agentCore.m, H, W, [[10, 10, 30, 30]]), box: [10, 10, 40, 40], score: 0.9 }),
    countLesions: { count: 1, mask_parts: 1 },
    ask: 'One polyp on the left wall.',
    draftReport: { applied: [], rejected: [] },
    compare: 'No change.',
  };
}

let pkg = null, server = null, base = null;

describe('a planned agent run on endoscribe-server', { skip: why ?? false, timeout: 600000 }, () => {
  before(async () => {
    const ckpt = makeCheckpoint(['--seed', '5']);
    pkg = buildPackage(ckpt, ['--quant', 'none']);
    fs.rmSync(ckpt, { recursive: true, force: true });
    server = await startServer(['--model', pkg, '--model-name', MODEL, '--variant', 'fp32', '--cpu']);
    base = server.url;
  });
  after(async () => {
    if (server) await server.stop();
    if (pkg) fs.rmSync(pkg, { recursive: true, force: true });
  });

  const remotePlanner = async () => {
    const client = new RemoteClient({ base });
    return new RemotePlanner({ client, model: MODEL, registry: agentCore.registry(), identity: await RemotePlanner.describe(client, MODEL, 'server'),
      parseAction: (text, allowed) => agentCore.parseAction(text, allowed), imageFor: async (key) => (key === IMAGE_KEY ? { key, bytes: IMAGE } : null),
      backend: 'server', temperature: 1.0, planTokens: 200, reflectTokens: 40 });
  };
  const run = async (planner, seed) => {
    const agent = agentCore.start({ config: { mode: 'planned', max_rounds: 3, reflect: true }, question: 'Is there a polyp, and how many?',
      imageKey: IMAGE_KEY, model: planner.identity, seed });
    const plans = [];
    const watched = { ...planner, identity: planner.identity,
      plan: async (req) => { const t = await planner.plan(req); plans.push({ req, t }); return t; },
      reflect: (req) => planner.reflect(req) };
    const r = await runAgent({ agent, planner: watched, tools: createAgentTools(helpers.scriptedEnvironment(outputs(), { width: W, height: H })) });
    const out = { r, trace: agent.state().trace, jsonl: agent.traceJsonl(), plans };
    agent.free();
    return out;
  };

  test('ends on finish, every step a valid call of an allowed tool; same seed, same trace; it replays', async () => {
    const planner = await remotePlanner();
    assert.equal(planner.identity, `${MODEL} (fp32, server)`);
    const a = await run(planner, 21);
    console.log(helpers.traceSummary(a.trace));
    assert.equal(a.r.kind, 'finished', a.r.error);
    const steps = a.trace.steps;
    assert.equal(steps.at(-1).tool, 'finish');
    assert.ok(steps.length <= 4, `${steps.length} steps for max_rounds 3`);
    assert.equal(planner.mode, 'tools');
    for (const { req, t } of a.plans) {
      const check = agentCore.parseAction(t, req.allowedTools);
      assert.ok(check.ok, `${t}: ${check.error}`);
    }
    for (const s of steps) {
      assert.deepEqual(agentCore.validateArguments(s.tool, s.arguments), { ok: true }, `${s.tool} ${JSON.stringify(s.arguments)}`);
      assert.equal(s.model, planner.identity);
    }
    assert.equal(a.trace.header.model, planner.identity);
    const b = await run(planner, 21);
    assert.equal(agentCore.traceDifference(a.jsonl, b.jsonl), '');
    const replay = agentCore.replay(a.jsonl, { config: { mode: 'planned', max_rounds: 3, reflect: true } });
    assert.equal(replay.difference, '', replay.error);
  });

  test('the trace has the same header and step fields as a run with the local planner on the same package', async () => {
    const remote = await run(await remotePlanner(), 8);
    // The local planner (web/agent/local_planner.js) on the same package, run in this process by
    // onnxruntime-web as the browser runs it.
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const { ModelPackage } = await import('../../web/assistant/package.js');
    const { folderSource } = await import('../../web/assistant/sources.js');
    const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
    const { LocalPlanner } = await import('../../web/agent/local_planner.js');
    const opened = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(pkg, p))));
    const runtime = await AssistantRuntime.create({ ort, core: agentCoreModule, pkg: opened, executionProviders: ['wasm'], variant: 'fp32' });
    let local;
    try {
      const planner = new LocalPlanner({ runtime, imageFor: async (key) => (key === IMAGE_KEY ? { key, bytes: IMAGE } : null),
        modelName: MODEL, planTokens: 200, reflectTokens: 40 });
      local = await run(planner, 8);
    } finally {
      await runtime.release();
    }
    assert.equal(local.r.kind, 'finished', local.r.error);
    assert.match(local.trace.header.model, /in-browser/);
    // Header lines alike; every step line has the same fields as a local step of the same kind
    // (a finish step has no output or reflection, a tool step has both).
    const keys = (o) => Object.keys(o).sort().join();
    const lines = (jsonl) => jsonl.trim().split('\n').map((l) => JSON.parse(l));
    const [rh, ...rs] = lines(remote.jsonl);
    const [lh, ...ls] = lines(local.jsonl);
    assert.equal(keys(rh), keys(lh));
    const shape = (steps) => new Map(steps.map((s) => [s.tool === 'finish' ? 'finish' : 'tool', keys(s)]));
    const remoteShapes = shape(rs), localShapes = shape(ls);
    for (const [kind, k] of remoteShapes) if (localShapes.has(kind)) assert.equal(k, localShapes.get(kind), kind);
    assert.ok(localShapes.has('finish') && remoteShapes.has('finish'));
  });
});
