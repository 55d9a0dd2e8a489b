"""The driver's side of every trial: Optuna ask/tell behind Ray Tune's Searcher interface.

Tune asks `StudySearcher.suggest` for the next trial. The searcher asks the Optuna study
(define-by-run, through `OptunaChooser`), builds and counts the candidate and checks the
constraints right there, so an infeasible candidate is recorded and told to Optuna
without ever reaching a worker; only feasible ones are returned to Tune to train. When a
trial ends, the searcher tells Optuna exactly one of:

    complete       COMPLETE with the objective values
    infeasible     COMPLETE with the counts (accuracy 0), constraints > 0: samplers rank
                   it below every feasible trial and learn to avoid its region
    stopped_early  PRUNED, keeping the last epoch's metrics (ASHA)
    failed         FAIL with a one-line reason (an exception, or a worker that died
                   more often than search.max_retries)

A trial the search abandons (the process stopped or was killed) is FAIL with
``interrupted: true``; `recover_interrupted` re-enqueues its parameters, so the same
candidate runs again and the study never silently loses it. All four outcomes count
towards ``--trials``; interrupted ones do not.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState
from ray.tune.search import Searcher

from nas.console import note
from nas.engine.constraints import broken, violations
from nas.engine.objectives import (
    metric_key,
    objective_values,
)
from nas.engine.outcome_record import (
    is_storage_failure,
    record_outcome,
    storage_reason,
)
from nas.engine.plan import Candidate, TrialPlan
from nas.engine.study import count_decided
from nas.engine.trial import one_line
from nas.engine.trial_files import write_trial_files
from nas.runs import format as rf
from nas.runs.atomic import write_json
from nas.runs.curves import compact_history, write_tensorboard
from search_space.errors import SpaceError

_WHERE = (rf.ATTR_HOST, rf.ATTR_NODE, rf.ATTR_DEVICE)  # where the worker ran


# Set on trials abandoned by a search that stopped or died; they do not count.
class StudySearcher(Searcher):
    """Optuna ask/tell for Ray Tune; `on_finished(trial_number, state)` after every tell."""

    def __init__(
        self,
        study: optuna.Study,
        plan: TrialPlan,
        target: int,
        on_finished: Callable[[int, str, dict], None] | None = None,
    ):
        super().__init__(metric=None, mode=None)
        self.study, self.plan, self.target = study, plan, target
        self.on_finished = on_finished or (lambda number, state, info: None)
        self.live: dict[str, Candidate] = {}  # Tune trial id -> candidate in a worker
        self.errored: dict[str, Candidate] = {}  # worker died for good; reason comes next
        self.stopped_by_scheduler: set[str] = set()
        # Set by the tuner when a scheduler runs: trained epochs -> the rung reached.
        self.rung_of: Callable[[int], int | None] | None = None
        self.decided = count_decided(study)
        self.finished = False
        self.curves_failed = False  # told once, not after every trial
        # The first write to the run folder or the study that failed (disk full, I/O
        # error): the search asks no more trials, stops the running ones, and ends in
        # one line with the resume command (nas/engine/runner.py).
        self.storage_failure: str | None = None

    def __getstate__(self) -> dict:
        # Tune pickles its search algorithm into the experiment folder for Tuner.restore,
        # which a search never uses (the study is the record): nothing to save.
        return {}

    # --- Tune's Searcher interface ---------------------------------------------------

    def suggest(self, trial_id: str) -> dict | str | None:
        try:
            return self._suggest(trial_id)
        except Exception as error:  # the study could not be written: no more trials
            if not is_storage_failure(error):
                raise
            self.fail_storage("the study", error)
            return Searcher.FINISHED

    def _suggest(self, trial_id: str) -> dict | str | None:
        while self.decided + len(self.live) + len(self.errored) < self.target:
            if self.storage_failure:
                break
            trial = self.study.ask()
            try:
                candidate = self.plan.sample(trial)
            except Exception as error:  # a candidate that cannot be built
                if is_storage_failure(error):
                    raise
                self._finish_failed(trial, one_line(error), {})
                continue
            if self.plan.constraints and self._infeasible(candidate):
                continue
            self.live[trial_id] = candidate
            candidate.ready = time.time()
            return self.plan.tune_config(candidate)
        self.finished = True
        return Searcher.FINISHED

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        candidate = self.live.get(trial_id)
        if candidate is not None:
            candidate.reported.update({k: result[k] for k in _WHERE if k in result})
        if candidate is not None and "epoch" in result and "payload" in result:
            candidate.history.append(json.loads(result["payload"]))

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        candidate = self.live.pop(trial_id, None)
        if candidate is None:
            return
        if error:  # the reason arrives through `record_worker_error` (a Tune callback)
            self.errored[trial_id] = candidate
            return
        payload = json.loads(result["payload"]) if result and "payload" in result else {}
        if candidate.files_failed or self.storage_failure:
            pass  # left RUNNING: `recover_interrupted` queues it again for the resume
        elif payload.get("final"):
            self._finish_evaluated(candidate, payload)
        elif trial_id in self.stopped_by_scheduler:
            # Tune hands the result that triggered the stop only to on_trial_complete.
            if payload and (not candidate.history or candidate.history[-1] != payload):
                candidate.history.append(payload)
            self._finish_stopped(candidate)
        else:  # the experiment ended around it: leave it RUNNING for `recover_interrupted`
            pass

    # --- called by the runner's Tune callback ----------------------------------------

    def receive_files(self, trial_id: str, files: dict[str, bytes]) -> None:
        """Writes the files a worker sent with its final result into RUN/trials/<n>/.
        A file that cannot be written is reported; the trial keeps its outcome."""
        candidate = self.live.get(trial_id)
        if candidate is None:
            return
        try:
            digests = write_trial_files(self.plan.run_dir, candidate.number, files)
            if rf.WEIGHTS_FILE in digests:
                candidate.reported[rf.ATTR_WEIGHTS_SHA256] = digests[rf.WEIGHTS_FILE]
        except OSError as error:  # never a complete trial without its weights
            candidate.files_failed = True
            self.fail_storage(f"trial {candidate.number}: its weights", error)
        except SpaceError as error:
            print(f"nas search: trial {candidate.number}: {one_line(error)}", file=sys.stderr)

    def record_worker_error(self, trial_id: str, reason: str, attempts: int) -> None:
        candidate = self.errored.pop(trial_id, None) or self.live.pop(trial_id, None)
        if candidate is not None:
            candidate.attempts = attempts
            self._finish_failed(
                candidate.trial,
                f"worker died {attempts} time(s): {reason}",
                candidate.counts,
                candidate,
            )

    def record_retry(self, trial_id: str) -> None:
        candidate = self.live.get(trial_id)
        if candidate is not None:
            candidate.attempts += 1
            candidate.history.clear()

    def flush_errors(self) -> None:
        """Worker deaths whose callback never came (should not happen) are still told."""
        for trial_id in list(self.errored):
            self.record_worker_error(trial_id, "no reason reported", 1)

    # --- outcomes ----------------------------------------------------------------------

    def _infeasible(self, candidate: Candidate) -> bool:
        trial, counts = candidate.trial, candidate.counts
        candidate.constraints = violations(self.plan.constraints, counts)
        for key, value in candidate.constraints.items():
            trial.set_constraint(key, value)
        reasons = broken(self.plan.constraints, counts)
        if not reasons:
            return False
        values = objective_values(self.plan.objectives, counts)
        self._tell(
            candidate.trial,
            rf.INFEASIBLE,
            TrialState.COMPLETE,
            values,
            {
                rf.ATTR_METRICS: counts,
                rf.ATTR_ERROR: "infeasible: " + "; ".join(reasons),
                rf.ATTR_CONSTRAINTS: candidate.constraints,
                rf.ATTR_EPOCHS: 0,
                rf.ATTR_SECONDS: _total(candidate.seconds),
            },
            candidate,
        )
        return True

    def _finish_evaluated(self, candidate: Candidate, payload: dict) -> None:
        seconds = {**candidate.seconds, **payload.get("seconds", {})}
        # Time between the driver and the worker: waiting for a free slot plus Ray's
        # dispatch, and the final report's way back (both are framework, not training).
        if candidate.ready and "started_at" in payload:
            seconds["wait"] = max(0.0, payload["started_at"] - candidate.ready)
            seconds["return"] = max(0.0, time.time() - payload["ended_at"])
        if payload.get("failed"):
            self._finish_failed(
                candidate.trial,
                payload.get("error", "unknown error"),
                candidate.counts,
                candidate,
                seconds,
            )
            return
        metrics = payload["metrics"]
        missing = [o.name for o in self.plan.objectives if metrics.get(metric_key(o.name)) is None]
        if missing:
            self._finish_failed(
                candidate.trial,
                f"no value for objective(s) {', '.join(missing)}",
                candidate.counts,
                candidate,
                seconds,
            )
            return
        values = objective_values(self.plan.objectives, metrics)
        self._tell(
            candidate.trial,
            rf.COMPLETE,
            TrialState.COMPLETE,
            values,
            {
                rf.ATTR_METRICS: metrics,
                rf.ATTR_EPOCHS: payload.get("epochs", 0),
                rf.ATTR_HISTORY: payload.get("history", []),
                rf.ATTR_SECONDS: _total(seconds),
                rf.ATTR_CONSTRAINTS: candidate.constraints,
                **candidate.reported,
                **{k: payload[k] for k in _WHERE if k in payload},
                rf.ATTR_ATTEMPTS: candidate.attempts,
            },
            candidate,
        )

    def _finish_stopped(self, candidate: Candidate) -> None:
        last = candidate.history[-1] if candidate.history else {}
        metrics = {**candidate.counts, **{k: v for k, v in last.items() if k != "epoch"}}
        seconds = {**candidate.seconds, "total": time.time() - candidate.started}
        self._tell(
            candidate.trial,
            rf.STOPPED_EARLY,
            TrialState.PRUNED,
            None,
            {
                rf.ATTR_METRICS: metrics,
                rf.ATTR_EPOCHS: int(last.get("epoch", 0)),
                rf.ATTR_HISTORY: candidate.history,
                rf.ATTR_SECONDS: seconds,
                rf.ATTR_CONSTRAINTS: candidate.constraints,
                **candidate.reported,
            },
            candidate,
        )

    def _finish_failed(
        self,
        trial: optuna.Trial,
        reason: str,
        counts: dict,
        candidate: Candidate | None = None,
        seconds: dict | None = None,
    ) -> None:
        attrs = {rf.ATTR_ERROR: reason, rf.ATTR_METRICS: counts}
        if candidate is not None:
            attrs.update(
                {
                    rf.ATTR_SECONDS: _total(seconds or candidate.seconds),
                    rf.ATTR_HISTORY: candidate.history,
                    rf.ATTR_ATTEMPTS: candidate.attempts,
                    **candidate.reported,
                }
            )
        self._tell(trial, rf.FAILED, TrialState.FAIL, None, attrs, candidate)

    def _tell(
        self,
        trial: optuna.Trial,
        state: str,
        optuna_state: TrialState,
        values: list[float] | None,
        attrs: dict[str, Any],
        candidate: Candidate | None,
    ) -> None:
        # The trial's files first, then its attributes, the state last: a kill or a full
        # disk in between leaves a RUNNING trial, which a resume re-runs, never a
        # finished trial with half its record or without its files.
        if self.storage_failure:
            return
        if self.rung_of is not None and attrs.get(rf.ATTR_EPOCHS):
            attrs = {**attrs, rf.ATTR_RUNG: self.rung_of(int(attrs[rf.ATTR_EPOCHS]))}
        history = attrs.get(rf.ATTR_HISTORY) or []
        compact = {rf.ATTR_HISTORY: compact_history(history)} if history else {}
        try:
            self._write_metrics(trial.number, state, attrs)  # the full per-epoch records
            record_outcome(
                self.study, trial, {**attrs, **compact, rf.ATTR_STATE: state}, values, optuna_state
            )
        except Exception as error:
            if not is_storage_failure(error):
                raise
            self.fail_storage(f"trial {trial.number}: its record", error)
            return
        if candidate is None or candidate.repeat_of is None:  # a skipped repeat is no query
            self.decided += 1
        try:  # after the record: its curves, the run folder's tables and the live view
            self._write_curves(trial.number, history)
            self.on_finished(trial.number, state, attrs)
        except Exception as error:
            if not is_storage_failure(error):
                raise
            self.fail_storage("the run folder's tables or curves", error)

    def fail_storage(self, what: str, error: BaseException) -> None:
        """Remembers the first failed write; the search stops (see `storage_failure`)."""
        if self.storage_failure is None:
            self.storage_failure = f"{what} could not be written ({storage_reason(error)})"
            self.finished = True

    # --- per-trial files ------------------------------------------------------------

    def _trial_dir(self, number: int) -> Path:
        return self.plan.run_dir / rf.TRIALS_DIR / str(number)

    def _write_curves(self, number: int, history: list[dict]) -> None:
        try:
            write_tensorboard(self.plan.run_dir, number, history)
        except (ImportError, OSError) as error:  # the curves are extra; the trial counts
            if isinstance(error, OSError) and is_storage_failure(error):
                raise
            if not self.curves_failed:
                note(f"nas search: no TensorBoard curves ({one_line(error)})")
            self.curves_failed = True

    def _write_metrics(self, number: int, state: str, attrs: dict[str, Any]) -> None:
        from evaluators.flop_conventions import DESCRIPTIONS

        document = {
            "number": number,
            "state": state,
            "flop_convention": DESCRIPTIONS[self.plan.experiment.search.flop_convention],
            **attrs,
        }
        durable = not getattr(self.plan, "instant", False)  # see TrialPlan.sample
        write_json(self._trial_dir(number) / rf.METRICS_FILE, document, durable=durable)


def _total(seconds: dict[str, float]) -> dict[str, float]:
    if "total" not in seconds:
        seconds = {**seconds, "total": sum(seconds.values())}
    return seconds
