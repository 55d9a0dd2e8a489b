"""Load an exported (or trial) model: `arch.yaml` + `weights.safetensors` -> a module.

Nothing from the folder is executed: the architecture is read with `yaml.safe_load` and
built by our own builder, and the weights are plain tensors in safetensors format (no
pickle). Weights written by `save_weights` carry a SHA-256 of their tensor bytes in the
file's metadata, so an altered file is refused, not silently loaded.

    import nas
    model = nas.load_model("results/demo/export/7")   # eval mode, on the CPU
    logits = model(images)                            # (N, C, H, W), normalized
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.runs import format as rf
from search_space.errors import SpaceError

if TYPE_CHECKING:
    import torch
    from torch import nn

DIGEST_KEY = "nas_sha256"  # safetensors metadata: hex SHA-256 of the data section


def load_model(path: str | os.PathLike, *, device: str = "cpu") -> nn.Module:
    """The model of an export or trial folder (or its arch.yaml / weights file), with its
    trained weights, in eval mode. A missing, truncated or altered weights file, or one
    whose tensors do not fit the architecture, raises SpaceError naming the problem."""
    from search_space import build_model, load_architecture

    arch_file, weights_file = _model_files(Path(path))
    model = build_model(load_architecture(arch_file))
    load_weights_into(model, weights_file)
    return model.to(device).eval()


def _model_files(path: Path) -> tuple[Path, Path]:
    if not path.exists():
        raise SpaceError(f"{path}: no such model folder")
    folder = path if path.is_dir() else path.parent
    arch_file, weights_file = folder / rf.ARCH_FILE, folder / rf.WEIGHTS_FILE
    if not arch_file.is_file():
        raise SpaceError(
            f"{folder}: no {rf.ARCH_FILE}; expected an export folder (RUN/"
            f"{rf.EXPORT_DIR}/<trial>) or a trial folder (RUN/{rf.TRIALS_DIR}/<n>)"
        )
    if not weights_file.is_file():
        raise SpaceError(
            f"{folder}: no {rf.WEIGHTS_FILE}; only Pareto-front trials keep their "
            "weights, and `nas export RUN --retrain-epochs N` can train any trial"
        )
    return arch_file, weights_file


def load_weights_into(model: nn.Module, path: str | os.PathLike) -> None:
    """Loads a weights file into `model` (strict: every tensor present, every shape equal)."""
    tensors = load_weights(path)
    expected = model.state_dict()
    problems = [f"unexpected tensor {name!r}" for name in tensors if name not in expected]
    problems += [
        f"{name!r} has shape {tuple(tensors[name].shape)}, the architecture needs "
        f"{tuple(tensor.shape)}"
        for name, tensor in expected.items()
        if name in tensors and tensors[name].shape != tensor.shape
    ]
    missing = [name for name in expected if name not in tensors]
    problems += [f"missing tensor {name!r}" for name in _unshared(missing, expected, tensors)]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise SpaceError(
            f"{path}: the weights do not fit the architecture: {'; '.join(problems[:3])}{more}"
        )
    model.load_state_dict(tensors, strict=False)


def _unshared(missing: list[str], expected: dict[str, Any], loaded: dict[str, Any]) -> list[str]:
    # safetensors' save_model stores a tied tensor once: a name whose storage it shares
    # with a loaded tensor is filled by that load.
    loaded_storage = {expected[n].data_ptr() for n in loaded if n in expected}
    return [n for n in missing if expected[n].data_ptr() not in loaded_storage]


def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Reads a safetensors file into CPU tensors, checking its digest when it has one."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    data = _read(Path(path))
    header_size, metadata = _header(data, path)
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise SpaceError(
            f"{path}: damaged weights file (truncated or altered): {str(error).splitlines()[0]}"
        ) from None
    digest = metadata.get(DIGEST_KEY)
    if digest is not None and hashlib.sha256(data[8 + header_size :]).hexdigest() != digest:
        raise SpaceError(
            f"{path}: the weights were altered after they were saved "
            "(their SHA-256 does not match the one recorded in the file)"
        )
    return tensors


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SpaceError(f"{path}: cannot read the weights ({error.strerror})") from None


def _header(data: bytes, path: str | os.PathLike) -> tuple[int, dict[str, str]]:
    """safetensors layout: u64 little-endian header size, JSON header, tensor bytes."""
    damaged = f"{path}: damaged weights file (truncated or altered)"
    if len(data) < 8:
        raise SpaceError(f"{damaged}: only {len(data)} bytes")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise SpaceError(f"{damaged}: its header claims {size} bytes, the file has {len(data)}")
    try:
        header = json.loads(data[8 : 8 + size])
    except ValueError:
        raise SpaceError(f"{damaged}: its header is not valid JSON") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return size, metadata if isinstance(metadata, dict) else {}


def save_weights(model: nn.Module | dict[str, torch.Tensor], path: str | os.PathLike) -> str:
    """Writes a model's (or state dict's) tensors as safetensors, atomically, with the
    SHA-256 of the tensor bytes in the metadata; returns that digest."""
    from safetensors.torch import save

    from nas.runs.atomic import write_bytes

    state = model if isinstance(model, dict) else model.state_dict()
    tensors = _distinct_storage(state)
    plain = save(tensors)  # the data section does not depend on the metadata
    (size,) = struct.unpack("<Q", plain[:8])
    digest = hashlib.sha256(plain[8 + size :]).hexdigest()
    write_bytes(path, save(tensors, metadata={DIGEST_KEY: digest}))
    return digest


def _distinct_storage(state: dict[str, Any]) -> dict[str, Any]:
    """CPU, contiguous tensors; a tensor sharing storage with an earlier one is kept once
    (safetensors refuses shared storage; `load_weights_into` refills the alias)."""
    seen, tensors = set(), {}
    for name, tensor in state.items():
        key = (tensor.data_ptr(), tensor.dtype, tuple(tensor.shape))
        if tensor.numel() and key in seen:
            continue
        seen.add(key)
        tensors[name] = tensor.detach().to("cpu").contiguous().clone()
    return tensors
