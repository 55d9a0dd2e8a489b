"""The offline report: figures, hover text, self-containment, and a real browser render."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nas.runs.analysis.analyze import analyze_table
from nas.runs.analysis.objectives import DEFAULT_GOALS
from nas.runs.html.figures import edf_figure, front_figure
from nas.runs.html.report import build_report, read_histories, write_report

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "results" / "reference"


def _reference_table() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "trials.csv")


def test_front_figure_has_log_flops_across_and_a_short_hover() -> None:
    table = _reference_table()
    figure = front_figure(table)
    assert figure["layout"]["xaxis"]["type"] == "log"
    front = figure["data"][-1]
    on_front = table[table["pareto"]].sort_values("flops")
    assert front["x"] == on_front["flops"].tolist()  # FLOPs across, accuracy up
    assert front["y"] == on_front["accuracy"].tolist()
    first = on_front.iloc[0]
    assert front["customdata"][0] == [int(first["number"]), first["params"], first["summary"]]
    hover = front["hovertemplate"]
    assert all(word in hover for word in ("trial", "accuracy", "FLOPs", "params"))
    assert hover.count("<br>") == 4  # five short lines, not a dump of every attribute


def test_edf_figure_starts_at_zero_and_steps_to_one() -> None:
    groups = [{"label": "a", "complete": 2, "edf": {"error": [0.1, 0.3], "fraction": [0.5, 1.0]}}]
    trace = edf_figure(groups, "t")["data"][0]
    assert (trace["x"], trace["y"]) == ([0.0, 0.1, 0.3], [0.0, 0.5, 1.0])


def test_report_is_self_contained_and_escapes_script_ends(tmp_path: Path) -> None:
    table = _reference_table()
    table.loc[0, "summary"] = "evil </script><script>alert(1)</script>"
    analysis = analyze_table(table, DEFAULT_GOALS, keys=["family"], evaluator=None)
    histories = read_histories(REFERENCE, table["number"][table["pareto"]].tolist())
    page = build_report(table, "reference", "accuracy=0, flops=37.9M", analysis, histories)
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js inlined, no CDN
    assert "</script><script>alert" not in page
    assert len(histories) == int(table["pareto"].sum())  # every front member has metrics.json
    figures = re.findall(r'Plotly\.newPlot\("figure\d+",(.*?)\);', page)
    assert len(figures) == 2 + 2 + 2  # front+hypervolume, fronts+EDF, accuracy+loss curves
    path = write_report(tmp_path / "report.html", page)
    assert path.read_text() == page


CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium_without_javascript_errors(tmp_path: Path) -> None:
    table = _reference_table()
    analysis = analyze_table(table, DEFAULT_GOALS, keys=["family", "stages[1].block"])
    histories = read_histories(REFERENCE, table["number"][table["pareto"]].tolist())
    page = tmp_path / "report.html"
    write_report(page, build_report(table, "reference", "", analysis, histories))
    shot = tmp_path / "report.png"
    script = ROOT / "scripts" / "check_report_browser.py"
    done = subprocess.run(
        [sys.executable, str(script), str(page), "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state["errors"] == 0 and state["figures"] == state["drawn"] == 8
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install -y chromium)")
def test_browser_check_fails_on_a_javascript_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    script = ROOT / "scripts" / "check_report_browser.py"
    done = subprocess.run(
        [sys.executable, str(script), str(page)], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 1
    assert "undefinedFunction" in done.stderr


def _browser_layout(page: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    script = ROOT / "scripts" / "check_report_browser.py"
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, str(script), str(page), "--screenshot", str(shot), "--json"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done, json.loads(done.stdout)


def _counts(legend: list[str]) -> dict[str, int]:
    """{"conv": 4} from 'conv (4 trials, 4 on its front)' or 'conv (4 trials)'."""
    found = (re.fullmatch(r"(.+) \((\d+) trials?(, .*)?\)", entry) for entry in legend)
    return {m.group(1): int(m.group(2)) for m in found if m}


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install -y chromium)")
def test_the_drawn_page_has_readable_ticks_its_budgets_and_legends_that_agree(
    tmp_path: Path,
) -> None:
    """What Chromium drew, read back from the page: no two tick labels overlap, every FLOPs
    budget asked for is a dashed line, and the fronts and EDF legends count the same
    trials as the table does."""
    from nas.runs.analysis import parse_budget

    table = _reference_table()
    budgets = [parse_budget("flops<=1e6"), parse_budget("flops<=2.5e6")]
    keys = ["family", "stages[1].block"]
    analysis = analyze_table(table, DEFAULT_GOALS, keys=keys, budgets=budgets)
    page = tmp_path / "report.html"
    write_report(page, build_report(table, "reference", "", analysis, None))
    done, state = _browser_layout(page, tmp_path)
    assert done.returncode == 0, done.stderr
    assert state["unreadable"] == 0
    figures = {f["title"]: f for f in state["layout"]}
    front = figures[f"{int(table['pareto'].sum())} Pareto-optimal of {len(table)} trials"]
    flops_ticks = [t["text"] for t in front["xticks"]]
    assert len(flops_ticks) >= 3 and len(set(flops_ticks)) == len(flops_ticks)
    assert sum(int(re.search(r"\((\d+)\)", e).group(1)) for e in front["legend"]) == len(table)
    for key in keys:
        groups = table.assign(group=[_group(table, key, i) for i in range(len(table))])
        expected = groups["group"].value_counts().to_dict()
        fronts, edf = figures[f"fronts by {key}"], figures[f"error EDF by {key}"]
        assert fronts["dashed"] == len(budgets)
        assert _counts(fronts["legend"]) == _counts(edf["legend"]) == expected


def _group(table: pd.DataFrame, key: str, row: int) -> str:
    """The row's group under `key`, read from its arch_yaml (independently of analyze)."""
    import yaml

    arch = yaml.safe_load(table["arch_yaml"].iloc[row])
    if key == "family":
        attention = [s["block"] == "attention" for s in arch["stages"]]
        return "conv" if not any(attention) else "attention" if all(attention) else "hybrid"
    return str(arch["stages"][1]["block"])


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install -y chromium)")
def test_overlapping_tick_labels_fail_the_browser_check(tmp_path: Path) -> None:
    from nas.runs.html.page import Section, render_page

    labels = [f"a long tick label number {i}" for i in range(12)]
    crowded = {
        "data": [{"type": "scatter", "x": list(range(12)), "y": list(range(12))}],
        "layout": {
            "title": {"text": "crowded"},
            "xaxis": {"tickvals": list(range(12)), "ticktext": labels, "tickangle": 0},
        },
    }
    page = tmp_path / "crowded.html"
    page.write_text(render_page("crowded", [Section("crowded", figures=[crowded])]))
    done, state = _browser_layout(page, tmp_path)
    assert done.returncode == 1 and state["unreadable"] > 0
    assert "crowded: ticks 'a long tick label number 0' and" in done.stderr
