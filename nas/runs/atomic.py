"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Each write goes to a temporary file in the same folder (so the rename stays on one
file system), is flushed and fsynced, then `os.replace`d over the target; the folder is
fsynced too so the rename itself survives a power cut. A run killed at any moment
leaves at worst a stray ``.<name>.<random>.tmp`` file, which readers ignore.

The temporary file is created private (mode 0600, as `tempfile.mkstemp` does) and given
the mode the user's umask allows (0644 under umask 022) before the rename, like any
file the user writes: a colleague can read the results.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SERIAL = itertools.count()  # with the process id, names each temporary file uniquely


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, durable: bool = True) -> Iterator[Path]:
    """Yields a temporary path beside `path`; when the block ends without error, the file
    written there is fsynced and renamed onto `path`. For libraries that write to a path
    themselves (matplotlib's savefig, safetensors, torch.onnx.export). `durable=False`
    skips the fsyncs (still atomic, safe when the process dies, not a power cut): for
    files the study can rebuild, written thousands of times a minute."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    with _renamed_into_place(temporary, target, durable):
        yield temporary
        with open(temporary, "rb+") as written:
            os.fchmod(written.fileno(), 0o666 & ~_umask())
            if durable:
                os.fsync(written.fileno())


def write_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = True) -> Path:
    """Writes `data` to `path` atomically; returns the path.

    The temporary file is created with mode 0666, so the kernel applies the umask as it
    does to any new file: four system calls and a rename, where `atomic_path` (which
    cannot know how a library will open its path) needs twice as many. A search scored
    in the driver writes two files per trial, thousands a minute."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{next(_SERIAL)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    with _renamed_into_place(temporary, target, durable):
        try:
            descriptor = os.open(temporary, flags, 0o666)
        except FileNotFoundError:  # the folder first, only when missing: one call less
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(temporary, flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            if durable:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return target


@contextlib.contextmanager
def _renamed_into_place(temporary: Path, target: Path, durable: bool) -> Iterator[None]:
    """The block writes `temporary`; then it replaces `target` (and, when `durable`, the
    folder is fsynced so the rename survives a power cut). On any error it is removed."""
    try:
        yield
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(target.parent)


def write_text(path: str | os.PathLike, text: str, *, durable: bool = True) -> Path:
    """Writes UTF-8 `text` to `path` atomically."""
    return write_bytes(path, text.encode("utf-8"), durable=durable)


def write_json(path: str | os.PathLike, document: Any, *, durable: bool = True) -> Path:
    """Writes `document` as indented JSON; NaN and infinities become null (strict JSON)."""
    text = json.dumps(_strict(document), indent=2, default=str, allow_nan=False)
    return write_text(path, text + "\n", durable=durable)


def write_csv(path: str | os.PathLike, table: Any) -> Path:
    """Writes a pandas DataFrame as CSV (no index column)."""
    return write_text(path, table.to_csv(index=False, lineterminator="\n"))


def _strict(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy/torch scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def _umask() -> int:
    """The process's umask. Linux reports it in /proc; elsewhere it can only be read by
    setting it, so it is set back at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is still atomic
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
