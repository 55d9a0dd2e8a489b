"""`nas.open_run(path)` and `nas.search(...)` return a `Run`: one run folder, read.

    run = nas.open_run("results/demo")
    run                      # Run('results/demo': 12 trials (12 complete), front of 7, ...)
    run.trials               # pandas DataFrame, one row per trial, the columns of trials.csv
    run.front                # the Pareto rows, sorted by FLOPs
    run.hypervolume          # of the front, against the recorded reference point
    run.study                # the Optuna study (an SQLite study is opened read-only)

Reading needs neither Ray nor a running search; the analysis is done once, when the
run is opened (reopen it to see trials added since).
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.runs.folder import RunFolder
from nas.runs.pareto import MAXIMIZE
from nas.runs.results import RunResults

if TYPE_CHECKING:
    import optuna
    import pandas as pd

    from nas.engine.outcome import SearchOutcome


class Run:
    """A run folder's trials table, Pareto front, hypervolume and study."""

    def __init__(
        self, folder: RunFolder, results: RunResults, outcome: SearchOutcome | None = None
    ):
        self.folder = folder
        self.results = results
        # What `nas.search` reports about the search it just ran (None for open_run).
        self.outcome = outcome

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial, by number: the columns of trials.csv (results/README.md)."""
        return self.results.table

    table = trials  # the name RunResults uses

    @property
    def front(self) -> pd.DataFrame:
        return self.results.front

    @property
    def hypervolume(self) -> float:
        return self.results.hypervolume

    @property
    def objectives(self) -> list[Any]:
        return self.results.objectives

    def counts(self) -> dict[str, int]:
        """Trials per state (complete, stopped_early, failed, infeasible, running)."""
        return self.results.counts()

    @property
    def config(self) -> dict[str, Any]:
        """The resolved experiment (config.yaml): the space and its run sections."""
        return self.folder.config()

    @functools.cached_property
    def study(self) -> optuna.Study:
        """The Optuna study; a study.db is opened read-only, so a write raises."""
        storage = self.folder.storage
        if storage.startswith("sqlite:///"):
            storage = f"sqlite:///file:{storage[len('sqlite:///') :]}?mode=ro&uri=true"
        return dataclasses.replace(self.folder, storage=storage).load_study()

    def __repr__(self) -> str:
        counts = ", ".join(f"{n} {state}" for state, n in self.counts().items() if n)
        objectives = ", ".join(
            f"{o.name} {'max' if o.direction == MAXIMIZE else 'min'}" for o in self.objectives
        )
        return (
            f"Run({str(self.path)!r}: {len(self.trials)} trials ({counts or 'none'}), "
            f"front of {len(self.front)}, hypervolume {self.hypervolume:.6g}; {objectives})"
        )


def open_run(
    path: Any, *, allow_running: bool = False, arch_yaml: bool = True, storage: str | None = None
) -> Run:
    """Opens and analyses the run folder at `path` (see `nas.api.open_run`); `storage`
    overrides the URL run.json records (which has no password)."""
    from nas.runs.folder import open_run as open_folder
    from nas.runs.results import analyse_study

    folder = open_folder(path, allow_running=allow_running, storage=storage)
    results = analyse_study(folder.read_study(), arch_yaml=arch_yaml, run_dir=folder.path)
    return Run(folder, results)
