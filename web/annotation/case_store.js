// case_store.js: the open case in IndexedDB, so a reload (or a crash) loses
// nothing. Two stores in database "endoscribe-case":
//   images    {name, order, bytes: Uint8Array (the file as opened)}, key name
//   document  key "current": the annotation document text the core writes
//             (es_annui_document: case.json, COCO with our extra fields,
//             the user's label sets)
// Every write is its own transaction; errors (QuotaExceededError above all)
// reject with a message that says what happened.
const DB_NAME = 'endoscribe-case';
const DB_VERSION = 1;

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function describe(e, what) {
  const name = e && e.name;
  if (name === 'QuotaExceededError') {
    return `Could not save ${what}: the browser's storage for this site is full. Free space (or allow more storage) ` +
      'and keep this tab open; your work so far is still on screen.';
  }
  return `Could not save ${what}: ${(e && e.message) || name || e}`;
}

export class CaseStore {
  static async open() {
    if (!('indexedDB' in globalThis)) throw new Error('this browser has no IndexedDB: work cannot be saved');
    const open = indexedDB.open(DB_NAME, DB_VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('images')) db.createObjectStore('images', { keyPath: 'name' });
      if (!db.objectStoreNames.contains('document')) db.createObjectStore('document');
    };
    return new CaseStore(await request(open));
  }

  constructor(db) { this.db = db; }

  async write(stores, what, fn) {
    const tx = this.db.transaction(stores, 'readwrite', { durability: 'strict' });
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
      tx.onerror = () => reject(tx.error);
    });
    try {
      fn(tx);
      await done;
    } catch (e) {
      try { tx.abort(); } catch { /* already finished */ }
      throw new Error(describe(e, what));
    }
  }

  putImage(name, bytes, order) {
    return this.write(['images'], `the image "${name}"`, (tx) => tx.objectStore('images').put({ name, order, bytes }));
  }

  putDocument(text) {
    return this.write(['document'], 'the annotations', (tx) => tx.objectStore('document').put(text, 'current'));
  }

  // Replaces everything (bundle import) in one transaction.
  replaceAll(images, documentText) {
    return this.write(['images', 'document'], 'the case', (tx) => {
      tx.objectStore('images').clear();
      tx.objectStore('document').clear();
      images.forEach((img, i) => tx.objectStore('images').put({ name: img.name, order: i, bytes: img.bytes }));
      tx.objectStore('document').put(documentText, 'current');
    });
  }

  clear() {
    return this.write(['images', 'document'], 'the case', (tx) => {
      tx.objectStore('images').clear();
      tx.objectStore('document').clear();
    });
  }

  // {images: [{name, order, bytes}] in order, document: text | null}
  async load() {
    const tx = this.db.transaction(['images', 'document'], 'readonly');
    const [images, document] = await Promise.all([
      request(tx.objectStore('images').getAll()),
      request(tx.objectStore('document').get('current')),
    ]);
    images.sort((a, b) => a.order - b.order);
    return { images, document: document ?? null };
  }
}
