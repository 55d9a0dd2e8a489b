"""RUN/report.html: the run on one offline page.

Sections: the front (hover: trial, accuracy, FLOPs, params, architecture), hypervolume
over trials, per-group fronts and EDFs (from `nas.runs.analysis`), learning curves of the
front's members, trial counts by state with the failure reasons.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nas.runs import format as rf
from nas.runs.analysis.objectives import document_score
from nas.runs.html.figures import (
    edf_figure,
    front_figure,
    group_fronts_figure,
    hypervolume_figure,
    learning_curves_figure,
)
from nas.runs.html.page import Section, render_page

REPORT_HTML = rf.REPORT_HTML
_REASONS = 10  # distinct failure reasons listed; the rest are counted together


def _states_section(table: pd.DataFrame) -> Section:
    counts = table["state"].value_counts()
    section = Section(
        "trials by state", tables=[(["state", "trials"], [[k, int(v)] for k, v in counts.items()])]
    )
    if "error" in table:
        failed = table[table["error"].notna() & (table["error"].astype(str) != "")]
        reasons = failed.groupby(["state", "error"]).size().sort_values(ascending=False)
        rows = [[s, e, int(n)] for (s, e), n in reasons.head(_REASONS).items()]
        if len(reasons) > _REASONS:
            rows.append(
                ["", f"{len(reasons) - _REASONS} other reasons", int(reasons.iloc[_REASONS:].sum())]
            )
        if rows:
            section.tables.append((["state", "reason", "trials"], rows))
    return section


def _analysis_sections(analysis: Mapping[str, Any]) -> list[Section]:
    sections = []
    score = document_score(analysis)
    for grouping in analysis.get("groupings", []):
        key, groups = grouping["key"], grouping["groups"]
        notes = [line for w in grouping["winners"] for line in _winner_notes(w)]
        rows = [[g["label"], g["complete"], g["median_error"], *_bests(g)] for g in groups]
        budgets = [b["budget"] for b in groups[0]["best"]] if groups else []
        header = [
            "group",
            "complete",
            "median error",
            *[f"best {b} (standard error)" for b in budgets],
        ]
        sections.append(
            Section(
                f"by {key}",
                figures=[
                    group_fronts_figure(groups, f"fronts by {key}", score),
                    edf_figure(groups, f"error EDF by {key}", score),
                ],
                tables=[(header, rows)],
                notes=notes,
            )
        )
    found = analysis.get("importance")
    if found and found.get("objectives"):
        rows = [
            [o, k, v]
            for o, scores in found["objectives"].items()
            for k, v in list(scores.items())[:8]
        ]
        notes = [found["caveat"]] if found.get("caveat") else []
        sections.append(
            Section(
                f"which keys matter ({found['evaluator']})",
                tables=[(["objective", "key", "importance"], rows)],
                notes=notes,
            )
        )
    return sections


def _winner_notes(winner: Mapping[str, Any]) -> list[str]:
    """The winner sentence, then its supporting lines (noise, labels, what to retrain)."""
    return [winner["sentence"], *(f"  {line}" for line in winner.get("details", []))]


def _bests(group: Mapping[str, Any]) -> list[str]:
    return [
        "-"
        if b["best"] is None
        else f"{b['best']:.3f} (se {b['se']:.3f}) n={b['count']}"
        if b.get("se") is not None
        else f"{b['best']:.3f} n={b['count']}"
        for b in group["best"]
    ]


def build_comparison(document: Mapping[str, Any]) -> str:
    """compare.html: a `compare_tables` document on one page (fronts and EDFs of every
    run on one axes, hypervolumes against the common reference, the two-sample tests)."""
    groups, runs = document["groups"], " vs ".join(document["runs"])
    reference = ", ".join(
        f"{o['name']}={v:.3g}" for o, v in zip(document["objectives"], document["reference_point"])
    )
    budgets = [b["budget"] for b in groups[0]["best"]] if groups else []
    header = ["run", "trials", "complete", "hypervolume", "median error"]
    header += [f"best {b} (standard error)" for b in budgets]
    rows = [
        [g["label"], g["trials"], g["complete"], g["hypervolume"], g["median_error"], *_bests(g)]
        for g in groups
    ]
    tests = [
        [t["a"], t["b"], t["method"], t["statistic"], t["p_value"]]
        for t in document["tests"]
        if "statistic" in t
    ]
    fronts = group_fronts_figure(groups, f"fronts: {runs}", document_score(document))
    figures = [fronts, edf_figure(groups, "error EDF", document_score(document))]
    sections = [
        Section(
            f"runs compared (hypervolume against the common reference {reference})",
            figures=figures,
            tables=[(header, rows)],
            notes=[line for w in document["winners"] for line in _winner_notes(w)],
        )
    ]
    if tests:
        tests_table = (["run a", "run b", "test", "statistic", "p-value"], tests)
        sections.append(Section("error distributions: two-sample tests", tables=[tests_table]))
    return render_page(f"compare: {runs}", sections)


def build_report(
    table: pd.DataFrame,
    title: str,
    reference: str = "",
    analysis: Mapping[str, Any] | None = None,
    histories: Mapping[int, list[dict[str, Any]]] | None = None,
) -> str:
    """The page as a string. `table` is trials.csv; `analysis` an `analyze_table`
    document; `histories` the per-epoch records (metrics.json) of the front's members."""
    score = document_score(analysis or {})
    front = front_figure(table, score)
    sections = [Section("Pareto front", figures=[front, hypervolume_figure(table, reference)])]
    sections += _analysis_sections(analysis or {})
    if histories:
        epochs = [e for h in histories.values() for e in h]
        shown = score if all(score in e for e in epochs) else "accuracy"
        curves = [learning_curves_figure(dict(histories), m) for m in (shown, "loss")]
        sections.append(Section("learning curves of the front", figures=curves))
    sections.append(_states_section(table))
    return render_page(title, sections)


def write_report(path: str | os.PathLike, page: str) -> Path:
    from nas.runs.atomic import write_text

    return write_text(path, page)


def write_run_report(
    run_dir: str | os.PathLike,
    table: pd.DataFrame,
    reference: str,
    analysis: Mapping[str, Any] | None = None,
) -> Path | None:
    """RUN/report.html from the run's trials table (trials.csv), an analysis document
    and the front's learning curves (trials/<n>/metrics.json). None when the run has no
    accuracy and FLOPs to draw, or plotly is not installed."""
    if not {"accuracy", "flops", "state"} <= set(table.columns):
        return None
    try:
        import plotly  # noqa: F401  (plotly.js is inlined from it)
    except ImportError:
        return None
    front = table["number"][table["pareto"].astype(bool)] if "pareto" in table else []
    histories = read_histories(run_dir, [int(n) for n in front])
    title = f"{Path(run_dir).resolve().name}: {len(table)} trials"
    page = build_report(table, title, reference, analysis, histories)
    return write_report(Path(run_dir) / REPORT_HTML, page)


def read_histories(run_dir: str | os.PathLike, numbers: list[int]) -> dict[int, list[dict]]:
    """The per-epoch `history` of each trial's trials/<n>/metrics.json (absent: skipped)."""
    import json

    found = {}
    for number in numbers:
        path = Path(run_dir, rf.TRIALS_DIR, str(number), rf.METRICS_FILE)
        if path.is_file():
            history = json.loads(path.read_text()).get("history")
            if isinstance(history, list) and history:
                found[int(number)] = history
    return found
