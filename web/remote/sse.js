// sse.js: server-sent events from a fetch() body, as the HTML standard's
// event-stream parser reads them: lines end in LF, CRLF or CR (a CRLF split
// across two chunks is one line end), "data:" lines of one event are joined
// with "\n", one space after the colon is dropped, lines starting with ":"
// are comments (servers send them as keep-alives), a blank line dispatches
// the event, and an event left unfinished when the stream ends is dropped.
// Bytes are decoded as UTF-8 across chunk boundaries (a character split
// between two network reads stays whole).

// Incremental parser: push(text) returns the events completed by that text.
export class SseParser {
  constructor() {
    this.buffer = '';
    this.afterCr = false;   // the last chunk ended in CR: a leading LF belongs to it
    this.reset();
  }
  reset() {
    this.data = [];
    this.event = '';
    this.id = null;
    this.hasData = false;
  }
  // -> [{event, data, id}] (event defaults to 'message', as in EventSource).
  push(text) {
    if (this.afterCr && text.startsWith('\n')) text = text.slice(1);
    this.afterCr = false;
    this.buffer += text;
    const out = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone CR at the very end may be the first half of a CRLF.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) {
        this.afterCr = true;
        const line = this.buffer.slice(0, m.index);
        this.buffer = '';
        this.line(line, out);
        break;
      }
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }
  line(line, out) {
    if (line === '') {
      if (this.hasData) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      this.reset();
      return;
    }
    if (line.startsWith(':')) return;  // a comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') { this.data.push(value); this.hasData = true; }
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // 'retry' and unknown fields: nothing for a fetch reader to do.
  }
}

// Events of a ReadableStream of bytes (response.body). Stops when the
// stream ends or `signal` aborts (the reader is cancelled: the connection
// closes, which tells the server to stop).
export async function* sseEvents(body, { signal = null } = {}) {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  const onAbort = () => { reader.cancel().catch(() => {}); };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
      const { value, done } = await reader.read();
      // cancel() ends a pending read as if the stream had ended: that is a stop, not an end.
      if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
      if (done) {
        for (const e of parser.push(decoder.decode())) yield e;
        return;
      }
      for (const e of parser.push(decoder.decode(value, { stream: true }))) yield e;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    try { reader.releaseLock(); } catch { /* a read still pending */ }
  }
}
