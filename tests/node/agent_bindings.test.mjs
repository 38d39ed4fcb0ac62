// The case agent's es_agent_* exports (web/bindings/agent_bindings.cpp) through
// web/agent/agent_core.js on the Node build of the core: the registry, a
// protocol run answered by hand, tickets, stop/reject/edit, the trace file,
// replay and its comparison, the memory; and hostile input (bad JSON, deep
// nesting, wrong types, bad tickets and handles, invalid UTF-8) answered in
// plain words without crashing the module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCore } from './assistant_helpers.mjs';
import { AgentCore, AgentError } from '../../web/agent/agent_core.js';

const { core, why } = await loadCore();
const skip = core ? false : why;
const agentCore = core ? new AgentCore(core) : null;

const TOOLS = ['classify', 'ground', 'describe_region', 'segment', 'count_lesions', 'describe_image',
  'fill_report_fields', 'compare_images', 'finish'];

// A COCO RLE string of an h x w mask with the given filled rectangles ([x, y, w, h]),
// made by the core's own encoder (web/segmentation's es_mask_* exports).
function rle(h, w, rects) {
  const m = core.m;
  const px = new Uint8Array(w * h);
  for (const [x0, y0, rw, rh] of rects) for (let y = y0; y < y0 + rh; y++) for (let x = x0; x < x0 + rw; x++) px[y * w + x] = 255;
  const p = m._malloc(px.length);
  m.HEAPU8.set(px, p);
  const mh = m._es_mask_from_bytes(p, w, h, 1, 0, 127);
  m._free(p);
  const s = m.UTF8ToString(m._es_mask_rle_string(mh));
  m._es_mask_free(mh);
  return { size: [h, w], counts: s };
}

test('the registry lists the nine tools with schemas and the action schema', { skip }, () => {
  const r = agentCore.registry();
  assert.deepEqual(r.tools.map((t) => t.name), TOOLS);
  for (const t of r.tools) {
    assert.equal(t.input_schema.type, 'object', t.name);
    assert.ok(t.output_schema, t.name);
    assert.ok(t.description.length > 10, t.name);
  }
  assert.equal(r.action_schema.oneOf.length, 9);
  assert.equal(r.default_config.max_rounds, 3);
  assert.equal(r.default_config.mode, 'planned');
});

test('parse_action accepts valid calls and refuses the rest in plain words', { skip }, () => {
  const ok = agentCore.parseAction('{"tool":"ground","arguments":{"text":"polyp","max_boxes":2}}');
  assert.deepEqual(ok, { ok: true, call: { tool: 'ground', arguments: { text: 'polyp', max_boxes: 2 } } });
  const cases = [
    ['not json', /not valid JSON/],
    ['{"tool":"ground","arguments":{"text":"polyp","max_boxes":99}}', /does not match/],
    ['{"tool":"explode","arguments":{}}', /not one the agent may call/],
    ['[1,2]', /must be an object/],
    ['', /not valid JSON/],
  ];
  for (const [text, re] of cases) {
    const r = agentCore.parseAction(text);
    assert.equal(r.ok, false, text);
    assert.match(r.error, re, text);
  }
  // Restricted to finish: a ground call is refused.
  const r = agentCore.parseAction('{"tool":"ground","arguments":{"text":"polyp"}}', ['finish']);
  assert.equal(r.ok, false);
  assert.match(r.error, /not one the agent may call now/);
  const bad = agentCore.parseAction('{"tool":"finish","arguments":{"answer":"x"}}', 'oops');
  assert.equal(bad.ok, false);
  assert.match(bad.error, /allowed tools/);
});

