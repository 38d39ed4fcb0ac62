// progress.mjs: one progress line for long runs: done/total, rate, time left,
// skipped items. Redrawn in place on a terminal; on a pipe or log file a line
// every `every` seconds (and at the end).
const clock = (s) => {
  if (!Number.isFinite(s)) return '?';
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
};

export class Progress {
  constructor(total, { already = 0, stream = process.stderr, label = '', every = 10, now = () => performance.now() } = {}) {
    Object.assign(this, { total, done: already, already, stream, label, every, now, skipped: 0 });
    this.t0 = now();
    this.lastPrint = -Infinity;
    this.tty = !!stream.isTTY;
  }
  line() {
    const ran = this.done - this.already, secs = (this.now() - this.t0) / 1000;
    const rate = ran > 0 && secs > 0 ? ran / secs : NaN;
    const left = (this.total - this.done) / rate;
    const pct = this.total ? (100 * this.done) / this.total : 100;
    const w = String(this.total).length;
    const bar = '#'.repeat(Math.round(pct / 5)).padEnd(20, '.');
    return `${this.label}[${bar}] ${String(this.done).padStart(w)}/${this.total} ${pct.toFixed(1)}% | ` +
      `${Number.isFinite(rate) ? (rate >= 1 ? `${rate.toFixed(2)} items/s` : `${(1 / rate).toFixed(1)} s/item`) : '? items/s'} | ` +
      `${clock(left)} left` + (this.skipped ? ` | ${this.skipped} skipped` : '') + (this.already ? ` | ${this.already} from before` : '');
  }
  tick({ skipped = false } = {}) {
    this.done++;
    if (skipped) this.skipped++;
    const t = this.now();
    if (this.tty) this.stream.write(`\r${this.line()}\x1b[K`);
    else if (t - this.lastPrint >= this.every * 1000 || this.done === this.total) { this.stream.write(`${this.line()}\n`); this.lastPrint = t; }
  }
  message(text) { this.stream.write(`${this.tty ? '\r\x1b[K' : ''}${text}\n`); }
  end() { if (this.tty) this.stream.write('\n'); }
}
