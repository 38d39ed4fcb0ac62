// agent_panel.test.mjs: the Agent tab (ui/panel_agent.cpp) in headless
// Chromium on the demo case, driven by a hand-made agent state (Contract D:
// es_agent_ui_set_state) instead of the agent's JS, so the panel is tested on
// its own: a trace with all nine tools (a warning check, a rejected step, an
// edited step, masks as COCO RLE), the running state, bad states (not JSON,
// wrong types), the selected step's boxes and masks on the viewer, the
// actions the buttons send to Module.agent.action (a fake that records them),
// accepting masks into the annotations (one undo step) and text and drafted
// fields into the report (AI values, not accepted). Without Module.agent the
// tab says the agent is not available. Screenshots at 1280x800, 900x640 and
// with the side panel narrowed: test-artifacts/e2e/agent-panel-*.png.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, saveArtifact, missingPrerequisites } from './harness.mjs';

const skip = missingPrerequisites();
if (skip) console.log(`# skipping e2e agent panel tests: ${skip}`);

// COCO compressed RLE (pycocotools rleToString) of a mask given as a function
// inside(x, y), runs down the columns.
function rleOf(width, height, inside) {
  const counts = [];
  let last = 0, run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = inside(x, y) ? 1 : 0;
      if (v !== last) { counts.push(run); run = 0; last = v; }
      run++;
    }
  }
  counts.push(run);
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    for (let more = true; more;) {
      let c = x & 0x1f;
      x >>= 5;
      more = (c & 0x10) ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  let area = 0;
  for (let i = 1; i < counts.length; i += 2) area += counts[i];
  return { counts: s, area };
}

const ellipse = (cx, cy, rx, ry) => (x, y) => ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1;

