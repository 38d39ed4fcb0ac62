// Vision attention at 896 px: peak memory and time of the vision encoder built with each attention form
// of tools/build_model.py --vision-attention (plain = whole 16 x 4096 x 4096 score matrix, chunked = plain
// ops with queries in chunks, mha = com.microsoft MultiHeadAttention), on MedGemma's vision dimensions
// (SigLIP so400m: hidden 1152, MLP 4304, 16 heads, 896 px / 14 px patches = 4096 tokens) with fewer layers
// (attention memory is per layer: every layer allocates the same, one at a time). Random weights.
// Each form runs in its own process; peak RSS (getrusage maxrss) and the RSS after the session was created
// are reported, so "peak - loaded" is what running one image costs. The forms' image features are compared.
//
//   node tools/bench/vision_attention_bench.mjs [--layers 2] [--ep cpu|wasm|both] [--forms plain,chunked:1024,mha]
//     [--out DIR] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PY = process.env.ES_PYTHON || '/usr/bin/python3';
const FORMS = 'plain,chunked:1024,chunked:512,chunked:256,mha';
const arg = (name, d) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : d; };

async function child(pkg, ep, featsOut) {
  const manifest = JSON.parse(fs.readFileSync(path.join(pkg, 'manifest.json'), 'utf8'));
  const file = path.join(pkg, manifest.graphs.vision_encoder.fp32);
  const size = manifest.model.image_size;
  let session, ort;
  const t0 = performance.now();
  if (ep === 'cpu') {
    ort = (await import('onnxruntime-node')).default;
    session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2 });
  } else {
    ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const entry = manifest.files.find((f) => f.path === manifest.graphs.vision_encoder.fp32);
    session = await ort.InferenceSession.create(fs.readFileSync(file), {
      executionProviders: ['wasm'],
      externalData: entry.external_data.map((d) => ({ path: path.basename(d), data: fs.readFileSync(path.join(pkg, d)) })) });
  }
  const loadMs = performance.now() - t0;
  global.gc?.();
  const loadedRss = process.memoryUsage().rss;
  // A smooth deterministic image (values in the normalised range).
  const px = new Float32Array(3 * size * size);
  for (let i = 0; i < px.length; i++) px[i] = Math.sin(i * 0.001) * 0.9;
  const t1 = performance.now();
  const out = await session.run({ pixel_values: new ort.Tensor('float32', px, [1, 3, size, size]) });
  const runMs = performance.now() - t1;
  const feats = out.image_features.data;
  fs.writeFileSync(featsOut, Buffer.from(feats.buffer, feats.byteOffset, feats.byteLength));
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ loadMs, runMs, loadedRss, peakRss }) + '\n');
}

async function main() {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4], process.argv[5]);
  const layers = Number(arg('layers', '2'));
  const eps = arg('ep', 'cpu') === 'both' ? ['cpu', 'wasm'] : [arg('ep', 'cpu')];
  const out = path.resolve(arg('out', path.join(os.tmpdir(), 'es-vision-attention-bench')));
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const ckpt = path.join(out, 'ckpt');
  // Tiny text tower (the bench runs the vision encoder only), MedGemma's vision tower with `layers` layers.
  execFileSync(PY, [path.join(ROOT, 'tools/make_tiny_checkpoint.py'), ckpt, '--v-hidden', '1152', '--v-intermediate', '4304',
    '--v-heads', '16', '--v-layers', String(layers), '--image-size', '896', '--patch', '14', '--mm-tokens', '256',
    '--std', '0.02'], { stdio: 'inherit' });
  const rows = [];
  const feats = {};
  for (const form of arg('forms', FORMS).split(',')) {
    const pkg = path.join(out, form.replace(':', '-'));
    const [kind, chunk] = form.split(':');
    execFileSync(PY, [path.join(ROOT, 'tools/build_model.py'), ckpt, pkg, '--quiet', '--variants', 'fp32',
      '--vision-attention', kind, ...(chunk ? ['--vision-query-chunk', chunk] : [])], { stdio: 'inherit' });
    for (const ep of eps) {
      const featsFile = path.join(out, `${form.replace(':', '-')}-${ep}.f32`);
      const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', pkg, ep, featsFile],
        { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) {
        const lines = (r.stderr || r.stdout).trim().split('\n').filter((l) => /Error|error/.test(l) && l.length < 400);
        rows.push({ form, ep, error: lines.at(-1) ?? `exit ${r.status}` });
        continue;
      }
      const m = JSON.parse(r.stdout.trim().split('\n').at(-1));
      feats[`${form}-${ep}`] = new Float32Array(fs.readFileSync(featsFile).buffer.slice(0));
      rows.push({ form, ep, ...m });
    }
  }
  const MiB = (n) => (n / 2 ** 20).toFixed(0);
  console.log(`\nvision encoder, MedGemma vision dims, ${layers} layer(s), 896 px (4096 tokens), fp32, ` +
    `${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
  console.log('| attention | EP | peak RSS MiB | RSS after load MiB | peak - loaded MiB | run ms | max |Δ features| vs plain |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    if (r.error) { console.log(`| ${r.form} | ${r.ep} | failed: ${r.error} | | | | |`); continue; }
    const ref = feats[`plain-${r.ep}`], mine = feats[`${r.form}-${r.ep}`];
    let d = 0;
    if (ref && mine) for (let i = 0; i < ref.length; i++) d = Math.max(d, Math.abs(ref[i] - mine[i]));
    console.log(`| ${r.form} | ${r.ep} | ${MiB(r.peakRss)} | ${MiB(r.loadedRss)} | ${MiB(r.peakRss - r.loadedRss)} | ` +
      `${r.runMs.toFixed(0)} | ${ref && mine ? d.toExponential(1) : 'n/a'} |`);
  }
  if (!process.argv.includes('--keep')) fs.rmSync(out, { recursive: true, force: true });
}

await main();
