// backend.js: where the app's heavy work runs. Per task (chat, classify,
// segment, draft: settings.js) "this browser" or "the server at <address>";
// the address, the model picked on that server and the choices are kept in
// localStorage (they survive a reload), the bearer token in token_store.js
// (this browser only, sent only to that server's origin). The Models tab
// (ui/panel_models.cpp) draws state() and sends the actions below through
// web/assistant/app_assistant.js.
//
// check() asks the server for its models (GET /v1/models) and tells
// endoscribe-server (owned_by "endoscribe": classify, segment and report
// drafting have exact endpoints) from a plain OpenAI-compatible server
// (vLLM, llama.cpp: chat, and classify / drafting through logprobs).

import { RemoteClient } from './client.js';
import { normalizeAddress, AddressError } from './address.js';
import { remoteTokenStore, TokenInputError } from './token_store.js';
import { loadSettings, saveSettings, TASKS } from './settings.js';
import { cspAllowsConnect } from './csp.js';
import { plainRemoteError } from './errors.js';

export { TASKS };

export class RemoteBackend {
  // apiConfig: the app server's GET /api/config ({content_security_policy,
  // inference_servers}) or null; onChange(): the state changed;
  // onMessage(kind, text, details): a banner for the user.
  constructor({ storage = globalThis.localStorage, fetchImpl = globalThis.fetch?.bind(globalThis), apiConfig = null,
    pageOrigin = globalThis.location?.origin ?? 'http://localhost', onChange = () => {}, onMessage = () => {} } = {}) {
    Object.assign(this, { storage, fetchImpl, apiConfig, pageOrigin, onChange, onMessage });
    this.settings = loadSettings(storage);
    this.tokens = remoteTokenStore(storage);
    this.status = 'none';      // none | checking | connected | error
    this.error = null;         // {text, details}
    this.models = [];          // [{id, endoscribe, modalities, owned_by}]
    this.checkedBase = null;
    this.retry = null;         // {seconds, attempt} while a busy server is retried
    this.target = null;
    try { if (this.settings.address) this.target = normalizeAddress(this.settings.address); } catch { this.target = null; }
  }

  // ---- what runs where

  routes(task) { return this.settings.use[task] === 'server'; }
  // The task runs on the server and a server and model are set.
  ready(task) { return this.routes(task) && !!this.target && !!this.settings.model; }
  get endoscribe() {
    const m = this.models.find((x) => x.id === this.settings.model);
    // Before a check (just after a reload) the last known answer is kept with the settings.
    return m ? m.endoscribe : !!this.settings.endoscribe;
  }
  // Why a task routed to the server cannot run yet (plain words), or null.
  whyNot(task) {
    if (!this.routes(task)) return null;
    if (!this.target) return 'Type the server\'s address in the Models tab first.';
    if (!this.settings.model) return 'Press Check in the Models tab and pick one of the server\'s models first.';
    if (task === 'segment' && this.status === 'connected' && !this.endoscribe)
      return 'This server offers no segmentation (only endoscribe-server does): choose "this browser" for Segment in the Models tab.';
    return null;
  }

  client() {
    if (!this.target) throw new AddressError('No server address is set (Models tab).');
    const { base, origin } = this.target;
    const policy = this.apiConfig?.content_security_policy ?? null;
    return new RemoteClient({ base, origin, token: () => this.tokens.get(origin), fetchImpl: this.fetchImpl,
      csp: policy ? { policy, pageOrigin: this.pageOrigin } : null });
  }
  // {client, model, endoscribe} for one job.
  job() { return { client: this.client(), model: this.settings.model, endoscribe: this.endoscribe, address: this.target?.origin }; }

  // ---- actions from the Models tab

  setAddress(text) {
    const t = String(text ?? '').trim();
    if (!t) {
      this.settings.address = '';
      this.target = null;
    } else {
      try {
        this.target = normalizeAddress(t);
      } catch (e) {
        this.onMessage('error', e.message, e.details ?? '');
        return false;
      }
      this.settings.address = this.target.base;
    }
    if (this.checkedBase !== this.target?.base) { this.models = []; this.status = 'none'; this.error = null; }
    this.save();
    return true;
  }

