// client.js: a thin client of an OpenAI-compatible inference server
// (endoscribe-server, vLLM, llama.cpp's server) over fetch: GET /v1/models,
// POST /v1/chat/completions (streamed as server-sent events, or whole), and
// POST of JSON to the EndoScribe extensions (/v1/endoscribe/...). No
// dependency beyond fetch and ReadableStream.
//
// Every failure is a RemoteError (errors.js) with a kind: the page's CSP
// blocking the address ('csp', told apart from an unreachable server by the
// policy from /api/config and by the browser's securitypolicyviolation
// event), 'unreachable', 'auth' (401/403), 'busy' (429, retried after
// Retry-After up to `retries` times while the wait is short), HTTP errors in
// OpenAI's shape, an error inside a stream, a stream cut off before its end,
// and 'cancelled' when the caller's AbortSignal fires (aborting the fetch
// closes the connection, which tells the server to stop generating).
//
// The bearer token (token_store.js) goes only to the server's own origin.

import { sseEvents } from './sse.js';
import { RemoteError, httpError, errorBody, retryAfterSeconds } from './errors.js';
import { cspAllowsConnect } from './csp.js';

// Origins the browser reported as blocked by the page's CSP (connect-src).
const blockedOrigins = new Set();
if (typeof document !== 'undefined') {
  document.addEventListener('securitypolicyviolation', (e) => {
    try { blockedOrigins.add(new URL(e.blockedURI).origin); } catch { /* 'inline' etc. */ }
  });
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  if (signal?.aborted) return reject(new RemoteError('cancelled', 'stopped'));
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(t); reject(new RemoteError('cancelled', 'stopped')); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

export class RemoteClient {
  // base: 'http://host:port' (address.js); origin: its origin; token():
  // the bearer token for that origin or null; csp: {policy, pageOrigin} to
  // check addresses against (null: no check). retries / maxRetryWait: 429
  // handling. onRetry({seconds, attempt}) says a busy server is retried.
  constructor({ base, origin = new URL(base).origin, token = () => null, fetchImpl = globalThis.fetch.bind(globalThis),
    csp = null, retries = 2, maxRetryWait = 30 } = {}) {
    Object.assign(this, { base: base.replace(/\/+$/, ''), origin, token, fetchImpl, csp, retries, maxRetryWait });
  }

  url(path) { return `${this.base}${path}`; }

  headers(json) {
    const h = { Accept: json === 'stream' ? 'text/event-stream' : 'application/json' };
    if (json) h['Content-Type'] = 'application/json';
    const t = this.token();
    if (t && new URL(this.base).origin === this.origin) h.Authorization = `Bearer ${t}`;
    return h;
  }

  // One request; the Response when ok, else a RemoteError. body: an object (sent as JSON) or null.
  async request(path, { method = 'GET', body = null, signal = null, stream = false, onRetry = null } = {}) {
    const url = this.url(path);
    if (this.csp && !cspAllowsConnect(this.csp.policy, url, this.csp.pageOrigin))
      throw new RemoteError('csp', `${url}: not in the page's Content-Security-Policy connect-src`, { origin: this.origin });
    const text = body === null ? null : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      let r;
      try {
        r = await this.fetchImpl(url, {
          method, body: text, signal, headers: this.headers(body === null ? false : stream ? 'stream' : true),
          mode: 'cors', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer',
        });
      } catch (e) {
        if (signal?.aborted || e?.name === 'AbortError') throw new RemoteError('cancelled', 'stopped', { cause: e });
        // The violation event arrives as its own task, next to the fetch's rejection.
        await new Promise((res) => setTimeout(res, 50));
        if (blockedOrigins.has(this.origin))
          throw new RemoteError('csp', `${url}: blocked by the page's Content-Security-Policy (${e?.message})`, { origin: this.origin, cause: e });
        throw new RemoteError('unreachable', `${method} ${url}: ${e?.message ?? e}`, { origin: this.origin, cause: e });
      }
      if (r.ok) return r;
      const bodyText = await r.text().catch(() => '');
      const err = httpError(r.status, bodyText, { retryAfter: retryAfterSeconds(r.headers.get('Retry-After')), origin: this.origin, path });
      if (err.kind === 'busy' && attempt < this.retries) {
        const wait = err.retryAfter ?? 1;
        if (wait <= this.maxRetryWait) {
          onRetry?.({ seconds: wait, attempt: attempt + 1 });
          await sleep(wait * 1000, signal);
          continue;
        }
      }
      throw err;
    }
  }

  async json(path, opts = {}) {
    const r = await this.request(path, opts);
    const text = await r.text().catch((e) => {
      if (opts.signal?.aborted) throw new RemoteError('cancelled', 'stopped');
      throw new RemoteError('cut_off', `${path}: ${e.message}`);
    });
    try { return JSON.parse(text); } catch {
      throw new RemoteError('bad_response', `${path}: the answer is not JSON (${text.slice(0, 120)})`);
    }
  }

  // GET /v1/models -> [{id, owned_by, endoscribe?}] (a list in OpenAI's shape).
  async listModels({ signal = null } = {}) {
    const j = await this.json('/v1/models', { signal });
    if (!j || !Array.isArray(j.data)) throw new RemoteError('bad_response', '/v1/models: no "data" list in the answer');
    return j.data.filter((m) => m && typeof m.id === 'string');
  }

  // POST /v1/chat/completions without streaming -> the completion object.
  async chat(body, { signal = null, onRetry = null } = {}) {
    const j = await this.json('/v1/chat/completions', { method: 'POST', body: { ...body, stream: false }, signal, onRetry });
    const err = errorBody(j);
    if (err) throw new RemoteError('server', `/v1/chat/completions: ${err.message}`, { code: err.code ?? null });
    if (!Array.isArray(j?.choices) || !j.choices.length) throw new RemoteError('bad_response', '/v1/chat/completions: no choices');
    return j;
  }

  // POST /v1/chat/completions with stream: true. onDelta(text) per content
  // delta. -> {text, finishReason, usage, model}. A stop (signal) throws a
  // RemoteError 'cancelled' carrying `partial` (the text so far); a stream
  // that ends without [DONE] and without a finish reason throws 'cut_off'
  // with `partial`.
  async chatStream(body, { signal = null, onDelta = null, onRetry = null } = {}) {
    const r = await this.request('/v1/chat/completions', {
      method: 'POST', body: { ...body, stream: true, stream_options: { include_usage: true } }, signal, stream: true, onRetry,
    });
    if (!r.body) throw new RemoteError('bad_response', '/v1/chat/completions: no response body to stream');
    let text = '', finishReason = null, usage = null, model = null, sawDone = false;
    const withPartial = (e) => { e.partial = text; e.finishReason = finishReason; return e; };
    try {
      for await (const ev of sseEvents(r.body, { signal })) {
        if (ev.data === '[DONE]') { sawDone = true; break; }
        let chunk;
        try { chunk = JSON.parse(ev.data); } catch {
          throw new RemoteError('bad_response', `stream: an event is not JSON (${ev.data.slice(0, 120)})`);
        }
        const err = errorBody(chunk) ?? (ev.event === 'error' ? { message: ev.data } : null);
        if (err) {
          const status = Number(err.code) >= 400 ? Number(err.code) : 500;
          throw httpError(status, JSON.stringify({ error: err }), { origin: this.origin, path: 'stream' });
        }
        model = chunk.model ?? model;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const delta = choice.delta?.content ?? '';
        if (delta) { text += delta; onDelta?.(delta); }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (e) {
      if (signal?.aborted || e?.name === 'AbortError') throw withPartial(new RemoteError('cancelled', 'stopped'));
      if (e instanceof RemoteError) throw withPartial(e);
      throw withPartial(new RemoteError('cut_off', `stream: ${e?.message ?? e}`, { cause: e }));
    }
    if (!sawDone && !finishReason) throw withPartial(new RemoteError('cut_off', 'stream: ended before [DONE]'));
    return { text, finishReason, usage, model };
  }

  // POST JSON to an extension endpoint -> the answer's JSON.
  async post(path, body, { signal = null, onRetry = null } = {}) {
    const j = await this.json(path, { method: 'POST', body, signal, onRetry });
    const err = errorBody(j);
    if (err) throw new RemoteError('server', `${path}: ${err.message}`, { code: err.code ?? null });
    return j;
  }
}
