// The app's inference-server client (web/remote/): server-sent events split
// anywhere (chunks, CRLF, UTF-8 characters), comments, [DONE], errors in and
// before the stream, a stream cut off, Stop closing the connection (the
// server sees the disconnect), 429 retried after Retry-After, 401, the CSP
// check, addresses, the token's scope, the first-token logprobs
// approximation, RLE masks, the messages a follow-up resends, and segment's
// image_id reuse and resend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, sseEvents } from '../../web/remote/sse.js';
import { RemoteClient } from '../../web/remote/client.js';
import { RemoteError, httpError, plainRemoteError, retryAfterSeconds } from '../../web/remote/errors.js';
import { normalizeAddress, AddressError } from '../../web/remote/address.js';
import { cspAllowsConnect } from '../../web/remote/csp.js';
import { remoteTokenStore } from '../../web/remote/token_store.js';
import { loadSettings, saveSettings } from '../../web/remote/settings.js';
import { firstTokenScores, classifyRemote, classificationQuestion } from '../../web/remote/classify.js';
import { chatMessages, savedConversation } from '../../web/remote/chat_messages.js';
import { decodeRleCounts, segmentPrompt, RemoteSegmenter } from '../../web/remote/segment.js';
import { sniffImageType, dataUrlFromBytes } from '../../web/remote/image_url.js';
import { draftReportRemote } from '../../web/remote/report_draft.js';
import { startMockInferenceServer, rectangleRle } from './mock_inference_server.mjs';

const enc = new TextEncoder();

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
}

// A ReadableStream of the given byte chunks.
function byteStream(chunks) {
  return new ReadableStream({
    start(c) { for (const x of chunks) c.enqueue(typeof x === 'string' ? enc.encode(x) : x); c.close(); },
  });
}

async function collect(chunks) {
  const out = [];
  for await (const e of sseEvents(byteStream(chunks))) out.push(e);
  return out;
}

test('SSE: every split of a stream gives the same events (CRLF, CR, UTF-8, comments, multi-line data)', async () => {
  const text = ': hello\r\ndata: {"a":"ü€😀"}\r\n\r\nevent: note\rdata: one\rdata:two\r\rdata: [DONE]\n\n: trailing\n';
  const want = [{ event: 'message', data: '{"a":"ü€😀"}', id: null }, { event: 'note', data: 'one\ntwo', id: null },
    { event: 'message', data: '[DONE]', id: null }];
  const bytes = enc.encode(text);
  assert.deepEqual(await collect([bytes]), want);
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(await collect([bytes.slice(0, i), bytes.slice(i)]), want, `split at byte ${i}`);
  }
  // One byte at a time.
  assert.deepEqual(await collect(Array.from(bytes, (b) => new Uint8Array([b]))), want);
});

test('SSE: an event without its closing blank line is dropped; fields without a space; no data = no event', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data:x\n\nevent: e\n\nid: 7\ndata: y\n\ndata: unfinished'), [
    { event: 'message', data: 'x', id: null }, { event: 'message', data: 'y', id: '7' }]);
  assert.deepEqual(p.push(''), []);
});

// A client on a fetch that answers with `chunks` as an SSE body.
const streamClient = (chunks, status = 200, headers = {}) => new RemoteClient({
  base: 'http://srv.test', fetchImpl: async () => new Response(byteStream(chunks), { status, headers }) });
const chunk = (content, finish = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }] })}\n\n`;

test('chat stream: deltas in order, usage, [DONE]; split mid-JSON', async () => {
  const all = chunk('Hel') + ': ping\n\n' + chunk('lo ü') + chunk(null, 'stop') +
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } })}\n\ndata: [DONE]\n\n`;
  const deltas = [];
  const r = await streamClient([all.slice(0, 17), all.slice(17, 60), all.slice(60)]).chatStream({ model: 'm', messages: [] },
    { onDelta: (d) => deltas.push(d) });
  assert.deepEqual(deltas, ['Hel', 'lo ü']);
  assert.equal(r.text, 'Hello ü');
  assert.equal(r.finishReason, 'stop');
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 2 });
});

