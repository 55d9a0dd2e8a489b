"""The one guarded open of a run's study, shared by every reader (report, export,
verify, analyze, compare, `nas.open_run`) and by `nas search --resume`.

A study that cannot be read ends in one SpaceError line naming the file and what to do,
before anything is written: a damaged or truncated ``study.db``, a file that is not an
Optuna study, one this user may not read, a database server that refuses. SQLite is
checked first (its header, then ``PRAGMA quick_check`` over every page, read-only), and
the whole study is then read inside `study_errors`, because Optuna reads trials lazily
and SQLite finds a damaged page only when a query touches it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from search_space.errors import SpaceError

SQLITE_HEADER = b"SQLite format 3\x00"
RESTORE = "restore it from a backup, or start a new run with another --output"


def check_sqlite_study(
    path: Path, label: str | None = None, *, partial_schema: bool = False
) -> list[str]:
    """The study names in an SQLite study file, checked page by page, read-only;
    SpaceError when it is unreadable, damaged or not an Optuna study (with
    `partial_schema`, missing tables are no error: a creation cut short)."""
    label = label or str(path)
    header = _header(path, label)
    if header[: len(SQLITE_HEADER)] != SQLITE_HEADER:
        what = "is empty (0 bytes)" if not header else "is not an SQLite database (damaged?)"
        raise SpaceError(f"{label}: {what}; {RESTORE}")
    truncated = _truncated(header, path)
    if truncated:
        raise SpaceError(
            f"{label}: the study database is damaged: truncated ({truncated}); {RESTORE}"
        )
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            # quick_check quotes damaged records, whose bytes need not be UTF-8
            db.text_factory = lambda raw: raw.decode("utf-8", "replace")
            problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(_first_problem(problems))
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            if partial_schema and "studies" not in tables:
                return []
            if not {"studies", "trials"} <= tables and not partial_schema:
                raise SpaceError(
                    f"{label}: not an Optuna study database (no studies/trials tables); "
                    "a run folder's study.db is what `nas search` writes"
                )
            return [row[0] for row in db.execute("SELECT study_name FROM studies")]
    except (sqlite3.Error, ValueError) as error:
        raise SpaceError(damaged(label, error)) from None


def damaged(label: str, error: BaseException) -> str:
    """The one line for a study database that fails while being read (Optuna wraps the
    database's own error, which says more: that one is named)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{label}: the study database is damaged ({one_line(error)}); {RESTORE}"


@contextlib.contextmanager
def study_errors(label: str, *, sqlite: bool) -> Iterator[None]:
    """Turns what a damaged database or a refusing server raises while a study is read
    (SQLite, SQLAlchemy and Optuna errors; undecodable JSON in a damaged record) into
    one SpaceError line. Only the reading goes inside: the analysis stays outside."""
    try:
        yield
    except SpaceError:
        raise
    except (KeyboardInterrupt, SystemExit, MemoryError):
        raise
    except Exception as error:
        if sqlite:
            raise SpaceError(damaged(label, error)) from None
        why = one_line(error)
        hint = (
            "; give the password in NAS_STORAGE (the full URL) or the driver's password "
            "file (~/.pgpass), as it is never stored with the run"
            if "password" in why.lower()
            else ""
        )
        raise SpaceError(f"{label}: cannot read the study ({why}){hint}") from None


def one_line(error: BaseException) -> str:
    """'TypeName: first line of the message' (at most 200 characters)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    # A damaged record's bytes may reach the message: shown as '?' when not printable.
    text = "".join(c if c.isprintable() else "?" for c in lines[0][:200]) if lines else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _header(path: Path, label: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(100)  # the database header
    except IsADirectoryError:
        raise SpaceError(f"{label}: is a folder, not a study database; {RESTORE}") from None
    except OSError as error:
        raise SpaceError(
            f"{label}: cannot be read ({error.strerror}); check its permissions"
        ) from None


def _first_problem(problems: list[str]) -> str:
    """quick_check's first finding, without its '*** in database main ***' heading."""
    lines = [line for text in problems for line in str(text).splitlines()]
    found = [line for line in lines if line.strip() and not line.startswith("***")]
    return found[0] if found else "quick_check failed"


def _truncated(header: bytes, path: Path) -> str | None:
    """Why the file is shorter than its header says (None: it is not). SQLite itself
    reads a cut last page as zeros, so a truncation can pass quick_check."""
    if len(header) < 100:
        return f"{len(header)} bytes, less than its header"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return None  # a damaged header: quick_check names it
    size = path.stat().st_size
    if size % page_size:
        return f"{size} bytes, not a whole number of {page_size}-byte pages"
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the change counter matches "version-valid-for"; a
    # write-ahead log may hold pages the main file does not have yet.
    valid = header[24:28] == header[92:96]
    wal = path.with_name(path.name + "-wal").exists()
    if valid and not wal and size < pages * page_size:
        return f"{size // page_size} of its {pages} pages"
    return None
