// agent_driver.js: pumps an agent run (agent_core.js' AgentRun) with a planner
// and tools until it finishes or stops (Contract B, web/agent/README.md). The
// core decides what comes next; this file only carries its requests to the
// planner/tools and their answers back, awaiting between requests so the
// page's frame loop never waits on it. The clinician's stop/reject/edit may
// come at any moment: an answer to a request that no longer stands is refused
// by the core and the pump simply asks again what to do.

// A task boundary: lets the page paint and Stop run between requests.
const nextTask = typeof globalThis.setImmediate === 'function'
  ? () => new Promise((r) => setImmediate(r)) : () => new Promise((r) => setTimeout(r, 0));

const nowMs = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

// The seed of one model request: a function of the run's seed and of where in
// the run the request is (the step it plans or reflects on, the attempt), so a
// run with the same model, image and seed asks the model the same things with
// the same seeds and gets the same trace. 32-bit FNV-1a over the parts, then
// a splitmix-style finaliser.
export function requestSeed(seed, kind, index, attempt = 0) {
  let h = 0x811c9dc5;
  for (const ch of `${seed}|${kind}|${index}|${attempt}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b); h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35); h ^= h >>> 16;
  return h >>> 0;
}

// Plain words for a thrown error (what the tool or model said), never "[object Object]".
export function errorText(e) {
  if (!e) return 'It failed without saying why.';
  if (typeof e === 'string') return e;
  return e.message || String(e);
}

// Runs (or continues) a run until it is finished or stopped.
//   agent: an AgentRun (agent_core.js)
//   planner: {identity, plan({prompt, actionSchema, allowedTools, imageKey, seed, signal}) -> Promise<text>,
//             reflect({prompt, imageKey, seed, signal}) -> Promise<text>}
//   tools: {run(name, args, {imageKey, step, signal}) -> Promise<output object>}
//   onUpdate(state): after every change (state = agent.state() plus {error} when the pump has something to say)
//   signal: an AbortSignal; aborting stops the run (agent.stop()) as soon as the awaited call returns
//   imageKey, seed: the run's image and seed (default: the trace header's)
//   planAttempts: model answers tried per plan request before the run stops with the last refusal
// Resolves to {kind: 'finished'|'stopped', answer, error}. Never throws for a
// tool's or the model's failure: a tool error is the step's error, a model
// failure stops the run with the reason in `error`.
export async function runAgent({ agent, planner, tools, onUpdate = null, signal = null, imageKey = null, seed = null,
  planAttempts = 3 } = {}) {
  const header = agent.state().trace.header;
  imageKey ??= header.image;
  seed ??= header.seed;
  let error = '';
  const update = () => {
    if (!onUpdate) return;
    const s = agent.state();
    if (error) s.error = error;
    try { onUpdate(s); } catch (e) { console.error('agent onUpdate failed', e); }
  };
  const stopWith = (why) => {
    error = why;
    agent.stop();
    update();
    return { kind: 'stopped', answer: '', error };
  };
  update();
  for (;;) {
    if (signal?.aborted) return stopWith('');
    const q = agent.next();
    if (q.kind === 'finished') { update(); return { kind: 'finished', answer: q.answer, error: '' }; }
    if (q.kind === 'stopped' || q.kind === 'idle') { update(); return { kind: 'stopped', answer: '', error }; }
    if (q.kind === 'plan') {
      const index = agent.state().trace.steps.length;
      let refused = '';
      let accepted = false;
      for (let attempt = 0; attempt < planAttempts && !accepted; attempt++) {
        let text;
        try {
          text = await planner.plan({ prompt: q.prompt, actionSchema: q.action_schema, allowedTools: q.allowed_tools,
            imageKey, seed: requestSeed(seed, 'plan', index, attempt), signal });
        } catch (e) {
          if (signal?.aborted) return stopWith('');
          return stopWith(`The model could not plan the next step: ${errorText(e)}`);
        }
        if (signal?.aborted) return stopWith('');
        const r = agent.answerAction(q.ticket, text);
        if (r.ok) accepted = true;
        else if (agent.next().ticket !== q.ticket) break;  // the run moved on (stop, reject, edit) meanwhile
        else refused = r.error;
      }
      if (!accepted && agent.next().ticket === q.ticket)
        return stopWith(`The model's plan was refused ${planAttempts} times: ${refused}`);
    } else if (q.kind === 'run_tool') {
      update();  // the step is in the trace, running
      const started = nowMs();
      let output = null, failure = null;
      try {
        output = await tools.run(q.tool, q.arguments, { imageKey, step: q.step, signal });
      } catch (e) {
        failure = errorText(e);
      }
      if (signal?.aborted) return stopWith('');
      const finished = nowMs();
      // Refused when the request no longer stands (the clinician changed a step meanwhile): ask again.
      if (failure !== null) agent.answerError(q.ticket, failure, started, finished);
      else agent.answerOutput(q.ticket, output, started, finished);
    } else if (q.kind === 'reflect') {
      let text;
      try {
        text = await planner.reflect({ prompt: q.prompt, imageKey, seed: requestSeed(seed, 'reflect', q.step), signal });
      } catch (e) {
        if (signal?.aborted) return stopWith('');
        text = `(no reflection: ${errorText(e)})`;
      }
      if (signal?.aborted) return stopWith('');
      agent.answerReflection(q.ticket, text);
    }
    update();
    await nextTask();
  }
}

// Long-term memory from a finished run: the reflections written on steps the
// evaluator warned about (what went wrong and what to do), else the last
// reflection, at most `max` of them, not already in the memory. Returns the
// new memory JSON (agentCore.addMemory) and how many were added.
export function rememberRun(agentCore, memory, trace, { max = 2, createdAt = new Date().toISOString() } = {}) {
  const steps = trace.steps.filter((s) => s.reflection && s.status !== 'rejected' && s.tool !== 'finish'
    && !s.reflection.startsWith('(no reflection'));
  const warned = steps.filter((s) => (s.checks ?? []).some((c) => c.level === 'warn'));
  const picked = (warned.length ? warned : steps.slice(-1)).slice(-max);
  const known = new Set((memory?.entries ?? []).map((e) => e.text.trim()));
  let added = 0;
  for (const s of picked) {
    const text = s.reflection.trim().slice(0, 1000);
    if (!text || known.has(text)) continue;
    try {
      memory = agentCore.addMemory(memory, text, { createdAt, source: trace.header.image }).memory;
      known.add(text);
      added++;
    } catch { /* a reflection the memory refuses (e.g. full) is not kept */ }
  }
  return { memory, added };
}
