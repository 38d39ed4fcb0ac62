// settings.js: where each kind of work runs, remembered in this browser
// (localStorage) across reloads: the server's address, the model picked on
// it (and whether it is endoscribe-server, as the last check found), and
// per task "browser" or "server". Tasks: chat (the assistant's
// answers), classify, segment (the Segment tool), draft (report drafting).

const KEY = 'endoscribe.remote.settings';
export const TASKS = ['chat', 'classify', 'segment', 'draft'];

export function defaultSettings() {
  return { address: '', model: '', endoscribe: false, use: Object.fromEntries(TASKS.map((t) => [t, 'browser'])) };
}

export function loadSettings(storage = globalThis.localStorage) {
  const s = defaultSettings();
  try {
    const saved = JSON.parse(storage.getItem(KEY) || 'null');
    if (saved && typeof saved === 'object') {
      if (typeof saved.address === 'string') s.address = saved.address;
      if (typeof saved.model === 'string') s.model = saved.model;
      s.endoscribe = saved.endoscribe === true;
      for (const t of TASKS) if (saved.use?.[t] === 'server') s.use[t] = 'server';
    }
  } catch { /* unreadable: defaults */ }
  return s;
}

export function saveSettings(settings, storage = globalThis.localStorage) {
  try {
    storage.setItem(KEY, JSON.stringify({ address: settings.address, model: settings.model, endoscribe: !!settings.endoscribe, use: settings.use }));
    return true;
  } catch { return false; }  // private mode / full storage: kept for this page only
}
