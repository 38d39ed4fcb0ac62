// sources.js: where package files come from. A source has
// `read(path) -> Promise<Uint8Array>`.
//   folderSource(readFile)      any async (relativePath) -> bytes function (Node fs, a picked folder)
//   urlSource(base, options)    HTTP(S) with progress, resume after a dropped connection, allowed hosts
//   cachedSource(inner, cache)  read-through cache (see opfs_cache.js)

export function folderSource(readFile) {
  return { kind: 'folder', read: async (p) => new Uint8Array(await readFile(p)) };
}

// A folder the user picked in the browser (<input webkitdirectory> FileList or
// a FileSystemDirectoryHandle).
export function pickedFolderSource(filesOrHandle) {
  if (typeof filesOrHandle?.getDirectoryHandle === 'function') {
    return folderSource(async (p) => {
      let dir = filesOrHandle;
      const parts = p.split('/');
      for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part);
      const file = await (await dir.getFileHandle(parts.at(-1))).getFile();
      return new Uint8Array(await file.arrayBuffer());
    });
  }
  const byPath = new Map();
  for (const f of filesOrHandle) {
    const rel = (f.webkitRelativePath || f.name).split('/').slice(1).join('/') || f.name;
    byPath.set(rel, f);
  }
  return folderSource(async (p) => {
    const f = byPath.get(p);
    if (!f) throw new Error('not in the picked folder');
    return new Uint8Array(await f.arrayBuffer());
  });
}

export class HostNotAllowedError extends Error {
  constructor(message, host = null) {
    super(message);
    this.name = 'HostNotAllowedError';
    this.host = host;
  }
}

// onProgress({path, loaded, total, rate, eta}) is called as bytes arrive.
// allowedHosts: the hosts the server's config allows (CSP connect-src); others
// are refused with a message saying how to allow them.
export function urlSource(base, { fetchImpl = globalThis.fetch, onProgress = null, allowedHosts = null,
  maxRetries = 5 } = {}) {
  const baseUrl = new URL(base.endsWith('/') ? base : `${base}/`, globalThis.location?.href);
  if (allowedHosts && baseUrl.host !== globalThis.location?.host && !allowedHosts.includes(baseUrl.host))
    throw new HostNotAllowedError(`model host '${baseUrl.host}' is not allowed; add it to "model_hosts" in the server's config.json (it also goes into the page's Content-Security-Policy)`, baseUrl.host);
  return {
    kind: 'url',
    async read(path) {
      const url = new URL(path, baseUrl);
      const chunks = [];
      let loaded = 0, total = null, tries = 0;
      const start = Date.now();
      for (;;) {
        try {
          const headers = loaded ? { Range: `bytes=${loaded}-` } : {};
          const res = await fetchImpl(url, { headers });
          if (res.status === 404) throw Object.assign(new Error('404 not found'), { fatal: true });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          if (loaded && res.status !== 206) { chunks.length = 0; loaded = 0; }  // server ignored Range
          const len = Number(res.headers.get('content-length'));
          if (total === null && len) total = loaded + len;
          const reader = res.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            chunks.push(value);
            loaded += value.byteLength;
            if (onProgress) {
              const rate = loaded / Math.max(1e-3, (Date.now() - start) / 1000);
              onProgress({ path, loaded, total, rate, eta: total ? (total - loaded) / rate : null });
            }
          }
          if (total !== null && loaded < total) throw new Error('connection closed early');
          break;
        } catch (e) {
          if (e.fatal || ++tries > maxRetries) throw e;
          await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** tries)));  // then resume
        }
      }
      const out = new Uint8Array(loaded);
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.byteLength; }
      return out;
    },
  };
}

// Reads from `cache` first; fills it from `inner` on a miss. The package layer
// still verifies every file: a corrupt cache entry is evicted and downloaded
// again (once), with a notice naming it. cache: {get, put, removeFile}.
export function cachedSource(inner, cache, packageId) {
  return {
    kind: `cached-${inner.kind}`,
    hits: 0,
    misses: 0,
    async read(path) {
      const hit = await cache.get(packageId, path);
      if (hit) { this.hits++; return hit; }
      this.misses++;
      const bytes = await inner.read(path);
      await cache.put(packageId, path, bytes);
      return bytes;
    },
    // Drops a cached file (the package layer found it corrupt).
    async evict(path) {
      await cache.removeFile(packageId, path);
    },
  };
}
