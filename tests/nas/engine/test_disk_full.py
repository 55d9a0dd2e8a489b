"""A disk that fills up mid-search: the search stops at the first write that fails, in
one line with the resume command and exit 2; no trial is recorded complete without its
weights; run.json says `interrupted`; after space is freed, the resume loses nothing.

The run folder lives on a real, small tmpfs (mounting needs root; skipped otherwise),
filled by the test once the first trial is recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml

from nas.runs import format as rf
from tests.nas.engine.test_search import SPACE

TRIALS = 4


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    """Writes zeros until the disk is full; returns the filler file."""
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as handle:
        while True:
            handle.write(b"\0" * (1 << 20))
            handle.flush()
            os.fsync(handle.fileno())
    with contextlib.suppress(OSError), filler.open("ab") as handle:  # the last few bytes
        while True:
            handle.write(b"\0" * 512)
            handle.flush()
    return filler


def _search(space: Path, run: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "nas", "search", str(space), "--trials", str(TRIALS)]
    command += ["--output", str(run), "--no-plots", "--max-concurrent", "1", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _complete(run: Path) -> list[optuna.trial.FrozenTrial]:
    info = json.loads((run / rf.RUN_FILE).read_text())
    study = optuna.load_study(
        study_name=info[rf.RUN_STUDY_NAME], storage=f"sqlite:///{run / rf.STUDY_FILE}"
    )
    return [t for t in study.trials if t.user_attrs.get(rf.ATTR_STATE) == rf.COMPLETE]


@pytest.mark.slow
def test_a_full_disk_stops_the_search_in_one_line_and_the_resume_loses_nothing(
    small_disk, tmp_path
):
    space, run = tmp_path / "space.yaml", small_disk / "run"
    space.write_text(yaml.safe_dump({**SPACE, "train": {"epochs": 2, "batch_size": 64}}))
    search = _search(space, run)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and search.poll() is None:
        table = run / rf.TRIALS_CSV
        if table.is_file() and (pd.read_csv(table)["state"] == rf.COMPLETE).any():
            break
        time.sleep(0.2)
    filler = _fill(small_disk)
    _out, err = search.communicate(timeout=300)
    assert search.returncode == 2, err[-3000:]
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("nas search: error: ") and "could not be written" in last, err
    assert f"nas search --resume --output {run}" in last
    assert json.loads((run / rf.RUN_FILE).read_text())[rf.RUN_STATUS] == rf.INTERRUPTED
    before = _complete(run)
    assert 1 <= len(before) < TRIALS
    for trial in before:  # every trained trial recorded complete had its weights written
        assert trial.user_attrs.get(rf.ATTR_WEIGHTS_SHA256), trial.number
        assert (run / rf.TRIALS_DIR / str(trial.number) / rf.METRICS_FILE).is_file()

    filler.unlink()
    resumed = subprocess.run(
        [sys.executable, "-m", "nas", "search", "--resume", "--output", str(run), "--no-plots"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    after = _complete(run)
    assert {t.number for t in before} <= {t.number for t in after}  # nothing lost
    table = pd.read_csv(run / rf.TRIALS_CSV)
    decided = table[table["state"].isin(rf.TERMINAL_STATES)]
    assert len(decided) == TRIALS
    for number in pd.read_csv(run / rf.PARETO_CSV)["number"]:
        assert (run / rf.TRIALS_DIR / str(number) / rf.WEIGHTS_FILE).is_file()
