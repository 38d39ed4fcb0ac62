// conversation_store.js: conversations saved with the case, in IndexedDB
// (database 'endoscribe-assistant', store 'conversations'). The assistant
// names a conversation "<case>|<image name>|<width>x<height>"; the case
// session (web/annotation/case_session.js) turns that into the stored key
// "<case id>|<image SHA-256>|<width>x<height>", so a renamed case or a
// renamed file keeps its conversations. A record holds the core's saved chat
// (Chat.save(), token-exact), the turns as shown, the boxes the user accepted
// as annotations and, for a chat about a cropped region, the crop rectangle.
// Nothing leaves the browser.

import { storeTransactions } from '../idb_store.js';

const DB = 'endoscribe-assistant';
const STORE = 'conversations';
let scope = (key) => key;

// fn(assistant key) -> stored key (set once by the case session).
export function setConversationScope(fn) { scope = fn; }

const tx = storeTransactions(DB, STORE);

export const conversationStore = {
  get: (key) => tx('readonly', (s) => s.get(scope(key))).then((r) => r ?? null),
  put: (key, record) => tx('readwrite', (s) => s.put({ ...record, savedAt: Date.now() }, scope(key))),
  remove: (key) => tx('readwrite', (s) => s.delete(scope(key))),
  keys: () => tx('readonly', (s) => s.getAllKeys()),
  // Stored keys as they are (deleting a case's conversations).
  rawKeys: () => tx('readonly', (s) => s.getAllKeys()),
  rawRemove: (key) => tx('readwrite', (s) => s.delete(key)),
};
