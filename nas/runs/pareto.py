"""Pareto front and hypervolume over any number (>= 2) of objectives and directions.

Pure numerics on lists of points: no Optuna, no torch. Points are rows of objective
values; ``directions`` says per column whether bigger ("maximize") or smaller
("minimize") is better. Internally every objective is turned into a cost to minimise.

Dominance (Deb et al., 2002): a dominates b when a is no worse in every objective and
strictly better in at least one. Equal points therefore never dominate each other and
are both on the front (ties are kept, not broken).

Hypervolume (Zitzler & Thiele, 1998): the volume of the objective-space region that
the points dominate and that dominates the reference point r. A point that is not
strictly better than r in every objective adds nothing. Computed exactly: a sweep in
2-D (O(n log n)) and, for d >= 3, slicing along the last objective (the HSO scheme of
While et al., 2006) down to the 2-D sweep, fine for the few objectives and front sizes
of a search (O(n^(d-1) log n)).

The reference point is fixed per run (see `reference_point_for`) and stored in the study,
so hypervolumes of the same run are comparable, trial after trial and across resumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAXIMIZE, MINIMIZE = "maximize", "minimize"
_DIRECTION_WORDS = {"max": MAXIMIZE, "maximize": MAXIMIZE, "min": MINIMIZE, "minimize": MINIMIZE}

# Objectives whose best and worst values are known without looking at any trial.
BOUNDED_MAXIMA = {"accuracy": (0.0, 1.0)}  # name -> (worst, best)


@dataclass(frozen=True)
class Objective:
    name: str  # a metric key, e.g. "accuracy", "flops"
    direction: str  # MAXIMIZE or MINIMIZE

    @property
    def sign(self) -> float:
        """+1 for a cost, -1 for a gain: sign * value is always minimised."""
        return -1.0 if self.direction == MAXIMIZE else 1.0


def direction_word(direction: object) -> str:
    """'max'/'maximize'/StudyDirection.MAXIMIZE -> 'maximize' (and the same for min)."""
    word = str(getattr(direction, "name", direction)).lower()
    try:
        return _DIRECTION_WORDS[word]
    except KeyError:
        raise ValueError(f"unknown direction {direction!r}; use maximize or minimize") from None


def parse_objectives(spec: Mapping[str, Any] | Sequence[Any]) -> list[Objective]:
    """{"accuracy": "max", ...} or [{"name": .., "direction": ..}, ...] -> Objectives."""
    if isinstance(spec, Mapping):
        items = list(spec.items())
    else:
        items = [(o["name"], o["direction"]) if isinstance(o, Mapping) else o for o in spec]
    return [Objective(str(name), direction_word(direction)) for name, direction in items]


def _costs(points: Iterable[Sequence[float]], directions: Sequence[str]) -> np.ndarray:
    """(n, d) array of costs: maximised objectives negated."""
    signs = np.array([-1.0 if direction_word(d) == MAXIMIZE else 1.0 for d in directions])
    rows = np.array([list(map(float, p)) for p in points], dtype=float).reshape(-1, len(signs))
    return rows * signs


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Cost vectors: a is nowhere worse than b and somewhere better."""
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


