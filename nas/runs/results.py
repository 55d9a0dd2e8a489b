"""What a study says, as tables: one row per trial, the Pareto front, the hypervolume.

`analyse_study` computes a `RunResults` once; report, export, the plots and the search's
own tables all read it. Columns are documented in results/README.md.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nas.runs import format as rf
from nas.runs.pareto import (
    MINIMIZE,
    Objective,
    complete_reference,
    hypervolume_history,
    nondominated_ranks,
    parse_objectives,
    reference_point_for,
)

if TYPE_CHECKING:
    import optuna
    import pandas as pd


def study_objectives(study: optuna.Study) -> list[Objective]:
    """The objectives recorded by the search, else Optuna's directions and metric names."""
    recorded = study.user_attrs.get(rf.STUDY_OBJECTIVES)
    if recorded:
        return parse_objectives(recorded)
    names = study.metric_names or [f"objective_{i}" for i in range(len(study.directions))]
    return parse_objectives(list(zip(names, study.directions)))


def trial_state(trial: optuna.trial.FrozenTrial) -> str:
    """One of format.TRIAL_STATES, from the search's attribute and Optuna's state."""
    name = trial.state.name  # COMPLETE, FAIL, PRUNED, RUNNING, WAITING
    recorded = trial.user_attrs.get(rf.ATTR_STATE)
    if name == "WAITING":
        return rf.QUEUED_TRIAL
    if name == "RUNNING":
        return rf.RUNNING_TRIAL
    if trial.user_attrs.get(rf.ATTR_INTERRUPTED):
        return rf.INTERRUPTED_TRIAL
    if name == "FAIL":
        return recorded if recorded in (rf.FAILED, rf.INFEASIBLE) else rf.FAILED
    if name == "PRUNED":
        return recorded if recorded in (rf.STOPPED_EARLY, rf.INFEASIBLE) else rf.STOPPED_EARLY
    if recorded in rf.TERMINAL_STATES:
        return recorded
    constraints = trial.user_attrs.get(rf.ATTR_CONSTRAINTS) or trial.system_attrs.get("constraints")
    values = constraints.values() if isinstance(constraints, dict) else constraints or ()
    return rf.INFEASIBLE if any(float(v) > 0 for v in values) else rf.COMPLETE


@dataclass
class RunResults:
    """Everything report, export and the plots need, computed once from a study."""

    objectives: list[Objective]
    reference_point: list[float]  # one value per objective
    reference_fixed: bool  # False: derived from the trials, not (yet) stored in the study
    table: pd.DataFrame  # one row per trial, by number; columns as in results/README.md
    front: pd.DataFrame  # the Pareto rows, sorted by the sort objective
    sort_column: str  # "flops" when recorded, else the first minimised objective

    @property
    def hypervolume(self) -> float:
        return float(self.table["hypervolume"].iloc[-1]) if len(self.table) else 0.0

    def counts(self) -> dict[str, int]:
        """Trials by state, one of rf.TRIAL_STATES each (they sum to the table's rows)."""
        counts = self.table["state"].value_counts() if len(self.table) else {}
        return {state: int(counts.get(state, 0)) for state in rf.TRIAL_STATES}

    def counts_text(self) -> str:
        """ "3 complete, 1 failed, 2 interrupted, 2 queued; 1 retried" (states with trials)."""
        text = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in self.counts().items() if n)
        retried = f"{self.retried} retried" if self.retried else ""
        return "; ".join(part for part in (text or "none yet", retried) if part)

    @property
    def decided(self) -> int:
        return int(self.table["state"].isin(rf.TERMINAL_STATES).sum()) if len(self.table) else 0

    @property
    def retried(self) -> int:
        """Trials, of any state, whose worker died and was started again by Tune."""
        return int((self.table["attempts"].fillna(1) > 1).sum()) if len(self.table) else 0

    @property
    def metric_columns(self) -> list[str]:
        """Objectives first, then every other recorded metric."""
        return [
            c
            for c in self.table.columns
            if c not in (*_LEADING, "quality")
            and c not in _TRAILING
            and not c.startswith("seconds_")
        ]

    def reference_dict(self) -> dict[str, float]:
        return {o.name: v for o, v in zip(self.objectives, self.reference_point)}


