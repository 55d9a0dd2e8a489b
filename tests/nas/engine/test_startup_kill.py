"""No dead ends: a search stopped at any step of its start-up (kill -9, or Ctrl-C) leaves
a folder that `--resume`, or the command its message names, turns into a finished run
with exactly the requested trials, its seed architecture first.

The stop is made at named points of the start-up (nas/engine/fault_points.py), the
searches are real (Ray in the process, SQLite, one-epoch training on a slice of mnist5k).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from nas.engine.fault_points import POINTS, STOP_ENV
from nas.runs import format as rf
from search_space import load_architecture
from tests.nas.engine.test_search import BIG, SPACE

TRIALS = 2


def _nas(*args: object, stop_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != STOP_ENV}
    if stop_at:
        env[STOP_ENV] = stop_at
    return subprocess.run(
        [sys.executable, "-m", "nas", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _recover(space: Path, run: Path) -> subprocess.CompletedProcess:
    """What a user does next: --resume; when that is refused, the command it names."""
    resumed = _nas("search", "--resume", "--output", run, "--trials", TRIALS, "--no-plots")
    if resumed.returncode != 2:
        return resumed
    lines = resumed.stderr.strip().splitlines()
    assert len(lines) == 1, resumed.stderr
    named = re.search(r"nas search SPACE --output (\S+)", lines[0])
    assert named, f"a refused --resume names no command: {lines[0]}"
    return _nas(
        "search", space, "--output", named[1], "--trials", TRIALS, "--no-plots",
        "--seed-archs", space.with_name("big.yaml"),
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop_at", [f"{point}:kill" for point in POINTS] + ["config:interrupt", "study:interrupt"]
)
def test_a_search_stopped_during_start_up_resumes_to_exactly_its_trials(tmp_path, stop_at):
    space, run = tmp_path / "space.yaml", tmp_path / "run"
    space.write_text(yaml.safe_dump(SPACE))
    # The seed architecture fits no constraint here: infeasible, never trained, but trial 0.
    (tmp_path / "big.yaml").write_text(yaml.safe_dump(BIG))
    stopped = _nas(
        "search", space, "--output", run, "--trials", TRIALS, "--no-plots",
        "--seed-archs", tmp_path / "big.yaml", stop_at=stop_at,
    )  # fmt: skip
    if stop_at.endswith(":kill"):
        assert stopped.returncode == -signal.SIGKILL, stopped.stderr[-2000:]
    else:
        assert stopped.returncode == 130, stopped.stderr[-2000:]
        assert "Traceback" not in stopped.stderr
    if not run.exists():  # stopped before anything was written: a plain new search
        recovered = _nas(
            "search", space, "--output", run, "--trials", TRIALS, "--no-plots",
            "--seed-archs", tmp_path / "big.yaml",
        )  # fmt: skip
    else:
        recovered = _recover(space, run)
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    table = pd.read_csv(run / rf.TRIALS_CSV)
    assert list(table["number"]) == list(range(TRIALS))
    assert set(table["state"]) == {rf.COMPLETE}
    assert table.loc[0, "summary"] == load_architecture(BIG).summary()  # the seed, first
