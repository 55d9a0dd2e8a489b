"""The public Python API: `nas.search`, `nas.open_run` and `nas.load_model`.

Each function imports what it needs when called, so `import nas` stays light.

    import nas
    run = nas.search("demo", trials=12, epochs=2, output="results/demo")  # a Run
    run = nas.open_run("results/demo")         # .trials, .front, .hypervolume, .study
    model = nas.load_model("results/demo/export/7")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os

    from torch import nn

    from nas.runs.run import Run


def load_model(path: str | os.PathLike, *, device: str = "cpu") -> nn.Module:
    """The trained model of an export folder (`RUN/export/<trial>`) or a trial folder, in
    eval mode; reads arch.yaml (safe_load) and weights.safetensors, never a pickle."""
    from nas.runs.load import load_model as load

    return load(path, device=device)


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
    **settings: Any,
) -> Run:
    """Runs a search, as `nas search` does, and returns its run (as `open_run` gives it).

    `space`: a space file or bundled space name (None: the demo). `settings` are named
    like the keys of the data:, train: and search: sections or like the flags
    (``trials=``, ``output=``, ``epochs=``, ``sampler=``, ``address=``, ``seed=``,
    ``data="cifar10"``, ``lr=``, ``constraint="flops<=2e7"``, or a whole section,
    ``train={...}``); they win over the space file. An unknown name is a SpaceError.
    With `resume`, continues the run in `output`. Progress goes to stderr; stdout is
    left alone. The search's own summary is the run's `.outcome`.
    """
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
    outcome = run_search(experiment, on_start=lambda: _announce(experiment))
    run = open_analysed(outcome.run_dir, allow_running=True)
    run.outcome = outcome
    return run


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