  async check(address = null) {
    if (address !== null && !this.setAddress(address)) return;
    if (!this.target) { this.onMessage('notice', 'Type the server\'s address first, e.g. http://127.0.0.1:8000.'); return; }
    this.status = 'checking';
    this.error = null;
    this.onChange();
    const base = this.target.base;
    try {
      const list = await this.client().listModels();
      if (this.target?.base !== base) return;  // the address changed meanwhile
      this.models = list.map((m) => ({
        id: m.id, owned_by: m.owned_by ?? '',
        endoscribe: m.owned_by === 'endoscribe' || (m.endoscribe !== null && typeof m.endoscribe === 'object'),
        modalities: m.endoscribe?.input_modalities ?? null,
        // endoscribe-server may say its package is a random-weights test model (as the browser's packages do).
        test_model: m.endoscribe?.test_model === true,
      }));
      this.checkedBase = base;
      this.status = 'connected';
      if (!this.models.some((m) => m.id === this.settings.model)) this.settings.model = this.models[0]?.id ?? '';
      this.settings.endoscribe = this.endoscribe;
      this.save();
      if (!this.models.length) this.onMessage('notice', `The server at ${this.target.origin} answered but lists no model.`);
    } catch (e) {
      if (this.target?.base !== base) return;
      this.status = 'error';
      this.error = plainRemoteError(`The server at ${this.target.origin} could not be used`, e, this.target.origin);
      this.onMessage('error', this.error.text, this.error.details);
    } finally {
      this.onChange();
    }
  }

  pickModel(id) {
    if (!this.models.some((m) => m.id === id)) return;
    this.settings.model = id;
    this.settings.endoscribe = this.endoscribe;
    this.save();
  }

  setUse(task, where) {
    if (!TASKS.includes(task)) return;
    this.settings.use[task] = where === 'server' ? 'server' : 'browser';
    this.save();
    if (where === 'server' && this.target && this.status === 'none') this.check();
  }

  setToken(token) {
    if (!this.target) { this.onMessage('notice', 'Type the server\'s address first: the token is kept for that server only.'); return; }
    try {
      this.tokens.set(this.target.origin, token);
    } catch (e) {
      if (e instanceof TokenInputError) return this.onMessage('error', e.message, '');
      return this.onMessage('error', 'The token could not be kept in this browser.', e.message);
    }
    this.onMessage('notice', `Token saved in this browser. It is sent only to ${this.target.origin}.`);
    this.onChange();
  }

  removeToken() {
    if (!this.target) return;
    this.tokens.remove(this.target.origin);
    this.onMessage('notice', `Token for ${this.target.origin} removed from this browser.`);
    this.onChange();
  }

  save() {
    if (!saveSettings(this.settings, this.storage))
      this.onMessage('notice', 'This browser does not let the app keep settings: the server choice lasts until the page is closed.');
    this.onChange();
  }

  // What the Models tab shows (no token, only its hint).
  state() {
    const origin = this.target?.origin ?? null;
    const listed = this.apiConfig?.inference_servers ?? null;
    const policy = this.apiConfig?.content_security_policy ?? null;
    return {
      address: this.settings.address, origin, status: this.status, error: this.error,
      models: this.models, model: this.settings.model, endoscribe: this.endoscribe,
      test_model: !!this.models.find((m) => m.id === this.settings.model)?.test_model,
      token: origin && this.tokens.get(origin) ? { hint: this.tokens.hint(origin) } : null,
      use: { ...this.settings.use },
      ready: Object.fromEntries(TASKS.map((t) => [t, this.ready(t)])),
      // Whether this page may connect to the address at all (the app server's CSP).
      allowed: origin && policy ? cspAllowsConnect(policy, `${origin}/v1/models`, this.pageOrigin) : null,
      inference_servers: listed,
      retry: this.retry,
    };
  }
}
