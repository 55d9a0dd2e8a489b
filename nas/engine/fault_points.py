"""Named points of a search's start-up where a test stops the process, to check that a
folder left at any of them is resumable or restartable (tests/nas/engine/test_startup_kill.py).

``NAS_TEST_STOP_AT=POINT:kill`` sends SIGKILL to this process at POINT (as `kill -9`
would); ``POINT:interrupt`` raises KeyboardInterrupt there (as Ctrl-C would). Unset, a
point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

STOP_ENV = "NAS_TEST_STOP_AT"
POINTS = ("locked", "checked", "ray", "config", "study", "seeds", "running")


def reached(point: str) -> None:
    wanted = os.environ.get(STOP_ENV)
    if not wanted or wanted.split(":")[0] != point:
        return
    if wanted.endswith(":interrupt"):
        raise KeyboardInterrupt
    os.kill(os.getpid(), signal.SIGKILL)
