// datasets.mjs: evaluation datasets in the formats they come in, read into one
// item list. Every row that cannot be used is returned as a problem (where,
// what) and never silently dropped; images are only checked for existence
// here (a file that does not decode is found, reported and skipped when the
// run reaches it).
//
// Formats (--format, or guessed from the path):
//   folders  DIR/<class>/.../image.jpg: the class is the folder an image sits in
//            (HyperKvasir's labeled-images/<tract>/<category>/<finding>/ tree works as is)
//   csv      a label table like HyperKvasir's image-labels.csv: an image column
//            (a path, or a file name / id without extension found under --images)
//            and a label column
//   coco     COCO JSON (images, annotations with bbox [x, y, w, h], categories):
//            one item per box for REC / REG, one per image for counting
//   masks    Kvasir-SEG style: DIR/labels.csv with image, mask (and bboxes_xyxy
//            "x1 y1 x2 y2;...", n_boxes, label) columns
//   tsv      VLMEvalKit multiple choice: index, question, A, B, C, D (E, ...),
//            answer, image (base64, a path in image_path, or the index of
//            another row holding the same image), hint and category optional
//   pairs    image/reference-text pairs: CSV, TSV or JSONL with an image column
//            and a reference column (report, caption, text, reference, answer;
//            JSONL may give a list of references); an optional question column;
//            or a folder of images each with a .txt of the same name
//
// Item: {id, image: {path} | {base64, name}, line?, label?, boxes?: [{x1, y1, x2, y2, label}],
//        mask?, count?, references?: [text], question?, options?: {A: text}, answer?, category?}
import fs from 'node:fs';
import path from 'node:path';
import { parseDelimited, sniffDelimiter } from './table_text.mjs';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp'];
const isImageFile = (f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase());

export class DatasetError extends Error {}

// Label text compared loosely: case, spaces, '_' and '-' do not matter.
export const labelKey = (s) => String(s ?? '').trim().toLowerCase().replace(/[\s_-]+/g, '-');

function pick(header, wanted, explicit, what) {
  if (explicit) {
    if (!header.includes(explicit)) throw new DatasetError(`the ${what} column '${explicit}' is not in the file (columns: ${header.join(', ')})`);
    return explicit;
  }
  const lower = header.map((h) => h.toLowerCase());
  for (const w of wanted) {
    const i = lower.indexOf(w);
    if (i >= 0) return header[i];
  }
  return null;
}

function walk(dir, out = [], rel = '') {
  let entries;
  try { entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }); } catch { return out; }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    let isDir = e.isDirectory(), isFile = e.isFile();
    if (e.isSymbolicLink()) {  // followed (a dataset assembled from links); a dangling link is listed, then reported as unreadable
      try { const st = fs.statSync(path.join(dir, r)); isDir = st.isDirectory(); isFile = st.isFile(); } catch { isFile = true; }
    }
    if (isDir) walk(dir, out, r);
    else if (isFile) out.push(r);
  }
  return out;
}

// Finds images named in a table under a root: by relative path, else by file
// name, else by name without extension (HyperKvasir's ids).
class ImageIndex {
  constructor(root) {
    this.root = root;
    this.byName = null;
  }
  find(ref) {
    if (!ref) return null;
    const direct = path.resolve(this.root, ref);
    if (fs.existsSync(direct) && fs.statSync(direct).isFile()) return direct;
    if (!this.byName) {
      this.byName = new Map();
      for (const f of walk(this.root).filter(isImageFile)) {
        const base = path.basename(f);
        for (const k of [base, base.slice(0, -path.extname(base).length)]) {
          if (!this.byName.has(k)) this.byName.set(k, []);
          this.byName.get(k).push(path.join(this.root, f));
        }
      }
    }
    const hits = this.byName.get(path.basename(ref)) ?? [];
    return hits.length === 1 ? hits[0] : hits.length > 1 ? { ambiguous: hits } : null;
  }
}

function readText(file) {
  try { return fs.readFileSync(file, 'utf8'); } catch (e) { throw new DatasetError(`cannot read ${file} (${e.code ?? e.message})`); }
}

export function guessFormat(p) {
  if (!fs.existsSync(p)) throw new DatasetError(`${p} does not exist`);
  if (fs.statSync(p).isDirectory()) {
    const csv = path.join(p, 'labels.csv');
    if (fs.existsSync(csv) && /(^|,)"?mask"?(,|$)/m.test(readText(csv).split(/\r?\n/)[0])) return 'masks';
    // Images with a text file of the same name beside them: image/reference pairs.
    const top = fs.readdirSync(p);
    if (top.some((f) => isImageFile(f) && top.includes(f.replace(/\.[^.]+$/, '.txt')))) return 'pairs';
    return 'folders';
  }
  const ext = path.extname(p).toLowerCase();
  if (ext === '.tsv') return 'tsv';
  if (ext === '.json') return 'coco';
  if (ext === '.jsonl') return 'pairs';
  if (ext === '.csv') {
    const head = readText(p).split(/\r?\n/)[0].toLowerCase();
    return /(^|,)"?(report|caption|text|reference|references)"?(,|$)/.test(head) ? 'pairs' : 'csv';
  }
  throw new DatasetError(`cannot tell the format of ${p}: give --format folders|csv|coco|masks|tsv|pairs`);
}

