"""Ray for a search: in this process, or a cluster joined with --address; resources.

A local Ray is started in this process by default (``address="local"``, never someone
else's cluster by accident). ``--address auto|HOST:PORT`` joins an existing cluster
(``ray start --head``); `nas.engine.cluster_probe` first checks that a Ray GCS answers there
(one SpaceError line within seconds otherwise), and watches it during the search: a
cluster that stops answering ends the search with one line and the resume hint (exit
2), before Ray's own 60-second give-up would end the process with exit 1. Per-trial
CPUs and GPUs are checked against the largest node, so a request no node can hold
fails at once instead of waiting forever.

Ray's own log lines (its C++ core's warnings, Python ERROR records of Tune and Ray)
stay off the console unless `verbose`: what matters is recorded in the trials.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from typing import Any

from nas.engine.cluster_probe import ClusterWatch, find_cluster, resolve_address
from nas.engine.trial import FAIL_ENV, KILL_ENV, MARKER_ENV
from search_space.errors import SpaceError

# Environment for the driver and (through the job's runtime_env) every worker.
RAY_ENV = {
    "RAY_CHDIR_TO_TRIAL_DIR": "0",  # workers keep the working directory (relative paths)
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",  # our run folder is the record, not Tune's
    "TUNE_DISABLE_STRICT_METRIC_CHECKING": "1",  # the final report has no val_accuracy
    "TUNE_MAX_PENDING_TRIALS_PG": "1",  # ask Optuna only when a worker is about to be free
    "TUNE_GLOBAL_CHECKPOINT_S": "3600",  # Tune's own experiment state is never restored
    "TUNE_PRINT_ALL_TRIAL_ERRORS": "0",  # a dead worker is recorded in its trial instead
    "RAY_AIR_NEW_OUTPUT": "0",  # with verbose=0: no experiment banner on stdout
}
TEST_ENV = (FAIL_ENV, KILL_ENV, MARKER_ENV)  # test-only fault injection, see nas/engine/trial.py


def check_address(address: str | None) -> str | None:
    """HOST:PORT of the Ray cluster at `address` ("auto" resolved), after checking that a
    Ray GCS answers there (one SpaceError line otherwise); None for Ray in this process."""
    if not address:
        return None
    target = resolve_address(address)
    label = f"--address {address}" + (f" (found {target})" if target != address else "")
    find_cluster(target, label)
    return target


@contextlib.contextmanager
def ray_session(
    address: str | None,
    target: str | None = None,
    *,
    resume_command: str = "nas search --resume --output RUN",
    verbose: bool = False,
) -> Iterator[ClusterWatch | None]:
    """Ray for the duration of the search; a Ray started here is shut down after.

    `target` is `check_address(address)` (asked here when not given). With an address,
    yields the watch on that cluster (`on_abandon` may be set: it runs when the search
    cannot stop by itself after the cluster went away). `resume_command` continues this
    run; the message of a lost cluster shows it.
    """
    target = target or check_address(address)
    started = _init_ray(target, address, verbose)
    lost = lost_cluster_message(address, target, resume_command) if target else ""
    watch = ClusterWatch(target, lost) if target else None
    try:
        yield watch
    except KeyboardInterrupt:  # the watch interrupts the search when the cluster is gone
        if watch is not None and watch.lost:
            raise SpaceError(watch.message) from None
        raise
    finally:
        if watch is not None:
            watch.stop()
        if started:
            import ray

            ray.shutdown()
    if watch is not None and watch.lost:
        raise SpaceError(watch.message)


def lost_cluster_message(address: str | None, target: str, resume_command: str) -> str:
    """The one line a search ends with when its cluster stops answering. A resume reuses
    the stored address, so the line also says how to continue on this machine instead
    (``--address local``: Ray in the resuming process)."""
    shown = target if address == target else f"{address} ({target})"
    return (
        f"--address {shown}: the Ray cluster stopped answering during the search; the "
        f"trials finished so far are saved; continue with: {resume_command} once the "
        f"cluster answers again, or on this machine with: {resume_command} --address local"
    )


def _init_ray(target: str | None, address: str | None, verbose: bool) -> bool:
    """Connects to `target` (HOST:PORT) or starts Ray in this process.

    Returns True when this process started Ray (and must shut it down).
    """
    import ray

    os.environ.update(RAY_ENV)
    env = {**RAY_ENV, **{k: os.environ[k] for k in TEST_ENV if k in os.environ}}
    options = {
        "log_to_driver": verbose,
        "include_dashboard": False,
        "logging_level": logging.INFO if verbose else logging.CRITICAL,
        "runtime_env": {"env_vars": env},
    }
    if ray.is_initialized():
        return False
    if target is None:
        _start_local_ray(options)
        return True
    _use_auth_token_if_any()
    try:
        ray.init(address=target, **options)
    except (ConnectionError, RuntimeError, TimeoutError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SpaceError(
            f"--address {address}: cannot join a Ray cluster there ({first}); "
            "start one with `ray start --head`, or leave --address out to run "
            "on this machine"
        ) from None
    return False


def _start_local_ray(options: dict, tries: int = 2) -> None:
    """Starts Ray in this process. Ray gives its node 30 s to come up, which a machine
    busy with other work can miss: one more try, then one line instead of a traceback."""
    import ray

    for attempt in range(1, tries + 1):
        try:
            ray.init(address="local", **options)
            return
        except Exception as error:  # Ray raises a bare Exception for this
            if "timed out during startup" not in str(error):
                raise
            ray.shutdown()  # what the failed start left running
            if attempt == tries:
                raise SpaceError(
                    f"Ray could not start on this machine: its node did not come up within "
                    f"30 s, {tries} times (a machine busy with other work does this); nothing "
                    "was lost: run the same command again when it is less busy"
                ) from None


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


def plan_resources(search: Any) -> tuple[float, float, int]:
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


def check_devices(experiment: Any, gpus: float) -> None:
    """A trial whose train.device (fixed, or one of its choices) is CUDA needs a GPU: with
    none per trial (the cluster has none, or --gpus-per-trial 0) it is refused here, before
    any trial, rather than failing every CUDA trial on its worker."""
    chosen = experiment.recipe.get("device")
    devices = chosen if isinstance(chosen, list | tuple) else [experiment.train.device]
    cuda = [str(d) for d in devices if str(d).startswith("cuda")]
    if cuda and not gpus:
        where = "this machine has" if not experiment.search.address else "the cluster has"
        raise SpaceError(
            f"train.device: {', '.join(cuda)} needs a GPU, but {where} none for a trial "
            "(no GPU, or --gpus-per-trial 0); choose cpu or auto, or run where there is one"
        )


@contextlib.contextmanager
def sigterm_as_sigint() -> Iterator[None]:
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
