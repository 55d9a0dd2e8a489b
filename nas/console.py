"""Console output: `--json` documents on stdout, human text on stderr or stdout."""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout; non-finite floats become null."""
    json.dump(_finite(document), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def human(value: float, unit: str = "") -> str:
    """1234567 -> '1.23M'."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "inf" if value is not None else "-"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}{unit}"
    return f"{value:.4g}{unit}"


def note(message: str) -> None:
    """Progress and remarks: stderr, so stdout stays clean for --json."""
    print(message, file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    """75 -> '1m15s', 4000 -> '1h07m', 8.2 -> '8s'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Countdown:
    """Elapsed time and an ETA over `total` steps, learned from the steps finished so far
    (elapsed / done x left: steps running side by side are counted as they overlap)."""

    def __init__(self, total: int, done: int = 0):
        self.restart(total, done)

    def restart(self, total: int, done: int = 0) -> None:
        """Counts again from now: `total` steps, `done` of them already finished."""
        self.total, self.done, self.started = total, done, time.monotonic()
        self.first = done  # steps finished before this count began: not in the rate

    def step(self, count: int = 1) -> None:
        self.done += count

    def eta_s(self) -> float | None:
        finished = self.done - self.first
        if finished <= 0:
            return None
        return (time.monotonic() - self.started) / finished * max(self.total - self.done, 0)

    def text(self) -> str:
        """'1m12s, ETA 0m58s' (no ETA before the first step ends, 'done' at the end)."""
        elapsed = duration(time.monotonic() - self.started)
        if self.done >= self.total:
            return f"{elapsed}, done"
        eta = self.eta_s()
        return f"{elapsed}, ETA {duration(eta)}" if eta is not None else elapsed
