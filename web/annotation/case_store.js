// case_store.js: the user's cases in IndexedDB (database "endoscribe-case"),
// so a reload, a crash or a closed tab loses nothing. Version 2 stores:
//   cases      {id, name, created, modified, images: [{hash, name}]}, key id;
//              images in case order; name = the file name shown (unique in
//              the case); modified = when the saved document was captured
//   blobs      {hash, bytes}, key hash: each image's bytes once (SHA-256 of
//              the bytes, hex), shared by the cases that hold it
//   documents  key case id: {text (es_annotation_document: case.json, COCO with
//              our extra fields, the user's label sets), history
//              (es_annotation_history: undo/redo steps), captured (ms)}
//   views      key case id: es_app_view_state() (current image, zoom, levels)
//   reports    key case id: {text (es_report_document: the report's JSON, the
//              bundle's "report"), history (es_report_history: its undo
//              steps), captured (ms)}; written after every edit of the report
//   compare    key case id: {text (es_compare_work: the Compare tab's model
//              outputs per image and annotator B, src/case/compare_work.h),
//              captured (ms)}; written after every change of either
//   meta       "lastCaseId": the case open last ("demo" when the user opened
//              the demo case on purpose)
//   agent_traces  key "<case id>|<trace id>": {caseId, id, image, question,
//              when (ms), jsonl}: the case agent's runs (web/agent/app_agent.js),
//              written after every step; the bundle's "agent_traces"
// Version 3 added "reports", version 4 "compare" and "agent_traces" (an older
// database gains the stores, nothing else changes).
// Version 1 kept one case (stores "images" keyed by file name, "document");
// migrateV1() turns it into a case named "Case restored from the previous
// version". Every write is its own transaction; a full disk rejects with
// StorageFullError and a message that says what to do.
const DB_NAME = 'endoscribe-case';
const DB_VERSION = 4;

export const STORAGE_FULL_MESSAGE = "This browser's storage for EndoScribe is full: the last change is NOT saved. " +
  'Export the case now, then delete old cases (Case > Delete) to free space.';

export class StorageFullError extends Error {
  constructor() { super(STORAGE_FULL_MESSAGE); this.name = 'StorageFullError'; }
}

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function isQuota(e) {
  return !!e && (e.name === 'QuotaExceededError' || (e.inner && e.inner.name === 'QuotaExceededError'));
}

export async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Every key of a case's traces: "<case id>|..." (ids hold no "|").
function traceRange(caseId) {
  return IDBKeyRange.bound(`${caseId}|`, `${caseId}|\uffff`);
}

function newId() {
  return 'c' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
}

