"""Run folders, the trials table, `nas report` and its plots, on small real Optuna studies."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest

from nas.runs import format as rf
from nas.runs.folder import open_run
from nas.runs.report import report_document, write_snapshot
from nas.runs.results import analyse_study, trial_state
from nas.runs.tables import prune_weights, update_run_folder, write_tables
from search_space import SpaceError

OBJECTIVES = [
    {"name": "accuracy", "direction": "maximize"},
    {"name": "flops", "direction": "minimize"},
]
_OPTUNA_STATE = {
    rf.COMPLETE: "COMPLETE",
    rf.FAILED: "FAIL",
    rf.INFEASIBLE: "FAIL",
    rf.STOPPED_EARLY: "PRUNED",
    rf.RUNNING_TRIAL: "RUNNING",
}


def make_run(
    folder: Path,
    trials: list[tuple],
    objectives=OBJECTIVES,
    reference: list | None = (0.0, 1e7),
    status: str = rf.FINISHED,
) -> optuna.Study:
    """A run folder with an SQLite study; each trial is (state, {metrics}) in order."""
    folder.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{folder / rf.STUDY_FILE}"
    study = optuna.create_study(
        study_name="test", storage=storage, directions=[o["direction"] for o in objectives]
    )
    study.set_user_attr(rf.STUDY_OBJECTIVES, objectives)
    if reference is not None:
        study.set_user_attr(rf.STUDY_REFERENCE_POINT, list(reference))
    study.set_user_attr(rf.STUDY_CONFIG, {"name": "test", "data": {"name": "mnist5k"}})
    for number, (state, metrics) in enumerate(trials):
        study.add_trial(_frozen(number, state, metrics, objectives))
    (folder / rf.RUN_FILE).write_text(
        json.dumps(
            {
                rf.RUN_STATUS: status,
                rf.RUN_PID: os.getpid(),
                rf.RUN_HOST: socket.gethostname(),
                rf.RUN_STUDY_NAME: "test",
            }
        )
    )
    return study


def _frozen(number: int, state: str, metrics: dict, objectives) -> optuna.trial.FrozenTrial:
    attrs = {
        rf.ATTR_STATE: state,
        rf.ATTR_METRICS: metrics,
        rf.ATTR_EPOCHS: 1,
        rf.ATTR_SUMMARY: f"conv16 | resnet x{number + 1} @32 k3",
        rf.ATTR_ARCH: {"name": f"t{number}", "stem": {"type": "conv", "width": 16}},
        rf.ATTR_SECONDS: {"build": 0.1, "train": 2.0, "total": 2.2},
    }
    if state in (rf.FAILED, rf.INFEASIBLE):
        attrs[rf.ATTR_ERROR] = f"{state}: reason {number}"
    values = [metrics[o["name"]] for o in objectives] if state == rf.COMPLETE else None
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState[_OPTUNA_STATE[state]], values=values, user_attrs=attrs
    )


def _m(accuracy: float, flops: float, **more) -> dict:
    return {"accuracy": accuracy, "flops": flops, "params": flops / 100, **more}


# Trial 0..7: two tied front members (1, 2), a dominated one (3), and one of each state
# that must stay off the front even though its numbers would dominate everything.
TRIALS = [
    (rf.COMPLETE, _m(0.80, 1e6)),
    (rf.COMPLETE, _m(0.90, 3e6)),
    (rf.COMPLETE, _m(0.90, 3e6)),
    (rf.COMPLETE, _m(0.85, 4e6)),
    (rf.FAILED, {}),
    (rf.INFEASIBLE, _m(0.99, 9e5)),
    (rf.STOPPED_EARLY, _m(0.99, 9e5)),
    (rf.COMPLETE, _m(0.95, 8e6)),
]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    make_run(tmp_path / "run", TRIALS)
    return tmp_path / "run"


def test_front_excludes_failed_infeasible_and_stopped_and_keeps_ties(run_dir):
    results = analyse_study(open_run(run_dir).load_study())
    assert list(results.front["number"]) == [0, 1, 2, 7]  # sorted by FLOPs, ties by number
    assert results.counts() == {
        "complete": 5,
        "failed": 1,
        "infeasible": 1,
        "stopped_early": 1,
        "interrupted": 0,
        "queued": 0,
        "running": 0,
    }
    # reference (0, 1e7): 0.8*(3e6-1e6) + 0.9*(8e6-3e6) + 0.95*(1e7-8e6)
    assert results.hypervolume == pytest.approx(0.8 * 2e6 + 0.9 * 5e6 + 0.95 * 2e6)
    table = results.table
    assert list(table["hypervolume"]) == pytest.approx(
        [0.8 * 9e6, *[0.8 * 2e6 + 0.9 * 7e6] * 6, results.hypervolume]
    )


def test_trials_table_has_one_row_per_trial_with_every_metric(run_dir):
    study = open_run(run_dir).load_study()
    write_tables(run_dir, study)
    table = pd.read_csv(run_dir / rf.TRIALS_CSV)
    assert list(table["number"]) == list(range(len(TRIALS)))
    assert list(table.columns[:7]) == [
        "number",
        "state",
        "pareto",
        "rank",
        "quality",
        "accuracy",
        "flops",
    ]
    for column in (
        "params",
        "summary",
        "epochs",
        "seconds_build",
        "seconds_train",
        "datetime_start",
        "duration_s",
        "hypervolume",
        "error",
        "arch_yaml",
    ):
        assert column in table.columns
    assert table.loc[4, "state"] == "failed" and table.loc[4, "error"] == "failed: reason 4"
    assert "width: 16" in table.loc[0, "arch_yaml"]
    pareto = pd.read_csv(run_dir / rf.PARETO_CSV)
    assert list(pareto["number"]) == [0, 1, 2, 7]
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_report_json_is_the_documented_shape(nas, run_dir):
    result = nas("report", run_dir, "--json", "--no-plots")
    assert result.code == 0, result.err
    document = json.loads(result.out)  # stdout holds the one document and nothing else
    assert set(document) == {"pareto", "hypervolume", "reference_point", "counts", "retried"}
    assert [m["trial"] for m in document["pareto"]] == [0, 1, 2, 7]
    first = document["pareto"][0]
    assert first["accuracy"] == 0.8 and first["flops"] == 1e6 and first["params"] == 1e4
    assert document["reference_point"] == {"accuracy": 0.0, "flops": 1e7}
    assert document["counts"]["failed"] == 1 and document["counts"]["complete"] == 5
    assert document["hypervolume"] == pytest.approx(0.8 * 2e6 + 0.9 * 5e6 + 0.95 * 2e6)


def test_report_table_is_sorted_by_flops_and_plots_are_written(nas, run_dir):
    result = nas("report", run_dir)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].split()[:4] == ["trial", "accuracy", "flops", "params"]
    assert [line.split()[0] for line in lines[2:6]] == ["#0", "#1", "#2", "#7"]
    assert "80.00%" in lines[2] and "1M" in lines[2] and "resnet x1 @32" in lines[2]
    assert "hypervolume" in result.out and "1 failed" in result.out
    for name in ("pareto.png", "hypervolume.png"):
        assert (run_dir / rf.PLOTS_DIR / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (run_dir / rf.REPORT_HTML).read_text()  # replaces Optuna's plots/pareto.html
    assert not (run_dir / rf.PLOTS_DIR / "pareto.html").exists()
    front = json.loads(re.search(r'Plotly\.newPlot\("figure0",(.*?),\{"title"', page).group(1))
    assert front[-1]["name"] == "Pareto front (4)"
    assert front[-1]["x"] == [1e6, 3e6, 3e6, 8e6]  # FLOPs across, by FLOPs, like the PNG
    assert '"xaxis":{"title":{"text":"FLOPs' in page and '"type":"log"' in page


def test_report_over_three_objectives(nas, tmp_path):
    objectives = [*OBJECTIVES, {"name": "latency_ms", "direction": "minimize"}]
    trials = [
        (rf.COMPLETE, _m(0.9, 2e6, latency_ms=5.0)),
        (rf.COMPLETE, _m(0.9, 2e6, latency_ms=1.0)),  # beats trial 0 on latency
        (rf.COMPLETE, _m(0.8, 3e6, latency_ms=0.5)),
    ]  # worse twice, best latency
    make_run(tmp_path / "run", trials, objectives, reference=[0.0, 1e7, 10.0])
    result = nas("report", tmp_path / "run", "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert [m["trial"] for m in document["pareto"]] == [1, 2]
    assert document["reference_point"] == {"accuracy": 0.0, "flops": 1e7, "latency_ms": 10.0}
    # boxes 0.9 x 8e6 x 9 and 0.8 x 7e6 x 9.5, overlapping in 0.8 x 7e6 x 9
    expected = 0.9 * 8e6 * 9 + 0.8 * 7e6 * 9.5 - 0.8 * 7e6 * 9
    assert document["hypervolume"] == pytest.approx(expected)
    assert (tmp_path / "run" / rf.PLOTS_DIR / "pareto.png").exists()


@pytest.mark.parametrize("trials", [[], [(rf.FAILED, {})]])
def test_a_run_with_no_complete_trial_reports_an_empty_front(nas, tmp_path, trials):
    make_run(tmp_path / "run", trials)
    result = nas("report", tmp_path / "run", "--json")
    assert result.code == 0, result.err
    document = result.json()
    assert document["pareto"] == [] and document["hypervolume"] == 0.0
    assert document["counts"]["failed"] == len(trials)
    result = nas("export", tmp_path / "run")
    assert result.code == 2 and "no complete trial to export" in result.err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "no such run folder"),
        (lambda d: d.mkdir(), "not a run folder"),
        (lambda d: (d.mkdir(), (d / "notes.txt").write_text("hi")), "not a run folder"),
        (
            lambda d: (d.mkdir(), (d / rf.STUDY_FILE).write_text("not a database")),
            "is not an SQLite database",
        ),
        (lambda d: (d.mkdir(), (d / rf.RUN_FILE).write_text("{")), "unreadable run file"),
    ],
)
def test_bad_run_folders_exit_2_with_one_line(nas, tmp_path, setup, message):
    folder = tmp_path / "run"
    setup(folder)
    for command in ("report", "export"):
        result = nas(command, folder)
        assert result.code == 2
        assert len(result.err.strip().splitlines()) == 1, result.err
        assert message in result.err and "Traceback" not in result.err


def test_a_run_in_progress_is_refused_until_its_process_ends(nas, tmp_path):
    make_run(tmp_path / "run", TRIALS[:2], status=rf.RUNNING)
    search = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        info = json.loads((tmp_path / "run" / rf.RUN_FILE).read_text())
        info[rf.RUN_PID] = search.pid
        (tmp_path / "run" / rf.RUN_FILE).write_text(json.dumps(info))
        result = nas("report", tmp_path / "run", "--no-plots")
        assert result.code == 2
        assert "still in progress" in result.err and str(search.pid) in result.err
        assert len(result.err.strip().splitlines()) == 1
    finally:
        search.kill()
        search.wait()
    result = nas("report", tmp_path / "run", "--no-plots")  # the pid is gone: interrupted
    assert result.code == 0, result.err


def test_an_infeasible_trial_told_complete_is_off_the_front_without_placeholders(tmp_path):
    study = make_run(tmp_path / "run", TRIALS[:2])
    # The search tells Optuna the worst accuracy (0) for a trial it never trained.
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE,
            values=[0.0, 5e5],
            user_attrs={
                rf.ATTR_STATE: rf.INFEASIBLE,
                rf.ATTR_METRICS: {"flops": 5e5},
                rf.ATTR_ERROR: "infeasible: params above 1e3",
            },
        )
    )
    results = update_run_folder(tmp_path / "run", study)
    assert list(results.front["number"]) == [0, 1]
    row = results.table.iloc[2]
    assert row["state"] == rf.INFEASIBLE and row["flops"] == 5e5 and pd.isna(row["accuracy"])
    assert (tmp_path / "run" / rf.REPORT_HTML).is_file()


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_the_sqlite_reader_sees_exactly_what_optuna_sees(tmp_path):
    study = make_run(tmp_path / "run", TRIALS)
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE,
            values=[0.5, float("inf")],
            user_attrs={rf.ATTR_METRICS: {"nested": {"a": 1}}},
            system_attrs={"constraints": [1.0]},
        )
    )
    study.ask()  # running
    study.set_metric_names(["accuracy", "flops"])
    run = open_run(tmp_path / "run")
    fast, slow = run.read_study(), run.load_study()
    assert type(fast).__name__ == "StudyRecord"  # the schema is one the reader knows
    assert fast.metric_names == slow.metric_names and fast.user_attrs == slow.user_attrs
    for ours, optunas in zip(fast.get_trials(), slow.get_trials(), strict=True):
        assert (
            ours.number,
            ours.state.name,
            ours.values,
            ours.user_attrs,
            ours.system_attrs,
            ours.datetime_start,
            ours.datetime_complete,
            ours.duration,
        ) == (
            optunas.number,
            optunas.state.name,
            optunas.values,
            optunas.user_attrs,
            optunas.system_attrs,
            optunas.datetime_start,
            optunas.datetime_complete,
            optunas.duration,
        )
    pd.testing.assert_frame_equal(analyse_study(fast).table, analyse_study(slow).table)


def test_trial_state_maps_optuna_states_and_constraints(tmp_path):
    study = make_run(tmp_path / "run", TRIALS[:1])
    study.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.COMPLETE, values=[0.5, 1.0])
    )
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE,
            values=[0.5, 1.0],
            user_attrs={rf.ATTR_CONSTRAINTS: [0.0, 3.0]},
        )
    )
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED))
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL, user_attrs={rf.ATTR_STATE: rf.INFEASIBLE}
        )
    )
    running = study.ask()
    # A trial abandoned by a stopped search, and its re-run waiting in the queue.
    interrupted = {rf.ATTR_STATE: rf.FAILED, rf.ATTR_INTERRUPTED: True}
    study.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs=interrupted)
    )
    study.enqueue_trial({}, user_attrs={rf.ATTR_RETRY_OF: 6})
    states = [trial_state(t) for t in study.get_trials()]
    assert states == [
        rf.COMPLETE,
        rf.COMPLETE,
        rf.INFEASIBLE,
        rf.STOPPED_EARLY,
        rf.INFEASIBLE,
        rf.RUNNING_TRIAL,
        rf.INTERRUPTED_TRIAL,
        rf.QUEUED_TRIAL,
    ]
    assert running.number == 5


def test_prune_keeps_weights_of_the_front_and_of_running_trials(tmp_path):
    study = make_run(tmp_path / "run", TRIALS)
    study.ask()  # trial 8, still running
    for number in range(9):
        path = tmp_path / "run" / rf.TRIALS_DIR / str(number) / rf.WEIGHTS_FILE
        path.parent.mkdir(parents=True)
        path.write_bytes(b"weights")
    removed = prune_weights(tmp_path / "run", study)
    assert sorted(int(p.parent.name) for p in removed) == [3, 4, 5, 6]
    kept = sorted(int(p.parent.name) for p in (tmp_path / "run").glob("trials/*/*.safetensors"))
    assert kept == [0, 1, 2, 7, 8]
    assert prune_weights(tmp_path / "run", study, keep_ranks=2) == []


def test_an_open_reference_point_is_fixed_once_from_the_first_trials(tmp_path):
    study = make_run(tmp_path / "run", TRIALS[:2], reference=[0.0, None])
    first = update_run_folder(tmp_path / "run", study, plots=False)
    assert first.reference_point == pytest.approx([0.0, 3e6 + 0.1 * 2e6])
    assert study.user_attrs[rf.STUDY_REFERENCE_POINT] == first.reference_point
    study.add_trial(_frozen(2, rf.COMPLETE, _m(0.99, 9e6), OBJECTIVES))
    later = update_run_folder(tmp_path / "run", study, plots=False)
    assert later.reference_point == first.reference_point  # fixed for the run


def test_snapshot_copies_only_small_text_and_pictures(tmp_path, run_dir):
    (run_dir / rf.CONFIG_FILE).write_text("name: test\n")
    weights = run_dir / rf.TRIALS_DIR / "1" / rf.WEIGHTS_FILE
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"x")
    (weights.parent / rf.ARCH_FILE).write_text("name: t1\n")
    copied = write_snapshot(run_dir, tmp_path / "reference")
    names = {p.relative_to(tmp_path / "reference").as_posix() for p in copied}
    assert {
        "report.json",
        "config.yaml",
        "run.json",
        "trials.csv",
        "pareto.csv",
        "plots/pareto.png",
        "plots/hypervolume.png",
        "trials/1/arch.yaml",
    } <= names
    assert all(Path(n).suffix in (".json", ".yaml", ".csv", ".png") for n in names)
    report = json.loads((tmp_path / "reference" / "report.json").read_text())
    assert report == report_document(analyse_study(open_run(run_dir).load_study()))


def test_open_run_checks_are_usable_without_the_cli(tmp_path):
    with pytest.raises(SpaceError, match="no such run folder"):
        open_run(tmp_path / "missing")
