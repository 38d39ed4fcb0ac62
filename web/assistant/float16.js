// float16.js: IEEE half-precision conversion for the fp16/q4f16 package
// variants, whose graphs take and return float16 tensors (embeddings, image
// features, KV cache). onnxruntime hands float16 data out as Uint16Array bit
// patterns where the platform has no Float16Array (Node 20, most browsers
// today), and as Float16Array where it has one; both are handled.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// float32 -> float16 bits, round to nearest even (as numpy's astype(float16)).
export function halfBits(x) {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);          // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;                                   // overflow -> inf
  if (e <= 0) {                                                          // subnormal or zero
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;                 // may carry into the exponent: right
  return sign | h;
}

// float16 bits -> number.
export function halfValue(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const LUT = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = halfValue(i);
  return t;
})();

// Float32Array of a float16 or float32 tensor's data (a copy; float32 data is copied too, so the result
// may be kept after the tensor is released).
export function toFloat32(data) {
  if (data instanceof Float32Array) return data.slice();
  if (data instanceof Uint16Array) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = LUT[data[i]];
    return out;
  }
  return Float32Array.from(data);  // Float16Array
}

// Data for an ort.Tensor of type `type` ('float32' | 'float16') from float32 values.
export function fromFloat32(values, type) {
  if (type === 'float32') return values instanceof Float32Array ? values : Float32Array.from(values);
  if (type !== 'float16') throw new Error(`unsupported tensor type ${type}`);
  if (typeof globalThis.Float16Array === 'function') return globalThis.Float16Array.from(values);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]);
  return out;
}
