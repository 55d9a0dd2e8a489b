"""Where and how a candidate runs: device choice, bf16 autocast, memory format, threads.

The decisions live in ``plan_device``, a pure function of the request and of what the
machine has, so they are testable on a CPU-only machine. Conventions: bf16 autocast
and channels-last are CUDA-only (on CPU, bf16 is usually slower than fp32 and NHWC
brings nothing for these small models); bf16 needs no gradient scaler.
"""

from __future__ import annotations

import contextlib
import platform
import re
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from search_space.errors import SpaceError

_DEVICE_PATTERN = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


@dataclass(frozen=True)
class DevicePlan:
    """The resolved device and the precision and layout choices made for it."""

    device: torch.device
    autocast_dtype: torch.dtype | None  # torch.bfloat16 on CUDA with amp, else None
    channels_last: bool  # NHWC for 4-D image models on CUDA
    # cuDNN times its convolution algorithms once per input shape and keeps the fastest:
    # a trial's shapes are fixed (full batches), so this pays. Measured on an H200 with a
    # small ResNet at batch 256, 32x32, bf16: 30,804 vs 26,044 images/s (1.18x).
    cudnn_benchmark: bool = False

    def tuned(self) -> contextlib.AbstractContextManager:
        """cuDNN's autotuner on for the block when the plan asks for it; restored after."""
        return _cudnn_benchmark(self.cudnn_benchmark)

    def autocast(self) -> contextlib.AbstractContextManager:
        """The autocast context for forward passes (a no-op without mixed precision)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def prepare_model(self, model: nn.Module) -> nn.Module:
        """Moves `model` (in place) to the device and memory format."""
        model.to(self.device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        return model

    def prepare_batch(self, images: torch.Tensor) -> torch.Tensor:
        """Moves a batch (N, C, H, W) to the device and memory format."""
        images = images.to(self.device, non_blocking=True)
        if self.channels_last and images.dim() == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    def synchronize(self) -> None:
        """Waits for queued GPU work, so wall-clock timings are real."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def plan_device(
    name: str = "auto",
    *,
    amp: bool = True,
    channels_last: bool = True,
    image_model: bool = True,
    cuda_available: bool | None = None,
    bf16_supported: bool | None = None,
) -> DevicePlan:
    """Resolves a device string ("auto", "cpu", "cuda", "cuda:1", "mps") into a plan.

    "auto" means CUDA when available, else CPU. `cuda_available` and `bf16_supported`
    default to what this machine has; tests pass them to check the decisions.
    """
    if not isinstance(name, str) or not _DEVICE_PATTERN.fullmatch(name):
        raise SpaceError(f"train.device: {name!r} is not a device; use auto, cpu, cuda or cuda:N")
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    if name == "auto":
        name = "cuda" if cuda_available else "cpu"
    if name.startswith("cuda") and not cuda_available:
        raise SpaceError(
            f"train.device: {name!r} was asked for but this machine has no CUDA device; "
            "use --device cpu or auto"
        )
    device = torch.device(name)
    on_cuda = device.type == "cuda"
    if on_cuda and bf16_supported is None:
        bf16_supported = torch.cuda.is_bf16_supported()
    return DevicePlan(
        device=device,
        autocast_dtype=torch.bfloat16 if on_cuda and amp and bf16_supported else None,
        channels_last=on_cuda and channels_last and image_model,
        cudnn_benchmark=on_cuda,
    )


@contextlib.contextmanager
def _cudnn_benchmark(enabled: bool) -> Iterator[None]:
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = enabled or previous
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def set_threads(threads: int | None) -> int:
    """Sets torch's CPU thread count when `threads` is given; returns the count in use."""
    if threads is not None:
        if threads < 1:
            raise SpaceError(f"train.threads: {threads} must be at least 1")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def device_name(device: torch.device | str) -> str:
    """A human name for the hardware: the GPU's model, or the CPU's."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return _cpu_name()


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"
