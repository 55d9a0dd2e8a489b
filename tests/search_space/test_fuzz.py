"""A seeded mutation fuzz of every bundled space and zoo file through the command line.

Each mutant goes through what `nas validate`, `nas sample` and `nas info` do, in a
worker process with a per-mutant time limit. A mutant may be valid (exit 0) or refused
(exit 2, one line per problem); a traceback, any other exit code, a line that is not
our error format, or a hang fails the test.
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest
import yaml

from search_space.loader import BUNDLED_DIRS, read_yaml
from tests.search_space.fuzz_mutants import mutate

SEED = 20240611
# Spaces are cheap to sample; zoo models take seconds to build, so each gets fewer.
MUTANTS = {"demo": 200, "cifar": 150}
SPACE_MUTANTS = 100  # any other bundled space
ZOO_FILES = sorted(BUNDLED_DIRS["zoo"].glob("*.yaml"))
ZOO_MUTANTS = max(33, 650 // len(ZOO_FILES))  # 20 zoo files: 33 each, 1,010 mutants in all
HANG_SECONDS = 30  # any one command over this fails the test
FILES = sorted(BUNDLED_DIRS["space"].glob("*.yaml")) + ZOO_FILES


def _commands(path: Path, zoo: bool) -> list[list[str]]:
    """What a user runs on the file. For a zoo file `info` counts at a small resolution
    and `sample` at the file's own (the architecture itself, FLOPs and all)."""
    commands = [["validate", str(path)]]
    if zoo:
        commands.append(["info", str(path), "--resolution", "64"])
    commands.append(["sample", str(path), "--seed", "1"])
    return commands


def _run_one(argv: list[str]) -> tuple[int | str, str]:
    """Runs `nas ARGV` in this (worker) process: (exit code or 'traceback', stderr)."""
    import contextlib
    import io
    import signal
    import traceback

    from nas.cli import main

    def hang(signum, frame):
        raise TimeoutError(f"over {HANG_SECONDS} s")

    signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_SECONDS)
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(argv)
    except TimeoutError:
        return "hang", err.getvalue()
    except BaseException:
        return "traceback", traceback.format_exc()
    finally:
        signal.alarm(0)
    return code, err.getvalue()


def _worker(tasks: list[tuple[str, list[list[str]]]]) -> list[tuple[str, list]]:
    import torch

    torch.set_num_threads(1)  # two workers on a shared machine: no oversubscription
    built: set[str] = set()  # architectures `info` already built: a repeat teaches nothing
    results = []
    for label, commands in tasks:
        runs = []
        repeat = False  # a zoo mutant that builds an architecture built before
        for argv in commands:
            if argv[0] == "info" and runs[0][1] == 0:
                repeat = _seen(argv[1], built)
            if repeat and argv[0] in ("info", "sample"):
                continue
            runs.append((argv[0], *_run_one(argv)))
        results.append((label, runs))
    return results


def _seen(path: str, built: set[str]) -> bool:
    """True when the architecture in `path` was built before (deleting a key that holds
    its default, for example, gives the same model)."""
    from search_space.errors import SpaceError
    from search_space.loader import load_space
    from search_space.sampling import architecture_from_space

    try:
        key = architecture_from_space(load_space(path, validate=False)).to_yaml()
    except SpaceError:  # still a space (a list left in it): `info` must refuse it cleanly
        return False
    found = key in built
    built.add(key)
    return found


def _mutants(tmp_path: Path) -> list[tuple[str, list[list[str]]]]:
    tasks = []
    for file in FILES:
        rng = random.Random(f"{SEED}-{file.stem}")
        document = read_yaml(file)
        zoo = file.parent.name == "zoo"
        for i in range(ZOO_MUTANTS if zoo else MUTANTS.get(file.stem, SPACE_MUTANTS)):
            mutant, label = mutate(document, rng)
            path = tmp_path / f"{file.stem}-{i}.yaml"
            path.write_text(yaml.safe_dump(mutant, sort_keys=False))
            tasks.append((f"{file.name} #{i}: {label}", _commands(path, zoo)))
    return tasks


def _failures(results: list[tuple[str, list]]) -> list[str]:
    failures = []
    for label, runs in results:
        for command, code, err in runs:
            lines = err.strip().splitlines()
            prefix = f"nas {command}: error: "
            well_formed = all(line.startswith(prefix) for line in lines)
            if code not in (0, 2) or (code == 2 and not (lines and well_formed)):
                failures.append(f"{label}: nas {command} gave {code}: {err.strip()[-600:]}")
    return failures


@pytest.mark.slow
def test_no_mutant_of_a_bundled_file_crashes_or_hangs(tmp_path):
    tasks = _mutants(tmp_path)
    assert len(tasks) >= 1000
    workers = 2
    chunks = [tasks[i::workers] for i in range(workers)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pending = pool.map_async(_worker, chunks)
        # A worker stuck in C code ignores the alarm: the pool's own limit catches it.
        results = [r for chunk in pending.get(timeout=HANG_SECONDS * len(tasks)) for r in chunk]
    outcomes = [code for _, runs in results for _, code, _ in runs]
    failures = _failures(results)
    assert not failures, f"{len(failures)} of {len(tasks)} mutants failed:\n" + "\n".join(
        failures[:20]
    )
    # The fuzz must exercise both sides: refused mutants and valid ones that were built.
    assert outcomes.count(2) > 100 and outcomes.count(0) > 100
