"""One search per run folder: the second is refused at once naming the holder, touching
nothing, and the lock of a killed search is taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nas.runs import format as rf
from nas.runs.lock import LOCK_FILE, read_holder, run_lock
from search_space import SpaceError
from tests.nas.engine.test_search import SPACE

HOLD = (
    "import sys, time; from pathlib import Path; from nas.runs.lock import run_lock\n"
    "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(600)\n"
)


def _holder_process(run: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_a_held_folder_is_refused_naming_the_holder_and_left_untouched(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / rf.RUN_FILE).write_text("{}")
    holder = _holder_process(run)
    try:
        before = _snapshot(run)
        with pytest.raises(SpaceError) as error, run_lock(run):
            pass
        assert f"pid {holder.pid} on {socket.gethostname()}, since " in str(error.value)
        assert _snapshot(run) == before
        assert read_holder(run)["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
    # The killed holder's lock is released by the kernel: the next search takes it over.
    assert read_holder(run) is None
    with run_lock(run):
        assert json.loads((run / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_a_refused_new_search_leaves_no_empty_folder(tmp_path):
    run = tmp_path / "new"
    with pytest.raises(RuntimeError), run_lock(run):
        raise RuntimeError("a check failed before anything was written")
    assert not run.exists()


@pytest.mark.slow
def test_two_concurrent_resumes_decide_exactly_the_target(nas, write_space, tmp_path):
    space, run = write_space(SPACE), tmp_path / "r"
    first = nas("search", space, "--trials", "2", "--no-plots", "--output", run, "--json")
    assert first.code == 0, first.err
    command = [sys.executable, "-m", "nas", "search", "--resume", "--output", str(run)]
    command += ["--trials", "4", "--no-plots", "--json"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=600), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert "another search is using this run folder" in refused and "pid " in refused
    assert len(refused.strip().splitlines()) == 1
    outcome = json.loads(next(out for code, out, _ in results if code == 0))
    assert outcome["finished"] and outcome["decided"] == 4


@pytest.mark.slow
def test_a_renamed_run_folder_resumes_its_own_study(nas, write_space, tmp_path):
    space, run = write_space(SPACE), tmp_path / "first-name"
    first = nas("search", space, "--trials", "2", "--no-plots", "--output", run, "--json")
    assert first.code == 0, first.err
    moved = run.rename(tmp_path / "second-name")
    result = nas("search", "--resume", "--output", moved, "--trials", "3", "--no-plots", "--json")
    assert result.code == 0, result.err
    outcome = result.json()
    assert outcome["finished"] and outcome["decided"] == 3
    assert json.loads((moved / rf.RUN_FILE).read_text())[rf.RUN_STUDY_NAME] == "first-name"


@pytest.mark.parametrize("resume", [False, True])
def test_the_lock_is_checked_before_anything_else(nas, write_space, tmp_path, resume):
    """A folder another search holds is refused naming that search, even where the folder
    alone would give another answer (a start that has not yet written config.yaml looks
    like one that stopped early), and before the flags are checked (--trials 0)."""
    run = tmp_path / "run"
    run.mkdir()
    holder = _holder_process(run)
    try:
        args = ["--resume"] if resume else [write_space(SPACE)]
        result = nas("search", *args, "--output", run, "--trials", 0)
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert (
        len(lines) == 1 and f"another search is using this run folder (pid {holder.pid}" in lines[0]
    )
    assert sorted(p.name for p in run.iterdir()) == [LOCK_FILE]


def test_a_holder_that_has_not_written_its_name_yet_is_given_a_moment(tmp_path):
    """The refused search reads the name the new holder writes a moment after its flock,
    not the empty file or the name of an earlier holder that has since died."""
    import fcntl
    import threading

    run = tmp_path / "r"
    run.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    earlier = {"pid": int(dead.stdout), "host": socket.gethostname(), "since": "earlier"}
    (run / LOCK_FILE).write_text(json.dumps(earlier))
    handle = os.open(run / LOCK_FILE, os.O_RDWR)
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    now = {"pid": os.getpid(), "host": socket.gethostname(), "since": "now"}
    text = json.dumps(now).encode()
    writer = threading.Timer(
        0.4, lambda: (os.pwrite(handle, text, 0), os.ftruncate(handle, len(text)))
    )
    writer.start()
    try:
        with pytest.raises(SpaceError) as refused, run_lock(run):
            pass
    finally:
        writer.join()
        os.close(handle)
    assert f"pid {os.getpid()} on {socket.gethostname()}, since now" in str(refused.value)
