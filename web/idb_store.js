// idb_store.js: one IndexedDB object store (database version 1, the store made
// on first open) opened for each transaction and closed after it, so this page
// never holds a connection that would block another tab or an upgrade.
// Nothing leaves the browser.

// Returns tx(mode, fn): fn(objectStore) makes one request; tx resolves to its
// result once the transaction has completed (a write is then stored).
// durability: IndexedDB's transaction hint ('strict' for what must survive a
// crash); blocked: the message when another tab's connection blocks the open.
export function storeTransactions(dbName, storeName, { durability = 'default', blocked = null } = {}) {
  const open = () => new Promise((resolve, reject) => {
    if (!('indexedDB' in globalThis)) { reject(new Error('this browser has no IndexedDB')); return; }
    const req = indexedDB.open(dbName, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(storeName);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    if (blocked) req.onblocked = () => reject(new Error(blocked));
  });
  return async (mode, fn) => {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const t = db.transaction(storeName, mode, { durability });
        const req = fn(t.objectStore(storeName));
        t.oncomplete = () => resolve(req?.result);
        t.onerror = () => reject(t.error);
        t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
      });
    } finally {
      db.close();
    }
  };
}