test('validate checks outputs and arguments against the registry', { skip }, () => {
  assert.equal(agentCore.validateOutput('count_lesions', { count: 2 }).ok, true);
  const r = agentCore.validateOutput('count_lesions', { count: -1 });
  assert.equal(r.ok, false);
  assert.match(r.error, /does not match its schema/);
  assert.equal(agentCore.validateArguments('ground', { text: 'polyp' }).ok, true);
  // Small probabilities (nlohmann would write 4.3e-05) are checked as the plain decimals the decoder writes.
  const tiny = { labels: [{ label: 'polyp', probability: 0.99995 }, { label: 'normal', probability: 0.0000432 }, { label: 'x', probability: 3e-9 }] };
  assert.deepEqual(agentCore.validateOutput('classify', tiny), { ok: true });
  assert.deepEqual(agentCore.validateOutput('ground', { boxes: [{ box: [0.00001, 2e-7, 10, 10] }] }), { ok: true });
  // Outputs are checked, not generated: strings as long as their maxLength (not the decoder's 1024 cap).
  assert.deepEqual(agentCore.validateOutput('describe_image', { text: 'é'.repeat(4000) }), { ok: true });
  assert.equal(agentCore.validateOutput('describe_image', { text: 'e'.repeat(4001) }).ok, false);
  const longRle = { size: [1000, 1000], counts: 'a1'.repeat(20000) };
  assert.deepEqual(agentCore.validateOutput('segment', { masks: [{ box: [0, 0, 10, 10], rle: longRle }] }), { ok: true });
  // A tool's arguments come from the decoder: there the 1024 cap stands, as the action schema says.
  assert.equal(agentCore.parseAction(JSON.stringify({ tool: 'finish', arguments: { answer: 'x'.repeat(1500) } })).ok, false);
  assert.match(agentCore.validateArguments('nope', {}).error, /no tool named/);
});

// Answers a protocol run by hand: classify -> ground (2 boxes) -> segment x2
// -> count -> describe -> report -> finish.
function runProtocol(run, { parts = 1 } = {}) {
  const seen = [];
  const outputs = {
    classify: { labels: [{ label: 'polyp', probability: 0.9 }, { label: 'normal', probability: 0.1 }] },
    ground: { boxes: [{ box: [10, 10, 40, 40], label: 'polyp', score: 0.8 }, { box: [60, 60, 90, 90], label: 'polyp', score: 0.7 }] },
    count_lesions: { count: 2 },
    describe_image: { text: 'A polyp on the left wall.' },
    fill_report_fields: { applied: [], rejected: [] },
  };
  for (let i = 0; i < 40; i++) {
    const q = run.next();
    if (q.kind === 'finished' || q.kind === 'stopped') return { seen, last: q };
    if (q.kind === 'reflect') {
      assert.equal(run.answerReflection(q.ticket, `ok ${q.step}`).ok, true);
      continue;
    }
    assert.equal(q.kind, 'run_tool');
    seen.push(q.tool);
    let out = outputs[q.tool];
    if (q.tool === 'segment') {
      const [x1, y1, x2, y2] = q.arguments.boxes[0];
      const rects = [[x1, y1, x2 - x1, y2 - y1]];
      if (parts > 1) rects.push([x1 + 2, y2 + 2, 4, 4]);  // a second separate part below the box
      out = { masks: [{ box: [x1, y1, x2, y2], rle: rle(100, 100, rects), score: 0.9 }] };
    }
    const r = run.answerOutput(q.ticket, out, 1, 2);
    assert.equal(r.ok, true, JSON.stringify(r));
  }
  throw new Error('the run did not end');
}

test('a protocol run answered by hand: requests, trace, replay, difference', { skip }, () => {
  const run = agentCore.start({ config: { mode: 'protocol', min_part_area: 4 }, question: 'What is this?', imageKey: 'img1',
    model: 'test-model', seed: 7 });
  const { seen, last } = runProtocol(run);
  assert.deepEqual(seen, ['classify', 'ground', 'segment', 'segment', 'count_lesions', 'describe_image', 'fill_report_fields']);
  assert.equal(last.kind, 'finished');
  assert.match(last.answer, /Most likely class: polyp \(90%\)/);
  const state = run.state();
  assert.equal(state.running, false);
  assert.equal(state.trace.header.seed, '7');
  assert.equal(state.trace.steps.length, 8);
  assert.equal(state.trace.steps[0].reflection, 'ok 0');
  const jsonl = run.traceJsonl();
  assert.equal(jsonl.trim().split('\n').length, 9);
  const parsed = agentCore.parseTrace(jsonl);
  assert.deepEqual(parsed.problems, []);
  assert.equal(parsed.trace.steps.length, 8);
  const replay = agentCore.replay(jsonl);
  assert.equal(replay.difference, '');
  assert.equal(agentCore.traceDifference(jsonl, replay.trace_jsonl), '');
  // A hand-changed output (the count) no longer matches what the loop does after it.
  const altered = jsonl.replace('"output":{"count":2}', '"output":{"count":3}');
  assert.notEqual(altered, jsonl);
  const replay2 = agentCore.replay(altered);
  assert.notEqual(replay2.difference, '');
  assert.match(agentCore.traceDifference(jsonl, altered), /step 5 \(count_lesions\): the outputs differ/);
  run.free();
});

