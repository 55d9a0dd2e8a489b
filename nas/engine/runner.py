"""Runs a search: the run folder, the Optuna study, Ray, and Ray Tune driving the trials.

Design: we drive Optuna ask/tell ourselves, behind Tune's Searcher interface
(nas/engine/searcher.py), rather than using ``ray.tune.search.optuna.OptunaSearch``:

- the study in its storage is the single source of truth, so ``--resume`` is "load the
  study, re-queue what was running, run the remaining trials" with a fresh Tune
  experiment; Tune's own experiment state is scratch and never restored;
- constraints are checked in the driver before a trial is handed to Tune, so an
  infeasible candidate never reaches a worker, and it is told to Optuna with its
  constraint values (OptunaSearch can neither skip a trial nor set constraints);
- every outcome gets its own Optuna state and a recorded reason (OptunaSearch tells a
  failed trial FAIL without one, and knows nothing of infeasible or stopped trials).

Tune keeps what it is good at: placing trials on the cluster with per-trial CPUs and
(fractional) GPUs, ASHA, and re-running a trial whose worker died (FailureConfig).
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from nas.engine.cluster import plan_resources, ray_session, sigterm_as_sigint
from nas.engine.config import ExperimentConfig
from nas.engine.objectives import needs_training
from nas.engine.outcome import SearchOutcome
from nas.engine.plan import TrialPlan
from nas.engine.progress import Progress
from nas.engine.samplers import make_sampler
from nas.engine.searcher import StudySearcher
from nas.engine.study import (
    check_data,
    check_run_folder,
    config_yaml,
    count_decided,
    open_study,
    recover_interrupted,
    sampler_seed,
    seed_params,
    state_counts,
    storage_url,
    write_run_json,
)
from nas.engine.tuner import make_tuner
from nas.runs import format as rf
from nas.runs.atomic import write_text


def run_search(
    experiment: ExperimentConfig,
    *,
    progress_stream: Any = None,
    on_start: Callable[[], None] | None = None,
) -> SearchOutcome:
    """Runs (or resumes) the search described by `experiment`; returns its outcome.

    Every check a user can fail (the folder, the seeds, the data, the cluster and its
    resources) runs before the run folder is written.
    """
    started = time.monotonic()
    _quiet_libraries()
    check_run_folder(experiment.run_dir, experiment.resume)
    seeds = seed_params(experiment) if not experiment.resume else []
    if needs_training(experiment.search.objectives):
        check_data(experiment)
    # Ray's driver prints worker deaths on stdout ("(raylet) A worker died..."); each is
    # recorded in its trial instead, and stdout stays clean for --json.
    with contextlib.redirect_stdout(_Discard()), ray_session(experiment.search.address):
        resources = plan_resources(experiment.search)
        if on_start is not None:
            on_start()
        return _search(experiment, seeds, resources, started, progress_stream or sys.stderr)


def _search(
    experiment: ExperimentConfig, seeds: list[dict], resources: tuple, started: float, stream: Any
) -> SearchOutcome:
    run_dir = experiment.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    storage, study_name = storage_url(experiment), experiment.search.study_name or run_dir.name
    study = open_study(experiment, storage, study_name)
    if not experiment.resume:
        write_text(run_dir / rf.CONFIG_FILE, config_yaml(experiment.to_document()))
        for params in seeds:
            study.enqueue_trial(params, user_attrs={"seed_arch": True})
    write_run_json(run_dir, experiment, storage, study_name, rf.RUNNING)
    recovered = recover_interrupted(study, "the search process stopped before it finished")
    if recovered:
        print(
            f"nas search: re-queued {len(recovered)} interrupted trial(s): "
            f"{', '.join(map(str, recovered))}",
            file=sys.stderr,
        )
    outcome = SearchOutcome(
        run_dir, storage, study_name, experiment.search.trials, count_decided(study), False
    )
    status = rf.INTERRUPTED
    try:
        if outcome.decided < outcome.target:
            _run_trials(experiment, study, resources, stream)
        outcome.decided = count_decided(study)
        outcome.finished = outcome.decided >= outcome.target
        status = rf.FINISHED if outcome.finished else rf.INTERRUPTED
    finally:
        recover_interrupted(study, "the search stopped before this trial finished")
        if study.get_trials(deepcopy=False):
            _refresh(run_dir, study, experiment, outcome)
        outcome.seconds = time.monotonic() - started
        write_run_json(run_dir, experiment, storage, study_name, status, outcome)
    return outcome


# --- the trials ----------------------------------------------------------------------


def _run_trials(
    experiment: ExperimentConfig, study: optuna.Study, resources: tuple, stream: Any
) -> None:
    search = experiment.search
    cpus, gpus, concurrency = resources
    scratch = Path(tempfile.mkdtemp(prefix="nas-tune-"))
    try:
        study.sampler = make_sampler(
            search.sampler,
            seed=sampler_seed(search.seed, study),
            trials=search.trials,
            parallel=concurrency > 1,
        )
        progress = Progress(search.trials, count_decided(study), stream=stream)
        progress.set_counts(state_counts(study))
        refresher = _Refresher(experiment, study, progress)
        searcher = StudySearcher(
            study, TrialPlan(experiment), search.trials, refresher.trial_finished
        )
        with sigterm_as_sigint():
            make_tuner(experiment, searcher, progress, scratch, cpus, gpus, concurrency).fit()
        searcher.flush_errors()
        progress.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Refresher:
    """After every trial: the run folder's tables and pruned weights, then the live view.

    A refresh reads the whole study, so it is skipped while the last one took more than a
    tenth of the time since (a big study on a busy driver). Plots cost about a second, so
    they are redrawn at most every five minutes; the final refresh always draws them.
    """

    PLOT_EVERY_S = 300.0

    def __init__(self, experiment: ExperimentConfig, study: optuna.Study, progress: Progress):
        self.experiment, self.study, self.progress = experiment, study, progress
        self.cost, self.last = 0.0, -math.inf
        self.plot_cost, self.last_plot = 0.0, time.monotonic()  # the first after 5 minutes

    def trial_finished(self, number: int, state: str, attrs: dict) -> None:
        now = time.monotonic()
        plots = self.experiment.search.plots and (
            now - self.last_plot >= max(self.PLOT_EVERY_S, 20 * self.plot_cost)
        )
        if plots or now - self.last >= 10 * self.cost:
            results = _update_run_folder(self.experiment, self.study, plots=plots)
            cost = time.monotonic() - now
            if plots:
                self.plot_cost, self.last_plot = cost, now
            else:
                self.cost = cost
            self.last = now
            self.progress.set_results(results)
        self.progress.trial_finished(number, state, attrs)


def _update_run_folder(
    experiment: ExperimentConfig, study: optuna.Study, *, plots: bool | None = None
) -> Any:
    from nas.runs.tables import update_run_folder

    plots = experiment.search.plots if plots is None else plots
    return update_run_folder(experiment.run_dir, study, plots=plots)


def _refresh(
    run_dir: Path, study: optuna.Study, experiment: ExperimentConfig, outcome: SearchOutcome
) -> None:
    results = _update_run_folder(experiment, study)
    outcome.counts = results.counts()
    outcome.hypervolume = results.hypervolume
    columns = [
        c
        for c in (
            "number",
            *(o.name for o in experiment.search.objectives),
            "params",
            "flops",
            "summary",
        )
        if c in results.front.columns
    ]
    outcome.front = results.front[list(dict.fromkeys(columns))].to_dict("records")


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def _quiet_libraries() -> None:
    """Our progress view is the console: Optuna's per-trial logs and Ray's chatter go."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for name in ("ray", "ray.tune", "ray.train", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(optuna|ray|torch)\.")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
