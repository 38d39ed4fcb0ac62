// case_session.js: the open case and the user's saved cases (case_store.js).
//   - start-up (loader.js awaits start() before anything opens): the case
//     open last comes back; the demo case opens only when nothing is saved, or
//     when the user asked for it (Case > Open demo case);
//   - the demo case is read-only: the first change to it copies it into a new
//     case that takes the change; images opened while it is shown start a new
//     case;
//   - every accepted change (Module.annotation.changed) saves the document and
//     the undo history of the current case; every edit of the report
//     (Module.report.changed, web/report/app_report.js) saves the report and its
//     undo history (a keystroke is an edit); every change of the Compare
//     tab's work (the model outputs it compares, annotator B;
//     Module.annotation.action('compare_changed'), ui/compare_ui.h) saves that
//     work; the view (current image, zoom,
//     levels) is saved when it changes; all of it is written synchronously to
//     localStorage when the page is hidden or closed, and reconciled at the
//     next start;
//   - the Case menu (ui/panel_case.cpp) gets the case list through
//     es_app_set_cases and calls back through Module.cases.action.
// Images are keyed by the SHA-256 of their bytes: the same file opened twice
// is one image; two different files with one name get distinct names
// ("image (2).jpg"), which is how the annotation document refers to them.
import { CaseStore, StorageFullError, STORAGE_FULL_MESSAGE, sha256Hex } from './case_store.js';
import { readBundle, writeBundle } from './case_bundle.js';
import { download } from './download.js';
import { conversationStore, setConversationScope } from '../assistant/conversation_store.js';
import { reportVocabularyLoaded } from '../report/report_vocabulary.js';

export const DEMO_ID = 'demo';
const PENDING_KEY = 'endoscribe-pending-save';
const PENDING_REPORT_KEY = 'endoscribe-pending-report';
const PENDING_COMPARE_KEY = 'endoscribe-pending-compare';
const IMPORT_MESSAGE_KEY = 'endoscribe-import-message';  // sessionStorage: said after the reload
const VIEW_POLL_MS = 700;

