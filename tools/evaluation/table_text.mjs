// table_text.mjs: delimited text (CSV, TSV) as rows of named cells, with the
// line each row starts on, for the dataset readers' messages. Quoted cells may
// hold delimiters, doubled quotes and line breaks (pandas writes VLMEvalKit
// TSVs that way). A row whose cell count differs from the header's is
// returned as a problem, not as a row.

// text -> {header: [names], rows: [{line, cells: {name: value}}], problems: [{line, what}]}
export function parseDelimited(text, { delimiter = ',' } = {}) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);  // UTF-8 byte-order mark
  const records = [];
  let cells = [], cur = '', quoted = false, line = 1, startLine = 1, cellStarted = false;
  const endCell = () => { cells.push(cur); cur = ''; cellStarted = false; };
  const endRecord = () => {
    endCell();
    if (!(cells.length === 1 && cells[0] === '')) records.push({ line: startLine, cells });
    cells = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { cur += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') line++;
        cur += c;
      }
    } else if (c === '"' && !cellStarted && cur === '') {
      quoted = true; cellStarted = true;
    } else if (c === delimiter) {
      endCell();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      startLine = line;
    } else {
      cur += c; cellStarted = true;
    }
  }
  if (quoted) {
    // An unterminated quote swallows the rest of the file: say where it began.
    return { header: records[0]?.cells ?? [], rows: [], problems: [{ line: startLine, what: 'a quoted cell is never closed (unbalanced ")' }],
      partialRows: records };
  }
  if (cur !== '' || cells.length) endRecord();
  if (!records.length) return { header: [], rows: [], problems: [{ line: 1, what: 'the file is empty' }] };
  const header = records[0].cells.map((h) => h.trim());
  const rows = [], problems = [];
  for (const r of records.slice(1)) {
    if (r.cells.length !== header.length) {
      problems.push({ line: r.line, what: `${r.cells.length} cells where the header has ${header.length}` });
      continue;
    }
    rows.push({ line: r.line, cells: Object.fromEntries(header.map((h, i) => [h, r.cells[i]])) });
  }
  return { header, rows, problems };
}

// One CSV cell, quoted when it must be.
export function csvCell(v) {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header, rows) {
  return [header.map(csvCell).join(','), ...rows.map((r) => header.map((h) => csvCell(r[h])).join(','))].join('\n') + '\n';
}

// The delimiter of a table from its header line: the most frequent of comma, tab and semicolon
// (HyperKvasir's split files use semicolons).
export function sniffDelimiter(text) {
  const head = text.split(/\r?\n/, 1)[0] ?? '';
  const count = (c) => head.split(c).length - 1;
  return ['\t', ';', ','].reduce((best, c) => (count(c) > count(best) ? c : best), ',');
}
