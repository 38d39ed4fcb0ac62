// backends.mjs: where the model runs. Three backends behind one interface, so
// a run writes the same predictions file whichever answered:
//   local   our runtime (web/assistant/runtime.js + the C++ core in WASM) on
//           onnxruntime-node's CPU execution provider, in this process
//   server  endoscribe-server (server/API.md): chat through
//           /v1/chat/completions, label scoring through /v1/endoscribe/classify
//   openai  any OpenAI-compatible endpoint (vLLM, llama.cpp, OpenAI): chat
//           through /v1/chat/completions, label scoring through `logprobs`
//           (logprobLabelScores below says exactly how)
//
// backend.generate(image, question, gen) -> {text, tokens, timings: {totalMs, firstTokenMs?}}
// backend.classify(image, labels, question) -> {probabilities, logLikelihoods?, timings, detail?}
// image: {key, bytes, width, height, mime}
import fs from 'node:fs';
import os from 'node:os';
import crypto from 'node:crypto';
import path from 'node:path';

const now = () => performance.now();

// ---- local: our runtime on onnxruntime-node ---------------------------------

// Encoded bytes when there are some (preprocessed from the file as the app does), else the pixels (a crop).
const runtimeImage = (image) => (image.bytes ? { key: image.key, bytes: image.bytes }
  : { key: image.key, rgba: image.rgba, width: image.width, height: image.height });

export async function localBackend({ core, packageDir, variant = null, threads = 0, decoderGraph = null }) {
  const ort = (await import('onnxruntime-node')).default;
  const { ModelPackage } = await import('../../web/assistant/package.js');
  const { planExecution } = await import('../../web/assistant/webgpu_check.js');
  const { folderSource } = await import('../../web/assistant/sources.js');
  const { AssistantRuntime } = await import('../../web/assistant/runtime.js');
  const { groundingConfig } = await import('../../web/assistant/grounding.js');
  if (!fs.existsSync(path.join(packageDir, 'config.json')))
    throw new Error(`${packageDir} is not a model package (no config.json): build one with tools/build_model.py or give its folder`);
  const pkg = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(packageDir, p))));
  // The app's own choice for a CPU backend (f32 activations).
  const v = variant ?? planExecution({ adapter: null, reason: 'onnxruntime-node' }, pkg).variant;
  if (!v) throw new Error(`${packageDir}: no complete graph variant in the package`);
  const sessionOptions = { logSeverityLevel: 3, ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}) };
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['cpu'], variant: v, sessionOptions, decoderGraph });
  // The package's identity in run.json: its manifest (sizes and sha256 of every file), hashed.
  const manifestFile = path.join(packageDir, 'manifest.json');
  const manifestHash = fs.existsSync(manifestFile) ? crypto.createHash('sha256').update(fs.readFileSync(manifestFile)).digest('hex') : null;
  const { testModelInfo } = await import('../../web/assistant/model_notices.js');
  return {
    kind: 'local',
    identity: { backend: 'local', package: path.resolve(packageDir), variant: v, manifest_sha256: manifestHash, decoder: rt.decoderGraph },
    notices: rt.notices,
    testModel: testModelInfo(pkg).test_model,  // config.json "endoscribe": {"test_model": true}: the report says its figures are meaningless
    grounding: groundingConfig(pkg),
    runtime: rt,  // the agent evaluation's planner and tools run on the same runtime
    async generate(image, question, gen) {
      const conv = rt.newConversation({ systemPrompt: gen.systemPrompt ?? '' });
      try {
        const r = await rt.ask(conv, question, { image: runtimeImage(image),
          generation: { max_new_tokens: gen.maxTokens, temperature: gen.temperature, seed: gen.seed, top_k: gen.topK ?? 0, top_p: gen.topP ?? 1 } }).promise;
        return { text: r.text, tokens: r.ids.length, finish: r.reason, timings: { totalMs: r.timings.totalMs, firstTokenMs: r.timings.firstTokenMs, prefillMs: r.timings.prefillMs } };
      } finally { conv.free(); }
    },
    async classify(image, labels, question, gen = {}) {
      const t0 = now();
      const r = await rt.classify({ labels: labels.map((l) => ({ id: l.id, name: l.name, answer: l.answer ?? l.name })) },
        { image: runtimeImage(image), question, systemPrompt: gen.systemPrompt ?? '' }).promise;
      return { probabilities: r.labels.map((l) => l.probability), logLikelihoods: r.labels.map((l) => l.logLikelihood), timings: { totalMs: now() - t0 } };
    },
    async close() { await rt.release(); },
  };
}

// ---- OpenAI-compatible chat ----------------------------------------------------

const imagePart = (image) => ({ type: 'image_url', image_url: { url: `data:${image.mime};base64,${Buffer.from(image.bytes).toString('base64')}` } });
const userMessage = (image, text) => ({ role: 'user', content: image ? [imagePart(image), { type: 'text', text }] : text });

