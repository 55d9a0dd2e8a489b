"""Repeated identical blocks, traced once: the FLOP count of a deep model in the time of
a shallow one.

A stage of 24 identical transformer blocks costs fvcore 24 traces of the same graph.
Before counting, one forward on PyTorch's ``meta`` device (shapes only, no compute)
records each module's input and output shapes. Among the children of a ``Sequential`` or
``ModuleList``, a child that maps one tensor to a tensor of the same shape and is
structurally identical to an earlier sibling (same classes, same non-tensor attributes,
same parameter and buffer shapes, all the way down) and sees the same input shape is a
*repeat*: for the trace it is swapped for an identity, and its FLOPs and uncounted ops
are those of its twin. Swaps are undone before the count returns.

The counts are exact, not estimated: a FLOP count depends only on the ops and the
shapes, which the twin shares. Anything unusual (a module called twice, a block with
several inputs, an op the meta device lacks) is simply traced in full.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

_SKIPPED_ATTRS = frozenset({"training", "_is_full_backward_hook"})


@dataclass(frozen=True)
class Repeat:
    name: str  # the module swapped for an identity
    twin: str  # the identical module traced in its place


def find_repeats(model: nn.Module, inputs: torch.Tensor) -> list[Repeat]:
    """The repeats of `model` for `inputs` (empty when the meta pass fails)."""
    calls = _shapes_on_meta(model, inputs)
    if calls is None:
        return []
    repeats: list[Repeat] = []
    swapped: list[str] = []
    signatures: dict[int, tuple] = {}
    for container_name, container in model.named_modules():
        if not isinstance(container, nn.Sequential | nn.ModuleList):
            continue
        if any(_inside(container_name, name) for name in swapped):
            continue
        first: dict[tuple, str] = {}
        for child_name, child in container.named_children():
            name = f"{container_name}.{child_name}" if container_name else child_name
            shapes = calls.get(name)
            if shapes is None:  # not called once with one tensor in and out of one shape
                continue
            key = (_signature(child, signatures), shapes)
            if key in first:
                repeats.append(Repeat(name, first[key]))
                swapped.append(name)
            else:
                first[key] = name
    return repeats


@contextlib.contextmanager
def swapped_for_identity(model: nn.Module, repeats: list[Repeat]) -> Iterator[None]:
    """`model` with every repeat replaced by ``nn.Identity`` for the duration."""
    saved = []
    try:
        for repeat in repeats:
            parent_name, _, child = repeat.name.rpartition(".")
            parent = model.get_submodule(parent_name)
            saved.append((parent, child, parent._modules[child]))
            parent._modules[child] = nn.Identity()
        yield
    finally:
        for parent, child, module in reversed(saved):
            parent._modules[child] = module


class RepeatedCosts:
    """FLOPs and uncounted ops of any module: what was traced inside it, plus the full
    cost of the twin of every repeat inside it."""

    def __init__(self, traced_total, traced_ops, repeats: list[Repeat]):
        self.traced_total, self.traced_ops, self.repeats = traced_total, traced_ops, repeats
        self.memo: dict[str, tuple[float, Counter]] = {}

    def cost(self, name: str = "") -> tuple[float, Counter]:
        if name not in self.memo:
            total, ops = float(self.traced_total(name)), Counter(self.traced_ops(name))
            for repeat in self.repeats:
                if _inside(repeat.name, name):
                    twin_total, twin_ops = self.cost(repeat.twin)
                    total += twin_total
                    ops.update(twin_ops)
            self.memo[name] = (total, ops)
        return self.memo[name]


def _inside(name: str, ancestor: str) -> bool:
    """True when module `name` is `ancestor` itself or lies under it ("" is the model)."""
    return ancestor == "" or name == ancestor or name.startswith(ancestor + ".")


def _shapes_on_meta(
    model: nn.Module, inputs: torch.Tensor
) -> dict[str, tuple[tuple[int, ...], torch.dtype]] | None:
    """{module name: (shape, dtype)} for the modules called exactly once with one tensor
    that returned a tensor of the same shape; None when the meta forward fails."""
    names = {id(m): n for n, m in model.named_modules()}
    seen: Counter[str] = Counter()
    shapes: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}

    def hook(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
        name = names.get(id(module))
        if name is None:
            return
        seen[name] += 1
        one_in = len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor)
        same = one_in and isinstance(output, torch.Tensor) and output.shape == args[0].shape
        if same and output.dtype == args[0].dtype:
            shapes[name] = (tuple(args[0].shape), args[0].dtype)

    tensors = {n: torch.empty_like(t, device="meta") for n, t in model.named_parameters()}
    tensors.update({n: torch.empty_like(t, device="meta") for n, t in model.named_buffers()})
    handles = [
        m.register_forward_hook(hook, with_kwargs=True) for m in model.modules() if m is not model
    ]
    try:
        with torch.no_grad():
            torch.func.functional_call(model, tensors, (inputs.to("meta"),))
    except Exception:  # an op without a meta kernel, a plug-in's own device logic: trace all
        return None
    finally:
        for handle in handles:
            handle.remove()
    return {name: shape for name, shape in shapes.items() if seen[name] == 1}


def _signature(module: nn.Module, memo: dict[int, tuple]) -> tuple:
    """Everything a module's FLOPs could depend on besides its input: classes, plain
    attributes, parameter and buffer shapes, recursively."""
    key = id(module)
    if key not in memo:
        attrs = []
        for attr, value in sorted(vars(module).items()):
            if attr.startswith("_") or attr in _SKIPPED_ATTRS:
                continue
            if isinstance(value, torch.Tensor):
                value = ("tensor", tuple(value.shape), value.dtype)
            attrs.append((attr, repr(value)))
        params = tuple(
            (n, tuple(p.shape), p.dtype) for n, p in module._parameters.items() if p is not None
        )
        buffers = tuple(
            (n, tuple(b.shape), b.dtype) for n, b in module._buffers.items() if b is not None
        )
        children = tuple(
            (n, _signature(c, memo)) for n, c in module._modules.items() if c is not None
        )
        memo[key] = (type(module), tuple(attrs), params, buffers, children)
    return memo[key]
