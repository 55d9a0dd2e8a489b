"""Recording a trial's outcome in the study, and telling a write that failed because the
disk or the database cannot take it (which stops the search) from a bug (which does not
hide behind it)."""

from __future__ import annotations

import errno
from typing import Any

import optuna
from optuna.trial import TrialState

from nas.runs.study_guard import one_line

# Errors of the storage itself: the disk is full, over quota, read-only or failing.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG, errno.EACCES}


def record_outcome(
    study: optuna.Study,
    trial: optuna.Trial,
    attrs: dict[str, Any],
    values: list[float] | None,
    state: TrialState,
) -> None:
    """The trial's attributes, then its state and values (a stop in between leaves it
    RUNNING, which a resume runs again)."""
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    study.tell(trial, values, state=state)


def is_storage_failure(error: BaseException) -> bool:
    """A write the disk or the database refused: OSError of the disk, or the database's
    own error (SQLite's "database or disk is full", a server gone)."""
    if isinstance(error, OSError):
        return error.errno in _DISK_ERRNOS or error.errno is None
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, optuna.exceptions.StorageInternalError | DBAPIError):
        return True
    return isinstance(error.__cause__, DBAPIError)


def storage_reason(error: BaseException) -> str:
    """'No space left on device: RUN/trials/3/weights.safetensors', or the database's
    own first line."""
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    while error.__cause__ is not None:
        error = error.__cause__
    return one_line(error)
