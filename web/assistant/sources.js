// sources.js: where package files come from. A source has
// `read(path) -> Promise<Uint8Array>` (small files: configs, tokenizer, graphs);
// URL and cached sources also stream big files without holding them whole.
//   folderSource(readFile, disk) any async (relativePath) -> bytes function (Node fs, a picked folder);
//                               with disk (Node): graphs handed to onnxruntime-node as file paths
//   urlSource(base, options)    HTTP(S): progress, resume after a dropped connection (Range),
//                               allowed hosts, the Hugging Face token (hub.js rules)
//   cachedSource(inner, cache)  read-through cache (opfs_cache.js); blob(path) streams a
//                               big file into the cache, sha256 checked as it arrives
//
// Every path a manifest or config names is checked by checkPackagePath and
// resolved beneath the package's own URL (resolveBeneath): a package can never
// make the loader fetch from another host or outside its folder.

import { isTokenHost, GatedModelError } from './hub.js';
import { createSha256, sha256OfBlob } from './sha256.js';

export class UnsafePathError extends Error {
  constructor(path, why) {
    super(`unsafe file path ${JSON.stringify(String(path).slice(0, 200))}: ${why}; package files must be plain relative paths inside the package folder`);
    this.name = 'UnsafePathError';
    this.path = path;
    this.fatal = true;
  }
}

// A relative path inside a package: segments of visible characters separated
// by '/'. Refused: absolute URLs (any scheme), '/x' and '//host', '.' and '..'
// segments, empty segments, backslashes, control characters, '?' '#', and any
// '%' (so percent-encoded traversal such as %2e%2e or %2f cannot be smuggled).
export function checkPackagePath(path) {
  if (typeof path !== 'string' || path === '') throw new UnsafePathError(path, 'empty or not a string');
  if (path.length > 1024) throw new UnsafePathError(path, 'longer than 1024 characters');
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new UnsafePathError(path, 'control character');
  if (path.includes('\\')) throw new UnsafePathError(path, 'backslash');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) throw new UnsafePathError(path, 'absolute URL or drive letter');
  if (path.startsWith('/')) throw new UnsafePathError(path, path.startsWith('//') ? 'network-path reference (//host)' : 'absolute path');
  if (/[?#]/.test(path)) throw new UnsafePathError(path, 'query or fragment');
  if (path.includes('%')) throw new UnsafePathError(path, 'percent-encoding');
  for (const seg of path.split('/')) {
    if (seg === '') throw new UnsafePathError(path, 'empty segment');
    if (seg === '.' || seg === '..') throw new UnsafePathError(path, `'${seg}' segment`);
    // What URL parsers or file systems may still read as a dot segment.
    if (/^[.\s\u3002\uff0e]+$/u.test(seg)) throw new UnsafePathError(path, 'dot segment');
  }
  return path;
}

// The URL of `path` beneath `baseUrl` (a folder URL ending in '/'); throws when
// the result would leave it (checked again after URL parsing).
export function resolveBeneath(baseUrl, path) {
  checkPackagePath(path);
  const url = new URL(path.split('/').map(encodeURIComponent).join('/'), baseUrl);
  if (url.origin !== baseUrl.origin || !url.pathname.startsWith(baseUrl.pathname) || url.search || url.hash)
    throw new UnsafePathError(path, 'resolves outside the package URL');
  return url;
}

// disk (Node, a folder on disk): {localPath(p) -> absolute file path,
// size(p) -> bytes, sha256(p) -> hex, streamed}: the package then hands
// onnxruntime-node file paths instead of bytes (ModelPackage.graphOnDisk).
export function folderSource(readFile, disk = null) {
  const source = { kind: 'folder', read: async (p) => new Uint8Array(await readFile(checkPackagePath(p))) };
  if (disk) {
    source.localPath = (p) => disk.localPath(checkPackagePath(p));
    source.size = (p) => disk.size(checkPackagePath(p));
    source.sha256 = (p) => disk.sha256(checkPackagePath(p));
  }
  return source;
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
    this.fatal = true;
  }
}

const hostMessage = (host) => `model host '${host}' is not allowed; add it to "model_hosts" in the server's config.json (it also goes into the page's Content-Security-Policy)`;

