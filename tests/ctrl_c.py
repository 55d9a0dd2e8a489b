"""Starting a child process that Ctrl-C (SIGINT) reaches, as it would from a terminal.

A command started in the background by a non-interactive shell (``pytest &``, a CI
script's background job) inherits SIGINT as *ignored*, and an ignored signal stays
ignored across exec: the child's Python then never installs its KeyboardInterrupt
handler, and a test that presses Ctrl-C would see nothing happen. A Python-level
handler, by contrast, is reset to the default on exec, so setting one around the start
gives the child the default disposition whatever the test runner inherited.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any


def popen_for_ctrl_c(*args: Any, **kwargs: Any) -> subprocess.Popen:
    """subprocess.Popen(*args, **kwargs), with SIGINT at its default in the child."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(*args, **kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)
