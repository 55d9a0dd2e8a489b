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
import logging
import math
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna

from nas.engine.cluster import (
    check_address,
    check_devices,
    plan_resources,
    ray_session,
    sigterm_as_sigint,
)
from nas.engine.config import ExperimentConfig
from nas.engine.fault_points import reached
from nas.engine.objectives import is_instant, needs_training
from nas.engine.outcome import SearchOutcome
from nas.engine.outcome_record import is_storage_failure, storage_reason
from nas.engine.plan import TrialPlan
from nas.engine.progress import Progress
from nas.engine.ray_notices import raylet_notices_dropped
from nas.engine.samplers import make_sampler
from nas.engine.searcher import StudySearcher
from nas.engine.storage import StorageChoice, check_storage
from nas.engine.study import (
    check_data,
    check_run_folder,
    config_yaml,
    count_decided,
    open_study,
    recover_interrupted,
    sampler_seed,
    seed_params,
    write_run_json,
)
from nas.engine.tuner import make_tuner
from nas.runs import format as rf
from nas.runs.atomic import write_text
from search_space.errors import SpaceError


def run_search(
    experiment: ExperimentConfig,
    *,
    progress_stream: Any = None,
    on_start: Callable[[], None] | None = None,
    verbose: bool = False,
) -> SearchOutcome:
    """Runs (or resumes) the search described by `experiment`; returns its outcome.

    Every check a user can fail (the folder, the seeds, the data, the cluster and its
    resources) runs before the run folder is written. `verbose` lets Ray's and Optuna's
    own log lines through to the console.
    """
    from nas.runs.lock import run_lock

    started = time.monotonic()
    _quiet_libraries(verbose)
    # First of all: one search per run folder, held until this search ends.
    with run_lock(experiment.run_dir):
        reached("locked")
        check_run_folder(experiment.run_dir, experiment.resume)
        storage = check_storage(experiment)  # before Ray: a bad database costs no start-up
        reached("checked")
        if is_instant(experiment.search.objectives):  # scored in this process: no Ray
            seeds = seed_params(experiment) if storage.fresh else []
            if on_start is not None:
                on_start()
            stream = progress_stream or sys.stderr
            return _search(experiment, storage, seeds, (1, 0, 1), started, stream)
        target = check_address(experiment.search.address)  # seconds, before the data is read
        seeds = seed_params(experiment) if storage.fresh else []
        if needs_training(experiment.search.objectives):
            check_data(experiment)
        # Ray's driver prints worker deaths on stdout; each is recorded in its trial instead.
        resume = f"nas search --resume --output {experiment.run_dir}"
        notices = contextlib.nullcontext() if verbose else raylet_notices_dropped()
        session = ray_session(
            experiment.search.address, target, resume_command=resume, verbose=verbose
        )
        with notices, session as watch:
            resources = plan_resources(experiment.search)
            check_devices(experiment, gpus=resources[1])
            reached("ray")
            if on_start is not None:
                on_start()
            stream = progress_stream or sys.stderr
            return _search(experiment, storage, seeds, resources, started, stream, watch)


def _search(
    experiment: ExperimentConfig,
    choice: StorageChoice,
    seeds: list[dict],
    resources: tuple,
    started: float,
    stream: Any,
    watch: Any = None,
) -> SearchOutcome:
    run_dir = experiment.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    storage, study_name = choice.url, choice.study_name
    if not experiment.resume:  # first: a folder with a study always has its config
        write_text(run_dir / rf.CONFIG_FILE, config_yaml(experiment.to_document()))
    reached("config")
    study = open_study(experiment, storage, study_name, create=choice.fresh, restart=choice.restart)
    reached("study")
    if choice.fresh:
        for params in seeds:
            study.enqueue_trial(params, user_attrs={"seed_arch": True})
    reached("seeds")
    # Last of the start-up: a folder without run.json is a start cut short (see check_storage).
    write_run_json(run_dir, experiment, storage, study_name, rf.RUNNING)
    reached("running")
    if watch is not None:  # the cluster is gone and the search cannot stop by itself
        watch.on_abandon = lambda: _abandon(experiment, study, storage, study_name)
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
    progress = Progress(outcome.target, outcome.decided, stream=stream)
    status = rf.INTERRUPTED
    failure: list[str] = []  # a write the disk or the database refused
    try:
        if outcome.decided < outcome.target:
            _run_trials(experiment, study, resources, progress, failure)
        outcome.decided = count_decided(study)
        outcome.finished = outcome.decided >= outcome.target and not failure
        status = rf.FINISHED if outcome.finished else rf.INTERRUPTED
    finally:
        with _unless_storage_fails(failure, "the study"):
            recover_interrupted(study, "the search stopped before this trial finished")
        with _unless_storage_fails(failure, "the run folder's tables"):
            if study.get_trials(deepcopy=False):
                # One analysis for the run folder, the live view's last line and the summary.
                progress.finish(_refresh(run_dir, study, experiment, outcome))
        outcome.seconds = time.monotonic() - started
        with _unless_storage_fails(failure, rf.RUN_FILE):
            write_run_json(run_dir, experiment, storage, study_name, status, outcome)
    if failure:
        raise SpaceError(
            f"{failure[0]}; the search stopped there, and every trial it had recorded is "
            f"kept; free some space, then continue with: nas search --resume --output {run_dir}"
        )
    return outcome


