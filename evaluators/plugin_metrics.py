"""User evaluators: an objective named ``module:function.key`` (or ``module:function``).

    # my_metrics.py, listed under plugins: in the space file
    def score(model, data, config):
        # model: the built torch module, on config.device, in eval mode (trained when
        #        the search trains); data: evaluators.datasets.Dataset (train/val splits);
        # config: EvaluatorConfig (arch, data, train, device, trained)
        return {"latency_proxy": ..., "sparsity": ...}

    search:
      objectives: {accuracy: max, "my_metrics:score.latency_proxy": min}

The function returns a dict of numbers and the objective names one key after the dot;
without a key (``my_metrics:score``) it returns one number (or a dict of one entry).
Each function is called once per trial however many of its keys are objectives, after
training, and its values are recorded under the objective's full name. A user metric
has no natural direction, so its objective must say max or min.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search_space.errors import SpaceError, did_you_mean

_REFERENCE = re.compile(
    r"^(?P<module>[A-Za-z_][\w.]*):(?P<function>[A-Za-z_]\w*)(?:\.(?P<key>[^:]+))?$"
)


@dataclass(frozen=True)
class EvaluatorConfig:
    """What a user evaluator gets besides the model and its data."""

    arch: Any  # search_space.Architecture
    data: Any  # evaluators.config.DataConfig
    train: Any  # evaluators.config.TrainConfig
    device: str  # where the model is
    trained: bool  # whether the model was trained in this trial


@dataclass(frozen=True)
class Reference:
    module: str
    function: str
    key: str | None


def is_reference(name: str) -> bool:
    return ":" in name


def parse_reference(name: str, path: str) -> Reference:
    """'module:function.key' -> Reference; a malformed name is one SpaceError line."""
    match = _REFERENCE.match(name)
    if match is None:
        raise SpaceError(
            f"{path}: {name!r} is not a user evaluator reference "
            "'module:function.key' (e.g. 'my_metrics:score.latency_proxy')"
        )
    return Reference(match["module"], match["function"], match["key"])


def check_reference(name: str, path: str) -> Reference:
    """Parses `name` and checks that its function exists and is callable."""
    reference = parse_reference(name, path)
    resolve(reference, path)
    return reference


def resolve(reference: Reference, path: str) -> Callable[..., Any]:
    module = sys.modules.get(reference.module)
    if module is None:
        try:
            module = importlib.import_module(reference.module)
        except Exception as error:
            raise SpaceError(
                f"{path}: cannot import {reference.module!r} ({type(error).__name__}: "
                f"{error}); list it under plugins: or put it on PYTHONPATH"
            ) from None
    function = getattr(module, reference.function, None)
    if function is None:
        public = [n for n in vars(module) if not n.startswith("_")]
        raise SpaceError(
            f"{path}: {reference.module} has no function {reference.function!r}"
            f"{did_you_mean(reference.function, public)}"
        )
    if not callable(function):
        raise SpaceError(
            f"{path}: {reference.module}.{reference.function} is a "
            f"{type(function).__name__}, not a function"
        )
    return function


def evaluate(names: Sequence[str], model: Any, data: Any, config: EvaluatorConfig) -> dict:
    """{objective name: value} for the user evaluators `names`, one call per function."""
    references = {name: parse_reference(name, "search.objectives") for name in names}
    returned: dict[tuple[str, str], Any] = {}
    values = {}
    for name, reference in references.items():
        call = (reference.module, reference.function)
        if call not in returned:
            function = resolve(reference, "search.objectives")
            returned[call] = function(model, data, config)
        values[name] = _pick(returned[call], reference)
    return values


def _pick(result: Any, reference: Reference) -> float:
    where = f"{reference.module}:{reference.function}"
    if reference.key is None:
        if isinstance(result, Mapping) and len(result) == 1:
            result = next(iter(result.values()))
        return _number(result, where)
    if not isinstance(result, Mapping):
        raise TypeError(f"{where} returned {type(result).__name__}, not a dict of metrics")
    if reference.key not in result:
        raise KeyError(f"{where} returned no {reference.key!r} (its keys: {sorted(result)})")
    return _number(result[reference.key], f"{where}.{reference.key}")


def _number(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where} is {value!r}, not a number") from None
    if math.isnan(number):
        raise ValueError(f"{where} is NaN")
    return number
