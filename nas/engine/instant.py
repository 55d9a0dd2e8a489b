"""Trials scored in the driver: for objectives that cost milliseconds (counts, tables).

A trial whose every objective is counted or looked up (``flops``, ``params``,
``nb201_cifar10``...) needs no worker: handing it to Ray Tune would cost far more than
scoring it. Such a search runs every trial here, one after another, through the same
`StudySearcher`, so the trial records, the run folder, the fronts and the live view are
those of a Tune-driven search.

The sampler works on an in-memory copy of the study, and the decided trials are written
to the run's storage as finished trials, those of the last half second together in one
transaction. Optuna would otherwise commit every suggested value and attribute on its
own, a dozen synchronous database writes per trial, which cost a hundred times the
lookup; even one transaction per trial (a synchronous disk write) costs as much as the
sampler. A Ctrl-C or SIGTERM writes what is decided before the search ends; a kill -9
loses at most the last half second of trials (milliseconds of work each), which a resume
asks again. Queued trials (seeds, re-queued ones) stay queued until decided. The run
folder's tables and the live view are refreshed after each write, so they never show a
trial the storage lacks; they are read from the copy, which then holds what the storage
holds, with no query.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from ray.tune.search import Searcher

from nas.engine.outcome_record import is_storage_failure
from nas.engine.plan import TrialPlan
from nas.engine.searcher import StudySearcher


def run_in_driver(
    study: optuna.Study,
    plan: TrialPlan,
    target: int,
    on_finished: Callable[[int, str, dict], None],
    read_from: Callable[[optuna.Study], None] | None = None,
) -> StudySearcher:
    """Asks, scores and tells trials until `target` are decided (or a write fails).
    `on_finished` hears of each trial once it is written; `read_from` is handed the
    in-memory copy, which then holds what the storage holds (reading it costs no query)."""
    memory = optuna.create_study(directions=study.directions, sampler=study.sampler)
    stored = study.get_trials(deepcopy=False)  # what the storage holds, kept up to date here
    for trial in stored:
        memory.add_trial(trial)
    for key, value in study.user_attrs.items():  # objectives, reference point, config
        memory.set_user_attr(key, value)
    if read_from is not None:
        read_from(memory)
    writer = _BatchWriter(study, memory, stored, on_finished)

    def decided(number: int, state: str, attrs: dict) -> None:
        writer.add(memory.get_trials(deepcopy=False)[number], state, attrs)

    searcher = StudySearcher(memory, plan, target, decided)
    try:
        _loop(searcher)
    finally:  # Ctrl-C, SIGTERM and a failed trial write what is decided first
        if not searcher.storage_failure:
            try:
                writer.flush()
            except Exception as error:
                if not is_storage_failure(error):
                    raise
                searcher.fail_storage("the study", error)
    return searcher


class _BatchWriter:
    """Decided trials, written to the storage together every `EVERY_S` seconds."""

    EVERY_S = 0.5

    def __init__(
        self,
        study: optuna.Study,
        memory: optuna.Study,
        stored: list[FrozenTrial],
        on_finished: Callable,
    ):
        self.study, self.memory, self.stored = study, memory, stored
        self.on_finished = on_finished
        self.pending: list[tuple[FrozenTrial, str, dict]] = []
        self.last = time.monotonic()

    def add(self, trial: FrozenTrial, state: str, attrs: dict) -> None:
        self.pending.append((trial, state, attrs))
        if time.monotonic() - self.last >= self.EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Writes the pending trials, then tells `on_finished` of each, in order; a study
        attribute it set on the copy (the fixed reference point) goes to the storage."""
        pending, self.pending = self.pending, []
        if pending:
            _persist(self.study, self.stored, [trial for trial, _, _ in pending])
            for trial, state, attrs in pending:
                self.on_finished(trial.number, state, attrs)
            stored = self.study.user_attrs
            for key, value in self.memory.user_attrs.items():
                if stored.get(key) != value:
                    self.study.set_user_attr(key, value)
        self.last = time.monotonic()


def _loop(searcher: StudySearcher) -> None:
    count = 0
    while not searcher.storage_failure:
        trial_id = f"driver-{count}"
        count += 1
        if searcher.suggest(trial_id) in (None, Searcher.FINISHED):
            break
        candidate = searcher.live[trial_id]
        now = time.time()
        payload = {
            "final": True,
            "metrics": dict(candidate.counts),  # counts and table values, from `sample`
            "epochs": 0,
            "started_at": now,
            "ended_at": now,
        }
        searcher.on_trial_complete(trial_id, {"payload": json.dumps(payload)})