test('an inconsistency (2 boxes, a mask with 2 parts) makes the evaluator warn and the protocol re-check', { skip }, () => {
  const run = agentCore.start({ config: { mode: 'protocol', min_part_area: 4, reflect: false }, question: 'Findings?', seed: 1 });
  const { seen } = runProtocol(run, { parts: 2 });
  const steps = run.state().trace.steps;
  const warned = steps.flatMap((s) => s.checks).filter((c) => c.id === 'boxes_vs_masks' && c.level === 'warn');
  assert.ok(warned.length > 0, JSON.stringify(steps.map((s) => s.checks)));
  assert.ok(steps.some((s) => s.origin === 'recheck' && s.recheck_of === 'boxes_vs_masks'), seen.join(','));
  run.free();
});

test('tickets, stop, reject and edit through the bindings', { skip }, () => {
  const run = agentCore.start({ config: { mode: 'protocol', reflect: false }, question: 'Q', seed: 3 });
  const q = run.next();
  assert.equal(q.kind, 'run_tool');
  // A wrong ticket is refused; the request stands.
  const wrong = run.answerOutput(q.ticket + 5, { labels: [{ label: 'polyp', probability: 1 }] });
  assert.equal(wrong.ok, false);
  assert.match(wrong.error, /no longer stands/);
  assert.equal(run.next().ticket, q.ticket);
  assert.equal(run.answerOutput(q.ticket, { labels: [{ label: 'polyp', probability: 0.7 }, { label: 'normal', probability: 0.3 }] }).ok, true);
  const g = run.next();
  assert.equal(g.tool, 'ground');
  assert.deepEqual(g.arguments, { text: 'polyp' });
  // Reject the classify step: the ground request is dropped, the run continues from step 0.
  const rej = run.rejectStep(0, 'wrong class');
  assert.equal(rej.ok, true, JSON.stringify(rej));
  const afterReject = run.next();
  assert.equal(afterReject.kind, 'run_tool');
  assert.notEqual(afterReject.ticket, g.ticket);
  assert.equal(run.answerOutput(g.ticket, { boxes: [] }).ok, false);  // the old request no longer stands
  // Edit instead: an output that does not fit the schema is refused.
  const badEdit = run.editStep(0, { labels: 'x' }, 'n');
  assert.equal(badEdit.ok, false);
  assert.match(badEdit.error, /does not match its schema/);
  assert.equal(run.editStep(0, { labels: [{ label: 'adenoma', probability: 0.8 }, { label: 'normal', probability: 0.2 }] }, 'adenoma').ok, true);
  assert.deepEqual(run.next().arguments, { text: 'adenoma' });
  assert.equal(run.rejectStep(9, '').ok, false);
  assert.match(run.rejectStep(9, '').error, /no step 10/);
  run.stop();
  assert.equal(run.next().kind, 'stopped');
  const late = run.answerOutput(run.state().request.ticket, { boxes: [] });
  assert.equal(late.ok, false);
  assert.match(late.error, /stopped/);
  run.free();
  assert.throws(() => run.next(), AgentError);
});

