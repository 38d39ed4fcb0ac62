// report_vocabulary.js: the report's vocabularies (MST 3.0 terms, Paris,
// NICE, JNET, BBPS, ..., surveillance rule tables) are data files copied from
// models/report/ to the app's report/ folder, listed in report/index.json
// (ui/report_assets.cmake). They are handed to the app once
// (es_report_load_vocabulary); a saved or imported report is only read after
// that, because reading checks every term against them.
import { plainError, reportMessage } from '../messages.js';

const loaded = new WeakMap();  // Module -> Promise

// Resolves once the vocabulary is in the app (or failed: the message is shown,
// and reports that name terms then fail to load with their own message).
export function reportVocabularyLoaded(Module) {
  if (!Module || !Module._es_report_load_vocabulary) return Promise.resolve(false);
  let p = loaded.get(Module);
  if (!p) {
    p = load(Module);
    loaded.set(Module, p);
  }
  return p;
}

async function load(Module) {
  try {
    const index = await fetchJson('report/index.json');
    const files = [];
    for (const name of index.files || []) {
      const r = await fetch('report/' + name);
      if (!r.ok) throw new Error(`report/${name}: HTTP ${r.status}`);
      files.push({ name, text: await r.text() });
    }
    if (!Module.ccall('es_report_load_vocabulary', 'number', ['string'], [JSON.stringify(files)])) {
      const details = Module.UTF8ToString(Module._es_report_last_error());
      reportMessage(Module, 'error', 'The report vocabularies could not be read, so the Report tab cannot be used. ' +
        'Your images and annotations are unaffected.', details);
      return false;
    }
    return true;
  } catch (e) {
    const m = plainError('The report vocabularies could not be loaded, so the Report tab cannot be used', e,
      { fallback: 'reload the page to try again', after: 'Your images and annotations are unaffected.' });
    reportMessage(Module, 'error', m.text, m.details);
    return false;
  }
}

async function fetchJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}
