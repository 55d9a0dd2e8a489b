"""The public Python API: `nas.search`, `nas.open_run` and `nas.load_model`.

Each function imports what it needs when called, so `import nas` stays light.

    import nas
    outcome = nas.search("demo", trials=12, output="results/demo")  # a SearchOutcome
    results = nas.open_run("results/demo")        # .table, .front, .hypervolume, ...
    model = nas.load_model("results/demo/export/7")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os

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
    return analyse_study(run.read_study(), arch_yaml=arch_yaml)


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