test('chat stream: an error mid-stream is a RemoteError with the text so far (OpenAI and vLLM shapes)', async () => {
  for (const err of [{ error: { message: 'out of memory', type: 'server_error', code: null } },
    { object: 'error', message: 'queue full', type: 'rate_limit_error', code: 429 }]) {
    const c = streamClient([chunk('par'), chunk('tial'), `data: ${JSON.stringify(err)}\n\n`]);
    await assert.rejects(c.chatStream({ model: 'm', messages: [] }), (e) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.partial, 'partial');
      assert.equal(e.kind, err.code === 429 ? 'busy' : 'server');
      return true;
    });
  }
});

test('chat stream: cut off before [DONE] and without a finish reason; a non-JSON event', async () => {
  await assert.rejects(streamClient([chunk('Hel')]).chatStream({ model: 'm', messages: [] }),
    (e) => e.kind === 'cut_off' && e.partial === 'Hel');
  // A finish reason without [DONE] (some servers): complete.
  assert.equal((await streamClient([chunk('ok', 'stop')]).chatStream({ model: 'm', messages: [] })).text, 'ok');
  await assert.rejects(streamClient(['data: {oops\n\n']).chatStream({ model: 'm', messages: [] }), (e) => e.kind === 'bad_response');
});

test('HTTP errors: kinds, Retry-After, plain words', () => {
  assert.equal(httpError(401, '{"error":{"message":"no","type":"authentication_error"}}').kind, 'auth');
  assert.equal(httpError(404, '{"error":{"message":"x","code":"model_not_found"}}').kind, 'model_not_found');
  assert.equal(httpError(404, '{"error":{"message":"x","code":"image_not_cached"}}').kind, 'image_not_cached');
  assert.equal(httpError(404, 'Not Found').kind, 'unsupported');
  assert.equal(httpError(413, '').kind, 'too_large');
  assert.equal(httpError(503, '').kind, 'no_model');
  assert.equal(retryAfterSeconds('3'), 3);
  assert.equal(retryAfterSeconds(new Date(Date.now() + 5000).toUTCString()) >= 4, true);
  assert.equal(retryAfterSeconds(null), null);
  const busy = plainRemoteError('The server could not answer', new RemoteError('busy', 'HTTP 429', { retryAfter: 7 }));
  assert.match(busy.text, /busy.*try again in 7 s\.$/);
  const csp = plainRemoteError('x', new RemoteError('csp', 'blocked', { origin: 'http://10.0.0.5:8000' }));
  assert.match(csp.text, /Add "http:\/\/10\.0\.0\.5:8000" to "inference_servers"/);
  assert.match(plainRemoteError('x', new RemoteError('auth', 'HTTP 401', { status: 401 }), 'http://a').text, /needs a valid access token/);
  assert.match(plainRemoteError('x', new RemoteError('unreachable', 'Failed to fetch'), 'http://a').text, /could not be reached/);
});