// -> {format, root, items, problems: [{where, what}]}
export function readDataset(p, options = {}) {
  const format = options.format && options.format !== 'auto' ? options.format : guessFormat(p);
  const reader = READERS[format];
  if (!reader) throw new DatasetError(`unknown dataset format '${format}' (have ${Object.keys(READERS).join(', ')})`);
  const out = reader(path.resolve(p), options);
  const seen = new Set();
  for (const it of out.items) {
    if (seen.has(it.id)) throw new DatasetError(`${p}: item id '${it.id}' occurs twice`);
    seen.add(it.id);
  }
  return { format, ...out };
}

function readFolders(root) {
  const items = [], problems = [];
  for (const rel of walk(root)) {
    const parts = rel.split('/');
    if (!isImageFile(rel)) {
      if (parts.length > 1 && !/\.(txt|md|csv|json|tsv)$/i.test(rel)) problems.push({ where: rel, what: 'not a JPEG, PNG or BMP image: left out' });
      continue;
    }
    if (parts.length < 2) { problems.push({ where: rel, what: 'image at the top level, not in a class folder: left out' }); continue; }
    items.push({ id: rel, image: { path: path.join(root, rel) }, label: parts[parts.length - 2] });
  }
  if (!items.length) throw new DatasetError(`${root}: no images in class folders (expected ${root}/<class>/<image>.jpg)`);
  return { root, items, problems };
}

function readLabelCsv(file, options) {
  const text = readText(file);
  const { header, rows, problems: parseProblems } = parseDelimited(text, { delimiter: sniffDelimiter(text) });
  const imageCol = pick(header, ['image', 'image_path', 'path', 'file', 'filename', 'file_name', 'file-name', 'video file', 'image_id', 'id'], options.imageColumn, 'image');
  const labelCol = pick(header, ['label', 'class', 'class-name', 'finding', 'category', 'diagnosis'], options.labelColumn, 'label');
  if (!imageCol || !labelCol) throw new DatasetError(`${file}: cannot find the ${!imageCol ? 'image' : 'label'} column (columns: ${header.join(', ')}); name it with --${!imageCol ? 'image' : 'label'}-column`);
  const root = path.resolve(options.images ?? path.dirname(file));
  const index = new ImageIndex(root);
  const items = [], problems = parseProblems.map((q) => ({ where: `${path.basename(file)} line ${q.line}`, what: q.what }));
  for (const r of rows) {
    const where = `${path.basename(file)} line ${r.line}`;
    const ref = r.cells[imageCol].trim(), label = r.cells[labelCol].trim();
    if (!ref) { problems.push({ where, what: `empty ${imageCol}` }); continue; }
    if (!label) { problems.push({ where, what: `${ref}: empty ${labelCol}` }); continue; }
    const found = index.find(ref);
    if (!found) { problems.push({ where, what: `image '${ref}' not found under ${root}` }); continue; }
    if (found.ambiguous) { problems.push({ where, what: `'${ref}' matches ${found.ambiguous.length} files under ${root}; give a path` }); continue; }
    items.push({ id: path.relative(root, found), image: { path: found }, label, line: r.line });
  }
  return { root, items, problems };
}

function readCoco(file, options) {
  let coco;
  try { coco = JSON.parse(readText(file)); } catch (e) { throw new DatasetError(`${file}: not valid JSON (${e.message})`); }
  if (!Array.isArray(coco?.images) || !Array.isArray(coco?.annotations)) throw new DatasetError(`${file}: not COCO (needs "images" and "annotations" lists)`);
  const root = path.resolve(options.images ?? path.dirname(file));
  const cats = new Map((coco.categories ?? []).map((c) => [c.id, c.name ?? String(c.id)]));
  const images = new Map();
  const items = [], problems = [];
  for (const im of coco.images) {
    const where = `image id ${im?.id}`;
    if (im?.id === undefined || typeof im.file_name !== 'string') { problems.push({ where, what: 'an image without id or file_name' }); continue; }
    const p = path.resolve(root, im.file_name);
    if (!fs.existsSync(p)) { problems.push({ where, what: `image '${im.file_name}' not found under ${root}` }); continue; }
    images.set(im.id, { path: p, file: im.file_name, boxes: [] });
  }
  for (const a of coco.annotations) {
    const where = `annotation id ${a?.id}`;
    const im = images.get(a?.image_id);
    if (!im) { problems.push({ where, what: `refers to image id ${a?.image_id}, which is not usable` }); continue; }
    const b = a.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every(Number.isFinite) || b[2] <= 0 || b[3] <= 0) { problems.push({ where, what: `bbox ${JSON.stringify(b)} is not [x, y, width, height] with a positive size` }); continue; }
    if (!cats.has(a.category_id)) { problems.push({ where, what: `category ${a.category_id} is not among the categories` }); continue; }
    im.boxes.push({ id: a.id, x1: b[0], y1: b[1], x2: b[0] + b[2], y2: b[1] + b[3], label: cats.get(a.category_id) });
  }
  for (const im of images.values()) {
    items.push({ id: im.file, image: { path: im.path }, boxes: im.boxes, count: im.boxes.length });
  }
  return { root, items, problems, categories: [...cats.values()] };
}