// A realistic trace of a free-question run on image `img` of the case: all
// nine tools, a warning, a rejected step, an edited step.
function fakeState({ caseName, img, other }) {
  const W = img.width, H = img.height;
  const key = `${caseName}|${img.name}|${W}x${H}`;
  const b1 = [Math.round(W * 0.20), Math.round(H * 0.25), Math.round(W * 0.45), Math.round(H * 0.55)];
  const b2 = [Math.round(W * 0.55), Math.round(H * 0.50), Math.round(W * 0.80), Math.round(H * 0.80)];
  const glare = [Math.round(W * 0.05), Math.round(H * 0.05), Math.round(W * 0.12), Math.round(H * 0.12)];
  const m1 = rleOf(W, H, ellipse((b1[0] + b1[2]) / 2, (b1[1] + b1[3]) / 2, (b1[2] - b1[0]) / 2, (b1[3] - b1[1]) / 2));
  const m2 = rleOf(W, H, ellipse((b2[0] + b2[2]) / 2, (b2[1] + b2[3]) / 2, (b2[2] - b2[0]) / 2.2, (b2[3] - b2[1]) / 2.2));
  const model = 'tiny-gemma3 (built-in test model) rev 2026-11-20';
  let t = 1000;
  const step = (index, round, tool, args, output, extra = {}) => {
    const started = t; t += 180 + index * 97; const finished = t; t += 20;
    return { index, round, origin: 'model', recheck_of: '', tool, arguments: args, output, error: '', checks: [], reflection: '',
      started_ms: started, finished_ms: finished, model, status: 'ok', original_output: null, note: '', ...extra };
  };
  const steps = [
    step(0, 1, 'classify', { label_set: 'hyperkvasir' }, { labels: [
      { label: 'polyps', probability: 0.61 }, { label: 'cecum', probability: 0.17 }, { label: 'ulcerative-colitis-grade-1', probability: 0.09 },
      { label: 'dyed-lifted-polyps', probability: 0.06 }, { label: 'ileum', probability: 0.04 }, { label: 'hemorrhoids', probability: 0.02 },
      { label: 'z-line', probability: 0.005 }, { label: 'pylorus', probability: 0.003 }, { label: 'retroflex-rectum', probability: 0.002 }] },
    { checks: [{ id: 'probability_margin', level: 'pass', message: 'polyps leads cecum by 0.44: a clear top class.' }],
      reflection: 'The image most likely shows a polyp; next, find where it is.' }),
    step(1, 2, 'ground', { text: 'polyp', max_boxes: 4 }, { boxes: [
      { box: b1, label: 'polyp', score: 0.88 }, { box: b2, label: 'polyp', score: 0.71 }] },
    { status: 'edited', note: 'The third box was a light reflex.', original_output: { boxes: [
      { box: b1, label: 'polyp', score: 0.88 }, { box: b2, label: 'polyp', score: 0.71 }, { box: glare, label: 'polyp', score: 0.34 }] },
      reflection: 'Two polyps remain after the correction; segment both.' }),
    step(2, 3, 'segment', { boxes: [b1, b2] }, { masks: [
      { box: b1, rle: { size: [H, W], counts: m1.counts }, score: 0.93 }, { box: b2, rle: { size: [H, W], counts: m2.counts }, score: 0.81 }] },
    { checks: [{ id: 'boxes_vs_masks', level: 'pass', message: '2 boxes and 2 separate mask parts agree.' }] }),
    step(3, 4, 'count_lesions', {}, { count: 3, mask_parts: 2 },
      { checks: [{ id: 'count_vs_boxes', level: 'warn', message: 'count_lesions counts 3 lesions but ground found 2 boxes.',
        recheck: { tool: 'ground', arguments: { text: 'polyp', max_boxes: 4 } } }],
      reflection: 'The count disagrees with the boxes; ground again to settle it.' }),
    step(4, 5, 'ground', { text: 'polyp', max_boxes: 4 }, { boxes: [{ box: b1, label: 'polyp', score: 0.86 }] },
      { status: 'rejected', note: 'It misses the second polyp, which is plainly there.', origin: 'model', recheck_of: 'count_vs_boxes' }),
    step(5, 6, 'describe_image', { question: '' }, { text: 'A colonoscopy view with two sessile polyps: one about 8 mm on the left fold, ' +
      'a smaller one lower right. The mucosa around them looks normal; no bleeding.' },
    { checks: [{ id: 'label_vs_description', level: 'pass', message: 'The description names the top class (polyps).' }] }),
    step(6, 7, 'describe_region', { box: b1, question: 'What is the surface pattern?' },
      { text: 'Regular tubular pit pattern, no depressed area.' }),
    step(7, 7, 'compare_images', { image_a: img.name, image_b: other.name, question: 'What differs?' },
      { text: `${other.name} shows the same segment from further away; the polyp is not in view there.` }),
    step(8, 8, 'fill_report_fields', { findings: [] }, {
      applied: [{ path: 'bowel_preparation.bbps_right', value: '2', probability: 0.71 },
        { path: 'bowel_preparation.bbps_left', value: '3', probability: 0.64 },
        { path: 'impression', value: 'Two sessile colonic polyps.' }],
      rejected: [{ path: 'bowel_preparation.bbps_transverse', reason: 'the transverse colon is not seen in this image' }] }),
    step(9, 8, 'finish', { answer: 'Two polyps (about 8 mm and 5 mm), both segmented; the third lesion counted is an earlier annotation. ' +
      'Bowel preparation right 2, left 3.' }, {}),
  ];
  return {
    running: false, backend: 'in-browser', model, test_model: true, mode: 'planned',
    question: 'How many polyps are there, and how large are they?', seed: '7', max_rounds: 8, reflect: true, use_memory: true,
    request: { kind: 'finished', step: 9, tool: 'finish' }, error: '',
    header: { question: 'How many polyps are there, and how large are they?', image: key, model, mode: 'planned', seed: 7, max_rounds: 8,
      answer: steps[9].arguments.answer },
    steps,
    memory: [
      { id: 1, text: 'On small flat lesions, ground with "flat polyp" first.', enabled: true, created_at: '2026-11-28T09:12:00Z', source: 'case A' },
      { id: 2, text: 'Light reflexes near the fold are often grounded as polyps: check the mask.', enabled: false, created_at: '2026-11-29T14:40:00Z', source: '' },
    ],
    saved: true,
    traces: [{ id: 't2', image: key, question: 'How many polyps are there, and how large are they?', when: '2026-11-30 10:02' },
      { id: 't1', image: key, question: 'Run the clinical protocol', when: '2026-11-29 16:45' }],
    areas: [m1.area, m2.area], rle: [m1.counts, m2.counts], boxes: [b1, b2],
  };
}