test('addresses: typed forms become a base URL; bad ones are refused in plain words', () => {
  assert.deepEqual(normalizeAddress('gpu-box:8000'), { base: 'http://gpu-box:8000', origin: 'http://gpu-box:8000' });
  assert.equal(normalizeAddress(' http://10.0.0.5:8000/v1/ ').base, 'http://10.0.0.5:8000');
  assert.equal(normalizeAddress('https://x.example/llm/v1').base, 'https://x.example/llm');
  assert.throws(() => normalizeAddress(''), AddressError);
  assert.throws(() => normalizeAddress('ftp://x'), /http:\/\/ or https:\/\//);
  assert.throws(() => normalizeAddress('http://user:pw@x'), /token field/);
  assert.throws(() => normalizeAddress('http://x/?a=1'), AddressError);
});

test('CSP: connect-src decides; default-src when absent; self, schemes, ports, wildcards', () => {
  const page = 'http://127.0.0.1:8080';
  const p = "default-src 'self'; connect-src 'self' https://huggingface.co http://10.0.0.5:8000 https://*.example.org";
  assert.equal(cspAllowsConnect(p, 'http://127.0.0.1:8080/v1/models', page), true);
  assert.equal(cspAllowsConnect(p, 'http://10.0.0.5:8000/v1/models', page), true);
  assert.equal(cspAllowsConnect(p, 'http://10.0.0.5:8001/v1/models', page), false);
  assert.equal(cspAllowsConnect(p, 'https://gpu.example.org/v1/models', page), true);
  assert.equal(cspAllowsConnect(p, 'http://127.0.0.1:8000/v1/models', page), false);
  assert.equal(cspAllowsConnect("default-src 'self'", 'http://127.0.0.1:9/v1', page), false);
  assert.equal(cspAllowsConnect("script-src 'self'", 'http://127.0.0.1:9/v1', page), true);
  assert.equal(cspAllowsConnect(null, 'http://x', page), true);
  assert.equal(cspAllowsConnect("connect-src 'self' http:", 'https://any.host/v1', page), true);
});

test('client: CSP refusal before any request; unreachable server; 401 then the token; token only to its origin', async () => {
  let calls = 0;
  const c = new RemoteClient({ base: 'http://10.9.9.9:8000', fetchImpl: async () => { calls++; throw new TypeError('Failed to fetch'); },
    csp: { policy: "connect-src 'self'", pageOrigin: 'http://127.0.0.1:8080' } });
  await assert.rejects(c.listModels(), (e) => e.kind === 'csp' && e.origin === 'http://10.9.9.9:8000');
  assert.equal(calls, 0);
  const down = new RemoteClient({ base: 'http://127.0.0.1:1', fetchImpl: async () => { throw new TypeError('Failed to fetch'); } });
  await assert.rejects(down.listModels(), (e) => e.kind === 'unreachable');

  const srv = await startMockInferenceServer({ token: 'sekrit-token' });
  try {
    const store = remoteTokenStore(memoryStorage());
    const client = new RemoteClient({ base: srv.url, token: () => store.get(srv.url) });
    await assert.rejects(client.listModels(), (e) => e.kind === 'auth' && e.status === 401);
    store.set(srv.url, 'Bearer sekrit-token');  // pasted with its "Bearer " prefix
    assert.equal(store.hint(srv.url), '...oken');
    assert.deepEqual((await client.listModels()).map((m) => m.id), ['tiny-gemma3']);
    assert.equal(srv.state.requests.at(-1).authorization, 'Bearer sekrit-token');
    // Another origin's store entry is not this one's.
    assert.equal(store.get('http://127.0.0.1:1'), null);
    assert.throws(() => store.set(srv.url, 'two words'), /not allowed/);
    store.remove(srv.url);
    assert.equal(store.get(srv.url), null);
  } finally {
    await srv.close();
  }
});

test('client: 429 is retried after Retry-After, and reported when it persists', async () => {
  const srv = await startMockInferenceServer({ tokenMs: 1 });
  try {
    const retries = [];
    const c = new RemoteClient({ base: srv.url, retries: 2 });
    srv.state.busy = 1;
    const r = await c.chatStream({ model: 'tiny-gemma3', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 },
      { onRetry: (x) => retries.push(x) });
    assert.deepEqual(retries, [{ seconds: 1, attempt: 1 }]);
    assert.match(r.text, /^Answer 1/);
    srv.state.busy = 5;
    const c0 = new RemoteClient({ base: srv.url, retries: 0 });
    await assert.rejects(c0.chat({ model: 'tiny-gemma3', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e.kind === 'busy' && e.retryAfter === 1);
  } finally {
    await srv.close();
  }
});

test('client: Stop aborts the stream, keeps the text so far, and the server sees the disconnect', async () => {
  const srv = await startMockInferenceServer({ tokenMs: 30 });
  try {
    const c = new RemoteClient({ base: srv.url });
    const ac = new AbortController();
    let n = 0;
    const p = c.chatStream({ model: 'tiny-gemma3', messages: [{ role: 'user', content: 'a long answer please' }], max_tokens: 300 },
      { signal: ac.signal, onDelta: () => { if (++n === 5) ac.abort(); } });
    await assert.rejects(p, (e) => e.kind === 'cancelled' && e.partial.length > 0 && e.partial.split(' ').length <= 7);
    for (let i = 0; i < 50 && srv.state.cancelled === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(srv.state.cancelled, 1);
    assert.equal(srv.state.completed, 0);
  } finally {
    await srv.close();
  }
});

test('follow-ups resend the conversation, the image first in the first question; saved like the core saves', () => {
  const turns = [{ question: 'What is it?', answer: 'A polyp.' }];
  const m = chatMessages(turns, 'How big?', 'data:image/png;base64,AAAA');
  assert.deepEqual(m, [
    { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: 'What is it?' }] },
    { role: 'assistant', content: 'A polyp.' },
    { role: 'user', content: 'How big?' },
  ]);
  const s = savedConversation(turns);
  assert.equal(s.format, 'endoscribe-conversation');
  assert.deepEqual(s.turns[0], { question: 'What is it?', with_image: true, prompt_ids: [], answer_ids: [], answer_text: 'A polyp.', answered: true });
});

test('images go as their own bytes: PNG, JPEG and BMP sniffed, anything else refused', () => {
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  assert.equal(sniffImageType(jpeg), 'image/jpeg');
  assert.equal(dataUrlFromBytes(jpeg), `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`);
  assert.equal(sniffImageType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])), 'image/png');
  assert.equal(sniffImageType(new Uint8Array([0x42, 0x4d, 0, 0])), 'image/bmp');
  assert.throws(() => dataUrlFromBytes(new Uint8Array([1, 2, 3])), /not PNG, JPEG or BMP/);
});

