"""One search per run folder: an OS file lock on ``RUN/.lock`` held for the whole search.

The lock is taken before anything else (before Ray starts, before the study is opened),
so a second ``nas search --resume`` on the same folder is refused at once, touching
nothing. ``flock`` is released by the kernel when its process dies, however it dies, so
a stale lock of a killed search is simply taken over; the pid, host and start time
written inside are only for the message. On a cluster the lock lives where the driver
runs, which is where the run folder is written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from search_space.errors import SpaceError

LOCK_FILE = ".lock"


# Run folders whose lock this process holds (resolved path -> depth): `nas search` takes
# the lock first thing, before its heavy imports, and the search inside takes it again.
_HELD: dict[Path, int] = {}


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Holds the run folder's lock; SpaceError naming the holder when another has it.
    Re-entrant within a process.

    A folder this call had to create is removed again if the search leaves nothing else
    in it (a refused search does not leave an empty run folder behind).
    """
    key = Path(os.path.abspath(run_dir))
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    if run_dir.exists() and not run_dir.is_dir():
        raise SpaceError(f"--output {run_dir}: is a file, not a folder")
    created = not run_dir.exists()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise SpaceError(f"--output {run_dir}: cannot be written ({error.strerror})") from None
    try:
        _acquire(handle, run_dir)
        _HELD[key] = 1
        yield
    finally:
        _HELD.pop(key, None)
        os.close(handle)  # releases the lock
        if created:
            _remove_if_only_the_lock(run_dir)


def _acquire(handle: int, run_dir: Path) -> None:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SpaceError(
            f"--output {run_dir}: another search is using this run folder "
            f"({_holder(handle)}); wait for it to end or stop it, or pick another --output"
        ) from None
    holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}
    text = json.dumps(holder).encode()
    # Write first, then cut to length: a reader never sees an empty file in between.
    os.pwrite(handle, text, 0)
    os.ftruncate(handle, len(text))


def _holder(handle: int, patience_s: float = 2.0) -> str:
    """The holder's name; a holder that has just taken the lock gets a moment to write it."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            holder = json.loads(os.pread(handle, 4096, 0) or b"{}")
            if not _stale(holder):
                return f"pid {holder['pid']} on {holder['host']}, since {holder['since']}"
            raise ValueError("the name of an earlier holder")
        except (ValueError, KeyError, TypeError, OSError):
            if time.monotonic() >= deadline:
                return "a process that has not yet written its name"
            time.sleep(0.05)


def _stale(holder: dict) -> bool:
    """A name left by an earlier holder on this host whose process is gone."""
    if holder["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, OverflowError):
        return False
    return False


def read_holder(run_dir: Path) -> dict | None:
    """Who holds the lock now (pid, host, since), or None when nobody does."""
    path = run_dir / LOCK_FILE
    if not path.is_file():
        return None
    handle = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        with contextlib.suppress(ValueError):
            return json.loads(os.pread(handle, 4096, 0) or b"{}")
        return {}
    finally:
        os.close(handle)
    return None


def _remove_if_only_the_lock(run_dir: Path) -> None:
    with contextlib.suppress(OSError):
        if [p.name for p in run_dir.iterdir()] == [LOCK_FILE]:
            (run_dir / LOCK_FILE).unlink()
            run_dir.rmdir()


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %z")
