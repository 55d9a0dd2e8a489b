"""One candidate between ask and tell, and the plan that samples, builds and counts it
in the driver and turns it into the config a Tune worker trains from."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from nas.engine.arch_yaml import trial_arch_yaml
from nas.engine.chooser import OptunaChooser
from nas.engine.config import ExperimentConfig
from nas.engine.objectives import MEASURED, PROXY, TABULAR, TRAINED, USER, is_instant, kind_of
from nas.engine.repeats import RepeatBook
from nas.engine.replicates import ReplicateBook, architecture_key
from nas.runs import format as rf
from nas.runs.atomic import write_text


@dataclass
class Candidate:
    """A trial between ask and tell."""

    trial: optuna.Trial
    arch: Any  # search_space.Architecture
    counts: dict[str, float]
    seconds: dict[str, float]
    constraints: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    started: float = field(default_factory=time.time)  # when it was asked
    ready: float = 0.0  # when it was handed to Tune
    attempts: int = 1
    reported: dict[str, str] = field(default_factory=dict)  # host, node_id, device, weights_sha256
    files_failed: bool = False  # its weights could not be written: never told complete
    train: dict[str, Any] = field(default_factory=dict)  # its recipe, sampled keys included
    repeat_of: int | None = None  # search.repeats: skip: the earlier equivalent trial

    @property
    def number(self) -> int:
        return self.trial.number


class TrialPlan:
    """How one candidate is sampled, counted and turned into a Tune config."""

    def __init__(self, experiment: ExperimentConfig):
        self.experiment = experiment
        self.space = experiment.space
        self.objectives = list(experiment.search.objectives)
        self.constraints = list(experiment.search.constraints)
        kinds = {o.name: kind_of(o.name) for o in self.objectives}
        self.train_model = TRAINED in kinds.values()
        self.latency = MEASURED in kinds.values()
        self.proxies = [name for name, kind in kinds.items() if kind == PROXY]
        self.evaluators = [name for name, kind in kinds.items() if kind == USER]
        self.tabular = [name for name, kind in kinds.items() if kind == TABULAR]
        # Scored in the driver in milliseconds: counts come from a closed form where one
        # is known (an NB201 network), else from fvcore once per distinct architecture.
        self.instant = is_instant(self.objectives)
        self.counted: dict[str, dict[str, float]] = {}
        self.recipes: dict[str, dict[str, Any]] = {}
        self.run_dir = experiment.run_dir.resolve()
        self.data = _absolute_root(experiment.data)
        self.replicates = ReplicateBook()
        self.skip_repeats = self.instant and experiment.search.repeats == "skip"
        self.repeats = RepeatBook()

    def sample(self, trial: optuna.Trial) -> Candidate:
        """Samples, builds and counts; raises what building or counting raises."""
        from evaluators.flops import count_arch_flops
        from search_space import build_model, count_params, sample_architecture

        tick = time.perf_counter()
        arch = sample_architecture(
            self.space, OptunaChooser(trial), f"{self.space.name}-{trial.number}"
        )
        train = self._recipe(arch)
        key = architecture_key(arch.to_dict(run_config=False), train)
        attrs = self.replicates.assign(trial, key, int(train["seed"]))
        train["seed"] = attrs[rf.ATTR_TRAIN_SEED]  # a replicate trains with a fresh seed
        if self.skip_repeats:  # nas/engine/repeats.py
            from evaluators.tabular import equivalence_key

            attrs.update(self.repeats.assign(trial, equivalence_key(arch) or key))
        for name, value in attrs.items():
            trial.set_user_attr(name, value)
        # The whole document goes to the trial folder (before building, so a candidate that
        # fails to build keeps it); the study keeps one line, so the dashboard stays narrow.
        # Its train section is the trial's recipe, so `nas train` repeats the trial.
        folder = self.run_dir / rf.TRIALS_DIR / str(trial.number)
        # A driver-scored trial's files skip the fsyncs: the study holds the same record.
        write_text(folder / rf.ARCH_FILE, trial_arch_yaml(arch, train), durable=not self.instant)
        trial.set_user_attr(rf.ATTR_SUMMARY, arch.summary())
        sampled = time.perf_counter()
        candidate = Candidate(trial, arch, {}, {"sample": sampled - tick}, train=train)
        candidate.repeat_of = attrs.get(rf.ATTR_REPEAT_OF)
        if self.instant:
            candidate.counts = dict(self._instant_counts(arch))
        else:
            model = build_model(arch)
            built = time.perf_counter()
            candidate.seconds["build"] = built - sampled
            candidate.counts = {
                "params": float(count_params(model)),
                "flops": float(count_arch_flops(model, arch)["flops"]),
            }
        counted = time.perf_counter()
        candidate.seconds["count"] = counted - sampled - candidate.seconds.get("build", 0.0)
        if self.tabular:
            from evaluators.tabular import score

            candidate.counts.update(score(arch, self.tabular))
            candidate.seconds["lookup"] = time.perf_counter() - counted
        return candidate

    def _instant_counts(self, arch: Any) -> dict[str, float]:
        """Params and FLOPs for a driver-scored search, computed once per architecture."""
        import json

        key = json.dumps(arch.to_dict(run_config=False)["stages"], sort_keys=True)
        key += json.dumps([arch.stem, arch.head, arch.input], default=str)
        if key not in self.counted:
            from evaluators.tabular import known_counts

            self.counted[key] = known_counts(arch) or _traced_counts(arch)
        return self.counted[key]

    def _recipe(self, arch: Any) -> dict[str, Any]:
        """The trial's training settings: the run's, with its sampled recipe choices."""
        import dataclasses
        import json

        from evaluators.train_choices import with_recipe

        drawn = arch.run_config.get("train") or {}
        sampled = {key: drawn[key] for key in self.experiment.recipe}
        key = json.dumps(sampled, default=str)
        if key not in self.recipes:  # a search draws few recipes and many trials
            self.recipes[key] = dataclasses.asdict(with_recipe(self.experiment.train, sampled))
        return dict(self.recipes[key])  # every value a scalar: the caller's copy is its own

    def tune_config(self, candidate: Candidate) -> dict[str, Any]:
        import dataclasses

        return {
            "number": candidate.number,
            "arch": candidate.arch.to_dict(run_config=False),
            "counts": candidate.counts,
            "data": dataclasses.asdict(self.data),
            "train": candidate.train or dataclasses.asdict(self.experiment.train),
            "train_model": self.train_model,
            "latency": self.latency,
            "proxies": self.proxies,
            "evaluators": self.evaluators,
            "plugins": list(self.space.plugins),  # imported by the worker before building
            "save_weights": True,
        }


def _traced_counts(arch: Any) -> dict[str, float]:
    from evaluators.flops import count_arch_flops
    from search_space import build_model, count_params

    model = build_model(arch)
    return {
        "params": float(count_params(model)),
        "flops": float(count_arch_flops(model, arch)["flops"]),
    }


def _absolute_root(data: Any) -> Any:
    """Workers may run in another folder: a relative data.root is made absolute here."""
    import dataclasses

    if data.root and not Path(data.root).expanduser().is_absolute():
        return dataclasses.replace(data, root=str(Path(data.root).resolve()))
    return data
