// mock_inference_server.mjs: a small inference server for the app's remote
// backend tests (tests/node/remote_client.test.mjs, tests/e2e/remote.test.mjs).
// It answers as server/API.md says endoscribe-server does (flavor
// 'endoscribe': /v1/models with owned_by "endoscribe", chat, and the
// /v1/endoscribe/ extensions) or as vLLM does (flavor 'vllm': /v1/models and
// /v1/chat/completions only; the extensions are 404). Its "model" is a
// script, not a network: an answer names the question it answers and how
// many messages and images it was sent, streamed word by word (`tokenMs`
// apart), so a test can check what the app sent and that it streamed.
// Everything it was sent is kept in `requests`; a client that disconnects
// mid-stream is counted in `cancelled` (the server stops, as the real ones do).
//
// Options: flavor, token (a bearer token every /v1 request needs), origin
// (CORS: the app's origin, or '*'), tls ({key, cert}: https), tokenMs,
// busy (answer the next N chat requests 429 with Retry-After: 1).
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';

// Width and height of PNG / JPEG / BMP bytes (what the core's decoder would find).
export function imageSize(b) {
  if (b[0] === 0x89 && b[1] === 0x50) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b[0] === 0x42 && b[1] === 0x4d) return { width: b.readInt32LE(18), height: Math.abs(b.readInt32LE(22)) };
  if (b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) { i++; continue; }
      const marker = b[i + 1];
      const len = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
        return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      i += 2 + len;
    }
  }
  return null;
}

function dataUrlBytes(url) {
  const m = /^data:(image\/(?:png|jpeg|bmp));base64,(.*)$/s.exec(url ?? '');
  return m ? { type: m[1], bytes: Buffer.from(m[2], 'base64') } : null;
}

