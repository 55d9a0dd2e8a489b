"""The files a search refreshes after every trial: trials.csv, pareto.csv, pruned
weights and the plots, all from one analysis of the study."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nas.runs import format as rf
from nas.runs.atomic import write_csv
from nas.runs.plots import write_plots
from nas.runs.results import RunResults, analyse_study, fix_reference_point

if TYPE_CHECKING:
    import optuna


def write_tables(
    run_dir: str | os.PathLike, study: optuna.Study, results: RunResults | None = None
) -> RunResults:
    """Writes trials.csv and pareto.csv atomically; returns the analysis behind them."""
    results = results or analyse_study(study)
    write_csv(Path(run_dir) / rf.TRIALS_CSV, results.table)
    write_csv(Path(run_dir) / rf.PARETO_CSV, results.front)
    return results


def prune_weights(
    run_dir: str | os.PathLike,
    study: optuna.Study,
    results: RunResults | None = None,
    *,
    keep_ranks: int = 1,
) -> list[Path]:
    """Deletes the weights of finished trials outside the first `keep_ranks` fronts.

    A dominated trial never returns to the front (the front only improves), so export
    never lacks the weights of a Pareto model. Running trials and trials the study does
    not know are left alone. Returns the removed files.
    """
    results = results or analyse_study(study)
    table = results.table
    keep = {
        int(n)
        for n, r in zip(table["number"], table["rank"])
        if r is not None and not math.isnan(r) and r < keep_ranks
    }
    finished = {int(n) for n, s in zip(table["number"], table["state"]) if s in rf.TERMINAL_STATES}
    removed = []
    for weights in sorted(Path(run_dir, rf.TRIALS_DIR).glob(f"*/{rf.WEIGHTS_FILE}")):
        number = int(weights.parent.name) if weights.parent.name.isdigit() else None
        if number in finished and number not in keep:
            weights.unlink(missing_ok=True)
            removed.append(weights)
    return removed


def update_run_folder(
    run_dir: str | os.PathLike, study: optuna.Study, *, plots: bool = True, keep_ranks: int = 1
) -> RunResults:
    """After each trial: fix the reference point if it was open, rewrite the tables,
    prune dominated weights, redraw the plots. One analysis serves all four."""
    results = analyse_study(study)
    fix_reference_point(study, results)
    write_tables(run_dir, study, results)
    prune_weights(run_dir, study, results, keep_ranks=keep_ranks)
    if plots:
        write_plots(run_dir, results, study)
    return results
