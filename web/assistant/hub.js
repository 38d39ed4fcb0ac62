// hub.js: Hugging Face specifics for the model manager: the hosts (from
// hub_hosts.json, the one list the server's CSP default also comes from), the
// package URL built from a repo id and revision, and the user's access token.
//
// The token rule (see README_hub.md):
//   - kept only in this browser (localStorage, key TOKEN_KEY), removable;
//   - sent only as "Authorization: Bearer" on https requests to a token host
//     (huggingface.co, hf.co): never to a CDN or any other host, never in a URL;
//   - redirects: sources.js follows them itself where it can see them and
//     re-checks the rule for each hop; where the platform hides them (a browser
//     answers redirect:'manual' with an opaque response) the Fetch standard drops
//     a script-set Authorization header on any cross-origin hop (whatwg/fetch
//     #1544), and the page's CSP connect-src bounds every hop to the model hosts.

import HUB from './hub_hosts.json' with { type: 'json' };

export const HUB_TOKEN_HOSTS = Object.freeze([...HUB.token_hosts]);
export const HUB_DOWNLOAD_ORIGINS = Object.freeze(HUB.download_origins.map((o) => o.origin));
export const HUB_DOWNLOAD_HOSTS = Object.freeze(HUB_DOWNLOAD_ORIGINS.map((o) => new URL(o).host));

export const TOKEN_KEY = 'endoscribe.huggingface.token';

// True when `url` may carry the token: https, default port, a token host.
export function isTokenHost(url) {
  const u = url instanceof URL ? url : new URL(url);
  return u.protocol === 'https:' && u.port === '' && u.username === '' && HUB_TOKEN_HOSTS.includes(u.hostname);
}

export function isHubHost(url) {
  const u = url instanceof URL ? url : new URL(url);
  return u.protocol === 'https:' && HUB_DOWNLOAD_HOSTS.includes(u.host);
}

// The user's token, in this browser only. storage: localStorage (tests pass a Map-like).
export function tokenStore(storage = globalThis.localStorage) {
  return {
    get: () => {
      try { return storage?.getItem(TOKEN_KEY) || null; } catch { return null; }
    },
    set: (token) => {
      const t = checkToken(token);
      storage.setItem(TOKEN_KEY, t);
      return t;
    },
    remove: () => { try { storage?.removeItem(TOKEN_KEY); } catch { /* none */ } },
    // What the panel shows: never the token itself.
    hint: () => {
      const t = tokenStore(storage).get();
      return t ? `${t.slice(0, 3)}...${t.slice(-4)}` : null;  // ASCII: the app font has no ellipsis
    },
  };
}

export class HubInputError extends Error {
  constructor(message, details = '') {
    super(message);
    this.name = 'HubInputError';
    this.details = details;
  }
}

// A token is one header value: visible ASCII, no spaces (hub tokens are "hf_..." ).
export function checkToken(token) {
  const t = String(token ?? '').trim();
  if (!t) throw new HubInputError('The access token is empty. Copy it from huggingface.co > Settings > Access Tokens.');
  if (!/^[\x21-\x7e]{8,512}$/.test(t))
    throw new HubInputError('That does not look like a Hugging Face access token (it should be one word, usually starting with hf_).',
      'expected 8-512 visible ASCII characters without spaces');
  return t;
}

// Repo ids as the hub allows them: "namespace/name", letters, digits, '-', '_', '.'.
const REPO_PART = /^(?![.-])[A-Za-z0-9._-]{1,96}$/;

// Reads what the user typed: "google/medgemma-4b-it",
// "https://huggingface.co/google/medgemma-4b-it" (or .../tree/<rev>, hf.co/...).
// Returns {repo, revision} (revision from the text, else `revision`, else 'main').
export function parseHubRepo(text, revision = '') {
  let t = String(text ?? '').trim();
  let rev = String(revision ?? '').trim();
  const m = /^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\/(.*)$/i.exec(t);
  if (m) {
    const parts = m[1].split(/[?#]/)[0].split('/').filter(Boolean);
    t = parts.slice(0, 2).join('/');
    if ((parts[2] === 'tree' || parts[2] === 'resolve' || parts[2] === 'blob') && parts[3] && !rev)
      rev = decodeURIComponent(parts[3]);
  }
  const parts = t.split('/');
  if (parts.length !== 2 || !parts.every((p) => REPO_PART.test(p) && !p.includes('..') && !p.endsWith('.')))
    throw new HubInputError(`"${text}" is not a Hugging Face model name. Type it as owner/name, e.g. onnx-community/medgemma-4b-it-ONNX.`,
      'expected namespace/name (letters, digits, - _ .)');
  rev = rev || 'main';
  // Branch, tag or commit; refs/pr/N for pull requests. No '..', no control characters.
  if (rev.length > 256 || /[\x00-\x20\x7f\\?#%]/.test(rev) || rev.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw new HubInputError(`"${rev}" is not a revision (a branch, tag or commit such as main).`);
  return { repo: parts.join('/'), revision: rev };
}

// https://huggingface.co/<repo>/resolve/<revision>/ : the package's base URL;
// files are beneath it in the onnx-community layout (config.json, onnx/...).
// The revision is one path segment on the hub ("refs/pr/1" -> refs%2Fpr%2F1).
export function hubPackageUrl(repo, revision = 'main') {
  const r = parseHubRepo(repo, revision);
  return `https://huggingface.co/${r.repo}/resolve/${encodeURIComponent(r.revision)}/`;
}

// The plain message for a gated or private repo (401/403 from a token host).
export class GatedModelError extends Error {
  constructor(status, url, hadToken) {
    super(hadToken
      ? 'This model is gated or private and your access token was refused: accept its licence on huggingface.co with the account the token belongs to, or enter a token with read access in Models > Hugging Face token.'
      : 'This model is gated: accept its licence on huggingface.co and enter an access token in Models > Hugging Face token.');
    this.name = 'GatedModelError';
    this.status = status;
    this.details = `HTTP ${status} from ${new URL(url).host}${hadToken ? ' (with a token)' : ' (no token)'}`;
    this.fatal = true;
  }
}
