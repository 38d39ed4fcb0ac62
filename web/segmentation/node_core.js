// node_core.js: loads the core's Node module (<wasm build>/node/endoscribe_core.mjs)
// and wraps it in CoreApi. Node only.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { CoreApi } from './core_api.js';

export async function loadNodeCore(modulePath) {
  const abs = path.resolve(modulePath);
  // Emscripten 3.1.6's ES6 output for Node still refers to the CommonJS
  // globals __dirname and require; give it both for the module's folder.
  globalThis.__dirname ??= path.dirname(abs);
  globalThis.require ??= createRequire(abs);
  const create = (await import(pathToFileURL(abs).href)).default;
  // Node 18+ has fetch, which the loader would try on a file path: hand it the bytes.
  const wasmBinary = fs.readFileSync(abs.replace(/\.mjs$/, '.wasm'));
  return new CoreApi(await create({ wasmBinary }));
}
