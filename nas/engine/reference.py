"""The hypervolume reference point of a new run, stored in its study at the start.

Objectives with a known bound take it (see `nas.runs.pareto.reference_point_for`); a
minimised FLOPs or params objective with no constraint takes the largest value the space
can produce, found by building its "largest" architectures.
"""

from __future__ import annotations

from typing import Any

from nas.runs.pareto import Objective, reference_point_for


def run_reference_point(
    objectives: list[Objective],
    space: Any = None,
    constraints: dict[str, dict[str, float]] | None = None,
    explicit: dict[str, float] | None = None,
) -> list[float | None]:
    """The reference point to store in a new study (see `nas.runs.pareto.reference_point_for`).

    A minimised FLOPs or params objective with no constraint takes the largest value in
    `space` (`space_upper_bounds`); anything still unknown is None and is fixed by
    `update_run_folder` from the first completed trials.
    """
    point = reference_point_for(objectives, constraints, explicit=explicit)
    missing = [o.name for o, v in zip(objectives, point) if v is None]
    countable = [n for n in missing if n in ("flops", "params")]
    if space is not None and countable:
        point = reference_point_for(
            objectives, constraints, space_upper_bounds(space, countable), explicit
        )
    return point


def space_upper_bounds(space: Any, names: list[str], budget: int = 48) -> dict[str, float]:
    """The largest FLOPs/params among the space's "largest" architectures.

    Every number takes its largest value (strides and patches their smallest), and every
    combination of named choices (block types, norms, ...) is tried, up to `budget`
    architectures; FLOPs and params grow with all of those, so this is the space's maximum
    whenever the combinations fit in the budget.
    """
    from evaluators.flops import count_arch_flops
    from evaluators.tabular import known_counts
    from search_space import build_model, count_params, sample_architecture

    bounds: dict[str, float] = {}
    for arch in _largest_architectures(space, sample_architecture, budget):
        known = known_counts(arch)  # a closed form (an NB201 network) needs no tracing
        if known is not None:
            for name in names:
                bounds[name] = max(bounds.get(name, 0.0), known[name])
            continue
        model = build_model(arch).eval()
        values = {"params": float(count_params(model))}
        if "flops" in names:
            values["flops"] = count_arch_flops(model, arch)["flops"]
        for name in names:
            bounds[name] = max(bounds.get(name, 0.0), values[name])
    return bounds


class _LargestChooser:
    """Numbers at their largest; the i-th named choice takes `picks[i]` (0 beyond)."""

    _SMALLER_IS_LARGER = ("stride", "patch")  # fewer pixels removed -> more compute

    def __init__(self, picks: list[int]):
        self.picks, self.counts = picks, []

    def choose(self, name: str, param: Any) -> Any:
        from search_space.params import Choice, Fixed, IntRange

        if isinstance(param, Fixed):
            return param.value
        values = param.values() if isinstance(param, Choice) else [param.low, param.high]
        if isinstance(param, IntRange):
            values = [param.low, param.low + (param.high - param.low) // param.step * param.step]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            smaller = name.rsplit(".", 1)[-1] in self._SMALLER_IS_LARGER
            return min(values) if smaller else max(values)
        index = len(self.counts)
        self.counts.append(len(values))
        return values[self.picks[index] if index < len(self.picks) else 0]


def _largest_architectures(space: Any, sample: Any, budget: int) -> list[Any]:
    # Walks the define-by-run tree of named choices depth first: each visit replays a
    # prefix of picks and queues every alternative after the prefix.
    pending, found = [[]], []
    while pending and len(found) < budget:
        picks = pending.pop()
        chooser = _LargestChooser(picks)
        found.append(sample(space, chooser))
        for position in range(len(chooser.counts) - 1, len(picks) - 1, -1):
            for alternative in range(chooser.counts[position] - 1, 0, -1):
                pending.append([*picks, *[0] * (position - len(picks)), alternative])
    return found
