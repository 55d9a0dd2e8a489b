"""The public Python API: `nas.search`, `nas.open_run`, `nas.load_model`, `nas.verify`,
`nas.analyze` and `nas.compare`.

Each function imports what it needs when called, so `import nas` stays light.

    import nas
    run = nas.search("demo", trials=12, epochs=2, output="results/demo")  # a Run
    run = nas.open_run("results/demo")         # .trials, .front, .hypervolume, .study
    model = nas.load_model("results/demo/export/7")
    intervals = nas.verify("results/demo", seeds=3)  # the front retrained with 3 seeds
    document, files = nas.analyze("results/demo", by=["family"], budgets=["flops<=5e6"])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os
    from pathlib import Path

    from torch import nn

    from nas.runs.run import Run


def load_model(
    path: str | os.PathLike, *, device: str = "cpu", plugins: Sequence[str] = ()
) -> nn.Module:
    """The trained model of an export folder (`RUN/export/<trial>`) or a trial folder, in
    eval mode; reads arch.yaml (safe_load) and weights.safetensors, never a pickle.

    A model built from plug-in components needs them imported: only installed
    `nas_vision.plugins` entry points, modules you imported already, and the module
    names in `plugins` are, from sys.path without the working directory or the model's
    folder. No code that came with the model runs."""
    from nas.runs.load import load_model as load

    return load(path, device=device, plugins=plugins)


def open_run(
    path: str | os.PathLike, *, allow_running: bool = False, arch_yaml: bool = True
) -> Run:
    """The run folder at `path`, analysed: `.trials` (a DataFrame, as trials.csv),
    `.front`, `.hypervolume`, `.study` (Optuna, read-only), `.counts()`, `.config`.

    Needs neither Ray nor a running search. A run still in progress is refused unless
    `allow_running`; `arch_yaml=False` leaves the table's arch_yaml column empty (faster).
    """
    from nas.runs.run import open_run as open_analysed

    return open_analysed(path, allow_running=allow_running, arch_yaml=arch_yaml)


def search(
    space: str | os.PathLike | None = None,
    *,
    resume: bool = False,
    verbose: bool = False,
    **settings: Any,
) -> Run:
    """Runs a search, as `nas search` does, and returns its run (as `open_run` gives it).

    `space`: a space file or bundled space name (None: the demo). `settings` are named
    like the keys of the data:, train: and search: sections or like the flags
    (``trials=``, ``output=``, ``epochs=``, ``sampler=``, ``address=``, ``seed=``,
    ``data="cifar10"``, ``lr=``, ``constraint="flops<=2e7"``, or a whole section,
    ``train={...}``); they win over the space file. An unknown name is a SpaceError.
    With `resume`, continues the run in `output`; `verbose` lets Ray's and Optuna's own
    log lines through. Progress goes to stderr; stdout is
    left alone. The search's own summary is the run's `.outcome`.
    """
    import contextlib
    from pathlib import Path

    from nas.runs.lock import run_lock

    output = settings.get("output")
    # The run folder's lock first, before the heavy imports: a second search on the same
    # folder is refused at once (the search takes it again, re-entrantly).
    early = run_lock(Path(output)) if isinstance(output, str | Path) else contextlib.nullcontext()
    with early:
        return _search(space, resume, verbose, settings)


def _search(space: Any, resume: bool, verbose: bool, settings: dict[str, Any]) -> Run:
    from nas.console import note
    from nas.engine.config import resolve_experiment
    from nas.engine.overrides import overrides_from_settings
    from nas.engine.runner import run_search
    from nas.runs.run import open_run as open_analysed

    overrides = overrides_from_settings(settings, lambda name: f"{name}=")
    source = None if space is None else str(space)
    experiment = resolve_experiment(source, overrides, resume=resume)
    for remark in experiment.notes:
        note(f"nas search: {remark}")
    outcome = run_search(experiment, on_start=lambda: _announce(experiment), verbose=verbose)
    run = open_analysed(outcome.run_dir, allow_running=True, storage=outcome.storage)
    run.outcome = outcome
    return run


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


def verify(
    path: str | os.PathLike,
    *,
    seeds: int = 3,
    epochs: int | None = None,
    picks: Sequence[str] = ("pareto",),
    threads: int | None = None,
    address: str | None = None,
    winners: bool = False,
    by: Sequence[str] = (),
    budgets: Sequence[str] = (),
) -> dict[str, Any]:
    """`nas verify`: retrains the front's members (or `picks`, as `nas export --pick`)
    with `seeds` fresh training seeds as Ray tasks (where the search ran, or `address`:
    "local", "auto", HOST:PORT), keeps every seed in RUN/verify.csv, and returns
    RUN/verify.json's document: per member and objective the mean, standard deviation
    and 95% interval, and which members cannot be told apart. `winners=True` retrains the
    winner call's candidates for `by` and `budgets` (as `nas analyze`) instead, every seed
    scored on the test split too; `nas.analyze` then makes the tested call."""
    from nas.engine.verify import verify_run

    members = None
    if winners:
        from nas.runs.analysis.run import winner_candidates

        members = winner_candidates(path, list(by), list(budgets))
    return verify_run(
        path,
        seeds,
        epochs,
        list(picks),
        threads,
        address=address,
        members=members,
        need_test=winners,
    )


def _announce(experiment: Any) -> None:
    from nas.console import note

    search = experiment.search
    where = search.address or "Ray in this process"
    verb = "resuming" if experiment.resume else "searching"
    note(
        f"nas search: {verb} {experiment.space.name} ({search.trials} trials, "
        f"{search.sampler}, {search.objectives_text}) on {where}; "
        f"run folder: {experiment.run_dir}"
    )
