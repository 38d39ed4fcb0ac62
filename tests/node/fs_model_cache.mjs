// fs_model_cache.mjs: the model cache interface of web/assistant/opfs_cache.js
// over a Node folder, for tests and benchmarks that run the download path
// under Node (where there is no OPFS). Big files: <path>.es-partial is appended
// to as bytes arrive (each write lands on disk), renamed to <path> with
// <path>.es-done.json when complete; file() is fs.openAsBlob (disk-backed).
import fs from 'node:fs';
import path from 'node:path';

export function fsModelCache(dir) {
  const where = (id, p) => path.join(dir, encodeURIComponent(id), ...p.split('/'));
  return {
    async get(id, p) {
      try { return new Uint8Array(await fs.promises.readFile(where(id, p))); } catch { return null; }
    },
    async put(id, p, bytes) {
      await fs.promises.mkdir(path.dirname(where(id, p)), { recursive: true });
      await fs.promises.writeFile(where(id, p), bytes);
    },
    async file(id, p) {
      try { return await fs.openAsBlob(where(id, p)); } catch { return null; }
    },
    async partial(id, p) {
      const file = where(id, p) + '.es-partial';
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      let fh = null;
      const open = async () => (fh ??= await fs.promises.open(file, 'a'));
      const part = {
        size: (await (await open()).stat()).size,
        blob: () => fs.openAsBlob(file),
        async append(chunk) { await (await open()).write(chunk); part.size += chunk.byteLength; },
        async truncate() { await (await open()).truncate(0); part.size = 0; },
        async flush() { if (fh) { await fh.close(); fh = null; } },
        async complete(meta) {
          await part.flush();
          await fs.promises.rename(file, where(id, p));
          await fs.promises.writeFile(where(id, p) + '.es-done.json', JSON.stringify({ ...meta, size: part.size }));
          return fs.openAsBlob(where(id, p));
        },
      };
      return part;
    },
    async removeFile(id, p) {
      for (const f of [where(id, p), where(id, p) + '.es-partial', where(id, p) + '.es-done.json'])
        await fs.promises.rm(f, { force: true });
    },
    async list() { return []; },
    async remove(id) { await fs.promises.rm(path.join(dir, encodeURIComponent(id)), { recursive: true, force: true }); },
  };
}
