// report_draft.js: "Draft with AI" on an inference server. Takes the same
// draft questions the core makes for the browser's model
// (src/report/report_draft.h: {path, image, prompt, kind, options,
// max_tokens}) and returns answers in the same shape, which the core applies
// the same way (es_report_draft_apply: best option + probability, numbers
// checked, text bounded, only empty fields).
//
// endoscribe-server: one POST /v1/endoscribe/report/draft with the report
// as it is now, the scope and the questions' images (each once, as a data:
// URL); the server makes the same questions with the same core code, answers
// them with its model and returns the answers (it also returns the report it
// drafted, which the app does not use: the app applies the answers itself,
// as one undo step with its own who/when stamps). Answers to questions the app
// did not ask (the server's own second round) are left out: the app asks for
// those in its next round.
// A plain OpenAI server: each question is a chat request with the same
// prompt (image + question text) the browser's model gets; choices are
// scored from the first answer token's logprobs (classify.js explains the
// approximation), numbers and text are generated greedily (temperature 0)
// within the question's token limit.
//
// draftReportRemote() returns {promise, cancel}; the promise resolves to
// {answers, cancelled, stats}; cancel aborts the request in flight (the
// server stops) and keeps the answers finished so far.

import { RemoteError } from './errors.js';
import { classificationMessages, scoreByFirstToken } from './classify.js';

// backend: {client, model, endoscribe}; imageUrlFor(name) -> data: URL or
// null when the case no longer has that image; onProgress({done, total, path});
// report(): the report's JSON (object) and scope ({images}) for endoscribe-server.
export function draftReportRemote(backend, questions, { imageUrlFor, report = null, scope = {}, onProgress = null, onRetry = null } = {}) {
  const ac = new AbortController();
  let cancelled = false;
  const promise = (async () => {
    const answers = [];
    const stats = { requests: 0, images: 0, method: backend.endoscribe ? 'endoscribe' : 'chat' };
    const urls = new Map();
    const urlOf = async (name) => {
      if (!name) return null;
      if (!urls.has(name)) urls.set(name, await imageUrlFor(name));
      return urls.get(name);
    };
    if (backend.endoscribe) {
      const images = {};
      for (const q of questions) {
        const u = await urlOf(q.image);
        if (q.image && u) images[q.image] = u;
      }
      stats.images = Object.keys(images).length;
      onProgress?.({ done: 0, total: questions.length, path: 'on the server' });
      try {
        stats.requests++;
        if (!report) throw new Error('drafting on endoscribe-server needs the report');
        const r = await backend.client.post('/v1/endoscribe/report/draft',
          { model: backend.model, report: report(), images, scope }, { signal: ac.signal, onRetry });
        if (!Array.isArray(r.answers)) throw new RemoteError('bad_response', '/v1/endoscribe/report/draft: no "answers" list');
        const asked = new Map(questions.map((q) => [q.path, q]));
        for (const a of r.answers) {
          const q = asked.get(a.path);
          if (q) answers.push({ kind: q.kind, ...a });
        }
        stats.serverAnswers = r.answers.length;
      } catch (e) {
        if (e.kind === 'cancelled') return { answers, cancelled: true, stats };
        throw e;
      }
      onProgress?.({ done: questions.length, total: questions.length, path: '' });
      return { answers, cancelled: false, stats };
    }
    let done = 0;
    for (const q of questions) {
      if (cancelled) return { answers, cancelled: true, stats };
      const url = await urlOf(q.image);
      if (q.image && !url) {
        answers.push({ path: q.path, kind: q.kind, error: `the image ${q.image} is not in the case any more` });
      } else {
        if (url) stats.images = urls.size;
        const messages = classificationMessages(q.prompt, url);
        try {
          stats.requests++;
          if (q.kind === 'choice') {
            const s = await scoreByFirstToken(backend.client, { model: backend.model, messages,
              answers: q.options.map((o) => o.answer ?? o.code), signal: ac.signal, onRetry });
            answers.push({ path: q.path, kind: 'choice', codes: q.options.map((o) => o.code),
              log_likelihoods: s.log_likelihoods, probabilities: s.probabilities, coverage: s.coverage });
          } else {
            const c = await backend.client.chat({ model: backend.model, messages, temperature: 0,
              max_tokens: Math.max(1, Math.min(q.max_tokens ?? 16, 256)) }, { signal: ac.signal, onRetry });
            const choice = c.choices[0];
            answers.push({ path: q.path, kind: q.kind, text: choice.message?.content ?? '',
              reason: choice.finish_reason === 'length' ? 'max_tokens' : 'stop' });
          }
        } catch (e) {
          if (e.kind === 'cancelled') return { answers, cancelled: true, stats };
          // The server as a whole failing ends the draft; one question it could not answer does not.
          if (['unreachable', 'csp', 'auth', 'busy', 'no_model', 'model_not_found'].includes(e.kind)) throw e;
          answers.push({ path: q.path, kind: q.kind, error: e.message });
        }
      }
      done++;
      onProgress?.({ done, total: questions.length, path: q.path });
    }
    return { answers, cancelled: false, stats };
  })();
  return { promise, cancel: () => { cancelled = true; ac.abort(); } };
}
