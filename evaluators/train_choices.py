"""A ``train:`` section with choices: its fixed part, its choices, and one trial's recipe.

The choices are read by search_space/recipe.py (lists and ranges, as in the space); this
module holds what only the training side knows: whether each offered value is a valid
setting (TrainConfig's own rules, with the key path ``train.lr``), and how a sampled
value replaces the fixed recipe for one trial.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from evaluators.config import TrainConfig
from search_space.errors import SpaceError
from search_space.recipe import PREFIX, recipe_params


def split_train(section: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fixed settings, choices as written) of a ``train:`` section."""
    section = dict(section or {})
    choices = recipe_params(section)
    fixed = {k: v for k, v in section.items() if k not in choices}
    return fixed, {k: section[k] for k in choices}


def check_train(section: Mapping[str, Any] | None, path: str = "train") -> TrainConfig:
    """The fixed recipe, after checking it and every value each choice offers.

    All problems are raised at once, each naming its key (``train.drop_path: 1.0 must
    be in [0, 1)``). A range is checked at both ends, which bounds every value between.
    """
    fixed, choices = split_train(section)
    problems: list[str] = []
    try:
        config = TrainConfig.from_dict(fixed, path)
    except SpaceError as error:
        problems += error.problems
    for key, param in recipe_params(choices).items():
        for value in param.values():
            try:
                TrainConfig.from_dict({key: value}, path)
            except SpaceError as error:
                problems += [p for p in error.problems if p not in problems]
    if problems:
        raise SpaceError(problems)
    return config


def sampled_recipe(params: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe values among a trial's Optuna params: {"train.lr": x} -> {"lr": x}."""
    return {k[len(PREFIX) :]: v for k, v in params.items() if k.startswith(PREFIX)}


def with_recipe(base: TrainConfig, sampled: Mapping[str, Any]) -> TrainConfig:
    """`base` with one trial's sampled values (checked and converted like the file's)."""
    if not sampled:
        return base
    return TrainConfig.from_dict({**dataclasses.asdict(base), **sampled})
