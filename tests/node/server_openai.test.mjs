// endoscribe-server as an OpenAI-compatible inference server, driven by the
// official `openai` npm client as an independent client: the real program with
// the tiny oracle model (tests/fixtures/tiny-gemma3, built by tools/build_model.py)
// on the CPU provider. Greedy answers must be the oracle's golden continuations
// (Hugging Face transformers), streamed or not, with an image or without; and
// the server must hold up under broken requests, 64 concurrent streams, clients
// that hang up, a full queue, and an address beyond loopback (token).
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { FIXTURE, GOLDEN, ROOT, buildPackage, makeCheckpoint } from './model_helpers.mjs';

const BUILD = path.resolve(ROOT, process.env.ES_BUILD_DIR || 'build');
const SERVER = path.join(BUILD, 'native/server/endoscribe-server');
const MODEL = 'tiny-gemma3';
// The oracle's greedy continuations (24 tokens; generated without stopping at end of turn).
const TEXT_PROMPT = 'Draft an endoscopy report.';
const IMAGE_PROMPT = 'What is shown in this image?';
// transformers' greedy continuation of TEXT_PROMPT (golden.json's text_only_greedy_ids, decoded).
const TEXT_GOLDEN = 'QQQQQke inhicecececececececececececececececece';
const IMAGE_URL = 'data:image/png;base64,' + fs.readFileSync(path.join(FIXTURE, 'golden/image.png')).toString('base64');

function skipReason() {
  if (!fs.existsSync(SERVER)) return `endoscribe-server not built: ${SERVER}`;
  return null;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-server-openai-'));
const appRoot = path.join(tmp, 'app');
fs.mkdirSync(appRoot);
fs.writeFileSync(path.join(appRoot, 'index.html'), '<!doctype html><title>EndoScribe</title>');
const configFile = path.join(tmp, 'config.json');
fs.writeFileSync(configFile, JSON.stringify({ hugging_face_hosts: true }));

let pkg = null;
const servers = [];

// Starts the program; resolves with { url, baseURL, proc, stderr(), stop() } at its "listening on" line.
function startServer(args = [], modelDir = pkg) {
  return new Promise((resolve, reject) => {
    const proc = spawn(SERVER, ['--root', appRoot, '--config', configFile, '--port', '0', '--model', modelDir,
      '--model-name', MODEL, '--variant', 'fp32', '--cpu', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`server did not start in 30 s: ${out}${err}`)); }, 30000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}): ${err}`)); });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/([^\s/]+):(\d+)\//.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const url = `http://127.0.0.1:${m[2]}`;
      const server = {
        url, baseURL: `${url}/v1`, proc, stderr: () => err,
        stop: () => new Promise((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
          proc.once('exit', () => { clearTimeout(kill); res(); });
          proc.kill('SIGTERM');
        }),
      };
      servers.push(server);
      resolve(server);
    });
  });
}

