"""The machine-wide decoded-dataset cache: one folder per (source files, settings).

A dataset is decoded once per machine into ``<cache>/<name>-<key>/`` (uint8 ``.npy``
arrays and a ``meta.json``), where ``<key>`` hashes the source files' paths, sizes and
modification times and every setting that changes the pixels (resolution, channels,
resize method, subset). Any change to a file or a setting gives a new key, so a stale
cache is never read. The folder is built under a temporary name and renamed into
place, which is atomic: a reader sees a complete cache or none. A lock file
(``fcntl.flock``) makes trials that start together wait for the first one's decode
instead of each decoding the dataset again; a lock held by a process that died is
released by the kernel, and its half-written folder is removed by the next builder.

The cache folder is ``data.cache_dir``, else ``$NAS_CACHE``, else ``~/.cache/nas-vision``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search_space.errors import SpaceError

FORMAT_VERSION = 1  # bump when the stored layout or the decoding changes


@dataclass(frozen=True)
class CacheEntry:
    """A complete cache folder; `built` is True when this process decoded it."""

    path: Path
    meta: dict[str, Any]
    built: bool
    seconds: float  # spent decoding (built) or waiting and opening (reused)


def cache_root(cache_dir: str | None) -> Path:
    """The cache folder: the setting, else $NAS_CACHE, else ~/.cache/nas-vision."""
    return Path(cache_dir or os.environ.get("NAS_CACHE") or "~/.cache/nas-vision").expanduser()


def fingerprint(files: Iterable[Path], base: Path) -> str:
    """A hash of each file's path (relative to `base`), size and modification time."""
    return fingerprint_stats((str(path.relative_to(base)), path.stat()) for path in files)


def fingerprint_stats(entries: Iterable[tuple[str, os.stat_result]]) -> str:
    """`fingerprint` of (relative path, stat) pairs already at hand (a folder listing
    made with os.scandir stats each file once, without building a Path for it)."""
    digest = hashlib.sha256()
    for name, stat in entries:
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def key_digest(key: dict[str, Any]) -> str:
    text = json.dumps({"format": FORMAT_VERSION, **key}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def open_or_build(
    root: Path, name: str, key: dict[str, Any], build: Callable[[Path], dict[str, Any]]
) -> CacheEntry:
    """The cache folder for `key`, built by ``build(folder) -> meta`` when missing.

    `build` writes its arrays into the empty folder it is given and returns the
    metadata (JSON-serializable) stored beside them.
    """
    start = time.perf_counter()
    final = root / f"{name}-{key_digest(key)}"
    if (final / "meta.json").is_file() and _intact(final):
        return CacheEntry(final, _read_meta(final), False, time.perf_counter() - start)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = (root / f"{final.name}.lock").open("w")
    except OSError as error:
        raise SpaceError(
            f"data.cache_dir: cannot write the dataset cache in {root} ({error.strerror}); "
            "set data.cache_dir (or $NAS_CACHE) to a writable folder"
        ) from error
    with lock:
        _lock(lock, final)
        if (final / "meta.json").is_file():  # another process built it while we waited
            if _intact(final, quiet=True):
                return CacheEntry(final, _read_meta(final), False, time.perf_counter() - start)
            _discard(final)
        meta = _build(root, final, key, build)
    return CacheEntry(final, meta, True, time.perf_counter() - start)


def _lock(lock: Any, final: Path) -> None:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting for another process to finish decoding into {final}", file=sys.stderr)
        fcntl.flock(lock, fcntl.LOCK_EX)


def _build(
    root: Path, final: Path, key: dict[str, Any], build: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    for stale in root.glob(f".tmp-{final.name}-*"):  # left by a builder that died
        shutil.rmtree(stale, ignore_errors=True)
    temporary = root / f".tmp-{final.name}-{os.getpid()}"
    temporary.mkdir()
    try:
        meta = {**build(temporary), "key": key, "format": FORMAT_VERSION}
        (temporary / "meta.json").write_text(json.dumps(meta, indent=1))
        for path in temporary.iterdir():  # on disk before the rename makes them visible
            with path.open("rb") as file:
                os.fsync(file.fileno())
        os.rename(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return meta


def _read_meta(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "meta.json").read_text())


def _intact(folder: Path, quiet: bool = False) -> bool:
    """Whether a cache folder is whole: meta.json reads, and every ``.npy`` array is as
    long as its own header says (a truncated or cut file is caught without reading the
    pixels; a byte changed in the middle of one is not). A damaged folder is never
    trained on: the caller decodes the dataset again."""
    problem = damage(folder)
    if problem and not quiet:
        print(
            f"the dataset cache {folder} is damaged ({problem}); decoding the dataset again",
            file=sys.stderr,
        )
    return problem is None


def damage(folder: Path) -> str | None:
    """What is wrong with a cache folder, in a few words; None when nothing is."""
    import numpy as np

    try:
        meta = _read_meta(folder)
        if not isinstance(meta, dict):
            return "meta.json is not an object"
        for path in sorted(folder.glob("*.npy")):
            with path.open("rb") as handle:
                version = np.lib.format.read_magic(handle)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read(handle)
                expected = handle.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            size = path.stat().st_size
            if size != expected:
                return f"{path.name} has {size} bytes, its header says {expected}"
    except (OSError, ValueError, TypeError) as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return None


def _discard(folder: Path) -> None:
    """Moves a damaged cache folder out of the way (renamed first: atomic), then removes it."""
    aside = folder.with_name(f".tmp-{folder.name}-damaged-{os.getpid()}")
    try:
        os.rename(folder, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)
