"""Recording a trial's outcome in the study, and telling a write that failed because the
disk or the database cannot take it (which stops the search) from a bug (which does not
hide behind it)."""

from __future__ import annotations

import errno
import math
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
    """The trial's attributes, values and state in one database transaction, so a stop at
    any moment leaves it either RUNNING (a resume runs it again) or wholly recorded.

    Optuna writes each attribute in its own commit; on an RDB storage (SQLite, a server)
    this writes them together through the storage's own session, after the sampler's
    `after_trial` as `Study.tell` does. Other storages, and outcomes whose values Optuna
    would convert (pruned, non-finite), go through `Study.tell`."""
    backend = _rdb_backend(study)
    simple = state == TrialState.FAIL or (
        state == TrialState.COMPLETE
        and values is not None
        and all(math.isfinite(float(v)) for v in values)
    )
    if backend is None or not simple:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, values, state=state)
        return
    _record_in_one_transaction(study, backend, trial, attrs, values, state)


def _rdb_backend(study: optuna.Study) -> Any:
    from optuna.storages import RDBStorage

    storage = study._storage
    backend = getattr(storage, "_backend", storage)  # _CachedStorage passes writes through
    return backend if isinstance(backend, RDBStorage) else None


def _record_in_one_transaction(
    study: optuna.Study,
    backend: Any,
    trial: optuna.Trial,
    attrs: dict[str, Any],
    values: list[float] | None,
    state: TrialState,
) -> None:
    import datetime

    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    trial_id = trial._trial_id
    values = None if values is None else [float(v) for v in values]
    study._thread_local.cached_all_trials = None  # as Study.tell: the cache is per trial
    frozen = study._storage.get_trial(trial_id)
    if frozen.state != TrialState.RUNNING:
        raise ValueError(f"Cannot tell a {frozen.state.name} trial.")
    study.sampler.after_trial(study, frozen, state, values)
    with _create_scoped_session(backend.scoped_session) as session:
        for key, value in attrs.items():
            backend._set_trial_attr_without_commit(
                session, models.TrialUserAttributeModel, trial_id, key, value
            )
        row = models.TrialModel.find_or_raise_by_id(trial_id, session, for_update=True)
        backend.check_trial_is_updatable(trial_id, row.state)
        for objective, value in enumerate(values or []):
            backend._set_trial_value_without_commit(session, row, objective, value)
        row.state = state
        row.datetime_complete = datetime.datetime.now()


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
