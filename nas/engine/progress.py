"""The live view of a search, on stderr (stdout stays free for --json).

On a terminal, one status line is redrawn in place about once a second; every finished
trial also leaves a line above it. Elsewhere (a log file, CI) only the per-trial lines
are printed. A status line reads:

    [7/12] 5 complete, 1 stopped, 0 failed, 1 infeasible, 2 running | 1m12s, ETA 0m58s
           | front 3, best acc 0.951, HV 0.0123
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from nas.console import human
from nas.runs import format as rf

_SHOWN_STATES = (
    (rf.COMPLETE, "complete"),
    (rf.STOPPED_EARLY, "stopped"),
    (rf.FAILED, "failed"),
    (rf.INFEASIBLE, "infeasible"),
)


class Progress:
    def __init__(
        self,
        target: int,
        done: int,
        *,
        stream: TextIO | None = None,
        live: bool | None = None,
        refresh_s: float = 1.0,
    ):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.target, self.done_before = target, done
        self.counts = {state: 0 for state, _ in _SHOWN_STATES}
        self.running = 0
        self.started = time.monotonic()
        self.refresh_s, self.last_draw = refresh_s, 0.0
        self.front_size, self.best_accuracy, self.hypervolume = 0, None, None

    # --- events ----------------------------------------------------------------------

    def set_counts(self, counts: dict[str, int]) -> None:
        """Counts of the whole study (including a resumed run's earlier trials)."""
        self.counts = {state: int(counts.get(state, 0)) for state, _ in _SHOWN_STATES}

    def set_results(self, results: Any) -> None:
        """Front size, best accuracy and hypervolume from a `nas.runs.results.RunResults`."""
        if results is None:
            return
        self.front_size = len(results.front)
        table = results.table
        if "accuracy" in table.columns and len(table):
            complete = table[table["state"] == rf.COMPLETE]["accuracy"].dropna()
            self.best_accuracy = float(complete.max()) if len(complete) else None
        self.hypervolume = results.hypervolume

    def trial_finished(self, number: int, state: str, attrs: dict[str, Any]) -> None:
        if state in self.counts:
            self.counts[state] += 1
        if state != rf.INFEASIBLE:  # infeasible ones never ran
            self.running = max(0, self.running - 1)
        self._print(self._trial_line(number, state, attrs))
        if not self.live:
            self._print("  " + self.status())

    def tick(self, running: int) -> None:
        self.running = running
        now = time.monotonic()
        if self.live and now - self.last_draw >= self.refresh_s:
            self._draw()

    def close(self) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.status() + "\n")
            self.stream.flush()
            self.live = False  # nothing is redrawn after this

    # --- text ------------------------------------------------------------------------

    @property
    def decided(self) -> int:
        return sum(self.counts.values())

    def status(self) -> str:
        parts = [f"{self.counts[state]} {word}" for state, word in _SHOWN_STATES]
        elapsed = time.monotonic() - self.started
        text = (
            f"[{self.decided}/{self.target}] {', '.join(parts)}, {self.running} running"
            f" | {_clock(elapsed)}"
        )
        eta = self.eta(elapsed)
        if eta is not None:
            text += f", ETA {_clock(eta)}"
        text += f" | front {self.front_size}"
        if self.best_accuracy is not None:
            text += f", best acc {self.best_accuracy:.3f}"
        if self.hypervolume is not None:
            text += f", HV {self.hypervolume:.4g}"
        return text

    def eta(self, elapsed: float) -> float | None:
        """Remaining trials at this session's rate so far; None before the first one."""
        done_now = self.decided - self.done_before
        if done_now <= 0:
            return None
        return max(0.0, (self.target - self.decided) * elapsed / done_now)

    def _trial_line(self, number: int, state: str, attrs: dict[str, Any]) -> str:
        metrics = attrs.get(rf.ATTR_METRICS) or {}
        words = [f"trial {number:>3} {state:<13}"]
        if metrics.get("accuracy") is not None:
            words.append(f"acc {metrics['accuracy']:.3f}")
        for key in ("flops", "params"):
            if metrics.get(key) is not None:
                words.append(f"{key} {human(metrics[key])}")
        seconds = (attrs.get(rf.ATTR_SECONDS) or {}).get("total")
        if seconds is not None and math.isfinite(seconds):
            words.append(f"{seconds:.1f}s")
        if state != rf.COMPLETE and attrs.get(rf.ATTR_ERROR):
            words.append(f"- {attrs[rf.ATTR_ERROR]}")
        return "  ".join(words)

    def _draw(self) -> None:
        self.stream.write("\r\033[K" + self.status()[: _width()])
        self.stream.flush()
        self.last_draw = time.monotonic()

    def _print(self, line: str) -> None:
        if self.live:
            self.stream.write("\r\033[K" + line + "\n")
            self._draw()
        else:
            self.stream.write(line + "\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _width() -> int:
    import shutil

    return max(40, shutil.get_terminal_size((120, 20)).columns - 1)
