// model_manager.js: where the assistant's model comes from, for the app's
// model manager panel. Packages are read through the OPFS cache
// (opfs_cache.js), so a reload reads the cache and downloads nothing; URLs are
// checked against the model hosts the server allows (GET /api/config, also the
// page's CSP); downloads report bytes, rate and time left; every file is
// checked against manifest.json by package.js.

import { ModelPackage } from './package.js';
import { urlSource, pickedFolderSource, cachedSource, HostNotAllowedError } from './sources.js';
import { opfsCache } from './opfs_cache.js';
import { hubPackageUrl, parseHubRepo, tokenStore, GatedModelError } from './hub.js';

export { HostNotAllowedError, GatedModelError };

// The GatedModelError behind an error from openPackage / the runtime, or null.
export function gatedError(e) {
  for (let x = e, i = 0; x && i < 5; x = x.cause, i++) if (x instanceof GatedModelError) return x;
  return null;
}

// The server's allowed model hosts, as host names ('huggingface.co'); [] when
// the page is served by something without /api/config (then only this origin).
export async function allowedModelHosts(fetchImpl = fetch) {
  try {
    const r = await fetchImpl('api/config', { cache: 'no-store' });
    if (!r.ok) return { origins: [], hosts: [] };
    const origins = (await r.json()).model_hosts ?? [];
    return { origins, hosts: origins.map((o) => new URL(o).host) };
  } catch {
    return { origins: [], hosts: [] };
  }
}

// A stable cache id for a package location: 'server:models/tiny-gemma3/',
// 'url:https://huggingface.co/...', 'folder:<name>'.
export function packageId(kind, where) {
  return `${kind}:${where}`;
}

// The cache id openPackage gives a description (folder: by name, not cached).
export function descriptionId(desc) {
  if (desc.kind === 'hub') {
    const r = parseHubRepo(desc.repo, desc.revision);
    return packageId('hub', `${r.repo}@${r.revision}`);
  }
  if (desc.kind === 'folder') return packageId('folder', desc.name);
  return packageId(desc.kind, desc.kind === 'server' ? desc.path : desc.url);
}

// Progress over a whole package: the per-file callbacks of urlSource summed
// (file sizes from the manifest once it is read).
export class DownloadProgress {
  constructor(onChange) {
    this.onChange = onChange;
    this.files = new Map();   // path -> {loaded, total}
    this.start = performance.now();
    this.expectedTotal = null;
    this.active = true;
  }
  update({ path, loaded, total }) {
    this.files.set(path, { loaded, total });
    this.onChange(this.snapshot(path));
  }
  snapshot(file = null) {
    let loaded = 0, known = 0;
    for (const f of this.files.values()) { loaded += f.loaded; known += f.total ?? f.loaded; }
    const total = Math.max(this.expectedTotal ?? 0, known);
    const secs = Math.max(1e-3, (performance.now() - this.start) / 1000);
    const rate = loaded / secs;
    return { active: this.active, file, loaded, total, rate, eta: total && rate > 0 ? Math.max(0, (total - loaded) / rate) : null };
  }
}

// Opens a package from a source description:
//   {kind: 'server', path: 'models/tiny-gemma3/'}   this server (no host check)
//   {kind: 'url', url: 'https://...'}               checked against allowedHosts
//   {kind: 'hub', repo: 'owner/name', revision}     https://huggingface.co/<repo>/resolve/<revision>/
//   {kind: 'folder', files|handle, name}            a folder the user picked (not cached: it is local already)
// URL and hub packages send the Hugging Face token (hub.js tokenStore) to
// Hugging Face token hosts only. cache: opfsCache (tests pass another).
// Returns {pkg, id, source, progress}. Throws HostNotAllowedError / PackageError
// (its cause a GatedModelError for a gated repo: see gatedError).
export async function openPackage(desc, { allowedHosts = [], onProgress = () => {}, cache = opfsCache,
  token = () => tokenStore().get(), fetchImpl = globalThis.fetch } = {}) {
  const progress = new DownloadProgress(onProgress);
  let source, id;
  if (desc.kind === 'folder') {
    id = packageId('folder', desc.name);
    source = pickedFolderSource(desc.handle ?? desc.files);
  } else {
    const base = desc.kind === 'hub' ? hubPackageUrl(desc.repo, desc.revision) : desc.kind === 'server' ? desc.path : desc.url;
    id = descriptionId(desc);
    const net = urlSource(base, { allowedHosts: desc.kind === 'server' ? null : allowedHosts,
      onProgress: (p) => progress.update(p), token, fetchImpl });
    source = cachedSource(net, cache, id);
  }
  const pkg = await ModelPackage.open(source);
  if (pkg.manifest?.files) progress.expectedTotal = pkg.manifest.files.reduce((n, f) => n + (f.size ?? 0), 0);
  return { pkg, id, source, progress };
}

export const modelCache = {
  list: () => opfsCache.list().catch(() => []),
  remove: (id) => opfsCache.remove(id),
};
