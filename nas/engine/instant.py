"""Trials scored in the driver: for objectives that cost milliseconds (counts, tables).

A trial whose every objective is counted or looked up (``flops``, ``params``,
``nb201_cifar10``...) needs no worker: handing it to Ray Tune would cost far more than
scoring it. Such a search runs every trial here, one after another, through the same
`StudySearcher`, so the trial records, the run folder, the fronts and the live view are
those of a Tune-driven search.

The sampler works on an in-memory copy of the study, and each decided trial is written
to the run's storage as one finished trial (one transaction) before the next is asked.
Optuna would otherwise commit every suggested value and attribute on its own, a dozen
synchronous database writes per trial, which cost a hundred times the lookup. A stop at
any moment loses at most the trial in hand (milliseconds of work); every decided one is
in the storage, and queued trials (seeds, re-queued ones) stay queued until decided.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from ray.tune.search import Searcher

from nas.engine.plan import TrialPlan
from nas.engine.searcher import StudySearcher


def run_in_driver(
    study: optuna.Study,
    plan: TrialPlan,
    target: int,
    on_finished: Callable[[int, str, dict], None],
) -> StudySearcher:
    """Asks, scores and tells trials until `target` are decided (or a write fails)."""
    memory = optuna.create_study(directions=study.directions, sampler=study.sampler)
    stored = study.get_trials(deepcopy=False)  # what the storage holds, kept up to date here
    for trial in stored:
        memory.add_trial(trial)

    def persisted(number: int, state: str, attrs: dict) -> None:
        trial = memory.get_trials(deepcopy=False)[number]
        _persist(study, stored, trial)
        on_finished(number, state, attrs)

    searcher = StudySearcher(memory, plan, target, persisted)
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
    return searcher


def _persist(study: optuna.Study, stored: list[FrozenTrial], trial: FrozenTrial) -> None:
    """Writes a decided trial of the in-memory copy to the run's storage, same number;
    `stored` is the storage's trials in order (this search is its only writer)."""
    if trial.number == len(stored):
        backend = _rdb_backend(study)
        if backend is None:
            study.add_trial(trial)
        else:
            _insert(study, backend, trial)
        stored.append(trial)
        return
    if trial.number > len(stored) or stored[trial.number].state != TrialState.WAITING:
        raise RuntimeError(f"trial {trial.number} is out of step with the study")
    # A queued trial (a seed, a re-queued one): claimed and filled in place, a few commits.
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


def _insert(study: optuna.Study, backend: Any, trial: FrozenTrial) -> None:
    """The trial as rows of Optuna's schema, in one transaction. `Study.add_trial` would
    look every parameter's earlier distribution up across the whole study, which grows
    with the study (a second per trial at 10,000 trials on SQLite)."""
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    study_id = study._study_id
    with _create_scoped_session(backend.scoped_session) as session:
        models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        row = models.TrialModel(
            study_id=study_id,
            number=None,
            state=trial.state,
            datetime_start=trial.datetime_start,
            datetime_complete=trial.datetime_complete,
        )
        session.add(row)
        session.flush()
        row.number = row.count_past_trials(session)
        if row.number != trial.number:
            raise RuntimeError(f"trial {trial.number} would be stored as {row.number}")
        rows: list[Any] = []
        for name, value in trial.params.items():
            distribution = trial.distributions[name]
            rows.append(
                models.TrialParamModel(
                    trial_id=row.trial_id,
                    param_name=name,
                    param_value=distribution.to_internal_repr(value),
                    distribution_json=distribution_to_json(distribution),
                )
            )
        for objective, value in enumerate(trial.values or []):
            stored, kind = models.TrialValueModel.value_to_stored_repr(value)
            rows.append(
                models.TrialValueModel(
                    trial_id=row.trial_id, objective=objective, value=stored, value_type=kind
                )
            )
        for model, attrs in (
            (models.TrialUserAttributeModel, trial.user_attrs),
            (models.TrialSystemAttributeModel, trial.system_attrs),
        ):
            rows += [
                model(trial_id=row.trial_id, key=key, value_json=json.dumps(value))
                for key, value in attrs.items()
            ]
        session.add_all(rows)
