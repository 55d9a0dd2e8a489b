"""A run folder as what the analysis reads: its trials table (with the architectures),
its objectives and its hypervolume reference point.

Two kinds of folder are read: a run written by `nas search` (the study is the source),
and a snapshot written by `nas report --snapshot` such as results/reference/ (no
database: trials.csv, with the objectives from config.yaml and the reference point from
report.json).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from nas.runs import format as rf
from nas.runs.analysis.objectives import MAXIMIZE, MINIMIZE, Goal
from search_space.errors import SpaceError

_DIRECTIONS = {"max": MAXIMIZE, "maximize": MAXIMIZE, "min": MINIMIZE, "minimize": MINIMIZE}


@dataclass(frozen=True)
class RunSource:
    path: Path
    table: pd.DataFrame  # trials.csv's columns, arch_yaml filled
    goals: tuple[Goal, ...]
    reference: list[float]  # one value per goal

    @property
    def name(self) -> str:
        return self.path.resolve().name

    def reference_text(self) -> str:
        return ", ".join(f"{g.name}={v:.3g}" for g, v in zip(self.goals, self.reference))


def open_source(path: str | os.PathLike) -> RunSource:
    """The run at `path`, from its study, or from its trials.csv when it has no study."""
    folder = Path(path)
    snapshot = folder.is_dir() and not (folder / rf.STUDY_FILE).exists()
    if snapshot and (folder / rf.TRIALS_CSV).is_file() and not _names_storage(folder):
        return _from_snapshot(folder)
    from nas.runs.folder import open_run
    from nas.runs.results import analyse_study

    run = open_run(folder)
    results = analyse_study(run.read_study(), run_dir=run.path)
    goals = tuple(Goal(o.name, o.direction) for o in results.objectives)
    return RunSource(run.path, results.table, goals, list(results.reference_point))


def _names_storage(folder: Path) -> bool:
    """run.json names a database server (the study is not in the folder)."""
    run_file = folder / rf.RUN_FILE
    if not run_file.is_file():
        return False
    from nas.runs.folder import read_run_json

    storage = read_run_json(run_file).get(rf.RUN_STORAGE)
    return bool(storage) and not str(storage).startswith("sqlite")


def _from_snapshot(folder: Path) -> RunSource:
    try:
        table = pd.read_csv(folder / rf.TRIALS_CSV)
    except (OSError, ValueError) as error:
        raise SpaceError(f"{folder / rf.TRIALS_CSV}: unreadable trials table ({error})") from None
    goals = _snapshot_goals(folder)
    missing = [g.name for g in goals if g.name not in table.columns]
    if missing or "state" not in table.columns:
        raise SpaceError(
            f"{folder / rf.TRIALS_CSV}: not a trials table (no column "
            f"{', '.join(missing or ['state'])}); a run folder is what `nas search` writes"
        )
    return RunSource(folder, table, goals, _snapshot_reference(folder, goals, table))


def _snapshot_goals(folder: Path) -> tuple[Goal, ...]:
    """config.yaml's resolved `search.objectives` ({accuracy: max, flops: min})."""
    config_file = folder / rf.CONFIG_FILE
    config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else None
    spec = ((config or {}).get("search") or {}).get("objectives") or {
        "accuracy": "max",
        "flops": "min",
    }
    if not isinstance(spec, dict) or not all(str(v) in _DIRECTIONS for v in spec.values()):
        raise SpaceError(
            f"{config_file}: search.objectives should read {{accuracy: max, flops: min}}"
        )
    return tuple(Goal(str(name), _DIRECTIONS[str(word)]) for name, word in spec.items())


def _snapshot_reference(folder: Path, goals: tuple[Goal, ...], table: pd.DataFrame) -> list[float]:
    """report.json's reference point; without one, the worst value seen per objective."""
    report_file = folder / rf.REPORT_JSON
    stored = (
        json.loads(report_file.read_text()).get("reference_point")
        if report_file.is_file()
        else None
    )
    if isinstance(stored, dict) and all(stored.get(g.name) is not None for g in goals):
        return [float(stored[g.name]) for g in goals]
    values = [pd.to_numeric(table[g.name], errors="coerce") for g in goals]
    return [float(v.min() if g.direction == MAXIMIZE else v.max()) for g, v in zip(goals, values)]