function parseBoxList(s, label) {
  const boxes = [];
  for (const part of String(s ?? '').split(';').map((x) => x.trim()).filter(Boolean)) {
    const v = part.split(/[\s,]+/).map(Number);
    if (v.length !== 4 || !v.every(Number.isFinite) || v[2] <= v[0] || v[3] <= v[1]) return null;
    boxes.push({ x1: v[0], y1: v[1], x2: v[2], y2: v[3], label });
  }
  return boxes;
}

function readMasks(root, options) {
  const file = path.join(root, 'labels.csv');
  const { header, rows, problems: pp } = parseDelimited(readText(file));
  if (!header.includes('image') || !header.includes('mask')) throw new DatasetError(`${file}: needs image and mask columns (has ${header.join(', ')})`);
  const items = [], problems = pp.map((q) => ({ where: `labels.csv line ${q.line}`, what: q.what }));
  for (const r of rows) {
    const where = `labels.csv line ${r.line}`, c = r.cells;
    const img = path.resolve(root, c.image), mask = path.resolve(root, c.mask);
    if (!c.image || !fs.existsSync(img)) { problems.push({ where, what: `image '${c.image}' not found` }); continue; }
    if (!c.mask || !fs.existsSync(mask)) { problems.push({ where, what: `mask '${c.mask}' not found` }); continue; }
    const label = c.label || options.objectLabel || 'polyp';
    const item = { id: c.image, image: { path: img }, mask, label, line: r.line };
    if ('bboxes_xyxy' in c) {
      const boxes = parseBoxList(c.bboxes_xyxy, label);
      if (!boxes) { problems.push({ where, what: `bboxes_xyxy '${c.bboxes_xyxy}' is not "x1 y1 x2 y2;..."` }); continue; }
      item.boxes = boxes;
      item.count = 'n_boxes' in c && c.n_boxes !== '' ? Number(c.n_boxes) : boxes.length;
      if (!Number.isInteger(item.count) || item.count < 0) { problems.push({ where, what: `n_boxes '${c.n_boxes}' is not a count` }); continue; }
    }
    items.push(item);
  }
  return { root, items, problems };
}

const OPTION_LETTERS = 'ABCDEFGHIJ'.split('');

function readVlmTsv(file, options) {
  const { header, rows, problems: pp } = parseDelimited(readText(file), { delimiter: '\t' });
  for (const col of ['index', 'question', 'answer']) if (!header.includes(col)) throw new DatasetError(`${file}: no '${col}' column: not a VLMEvalKit multiple-choice TSV (columns: ${header.join(', ')})`);
  const root = path.resolve(options.images ?? path.dirname(file));
  const letters = OPTION_LETTERS.filter((l) => header.includes(l));
  if (letters.length < 2) throw new DatasetError(`${file}: fewer than two option columns (A, B, ...)`);
  const byIndex = new Map(rows.map((r) => [r.cells.index, r]));
  const items = [], problems = pp.map((q) => ({ where: `${path.basename(file)} line ${q.line}`, what: q.what }));
  for (const r of rows) {
    const c = r.cells, where = `${path.basename(file)} line ${r.line} (index ${c.index})`;
    const options_ = {};
    for (const l of letters) if (c[l] !== undefined && c[l].trim() !== '' && c[l] !== 'nan') options_[l] = c[l].trim();
    const answer = c.answer.trim();
    if (!c.question.trim()) { problems.push({ where, what: 'empty question' }); continue; }
    if (Object.keys(options_).length < 2) { problems.push({ where, what: 'fewer than two options' }); continue; }
    if (!(answer in options_)) { problems.push({ where, what: `answer '${answer}' is not one of the options ${Object.keys(options_).join(', ')}` }); continue; }
    let image = null;
    let img = (c.image ?? '').trim();
    // VLMEvalKit stores a repeated image once: other rows give that row's index instead.
    if (img && img.length <= 64 && byIndex.has(img) && byIndex.get(img) !== r) img = byIndex.get(img).cells.image.trim();
    if (img.startsWith('[')) { problems.push({ where, what: 'several images per question are not supported' }); continue; }
    if (img) image = { base64: img.replace(/^data:[^,]*,/, ''), name: `${path.basename(file)}#${c.index}` };
    else if (c.image_path) {
      const p = path.resolve(root, c.image_path.trim());
      if (!fs.existsSync(p)) { problems.push({ where, what: `image_path '${c.image_path}' not found` }); continue; }
      image = { path: p };
    } else { problems.push({ where, what: 'no image (image or image_path column)' }); continue; }
    const hint = c.hint && c.hint !== 'nan' ? c.hint.trim() : '';
    items.push({ id: String(c.index), image, question: c.question.trim(), hint, options: options_, answer,
      category: c.category ?? c['l2-category'] ?? '', line: r.line });
  }
  return { root, items, problems };
}