test('first-token logprobs: text matching, shared first tokens, coverage, nothing matched', () => {
  const labels = ['polyp', 'ulcerative colitis grade 1', 'ulcerative colitis grade 2', 'normal cecum'];
  const top = [{ token: '▁Pol', logprob: Math.log(0.5) }, { token: ' ul', logprob: Math.log(0.2) },
    { token: 'The', logprob: Math.log(0.2) }, { token: ' ', logprob: Math.log(0.05) }, { token: 'normal', logprob: Math.log(0.05) }];
  const s = firstTokenScores(top, labels);
  assert.ok(Math.abs(s.coverage - 0.75) < 1e-9);
  const p = s.probabilities;
  assert.ok(Math.abs(p[0] - 0.5 / 0.75) < 1e-9);
  assert.ok(Math.abs(p[1] - 0.1 / 0.75) < 1e-9 && Math.abs(p[2] - p[1]) < 1e-12);
  assert.ok(Math.abs(p[3] - 0.05 / 0.75) < 1e-9);
  assert.deepEqual(s.tied, [[1, 2]]);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  // A label no top token starts: 0, and its log-likelihood null (the core's -inf).
  const s2 = firstTokenScores([{ token: 'pol', logprob: -0.1 }], ['polyp', 'ulcer']);
  assert.deepEqual(s2.probabilities, [1, 0]);
  assert.equal(s2.log_likelihoods[1], null);
  assert.equal(firstTokenScores([{ token: 'The', logprob: -0.1 }], ['polyp']), null);
});

