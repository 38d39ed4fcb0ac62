// address.js: the inference server's address as the user types it
// ("gpu-box:8000", "http://10.0.0.5:8000/v1/", "https://x.example") made
// into a base URL the client appends "/v1/..." to, or a plain-words refusal.

export class AddressError extends Error {
  constructor(message, details = '') {
    super(message);
    this.name = 'AddressError';
    this.details = details;
  }
}

// -> {base: 'http://host:port' (+ path prefix, no trailing slash, no /v1), origin}.
export function normalizeAddress(text) {
  let t = String(text ?? '').trim();
  if (!t) throw new AddressError('Type the server\'s address first, e.g. http://127.0.0.1:8000.');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) t = `http://${t}`;
  let u;
  try { u = new URL(t); } catch {
    throw new AddressError(`"${text}" is not a server address. Type it as http://host:port, e.g. http://127.0.0.1:8000.`,
      'not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new AddressError(`"${text}" is not a web address: the server's address starts with http:// or https://.`, u.protocol);
  if (u.username || u.password)
    throw new AddressError('Leave the user name and password out of the address; put the server\'s token in the token field instead.',
      'credentials in URL');
  if (u.search || u.hash) throw new AddressError('The server\'s address has no "?" or "#" part: type only http://host:port.', u.search || u.hash);
  let path = u.pathname.replace(/\/+$/, '');
  // People paste the OpenAI base URL (".../v1"): the client adds /v1 itself.
  path = path.replace(/\/v1$/, '');
  return { base: `${u.origin}${path}`, origin: u.origin };
}
