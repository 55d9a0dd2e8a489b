"""Choices in the ``train:`` section: a recipe key may be a list or a range, like the space.

A training key written as a list (``drop_path: [0, 0.1]``) or a ``low``/``high`` mapping
(``lr: {low: 1.0e-3, high: 1.0e-2, log: true}``) is parsed by `parse_param`, exactly as
the space's own keys are, and sampled under the name ``train.<key>`` after the
architecture, so a search picks the recipe jointly with the candidate. Which values
are valid for each key is the training side's business (evaluators/train_choices.py);
here only the shape of the choice is read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from search_space.errors import SpaceError
from search_space.params import Fixed, Param, parse_param

PREFIX = "train."


def recipe_params(train: Any) -> dict[str, Param]:
    """The keys of a ``train:`` section that are choices or ranges, in file order."""
    if not isinstance(train, Mapping):
        return {}
    params = {}
    for key, raw in train.items():
        param = parse_param(raw, f"train.{key}")
        if not isinstance(param, Fixed):
            params[str(key)] = param
    return params


def recipe_problems(train: Any) -> list[str]:
    """Malformed choices of a ``train:`` section (an empty list, low above high...)."""
    if not isinstance(train, Mapping):
        return []
    problems = []
    for key, raw in train.items():
        try:
            parse_param(raw, f"train.{key}")
        except SpaceError as error:
            problems += error.problems
    return problems


def sample_recipe(run_config: Mapping[str, Any], chooser: Any) -> dict[str, Any]:
    """`run_config` with every train choice replaced by the value `chooser` picks."""
    train = run_config.get("train")
    params = recipe_params(train)
    if not params:
        return dict(run_config)
    sampled = {
        key: chooser.choose(PREFIX + key, params[key]) if key in params else value
        for key, value in train.items()
    }
    return {**run_config, "train": sampled}


def recipe_size(train: Any) -> float:
    """How many distinct recipes the choices offer (inf with a continuous range)."""
    return math.prod(param.size() for param in recipe_params(train).values())
