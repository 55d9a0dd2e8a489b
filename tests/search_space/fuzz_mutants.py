"""Seeded mutations of a space document: the mistakes and attacks a user file may hold.

Each mutant changes one place of the document (a key path) in one way: the key deleted
or misspelt, the value replaced by a wrong type, an extreme number, null, a list, a
misspelt or swapped name, or a plausible neighbour (x2, /2, +1). The same seed always
gives the same mutants.
"""

from __future__ import annotations

import copy
import random
from typing import Any

EXTREMES = [0, -1, 10**9, 1e300, float("inf"), float("-inf"), float("nan"), 2**64, 10**40, 0.5]
WRONG_TYPES = ["abc", [1, 2], {"a": 1}, True, "", 3.5]
# Names that appear somewhere in a space file, so a swap is a plausible mistake.
NAMES = [
    "conv",
    "patchify",
    "resnet",
    "resnet",
    "mbconv",
    "convnext",
    "attention",
    "bottleneck",
    "mixer",
    "batch",
    "layer",
    "group",
    "none",
    "relu",
    "gelu",
    "silu",
    "avg",
    "token",
    "classifier",
    "block",
    "pool",
    "norm_conv",
    "patch_merge",
    "learned",
    "bias",
    "pre",
    "adamw",
    "sgd",
    "asha",
    "cifar10",
    "mnist5k",
    "split",
    "test",
    "cpu",
    "max",
    "min",
]
KINDS = ("delete", "key_typo", "wrong_type", "extreme", "null", "listify", "name", "neighbour")

Path = tuple[Any, ...]


def sites(document: Any, path: Path = ()) -> list[Path]:
    """Every key path of the document (mapping keys and list indices), depth first."""
    found = []
    items = (
        document.items()
        if isinstance(document, dict)
        else enumerate(document)
        if isinstance(document, list)
        else []
    )
    for key, value in items:
        found.append((*path, key))
        found += sites(value, (*path, key))
    return found


def _parent(document: Any, path: Path) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word + "x"
    i = rng.randrange(len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two letters
    return word[:i] + word[i + 1 :]  # drop one


def _new_value(kind: str, value: Any, rng: random.Random) -> Any:
    if kind == "wrong_type":
        return rng.choice(WRONG_TYPES)
    if kind == "extreme":
        return rng.choice(EXTREMES)
    if kind == "null":
        return None
    if kind == "listify":
        return [value, value] if rng.random() < 0.5 else [value, rng.choice([*NAMES, 1, 2])]
    if kind == "name":
        if isinstance(value, str) and rng.random() < 0.4:
            return _typo(value, rng)
        return rng.choice(NAMES)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return rng.choice([*NAMES, *EXTREMES])
    factor = rng.choice([2, 0.5, 3])
    return type(value)(value * factor) if rng.random() < 0.7 else value + 1


def mutate(document: dict, rng: random.Random) -> tuple[dict, str]:
    """One mutant of `document` and a label naming what was changed."""
    mutant = copy.deepcopy(document)
    path = rng.choice(sites(mutant))
    parent, key = _parent(mutant, path), path[-1]
    kind = rng.choice(KINDS)
    label = f"{kind} at {'/'.join(map(str, path))}"
    if kind == "delete":
        del parent[key]
    elif kind == "key_typo" and isinstance(parent, dict) and isinstance(key, str):
        parent[_typo(key, rng)] = parent.pop(key)
    else:
        parent[key] = _new_value(kind, parent[key], rng)
    return mutant, label
