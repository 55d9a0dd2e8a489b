"""An exported model in other formats, each checked against PyTorch: ONNX (run with
onnxruntime, batch axis dynamic) and traced TorchScript."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.runs import format as rf
from nas.runs.atomic import atomic_path
from search_space.errors import SpaceError

if TYPE_CHECKING:
    from torch import nn

ONNX_TOLERANCE = 1e-4  # max |onnxruntime - PyTorch| on the logits
ONNX_OPSET = 17  # LayerNorm and scaled_dot_product_attention export natively from 17


def export_onnx(model: nn.Module, shape: tuple[int, int, int], path: Path) -> dict[str, Any]:
    """Writes model.onnx (batch axis dynamic) and compares onnxruntime with PyTorch."""
    import torch

    example = torch.randn(2, *shape, generator=torch.Generator().manual_seed(1))
    with atomic_path(path) as temporary, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter is flagged legacy
        try:
            torch.onnx.export(
                model,
                (example,),
                str(temporary),
                dynamo=False,
                opset_version=ONNX_OPSET,
                input_names=["input"],
                output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            )
        except ImportError as error:
            raise SpaceError(
                f"--format onnx: {error}; install the onnx extra (pip install 'nas-vision[onnx]')"
            ) from None
    check: dict[str, Any] = {"file": rf.ONNX_FILE, "opset": ONNX_OPSET, "tolerance": ONNX_TOLERANCE}
    try:
        import onnxruntime
    except ImportError:
        return check | {"checked": False, "why": "onnxruntime is not installed"}
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = torch.randn(3, *shape, generator=torch.Generator().manual_seed(2))
    (ours,) = session.run(None, {"input": inputs.numpy()})
    with torch.inference_mode():
        diff = float((torch.from_numpy(ours) - model(inputs)).abs().max())
    if not diff <= ONNX_TOLERANCE:
        raise SpaceError(
            f"{path}: onnxruntime differs from PyTorch by {diff:.3g} "
            f"(> {ONNX_TOLERANCE}); the ONNX file is not faithful"
        )
    return check | {"checked": True, "max_abs_diff": diff, "onnxruntime": onnxruntime.__version__}


def export_torchscript(model: nn.Module, shape: tuple[int, int, int], path: Path) -> dict[str, Any]:
    """Writes a traced TorchScript module and checks it reproduces PyTorch's logits."""
    import torch

    example = torch.randn(2, *shape, generator=torch.Generator().manual_seed(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, example)
        with atomic_path(path) as temporary:
            torch.jit.save(traced, str(temporary))
    inputs = torch.randn(3, *shape, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        diff = float((traced(inputs) - model(inputs)).abs().max())
    return {"file": rf.TORCHSCRIPT_FILE, "max_abs_diff": diff}
