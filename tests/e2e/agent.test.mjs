// agent.test.mjs: the case agent end to end in headless Chromium (WebGPU on
// SwiftShader) on the demo case with the built-in tiny model, driven through
// the Agent tab (ui/panel_agent.cpp) and web/agent/app_agent.js:
//   - without a model, Run is disabled and says to load one;
//   - the clinical protocol runs: classify, ground, segment each box found,
//     count_lesions, describe_image, fill_report_fields, finish (re-checks the
//     evaluator asks for may come between), each step in the panel as it
//     runs, the trace saved with the case (JSON lines, the image's key);
//   - Stop mid-run keeps the steps so far; rejecting a step drops what followed
//     it, Continue runs on to a finish with the step still rejected;
//   - replaying that trace gives the same trace;
//   - an edited step (the polyp's box drawn into ground's output) is
//     segmented by SAM on Continue, and the mask goes into the annotations;
//   - a memory entry added in the panel and the traces survive a reload;
//   - a trace with an unreadable line opens with the line named and kept;
//   - a tool that fails (an unknown label set) is the step's error in plain
//     words and the run goes on; the backend going away mid-run (Answers moved
//     to a server that is not set up) makes plain-words step errors, nothing lost;
//   - a free question in planned mode ends on `finish`.
// Screenshots: test-artifacts/e2e/agent-*.png.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites, appDir, repoRoot, clickWidget } from './harness.mjs';

let skip = missingPrerequisites();
if (!skip && !fs.existsSync(path.join(appDir, 'models/tiny-gemma3/manifest.json'))) skip = 'app built without models/tiny-gemma3';
if (!skip && !fs.existsSync(path.join(appDir, 'agent/app_agent.js'))) skip = 'app built without the case agent (web/agent/app_agent.js)';
if (skip) console.log(`# skipping e2e agent tests: ${skip}`);

// A real polyp image (never committed): ES_DATASETS or ../shared/datasets.
const KVASIR = path.join(process.env.ES_DATASETS || path.resolve(repoRoot, '../shared/datasets'), 'kvasir-seg/images');
const kvasirImage = fs.existsSync(KVASIR) ? fs.readdirSync(KVASIR).filter((f) => /\.jpe?g$/i.test(f)).sort()[0] ?? null : null;

const PROTOCOL = ['classify', 'ground', 'count_lesions', 'describe_image', 'fill_report_fields', 'finish'];
const MEMORY_TEXT = 'On small flat lesions, ground with "flat polyp" before "polyp".';

