"""The three kinds of value in a space file: fixed, a categorical choice, a range.

A scalar is a fixed value, a list is a categorical choice, and a mapping with
``low`` and ``high`` (optional ``step``, ``log``) is an integer or float range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from search_space.errors import SpaceError, describe, did_you_mean, key_name

Scalar = bool | int | float | str | None

# Above this many values, an integer range is checked at its ends and steps are not enumerated.
ENUMERATE_LIMIT = 64


@dataclass(frozen=True)
class Fixed:
    value: Scalar

    def values(self) -> list[Scalar]:
        return [self.value]

    def size(self) -> float:
        return 1


@dataclass(frozen=True)
class Choice:
    options: tuple[Scalar, ...]

    def values(self) -> list[Scalar]:
        return list(self.options)

    def size(self) -> float:
        return len(self.options)


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    step: int = 1
    log: bool = False

    def values(self) -> list[Scalar]:
        """All values when few, else the ends: enough for the validator's checks."""
        count = (self.high - self.low) // self.step + 1
        if count <= ENUMERATE_LIMIT and not self.log:
            return list(range(self.low, self.high + 1, self.step))
        return [self.low, self.high]

    def size(self) -> float:
        return (self.high - self.low) // self.step + 1


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    step: float | None = None
    log: bool = False

    def values(self) -> list[Scalar]:
        return [self.low, self.high]

    def size(self) -> float:
        if self.step is None:
            return math.inf
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1


Param = Fixed | Choice | IntRange | FloatRange
RANGE_KEYS = ("low", "high", "step", "log")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_param(raw: Any, path: str) -> Param:
    """Turns one YAML value into a parameter; raises SpaceError naming `path`."""
    if isinstance(raw, list):
        return _parse_choice(raw, path)
    if isinstance(raw, dict):
        return _parse_range(raw, path)
    return Fixed(raw)


def _parse_choice(raw: list, path: str) -> Choice:
    if not raw:
        raise SpaceError(f"{path}: an empty list offers no choice; give at least one value")
    for value in raw:
        if isinstance(value, list | dict):
            raise SpaceError(f"{path}: a choice must list plain values, got {describe(value)}")
    if len(set(map(repr, raw))) != len(raw):
        twice = next(v for i, v in enumerate(raw) if repr(v) in map(repr, raw[:i]))
        raise SpaceError(f"{path}: the choice lists {describe(twice)} twice; keep one")
    return Choice(tuple(raw))


def _parse_range(raw: dict, path: str) -> IntRange | FloatRange:
    if list(raw) == ["tied"]:
        raise SpaceError(
            f"{path}: a tied choice ({{tied: NAME}}) is read by stem, stage and head keys only"
        )
    unknown = [k for k in raw if k not in RANGE_KEYS]
    if unknown:
        key = unknown[0]
        raise SpaceError(
            f"{path}.{key_name(key)}: unknown range key{did_you_mean(key, RANGE_KEYS)}; "
            "a range is {low: L, high: H} with optional step and log"
        )
    missing = [k for k in ("low", "high") if k not in raw]
    if missing:
        raise SpaceError(
            f"{path}: a range needs both 'low' and 'high' ({' and '.join(missing)} missing)"
        )
    low, high, step, log = raw["low"], raw["high"], raw.get("step"), raw.get("log", False)
    problems = [
        f"{path}.{key}: {describe(value)} is not a {'finite ' if _is_number(value) else ''}number"
        for key, value in (("low", low), ("high", high), ("step", step))
        if (key != "step" or value is not None) and not _is_finite_number(value)
    ]
    if not isinstance(log, bool):
        problems.append(f"{path}.log: {describe(log)} is not true or false")
    if problems:
        raise SpaceError(problems)
    _check_range_order(path, low, high, step, log)
    if all(isinstance(v, int) for v in (low, high, step or 1)):
        return IntRange(low, high, step or 1, log)
    return FloatRange(float(low), float(high), None if step is None else float(step), log)


def _is_finite_number(value: Any) -> bool:
    if not _is_number(value):
        return False
    # An int beyond float's range cannot be compared with a float bound: too large anyway.
    return math.isfinite(value) if isinstance(value, float) else abs(value) < 2**63


def _check_range_order(path: str, low: Any, high: Any, step: Any, log: bool) -> None:
    if low > high:
        raise SpaceError(f"{path}: low {describe(low)} is above high {describe(high)}")
    if step is not None and step <= 0:
        raise SpaceError(f"{path}.step: {describe(step)} must be positive")
    if log and step is not None:
        raise SpaceError(f"{path}: a range takes 'step' or 'log', not both")
    if log and low <= 0:
        raise SpaceError(f"{path}: a log range needs low > 0, got {describe(low)}")
