"""What a search tells about itself: counts that separate interrupted, re-queued, retried
and failed trials; exit codes; one set of numbers (front, hypervolume) for the live view,
the summary and `nas report`; a lost cluster ending the search with a resume hint.

Real searches (Optuna, Ray Tune, training on a slice of mnist5k); failures injected with
the test-only hooks of the trial code (NAS_TEST_FAIL_TRIALS, NAS_TEST_KILL_TRIALS).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from nas.runs import format as rf
from tests.ctrl_c import popen_for_ctrl_c
from tests.nas.engine.ray_head import RayHead
from tests.nas.engine.test_search import SPACE, _study

TERMINAL = (rf.COMPLETE, rf.FAILED, rf.INFEASIBLE, rf.STOPPED_EARLY)


def _command(space: Path, run: Path, *flags: object) -> list[str]:
    return [sys.executable, "-m", "nas", "search", str(space), "--output", str(run)] + [
        str(f) for f in flags
    ]


def _env(**extra: str) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[3])
    path = root + os.pathsep + os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": path, **extra}


def _wait_for_a_finished_trial(process: subprocess.Popen, run: Path, timeout_s: float = 300):
    deadline = time.monotonic() + timeout_s
    while not list(run.glob(f"{rf.TRIALS_DIR}/*/{rf.METRICS_FILE}")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no trial finished in time"
        time.sleep(0.2)


def _hypervolume_2d(points: list[tuple[float, float]], reference: tuple[float, float]) -> float:
    """Accuracy (max) x FLOPs (min), by sweeping the front in FLOPs order: an independent
    check of the library's hypervolume."""
    volume, best = 0.0, reference[0]
    for flops, accuracy in sorted((f, a) for a, f in points):
        if accuracy > best and flops < reference[1]:
            volume += (accuracy - best) * (reference[1] - flops)
            best = accuracy
    return volume


