"""One function run in a forked process while the caller goes on; its result read later.

`nas analyze` uses it for the key importances: on 1,000 trials they cost about 0.7 s
(rebuilding an in-memory Optuna study, then PED-ANOVA per objective), the group
statistics and the PNG pictures about 1.5 s, and neither needs the other. On a machine
with a second core the importances are then free; the answer is the same either way,
since the same function runs on the same rows.

A forked child starts with the caller's modules and data already in memory (no second
interpreter start, no re-import of pandas, no table sent): that is what makes it pay.
So the work runs in a child only where fork is safe: on Linux (macOS's system libraries
are not fork-safe; Windows has no fork), with no other thread in the process (a thread
holding a lock at the fork would leave the child stuck on it; a notebook kernel has
several). Elsewhere `result()` runs the function in the caller, when first asked.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable
from typing import Any


class Pending:
    """A result being computed; `result()` waits for it (or computes it here)."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._call = (function, args)
        self._process: Any = None
        self._receive: Any = None
        if _can_fork():
            context = multiprocessing.get_context("fork")
            self._receive, send = context.Pipe(duplex=False)
            self._process = context.Process(target=_child, args=(send, function, args))
            self._process.daemon = True  # never outlives the caller
            self._process.start()  # flushes stdout/stderr first: nothing is printed twice
            send.close()

    def result(self) -> Any:
        """The function's return value; its exception, raised here, if it raised one."""
        function, args = self._call
        if self._process is None:
            return function(*args)
        try:
            succeeded, value = self._receive.recv()
            self._process.join()  # the child exits right after sending
        except EOFError:  # the child died without an answer (killed): compute it here
            succeeded, value = True, function(*args)
        finally:
            self.close()
        if not succeeded:
            raise value
        return value

    def close(self) -> None:
        """Stop the child if its result is no longer wanted (idempotent)."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receive.close()
        self._process = None
        self._call = (_gone, ())


def _gone() -> None:
    raise RuntimeError("this result was already read, or closed unread")


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1


def _child(send: Any, function: Callable[..., Any], args: tuple) -> None:
    try:
        outcome = (True, function(*args))
    except BaseException as error:  # carried to the caller, raised there
        outcome = (False, error)
    send.send(outcome)
    send.close()
