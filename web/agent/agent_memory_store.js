// agent_memory_store.js: the case agent's long-term memory in this browser
// (IndexedDB database "endoscribe-agent", store "settings", key "memory"): the
// memory's JSON text as the core writes it (src/agent/agent_memory.h). It is
// the user's, not a case's: it outlives cases and reloads, like the other
// settings kept in this browser. A saved memory the app cannot read is kept
// aside ("memory.unreadable.<ms>") rather than overwritten. Nothing leaves the
// browser.

import { storeTransactions } from '../idb_store.js';

const DB = 'endoscribe-agent';
const STORE = 'settings';
const KEY = 'memory';

const tx = storeTransactions(DB, STORE, { durability: 'strict', blocked: 'another EndoScribe tab holds the agent\'s storage open' });

export const memoryStore = {
  // The saved memory's JSON text, or null when none was saved.
  get: () => tx('readonly', (s) => s.get(KEY)).then((r) => (typeof r?.text === 'string' ? r.text : null)),
  put: (text) => tx('readwrite', (s) => s.put({ text, saved: Date.now() }, KEY)),
  // A memory text the app could not (wholly) read, kept aside before it is replaced.
  putBackup: (text) => tx('readwrite', (s) => s.put({ text, saved: Date.now() }, `${KEY}.unreadable.${Date.now()}`)),
};