test('planned mode: the request carries prompt and schema; max_rounds then only finish', { skip }, () => {
  const memory = agentCore.addMemory(null, 'Ground flat lesions with "flat polyp".').memory;
  const run = agentCore.start({ config: { mode: 'planned', max_rounds: 1, reflect: false }, question: 'How many polyps?',
    seed: 2, memory });
  let q = run.next();
  assert.equal(q.kind, 'plan');
  assert.deepEqual(q.allowed_tools, TOOLS);
  assert.match(q.prompt, /How many polyps\?/);
  assert.match(q.prompt, /flat polyp/);
  const refused = run.answerAction(q.ticket, '{"tool":"ground"}');
  assert.equal(refused.ok, false);
  assert.equal(run.answerAction(q.ticket, '{"tool":"count_lesions","arguments":{}}').ok, true);
  q = run.next();
  assert.equal(q.kind, 'run_tool');
  assert.equal(run.answerError(q.ticket, 'no annotations yet', 0, 1).ok, true);
  q = run.next();
  assert.equal(q.kind, 'plan');
  assert.deepEqual(q.allowed_tools, ['finish']);
  assert.match(q.prompt, /failed: no annotations yet/);
  assert.equal(run.answerAction(q.ticket, '{"tool":"count_lesions","arguments":{}}').ok, false);
  assert.equal(run.answerAction(q.ticket, '{"tool":"finish","arguments":{"answer":"Two."}}').ok, true);
  assert.equal(run.next().kind, 'finished');
  assert.equal(run.next().answer, 'Two.');
  run.free();
  // use_memory off: the memory is not in the prompt.
  const run2 = agentCore.start({ config: { use_memory: false }, question: 'How many?', memory });
  assert.doesNotMatch(run2.next().prompt, /flat polyp/);
  run2.free();
});

test('memory: add, edit, enable, remove, prompt; bad input refused with the memory unchanged', { skip }, () => {
  let { memory, id } = agentCore.addMemory(null, 'First lesson.', { createdAt: '2026-01-01T00:00:00Z', source: 'img1' });
  assert.equal(id, 1);
  ({ memory, id } = agentCore.addMemory(memory, 'Second lesson.'));
  assert.equal(id, 2);
  memory = agentCore.editMemory(memory, 1, 'First lesson, edited.');
  memory = agentCore.enableMemory(memory, 2, false);
  assert.equal(agentCore.memoryForPrompt(memory), '- First lesson, edited.\n');
  memory = agentCore.removeMemory(memory, 1);
  assert.deepEqual(memory.entries.map((e) => e.id), [2]);
  assert.throws(() => agentCore.addMemory(memory, '   '), /empty/);
  assert.throws(() => agentCore.editMemory(memory, 99, 'x'), /no longer in the memory/);
  assert.throws(() => agentCore.removeMemory(memory, -1), /no reflection/);
  assert.throws(() => agentCore.readMemory('{"entries": 3'), /damaged/);
  assert.throws(() => agentCore.readMemory('[]'), /not a saved agent memory/);
  const r = agentCore.readMemory({ version: 1, next_id: 5, entries: [{ id: 4, text: 'ok', enabled: true }, { id: 'x' }] });
  assert.equal(r.memory.entries.length, 1);
  assert.equal(r.skipped.length, 1);
  assert.throws(() => agentCore.start({ question: 'Q', memory: 'nonsense' }), /memory could not be read/);
});

