"""What a trial's architecture is, as columns to group by.

A key is either a path into the architecture document (`stem.type`, `stages[2].block`,
`stages[0].kernel`: any sampled or fixed value of `trials/<n>/arch.yaml`) or a derived
feature computed from the whole document:

| feature | values |
| --- | --- |
| `family` | `conv` (no attention block), `attention` (only attention blocks), `hybrid` (both) |
| `has_attention` | `True` when any stage uses an attention block |
| `first_attention_stage` | index of the first stage with attention blocks; `none` without |
| `blocks` | the stages' block types joined with `-`, e.g. `convnext-attention` |
| `depth` | total number of blocks over the stages |

The architecture comes from the table's `arch_yaml` column (results/README.md), parsed
once per distinct document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import yaml

from search_space.errors import SpaceError, did_you_mean

ATTENTION_BLOCKS = frozenset({"attention"})  # token mixing by self-attention
NOT_APPLICABLE = "n/a"  # a key the architecture does not have (kernel of an attention stage)
_STEP = re.compile(r"([A-Za-z_][\w-]*)(?:\[(-?\d+)\])?")


def _stages(arch: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    stages = arch.get("stages") or []
    return [s for s in stages if isinstance(s, Mapping)]


def _attention_stages(arch: Mapping[str, Any]) -> list[int]:
    return [i for i, s in enumerate(_stages(arch)) if s.get("block") in ATTENTION_BLOCKS]


def family(arch: Mapping[str, Any]) -> str:
    """conv, attention or hybrid, by which stages mix tokens with attention."""
    attention, stages = _attention_stages(arch), _stages(arch)
    if not attention:
        return "conv"
    return "attention" if len(attention) == len(stages) else "hybrid"


def first_attention_stage(arch: Mapping[str, Any]) -> int | str:
    attention = _attention_stages(arch)
    return attention[0] if attention else "none"


DERIVED: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "family": family,
    "has_attention": lambda arch: bool(_attention_stages(arch)),
    "first_attention_stage": first_attention_stage,
    "blocks": lambda arch: "-".join(str(s.get("block")) for s in _stages(arch)),
    "depth": lambda arch: sum(int(s.get("depth") or 0) for s in _stages(arch)),
}


def lookup(arch: Mapping[str, Any], key: str) -> Any:
    """The value at `key` (`stages[2].block`), a derived feature, or NOT_APPLICABLE."""
    if key in DERIVED:
        return DERIVED[key](arch)
    value: Any = arch
    for part in key.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise SpaceError(
                f"group key {key!r}: cannot read {part!r}{did_you_mean(key, DERIVED)}; write "
                f"a path such as stages[2].block or one of {', '.join(sorted(DERIVED))}"
            )
        name, index = match.groups()
        value = value.get(name) if isinstance(value, Mapping) else None
        if index is not None:
            position = int(index)
            ok = isinstance(value, list) and -len(value) <= position < len(value)
            value = value[position] if ok else None
        if value is None:
            return NOT_APPLICABLE
    return value if not isinstance(value, list | dict) else str(value)


@functools.lru_cache(maxsize=4096)
def _parse(document: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parsed = yaml.load(document, Loader=loader)  # a safe loader: no code runs
    return parsed if isinstance(parsed, dict) else {}


def architectures(table: pd.DataFrame) -> list[dict[str, Any]]:
    """One architecture document per row ({} where the row has none)."""
    if "arch_yaml" not in table.columns:
        raise SpaceError("the trials table has no arch_yaml column; write it with `nas report`")
    return [_parse(doc) if isinstance(doc, str) else {} for doc in table["arch_yaml"]]


def group_column(table: pd.DataFrame, key: str) -> pd.Series:
    """The value of `key` for every row, as strings (one label per group)."""
    values = [lookup(arch, key) for arch in architectures(table)]
    known = set(values) - {NOT_APPLICABLE}
    if not known:
        raise SpaceError(
            f"group key {key!r} is in no trial's architecture{did_you_mean(key, DERIVED)}; "
            "use a path such as "
            f"stages[0].block or one of {', '.join(sorted(DERIVED))}"
        )
    return pd.Series([str(v) for v in values], index=table.index, name=key)


def flatten(arch: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"stages": [{"block": "resnet"}]} -> {"stages[0].block": "resnet"}; scalars only."""
    flat: dict[str, Any] = {}
    for name, value in arch.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{name}."))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    flat.update(flatten(item, f"{prefix}{name}[{i}]."))
                else:
                    flat[f"{prefix}{name}[{i}]"] = item
        else:
            flat[f"{prefix}{name}"] = value
    return flat
