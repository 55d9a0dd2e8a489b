"""`nas verify RUN`: retrain every Pareto-front member with several training seeds.

One search trains each candidate once, with one seed, and the front is chosen from those
numbers, so part of a member's lead may be luck. Verify retrains each member from scratch
with fresh seeds (train.seed + 1 .. train.seed + N: not the search's own seed, whose luck
picked the front) and the trial's own recipe (its sampled train.* choices included), and
records every finished seed in RUN/verify.csv (nas/runs/verification.py), so a killed
verify keeps them and a second call trains only what is missing. Seeds run as Ray tasks,
like a search's trials: on Ray in this process, as many at once as there are CPUs for
(search.cpus_per_trial each), or on the search's cluster when it ran with --address.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from nas.runs import format as rf
from nas.runs.lock import run_lock
from nas.runs.verification import read_rows, summarise, write_rows, write_summary
from search_space.errors import SpaceError

MAX_SEEDS = 1000  # more retrainings of each member than anyone can wait for
# What a retraining gives, per seed.
MEASURED = ("accuracy", "balanced_accuracy", "macro_f1", "loss", "flops", "params")
SCORED = ("accuracy", "balanced_accuracy", "macro_f1")  # a run must have one as objective
# On the held-out test split: the per-image 0/1 scores and the images' classes (balanced
# accuracy weighs each class equally: nas/runs/analysis/evidence.py).
TESTED = ("test_accuracy", "test_balanced_accuracy", "test_images", "test_correct", "test_labels")
_DATASETS: dict[str, Any] = {}  # one loaded dataset per process (Ray workers are reused)


def verify_run(
    run_dir: str | os.PathLike,
    seeds: int = 3,
    epochs: int | None = None,
    picks: list[str] | None = None,
    threads: int | None = None,
    on_seed: Callable[[dict[str, Any]], None] | None = None,
    address: str | None = None,
    members: list[int] | None = None,
    need_test: bool = False,
    on_start: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Trains what verify.csv lacks, then returns verify.json's document.

    `picks` chooses the members as `nas export --pick` does (default: the whole front);
    `threads` sets torch's CPU threads per seed (default: train.threads, else the
    search's CPUs per trial); `address` is where the seeds run: None for where the
    search ran, "local" for Ray in this process, or "auto" / HOST:PORT. `members` (trial
    numbers) overrides `picks`: `nas verify --winners` passes the winner call's candidates.
    Every seed is also scored on the run's test split when it keeps one (verify.csv:
    test_accuracy, test_images and test_correct, the per-image 0/1 scores); `need_test`
    refuses a run that keeps none before anything trains. `on_start(to_train, kept)` is
    called once the work is known; `on_seed(row)` after every seed."""
    from nas.runs.folder import open_run
    from nas.runs.picks import select_trials
    from nas.runs.results import analyse_study

    if not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise SpaceError(
            f"--seeds: {seeds} must be a whole number from 1 to {MAX_SEEDS} (each seed "
            "retrains every member; 3 to 10 is usual)"
        )
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise SpaceError(f"--threads: {threads} must be at least 1 (torch's CPU threads)")
    if epochs is not None and epochs < 1:
        raise SpaceError(f"--epochs: {epochs} must be at least 1")
    run = open_run(run_dir)
    study = run.load_study()  # Optuna's: the trials' params hold their sampled recipe
    results = analyse_study(study, run_dir=run.path)
    if results.front.empty and members is None:
        raise SpaceError(f"{run.path}: the Pareto front is empty; nothing to verify")
    config = _with_address(run.config(study), address)
    if need_test:
        _require_test_split(run.path, config.get("data"))
    objectives = [o.name for o in results.objectives if o.name in MEASURED]
    if not set(SCORED) & set(objectives):
        raise SpaceError(
            f"{run.path}: verify retrains for accuracy (or balanced_accuracy, macro_f1), "
            "which the run did not score"
        )
    if members is None:
        members = select_trials(results, picks or ["pareto"])
    jobs, problems = _jobs(run.path, study, config, members, seeds, epochs)
    if not jobs:
        raise SpaceError(problems)
    if threads is not None:
        jobs = [{**job, "train": {**job["train"], "threads": threads}} for job in jobs]
    table = results.table
    summaries = {int(n): str(s) for n, s in zip(table["number"], table["summary"])}
    searched = _searched(table)
    with run_lock(run.path):  # one writer of verify.csv: no search, no second verify
        document = _train_missing(
            run.path, jobs, objectives, summaries, searched, config, on_seed, on_start
        )
    if problems:  # the members verified are in verify.json; these could not be
        raise PartialVerify(problems, document)
    return document


class PartialVerify(SpaceError):
    """Some members could not be verified (`problems`, one line each); `document` is
    verify.json's document for the others."""

    def __init__(self, problems: list[str], document: dict[str, Any]):
        super().__init__(problems)
        self.document = document


