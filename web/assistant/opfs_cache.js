// opfs_cache.js: model packages cached in the browser's Origin Private File
// System, so a reload does not download again. Layout: /models/<packageId>/<path>.
// Browser only (navigator.storage.getDirectory).
//
// Small files are written whole (put). Big files (external data, gigabytes)
// stream in through partial(): bytes go to segment files
// <path>.es-parts/000000, 000001, ... of at most SEGMENT_BYTES each, every
// segment committed to disk when full, when the connection drops, or when the
// download stops, so a dropped connection or a reload loses at most the
// segment being written and the download resumes from the committed length.
// A finished entry is the segments plus done.json ({size, sha256}); file()
// returns it as one Blob made of the segment Files: disk-backed, never read
// whole into JavaScript memory until onnxruntime asks for its bytes.
// (One growing file would do too, but Chromium's createWritable() writes to a
// copy that only lands on close(), and reopening copies the whole file again.)

export const SEGMENT_BYTES = 64 * 2 ** 20;
const PARTS = '.es-parts';

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

async function readJson(dir, name) {
  try {
    return JSON.parse(await (await (await dir.getFileHandle(name)).getFile()).text());
  } catch {
    return null;
  }
}

async function writeFile(dir, name, data) {
  const w = await (await dir.getFileHandle(name, { create: true })).createWritable();
  await w.write(data);
  await w.close();
}

// The segment files of a parts folder, in order: [{name, file}].
async function segments(parts) {
  const out = [];
  for await (const [name, h] of parts.entries()) if (h.kind === 'file' && /^\d{6}$/.test(name)) out.push({ name, file: await h.getFile() });
  return out.sort((a, b) => a.name.localeCompare(b.name));
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
    await writeFile(dir, name, bytes);
  },
  // A complete big file as a Blob (or a small one put whole), else null.
  async file(packageId, path) {
    try {
      const { dir, name } = await dirFor(packageId, path, false);
      try {
        return await (await dir.getFileHandle(name)).getFile();
      } catch { /* not a whole file: segments? */ }
      const parts = await dir.getDirectoryHandle(name + PARTS);
      const done = await readJson(parts, 'done.json');
      if (!done) return null;
      const blob = new Blob((await segments(parts)).map((s) => s.file));
      return blob.size === done.size ? blob : null;
    } catch {
      return null;
    }
  },
  // The download in progress for `path` (see the top of this file):
  // {size, blob(), append(chunk), truncate(), flush(), complete(meta)}.
  async partial(packageId, path) {
    const { dir, name } = await dirFor(packageId, path, true);
    const parts = await dir.getDirectoryHandle(name + PARTS, { create: true });
    await parts.removeEntry('done.json').catch(() => {});
    const segs = await segments(parts);
    let next = segs.length ? Number(segs.at(-1).name) + 1 : 0;
    let writer = null, writerBytes = 0;
    const close = async () => {
      if (!writer) return;
      const w = writer;
      writer = null;
      await w.close();
    };
    const p = {
      size: segs.reduce((n, s) => n + s.file.size, 0),
      async blob() {
        await close();
        return new Blob((await segments(parts)).map((s) => s.file));
      },
      async append(chunk) {
        for (let o = 0; o < chunk.byteLength;) {
          if (!writer) {
            const h = await parts.getFileHandle(String(next++).padStart(6, '0'), { create: true });
            writer = await h.createWritable();
            writerBytes = 0;
          }
          const take = Math.min(chunk.byteLength - o, SEGMENT_BYTES - writerBytes);
          await writer.write(o === 0 && take === chunk.byteLength ? chunk : chunk.subarray(o, o + take));
          writerBytes += take;
          p.size += take;
          o += take;
          if (writerBytes >= SEGMENT_BYTES) await close();
        }
      },
      async truncate() {
        if (writer) { const w = writer; writer = null; await w.abort().catch(() => {}); }
        for (const s of await segments(parts)) await parts.removeEntry(s.name);
        next = 0;
        p.size = 0;
      },
      flush: close,
      async complete(meta) {
        await close();
        await writeFile(parts, 'done.json', JSON.stringify({ ...meta, size: p.size }));
        return opfsCache.file(packageId, path);
      },
    };
    return p;
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
    let removed = false;
    for (const n of [name, name + PARTS]) {
      try { await dir.removeEntry(n, { recursive: true }); removed = true; } catch { /* absent */ }
    }
    if (!removed) throw new Error(`${path} is not in the cache`);
  },
};

async function sizeOf(dir) {
  let n = 0;
  for await (const [, h] of dir.entries()) n += h.kind === 'file' ? (await h.getFile()).size : await sizeOf(h);
  return n;
}
