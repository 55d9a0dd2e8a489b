"""A run folder on disk: open and check it, find its study, read its config.

`nas report` and `nas export` open a finished run with `open_run`; the search checks with
`is_in_progress` that no other search writes the folder. The format itself (file names,
attribute keys, states) is `nas/runs/format.py`; `results/README.md` documents every
file and column.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nas.runs import format as rf
from nas.runs.storage_url import redact_url, restore_password, with_driver
from nas.runs.study_guard import check_sqlite_study, one_line, study_errors
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
        """Optuna's study, with every trial read once inside the guard (Optuna reads
        lazily, and a damaged page shows only when a query touches it)."""
        import optuna

        # Optuna logs a damaged record as a warning before it raises: the one line is ours.
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        with study_errors(self.label, sqlite=self.is_sqlite):
            name = self.study_name
            if name is None:
                names = optuna.get_all_study_names(self.storage)
                if len(names) != 1:
                    raise SpaceError(
                        f"{self.path}: the storage holds {len(names)} studies "
                        f"({', '.join(names) or 'none'}); run.json must name one "
                        f"under {rf.RUN_STUDY_NAME!r}"
                    )
                name = names[0]
            try:
                study = optuna.load_study(study_name=name, storage=self.storage)
            except KeyError:
                raise SpaceError(f"{self.path}: no study named {name!r} in {self.label}") from None
            study.get_trials(deepcopy=False)
            study.user_attrs  # noqa: B018 - read here, inside the guard
            return study

    def read_study(self) -> Any:
        """The study for reading only: straight from SQLite when the file has the schema
        this reader knows (several times faster than Optuna's ORM on 1,000 trials), else
        `load_study`. Offers what `analyse_study` uses: `study_name`, `directions`,
        `metric_names`, `user_attrs` and `get_trials()`."""
        if self.is_sqlite:
            with study_errors(self.label, sqlite=True):
                record = read_sqlite_study(self.sqlite_path, self.study_name)
            if record is not None:
                return record
        return self.load_study()

    @property
    def is_sqlite(self) -> bool:
        return self.storage.startswith("sqlite:///")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.storage[len("sqlite:///") :])

    @property
    def label(self) -> str:
        """The storage as messages name it: the study file, or the URL without password."""
        return str(self.path / rf.STUDY_FILE) if self.is_sqlite else redact_url(self.storage)

    def config(self, study: optuna.Study | None = None) -> dict[str, Any]:
        """The resolved experiment config: the study's copy, else config.yaml, else {}."""
        if study is not None and isinstance(study.user_attrs.get(rf.STUDY_CONFIG), dict):
            return study.user_attrs[rf.STUDY_CONFIG]
        path = self.path / rf.CONFIG_FILE
        if path.is_file():
            try:
                config = yaml.safe_load(path.read_text())
            except (OSError, ValueError, yaml.YAMLError) as error:
                raise SpaceError(f"{path}: unreadable config: {one_line(error)}") from None
            return config if isinstance(config, dict) else {}
        return {}


def open_run(
    path: str | os.PathLike, *, allow_running: bool = False, storage: str | None = None
) -> RunFolder:
    """Checks that `path` is a run folder no live search is writing; SpaceError if not.
    `storage`: the URL to read the study from (the search's own, password included),
    instead of the one run.json records."""
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
    storage = storage or _storage_url(folder, info)
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
        raise SpaceError(f"{path}: unreadable run file: {one_line(error)}") from None
    if not isinstance(info, dict):
        raise SpaceError(f"{path}: expected a JSON object, got {type(info).__name__}")
    return info


def _storage_url(folder: Path, info: dict[str, Any]) -> str:
    url = info.get(rf.RUN_STORAGE)
    study_file = folder / rf.STUDY_FILE
    if url and not str(url).startswith("sqlite"):
        # The password is never recorded: from NAS_STORAGE, or the driver's own (.pgpass).
        label = f"{folder / rf.RUN_FILE}: storage {redact_url(str(url))}"
        return with_driver(restore_password(str(url), label), label)
    # The folder's own study.db wins over a recorded sqlite path: runs can be moved.
    if not study_file.is_file():
        raise SpaceError(f"{folder}: has no {rf.STUDY_FILE}, so there are no trials to read")
    check_sqlite_study(study_file)
    return f"sqlite:///{study_file.resolve()}"
