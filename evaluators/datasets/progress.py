"""A decoding progress line on stderr: n/N images, images per second, time left.

On a terminal the line updates in place (at most 4 times a second); in a log file
(a Ray worker's stderr, a batch job, output redirected) a line is written when the
decode starts, every 10 seconds, and when it ends.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None):
        self.label, self.total, self.done = label, total, 0
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.every = 0.25 if self.live else 10.0
        self.start = self.last = time.perf_counter()
        if not self.live:  # a log shows at once that a long step has begun
            print(f"{label}: {total:,} images, started", file=self.stream, flush=True)

    def advance(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self._show(now, end="" if self.live else "\n")

    def finish(self) -> None:
        self._show(time.perf_counter(), end="\n")

    def _show(self, now: float, end: str) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = "done" if self.done >= self.total else f"ETA {_duration(left)}"
        line = f"{self.label}: {self.done:,}/{self.total:,} images, {rate:,.0f}/s, {eta}"
        prefix = "\r" if self.live else ""
        print(f"{prefix}{line}", end=end, file=self.stream, flush=True)


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
