"""The public Python API: `nas.search`, `nas.open_run`, `nas.load_model`, `nas.analyze`
and `nas.compare`.

Each function imports what it needs when called, so `import nas` stays light.

    import nas
    outcome = nas.search("demo", trials=12, output="results/demo")  # a SearchOutcome
    results = nas.open_run("results/demo")        # .table, .front, .hypervolume, ...
    model = nas.load_model("results/demo/export/7")
    document, files = nas.analyze("results/demo", by=["family"], budgets=["flops<=5e6"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from torch import nn

    from nas.engine.outcome import SearchOutcome
    from nas.runs.results import RunResults


def load_model(path: str | os.PathLike, *, device: str = "cpu") -> nn.Module:
    """The trained model of an export folder (`RUN/export/<trial>`) or a trial folder, in
    eval mode; reads arch.yaml (safe_load) and weights.safetensors, never a pickle."""
    from nas.runs.load import load_model as load

    return load(path, device=device)


def open_run(
    path: str | os.PathLike, *, allow_running: bool = False, arch_yaml: bool = True
) -> RunResults:
    """The analysis `nas report` prints, of the run folder at `path`: the trials table
    (`.table`, as trials.csv), the Pareto front (`.front`), `.hypervolume`, `.counts()`.

    Needs neither Ray nor a running search. A run still in progress is refused unless
    `allow_running`; `arch_yaml=False` leaves the table's arch_yaml column empty (faster).
    """
    from nas.runs.folder import open_run as open_folder
    from nas.runs.results import analyse_study

    run = open_folder(path, allow_running=allow_running)
    return analyse_study(run.read_study(), arch_yaml=arch_yaml, run_dir=run.path)


def search(
    space: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    data: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    **settings: Any,
) -> SearchOutcome:
    """Runs a search, as `nas search` does: `space` is a space file or bundled space name
    (None: the demo), `settings` are ``search:`` keys (trials=, sampler=, objectives=,
    output=, seed=, ...), and `data`/`train` override keys of those sections. They win
    over the space file's sections. With `resume`, continues the run in `output`.
    """
    from nas.console import note
    from nas.engine.config import resolve_experiment
    from nas.engine.runner import run_search

    overrides = {"data": dict(data or {}), "train": dict(train or {}), "search": dict(settings)}
    source = None if space is None else str(space)
    experiment = resolve_experiment(source, overrides, resume=resume)
    for remark in experiment.notes:
        note(f"nas search: {remark}")
    return run_search(experiment)


def analyze(
    path: str | os.PathLike,
    *,
    by: Sequence[str] = (),
    budgets: Sequence[str] = (),
    band: str | None = None,
    importance: str | None = "ped-anova",
    seed: int = 0,
    write: bool = True,
) -> tuple[dict[str, Any], list[Path]]:
    """`nas analyze`: the run's trials grouped by each key of `by` (default `family`),
    each group's front, error EDF (within `band`, e.g. "flops=1e6:5e6") and best accuracy
    under each budget ("flops<=5e6") with a bootstrap 95% interval, a winner call per
    budget, and which keys matter (`importance`: "ped-anova", "fanova" or None). With
    `write`, also RUN/report.html and plots/analysis-*.png. Returns (document, files)."""
    from nas.runs.analysis.run import analyze_run

    return analyze_run(path, by, budgets, band, importance, seed, write)


def compare(
    paths: Sequence[str | os.PathLike],
    *,
    budgets: Sequence[str] = (),
    band: str | None = None,
    seed: int = 0,
    output: str | os.PathLike | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """`nas compare`: runs as groups, with hypervolumes against a common reference point
    and a two-sample test of their error distributions; compare.html and
    plots/compare-*.png go to `output` (default: the first run's folder)."""
    from nas.runs.analysis.run import compare_runs

    return compare_runs(paths, budgets, band, seed, output)
