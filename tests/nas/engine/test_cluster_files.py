"""A search on a two-node Ray cluster whose nodes cannot see the run folder.

Two `ray start` processes on 127.0.0.1 (a head with one CPU, a worker node with two)
each run in a private mount namespace where a fresh tmpfs covers the folder that holds
the run folder: for every Ray process, that folder is empty, as on a second machine
without a shared filesystem. Only `nas search` (this machine's view) sees the real one.
So every file in the run folder was written by the search process, and every trial's
weights there travelled through Ray. Both nodes run with their own HOME and working
directory, and are stopped by process id at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml
from safetensors import safe_open

from nas.runs import format as rf
from nas.runs.load import DIGEST_KEY

ROOT = Path(__file__).resolve().parents[3]
RAY = str(Path(sys.executable).with_name("ray"))
SPACE = {
    "name": "two-nodes",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": [8, 16], "stride": 2},
    "stages": [
        {"block": ["resnet", "mbconv"], "depth": 1, "width": [8, 16], "stride": 2, "kernel": 3}
    ],
    "head": {"pool": "avg"},
    "data": {"name": "mnist5k", "limit": 600},
    "train": {"epochs": 1, "batch_size": 64},
}
# Lists the hidden folder from a Ray task pinned to each node: [node id, resources, listing].
PROBE = """
import json, os, sys, time, ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy as On
ray.init(address=sys.argv[1], logging_level="ERROR")
deadline = time.time() + 90
while len([n for n in ray.nodes() if n["Alive"]]) < 2 and time.time() < deadline:
    time.sleep(1)
listing = ray.remote(num_cpus=0)(lambda folder: sorted(os.listdir(folder)))
nodes = [n for n in ray.nodes() if n["Alive"]]
print(json.dumps([
    [n["NodeID"], n["Resources"].get("CPU"),
     ray.get(listing.options(scheduling_strategy=On(n["NodeID"], soft=False)).remote(sys.argv[2]))]
    for n in nodes
]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _private_mount(hidden: Path) -> list[str]:
    """A command prefix: run in a new mount namespace with a tmpfs over `hidden`."""
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    mount = 'mount -t tmpfs -o size=16m tmpfs "$0" && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", *user, "sh", "-c", mount, str(hidden)]


def _can_hide(hidden: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*_private_mount(hidden), "true"], capture_output=True)
    return probe.returncode == 0


def _family(root: int) -> list[int]:
    """`root` and its descendants, from /proc (Ray's agents and workers rename themselves,
    so their command lines cannot be matched)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    family, queue = [], [root]
    while queue:
        pid = queue.pop()
        family.append(pid)
        queue += children.get(pid, [])
    return family


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the `ray start --block` process and every descendant, by pid; SIGKILL what
    is left after 15 s. Never `ray stop`, which would stop other people's clusters."""
    family = _family(process.pid)
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in family[1:]) and time.monotonic() < deadline:
        time.sleep(0.5)
        process.poll()  # reaps the root, so it does not linger as a zombie
    for pid in family:
        with contextlib.suppress(ProcessLookupError):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    process.wait(timeout=15)