def analyse_study(
    study: optuna.Study, *, arch_yaml: bool = True, run_dir: str | os.PathLike | None = None
) -> RunResults:
    """Builds the trials table, the front and the hypervolume history. `arch_yaml=False`
    leaves the arch_yaml column empty (YAML-dumping 1,000 architectures takes a second).

    The architecture is read from the trial's `arch` attribute (runs written before it
    moved out of the study), else from `run_dir`/trials/<n>/arch.yaml."""
    import pandas as pd

    objectives = study_objectives(study)
    names = [o.name for o in objectives]
    directions = [o.direction for o in objectives]
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    folder = Path(run_dir) / rf.TRIALS_DIR if arch_yaml and run_dir is not None else None
    rows = [_trial_row(trial, objectives, arch_yaml, folder) for trial in trials]
    points = [[row[n] for n in names] if _eligible(row, names) else None for row in rows]
    reference, fixed = _reference(study, objectives, [p for p in points if p is not None])
    history = hypervolume_history(points, reference, directions)
    ranks = nondominated_ranks([p or [math.nan] * len(names) for p in points], directions)
    for row, rank, volume in zip(rows, ranks, history):
        row["pareto"] = rank == 0
        row["rank"] = rank if rank >= 0 else None
        row["hypervolume"] = volume
    table = pd.DataFrame(rows, columns=_columns(rows, names))
    table["pareto"] = table["pareto"].astype(bool)  # an empty object column would not mask
    for column in (
        "attempts",
        "retry_of",
        "replicate_of",
        "repeat_of",
        "train_seed",
    ):  # whole numbers, blank where not applicable
        table[column] = pd.to_numeric(table[column]).astype("Int64")
    table = _with_quality(_with_noise(table, run_dir, names))
    sort_column = _sort_column(table, objectives)
    front = table[table["pareto"]].sort_values([sort_column, "number"], kind="stable")
    return RunResults(
        objectives, reference, fixed, table, front.reset_index(drop=True), sort_column
    )


def _with_noise(
    table: pd.DataFrame, run_dir: str | os.PathLike | None, objective_names: list[str]
) -> pd.DataFrame:
    """The standard errors of accuracy (nas/runs/noise.py), placed after the objectives."""
    from nas.runs.noise import NOISE_COLUMNS, add_noise_columns, seed_noise
    from nas.runs.verification import read_rows

    if "accuracy" not in table.columns:
        return table
    rows = read_rows(run_dir) if run_dir is not None else []
    table = add_noise_columns(table, seed_noise(table, rows))
    head = [c for c in table.columns if c in (*_LEADING, *objective_names)]
    rest = [c for c in table.columns if c not in head and c not in NOISE_COLUMNS]
    return table[[*head, *NOISE_COLUMNS, *rest]]


