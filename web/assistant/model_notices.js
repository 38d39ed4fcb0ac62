// model_notices.js: the model runtime's remarks (technical strings from
// webgpu_check.js, package.js, runtime.js) as messages for clinicians:
// {text, details}, the plain words first, the remark itself as the details.
// Also what a package says about itself: the built-in tiny model is a test
// model with random weights (config.json "endoscribe": {"test_model": true}).

const PLAIN = [
  [/software adapter/, 'This browser has no usable graphics card (its WebGPU runs in software), so the assistant runs on the processor, which is faster here.'],
  [/assistant_ep=wasm/, 'The assistant runs on the processor, as the page address asks (assistant_ep=wasm).'],
  [/shader-f16/, 'This graphics card cannot run the faster half-precision model; EndoScribe uses the full-precision version instead (slower, same answers).'],
  [/no WebGPU|no GPU adapter|adapter request failed|WebGPU could not run|WebGPU unavailable/i,
    'The assistant cannot use the graphics card here, so it runs on the processor: answers will be slow.'],
  [/needs GPU buffers up to/, 'This model is too large for this graphics card, so it runs on the processor: answers will be slow.'],
  [/no manifest\.json/, 'This model package has no checksums, so a damaged download could go unnoticed.'],
  [/cached copy was discarded/, 'A damaged copy of a model file in this browser was replaced by a fresh download.'],
  [/token_type_ids/, 'This model package is an older export: its answers can differ slightly from the original model.'],
];

export function plainModelNotice(technical) {
  const hit = PLAIN.find(([re]) => re.test(technical));
  return { text: hit ? hit[1] : 'A note about the loaded model (see details).', details: technical };
}

export const TEST_MODEL_WARNING = 'Test model with random weights: its answers are meaningless. Load a real model in Models.';

// {test_model, description} from the package's config.json "endoscribe" block.
export function testModelInfo(pkg) {
  const e = pkg?.config?.endoscribe ?? {};
  if (e.test_model !== true) return { test_model: false, description: null };
  return { test_model: true, description: typeof e.description === 'string' ? e.description : null };
}
