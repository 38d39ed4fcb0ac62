// cores.mjs: the C++ core's Node module (WASM), loaded once and seen through
// both of its JS faces: the assistant's (web/assistant/core.js: tokenizer,
// chat, label sets, box parsing) and the segmentation one
// (web/segmentation/core_api.js: image decoding, masks).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Core } from '../../web/assistant/core.js';
import { CoreApi } from '../../web/segmentation/core_api.js';
import { findCoreModule } from '../eval_segmentation.mjs';

export async function loadCores(explicit = null) {
  const p = path.resolve(findCoreModule(explicit));
  globalThis.__dirname ??= path.dirname(p);
  globalThis.require ??= createRequire(p);
  const factory = (await import(pathToFileURL(p).href)).default;
  const module = await factory({ wasmBinary: fs.readFileSync(p.replace(/\.mjs$/, '.wasm')) });
  return { module, assistant: new Core(module), seg: new CoreApi(module), path: p };
}
