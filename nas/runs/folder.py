"""A run folder on disk: open and check it, find its study, read its config.

`nas report` and `nas export` open a finished run with `open_run`; the search checks with
`is_in_progress` that no other search writes the folder. The format itself (file names,
attribute keys, states) is `nas/runs/format.py`; `results/README.md` documents every
file and column.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nas.runs import format as rf
from nas.runs.study_reader import read_sqlite_study
from search_space.errors import SpaceError

if TYPE_CHECKING:
    import optuna


@dataclass(frozen=True)
class RunFolder:
    path: Path
    info: dict[str, Any]  # run.json, {} when the folder has only a study.db
    storage: str  # Optuna storage URL
    study_name: str | None  # None: the storage's only study

    def load_study(self) -> optuna.Study:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        name = self.study_name
        try:
            if name is None:
                names = optuna.get_all_study_names(self.storage)
                if len(names) != 1:
                    raise SpaceError(
                        f"{self.path}: the storage holds {len(names)} studies "
                        f"({', '.join(names) or 'none'}); run.json must name one "
                        f"under {rf.RUN_STUDY_NAME!r}"
                    )
                name = names[0]
            return optuna.load_study(study_name=name, storage=self.storage)
        except KeyError:
            raise SpaceError(f"{self.path}: no study named {name!r} in {self.storage}") from None
        except SpaceError:
            raise
        except Exception as error:  # a broken database or an unreachable server
            raise SpaceError(
                f"{self.path}: cannot load the study from {self.storage}: {_one_line(error)}"
            ) from None

    def read_study(self) -> Any:
        """The study for reading only: straight from SQLite when the file has the schema
        this reader knows (several times faster than Optuna's ORM on 1,000 trials), else
        `load_study`. Offers what `analyse_study` uses: `study_name`, `directions`,
        `metric_names`, `user_attrs` and `get_trials()`."""
        if self.storage.startswith("sqlite:///"):
            record = read_sqlite_study(Path(self.storage[len("sqlite:///") :]), self.study_name)
            if record is not None:
                return record
        return self.load_study()

    def config(self, study: optuna.Study | None = None) -> dict[str, Any]:
        """The resolved experiment config: the study's copy, else config.yaml, else {}."""
        if study is not None and isinstance(study.user_attrs.get(rf.STUDY_CONFIG), dict):
            return study.user_attrs[rf.STUDY_CONFIG]
        path = self.path / rf.CONFIG_FILE
        if path.is_file():
            with open(path) as handle:
                return yaml.safe_load(handle) or {}
        return {}


def open_run(path: str | os.PathLike, *, allow_running: bool = False) -> RunFolder:
    """Checks that `path` is a run folder no live search is writing; SpaceError if not."""
    folder = Path(path)
    if not folder.exists():
        raise SpaceError(f"{folder}: no such run folder")
    if not folder.is_dir():
        raise SpaceError(f"{folder}: is a file, not a run folder")
    run_file, study_file = folder / rf.RUN_FILE, folder / rf.STUDY_FILE
    if not run_file.is_file() and not study_file.is_file():
        raise SpaceError(
            f"{folder}: not a run folder (no {rf.RUN_FILE} or {rf.STUDY_FILE}); "
            "a run folder is what `nas search --output DIR` writes"
        )
    info = read_run_json(run_file) if run_file.is_file() else {}
    if not allow_running and is_in_progress(info):
        raise SpaceError(
            f"{folder}: the run is still in progress (pid {info.get(rf.RUN_PID)} "
            f"on {info.get(rf.RUN_HOST)}); wait for it to finish or stop it first"
        )
    storage = _storage_url(folder, info)
    return RunFolder(folder, info, storage, info.get(rf.RUN_STUDY_NAME))


def is_in_progress(info: dict[str, Any]) -> bool:
    """run.json says running, on this host, and that process is alive."""
    if info.get(rf.RUN_STATUS) != rf.RUNNING:
        return False
    host, pid = info.get(rf.RUN_HOST), info.get(rf.RUN_PID)
    if host not in (None, socket.gethostname()) or not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():  # the search itself, writing its own tables
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def read_run_json(path: Path) -> dict[str, Any]:
    """run.json as a dict; SpaceError when it is unreadable or not a JSON object."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SpaceError(f"{path}: unreadable run file: {_one_line(error)}") from None
    if not isinstance(info, dict):
        raise SpaceError(f"{path}: expected a JSON object, got {type(info).__name__}")
    return info


def _storage_url(folder: Path, info: dict[str, Any]) -> str:
    url = info.get(rf.RUN_STORAGE)
    study_file = folder / rf.STUDY_FILE
    if url and not str(url).startswith("sqlite"):
        return str(url)
    # The folder's own study.db wins over a recorded sqlite path: runs can be moved.
    if not study_file.is_file():
        raise SpaceError(f"{folder}: has no {rf.STUDY_FILE}, so there are no trials to read")
    _check_sqlite_study(study_file)
    return f"sqlite:///{study_file.resolve()}"


def _check_sqlite_study(path: Path) -> None:
    """Refuses a file that is not an Optuna SQLite database (Optuna would add tables to it)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as error:
        raise SpaceError(f"{path}: not an Optuna study database ({error})") from None
    if "studies" not in tables or "trials" not in tables:
        raise SpaceError(f"{path}: not an Optuna study database (no studies/trials tables)")


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"