// COCO RLE (uncompressed counts, column-major, zeros first) of a filled rectangle.
export function rectangleRle(width, height, x0, y0, x1, y1) {
  x0 = Math.max(0, Math.min(width, Math.round(x0))); x1 = Math.max(x0, Math.min(width, Math.round(x1)));
  y0 = Math.max(0, Math.min(height, Math.round(y0))); y1 = Math.max(y0, Math.min(height, Math.round(y1)));
  const counts = [];
  let value = 0, run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = x >= x0 && x < x1 && y >= y0 && y < y1 ? 1 : 0;
      if (v === value) run++;
      else { counts.push(run); value = v; run = 1; }
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

const words = (s) => s.split(/(?<= )/);

export async function startMockInferenceServer({ flavor = 'endoscribe', token = null, origin = '*', tls = null, tokenMs = 20,
  models = null } = {}) {
  const state = { requests: [], cancelled: 0, completed: 0, busy: 0, images: new Map(), flavor, token, tokenMs };
  const modelIds = models ?? (flavor === 'vllm' ? ['google/medgemma-4b-it'] : ['tiny-gemma3']);

  const cors = (req) => ({
    'Access-Control-Allow-Origin': origin === '*' ? '*' : origin,
    'Access-Control-Allow-Headers': 'authorization, content-type',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
    // The app is cross-origin isolated (COEP require-corp): a CORS answer is enough.
    'Cross-Origin-Resource-Policy': 'cross-origin',
  });
  const send = (req, res, status, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...cors(req), ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (req, res, status, message, type, code = null, headers = {}) =>
    send(req, res, status, { error: { message, type, param: null, code } }, headers);

  async function readJson(req) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  }

  // The scripted answer to a chat request.
  function answerFor(body) {
    const msgs = body.messages ?? [];
    const users = msgs.filter((m) => m.role === 'user');
    const last = users[users.length - 1];
    const text = typeof last?.content === 'string' ? last.content
      : (last?.content ?? []).filter((p) => p.type === 'text').map((p) => p.text).join(' ');
    const images = msgs.flatMap((m) => (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'image_url') : []));
    let answer = `Answer ${users.length} to "${text}" (${msgs.length} messages, ${images.length} image).`;
    if (/\blong\b/i.test(text)) answer += ' ' + Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    if (/\bbox\b/i.test(text)) answer += ' The lesion is at [100, 80, 220, 190].';
    return { answer, text };
  }

  // vLLM-like logprobs for a one-token answer: the labels named in the
  // question, the first one most likely.
  function topLogprobs(text) {
    // Classify's question, or a report draft question (src/report/report_draft.cpp: " Answer with one of: a, b.").
    const m = /describes the image: (.*)\? Answer/s.exec(text) ?? /Answer with one of: (.*)\.$/s.exec(text) ?? /Options?: (.*)$/s.exec(text);
    const labels = m ? m[1].split(', ') : [];
    const top = [];
    const lp = [-0.4, -1.6, -2.6, -3.5];
    labels.slice(0, 4).forEach((l, i) => top.push({ token: (i % 2 ? ' ' : '') + l.slice(0, Math.min(3, l.length)), logprob: lp[i] }));
    top.push({ token: 'The', logprob: -4.0 });
    return top;
  }

  async function chat(req, res, body) {
    if (!modelIds.includes(body.model)) return error(req, res, 404, `The model '${body.model}' does not exist.`, 'invalid_request_error', 'model_not_found');
    for (const m of body.messages ?? []) {
      for (const p of Array.isArray(m.content) ? m.content : []) {
        if (p.type === 'image_url' && !dataUrlBytes(p.image_url?.url)) return error(req, res, 400, 'image_url must be a data: URL', 'invalid_request_error');
      }
    }
    if (state.busy > 0) { state.busy--; return error(req, res, 429, 'The queue is full.', 'rate_limit_error', 'queue_full', { 'Retry-After': '1' }); }
    const { answer, text } = answerFor(body);
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: body.model };
    if (body.logprobs && body.max_tokens === 1) {
      const top = topLogprobs(text).slice(0, body.top_logprobs ?? 0);
      const first = top[0] ?? { token: 'The', logprob: -0.1 };
      return send(req, res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, finish_reason: 'length',
        message: { role: 'assistant', content: first.token }, logprobs: { content: [{ ...first, top_logprobs: top }] } }],
        usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 } });
    }
    const pieces = words(answer).slice(0, body.max_tokens ?? 16);
    const finish = pieces.length < words(answer).length ? 'length' : 'stop';
    if (!body.stream) {
      return send(req, res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, finish_reason: finish,
        message: { role: 'assistant', content: pieces.join('') } }], usage: { prompt_tokens: 10, completion_tokens: pieces.length } });
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...cors(req) });
    let closed = false;
    res.on('close', () => { if (!res.writableFinished) { closed = true; } });
    const write = (obj) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    write({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    res.write(': keep-alive\n\n');
    for (const p of pieces) {
      await new Promise((r) => setTimeout(r, state.tokenMs));
      if (closed) { state.cancelled++; return; }
      write({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] });
    }
    write({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    if (body.stream_options?.include_usage)
      write({ ...base, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 10, completion_tokens: pieces.length, total_tokens: 10 + pieces.length } });
    res.write('data: [DONE]\n\n');
    res.end();
    state.completed++;
  }

  async function classify(req, res, body) {
    const labels = body.labels ?? [];
    if (!labels.length) return error(req, res, 400, 'labels must not be empty', 'invalid_request_error', null);
    // The first label most likely, then decreasing.
    const ll = labels.map((_, i) => -0.5 - i);
    const mx = Math.max(...ll);
    const e = ll.map((x) => Math.exp(x - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    send(req, res, 200, { object: 'endoscribe.classification', model: body.model, labels, probabilities: e.map((x) => x / sum),
      log_likelihoods: ll, usage: { prompt_tokens: 10 }, timings: { total_ms: 12 } });
  }

  async function segment(req, res, body) {
    let entry;
    if (body.image) {
      const img = dataUrlBytes(body.image);
      if (!img) return error(req, res, 400, 'image must be a data: URL (PNG, JPEG or BMP)', 'invalid_request_error', null);
      const size = imageSize(img.bytes);
      if (!size) return error(req, res, 400, 'the image could not be decoded', 'invalid_request_error', null);
      const id = crypto.createHash('sha256').update(img.bytes).digest('hex');
      entry = { id, ...size, type: img.type, bytes: img.bytes.length, cached: state.images.has(id) };
      state.images.set(id, entry);
    } else {
      entry = state.images.get(body.image_id);
      if (!entry) return error(req, res, 404, 'The image is not cached any more: send it again.', 'invalid_request_error', 'image_not_cached');
      entry = { ...entry, cached: true };
    }
    const masks = (body.prompts ?? []).map((p) => {
      let box = p.box;
      if (!box && p.points?.length) {
        const [x, y] = p.points.find((q) => q[2] === 1) ?? p.points[0];
        box = [x - 40, y - 30, x + 40, y + 30];
      }
      box ??= [0, 0, entry.width, entry.height];
      return { score: 0.93, box, rle: rectangleRle(entry.width, entry.height, ...box) };
    });
    send(req, res, 200, { image_id: entry.id, width: entry.width, height: entry.height, masks,
      timings: { embedding_ms: entry.cached ? 0 : 35, decode_ms: 4, embedding_cached: entry.cached } });
  }

  // endoscribe-server makes the questions from the report; the mock answers
  // what the test put in state.draftAnswers (a report JSON it does not read).
  async function draft(req, res, body) {
    if (!body.report || typeof body.report !== 'object') return error(req, res, 400, 'report is required', 'invalid_request_error');
    return send(req, res, 200, { object: 'endoscribe.report_draft', model: body.model, report: body.report,
      outcome: { applied: [], rejected: [] }, questions: [], answers: state.draftAnswers ?? [] });
  }
  // (The answers a server would give, for tests that state them.)
  function draftAnswersFor(questions) {
    return questions.map((q) => {
      if (q.kind === 'choice') return { path: q.path, kind: 'choice', codes: q.options.map((o) => o.code),
        log_likelihoods: q.options.map((_, i) => -0.2 - 2 * i) };
      if (q.kind === 'number') return { path: q.path, kind: 'number', text: '1', reason: 'stop' };
      return { path: q.path, kind: q.kind, text: 'Drafted on the mock server.', reason: 'stop' };
    });
  }
  state.draftAnswersFor = draftAnswersFor;

  const handler = async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'OPTIONS') { res.writeHead(204, cors(req)); return res.end(); }
    let body = null;
    try {
      if (req.method === 'POST') body = await readJson(req);
    } catch {
      return error(req, res, 400, 'the body is not JSON', 'invalid_request_error');
    }
    state.requests.push({ method: req.method, path: url.pathname, authorization: req.headers.authorization ?? null,
      origin: req.headers.origin ?? null, body });
    if (url.pathname.startsWith('/v1/') && state.token && req.headers.authorization !== `Bearer ${state.token}`)
      return error(req, res, 401, 'A valid bearer token is needed.', 'authentication_error', 'invalid_api_key');
    try {
      if (req.method === 'GET' && url.pathname === '/v1/models') {
        return send(req, res, 200, { object: 'list', data: modelIds.map((id) => ({ id, object: 'model', created: 0,
          owned_by: flavor === 'vllm' ? 'vllm' : 'endoscribe',
          ...(flavor === 'vllm' ? { max_model_len: 8192 } : { endoscribe: { input_modalities: ['text', 'image'], variant: 'fp32',
            execution_provider: 'cpu', context_length: 8192, image_size: 896 } }) })) });
      }
      if (req.method === 'POST' && url.pathname === '/v1/chat/completions') return await chat(req, res, body);
      if (flavor === 'endoscribe' && req.method === 'POST') {
        if (url.pathname === '/v1/endoscribe/classify') return await classify(req, res, body);
        if (url.pathname === '/v1/endoscribe/segment') return await segment(req, res, body);
        if (url.pathname === '/v1/endoscribe/report/draft') return await draft(req, res, body);
      }
      return error(req, res, 404, `Not Found: ${url.pathname}`, 'invalid_request_error');
    } catch (e) {
      if (!res.headersSent) error(req, res, 500, e.message, 'server_error');
    }
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    state, port, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    evictImages: () => state.images.clear(),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}