def _count_dominators(costs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each row of `costs`, how many rows of `others` dominate it (in memory-bounded
    blocks of about two million comparisons)."""
    counts = np.zeros(len(costs), dtype=np.int64)
    chunk = max(1, 2_000_000 // max(1, others.size))
    for start in range(0, len(costs), chunk):
        block = costs[start : start + chunk, None, :]  # (b, 1, d) against (1, m, d)
        no_worse = (others[None] <= block).all(axis=2)
        better = (others[None] < block).any(axis=2)
        counts[start : start + chunk] = (no_worse & better).sum(axis=1)
    return counts


def _dominated_by(costs: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each row of `costs`, whether some row of `others` dominates it."""
    return _count_dominators(costs, others) > 0


def _finite_rows(costs: np.ndarray) -> np.ndarray:
    return np.isfinite(costs).all(axis=1) if costs.size else np.zeros(len(costs), dtype=bool)


def pareto_front(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Indices (ascending) of the non-dominated points; equal points are all kept.

    Points with a NaN or infinite value are never on the front.
    """
    costs = _costs(points, directions)
    finite = np.flatnonzero(_finite_rows(costs))
    candidates = costs[finite]
    return [int(i) for i in finite[~_dominated_by(candidates, candidates)]]


def nondominated_ranks(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[int]:
    """Rank of each point: 0 on the front, 1 on the front of the rest, ...; -1 if not finite.

    Peels fronts as in Deb et al.'s fast non-dominated sort: a point's rank is fixed
    when every point dominating it has been ranked.
    """
    costs = _costs(points, directions)
    ranks = np.full(len(costs), -1)
    finite = np.flatnonzero(_finite_rows(costs))
    sub = costs[finite]
    counts = _count_dominators(sub, sub)
    remaining = np.ones(len(sub), dtype=bool)
    rank = 0
    while remaining.any():
        layer = remaining & (counts == 0)
        ranks[finite[layer]] = rank
        remaining &= ~layer
        counts[remaining] -= _count_dominators(sub[remaining], sub[layer])
        rank += 1
    return [int(r) for r in ranks]


def hypervolume(
    points: Sequence[Sequence[float]], reference: Sequence[float], directions: Sequence[str]
) -> float:
    """Exact hypervolume of `points` against `reference`, both in the objectives' own units."""
    ref = _costs([reference], directions)[0]
    costs = _costs(points, directions)
    return _volume(_inside(costs, ref), ref)


def _inside(costs: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The rows strictly better than the reference in every objective (the others add 0)."""
    return costs[_finite_rows(costs) & (costs < ref).all(axis=1)] if costs.size else costs


def _volume(costs: np.ndarray, ref: np.ndarray) -> float:
    if len(costs) == 0:
        return 0.0
    if len(ref) == 1:
        return float(ref[0] - costs[:, 0].min())
    if len(ref) == 2:
        return _area(costs, ref)
    # Slice along the last objective: between consecutive levels, the dominated region
    # is the (d-1)-volume of every point at or below the slab's lower level.
    costs = costs[~_dominated_by(costs, costs)]
    costs = costs[np.argsort(costs[:, -1], kind="stable")]
    levels = np.append(costs[1:, -1], ref[-1])
    total = 0.0
    for k in range(len(costs)):
        height = levels[k] - costs[k, -1]
        if height > 0:
            total += height * _volume(costs[: k + 1, :-1], ref[:-1])
    return total


def _area(costs: np.ndarray, ref: np.ndarray) -> float:
    # Sweep by the first cost; each point adds the strip below the best second cost so far.
    ordered = costs[np.lexsort((costs[:, 1], costs[:, 0]))]
    best_y = np.minimum.accumulate(ordered[:, 1])
    widths = np.diff(np.append(ordered[:, 0], ref[0]))
    return float(np.sum(widths * (ref[1] - best_y)))


def hypervolume_history(
    points: Sequence[Sequence[float] | None], reference: Sequence[float], directions: Sequence[str]
) -> list[float]:
    """Hypervolume after each point in order; None stands for a trial that adds nothing
    (failed, infeasible, stopped), which repeats the previous value."""
    ref = _costs([reference], directions)[0]
    front = np.empty((0, len(ref)))
    history, volume = [], 0.0
    for point in points:
        if point is not None:
            cost = _costs([point], directions)
            if _finite_rows(cost)[0] and not _dominated_by(cost, front)[0]:
                front = np.vstack([front[~_dominated_by(front, cost)], cost])
                volume = _volume(_inside(front, ref), ref)
        history.append(volume)
    return history


def knee_point(points: Sequence[Sequence[float]], directions: Sequence[str]) -> int | None:
    """Index of the front's knee: the point farthest from the line through the extremes.

    Each objective is scaled to [0, 1] over the given points first. For two objectives
    this is the point farthest below the line joining the two extremes (the "knee" of
    Satopaa et al.'s Kneedle); with more, the point closest to the scaled ideal point.
    None for no points; ties go to the lowest index.
    """
    if not len(points):
        return None
    costs = _costs(points, directions)
    span = costs.max(axis=0) - costs.min(axis=0)
    scaled = (costs - costs.min(axis=0)) / np.where(span > 0, span, 1.0)
    if len(directions) == 2 and len(points) >= 3:
        # The scaled extremes are (0, 1) and (1, 0): distance below the line x + y = 1.
        return int(np.argmax(1.0 - scaled.sum(axis=1)))
    return int(np.argmin(np.linalg.norm(scaled, axis=1)))


def reference_point_for(
    objectives: Sequence[Objective],
    constraints: Mapping[str, Mapping[str, float]] | None = None,
    upper_bounds: Mapping[str, float] | None = None,
    explicit: Mapping[str, float] | None = None,
) -> list[float | None]:
    """The fixed hypervolume reference point of a run, one value per objective.

    In order of precedence, for each objective:
    1. ``explicit[name]`` (``search.reference_point`` in the config), when given;
    2. a bounded objective's worst value: accuracy -> 0.0;
    3. a constrained objective's bound: ``constraints[name]["max"]`` for a minimised
       objective (``"min"`` for a maximised one), since no feasible trial lies beyond it;
    4. ``upper_bounds[name]`` (a minimised objective's largest value in the space, e.g.
       the FLOPs of its largest architecture, see `space_upper_bounds`), or the lower
       bound for a maximised one;
    5. None: the search fixes it from the first completed trials (`complete_reference`).
    """
    explicit, constraints, upper_bounds = explicit or {}, constraints or {}, upper_bounds or {}
    point: list[float | None] = []
    for objective in objectives:
        name, bound_key = objective.name, "max" if objective.direction == MINIMIZE else "min"
        if name in explicit:
            value = explicit[name]
        elif objective.direction == MAXIMIZE and name in BOUNDED_MAXIMA:
            value = BOUNDED_MAXIMA[name][0]
        elif bound_key in (constraints.get(name) or {}):
            value = constraints[name][bound_key]
        else:
            value = upper_bounds.get(name)
        point.append(None if value is None else float(value))
    return point


def complete_reference(
    reference: Sequence[float | None],
    points: Sequence[Sequence[float]],
    directions: Sequence[str],
    margin: float = 0.1,
) -> list[float]:
    """Fills the unknown (None) entries of `reference` from the worst of `points`, moved
    out by `margin` of the observed range (or of the value itself when all are equal).

    Only for objectives with no bound, constraint or space maximum; once filled, the
    search stores the point and it stays fixed for the rest of the run.
    """
    costs = _costs(points, directions)
    costs = costs[_finite_rows(costs)]
    filled = []
    for i, value in enumerate(reference):
        if value is not None:
            filled.append(float(value))
            continue
        sign = -1.0 if direction_word(directions[i]) == MAXIMIZE else 1.0
        column = costs[:, i] if len(costs) else np.zeros(1)
        worst = float(column.max())
        spread = float(column.max() - column.min()) or abs(worst) or 1.0
        filled.append(sign * (worst + margin * spread))
    return filled
