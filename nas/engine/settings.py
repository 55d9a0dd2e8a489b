"""The ``search:`` section of a space file: `SearchConfig`, one checker per key, and the
check of all three run sections (``data:``, ``train:``, ``search:``) that `nas validate`
runs. Every problem names its key path (or its flag) and is one line.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from evaluators.config import DataConfig, TrainConfig
from evaluators.flop_conventions import CONVENTIONS as FLOP_CONVENTIONS
from evaluators.flop_conventions import DEFAULT as FLOP_DEFAULT
from evaluators.train_choices import check_train
from nas.engine.constraints import Constraint, parse_constraints, to_mapping
from nas.engine.objectives import DEFAULT_OBJECTIVES, is_instant, parse_objectives, to_text
from nas.engine.samplers import DEFAULT_SAMPLER, SAMPLERS
from nas.engine.schedulers.ranking import TIE_BREAKS
from nas.runs.pareto import Objective
from search_space.errors import SpaceError, describe, did_you_mean, known_settings, one_of

EARLY_STOPPING = ("none", "asha", "mo_asha")
_ADDRESS = re.compile(r"^(auto|[\w.\-]+:\d{1,5})$")


@dataclass(frozen=True)
class SearchConfig:
    """The ``search:`` section. Each default is what a first search on a laptop wants."""

    # The accuracy-versus-cost trade-off this project is about; any metrics, any count.
    objectives: tuple[Objective, ...] = tuple(parse_objectives(DEFAULT_OBJECTIVES))
    # Candidates to decide on: complete, stopped early, failed and infeasible all count
    # (as Optuna's n_trials and Tune's num_samples do); interrupted ones are re-run.
    trials: int = 20
    # Picked by benchmarks/sampler_hypervolume.py, not by habit.
    sampler: str = DEFAULT_SAMPLER
    # Checked on the built model before training; see nas/engine/constraints.py.
    constraints: tuple[Constraint, ...] = ()
    # Seeds the sampler and every trial's training; one seed, one search (sequentially).
    seed: int = 0
    # One core per trial: on small models, two 1-thread trials beat one 2-thread trial.
    cpus_per_trial: float = 1.0
    # None: one GPU per trial when the cluster has GPUs, else none; fractions share a GPU.
    gpus_per_trial: float | None = None
    # None: as many trials as the cluster's CPUs (and GPUs) hold at once.
    max_concurrent: int | None = None
    # "asha" stops weak trials at epoch milestones on validation accuracy alone (Ray's
    # ASHA); "mo_asha" ranks them by Pareto front on the objectives (nas/engine/schedulers).
    # Off by default: a stopped trial never enters the front, and the bundled demo trains
    # 3 epochs, where stopping at epoch 1 saves little (benchmarks/multi_fidelity.py).
    early_stopping: str = "none"
    # ASHA's first milestone (epochs) and the share of trials promoted (1 in N).
    asha_grace_period: int = 1
    asha_reduction_factor: float = 3.0
    # Hyperband over this many brackets; bracket s first judges a trial at rung s.
    asha_brackets: int = 1
    # MO-ASHA: how a rung orders the members of one Pareto front ("crowding": NSGA-II's
    # crowding distance, the ends always first; "hypervolume": exclusive contribution).
    asha_tie_break: str = "crowding"
    # Optuna storage URL; None: sqlite:///RUN/study.db, which optuna-dashboard opens.
    storage: str | None = None
    # None: the run folder's name, so many runs can share one database server.
    study_name: str | None = None
    # Re-runs of a trial whose worker process died (killed, out of host memory).
    max_retries: int = 2
    # Architecture files enqueued as the first trials (a new search only).
    seed_archs: tuple[str, ...] = ()
    # None: an in-process Ray on this machine; "auto" or HOST:PORT joins a cluster.
    address: str | None = None
    # None: results/<space>-<time>/ under the working directory.
    output: str | None = None
    # Hypervolume reference per objective; None: bounds, constraints or the space's largest.
    reference_point: dict[str, float] | None = None
    # Redraw plots after every trial (off for big searches: a plot costs ~1 s).
    plots: bool = True
    # Which operations FLOPs count (evaluators/flop_conventions.py): fvcore's rules, or
    # NAS-Bench-201's counter for comparing with its published figures.
    flop_convention: str = FLOP_DEFAULT
    # "skip": in a search whose objectives are all counted or looked up, a proposal that
    # repeats an earlier architecture (on a table, an equivalent one) is not a query: it
    # is recorded with the earlier values and does not count towards `trials`.
    repeats: str = "count"

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any] | None, path: str = "search") -> SearchConfig:
        """Checks and builds the section; raises one SpaceError listing every problem."""
        items, problems = known_settings(mapping, _PARSERS, path)
        values = {}
        for key, raw in items:
            try:
                values[key] = _PARSERS[key](raw, f"{path}.{key}")
            except SpaceError as error:
                problems += error.problems
        if values.get("repeats") == "skip" and not is_instant(
            values.get("objectives", cls.objectives)
        ):
            problems.append(
                f"{path}.repeats: skip needs objectives that are all counted or looked up "
                "(flops, params, nb201_*); a trained objective scores a repeat again with a "
                "fresh seed, a replicate of its noise (use repeats: count)"
            )
        if problems:
            raise SpaceError(problems)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form written to config.yaml (and read back by `from_dict`)."""
        document = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        document["objectives"] = {
            o.name: "max" if o.direction == "maximize" else "min" for o in self.objectives
        }
        document["constraints"] = to_mapping(self.constraints) or None
        document["seed_archs"] = list(self.seed_archs)
        return document

    @property
    def objectives_text(self) -> str:
        return to_text(self.objectives)