async function waitHealthy(server) {
  for (let i = 0; i < 300; i++) {
    const h = await (await fetch(`${server.url}/health`)).json();
    if (h.status === 'ready') return h;
    if (h.status === 'failed' || h.status === 'no_model') throw new Error(`the model did not load: ${h.error ?? ''} ${server.stderr()}`);
    assert.equal(h.status, 'loading');  // never anything else while the model loads
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the model did not load in 15 s');
}

async function metrics(server, headers = {}) {
  const text = await (await fetch(`${server.url}/metrics`, { headers })).text();
  const value = (name) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { text, value };
}

const client = (server, options = {}) => new OpenAI({ baseURL: server.baseURL, apiKey: 'unused-on-loopback', maxRetries: 0, ...options });
const textMessages = (text = TEXT_PROMPT) => [{ role: 'user', content: text }];
const imageMessages = () => [{ role: 'user', content: [{ type: 'image_url', image_url: { url: IMAGE_URL } }, { type: 'text', text: IMAGE_PROMPT }] }];

async function collectStream(stream) {
  let text = '', finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta?.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  return { text, finish, usage, chunks };
}

after(async () => {
  for (const s of servers) await s.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (pkg) fs.rmSync(pkg, { recursive: true, force: true });
});

const skip = skipReason();
if (skip) console.log(`# skipped: ${skip}`);

describe('endoscribe-server through the openai client', { skip: skip ?? false, timeout: 240000 }, () => {
  let main;          // loopback, small body and image limits

  before(async () => {
    pkg = buildPackage(path.join(FIXTURE, 'checkpoint'));
    main = await startServer(['--max-body-mib', '2', '--max-image-mib', '1']);
    await waitHealthy(main);
  });
  after(async () => { for (const s of servers) await s.stop(); });

  test('GET /v1/models lists the package with its input modalities', async () => {
    const models = [];
    for await (const m of client(main).models.list()) models.push(m);
    assert.equal(models.length, 1);
    assert.equal(models[0].id, MODEL);
    assert.equal(models[0].owned_by, 'endoscribe');
    assert.deepEqual(models[0].endoscribe.input_modalities, ['text', 'image']);
    assert.equal(models[0].endoscribe.execution_provider, 'cpu');
    assert.ok(models[0].endoscribe.context_length > 0);
  });

  test('a text-only greedy answer is the oracle\'s, with usage', async () => {
    const r = await client(main).chat.completions.create({ model: MODEL, messages: textMessages(), temperature: 0, max_tokens: 24 });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.prompt_tokens, GOLDEN.text_only_ids.length);
    assert.equal(r.usage.completion_tokens, 24);
    assert.equal(r.usage.total_tokens, GOLDEN.text_only_ids.length + 24);
    assert.equal(r.choices[0].message.content, TEXT_GOLDEN);
  });

  test('streamed with an image: the oracle\'s turn-1 answer, chunk by chunk, with usage', async () => {
    const stream = await client(main).chat.completions.create({
      model: MODEL, messages: imageMessages(), temperature: 0, max_completion_tokens: 24, stream: true,
      stream_options: { include_usage: true },
    });
    const r = await collectStream(stream);
    assert.equal(r.text, GOLDEN.turn1_greedy_text);
    assert.equal(r.finish, 'length');
    assert.equal(r.usage.completion_tokens, 24);
    assert.equal(r.usage.prompt_tokens, GOLDEN.turn1_ids.length);
    assert.ok(r.chunks >= 24, `one chunk per token (got ${r.chunks})`);
  });

  test('turn 2 resends the conversation: the oracle\'s turn-2 answer, its prefix served from the kept cache', async () => {
    const c = client(main);
    const t1 = await c.chat.completions.create({ model: MODEL, messages: imageMessages(), temperature: 0, max_tokens: 24 });
    assert.equal(t1.choices[0].message.content, GOLDEN.turn1_greedy_text);
    const t2 = await c.chat.completions.create({
      model: MODEL, temperature: 0, max_tokens: 24,
      messages: [...imageMessages(), { role: 'assistant', content: t1.choices[0].message.content },
        { role: 'user', content: 'How many polyps are visible?' }],
    });
    assert.equal(t2.choices[0].message.content, GOLDEN.turn2_greedy_text);
    assert.equal(t2.usage.prompt_tokens, GOLDEN.turn2_prompt_ids.length);
    assert.ok(t2.usage.prompt_tokens_details.cached_tokens >= GOLDEN.turn1_ids.length,
      `cached ${t2.usage.prompt_tokens_details.cached_tokens} of ${t2.usage.prompt_tokens}`);
  });

  test('an edited conversation after a kept one: answered as by a server that never saw the first', async () => {
    // The kept cache (turn 1 + its answer) shares only a prefix with the edited conversation; the package's
    // sliding layers keep only their window (PACKAGE.md "KV cache forms"), so that cache cannot be cut
    // to the shared prefix and must not be used cut (it would lack those layers' earlier positions).
    const edited = [...imageMessages(), { role: 'assistant', content: 'A polyp.' },
      { role: 'user', content: 'How many polyps are visible?' }];
    const c = client(main);
    await c.chat.completions.create({ model: MODEL, messages: imageMessages(), temperature: 0, max_tokens: 24 });
    const a = await c.chat.completions.create({ model: MODEL, messages: edited, temperature: 0, max_tokens: 16 });
    const fresh = await startServer([]);
    await waitHealthy(fresh);
    const b = await client(fresh).chat.completions.create({ model: MODEL, messages: edited, temperature: 0, max_tokens: 16 });
    await fresh.stop();
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.equal(b.usage.prompt_tokens_details?.cached_tokens ?? 0, 0);
  });

  test('logprobs and top_logprobs: the greedy token is the most likely one', async () => {
    const r = await client(main).chat.completions.create({
      model: MODEL, messages: textMessages(), temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 3,
    });
    const content = r.choices[0].logprobs.content;
    assert.equal(content.length, 8);
    for (const t of content) {
      assert.ok(t.logprob <= 0, `logprob ${t.logprob}`);
      assert.equal(t.top_logprobs.length, 3);
      for (let i = 1; i < 3; i++) assert.ok(t.top_logprobs[i - 1].logprob >= t.top_logprobs[i].logprob);
      assert.equal(t.top_logprobs[0].token, t.token);
      assert.ok(Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-4);
      assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
    }
    assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
  });

  test('stop strings end the answer before them; seeded sampling repeats', async () => {
    const r = await client(main).chat.completions.create({ model: MODEL, messages: textMessages(), temperature: 0, max_tokens: 24, stop: ['ke in'] });
    assert.equal(r.choices[0].message.content, 'QQQQQ');
    assert.equal(r.choices[0].finish_reason, 'stop');
    const sample = () => client(main).chat.completions.create({
      model: MODEL, messages: textMessages(), temperature: 1.5, top_p: 0.95, top_k: 50, seed: 7, max_tokens: 16,
    });
    const [a, b] = [await sample(), await sample()];
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  });

  test('bad requests are OpenAI errors in plain words', async () => {
    const c = client(main);
    await assert.rejects(c.chat.completions.create({ model: 'no-such-model', messages: textMessages() }),
      (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
    await assert.rejects(c.chat.completions.create({ model: MODEL, messages: textMessages(), n: 2 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'n');
    await assert.rejects(c.chat.completions.create({ model: MODEL, messages: [] }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
    await assert.rejects(c.chat.completions.create({ model: MODEL, messages: textMessages(), temperature: 5 }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'temperature');
    // A damaged image: the core's decoder says what is wrong.
    const png = fs.readFileSync(path.join(FIXTURE, 'golden/image.png'));
    const cut = 'data:image/png;base64,' + png.subarray(0, png.length >> 1).toString('base64');
    await assert.rejects(c.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: cut } }, { type: 'text', text: 'x' }] }],
    }), (e) => e instanceof OpenAI.BadRequestError && e.code === 'image_unreadable' && /cannot be read/.test(e.message));
    await assert.rejects(c.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.org/polyp.jpg' } }] }],
    }), (e) => e instanceof OpenAI.BadRequestError && e.code === 'image_url_not_allowed');
    // Malformed JSON and nesting bombs, below the client.
    for (const body of ['{"model": "x", "messages": [', '['.repeat(100000), '"just a string"']) {
      const r = await fetch(`${main.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(r.status, 400);
      const j = await r.json();
      assert.equal(j.error.type, 'invalid_request_error');
      assert.ok(j.error.message.length > 10);
    }
  });

  test('oversized requests and images are 413', async () => {
    const c = client(main);
    // An image over --max-image-mib 1 inside a body under --max-body-mib 2.
    const big = 'data:image/png;base64,' + Buffer.alloc(1200 * 1024, 7).toString('base64');
    await assert.rejects(c.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: big } }] }],
    }), (e) => e.status === 413 && e.code === 'image_too_large');
    // A body over --max-body-mib 2.
    const r = await fetch(`${main.baseURL}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: textMessages('a'.repeat(3 << 20)) }),
    }).catch((e) => e);
    if (r instanceof Error) assert.fail(`the client saw no response: ${r.message}`);
    assert.equal(r.status, 413);
    assert.equal((await r.json()).error.code, 'request_too_large');
  });

  test('64 concurrent streams all complete with the greedy text', async () => {
    const c = client(main);
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 64 }, async () => collectStream(
      await c.chat.completions.create({ model: MODEL, messages: textMessages(), temperature: 0, max_tokens: 24, stream: true }))));
    const seconds = (performance.now() - t0) / 1000;
    for (const r of results) {
      assert.equal(r.text, TEXT_GOLDEN);
      assert.equal(r.finish, 'length');
    }
    const m = await metrics(main);
    console.log(`# 64 streams x 24 tokens in ${seconds.toFixed(2)} s; widest decode batch ${m.value('endoscribe_max_batch_observed')}`);
  });
});

