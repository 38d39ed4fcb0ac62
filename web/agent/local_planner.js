// local_planner.js: the agent's planner on the loaded model (an
// AssistantRuntime: in the browser or in Node). plan() asks the model, with
// the image in the turn, for the next action under the request's action
// schema: the core's JSON constraint (es_generation_start's json_schema) makes
// every answer a call that parses and validates, whatever the model. reflect()
// asks for a short free-text reflection within a token bound. Each request
// runs in a fresh conversation and is seeded, so the same prompt, image and
// seed give the same text (a replay gives the same trace). Everything is
// awaited (the runtime yields between tokens): the frame loop never waits.

export class LocalPlanner {
  // runtime: an AssistantRuntime; imageFor(key) -> the image as runtime.encodeImage takes it
  // ({key, bytes} | {key, rgba, width, height}) or null; identity: the model's id, revision
  // and backend for the trace (default: the package's). temperature 0 = greedy.
  constructor({ runtime, imageFor, identity = null, modelName = null, backend = 'in-browser', planTokens = 256, reflectTokens = 96,
    temperature = 0.7, topK = 40, reflectWithImage = true, systemPrompt = '' }) {
    this.rt = runtime;
    this.imageFor = imageFor;
    this.identity = identity ?? packageIdentity(runtime, backend, modelName);
    Object.assign(this, { planTokens, reflectTokens, temperature, topK, reflectWithImage, systemPrompt });
  }

  async _generate(prompt, { imageKey, withImage, seed, signal, maxTokens, schema = null }) {
    if (signal?.aborted) throw new Error('stopped');
    let image = null;
    if (withImage && imageKey) {
      image = await this.imageFor(imageKey);
      if (!image) throw new Error(`the image "${imageKey}" is not in the case any more`);
    }
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
    return this._generate(prompt, { imageKey, withImage: true, seed, signal, maxTokens: this.planTokens, schema: actionSchema });
  }

  // -> one or two sentences (bounded by reflectTokens).
  async reflect({ prompt, imageKey, seed, signal }) {
    const text = await this._generate(prompt, { imageKey, withImage: this.reflectWithImage, seed, signal,
      maxTokens: this.reflectTokens });
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
