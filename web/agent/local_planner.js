// local_planner.js: the agent's planner on the loaded model (an
// AssistantRuntime: in the browser or in Node). plan() asks the model, with
// the image in the turn, for the next action under the request's action
// schema: the core's JSON constraint (es_generation_start's json_schema) makes
// every answer a call that parses and validates, whatever the model. reflect()
// asks for a short free-text reflection within a token bound. Each request
// runs in a fresh conversation and is seeded, so the same prompt, image and
// seed give the same text (a replay gives the same trace). Everything is
// awaited (the runtime yields between tokens): the frame loop never waits.
//
// A prompt longer than the model's context is shortened, in this order, until
// it fits (planningPromptVariants): the tools' argument schemas left out (the
// constraint still enforces them), the oldest steps left out, the tools named
// without descriptions, the oldest memory entries left out. A reflection
// prompt is asked without the image, then cut. The same prompt always gives
// the same shortening, so replays still match.

export class LocalPlanner {
  // runtime: an AssistantRuntime; imageFor(key) -> the image as runtime.encodeImage takes it
  // ({key, bytes} | {key, rgba, width, height}) or null; identity: the model's id, revision
  // and backend for the trace (default: the package's). temperature 0 = greedy.
  constructor({ runtime, imageFor, identity = null, modelName = null, backend = 'in-browser', planTokens = 256, reflectTokens = 96,
    temperature = 0.7, topK = 40, reflectWithImage = true, systemPrompt = '', minAnswerTokens = 96 }) {
    this.rt = runtime;
    this.imageFor = imageFor;
    this.identity = identity ?? packageIdentity(runtime, backend, modelName);
    // minAnswerTokens: a prompt must leave at least this many tokens (or the request's bound) for the answer.
    Object.assign(this, { planTokens, reflectTokens, temperature, topK, reflectWithImage, systemPrompt, minAnswerTokens });
  }

  // Does the prompt (with the image) leave room for `answer` tokens in a fresh conversation?
  _fits(prompt, image, answer) {
    return this.rt._job(async () => {
      const conv = this.rt.newConversation({ systemPrompt: this.systemPrompt });
      try {
        const crops = image ? this.rt.cropsOf(await this.rt.encodeImage(image)) : 0;
        conv.chat.ask(prompt, { image: !!image, crops });
        return conv.chat.earlierTurnCount === 0 && conv.chat.maxContext - conv.chat.tokens().length >= answer;
      } catch {
        return false;
      } finally {
        conv.free();
      }
    }).promise;
  }

  // The first of the variants that fits, with or without the image.
  async _fit(variants, image, answer, { dropImage = false } = {}) {
    for (const v of variants) if (await this._fits(v, image, answer)) return { prompt: v, image };
    if (dropImage && image) for (const v of variants) if (await this._fits(v, null, answer)) return { prompt: v, image: null };
    const tokens = this.rt.tokenizer.encode(variants[0]).length;
    throw new Error(`the prompt (${tokens} tokens) does not fit the model's context even shortened; `
      + 'use a model with a longer context, or lower the agent\'s trace and memory budgets');
  }

  async _generate(prompt, { imageKey, withImage, seed, signal, maxTokens, schema = null, variants = null, dropImage = false }) {
    if (signal?.aborted) throw new Error('stopped');
    let image = null;
    if (withImage && imageKey) {
      image = await this.imageFor(imageKey);
      if (!image) throw new Error(`the image "${imageKey}" is not in the case any more`);
    }
    ({ prompt, image } = await this._fit(variants ?? [prompt], image, Math.min(maxTokens, this.minAnswerTokens), { dropImage }));
    const conv = this.rt.newConversation({ systemPrompt: this.systemPrompt });
    const generation = { max_new_tokens: maxTokens, temperature: this.temperature, top_k: this.topK, seed };
    if (schema) generation.json_schema = schema;
    const job = this.rt.ask(conv, prompt, { image, generation });
    const onAbort = () => job.cancel();
    signal?.addEventListener?.('abort', onAbort, { once: true });
    try {
      const r = await job.promise;
      if (r.reason === 'context') throw new Error(r.message || 'the prompt filled the model\'s context');
      if (r.reason === 'error') throw new Error(r.message || 'the model could not continue under the action schema');
      if (r.reason === 'cancelled' || signal?.aborted) throw new Error('stopped');
      return r.text;
    } finally {
      signal?.removeEventListener?.('abort', onAbort);
      conv.free();
    }
  }

  // -> the action's JSON text ({"tool": ..., "arguments": {...}}).
  plan({ prompt, actionSchema, imageKey, seed, signal }) {
    return this._generate(prompt, { imageKey, withImage: true, seed, signal, maxTokens: this.planTokens, schema: actionSchema,
      variants: planningPromptVariants(prompt) });
  }

