"""Load an exported (or trial) model: `arch.yaml` + `weights.safetensors` -> a module.

Nothing from the folder is executed: the architecture is read with `yaml.safe_load` and
built by our own builder, and the weights are plain tensors in safetensors format (no
pickle). Weights written by `save_weights` carry a SHA-256 of their tensor bytes in the
file's metadata, so an altered file is refused, not silently loaded; an export's weights
also carry a SHA-256 of the architecture they were trained for, so an edit to arch.yaml
that the tensors' shapes cannot reveal (an activation, the input resolution) is refused
too.

Plug-ins an arch.yaml names are imported only when the caller allows them: installed
``nas_vision.plugins`` entry points, names passed as ``plugins=``, or modules the caller
has already imported. An allowed one is imported from ``sys.path`` without the working
directory and without the model's folder, so a ``.py`` file that travels with a model
never runs.

    import nas
    model = nas.load_model("results/demo/export/7")   # eval mode, on the CPU
    model = nas.load_model("export/3", plugins=["my_blocks"])  # a model with a plug-in
    logits = model(images)                            # (N, C, H, W), normalized
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.runs import format as rf
from search_space.errors import SpaceError

if TYPE_CHECKING:
    import torch
    from torch import nn

DIGEST_KEY = "nas_sha256"  # safetensors metadata: hex SHA-256 of the data section
ARCH_DIGEST_KEY = "nas_arch_sha256"  # ... and of the architecture (`architecture_digest`)


def load_model(
    path: str | os.PathLike, *, device: str = "cpu", plugins: Sequence[str] = ()
) -> nn.Module:
    """The model of an export or trial folder (or its arch.yaml / weights file), with its
    trained weights, in eval mode. A missing, truncated or altered weights file, an
    arch.yaml edited after export, one whose tensors do not fit the architecture, or a
    plug-in the caller did not allow (`plugins`), raises SpaceError naming the problem."""
    from search_space import build_model, load_architecture

    arch_file, weights_file = _model_files(Path(path))
    arch = load_architecture(_arch_document(arch_file, plugins))
    model = build_model(arch)
    load_weights_into(model, weights_file, arch=arch)
    return model.to(device).eval()


def _arch_document(arch_file: Path, allowed: Sequence[str]) -> Any:
    """arch.yaml, after importing the plug-ins it records that the caller allows (never
    from the folder being loaded or the working directory)."""
    from search_space.loader import read_yaml
    from search_space.plugins import check_plugins_key, import_trusted

    document = read_yaml(arch_file)
    if not isinstance(document, dict):
        return document  # the loader names the problem
    plugins = document.get("plugins")
    problems = check_plugins_key(plugins)
    if problems:
        raise SpaceError([f"{arch_file}: {problem}" for problem in problems])
    names = [plugins] if isinstance(plugins, str) else list(plugins or [])
    import_trusted(names, allowed, untrusted=arch_file.parent, where=str(arch_file))
    # Imported above, as allowed: the loader must not import them again its own way
    # (from the working directory, or a .py path the file names).
    return {key: value for key, value in document.items() if key != "plugins"}


def architecture_digest(arch: Any) -> str:
    """SHA-256 of what an architecture builds (its name and run sections left out)."""
    document = arch.to_dict(run_config=False)
    document.pop("name", None)
    text = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


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


def load_weights_into(model: nn.Module, path: str | os.PathLike, *, arch: Any = None) -> None:
    """Loads a weights file into `model` (strict: every tensor present, every shape equal).
    With `arch`, weights that record their architecture's digest must match it."""
    tensors, metadata = load_weights(path, with_metadata=True)
    recorded = metadata.get(ARCH_DIGEST_KEY)
    if arch is not None and recorded is not None and recorded != architecture_digest(arch):
        raise SpaceError(
            f"{Path(path).with_name(rf.ARCH_FILE)}: the architecture was edited after these "
            "weights were saved (its SHA-256 does not match the one recorded with them); "
            "restore the exported arch.yaml, or export the trial again"
        )
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


def load_weights(path: str | os.PathLike, *, with_metadata: bool = False) -> Any:
    """Reads a safetensors file into CPU tensors, checking its digest when it has one;
    with `with_metadata`, (tensors, the file's metadata)."""
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
    return (tensors, metadata) if with_metadata else tensors


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


def save_weights(
    model: nn.Module | dict[str, torch.Tensor], path: str | os.PathLike, *, arch: Any = None
) -> str:
    """Writes a model's (or state dict's) tensors as safetensors, atomically, with the
    SHA-256 of the tensor bytes in the metadata (and of `arch`, when given); returns the
    tensors' digest."""
    from nas.runs.atomic import write_bytes

    data, digest = weights_bytes(model, arch=arch)
    write_bytes(path, data)
    return digest


def weights_bytes(
    model: nn.Module | dict[str, torch.Tensor], *, arch: Any = None
) -> tuple[bytes, str]:
    """The safetensors file `save_weights` writes, as bytes, and its SHA-256 digest."""
    from safetensors.torch import save

    state = model if isinstance(model, dict) else model.state_dict()
    tensors = _distinct_storage(state)
    plain = save(tensors)  # the data section does not depend on the metadata
    (size,) = struct.unpack("<Q", plain[:8])
    digest = hashlib.sha256(plain[8 + size :]).hexdigest()
    metadata = {DIGEST_KEY: digest}
    if arch is not None:
        metadata[ARCH_DIGEST_KEY] = architecture_digest(arch)
    return save(tensors, metadata=metadata), digest


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
