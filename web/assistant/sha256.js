// sha256.js: SHA-256 that takes its input in pieces, so a multi-gigabyte model
// file is checked as it streams to the cache without ever being held whole in
// memory (Web Crypto's crypto.subtle.digest only hashes one buffer). The hash
// is npm hash-wasm's WebAssembly SHA-256 (createSHA256: init/update/digest).
//
// Where the library comes from: in the app, the copy the build puts at
// app/hash-wasm/sha256.umd.min.js (ui/app_assets.cmake; the service worker
// precaches it with the rest of the app, so hashing works offline); under Node
// (tests, tools) the same file from node_modules. It is loaded on first use.
//
//   const h = await createSha256(); h.update(bytes); ...; h.hex()

const IN_NODE = !!globalThis.process?.versions?.node;
let library = null;

async function loadLibrary() {
  if (IN_NODE) {
    const m = await import('hash-wasm/dist/sha256.umd.min.js');  // CommonJS in Node: its exports are the default
    return m.createSHA256 ? m : m.default;
  }
  // A UMD file: evaluated as a module it defines globalThis.hashwasm.
  await import('../hash-wasm/sha256.umd.min.js');
  if (!globalThis.hashwasm?.createSHA256) throw new Error('hash-wasm/sha256.umd.min.js did not define hashwasm.createSHA256');
  return globalThis.hashwasm;
}

export class Sha256 {
  constructor(hasher) {
    this.hasher = hasher;  // hash-wasm's IHasher, initialised
    this.length = 0;       // bytes hashed so far
    this.digestHex = null;
  }

  update(bytes) {
    if (this.digestHex !== null) throw new Error('sha256: update after digest');
    const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    this.hasher.update(data);
    this.length += data.length;
    return this;
  }

  // The digest as 64 hex digits; the hasher is finished afterwards (asking
  // again gives the same digest).
  hex() {
    this.digestHex ??= this.hasher.digest('hex');
    return this.digestHex;
  }
}

// A new incremental hasher (the WebAssembly module is compiled once).
export async function createSha256() {
  library ??= loadLibrary().catch((e) => { library = null; throw e; });
  const { createSHA256 } = await library;
  return new Sha256(await createSHA256());
}

// The sha256 of a Blob (a cached file), read in slices: memory stays at one slice.
export async function sha256OfBlob(blob, { slice = 8 << 20, hasher = null } = {}) {
  hasher ??= await createSha256();
  for (let o = 0; o < blob.size; o += slice)
    hasher.update(new Uint8Array(await blob.slice(o, Math.min(blob.size, o + slice)).arrayBuffer()));
  return hasher;
}
