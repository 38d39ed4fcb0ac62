// Under Node, a package on disk is handed to onnxruntime-node as file paths:
// the runtime never reads a graph or its weights into JS memory (each file is
// still checked against the manifest, streamed), and answers exactly as from
// bytes. A corrupt or truncated file on disk is named before any session loads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import ortNode from 'onnxruntime-node';
import { ROOT, TINY, golden, loadCore, diskSource } from './assistant_helpers.mjs';
import { ModelPackage, PackageError } from '../../web/assistant/package.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';

let dir;
before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-disk-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet'], { stdio: 'pipe' });
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

// diskSource, recording which files were read whole into JS memory.
function recordingSource(folder) {
  const src = diskSource(folder);
  const read = src.read;
  src.readPaths = [];
  src.read = (p) => { src.readPaths.push(p); return read(p); };
  return src;
}

test('onnxruntime-node loads graphs by path, checked, and answers like the oracle', { skip, timeout: 120000 }, async () => {
  const source = recordingSource(path.join(dir, 'pkg'));
  const pkg = await ModelPackage.open(source);
  const rt = await AssistantRuntime.create({ ort: ortNode, core, pkg, executionProviders: ['cpu'], variant: 'fp32' });
  try {
    assert.equal(rt.decoderGraph, 'decoder_fused');
    assert.deepEqual(source.readPaths.filter((p) => p.startsWith('onnx/')), [], 'no graph or weights file read into JS');
    for (const f of ['onnx/vision_encoder.onnx', 'onnx/vision_encoder.onnx_data', 'onnx/decoder_fused.onnx',
      'onnx/decoder_model_merged.onnx_data', 'onnx/embed_tokens.onnx_data']) assert.ok(pkg.verified.has(f), f);
    const conv = rt.newConversation();
    const image = { key: 'golden', bytes: fs.readFileSync(path.join(TINY, 'golden/image.png')) };
    const r1 = await rt.ask(conv, 'What is shown in this image?', { image, generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r1.ids, golden.turn1_greedy_ids);
    const r2 = await rt.ask(conv, 'How many polyps are visible?', { generation: { max_new_tokens: 24 } }).promise;
    assert.deepEqual(r2.ids, golden.turn2_greedy_ids);
    conv.free();
  } finally {
    await rt.release();
  }
});

test('a corrupt or truncated file on disk is named before any session loads', { skip, timeout: 120000 }, async () => {
  const bad = path.join(dir, 'bad');
  fs.cpSync(path.join(dir, 'pkg'), bad, { recursive: true });
  const data = path.join(bad, 'onnx/decoder_model_merged.onnx_data');
  const bytes = fs.readFileSync(data);
  bytes[4321] ^= 0xff;
  fs.writeFileSync(data, bytes);
  const pkg = await ModelPackage.open(diskSource(bad));
  await assert.rejects(pkg.graphOnDisk('decoder_fused', 'fp32'),
    (e) => e instanceof PackageError && e.file === 'onnx/decoder_model_merged.onnx_data' && /sha256/.test(e.message));
  await assert.rejects(AssistantRuntime.create({ ort: ortNode, core, pkg, executionProviders: ['cpu'], variant: 'fp32' }),
    /decoder_model_merged\.onnx_data: sha256 does not match/);
  fs.truncateSync(path.join(bad, 'onnx/vision_encoder.onnx_data'), 1000);
  await assert.rejects(pkg.graphOnDisk('vision_encoder', 'fp32'), /vision_encoder\.onnx_data: size 1000 bytes.*truncated/);
  // Without disk access (the browser's sources) there is no path to give.
  const { folderSource } = await import('../../web/assistant/sources.js');
  const inMemory = await ModelPackage.open(folderSource((p) => fs.promises.readFile(path.join(dir, 'pkg', p))));
  assert.equal(await inMemory.graphOnDisk('vision_encoder', 'fp32'), null);
});