async function openaiClient({ url, apiKey, timeoutMs, retries }) {
  const { default: OpenAI } = await import('openai');
  const base = url.replace(/\/+$/, '');
  return new OpenAI({ baseURL: /\/v1$/.test(base) ? base : `${base}/v1`, apiKey: apiKey || 'none', timeout: timeoutMs, maxRetries: retries });
}

// The model to ask (--model, else the first the endpoint lists) and what the endpoint says about it.
async function chooseModel(client, url, wanted) {
  let models = [];
  try {
    for await (const m of await client.models.list()) models.push(m);
  } catch (e) {
    if (wanted) return { id: wanted, info: null };  // an endpoint without /v1/models
    throw new Error(`cannot list the models at ${url} (${e.message}); give --model NAME`);
  }
  if (!wanted && !models.length) throw new Error(`${url} serves no model; give --model NAME`);
  const id = wanted ?? models[0].id;
  return { id, info: models.find((m) => m.id === id) ?? null };
}
// endoscribe-server may mark a test model in its model list ("endoscribe": {"test_model": true}), as packages do.
const isTestModel = (info) => info?.endoscribe?.test_model === true;

function chatGenerate(client, model) {
  return async (image, question, gen) => {
    const t0 = now();
    const messages = [...(gen.systemPrompt ? [{ role: 'system', content: gen.systemPrompt }] : []), userMessage(image, question)];
    const r = await client.chat.completions.create({ model, messages, max_tokens: gen.maxTokens, temperature: gen.temperature ?? 0,
      ...(gen.seed !== undefined ? { seed: gen.seed } : {}), ...(gen.topP !== undefined ? { top_p: gen.topP } : {}) });
    const totalMs = now() - t0;
    const c = r.choices?.[0];
    if (!c) throw new Error('the endpoint answered without a choice');
    return { text: c.message?.content ?? '', tokens: r.usage?.completion_tokens ?? null, finish: c.finish_reason, timings: { totalMs } };
  };
}

// Label scoring through `logprobs` on an OpenAI-compatible endpoint. The
// classify prompt is sent with max_tokens 1, temperature 0, logprobs true and
// top_logprobs 20 (OpenAI's maximum). Each returned first token t (probability
// p = exp(logprob)) goes to the labels whose answer text starts with t
// (compared case-insensitively, '-' and '_' as spaces, leading spaces ignored), or that t completes
// (t = the label's text followed by non-letters); p is shared equally among
// those labels. Labels that share a first token ("Ulcerative colitis grade 1",
// "... grade 2") are then told apart only with `prefill` (--logprobs-prefill):
// the shared text is sent as a partial assistant answer (vLLM's
// continue_final_message, llama.cpp's assistant prefill; OpenAI's own API has
// no such thing) and the next token's top 20 split that group's mass the same
// way, up to `depth` steps; a label whose whole text has been read takes the
// mass of tokens that end an answer (no letter or digit, or an end-of-turn
// token). Without prefill such labels tie. The scores are normalised to sum 1
// over the label set; matchedMass says how much of the first token's
// probability named any label at all (the rest: answers outside the set, or
// tokens beyond the top 20).
export async function logprobLabelScores(step, labels, { prefill = false, depth = 8 } = {}) {
  // Compared in lower case with '-' and '_' as spaces ("Z-line" answered as "z line" or the other way);
  // SentencePiece's '▁' and byte-level BPE's 'Ġ' in raw token strings are spaces.
  const norm = (t) => String(t ?? '').replace(/[\u2581\u0120]/g, ' ').toLowerCase().replace(/[-_]/g, ' ');
  const texts = labels.map((l) => norm(l.answer ?? l.name));
  const scores = new Array(labels.length).fill(0);
  const isEnd = (t) => !/[\p{L}\p{N}]/u.test(t) || /^<[^>]*>$/.test(t.trim());
  let requests = 0, matchedMass = 0;
  const ties = new Set();
  // The labels of `group` a token leads to, given the label text read so far.
  const reached = (group, read, token, first) => {
    const t = norm(token);
    const next = first ? t.replace(/^\s+/, '') : read + t;
    const hits = group.filter((i) => (read.length >= texts[i].length ? isEnd(t)
      : texts[i].startsWith(next) || (next.startsWith(texts[i]) && isEnd(next.slice(texts[i].length)))));
    return { hits, next };
  };
  // Shares `mass` (the probability of having answered `read`) among `group`.
  async function visit(group, read, mass, level, partial) {
    const top = await step(partial);
    requests++;
    // A token listed twice (some servers add the chosen one) counts once; a whitespace-only first token names nothing.
    const seen = new Set();
    const found = top.filter(({ token, logprob }) => Number.isFinite(logprob) && !seen.has(token) && seen.add(token) && (level > 0 || norm(token).trim()))
      .map(({ token, logprob }) => ({ token, p: Math.exp(logprob), ...reached(group, read, token, level === 0) }))
      .filter((x) => x.hits.length);
    const assigned = found.reduce((a, x) => a + x.p, 0);
    if (level === 0) matchedMass = assigned;
    if (!assigned) {  // nothing in the top 20 continues any of these labels: they tie
      if (level > 0) { for (const i of group) scores[i] += mass / group.length; ties.add(group.map((i) => labels[i].id ?? labels[i].name).join(' | ')); }
      return;
    }
    // At the first token the scores are the model's own probabilities; deeper,
    // the group's mass is shared in proportion to what continues it.
    const scale = level === 0 ? mass : mass / assigned;
    for (const { token, p, hits, next } of found) {
      if (hits.length === 1) { scores[hits[0]] += scale * p; continue; }
      if (prefill && level + 1 < depth && hits.some((i) => texts[i].length > next.length)) {
        await visit(hits, next, scale * p, level + 1, partial + token);
      } else {
        for (const i of hits) scores[i] += (scale * p) / hits.length;
        ties.add(hits.map((i) => labels[i].id ?? labels[i].name).join(' | '));
      }
    }
  }
  await visit(labels.map((_, i) => i), '', 1, 0, '');
  const sum = scores.reduce((a, b) => a + b, 0);
  const probabilities = sum > 0 ? scores.map((s) => s / sum) : scores.map(() => 1 / labels.length);
  return { probabilities, matchedMass, requests, ties: [...ties] };
}

