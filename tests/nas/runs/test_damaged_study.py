"""Every reader of a run (report, analyze, compare, export, verify, `nas.open_run`) on a
`study.db` garbled at many offsets: one line naming the file and exit 2, or a normal
answer when the garbage fell where SQLite keeps nothing; never a traceback, and nothing
written by a reader that refused.

The fast test garbles a study written by Optuna itself; the slow one a study written by
a real `nas search` (Ray, training), at more than 50 offsets: the header, the start and
middle of every page, and truncations.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import nas as nas_api
from nas.runs import format as rf
from search_space import SpaceError
from tests.nas.runs.test_report import OBJECTIVES, TRIALS, _frozen, make_run

PAGE = 4096  # SQLite's default page size, which Optuna's databases use
HEADER_OFFSETS = (0, 16, 18, 24, 28, 40, 44, 56, 60, 92, 96)


def garble(data: bytes, offset: int, length: int = 64) -> bytes:
    """`length` bytes at `offset` replaced by seeded random ones (never the same bytes)."""
    rng = random.Random(offset)
    noise = bytes(rng.randrange(256) for _ in range(length))
    damaged = bytearray(data)
    damaged[offset : offset + length] = noise[: len(damaged[offset : offset + length])]
    assert bytes(damaged) != data
    return bytes(damaged)


def copy_with(source: Path, target: Path, study_bytes: bytes) -> Path:
    shutil.copytree(source, target)
    (target / rf.STUDY_FILE).write_bytes(study_bytes)
    return target


def files_of(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def readers(intact: Path, scratch: Path, member: int) -> dict[str, Callable[[Path], list[object]]]:
    """Each reader's command line on a run folder (export and verify pick `member`, whose
    weights and verify.csv row the fixture prepared, so nothing trains)."""
    return {
        "report": lambda run: ["report", run, "--json", "--no-plots"],
        "analyze": lambda run: ["analyze", run, "--json", "--no-report", "--no-importance"],
        "compare": lambda run: ["compare", run, intact, "--json", "--output", scratch / run.name],
        "export": lambda run: [
            "export",
            run,
            "--pick",
            member,
            "--format",
            "safetensors",
            "--no-check-accuracy",
            "--json",
        ],
        "verify": lambda run: [
            "verify",
            run,
            "--seeds",
            1,
            "--epochs",
            1,
            "--pick",
            member,
            "--json",
        ],
    }


def check_every_reader(nas, run: Path, intact: Path, scratch: Path, member: int = 1) -> bool:
    """Runs every reader on `run`; True when the damage was detected (all refused)."""
    refused = []
    for name, args in readers(intact, scratch, member).items():
        before = files_of(run)
        result = nas(*args(run))
        assert result.code in (0, 2), (name, run.name, result.code, result.err[-2000:])
        assert "Traceback" not in result.err, (name, run.name, result.err[-2000:])
        if result.code == 2:
            lines = result.err.strip().splitlines()
            assert len(lines) == 1, (name, run.name, result.err)
            assert str(run / rf.STUDY_FILE) in lines[0], (name, lines[0])
            assert files_of(run) == before, (name, run.name)  # nothing written
        refused.append(result.code == 2)
    try:
        nas_api.open_run(run)
        api_refused = False
    except SpaceError as error:
        assert str(run / rf.STUDY_FILE) in str(error)
        api_refused = True
    # One guarded open: every reader sees the same damage, or none does.
    assert len(set([*refused, api_refused])) == 1, (run.name, refused, api_refused)
    return api_refused


ARCH = {
    "name": "t",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": 8, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 8, "stride": 2, "kernel": 3}],
    "head": {"pool": "avg"},
}


@pytest.fixture(scope="module")
def optuna_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A study written by Optuna (tests/nas/runs/test_report.py's trials, each with a
    real architecture), trial 1's weights, and one verify.csv row of trial 1, so that
    export and verify answer from files on an undamaged copy."""
    import optuna
    import torch
    import yaml

    from nas.runs.load import save_weights
    from search_space import build_model, load_architecture

    run = tmp_path_factory.mktemp("damaged") / "run"
    make_run(run, [])
    study = optuna.load_study(study_name="test", storage=f"sqlite:///{run / rf.STUDY_FILE}")
    for number, (state, metrics) in enumerate(TRIALS):
        trial = _frozen(number, state, metrics, OBJECTIVES)
        trial.set_user_attr(rf.ATTR_ARCH, {**ARCH, "name": f"t{number}"})
        study.add_trial(trial)
    torch.manual_seed(0)
    weights = run / rf.TRIALS_DIR / "1" / rf.WEIGHTS_FILE
    weights.parent.mkdir(parents=True)
    save_weights(build_model(load_architecture(ARCH)), weights)
    (weights.parent / rf.ARCH_FILE).write_text(yaml.safe_dump({**ARCH, "name": "t1"}))
    (run / rf.VERIFY_CSV).write_text(
        "trial,seed,epochs,accuracy,loss,flops,params,seconds\n1,1,1,0.9,0.3,3e6,3e4,1.0\n"
    )
    return run


