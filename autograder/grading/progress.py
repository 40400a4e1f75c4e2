"""What the instructor watches while a batch grades: a bar with an ETA, or plain log lines."""

from __future__ import annotations

import sys
import time


class Progress:
    """A bar with an ETA on a terminal; plain log lines otherwise (CI, a log file)."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.done, self.quiet = total, 0, quiet
        self.start = time.monotonic()
        self.tty = sys.stderr.isatty() and not quiet

    def restart_clock(self) -> None:
        """Count the ETA from now: it is about grading, not about the preparation."""
        self.start = time.monotonic()

    def log(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[K")
        print(text, file=sys.stderr, flush=True)
        if self.tty and self.done < self.total:
            self._bar()

    def step(self, text: str) -> None:
        self.done += 1
        if self.quiet:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            print(text, file=sys.stderr)
            self._bar()
        else:
            print(f"[{self.done}/{self.total}, {self._eta()}] {text}", file=sys.stderr, flush=True)

    def _eta(self) -> str:
        elapsed = time.monotonic() - self.start
        if not self.done:
            return f"{elapsed:.0f} s elapsed"
        left = elapsed / self.done * (self.total - self.done)
        return f"{elapsed:.0f} s elapsed, ETA {left:.0f} s"

    def _bar(self) -> None:
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} notebooks, "
            f"{self._eta()}"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def one_line(o) -> str:
    """One notebook's outcome (a :class:`~.outcomes.Outcome`) as a line of the progress log."""
    if o.failure:
        return f"{o.student} {o.lesson or '?'}: FAILED - {o.failure}"
    extra = f" ({'; '.join(o.notes)})" if o.notes else ""
    return f"{o.student} {o.lesson}: executed in {o.timings.get('total', 0):.1f} s{extra}"
