// app_report_draft.js: "Draft with AI" in the app. The Report tab's button
// (ui/panel_report_draft.cpp) sends 'start' / 'cancel' here
// (Module.reportDraft.action). A draft:
//   1. asks the core for the questions of the open report's empty fields
//      (es_report_draft_questions);
//   2. runs them through the assistant's loaded model (report_draft.js; the
//      assistant is marked busy meanwhile, so no model switch or chat
//      interleaves), pushing progress to the panel (es_report_draft_set_state);
//   3. hands the answers to the core (es_report_draft_apply), which fills only
//      fields that are still empty, as unaccepted AI values with their
//      probability; one undo step, saved with the case;
//   4. once more for fields that appeared with a drafted finding term
//      (e.g. a drafted "polyp" calls for Paris and NICE).
// The frame loop never waits: all of this is awaited here.
//
// Test hook: window.endoscribe.reportDraft: state() (es_report_draft_state),
// action(name, args), last ({rounds: [{questions, answers, outcome, stats}],
// error, notice: what the last draft said instead, for the case agent's
// fill_report_fields, web/agent/app_environment.js}).
import { draftReport } from './report_draft.js';
import { plainError, reportMessage } from '../messages.js';
import { draftReportRemote } from '../remote/report_draft.js';
import { dataUrlFromBytes, dataUrlFromRgba, sniffImageType } from '../remote/image_url.js';
import { RemoteError, plainRemoteError } from '../remote/errors.js';

const app = window.endoscribe;
let M = null;
let job = null;          // the running draftReport job ({cancel})
let cancelled = false;   // Cancel pressed (also between rounds)
let running = false;
const hook = { last: null };

const call = (name, types, args) => M.ccall(name, 'string', types, args);

function setState(s) {
  M.ccall('es_report_draft_set_state', null, ['string'], [JSON.stringify(s)]);
}

// A case image for the model, by name: its pixels copied out of the wasm heap.
function imageFor(name) {
  const info = JSON.parse(call('es_report_draft_image', ['string'], [name]));
  if (!info) return null;
  const rgba = M.HEAPU8.slice(info.rgba, info.rgba + info.width * info.height * 4);
  return { key: info.key, rgba, width: info.width, height: info.height };
}

// A case image for the server as a data: URL: the file's own bytes, or its pixels as PNG.
async function imageUrlFor(name) {
  const bytes = app.cases?.imageBytes?.get(name);
  if (bytes && sniffImageType(bytes)) return dataUrlFromBytes(bytes);
  const img = imageFor(name);
  return img ? dataUrlFromRgba(img) : null;
}

// Runs fn(run, model): on the assistant's loaded model, or on the inference
// server when the user chose it for drafting (Models tab). run(questions,
// onProgress) -> a job {promise, cancel}.
function withModel(assistant, fn) {
  if (assistant.routes?.('draft')) {
    return assistant.withRemote('draft', (backend, { onRetry }) => fn(
      (questions, onProgress, scope) => draftReportRemote(backend, questions, { imageUrlFor, onProgress, onRetry, scope,
        report: () => JSON.parse(M.UTF8ToString(M._es_report_document())) }),
      { name: `${backend.model} (server ${backend.address})`, test_model: false }));
  }
  return assistant.withRuntime('draft', (rt, model) => fn(
    (questions, onProgress) => draftReport(rt, questions, { imageFor, onProgress }), model));
}

async function start({ images = [] } = {}) {
  if (running) return;
  const assistant = app.assistant;
  if (!assistant?.withRuntime) {
    reportMessage(M, 'error', 'Drafting with AI is not available in this page.', 'no assistant runtime hook');
    return;
  }
  running = true;
  cancelled = false;
  hook.last = { rounds: [] };
  setState({ running: true, done: 0, total: 0, path: 'starting' });
  let filled = 0;
  try {
    await withModel(assistant, async (run, model) => {
      const modelId = model.name || model.id;
      const asked = new Set();
      for (let round = 0; round < 2 && !cancelled; round++) {
        const r = JSON.parse(call('es_report_draft_questions', ['string'], [JSON.stringify({ images })]));
        if (r.error) {
          reportMessage(M, 'notice', r.error);
          hook.last.error = r.error;
          return;
        }
        const questions = r.questions.filter((q) => !asked.has(q.path));
        if (!questions.length) {
          if (round === 0) {
            hook.last.notice = 'Nothing to draft: every field the model could fill already has a value ' +
              '(findings need an evidence image; make them from the lesion annotations).';
            reportMessage(M, 'notice', hook.last.notice);
          }
          return;
        }
        questions.forEach((q) => asked.add(q.path));
        setState({ running: true, done: 0, total: questions.length, path: '', round });
        job = run(questions, (p) => setState({ running: true, round, ...p }), { images });
        const res = await job.promise;
        job = null;
        const outcome = JSON.parse(M.ccall('es_report_draft_apply', 'string', ['string', 'string', 'number', 'number'],
          [JSON.stringify(res.answers), modelId, round, model.test_model ? 1 : 0]));
        hook.last.rounds.push({ questions, answers: res.answers, outcome, stats: res.stats });
        if (outcome.error) {
          reportMessage(M, 'error', outcome.error, outcome.details ?? '');
          hook.last.error = outcome.error;
          return;
        }
        filled += outcome.applied.length;
        if (res.cancelled) cancelled = true;
      }
    });
    setState({ running: false, cancelled, filled });
  } catch (e) {
    job = null;
    const m = e instanceof RemoteError
      ? plainRemoteError('The report could not be drafted on the server', e, app.remote?.job?.().address)
      : plainError('The report could not be drafted with AI', e,
        { fallback: 'try again, or load the model again (Assistant tab, Models)', after: 'Nothing you entered was changed.' });
    if (e instanceof RemoteError) m.text += ' Nothing you entered was changed.';
    reportMessage(M, 'error', m.text, m.details);
    hook.last.error = m.text;
    setState({ running: false, error: m.text });
  } finally {
    running = false;
  }
}

function cancel() {
  cancelled = true;
  job?.cancel();
}

const ACTIONS = { start, cancel };

function action(name, argsJson) {
  const fn = ACTIONS[name];
  if (!fn) return console.warn(`report draft: unknown action ${name}`);
  let args = {};
  try { args = argsJson ? (typeof argsJson === 'string' ? JSON.parse(argsJson) : argsJson) : {}; } catch { /* none */ }
  Promise.resolve(fn(args)).catch((e) => {
    const m = plainError('Drafting with AI did not work', e, { fallback: 'try again' });
    reportMessage(M, 'error', m.text, m.details);
  });
}

async function init() {
  try {
    await app.ready;
  } catch {
    return;  // no WebGPU / no app: the page already says why
  }
  M = app.module();
  if (!M._es_report_draft_questions) return;  // an app built without the report
  M.reportDraft = { action };
  hook.state = () => JSON.parse(M.UTF8ToString(M._es_report_draft_state()));
  hook.action = (name, args = {}) => ACTIONS[name](args);
  hook.running = () => running;
}

app.reportDraft = hook;
init().catch((e) => console.warn('report draft start-up', e));
