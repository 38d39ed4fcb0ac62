// token_store.js: the inference server's bearer token, kept only in this
// browser (localStorage) and bound to the origin it was typed for: the
// client sends it only in requests to that origin, so changing the address
// never sends it elsewhere. The panels see only a hint (its last 4
// characters), never the token.

const KEY = 'endoscribe.remote.tokens';

export class TokenInputError extends Error {}

function readAll(storage) {
  try {
    const all = JSON.parse(storage.getItem(KEY) || '{}');
    return all && typeof all === 'object' && !Array.isArray(all) ? all : {};
  } catch { return {}; }
}

export function remoteTokenStore(storage = globalThis.localStorage) {
  return {
    get(origin) {
      const t = readAll(storage)[origin];
      return typeof t === 'string' && t ? t : null;
    },
    set(origin, token) {
      token = String(token ?? '').trim().replace(/^Bearer\s+/i, '');
      if (!token) throw new TokenInputError('Type the token first.');
      // A header value: visible ASCII only (a pasted line break would break every request).
      if (!/^[\x21-\x7e]+$/.test(token))
        throw new TokenInputError('The token has spaces or characters that are not allowed; paste it again without them.');
      const all = readAll(storage);
      all[origin] = token;
      storage.setItem(KEY, JSON.stringify(all));
    },
    remove(origin) {
      const all = readAll(storage);
      delete all[origin];
      storage.setItem(KEY, JSON.stringify(all));
    },
    hint(origin) {
      const t = this.get(origin);
      return t ? `...${t.slice(-4)}` : null;
    },
  };
}
