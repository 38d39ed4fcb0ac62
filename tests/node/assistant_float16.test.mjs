// float16 tensors for the f16-activation variants (q4f16 / fp16): the runtime
// widens float16 logits, embeddings and image features to float32 and narrows
// float32 inputs to float16 (round to nearest even), as onnxruntime and numpy do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromFloat32, toFloat32 } from '../../web/assistant/float16.js';

test('float16 <-> float32: exact on representable values, round to nearest even, inf/nan/subnormals', () => {
  const bits = (xs) => Array.from(fromFloat32(Float32Array.from(xs), 'float16'), (h) => (typeof h === 'number' ? h : Number(h)));
  const raw = (xs) => new Uint16Array(fromFloat32(Float32Array.from(xs), 'float16').buffer);
  // Known encodings (IEEE 754 binary16).
  assert.deepEqual(Array.from(raw([0, -0, 1, -2, 65504, 0.5, 2 ** -14, 2 ** -24])),
    [0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x3800, 0x0400, 0x0001]);
  // Overflow and specials.
  assert.deepEqual(Array.from(raw([70000, -Infinity, Infinity])), [0x7c00, 0xfc00, 0x7c00]);
  assert.ok(Number.isNaN(toFloat32(raw([NaN]))[0]));
  // Halfway cases round to even: 1 + 2^-11 -> 1, 1 + 3 * 2^-11 -> 1 + 2^-9.
  assert.deepEqual(Array.from(raw([1 + 2 ** -11, 1 + 3 * 2 ** -11])), [0x3c00, 0x3c02]);
  // Round trip of every finite half value.
  const all = new Uint16Array(65536).map((_, i) => i);
  const f = toFloat32(all);
  const back = raw(f);
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(f[h])) continue;
    assert.equal(back[h], h, `0x${h.toString(16)} -> ${f[h]} -> 0x${back[h].toString(16)}`);
  }
  assert.equal(bits([1]).length, 1);
});
