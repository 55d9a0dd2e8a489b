"""The live view of a search, on stderr (stdout stays free for --json).

On a terminal, one status line is redrawn in place about once a second; every finished
trial also leaves a line above it. Elsewhere (a log file, CI) lines are only ever added:
one per finished trial with the status after it, the status when the first trials start,
and the status again after every `heartbeat_s` without a line. A status line reads:

    [7/12] 5 complete, 1 stopped, 0 failed, 1 infeasible, 2 running, 1 retried
           | 1m12s, ETA 0m58s | front 3, best acc 0.951, HV 0.0123

Interrupted and queued trials are shown when there are any; "retried" counts trials whose
worker died and was started again. Front, best accuracy and hypervolume come from the
run folder's analysis (`nas.run_folder.RunResults`), the one the summary and `nas report`
use; when the search skipped a refresh (a busy driver), they carry "as of N decided".
The last line, written by `finish`, is drawn from the search's final analysis.

The ETA learns from the trials that ran: remaining trials x their mean duration / the
most trials seen running at once. Before any trial has finished there is none; the
one-time start (Ray, the first worker's imports, a dataset decode) is not in it.
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
_SHOWN_IF_ANY = ((rf.INTERRUPTED_TRIAL, "interrupted"), (rf.QUEUED_TRIAL, "queued"))


class Progress:
    def __init__(
        self,
        target: int,
        done: int,
        *,
        stream: TextIO | None = None,
        live: bool | None = None,
        refresh_s: float = 1.0,
        heartbeat_s: float = 60.0,
    ):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.target, self.done_before = target, done
        self.counts = {state: 0 for state, _ in (*_SHOWN_STATES, *_SHOWN_IF_ANY)}
        self.running, self.retried = 0, 0
        self.started = time.monotonic()
        self.refresh_s, self.last_draw = refresh_s, 0.0
        self.heartbeat_s, self.last_line = heartbeat_s, self.started
        self.durations: list[float] = []  # seconds of each finished trial that ran
        # A line per finished trial; a search scoring thousands of trials a minute in the
        # driver (nas/engine/instant.py) turns it off and shows the status every few seconds.
        self.every_trial = True
        self.peak_running = 0
        self.front_size, self.best_accuracy, self.hypervolume = 0, None, None
        self.best_label = "acc"  # or the search's other accuracy objective (balanced_accuracy)
        self.results_decided = 0  # decided trials the front and hypervolume are computed on
        self.fresh = False

    # --- events ----------------------------------------------------------------------

    def start(self, results: Any) -> None:
        """The study as the search found it (a resumed run's trials, re-queued ones)."""
        self.set_results(results)
        self.fresh = False

    def set_results(self, results: Any) -> None:
        """Counts, front size, best accuracy and hypervolume from a
        `nas.runs.results.RunResults` of the whole study (a resumed run's trials included)."""
        if results is None:
            return
        counts = results.counts()
        self.counts = {state: counts[state] for state in self.counts}
        self.retried, self.results_decided = results.retried, results.decided
        self.fresh = True  # already counts the trial being reported next
        self.front_size = len(results.front)
        table = results.table
        score = _score(results.objectives)
        if score in table.columns and len(table):
            complete = table[table["state"] == rf.COMPLETE][score].dropna()
            self.best_accuracy = float(complete.max()) if len(complete) else None
            self.best_label = "acc" if score == "accuracy" else score
        self.hypervolume = results.hypervolume

    def trial_finished(self, number: int, state: str, attrs: dict[str, Any]) -> None:
        """After the searcher's tell and the refresh (which may have been skipped)."""
        if not self.fresh and state in self.counts:  # the refresh was skipped: count it here
            self.counts[state] += 1
            self.retried += int(attrs.get(rf.ATTR_ATTEMPTS, 1) > 1)
        self.fresh = False
        if state != rf.INFEASIBLE:  # infeasible ones never ran
            self.running = max(0, self.running - 1)
            seconds = (attrs.get(rf.ATTR_SECONDS) or {}).get("total")
            if seconds is not None and math.isfinite(seconds) and seconds > 0:
                self.durations.append(float(seconds))
        if not self.every_trial:
            self.tick(0)
            return
        self._print(self._trial_line(number, state, attrs))
        if not self.live:
            self._print("  " + self.status())

    def tick(self, running: int) -> None:
        first_start = running > 0 and self.peak_running == 0
        self.running, self.peak_running = running, max(self.peak_running, running)
        now = time.monotonic()
        if self.live and now - self.last_draw >= self.refresh_s:
            self._draw()
        heartbeat = self.heartbeat_s if self.every_trial else min(self.heartbeat_s, 5.0)
        if not self.live and (first_start or now - self.last_line >= heartbeat):
            self._print("  " + self.status())

    def finish(self, results: Any) -> None:
        """The last line, from the search's final analysis: after it nothing runs."""
        self.set_results(results)
        self.running = 0
        prefix = "\r\033[K" if self.live else "  "
        self.stream.write(prefix + self.status() + "\n")
        self.stream.flush()
        self.live = False  # nothing is redrawn after this

    # --- text ------------------------------------------------------------------------

    @property
    def decided(self) -> int:
        return sum(self.counts[state] for state, _ in _SHOWN_STATES)

    def status(self) -> str:
        parts = [f"{self.counts[state]} {word}" for state, word in _SHOWN_STATES]
        parts += [f"{self.counts[s]} {word}" for s, word in _SHOWN_IF_ANY if self.counts[s]]
        parts.append(f"{self.running} running")
        if self.retried:
            parts.append(f"{self.retried} retried")
        elapsed = time.monotonic() - self.started
        text = f"[{self.decided}/{self.target}] {', '.join(parts)} | {_clock(elapsed)}"
        eta = self.eta(elapsed)
        if eta is not None:
            text += f", ETA {_clock(eta)}"
        text += f" | front {self.front_size}"
        if self.best_accuracy is not None:
            text += f", best {self.best_label} {self.best_accuracy:.3f}"
        if self.hypervolume is not None:
            text += f", HV {self.hypervolume:.4g}"
        if self.results_decided < self.decided:
            text += f" (as of {self.results_decided} decided)"
        return text

    def eta(self, elapsed: float) -> float | None:
        """Seconds left: the remaining trials at the finished trials' mean duration, as many
        at once as were seen running; from this session's rate when no duration is known;
        None before the first trial is decided."""
        remaining = max(0, self.target - self.decided)
        if self.durations:
            mean = sum(self.durations) / len(self.durations)
            return remaining * mean / max(1, self.peak_running)
        done_now = self.decided - self.done_before
        if done_now <= 0:
            return None
        return max(0.0, remaining * elapsed / done_now)

    def _trial_line(self, number: int, state: str, attrs: dict[str, Any]) -> str:
        metrics = attrs.get(rf.ATTR_METRICS) or {}
        words = [f"trial {number:>3} {state:<13}"]
        if metrics.get("accuracy") is not None:
            words.append(f"acc {metrics['accuracy']:.3f}")
        if metrics.get("balanced_accuracy") is not None:
            words.append(f"balanced {metrics['balanced_accuracy']:.3f}")
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
        self.last_line = time.monotonic()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _width() -> int:
    import shutil

    return max(40, shutil.get_terminal_size((120, 20)).columns - 1)


def _score(objectives: list[Any]) -> str:
    """The accuracy objective shown as "best", as the analysis picks it."""
    from nas.runs.analysis.objectives import Goal, accuracy_goal

    goals = [Goal(o.name, o.direction) for o in objectives]
    return accuracy_goal(goals).name if goals else "accuracy"
