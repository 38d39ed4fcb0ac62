// split.mjs: which items are evaluated. Either a split file names them, or a
// split is drawn reproducibly: stratified by class, seeded, independent of the
// order the dataset lists its items in.
import fs from 'node:fs';
import path from 'node:path';
import { parseDelimited, sniffDelimiter } from './table_text.mjs';
import { DatasetError } from './datasets.mjs';

// 32-bit FNV-1a of a string: seeds a class's own generator.
export function hash32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

// mulberry32: a small seeded generator, uniform in [0, 1).
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle(xs, random) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// Per class (item.label; items without one form one group): sorted by id,
// shuffled by a generator seeded from (seed, class), the first
// round(n * testFraction) go to test, with at least one image on each side
// when the class has two or more. -> {test, train, trainCounts, testCounts}
export function stratifiedSplit(items, { seed = 0, testFraction = 0.2 } = {}) {
  if (!(testFraction > 0 && testFraction < 1)) throw new DatasetError(`--test-fraction must be between 0 and 1 (got ${testFraction})`);
  const byClass = new Map();
  for (const it of items) {
    const k = it.label ?? '';
    if (!byClass.has(k)) byClass.set(k, []);
    byClass.get(k).push(it);
  }
  const testIds = new Set();
  for (const [k, group] of [...byClass.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sorted = [...group].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const n = sorted.length;
    let nTest = Math.round(n * testFraction);
    if (n >= 2) nTest = Math.min(n - 1, Math.max(1, nTest));
    for (const it of shuffle(sorted, rng(hash32(`${seed}\u0000${k}`))).slice(0, nTest)) testIds.add(it.id);
  }
  return partsOf(items, (it) => testIds.has(it.id));
}

function partsOf(items, isTest) {
  const test = [], train = [], trainCounts = {}, testCounts = {};
  for (const it of items) {
    const k = it.label ?? '';
    if (isTest(it)) { test.push(it); testCounts[k] = (testCounts[k] ?? 0) + 1; } else { train.push(it); trainCounts[k] = (trainCounts[k] ?? 0) + 1; }
  }
  return { test, train, trainCounts, testCounts };
}

// A split file: a CSV/TSV with an image (or id) column and a split column
// (values such as train / test / val), or a plain list of test images, one a
// line. Names match an item's id, its file name, or its file name without
// extension. part: the split evaluated ('test' by default). Names in the file
// that match no item are returned in `unmatched`.
export function splitFromFile(items, file, { part = 'test' } = {}) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new DatasetError(`cannot read the split file ${file} (${e.code ?? e.message})`); }
  const names = new Map();  // name -> split
  const first = text.split(/\r?\n/)[0];
  const delimiter = /[\t,;]/.test(first) ? sniffDelimiter(text) : null;
  if (delimiter) {
    const { header, rows } = parseDelimited(text, { delimiter });
    const lower = header.map((h) => h.toLowerCase());
    const imageCol = header[['image', 'id', 'file', 'filename', 'file_name', 'file-name', 'video file', 'path'].map((w) => lower.indexOf(w)).find((i) => i >= 0)];
    const splitCol = header[['split', 'fold', 'set', 'subset', 'partition', 'split-index'].map((w) => lower.indexOf(w)).find((i) => i >= 0)];
    if (!imageCol || !splitCol) throw new DatasetError(`${file}: needs an image column and a split column (has ${header.join(', ')})`);
    for (const r of rows) names.set(r.cells[imageCol].trim(), r.cells[splitCol].trim());
  } else {
    for (const l of text.split(/\r?\n/).map((x) => x.trim()).filter(Boolean)) names.set(l, part);
  }
  const keysOf = (it) => {
    const p = it.image.path ? path.basename(it.image.path) : it.id;
    return [it.id, p, p.replace(/\.[^.]+$/, '')];
  };
  const used = new Set();
  const splitOf = (it) => {
    for (const k of keysOf(it)) if (names.has(k)) { used.add(k); return names.get(k); }
    return null;
  };
  const parts = partsOf(items, (it) => splitOf(it) === part);
  // Training counts: only items the file puts in another split than `part`.
  parts.train = parts.train.filter((it) => { const s = splitOf(it); return s !== null && s !== part; });
  parts.trainCounts = {};
  for (const it of parts.train) parts.trainCounts[it.label ?? ''] = (parts.trainCounts[it.label ?? ''] ?? 0) + 1;
  parts.unmatched = [...names.keys()].filter((k) => !used.has(k));
  if (!parts.test.length) throw new DatasetError(`${file}: no item of the dataset is in split '${part}'`);
  return parts;
}