def _with_address(config: dict[str, Any], address: str | None) -> dict[str, Any]:
    """The run's config with the cluster to use: the given one, else the search's (then
    checked here, so a cluster that is gone says how to verify on this machine)."""
    from nas.engine.settings import check_setting

    search = dict(config.get("search") or {})
    if address is not None:
        search["address"] = check_setting("address", address, "--address")
    elif search.get("address"):
        reason = _unreachable(search["address"])
        if reason:
            raise SpaceError(
                f"the search ran on the Ray cluster at {search['address']}, which does not "
                f"answer now ({reason}); start it again, or verify on this machine with "
                "--address local"
            )
    return {**config, "search": search}


def _unreachable(address: str) -> str | None:
    """Why the Ray cluster at `address` does not answer (a few words), or None."""
    from nas.engine.cluster_probe import probe, resolve_address

    try:
        target = resolve_address(address)
    except SpaceError:
        return "no cluster started with `ray start` on this machine"
    return probe(target)


def _train_missing(
    run_dir: Path,
    jobs: list[dict[str, Any]],
    objectives: list[str],
    summaries: dict[int, str],
    searched: dict[int, dict[str, float]],
    config: dict[str, Any],
    on_seed: Callable[[dict[str, Any]], None] | None,
    on_start: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    rows = _resume_rows(run_dir, jobs)
    done = {(int(r["trial"]), int(r["seed"])) for r in rows}
    pending = [job for job in jobs if (job["trial"], job["seed"]) not in done]
    if on_start is not None:
        on_start(len(pending), len(jobs) - len(pending))
    columns = [*rf.VERIFY_COLUMNS, *MEASURED, *TESTED, "seconds"]
    for row in _run_jobs(pending, run_dir, config.get("search") or {}):
        rows.append(row)
        write_rows(run_dir, rows, columns)  # after every seed: a kill keeps it
        write_summary(run_dir, summarise(rows, objectives, summaries, searched))
        if on_seed is not None:
            on_seed(row)
    document = summarise(rows, objectives, summaries, searched)
    write_summary(run_dir, document)
    return document


def _searched(table: Any) -> dict[int, dict[str, float]]:
    """What the search recorded per trial: accuracy, its standard error, chance level."""
    import pandas as pd

    columns = [c for c in ("accuracy", "accuracy_se", "chance_accuracy") if c in table.columns]
    found = {}
    for _, row in table.iterrows():
        values = {c: float(row[c]) for c in columns if pd.notna(row[c])}
        found[int(row["number"])] = values
    return found


def _jobs(
    run_dir: Path, study: Any, config: dict, members: list[int], seeds: int, epochs: int | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The seeds to train, and one line per member whose architecture is lost."""
    from evaluators.train_choices import check_train, sampled_recipe, with_recipe
    from nas.runs.trial_architecture import trial_architecture

    data = _data_config(config.get("data"))
    base = check_train(config.get("train"))
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    jobs, problems = [], []
    for number in members:
        try:  # its trial folder, else trials.csv, else its parameters replayed
            arch = trial_architecture(run_dir, trials[number], config)
        except SpaceError as error:
            problems += error.problems
            continue
        train = with_recipe(base, sampled_recipe(trials[number].params))
        length = epochs or train.epochs
        train = dataclasses.replace(
            train, epochs=length, warmup_epochs=min(train.warmup_epochs, length)
        )
        for seed in range(base.seed + 1, base.seed + 1 + seeds):
            jobs.append(
                {
                    "trial": number,
                    "seed": seed,
                    "arch": arch,
                    "data": dataclasses.asdict(data),
                    "train": dataclasses.asdict(dataclasses.replace(train, seed=seed)),
                    "plugins": config.get("plugins") or [],
                    "flop_convention": (config.get("search") or {}).get("flop_convention"),
                }
            )
    return jobs, problems


def _require_test_split(run_dir: Path, section: dict[str, Any] | None) -> None:
    from evaluators.datasets import keeps_test_split

    if not keeps_test_split(_data_config(section)):
        raise SpaceError(
            f"{run_dir}: the run keeps no test split (searched before test splits existed, or "
            "with data.test_fraction: 0), so the winner call cannot be tested on images the "
            "search never saw; search again (mnist5k now holds 1,000 test images out)"
        )


def _data_config(section: dict[str, Any] | None) -> Any:
    """The search's data section. A run recorded before test splits existed trained on
    every image outside validation, so it keeps no test split (test_fraction 0): its
    seeds train on exactly the images the search trained on."""
    from evaluators.config import DataConfig

    section = dict(section or {})
    section.setdefault("test_fraction", 0.0)
    return DataConfig.from_dict(section)


def _resume_rows(run_dir: Path, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """verify.csv's rows, when they were trained for as many epochs as these jobs."""
    rows = read_rows(run_dir)
    wanted = {job["train"]["epochs"] for job in jobs}
    other = sorted({int(r["epochs"]) for r in rows} - wanted)
    if other:
        raise SpaceError(
            f"{run_dir / rf.VERIFY_CSV} holds seeds trained for {other[0]} epochs; "
            f"verify again with --epochs {other[0]}, or delete the file to start over"
        )
    keys = {(job["trial"], job["seed"]) for job in jobs}
    return [r for r in rows if (int(r["trial"]), int(r["seed"])) in keys]


def _run_jobs(
    jobs: list[dict[str, Any]], run_dir: Path, search: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Every seed as a Ray task, like a search's trials: on Ray in this process (as many
    at once as the machine has CPUs for), or on the search's cluster (search.address),
    each with a trial's CPUs (as many torch threads) and GPU; results as they finish."""
    if not jobs:
        return
    import ray

    from nas.engine.cluster import ray_session

    resume = f"nas verify {run_dir}"
    with ray_session(search.get("address"), resume_command=resume):
        cpus, gpus = _task_resources(search)
        task = ray.remote(num_cpus=cpus, num_gpus=gpus)(train_member)
        threads = max(1, int(cpus))
        pending = [task.remote(_with_threads(job, threads)) for job in jobs]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield _result(done[0])
        finally:
            for ref in pending:  # a stopped verify leaves no seed training behind
                ray.cancel(ref, force=True)


def _result(ref: Any) -> dict[str, Any]:
    """A finished seed's row; a failed seed raises what train_member raised (a training
    failure or a user error), not Ray's wrapper of it."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        if isinstance(error.cause, Exception):
            raise error.cause from None
        raise


def _task_resources(search: dict[str, Any]) -> tuple[float, float]:
    """(CPUs, GPUs) per seed: the search's per-trial request; a GPU where the cluster has
    one and the search did not say otherwise."""
    import ray

    cpus = float(search.get("cpus_per_trial") or 1.0)
    gpus = search.get("gpus_per_trial")
    if gpus is None:
        gpus = 1.0 if ray.cluster_resources().get("GPU", 0.0) >= 1 else 0.0
    most = max((n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")), default=0)
    return min(cpus, most or cpus), float(gpus)


def _with_threads(job: dict[str, Any], threads: int) -> dict[str, Any]:
    if job["train"].get("threads"):  # --threads given: the user's choice
        return job
    return {**job, "train": {**job["train"], "threads": threads}}


def train_member(job: dict[str, Any]) -> dict[str, Any]:
    """Trains one member with one seed from scratch; its verify.csv row."""
    import torch

    from evaluators.config import DataConfig, TrainConfig
    from evaluators.flop_conventions import DEFAULT as DEFAULT_CONVENTION
    from evaluators.flops import count_flops
    from evaluators.training import train_and_evaluate
    from search_space import build_model, count_params, load_architecture
    from search_space.plugins import import_plugins

    import_plugins(job["plugins"])
    arch = load_architecture(job["arch"])
    train = TrainConfig.from_dict(job["train"])
    torch.manual_seed(train.seed)  # the initial weights differ per seed too
    model = build_model(arch)
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    convention = job.get("flop_convention") or DEFAULT_CONVENTION
    counts = {
        "flops": count_flops(model, shape, convention=convention)["flops"],
        "params": count_params(model),
    }
    started = time.perf_counter()
    dataset = _dataset(DataConfig.from_dict(job["data"]), arch.input)
    result = train_and_evaluate(model, dataset, train, expected_input=arch.input)
    return {
        "trial": job["trial"],
        "seed": train.seed,
        "epochs": train.epochs,
        **{name: result[name] for name in (*SCORED, "loss")},
        **counts,
        **_test_scores(model, dataset, train),
        "seconds": time.perf_counter() - started,
    }


def _test_scores(model: Any, dataset: Any, train: Any) -> dict[str, Any]:
    """The seed's per-image scores on the test split (none when the run keeps none)."""
    from evaluators.training import correct_per_image
    from nas.runs.analysis.evidence import class_weights, pack_correct, pack_labels

    if dataset.test is None:
        return {}
    correct = correct_per_image(model, dataset, dataset.test, train).numpy()
    labels = dataset.test.labels.numpy()
    return {
        "test_accuracy": float(correct.mean()),
        "test_balanced_accuracy": float((correct * class_weights(labels)).mean()),
        "test_images": int(correct.size),
        "test_correct": pack_correct(correct),
        "test_labels": pack_labels(labels),
    }


def _dataset(data: Any, expected_input: Any) -> Any:
    import json

    from evaluators.datasets import load_dataset

    key = json.dumps([dataclasses.asdict(data), dataclasses.astuple(expected_input)])
    if key not in _DATASETS:
        _DATASETS.clear()
        _DATASETS[key] = load_dataset(data, expected_input)
    return _DATASETS[key]