export async function openaiBackend({ url, apiKey = process.env.OPENAI_API_KEY, model = null, prefill = false, timeoutMs = 600000, retries = 2 }) {
  const client = await openaiClient({ url, apiKey, timeoutMs, retries });
  const { id: m, info } = await chooseModel(client, url, model);
  return {
    kind: 'openai',
    testModel: isTestModel(info),
    identity: { backend: 'openai', url, model: m, logprobs_prefill: prefill },
    notices: [],
    grounding: null,
    generate: chatGenerate(client, m),
    async classify(image, labels, question, gen = {}) {
      const t0 = now();
      const base = [...(gen.systemPrompt ? [{ role: 'system', content: gen.systemPrompt }] : []), userMessage(image, question)];
      const step = async (partial) => {
        const r = await client.chat.completions.create({
          model: m, max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: 20,
          messages: partial ? [...base, { role: 'assistant', content: partial }] : base,
          ...(partial ? { continue_final_message: true, add_generation_prompt: false } : {}),
        });
        const lp = r.choices?.[0]?.logprobs?.content?.[0];
        if (!lp) throw new Error('the endpoint returned no logprobs: it cannot score labels (use --classify-by generation)');
        return lp.top_logprobs?.length ? lp.top_logprobs : [{ token: lp.token, logprob: lp.logprob }];
      };
      const s = await logprobLabelScores(step, labels, { prefill });
      return { probabilities: s.probabilities, timings: { totalMs: now() - t0 },
        detail: { matched_mass: s.matchedMass, requests: s.requests, ...(s.ties.length ? { tied: s.ties } : {}) } };
    },
    async close() {},
  };
}

// ---- endoscribe-server -----------------------------------------------------------

export async function serverBackend({ url, apiKey = process.env.ES_SERVER_TOKEN, model = null, timeoutMs = 600000, retries = 2 }) {
  const client = await openaiClient({ url, apiKey, timeoutMs, retries });
  const { id: m, info } = await chooseModel(client, url, model);
  const base = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  return {
    kind: 'server',
    testModel: isTestModel(info),
    identity: { backend: 'server', url, model: m },
    notices: [],
    grounding: null,
    generate: chatGenerate(client, m),
    async classify(image, labels, question, gen = {}) {
      const t0 = now();
      const messages = [...(gen.systemPrompt ? [{ role: 'system', content: gen.systemPrompt }] : []), userMessage(image, question)];
      const res = await fetch(`${base}/v1/endoscribe/classify`, {
        method: 'POST', signal: AbortSignal.timeout(timeoutMs),
        headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify({ model: m, messages, labels: labels.map((l) => l.answer ?? l.name) }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error(`the server refused the classification (${res.status}: ${body?.error?.message ?? 'no message'})`);
      if (!Array.isArray(body?.probabilities) || body.probabilities.length !== labels.length)
        throw new Error(`the server's classification has ${body?.probabilities?.length ?? 'no'} probabilities for ${labels.length} labels`);
      return { probabilities: body.probabilities, logLikelihoods: body.log_likelihoods ?? null,
        timings: { totalMs: now() - t0, serverMs: body.timings?.total_ms ?? null } };
    },
    async close() {},
  };
}

export const defaultThreads = () => Math.max(1, Math.min(4, os.cpus().length));
