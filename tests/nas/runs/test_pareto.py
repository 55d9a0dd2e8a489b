"""Pareto front, ranks, hypervolume and the knee against hand-computed cases."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from nas.runs.pareto import (
    Objective,
    complete_reference,
    hypervolume,
    hypervolume_history,
    knee_point,
    nondominated_ranks,
    pareto_front,
    parse_objectives,
    reference_point_for,
)

ACC_FLOPS = ["maximize", "minimize"]
NAN = float("nan")


@pytest.mark.parametrize(
    ("points", "directions", "front"),
    [
        # accuracy up, FLOPs down: (0.9, 5) is beaten by (0.95, 4); (0.5, 1) is the cheapest.
        ([[0.9, 5], [0.95, 4], [0.99, 9], [0.5, 1]], ACC_FLOPS, [1, 2, 3]),
        # equal points are both on the front; a point equal in one value and worse in the
        # other is dominated
        ([[0.9, 4], [0.9, 4], [0.9, 5], [0.8, 4]], ACC_FLOPS, [0, 1]),
        # both minimised
        ([[1, 4], [2, 2], [4, 1], [3, 3], [2, 2]], ["minimize", "minimize"], [0, 1, 2, 4]),
        # both maximised
        ([[1, 4], [2, 2], [4, 1], [3, 3], [1, 1]], ["max", "max"], [0, 2, 3]),
        # three objectives: accuracy up, FLOPs down, latency down
        (
            [[0.9, 5, 2], [0.9, 5, 1], [0.8, 1, 9], [0.8, 2, 9], [0.95, 9, 9]],
            ["maximize", "minimize", "minimize"],
            [1, 2, 4],
        ),
        # non-finite values are never on the front
        ([[NAN, 1], [0.5, math.inf], [0.1, 9]], ACC_FLOPS, [2]),
        ([], ACC_FLOPS, []),
    ],
)
def test_pareto_front_matches_hand_computed(points, directions, front):
    assert pareto_front(points, directions) == front


def test_pareto_front_agrees_with_brute_force_on_random_points():
    rng = random.Random(3)
    points = [[rng.choice([0.5, 0.6, 0.7]), rng.randint(1, 6), rng.random()] for _ in range(80)]
    directions = ["maximize", "minimize", "minimize"]
    signs = [-1, 1, 1]

    def beats(a, b):
        a, b = [s * x for s, x in zip(signs, a)], [s * x for s, x in zip(signs, b)]
        return all(x <= y for x, y in zip(a, b)) and a != b

    expected = [i for i, p in enumerate(points) if not any(beats(q, p) for q in points)]
    assert pareto_front(points, directions) == expected


def test_ranks_peel_successive_fronts():
    points = [[1, 1], [2, 2], [1, 3], [3, 3], [2, 2], [NAN, 0]]
    assert nondominated_ranks(points, ["minimize", "minimize"]) == [0, 1, 1, 2, 1, -1]


@pytest.mark.parametrize(
    ("points", "reference", "directions", "volume"),
    [
        # one point: the box to the reference
        ([[1, 1]], [3, 4], ["minimize", "minimize"], 2 * 3),
        # a staircase: (4-2)*(4-2) + (2-1)*(4-3) = 5
        ([[2, 2], [1, 3]], [4, 4], ["minimize", "minimize"], 5),
        # dominated and duplicate points add nothing
        ([[2, 2], [1, 3], [3, 3], [2, 2]], [4, 4], ["minimize", "minimize"], 5),
        # accuracy up from 0, FLOPs down from 10: 0.9*(10-6) + (0.95-0.9)*... as rectangles:
        # [0,0.9]x[2,10] ∪ [0,0.95]x[6,10] = 0.9*8 + 0.05*4 = 7.4
        ([[0.9, 2], [0.95, 6]], [0.0, 10.0], ACC_FLOPS, 7.4),
        # a point beyond the reference in one objective contributes nothing
        ([[0.9, 12], [0.5, 5]], [0.0, 10.0], ACC_FLOPS, 0.5 * 5),
        # a point on the reference contributes nothing either
        ([[0.0, 5]], [0.0, 10.0], ACC_FLOPS, 0.0),
        ([], [0.0, 10.0], ACC_FLOPS, 0.0),
        # 3-D: one box 1*2*3
        ([[1, 1, 1]], [2, 3, 4], ["minimize"] * 3, 6),
        # 3-D: boxes 2x2x1 and 1x1x2 sharing 1x1x1 -> 4 + 2 - 1 = 5
        ([[0, 0, 1], [1, 1, 0]], [2, 2, 2], ["minimize"] * 3, 5),
        # the same boxes with the second objective maximised (mirrored about 0)
        ([[0, 2, 1], [1, 1, 0]], [2, 0, 2], ["minimize", "maximize", "minimize"], 5),
        # 4-D: unit hypercubes offset along one axis each
        ([[0, 1, 1, 1], [1, 0, 1, 1]], [2, 2, 2, 2], ["minimize"] * 4, 2 + 2 - 1),
    ],
)
def test_hypervolume_matches_hand_computed(points, reference, directions, volume):
    assert hypervolume(points, reference, directions) == pytest.approx(volume)


def _box_union_volume(points, reference):
    """Inclusion-exclusion over the boxes [p, r]: exact, exponential, fine for 6 points."""
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(points, size):
            corner = [max(values) for values in zip(*subset)]
            total += (-1) ** (size + 1) * math.prod(
                max(0.0, r - c) for r, c in zip(reference, corner)
            )
    return total


@pytest.mark.parametrize("dimensions", [2, 3, 4])
def test_hypervolume_equals_inclusion_exclusion_on_random_points(dimensions):
    rng = random.Random(dimensions)
    for _ in range(5):
        points = [[rng.random() for _ in range(dimensions)] for _ in range(6)]
        reference = [1.0] * dimensions
        expected = _box_union_volume(points, reference)
        assert hypervolume(points, reference, ["minimize"] * dimensions) == pytest.approx(expected)


def test_hypervolume_agrees_with_optunas_wfg():
    np = pytest.importorskip("numpy")
    hypervolume_module = pytest.importorskip("optuna._hypervolume")  # a cross-check only
    rng = np.random.default_rng(0)
    for dimensions in (2, 3):
        points = rng.random((40, dimensions))
        reference = np.full(dimensions, 1.1)
        expected = hypervolume_module.compute_hypervolume(points, reference)
        ours = hypervolume(points.tolist(), reference.tolist(), ["minimize"] * dimensions)
        assert ours == pytest.approx(expected)


def test_hypervolume_history_is_cumulative_and_skips_missing_trials():
    points = [[0.5, 5], None, [0.4, 6], [0.9, 2], [NAN, 1], [0.9, 2]]
    history = hypervolume_history(points, [0.0, 10.0], ACC_FLOPS)
    # 0.5*5 = 2.5; a failed trial keeps it; a dominated point keeps it; (0.9, 2) covers
    # 0.9*8 = 7.2 and dominates (0.5, 5); NaN and a duplicate change nothing
    assert history == pytest.approx([2.5, 2.5, 2.5, 7.2, 7.2, 7.2])
    assert history[-1] == pytest.approx(hypervolume([p for p in points if p], [0, 10], ACC_FLOPS))


def test_knee_is_the_point_farthest_below_the_line_between_the_extremes():
    front = [[0.50, 1], [0.90, 2], [0.93, 6], [0.95, 10]]
    assert knee_point(front, ACC_FLOPS) == 1
    assert knee_point([], ACC_FLOPS) is None
    assert knee_point([[0.9, 2]], ACC_FLOPS) == 0


def test_reference_point_rules():
    objectives = parse_objectives(
        {"accuracy": "max", "flops": "min", "params": "min", "latency_ms": "min"}
    )
    point = reference_point_for(
        objectives, constraints={"flops": {"max": 2e7}}, upper_bounds={"params": 5e5, "flops": 9e9}
    )
    assert point == [0.0, 2e7, 5e5, None]  # bound, constraint wins over space, space, unknown
    explicit = reference_point_for(objectives, explicit={"accuracy": 0.5, "latency_ms": 3})
    assert explicit == [0.5, None, None, 3.0]


def test_open_reference_entries_are_filled_beyond_the_worst_point():
    filled = complete_reference([0.0, None], [[0.9, 2.0], [0.8, 6.0]], ACC_FLOPS)
    assert filled == pytest.approx([0.0, 6.0 + 0.1 * 4.0])
    objectives = [Objective("accuracy", "maximize"), Objective("flops", "minimize")]
    assert [o.sign for o in objectives] == [-1.0, 1.0]
