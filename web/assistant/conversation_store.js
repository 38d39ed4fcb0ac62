// conversation_store.js: conversations saved with the case, in IndexedDB
// (database 'endoscribe-assistant', store 'conversations'), keyed by
// "<case>|<image name>|<width>x<height>". A record holds the core's saved chat
// (Chat.save(), token-exact), the turns as shown, and the boxes the user
// accepted as annotations. Nothing leaves the browser.

const DB = 'endoscribe-assistant';
const STORE = 'conversations';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req?.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const conversationStore = {
  get: (key) => tx('readonly', (s) => s.get(key)).then((r) => r ?? null),
  put: (key, record) => tx('readwrite', (s) => s.put({ ...record, savedAt: Date.now() }, key)),
  remove: (key) => tx('readwrite', (s) => s.delete(key)),
  keys: () => tx('readonly', (s) => s.getAllKeys()),
};
