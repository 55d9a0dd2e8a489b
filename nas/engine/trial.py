"""The Ray Tune trainable: one candidate, built, scored and reported from a worker.

The driver has already sampled, built, counted and checked the candidate against the
constraints (nas/engine/searcher.py); this function trains and measures what the objectives
need, on the device Ray assigned to it, with torch's thread count set to its CPU share.

Reports: one per epoch but the last (``epoch``, ``val_accuracy`` for ASHA), then one
final report with ``final: True``. Everything the driver records travels as one JSON
string under ``payload``, because Tune flattens nested result dicts; the trained weights
travel as bytes under ``files`` (nas/engine/trial_files.py), and the driver writes them.
The trial never writes outside its Ray working directory, so the run folder may live on
the driver's machine alone. A Python exception
(a shape error, a non-finite loss, CUDA out of memory) becomes a final report with
``failed: True`` and a one-line reason, never a Tune error: Tune's retries are kept for
workers that die (killed, out of host memory), which raise no exception here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from nas.engine.trial_files import FILES_KEY, weights_file, where

# Test-only fault injection, read in the worker (comma-separated trial numbers):
# NAS_TEST_FAIL_TRIALS makes those trials raise; NAS_TEST_KILL_TRIALS kills their worker
# process once (a marker file in the folder NAS_TEST_MARKERS remembers), to
# exercise retries.
FAIL_ENV, KILL_ENV = "NAS_TEST_FAIL_TRIALS", "NAS_TEST_KILL_TRIALS"
MARKER_ENV = "NAS_TEST_MARKERS"  # the folder that remembers which trials were killed once
_KILL_MARKER = ".killed-once"

_DATASETS: dict[str, Any] = {}  # one loaded dataset per worker process (actors are reused)


def run_trial(config: dict[str, Any]) -> None:
    """Tune function trainable; `config` is built by `nas.engine.searcher.TrialPlan`."""
    from ray import tune

    started = time.perf_counter()
    seconds: dict[str, float] = {}
    # Every report says where the trial runs, so even a stopped or failed trial has it.
    location = where(_device(config["train"].get("device", "auto"), _resources()[1]))
    payload: dict[str, Any] = {"final": True, "number": config["number"], "started_at": time.time()}
    payload.update(location)
    files: dict[str, bytes] = {}
    try:
        payload.update(_evaluate(config, seconds, lambda r: tune.report(r | location), files))
    except Exception as error:  # every candidate failure is recorded, not raised
        payload.update(failed=True, error=one_line(error))
        files.clear()
    seconds["total"] = time.perf_counter() - started
    payload["seconds"] = seconds
    payload["ended_at"] = time.time()
    final = {"final": True, "payload": json.dumps(payload, default=_json_default), **location}
    tune.report(final | ({FILES_KEY: files} if files else {}))


def _evaluate(
    config: dict[str, Any], seconds: dict[str, float], report: Any, files: dict[str, bytes]
) -> dict[str, Any]:
    import torch

    from evaluators.config import DataConfig, TrainConfig
    from search_space import build_model, load_architecture
    from search_space.plugins import import_plugins

    import_plugins(config.get("plugins"))  # the user's components, as in the driver
    number = config["number"]
    cpus, gpus = _resources()
    threads = max(1, math.floor(cpus))
    _inject_faults(number)
    train = TrainConfig.from_dict(config["train"])
    train = dataclasses.replace(train, threads=threads, device=_device(train.device, gpus))
    tick = time.perf_counter()
    arch = load_architecture(config["arch"])
    torch.manual_seed(train.seed)  # the same weights at init for the same candidate
    model = build_model(arch)
    seconds["build"] = time.perf_counter() - tick
    metrics: dict[str, Any] = dict(config["counts"])
    result: dict[str, Any] = {"metrics": metrics, "epochs": 0, "threads": threads}
    shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
    if config["proxies"]:
        tick = time.perf_counter()
        metrics.update(_proxies(config["proxies"], model, config, arch, train))
        seconds["proxies"] = time.perf_counter() - tick
    if config["train_model"]:
        data = DataConfig.from_dict(config["data"])
        trained = _train(model, data, train, arch, report)
        seconds["train"] = trained["train_seconds"] + trained["eval_seconds"]
        result.update(epochs=trained["epochs"], history=trained["history"])
        metrics.update(
            {
                k: trained[k]
                for k in (
                    "accuracy",
                    "loss",
                    "balanced_accuracy",
                    "macro_f1",
                    "balanced_accuracy_se_eval",  # the class scores' evaluation noise
                    "macro_f1_se_eval",
                    "best_accuracy",
                    "train_loss",
                    "images_per_second",
                )
            }
        )
        metrics["confusion"] = trained["confusion"]  # metrics.json and the model card
        metrics["val_images"] = trained["val_images"]  # the binomial noise rests on it
        metrics["chance_accuracy"] = trained["chance_accuracy"]  # nas/runs/quality.py
    if config["latency"]:
        from evaluators.latency import measure_latency

        tick = time.perf_counter()
        latency = measure_latency(model, shape, device=train.device)
        metrics["latency_ms"] = latency["latency_ms"]
        seconds["latency"] = time.perf_counter() - tick
    if config.get("evaluators"):
        tick = time.perf_counter()
        metrics.update(_user_metrics(config, model, arch, train))
        seconds["evaluators"] = time.perf_counter() - tick
    if config["train_model"] and config["save_weights"]:
        tick = time.perf_counter()
        files.update(weights_file(model.to("cpu")))
        seconds["save"] = time.perf_counter() - tick
    return result


def _train(model: Any, data: Any, train: Any, arch: Any, report: Any) -> dict[str, Any]:
    from evaluators.training import train_and_evaluate

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        # The last epoch arrives with the final report, so ASHA never stops a finished trial.
        if epoch < train.epochs:
            entry = {"epoch": epoch, "accuracy": metrics["accuracy"], "loss": metrics["loss"]}
            report(
                {"epoch": epoch, "val_accuracy": metrics["accuracy"], "payload": json.dumps(entry)}
            )

    dataset = _dataset(data, arch.input)
    return train_and_evaluate(model, dataset, train, expected_input=arch.input, on_epoch=on_epoch)


def _dataset(data: Any, expected_input: Any) -> Any:
    from evaluators.datasets import load_dataset

    key = json.dumps(
        [dataclasses.asdict(data), dataclasses.astuple(expected_input)], sort_keys=True
    )
    if key not in _DATASETS:
        _DATASETS.clear()  # keep one: a worker serves one search at a time
        _DATASETS[key] = load_dataset(data, expected_input)
    return _DATASETS[key]


def _proxies(names: list[str], model: Any, config: dict, arch: Any, train: Any) -> dict:
    from evaluators.config import DataConfig
    from evaluators.proxies import compute_proxy

    dataset = _dataset(DataConfig.from_dict(config["data"]), arch.input)
    return {
        name: float(_proxy_value(compute_proxy(name, model, dataset=dataset, device=train.device)))
        for name in names
    }


def _user_metrics(config: dict, model: Any, arch: Any, train: Any) -> dict[str, float]:
    """The plug-in evaluators named in the objectives, on the (trained) model."""
    from evaluators.config import DataConfig
    from evaluators.plugin_metrics import EvaluatorConfig, evaluate

    data = DataConfig.from_dict(config["data"])
    context = EvaluatorConfig(arch, data, train, train.device, bool(config["train_model"]))
    model = model.to(train.device).eval()
    return evaluate(config["evaluators"], model, _dataset(data, arch.input), context)


def _proxy_value(value: Any) -> float:
    return value[next(iter(value))] if isinstance(value, dict) else value


def _resources() -> tuple[float, float]:
    """(CPUs, GPUs) Tune reserved for this trial."""
    from ray import tune

    try:
        required = tune.get_context().get_trial_resources().required_resources
    except Exception:  # outside Tune (tests call run_trial's parts directly)
        return float(os.cpu_count() or 1), 0.0
    return float(required.get("CPU", 1.0)), float(required.get("GPU", 0.0))


def _device(requested: str, gpus: float) -> str:
    """The trial's assigned device: CUDA when Ray gave it a GPU share, else CPU.

    Ray hides other GPUs (CUDA_VISIBLE_DEVICES), so "cuda" is the assigned one. An explicit
    train.device other than "auto" is respected.
    """
    if requested != "auto":
        return requested
    if gpus > 0:
        import torch

        if torch.cuda.is_available():
            return "cuda"
    return "cpu"


def _inject_faults(number: int) -> None:
    if str(number) in os.environ.get(FAIL_ENV, "").split(","):
        raise RuntimeError(f"injected failure in trial {number} ({FAIL_ENV})")
    if str(number) in os.environ.get(KILL_ENV, "").split(","):
        # A folder the test gives (its tmp_path): it outlives the killed worker and is
        # new for every test, which neither the working directory nor Tune's is.
        marker = Path(os.environ[MARKER_ENV]) / f"{_KILL_MARKER}-{number}"
        if not marker.exists():
            marker.touch()
            os._exit(17)  # the worker dies as if killed; Tune retries the trial


def one_line(error: BaseException, limit: int = 300) -> str:
    """'TypeName: first line of the message', at most `limit` characters."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_default(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else str(value)
