// app_report.js: the JS side of the Report tab (ui/panel_report.cpp). It
//   - hands the vocabularies to the app (report_vocabulary.js);
//   - saves the report with the case after every edit (Module.report.changed ->
//     the case session, web/annotation/case_session.js);
//   - turns the Report tab's export buttons into downloads named after the
//     case (PDF, FHIR JSON, HTML, plain text) and copies the plain text to the
//     clipboard;
//   - keeps the "Your name" setting (who set each value) in localStorage.
// Test hook: window.endoscribe.report: state() (es_report_state), action(name, arg),
// exported() (the last export: {name, type, size}).
import { download } from '../annotation/download.js';
import { fileSafeName } from '../annotation/case_session.js';
import { plainError, reportMessage } from '../messages.js';
import { reportVocabularyLoaded } from './report_vocabulary.js';

const hook = window.endoscribe;
const USER_NAME_KEY = 'endoscribe-report-user-name';
let Module = null;
let lastExport = null;

const str = (p) => (p ? Module.UTF8ToString(p) : null);

function error(text, details = '') {
  console.warn(text, details);
  reportMessage(Module, 'error', text, details);
}

function caseFileName() {
  const cur = hook.cases && hook.cases.current;
  return fileSafeName(cur ? cur.name : 'case');
}

function give(suffix, data, type) {
  const name = `${caseFileName()}-report${suffix}`;
  download(name, data, type);
  lastExport = { name, type, size: data.length ?? data.byteLength };
}

// The text an export function returned, or null after saying why not.
function exported(fn, what) {
  const p = Module[fn]();
  if (!p) {
    error(`The report could not be exported as ${what}. The report itself is unchanged.`, str(Module._es_report_last_error()));
    return null;
  }
  return str(p);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    reportMessage(Module, 'notice', 'The report text is on the clipboard: paste it into the hospital system.');
  } catch (e) {
    const m = plainError('The report text could not be put on the clipboard', e,
      { fallback: 'use "Text file" to download it instead' });
    error(m.text, m.details);
  }
}

// The open images' files (as opened: JPEG stays JPEG) for the exports that show them.
function handImages() {
  const bytes = hook.cases && hook.cases.imageBytes;
  if (!bytes) return;
  for (const [name, data] of bytes) {
    const p = Module._malloc(Math.max(1, data.length));
    try {
      Module.HEAPU8.set(data, p);
      Module.ccall('es_report_set_export_image', null, ['string', 'number', 'number'], [name, p, data.length]);
    } finally {
      Module._free(p);
    }
  }
}

// DejaVu Sans (app/fonts/, from Debian's fonts-dejavu-core: ui/report_pdf_assets.cmake) for the PDF's
// text in any language; without it the PDF falls back to Helvetica (Latin-1).
let fontsGiven = null;
function handFonts() {
  if (!fontsGiven) {
    fontsGiven = (async () => {
      const get = async (f) => {
        const r = await fetch('fonts/' + f);
        if (!r.ok) throw new Error(`fonts/${f}: HTTP ${r.status}`);
        return new Uint8Array(await r.arrayBuffer());
      };
      const [regular, bold] = await Promise.all([get('DejaVuSans.ttf'), get('DejaVuSans-Bold.ttf')]);
      const pr = Module._malloc(regular.length), pb = Module._malloc(bold.length);
      try {
        Module.HEAPU8.set(regular, pr);
        Module.HEAPU8.set(bold, pb);
        Module._es_report_set_fonts(pr, regular.length, pb, bold.length);
      } finally {
        Module._free(pr);
        Module._free(pb);
      }
    })().catch((e) => {
      fontsGiven = null;
      console.warn('PDF fonts not loaded; the PDF uses Helvetica', e);
    });
  }
  return fontsGiven;
}

async function action(name) {
  if (/^export_(pdf|fhir)$/.test(name)) await handFonts();
  handImages();
  try {
    await run(name);
  } finally {
    Module._es_report_clear_export_images();
  }
}

async function run(name) {
  switch (name) {
    case 'export_text': {
      const t = exported('_es_report_export_text', 'plain text');
      if (t != null) give('.txt', t, 'text/plain;charset=utf-8');
      break;
    }
    case 'copy_text': {
      const t = exported('_es_report_export_text', 'plain text');
      if (t != null) await copyText(t);
      break;
    }
    case 'export_html': {
      const t = exported('_es_report_export_html', 'a web page');
      if (t != null) give('.html', t, 'text/html;charset=utf-8');
      break;
    }
    case 'export_fhir': {
      const t = exported('_es_report_export_fhir', 'FHIR');
      if (t != null) give('.fhir.json', t, 'application/fhir+json');
      break;
    }
    case 'export_pdf': {
      const p = Module._es_report_export_pdf();
      if (!p) {
        error('The report could not be exported as PDF. The report itself is unchanged.', str(Module._es_report_last_error()));
        break;
      }
      give('.pdf', Module.HEAPU8.slice(p, p + Module._es_report_bytes_size()), 'application/pdf');
      break;
    }
    case 'user_name':
      break;  // handled in changed()
    default:
      console.warn('unknown report action', name);
  }
}

function saveUserName(name) {
  try { localStorage.setItem(USER_NAME_KEY, name); } catch { /* the name is asked again next time */ }
}

async function init() {
  await hook.ready;
  Module = hook.module();
  if (!Module._es_report_document) return;  // an app built without the report
  Module.report = {
    changed: () => { if (hook.cases) hook.cases.reportChanged(); },
    userName: (name) => saveUserName(name),
    action: (name, arg) => action(name, arg).catch((e) => error('The report action did not work.', String(e && e.message || e))),
  };
  let name = '';
  try { name = localStorage.getItem(USER_NAME_KEY) || ''; } catch { name = ''; }
  if (name) Module.ccall('es_report_set_user_name', null, ['string'], [name]);
  await reportVocabularyLoaded(Module);
}

hook.report = {
  state: () => (Module && Module._es_report_state ? JSON.parse(str(Module._es_report_state())) : null),
  action: (name, arg = '') => action(name, arg),
  exported: () => lastExport,
  ready: null,
};
hook.report.ready = init();
hook.report.ready.catch((e) => console.warn('report start-up', e));
