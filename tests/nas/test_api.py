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
    assert sorted(nas.__all__) == [
        "analyze",
        "compare",
        "load_model",
        "open_run",
        "search",
        "verify",
    ]


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


def test_search_names_the_unknown_setting_with_a_suggestion(tmp_path) -> None:
    with pytest.raises(SpaceError) as error:
        nas.search("demo", epoch=2, output=str(tmp_path / "run"))
    assert error.value.problems[0].startswith("unknown setting 'epoch' (did you mean 'epochs'?)")


def test_settings_are_named_like_section_keys_and_flags() -> None:
    from nas.engine.overrides import overrides_from_settings

    overrides = overrides_from_settings(
        {"trials": 3, "epochs": 2, "data": "cifar10", "lr": 0.01, "seed": 4, "limit": 50},
        lambda name: f"{name}=",
    )
    assert overrides == {
        "data": {"name": "cifar10", "limit": 50},
        "train": {"epochs": 2, "lr": 0.01},
        "search": {"trials": 3, "seed": 4},  # seed seeds the search, as --seed does
    }
    with pytest.raises(SpaceError, match=r"^trials=: 0 must be a whole number from 1 to "):
        overrides_from_settings({"trials": 0}, lambda name: f"{name}=")


def test_open_run_matches_trials_csv_read_with_pandas(tmp_path) -> None:
    import pandas as pd

    from nas.runs.tables import write_tables

    make_run(tmp_path / "run", TRIALS)
    run = nas.open_run(tmp_path / "run")
    write_tables(tmp_path / "run", run.study)  # what a search writes after every trial
    csv = pd.read_csv(tmp_path / "run" / "trials.csv")
    assert list(run.trials.columns) == list(csv.columns)
    for column in ("number", "accuracy", "flops", "hypervolume"):
        assert run.trials[column].tolist() == pytest.approx(csv[column].tolist(), nan_ok=True)
    assert run.trials["state"].tolist() == csv["state"].tolist()
    front = csv[csv["pareto"]].sort_values("flops")
    assert run.front["number"].tolist() == front["number"].tolist()
    assert run.hypervolume == pytest.approx(csv["hypervolume"].iloc[-1])
    assert len(run.study.trials) == len(TRIALS)
    from optuna.exceptions import StorageInternalError

    with pytest.raises(StorageInternalError):  # read-only: no write goes through it
        run.study.set_user_attr("touched", True)
    assert repr(run).startswith(f"Run({str(tmp_path / 'run')!r}: {len(TRIALS)} trials")


@pytest.mark.slow
def test_api_search_equals_the_cli_and_leaves_stdout_alone(request, tmp_path, capsys) -> None:
    import threading

    import pandas as pd

    cli = request.getfixturevalue("nas")
    settings = {"trials": 2, "epochs": 1, "seed": 3, "plots": False}
    import yaml

    document = yaml.safe_load((ROOT / "search_space" / "spaces" / "demo.yaml").read_text())
    document["data"]["limit"] = 300  # the demo space on 300 images
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    seen, searching = set(), threading.Event()

    def watch() -> None:  # sys.stdout must stay the caller's for the whole search
        while not searching.is_set():
            seen.add(id(sys.stdout))
            searching.wait(0.05)

    ours = sys.stdout
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = nas.search(path, output=str(tmp_path / "api"), **settings)
    finally:
        searching.set()
        watcher.join()
    assert seen == {id(ours)}
    assert capsys.readouterr().out == ""  # progress went to stderr, nothing to stdout
    flags = ["--trials", "2", "--epochs", "1", "--seed", "3", "--no-plots"]
    assert cli("search", path, "--output", tmp_path / "cli", *flags).code == 0
    by_cli = pd.read_csv(tmp_path / "cli" / "trials.csv")
    assert run.trials["summary"].tolist() == by_cli["summary"].tolist()
    assert run.trials["state"].tolist() == by_cli["state"].tolist() == ["complete"] * 2
    for column in ("accuracy", "loss", "flops", "params"):
        assert run.trials[column].tolist() == pytest.approx(by_cli[column].tolist(), rel=1e-6)
    assert run.outcome.finished and run.outcome.decided == 2
    # verify: the same seed of the same trial retrains to the same numbers either way
    document = nas.verify(tmp_path / "api", seeds=1, picks=["0"])
    by_cli_verify = cli("verify", tmp_path / "cli", "--seeds", "1", "--pick", "0", "--json")
    assert by_cli_verify.code == 0, by_cli_verify.err
    assert document["members"] == by_cli_verify.json()["members"]
    assert [m["trial"] for m in document["members"]] == [0]
