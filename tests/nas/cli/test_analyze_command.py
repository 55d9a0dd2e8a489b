"""`nas analyze` and `nas compare` on real run folders: the committed reference snapshot
(no database) and a study-backed run whose architectures live in trials/<n>/arch.yaml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml

from nas.runs import format as rf

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "results" / "reference"


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    """A copy of results/reference, so the analysis may write its pictures."""
    ignored = shutil.ignore_patterns(rf.REPORT_HTML, "analysis-*.png")
    return Path(shutil.copytree(REFERENCE, tmp_path / "reference", ignore=ignored))


def _families(table: pd.DataFrame) -> pd.Series:
    """conv / hybrid / attention, computed here from the stages' block names."""

    def family(document: str) -> str:
        blocks = [s["block"] == "attention" for s in yaml.safe_load(document)["stages"]]
        return "attention" if all(blocks) else "hybrid" if any(blocks) else "conv"

    return table["arch_yaml"].map(family)


def test_analyze_json_matches_the_table_counted_by_hand(nas, reference) -> None:
    result = nas("analyze", reference, "--by", "family", "--budget", "flops<=5e6", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)  # exactly one JSON document on stdout
    table = pd.read_csv(REFERENCE / rf.TRIALS_CSV)
    table = table[table["state"] == rf.COMPLETE]
    families = _families(table)
    groups = {g["label"]: g for g in document["groupings"][0]["groups"]}
    assert {k: g["complete"] for k, g in groups.items()} == families.value_counts().to_dict()
    for label, group in groups.items():
        rows = table[families == label]
        within = rows[rows["flops"] <= 5e6]
        assert group["best"][0]["best"] == pytest.approx(rows["accuracy"].max())
        assert group["best"][1]["budget"] == "flops<=5e6"
        assert group["best"][1]["best"] == pytest.approx(within["accuracy"].max())
    assert len(document["groupings"][0]["winners"]) == 2  # any budget, flops<=5e6
    assert document["importance"]["caveat"]  # 12 trials: too few to trust the ranking
    assert (reference / "report.html").stat().st_size > 1e6  # plotly.js inlined
    assert (reference / rf.PLOTS_DIR / "analysis-family-edf.png").is_file()


def test_analyze_prints_one_winner_line_per_budget(nas, reference) -> None:
    result = nas("analyze", reference, "--budget", "flops<=5e6", "--no-importance", "--no-report")
    assert result.code == 0, result.err
    winners = [line for line in result.out.splitlines() if line.strip().startswith("winner")]
    budgets = [w.split("winner ")[1].split(":")[0] for w in winners]
    assert budgets == ["any budget", "flops<=5e6"]
    assert not (reference / "report.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "stages[7].block"], "group key 'stages[7].block' is in no trial"),
        (["--by", "has attention"], "(did you mean 'has_attention'?)"),
        (["--by", "famly"], "(did you mean 'family'?)"),
        (["--budget", "flops<5e6"], "budget 'flops<5e6'"),
        (["--budget", "latency_ms<=3"], "recorded no 'latency_ms'"),
        (["--band", "flops=1e6"], "band 'flops=1e6'"),
    ],
)
def test_bad_keys_and_budgets_are_one_line_and_exit_2(nas, reference, args, message) -> None:
    result = nas("analyze", reference, "--no-report", *args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and message in result.err, result.err


def test_a_folder_that_is_no_run_is_one_line_and_exit_2(nas, tmp_path) -> None:
    for folder in (tmp_path / "missing", tmp_path):
        result = nas("analyze", folder)
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err


def _study_run(folder: Path) -> Path:
    """A run as today's search writes it: the architecture only in trials/<n>/arch.yaml."""
    folder.mkdir(parents=True)
    study = optuna.create_study(
        study_name="test",
        storage=f"sqlite:///{folder / rf.STUDY_FILE}",
        directions=["maximize", "minimize"],
    )
    study.set_user_attr(
        rf.STUDY_OBJECTIVES,
        [
            {"name": "accuracy", "direction": "maximize"},
            {"name": "flops", "direction": "minimize"},
        ],
    )
    study.set_user_attr(rf.STUDY_REFERENCE_POINT, [0.0, 1e7])
    for number in range(6):
        block = "attention" if number % 2 else "resnet"
        arch = {
            "name": f"t{number}",
            "stem": {"type": "conv", "width": 16},
            "stages": [{"block": "resnet", "depth": 1}, {"block": block, "depth": 1}],
        }
        (folder / rf.TRIALS_DIR / str(number)).mkdir(parents=True)
        (folder / rf.TRIALS_DIR / str(number) / rf.ARCH_FILE).write_text(yaml.safe_dump(arch))
        accuracy, flops = 0.5 + 0.05 * number, 1e6 * (number + 1)
        study.add_trial(
            optuna.trial.create_trial(
                values=[accuracy, flops],
                user_attrs={
                    rf.ATTR_STATE: rf.COMPLETE,
                    rf.ATTR_SUMMARY: block,
                    rf.ATTR_METRICS: {"accuracy": accuracy, "flops": flops},
                },
            )
        )
    (folder / rf.RUN_FILE).write_text(json.dumps({rf.RUN_STATUS: rf.FINISHED}))
    return folder


def test_analyze_reads_architectures_from_the_trial_folders(nas, tmp_path) -> None:
    run = _study_run(tmp_path / "run")
    result = nas("analyze", run, "--by", "stages[1].block", "--json", "--no-importance")
    assert result.code == 0, result.err
    groups = json.loads(result.out)["groupings"][0]["groups"]
    assert {g["label"]: g["complete"] for g in groups} == {"attention": 3, "resnet": 3}
    best = {g["label"]: g["best"][0]["best"] for g in groups}
    assert best == {"attention": pytest.approx(0.75), "resnet": pytest.approx(0.7)}
    report = nas("report", run)  # report.html too, grouped by family
    assert report.code == 0 and "hybrid" in (run / rf.REPORT_HTML).read_text()


def test_compare_a_run_with_itself_finds_no_difference(nas, reference, tmp_path) -> None:
    twin = Path(shutil.copytree(reference, tmp_path / "twin"))
    out = tmp_path / "out"
    result = nas("compare", reference, twin, "--json", "--output", out)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    stored = json.loads((REFERENCE / rf.REPORT_JSON).read_text())
    volumes = [g["hypervolume"] for g in document["groups"]]
    assert volumes == [pytest.approx(stored["hypervolume"])] * 2  # same reference point
    test = document["tests"][0]
    assert test["statistic"] == 0.0 and test["p_value"] == pytest.approx(1.0)
    assert (out / "compare.html").is_file() and (out / rf.PLOTS_DIR / "compare-edf.png").is_file()


def test_compare_needs_two_runs(nas, reference) -> None:
    result = nas("compare", reference)
    assert result.code == 2 and "at least two run folders" in result.err