// A folder of images, each with its reference text in a .txt file of the same name.
function readPairFolder(dir) {
  const items = [], problems = [];
  for (const f of walk(dir).filter(isImageFile)) {
    const txt = path.join(dir, f.replace(/\.[^.]+$/, '.txt'));
    if (!fs.existsSync(txt)) { problems.push({ where: f, what: `no reference text (${path.basename(txt)})` }); continue; }
    const ref = readText(txt).trim();
    if (!ref) { problems.push({ where: f, what: `${path.basename(txt)} is empty` }); continue; }
    items.push({ id: f, image: { path: path.join(dir, f) }, references: [ref] });
  }
  return { root: dir, items, problems };
}

function readPairs(file, options) {
  if (fs.statSync(file).isDirectory()) return readPairFolder(file);
  const root = path.resolve(options.images ?? path.dirname(file));
  const items = [], problems = [];
  let records;
  if (file.endsWith('.jsonl')) {
    records = [];
    readText(file).split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      try { records.push({ line: i + 1, cells: JSON.parse(l) }); } catch (e) { problems.push({ where: `${path.basename(file)} line ${i + 1}`, what: `not JSON (${e.message})` }); }
    });
  } else {
    const t = parseDelimited(readText(file), { delimiter: file.endsWith('.tsv') ? '\t' : ',' });
    records = t.rows;
    problems.push(...t.problems.map((q) => ({ where: `${path.basename(file)} line ${q.line}`, what: q.what })));
  }
  const keys = records.length ? Object.keys(records[0].cells) : [];
  const imageCol = pick(keys, ['image', 'image_path', 'path', 'file'], options.imageColumn, 'image');
  const refCol = pick(keys, ['references', 'reference', 'report', 'caption', 'text', 'answer'], options.referenceColumn, 'reference');
  if (records.length && (!imageCol || !refCol)) throw new DatasetError(`${file}: cannot find the ${!imageCol ? 'image' : 'reference'} column (have ${keys.join(', ')})`);
  const index = new ImageIndex(root);
  for (const r of records) {
    const where = `${path.basename(file)} line ${r.line}`, c = r.cells;
    const ref = c[refCol];
    const refs = (Array.isArray(ref) ? ref : [ref]).filter((x) => typeof x === 'string' && x.trim()).map((x) => x.trim());
    if (!refs.length) { problems.push({ where, what: `no reference text in '${refCol}'` }); continue; }
    const found = index.find(String(c[imageCol] ?? '').trim());
    if (!found || found.ambiguous) { problems.push({ where, what: `image '${c[imageCol]}' not found under ${root}` }); continue; }
    const item = { id: path.relative(root, found), image: { path: found }, references: refs, line: r.line };
    if (typeof c.question === 'string' && c.question.trim()) item.question = c.question.trim();
    items.push(item);
  }
  return { root, items, problems };
}

const READERS = { folders: readFolders, csv: readLabelCsv, coco: readCoco, masks: readMasks, tsv: readVlmTsv, pairs: readPairs };

// The bytes of an item's image (never throws: {bytes} or {error}).
export function imageBytes(item) {
  try {
    if (item.image.path) return { bytes: new Uint8Array(fs.readFileSync(item.image.path)) };
    const b = Buffer.from(item.image.base64, 'base64');
    if (!b.length) return { error: 'the image cell holds no base64 data' };
    return { bytes: new Uint8Array(b.buffer, b.byteOffset, b.length) };
  } catch (e) {
    return { error: `cannot read the image (${e.code ?? e.message})` };
  }
}

// How an item's image is named in the predictions file.
export const imageName = (item, root) => (item.image.path ? path.relative(root, item.image.path) : item.image.name);