describe('case agent', { skip: skip || false, timeout: 1800000 }, () => {
  let server, browser, page;
  const t0 = Date.now();
  const note = (what) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const agent = () => page.evaluate(() => window.endoscribe.agent.state());
  const panel = () => page.evaluate(() => {
    const M = window.endoscribe.module();
    return M._es_agent_ui_state ? JSON.parse(M.UTF8ToString(M._es_agent_ui_state())) : null;
  });
  const traces = () => page.evaluate(() => window.endoscribe.agent.traces());
  const waitFor = async (fn, what, timeout = 30000) => {
    const start = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - start > timeout) {
        saveArtifact(`agent-timeout-${what.replace(/[^\w]+/g, '_').slice(0, 40)}.png`, await page.screenshot());
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await agent().catch(() => null))?.slice(0, 2000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
    .catch((e) => { if (!/context was destroyed|navigation/i.test(e.message)) throw e; });

  async function loaded() {
    await page.evaluate(() => window.endoscribe.caseLoaded);
    await page.waitForFunction(() => window.endoscribe.agent?.started === true && window.endoscribe.assistant?.started === true,
      null, { timeout: 60000, polling: 100 });
    await frames();
  }

  // The Agent tab, scrolled until `name` is on screen; -> its rectangle.
  async function reach(name) {
    for (const dir of [0, 1, -1]) {
      for (let i = 0; i < (dir ? 40 : 1); i++) {
        await frames();
        const s = await appState();
        const r = s.widgets[name];
        if (r && r[3] >= 6 && r[1] >= 0 && r[1] + r[3] <= s.canvas.css_height) return r;
        // The Agent tab is open when any of its controls is on screen (scrolled or not).
        if (!Object.keys(s.widgets).some((k) => k.startsWith('agent_'))) await clickWidget(page, 'tab_agent');
        else if (dir) {
          const side = s.widgets.tab_agent;
          await page.mouse.move(side[0] + 10, s.canvas.css_height * [0.8, 0.5, 0.3][i % 3]);
          await page.mouse.wheel(0, dir * 160);
        }
      }
    }
    saveArtifact(`agent-missing-${name.replace(/[^\w.-]/g, '_')}.png`, await page.screenshot());
    throw new Error(`control ${name} not found in the Agent tab`);
  }
  async function click(name) {
    const r = await reach(name);
    await page.mouse.click(r[0] + Math.min(r[2] / 2, 30), r[1] + r[3] / 2);
    await frames();
  }
  async function shot(name) {
    await frames();
    saveArtifact(`agent-${name}.png`, await page.screenshot());
  }
  const finished = () => waitFor(async () => { const s = await agent(); return !s.running && s; }, 'the run to end', 900000);

  // The protocol's own steps (re-checks aside) against the plan: one segment per box ground found.
  function assertProtocol(steps) {
    const own = steps.filter((s) => s.origin !== 'recheck' && s.status !== 'rejected');
    const ground = own.find((s) => s.tool === 'ground');
    const boxes = ground?.output?.boxes?.length ?? 0;
    const expected = [...PROTOCOL.slice(0, 2), ...Array(boxes).fill('segment'), ...PROTOCOL.slice(2)];
    assert.deepEqual(own.map((s) => s.tool), expected, JSON.stringify(steps.map((s) => [s.tool, s.origin, s.error])));
    for (const s of steps.filter((x) => x.tool !== 'finish')) {
      assert.ok(s.output !== null || s.error, `step ${s.index} (${s.tool}) has an output or an error`);
      assert.ok(s.finished_ms >= s.started_ms, `step ${s.index} timed`);
    }
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser({ viewport: { width: 1280, height: 860 } });
    page = browser.page;
    if (process.env.ES_DEBUG) page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    page.on('pageerror', (e) => note(`page error: ${e.message}\n${e.stack}`));
    await page.goto(server.url);
    await loaded();
  });

  let problemsSeen = 0;
  afterEach((t) => {
    const fresh = browser?.problems.slice(problemsSeen) ?? [];
    problemsSeen += fresh.length;
    for (const p of fresh) note(`browser problem during "${t.name}": ${p}`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('without a model, Run is disabled and says what to do', async () => {
    await reach('agent_run');
    const s = await agent();
    assert.match(s.blocked, /Load a model first/);
    await reach('agent_run_reason');
    await shot('01-no-model');
    // The action itself refuses too, in plain words, and saves nothing.
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'protocol', seed: '1' }));
    assert.match((await agent()).error, /load a model first/i);
    assert.equal((await traces()).length, 0);
  });

  let protocolSteps;
  it('runs the clinical protocol on the demo case, step by step in the panel, saved with the case', async () => {
    await page.evaluate(() => window.endoscribe.assistant.action('load_default'));
    await waitFor(async () => (await page.evaluate(() => window.endoscribe.assistant.state())).status === 'ready', 'the tiny model', 180000);
    await waitFor(async () => !(await agent()).blocked, 'Run enabled');
    note('model loaded');
    await click('agent_run');
    // Steps appear while it runs (the panel holds the same steps).
    const mid = await waitFor(async () => { const s = await agent(); return s.running && s.steps.length >= 2 && s; }, 'steps while running', 300000);
    assert.equal(mid.steps[0].tool, 'classify');
    await waitFor(async () => (await panel())?.steps >= 2, 'the panel to show the steps');
    await shot('02-running');
    const s = await finished();
    note(`protocol: ${s.steps.map((x) => x.tool).join(', ')}`);
    const run = await page.evaluate(() => window.endoscribe.agent.lastRun);
    assert.equal(run.kind, 'finished', run.error);
    assertProtocol(s.steps);
    assert.ok(s.header.answer.length > 0, 'an answer');
    assert.equal(s.header.mode, 'protocol');
    assert.match(s.model, /tiny|gemma|model/i);
    const classify = s.steps[0].output.labels;
    assert.ok(Math.abs(classify.reduce((n, l) => n + l.probability, 0) - 1) < 1e-3, 'probabilities sum to 1');
    // The trace with the case: JSON lines, header + one per step, the image's key.
    const saved = await traces();
    assert.equal(saved.length, 1);
    const lines = saved[0].jsonl.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].type, 'header');
    assert.equal(lines.length, 1 + s.steps.length);
    const img = await page.evaluate(() => window.endoscribe.agent.env.currentImage());
    assert.equal(lines[0].image, img.key);
    assert.equal(saved[0].image, img.key);
    // The demo case was copied to keep the trace.
    assert.equal(await page.evaluate(() => window.endoscribe.cases.current.readOnly), false);
    const p = await panel();
    assert.equal(p.steps, s.steps.length);
    assert.equal(p.answer, s.header.answer);
    await reach('agent_answer');
    await shot('03-protocol-done');
    // A step selected: its boxes (ground) drawn on the viewer.
    const groundIndex = s.steps.findIndex((x) => x.tool === 'ground');
    await click(`agent_step_${groundIndex}`);
    await frames();
    const drawn = (await panel()).drawn;
    assert.equal(drawn.boxes, s.steps[groundIndex].output.boxes.length, JSON.stringify(drawn));
    await shot('04-ground-selected');
    protocolSteps = s.steps;
  });

  let rejectedTrace;
  it('stops mid-run; a rejected step drops what followed, Continue runs on to a finish', async () => {
    await click('agent_run');
    await waitFor(async () => { const s = await agent(); return s.running && s.steps.length >= 2 && s.steps[1].output !== null; },
      'two steps', 300000);
    await click('agent_stop');
    const stopped = await finished();
    assert.equal((await page.evaluate(() => window.endoscribe.agent.lastRun)).kind, 'stopped');
    assert.ok(stopped.steps.length < protocolSteps.length, 'stopped before the end');
    assert.equal(stopped.header.answer, '');
    await reach('agent_status');
    await shot('05-stopped');
    // The saved trace has what was done.
    const saved = (await traces()).find((t) => t.id === stopped.trace_id);
    assert.equal(saved.jsonl.trim().split('\n').length, 1 + stopped.steps.length);
    // Reject step 2 (ground) with a note, through the panel.
    await click('agent_step_1');
    await click('agent_step_1_reject');
    await click('agent_step_1_reject_note');
    await page.keyboard.type('boxes on the fold, not the lesion');
    await click('agent_step_1_reject_confirm');
    const rejected = await waitFor(async () => { const s = await agent(); return s.steps[1]?.status === 'rejected' && s; }, 'the rejection');
    // The steps after it are dropped (the next one may stand requested, without output).
    assert.ok(rejected.steps.length <= 3 && rejected.steps.slice(2).every((x) => x.output === null && !x.error),
      JSON.stringify(rejected.steps.map((x) => [x.tool, x.output !== null])));
    assert.equal(rejected.steps[1].note, 'boxes on the fold, not the lesion');
    await shot('06-rejected');
    await click('agent_continue');
    await waitFor(async () => (await agent()).running, 'running again', 10000).catch(() => {});
    const done = await finished();
    assert.equal((await page.evaluate(() => window.endoscribe.agent.lastRun)).kind, 'finished');
    assert.equal(done.steps[1].status, 'rejected');
    assert.equal(done.steps.at(-1).tool, 'finish');
    assert.ok(done.steps.length > 2);
    assert.ok(done.header.answer.length > 0);
    rejectedTrace = done.trace_id;
    await shot('07-continued');
  });

  it('replaying the trace gives the same trace', async () => {
    const list = await agent();
    const row = list.traces.findIndex((t) => t.id === rejectedTrace);
    assert.ok(row >= 0);
    await click(`agent_trace_replay_${row}`);
    const r = await waitFor(async () => { const s = await agent(); return s.replay && s.replay.status !== 'running' && !s.running && s.replay; },
      'the replay', 900000);
    assert.equal(r.status, 'same', r.text);
    assert.equal(r.trace_id, rejectedTrace);
    await reach(`agent_trace_replay_result_${(await agent()).traces.findIndex((t) => t.id === rejectedTrace)}`);
    await shot('08-replayed');
  });

  it('an edited step: the corrected box is segmented by SAM, its mask goes into the annotations', async () => {
    const img = await page.evaluate(() => window.endoscribe.agent.env.currentImage());
    assert.equal(img.name, 'image-1.png');
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'protocol', seed: '9', reflect: false }));
    let s = await finished();
    const g = s.steps.findIndex((x) => x.tool === 'ground');
    // The clinician draws the polyp's box into the ground step (demo case.json: image-1's lesion).
    const corrected = { boxes: [{ box: [345, 262, 486, 382], label: 'polyp' }] };
    await page.evaluate(([step, output]) => window.endoscribe.agent.action('edit',
      { step, output: JSON.stringify(output), note: 'the polyp is here' }), [g, corrected]);
    s = await agent();
    assert.equal(s.action_result.ok, true, s.action_result.error);
    assert.equal(s.steps[g].status, 'edited');
    assert.deepEqual(s.steps[g].output, corrected);
    assert.ok(s.steps[g].original_output, 'the original output is kept');
    assert.ok(s.steps.slice(g + 1).every((x) => x.output === null && !x.error), 'the steps after it are dropped');
    // An edit that does not fit the tool's schema is refused in words, nothing changes.
    await page.evaluate((step) => window.endoscribe.agent.action('edit', { step, output: '{"boxes": "none"}', note: 'x' }), g);
    assert.equal((await agent()).action_result.ok, false);
    assert.deepEqual((await agent()).steps[g].output, corrected);
    await page.evaluate(() => window.endoscribe.agent.action('continue'));
    s = await finished();
    const seg = s.steps.findIndex((x, i) => i > g && x.tool === 'segment');
    assert.ok(seg > g, JSON.stringify(s.steps.map((x) => x.tool)));
    const mask = s.steps[seg].output.masks[0];
    assert.deepEqual(mask.rle.size, [512, 640]);
    const [x1, y1, x2, y2] = mask.box;
    assert.ok(x2 > x1 && y2 > y1, `a mask: ${JSON.stringify(mask.box)}`);
    // Its box lies mostly inside the prompt box.
    const ix = Math.max(0, Math.min(x2, 486) - Math.max(x1, 345)), iy = Math.max(0, Math.min(y2, 382) - Math.max(y1, 262));
    assert.ok(ix * iy > 0.5 * (x2 - x1) * (y2 - y1), `mask box ${JSON.stringify(mask.box)} vs the prompt box`);
    assert.equal(s.steps.at(-1).tool, 'finish');
    await click(`agent_step_${seg}`);
    await frames();
    assert.equal((await panel()).drawn.masks, 1);
    await shot('08b-segment-selected');
    const before = await page.evaluate(() => window.endoscribe.annotation.state().images['image-1.png']?.annotations.length ?? 0);
    await click(`agent_step_${seg}_accept_annotations`);
    await waitFor(async () => (await page.evaluate(() => window.endoscribe.annotation.state().images['image-1.png']?.annotations.length ?? 0)) === before + 1,
      'the mask in the annotations');
    const rec = await waitFor(async () => (await traces()).find((t) => t.id === s.trace_id && t.accepted?.length), 'the acceptance recorded');
    assert.equal(rec.accepted[0].step, seg);
    assert.equal(rec.accepted[0].into, 'annotations');
    await shot('08c-accepted');
  });

  it('a memory entry and the traces survive a reload', async () => {
    await click('agent_memory_new');
    await page.keyboard.type(MEMORY_TEXT);
    await click('agent_memory_add');
    await waitFor(async () => (await agent()).memory.some((e) => e.text === MEMORY_TEXT), 'the memory entry');
    const before = await agent();
    const savedBefore = await traces();
    await page.evaluate(() => window.endoscribe.annotation.saved());
    await page.reload();
    await loaded();
    const after = await waitFor(async () => { const s = await agent(); return s.traces.length && s; }, 'the traces after reload');
    const entry = after.memory.find((e) => e.text === MEMORY_TEXT);
    assert.ok(entry, 'the memory entry is back');
    assert.equal(entry.enabled, true);
    assert.deepEqual(after.traces.map((t) => t.id), before.traces.map((t) => t.id));
    const savedAfter = await traces();
    assert.deepEqual(savedAfter.map((t) => t.jsonl), savedBefore.map((t) => t.jsonl));
    // The newest trace is shown again.
    assert.equal(after.trace_id, savedBefore[0].id);
    assert.equal(after.steps.length, savedBefore[0].jsonl.trim().split('\n').length - 1);
    await reach('agent_memory_add');
    await shot('09-after-reload');
  });

  it('a trace with an unreadable line opens with the line named; the saved file is kept as it was', async () => {
    const broken = await page.evaluate(async () => {
      const cases = window.endoscribe.cases;
      const [newest] = await cases.agentTraces();
      const rec = { ...newest, id: 'tbroken', when: Date.now(), jsonl: `${newest.jsonl}{"type":"step","index": oops}\n` };
      delete rec.caseId;
      await cases.store.putAgentTrace(cases.current.id, rec);
      return rec;
    });
    await page.evaluate(() => window.endoscribe.agent.action('open_trace', { trace_id: 'tbroken' }));
    const s = await agent();
    assert.equal(s.trace_id, 'tbroken');
    assert.equal(s.unreadable.length, 1);
    assert.match(s.unreadable[0], /line \d+/);
    assert.match(s.notice, /could not be read/);
    assert.equal(s.steps.length, broken.jsonl.trim().split('\n').length - 2);
    const kept = (await traces()).find((t) => t.id === 'tbroken');
    assert.equal(kept.jsonl, broken.jsonl, 'the unreadable line is kept');
  });

  it('a failing tool is the step\'s error in plain words; the backend going away mid-run loses nothing', async () => {
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'protocol', seed: '5', reflect: false, label_set: 'no-such-set' }));
    let s = await finished();
    assert.match(s.steps[0].error, /no label set "no-such-set"/);
    assert.equal(s.steps.at(-1).tool, 'finish', 'the run goes on after a failed tool');
    // Answers and Classify move to a server that is not set up (an address, no
    // model checked) while a run is under way (in the page, as soon as its first
    // step has its output).
    const previous = s.trace_id;
    await page.evaluate((prev) => {
      const timer = setInterval(() => {
        const st = window.endoscribe.agent.state();
        if (!st.running || st.trace_id === prev || !st.steps[0]?.output) return;
        clearInterval(timer);
        window.endoscribe.assistant.action('remote_address', { address: 'http://127.0.0.1:9' });
        window.endoscribe.assistant.action('remote_use', { task: 'chat', where: 'server' });
        window.endoscribe.assistant.action('remote_use', { task: 'classify', where: 'server' });
      }, 5);
    }, previous);
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'protocol', seed: '6', reflect: false }));
    s = await finished();
    const failed = s.steps.filter((x) => x.error);
    assert.ok(failed.length > 0, 'steps after the move fail');
    for (const f of failed) {
      assert.doesNotMatch(f.error, /\[object|undefined|TypeError|at .*\.js/, f.error);
      assert.match(f.error, /The server cannot be used: .*Models tab/, f.error);
    }
    const saved = (await traces()).find((t) => t.id === s.trace_id);
    assert.equal(saved.jsonl.trim().split('\n').length, 1 + s.steps.length, 'every step is saved');
    await shot('10-backend-gone');
    // A new run (or Continue) is refused in plain words while the server is not set up; nothing changes.
    const kept = await traces();
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'protocol', seed: '7', reflect: false }));
    assert.match((await agent()).error, /The agent cannot start: press Check in the Models tab/);
    assert.equal((await traces()).length, kept.length);
    await page.evaluate(() => window.endoscribe.assistant.action('remote_use', { task: 'chat', where: 'browser' }));
    await page.evaluate(() => window.endoscribe.assistant.action('remote_use', { task: 'classify', where: 'browser' }));
    await page.evaluate(() => window.endoscribe.assistant.action('remote_address', { address: '' }));
  });

  it('a free question in planned mode ends on finish', async () => {
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'planned', question: 'How many polyps are in this image?',
      max_rounds: 2, seed: '3', reflect: false }));
    const s = await finished();
    const run = await page.evaluate(() => window.endoscribe.agent.lastRun);
    assert.equal(run.kind, 'finished', run.error);
    assert.equal(s.steps.at(-1).tool, 'finish');
    const tools = s.steps.filter((x) => x.tool !== 'finish');
    assert.ok(tools.length <= 2, 'at most max_rounds tool calls');
    for (const x of s.steps) assert.equal(x.origin, 'model');
    assert.ok(s.header.answer.length > 0);
    assert.equal(s.header.mode, 'planned');
    await reach('agent_answer');
    await shot('11-planned');
    browser.assertClean([/Failed to load resource/]);
  });

  it('runs the protocol on a real polyp image (kvasir-seg)', { skip: kvasirImage ? false : `no kvasir-seg images in ${KVASIR}` }, async () => {
    await page.setInputFiles('#file-input', path.join(KVASIR, kvasirImage));
    await waitFor(async () => (await page.evaluate(() => window.endoscribe.agent.env.currentImage()))?.name === kvasirImage, 'the kvasir image in view', 60000);
    await page.evaluate(() => window.endoscribe.agent.action('start', { mode: 'protocol', seed: '1', reflect: true }));
    const s = await finished();
    note(`kvasir ${kvasirImage}: ${s.steps.map((x) => x.tool + (x.error ? '(error)' : '')).join(', ')}; answer: ${s.header.answer.slice(0, 300)}`);
    assert.equal((await page.evaluate(() => window.endoscribe.agent.lastRun)).kind, 'finished');
    assertProtocol(s.steps);
    assert.ok(s.header.image.endsWith(`|${kvasirImage}|${(await page.evaluate(() => window.endoscribe.agent.env.currentImage())).width}x` +
      `${(await page.evaluate(() => window.endoscribe.agent.env.currentImage())).height}`), s.header.image);
    const g = s.steps.findIndex((x) => x.tool === 'ground');
    await click(`agent_step_${g}`);
    await shot('12-kvasir');
    browser.assertClean([/Failed to load resource/]);
  });
});
