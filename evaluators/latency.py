"""Forward-pass latency: median wall-clock time after warm-up, in milliseconds.

Conventions: eval mode under ``torch.inference_mode``; one random input batch reused;
on CUDA the device is synchronized around every timed pass, bf16 autocast and
channels-last are used as in training (see ``evaluators.device``). The median is
robust to the odd preempted run on a shared machine; the device name and the torch
thread count are recorded because both change the figure.
"""

from __future__ import annotations

import copy
import statistics
import time

import torch
from torch import nn

from evaluators.device import DevicePlan, device_name, plan_device

GPU_WARMUP_S = 0.5


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    batch_size: int = 1,
    device: str = "cpu",
    warmup: int = 5,
    repeats: int = 20,
) -> dict:
    """Median forward time of `model` on a (batch_size, *input_shape) input.

    Returns ``{"latency_ms", "latency_ms_min", "batch_size", "device",
    "device_name", "threads", "repeats"}``. The caller's model is left where it is
    (a copy is moved when `device` differs) and its train/eval mode is restored.
    """
    if repeats < 1 or warmup < 0 or batch_size < 1:
        raise ValueError(
            f"need repeats >= 1, warmup >= 0, batch_size >= 1; got "
            f"{repeats}, {warmup}, {batch_size}"
        )
    plan = plan_device(device)
    model = _on_device(model, plan.device)
    inputs = plan.prepare_batch(torch.randn(batch_size, *input_shape))
    plan.prepare_model(model)
    was_training = model.training
    model.eval()
    times = []
    try:
        with torch.inference_mode(), plan.autocast():
            _warm_up(model, inputs, plan, warmup)
            for _ in range(repeats):
                plan.synchronize()
                start = time.perf_counter()
                model(inputs)
                plan.synchronize()
                times.append((time.perf_counter() - start) * 1000.0)
    finally:
        model.train(was_training)
    return {
        "latency_ms": statistics.median(times),
        "latency_ms_min": min(times),
        "batch_size": batch_size,
        "device": str(plan.device),
        "device_name": device_name(plan.device),
        "threads": torch.get_num_threads(),
        "repeats": repeats,
    }


def _warm_up(model: nn.Module, inputs: torch.Tensor, plan: DevicePlan, passes: int) -> None:
    """`passes` untimed passes; on a GPU also until `GPU_WARMUP_S` have passed. An idle GPU
    runs at a low clock and ramps up under load, and its kernels load on first use: on an
    H200, after ten warm-up passes of a small attention model the median of the next 100
    was 3.5 ms, where torch.utils.benchmark, timed right after, measured 2.1 ms."""
    start = time.perf_counter()
    done = 0
    while done < passes or (
        plan.device.type == "cuda" and time.perf_counter() - start < GPU_WARMUP_S and done < 10_000
    ):
        model(inputs)
        plan.synchronize()
        done += 1


def _on_device(model: nn.Module, device: torch.device) -> nn.Module:
    parameter = next(model.parameters(), None)
    current = parameter.device if parameter is not None else torch.device("cpu")
    same = current.type == device.type and (device.index is None or current == device)
    return model if same else copy.deepcopy(model).to(device)