@pytest.fixture
def two_nodes() -> Iterator[tuple[str, Path, dict[str, str]]]:
    """(address, hidden folder, environment for the driver) of a two-node cluster."""
    # A short folder: Ray's socket paths under --temp-dir must stay below 108 characters.
    scratch = Path(tempfile.mkdtemp(prefix="nas-2n-", dir="/tmp"))
    hidden = scratch / "driver-only"
    hidden.mkdir()
    if not _can_hide(hidden):  # the test would prove nothing where Ray could see it
        shutil.rmtree(scratch)
        pytest.fail("needs unshare with mount namespaces (run as root) to hide the run folder")
    port, nodes = _free_port(), []
    # Every process gets its own HOME, the driver too: Ray reads an auth token from
    # ~/.ray/auth_token, and one process with a token and another without cannot talk.
    plain = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    (scratch / "home-driver").mkdir()
    driver = {**plain, "HOME": str(scratch / "home-driver"), "PYTHONPATH": str(ROOT)}
    common = ["--node-ip-address=127.0.0.1", "--num-gpus=0", "--disable-usage-stats", "--block"]
    common += ["--object-store-memory=200000000"]
    head = [f"--port={port}", "--head", "--num-cpus=1", "--include-dashboard=false"]
    head += [f"--ray-client-server-port={_free_port()}"]
    worker = [f"--address=127.0.0.1:{port}", "--num-cpus=2"]
    try:
        for name, options in (("head", head), ("worker", worker)):
            home = scratch / f"home-{name}"
            home.mkdir()
            env = {**plain, "HOME": str(home), "PYTHONPATH": str(ROOT)}
            command = [RAY, "start", *options, *common, f"--temp-dir={scratch / name}"]
            command += [f"--dashboard-agent-listen-port={_free_port()}"]
            log = open(scratch / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
            nodes.append(
                subprocess.Popen(
                    [*_private_mount(hidden), *command], cwd=home, env=env, stdout=log, stderr=log
                )
            )
            time.sleep(5 if name == "head" else 0)
        yield f"127.0.0.1:{port}", hidden, driver
    finally:
        for process in reversed(nodes):
            _stop(process)
        shutil.rmtree(scratch, ignore_errors=True)


def _accuracy_of(weights: Path, arch: Path, data: dict) -> tuple[float, int]:
    """The weights' validation accuracy in fp32 on this CPU, and the number of images."""
    from evaluators.config import DataConfig
    from evaluators.datasets import load_dataset
    from evaluators.device import plan_device
    from evaluators.training import evaluate
    from nas.runs.load import load_weights_into
    from search_space import build_model, load_architecture

    architecture = load_architecture(arch)
    model = build_model(architecture)
    load_weights_into(model, weights)
    dataset = load_dataset(DataConfig.from_dict(data), architecture.input)
    plan = plan_device("cpu", amp=False, channels_last=False)
    return evaluate(model.eval(), dataset, plan, 256)[0], len(dataset.val)


@pytest.mark.slow
def test_weights_reach_a_run_folder_no_ray_node_can_see(two_nodes, tmp_path) -> None:
    address, hidden, driver = two_nodes
    (hidden / "only-the-driver-sees-this").touch()
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, address, str(hidden)],
        capture_output=True,
        text=True,
        timeout=180,
        env=driver,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    nodes = json.loads(probe.stdout.strip().splitlines()[-1])
    assert sorted(cpus for _, cpus, _ in nodes) == [1.0, 2.0]
    assert all(listing == [] for _, _, listing in nodes)  # the run folder is invisible
    worker_node = next(node for node, cpus, _ in nodes if cpus == 2.0)

    space, run = tmp_path / "space.yaml", hidden / "run"
    space.write_text(yaml.safe_dump(SPACE, sort_keys=False))
    options = ["--trials", "3", "--seed", "0", "--cpus-per-trial", "1", "--no-plots", "--json"]
    search = subprocess.run(
        [
            sys.executable,
            "-m",
            "nas",
            "search",
            str(space),
            "--address",
            address,
            *options,
            "--output",
            str(run),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=driver,
    )
    assert search.returncode == 0, search.stderr[-3000:]
    assert json.loads(search.stdout)["finished"]

    table = pd.read_csv(run / rf.TRIALS_CSV)
    complete = table[table["state"] == rf.COMPLETE]
    assert len(complete) == 3, table["error"].tolist()
    assert set(complete["host"]) == {socket.gethostname()}
    assert set(complete["device"]) == {"cpu"}
    assert set(complete["node_id"]) <= {node for node, _, _ in nodes}
    assert worker_node in set(complete["node_id"])  # the head has one CPU for three trials

    study = optuna.load_study(study_name=None, storage=f"sqlite:///{run / rf.STUDY_FILE}")
    kept = 0
    for trial in study.trials:
        digest = trial.user_attrs[rf.ATTR_WEIGHTS_SHA256]  # every trial's weights arrived
        weights = run / rf.TRIALS_DIR / str(trial.number) / rf.WEIGHTS_FILE
        if not weights.is_file():  # dominated: pruned by the search after it arrived
            continue
        kept += 1
        with safe_open(weights, "pt") as stored:  # reads the header only
            assert stored.metadata()[DIGEST_KEY] == digest
        recorded = trial.user_attrs[rf.ATTR_METRICS]["accuracy"]
        arch = weights.parent / rf.ARCH_FILE  # written by the driver before the trial ran
        accuracy, images = _accuracy_of(weights, arch, SPACE["data"])
        # The trained model itself: the same fp32 CPU evaluation, up to one image that a
        # different evaluation batch size could tip.
        assert abs(accuracy - recorded) * images <= 1.0 + 1e-9
    assert kept >= 1  # the front keeps its weights
