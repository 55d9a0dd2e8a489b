"""`nas analyze` and `nas compare` on run folders: read, analyse, draw, write the page.

document, written = analyze_run("results/demo", keys=["family"], budgets=["flops<=5e6"])
document, written = compare_runs(["results/conv", "results/hybrid"])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nas.runs import format as rf
from nas.runs.analysis.analyze import DEFAULT_KEYS, RunTable, analyze_table, compare_tables
from nas.runs.analysis.background import Pending
from nas.runs.analysis.bootstrap import Budget, parse_budget
from nas.runs.analysis.edf import Band, parse_band
from nas.runs.analysis.evidence import Evidence, run_evidence
from nas.runs.analysis.features import architectures
from nas.runs.analysis.importance import check_evaluator, importances
from nas.runs.analysis.objectives import MAXIMIZE, accuracy_goal, eligible
from nas.runs.analysis.source import RunSource, open_source
from search_space.errors import SpaceError

COMPARE_HTML = "compare.html"


def _budgets(texts: Sequence[str], source: RunSource) -> list[Budget]:
    budgets = [parse_budget(t) for t in texts]
    for budget in budgets:
        _require_column(budget.column, f"budget {budget}", source)
    return budgets


def _band(text: str | None, source: RunSource) -> Band | None:
    band = parse_band(text) if text else None
    if band is not None:
        _require_column(band.column, f"band {band}", source)
        # The EDFs are of the error: a band on an objective the run maximises (accuracy)
        # would cut the very distribution it draws.
        if any(g.name == band.column and g.direction == MAXIMIZE for g in source.goals):
            raise SpaceError(
                f"band {band}: a band restricts the models by a cost (flops, params, "
                f"latency_ms), not by {band.column!r}, whose distribution the EDFs show"
            )
    return band


def _require_column(column: str, what: str, source: RunSource) -> None:
    if column not in source.table.columns:
        numeric = [c for c in ("flops", "params", "latency_ms") if c in source.table.columns]
        raise SpaceError(
            f"{what}: {source.path} recorded no {column!r}; use one of {', '.join(numeric)}"
        )


def analyze_run(
    path: str | os.PathLike,
    keys: Sequence[str] = DEFAULT_KEYS,
    budgets: Sequence[str] = (),
    band: str | None = None,
    evaluator: str | None = "ped-anova",
    seed: int = 0,
    write: bool = True,
) -> tuple[dict[str, Any], list[Path]]:
    """The analysis document of the run at `path`; with `write`, also its pictures
    (plots/analysis-<key>-*.png) and RUN/report.html. Returns (document, files)."""
    source = open_source(path)
    budget_list, band_found = _budgets(budgets, source), _band(band, source)
    if eligible(source.table, source.goals).empty:
        raise SpaceError(
            f"{source.path}: no complete trial to analyze yet (see the error column of "
            f"{rf.TRIALS_CSV}); analyze it once trials have completed"
        )
    # The importances need only the eligible rows: they are computed beside the groups and
    # the PNGs (in a forked process where that is safe; see background.py), and joined to
    # the document before the page, which shows them, is written.
    rows = eligible(source.table, source.goals)
    architectures(rows)  # parsed (and cached) once, before the fork, for both processes
    if evaluator:
        check_evaluator(evaluator)  # before anything is written
    pending = Pending(importances, rows, source.goals, evaluator, seed) if evaluator else None
    try:
        document = analyze_table(
            source.table,
            source.goals,
            list(keys) or DEFAULT_KEYS,
            budget_list,
            band_found,
            seed,
            evaluator=None,
            evidence=_evidence(source, keys, budgets),
        )
        document["run"] = str(path)
        pictures = _write_pictures(source, document) if write else None
        document["importance"] = pending.result() if pending else None
    finally:
        if pending is not None:
            pending.close()
    return document, _write_page(source, document, pictures)


def _evidence(source: RunSource, keys: Sequence[str], budgets: Sequence[str]) -> Evidence:
    """The run's seed noise and retrained test scores, and the verify command that
    retrains the candidates of this very analysis."""
    from shlex import quote  # `<=` unquoted is a shell redirection

    from nas.runs.verification import read_rows

    flags = [f"--by {quote(k)}" for k in keys if list(keys) != list(DEFAULT_KEYS)]
    flags += [f"--budget {quote(b.replace(' ', ''))}" for b in budgets]
    command = " ".join([f"nas verify {quote(str(source.path))} --winners", *flags])
    score = accuracy_goal(source.goals).name
    return run_evidence(source.table, read_rows(source.path), command, score)


def winner_candidates(
    path: str | os.PathLike, keys: Sequence[str] = DEFAULT_KEYS, budgets: Sequence[str] = ()
) -> list[int]:
    """The trials `nas verify --winners` retrains: for every grouping and budget of this
    analysis, the candidates within noise of the two compared groups' bests."""
    source = open_source(path)
    document = analyze_table(
        source.table,
        source.goals,
        list(keys) or DEFAULT_KEYS,
        _budgets(budgets, source),
        evaluator=None,
        evidence=_evidence(source, keys, budgets),
    )
    found: set[int] = set()
    for grouping in document["groupings"]:
        for call in grouping["winners"]:
            for label in (call.get("winner"), call.get("runner_up")):
                found.update((call.get("candidates") or {}).get(label, []))
    if not found:
        raise SpaceError(
            f"{path}: no budget has two groups with complete trials; nothing to compare "
            "(try another --by or --budget)"
        )
    return sorted(found)


