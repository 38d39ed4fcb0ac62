// remote_planner.js: the agent's planner (Contract B, web/agent/README.md) on
// an OpenAI-compatible endpoint: endoscribe-server or, e.g., vLLM serving a
// larger model. plan() offers the tools the request allows as OpenAI `tools`
// with tool_choice "required" (the tool itself when only one is allowed, e.g.
// `finish` after the last round; the prompt's tool list without the argument
// schemas, which travel as the tools' parameters), reads tool_calls[0] and returns the same
// action text the local planner writes ({"tool": ..., "arguments": {...}}),
// validated by the core (es_agent_parse_action) so the trace is the same
// whichever planner made it. An endpoint that refuses tools is asked again
// with response_format json_schema and the request's action schema (and
// asked that way from then on). reflect() is a plain completion. The image
// goes with each request as a data: URL of its file's bytes, as web/remote
// does; the request's seed is passed through, so an endpoint that honours
// seeds (endoscribe-server does) gives the same trace again. A prompt the
// endpoint finds too long for its model is shortened as the local planner
// shortens it (planningPromptVariants / cutVariants).
//
// Failures are Errors in plain words (what happened, what to do) with the
// technical text in `details`: an endpoint that is down, a missing or wrong
// token, a model that answers in words or with a call that does not validate
// (a server that ignores the constraint).

import { RemoteError, plainRemoteError } from '../remote/errors.js';
import { chatMessages } from '../remote/chat_messages.js';
import { dataUrlFromBytes, dataUrlFromRgba } from '../remote/image_url.js';
import { planningPromptVariants, cutVariants } from './local_planner.js';

export class PlannerError extends Error {
  constructor(message, { details = '', kind = 'planner', cause = undefined } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PlannerError';
    this.details = details;
    this.kind = kind;
  }
}

// Numbers as the core's decoder writes them (6 decimals; src/agent/tool_registry.h
// round_json_numbers), so a call from an endpoint that writes 0.12345678 or 1e-7
// reads back like a local one.
export function roundNumbers(value) {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    if (Number.isInteger(value)) return value;
    const r = Math.round(value * 1e6) / 1e6;
    return Object.is(r, -0) ? 0 : r;
  }
  if (Array.isArray(value)) return value.map(roundNumbers);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundNumbers(v)]));
  return value;
}

// The registry's tools (es_agent_registry: {name, description, input_schema}) as OpenAI tools.
// A request's action schema (a oneOf of {tool: const, arguments}) overrides a
// tool's parameters where the loop narrowed them (e.g. finish's answer to the
// option letters of a multiple-choice item).
export function openAiTools(registry, names = null, actionSchema = null) {
  const allowed = names && names.length ? new Set(names) : null;
  const narrowed = new Map();
  const alternatives = actionSchema ? (actionSchema.oneOf ?? [actionSchema]) : [];
  for (const a of alternatives) {
    const name = a?.properties?.tool?.const;
    if (typeof name === 'string' && a.properties.arguments) narrowed.set(name, a.properties.arguments);
  }
  return registry.tools.filter((t) => !allowed || allowed.has(t.name)).map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: narrowed.get(t.name) ?? t.input_schema },
  }));
}

// An endpoint's tool call ({function: {name, arguments: JSON text}}) as the action text.
export function actionTextFromToolCall(call) {
  const fn = call?.function;
  if (!fn || typeof fn.name !== 'string') throw new PlannerError('The model\'s tool call has no function name.', { details: JSON.stringify(call) });
  let args = fn.arguments;
  if (typeof args === 'string') {
    try { args = args.trim() === '' ? {} : JSON.parse(args); } catch (e) {
      throw new PlannerError(`The model called "${fn.name}" with arguments that are not JSON.`, { details: `${fn.arguments} (${e.message})` });
    }
  }
  return JSON.stringify({ tool: fn.name, arguments: roundNumbers(args ?? {}) });
}