def _with_quality(table: pd.DataFrame) -> pd.DataFrame:
    """The quality mark (nas/runs/quality.py), right after the rank."""
    from nas.runs.quality import add_quality_column

    table = add_quality_column(table)
    columns = [c for c in table.columns if c != "quality"]
    at = columns.index("rank") + 1
    return table[[*columns[:at], "quality", *columns[at:]]]


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: see results/README.md for the columns."""
    return analyse_study(study).table


def _eligible(row: dict[str, Any], names: list[str]) -> bool:
    """A complete trial with every objective; a skipped repeat stands behind its first."""
    if row.get("repeat_of") is not None:
        return False
    return row["state"] == rf.COMPLETE and all(
        isinstance(row.get(n), int | float) and math.isfinite(row[n]) for n in names
    )


def _trial_row(
    trial: optuna.trial.FrozenTrial,
    objectives: list[Objective],
    arch_yaml: bool,
    trials_dir: Path | None = None,
) -> dict[str, Any]:
    attrs = trial.user_attrs
    recorded = attrs.get(rf.ATTR_METRICS) or {}
    metrics = _flatten(recorded)
    if "balanced_accuracy_se_eval" not in metrics and isinstance(recorded.get("confusion"), list):
        from evaluators.class_noise import balanced_accuracy_se  # runs recorded before it was

        metrics["balanced_accuracy_se_eval"] = balanced_accuracy_se(recorded["confusion"])
    state = trial_state(trial)
    # Optuna's values are the objectives of a complete trial; an infeasible one is told
    # placeholder values (the worst accuracy), which are not measurements.
    if state == rf.COMPLETE and trial.values and len(trial.values) == len(objectives):
        metrics.update({o.name: float(v) for o, v in zip(objectives, trial.values)})
    seconds = attrs.get(rf.ATTR_SECONDS) or {}
    finished = trial.datetime_complete
    return {
        "number": trial.number,
        "state": state,
        **metrics,
        "summary": attrs.get(rf.ATTR_SUMMARY),
        "epochs": attrs.get(rf.ATTR_EPOCHS),
        "rung": attrs.get(rf.ATTR_RUNG),
        **{f"seconds_{k}": v for k, v in seconds.items() if isinstance(v, int | float)},
        "datetime_start": trial.datetime_start.isoformat() if trial.datetime_start else None,
        "datetime_complete": finished.isoformat() if finished else None,
        "duration_s": trial.duration.total_seconds() if trial.duration else None,
        **{key: attrs.get(key) for key in (rf.ATTR_HOST, rf.ATTR_NODE, rf.ATTR_DEVICE)},
        "error": attrs.get(rf.ATTR_ERROR),
        "attempts": attrs.get(rf.ATTR_ATTEMPTS),  # blank: never handed to a worker
        "retry_of": attrs.get(rf.ATTR_RETRY_OF),
        "replicate_of": attrs.get(rf.ATTR_REPLICATE_OF),
        "repeat_of": attrs.get(rf.ATTR_REPEAT_OF),
        "train_seed": attrs.get(rf.ATTR_TRAIN_SEED),
        "arch_key": attrs.get(rf.ATTR_ARCH_KEY),
        "arch_yaml": _arch_yaml(attrs.get(rf.ATTR_ARCH), trials_dir, trial.number)
        if arch_yaml
        else None,
    }


def _flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists are dropped (they belong in metrics.json)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif value is None or isinstance(value, bool | int | float | str):
            flat[f"{prefix}{key}"] = value
    return flat


def _arch_yaml(arch: Any, trials_dir: Path | None, number: int) -> str | None:
    if isinstance(arch, dict):  # a run written when the study kept the whole document
        # The search rewrites trials.csv after every trial: dump each architecture once.
        return _yaml_of(json.dumps(arch))
    if trials_dir is None:
        return None
    path = trials_dir / str(number) / rf.ARCH_FILE
    try:
        return _file_text(str(path), path.stat().st_mtime_ns)
    except OSError:  # not sampled yet, or a folder copied without its trials/
        return None


@functools.lru_cache(maxsize=8192)
def _file_text(path: str, mtime_ns: int) -> str:
    # Keyed on the modification time: a file written again is read again.
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@functools.lru_cache(maxsize=8192)
def _yaml_of(document: str) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(
        json.loads(document), Dumper=dumper, sort_keys=False, default_flow_style=None, width=1000
    )


_LEADING = ("number", "state", "pareto", "rank")
_TRAILING = (
    "summary",
    "epochs",
    "rung",
    "datetime_start",
    "datetime_complete",
    "duration_s",
    rf.ATTR_HOST,
    rf.ATTR_NODE,
    rf.ATTR_DEVICE,
    "hypervolume",
    "error",
    "attempts",
    "retry_of",
    "replicate_of",
    "repeat_of",
    "train_seed",
    "arch_key",
    "arch_yaml",
)


def _columns(rows: list[dict[str, Any]], objective_names: list[str]) -> list[str]:
    """number, state, pareto, rank, objectives, other metrics, then the trailing columns."""
    metrics: dict[str, None] = dict.fromkeys([*_LEADING, *objective_names])
    seconds: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key.startswith("seconds_"):
                seconds[key] = None
            elif key not in _TRAILING:
                metrics[key] = None
    return [*metrics, *_TRAILING[:3], *seconds, *_TRAILING[3:]]


def _sort_column(table: pd.DataFrame, objectives: list[Objective]) -> str:
    if "flops" in table.columns:
        return "flops"
    minimised = [o.name for o in objectives if o.direction == MINIMIZE]
    return (minimised or [objectives[0].name])[0]


def _reference(
    study: optuna.Study, objectives: list[Objective], points: list[list[float]]
) -> tuple[list[float], bool]:
    stored = study.user_attrs.get(rf.STUDY_REFERENCE_POINT)
    if isinstance(stored, dict):
        stored = [stored.get(o.name) for o in objectives]
    if not isinstance(stored, list) or len(stored) != len(objectives):
        stored = reference_point_for(objectives)
    if all(v is not None for v in stored):
        return [float(v) for v in stored], True
    filled = complete_reference(stored, points, [o.direction for o in objectives])
    return filled, False


def fix_reference_point(study: optuna.Study, results: RunResults) -> None:
    """Stores a reference point derived from trials, once every objective has a value:
    from then on it stays fixed for the run."""
    if not results.reference_fixed and results.table["pareto"].any():
        study.set_user_attr(rf.STUDY_REFERENCE_POINT, results.reference_point)
        results.reference_fixed = True