# --- one parser per key: (raw YAML or flag value, key path) -> value -----------------


def _integer(low: int, high: int = 2**32 - 1) -> Callable[[Any, str], int]:
    def parse(raw: Any, path: str) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            raise SpaceError(
                f"{path}: {describe(raw)} must be a whole number from {low} to {high:,}"
            )
        return raw

    return parse


def _number(
    low: float, *, strict: bool, optional: bool = False, high: float = 1e6
) -> Callable[[Any, str], Any]:
    def parse(raw: Any, path: str) -> float | None:
        if raw is None and optional:
            return None
        try:
            value = float(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError, OverflowError):
            value = None
        finite = value is not None and math.isfinite(value)
        if not finite or value < low or (strict and value == low) or value > high:
            raise SpaceError(
                f"{path}: {describe(raw)} must be a finite number "
                f"{'>' if strict else '>='} {low:g} and at most {high:g}"
            )
        return value

    return parse


def _optional_integer(low: int) -> Callable[[Any, str], int | None]:
    def parse(raw: Any, path: str) -> int | None:
        return None if raw is None else _integer(low)(raw, path)

    return parse


def _word(choices: tuple[str, ...]) -> Callable[[Any, str], str]:
    def parse(raw: Any, path: str) -> str:
        word = "none" if raw in (None, False) else raw
        if word not in choices:
            raise SpaceError(
                f"{path}: {raw!r} is not {one_of(choices)}{did_you_mean(raw, choices)}"
            )
        return word

    return parse


def _optional_text(raw: Any, path: str) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise SpaceError(f"{path}: {raw!r} is not a string")
    return raw or None


def _address(raw: Any, path: str) -> str | None:
    if raw in (None, "local"):
        return None
    if not isinstance(raw, str) or not _ADDRESS.match(raw):
        raise SpaceError(f"{path}: {raw!r} is not 'auto' or HOST:PORT (e.g. 127.0.0.1:6379)")
    return raw


def _paths(raw: Any, path: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if items is None:
        return ()
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise SpaceError(f"{path}: expected a list of architecture files, got {raw!r}")
    return tuple(items)


def _reference(raw: Any, path: str) -> dict[str, float] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise SpaceError(f"{path}: expected a mapping {{objective: value}}, got {raw!r}")
    return {
        str(k): _number(-1e300, strict=False, high=1e300)(v, f"{path}.{k}") for k, v in raw.items()
    }


def _boolean(raw: Any, path: str) -> bool:
    if not isinstance(raw, bool):
        raise SpaceError(f"{path}: {raw!r} is not true or false")
    return raw


def _sampler(raw: Any, path: str) -> str:
    return _word(SAMPLERS)(raw, path)


REPEATS = ("count", "skip")

_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "objectives": lambda raw, path: tuple(parse_objectives(raw, path)),
    "trials": _integer(1, 1_000_000),
    "sampler": _sampler,
    "constraints": lambda raw, path: tuple(parse_constraints(raw, path)),
    "seed": _integer(0),
    "cpus_per_trial": _number(0.0, strict=True, high=1024),
    "gpus_per_trial": _number(0.0, strict=False, optional=True, high=64),
    "max_concurrent": _optional_integer(1),
    "early_stopping": _word(EARLY_STOPPING),
    "asha_grace_period": _integer(1, 100_000),
    "asha_reduction_factor": _number(1.0, strict=True, high=1000),
    "asha_brackets": _integer(1, 100),
    "asha_tie_break": _word(TIE_BREAKS),
    "storage": _optional_text,
    "study_name": _optional_text,
    "max_retries": _integer(0, 100),
    "seed_archs": _paths,
    "address": _address,
    "output": _optional_text,
    "reference_point": _reference,
    "plots": _boolean,
    "flop_convention": _word(FLOP_CONVENTIONS),
    "repeats": _word(REPEATS),
}


def check_setting(key: str, value: Any, label: str) -> Any:
    """Checks one search setting given as a flag; errors name the flag (`label`)."""
    if key == "address" and value == "local":
        return None
    if key == "objectives":  # user evaluators are looked up once the plug-ins are imported
        return tuple(parse_objectives(value, label, find_functions=False))
    return _PARSERS[key](value, label)


def validate_run_config(run_config: Mapping[str, Any], source: str) -> None:
    """Checks the ``data:``, ``train:`` and ``search:`` sections of a space file, and the
    dataset name and device spelling that `nas search` and `nas train` would refuse.

    Raises one SpaceError with every problem as ``SOURCE: section.key: why``.
    """
    problems = []
    checks = (
        ("data", DataConfig.from_dict, _known_dataset),
        ("train", check_train, check_device_spelling),  # recipe choices: each value checked
        ("search", SearchConfig.from_dict, None),
    )
    for section, build, check in checks:
        try:
            config = build(run_config.get(section), section)
            if check is not None:
                check(config)
        except SpaceError as error:
            problems += [f"{source}: {problem}" for problem in error.problems]
    if problems:
        raise SpaceError(problems)


def _known_dataset(data: DataConfig) -> None:
    from evaluators.datasets import dataset_info

    dataset_info(data.name)


def check_device_spelling(train: TrainConfig) -> None:
    """The spelling only: whether CUDA is there is known where the trial runs."""
    from evaluators.device import _DEVICE_PATTERN

    if not _DEVICE_PATTERN.fullmatch(train.device):
        raise SpaceError(
            f"train.device: {train.device!r} is not a device; use auto, cpu, cuda or cuda:N"
        )
