// A small OpenAI-compatible server for the evaluation tool's tests, with the
// endoscribe-server extension /v1/endoscribe/classify (server/API.md). What it
// answers is the test's: answer({text, imageSha256, body}) returns
// {text} for a chat answer, {top: [{token, logprob}]} for a logprobs request,
// or {probabilities} for /v1/endoscribe/classify. Every request is kept in
// `requests` so tests can check what was sent.
import http from 'node:http';
import crypto from 'node:crypto';

export async function startMockServer(answer, { delayMs = 0, model = 'mock-model', endoscribe = null } = {}) {
  const requests = [];
  const load = { inFlight: 0, maxInFlight: 0 };
  const server = http.createServer(async (req, res) => {
    load.inFlight++;
    load.maxInFlight = Math.max(load.maxInFlight, load.inFlight);
    res.on('close', () => { load.inFlight--; });
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    const send = (status, obj) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    if (req.method === 'GET' && req.url === '/v1/models') return send(200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'test', ...(endoscribe ? { endoscribe } : {}) }] });
    let body;
    try { body = JSON.parse(raw); } catch { return send(400, { error: { message: 'not JSON', type: 'invalid_request_error', param: null, code: null } }); }
    const user = [...body.messages].reverse().find((m) => m.role === 'user');
    const parts = Array.isArray(user?.content) ? user.content : [{ type: 'text', text: user?.content ?? '' }];
    const text = parts.filter((p) => p.type === 'text').map((p) => p.text).join('\n');
    const url = parts.find((p) => p.type === 'image_url')?.image_url?.url ?? null;
    const imageBytes = url ? Buffer.from(url.slice(url.indexOf(',') + 1), 'base64') : null;
    const imageSha256 = imageBytes ? crypto.createHash('sha256').update(imageBytes).digest('hex') : null;
    const last = body.messages.at(-1);
    const partial = last.role === 'assistant' ? last.content : '';
    const request = { url: req.url, body, text, imageSha256, partial, authorization: req.headers.authorization ?? null };
    requests.push(request);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const a = await answer(request);
    if (a?.status) return send(a.status, { error: { message: a.message ?? 'refused', type: 'invalid_request_error', param: null, code: null } });
    if (req.url === '/v1/endoscribe/classify') {
      return send(200, { object: 'endoscribe.classification', model, labels: body.labels, probabilities: a.probabilities,
        log_likelihoods: a.probabilities.map(Math.log), usage: { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 }, timings: { total_ms: 5 } });
    }
    if (req.url !== '/v1/chat/completions') return send(404, { error: { message: 'no such route', type: 'invalid_request_error', param: null, code: null } });
    const content = a.top ? a.top[0].token : a.text;
    const choice = { index: 0, message: { role: 'assistant', content }, finish_reason: a.top ? 'length' : 'stop',
      logprobs: body.logprobs ? { content: [{ token: content, logprob: a.top ? a.top[0].logprob : -0.1, bytes: null,
        top_logprobs: (a.top ?? []).map((t) => ({ ...t, bytes: null })) }] } : null };
    const tokens = content.split(/\s+/).filter(Boolean).length;
    send(200, { id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: 0, model, choices: [choice],
      usage: { prompt_tokens: 10, completion_tokens: tokens, total_tokens: 10 + tokens } });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, requests, load, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}