def _write_pictures(source: RunSource, document: dict[str, Any]) -> list[Path] | None:
    """plots/analysis-*.png; None where the folder is read-only (then no page either)."""
    from nas.runs.analysis.plots import write_analysis_plots

    try:
        return write_analysis_plots(document, source.path / rf.PLOTS_DIR)
    except OSError as error:  # a read-only copy of a run is still analysed
        _not_written(error)
        return None


def _write_page(
    source: RunSource, document: dict[str, Any], pictures: list[Path] | None
) -> list[Path]:
    from nas.runs.html.report import write_run_report

    if pictures is None:
        return []
    try:
        page = write_run_report(source.path, source.table, source.reference_text(), document)
    except OSError as error:
        _not_written(error)
        return []
    return pictures + ([page] if page else [])


def _not_written(error: OSError) -> None:
    from nas.console import note

    note(f"nas analyze: pictures not written ({error})")


def compare_runs(
    paths: Sequence[str | os.PathLike],
    budgets: Sequence[str] = (),
    band: str | None = None,
    seed: int = 0,
    output: str | os.PathLike | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """Runs as groups (see `compare_tables`). Pictures and compare.html go to `output`
    (default: the first run's folder); output="" writes nothing."""
    if len(paths) < 2:
        raise SpaceError("nas compare needs at least two run folders")
    folder = _output_folder(output)
    sources = [open_source(p) for p in paths]
    goals = sources[0].goals
    for source in sources[1:]:
        if [(g.name, g.direction) for g in source.goals] != [(g.name, g.direction) for g in goals]:
            raise SpaceError(
                f"{source.path}: objectives {_goals_text(source)} differ from "
                f"{sources[0].path}'s {_goals_text(sources[0])}; compare runs with the same "
                "objectives and directions"
            )
        _check_same_data(sources[0], source)
    names = _unique_names(sources)
    runs = [RunTable(n, s.table, s.reference) for n, s in zip(names, sources)]
    document = compare_tables(
        runs, goals, _budgets(budgets, sources[0]), _band(band, sources[0]), seed
    )
    folder = sources[0].path if output is None else folder
    return document, (_write_comparison(document, folder) if folder is not None else [])


def _output_folder(output: str | os.PathLike | None) -> Path | None:
    """--output checked before any run is read: a folder, or one that can be made."""
    if output is None or output == "":
        return None
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise SpaceError(f"--output {folder}: is a file; name a folder for compare.html")
    return folder


def _goals_text(source: RunSource) -> str:
    words = {MAXIMIZE: "max"}
    return ", ".join(f"{g.name} {words.get(g.direction, 'min')}" for g in source.goals)


def _check_same_data(first: RunSource, other: RunSource) -> None:
    """Runs scored on different data (dataset, classes, resolution) are not comparable."""
    ours, theirs = _data_of(first.path), _data_of(other.path)
    if ours and theirs and ours != theirs:
        raise SpaceError(
            f"{other.path}: its data ({_data_text(theirs)}) differ from {first.path}'s "
            f"({_data_text(ours)}); compare runs scored on the same data"
        )


def _data_of(folder: Path) -> dict[str, Any]:
    """The dataset and input a run was scored on, from its config.yaml ({} if unknown)."""
    import yaml

    try:
        config = yaml.safe_load((folder / rf.CONFIG_FILE).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}
    data, shape = config.get("data") or {}, config.get("input") or {}
    if not isinstance(data, dict) or not isinstance(shape, dict):
        return {}
    found = {k: data.get(k) for k in ("name", "root") if data.get(k) is not None}
    found.update({k: shape.get(k) for k in ("classes", "channels") if k in shape})
    return found


def _data_text(data: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in data.items())


def _unique_names(sources: Sequence[RunSource]) -> list[str]:
    names = [s.name for s in sources]
    if len(set(names)) == len(names):
        return names
    return [str(s.path) for s in sources]


def _write_comparison(document: dict[str, Any], folder: Path) -> list[Path]:
    from nas.runs.analysis.plots import write_comparison_plots
    from nas.runs.html.report import build_comparison, write_report

    try:
        written = write_comparison_plots(document, folder / rf.PLOTS_DIR)
    except OSError as error:
        raise SpaceError(
            f"--output {folder}: cannot be written ({error.strerror or error}); "
            "name a folder you may write"
        ) from None
    try:
        page = build_comparison(document)
    except ImportError:  # no plotly: the PNGs only
        return written
    return [*written, write_report(folder / COMPARE_HTML, page)]
