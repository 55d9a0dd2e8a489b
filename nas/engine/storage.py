"""The study's storage, checked before Ray starts: the URL, its driver, the database and
the study in it. Nothing is written while checking: a damaged ``study.db`` is refused
in one line and left exactly as it was, and so is ``run.json``.

The study's name is read from the run (``run.json``, else the storage's only study),
never derived from the folder's name, so a moved or renamed run folder resumes.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.runs import format as rf
from search_space.errors import SpaceError

SQLITE_HEADER = b"SQLite format 3\x00"
# Backend -> (drivers SQLAlchemy can use, in order of preference, with their pip names).
DRIVERS = {
    "postgresql": (("psycopg2", "psycopg2-binary"), ("psycopg", "psycopg[binary]")),
    "mysql": (("pymysql", "pymysql"), ("MySQLdb", "mysqlclient")),
}


@dataclass(frozen=True)
class StorageChoice:
    url: str  # what Optuna opens (the driver made explicit)
    study_name: str
    # how the user gave it, for messages: "--storage URL", "FILE: search.storage URL" (from
    # the space file) or the study.db path
    label: str


def check_storage(experiment: Any) -> StorageChoice:
    """The storage and study a search will use; SpaceError when either is not usable."""
    run_dir, search = experiment.run_dir, experiment.search
    if search.storage is None:
        path = (run_dir / rf.STUDY_FILE).resolve()
        label = str(run_dir / rf.STUDY_FILE)
        names = _sqlite_studies(path, label, experiment.resume)
        url = f"sqlite:///{path}"
    else:
        label = f"{experiment.setting_label('search', 'storage')} {search.storage}"
        url = _with_driver(search.storage, label)
        names = _studies(url, label, experiment.resume)
    name = search.study_name or _run_study_name(run_dir, names) or run_dir.name
    if experiment.resume and name not in names:
        known = f"; it holds {', '.join(repr(n) for n in names)}" if names else " (no study)"
        raise SpaceError(f"--resume: {label} has no study named {name!r}{known}")
    if not experiment.resume and name in names:
        raise SpaceError(
            f"{label}: a study named {name!r} already exists there; continue it with "
            "--resume, or give another --study-name"
        )
    return StorageChoice(url, name, label)


def _run_study_name(run_dir: Path, names: list[str]) -> str | None:
    """The name run.json recorded; else the storage's only study (a moved run folder)."""
    try:
        recorded = json.loads((run_dir / rf.RUN_FILE).read_text()).get(rf.RUN_STUDY_NAME)
    except (OSError, ValueError, AttributeError):
        recorded = None
    if isinstance(recorded, str):
        return recorded
    return names[0] if len(names) == 1 else None


def _sqlite_studies(path: Path, label: str, resume: bool) -> list[str]:
    """Study names in an SQLite file, read through a read-only connection."""
    if not path.exists():
        if resume:
            raise SpaceError(f"--resume: {label} does not exist; this run has no study")
        return []
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        what = "is empty (0 bytes)" if not header else "is not an SQLite database (damaged?)"
        raise SpaceError(f"{label}: {what}; restore it from a backup or start a new --output")
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as connection:
            (check,) = connection.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise sqlite3.DatabaseError(check)
            rows = connection.execute("SELECT study_name FROM studies").fetchall()
    except sqlite3.Error as error:
        raise SpaceError(
            f"{label}: the database is damaged or not an Optuna study ({error}); "
            "restore it from a backup or start a new --output"
        ) from None
    return [row[0] for row in rows]


def _with_driver(url: str, label: str) -> str:
    """The URL with an installed driver named (postgresql:// -> postgresql+psycopg2://)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise SpaceError(
            f"{label}: not a database URL; e.g. sqlite:////abs/path/study.db or "
            "postgresql://user:password@host/db"
        ) from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    choices = DRIVERS.get(backend)
    if choices is None or "+" in parsed.drivername:
        _check_dialect(parsed, label)
        return url
    for module, _ in choices:
        if importlib.util.find_spec(module) is not None:
            return parsed.set(drivername=f"{backend}+{module}").render_as_string(
                hide_password=False
            )
    pips = " or ".join(f"pip install '{pip}'" for _, pip in choices)
    raise SpaceError(f"{label}: no {backend} driver is installed ({driver}); run {pips}")


def _check_dialect(parsed: Any, label: str) -> None:
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as error:
        raise SpaceError(
            f"{label}: its driver is not installed ({error.name}); pip install {error.name}"
        ) from None
    except Exception as error:
        raise SpaceError(f"{label}: unknown database kind ({error})") from None


def _studies(url: str, label: str, resume: bool) -> list[str]:
    """Study names in a database server's storage; on a new search the tables may be
    created, which is what Optuna would do next anyway."""
    import optuna

    try:
        storage = optuna.storages.RDBStorage(url, skip_table_creation=resume)
        return [s.study_name for s in storage.get_all_studies()]
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SpaceError(
            f"{label}: cannot open the database ({type(error).__name__}: {first[:200]})"
        ) from None
