// messages.js: messages for clinicians. Every message has plain words (what
// happened, what to do) and, apart, the technical details (the exception's
// text, an HTTP status, a file name), which the app shows behind a "Details"
// toggle (ui/panel_messages.cpp). plainError() turns an exception into both;
// reportMessage() hands them to the app (es_app_report_message).

// What a person can do about the usual kinds of failure, recognised from the
// exception (name, message). null when nothing useful can be said.
export function adviceFor(e) {
  const name = e?.name ?? '';
  const msg = String(e?.message ?? e ?? '');
  if (name === 'QuotaExceededError' || /quota|storage (is )?full|no space/i.test(msg))
    return 'the browser\'s storage for this site is full; delete cached models (Models tab) or old cases, then try again';
  if (name === 'HostNotAllowedError' || /is not allowed; add it to "model_hosts"/.test(msg))
    return 'that web site is not on this server\'s list of allowed model hosts; ask whoever runs EndoScribe to add it';
  if (/\b404\b|not found/i.test(msg)) return 'a file was not found at that address; check the address or folder';
  if (/sha256|does not match manifest|truncated or corrupt download|size \d+ bytes, manifest says/i.test(msg))
    return 'a downloaded file is damaged; try again (a poor connection can cause this)';
  if (name === 'NetworkError' || /failed to fetch|network|connection closed early|HTTP 5\d\d/i.test(msg))
    return 'the connection failed; check the network and try again';
  if (/\bHTTP 40[13]\b/.test(msg)) return 'the server refused access to the file';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'the browser did not allow access';
  if (name === 'NotReadableError' || /could not be read|cannot read/i.test(msg))
    return 'the file could not be read; it may have been moved or changed';
  if (/out of (wasm )?memory|outofmem|allocation failed|RangeError/i.test(`${name} ${msg}`))
    return 'there is not enough memory; close other browser tabs and try again';
  return null;
}

// The exception as technical text: its message (no stack), its name when
// that says more than "Error".
export function technicalText(e) {
  if (e === null || e === undefined) return '';
  if (typeof e === 'string') return e;
  const msg = String(e.message ?? e);
  return e.name && e.name !== 'Error' && !msg.startsWith(e.name) ? `${e.name}: ${msg}` : msg;
}

// {text, details}: `what` is the plain sentence ("The model could not be
// loaded"); the advice for the exception's kind follows it, or `fallback`
// (what to do in general) when there is none. `after` is a closing sentence
// ("Nothing else changed.").
export function plainError(what, e, { fallback = null, after = null } = {}) {
  const advice = adviceFor(e) ?? fallback;
  let text = what.replace(/[.\s]+$/, '');
  text += advice ? `: ${advice}.` : '.';
  if (after) text += ` ${after}`;
  return { text, details: technicalText(e) };
}

// Shows a message in the app's banners (errors stay until closed, notices
// leave after a while); before the app runs, the console has it.
export function reportMessage(Module, kind, text, details = '') {
  if (Module?.ccall) Module.ccall('es_app_report_message', null, ['string', 'string', 'string'], [kind, text, details ?? '']);
  else console.warn(`${text}${details ? ` (${details})` : ''}`);
}