// onProgress({path, loaded, total, rate, eta}) is called as bytes arrive.
// allowedHosts: the hosts the server's config allows (CSP connect-src); others
// are refused with a message saying how to allow them (checked for the package
// URL and, where the platform shows them, for every redirect).
// token: () => string|null, the Hugging Face token (hub.js); sent only to
// token hosts, as Authorization: Bearer.
export function urlSource(base, { fetchImpl = globalThis.fetch, onProgress = null, allowedHosts = null,
  maxRetries = 5, token = null, retryDelay = (tries) => Math.min(8000, 250 * 2 ** tries) } = {}) {
  const baseUrl = new URL(base.endsWith('/') ? base : `${base}/`, globalThis.location?.href);
  baseUrl.search = '';
  baseUrl.hash = '';
  const ownHost = globalThis.location?.host;
  // Whether this platform lets a script see a redirect (redirect:'manual' gives
  // the 3xx and its Location under Node/undici; a browser gives an opaque
  // response). Learned on the first redirect of a request that carries a token.
  let redirectsVisible = true;
  const allowed = (u) => !allowedHosts || u.host === ownHost || allowedHosts.includes(u.host);
  if (!allowed(baseUrl)) throw new HostNotAllowedError(hostMessage(baseUrl.host), baseUrl.host);

  // One GET, following redirects; the token rule is applied to each hop we see.
  async function request(url, headers, signal) {
    let current = url;
    for (let hop = 0; hop <= 10; hop++) {
      if (!allowed(current)) throw new HostNotAllowedError(hostMessage(current.host), current.host);
      const h = { ...headers };
      const secret = isTokenHost(current) ? token?.() : null;
      if (secret) h.Authorization = `Bearer ${secret}`;
      // Only a request carrying the token needs to see its redirects.
      const manual = !!secret && redirectsVisible;
      const res = await fetchImpl(current, { headers: h, redirect: manual ? 'manual' : 'follow', credentials: 'omit', signal });
      if (manual && res.type === 'opaqueredirect') {
        // A browser: it follows the redirect itself, and drops a script-set
        // Authorization header on any cross-origin hop (Fetch standard,
        // whatwg/fetch#1544); CSP connect-src bounds every hop.
        redirectsVisible = false;
        return request(current, headers, signal);
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        current = new URL(res.headers.get('location'), current);
        if (current.protocol !== 'https:' && url.protocol === 'https:')
          throw Object.assign(new Error(`redirected from https to ${current.protocol}`), { fatal: true });
        await res.body?.cancel?.().catch(() => {});
        continue;
      }
      if (res.url && !allowed(new URL(res.url))) {
        await res.body?.cancel?.().catch(() => {});
        throw new HostNotAllowedError(hostMessage(new URL(res.url).host), new URL(res.url).host);
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel?.().catch(() => {});
        if (isTokenHost(url)) throw new GatedModelError(res.status, url, !!token?.());
        throw Object.assign(new Error(`HTTP ${res.status} (access refused by ${current.host})`), { fatal: true });
      }
      if (res.status === 404) {
        await res.body?.cancel?.().catch(() => {});
        throw Object.assign(new Error('404 not found'), { fatal: true });
      }
      return res;
    }
    throw Object.assign(new Error('too many redirects'), { fatal: true });
  }

  // Streams `path` into sink {size() -> bytes it holds, write(chunk), restart()}:
  // asks for the rest with a Range request from what the sink already holds
  // (after a dropped connection, or a download cut off earlier); a server that
  // ignores Range (200 instead of 206) restarts the sink cleanly.
  async function download(path, sink, { signal } = {}) {
    const url = resolveBeneath(baseUrl, path);
    let total = null, tries = 0;
    const start = Date.now();
    let startBytes = await sink.size();
    for (;;) {
      let have = await sink.size();
      const before = have;
      try {
        const headers = have ? { Range: `bytes=${have}-` } : {};
        const res = await request(url, headers, signal);
        if (res.status === 416 && have) {
          // Nothing after `have`: done when that is the whole file, else start over.
          const m = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
          await res.body?.cancel?.().catch(() => {});
          if (m && Number(m[1]) === have) return have;
          await sink.restart();
          startBytes = 0;
          continue;
        }
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const len = Number(res.headers.get('content-length')) || null;
        if (have && res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
          if (m && Number(m[1]) !== have) {   // not the range asked for: start over
            await res.body?.cancel?.().catch(() => {});
            await sink.restart();
            startBytes = 0;
            continue;
          }
          if (m && m[3] !== '*') total = Number(m[3]);
          else if (len) total = have + len;
        } else {
          if (have) { await sink.restart(); have = 0; startBytes = 0; }  // server ignored Range
          total = len;
        }
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await sink.write(value);
          have += value.byteLength;
          if (total !== null && have > total) throw Object.assign(new Error(`server sent more than the ${total} bytes it announced`), { fatal: true });
          if (onProgress) {
            const rate = (have - startBytes) / Math.max(1e-3, (Date.now() - start) / 1000);
            onProgress({ path, loaded: have, total, rate, eta: total && rate > 0 ? (total - have) / rate : null });
          }
        }
        if (total !== null && have < total) throw new Error('connection closed early');
        return have;
      } catch (e) {
        if (e.fatal || signal?.aborted) throw e;
        if ((await sink.size()) > before) tries = 0;  // progress was made: the budget is per stall
        if (++tries > maxRetries) throw e;
        await new Promise((r) => setTimeout(r, retryDelay(tries)));  // then resume
      }
    }
    return sink.size();
  }

  return {
    kind: 'url',
    baseUrl,
    download,
    async read(path) {
      const chunks = [];
      let n = 0;
      await download(path, {
        size: () => n,
        write: (c) => { chunks.push(c); n += c.byteLength; },
        restart: () => { chunks.length = 0; n = 0; },
      });
      const out = new Uint8Array(n);
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.byteLength; }
      return out;
    },
  };
}

