// opfs_cache.js: model packages cached in the browser's Origin Private File
// System, so a reload does not download again. Layout: /models/<packageId>/<path>.
// Browser only (navigator.storage.getDirectory); not yet wired into the UI.

async function root() {
  const r = await navigator.storage.getDirectory();
  return r.getDirectoryHandle('models', { create: true });
}

async function dirFor(packageId, path, create) {
  let dir = await (await root()).getDirectoryHandle(encodeURIComponent(packageId), { create });
  const parts = path.split('/');
  for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create });
  return { dir, name: parts.at(-1) };
}

export const opfsCache = {
  async get(packageId, path) {
    try {
      const { dir, name } = await dirFor(packageId, path, false);
      const file = await (await dir.getFileHandle(name)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch {
      return null;
    }
  },
  async put(packageId, path, bytes) {
    const { dir, name } = await dirFor(packageId, path, true);
    const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
    await w.write(bytes);
    await w.close();
  },
  // [{id, bytes}] for the model manager's list.
  async list() {
    const out = [];
    for await (const [name, handle] of (await root()).entries()) {
      if (handle.kind !== 'directory') continue;
      out.push({ id: decodeURIComponent(name), bytes: await sizeOf(handle) });
    }
    return out;
  },
  async remove(packageId) {
    await (await root()).removeEntry(encodeURIComponent(packageId), { recursive: true });
  },
  async removeFile(packageId, path) {
    const { dir, name } = await dirFor(packageId, path, false);
    await dir.removeEntry(name);
  },
};

async function sizeOf(dir) {
  let n = 0;
  for await (const [, h] of dir.entries()) n += h.kind === 'file' ? (await h.getFile()).size : await sizeOf(h);
  return n;
}