  // -> one or two sentences (bounded by reflectTokens).
  async reflect({ prompt, imageKey, seed, signal }) {
    const text = await this._generate(prompt, { imageKey, withImage: this.reflectWithImage, seed, signal,
      maxTokens: this.reflectTokens, dropImage: true, variants: cutVariants(prompt) });
    return text.trim();
  }
}

// "<name>@<revision> (<variant>, <backend>)": the name the caller knows the model by
// (the app's model list; default the package's architecture), the revision
// from the manifest (the first 12 hex digits of the decoder graph's sha256).
export function packageIdentity(runtime, backend = 'in-browser', name = null) {
  const m = runtime?.pkg?.manifest ?? {};
  const decoder = m.files?.find?.((f) => /^decoder/.test(f.path.split('/').pop()) && f.sha256);
  const revision = decoder ? decoder.sha256.slice(0, 12) : '';
  const id = name ?? m.architecture ?? 'model';
  return `${id}${revision ? `@${revision}` : ''} (${runtime?.variant ?? '?'}, ${backend})`;
}

// Shorter forms of the core's planning prompt (agent_loop.cpp planning_prompt:
// intro and question, "Tools:" lines "- name: description Arguments: {...}",
// optional "Lessons from earlier cases:" lines, "Steps so far:" step blocks,
// the closing instruction), longest first. A prompt not in that form is
// returned alone.
export function planningPromptVariants(prompt) {
  const tools = prompt.indexOf('\nTools:\n');
  const steps = prompt.lastIndexOf('\nSteps so far:\n');
  const tail = Math.max(prompt.lastIndexOf('\nTool calls left: '), prompt.lastIndexOf('\nNo tool calls are left.'));
  if (tools < 0 || steps < tools || tail < steps) return [prompt];
  const head = prompt.slice(0, tools);
  const lessonsAt = prompt.indexOf('\nLessons from earlier cases:\n', tools);
  const toolsEnd = lessonsAt > tools && lessonsAt < steps ? lessonsAt : steps;
  const toolLines = prompt.slice(tools + '\nTools:\n'.length, toolsEnd).split('\n').filter((l) => l.startsWith('- '));
  const lessons = lessonsAt > tools && lessonsAt < steps
    ? prompt.slice(lessonsAt + '\nLessons from earlier cases:\n'.length, steps).split('\n').filter((l) => l.length) : [];
  // Step blocks: a line "N. tool {...}" and the lines after it up to the next one.
  const blocks = [];
  let leftOut = false;
  for (const line of prompt.slice(steps + '\nSteps so far:\n'.length, tail).split('\n')) {
    if (!line.length) continue;
    if (line === '(none)') continue;
    if (line === '(earlier steps left out)') { leftOut = true; continue; }
    if (/^\d+\. [a-z_]+ [{]/.test(line) || !blocks.length) blocks.push([line]);
    else blocks[blocks.length - 1].push(line);
  }
  const closing = prompt.slice(tail);
  const compose = (toolText, lessonCount, from) => {
    let p = `${head}\nTools:\n${toolText}`;
    if (lessonCount > 0) p += `\nLessons from earlier cases:\n${lessons.slice(0, lessonCount).join('\n')}\n`;
    p += '\nSteps so far:\n';
    if (leftOut || from > 0) p += '(earlier steps left out)\n';
    if (from >= blocks.length && !(leftOut || from > 0)) p += '(none)\n';
    for (const b of blocks.slice(from)) p += `${b.join('\n')}\n`;
    return p + closing;
  };
  const short = toolLines.map((l) => l.replace(/ Arguments: .*$/, '')).join('\n') + '\n';
  const names = `${toolLines.map((l) => /^- ([a-z_]+):/.exec(l)?.[1]).filter(Boolean).join(', ')}\n`;
  const out = [prompt];
  for (let from = 0; from <= blocks.length; from++) out.push(compose(short, lessons.length, from));
  for (let n = lessons.length; n >= 0; n--) out.push(compose(names, n, blocks.length));
  return [...new Set(out)];
}

// A free-text prompt cut from its middle (its start and its question stay), longest first.
export function cutVariants(prompt) {
  const out = [prompt];
  for (const keep of [0.75, 0.5, 0.25, 0.1]) {
    const n = Math.floor(prompt.length * keep);
    if (n < 80) break;
    out.push(`${prompt.slice(0, Math.floor(n * 0.6))} ... ${prompt.slice(prompt.length - Math.floor(n * 0.4))}`);
  }
  return out;
}