// A prompt the endpoint found longer than its model's context (endoscribe-server's
// code, vLLM's and OpenAI's wording).
export function contextExceeded(e) {
  return e instanceof RemoteError && e.kind === 'invalid'
    && (e.code === 'context_length_exceeded' || /context length|context_length|maximum context|longer than the model's context/i.test(e.message));
}

// The core's planning prompt for an endpoint with tool calling: the tools'
// argument schemas travel as the tools' parameters, so the prompt's tool list
// leaves them out (the first shortened form, as the local planner's), and the
// closing line asks for a tool call rather than for the JSON text the
// constrained local model writes. Then the shorter forms, longest first.
export function toolCallingPromptVariants(prompt) {
  const variants = planningPromptVariants(prompt);
  const ask = (p) => p.replace(/Reply with one JSON object \{"tool": \.\.\., "arguments": \{\.\.\.\}\}\./, 'Call one of the tools.');
  return (variants.length > 1 ? variants.slice(1) : variants).map(ask);
}

// A request refused because of its tools (a server without tool calling, or a
// vLLM started without --enable-auto-tool-choice / a tool parser).
function toolsRefused(e) {
  return e instanceof RemoteError && (e.kind === 'invalid' || e.kind === 'unsupported') && /tool/i.test(e.message);
}

export class RemotePlanner {
  // client: a RemoteClient (web/remote/client.js) for the endpoint; model: its model id;
  // registry: {tools: [{name, description, input_schema}]} (AgentCore.registry());
  // parseAction(text, allowedTools) -> {ok, call, error} (AgentCore.parseAction);
  // imageFor(key) -> {bytes} | {rgba, width, height} | null, as for the local planner;
  // identity: the model's name for the trace (default "<model> (<variant or 'remote'>, <backend>)");
  // toolCalling: 'auto' (tools, falling back to response_format) | 'tools' | 'json_schema'.
  constructor({ client, model, registry, parseAction, imageFor, identity = null, backend = 'endpoint', planTokens = 256,
    reflectTokens = 96, temperature = 0.7, topP = null, reflectWithImage = true, systemPrompt = '', toolCalling = 'auto' }) {
    if (!client || !model || !registry || typeof parseAction !== 'function')
      throw new PlannerError('The remote planner needs an endpoint, a model, the tool registry and the core\'s action check.');
    Object.assign(this, { client, model, registry, parseAction, imageFor, backend, planTokens, reflectTokens, temperature,
      topP, reflectWithImage, systemPrompt });
    this.identity = identity ?? `${model} (remote, ${backend})`;
    this.mode = toolCalling;  // 'auto' becomes 'tools' or 'json_schema' after the first answer
  }

  // The identity from the endpoint's model list (endoscribe-server says its variant).
  static async describe(client, model, backend = 'endpoint', { signal = null } = {}) {
    let variant = 'remote';
    try {
      const m = (await client.listModels({ signal })).find((x) => x.id === model);
      if (m?.endoscribe?.variant) variant = m.endoscribe.variant;
    } catch { /* the identity says "remote" */ }
    return `${model} (${variant}, ${backend})`;
  }

  _fail(e, what) {
    if (e instanceof PlannerError) return e;
    if (e instanceof RemoteError) {
      if (e.kind === 'cancelled') return new PlannerError('stopped', { kind: 'cancelled', cause: e });
      const plain = plainRemoteError(what, e, this.client.base);
      return new PlannerError(plain.text, { details: plain.details, kind: e.kind, cause: e });
    }
    return new PlannerError(`${what}: ${e?.message ?? e}`, { details: e?.stack ?? '', cause: e });
  }

  async _messages(prompt, imageKey, withImage) {
    let url = null;
    if (withImage && imageKey) {
      const image = await this.imageFor?.(imageKey);
      if (!image) throw new PlannerError(`The image "${imageKey}" is not in the case any more.`);
      try {
        url = image.bytes?.length ? dataUrlFromBytes(image.bytes) : await dataUrlFromRgba(image);
      } catch (e) {
        throw new PlannerError(`The image "${imageKey}" cannot be sent to the endpoint: ${e.message}.`, { details: String(e) });
      }
    }
    return chatMessages([], prompt, url, { systemPrompt: this.systemPrompt });
  }

  // Asks with the first prompt variant the endpoint's context holds (a longer one
  // refused as too long is followed by the next, as the local planner shortens;
  // the same prompt always ends at the same variant, so replays match).
  async _ask(variants, imageKey, withImage, body, signal) {
    for (let i = 0; ; i++) {
      const messages = await this._messages(variants[i], imageKey, withImage);
      try {
        return await this.client.chat({ ...body, messages }, { signal });
      } catch (e) {
        if (!contextExceeded(e)) throw e;
        if (i + 1 >= variants.length)
          throw new PlannerError(`The prompt does not fit the context of the model at ${this.client.base}, even shortened; use a model `
            + 'with a longer context, or lower the agent\'s trace and memory budgets.', { details: e.message, kind: 'context', cause: e });
      }
    }
  }

  _sampling(seed, maxTokens) {
    const body = { model: this.model, temperature: this.temperature, max_tokens: maxTokens };
    if (this.topP !== null) body.top_p = this.topP;
    if (seed !== null && seed !== undefined) body.seed = Number(seed);
    return body;
  }

  // -> the action's JSON text ({"tool": ..., "arguments": {...}}), valid for the request's allowed tools.
  async plan({ prompt, actionSchema, allowedTools = null, imageKey = null, seed = null, signal = null }) {
    if (signal?.aborted) throw new PlannerError('stopped', { kind: 'cancelled' });
    const names = allowedTools && allowedTools.length ? allowedTools : this.registry.tools.map((t) => t.name);
    const what = `${this.client.base} did not answer`;
    let text = null;
    if (this.mode !== 'json_schema') {
      const tools = openAiTools(this.registry, names, actionSchema);
      const tool_choice = tools.length === 1 ? { type: 'function', function: { name: tools[0].function.name } } : 'required';
      try {
        const r = await this._ask(toolCallingPromptVariants(prompt), imageKey, true,
          { ...this._sampling(seed, this.planTokens), tools, tool_choice }, signal);
        if (this.mode === 'auto') this.mode = 'tools';
        const m = r.choices[0].message ?? {};
        const call = m.tool_calls?.[0];
        if (!call) {
          throw new PlannerError(`The model at ${this.client.base} answered in words instead of calling a tool (it may not support `
            + 'tool_choice "required"); choose a model or server with tool calling.', { details: String(m.content ?? '').slice(0, 500) });
        }
        text = actionTextFromToolCall(call);
      } catch (e) {
        if (!(this.mode === 'auto' && toolsRefused(e))) throw this._fail(e, what);
        this.mode = 'json_schema';  // this endpoint has no tool calling: the action schema as response_format from now on
      }
    }
    if (text === null) {
      const response_format = { type: 'json_schema', json_schema: { name: 'action', schema: actionSchema, strict: true } };
      try {
        const r = await this._ask(planningPromptVariants(prompt), imageKey, true,
          { ...this._sampling(seed, this.planTokens), response_format }, signal);
        text = String(r.choices[0].message?.content ?? '').trim();
      } catch (e) {
        throw this._fail(e, what);
      }
    }
    const check = this.parseAction(text, names);
    if (!check?.ok)
      throw new PlannerError(`The model at ${this.client.base} wrote a call that is not valid (the endpoint did not hold it to `
        + `the tools' schemas): ${check?.error ?? 'no reason given'}`, { details: text.slice(0, 2000), kind: 'invalid_call' });
    return text;
  }

  // -> a short reflection in words (a plain completion).
  async reflect({ prompt, imageKey = null, seed = null, signal = null }) {
    if (signal?.aborted) throw new PlannerError('stopped', { kind: 'cancelled' });
    try {
      const r = await this._ask(cutVariants(prompt), imageKey, this.reflectWithImage, this._sampling(seed, this.reflectTokens), signal);
      return String(r.choices[0].message?.content ?? '').trim();
    } catch (e) {
      throw this._fail(e, `${this.client.base} did not answer`);
    }
  }
}
