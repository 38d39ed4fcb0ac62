// hub_emulator.mjs: Hugging Face as it answers downloads today, emulated on
// 127.0.0.1 for tests (no network): a "hub" (huggingface.co) answering
// /<repo>/resolve/<rev>/<path> with a 302 to a signed URL on a "cdn"
// (cas-bridge.xethub.hf.co), a 401/403 for a gated repo, and an "evil" host
// that must never be contacted (or, when contacted, never see the token).
//
// Run as a child process (so the test process's memory is the client's alone):
//   node hub_emulator.mjs '<json config>'   prints {"hub": port, "cdn": port, "evil": port}
// config: {files: {"<repo>/<path>": "/abs/file"}, gated: {"<repo>": "hf_goodtoken"},
//          dropAfter: [bytes, ...] (the CDN cuts the connection of its n-th GET
//          after that many bytes), ignoreRange: n (the CDN answers its first n
//          Range requests with the whole file), redirectTo: {"<repo>/<path>": "https://evil.example/x"}}
// Every request is logged; GET /__log on any server returns them all.
// The fetch side is emulatedFetch() below.
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';

export const HOSTS = { hub: 'huggingface.co', cdn: 'cas-bridge.xethub.hf.co', evil: 'evil.example' };

function serve(config) {
  const log = [];
  let cdnGets = 0, rangesIgnored = 0;
  const servers = {};
  const handler = (name) => (req, res) => {
    if (req.url === '/__log') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(log));
    }
    log.push({ host: name, path: req.url, authorization: req.headers.authorization ?? null, range: req.headers.range ?? null });
    const url = new URL(req.url, 'http://x');
    if (name === 'hub') {
      const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
      if (!m) { res.statusCode = 404; return res.end('not found'); }
      const [, repo, , file] = m;
      const key = `${repo}/${decodeURIComponent(file)}`;
      const need = config.gated?.[repo];
      if (need) {
        const auth = req.headers.authorization;
        if (!auth) { res.statusCode = 401; res.setHeader('x-error-code', 'GatedRepo'); return res.end('gated'); }
        if (auth !== `Bearer ${need}`) { res.statusCode = 403; res.setHeader('x-error-code', 'GatedRepo'); return res.end('no access'); }
      }
      if (config.redirectTo?.[key]) {
        res.statusCode = 302;
        res.setHeader('location', config.redirectTo[key]);
        return res.end();
      }
      if (!config.files?.[key]) { res.statusCode = 404; res.setHeader('x-error-code', 'EntryNotFound'); return res.end('entry not found'); }
      // Like the hub: a signed URL on the storage bridge.
      const sig = crypto.createHash('sha256').update(key).digest('hex');
      res.statusCode = 302;
      res.setHeader('location', `https://${HOSTS.cdn}/xet-bridge-us/${sig}?key=${encodeURIComponent(key)}&X-Amz-Signature=${sig.slice(0, 16)}`);
      return res.end();
    }
    if (name === 'cdn') {
      const key = url.searchParams.get('key');
      const file = config.files?.[key];
      if (!file) { res.statusCode = 403; return res.end('bad signature'); }
      const size = fs.statSync(file).size;
      const n = ++cdnGets;
      let start = 0, partial = false;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      if (range && rangesIgnored < (config.ignoreRange ?? 0)) {
        rangesIgnored++;
      } else if (range) {
        start = Number(range[1]);
        if (start >= size) {
          res.writeHead(416, { 'content-range': `bytes */${size}` });
          return res.end();
        }
        res.writeHead(206, { 'content-length': size - start, 'content-range': `bytes ${start}-${size - 1}/${size}`, 'accept-ranges': 'bytes' });
        partial = true;
      }
      if (!partial) res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
      const cut = config.dropAfter?.[n - 1];
      const stream = fs.createReadStream(file, { start, highWaterMark: 1 << 20 });
      if (cut == null) return stream.pipe(res);
      let sent = 0;
      stream.on('data', (chunk) => {
        if (sent + chunk.length >= cut) {
          res.write(chunk.subarray(0, cut - sent), () => { stream.destroy(); res.socket.destroy(); });
          sent = cut;
          stream.pause();
          return;
        }
        sent += chunk.length;
        if (!res.write(chunk)) { stream.pause(); res.once('drain', () => stream.resume()); }
      });
      stream.on('end', () => res.end());
      return;
    }
    res.statusCode = 200;
    res.end('evil');
  };
  const names = ['hub', 'cdn', 'evil'];
  return Promise.all(names.map((n) => new Promise((resolve) => {
    const s = http.createServer(handler(n));
    servers[n] = s;
    s.listen(0, '127.0.0.1', () => resolve([n, s.address().port]));
  }))).then((ports) => Object.fromEntries(ports));
}

// A fetch over the emulated hosts: https://<HOSTS[x]>/... goes to 127.0.0.1:<ports[x]>.
// mode 'node': redirect:'manual' shows the 3xx (as undici does);
// mode 'browser': redirect:'manual' gives an opaque response, and redirect:'follow'
// drops the Authorization header on a cross-origin hop (the Fetch standard).
// A host not in the map fails like a name that does not resolve.
export function emulatedFetch(ports, { mode = 'node', extraHosts = {} } = {}) {
  const byHost = { ...Object.fromEntries(Object.entries(HOSTS).map(([k, h]) => [h, ports[k]])), ...extraHosts };
  const one = async (url, init) => {
    const port = byHost[url.host];
    if (!port || url.protocol !== 'https:') throw new TypeError(`fetch failed: cannot reach ${url.href}`);
    const res = await fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, { headers: init.headers, redirect: 'manual', signal: init.signal });
    return { status: res.status, ok: res.ok, headers: res.headers, body: res.body, url: url.href, type: 'basic' };
  };
  return async (input, init = {}) => {
    let url = new URL(input);
    let headers = { ...(init.headers ?? {}) };
    for (let hop = 0; hop < 10; hop++) {
      const res = await one(url, { ...init, headers });
      const loc = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !loc) return res;
      if (init.redirect === 'manual') {
        if (mode === 'browser') { await res.body?.cancel(); return { status: 0, ok: false, type: 'opaqueredirect', headers: new Headers(), body: null, url: '' }; }
        return res;
      }
      await res.body?.cancel();
      const next = new URL(loc, url);
      if (next.origin !== url.origin) delete headers.Authorization;  // Fetch standard, HTTP-redirect fetch
      url = next;
    }
    throw new TypeError('too many redirects');
  };
}

// The requests the emulated hosts saw.
export async function requestLog(ports) {
  return (await fetch(`http://127.0.0.1:${ports.hub}/__log`)).json();
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  serve(JSON.parse(process.argv[2] ?? '{}')).then((ports) => process.stdout.write(`${JSON.stringify(ports)}\n`));
}
