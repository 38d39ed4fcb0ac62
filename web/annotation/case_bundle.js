// case_bundle.js: a whole case in one file (".endoscribe.json"):
//   {
//     "format": "endoscribe-case-bundle", "version": 1,
//     "document": { the annotation document, as stored (case_store.js) },
//     "images": [ { "name": "image-1.png", "bytes_base64": "..." } ],  // the files as opened, in case order
//     "report": { the structured report (es_report_document, src/report/README.md) },  // only when it has content
//     "agent_traces": [ { "id", "image", "question", "when", "jsonl" } ]  // the case agent's runs, when any
//   }
// Later parts of a case (conversation) join as further top-level keys. A
// reader checks the report on its own (report_from_json): a bad report never
// stops the images and annotations from opening. Writing the same case twice gives the same bytes (no timestamps), so
// export -> import -> export is byte-identical.
export const BUNDLE_FORMAT = 'endoscribe-case-bundle';

export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function writeBundle(documentText, images, reportText = null, agentTraces = []) {
  const bundle = {
    format: BUNDLE_FORMAT,
    version: 1,
    document: JSON.parse(documentText),
    images: images.map((img) => ({ name: img.name, bytes_base64: toBase64(img.bytes) })),
  };
  if (reportText != null) bundle.report = JSON.parse(reportText);
  if (agentTraces.length) {
    bundle.agent_traces = agentTraces.map((t) => ({ id: t.id, image: t.image, question: t.question, when: t.when, jsonl: t.jsonl }));
  }
  return JSON.stringify(bundle);
}

// -> {documentText, images: [{name, bytes}], reportText (the "report" key as
// JSON text, unchecked; null when absent), agentTraces (the well-formed
// entries of "agent_traces"; their JSON lines are read by the agent, which
// keeps unreadable lines)}; throws an Error naming the problem.
export function readBundle(text) {
  let j;
  try { j = JSON.parse(text); } catch (e) { throw new Error(`not JSON (${e.message})`); }
  if (!j || typeof j !== 'object' || j.format !== BUNDLE_FORMAT) throw new Error('not an EndoScribe case bundle (format field)');
  if (j.version !== 1) throw new Error(`bundle version ${j.version} is not supported (this app reads version 1)`);
  if (!j.document || typeof j.document !== 'object') throw new Error('the bundle has no annotation document');
  if (!Array.isArray(j.images) || !j.images.length) throw new Error('the bundle has no images');
  const names = new Set();
  const images = j.images.map((img, i) => {
    if (!img || typeof img.name !== 'string' || !img.name || /[\\/]/.test(img.name)) throw new Error(`images[${i}]: bad name`);
    if (names.has(img.name)) throw new Error(`images[${i}]: "${img.name}" appears twice`);
    names.add(img.name);
    if (typeof img.bytes_base64 !== 'string') throw new Error(`images[${i}]: no bytes_base64`);
    let bytes;
    try { bytes = fromBase64(img.bytes_base64); } catch { throw new Error(`images[${i}] ("${img.name}"): bytes_base64 is not base64`); }
    return { name: img.name, bytes };
  });
  const reportText = j.report === undefined || j.report === null ? null : JSON.stringify(j.report);
  const agentTraces = (Array.isArray(j.agent_traces) ? j.agent_traces : []).filter((t) => t && typeof t.id === 'string' &&
    /^[\w.-]{1,80}$/.test(t.id) && typeof t.jsonl === 'string').map((t) => ({ id: t.id, image: String(t.image ?? ''),
    question: String(t.question ?? ''), when: Number.isFinite(t.when) ? t.when : 0, jsonl: t.jsonl }));
  return { documentText: JSON.stringify(j.document), images, reportText, agentTraces };
}
