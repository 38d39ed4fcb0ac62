// sw.js: the service worker. It keeps a copy of the app so the app starts
// with the network off after the first visit. Strategy: network first (always
// the fresh build when online), the cached copy when the network fails.
// The build (ui/make_service_worker.cmake) fills in SHELL with every file of
// the built app folder, demo case included, and CACHE with a content hash.
'use strict';
const CACHE = 'endoscribe-dev';
const SHELL = ['./', 'index.html', 'loader.js', 'style.css', 'endoscribe.js', 'endoscribe.wasm'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))
      // Best effort: a plain static server has no /api/config.
      .then(() => cache.add(new Request('api/config', { cache: 'reload' })).catch(() => {})))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('endoscribe-') && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Only this origin's GETs. /api/ answers are live data, never cached, except
  // /api/config (the allowed model hosts), which the page needs offline too.
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') && url.pathname !== '/api/config') return;
  // Model files go through the model manager's own cache (OPFS), with Range
  // requests for resuming: not duplicated here (a 206 cannot be cached anyway).
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
