"""Keeps Ray's driver notices off the caller's stdout without touching ``sys.stdout``.

Ray's driver has a thread that prints raylet notices ("A worker died or was killed
...") on stdout. Each is already recorded in its trial, and stdout belongs to the
caller: `--json` prints one document there, and a notebook shows the user's own
output. Swapping ``sys.stdout`` for the length of a search would hide every other
thread's prints too, so only those notices are dropped, at Ray's printing function.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def raylet_notices_dropped() -> Iterator[None]:
    """While open, Ray's driver does not print raylet notices; all else passes."""
    try:
        from ray._private import worker
    except ImportError:  # a Ray without that module prints what it prints
        yield
        return
    original = getattr(worker, "print_to_stdstream", None)
    if original is None:
        yield
        return

    def without_raylet(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        if data.get("pid") != "raylet":
            original(data, *args, **kwargs)

    worker.print_to_stdstream = without_raylet  # looked up at each call by Ray's thread
    try:
        yield
    finally:
        worker.print_to_stdstream = original