test('hostile input: plain words, no crash, the module keeps working', { skip }, () => {
  const deep = '['.repeat(100000) + ']'.repeat(100000);
  const lone = 'a\ud800b';  // a lone surrogate: not valid UTF-8 once encoded
  // es_agent_create
  assert.throws(() => agentCore.start({ question: '' }), /question is empty/);
  assert.throws(() => agentCore.start({ question: 'Q', config: { mode: 'wild' } }), /"mode" must be/);
  assert.throws(() => agentCore.start({ question: 'Q', config: { max_rounds: 0 } }), /max_rounds/);
  assert.throws(() => agentCore.start({ question: 'Q', config: { reflect: 'yes' } }), /true or false/);
  assert.throws(() => agentCore.start({ question: 'Q', config: [] }), /JSON object/);
  assert.throws(() => agentCore.start({ question: 'Q', seed: -4 }), /seed/);
  assert.throws(() => agentCore.start({ question: 'Q', seed: '99999999999999999999' }), /seed is larger/);
  assert.throws(() => agentCore.start({ question: 'x'.repeat(5000) }), /longer than 4000/);
  const big = agentCore.start({ question: 'Q', seed: '18446744073709551615' });
  assert.equal(big.state().trace.header.seed, '18446744073709551615');
  big.free();
  // A question with a lone surrogate: the module answers, never aborts.
  const odd = agentCore.start({ question: lone, config: { mode: 'protocol' } });
  assert.equal(typeof odd.traceJsonl(), 'string');
  assert.equal(odd.next().kind, 'run_tool');
  odd.free();
  // es_agent_answer
  const run = agentCore.start({ config: { mode: 'protocol', reflect: false }, question: 'Q' });
  const t = run.next().ticket;
  const bad = [
    [JSON.parse('{"x":1}'), /no "ticket"/],
    [{ ticket: -1, output: {} }, /no "ticket"/],
    [{ ticket: t }, /must carry/],
    [{ ticket: t, action: 5 }, /"action" must be/],
    [{ ticket: t, error: {} }, /"error" must be text/],
    [{ ticket: t, output: {}, started_ms: 'now' }, /must be numbers/],
  ];
  for (const [a, re] of bad) {
    const r = run.answer(a);
    assert.equal(r.ok, false, JSON.stringify(a));
    assert.match(r.error, re, JSON.stringify(a));
  }
  for (const text of ['not json', '{"ticket":', deep, '"\\ud800"']) {
    const r = JSON.parse(agentCore._call('_es_agent_answer', run.h, text));
    assert.equal(r.ok, false, text.slice(0, 20));
    assert.ok(r.error.length > 10);
  }
  assert.match(JSON.parse(agentCore._call('_es_agent_answer', run.h, deep)).error, /nested more than 32/);
  // An output of the wrong shape becomes the step's error (recorded, not applied).
  assert.equal(run.answerOutput(t, { labels: 'nonsense' }).ok, true);
  const s0 = run.state().trace.steps[0];
  assert.equal(s0.output, null);
  assert.match(s0.error, /does not match its schema/);
  // Edits and rejections with hostile text
  assert.equal(run.editStep(0, deep).ok, false);
  assert.equal(run.editStep(-3, {}).ok, false);
  assert.equal(run.rejectStep(0, 'n'.repeat(3000)).ok, false);
  assert.equal(run.rejectStep(0, lone).ok, true);
  assert.equal(typeof run.traceJsonl(), 'string');
  run.free();
  // Bad handles
  for (const h of [0, -1, 987654]) {
    const r = JSON.parse(agentCore._call('_es_agent_next', h));
    assert.equal(r.ok, false);
    assert.match(r.error, /no agent run with handle/);
    assert.match(JSON.parse(agentCore._call('_es_agent_stop', h)).error, /no agent run/);
    assert.equal(agentCore._call('_es_agent_trace', h), '');
    core.m._es_agent_free(h);
  }
  // Trace reading, replay and comparison of garbage
  assert.throws(() => agentCore.parseTrace('garbage\n'), /no trace header/);
  assert.throws(() => agentCore.parseTrace(''), /no trace header/);
  const partial = agentCore.parseTrace('{"type":"header","question":"q"}\nnot json\n{"type":"step","index":5}\n' + deep + '\n');
  assert.equal(partial.problems.length, 3);
  assert.match(partial.problems[0], /^line 2:/);
  assert.match(partial.problems[2], /nested more than 32/);
  assert.equal(partial.unreadable.length, 3);
  assert.throws(() => agentCore.replay('x'), /no trace header/);
  assert.throws(() => agentCore.replay('{"type":"header","question":"q"}', { config: '{' }), /agent's settings|JSON object/);
  assert.throws(() => agentCore.traceDifference('x', 'y'), /first trace cannot be read/);
  assert.equal(agentCore.parseAction(deep).ok, false);
  assert.match(JSON.parse(agentCore._call('_es_agent_validate', 'ground', 'output', deep)).error, /nested more than 32/);
  // Everything still works after all that.
  assert.equal(agentCore.parseAction('{"tool":"finish","arguments":{"answer":"ok"}}').ok, true);
  const again = agentCore.start({ config: { mode: 'protocol' }, question: 'Q' });
  assert.equal(again.next().tool, 'classify');
  again.free();
});
