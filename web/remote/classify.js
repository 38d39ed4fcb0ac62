// classify.js: the probability of every label of a label set for an image,
// on an inference server.
//
// endoscribe-server: POST /v1/endoscribe/classify scores every label exactly
// as the browser does (log P(label tokens, end of turn | prompt), softmax over
// the labels; src/assistant/label_scoring.h).
//
// A plain OpenAI-compatible server (vLLM, llama.cpp's server) cannot score a
// given continuation, so the app approximates it from the FIRST answer token:
//   1. the same prompt as the browser (image + "Which one of these best
//      describes the image: <labels>? Answer with the name only."), with
//      max_tokens 1, temperature 0, logprobs true, top_logprobs K (20, the
//      most OpenAI and vLLM's default --max-logprobs allow);
//   2. each of the K most likely first tokens is read as text (SentencePiece
//      "▁" and byte-level "Ġ" as spaces, leading spaces dropped, lower case);
//      a token matches a label when the label's answer text starts with it
//      or it starts with the label's text ("polyp" matches "polyps" and
//      "Pol"); whitespace-only tokens match nothing;
//   3. each token's probability goes to the labels it matches, shared
//      equally when it matches several (labels that share their first word
//      are then not told apart: `tied` lists them); labels that no top-K
//      token matches get 0;
//   4. the labels' shares are normalised to sum to 1. `coverage` is the
//      share of the model's first-token probability that matched any label
//      (low coverage: the model meant to answer something else first, e.g.
//      "The image shows...", and the ranking says little). When nothing
//      matched, there is no ranking and an error says so.
// So: labels are ranked by how likely the model starts its answer with
// them; it is exact for labels whose first token is unique among the labels
// and which the model would answer with directly, and it is not the full
// sequence probability the browser and endoscribe-server compute.

import { RemoteError } from './errors.js';

// The question AssistantRuntime.classify (web/assistant/runtime.js) asks.
export function classificationQuestion(labelSet) {
  const names = labelSet.labels.map((l) => l.answer ?? l.name);
  return labelSet.question ?? `Which one of these best describes the image: ${names.join(', ')}? Answer with the name only.`;
}

export function classificationMessages(question, imageUrl) {
  return [{ role: 'user', content: imageUrl
    ? [{ type: 'image_url', image_url: { url: imageUrl } }, { type: 'text', text: question }]
    : question }];
}

const normalizeToken = (t) => String(t ?? '').replace(/[\u2581\u0120]/g, ' ').replace(/^\s+/, '').toLowerCase();

// Steps 2-4 above. top: [{token, logprob}] (the first position's
// top_logprobs); answers: the labels' answer texts. -> {probabilities,
// log_likelihoods (log of each label's first-token share, null for none),
// coverage, tied: [[label indices]]} or null when no token matched.
export function firstTokenScores(top, answers) {
  const texts = answers.map((a) => String(a).trim().toLowerCase());
  const mass = new Array(answers.length).fill(0);
  const tied = new Map();
  let coverage = 0;
  const seen = new Set();
  for (const { token, logprob } of top) {
    if (typeof logprob !== 'number' || !Number.isFinite(logprob)) continue;
    if (seen.has(token)) continue;  // the chosen token may be listed twice
    seen.add(token);
    const t = normalizeToken(token);
    if (!t.trim()) continue;
    const matches = [];
    texts.forEach((a, i) => { if (a && (a.startsWith(t) || t.startsWith(a))) matches.push(i); });
    if (!matches.length) continue;
    const p = Math.exp(logprob);
    coverage += p;
    for (const i of matches) mass[i] += p / matches.length;
    if (matches.length > 1) tied.set(matches.join(','), matches);
  }
  const total = mass.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return null;
  return {
    probabilities: mass.map((m) => m / total),
    log_likelihoods: mass.map((m) => (m > 0 ? Math.log(m) : null)),
    coverage: Math.min(1, coverage),
    tied: [...tied.values()],
  };
}

// The first position's top_logprobs of a chat completion (OpenAI's shape;
// the chosen token is added when a server leaves it out of the list).
export function firstTopLogprobs(completion) {
  const first = completion?.choices?.[0]?.logprobs?.content?.[0];
  if (!first) return null;
  const top = Array.isArray(first.top_logprobs) ? [...first.top_logprobs] : [];
  if (typeof first.token === 'string' && !top.some((t) => t.token === first.token)) top.push({ token: first.token, logprob: first.logprob });
  return top;
}

// Approximate scores over `answers` through logprobs (plain OpenAI server).
export async function scoreByFirstToken(client, { model, messages, answers, signal = null, topLogprobs = 20, onRetry = null }) {
  const completion = await client.chat({ model, messages, max_tokens: 1, temperature: 0, logprobs: true, top_logprobs: topLogprobs },
    { signal, onRetry });
  const top = firstTopLogprobs(completion);
  if (!top) throw new RemoteError('unsupported', 'the server answered without logprobs (it does not support "logprobs": true)');
  const scores = firstTokenScores(top, answers);
  if (!scores) {
    throw new RemoteError('bad_response', `none of the model's ${top.length} most likely first answer tokens ` +
      `(${top.slice(0, 5).map((t) => JSON.stringify(t.token)).join(', ')}...) starts any label, so the labels could not be scored`);
  }
  return { ...scores, method: 'first-token logprobs' };
}

// labelSet: {question?, labels: [{name, answer?}]}; imageUrl: data: URL.
// endoscribe: the server offers /v1/endoscribe/classify. ->
// {probabilities, log_likelihoods, method, coverage?, tied?, ms}.
export async function classifyRemote(client, { model, labelSet, imageUrl, endoscribe, signal = null, onRetry = null }) {
  const t0 = performance.now();
  const question = classificationQuestion(labelSet);
  const messages = classificationMessages(question, imageUrl);
  const answers = labelSet.labels.map((l) => l.answer ?? l.name);
  if (endoscribe) {
    const r = await client.post('/v1/endoscribe/classify', { model, messages, labels: answers }, { signal, onRetry });
    if (!Array.isArray(r.probabilities) || r.probabilities.length !== answers.length)
      throw new RemoteError('bad_response', `/v1/endoscribe/classify: ${answers.length} probabilities expected`);
    return { probabilities: r.probabilities, log_likelihoods: r.log_likelihoods ?? null, method: 'label scoring',
      ms: r.timings?.total_ms ?? performance.now() - t0 };
  }
  const r = await scoreByFirstToken(client, { model, messages, answers, signal, onRetry });
  return { ...r, ms: performance.now() - t0 };
}
