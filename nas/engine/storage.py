"""The study's storage, checked before Ray starts: the URL, its driver, the database and
the study in it. Nothing is written while checking: a damaged ``study.db`` is refused
in one line and left exactly as it was, and so is ``run.json``.

The study's name is read from the run (``run.json``, else the storage's only study),
never derived from the folder's name, so a moved or renamed run folder resumes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.runs import format as rf
from nas.runs.storage_url import redact_url, restore_password, with_driver
from nas.runs.study_guard import check_sqlite_study, one_line
from search_space.errors import SpaceError


@dataclass(frozen=True)
class StorageChoice:
    url: str  # what Optuna opens (the driver made explicit)
    study_name: str
    # how the user gave it, for messages: "--storage URL", "FILE: search.storage URL" (from
    # the space file) or the study.db path
    label: str
    # Create the study (and enqueue the seeds): a new search, or a resumed one whose
    # start was cut short (config.yaml written, run.json not yet), which starts again.
    fresh: bool = True
    restart: bool = False  # drop what the cut-short start left of the study first


def check_storage(experiment: Any) -> StorageChoice:
    """The storage and study a search will use; SpaceError when either is not usable."""
    run_dir, search = experiment.run_dir, experiment.search
    # run.json is written once the study is complete: without it, a start was cut short
    # (on a new search: a study.db in the folder from such a start, by an older version).
    started = (run_dir / rf.RUN_FILE).is_file()
    restart = not started and (experiment.resume or search.storage is None)
    if search.storage is None:
        path = (run_dir / rf.STUDY_FILE).resolve()
        label = str(run_dir / rf.STUDY_FILE)
        names = _sqlite_studies(path, label, experiment.resume and not restart, restart)
        url = f"sqlite:///{path}"
    else:
        label = f"{experiment.setting_label('search', 'storage')} {redact_url(search.storage)}"
        url = with_driver(restore_password(search.storage, label), label)
        names = _studies(url, label, experiment.resume)
    name = search.study_name or _run_study_name(run_dir, names) or run_dir.name
    if experiment.resume and not restart and name not in names:
        known = f"; it holds {', '.join(repr(n) for n in names)}" if names else " (no study)"
        raise SpaceError(f"--resume: {label} has no study named {name!r}{known}")
    if not experiment.resume and not restart and name in names:
        raise SpaceError(
            f"{label}: a study named {name!r} already exists there; continue it with "
            "--resume, or give another --study-name"
        )
    return StorageChoice(url, name, label, not experiment.resume or restart, restart)


def _run_study_name(run_dir: Path, names: list[str]) -> str | None:
    """The name run.json recorded; else the storage's only study (a moved run folder)."""
    try:
        recorded = json.loads((run_dir / rf.RUN_FILE).read_text()).get(rf.RUN_STUDY_NAME)
    except (OSError, ValueError, AttributeError):
        recorded = None
    if isinstance(recorded, str):
        return recorded
    return names[0] if len(names) == 1 else None


def _sqlite_studies(path: Path, label: str, resume: bool, restart: bool) -> list[str]:
    """Study names in an SQLite file, checked and read through a read-only connection
    (on a restart, a schema whose creation was cut short is no error: Optuna completes it)."""
    if not path.exists():
        if resume:
            raise SpaceError(f"--resume: {label} does not exist; this run has no study")
        return []
    return check_sqlite_study(path, label, partial_schema=restart)


def _studies(url: str, label: str, resume: bool) -> list[str]:
    """Study names in a database server's storage; on a new search the tables may be
    created, which is what Optuna would do next anyway."""
    import optuna

    try:
        storage = optuna.storages.RDBStorage(url, skip_table_creation=resume)
        return [s.study_name for s in storage.get_all_studies()]
    except Exception as error:
        raise SpaceError(
            f"{label}: cannot open the database ({redact_url(one_line(error))})"
        ) from None
