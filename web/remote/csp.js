// csp.js: would the page's Content-Security-Policy let it connect to a URL?
// The app's server lists inference servers in connect-src
// ("inference_servers" in server/config.json; GET /api/config gives the
// policy), and a fetch the policy blocks fails with the same TypeError as an
// unreachable server. Checking the policy first lets the app say which of
// the two it is. A policy this code cannot read is taken as allowing (the
// browser's own check still applies; the securitypolicyviolation event is
// the fallback, see client.js).

// The connect-src (or default-src) source list of a policy text, or null.
export function connectSources(policy) {
  if (!policy) return null;
  const directives = new Map();
  for (const part of String(policy).split(';')) {
    const words = part.trim().split(/\s+/).filter(Boolean);
    if (!words.length) continue;
    const name = words[0].toLowerCase();
    if (!directives.has(name)) directives.set(name, words.slice(1));
  }
  return directives.get('connect-src') ?? directives.get('default-src') ?? null;
}

const defaultPort = (scheme) => (scheme === 'https:' || scheme === 'wss:' ? '443' : scheme === 'http:' || scheme === 'ws:' ? '80' : '');

function hostMatches(pattern, host) {
  pattern = pattern.toLowerCase();
  host = host.toLowerCase();
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

// Does one source expression match url (a URL) from a page at pageOrigin?
function sourceMatches(src, url, pageOrigin) {
  const s = src.toLowerCase();
  if (s === "'none'") return false;
  if (s === "'self'") return url.origin === pageOrigin;
  if (s.startsWith("'")) return false;  // nonces, hashes, keywords: not for connections
  if (s === '*') return ['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol);
  if (/^[a-z][a-z0-9+.-]*:$/.test(s)) return url.protocol === s || (s === 'http:' && url.protocol === 'https:');
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/:]+)(?::(\d+|\*))?(\/.*)?$/.exec(s);
  if (!m) return false;
  const [, scheme, host, port, path] = m;
  if (scheme) {
    const want = `${scheme}:`;
    if (!(url.protocol === want || (want === 'http:' && url.protocol === 'https:'))) return false;
  } else {
    const page = new URL(pageOrigin).protocol;
    if (!(url.protocol === page || (page === 'http:' && url.protocol === 'https:'))) return false;
  }
  if (!hostMatches(host, url.hostname)) return false;
  const urlPort = url.port || defaultPort(url.protocol);
  const wantPort = port ?? defaultPort(scheme ? `${scheme}:` : url.protocol);
  if (wantPort !== '*' && wantPort !== urlPort) return false;
  if (path && path !== '/') return path.endsWith('/') ? url.pathname.startsWith(path) : url.pathname === path;
  return true;
}

// true / false; true when the policy is unknown or has no connect-src/default-src.
export function cspAllowsConnect(policy, url, pageOrigin) {
  const sources = connectSources(policy);
  if (!sources) return true;
  const u = new URL(url);
  return sources.some((s) => sourceMatches(s, u, pageOrigin));
}