def _persist(study: optuna.Study, stored: list[FrozenTrial], trials: list[FrozenTrial]) -> None:
    """Writes decided trials of the in-memory copy to the run's storage, same numbers;
    `stored` is the storage's trials in order (this search is its only writer). New trials
    go in one transaction; a queued one is claimed and filled in place."""
    new: list[FrozenTrial] = []
    for trial in trials:
        if trial.number == len(stored) + len(new):
            new.append(trial)
            continue
        _append(study, stored, new)
        new = []
        if trial.number >= len(stored) or stored[trial.number].state != TrialState.WAITING:
            raise RuntimeError(f"trial {trial.number} is out of step with the study")
        _fill_queued(study, stored, trial)
    _append(study, stored, new)


def _append(study: optuna.Study, stored: list[FrozenTrial], trials: list[FrozenTrial]) -> None:
    if not trials:
        return
    backend = _rdb_backend(study)
    if backend is None:
        for trial in trials:
            study.add_trial(trial)
    else:
        _insert(study, backend, trials)
    stored.extend(trials)


def _fill_queued(study: optuna.Study, stored: list[FrozenTrial], trial: FrozenTrial) -> None:
    """A queued trial (a seed, a re-queued one): claimed and filled in place, a few commits."""
    storage, trial_id = study._storage, stored[trial.number]._trial_id
    storage.set_trial_state_values(trial_id, TrialState.RUNNING)
    for name, value in trial.params.items():
        distribution = trial.distributions[name]
        storage.set_trial_param(trial_id, name, distribution.to_internal_repr(value), distribution)
    for key, value in trial.system_attrs.items():
        storage.set_trial_system_attr(trial_id, key, value)
    for key, value in trial.user_attrs.items():
        storage.set_trial_user_attr(trial_id, key, value)
    storage.set_trial_state_values(trial_id, trial.state, trial.values)
    stored[trial.number] = trial


def _rdb_backend(study: optuna.Study) -> Any:
    from optuna.storages import RDBStorage

    backend = getattr(study._storage, "_backend", study._storage)  # through _CachedStorage
    return backend if isinstance(backend, RDBStorage) else None


def _insert(study: optuna.Study, backend: Any, trials: list[FrozenTrial]) -> None:
    """The trials as rows of Optuna's schema, in one transaction, through SQLAlchemy's core
    (the ORM's bookkeeping costs 20 times the rows' own writes). `Study.add_trial` would
    also look every parameter's earlier distribution up across the whole study, which
    grows with the study (a second per trial at 10,000 trials on SQLite)."""
    import sqlalchemy
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    study_id = study._study_id
    with _create_scoped_session(backend.scoped_session) as session:
        models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        connection = session.connection()
        count = sqlalchemy.select(sqlalchemy.func.count(models.TrialModel.trial_id))
        held = connection.execute(count.where(models.TrialModel.study_id == study_id)).scalar()
        if held != trials[0].number:
            raise RuntimeError(f"trial {trials[0].number} would be stored as {held}")
        children: dict[Any, list[dict[str, Any]]] = {
            models.TrialParamModel: [],
            models.TrialValueModel: [],
            models.TrialUserAttributeModel: [],
            models.TrialSystemAttributeModel: [],
        }
        table = models.TrialModel.__table__
        rows = [
            {
                "number": trial.number,
                "study_id": study_id,
                "state": trial.state,
                "datetime_start": trial.datetime_start,
                "datetime_complete": trial.datetime_complete,
            }
            for trial in trials
        ]
        connection.execute(sqlalchemy.insert(table), rows)  # one statement for the batch
        numbers = sqlalchemy.select(table.c.number, table.c.trial_id).where(
            (table.c.study_id == study_id) & (table.c.number >= trials[0].number)
        )
        ids = dict(connection.execute(numbers).all())
        for trial in trials:
            trial_id = ids[trial.number]
            for name, value in trial.params.items():
                distribution = trial.distributions[name]
                children[models.TrialParamModel].append(
                    {
                        "trial_id": trial_id,
                        "param_name": name,
                        "param_value": distribution.to_internal_repr(value),
                        "distribution_json": distribution_to_json(distribution),
                    }
                )
            for objective, value in enumerate(trial.values or []):
                stored, kind = models.TrialValueModel.value_to_stored_repr(value)
                children[models.TrialValueModel].append(
                    {"trial_id": trial_id, "objective": objective}
                    | {"value": stored, "value_type": kind}
                )
            for model, attrs in (
                (models.TrialUserAttributeModel, trial.user_attrs),
                (models.TrialSystemAttributeModel, trial.system_attrs),
            ):
                children[model] += [
                    {"trial_id": trial_id, "key": key, "value_json": json.dumps(value)}
                    for key, value in attrs.items()
                ]
        for model, rows in children.items():
            if rows:
                connection.execute(sqlalchemy.insert(model.__table__), rows)
