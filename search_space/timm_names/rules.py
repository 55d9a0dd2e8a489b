"""Renaming rules: ordered (regex, replacement) pairs applied to every state-dict key."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

Replacement = str | Callable[[re.Match], str]
Rules = Sequence[tuple[str, Replacement]]
DROP = "<drop>"  # a replacement meaning: timm keeps this key, our model has no such tensor


def rename(key: str, rules: Rules) -> str:
    """Applies every rule in order (each a `re.sub` anchored at the start of the key)."""
    for pattern, replacement in rules:
        key = re.sub(f"^{pattern}", replacement, key)
        if key == DROP:
            return key
    return key


def stage_rules(prefix: str, ours: str, count: int, start: int = 0) -> list[tuple[str, str]]:
    """`{prefix}{start + i}.` -> `{ours}{i}.` for i < count, e.g. layer1. -> stages.0."""
    return [(rf"{re.escape(prefix)}{start + i}\.", f"{ours}{i}.") for i in range(count)]


def flat_block_rules(prefix: str, theirs: Sequence[int], ours: Sequence[int]) -> list:
    """Maps `{prefix}{s}.{b}.` of a model with stage depths `theirs` onto `stages.{k}.{j}.`
    of ours (depths `ours`): the blocks are the same sequence, grouped differently."""
    names = [f"stages.{k}.{j}." for k, depth in enumerate(ours) for j in range(depth)]
    table, index = {}, 0
    for s, depth in enumerate(theirs):
        for b in range(depth):
            table[f"{prefix}{s}.{b}."] = names[index] if index < len(names) else None
            index += 1
    pattern = rf"{re.escape(prefix)}\d+\.\d+\."
    return [(pattern, lambda m: table.get(m.group(0)) or m.group(0))]
