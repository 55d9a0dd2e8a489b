"""PNG pictures of an analysis document: per-group fronts on one axes (FLOPs on a log
x axis, accuracy up, as plots/pareto.png) and per-group error EDFs on one axes.

Matplotlib's object API (Figure + Agg canvas), never pyplot: no global state, any thread.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.runs.analysis.objectives import document_score

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def fronts_figure(groups: list[dict[str, Any]], title: str, score: str = "accuracy") -> Figure:
    """Each group's front as a staircase (min FLOPs, max score: each record's `accuracy`
    is the analysis's accuracy objective, `score`)."""
    figure, axes = _figure()
    for group in groups:
        front = [r for r in group["front"] if r.get("flops") and r.get("accuracy") is not None]
        x = [r["flops"] for r in front]
        y = [r["accuracy"] for r in front]
        line = axes.plot(x, y, drawstyle="steps-post", linewidth=1)[0]
        axes.scatter(x, y, s=24, color=line.get_color(), label=f"{group['label']} ({len(x)})")
    axes.set_xscale("log")
    axes.set_xlabel("flops (1 multiply-add = 1 FLOP, log scale)")
    axes.set_ylabel(f"{score} (higher is better)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return figure


def edf_figure(groups: list[dict[str, Any]], title: str, score: str = "accuracy") -> Figure:
    """F(e): the fraction of each group's models with error at most e (RegNet's EDF)."""
    figure, axes = _figure()
    for group in groups:
        edf = group["edf"]
        if edf["error"]:
            errors, fraction = [0.0, *edf["error"]], [0.0, *edf["fraction"]]
            axes.step(
                errors, fraction, where="post", label=f"{group['label']} (n={group['complete']})"
            )
    band = groups[0]["edf"].get("band") if groups else None
    axes.set_xlabel(f"error = 1 - {score}" + (f"  ({band})" if band else ""))
    axes.set_ylabel("cumulative fraction of models")
    axes.set_ylim(0, 1.02)
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return figure


def slug(key: str) -> str:
    """`stages[2].block` -> `stages2-block`: a key as a file name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", key.replace("[", "")).strip("-")


def _save(figure: Figure, path: Path) -> Path:
    from nas.runs.atomic import atomic_path

    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return path


def write_analysis_plots(document: dict[str, Any], folder: str | os.PathLike) -> list[Path]:
    """plots/analysis-<key>-fronts.png and -edf.png for each grouping."""
    written = []
    for grouping in document["groupings"]:
        name, groups = slug(grouping["key"]), grouping["groups"]
        written.append(
            _save(
                fronts_figure(groups, f"fronts by {grouping['key']}", document_score(document)),
                Path(folder, f"analysis-{name}-fronts.png"),
            )
        )
        written.append(
            _save(
                edf_figure(groups, f"error EDF by {grouping['key']}", document_score(document)),
                Path(folder, f"analysis-{name}-edf.png"),
            )
        )
    return written


def write_comparison_plots(document: dict[str, Any], folder: str | os.PathLike) -> list[Path]:
    """compare-fronts.png and compare-edf.png: every run on one axes."""
    groups, runs = document["groups"], " vs ".join(document["runs"])
    return [
        _save(
            fronts_figure(groups, f"fronts: {runs}", document_score(document)),
            Path(folder, "compare-fronts.png"),
        ),
        _save(
            edf_figure(groups, f"error EDF: {runs}", document_score(document)),
            Path(folder, "compare-edf.png"),
        ),
    ]
