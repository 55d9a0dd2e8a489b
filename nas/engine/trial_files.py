"""A trial's files go from its worker to the driver through Ray, never through a folder.

The worker puts them, as bytes, under ``files`` in its final Tune result; that result
travels to the driver through Ray's object store like any result. The driver's Tune
callback takes them out of the result before Tune logs or keeps it, and writes them
atomically into ``RUN/trials/<number>/``. So no worker writes the run folder, and the run
folder need not be on a filesystem the cluster's machines share (a shared one works the
same way). The worker also says where it ran: host name, Ray node and device.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path
from typing import Any

from nas.runs import format as rf
from nas.runs.atomic import write_bytes
from search_space.errors import SpaceError

FILES_KEY = "files"  # final Tune result: {file name: bytes}
SENDABLE = (rf.WEIGHTS_FILE,)  # what a worker may hand the driver to write


def weights_file(model: Any) -> dict[str, bytes]:
    """{weights.safetensors: the model's tensors as safetensors bytes, digest included}."""
    from nas.runs.load import weights_bytes

    return {rf.WEIGHTS_FILE: weights_bytes(model)[0]}


def where(device: str) -> dict[str, str]:
    """Where this worker runs: {host, node_id (Ray's), device (e.g. 'cuda:3 (NVIDIA
    H100 80GB HBM3)', 'cpu')}. The CUDA index is the machine's, from Ray's GPU ids."""
    return {
        rf.ATTR_HOST: socket.gethostname(),
        rf.ATTR_NODE: _node_id(),
        rf.ATTR_DEVICE: _device_name(device),
    }


def _node_id() -> str:
    import ray

    try:
        return ray.get_runtime_context().get_node_id()
    except Exception:  # outside Ray (tests call the trial's parts directly)
        return ""


def _device_name(device: str) -> str:
    if not device.startswith("cuda"):
        return device
    import ray
    import torch

    ids = ray.get_gpu_ids() if ray.is_initialized() else []
    index = ids[0] if ids else os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0]
    return f"cuda:{index} ({torch.cuda.get_device_name()})"


def write_trial_files(run_dir: Path, number: int, files: dict[str, Any]) -> dict[str, str]:
    """Writes a trial's files (name -> bytes) into RUN/trials/<number>/, each atomically,
    after checking the weights' SHA-256 against the one the worker recorded in them (a
    transfer that altered them is refused). Refuses a name the worker may not send (no
    paths, nothing but SENDABLE). Returns {file name: SHA-256 of its tensor bytes}."""
    digests = {}
    for name, data in files.items():
        if name not in SENDABLE or not isinstance(data, bytes):
            raise SpaceError(
                f"trial {number}: a worker sent {name!r} ({type(data).__name__}); "
                f"only {', '.join(SENDABLE)} as bytes are written to the run folder"
            )
        digests[name] = _verified_digest(data, f"trial {number}: {name}")
        write_bytes(run_dir / rf.TRIALS_DIR / str(number) / name, data)
    return digests


def _verified_digest(data: bytes, what: str) -> str:
    from nas.runs.load import DIGEST_KEY, _header

    size, metadata = _header(data, what)
    digest = hashlib.sha256(data[8 + size :]).hexdigest()
    if metadata.get(DIGEST_KEY) != digest:
        raise SpaceError(f"{what}: the bytes that arrived do not match the worker's SHA-256")
    return digest
