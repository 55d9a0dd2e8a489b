"""The public API (`import nas`): light to import, and the same numbers as the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import nas
from search_space import SpaceError
from tests.nas.runs.test_report import TRIALS, make_run

ROOT = Path(__file__).resolve().parents[2]


def test_importing_nas_loads_no_torch_optuna_or_ray() -> None:
    code = (
        "import sys, nas\n"
        "assert callable(nas.search) and callable(nas.open_run) and callable(nas.load_model)\n"
        "print(sorted(m for m in ('torch', 'optuna', 'ray', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert sorted(nas.__all__) == ["load_model", "open_run", "search"]


def test_open_run_gives_what_the_report_prints(request, tmp_path) -> None:
    cli = request.getfixturevalue("nas")  # the `nas` command, run in this process
    make_run(tmp_path / "run", TRIALS)
    results = nas.open_run(tmp_path / "run")
    report = cli("report", tmp_path / "run", "--json", "--no-plots").json()
    # reference (0, 1e7): 0.8*(3e6-1e6) + 0.9*(8e6-3e6) + 0.95*(1e7-8e6), by hand
    assert results.hypervolume == pytest.approx(0.8 * 2e6 + 0.9 * 5e6 + 0.95 * 2e6)
    assert report["hypervolume"] == pytest.approx(results.hypervolume)
    assert [row["trial"] for row in report["pareto"]] == list(results.front["number"])
    assert list(results.table["number"]) == list(range(len(TRIALS)))
    assert results.table["arch_yaml"].notna().all()  # the API keeps each architecture


def test_open_run_refuses_what_is_not_a_run_folder(tmp_path) -> None:
    with pytest.raises(SpaceError, match="not a run folder"):
        nas.open_run(tmp_path)


def test_search_rejects_an_unknown_setting_before_starting_anything(tmp_path) -> None:
    with pytest.raises(SpaceError, match="trails"):
        nas.search("demo", trails=3, output=str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()
