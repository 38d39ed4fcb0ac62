// report_draft.js: "Draft with AI". Runs the report's draft questions (made by
// the core, src/report/report_draft.h: one per EMPTY field, with its prompt and
// its allowed options or limits) through the loaded assistant model and
// returns the raw answers; the core applies them (best option + probability,
// numbers checked against their limits, text bounded) and never touches a
// value the user set.
//
// Questions about one image share a prefix (the chat template's start, the
// image's soft tokens, and any text every question starts with): the image is
// encoded once, the prefix prefilled once, and each question runs on a fork of
// that KV cache (AssistantRuntime.forkCache). Enumerated fields are scored
// like the Classify tab (label_scoring.h: log P(option, end of turn | prompt),
// softmax over the allowed options), all options of a field in one batched
// decoder run where the runtime can (AssistantRuntime.decodeBatch; one run per
// option otherwise); numbers and text are generated greedily within the
// question's token limit.
//
// The whole draft is one runtime job (it queues behind a chat answer and a
// chat waits for it); draftReport() returns {promise, cancel}; the promise
// resolves to {answers, cancelled, stats}. Cancel stops between two model
// runs; answers finished so far are returned. The caller's frame loop never
// waits: every model run is awaited and the page gets a task between runs.

const nextTask = () => new Promise((r) => setTimeout(r, 0));

// Longest common prefix length of several id lists.
export function commonPrefixLength(lists) {
  if (!lists.length) return 0;
  let n = Math.min(...lists.map((l) => l.length));
  for (let i = 0; i < n; i++) {
    const t = lists[0][i];
    if (lists.some((l) => l[i] !== t)) return i;
  }
  return n;
}

// Groups questions by the image they are about ('' = no image), in order.
function byImage(questions) {
  const groups = new Map();
  questions.forEach((q, index) => {
    const key = q.image ?? '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push({ q, index });
  });
  return groups;
}

// rt: an AssistantRuntime. questions: the core's draft questions
// [{path, image, prompt, kind: 'choice'|'number'|'text', options: [{code, answer}],
//   max_tokens}]. imageFor(name) -> image for rt.encodeImage ({key, rgba, width,
// height} or {key, bytes}) or null when the case no longer has it.
// onProgress({done, total, path}) after each question. batchOptions: false
// scores options one decoder run each (the reference the batched path is tested against).
export function draftReport(rt, questions, { imageFor, onProgress = null, systemPrompt = '', batchOptions = true } = {}) {
  return rt._job(async (state) => {
    const answers = [];
    const stats = { images: 0, imageEncodes: 0, prefixRuns: 0, prefixTokens: 0, questionRuns: 0, decoderRuns: 0 };
    const encodes0 = rt.stats.imageEncodes, runs0 = rt.stats.decoderRuns;
    const endId = rt.model.eos_token_ids[rt.model.eos_token_ids.length - 1];
    let done = 0;
    const finish = (cancelled) => {
      stats.imageEncodes = rt.stats.imageEncodes - encodes0;
      stats.decoderRuns = rt.stats.decoderRuns - runs0;
      return { answers, cancelled, stats };
    };
    for (const [name, group] of byImage(questions)) {
      if (state.cancelled) return finish(true);
      let image = null;
      if (name) {
        image = await imageFor(name);
        if (!image) {
          for (const { q } of group) answers.push({ path: q.path, kind: q.kind, error: `the image ${name} is not in the case any more` });
          done += group.length;
          onProgress?.({ done, total: questions.length, path: group[group.length - 1].q.path });
          continue;
        }
      }
      stats.images += name ? 1 : 0;
      const chats = [];
      const prefixConv = rt.newConversation();  // only its cache is used
      const prefixKv = prefixConv.kv;
      try {
        // Encoded first: its pan-and-scan crops (if the package enables them) shape the prompt.
        const feats = image ? await rt.encodeImage(image) : null;
        for (const { q } of group) {
          chats.push(rt.newConversation({ systemPrompt }));
          chats[chats.length - 1].chat.ask(q.prompt, { image: !!image, crops: feats ? rt.cropsOf(feats) : 0 });
        }
        const tokens = chats.map((c) => c.chat.tokens());
        const types = chats.map((c) => c.chat.pendingTokenTypes());
        // Every question keeps at least one token of its own: its last row
        // predicts the answer's first token.
        const shared = Math.min(commonPrefixLength(tokens), ...tokens.map((t) => t.length - 1));
        if (shared > 0) {
          await rt._decode(prefixKv, tokens[0].slice(0, shared), types[0].slice(0, shared), feats);
          stats.prefixRuns++;
          stats.prefixTokens += shared;
        }
        for (let i = 0; i < group.length; i++) {
          if (state.cancelled) return finish(true);
          const { q } = group[i];
          const fork = rt.forkCache(prefixKv);
          try {
            const suffix = tokens[i].slice(shared);
            // Image tokens past the shared prefix (a lone question about its
            // image) need the features; the fork's prefix already has them.
            const suffixFeats = suffix.includes(chats[i].chat.imageTokenId) ? feats : null;
            const row = await rt._decode(fork, suffix, types[i].slice(shared), suffixFeats);
            stats.questionRuns++;
            chats[i].chat.onPrefilled(tokens[i].length);
            answers.push(q.kind === 'choice'
              ? await scoreOptions(rt, chats[i].chat, fork, row, q, endId, state, batchOptions)
              : await generate(rt, chats[i].chat, fork, row, q, state));
          } catch (e) {
            if (e.message === 'cancelled') return finish(true);
            answers.push({ path: q.path, kind: q.kind, error: e.message });
          } finally {
            fork.dispose();
          }
          done++;
          onProgress?.({ done, total: questions.length, path: q.path });
          await nextTask();
        }
      } finally {
        prefixConv.free();
        for (const c of chats) c.free();
      }
    }
    return finish(false);
  });
}

