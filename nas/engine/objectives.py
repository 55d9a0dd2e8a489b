"""What a search optimizes: metric names, their directions, and where each is measured.

An objective is a metric of a candidate, maximized or minimized, written on the command
line as ``accuracy:max,flops:min`` and in YAML as ``{accuracy: max, flops: min}``.
Counted metrics (flops, params) come from building the model, before any training;
trained metrics (accuracy, loss) need training; latency is measured on the trial's own
device; a zero-cost proxy (synflow, naswot, grad_norm, ...) scores the untrained model
on one batch. A search whose objectives need no training trains nothing. A user
evaluator, ``module:function.key`` (see evaluators/plugin_metrics.py), runs in the worker
after training and needs an explicit direction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nas.runs.pareto import MAXIMIZE, MINIMIZE, Objective, direction_word
from search_space.errors import SpaceError, did_you_mean

# name -> (default direction, where it is measured)
COUNTED, TRAINED, MEASURED, PROXY = "counted", "trained", "measured", "proxy"
TABULAR = "tabular"  # looked up in a published table (evaluators/tabular/), no training
USER = "user"  # a plug-in's function, module:function.key
METRICS: dict[str, tuple[str, str]] = {
    "accuracy": (MAXIMIZE, TRAINED),  # top-1 on the held-out validation split, in [0, 1]
    # Mean recall over classes and mean per-class F1, from the same validation pass as
    # accuracy (evaluators/class_metrics.py): the scores for imbalanced classes.
    "balanced_accuracy": (MAXIMIZE, TRAINED),
    "macro_f1": (MAXIMIZE, TRAINED),
    "loss": (MINIMIZE, TRAINED),  # validation cross-entropy
    "flops": (MINIMIZE, COUNTED),  # one fused multiply-add = 1 FLOP
    "params": (MINIMIZE, COUNTED),
    "latency": (MINIMIZE, MEASURED),  # median forward time in ms, batch 1, trial's device
    # NAS-Bench-201's test accuracy after 200 epochs, in [0, 1], from the bundled table
    "nb201_cifar10": (MAXIMIZE, TABULAR),
    "nb201_cifar100": (MAXIMIZE, TABULAR),
    "nb201_imagenet16": (MAXIMIZE, TABULAR),
}
# The metrics.json key behind an objective, where it differs from the objective's name.
METRIC_KEYS = {"latency": "latency_ms"}
DEFAULT_OBJECTIVES = {"accuracy": "max", "flops": "min"}
_DIRECTIONS = ("max", "min", "maximize", "minimize")


def proxy_names() -> list[str]:
    """Zero-cost proxies offered by `evaluators.proxies` (empty while it has none)."""
    try:
        from evaluators import proxies
    except ImportError:
        return []
    lister = getattr(proxies, "list_proxies", None)
    return sorted(lister()) if callable(lister) else []


def known_objectives() -> list[str]:
    return [*METRICS, *proxy_names()]


def kind_of(name: str) -> str:
    """COUNTED, TRAINED, MEASURED, PROXY or USER."""
    if ":" in name:
        return USER
    return METRICS[name][1] if name in METRICS else PROXY


def metric_key(name: str) -> str:
    return METRIC_KEYS.get(name, name)


def needs_training(objectives: Sequence[Objective]) -> bool:
    return any(kind_of(o.name) == TRAINED for o in objectives)


def needs_images(objectives: Sequence[Objective]) -> bool:
    """Training, a proxy's batch or a user's evaluator read the dataset; counts and
    tables do not."""
    return any(kind_of(o.name) in (TRAINED, PROXY, USER) for o in objectives)


def is_instant(objectives: Sequence[Objective]) -> bool:
    """Every objective is counted or looked up: a trial costs milliseconds, so the driver
    scores it itself instead of sending it to a Ray worker (nas/engine/instant.py)."""
    return all(kind_of(o.name) in (COUNTED, TABULAR) for o in objectives)


def parse_objectives(
    spec: Any, path: str = "search.objectives", *, find_functions: bool = True
) -> list[Objective]:
    """'accuracy:max,flops:min', ['accuracy:max', ...] or {accuracy: max, ...} -> Objectives.

    A name alone takes its natural direction (accuracy and proxies max, the rest min).
    A user evaluator's function is imported and checked unless `find_functions` is off
    (a flag is checked before the space file's plug-ins are imported).
    """
    if isinstance(spec, str):
        spec = [part for part in spec.split(",") if part.strip()]
    if isinstance(spec, Mapping):
        items = [(str(k), v) for k, v in spec.items()]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        items = [_split_item(item, path) for item in spec]
    else:
        raise SpaceError(f"{path}: expected 'name:max,name:min' or a mapping, got {spec!r}")
    if not items:
        raise SpaceError(f"{path}: name at least one objective, e.g. accuracy:max,flops:min")
    objectives, known = [], known_objectives()
    for name, direction in items:
        if ":" in name:
            objectives.append(_user_objective(name, direction, path, find_functions))
            continue
        if name not in known:
            raise SpaceError(
                f"{path}: unknown objective {name!r}{did_you_mean(name, known)}; "
                f"known: {', '.join(known)}"
            )
        objectives.append(Objective(name, _direction(name, direction, path)))
    names = [o.name for o in objectives]
    if len(set(names)) != len(names):
        raise SpaceError(f"{path}: an objective is named twice in {', '.join(names)}")
    return objectives


def _user_objective(name: str, direction: Any, path: str, find_functions: bool) -> Objective:
    from evaluators import plugin_metrics

    if find_functions:
        plugin_metrics.check_reference(name, path)
    else:
        plugin_metrics.parse_reference(name, path)
    if direction is None:
        raise SpaceError(f"{path}: {name!r} is a user metric; say max or min (e.g. {name}:min)")
    return Objective(name, _direction(name, direction, path))


def _split_item(item: Any, path: str) -> tuple[str, Any]:
    if isinstance(item, Mapping) and "name" in item:
        return str(item["name"]), item.get("direction")
    if isinstance(item, str):
        # The direction follows the last colon; a user evaluator has a colon of its own
        # (module:function.key:min), a built-in metric none (accuracy:max).
        text = item.strip()
        head, colon, tail = text.rpartition(":")
        tail = tail.strip()
        if colon and (":" in head or tail in _DIRECTIONS or head in known_objectives()):
            return head.strip(), tail or None
        return text, None
    raise SpaceError(f"{path}: {item!r} is not 'name' or 'name:max' / 'name:min'")


def _direction(name: str, word: Any, path: str) -> str:
    if word is None:
        return METRICS[name][0] if name in METRICS else MAXIMIZE
    try:
        return direction_word(word)
    except ValueError:
        raise SpaceError(f"{path}.{name}: {word!r} is not max or min") from None


def to_records(objectives: Sequence[Objective]) -> list[dict[str, str]]:
    """The study attribute form: [{"name": "accuracy", "direction": "maximize"}, ...]."""
    return [{"name": o.name, "direction": o.direction} for o in objectives]


def to_text(objectives: Sequence[Objective]) -> str:
    return ",".join(f"{o.name}:{'max' if o.direction == MAXIMIZE else 'min'}" for o in objectives)


def worst_value(objective: Objective) -> float:
    """The floor of accuracy and the class scores is 0; any other metric is unbounded."""
    bounded = ("accuracy", "balanced_accuracy", "macro_f1")
    if objective.name in bounded and objective.direction == MAXIMIZE:
        return 0.0
    return float("-inf") if objective.direction == MAXIMIZE else float("inf")


def objective_values(objectives: Sequence[Objective], metrics: Mapping[str, Any]) -> list[float]:
    """The values to tell Optuna; a metric that was never measured (an infeasible trial's
    accuracy) is the worst value of its direction, so the sampler never prefers it."""
    values = []
    for objective in objectives:
        value = metrics.get(metric_key(objective.name))
        if value is None:
            value = worst_value(objective)
        values.append(float(value))
    return values
