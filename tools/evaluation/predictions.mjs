// predictions.mjs: the run's predictions file, append-only (predictions.jsonl,
// one JSON record a line, written as each answer arrives), and run.json with
// the settings it was made with. A run started again with the same settings
// skips what is already there; with other settings it stops and says which
// differ. A last line cut short by a kill is dropped and redone.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export const PREDICTIONS = 'predictions.jsonl';
export const RUN = 'run.json';

// Canonical JSON (sorted keys) for hashing and comparing settings.
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
export const configHash = (config) => crypto.createHash('sha256').update(canonical(config)).digest('hex');

function differences(a, b, prefix = '') {
  const out = [];
  for (const k of new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])) {
    const x = a?.[k], y = b?.[k];
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x)) out.push(...differences(x, y, `${prefix}${k}.`));
    else if (canonical(x) !== canonical(y)) out.push(`${prefix}${k}: ${JSON.stringify(x)} before, ${JSON.stringify(y)} now`);
  }
  return out;
}

// Records of a predictions file; a torn last line is reported in `torn`.
export function readPredictions(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new Error(`cannot read ${file} (${e.code ?? e.message})`); }
  const records = [], bad = [];
  const lines = text.split('\n');
  let goodBytes = 0, offset = 0;
  lines.forEach((l, i) => {
    const len = Buffer.byteLength(l) + (i < lines.length - 1 ? 1 : 0);
    if (l.trim()) {
      try { records.push(JSON.parse(l)); goodBytes = offset + len; } catch { bad.push(i + 1); }
    } else if (i < lines.length - 1) goodBytes = offset + len;
    offset += len;
  });
  const torn = bad.length === 1 && bad[0] === lines.length - (text.endsWith('\n') ? 1 : 0) && !text.endsWith('\n');
  if (bad.length && !torn) throw new Error(`${file}: line ${bad[0]} is not JSON (the file was edited or damaged)`);
  return { records, torn, goodBytes };
}

export class PredictionStore {
  // dir: the run's output folder; config: everything that decides the results.
  static open(dir, config, { restart = false } = {}) {
    fs.mkdirSync(dir, { recursive: true });
    const s = new PredictionStore();
    s.dir = dir;
    s.file = path.join(dir, PREDICTIONS);
    s.config = config;
    s.hash = configHash(config);
    s.records = [];
    s.resumed = 0;
    const runFile = path.join(dir, RUN);
    if (restart) { fs.rmSync(s.file, { force: true }); fs.rmSync(runFile, { force: true }); }
    if (fs.existsSync(s.file)) {
      const before = fs.existsSync(runFile) ? JSON.parse(fs.readFileSync(runFile, 'utf8')) : null;
      if (!before) throw new Error(`${dir} holds predictions but no ${RUN}: use another --out folder, or --restart to start over`);
      if (before.config_sha256 !== s.hash) {
        const diff = differences(before.config, config);
        throw new Error(`${dir} holds a run made with other settings, so it cannot be resumed:\n  ${diff.join('\n  ') || '(settings differ)'}\n` +
          'Run with the same settings to resume it, use another --out folder, or --restart to start over.');
      }
      const { records, torn, goodBytes } = readPredictions(s.file);
      if (torn) fs.truncateSync(s.file, goodBytes);  // the line a kill cut short is done again
      s.records = records;
      s.resumed = records.length;
    }
    fs.writeFileSync(runFile, JSON.stringify({ config, config_sha256: s.hash,
      started: new Date().toISOString(), resumed_records: s.resumed }, null, 1));
    s.done = new Set(s.records.map((r) => r.key));
    s.fd = fs.openSync(s.file, 'a');
    return s;
  }

  has(key) { return this.done.has(key); }

  append(record) {
    fs.writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.records.push(record);
    this.done.add(record.key);
  }

  close() { if (this.fd !== undefined) fs.closeSync(this.fd); this.fd = undefined; }
}
