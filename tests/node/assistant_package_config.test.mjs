// The runtime follows the package's configs where they shape what the model
// sees: preprocessor_config.json's pan-and-scan (the prompt gets one image
// block per crop, pixel_values one image per crop, as transformers'
// Gemma3Processor builds them) and text_config.max_position_embeddings (the
// conversation never goes past it: older turns are set aside, an answer stops
// at it, each with a message in plain words).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { ROOT, TINY, loadCore } from './assistant_helpers.mjs';
import { ModelPackage } from '../../web/assistant/package.js';
import { folderSource } from '../../web/assistant/sources.js';
import { AssistantRuntime } from '../../web/assistant/runtime.js';
import { Chat, DEFAULT_CONTEXT_LIMIT } from '../../web/assistant/core.js';

ort.env.wasm.numThreads = 1;

const { core, why } = await loadCore();
let skip = core ? false : why;
if (!skip && !fs.existsSync('/usr/bin/python3')) skip = '/usr/bin/python3 missing';

let dir;
const pkgFile = (p) => fs.readFileSync(path.join(dir, 'pkg', p));

// The built package with some files replaced, its manifest updated to match
// (so the package still verifies, as a real package built that way would).
function sourceWith(overrides) {
  const manifest = JSON.parse(pkgFile('manifest.json'));
  for (const [p, text] of Object.entries(overrides)) {
    const entry = manifest.files.find((f) => f.path === p);
    const bytes = Buffer.from(text);
    entry.size = bytes.length;
    entry.sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  }
  const files = { ...overrides, 'manifest.json': JSON.stringify(manifest) };
  return folderSource(async (p) => (p in files ? new Uint8Array(Buffer.from(files[p])) : fs.promises.readFile(path.join(dir, 'pkg', p))));
}

before(() => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-asst-config-'));
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tools/build_model.py'), path.join(TINY, 'checkpoint'),
    path.join(dir, 'pkg'), '--quant', 'none', '--quiet'], { stdio: 'pipe' });
});
after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

// A 3:1 image (rows of changing colour, so every crop differs).
function wideImage(width = 192, height = 64) {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const o = (y * width + x) * 4;
    rgba.set([(x * 5) & 255, (y * 3 + x) & 255, (x * y) & 255, 255], o);
  }
  return { key: 'wide', rgba, width, height };
}

test('pan-and-scan: the runtime asks with the crops it encoded (prompt and pixel_values agree)', { skip, timeout: 180000 }, async () => {
  const cfg = JSON.parse(pkgFile('preprocessor_config.json'));
  const panScan = JSON.stringify({ ...cfg, do_pan_and_scan: true, pan_and_scan_min_crop_size: 32,
    pan_and_scan_max_num_crops: 4, pan_and_scan_min_ratio_to_activate: 1.2 });
  const pkg = await ModelPackage.open(sourceWith({ 'preprocessor_config.json': panScan }));
  assert.ok(pkg.verified.has('preprocessor_config.json'));
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
  try {
    const image = wideImage();
    const crops = core.imageCropCount(image.width, image.height, panScan);
    assert.equal(crops, 3);  // round(192 / 64)
    const mm = rt.model.mm_tokens_per_image;
    const conv = rt.newConversation();
    const r = await rt.ask(conv, 'What is shown in this image?', { image, generation: { max_new_tokens: 8 } }).promise;
    const tokens = conv.chat.tokens();
    const imageTokens = tokens.filter((t) => t === rt.model.image_token_id).length;
    assert.equal(imageTokens, (1 + crops) * mm, 'one block of image tokens per encoded image (the image and its crops)');
    assert.match(rt.tokenizer.decode(tokens), /here are some crops to help you see better/);
    assert.equal(rt.imageFeatures.get('wide').length, (1 + crops) * mm * rt.model.hidden_size);

    // The same answer as the pipeline driven by hand: Gemma3Processor's prompt for 3 crops, the
    // [4, 3, H, W] pixel values through the vision encoder, greedy decoding on the cache.
    const ref = rt.newConversation();
    ref.chat.ask('What is shown in this image?', { image: true, crops });
    const px = core.preprocessRgba(image.rgba, image.width, image.height, panScan);
    assert.deepEqual(px.dims.slice(0, 1), [1 + crops]);
    const out = await rt.vision.run({ pixel_values: new ort.Tensor('float32', px.data, px.dims) });
    const feats = Float32Array.from(out.image_features.data);
    let row = await rt._decode(ref.kv, ref.chat.pending(), ref.chat.pendingTokenTypes(), feats);
    const ids = [];
    for (let i = 0; i < 8; i++) {
      let best = 0;
      for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
      ids.push(best);
      if (i < 7) row = await rt._decode(ref.kv, [best], [0], null);
    }
    assert.deepEqual(r.ids, ids);

    // A follow-up prefills only its own tokens; a saved conversation keeps the crops.
    const encodes = rt.stats.imageEncodes;
    const r2 = await rt.ask(conv, 'Is it bleeding?', { generation: { max_new_tokens: 2 } }).promise;
    assert.ok(r2.prefilled < (1 + crops) * mm, `follow-up prefilled ${r2.prefilled}`);
    assert.equal(rt.stats.imageEncodes, encodes);
    const back = rt.restoreConversation(JSON.parse(JSON.stringify(conv.chat.save())), { imageKey: 'wide' });
    assert.equal(back.chat.tokens().filter((t) => t === rt.model.image_token_id).length, (1 + crops) * mm);
    back.free();
    conv.free();
    ref.free();

    // Classification sees the same image blocks (4 x 16 image tokens + its question).
    const runs = rt.stats.decoderRuns;
    const c = await rt.classify({ labels: [{ id: 'a', name: 'polyp' }, { id: 'b', name: 'ulcer' }] }, { image }).promise;
    assert.ok(Math.abs(c.labels[0].probability + c.labels[1].probability - 1) < 1e-9);
    assert.equal(rt.stats.decoderRuns - runs, 2);
  } finally {
    await rt.release();
  }
});