def _abandon(
    experiment: ExperimentConfig, study: optuna.Study, storage: str, study_name: str
) -> None:
    """The cluster is gone and the search's own stop is stuck in Ray: the trials that were
    in flight are recorded as interrupted (queued again for the resume) in the study and
    trials.csv, and run.json says interrupted, before the process ends."""
    try:
        recover_interrupted(study, "the Ray cluster was lost")
        _update_run_folder(experiment, study, plots=False)
    finally:
        write_run_json(experiment.run_dir, experiment, storage, study_name, rf.INTERRUPTED)


@contextlib.contextmanager
def _unless_storage_fails(failure: list[str], what: str) -> Iterator[None]:
    """After a write failed, the clean-up's own writes may fail too: they are skipped
    (the first failure is the one reported), anything else still raises."""
    try:
        yield
    except Exception as error:
        if not is_storage_failure(error):
            raise
        if not failure:
            failure.append(f"{what} could not be written ({storage_reason(error)})")


# --- the trials ----------------------------------------------------------------------


def _run_trials(
    experiment: ExperimentConfig,
    study: optuna.Study,
    resources: tuple,
    progress: Progress,
    failure: list[str],
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
        progress.start(_analyse(study))
        plan = TrialPlan(experiment)
        refresher = _Refresher(experiment, study, progress, share=0.02 if plan.instant else 0.1)
        if plan.instant:
            from nas.engine.instant import run_in_driver

            progress.every_trial = False
            with sigterm_as_sigint():
                searcher = run_in_driver(
                    study, plan, search.trials, refresher.trial_finished, refresher.read_from
                )
        else:
            searcher = StudySearcher(study, plan, search.trials, refresher.trial_finished)
            with sigterm_as_sigint():
                make_tuner(experiment, searcher, progress, scratch, cpus, gpus, concurrency).fit()
        if searcher.storage_failure:
            failure.append(searcher.storage_failure)
            return
        searcher.flush_errors()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Refresher:
    """After every trial: the run folder's tables and pruned weights, then the live view.

    A refresh reads the whole study, so it is skipped while the last one took more than a
    tenth of the time since (a big study on a busy driver), a fiftieth in a search scored
    in the driver, where the refresh competes with the trials themselves. Its cost grows
    with the study, so the last one's is scaled by the trials since (past the first
    `FIXED_UNTIL`, below which a refresh's fixed part dominates). Plots cost about a
    second, so they are redrawn at most every five minutes; the final refresh always draws
    them.
    """

    PLOT_EVERY_S = 300.0
    FIXED_UNTIL = 200  # trials

    def __init__(
        self,
        experiment: ExperimentConfig,
        study: optuna.Study,
        progress: Progress,
        *,
        share: float = 0.1,
    ):
        import pandas  # noqa: F401  the tables' library, loaded at start: the first
        # refresh's cost, which spaces the next, is then its own (pandas takes 0.3 s)

        self.experiment, self.study, self.progress = experiment, study, progress
        self.spacing = 1 / share  # a refresh waits this many times its own cost
        self.cost, self.last, self.size = 0.0, -math.inf, 0
        self.plot_cost, self.last_plot = 0.0, time.monotonic()  # the first after 5 minutes

    def read_from(self, study: optuna.Study) -> None:
        """Refreshes read `study` from now on: a driver-scored search's in-memory copy,
        which holds what the storage holds whenever a trial is reported here."""
        self.study = study

    def trial_finished(self, number: int, state: str, attrs: dict) -> None:
        now = time.monotonic()
        plots = self.experiment.search.plots and (
            now - self.last_plot >= max(self.PLOT_EVERY_S, 20 * self.plot_cost)
        )
        growth = max(1.0, (number + 1) / max(self.size, self.FIXED_UNTIL))
        if plots or now - self.last >= self.spacing * self.cost * growth:
            results = _update_run_folder(self.experiment, self.study, plots=plots)
            cost = time.monotonic() - now
            if plots:
                self.plot_cost, self.last_plot = cost, now
            else:
                self.cost, self.size = cost, number + 1
            self.last = now
            self.progress.set_results(results)
        self.progress.trial_finished(number, state, attrs)


def _update_run_folder(
    experiment: ExperimentConfig, study: optuna.Study, *, plots: bool | None = None
) -> Any:
    from nas.runs.tables import update_run_folder

    plots = experiment.search.plots if plots is None else plots
    return update_run_folder(experiment.run_dir, study, plots=plots)


def _analyse(study: optuna.Study) -> Any:
    from nas.runs.results import analyse_study

    return analyse_study(study, arch_yaml=False)


def _refresh(
    run_dir: Path, study: optuna.Study, experiment: ExperimentConfig, outcome: SearchOutcome
) -> Any:
    """The final analysis: written to the run folder and copied into the outcome."""
    results = _update_run_folder(experiment, study)
    outcome.counts, outcome.retried = results.counts(), results.retried
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
    return results


def _quiet_libraries(verbose: bool = False) -> None:
    """Our progress view is the console: Optuna's per-trial logs and Ray's chatter go
    (Ray's ERROR records too: each failure is recorded in its trial)."""
    if verbose:
        return
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for name in ("ray", "ray.tune", "ray.train", "ray.data"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(optuna|ray|torch)\.")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
