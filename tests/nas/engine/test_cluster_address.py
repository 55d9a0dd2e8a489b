"""`nas search --address`: refused in one line when no Ray cluster answers, whatever listens
there; `auto` joins only a cluster started with `ray start`; Ctrl-C works while waiting.

The listeners are real sockets in this process: one that never speaks, one that answers
every connection with HTTP bytes (not Ray's gRPC).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ctrl_c import popen_for_ctrl_c
from tests.nas.engine.test_search import SPACE


class Listener:
    """A TCP server on 127.0.0.1 that accepts every connection and then either stays
    silent or sends `reply` bytes until the peer leaves."""

    def __init__(self, reply: bytes | None):
        self.reply, self.connections = reply, 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                peer, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(peer,), daemon=True).start()

    def _talk(self, peer: socket.socket) -> None:
        with peer:
            try:
                while not self.stopped.is_set():
                    if self.reply:
                        peer.sendall(self.reply)
                    peer.settimeout(0.5)
                    try:
                        if peer.recv(4096) == b"":
                            return
                    except TimeoutError:
                        pass
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.server.close()


@pytest.fixture(params=[None, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"])
def listener(request: pytest.FixtureRequest) -> Iterator[Listener]:
    server = Listener(request.param)
    yield server
    server.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]  # closed again on leaving: nothing listens there


def _assert_refused(result, address: str, run: Path) -> None:
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert f"--address {address}" in lines[0] and "ray start --head" in lines[0], lines[0]
    assert not run.exists()  # nothing written before a cluster answered


@pytest.mark.slow
def test_a_listener_that_is_not_ray_is_refused(nas, write_space, tmp_path, listener) -> None:
    address, run = f"127.0.0.1:{listener.port}", tmp_path / "run"
    result = nas("search", write_space(SPACE), "--address", address, "--output", run)
    _assert_refused(result, address, run)
    assert "not" in result.err and "Ray" in result.err
    assert listener.connections >= 1  # it really was asked, not refused on sight


def test_a_closed_port_is_refused(nas, write_space, tmp_path) -> None:
    address, run = f"127.0.0.1:{_closed_port()}", tmp_path / "run"
    result = nas("search", write_space(SPACE), "--address", address, "--output", run)
    _assert_refused(result, address, run)
    assert "refused" in result.err.lower()


def test_auto_without_a_ray_start_cluster_is_refused(nas, write_space, tmp_path, monkeypatch):
    # Ray looks for `ray start`'s record under RAY_TMPDIR/ray: an empty folder has none.
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    run = tmp_path / "run"
    result = nas("search", write_space(SPACE), "--address", "auto", "--output", run)
    assert result.code == 2, result.err
    assert result.err.count("\n") == 1 and "--address auto" in result.err
    assert "ray start --head" in result.err
    assert not run.exists()


@pytest.mark.slow
def test_auto_never_joins_another_processs_private_ray(nas, write_space, tmp_path, monkeypatch):
    """A Ray started by ray.init() in another process (as every local search does) is
    visible to Ray's own "auto" through `ps`; ours refuses it."""
    code = "import ray, sys; ray.init(num_cpus=1); print('up', flush=True); sys.stdin.read()"
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_TMPDIR", "RAY_ADDRESS")}
    other = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))  # ours: no `ray start` record there
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    try:
        assert other.stdout.readline().strip() == "up"
        run = tmp_path / "run"
        result = nas("search", write_space(SPACE), "--address", "auto", "--output", run)
        assert result.code == 2, result.err
        assert "--address auto" in result.err and "ray start --head" in result.err
        assert other.poll() is None  # the other search's Ray is untouched
    finally:
        other.stdin.close()
        other.wait(timeout=60)


@pytest.mark.slow
def test_ctrl_c_while_waiting_for_an_address_stops_at_once(write_space, tmp_path) -> None:
    server = Listener(None)
    try:
        command = [sys.executable, "-m", "nas", "search", str(write_space(SPACE))]
        command += ["--address", f"127.0.0.1:{server.port}", "--output", str(tmp_path / "run")]
        process = popen_for_ctrl_c(command, stderr=subprocess.PIPE, text=True, env=_env())
        # Wait for the search to reach the listener, then press Ctrl-C.
        while server.connections == 0:
            assert process.poll() is None, process.stderr.read()
            threading.Event().wait(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)  # a hang fails here, not a clock
        assert process.returncode == 130, err
        assert err.strip().splitlines()[-1] == "nas search: interrupted", err
    finally:
        server.close()


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[3])
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_the_lost_cluster_hint_resumes_on_this_machine(write_space, tmp_path) -> None:
    """The hint's local command, parsed by the real parser, overrides the stored address."""
    import shlex

    from nas.cli import build_parser
    from nas.cli.search import settings_from_args
    from nas.engine.cluster import lost_cluster_message
    from nas.engine.config import resolve_experiment
    from nas.engine.overrides import overrides_from_settings
    from nas.engine.study import config_yaml
    from nas.runs import format as rf

    run, address = tmp_path / "run", "127.0.0.1:6379"
    search = {"address": address, "output": str(run)}
    started = resolve_experiment(str(write_space(SPACE)), {"search": search})
    run.mkdir()
    (run / rf.CONFIG_FILE).write_text(config_yaml(started.to_document()))
    stored = resolve_experiment(None, {"search": {"output": str(run)}}, resume=True)
    assert stored.search.address == address  # a plain --resume would rejoin the lost cluster

    message = lost_cluster_message(address, address, f"nas search --resume --output {run}")
    command = message.split("or on this machine with: ")[1]
    assert command == f"nas search --resume --output {run} --address local"
    args = build_parser("search").parse_args(shlex.split(command)[1:])
    overrides = overrides_from_settings(settings_from_args(args), lambda name: f"--{name}")
    resumed = resolve_experiment(args.space, overrides, resume=args.resume)
    assert resumed.resume and resumed.run_dir == run
    assert resumed.search.address is None  # None: Ray started in this process (cluster.py)