describe('agent panel (fake agent state)', { skip: skip || false, timeout: 300000 }, () => {
  let server, browser, page, state;
  const appState = () => page.evaluate(() => window.endoscribe.state());
  const agentState = () => page.evaluate(() => JSON.parse(window.endoscribe.module().ccall('es_agent_ui_state', 'string', [], [])));
  const setState = (s) => page.evaluate((text) => window.endoscribe.module().ccall('es_agent_ui_set_state', null, ['string'], [text]),
    typeof s === 'string' ? s : JSON.stringify(s));
  const actions = () => page.evaluate(() => window.__agentActions || []);
  const frames = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const waitFor = async (fn, what, timeout = 15000) => {
    const t0 = Date.now();
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() - t0 > timeout) {
        saveArtifact(`agent-panel-timeout-${what.replace(/\W+/g, '_')}.png`, await page.screenshot());
        throw new Error('timed out waiting for ' + what);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // A point over the side panel (right of the viewer and its splitter).
  const sideX = (s) => s.viewer_rect[0] + s.viewer_rect[2] + 24;
  // Scrolls the side panel until the control is fully on screen; -> its rectangle.
  async function reach(name) {
    for (const dir of [0, 1, -1]) {
      for (let i = 0; i < (dir ? 40 : 1); i++) {
        await frames();
        const s = await appState();
        const r = s.widgets[name];
        if (r && r[3] >= 8 && r[1] >= 0 && r[1] + r[3] <= s.canvas.css_height - 24) return r;
        if (dir) {
          await page.mouse.move(sideX(s), s.canvas.css_height * [0.85, 0.6, 0.4][i % 3]);
          await page.mouse.wheel(0, dir * 120);
        }
      }
    }
    saveArtifact(`agent-panel-missing-${name}.png`, await page.screenshot());
    throw new Error(`control ${name} not found in the Agent tab`);
  }
  async function click(name) {
    const r = await reach(name);
    await page.mouse.move(r[0] + Math.min(r[2] / 2, 30), r[1] + r[3] / 2);
    await frames();
    await page.mouse.down();
    await frames();
    await page.mouse.up();
    await frames();
  }
  // The app takes one key per frame (ui/input_queue.cpp): type slowly, then let it catch up.
  async function type(text) {
    await page.keyboard.type(text, { delay: 40 });
    for (let i = 0; i < 6; i++) await frames();
  }
  async function press(key) {
    await page.keyboard.press(key);
    for (let i = 0; i < 3; i++) await frames();
  }
  // Clicks a control and waits for the action it sends; -> [name, args].
  async function clickSends(widget, name) {
    const n = (await actions()).length;
    await click(widget);
    return waitFor(async () => { const a = await actions(); return a.length > n && a.at(-1)[0] === name && a.at(-1); }, `action ${name}`, 5000);
  }
  async function scrollTop() {
    const s = await appState();
    await page.mouse.move(sideX(s), s.canvas.css_height * 0.5);
    for (let i = 0; i < 30; i++) await page.mouse.wheel(0, -400);
    await frames();
  }
  async function openAgentTab() {
    for (let i = 0; i < 5; i++) {
      const s = await appState();
      if (s.widgets.agent_question) return;
      const r = s.widgets.tab_agent;
      assert.ok(r, 'the Agent tab is in the tab bar');
      await page.mouse.click(r[0] + r[2] / 2, r[1] + r[3] / 2);
      await frames();
    }
    assert.ok((await appState()).widgets.agent_question, 'the Agent tab opens');
  }
  async function installFakeAgent() {
    await page.evaluate(() => {
      window.__agentActions = [];
      window.endoscribe.module().agent = { action: (name, args) => window.__agentActions.push([name, JSON.parse(args)]) };
    });
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser({ viewport: { width: 1280, height: 800 } });
    page = browser.page;
    if (process.env.ES_DEBUG) page.on('console', (m) => console.log('# page:', m.type(), m.text()));
    await page.goto(server.url);
    await page.evaluate(() => window.endoscribe.caseLoaded);
    // The real agent (web/agent/app_agent.js) pushes its first state at start-up: after that, the test's own.
    await page.waitForFunction(() => !window.endoscribe.agent || window.endoscribe.agent.started === true);
    await page.waitForFunction(() => window.endoscribe.annotation?.state()?.label_sets.length >= 5 &&
      window.endoscribe.report?.state()?.vocabulary_ready);
    await frames();
    const s = await appState();
    assert.ok(s.images.length >= 2, 'the demo case has at least two images');
    const img = s.images[s.current];
    const other = s.images.find((x) => x.name !== img.name);
    state = fakeState({ caseName: s.case, img, other });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('without the agent\'s JS the tab says the agent is not available and sends nothing', async () => {
    const hadAgent = await page.evaluate(() => { const M = window.endoscribe.module(); const had = !!M.agent; window.__savedAgent = M.agent; delete M.agent; return had; });
    await openAgentTab();
    const s = await appState();
    assert.ok(s.widgets.agent_unavailable, 'the tab says the agent is not available');
    assert.ok(s.widgets.agent_run_reason, 'Run says why it is disabled');
    await click('agent_run');
    assert.equal((await agentState()).sent.length, 0, 'a disabled Run sends nothing');
    saveArtifact('agent-panel-01-unavailable.png', await page.screenshot());
    if (hadAgent) await page.evaluate(() => { window.endoscribe.module().agent = window.__savedAgent; });
  });

  it('shows a trace with all nine tools, warnings, a rejected and an edited step', async () => {
    await installFakeAgent();
    await setState(state);
    await frames();
    const st = await agentState();
    assert.equal(st.have_state, true);
    assert.equal(st.steps, 10);
    assert.equal(st.state_error, '');
    assert.deepEqual(st.form, { question: state.question, mode: 'planned', max_rounds: 8, reflect: true, use_memory: true, seed: '7' },
      'the form shows the state\'s settings');
    const w = (await appState()).widgets;
    assert.ok(w.agent_test_model_warning, 'the test-model warning');
    assert.ok(w.agent_backend, 'where it runs');
    await reach('agent_answer');
    saveArtifact('agent-panel-02-trace-1280.png', await page.screenshot());
    for (let i = 0; i < 10; i++) await reach(`agent_step_${i}`);
    await reach('agent_step_3_warnings');
    await reach('agent_trace_open_1');
    await reach('agent_memory_2_enabled');
    saveArtifact('agent-panel-03-trace-end-1280.png', await page.screenshot());
  });

  it('a step opens to its readable output, checks and reflection; raw JSON on demand', async () => {
    await scrollTop();
    await click('agent_step_0');  // selects and opens
    await reach('agent_step_0_raw');
    await reach('agent_step_0_checks');
    await reach('agent_step_0_reflection');
    await click('agent_step_0_raw');
    await reach('agent_step_0_raw_text');
    saveArtifact('agent-panel-04-classify-open.png', await page.screenshot());
    await click('agent_step_0_raw');
    await click('agent_step_0');  // deselects
    assert.equal((await agentState()).selected, -1);
    // The count step's warning, in the warning colour, with its re-check.
    await click('agent_step_3');
    await reach('agent_step_3_checks');
    saveArtifact('agent-panel-05-warning.png', await page.screenshot());
    await click('agent_step_3');
  });

  it('the selected step\'s boxes and masks are drawn on the viewer and cleared when deselected', async () => {
    await scrollTop();
    await click('agent_step_1');
    let st = await waitFor(async () => { const a = await agentState(); return a.selected === 1 && a.drawn.boxes > 0 && a; }, 'ground drawn');
    assert.equal(st.drawn.boxes, 2, 'the edited ground step shows its 2 kept boxes (not the rejected third)');
    assert.ok((await appState()).widgets.agent_overlay_legend, 'a legend says what the colours are');
    await click('agent_step_1');
    await click('agent_step_2');
    st = await waitFor(async () => { const a = await agentState(); return a.selected === 2 && a.drawn.masks > 0 && a; }, 'masks drawn');
    assert.equal(st.drawn.masks, 2);
    assert.equal(st.drawn.note, '', 'both masks read');
    saveArtifact('agent-panel-06-masks-on-viewer.png', await page.screenshot());
    await click('agent_step_2');
    st = await agentState();
    assert.equal(st.selected, -1);
    assert.equal(st.drawn.masks + st.drawn.boxes, 0, 'nothing drawn once deselected');
    assert.ok(!(await appState()).widgets.agent_overlay_legend);
  });

  it('accepting a segment step adds its masks as one undoable annotation step, then tells JS', async () => {
    const img = (await appState()).images[(await appState()).current].name;
    const before = (await page.evaluate(() => window.endoscribe.annotation.state())).images[img]?.annotations.length || 0;
    await scrollTop();
    await click('agent_step_2');
    await click('agent_step_2_accept_annotations');
    const ann = await waitFor(async () => {
      const a = await page.evaluate(() => window.endoscribe.annotation.state());
      return (a.images[img]?.annotations.length || 0) === before + 2 && a;
    }, 'two mask annotations');
    const added = ann.images[img].annotations.slice(-2);
    assert.deepEqual(added.map((x) => x.kind), ['mask', 'mask']);
    assert.deepEqual(added.map((x) => x.source), ['sam', 'sam']);
    assert.deepEqual(added.map((x) => x.area), state.areas, 'the masks decoded from the RLE, pixel for pixel');
    assert.deepEqual(added.map((x) => x.rle), state.rle, 'and encode back to the same RLE');
    assert.ok(['polyp', 'polyps'].includes(added[0].label), `labelled from the ground step's "polyp" (got ${added[0].label})`);
    assert.match(ann.undo, /Accept agent step 3/);
    const sent = await actions();
    assert.deepEqual(sent.at(-1)[0], 'accepted');
    assert.deepEqual({ step: sent.at(-1)[1].step, into: sent.at(-1)[1].into }, { step: 2, into: 'annotations' });
    // The button now says they are there; a second click adds nothing.
    await frames();
    await click('agent_step_2_accept_annotations');
    assert.equal((await page.evaluate(() => window.endoscribe.annotation.state())).images[img].annotations.length, before + 2);
    saveArtifact('agent-panel-07-accepted-masks.png', await page.screenshot());
    // One undo takes both out.
    await click('agent_step_2');
    const u = (await appState()).widgets.ann_undo;
    await page.mouse.click(u[0] + u[2] / 2, u[1] + u[3] / 2);
    await waitFor(async () => ((await page.evaluate(() => window.endoscribe.annotation.state())).images[img]?.annotations.length || 0) === before,
      'undo of the accepted masks');
  });

  it('accepting text and drafted fields puts AI values into the report, never over the user\'s', async () => {
    await scrollTop();
    await click('agent_step_5');
    await click('agent_step_5_accept_report');  // target: the impression (the first)
    let rep = await waitFor(async () => { const r = (await page.evaluate(() => window.endoscribe.report.state())).report; return r.impression?.value && r; }, 'the impression');
    assert.equal(rep.impression.value, state.steps[5].output.text);
    assert.equal(rep.impression.source, 'ai');
    assert.equal(rep.impression.accepted, false, 'marked until accepted');
    assert.equal(rep.impression.set_by, state.model);
    await click('agent_step_5');
    await click('agent_step_8');
    await click('agent_step_8_accept_report');
    rep = await waitFor(async () => { const r = (await page.evaluate(() => window.endoscribe.report.state())).report; return r.bowel_preparation?.bbps_right?.value !== undefined && r; }, 'the BBPS fields');
    assert.equal(rep.bowel_preparation.bbps_right.value, 2);
    assert.equal(rep.bowel_preparation.bbps_right.source, 'ai');
    assert.equal(rep.bowel_preparation.bbps_right.accepted, false);
    assert.ok(Math.abs(rep.bowel_preparation.bbps_right.probability - 0.71) < 1e-6, 'with the step\'s probability');
    assert.equal(rep.bowel_preparation.bbps_left.value, 3);
    assert.equal(rep.impression.value, state.steps[5].output.text, 'the impression already there is kept');
    const sent = (await actions()).filter((x) => x[0] === 'accepted').map((x) => x[1].into);
    assert.deepEqual(sent.slice(-2), ['report', 'report']);
    saveArtifact('agent-panel-08-accepted-report.png', await page.screenshot());
    await click('agent_step_8');
  });

  it('reject, edit (with JS refusing a bad output), continue, run, stop, traces and memory send the contract\'s actions', async () => {
    await scrollTop();
    await click('agent_step_6');
    await click('agent_step_6_reject');
    await click('agent_step_6_reject_note');
    await type('Not what the region shows.');
    let last = await clickSends('agent_step_6_reject_confirm', 'reject');
    assert.equal(last[0], 'reject');
    assert.equal(last[1].step, 6);
    assert.equal(last[1].note, 'Not what the region shows.');
    // Edit: the text output is edited as text.
    await click('agent_step_6_edit');
    await click('agent_step_6_edit_text');
    await press('Control+A');
    await type('Villous surface.');
    last = await clickSends('agent_step_6_edit_save', 'edit');
    assert.equal(last[0], 'edit');
    assert.deepEqual(JSON.parse(last[1].output), { text: 'Villous surface.' });
    // JS refuses it: the editor stays open with the reason.
    await setState({ ...state, action_result: { action_id: last[1].action_id, name: 'edit', step: 6, ok: false,
      error: 'The output does not match describe_region\'s schema: text is longer than 4000 characters.' } });
    await reach('agent_step_6_edit_error');
    saveArtifact('agent-panel-09-edit-refused.png', await page.screenshot());
    // A JSON output edited as JSON; not JSON is said before anything is sent.
    await click('agent_step_6');
    await click('agent_step_3');
    await click('agent_step_3_edit');
    await click('agent_step_3_edit_text');
    await press('Control+A');
    await type('{"count": 2,');
    const n = (await actions()).length;
    await click('agent_step_3_edit_save');
    assert.equal((await actions()).length, n, 'not JSON: nothing sent');
    assert.match((await agentState()).edit_error, /not valid JSON/);
    await click('agent_step_3_edit_text');
    await press('End');
    await type(' "mask_parts": 2}');
    last = await clickSends('agent_step_3_edit_save', 'edit');
    assert.equal(last[0], 'edit');
    assert.deepEqual(JSON.parse(last[1].output), { count: 2, mask_parts: 2 });
    // JS accepts it: the step is marked edited and the editor closes.
    const edited = structuredClone(state);
    edited.steps[3] = { ...edited.steps[3], status: 'edited', original_output: edited.steps[3].output, output: { count: 2, mask_parts: 2 } };
    edited.steps = edited.steps.slice(0, 4);
    edited.header = { ...edited.header, answer: '' };
    edited.request = { kind: 'stopped', step: 4, tool: '' };
    edited.action_result = { action_id: last[1].action_id, name: 'edit', step: 3, ok: true, error: '' };
    await setState(edited);
    await waitFor(async () => (await agentState()).editing === -1, 'the editor closed');
    await click('agent_step_3');
    // Continue, then running: Stop.
    await clickSends('agent_continue', 'continue');
    const running = structuredClone(edited);
    running.running = true;
    running.request = { kind: 'run_tool', step: 4, tool: 'describe_image' };
    running.steps.push({ index: 4, round: 5, origin: 'model', recheck_of: '', tool: 'describe_image', arguments: { question: 'Is there a polyp?' },
      output: null, error: '', checks: [], reflection: '', started_ms: 9000, finished_ms: 0, model: state.model, status: 'ok', original_output: null, note: '' });
    await setState(running);
    await reach('agent_step_4_progress');
    await reach('agent_progress');
    saveArtifact('agent-panel-10-running.png', await page.screenshot());
    await clickSends('agent_stop', 'stop');
    await setState(state);
    // Run with the form's settings.
    last = await clickSends('agent_run', 'start');
    assert.equal(last[0], 'start');
    assert.deepEqual({ ...last[1], action_id: undefined }, { question: state.question, mode: 'planned', max_rounds: 8, reflect: true,
      use_memory: true, seed: '7', action_id: undefined });
    // Saved traces.
    assert.equal((await clickSends('agent_trace_replay_1', 'replay'))[1].trace_id, 't1');
    assert.equal((await clickSends('agent_trace_open_0', 'open_trace'))[1].trace_id, 't2');
    // Memory: enable, edit, remove (confirmed), add.
    last = await clickSends('agent_memory_2_enabled', 'memory_enable');
    assert.deepEqual([last[0], last[1].id, last[1].enabled], ['memory_enable', 2, true]);
    await click('agent_memory_1_edit');
    await click('agent_memory_1_text');
    await press('End');
    await type(' Then segment.');
    last = await clickSends('agent_memory_1_save', 'memory_edit');
    assert.deepEqual([last[0], last[1].id, last[1].text], ['memory_edit', 1, state.memory[0].text + ' Then segment.']);
    await click('agent_memory_2_remove');
    last = await clickSends('agent_memory_2_remove_confirm', 'memory_remove');
    assert.deepEqual([last[0], last[1].id], ['memory_remove', 2]);
    await click('agent_memory_new');
    await type('Count only accepted annotations.');
    last = await clickSends('agent_memory_add', 'memory_add');
    assert.deepEqual([last[0], last[1].text], ['memory_add', 'Count only accepted annotations.']);
  });

  it('a state that is not JSON or has wrong types is an error line, never a crash', async () => {
    await setState(state);
    await setState('{"steps": [ this is not json');
    let st = await agentState();
    assert.match(st.state_error, /cannot read/);
    assert.equal(st.steps, 10, 'the previous state stays');
    await scrollTop();
    await reach('agent_state_error');
    saveArtifact('agent-panel-11-bad-state.png', await page.screenshot());
    await setState({ running: 'yes', steps: 'many', header: 5, memory: [{ id: 'x' }, 7], traces: { a: 1 }, request: [],
      backend: 3, test_model: 'no' });
    await frames();
    st = await agentState();
    assert.equal(st.state_error, '');
    assert.equal(st.steps, 0);
    await setState({ steps: [7, null, { index: 'a', tool: 5, arguments: [], output: { masks: [{ rle: { size: [1, 2, 3], counts: 9 } }] },
      checks: 'warn', status: 4 }, { tool: 'segment', output: { masks: [{ box: [0, 0, 10, 10], rle: { size: [10, 10], counts: '@@@' } }] } }] });
    await frames();
    await click('agent_step_3');  // a segment step whose RLE cannot be read
    await frames();
    st = await agentState();
    assert.equal(st.selected, 3);
    assert.equal(st.drawn.masks, 0);
    assert.ok((await appState()).frame > 0, 'still drawing');
    await click('agent_step_3');
    await setState(state);
  });

  it('reads at narrow sizes: 900x640 and a narrowed side panel', async () => {
    await page.setViewportSize({ width: 900, height: 640 });
    await frames();
    await openAgentTab();
    await scrollTop();
    await click('agent_step_1');
    await frames();
    saveArtifact('agent-panel-12-900x640.png', await page.screenshot());
    await click('agent_step_1');
    // Narrow the side panel with its splitter.
    const sp = (await appState()).widgets.split_side;
    if (sp) {
      await page.mouse.move(sp[0] + sp[2] / 2, sp[1] + sp[3] / 2);
      await page.mouse.down();
      await page.mouse.move(sp[0] + 80, sp[1] + sp[3] / 2, { steps: 5 });
      await page.mouse.up();
      await frames();
    }
    await click('agent_step_0');
    await reach('agent_step_0_checks');
    saveArtifact('agent-panel-13-narrow-panel.png', await page.screenshot());
    await click('agent_step_0');
    await reach('agent_memory_1_shown');
    saveArtifact('agent-panel-14-narrow-memory.png', await page.screenshot());
    const st = await agentState();
    assert.equal(st.state_error, '');
  });
});
