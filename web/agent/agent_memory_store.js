// agent_memory_store.js: the case agent's long-term memory in this browser
// (IndexedDB database "endoscribe-agent", store "settings", key "memory"): the
// memory's JSON text as the core writes it (src/agent/agent_memory.h). It is
// the user's, not a case's: it outlives cases and reloads, like the other
// settings kept in this browser. A saved memory the app cannot read is kept
// aside ("memory.unreadable.<ms>") rather than overwritten. Nothing leaves the
// browser.

const DB = 'endoscribe-agent';
const STORE = 'settings';
const KEY = 'memory';

function open() {
  return new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) { reject(new Error('this browser has no IndexedDB')); return; }
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('another EndoScribe tab holds the agent\'s storage open'));
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode, { durability: 'strict' });
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req?.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const memoryStore = {
  // The saved memory's JSON text, or null when none was saved.
  get: () => tx('readonly', (s) => s.get(KEY)).then((r) => (typeof r?.text === 'string' ? r.text : null)),
  put: (text) => tx('readwrite', (s) => s.put({ text, saved: Date.now() }, KEY)),
  // A memory text the app could not (wholly) read, kept aside before it is replaced.
  putBackup: (text) => tx('readwrite', (s) => s.put({ text, saved: Date.now() }, `${KEY}.unreadable.${Date.now()}`)),
};
