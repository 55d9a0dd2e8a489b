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
    for trial in study.get_trials(deepcopy=False):
        memory.add_trial(trial)

    def persisted(number: int, state: str, attrs: dict) -> None:
        _persist(study, memory.get_trials(deepcopy=False)[number])
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


def _persist(study: optuna.Study, trial: FrozenTrial) -> None:
    """Writes a decided trial of the in-memory copy to the run's storage, same number."""
    stored = study.get_trials(deepcopy=False)
    if trial.number == len(stored):
        study.add_trial(trial)  # one transaction
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
