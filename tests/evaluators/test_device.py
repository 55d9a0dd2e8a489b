"""Device decisions, tested without a GPU: the plan is a pure function of the request."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from evaluators.device import device_name, plan_device, set_threads
from search_space.errors import SpaceError


def test_auto_picks_cuda_with_bf16_and_channels_last_when_present() -> None:
    plan = plan_device("auto", cuda_available=True, bf16_supported=True)
    assert plan.device == torch.device("cuda")
    assert plan.autocast_dtype is torch.bfloat16
    assert plan.channels_last
    assert plan.cudnn_benchmark


def test_cudnn_autotuner_is_on_only_inside_a_cuda_plans_block() -> None:
    before = torch.backends.cudnn.benchmark
    with plan_device("cuda", cuda_available=True, bf16_supported=True).tuned():
        assert torch.backends.cudnn.benchmark
    assert torch.backends.cudnn.benchmark == before
    with plan_device("cpu").tuned():
        assert torch.backends.cudnn.benchmark == before


def test_auto_falls_back_to_cpu_in_fp32_and_nchw() -> None:
    plan = plan_device("auto", cuda_available=False)
    assert plan.device == torch.device("cpu")
    assert plan.autocast_dtype is None and not plan.channels_last
    assert not plan.cudnn_benchmark


@pytest.mark.parametrize(
    ("kwargs", "dtype", "channels_last"),
    [
        ({"amp": False}, None, True),
        ({"channels_last": False}, torch.bfloat16, False),
        ({"image_model": False}, torch.bfloat16, False),
        ({"bf16_supported": False}, None, True),
    ],
)
def test_cuda_options(kwargs: dict, dtype: torch.dtype | None, channels_last: bool) -> None:
    options = {"cuda_available": True, "bf16_supported": True, **kwargs}
    plan = plan_device("cuda:1", **options)
    assert plan.device == torch.device("cuda:1")
    assert (plan.autocast_dtype, plan.channels_last) == (dtype, channels_last)


def test_cpu_never_uses_autocast_even_when_asked() -> None:
    plan = plan_device("cpu", amp=True, channels_last=True, cuda_available=True)
    assert plan.autocast_dtype is None and not plan.channels_last


@pytest.mark.parametrize(("name", "message"), [("gpu", "not a device"), ("cuda", "no CUDA")])
def test_bad_device_requests_are_user_errors(name: str, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        plan_device(name, cuda_available=False)


def test_cpu_plan_runs_a_model_unchanged() -> None:
    plan = plan_device("cpu")
    model = plan.prepare_model(nn.Conv2d(1, 2, 3))
    with plan.autocast():
        out = model(plan.prepare_batch(torch.ones(1, 1, 5, 5)))
    assert out.dtype == torch.float32 and out.is_contiguous()


def test_set_threads_sets_and_reports() -> None:
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 == torch.get_num_threads()
        assert set_threads(None) == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(SpaceError):
        set_threads(0)


def test_device_name_is_a_readable_string() -> None:
    assert isinstance(device_name("cpu"), str) and device_name("cpu")
