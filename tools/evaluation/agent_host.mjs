// agent_host.mjs: what the agent evaluation runs the core's loop with, from
// the command line's backend: the driver (web/agent/agent_driver.js), a
// planner (the model: web/agent/local_planner.js on our runtime for a package
// on disk, web/agent/remote_planner.js for endoscribe-server or an
// OpenAI-compatible endpoint) and the nine tools (web/agent/agent_tools.js)
// over web/agent/node_environment.js. The environment is given the item
// images and no accepted annotation: the ground truth never reaches the agent
// (count_lesions, which counts accepted annotations, answers 0 here), and the
// report draft is reset before every run so one item's draft cannot leak into
// the next.
import fs from 'node:fs';
import path from 'node:path';
import { localBackend } from './backends.mjs';

const EMPTY_REPORT = () => ({ format: 'endoscribe-report', format_version: 1, status: 'draft', version: 1 });

async function need(file, what) {
  const url = new URL(`../../web/agent/${file}`, import.meta.url);
  if (!fs.existsSync(url)) throw new Error(`${what} (web/agent/${file}) is not in this tree: the agent evaluation needs it`);
  return import(url.href);
}

// s: agent_cli settings; core: loadCores(); imagesRoot: the folder the items' image paths are relative to.
export async function openAgentHost(s, core, imagesRoot) {
  const { AgentCore } = await need('agent_core.js', 'The agent core wrapper');
  const { runAgent } = await need('agent_driver.js', 'The agent driver');
  const { createAgentTools } = await need('agent_tools.js', 'The agent tools');
  const { NodeEnvironment } = await need('node_environment.js', 'The Node tool environment');
  const agentCore = new AgentCore(core.module);
  let planner, runtime = null, backend = null, testModel = false;
  if (s.backend === 'local') {
    if (!s.model) throw new Error('--model PACKAGE_FOLDER is needed for the local backend');
    backend = await localBackend({ core: core.assistant, packageDir: s.model, variant: s.variant, threads: s.threads });
    runtime = backend.runtime;
    testModel = !!backend.testModel;
    const { LocalPlanner } = await need('local_planner.js', 'The local planner');
    planner = new LocalPlanner({ runtime, imageFor: (key) => env.image(key), backend: 'node', modelName: path.basename(path.resolve(s.model)) });
  } else {
    if (!s.url) throw new Error(`--url (or --server / --endpoint) is needed for the ${s.backend} backend`);
    const { RemotePlanner } = await need('remote_planner.js', 'The remote planner');
    const { RemoteClient } = await import('../../web/remote/client.js');
    const token = s.apiKey ?? process.env[s.backend === 'server' ? 'ES_SERVER_TOKEN' : 'OPENAI_API_KEY'] ?? null;
    const client = new RemoteClient({ base: s.url, token: () => token, retries: s.retries });
    let model = s.model;
    if (!model) {
      const models = await client.listModels();
      if (!models.length) throw new Error(`${s.url} lists no model: give --model`);
      model = models[0].id;
      testModel = !!models[0].endoscribe?.test_model;
    }
    const backendName = s.backend === 'server' ? 'server' : 'endpoint';
    planner = new RemotePlanner({ client, model, registry: agentCore.registry(), parseAction: (t, a) => agentCore.parseAction(t, a),
      imageFor: (key) => env.image(key), backend: backendName, identity: await RemotePlanner.describe(client, model, backendName) });
    // The tools' model questions (classify, ground, describe) run on a local package when one is given; without it
    // they fail in plain words, recorded as the steps' errors (NodeEnvironment answers through a local runtime only).
    if (s.toolModel) {
      backend = await localBackend({ core: core.assistant, packageDir: s.toolModel, variant: s.variant, threads: s.threads });
      runtime = backend.runtime;
    }
  }
  let ort = null;
  try { ort = (await import('onnxruntime-web')).default; } catch { /* no SAM: segment fails with plain words */ }
  const env = new NodeEnvironment({ core: core.assistant, runtime, sam: ort ? { ort } : null, modelName: identityName(planner.identity) });
  const tools = createAgentTools(env);
  return {
    agentCore, runAgent, planner, tools, testModel,
    // The model as the trace names it, and the package (with its manifest's sha256) when one runs here.
    identity: { planner: planner.identity, backend: s.backend, ...(backend ? { package: backend.identity } : {}), ...(s.url ? { url: s.url } : {}) },
    // Before each run: its image in the environment (decoded once), a blank report.
    beforeRun(item) {
      if (!env.image(item.image)) env.addImage(item.image, path.join(imagesRoot, item.image));
      env.report = EMPTY_REPORT();
    },
    async close() { env.free(); await backend?.close?.(); await planner.close?.(); },
  };
}

const identityName = (id) => (typeof id === 'string' ? id : id?.model ?? 'model');
