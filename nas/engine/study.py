"""The Optuna study and the run folder of a search: create or reopen, check, record.

The study (SQLite in the run folder unless --storage names another) is the record of a
search; run.json says who is writing the folder and how it ended; config.yaml is the
resolved experiment, itself a valid space file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState

from nas.engine.config import ExperimentConfig
from nas.engine.objectives import to_records
from nas.runs import format as rf
from nas.runs.atomic import write_json
from nas.runs.storage_url import redact_url
from nas.runs.study_guard import one_line
from search_space.errors import SpaceError

if TYPE_CHECKING:
    from nas.engine.outcome import SearchOutcome


def open_study(
    experiment: ExperimentConfig,
    storage: str,
    study_name: str,
    *,
    create: bool,
    restart: bool = False,
) -> optuna.Study:
    """The study: loaded, or (`create`) created; with `restart`, after dropping what a
    start that was cut short left of it (no trial beyond the queued seeds)."""
    from nas.engine.reference import run_reference_point

    search = experiment.search
    directions = [o.direction for o in search.objectives]
    sampler = optuna.samplers.RandomSampler(seed=search.seed)  # replaced before sampling
    try:
        if not create:
            study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler)
            return study
        if restart:
            _drop_unstarted(storage, study_name)
        study = optuna.create_study(
            study_name=study_name, storage=storage, directions=directions, sampler=sampler
        )
    except optuna.exceptions.DuplicatedStudyError:
        raise SpaceError(
            f"--storage: a study named {study_name!r} already exists there; "
            "continue it with --resume, or name another --output"
        ) from None
    except KeyError:
        shown = redact_url(storage)
        raise SpaceError(f"--resume: no study named {study_name!r} in {shown}") from None
    except Exception as error:  # an unreachable database server, a bad URL
        raise SpaceError(
            f"--storage {redact_url(storage)}: cannot open it ({redact_url(one_line(error))})"
        ) from None
    study.set_metric_names([o.name for o in search.objectives])
    study.set_user_attr(rf.STUDY_OBJECTIVES, to_records(search.objectives))
    study.set_user_attr(rf.STUDY_CONFIG, _json_safe(experiment.to_document()))
    from nas.engine.constraints import to_mapping

    reference = run_reference_point(
        list(search.objectives),
        experiment.space,
        to_mapping(search.constraints),
        search.reference_point,
    )
    study.set_user_attr(rf.STUDY_REFERENCE_POINT, reference)
    return study


def _drop_unstarted(storage: str, study_name: str) -> None:
    """Deletes a study that a cut-short start created, if it has one: it holds nothing
    but queued seeds, which are queued again. A study with any other trial is kept."""
    if study_name not in optuna.get_all_study_names(storage):
        return
    study = optuna.load_study(study_name=study_name, storage=storage)
    if any(t.state != TrialState.WAITING for t in study.get_trials(deepcopy=False)):
        raise SpaceError(
            f"--resume: {redact_url(storage)} holds trials of study {study_name!r}, but "
            f"the run folder has no {rf.RUN_FILE}; restore it from a backup"
        )
    optuna.delete_study(study_name=study_name, storage=storage)


def sampler_seed(seed: int, study: optuna.Study) -> int:
    """A resumed sampler must not replay the random start-up samples it already drew."""
    return seed + len(study.get_trials(deepcopy=False))


def count_decided(study: optuna.Study) -> int:
    """Trials that count towards --trials: recorded outcomes, interrupted ones and skipped
    repeats excluded."""
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state.is_finished()
        and t.user_attrs.get(rf.ATTR_STATE) in rf.TERMINAL_STATES
        and not t.user_attrs.get(rf.ATTR_INTERRUPTED)
        and t.user_attrs.get(rf.ATTR_REPEAT_OF) is None  # search.repeats: skip
    )


def recover_interrupted(study: optuna.Study, reason: str) -> list[int]:
    """Marks trials left RUNNING by a search that is no longer running as failed and
    interrupted, and enqueues their parameters so the same candidates run again first.

    Call only when no other process is working on the study. Returns their numbers.
    """
    recovered = []
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    queued = {t.user_attrs.get(rf.ATTR_RETRY_OF) for t in waiting}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage, trial_id = study._storage, trial._trial_id
        storage.set_trial_user_attr(trial_id, rf.ATTR_STATE, rf.FAILED)
        storage.set_trial_user_attr(trial_id, rf.ATTR_ERROR, f"interrupted: {reason}")
        storage.set_trial_user_attr(trial_id, rf.ATTR_INTERRUPTED, True)
        # Idempotent: a kill between the enqueue and the state change does not queue twice.
        if trial.params and trial.number not in queued:
            study.enqueue_trial(trial.params, user_attrs={rf.ATTR_RETRY_OF: trial.number})
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        recovered.append(trial.number)
    return recovered


def check_run_folder(run_dir: Path, resume: bool) -> None:
    from nas.runs.folder import is_in_progress, read_run_json

    run_file = run_dir / rf.RUN_FILE
    if run_file.is_file() and is_in_progress(read_run_json(run_file)):
        raise SpaceError(
            f"--output {run_dir}: a search is still running there (see {run_file}); stop it first"
        )
    if resume:
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise SpaceError(f"--output {run_dir}: is a file, not a folder")
    # A study.db without run.json is a start cut short (before config.yaml came first):
    # a new search starts over there.
    if (run_dir / rf.CONFIG_FILE).exists() or (
        (run_dir / rf.STUDY_FILE).exists() and run_file.exists()
    ):
        raise SpaceError(
            f"--output {run_dir}: already holds a run; continue it with --resume, "
            "or name another folder"
        )


def check_data(experiment: ExperimentConfig, stream: Any = None) -> None:
    """Reads the data now, so a wrong dataset is one line, not N failed trials.

    A dataset kept in the machine's dataset cache (imagefolder, CIFAR, MNIST) is decoded
    here in full, with its progress line, under exactly the settings the trials use: the
    trials on this machine then open that entry instead of decoding it silently inside
    the first one, every image is checked before a trial starts, and no partial entry is
    left in the cache. A dataset read into memory by each trial (mnist5k, plug-ins) is
    probed on 64 images, since reading it all here would be repeated by every trial.
    """
    import dataclasses

    from evaluators.datasets import is_cached, load_dataset

    data = experiment.data
    if not is_cached(data.name):
        probe = dataclasses.replace(data, limit=min(data.limit or 64, 64))
        load_dataset(probe, experiment.space.input)
        return
    # On disk: the driver only needs the cache entry built and checked, not the pixels.
    loaded = load_dataset(dataclasses.replace(data, in_memory=False), experiment.space.input)
    if not loaded.decoded:
        print(
            f"data: {data.name}, {len(loaded.train):,} training and {len(loaded.val):,} "
            f"validation images, from the dataset cache {loaded.cache}",
            file=stream or sys.stderr,
        )


def seed_params(experiment: ExperimentConfig) -> list[dict[str, Any]]:
    from nas.engine.chooser import architecture_params
    from search_space import load_architecture

    params = []
    for path in experiment.search.seed_archs:
        arch = load_architecture(path)
        params.append(architecture_params(experiment.space, arch, f"--seed-archs {path}"))
    return params


def write_run_json(
    run_dir: Path,
    experiment: ExperimentConfig,
    storage: str,
    study_name: str,
    status: str,
    outcome: SearchOutcome | None = None,
) -> None:
    path = run_dir / rf.RUN_FILE
    previous = _previous_run_json(path)
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    info = {
        **previous,
        rf.RUN_STATUS: status,
        rf.RUN_PID: os.getpid(),
        rf.RUN_HOST: socket.gethostname(),
        rf.RUN_STUDY_NAME: study_name,
        "started": previous.get("started", now),
        "updated": now,
        "command": [redact_url(arg) for arg in sys.argv],
        "space": experiment.space.name,
        "versions": _versions(),
    }
    if experiment.search.storage:
        info[rf.RUN_STORAGE] = redact_url(storage)
    if status != rf.RUNNING:
        info["ended"] = now
    if outcome is not None:
        info.update(
            trials=outcome.target,
            decided=outcome.decided,
            counts=outcome.counts,
            seconds=round(outcome.seconds, 2),
        )
    try:
        write_json(path, info)
    except OSError as error:
        if error.errno != errno.ENOSPC or not path.is_file():
            raise
        _rewrite_in_place(path, info)


def _rewrite_in_place(path: Path, info: dict[str, Any]) -> None:
    """On a full disk the atomic write (a new file, renamed) has no room; run.json is
    rewritten in the blocks it already has, so it still tells how the search ended."""
    import json

    data = json.dumps(info, indent=2).encode()
    with path.open("r+b") as handle:
        handle.write(data)
        handle.truncate(len(data))
        handle.flush()
        os.fsync(handle.fileno())


def _previous_run_json(path: Path) -> dict[str, Any]:
    """What run.json held (a resumed run keeps its start time); {} if absent or unreadable."""
    import json

    previous = {}
    if path.is_file():
        with contextlib.suppress(OSError, ValueError):
            previous = json.loads(path.read_text())
    return previous


def _versions() -> dict[str, str]:
    import platform

    import ray
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "optuna": optuna.__version__,
        "ray": ray.__version__,
    }


def config_yaml(document: dict) -> str:
    import yaml

    return yaml.safe_dump(_json_safe(document), sort_keys=False, default_flow_style=None, width=100)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
