// image_url.js: images for the server as data: URLs (server/API.md: PNG,
// JPEG or BMP). The file's own bytes are sent as they are, so a JPEG is
// never decoded and re-compressed on the way; pixels that have no file (a
// cropped region) are encoded as PNG, which is lossless.

// The image type of encoded bytes from their first bytes, or null.
export function sniffImageType(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'image/bmp';
  return null;
}

export function base64(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(s);
}

// data: URL of an image file's bytes; throws when they are not PNG, JPEG or BMP.
export function dataUrlFromBytes(bytes) {
  const type = sniffImageType(bytes);
  if (!type) throw new Error('the image is not PNG, JPEG or BMP, which is what the server reads');
  return `data:${type};base64,${base64(bytes)}`;
}

// data: URL of RGBA pixels as a PNG (browser: OffscreenCanvas, lossless).
export async function dataUrlFromRgba({ rgba, width, height }) {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, width * height * 4), width, height), 0, 0);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return dataUrlFromBytes(new Uint8Array(await blob.arrayBuffer()));
}

// SHA-256 of bytes as lowercase hex (the server's image_id is the sha256 of the image bytes).
export async function sha256Hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}
