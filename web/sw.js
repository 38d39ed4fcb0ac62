// sw.js: the service worker. It keeps a copy of the app so the app starts
// with the network off after the first visit, and the Segment tool's model so
// Segment works offline too. Strategy for the app: network first (always the
// fresh build when online), the cached copy when the network fails.
// The build (ui/make_service_worker.cmake) fills in SHELL with every file of
// the built app folder, demo case included, and CACHE with a content hash;
// SAM_MODEL with the built-in SAM model's files and SAM_CACHE with their hash
// (a cache of its own, so a new build with the same model does not download
// its 44 MB again).
'use strict';
const CACHE = 'endoscribe-dev';
const SHELL = ['./', 'index.html', 'loader.js', 'style.css', 'endoscribe.js', 'endoscribe.wasm'];
const SAM_CACHE = 'endoscribe-sam-dev';
const SAM_MODEL = [];
// SAM models opened from another folder or URL (Models tab, ?sam=): cached on
// first use, the last folder only (each is tens of MB).
const SAM_URL_CACHE = 'endoscribe-sam-url';
const SAM_FILE = /\/(encoder|sam|decoder)\.onnx$/;

async function precacheSam() {
  const cache = await caches.open(SAM_CACHE);
  for (const url of SAM_MODEL) {
    if (await cache.match(url)) continue;
    const response = await fetch(new Request(url, { cache: 'reload' }));
    if (response.ok) await cache.put(url, response);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))
      // Best effort: a plain static server has no /api/config.
      .then(() => cache.add(new Request('api/config', { cache: 'reload' })).catch(() => {})))
    // Best effort too: if it fails, the model is cached when Segment first loads it.
    .then(() => precacheSam().catch(() => {}))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  const keep = [CACHE, SAM_CACHE, SAM_URL_CACHE];
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('endoscribe-') && !keep.includes(k))
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The built-in model: cache first (the cache name changes with its content).
async function samBuiltIn(request) {
  const cache = await caches.open(SAM_CACHE);
  const hit = await cache.match(request.url);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.status === 200) await cache.put(request.url, response.clone());
  return response;
}

// Another SAM model: network first, the cached copy offline.
async function samOther(request) {
  const cache = await caches.open(SAM_URL_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200 && (response.type === 'basic' || response.type === 'cors')) {
      const folder = request.url.replace(/[^/]*$/, '');
      for (const old of await cache.keys()) if (!old.url.startsWith(folder)) await cache.delete(old);
      await cache.put(request.url, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await cache.match(request.url);
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET') return;
  // SAM model files (this origin or a model host), whole-file reads only: a
  // resumed download (Range) goes to the network as it is.
  if (SAM_FILE.test(url.pathname) && !request.headers.has('range')) {
    const builtIn = url.origin === self.location.origin &&
      SAM_MODEL.some((f) => new URL(f, self.registration.scope).href === url.href);
    event.respondWith(builtIn ? samBuiltIn(request) : samOther(request));
    return;
  }
  // Otherwise only this origin's GETs. /api/ answers are live data, never
  // cached, except /api/config (the allowed model hosts), needed offline too.
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') && url.pathname !== '/api/config') return;
  // Assistant model packages go through the model manager's own cache (OPFS),
  // with Range requests for resuming: not duplicated here (a 206 cannot be cached anyway).
  if (url.pathname.includes('/models/')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') cache.put(request, response.clone());
      return response;
    } catch (err) {
      const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
      if (cached) return cached;
      if (request.mode === 'navigate') {
        const shell = await cache.match('./');
        if (shell) return shell;
      }
      throw err;
    }
  })());
});
