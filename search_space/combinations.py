"""The value combinations of a component's keys, shared by validation and size tracing."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from search_space.params import Param

MAX_COMBINATIONS = 20_000  # per component; beyond this the cross-check samples in order


def type_names(params: dict[str, Param], key: str, default: str | None = None) -> list[Any]:
    """The component types a key allows (its one default when the key is absent)."""
    param = params.get(key)
    return param.values() if param is not None else [default]


def option_combinations(cls: Any, params: dict[str, Param], keys: Iterable[str]) -> list[dict]:
    """Every combination of the given keys' values for `cls` (defaults where a key is absent)."""
    keys = [k for k in keys if k in cls.OPTIONS]
    value_lists = [params[k].values() if k in params else [cls.OPTIONS[k].default] for k in keys]
    combos = itertools.islice(itertools.product(*value_lists), MAX_COMBINATIONS)
    return [dict(zip(keys, combo, strict=True)) for combo in combos]
