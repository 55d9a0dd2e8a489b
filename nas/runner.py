"""Runs a search: the run folder, the Optuna study, Ray, and Ray Tune driving the trials.

Design: we drive Optuna ask/tell ourselves, behind Tune's Searcher interface
(nas/searcher.py), rather than using ``ray.tune.search.optuna.OptunaSearch``:

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
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
from ray import tune

from nas import run_format as rf
from nas.atomic import write_json, write_text
from nas.config import ExperimentConfig
from nas.objectives import needs_training, to_records
from nas.progress import Progress
from nas.samplers import make_sampler
from nas.searcher import StudySearcher, TrialPlan, count_decided, recover_interrupted
from search_space.errors import SpaceError

# Environment for the driver and (through the job's runtime_env) every worker.
_RAY_ENV = {
    "RAY_CHDIR_TO_TRIAL_DIR": "0",  # workers keep the working directory (relative paths)
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",  # our run folder is the record, not Tune's
    "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1",  # the final report has no val_accuracy
    "TUNE_MAX_PENDING_TRIALS_PG": "1",  # ask Optuna only when a worker is about to be free
    "TUNE_GLOBAL_CHECKPOINT_S": "3600",  # Tune's own experiment state is never restored
    "TUNE_PRINT_ALL_TRIAL_ERRORS": "0",  # a dead worker is recorded in its trial instead
    "RAY_AIR_NEW_OUTPUT": "0",  # with verbose=0: no experiment banner on stdout
}
_TEST_ENV = ("NAS_TEST_FAIL_TRIALS", "NAS_TEST_KILL_TRIALS")


@dataclass
class SearchOutcome:
    run_dir: Path
    storage: str
    study_name: str
    target: int
    decided: int
    finished: bool  # every asked-for trial has an outcome
    counts: dict[str, int] = field(default_factory=dict)
    front: list[dict[str, Any]] = field(default_factory=list)
    hypervolume: float | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "storage": self.storage,
            "study_name": self.study_name,
            "trials": self.target,
            "decided": self.decided,
            "finished": self.finished,
            "counts": self.counts,
            "hypervolume": self.hypervolume,
            "pareto": self.front,
            "seconds": round(self.seconds, 2),
        }


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
    _check_run_folder(experiment.run_dir, experiment.resume)
    seeds = _seed_params(experiment) if not experiment.resume else []
    if needs_training(experiment.search.objectives):
        _check_data(experiment)
    # Ray's driver prints worker deaths on stdout ("(raylet) A worker died..."); each is
    # recorded in its trial instead, and stdout stays clean for --json.
    with contextlib.redirect_stdout(_Discard()), _ray_session(experiment.search.address):
        resources = _plan_resources(experiment.search)
        if on_start is not None:
            on_start()
        return _search(experiment, seeds, resources, started, progress_stream or sys.stderr)


def _search(
    experiment: ExperimentConfig, seeds: list[dict], resources: tuple, started: float, stream: Any
) -> SearchOutcome:
    run_dir = experiment.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    storage, study_name = _storage_url(experiment), experiment.search.study_name or run_dir.name
    study = _open_study(experiment, storage, study_name)
    if not experiment.resume:
        write_text(run_dir / rf.CONFIG_FILE, _yaml(experiment.to_document()))
        for params in seeds:
            study.enqueue_trial(params, user_attrs={"seed_arch": True})
    _write_run_json(run_dir, experiment, storage, study_name, rf.RUNNING)
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
        _write_run_json(run_dir, experiment, storage, study_name, status, outcome)
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
            seed=_sampler_seed(search.seed, study),
            trials=search.trials,
            parallel=concurrency > 1,
        )
        progress = Progress(search.trials, count_decided(study), stream=stream)
        progress.set_counts(_state_counts(study))
        refresher = _Refresher(experiment, study, progress)
        searcher = StudySearcher(
            study, TrialPlan(experiment), search.trials, refresher.trial_finished
        )
        with _sigterm_as_sigint():
            _tuner(experiment, searcher, progress, scratch, cpus, gpus, concurrency).fit()
        searcher.flush_errors()
        progress.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _tuner(
    experiment: ExperimentConfig,
    searcher: StudySearcher,
    progress: Progress,
    scratch: Path,
    cpus: float,
    gpus: float,
    concurrency: int,
) -> Any:
    from nas.trial import run_trial

    search = experiment.search
    resources = {"cpu": cpus, "gpu": gpus}
    scheduler = _scheduler(experiment, searcher)
    return tune.Tuner(
        tune.with_resources(run_trial, resources),
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=-1,
            max_concurrent_trials=concurrency,
            reuse_actors=True,
            trial_name_creator=lambda trial: f"trial_{trial.trial_id}",
            trial_dirname_creator=lambda trial: f"trial_{trial.trial_id}",
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(scratch),
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=search.max_retries),
            callbacks=[_TuneEvents(searcher, progress)],
        ),
    )


def _scheduler(experiment: ExperimentConfig, searcher: StudySearcher) -> Any:
    search, epochs = experiment.search, experiment.train.epochs
    if search.early_stopping != "asha" or not needs_training(search.objectives):
        return None
    if epochs < 2:
        print(
            "nas search: --early-stopping asha needs train.epochs >= 2; it is off", file=sys.stderr
        )
        return None
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
        max_t=epochs,
        grace_period=min(search.asha_grace_period, epochs),
        reduction_factor=search.asha_reduction_factor,
    )


class _TuneEvents(tune.Callback):
    """Tune's view of the trials, passed to the searcher and the live view."""

    def __init__(self, searcher: StudySearcher, progress: Progress):
        self.searcher, self.progress = searcher, progress

    def __getstate__(self) -> dict:  # pickled by Tune for a restore we never do
        return {}

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self.progress.tick(sum(1 for t in trials if t.status == "RUNNING"))

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.searcher.record_retry(trial.trial_id)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        attempts = int(getattr(trial.run_metadata, "num_failures", 1) or 1)
        self.searcher.record_worker_error(trial.trial_id, _error_reason(trial), attempts)


