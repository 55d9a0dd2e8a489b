"""nas: neural architecture search over CNN/transformer designs, scored on accuracy vs FLOPs.

    nas.search(space, **settings)   run a search (Optuna samples, Ray Tune trains)
    nas.open_run(path)              the trials table, Pareto front and hypervolume of a run
    nas.load_model(path)            an exported model, in eval mode
    nas.verify(path, seeds=3)       the front retrained with more seeds: 95% intervals
    nas.analyze(path, by=[...])     which design choice wins at which budget
    nas.compare([path, path, ...])  runs of different spaces side by side

Importing `nas` stays light (no torch, Optuna or Ray): these come from `nas.api` on first
use. The sub-packages: `nas.engine` runs a search, `nas.runs` reads and writes a run
folder, `nas.cli` is the `nas` command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nas.api import analyze, compare, load_model, open_run, search, verify

__all__ = ["analyze", "compare", "load_model", "open_run", "search", "verify"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from nas import api

        return getattr(api, name)
    raise AttributeError(f"module 'nas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