export class CaseStore {
  static async open() {
    if (!('indexedDB' in globalThis)) throw new Error('this browser has no IndexedDB: work cannot be saved');
    const open = indexedDB.open(DB_NAME, DB_VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      for (const [name, opts] of [['cases', { keyPath: 'id' }], ['blobs', { keyPath: 'hash' }], ['documents'], ['views'], ['meta'], ['reports'], ['compare'], ['agent_traces']]) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, opts);
      }
    };
    open.onblocked = () => console.warn('case store upgrade waits for another EndoScribe tab to close');
    const db = await request(open);
    // Another tab upgrading later: let it (this tab's writes then fail loudly).
    db.onversionchange = () => db.close();
    return new CaseStore(db);
  }

  constructor(db) { this.db = db; }

  async write(stores, what, fn) {
    const tx = this.db.transaction(stores, 'readwrite', { durability: 'strict' });
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
      tx.onerror = () => reject(tx.error);
    });
    done.catch(() => {});
    try {
      const result = await fn(tx);
      await done;
      return result;
    } catch (e) {
      try { tx.abort(); } catch { /* already finished */ }
      if (isQuota(e)) throw new StorageFullError();
      throw new Error(`Could not save ${what}: ${(e && e.message) || (e && e.name) || e}`);
    }
  }

  async read(stores, fn) {
    const tx = this.db.transaction(stores, 'readonly');
    return fn(tx);
  }

  // ---- cases -------------------------------------------------------------------

  // Saved cases, most recently changed first.
  async listCases() {
    const all = await this.read(['cases'], (tx) => request(tx.objectStore('cases').getAll()));
    return all.sort((a, b) => b.modified - a.modified);
  }

  getCase(id) {
    return this.read(['cases'], (tx) => request(tx.objectStore('cases').get(id))).then((r) => r ?? null);
  }

  async createCase(name) {
    const now = Date.now();
    const rec = { id: newId(), name, created: now, modified: now, images: [] };
    await this.write(['cases'], `the new case "${name}"`, (tx) => { tx.objectStore('cases').put(rec); });
    return rec;
  }

  // A case with its images, document, report, Compare work and agent traces
  // in one transaction (bundle import, a copy of the demo case). images:
  // [{hash, name, bytes}]; report: {text, history} | null; compareText:
  // string | null; agentTraces: [{id, image, question, when, jsonl}].
  async createCaseWith(name, images, documentText, historyText = null, report = null, { compareText = null, agentTraces = [] } = {}) {
    const now = Date.now();
    const rec = { id: newId(), name, created: now, modified: now, images: images.map(({ hash, name: n }) => ({ hash, name: n })) };
    await this.write(['cases', 'blobs', 'documents', 'reports', 'compare', 'agent_traces'], `the case "${name}"`, (tx) => {
      for (const img of images) tx.objectStore('blobs').put({ hash: img.hash, bytes: img.bytes });
      for (const t of agentTraces) tx.objectStore('agent_traces').put({ ...t, caseId: rec.id }, `${rec.id}|${t.id}`);
      tx.objectStore('cases').put(rec);
      if (documentText != null) tx.objectStore('documents').put({ text: documentText, history: historyText, captured: now }, rec.id);
      if (report && report.text != null) tx.objectStore('reports').put({ text: report.text, history: report.history ?? null, captured: now }, rec.id);
      if (compareText != null) tx.objectStore('compare').put({ text: compareText, captured: now }, rec.id);
    });
    return rec;
  }

  renameCase(id, name) {
    return this.write(['cases'], 'the new name', async (tx) => {
      const rec = await request(tx.objectStore('cases').get(id));
      if (!rec) throw new Error('the case no longer exists');
      rec.name = name;
      tx.objectStore('cases').put(rec);
    });
  }

  // Removes the case, its document, view and the bytes of images no other case holds.
  deleteCase(id) {
    return this.write(['cases', 'blobs', 'documents', 'views', 'reports', 'compare', 'agent_traces'], 'the deletion', async (tx) => {
      const cases = tx.objectStore('cases');
      const all = await request(cases.getAll());
      const gone = all.find((c) => c.id === id);
      if (!gone) return;
      const kept = new Set(all.filter((c) => c.id !== id).flatMap((c) => c.images.map((i) => i.hash)));
      for (const img of gone.images) if (!kept.has(img.hash)) tx.objectStore('blobs').delete(img.hash);
      cases.delete(id);
      tx.objectStore('documents').delete(id);
      tx.objectStore('views').delete(id);
      tx.objectStore('reports').delete(id);
      tx.objectStore('compare').delete(id);
      tx.objectStore('agent_traces').delete(traceRange(id));
    });
  }

  // Adds an image to the case (its bytes once per hash). Returns false when the
  // case already holds these bytes.
  addImage(caseId, hash, name, bytes) {
    return this.write(['cases', 'blobs'], `the image "${name}"`, async (tx) => {
      const rec = await request(tx.objectStore('cases').get(caseId));
      if (!rec) throw new Error('the case no longer exists');
      if (rec.images.some((i) => i.hash === hash)) return false;
      const have = await request(tx.objectStore('blobs').getKey(hash));
      if (have === undefined) tx.objectStore('blobs').put({ hash, bytes });
      rec.images.push({ hash, name });
      tx.objectStore('cases').put(rec);
      return true;
    });
  }

  // The annotation document and undo history, captured at `captured` (ms).
  putDocument(caseId, text, history, captured) {
    return this.write(['cases', 'documents'], 'the annotations', async (tx) => {
      const rec = await request(tx.objectStore('cases').get(caseId));
      if (!rec) throw new Error('the case no longer exists');
      rec.modified = captured;
      tx.objectStore('cases').put(rec);
      tx.objectStore('documents').put({ text, history, captured }, caseId);
    });
  }

  // The report and its undo history, captured at `captured` (ms).
  putReport(caseId, text, history, captured) {
    return this.write(['cases', 'reports'], 'the report', async (tx) => {
      const rec = await request(tx.objectStore('cases').get(caseId));
      if (!rec) throw new Error('the case no longer exists');
      rec.modified = Math.max(rec.modified, captured);
      tx.objectStore('cases').put(rec);
      tx.objectStore('reports').put({ text, history, captured }, caseId);
    });
  }

  getReport(caseId) {
    return this.read(['reports'], (tx) => request(tx.objectStore('reports').get(caseId))).then((r) => r ?? null);
  }

  // The Compare tab's work (es_compare_work), captured at `captured` (ms).
  putCompare(caseId, text, captured) {
    return this.write(['cases', 'compare'], "the Compare tab's work", async (tx) => {
      const rec = await request(tx.objectStore('cases').get(caseId));
      if (!rec) throw new Error('the case no longer exists');
      tx.objectStore('compare').put({ text, captured }, caseId);
    });
  }

  getCompare(caseId) {
    return this.read(['compare'], (tx) => request(tx.objectStore('compare').get(caseId))).then((r) => r ?? null);
  }

  putView(caseId, view) {
    return this.write(['views'], 'the view', (tx) => { tx.objectStore('views').put(view, caseId); });
  }

  // {case, images: [{hash, name, bytes}], document: {text, history, captured} | null,
  //  report: {text, history, captured} | null, compare: {text, captured} | null, view | null}
  async loadCase(id) {
    return this.read(['cases', 'blobs', 'documents', 'views', 'reports', 'compare'], async (tx) => {
      const rec = await request(tx.objectStore('cases').get(id));
      if (!rec) return null;
      const [blobs, document, view, report, compare] = await Promise.all([
        Promise.all(rec.images.map((i) => request(tx.objectStore('blobs').get(i.hash)))),
        request(tx.objectStore('documents').get(id)),
        request(tx.objectStore('views').get(id)),
        request(tx.objectStore('reports').get(id)),
        request(tx.objectStore('compare').get(id)),
      ]);
      const images = [];
      rec.images.forEach((img, k) => { if (blobs[k]) images.push({ hash: img.hash, name: img.name, bytes: blobs[k].bytes }); });
      return { case: rec, images, document: document ?? null, report: report ?? null, compare: compare ?? null,
        view: view ?? null, missing: rec.images.length - images.length };
    });
  }

  // ---- the case agent's traces -------------------------------------------------------

  // One run's trace (rewritten after each of its steps).
  putAgentTrace(caseId, rec) {
    return this.write(['agent_traces'], 'the agent\'s trace', (tx) => {
      tx.objectStore('agent_traces').put({ ...rec, caseId }, `${caseId}|${rec.id}`);
    });
  }

  // The case's traces, newest first.
  async listAgentTraces(caseId) {
    const all = await this.read(['agent_traces'], (tx) => request(tx.objectStore('agent_traces').getAll(traceRange(caseId))));
    return all.sort((a, b) => b.when - a.when);
  }

  // ---- meta --------------------------------------------------------------------

  getLastCaseId() {
    return this.read(['meta'], (tx) => request(tx.objectStore('meta').get('lastCaseId'))).then((r) => r ?? null);
  }

  setLastCaseId(id) {
    return this.write(['meta'], 'the open case', (tx) => { tx.objectStore('meta').put(id, 'lastCaseId'); });
  }

  // ---- version 1 -----------------------------------------------------------------

  // The single case version 1 kept becomes a named case; returns its id or null.
  async migrateV1() {
    const names = this.db.objectStoreNames;
    if (!names.contains('images') || !names.contains('document')) return null;
    const { images, document } = await this.read(['images', 'document'], async (tx) => ({
      images: await request(tx.objectStore('images').getAll()),
      document: await request(tx.objectStore('document').get('current')),
    }));
    if (!images.length && !document) return null;
    images.sort((a, b) => a.order - b.order);
    const withHash = [];
    for (const img of images) withHash.push({ hash: await sha256Hex(img.bytes), name: img.name, bytes: img.bytes });
    const rec = await this.createCaseWith('Case restored from the previous version', withHash, document ?? null);
    await this.write(['images', 'document'], 'the migration', (tx) => {
      tx.objectStore('images').clear();
      tx.objectStore('document').clear();
    });
    return rec.id;
  }
}