def _error_reason(trial: Any) -> str:
    """One line from Tune's error file: the worker's exit detail, or the exception line."""
    try:
        text = Path(trial.error_file).read_text() if trial.error_file else ""
    except OSError:
        text = ""
    block = text.rsplit("Failure #", 1)[-1]
    lines = [line.strip() for line in block.splitlines()[1:] if line.strip()]
    detail = next((line for line in lines if "exit detail" in line.lower()), None)
    reason = detail or (lines[-1] if lines else "the worker process died")
    return reason[:300]


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
    from nas.run_folder import update_run_folder

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


# --- Ray -------------------------------------------------------------------------------


@contextlib.contextmanager
def _ray_session(address: str | None) -> Iterator[None]:
    """Ray for the duration of the search; a Ray started here is shut down after."""
    started = _init_ray(address)
    try:
        yield
    finally:
        if started:
            import ray

            ray.shutdown()


def _init_ray(address: str | None) -> bool:
    """Connects to `address` ("auto" or HOST:PORT) or starts Ray in this process.

    Returns True when this process started Ray (and must shut it down).
    """
    import ray

    os.environ.update(_RAY_ENV)
    env = {**_RAY_ENV, **{k: os.environ[k] for k in _TEST_ENV if k in os.environ}}
    options = {
        "log_to_driver": False,
        "include_dashboard": False,
        "logging_level": logging.ERROR,
        "runtime_env": {"env_vars": env},
    }
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(address="local", **options)
        return True
    if address != "auto":
        _check_reachable(address)
        _use_auth_token_if_any()
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, TimeoutError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SpaceError(
            f"--address {address}: cannot join a Ray cluster there ({first}); "
            "start one with `ray start --head`, or leave --address out to run "
            "on this machine"
        ) from None
    return False