function stamp(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// A name not yet used in the case: "image.jpg", "image (2).jpg", ...
export function uniqueName(name, taken) {
  if (!taken.has(name)) return name;
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name, ext = dot > 0 ? name.slice(dot) : '';
  for (let k = 2; ; k++) if (!taken.has(`${stem} (${k})${ext}`)) return `${stem} (${k})${ext}`;
}

export function fileSafeName(name) {
  const s = String(name || '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 80);
  return s || 'case';
}

export class CaseSession {
  // Module: the wasm module; imageBytes: name -> bytes (the Segment job reads it);
  // ui: {status(text, error), error(text), notice(text)}.
  constructor(Module, imageBytes, ui) {
    this.M = Module;
    this.imageBytes = imageBytes;
    this.ui = ui;
    this.store = null;
    this.current = null;        // {id, name, readOnly}
    this.images = [];           // [{hash, name}] of the open case, in order
    this.changeSeq = 0;         // accepted changes so far
    this.savedSeq = 0;          // the newest change known to be in IndexedDB
    this.reportSeq = 0;         // report edits so far
    this.reportSavedSeq = 0;    // the newest report edit known to be in IndexedDB
    this.reportQueued = false;
    this.compareSeq = 0;        // changes of the Compare tab's work so far
    this.compareSavedSeq = 0;   // the newest one known to be in IndexedDB
    this.compareQueued = false;
    this.saving = Promise.resolve();
    this.saveQueued = false;
    this.lastSave = Promise.resolve();
    this.lastView = null;
    this.persistence = '';      // 'persistent' | 'best-effort' | ''
    this.full = false;          // storage full: saving stopped saying "Saved"
    this.copying = null;        // promise while the demo is copied into a new case
    setConversationScope((key) => this.conversationKey(key));
  }

  str(p) { return p ? this.M.UTF8ToString(p) : null; }
  document() { return this.str(this.M._es_annotation_document()); }
  history() { return this.str(this.M._es_annotation_history()); }
  view() { return this.str(this.M._es_app_view_state()); }
  // The report (ui/report_exports.cpp); null when the app has no report part.
  report() { return this.M._es_report_document ? this.str(this.M._es_report_document()) : null; }
  reportHistory() { return this.M._es_report_history ? this.str(this.M._es_report_history()) : null; }
  reportEmpty() { return !this.M._es_report_is_empty || this.M._es_report_is_empty() === 1; }
  // {text, history} for a new case record (demo copy), or null when the report is empty.
  reportRecord() { return this.reportEmpty() ? null : { text: this.report(), history: this.reportHistory() }; }
  // The Compare tab's work (ui/compare_exports.cpp); null when the app has no Compare part.
  compare() { return this.M._es_compare_work ? this.str(this.M._es_compare_work()) : null; }
  // Its text for a new case record, or null when there is nothing in it.
  compareRecord() {
    const text = this.compare();
    try {
      const j = JSON.parse(text);
      return j.model_outputs.length || j.annotator_b ? text : null;
    } catch { return null; }
  }

  async open() {
    try {
      this.store = await CaseStore.open();
    } catch (e) {
      this.ui.status(`Work is not saved in this browser: ${e.message}`, true);
      return;
    }
    try {
      const migrated = await this.store.migrateV1();
      if (migrated && !(await this.store.getLastCaseId())) await this.store.setLastCaseId(migrated);
    } catch (e) {
      this.ui.error(`The case saved by the previous version could not be moved to the new case list: ${e.message}`);
    }
    try {
      await this.reconcilePending();
    } catch (e) {
      this.ui.error(`The last change before the page closed could not be saved: ${e.message}`);
    }
    this.askPersistence();
    const flush = () => this.flushSync();
    document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') flush(); });
    window.addEventListener('pagehide', flush);
    setInterval(() => this.pollView(), VIEW_POLL_MS);
  }

  async askPersistence() {
    if (!navigator.storage || !navigator.storage.persist) return;
    try {
      const already = navigator.storage.persisted ? await navigator.storage.persisted() : false;
      const granted = already || await navigator.storage.persist();
      this.persistence = granted ? 'persistent' : 'best-effort';
    } catch {
      this.persistence = 'best-effort';
    }
    this.pushCases();
  }

  storageWords() {
    if (this.persistence === 'persistent') return 'saved in this browser (persistent)';
    if (this.persistence === 'best-effort') return 'saved in this browser; it may clear it when space runs low';
    return 'saved in this browser';
  }

  // ---- start-up --------------------------------------------------------------------

  // Opens the case to show at start-up; false when the demo case should open.
  async start() {
    if (!this.store) return false;
    const cases = await this.store.listCases();
    const last = await this.store.getLastCaseId();
    if (last === DEMO_ID) return false;
    const pick = cases.find((c) => c.id === last) ?? cases[0];
    if (!pick) return false;
    await this.restore(pick.id);
    return true;
  }

  // loader.js opened the demo case (read-only).
  demoOpened() {
    this.current = { id: DEMO_ID, name: this.caseNameFromApp() || 'Demo case', readOnly: true };
    this.images = [];
    this.pushCases();
    this.ui.status('Demo case: read-only. A change to it is saved in a new case.');
  }

  caseNameFromApp() {
    try { return JSON.parse(this.str(this.M._es_app_state_json())).case || ''; } catch { return ''; }
  }

  async restore(id) {
    const saved = await this.store.loadCase(id);
    if (!saved) throw new Error('the case no longer exists');
    const M = this.M;
    this.current = { id, name: saved.case.name, readOnly: false };
    this.images = saved.images.map(({ hash, name }) => ({ hash, name }));
    let doc = null;
    try { doc = saved.document ? JSON.parse(saved.document.text) : null; } catch { doc = null; }
    if (doc && doc.case) M.ccall('es_app_open_case', 'number', ['string', 'string'], [JSON.stringify(doc.case), saved.case.name]);
    let first = true;
    for (const img of saved.images) {
      this.imageBytes.set(img.name, img.bytes);
      const ptr = M._malloc(Math.max(1, img.bytes.length));
      try {
        M.HEAPU8.set(img.bytes, ptr);
        M.ccall('es_app_open_image', 'number', ['string', 'number', 'number', 'number'], [img.name, ptr, img.bytes.length, first ? 1 : 0]);
      } finally {
        M._free(ptr);
      }
      first = false;
    }
    if (saved.missing) this.ui.error(`${saved.missing} image(s) of this case are missing from the browser's storage; the rest were restored.`);
    if (saved.document) {
      if (!M.ccall('es_annotation_load_document', 'number', ['string'], [saved.document.text])) {
        this.ui.error(`The saved annotations could not be read (${this.str(M._es_annotation_last_error())}); the images were restored.`);
      } else if (saved.document.history && !M.ccall('es_annotation_load_history', 'number', ['string'], [saved.document.history])) {
        this.ui.error(`The undo history could not be restored (${this.str(M._es_annotation_last_error())}); the annotations were.`);
      }
    }
    if (saved.report) await this.loadReport(saved.report);
    if (saved.compare) this.loadCompare(saved.compare);
    this.sayImportMessage();
    if (saved.view) M.ccall('es_app_set_view_state', null, ['string'], [saved.view]);
    this.lastView = saved.view ?? null;
    await this.store.setLastCaseId(id);
    await this.pushCases();
    const n = saved.images.length;
    this.ui.status(`Restored (${n} image${n === 1 ? '' : 's'}), ${this.storageWords()}`);
  }

  // The case's saved report into the app (after its images and annotations:
  // the report's evidence names them). A report that cannot be read leaves
  // the rest of the case as it is, and its text stays in IndexedDB until the
  // report is edited.
  async loadReport(rec) {
    const M = this.M;
    if (!M._es_report_load_document) return;
    await reportVocabularyLoaded(M);
    if (!M.ccall('es_report_load_document', 'number', ['string'], [rec.text])) {
      this.ui.error(`The saved report could not be read, so the Report tab starts empty; the images and annotations were restored.`,
        this.str(M._es_report_last_error()));
    } else if (rec.history && !M.ccall('es_report_load_history', 'number', ['string'], [rec.history])) {
      this.ui.error('The report\'s undo history could not be restored; the report was.', this.str(M._es_report_last_error()));
    }
  }

  // The Compare tab's saved work (after the images and annotations it compares).
  // Work that cannot be read leaves the tab empty and the rest of the case as
  // it is; its text stays in IndexedDB until the tab's work changes.
  loadCompare(rec) {
    const M = this.M;
    if (!M._es_compare_load_work || typeof rec.text !== 'string') return;
    if (!M.ccall('es_compare_load_work', 'number', ['string'], [rec.text])) {
      this.ui.error("The Compare tab's saved work (model outputs, annotator B) could not be read, so the tab starts empty; " +
        'the images, annotations and report were restored.', this.str(M._es_compare_last_error()));
    }
  }

  sayImportMessage() {
    let m = null;
    try { m = JSON.parse(sessionStorage.getItem(IMPORT_MESSAGE_KEY) || 'null'); sessionStorage.removeItem(IMPORT_MESSAGE_KEY); } catch { m = null; }
    if (m && m.text) this.ui.error(m.text, m.details || '');
  }

  // Writes a document that a closing page left in localStorage when it is newer
  // than the one in IndexedDB.
  async reconcilePending() {
    await this.reconcilePendingReport();
    await this.reconcilePendingCompare();
    let pending = null;
    try { pending = JSON.parse(localStorage.getItem(PENDING_KEY) || 'null'); } catch { pending = null; }
    if (!pending || !pending.caseId) return;
    const rec = await this.store.getCase(pending.caseId);
    if (rec && pending.document && pending.captured > rec.modified) {
      await this.store.putDocument(pending.caseId, pending.document, pending.history ?? null, pending.captured);
    }
    if (rec && pending.view) await this.store.putView(pending.caseId, pending.view);
    localStorage.removeItem(PENDING_KEY);
  }

  // The same for the report (a key of its own: report and annotation saves
  // finish independently).
  async reconcilePendingReport() {
    let pending = null;
    try { pending = JSON.parse(localStorage.getItem(PENDING_REPORT_KEY) || 'null'); } catch { pending = null; }
    if (!pending || !pending.caseId || typeof pending.text !== 'string') return;
    const rec = await this.store.getCase(pending.caseId);
    const have = rec ? await this.store.getReport(pending.caseId) : null;
    if (rec && (!have || pending.captured > have.captured)) {
      await this.store.putReport(pending.caseId, pending.text, pending.history ?? null, pending.captured);
    }
    localStorage.removeItem(PENDING_REPORT_KEY);
  }

  // The same for the Compare tab's work.
  async reconcilePendingCompare() {
    let pending = null;
    try { pending = JSON.parse(localStorage.getItem(PENDING_COMPARE_KEY) || 'null'); } catch { pending = null; }
    if (!pending || !pending.caseId || typeof pending.text !== 'string') return;
    const rec = await this.store.getCase(pending.caseId);
    const have = rec ? await this.store.getCompare(pending.caseId) : null;
    if (rec && (!have || pending.captured > have.captured)) {
      await this.store.putCompare(pending.caseId, pending.text, pending.captured);
    }
    localStorage.removeItem(PENDING_COMPARE_KEY);
  }

  // ---- saving ------------------------------------------------------------------------

  // Module.annotation.changed: an accepted change.
  changed() {
    if (!this.store || !this.current) return;
    this.changeSeq++;
    if (this.current.readOnly) this.copyDemo();
    this.scheduleSave();
  }

  scheduleSave() {
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.lastSave = this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      if (this.copying) await this.copying;
      if (!this.current || this.current.readOnly) return;
      const seq = this.changeSeq, captured = Date.now();
      const text = this.document(), history = this.history();
      try {
        await this.store.putDocument(this.current.id, text, history, captured);
        this.savedSeq = Math.max(this.savedSeq, seq);
        this.clearPendingUpTo(captured);
        this.full = false;
        const n = (text.match(/"category_id"/g) || []).length;
        this.ui.status(`Saved ${new Date(captured).toLocaleTimeString([], { hour12: false })} (${n} annotation${n === 1 ? '' : 's'}), ${this.storageWords()}`);
        this.pushCases();
      } catch (e) {
        this.saveFailed(e);
      }
    });
  }

  // Module.report.changed: an edit of the report (each keystroke of a text field).
  reportChanged() {
    if (!this.store || !this.current) return;
    this.reportSeq++;
    if (this.current.readOnly) this.copyDemo();
    this.scheduleReportSave();
  }

  scheduleReportSave() {
    if (this.reportQueued) return;
    this.reportQueued = true;
    this.lastSave = this.saving = this.saving.then(async () => {
      this.reportQueued = false;
      if (this.copying) await this.copying;
      if (!this.current || this.current.readOnly) return;
      const seq = this.reportSeq, captured = Date.now();
      const text = this.report(), history = this.reportHistory();
      if (text == null) return;
      try {
        await this.store.putReport(this.current.id, text, history, captured);
        this.reportSavedSeq = Math.max(this.reportSavedSeq, seq);
        try {
          const p = JSON.parse(localStorage.getItem(PENDING_REPORT_KEY) || 'null');
          if (p && p.captured <= captured) localStorage.removeItem(PENDING_REPORT_KEY);
        } catch { /* nothing pending */ }
        this.full = false;
        this.ui.status(`Report saved ${new Date(captured).toLocaleTimeString([], { hour12: false })}, ${this.storageWords()}`);
      } catch (e) {
        this.saveFailed(e);
      }
    });
  }

  // Module.annotation.action('compare_changed'): the Compare tab's work changed.
  // userAct: annotator B imported or removed (the user's own act on the case:
  // the read-only demo is copied for it, as for any change); otherwise model
  // outputs the assistant reported, which on the demo stay with the page and
  // go into its copy when one is made.
  compareChanged(userAct) {
    if (!this.store || !this.current) return;
    this.compareSeq++;
    if (this.current.readOnly) {
      if (userAct) this.copyDemo();
      return;
    }
    this.scheduleCompareSave();
  }

  scheduleCompareSave() {
    if (this.compareQueued) return;
    this.compareQueued = true;
    this.lastSave = this.saving = this.saving.then(async () => {
      this.compareQueued = false;
      if (this.copying) await this.copying;
      if (!this.current || this.current.readOnly) return;
      const seq = this.compareSeq, captured = Date.now();
      const text = this.compare();
      if (text == null) return;
      try {
        await this.store.putCompare(this.current.id, text, captured);
        this.compareSavedSeq = Math.max(this.compareSavedSeq, seq);
        try {
          const p = JSON.parse(localStorage.getItem(PENDING_COMPARE_KEY) || 'null');
          if (p && p.captured <= captured) localStorage.removeItem(PENDING_COMPARE_KEY);
        } catch { /* nothing pending */ }
        this.full = false;
      } catch (e) {
        this.saveFailed(e);
      }
    });
  }

  saveFailed(e) {
    if (e instanceof StorageFullError) {
      // One banner; the status line keeps saying it until a save succeeds.
      if (!this.full) this.ui.status(STORAGE_FULL_MESSAGE, 'plain');
      this.full = true;
    } else {
      this.ui.status(e.message, true);
    }
  }

  clearPendingUpTo(captured) {
    try {
      const p = JSON.parse(localStorage.getItem(PENDING_KEY) || 'null');
      if (p && p.captured <= captured) localStorage.removeItem(PENDING_KEY);
    } catch { /* nothing pending */ }
  }

  async pollView() {
    if (!this.store || !this.current || this.current.readOnly) return;
    const v = this.view();
    if (v === this.lastView) return;
    this.lastView = v;
    try {
      await this.store.putView(this.current.id, v);
    } catch (e) {
      this.saveFailed(e);
    }
  }

  // The page is being hidden or closed: IndexedDB writes started now may not
  // finish, so the newest document goes to localStorage synchronously too.
  flushSync() {
    if (!this.store || !this.current || this.current.readOnly) return;
    const v = this.view();
    const dirty = this.changeSeq > this.savedSeq;
    if (!dirty && v === this.lastView) { this.flushReportSync(); this.flushCompareSync(); return; }
    const rec = { caseId: this.current.id, captured: Date.now(), view: v };
    if (dirty) {
      rec.document = this.document();
      rec.history = this.history();
    }
    try {
      localStorage.setItem(PENDING_KEY, JSON.stringify(rec));
    } catch {
      // Too big for localStorage: keep the history out and try once more.
      try { delete rec.history; localStorage.setItem(PENDING_KEY, JSON.stringify(rec)); } catch { /* IndexedDB only */ }
    }
    if (dirty) this.scheduleSave();
    this.flushReportSync();
    this.flushCompareSync();
    this.pollView();
  }

  flushReportSync() {
    if (this.reportSeq <= this.reportSavedSeq) return;
    const text = this.report();
    if (text == null) return;
    const rec = { caseId: this.current.id, captured: Date.now(), text, history: this.reportHistory() };
    try {
      localStorage.setItem(PENDING_REPORT_KEY, JSON.stringify(rec));
    } catch {
      try { delete rec.history; localStorage.setItem(PENDING_REPORT_KEY, JSON.stringify(rec)); } catch { /* IndexedDB only */ }
    }
    this.scheduleReportSave();
  }

  flushCompareSync() {
    if (this.compareSeq <= this.compareSavedSeq || !this.current || this.current.readOnly) return;
    const text = this.compare();
    if (text == null) return;
    try {
      localStorage.setItem(PENDING_COMPARE_KEY, JSON.stringify({ caseId: this.current.id, captured: Date.now(), text }));
    } catch { /* too big for localStorage: IndexedDB only */ }
    this.scheduleCompareSave();
  }

  // Waits for every write started so far.
  async settle() {
    if (this.copying) await this.copying;
    await this.lastSave;
    await this.pollView();
  }

  // ---- images ------------------------------------------------------------------------

  // Before loader.js opens a file: starts a case when none (or the demo) is
  // open and the file is an image (a broken file leaves the demo shown);
  // -> {name, index, hash} (index >= 0: the case already has these bytes).
  async beforeOpen(name, bytes) {
    const hash = await sha256Hex(bytes);
    if ((!this.current || this.current.readOnly) && !this.ui.canDecode(bytes)) return { hash: null, name, index: -1 };
    await this.ensureCase();
    const same = this.images.find((i) => i.hash === hash);
    if (same) {
      const st = JSON.parse(this.str(this.M._es_app_state_json()));
      return { hash, name: same.name, index: st.images.findIndex((i) => i.name === same.name) };
    }
    return { hash, name: uniqueName(name, new Set(this.images.map((i) => i.name))), index: -1 };
  }

  // A writable case to open images into: a new one over the demo or nothing.
  async ensureCase() {
    if (!this.current || this.current.readOnly) await this.newCase();
  }

  // After the core opened it (loader.js): stored in the current case.
  imageOpened(name, bytes, hash) {
    this.imageBytes.set(name, bytes);
    if (!this.current || this.current.readOnly) return;  // the demo's own images
    if (!hash) return;
    this.images.push({ hash, name });
    const id = this.current.id;
    this.saving = this.saving.then(async () => {
      try {
        await this.store.addImage(id, hash, name, bytes);
        this.pushCases();
      } catch (e) {
        this.saveFailed(e);
      }
    });
    this.changeSeq++;
    this.scheduleSave();
  }

  // ---- cases -------------------------------------------------------------------------

  async pushCases() {
    let cases = [];
    try { cases = this.store ? await this.store.listCases() : []; } catch { cases = []; }
    const cur = this.current;
    const json = {
      current: cur ? { id: cur.id, name: cur.name, read_only: cur.readOnly } : null,
      cases: cases.map((c) => ({ id: c.id, name: c.name, images: c.images.length, modified: stamp(c.modified) })),
      storage: this.persistence,
    };
    this.M.ccall('es_app_set_cases', null, ['string'], [JSON.stringify(json)]);
    return cases;
  }

  // A new empty case becomes the current one (the open images close).
  async newCase(name = `Case ${stamp(Date.now())}`) {
    await this.settle();
    if (!this.store) throw new Error('this browser cannot store cases');
    const rec = await this.store.createCase(name);
    this.M._es_app_close_case();
    if (this.M._es_report_clear) this.M._es_report_clear();
    if (this.M._es_compare_clear) this.M._es_compare_clear();
    this.imageBytes.clear();
    if (this.ui.caseClosed) this.ui.caseClosed();
    this.current = { id: rec.id, name: rec.name, readOnly: false };
    this.images = [];
    this.lastView = null;
    await this.store.setLastCaseId(rec.id);
    await this.pushCases();
    this.ui.status(`New case "${rec.name}", ${this.storageWords()}`);
    return rec;
  }

  // The first change to the read-only demo: the demo with that change becomes a
  // new case (the demo itself is never written).
  copyDemo() {
    if (this.copying) return this.copying;
    this.copying = (async () => {
      const st = JSON.parse(this.str(this.M._es_app_state_json()));
      const images = [];
      for (const img of st.images) {
        const bytes = this.imageBytes.get(img.name);
        if (bytes) images.push({ hash: await sha256Hex(bytes), name: img.name, bytes });
      }
      const name = `Demo copy ${stamp(Date.now())}`;
      const report = this.reportRecord();
      const reportSeq = this.reportSeq;
      const compare = this.compareRecord();
      const compareSeq = this.compareSeq;
      const rec = await this.store.createCaseWith(name, images, this.document(), this.history(), report, { compareText: compare });
      if (report) this.reportSavedSeq = Math.max(this.reportSavedSeq, reportSeq);
      this.compareSavedSeq = Math.max(this.compareSavedSeq, compareSeq);
      this.current = { id: rec.id, name, readOnly: false };
      this.images = images.map(({ hash, name: n }) => ({ hash, name: n }));
      await this.store.setLastCaseId(rec.id);
      this.ui.notice(`The demo case is read-only, so your change was saved in a new case, "${name}" (Case menu: rename it, or open the demo again).`);
      await this.pushCases();
    })().catch((e) => {
      this.saveFailed(e);
    }).finally(() => { this.copying = null; });
    return this.copying;
  }

  async action(name, arg) {
    try {
      switch (name) {
        case 'new': await this.newCase(); break;
        case 'switch': await this.switchTo(arg); break;
        case 'rename': await this.rename(arg); break;
        case 'delete': await this.deleteCase(arg); break;
        case 'open_demo': await this.switchTo(DEMO_ID); break;
        case 'export_bundle': await this.exportBundle(); break;
        case 'export_coco': download(`${fileSafeName(this.current?.name)}-coco.json`, this.str(this.M._es_annotation_export_coco()), 'application/json'); break;
        default: console.warn('unknown case action', name);
      }
    } catch (e) {
      this.ui.error(`${e.message}`);
    }
  }

  // Other cases open by reloading the page: the start-up path is the one restore.
  async switchTo(id) {
    await this.settle();
    await this.store.setLastCaseId(id);
    location.reload();
  }

  async rename(name) {
    name = String(name || '').trim().slice(0, 120);
    if (!name || !this.current || this.current.readOnly) return;
    await this.store.renameCase(this.current.id, name);
    this.current.name = name;
    await this.pushCases();
  }

  async deleteCase(id) {
    if (!id || id === DEMO_ID) return;
    await this.settle();
    await this.store.deleteCase(id);
    try {
      for (const key of await conversationStore.rawKeys()) if (String(key).startsWith(id + '|')) await conversationStore.rawRemove(key);
    } catch { /* conversations are best effort */ }
    if (this.current && this.current.id === id) {
      const rest = await this.store.listCases();
      // Nothing saved any more: the demo case (the start-up rule).
      await this.store.setLastCaseId(rest.length ? rest[0].id : null);
      this.current = null;
      location.reload();
      return;
    }
    await this.pushCases();
  }

  async exportBundle() {
    await this.settle();
    let images;
    if (!this.current || this.current.readOnly) {
      const st = JSON.parse(this.str(this.M._es_app_state_json()));
      images = st.images.map((i) => ({ name: i.name, bytes: this.imageBytes.get(i.name) })).filter((i) => i.bytes);
    } else {
      const saved = await this.store.loadCase(this.current.id);
      images = saved ? saved.images : [];
    }
    if (!images.length) throw new Error('The case has no images, so there is nothing to export yet.');
    const report = this.reportEmpty() ? null : this.report();
    const traces = this.current && !this.current.readOnly ? await this.store.listAgentTraces(this.current.id) : [];
    download(`${fileSafeName(this.current?.name)}.endoscribe.json`, writeBundle(this.document(), images, report, traces), 'application/json');
  }

  // A bundle opens as a new case named after it. A report that does not pass
  // checkReport (a message naming the field) is left out; the images and
  // annotations still open (the bundle file itself is unchanged).
  async importBundle(file, checkDocument, checkImage, checkReport = null) {
    const { documentText, images, reportText, agentTraces } = readBundle(await file.text());
    checkDocument(documentText);
    for (const img of images) checkImage(img);
    let report = null, reportProblem = null;
    if (reportText != null) {
      await reportVocabularyLoaded(this.M);
      reportProblem = (checkReport || ((t) => this.checkReport(t)))(reportText);
      if (!reportProblem) report = { text: reportText, history: null };
    }
    if (!this.store) throw new Error('this browser cannot store the case');
    await this.settle();
    const withHash = [];
    for (const img of images) withHash.push({ hash: await sha256Hex(img.bytes), name: img.name, bytes: img.bytes });
    const name = file.name.replace(/\.endoscribe\.json$|\.json$/i, '') || 'Imported case';
    const rec = await this.store.createCaseWith(name, withHash, documentText, null, report, { agentTraces });
    await this.store.setLastCaseId(rec.id);
    if (reportProblem) {
      // Said after the reload that opens the case (restore()).
      try {
        sessionStorage.setItem(IMPORT_MESSAGE_KEY, JSON.stringify({
          text: `The report in "${file.name}" was not opened (${reportProblem}). ` +
            'The case\'s images and annotations were opened without it; the bundle file is unchanged.',
          details: reportProblem,
        }));
      } catch { /* the message is lost, the case is not */ }
    }
    location.reload();
  }

  // ---- the case agent's traces (web/agent/app_agent.js) ----------------------------------

  // Saves one run's trace with the open case (a run on the read-only demo
  // case is a change to it: the demo is copied into a new case first).
  async saveAgentTrace(rec) {
    if (!this.store) throw new Error('this browser cannot store cases');
    if (!this.current || this.current.readOnly) await this.copyDemo();
    if (!this.current || this.current.readOnly) throw new Error('the demo case could not be copied into a new case');
    await this.store.putAgentTrace(this.current.id, rec);
  }

  // The open case's traces, newest first ([] for the demo case).
  async agentTraces() {
    if (!this.store || !this.current || this.current.readOnly) return [];
    return this.store.listAgentTraces(this.current.id);
  }

  // null when the app reads the report text, else the reader's message (naming the field).
  checkReport(text) {
    const M = this.M;
    if (!M._es_report_check_document) return null;
    if (M.ccall('es_report_check_document', 'number', ['string'], [text])) return null;
    return this.str(M._es_report_last_error()) || 'the report is not valid';
  }

  // Conversations are kept per case and image bytes: "<case name>|<image
  // name>|<w>x<h>" (the assistant's key) -> "<case id>|<hash>|<w>x<h>".
  conversationKey(key) {
    const cur = this.current;
    if (!cur || typeof key !== 'string' || !key.startsWith(cur.name + '|')) return key;
    const rest = key.slice(cur.name.length + 1);
    const bar = rest.lastIndexOf('|');
    const imageName = bar >= 0 ? rest.slice(0, bar) : rest;
    const size = bar >= 0 ? rest.slice(bar + 1) : '';
    const img = this.images.find((i) => i.name === imageName);
    return `${cur.id}|${img ? img.hash : imageName}|${size}`;
  }
}
