// errors.js: what went wrong talking to an inference server, as a kind the
// app can act on and plain words for the user (what happened, what to do),
// with the technical details apart. Servers answer errors in OpenAI's shape
// ({"error": {"message", "type", "code"}}; server/API.md); vLLM's older
// streams send {"object": "error", "message", ...}.

export class RemoteError extends Error {
  // kind: 'unreachable' | 'csp' | 'auth' | 'busy' | 'model_not_found' | 'image_not_cached' |
  //   'unsupported' | 'too_large' | 'no_model' | 'invalid' | 'server' | 'bad_response' | 'cut_off' | 'cancelled'
  constructor(kind, message, { status = null, code = null, retryAfter = null, origin = null, cause = undefined } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RemoteError';
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;  // seconds (429)
    this.origin = origin;
  }
}

// Retry-After in seconds: a number of seconds or an HTTP date; null if absent.
export function retryAfterSeconds(value, now = Date.now()) {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  if (Number.isFinite(n)) return Math.max(0, n);
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - now) / 1000));
}

// The error object inside an error body (OpenAI or vLLM shape), or null.
export function errorBody(json) {
  if (!json || typeof json !== 'object') return null;
  if (json.error && typeof json.error === 'object') return json.error;
  if (typeof json.error === 'string') return { message: json.error };
  if (json.object === 'error') return { message: json.message, type: json.type, code: json.code };
  return null;
}

// A RemoteError for an HTTP error answer. body: its text.
export function httpError(status, body, { retryAfter = null, origin = null, path = '' } = {}) {
  let parsed = null;
  try { parsed = errorBody(JSON.parse(body)); } catch { /* not JSON */ }
  const message = parsed?.message ?? (body ? String(body).slice(0, 300) : `HTTP ${status}`);
  const code = parsed?.code ?? null;
  const detail = `${path ? `${path}: ` : ''}HTTP ${status}${code ? ` (${code})` : ''}: ${message}`;
  const opts = { status, code, origin, retryAfter };
  if (status === 401 || status === 403) return new RemoteError('auth', detail, opts);
  if (status === 429) return new RemoteError('busy', detail, opts);
  if (status === 413) return new RemoteError('too_large', detail, opts);
  if (status === 503) return new RemoteError('no_model', detail, opts);
  if (code === 'image_not_cached') return new RemoteError('image_not_cached', detail, opts);
  if (code === 'model_not_found') return new RemoteError('model_not_found', detail, opts);
  // 404/405 on a path: the server does not have that endpoint (a plain OpenAI server and our extensions).
  if (status === 404 || status === 405 || status === 501) return new RemoteError('unsupported', detail, opts);
  if (status >= 400 && status < 500) return new RemoteError('invalid', detail, opts);
  return new RemoteError('server', detail, opts);
}

// {text, details} for the user. what: the plain sentence of what failed
// ("The server could not answer"); server: the address as the user typed it.
export function plainRemoteError(what, e, server = 'the server') {
  const details = e?.message ?? String(e);
  const k = e?.kind;
  const origin = e?.origin ?? server;
  let advice;
  if (k === 'csp') {
    advice = `this page is not allowed to connect to ${origin}. Add "${origin}" to "inference_servers" in the ` +
      'config.json of the server that serves this app, restart that server, then reload this page';
  } else if (k === 'unreachable') {
    advice = `${server} could not be reached. Check the address and that the server is running; a server on ` +
      'another machine must also allow this app\'s address (CORS: "app_origins" for endoscribe-server, ' +
      '--allowed-origins for vLLM)';
  } else if (k === 'auth') {
    advice = e.status === 403 ? `${server} refused access with this token; check the token (Models tab)`
      : `${server} needs a valid access token: type the server's token in the Models tab (it is kept only in this browser)`;
  } else if (k === 'busy') {
    advice = `the server is busy with other requests; try again${e.retryAfter !== null && e.retryAfter !== undefined ? ` in ${Math.ceil(e.retryAfter)} s` : ' in a moment'}`;
  } else if (k === 'too_large') {
    advice = 'the image or request is larger than the server accepts; use a smaller image or ask its operator to raise the limit';
  } else if (k === 'no_model') {
    advice = 'the server has no model loaded yet; wait until it has started, then check the connection again (Models tab)';
  } else if (k === 'model_not_found') {
    advice = 'the server no longer has the chosen model; press Check in the Models tab and pick one of its models';
  } else if (k === 'unsupported') {
    advice = 'this server does not offer it (a plain OpenAI-compatible server such as vLLM has only chat); ' +
      'choose "this browser" for it in the Models tab';
  } else if (k === 'cut_off') {
    advice = 'the connection to the server broke off before the answer was complete; try again';
  } else if (k === 'bad_response') {
    advice = 'the server\'s answer was not what an OpenAI-compatible server sends; check that the address is an inference server';
  } else if (k === 'invalid') {
    advice = 'the server did not accept the request';
  } else {
    advice = 'the server reported an error; try again, or ask its operator to look at its log';
  }
  return { text: `${what.replace(/[.\s]+$/, '')}: ${advice}.`, details };
}