test('the model\'s max_position_embeddings bounds the conversation (tiny: 512 positions)', { skip, timeout: 180000 }, async () => {
  const pkg = await ModelPackage.open(sourceWith({}));
  assert.equal(pkg.textConfig.max_position_embeddings, 512);
  assert.equal(pkg.chatConfig().max_position_embeddings, 512);
  const rt = await AssistantRuntime.create({ ort, core, pkg, executionProviders: ['wasm'], variant: 'fp32' });
  try {
    const conv = rt.newConversation();
    assert.equal(conv.chat.maxContext, 512);
    // The app's practical cap still applies to a model with a longer context.
    const long = JSON.parse(pkgFile('config.json'));
    long.text_config.max_position_embeddings = 100000;
    const longPkg = await ModelPackage.open(sourceWith({ 'config.json': JSON.stringify(long) }));
    const chat = new Chat(core, rt.tokenizer, longPkg.chatConfig());
    assert.equal(chat.maxContext, DEFAULT_CONTEXT_LIMIT);
    chat.free();

    // Questions with long answers: the conversation outgrows 512 positions. Older turns are set
    // aside (with a notice on the question that needed it), the cache never holds more than 512
    // positions (the tiny model's RoPE tables end there), and an answer that would pass the end
    // stops with reason 'context' and a message.
    const image = wideImage(64, 64);
    const notices = [], stops = [];
    for (let i = 0; i < 12 && !(notices.length && stops.length); i++) {
      const r = await rt.ask(conv, `Describe finding number ${i + 1} in detail.`, {
        image: i === 0 ? image : null, generation: { max_new_tokens: 1000 } }).promise;
      assert.ok(conv.kv.length <= 512, `cache holds ${conv.kv.length} positions`);
      assert.ok(conv.chat.tokens().length <= 512);
      if (r.contextNotice) notices.push(r.contextNotice);
      if (r.reason === 'context') stops.push(r.message);
      else assert.equal(r.message, null);
    }
    assert.ok(stops.length > 0, 'an answer ran into the end of the context');
    assert.match(stops[0], /reached the model's context of 512 tokens/);
    assert.ok(notices.length > 0, 'a question set older turns aside');
    assert.match(notices[0], /To stay within the model's context of 512 tokens, the \d+ oldest question/);
    assert.ok(conv.chat.earlierTurnCount > 0);
    // The image is still in what the model sees.
    assert.equal(conv.chat.tokens().filter((t) => t === rt.model.image_token_id).length, rt.model.mm_tokens_per_image);
    conv.free();
  } finally {
    await rt.release();
  }
});
