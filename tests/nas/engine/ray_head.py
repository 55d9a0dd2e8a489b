"""A real `ray start --head` on 127.0.0.1 for tests, stopped by its own process group.

`ray start --block` stays in the foreground, and it runs in a new session, so the GCS,
the raylet and every worker they start share its process group: killing that group
stops exactly this cluster (never `ray stop`, which stops every Ray of the user).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class RayHead:
    def __init__(self, cpus: int = 2):
        # Short: Ray's socket paths under the temp folder must stay below 108 characters.
        self.root = Path(tempfile.mkdtemp(prefix="nas-ray-", dir="/tmp"))
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        ray = Path(sys.executable).with_name("ray")
        command = [str(ray), "start", "--head", "--block", f"--port={self.port}"]
        command += ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus}", "--disable-usage-stats"]
        command += ["--include-dashboard=false", f"--temp-dir={self.root / 'ray'}"]
        with open(self.root / "ray-start.log", "w") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.record = self.root / "ray" / "ray_current_cluster"  # written once it is up

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_up(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.record.is_file():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.root / "ray-start.log").read_text())
            time.sleep(0.2)

    def kill(self) -> None:
        """Every process of this cluster, at once, as a lost head node would look."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def close(self) -> None:
        self.kill()
