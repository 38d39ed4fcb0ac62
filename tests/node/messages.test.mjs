// Messages for clinicians (web/messages.js, web/assistant/model_notices.js):
// exceptions become plain words plus technical details; the runtime's remarks
// become plain notes; a package's test-model flag is read from config.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainError, adviceFor, technicalText, reportMessage } from '../../web/messages.js';
import { plainModelNotice, testModelInfo, TEST_MODEL_WARNING } from '../../web/assistant/model_notices.js';
import { HostNotAllowedError } from '../../web/assistant/sources.js';
import { planExecution } from '../../web/assistant/webgpu_check.js';

test('plain words first, the exception as details', { timeout: 5000 }, () => {
  const e = Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
  const m = plainError('The conversation could not be saved in this browser', e, { after: 'Nothing was lost.' });
  assert.equal(m.text, 'The conversation could not be saved in this browser: the browser\'s storage for this site is full; ' +
    'delete cached models (Models tab) or old cases, then try again. Nothing was lost.');
  assert.equal(m.details, 'QuotaExceededError: The quota has been exceeded.');
});

test('advice by kind of failure; fallback when there is none', { timeout: 5000 }, () => {
  assert.match(adviceFor(new Error('encoder.onnx: 404 not found')), /not found at that address/);
  assert.match(adviceFor(new TypeError('Failed to fetch')), /connection failed/);
  assert.match(adviceFor(new Error('onnx/x.onnx_data: sha256 does not match manifest.json (corrupt file)')), /damaged/);
  assert.match(adviceFor(new HostNotAllowedError("model host 'evil.example' is not allowed; add it to \"model_hosts\"", 'evil.example')),
    /not on this server's list of allowed model hosts/);
  assert.match(adviceFor(new RangeError('Array buffer allocation failed')), /not enough memory/);
  assert.equal(adviceFor(new Error('something odd')), null);
  const m = plainError('The model could not be loaded.', new Error('something odd'), { fallback: 'try again' });
  assert.equal(m.text, 'The model could not be loaded: try again.');
  assert.equal(m.details, 'something odd');
  assert.equal(plainError('It failed', new Error('x')).text, 'It failed.');
});

test('technical text: message without stack, name when it says more', { timeout: 5000 }, () => {
  assert.equal(technicalText(new Error('boom')), 'boom');
  assert.equal(technicalText(new TypeError('bad')), 'TypeError: bad');
  assert.equal(technicalText('plain string'), 'plain string');
  assert.equal(technicalText(null), '');
  assert.doesNotMatch(technicalText(new Error('boom')), /at .*\.js/);
});

test('reportMessage hands both parts to the app', { timeout: 5000 }, () => {
  const calls = [];
  reportMessage({ ccall: (...a) => calls.push(a) }, 'notice', 'Plain.', 'technical');
  assert.deepEqual(calls, [['es_app_report_message', null, ['string', 'string', 'string'], ['notice', 'Plain.', 'technical']]]);
});

test('runtime remarks become plain notes; shader-f16 is explained, not named', { timeout: 5000 }, () => {
  const pkg = { manifest: { files: [] }, graphPath: (g, v) => (v === 'fp16' || v === 'q4' ? `onnx/${g}_${v}.onnx` : null) };
  const plan = planExecution({ adapter: { features: new Set(), limits: {} } }, pkg, 'fp16');
  const note = plainModelNotice(plan.notices[0]);
  assert.equal(note.text, 'This graphics card cannot run the faster half-precision model; EndoScribe uses the ' +
    'full-precision version instead (slower, same answers).');
  assert.doesNotMatch(note.text, /shader-f16/);
  assert.match(note.details, /shader-f16/);
  const noGpu = planExecution({ adapter: null, reason: 'this browser has no WebGPU (navigator.gpu is missing)' }, pkg, 'q4');
  assert.match(plainModelNotice(noGpu.notices[0]).text, /runs on the processor: answers will be slow/);
  assert.equal(plainModelNotice('something new').details, 'something new');
});

test('test-model flag from the package config', { timeout: 5000 }, () => {
  assert.deepEqual(testModelInfo({ config: { endoscribe: { test_model: true, description: 'random weights' } } }),
    { test_model: true, description: 'random weights' });
  assert.deepEqual(testModelInfo({ config: { endoscribe: { grounding: {} } } }), { test_model: false, description: null });
  assert.deepEqual(testModelInfo({ config: { endoscribe: { test_model: 'yes' } } }), { test_model: false, description: null });
  assert.deepEqual(testModelInfo({ config: {} }), { test_model: false, description: null });
  assert.match(TEST_MODEL_WARNING, /random weights.*meaningless/);
});