export class DownloadCheckError extends Error {
  constructor(path, message) {
    super(`${message}`);
    this.name = 'DownloadCheckError';
    this.file = path;
  }
}

// Reads from `cache` first; fills it from `inner` on a miss. The package layer
// still verifies every file read(): a corrupt cache entry is evicted and
// downloaded again (once), with a notice naming it.
// cache: {get, put, removeFile} and, for streaming, {file, partial} (opfs_cache.js).
export function cachedSource(inner, cache, packageId) {
  return {
    kind: `cached-${inner.kind}`,
    hits: 0,
    misses: 0,
    async read(path) {
      checkPackagePath(path);
      const hit = await cache.get(packageId, path);
      if (hit) { this.hits++; return hit; }
      this.misses++;
      const bytes = await inner.read(path);
      await cache.put(packageId, path, bytes);
      return bytes;
    },
    // Drops a cached file (the package layer found it corrupt).
    async evict(path) {
      await cache.removeFile(packageId, checkPackagePath(path));
    },
    // A big file as a Blob backed by the cache (never whole in JS memory):
    // streamed from `inner` into the cache's partial file, resumed from its
    // length after a dropped connection or a reload, hashed as it arrives
    // (a resumed partial is hashed from disk first, a slice at a time). The
    // entry becomes complete only when its size and sha256 match `expected`
    // ({size, sha256}, from the manifest; either may be absent). A complete
    // entry is not hashed again on later loads (its size is checked).
    blob: inner.download && cache.partial ? async function blob(path, expected = {}) {
      checkPackagePath(path);
      const hit = await cache.file(packageId, path);
      if (hit && (expected.size == null || hit.size === expected.size)) { this.hits++; return hit; }
      if (hit) await cache.removeFile(packageId, path);
      this.misses++;
      const part = await cache.partial(packageId, path);
      let hasher = part.size ? await sha256OfBlob(await part.blob()) : await createSha256();
      const sink = {
        size: () => part.size,
        write: async (chunk) => { await part.append(chunk); hasher.update(chunk); },
        restart: async () => { await part.truncate(); hasher = await createSha256(); },
      };
      try {
        await inner.download(path, sink);
      } catch (e) {
        await part.flush().catch(() => {});  // keep what arrived for the next try
        throw e;
      }
      if (expected.size != null && part.size !== expected.size) {
        const got = part.size;
        await part.truncate();
        await part.flush();
        throw new DownloadCheckError(path, `size ${got} bytes, manifest says ${expected.size} (truncated or corrupt download)`);
      }
      if (expected.sha256 && hasher.hex() !== expected.sha256) {
        await part.truncate();
        await part.flush();
        throw new DownloadCheckError(path, 'sha256 does not match manifest.json (corrupt download)');
      }
      return part.complete({ size: part.size, sha256: expected.sha256 ? hasher.hex() : null });
    } : undefined,
  };
}
