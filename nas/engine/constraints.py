"""Constraints checked before training: ``flops<=2e7``, ``params<=1e6``.

Only metrics known from building the model (flops, params) can be constrained, so an
infeasible candidate is never trained. Optuna is told each constraint as a relative
violation, ``(value - bound) / bound`` for an upper bound, so that "twice too many FLOPs"
and "twice too many params" weigh the same; <= 0 means satisfied (Optuna's convention).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search_space.errors import SpaceError, did_you_mean

CONSTRAINABLE = ("flops", "params")
_TEXT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(<=|>=|<|>)\s*([-+0-9.eE_]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    metric: str  # one of CONSTRAINABLE
    bound: float
    upper: bool = True  # True: value <= bound; False: value >= bound

    def violation(self, value: float) -> float:
        """Relative amount by which `value` breaks the bound; <= 0 when satisfied."""
        scale = abs(self.bound) or 1.0
        excess = value - self.bound if self.upper else self.bound - value
        return excess / scale

    def text(self) -> str:
        return f"{self.metric}{'<=' if self.upper else '>='}{self.bound:g}"

    def key(self) -> str:
        """The Optuna constraint name: one bound per metric and side."""
        return f"{self.metric}_{'max' if self.upper else 'min'}"


def parse_constraint_text(text: str, path: str = "--constraint") -> Constraint:
    """'flops<=2e7' -> Constraint('flops', 2e7, upper=True)."""
    match = _TEXT.match(str(text))
    if not match:
        raise SpaceError(f"{path}: {text!r} is not METRIC<=VALUE or METRIC>=VALUE, e.g. flops<=2e7")
    metric, operator, number = match.groups()
    return _constraint(metric, number, operator.startswith("<"), path, f"{path} {text!r}")


def parse_constraints(spec: Any, path: str = "search.constraints") -> list[Constraint]:
    """YAML {flops: {max: 2e7}, params: {max: 1e6}} (or {flops: 2e7}, or a list of texts).

    Every bad constraint is reported at once, one line each.
    """
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Sequence):
        parsers = [functools.partial(parse_constraint_text, item, path) for item in spec]
    elif isinstance(spec, Mapping):
        parsers = _mapping_parsers(spec, path)
    else:
        raise SpaceError(f"{path}: expected a mapping like {{flops: {{max: 2.0e7}}}}, got {spec!r}")
    constraints, problems = [], []
    for parse in parsers:
        try:
            constraints.append(parse())
        except SpaceError as error:
            problems += error.problems
    problems += _doubled(constraints, path)
    if problems:
        raise SpaceError(problems)
    return constraints


def _mapping_parsers(spec: Mapping, path: str) -> list[Callable[[], Constraint]]:
    """One parser per (metric, side) of the YAML mapping form."""
    parsers = []
    for metric, bounds in spec.items():
        where = f"{path}.{metric}"
        for side, value in (bounds if isinstance(bounds, Mapping) else {"max": bounds}).items():
            parsers.append(functools.partial(_bound, str(metric), side, value, where))
    return parsers


def _bound(metric: str, side: Any, value: Any, where: str) -> Constraint:
    if side not in ("max", "min"):
        raise SpaceError(
            f"{where}.{side}: unknown bound{did_you_mean(side, ('max', 'min'))}; use max or min"
        )
    return _constraint(metric, value, side == "max", where, f"{where}.{side}")


def merge(base: Sequence[Constraint], overrides: Sequence[Constraint]) -> list[Constraint]:
    """Flags win per metric and side: --constraint flops<=1e7 replaces the file's flops max."""
    keys = {c.key() for c in overrides}
    return [*(c for c in base if c.key() not in keys), *overrides]


def to_mapping(constraints: Sequence[Constraint]) -> dict[str, dict[str, float]]:
    """The YAML form, also what `nas.runs.pareto.reference_point_for` reads."""
    mapping: dict[str, dict[str, float]] = {}
    for c in constraints:
        mapping.setdefault(c.metric, {})["max" if c.upper else "min"] = c.bound
    return mapping


def violations(constraints: Sequence[Constraint], metrics: Mapping[str, float]) -> dict[str, float]:
    """{key: violation} for every constraint; a missing metric counts as a full violation."""
    return {
        c.key(): c.violation(metrics[c.metric]) if c.metric in metrics else 1.0 for c in constraints
    }


def broken(constraints: Sequence[Constraint], metrics: Mapping[str, float]) -> list[str]:
    """Readable reasons, e.g. ['flops 3.1e+07 > 2e+07']; empty when feasible."""
    reasons = []
    for c in constraints:
        value = metrics.get(c.metric)
        if value is None:
            reasons.append(f"{c.metric} unknown")
        elif c.violation(value) > 0:
            sign = ">" if c.upper else "<"
            reasons.append(f"{c.metric} {value:.3g} {sign} {c.bound:.3g}")
    return reasons


def _constraint(metric: str, raw_bound: Any, upper: bool, path: str, bound_path: str) -> Constraint:
    """Both the metric and the bound are checked, so one line names each problem."""
    problems = []
    if metric not in CONSTRAINABLE:
        problems.append(
            f"{path}: cannot constrain {metric!r}{did_you_mean(metric, CONSTRAINABLE)}"
            f" before training; constrain one of {', '.join(CONSTRAINABLE)}"
        )
    try:
        bound = _number(raw_bound, bound_path)
    except SpaceError as error:
        problems += error.problems
    else:
        if bound <= 0:
            problems.append(f"{path}: the bound {bound:g} on {metric} must be positive")
    if problems:
        raise SpaceError(problems)
    return Constraint(metric, bound, upper)


def _number(value: Any, path: str) -> float:
    try:
        number = float(str(value).replace("_", "")) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not math.isfinite(number):
        raise SpaceError(f"{path}: {value!r} is not a finite number")
    return number


def _doubled(constraints: list[Constraint], path: str) -> list[str]:
    keys = [c.key() for c in constraints]
    doubled = sorted({k for k in keys if keys.count(k) > 1})
    return [f"{path}: more than one bound for {', '.join(doubled)}"] if doubled else []
