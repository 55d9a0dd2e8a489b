"""`nas report`: the Pareto front as a table, the hypervolume, counts by state, plots.

`report_document` is the `--json` document:

    {"pareto": [{"trial": 7, "accuracy": 0.97, "flops": 1.2e6, "params": 9.1e3, ...,
                 "summary": "conv24 | mbconv x2 @48 k5 | ..."}, ...],   # sorted by FLOPs
     "hypervolume": 1.1e6,
     "reference_point": {"accuracy": 0.0, "flops": 2.0e7},
     "counts": {"complete": 10, "failed": 1, "infeasible": 1, "stopped_early": 0,
                "interrupted": 1, "queued": 0, "running": 0},   # one state per trial
     "retried": 1}   # trials (of any state) whose dead worker Tune started again
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

from nas.console import human
from nas.runs import format as rf
from nas.runs.atomic import write_json, write_text
from nas.runs.folder import open_run
from nas.runs.quality import WHY
from nas.runs.results import RunResults, analyse_study
from nas.runs.storage_url import redact_url
from nas.runs.tables import write_tables


def report_document(results: RunResults) -> dict[str, Any]:
    """The `nas report --json` document (see the module docstring)."""
    quality = ["quality"] if "quality" in results.front.columns else []
    columns = ["number", *results.metric_columns, *quality, "summary"]
    pareto = []
    for row in results.front[columns].itertuples(index=False):
        record = {"trial": int(row[0])}
        record.update({name: _plain(value) for name, value in zip(columns[1:], row[1:])})
        pareto.append(record)
    return {
        "pareto": pareto,
        "hypervolume": results.hypervolume,
        "reference_point": results.reference_dict(),
        "counts": results.counts(),
        "retried": results.retried,
    }


def format_report(results: RunResults, run_dir: str | os.PathLike) -> str:
    """The human report: the front table sorted by FLOPs, hypervolume, counts."""
    front = results.front
    gains = [o.name for o in results.objectives if o.name not in ("flops", "params")]
    numeric = [*gains, *(c for c in ("flops", "params") if c in front.columns)]
    header = ["trial", *numeric, "architecture"]
    marks = front["quality"].fillna("") if "quality" in front.columns else [""] * len(front)
    lines = [[f"#{int(n)}" + (f" ({m})" if m else "") for n, m in zip(front["number"], marks)]]
    lines += [[_cell(name, v) for v in front[name]] for name in numeric]
    lines.append([str(s or "-") for s in front["summary"]])
    rows = list(zip(*lines))
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    text = [
        f"{run_dir}: {len(front)} Pareto-optimal of {len(results.table)} trials "
        f"(sorted by {results.sort_column})"
    ]
    text.append(
        "  ".join(
            h.ljust(w) if i in (0, len(header) - 1) else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths))
        ).rstrip()
    )
    if not rows:
        text.append("(no complete trial yet: the front is empty)")
    for row in rows:
        text.append(
            "  ".join(
                c.ljust(w) if i in (0, len(row) - 1) else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
    for mark in sorted({m for m in marks if m}):
        which = ", ".join(f"#{int(n)}" for n, m in zip(front["number"], marks) if m == mark)
        text.append(f"{which}: {WHY[mark]}; `nas export` skips it unless --include-chance")
    reference = ", ".join(f"{k} {_cell(k, v)}" for k, v in results.reference_dict().items())
    note = "" if results.reference_fixed else " (derived from the trials; not yet stored)"
    text.append(f"hypervolume {results.hypervolume:.6g} against reference point {reference}{note}")
    text.append(f"trials: {results.counts_text()}")
    return "\n".join(text)


def report_run(
    run_dir: str | os.PathLike, *, plots: bool = True, redraw: bool = False
) -> tuple[RunResults, list[Path]]:
    """Opens and analyses a finished run. With `plots`, redraws RUN/plots/ and
    RUN/report.html when one is missing or older than the study database (or always,
    with `redraw`); returns the analysis and the files written."""
    run = open_run(run_dir)
    draw = plots and (redraw or plots_are_stale(run.path, run.storage))
    # The architectures (arch_yaml) are read only for report.html's grouping by family.
    results = analyse_study(run.read_study(), arch_yaml=draw, run_dir=run.path)
    written: list[Path] = []
    if draw:
        from nas.runs.plots import write_plots

        try:
            written = write_plots(run.path, results)
        except OSError as error:  # a read-only copy of a run still reports
            from nas.console import note

            note(f"nas report: plots not written ({error})")
    return results, written


def plots_are_stale(run_dir: Path, storage: str) -> bool:
    """A picture is missing, or the SQLite study changed after it was drawn."""
    pictures = [run_dir / rf.PLOTS_DIR / name for name in (rf.PARETO_PNG, rf.HYPERVOLUME_PNG)]
    pictures.append(run_dir / rf.REPORT_HTML)
    database = run_dir / rf.STUDY_FILE
    if not all(p.is_file() for p in pictures) or not storage.startswith("sqlite"):
        return True
    return min(p.stat().st_mtime_ns for p in pictures) < database.stat().st_mtime_ns


def write_snapshot(run_dir: str | os.PathLike, destination: str | os.PathLike) -> list[Path]:
    """Copies a run's small, text-and-picture part to `destination` (the README's
    reference run): config, run.json, fresh trials/pareto tables, report.json, the PNG
    plots, each Pareto trial's arch.yaml and metrics.json, and verify.csv/verify.json when
    the run was verified (the winner call's retrained test scores live there). Never the
    study database, weights or the (large, self-contained) report.html."""
    run = open_run(run_dir)
    study = run.read_study()
    results = analyse_study(study, run_dir=run.path)
    from nas.runs.plots import write_plots

    write_plots(run.path, results)
    source, target = run.path, Path(destination)
    copied = [write_json(target / rf.REPORT_JSON, report_document(results))]
    copied += [target / rf.TRIALS_CSV, target / rf.PARETO_CSV]
    write_tables(target, study, results)
    names = [rf.CONFIG_FILE, rf.RUN_FILE, rf.VERIFY_CSV, rf.VERIFY_JSON]  # verify: when run
    names += [f"{rf.PLOTS_DIR}/{p.name}" for p in sorted((source / rf.PLOTS_DIR).glob("*.png"))]
    for number in results.front["number"]:
        names += [f"{rf.TRIALS_DIR}/{int(number)}/{f}" for f in (rf.ARCH_FILE, rf.METRICS_FILE)]
    for name in names:
        if (source / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            if name in (rf.CONFIG_FILE, rf.RUN_FILE):  # a run written before redaction
                write_text(target / name, redact_url((source / name).read_text()))
            else:
                shutil.copyfile(source / name, target / name)
            copied.append(target / name)
    return copied


def _plain(value: Any) -> Any:
    """numpy scalars and NaN from pandas -> JSON-ready Python values."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _cell(name: str, value: Any) -> str:
    value = _plain(value)
    if value is None:
        return "-"
    if name == "accuracy" and isinstance(value, float):
        return f"{100 * value:.2f}%"
    if name in ("flops", "params") and isinstance(value, int | float):
        return human(value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)
