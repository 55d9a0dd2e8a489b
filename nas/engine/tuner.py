"""The Ray Tune experiment of a search: the trainable with its resources, the searcher,
ASHA when asked for, and a callback passing Tune's trial events to the searcher and the
live view. Tune's own experiment folder is scratch: the study is the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray import tune

from nas.engine.config import ExperimentConfig
from nas.engine.progress import Progress
from nas.engine.searcher import StudySearcher
from nas.engine.trial_files import FILES_KEY


def make_tuner(
    experiment: ExperimentConfig,
    searcher: StudySearcher,
    progress: Progress,
    scratch: Path,
    cpus: float,
    gpus: float,
    concurrency: int,
) -> Any:
    from nas.engine.trial import run_trial

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
            stop=_StopOnStorageFailure(searcher),
        ),
    )


def _scheduler(experiment: ExperimentConfig, searcher: StudySearcher) -> Any:
    from nas.engine.schedulers.build import make_scheduler

    return make_scheduler(experiment, searcher)


class _StopOnStorageFailure(tune.Stopper):
    """Stops every trial once a write to the run folder or the study failed (disk full):
    what they would train could not be kept."""

    def __init__(self, searcher: StudySearcher):
        self.searcher = searcher

    def __getstate__(self) -> dict:
        return {}

    def __call__(self, trial_id: str, result: dict) -> bool:
        return self.stop_all()

    def stop_all(self) -> bool:
        return bool(getattr(self.searcher, "storage_failure", None))


class _TuneEvents(tune.Callback):
    """Tune's view of the trials, passed to the searcher and the live view."""

    def __init__(self, searcher: StudySearcher, progress: Progress):
        self.searcher, self.progress = searcher, progress

    def __getstate__(self) -> dict:  # pickled by Tune for a restore we never do
        return {}

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        # Tune hands callbacks the result before its loggers and before keeping it as the
        # trial's last result: the weights leave it here, written once, never logged.
        files = result.pop(FILES_KEY, None)
        if files:
            self.searcher.receive_files(trial.trial_id, files)

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
