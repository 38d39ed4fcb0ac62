// metrics_api.js: the evaluation metrics of the C++ core (src/metrics, export
// es_metrics_score_predictions in web/bindings/metrics_bindings.cpp) for JS.
// Works on the Node module (<wasm build>/node/endoscribe_core.mjs) and on the
// app's module: only _malloc/_free, HEAPU8 and the es_* exports are used.
// Formats: src/metrics/README.md.

export class MetricsError extends Error {
  constructor(message, detail) {
    super(message);
    this.name = 'MetricsError';
    this.detail = detail || '';
  }
}

function readString(module, ptr) {
  const heap = module.HEAPU8;
  let end = ptr;
  while (heap[end]) end++;
  return new TextDecoder().decode(heap.subarray(ptr, end));
}

// Scores one task object ({task: 'classification', ...}) or {tasks: [...]};
// a string is passed as it is (e.g. a saved predictions file). Returns the
// parsed result; throws MetricsError with the core's plain-words message.
export function scorePredictions(module, input) {
  if (typeof module._es_metrics_score_predictions !== 'function') {
    throw new MetricsError('This build of the core has no metrics: rebuild the WASM core (scripts/build.sh).');
  }
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  const bytes = new TextEncoder().encode(text);
  const p = module._malloc(bytes.length + 1);
  if (!p) throw new MetricsError('Not enough memory to score these predictions.', `malloc(${bytes.length + 1}) failed`);
  let out;
  try {
    module.HEAPU8.set(bytes, p);
    module.HEAPU8[p + bytes.length] = 0;
    out = module._es_metrics_score_predictions(p);
  } finally {
    module._free(p);
  }
  if (!out) {
    throw new MetricsError(readString(module, module._es_metrics_last_error()),
      readString(module, module._es_metrics_last_error_detail()));
  }
  return JSON.parse(readString(module, out));
}