@pytest.mark.parametrize(
    "damage",
    ["header-0", "header-28", "header-96", "page-1", "page-2", "cut-0", "cut-100", "cut-half"],
)
def test_a_damaged_study_is_one_line_naming_it_for_every_reader(nas, optuna_run, tmp_path, damage):
    data = (optuna_run / rf.STUDY_FILE).read_bytes()
    kind, where = damage.split("-")
    if kind == "cut":
        damaged = data[: {"0": 0, "100": 100, "half": len(data) // 2}[where]]
    else:
        damaged = garble(data, int(where) if kind == "header" else int(where) * PAGE)
    run = copy_with(optuna_run, tmp_path / damage, damaged)
    assert check_every_reader(nas, run, optuna_run, tmp_path / "compare")


def test_the_intact_study_is_read_by_every_reader(nas, optuna_run, tmp_path):
    run = copy_with(optuna_run, tmp_path / "intact", (optuna_run / rf.STUDY_FILE).read_bytes())
    assert not check_every_reader(nas, run, optuna_run, tmp_path / "compare")


def test_a_foreign_sqlite_file_or_a_folder_is_refused_in_one_line(nas, optuna_run, tmp_path):
    import sqlite3

    run = copy_with(optuna_run, tmp_path / "foreign", b"")
    (run / rf.STUDY_FILE).unlink()
    with sqlite3.connect(run / rf.STUDY_FILE) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    result = nas("report", run, "--no-plots")
    assert result.code == 2 and "not an Optuna study database" in result.err
    assert len(result.err.strip().splitlines()) == 1
    (run / rf.STUDY_FILE).unlink()
    (run / rf.STUDY_FILE).mkdir()
    result = nas("analyze", run, "--no-report")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err


# --- a real search's study, garbled at more than 50 places ----------------------------


@pytest.fixture(scope="module")
def searched_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A real `nas search` (4 one-epoch trials) and one `nas verify` seed of a front
    member; returns the run and that member."""
    import pandas as pd
    import yaml

    from tests.nas.engine.test_search import SPACE

    folder = tmp_path_factory.mktemp("searched")
    space = folder / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    run = folder / "run"
    command = [sys.executable, "-m", "nas"]
    _run([*command, "search", str(space), "--trials", "4", "--no-plots", "--output", str(run)])
    member = int(pd.read_csv(run / rf.PARETO_CSV)["number"].iloc[0])
    _run([*command, "verify", str(run), "--seeds", "1", "--pick", str(member)])
    return run, member


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_more_than_50_garbled_copies_of_a_searched_study_never_traceback(
    nas, searched_run, tmp_path
):
    intact, member = searched_run
    data = (intact / rf.STUDY_FILE).read_bytes()
    copies = {f"header-{o}": garble(data, o) for o in HEADER_OFFSETS}
    for page in range(len(data) // PAGE):  # each page's start (header, cells) and middle
        copies[f"page-{page}-start"] = garble(data, page * PAGE + (100 if page == 0 else 0))
        copies[f"page-{page}-middle"] = garble(data, page * PAGE + PAGE // 2)
    copies["end"] = garble(data, len(data) - 64)
    cuts = (0, 10, 100, PAGE, len(data) // 3, len(data) // 2, len(data) - PAGE, len(data) - 1)
    copies.update({f"cut-{cut}": data[:cut] for cut in cuts})
    assert len(copies) >= 50
    detected = [
        name
        for name, damaged in copies.items()
        if check_every_reader(
            nas, copy_with(intact, tmp_path / name, damaged), intact, tmp_path / "cmp", member
        )
    ]
    # Every truncation is caught, and so is damage to the header's fields SQLite checks
    # (offsets 0, 16, 18); garbage in a page's unused space is invisible and harmless.
    assert {f"cut-{cut}" for cut in cuts} | {"header-0", "header-16", "header-18"} <= set(detected)
