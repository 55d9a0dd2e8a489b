"""Rung bookkeeping of (MO-)ASHA: the ladder of epochs, brackets, records and decisions.

The ladder: rung k sits at epoch ``grace * eta**k`` (rounded up to a whole epoch) for
every k where that is below the full budget ``max_epochs``; the full budget itself is
the top of the ladder (a trial that trained every epoch reached it). With grace 1,
eta 3 and 20 epochs the rungs are at epochs 1, 3 and 9, and the top is 20.

Hyperband over ``brackets`` (Li et al., 2018; asynchronous as in ASHA, Li et al., 2020):
bracket s starts at rung s, so bracket 0 is the most aggressive and bracket s only
judges its trials from epoch ``grace * eta**s`` on. A trial's bracket is its number
modulo the bracket count: no randomness, so a resumed search puts every trial back in
the bracket it ran in.

Asynchronous stopping (the variant of Ray's ASHA and Syne Tune's "stopping" MO-ASHA):
when a trial reaches one of its bracket's rungs, its point (its objective values at
that epoch) is recorded, and it continues only if it is in the top 1/eta of every point
recorded at that rung so far, ranked by `ranking.pareto_order`; otherwise it stops.
A trial is never paused, so no checkpoint is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nas.engine.schedulers.ranking import TIE_BREAKS, continues


@dataclass(frozen=True)
class Ladder:
    """The rungs of a search: `levels` are their epochs, below `max_epochs`."""

    grace: int  # epochs before the first judgement
    reduction_factor: float  # eta: 1 in eta trials continues at each rung
    max_epochs: int  # the full budget, train.epochs
    brackets: int = 1

    def __post_init__(self) -> None:
        if self.grace < 1 or self.reduction_factor <= 1 or self.brackets < 1:
            raise ValueError("grace >= 1, reduction_factor > 1 and brackets >= 1 are required")

    @property
    def levels(self) -> list[int]:
        """Rung epochs, ascending, each below the full budget."""
        levels: list[int] = []
        k = 0
        while (epoch := math.ceil(self.grace * self.reduction_factor**k - 1e-9)) < self.max_epochs:
            if not levels or epoch > levels[-1]:
                levels.append(epoch)
            k += 1
        return levels

    def bracket_of(self, number: int) -> int:
        return number % self.brackets

    def milestones(self, number: int) -> list[int]:
        """The rung epochs at which trial `number` is judged (its bracket's)."""
        return self.levels[self.bracket_of(number) :]

    def rung_of(self, epochs: int | None) -> int | None:
        """The highest rung `epochs` trained epochs reach: 0 for the first rung, ...,
        len(levels) for the full budget; None below the first rung."""
        if not epochs:
            return None
        reached = sum(1 for level in [*self.levels, self.max_epochs] if level <= epochs)
        return reached - 1 if reached else None


@dataclass
class RungBook:
    """Points recorded at each rung and the continue/stop decision when one arrives."""

    ladder: Ladder
    directions: Sequence[str]  # per objective of a point: "maximize" / "minimize"
    tie_break: str = "crowding"
    # rung epoch -> trial number -> point, in the order recorded (dicts keep it)
    records: dict[int, dict[int, tuple[float, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {', '.join(TIE_BREAKS)}")
        self.records = {level: {} for level in self.ladder.levels}

    def report(self, number: int, epoch: int, point: Sequence[float]) -> bool:
        """Trial `number` finished `epoch` with objective values `point`: whether it
        continues. Only an epoch that is one of its bracket's rungs can stop it."""
        if epoch not in self.ladder.milestones(number):
            return True
        recorded = self.records[epoch]
        recorded.pop(number, None)  # a retried trial replaces its earlier record
        recorded[number] = _stored(point)
        points = list(recorded.values())
        return continues(
            len(points) - 1, points, self.directions, self.ladder.reduction_factor, self.tie_break
        )

    def replay(self, number: int, history: Iterable[tuple[int, Sequence[float]]]) -> None:
        """Records a finished trial's (epoch, point) history without deciding anything:
        how a resumed search rebuilds the rungs from the study."""
        milestones = set(self.ladder.milestones(number))
        for epoch, point in history:
            if epoch in milestones:
                self.records[epoch][number] = _stored(point)

    def counts(self) -> dict[int, int]:
        """Rung epoch -> how many trials are recorded there."""
        return {epoch: len(recorded) for epoch, recorded in self.records.items()}


def _stored(point: Sequence[float]) -> tuple[float, ...]:
    """The point at the precision the study keeps a trial's history in, so the rungs a
    resumed search rebuilds from the study are the very points it decided on (exact values
    live and 4-digit ones replayed ranked two trials differently when they nearly tied)."""
    from nas.runs.curves import as_stored

    return tuple(as_stored(v) for v in point)