test('classify: exact on endoscribe-server, first-token approximation on a vLLM-like server', async () => {
  const labelSet = { labels: [{ name: 'polyp' }, { name: 'ulcer' }, { name: 'normal' }] };
  assert.equal(classificationQuestion(labelSet), 'Which one of these best describes the image: polyp, ulcer, normal? Answer with the name only.');
  for (const flavor of ['endoscribe', 'vllm']) {
    const srv = await startMockInferenceServer({ flavor });
    try {
      const c = new RemoteClient({ base: srv.url });
      const model = (await c.listModels())[0].id;
      const r = await classifyRemote(c, { model, labelSet, imageUrl: 'data:image/png;base64,iVBORw0KGgo=', endoscribe: flavor === 'endoscribe' });
      assert.equal(r.probabilities.length, 3);
      assert.ok(r.probabilities[0] > r.probabilities[1] && r.probabilities[1] > r.probabilities[2]);
      assert.ok(Math.abs(r.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      const req = srv.state.requests.at(-1);
      if (flavor === 'endoscribe') {
        assert.equal(req.path, '/v1/endoscribe/classify');
        assert.deepEqual(req.body.labels, ['polyp', 'ulcer', 'normal']);
        assert.equal(r.method, 'label scoring');
      } else {
        assert.equal(req.path, '/v1/chat/completions');
        assert.equal(req.body.max_tokens, 1);
        assert.equal(req.body.logprobs, true);
        assert.equal(req.body.top_logprobs, 20);
        assert.equal(r.method, 'first-token logprobs');
        assert.ok(r.coverage > 0.5 && r.coverage < 1);
      }
    } finally {
      await srv.close();
    }
  }
});

test('segment: RLE decoding, prompt shape, image sent once then image_id, resent when evicted; 404 on vLLM', async () => {
  const rle = rectangleRle(5, 4, 1, 1, 3, 3);
  const m = decodeRleCounts(rle.counts, 4, 5);
  assert.deepEqual(Array.from(m), [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => decodeRleCounts([3, 2], 4, 5), /cover 5 pixels/);
  assert.deepEqual(segmentPrompt({ clicks: [{ x: 3, y: 4, positive: true }, { x: 1, y: 1, positive: false }], box: { x: 1, y: 2, w: 10, h: 20 } }),
    { points: [[3, 4, 1], [1, 1, 0]], box: [1, 2, 11, 22] });
  // A 6x4 PNG header is enough for the mock's size check.
  const png = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]).copy(png);
  png.writeUInt32BE(6, 16);
  png.writeUInt32BE(4, 20);
  const srv = await startMockInferenceServer();
  try {
    const client = new RemoteClient({ base: srv.url });
    const seg = new RemoteSegmenter({ client: () => client, bytesOf: () => new Uint8Array(png) });
    const r1 = await seg.segment('a.png', { points: [[2, 2, 1]] });
    assert.equal(r1.width, 6);
    assert.equal(r1.masks.length, 1);
    await seg.segment('a.png', { points: [[2, 2, 1], [4, 1, 0]] });
    assert.equal(srv.state.requests.at(-1).body.image, undefined);
    assert.equal(srv.state.requests.at(-1).body.image_id, r1.image_id);
    srv.evictImages();
    const r3 = await seg.segment('a.png', { points: [[1, 1, 1]] });
    assert.equal(r3.image_id, r1.image_id);
    assert.deepEqual(seg.stats, { requests: 4, imagesSent: 2, resent: 1, embeddingCached: 1 });
  } finally {
    await srv.close();
  }
  const vllm = await startMockInferenceServer({ flavor: 'vllm' });
  try {
    const client = new RemoteClient({ base: vllm.url });
    const seg = new RemoteSegmenter({ client: () => client, bytesOf: () => new Uint8Array(png) });
    await assert.rejects(seg.segment('a.png', { points: [[1, 1, 1]] }), (e) => e.kind === 'unsupported');
  } finally {
    await vllm.close();
  }
});

test('report drafting: one extension request on endoscribe-server; per question over chat on vLLM; cancel keeps answers', async () => {
  const questions = [
    { path: 'findings[0].shape', image: 'a.png', prompt: 'Shape? Options: sessile, pedunculated', kind: 'choice', options: [{ code: 'Is', answer: 'sessile' }, { code: 'Ip', answer: 'pedunculated' }] },
    { path: 'findings[0].size_mm', image: 'a.png', prompt: 'Size in mm?', kind: 'number', max_tokens: 4 },
    { path: 'impression', image: null, prompt: 'Impression?', kind: 'text', max_tokens: 8 },
  ];
  const imageUrlFor = async () => 'data:image/png;base64,iVBORw0KGgo=';
  for (const flavor of ['endoscribe', 'vllm']) {
    const srv = await startMockInferenceServer({ flavor });
    try {
      const client = new RemoteClient({ base: srv.url });
      const model = (await client.listModels())[0].id;
      const progress = [];
      // The server's answers: ours, plus one for a question of its own second round.
      srv.state.draftAnswers = [...srv.state.draftAnswersFor(questions), { path: 'findings[1].size_mm', text: '3' }];
      const r = await draftReportRemote({ client, model, endoscribe: flavor === 'endoscribe' }, questions,
        { imageUrlFor, onProgress: (p) => progress.push(p.done), report: () => ({ format: 'report', findings: [] }), scope: { images: ['a.png'] } }).promise;
      assert.equal(r.cancelled, false);
      assert.deepEqual(r.answers.map((a) => a.path), questions.map((q) => q.path));
      assert.deepEqual(r.answers[0].codes, ['Is', 'Ip']);
      assert.ok(r.answers[0].log_likelihoods[0] > r.answers[0].log_likelihoods[1]);
      assert.equal(typeof r.answers[1].text, 'string');
      const posts = srv.state.requests.filter((q) => q.method === 'POST');
      if (flavor === 'endoscribe') {
        assert.deepEqual(posts.map((q) => q.path), ['/v1/endoscribe/report/draft']);
        assert.deepEqual(Object.keys(posts[0].body.images), ['a.png']);
        assert.deepEqual(posts[0].body.report, { format: 'report', findings: [] });
        assert.deepEqual(posts[0].body.scope, { images: ['a.png'] });
        assert.equal(r.answers.length, 3, 'the answer to a question the app did not ask is left out');
      } else {
        assert.equal(posts.length, 3);
        assert.equal(posts[0].body.logprobs, true);
        assert.equal(posts[1].body.max_tokens, 4);
        assert.deepEqual(progress, [1, 2, 3]);
        // Cancel after the first answer: that one is kept, no further request goes out.
        const before = srv.state.requests.length;
        let job = null;
        job = draftReportRemote({ client, model, endoscribe: false }, questions,
          { imageUrlFor, onProgress: (p) => { if (p.done === 1) job.cancel(); } });
        const c = await job.promise;
        assert.equal(c.cancelled, true);
        assert.deepEqual(c.answers.map((a) => a.path), [questions[0].path]);
        assert.equal(srv.state.requests.length, before + 1);
      }
    } finally {
      await srv.close();
    }
  }
});

test('settings survive a reload (storage); unknown values fall back to the browser', () => {
  const st = memoryStorage();
  const s = loadSettings(st);
  assert.deepEqual(s.use, { chat: 'browser', classify: 'browser', segment: 'browser', draft: 'browser' });
  s.address = 'http://10.0.0.5:8000';
  s.model = 'google/medgemma-4b-it';
  s.use.chat = 'server';
  s.use.segment = 'elsewhere';
  saveSettings(s, st);
  const back = loadSettings(st);
  assert.equal(back.address, 'http://10.0.0.5:8000');
  assert.equal(back.use.chat, 'server');
  assert.equal(back.use.segment, 'browser');
  st.setItem('endoscribe.remote.settings', '{broken');
  assert.equal(loadSettings(st).address, '');
});

test('backend: per-task routing, check tells endoscribe-server from vLLM, the state holds no token, CSP flag', async () => {
  const { RemoteBackend } = await import('../../web/remote/backend.js');
  const es = await startMockInferenceServer({ token: 'tok-1234' });
  const vllm = await startMockInferenceServer({ flavor: 'vllm' });
  try {
    const storage = memoryStorage();
    const messages = [];
    const policy = `default-src 'self'; connect-src 'self' ${es.url} ${vllm.url}`;
    const b = new RemoteBackend({ storage, apiConfig: { content_security_policy: policy }, pageOrigin: 'http://127.0.0.1:8080',
      onMessage: (kind, text) => messages.push({ kind, text }) });
    assert.equal(b.routes('chat'), false);
    b.setUse('chat', 'server');
    assert.equal(b.ready('chat'), false);
    assert.match(b.whyNot('chat'), /address/);
    await b.check(es.url);
    assert.equal(b.status, 'error');
    assert.match(b.error.text, /needs a valid access token/);
    b.setToken('tok-1234');
    await b.check();
    assert.equal(b.status, 'connected');
    assert.equal(b.endoscribe, true);
    assert.equal(b.ready('chat'), true);
    const st = b.state();
    assert.equal(st.token.hint, '...1234');
    assert.ok(!JSON.stringify(st).includes('tok-1234'));
    assert.equal(st.allowed, true);
    // Removed, the next request goes without it (401), and it comes back when typed again.
    b.removeToken();
    assert.equal(b.state().token, null);
    await b.check();
    assert.equal(b.status, 'error');
    b.setToken('tok-1234');
    await b.check();
    assert.equal(b.status, 'connected');
    // Reloaded: the same choice, model and kind of server before any check.
    const again = new RemoteBackend({ storage });
    assert.equal(again.routes('chat'), true);
    assert.equal(again.ready('chat'), true);
    assert.equal(again.endoscribe, true);
    // vLLM: no segmentation; the token stays with the other origin.
    b.setUse('segment', 'server');
    await b.check(vllm.url);
    assert.equal(b.endoscribe, false);
    assert.equal(b.state().token, null);
    assert.match(b.whyNot('segment'), /offers no segmentation/);
    assert.ok(vllm.state.requests.every((r) => r.authorization === null));
    // An address the CSP does not list.
    b.setAddress('http://127.0.0.1:9');
    assert.equal(b.state().allowed, false);
    await b.check();
    assert.match(b.error.text, /Add "http:\/\/127\.0\.0\.1:9" to "inference_servers"/);
  } finally {
    await es.close();
    await vllm.close();
  }
});