@pytest.mark.slow
def test_live_view_summary_and_report_give_the_same_numbers(nas, write_space, tmp_path) -> None:
    """Two trials at once: both finish close together, which is when the live view used to
    skip its last refresh and print an older front than the summary."""
    space, run = write_space(SPACE), tmp_path / "run"
    process = subprocess.run(
        _command(space, run, "--trials", 3, "--max-concurrent", 2, "--seed", 1, "--no-plots"),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert process.returncode == 0, process.stderr
    status = [line for line in process.stderr.splitlines() if line.lstrip().startswith("[")][-1]
    live_front = int(re.search(r"front (\d+)", status).group(1))
    live_hv = re.search(r"HV (\S+)", status).group(1)
    summary_hv = float(re.search(r"^hypervolume: (\S+)", process.stdout, re.M).group(1))
    summary_front = int(re.search(r"^Pareto front \((\d+)\)", process.stdout, re.M).group(1))

    report = nas("report", run, "--json", "--no-plots").json()
    assert live_front == summary_front == len(report["pareto"])
    assert live_hv == f"{report['hypervolume']:.4g}"
    assert f"{summary_hv:.6g}" == f"{report['hypervolume']:.6g}"

    table = pd.read_csv(run / rf.TRIALS_CSV)
    complete = table[table["state"] == rf.COMPLETE]
    reference = report["reference_point"]
    expected = _hypervolume_2d(
        list(zip(complete["accuracy"], complete["flops"])),
        (reference["accuracy"], reference["flops"]),
    )
    assert report["hypervolume"] == pytest.approx(expected, rel=1e-9)
    assert sorted(row["trial"] for row in report["pareto"]) == sorted(
        table[table["pareto"]]["number"]
    )


@pytest.mark.slow
def test_a_search_where_no_trial_completes_exits_1(write_space, tmp_path):
    space, run = write_space(SPACE), tmp_path / "run"
    process = subprocess.run(
        _command(space, run, "--trials", 2, "--max-concurrent", 1, "--max-retries", 1),
        capture_output=True,
        text=True,
        env=_env(NAS_TEST_FAIL_TRIALS="0,1"),
        timeout=600,
    )
    assert process.returncode == 1, process.stderr
    last = process.stderr.strip().splitlines()[-1]
    assert "no trial completed" in last and "2 failed" in last, process.stderr
    assert re.search(r"^trials: 2/2 \(2 failed\) in ", process.stdout, re.M), process.stdout
    table = pd.read_csv(run / rf.TRIALS_CSV)
    assert list(table["state"]) == [rf.FAILED, rf.FAILED]
    assert list(table["attempts"]) == [1, 1]
    assert "Traceback" not in process.stderr and " ERROR " not in process.stderr


@pytest.mark.slow
def test_after_ctrl_c_nothing_shows_as_running(nas, write_space, tmp_path) -> None:
    space, run = write_space({**SPACE, "data": {"name": "mnist5k", "limit": 1500}}), tmp_path / "r"
    flags = ("--trials", 4, "--epochs", 3, "--max-concurrent", 2, "--no-plots")
    process = popen_for_ctrl_c(
        _command(space, run, *flags),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        _wait_for_a_finished_trial(process, run)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    study = _study(run)
    states = [t.user_attrs.get(rf.ATTR_STATE) for t in study.trials]
    interrupted = sum(bool(t.user_attrs.get(rf.ATTR_INTERRUPTED)) for t in study.trials)
    queued = sum(t.state.name == "WAITING" for t in study.trials)
    decided = sum(s in TERMINAL for s in states) - interrupted
    assert interrupted >= 1 and queued == interrupted

    table = pd.read_csv(run / rf.TRIALS_CSV)
    counts = table["state"].value_counts().to_dict()
    assert counts.get(rf.RUNNING_TRIAL, 0) == 0
    assert counts.get(rf.INTERRUPTED_TRIAL) == interrupted
    assert counts.get(rf.QUEUED_TRIAL) == queued
    requeued = table[table["state"] == rf.QUEUED_TRIAL]
    assert set(requeued["retry_of"]) == set(table[table["state"] == rf.INTERRUPTED_TRIAL]["number"])

    assert f"trials: {decided}/4 (" in out and f"{interrupted} interrupted" in out, out
    assert "running" not in out
    status = [line for line in err.splitlines() if line.lstrip().startswith("[")][-1]
    assert "0 running" in status or "running" not in status, status
    assert err.strip().splitlines()[-1].endswith(f"nas search --resume --output {run}")

    report = nas("report", run, "--json", "--no-plots").json()
    assert report["counts"][rf.INTERRUPTED_TRIAL] == interrupted
    assert report["counts"][rf.QUEUED_TRIAL] == queued
    assert report["counts"].get(rf.RUNNING_TRIAL, 0) == 0


@pytest.mark.slow
def test_a_lost_cluster_stops_the_search_with_a_resume_hint(nas, write_space, tmp_path) -> None:
    space, run = write_space({**SPACE, "data": {"name": "mnist5k", "limit": 1500}}), tmp_path / "r"
    head = RayHead()
    try:
        head.wait_up()
        flags = ("--trials", 3, "--epochs", 3, "--max-concurrent", 1, "--no-plots")
        process = subprocess.Popen(
            _command(space, run, *flags, "--address", head.address),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        try:
            _wait_for_a_finished_trial(process, run)
            head.kill()
            _, err = process.communicate(timeout=300)  # Ray alone would give up after 60 s
        finally:
            if process.poll() is None:
                process.kill()
    finally:
        head.close()
    assert process.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert f"--address {head.address}" in last and "stopped answering" in last, err
    assert f"nas search --resume --output {run} --address local" in last
    assert "Traceback" not in err and "rpc_client" not in err and "gcs_client" not in err
    assert json.loads((run / rf.RUN_FILE).read_text())[rf.RUN_STATUS] == rf.INTERRUPTED
    saved = {t.number: t.values for t in _study(run).trials if t.state.name == "COMPLETE"}
    assert saved  # the trial finished before the loss is in the study
    # the trial in flight is recorded as interrupted, in the study and in trials.csv
    assert not [t.number for t in _study(run).trials if t.state.name == "RUNNING"]
    assert rf.RUNNING_TRIAL not in set(pd.read_csv(run / rf.TRIALS_CSV)["state"])

    result = nas("search", "--resume", "--output", run, "--address", "local", "--json")
    assert result.code == 0, result.err
    assert result.json()["finished"] and result.json()["decided"] == 3
    after = {t.number: t.values for t in _study(run).trials}
    assert all(after[number] == values for number, values in saved.items())
