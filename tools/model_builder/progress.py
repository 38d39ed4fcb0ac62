"""Per-stage progress bars on stderr and the closing summary table."""
import resource
import sys
import time


def peak_rss_mb():
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Stage:
    def __init__(self, name, total, quiet=False):
        self.name, self.total, self.done, self.quiet = name, max(total, 1), 0, quiet
        self.t0 = time.time()
        self.tty = sys.stderr.isatty()
        self._last = -1
        self._draw()

    def _draw(self, final=False):
        if self.quiet:
            return
        frac = min(self.done / self.total, 1.0)
        pct = int(frac * 100)
        if not self.tty and not final:
            return  # logs and CI get one line per stage
        self._last = pct
        bar = "#" * int(frac * 30)
        line = f"{self.name:<34} [{bar:<30}] {pct:3d}% {time.time() - self.t0:7.1f}s"
        sys.stderr.write(("\r" if self.tty else "") + line + ("\n" if final or not self.tty else ""))
        sys.stderr.flush()

    def step(self, n=1):
        self.done += n
        self._draw()

    def finish(self):
        self.done = self.total
        self._draw(final=True)
        return time.time() - self.t0


def summary_table(rows, total_s):
    """rows: (file, bytes, seconds or None)."""
    out = [f"{'file':<44} {'size':>12} {'seconds':>9}", "-" * 67]
    tot = 0
    for f, n, s in rows:
        tot += n
        out.append(f"{f:<44} {_size(n):>12} {'' if s is None else f'{s:9.1f}':>9}")
    out.append("-" * 67)
    out.append(f"{'total':<44} {_size(tot):>12} {total_s:9.1f}")
    out.append(f"peak memory (max RSS): {peak_rss_mb():.0f} MiB")
    return "\n".join(out)


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
