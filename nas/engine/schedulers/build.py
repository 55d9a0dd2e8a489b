"""The scheduler a search asks for (``search.early_stopping``), wired to its searcher.

``asha``: Ray's AsyncHyperBandScheduler on validation accuracy alone. ``mo_asha``:
`MOASHAScheduler`, ranking at each rung by Pareto front on the search's objectives that
are known there. Either way a trial the scheduler stops is reported to the searcher, which
records it as ``stopped_early``, and every recorded trial gets the rung it reached.

On ``--resume`` the MO-ASHA rungs are rebuilt from the study: every trial recorded by
an earlier session (not an interrupted one) has its per-epoch history, and its points at
its bracket's rungs are recorded again, so the trials still to run are judged against
all of them. (Ray's ASHA starts with empty rungs on a resume.)
"""

from __future__ import annotations

import sys
from typing import Any

from nas.engine.objectives import COUNTED, TRAINED, kind_of, metric_key, needs_training
from nas.engine.schedulers.mo_asha import MOASHAScheduler
from nas.engine.schedulers.rungs import Ladder
from nas.runs import format as rf
from nas.runs.curves import expand_history


def make_scheduler(experiment: Any, searcher: Any) -> Any:
    """None, Ray's ASHA or MO-ASHA, as `experiment.search` says; sets `searcher.rung_of`."""
    search, epochs = experiment.search, experiment.train.epochs
    if search.early_stopping == "none" or not needs_training(search.objectives):
        return None
    if epochs < 2:
        print(
            f"nas search: --early-stopping {search.early_stopping} needs train.epochs >= 2; "
            "it is off",
            file=sys.stderr,
        )
        return None
    grace = min(search.asha_grace_period, epochs)
    ladder = Ladder(grace, search.asha_reduction_factor, epochs, search.asha_brackets)
    searcher.rung_of = ladder.rung_of
    if search.early_stopping == "asha":
        return _ray_asha(search, ladder, searcher)
    objectives = [o for o in search.objectives if kind_of(o.name) in (TRAINED, COUNTED)]
    scheduler = MOASHAScheduler(
        ladder,
        [metric_key(o.name) for o in objectives],
        [o.direction for o in objectives],
        tie_break=search.asha_tie_break,
        on_stop=searcher.stopped_by_scheduler.add,
    )
    replay_study(scheduler, searcher.study)
    return scheduler


def replay_study(scheduler: MOASHAScheduler, study: Any) -> int:
    """Records every earlier trial's rung results; returns how many trials were replayed."""
    replayed = 0
    for trial in study.get_trials(deepcopy=False):
        attrs = trial.user_attrs
        if attrs.get(rf.ATTR_STATE) not in rf.TERMINAL_STATES or attrs.get(rf.ATTR_INTERRUPTED):
            continue
        counts = attrs.get(rf.ATTR_METRICS) or {}
        history = [
            (int(entry["epoch"]), [_value(name, entry, counts) for name in scheduler.names])
            for entry in expand_history(attrs.get(rf.ATTR_HISTORY))
            if "epoch" in entry
        ]
        if history:
            scheduler.book.replay(trial.number, history)
            replayed += 1
    return replayed


def _value(name: str, entry: dict, counts: dict) -> float:
    value = entry.get(name, counts.get(name))
    return float("nan") if value is None else float(value)


def _ray_asha(search: Any, ladder: Ladder, searcher: Any) -> Any:
    from ray.tune.schedulers import AsyncHyperBandScheduler

    class _RecordingASHA(AsyncHyperBandScheduler):
        """ASHA that remembers whom it stopped, so a stop is not mistaken for a crash."""

        def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
            decision = super().on_trial_result(tune_controller, trial, result)
            if decision == self.STOP:
                searcher.stopped_by_scheduler.add(trial.trial_id)
            return decision

    return _RecordingASHA(
        time_attr="epoch",
        metric="val_accuracy",
        mode="max",
        max_t=ladder.max_epochs,
        grace_period=ladder.grace,
        reduction_factor=ladder.reduction_factor,
        brackets=ladder.brackets,
    )
