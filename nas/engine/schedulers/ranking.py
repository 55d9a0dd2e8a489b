"""Orders the candidates recorded at one rung, best first, by Pareto rank.

MO-ASHA (Schmucker et al., 2021, "Multi-objective Asynchronous Successive Halving")
replaces ASHA's sort by one metric with a sort by non-dominated rank (Deb et al., 2002):
the first front, then the front of the rest, and so on. Inside a front, where no member
is better than another, a tie-break prefers the members that keep the front spread out:

- ``crowding``: NSGA-II's crowding distance (Deb et al., 2002, section III-B): for every
  objective, the gap between a member's two neighbours along that objective, divided by
  the front's range in it, summed over objectives; the two ends of every objective get
  infinity. Larger is better.
- ``hypervolume``: each member's exclusive hypervolume contribution (the volume only it
  dominates), against a reference 10% beyond the rung's worst values. Larger is better.

In `pareto_order` remaining ties keep the order in which the candidates were recorded
(earlier first); `continues` counts only the points strictly ahead of a candidate.
A point with a NaN or infinite value comes after every finite one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nas.runs.pareto import complete_reference, hypervolume, nondominated_ranks

TIE_BREAKS = ("crowding", "hypervolume")


def crowding_distances(points: Sequence[Sequence[float]]) -> list[float]:
    """NSGA-II crowding distance of each point of one front (directions do not matter:
    the distance is symmetric in each objective)."""
    values = np.asarray(points, dtype=float).reshape(len(points), -1)  # (n, d)
    distance = np.zeros(len(values))
    if len(values) <= 2:
        return [math.inf] * len(values)
    for column in values.T:
        order = np.argsort(column, kind="stable")
        span = column[order[-1]] - column[order[0]]
        distance[order[0]] = distance[order[-1]] = math.inf
        if span > 0:
            gaps = (column[order[2:]] - column[order[:-2]]) / span  # neighbours' gap
            distance[order[1:-1]] += gaps
    return [float(d) for d in distance]


def hypervolume_contributions(
    points: Sequence[Sequence[float]], directions: Sequence[str], reference: Sequence[float]
) -> list[float]:
    """Exclusive hypervolume of each point: the volume of all minus the volume without it."""
    total = hypervolume(points, reference, directions)
    return [
        total - hypervolume([p for j, p in enumerate(points) if j != i], reference, directions)
        for i in range(len(points))
    ]


def pareto_keys(
    points: Sequence[Sequence[float]], directions: Sequence[str], tie_break: str = "crowding"
) -> list[tuple[float, float]]:
    """(non-dominated rank, -tie-break score) per point: smaller is better; a point with
    a non-finite value gets rank infinity."""
    if tie_break not in TIE_BREAKS:
        raise ValueError(f"unknown tie_break {tie_break!r}; choose one of {', '.join(TIE_BREAKS)}")
    ranks = nondominated_ranks(points, directions)
    finite = [i for i, rank in enumerate(ranks) if rank >= 0]
    reference = _rung_reference([points[i] for i in finite], directions)
    keys = [(math.inf, 0.0)] * len(points)
    for rank in sorted({ranks[i] for i in finite}):
        front = [i for i in finite if ranks[i] == rank]
        members = [points[i] for i in front]
        if tie_break == "crowding":
            scores = crowding_distances(members)
        else:
            scores = hypervolume_contributions(members, directions, reference)
        for i, score in zip(front, scores):
            keys[i] = (float(rank), -score)
    return keys


def pareto_order(
    points: Sequence[Sequence[float]], directions: Sequence[str], tie_break: str = "crowding"
) -> list[int]:
    """Indices of `points` best first: by non-dominated rank, then by `tie_break`."""
    keys = pareto_keys(points, directions, tie_break)
    return sorted(range(len(points)), key=lambda i: (keys[i], i))


def _rung_reference(points: Sequence[Sequence[float]], directions: Sequence[str]) -> list[float]:
    """10% of each objective's range beyond the worst value at the rung."""
    if not points:
        return [0.0] * len(directions)
    return complete_reference([None] * len(directions), points, directions, margin=0.1)


def survivors(count: int, reduction_factor: float) -> int:
    """How many of `count` candidates at a rung are in its top 1/eta: ceil(count / eta).

    Rounded up, as Ray's ASHA continues a trial whose value reaches the rung's
    (1 - 1/eta) quantile: the first trial at a rung always continues, and with 9
    recorded and eta 3, the best 3 do.
    """
    return math.ceil(count / reduction_factor - 1e-9)


def continues(
    index: int,
    points: Sequence[Sequence[float]],
    directions: Sequence[str],
    reduction_factor: float,
    tie_break: str = "crowding",
) -> bool:
    """Whether `points[index]` is in the top 1/eta of all `points` (the rung's records):
    fewer than ceil(n / eta) points are strictly ahead of it. A tie (same front, same
    tie-break score, e.g. the two ends of a two-point front) counts in its favour, as a
    value equal to the cutoff continues in Ray's ASHA."""
    keys = pareto_keys(points, directions, tie_break)
    ahead = sum(1 for key in keys if key < keys[index])
    return ahead < survivors(len(points), reduction_factor)
