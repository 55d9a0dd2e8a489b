"""How a stem, block or head declares the YAML keys it reads.

Every registered component lists its keys in a class attribute ``OPTIONS``; the
validator, the sampler and the builder all read that one table, so a key a
component does not declare is never sampled for it and is rejected where no
component could read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from search_space.errors import describe, one_of

# Upper bound for a number whose Option declares none: far above any real setting, low
# enough that widths and counts derived from it stay integers torch can allocate.
NUMBER_LIMIT = 100_000


@dataclass(frozen=True)
class Option:
    """One key a component reads from YAML, with its default and allowed values."""

    kind: type  # int, float, bool or str
    default: Any  # used when the space file leaves the key out
    doc: str = ""  # one line for the README reference and error messages
    choices: tuple[Any, ...] | None = None  # the allowed values, when a closed set
    minimum: float | None = None  # inclusive lower bound for numbers
    maximum: float | None = None  # inclusive upper bound; None means NUMBER_LIMIT
    odd: bool = False  # kernels: an even size has no centre pixel
    nullable: bool = False  # None (YAML null) is allowed, e.g. "no window"

    def problem(self, value: Any) -> str | None:
        """Returns why `value` is not allowed for this key, or None when it is."""
        if value is None:
            return None if self.nullable else f"a value is required ({self._expected()})"
        if not _has_kind(value, self.kind):
            return f"{describe(value)} is not {self._expected()}"
        if self.choices is not None and value not in self.choices:
            return f"{describe(value)} is not {one_of(self.choices)}"
        if self.kind in (int, float):
            return self._number_problem(value)
        return None

    def _number_problem(self, value: float) -> str | None:
        if isinstance(value, float) and not math.isfinite(value):
            return f"{describe(value)} is not a finite number"
        maximum = NUMBER_LIMIT if self.maximum is None else self.maximum
        if self.minimum is not None and value < self.minimum:
            return f"{describe(value)} is below the minimum {self.minimum:g}"
        if value > maximum:
            return f"{describe(value)} is above the maximum {maximum:g}"
        if self.odd and value % 2 == 0:
            return f"{describe(value)} is even; kernels must be odd so that they have a centre"
        return None

    def _expected(self) -> str:
        names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
        text = names[self.kind]
        if self.choices is not None:
            text = one_of(self.choices)
        if self.nullable:
            text += " or null"
        return text


def _has_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)


# Keys shared by many components, declared once so their vocabulary stays the same.
NORMS = ("batch", "layer", "group", "group1", "none")
ACTS = ("relu", "relu6", "gelu", "silu", "hard_swish")


def norm_option(default: str = "batch") -> Option:
    return Option(str, default, "normalization layer", choices=NORMS)


def act_option(default: str = "relu") -> Option:
    return Option(str, default, "activation function", choices=ACTS)


def kernel_option(default: int = 3) -> Option:
    return Option(int, default, "kernel size of the spatial convolution", minimum=1, odd=True)


def norm_eps_option(note: str = "") -> Option:
    return Option(
        float,
        None,
        "norm epsilon; null = the norm's usual one (layer 1e-6, batch/group 1e-5)" + note,
        minimum=0,
        maximum=0.1,
        nullable=True,
    )