def _use_auth_token_if_any() -> None:
    """Sends this machine's Ray token (~/.ray/auth_token, RAY_AUTH_TOKEN) to an explicit
    address, as `ray start` and ray.init("auto") do; Ray itself does not for HOST:PORT."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray without token authentication
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _check_reachable(address: str) -> None:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise SpaceError(
            f"--address {address}: no Ray cluster answers there ({reason}); "
            "start one with `ray start --head --port PORT`, or leave --address "
            "out to run on this machine"
        ) from None


def _plan_resources(search: Any) -> tuple[float, float, int]:
    """(CPUs, GPUs) per trial and how many trials run at once; refuses what cannot fit."""
    import ray

    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    most_cpus = max((n.get("CPU", 0.0) for n in nodes), default=0.0)
    most_gpus = max((n.get("GPU", 0.0) for n in nodes), default=0.0)
    gpus = search.gpus_per_trial
    if gpus is None:
        gpus = 1.0 if most_gpus >= 1 else 0.0
    if search.cpus_per_trial > most_cpus:
        raise SpaceError(
            f"--cpus-per-trial {search.cpus_per_trial:g}: no node of the cluster "
            f"has that many CPUs (the largest has {most_cpus:g})"
        )
    if gpus > most_gpus:
        raise SpaceError(
            f"--gpus-per-trial {gpus:g}: no node of the cluster has that many "
            f"GPUs (the largest has {most_gpus:g})"
        )
    fit = sum(
        int(n.get("CPU", 0.0) // search.cpus_per_trial)
        if not gpus
        else min(int(n.get("CPU", 0.0) // search.cpus_per_trial), int(n.get("GPU", 0.0) // gpus))
        for n in nodes
    )
    concurrency = search.max_concurrent or max(1, fit)
    return search.cpus_per_trial, gpus, min(concurrency, search.trials)


@contextlib.contextmanager
def _sigterm_as_sigint() -> Iterator[None]:
    """SIGTERM (a cluster scheduler's stop) ends the search like Ctrl-C: gracefully."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- the study and the run folder ------------------------------------------------------


def _storage_url(experiment: ExperimentConfig) -> str:
    if experiment.search.storage:
        return experiment.search.storage
    return f"sqlite:///{(experiment.run_dir / rf.STUDY_FILE).resolve()}"


def _open_study(experiment: ExperimentConfig, storage: str, study_name: str) -> optuna.Study:
    from nas.run_folder import run_reference_point

    search = experiment.search
    directions = [o.direction for o in search.objectives]
    sampler = optuna.samplers.RandomSampler(seed=search.seed)  # replaced before sampling
    try:
        if experiment.resume:
            study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
            return study
        study = optuna.create_study(
            study_name=study_name, storage=storage, directions=directions, sampler=sampler
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise SpaceError(
            f"--storage: a study named {study_name!r} already exists there; "
            "continue it with --resume, or name another --output"
        ) from None
    except KeyError:
        raise SpaceError(f"--resume: no study named {study_name!r} in {storage}") from None
    except Exception as error:  # an unreachable database server, a bad URL
        raise SpaceError(
            f"--storage {storage}: cannot open it "
            f"({type(error).__name__}: {str(error).splitlines()[0]})"
        ) from None
    study.set_metric_names([o.name for o in search.objectives])
    study.set_user_attr(rf.STUDY_OBJECTIVES, to_records(search.objectives))
    study.set_user_attr(rf.STUDY_CONFIG, _json_safe(experiment.to_document()))
    from nas.constraints import to_mapping

    reference = run_reference_point(
        list(search.objectives),
        experiment.space,
        to_mapping(search.constraints),
        search.reference_point,
    )
    study.set_user_attr(rf.STUDY_REFERENCE_POINT, reference)
    return study


def _sampler_seed(seed: int, study: optuna.Study) -> int:
    """A resumed sampler must not replay the random start-up samples it already drew."""
    return seed + len(study.get_trials(deepcopy=False))


def _state_counts(study: optuna.Study) -> dict[str, int]:
    counts: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        state = trial.user_attrs.get(rf.ATTR_STATE)
        if trial.state.is_finished() and not trial.user_attrs.get(rf.ATTR_INTERRUPTED):
            counts[state] = counts.get(state, 0) + 1
    return counts


def _check_run_folder(run_dir: Path, resume: bool) -> None:
    from nas.run_folder import _read_run_json, is_in_progress

    run_file = run_dir / rf.RUN_FILE
    if run_file.is_file() and is_in_progress(_read_run_json(run_file)):
        raise SpaceError(
            f"--output {run_dir}: a search is still running there (see {run_file}); stop it first"
        )
    if resume:
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise SpaceError(f"--output {run_dir}: is a file, not a folder")
    if (run_dir / rf.CONFIG_FILE).exists() or (run_dir / rf.STUDY_FILE).exists():
        raise SpaceError(
            f"--output {run_dir}: already holds a run; continue it with --resume, "
            "or name another folder"
        )


def _check_data(experiment: ExperimentConfig) -> None:
    """Loads a few images now, so a wrong dataset is one line, not N failed trials."""
    import dataclasses

    from evaluators.datasets import load_dataset

    probe = dataclasses.replace(experiment.data, limit=min(experiment.data.limit or 64, 64))
    load_dataset(probe, experiment.space.input)


def _seed_params(experiment: ExperimentConfig) -> list[dict[str, Any]]:
    from nas.optuna_chooser import architecture_params
    from search_space import load_architecture

    params = []
    for path in experiment.search.seed_archs:
        arch = load_architecture(path)
        params.append(architecture_params(experiment.space, arch, f"--seed-archs {path}"))
    return params


def _write_run_json(
    run_dir: Path,
    experiment: ExperimentConfig,
    storage: str,
    study_name: str,
    status: str,
    outcome: SearchOutcome | None = None,
) -> None:
    import platform

    import ray
    import torch

    path = run_dir / rf.RUN_FILE
    previous = {}
    if path.is_file():
        import json

        with contextlib.suppress(OSError, ValueError):
            previous = json.loads(path.read_text())
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    info = {
        **previous,
        rf.RUN_STATUS: status,
        rf.RUN_PID: os.getpid(),
        rf.RUN_HOST: socket.gethostname(),
        rf.RUN_STUDY_NAME: study_name,
        "started": previous.get("started", now),
        "updated": now,
        "command": sys.argv,
        "space": experiment.space.name,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "optuna": optuna.__version__,
            "ray": ray.__version__,
        },
    }
    if experiment.search.storage:
        info[rf.RUN_STORAGE] = storage
    if status != rf.RUNNING:
        info["ended"] = now
    if outcome is not None:
        info.update(
            trials=outcome.target,
            decided=outcome.decided,
            counts=outcome.counts,
            seconds=round(outcome.seconds, 2),
        )
    write_json(path, info)


def _yaml(document: dict) -> str:
    import yaml

    return yaml.safe_dump(_json_safe(document), sort_keys=False, default_flow_style=None, width=100)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _quiet_libraries() -> None:
    """Our progress view is the console: Optuna's per-trial logs and Ray's chatter go."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for name in ("ray", "ray.tune", "ray.train", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(optuna|ray|torch)\.")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray\.")