// The probability of each allowed option after the question: the options'
// tokens run on top of the question's cache (which they do not change).
async function scoreOptions(rt, chat, kv, row, q, endId, state, batchOptions) {
  const answersText = q.options.map((o) => o.answer ?? o.code);
  const n = chat.beginClassification(answersText, endId);
  chat.setPrefixLogits(row);
  const runs = Array.from({ length: n }, (_, i) => chat.labelRunTokens(i));
  let todo = runs.map((r, i) => i).filter((i) => runs[i].length);
  // All options in one batched decoder run when the runtime can; else the
  // one-token options together (a decoder may batch only single steps); the
  // rest one run each.
  const batched = async (idx) => {
    if (!batchOptions || idx.length < 2 || !rt.decodeBatch) return false;
    const out = await rt.decodeBatch(kv, idx.map((i) => runs[i]));
    if (!out) return false;
    idx.forEach((i, k) => chat.addLabelLogits(i, out[k], runs[i].length));
    return true;
  };
  if (await batched(todo)) todo = [];
  else {
    const single = todo.filter((i) => runs[i].length === 1);
    if (await batched(single)) todo = todo.filter((i) => runs[i].length > 1);
  }
  for (const i of todo) {
    if (state.cancelled) throw new Error('cancelled');
    const logits = await rt._decode(kv, runs[i], null, null, { keep: false, rows: runs[i].length });
    chat.addLabelLogits(i, logits, runs[i].length);
  }
  const r = chat.classificationResult();
  return { path: q.path, kind: 'choice', codes: q.options.map((o) => o.code),
    log_likelihoods: r.log_likelihoods, probabilities: r.probabilities };
}

// A greedy answer within the question's token limit.
async function generate(rt, chat, kv, row, q, state) {
  chat.startGeneration({ max_new_tokens: Math.max(1, Math.min(q.max_tokens ?? 16, 256)), temperature: 0 });
  for (;;) {
    if (state.cancelled) chat.cancel();
    const r = chat.step(row);
    if (r.done) {
      if (r.reason === 'cancelled') throw new Error('cancelled');
      return { path: q.path, kind: q.kind, text: chat.answerText(0), reason: r.reason };
    }
    row = await rt._decode(kv, [r.feed], [0], null);
  }
}

// The core's drafting over report documents (web/bindings/report_draft_bindings.cpp),
// for use without the app (Node tests, batch tools). module: the core's
// emscripten module; reportJson: the report's JSON text; vocabularyTexts: the
// texts of models/report/*.json. Errors throw with the core's message.
function coreCall(module, name, args) {
  const ptr = module.ccall(name, 'number', args.map(() => 'string'), args);
  if (!ptr) throw new Error(module.UTF8ToString(module._es_report_draft_last_error()));
  return JSON.parse(module.UTF8ToString(ptr));
}

// scope: {findings: [ids], images: [names], report_fields, impression}. -> questions.
export function draftQuestionsForDocument(module, reportJson, vocabularyTexts, scope = {}) {
  return coreCall(module, 'es_report_draft_questions_for_document',
    [reportJson, JSON.stringify(vocabularyTexts), JSON.stringify(scope)]).questions;
}

// -> {report (the updated report object), outcome: {applied, rejected}}.
export function applyDraftToDocument(module, reportJson, vocabularyTexts, questions, answers, modelId, now) {
  return coreCall(module, 'es_report_draft_apply_to_document',
    [reportJson, JSON.stringify(vocabularyTexts), JSON.stringify(questions), JSON.stringify(answers), modelId, now]);
}
