"""An exported model in other formats, each checked against PyTorch on a batch size it
was not exported with:

- ONNX through torch's exporter (``torch.onnx.export(..., dynamo=True)``, which traces
  with torch.export), run with onnxruntime; the batch axis is dynamic.
- ``model.pt2``, a ``torch.export`` program (``torch.export.save``): loads with torch
  alone, ``torch.export.load(path).module()``, and feeds AOTInductor. It replaces the
  traced TorchScript copy, since ``torch.jit.trace`` is deprecated.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.runs import format as rf
from nas.runs.atomic import atomic_path
from search_space.errors import SpaceError

if TYPE_CHECKING:
    import torch
    from torch import nn

ONNX_TOLERANCE = 1e-4  # max |onnxruntime - PyTorch| on the logits
ONNX_OPSET = 20  # torch's exporter writes 18 and up; onnxruntime runs 20 since 1.17
PT2_TOLERANCE = 1e-5  # the same kernels run: only op fusion order may differ
CHECK_BATCHES = (1, 3)  # exported with 2: both sides of the dynamic batch axis


def _example(shape: tuple[int, int, int], batch: int, seed: int) -> torch.Tensor:
    import torch

    return torch.randn(batch, *shape, generator=torch.Generator().manual_seed(seed))


def _dynamic_batch() -> tuple[dict[int, Any]]:
    from torch.export import Dim

    return ({0: Dim("batch", min=1)},)  # one entry per forward argument: the image batch


def _failed(what: str, path: Path, error: Exception) -> SpaceError:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reason = f"{type(error).__name__}: {lines[0] if lines else ''}"[:300]
    return SpaceError(
        f"{path}: {what} failed ({reason}); leave this format out of --format to export "
        "the weights alone"
    )


def export_onnx(model: nn.Module, shape: tuple[int, int, int], path: Path) -> dict[str, Any]:
    """Writes model.onnx (input ``input``, output ``logits``, batch axis dynamic) and
    compares onnxruntime with PyTorch; raises SpaceError beyond ONNX_TOLERANCE."""
    import onnxruntime
    import torch

    try:
        program = torch.onnx.export(
            model,
            (_example(shape, 2, 1),),
            dynamo=True,
            opset_version=ONNX_OPSET,
            input_names=["input"],
            output_names=["logits"],
            dynamic_shapes=_dynamic_batch(),
            verbose=False,
        )
    except Exception as error:  # a plug-in block torch.export cannot trace, an unknown op
        raise _failed("torch.onnx.export", path, error) from error
    with atomic_path(path) as temporary:
        program.save(str(temporary))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    diff = 0.0
    for batch in CHECK_BATCHES:
        inputs = _example(shape, batch, 2)
        (ours,) = session.run(None, {"input": inputs.numpy()})
        with torch.inference_mode():
            diff = max(diff, float((torch.from_numpy(ours) - model(inputs)).abs().max()))
    if not diff <= ONNX_TOLERANCE:
        raise SpaceError(
            f"{path}: onnxruntime differs from PyTorch by {diff:.3g} "
            f"(> {ONNX_TOLERANCE}); the ONNX file is not faithful"
        )
    return {
        "file": rf.ONNX_FILE,
        "exporter": "torch.onnx.export(dynamo=True)",
        "opset": ONNX_OPSET,
        "tolerance": ONNX_TOLERANCE,
        "checked": True,
        "max_abs_diff": diff,
        "batches": list(CHECK_BATCHES),
        "onnxruntime": onnxruntime.__version__,
    }


def export_program(model: nn.Module, shape: tuple[int, int, int], path: Path) -> dict[str, Any]:
    """Writes model.pt2 (torch.export, batch axis dynamic), loads it back and compares it
    with PyTorch. The load unpickles, as torch.export.load always does; the file is the
    one this function has just written."""
    import torch

    try:
        program = torch.export.export(
            model, (_example(shape, 2, 3),), dynamic_shapes=_dynamic_batch()
        )
    except Exception as error:
        raise _failed("torch.export.export", path, error) from error
    with atomic_path(path) as temporary:
        torch.export.save(program, str(temporary))
    loaded = torch.export.load(str(path)).module()
    diff = 0.0
    with torch.inference_mode():
        for batch in CHECK_BATCHES:
            inputs = _example(shape, batch, 4)
            diff = max(diff, float((loaded(inputs) - model(inputs)).abs().max()))
    if not diff <= PT2_TOLERANCE:
        raise SpaceError(
            f"{path}: the torch.export program differs from PyTorch by {diff:.3g} "
            f"(> {PT2_TOLERANCE})"
        )
    return {"file": rf.PT2_FILE, "max_abs_diff": diff, "batches": list(CHECK_BATCHES)}
