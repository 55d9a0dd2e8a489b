"""Is a Ray cluster answering at an address? Asked before Ray is started, and during a search.

`ray.init(address=...)` retries a silent or foreign address for minutes and prints its
own time-outs; `find_cluster` answers within seconds instead:

1. a TCP connect (a closed port or an unknown host is refused at once);
2. one gRPC call to the method every Ray GCS serves (NodeInfoGcsService/GetClusterId),
   with a deadline. A Ray GCS answers it, or refuses it for a missing token (token
   authentication), which still proves Ray is there. Anything else that listens (a web
   server, a database, a socket that never speaks) misses the deadline or answers with
   another gRPC status.

``--address auto`` is resolved here too: RAY_ADDRESS, else the cluster that `ray start`
recorded in Ray's temp folder (ray_current_cluster). Ray's own "auto" also falls back to
any Ray process it sees in `ps`, which can be another search's private Ray; that
fallback is never used.
"""

from __future__ import annotations

import _thread
import os
import socket
import sys
import threading
import time
from collections.abc import Callable

from search_space.errors import SpaceError

GCS_METHOD = "/ray.rpc.NodeInfoGcsService/GetClusterId"
CONNECT_TIMEOUT_S = 5.0
ANSWER_TIMEOUT_S = 8.0  # a Ray GCS answers in milliseconds, even on a busy head
_FIX = (
    "start one with `ray start --head --port PORT`, or leave --address out to run on this machine"
)


def resolve_address(address: str) -> str:
    """HOST:PORT for `address`; "auto" means RAY_ADDRESS, else the `ray start` cluster."""
    if address != "auto":
        return address
    found = os.environ.get("RAY_ADDRESS") or _recorded_cluster()
    if not found:
        raise SpaceError(
            "--address auto: no cluster started with `ray start` on this machine; "
            "start one with `ray start --head`, or leave --address out to run on this machine"
        )
    return found


def _recorded_cluster() -> str | None:
    """The GCS address `ray start` wrote (and `ray stop` removes), if any."""
    try:
        from ray._common.utils import get_ray_address_file
    except ImportError:  # older Ray kept it elsewhere; the file name is the same
        get_ray_address_file = None
    if get_ray_address_file is not None:
        path = get_ray_address_file(None)
    else:
        base = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
        path = os.path.join(base, "ray", "ray_current_cluster")
    try:
        with open(path) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def find_cluster(target: str, label: str) -> None:
    """Returns when a Ray GCS answers at HOST:PORT `target`; else one SpaceError line
    that starts with `label` (the flag as the user wrote it)."""
    reason = probe(target)
    if reason is not None:
        raise SpaceError(f"{label}: no Ray cluster answers there ({reason}); {_FIX}")


def probe(address: str, timeout_s: float = ANSWER_TIMEOUT_S) -> str | None:
    """None when a Ray GCS answers at `address`, else why not (a few words)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return "expected HOST:PORT"
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        return getattr(error, "strerror", None) or str(error) or type(error).__name__
    return _ask_gcs(f"{host}:{port}", timeout_s)


def _ask_gcs(target: str, timeout_s: float) -> str | None:
    import grpc

    channel = grpc.insecure_channel(target)
    try:
        call = channel.unary_unary(
            GCS_METHOD,
            request_serializer=lambda _: b"",  # GetClusterIdRequest has no fields
            response_deserializer=lambda data: data,
        )
        # gRPC waits in short slices, so Ctrl-C is honoured during the call.
        call(None, timeout=timeout_s, wait_for_ready=True)
    except grpc.RpcError as error:
        code = error.code()
        if code == grpc.StatusCode.UNAUTHENTICATED:  # Ray with token authentication
            return None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return f"something listens but did not answer as Ray in {timeout_s:g} s"
        return f"something listens but is not Ray: gRPC {code.name}"
    finally:
        channel.close()
    return None


class ClusterWatch:
    """A thread that asks the cluster every `every_s` whether it is still there.

    After `lost_after_s` without an answer it interrupts the main thread (as Ctrl-C
    would: the search stops and records what it has); if the search has not ended
    `grace_s` later (Ray calls into a cluster that is gone can block), it runs
    `on_abandon` (which records the run as interrupted), prints `message` and ends the
    process with exit code 2. The study keeps every finished trial either way, and
    `--resume` re-runs the ones that were in flight.
    """

    def __init__(
        self,
        target: str,
        message: str,
        *,
        every_s: float = 2.0,
        lost_after_s: float = 12.0,
        grace_s: float = 20.0,
    ):
        self.target, self.message = target, message
        self.every_s, self.lost_after_s, self.grace_s = every_s, lost_after_s, grace_s
        self.on_abandon: Callable[[], None] | None = None
        self.lost = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="nas-cluster-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=self.every_s + ANSWER_TIMEOUT_S)

    def _watch(self) -> None:
        silent_since = None
        while not self._stopped.wait(self.every_s):
            if probe(self.target, timeout_s=ANSWER_TIMEOUT_S) is None:
                silent_since = None
                continue
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since >= self.lost_after_s and not self._stopped.is_set():
                self._give_up()
                return

    def _give_up(self) -> None:
        self.lost = True
        _thread.interrupt_main()  # the search's own Ctrl-C path: Tune stops, trials recorded
        if self._stopped.wait(self.grace_s):
            return
        try:
            if self.on_abandon is not None:
                self.on_abandon()
        finally:
            print(f"nas search: error: {self.message}", file=sys.stderr, flush=True)
            os._exit(2)
