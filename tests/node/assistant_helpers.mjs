// Shared set-up for the assistant's Node tests: the WASM core module, the tiny
// oracle's fixtures, and a .npy reader.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Core } from '../../web/assistant/core.js';
import { folderSource } from '../../web/assistant/sources.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TINY = path.join(ROOT, 'tests/fixtures/tiny-gemma3');
export const golden = JSON.parse(fs.readFileSync(path.join(TINY, 'golden/golden.json'), 'utf8'));

export function coreModulePath() {
  const build = process.env.ES_BUILD_DIR || 'build';
  return path.resolve(ROOT, build, 'wasm/node/endoscribe_core.mjs');
}

// Resolves to a Core, or null with the reason when the module is not built.
export async function loadCore() {
  const p = coreModulePath();
  if (!fs.existsSync(p)) return { core: null, why: `WASM module not built: ${p}` };
  // Emscripten 3.1.6's ES6 output for Node still uses the CommonJS globals
  // __dirname and require, and would fetch() the .wasm by path: give it both
  // globals and the bytes.
  globalThis.__dirname ??= path.dirname(p);
  globalThis.require ??= createRequire(p);
  const factory = (await import(pathToFileURL(p).href)).default;
  const wasmBinary = fs.readFileSync(p.replace(/\.mjs$/, '.wasm'));
  return { core: await Core.create(factory, { wasmBinary }), why: null };
}

// A package folder on disk for Node: read() for small files, and file paths
// with streamed size and sha256 (onnxruntime-node then loads graphs by path).
export function diskSource(dir) {
  const full = (p) => path.join(dir, p);
  return folderSource((p) => fs.promises.readFile(full(p)), {
    localPath: full,
    size: async (p) => (await fs.promises.stat(full(p))).size,
    sha256: (p) => new Promise((resolve, reject) => {
      const h = crypto.createHash('sha256');
      fs.createReadStream(full(p), { highWaterMark: 4 << 20 }).on('data', (d) => h.update(d))
        .on('end', () => resolve(h.digest('hex'))).on('error', reject);
    }),
  });
}

export function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not .npy`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = (major === 1 ? 10 : 12);
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const start = off + hlen;
  const bytes = buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length);
  if (descr !== '<f4') throw new Error(`${file}: dtype ${descr} not handled`);
  return { shape, data: new Float32Array(bytes) };
}