describe('endoscribe-server limits and access', { skip: skip ?? false, timeout: 240000 }, () => {
  before(() => { if (!pkg) pkg = buildPackage(path.join(FIXTURE, 'checkpoint')); });
  after(async () => { for (const s of servers) await s.stop(); });

  test('a full queue answers 429 with Retry-After; the others complete', async () => {
    const s = await startServer(['--max-queue', '1', '--max-batch', '1']);
    await waitHealthy(s);
    const c = client(s);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () =>
      c.chat.completions.create({ model: MODEL, messages: textMessages(), temperature: 0, max_tokens: 400 }).withResponse()));
    const refused = results.filter((r) => r.status === 'rejected');
    const answered = results.filter((r) => r.status === 'fulfilled');
    assert.ok(refused.length >= 1, 'nothing was refused');
    for (const r of refused) {
      assert.ok(r.reason instanceof OpenAI.RateLimitError, String(r.reason));
      assert.equal(r.reason.code, 'queue_full');
      assert.ok(Number(r.reason.headers.get('retry-after')) >= 1);
    }
    assert.ok(answered.length >= 2);
    for (const r of answered) assert.ok(r.value.data.choices[0].message.content.startsWith(TEXT_GOLDEN));
    const m = await metrics(s);
    assert.equal(m.value('endoscribe_rejected_total'), refused.length);
    assert.equal(m.value('endoscribe_max_batch_observed'), 1);
    await s.stop();
  });

  test('a client that hangs up cancels its generation, running or waiting', async () => {
    // A wider random model with a long context, so an answer of 4000 tokens takes
    // many seconds and a hang-up always lands while it is being written; one
    // answer at a time, so a second stream waits behind the first.
    const ckpt = makeCheckpoint(['--hidden', '256', '--intermediate', '1024', '--layers', '4', '--heads', '4',
      '--kv-heads', '2', '--head-dim', '64', '--query-pre-attn-scalar', '64']);
    const wide = buildPackage(ckpt, ['--quant', 'none']);
    fs.rmSync(ckpt, { recursive: true, force: true });
    const s = await startServer(['--max-batch', '1'], wide);
    try {
      await waitHealthy(s);
      const c = client(s);
      const long = { model: MODEL, messages: textMessages('long'), temperature: 0, max_tokens: 4000, stream: true };
      const running = new AbortController(), waiting = new AbortController();
      const first = await c.chat.completions.create(long, { signal: running.signal });
      const queued = c.chat.completions.create(long, { signal: waiting.signal });
      const until = async (what, ok) => {
        for (let i = 0; i < 250; i++) {
          const m = await metrics(s);
          if (ok(m)) return m;
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.fail(`${what}: ${(await metrics(s)).text}`);
      };
      await until('the second stream never waited', (m) => m.value('endoscribe_queue_length') === 1);
      waiting.abort();
      await assert.rejects(queued, (e) => e.name === 'AbortError' || e instanceof OpenAI.APIUserAbortError);
      await until('the waiting stream stayed in the queue', (m) => m.value('endoscribe_queue_length') === 0 &&
        m.value('endoscribe_cancelled_total') === 1);
      let chunks = 0;
      try {
        for await (const chunk of first) {
          if (++chunks === 2) {
            running.abort();
            break;
          }
        }
      } catch (e) {
        assert.ok(e.name === 'AbortError' || e instanceof OpenAI.APIUserAbortError, String(e));
      }
      assert.equal(chunks, 2);
      const m = await until('the abandoned stream was not cancelled', (x) => x.value('endoscribe_cancelled_total') === 2 &&
        x.value('endoscribe_active_sequences') === 0);
      // It stopped early: far fewer tokens than the 4000 asked for were made.
      const generated = m.value('endoscribe_generated_tokens_total');
      assert.ok(generated < 1000, `generated ${generated} tokens after the client left`);
    } finally {
      await s.stop();
      fs.rmSync(wide, { recursive: true, force: true });
    }
  });

  test('beyond loopback a bearer token is required; it is kept in a 0600 file and never printed', async () => {
    const tokenFile = path.join(tmp, 'token-dir', 'api_token');
    const s = await startServer(['--host', '0.0.0.0', '--token-file', tokenFile]);
    const mode = fs.statSync(tokenFile).mode & 0o777;
    assert.equal(mode, 0o600);
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    assert.ok(token.length >= 32);
    assert.ok(s.stderr().includes(tokenFile), 'the token file path is printed');
    assert.ok(!s.stderr().includes(token), 'the token itself is printed');
    await waitHealthy(s);  // /health needs no token
    await assert.rejects(client(s, { apiKey: 'not-the-token' }).chat.completions.create({ model: MODEL, messages: textMessages(), max_tokens: 2 }),
      (e) => e instanceof OpenAI.AuthenticationError);
    await assert.rejects(client(s, { apiKey: 'not-the-token' }).models.list(), (e) => e instanceof OpenAI.AuthenticationError);
    assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
    const r = await client(s, { apiKey: token }).chat.completions.create({ model: MODEL, messages: textMessages(), temperature: 0, max_tokens: 24 });
    assert.equal(r.choices[0].message.content, TEXT_GOLDEN);
    assert.equal((await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.ok(!s.stderr().includes(token));
    await s.stop();
    // Second start: the same token, still 0600.
    const again = await startServer(['--host', '0.0.0.0', '--token-file', tokenFile]);
    assert.equal(fs.readFileSync(tokenFile, 'utf8').trim(), token);
    await again.stop();
    // A token file others can read is refused at start, with the fix in words.
    fs.chmodSync(tokenFile, 0o644);
    await assert.rejects(startServer(['--host', '0.0.0.0', '--token-file', tokenFile]), /chmod 600/);
  });

  test('CORS: only the app\'s own origin and configured ones', async () => {
    const s = await startServer();
    const own = await fetch(`${s.url}/v1/models`, { headers: { origin: s.url } });
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('access-control-allow-origin'), s.url);
    const other = await fetch(`${s.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const pre = await fetch(`${s.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 403);
    await s.stop();
  });
});
