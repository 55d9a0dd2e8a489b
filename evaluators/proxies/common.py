"""What the zero-cost proxies share: the registry, seeded inputs, and an isolated model copy.

Every proxy scores a copy of the model (the caller's weights, buffers and train/eval
mode are untouched) under a forked, seeded global RNG (dropout), from inputs drawn
with a seeded generator: the same seed gives the same score.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from search_space.errors import SpaceError, did_you_mean, one_of

Inputs = torch.Tensor | tuple[int, int, int]
Proxy = Callable[..., float]

PROXIES: dict[str, Proxy] = {}


def register_proxy(name: str) -> Callable[[Proxy], Proxy]:
    """Registers a ``score(model, inputs, *, seed, targets, device) -> float`` under `name`."""

    def wrap(score: Proxy) -> Proxy:
        if name in PROXIES:
            raise ValueError(f"proxy {name!r} is already registered by {PROXIES[name].__module__}")
        PROXIES[name] = score
        return score

    return wrap


def get_proxy(name: str) -> Proxy:
    if name not in PROXIES:
        raise SpaceError(
            f"unknown proxy {name!r}{did_you_mean(name, PROXIES)}; choose {one_of(sorted(PROXIES))}"
        )
    return PROXIES[name]


def input_batch(inputs: Inputs, batch_size: int, seed: int) -> torch.Tensor:
    """`inputs` as given when it is a batch, else a seeded N(0, 1) batch of that (C, H, W)."""
    if isinstance(inputs, torch.Tensor):
        return inputs
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((batch_size, *inputs), generator=generator)


def input_shape(inputs: Inputs) -> tuple[int, ...]:
    return tuple(inputs.shape[1:]) if isinstance(inputs, torch.Tensor) else tuple(inputs)


def random_targets(logits: torch.Tensor, seed: int) -> torch.Tensor:
    """Seeded labels in [0, classes) for a batch of logits (N, classes)."""
    generator = torch.Generator().manual_seed(seed + 1)
    labels = torch.randint(logits.shape[1], (logits.shape[0],), generator=generator)
    return labels.to(logits.device)


def model_copy(
    model: nn.Module,
    *,
    training: bool,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> nn.Module:
    """A deep copy in train or eval mode, on `device` in `dtype`; leaves `model` as it is."""
    clone = copy.deepcopy(model)
    clone.to(device=device, dtype=dtype)
    clone.train(training)
    clone.zero_grad(set_to_none=True)
    return clone


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seeds the global RNG (dropout, stochastic depth) and restores it afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def device_of(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")
