"""A database password given in a storage URL never reaches the run folder, the console
or a snapshot; a resumed search and the readers get it back from NAS_STORAGE or from the
driver's own password file (libpq's .pgpass).

The end-to-end test runs real searches against a real PostgreSQL server started for it
(skipped where the server binaries or a driver are missing); the others need no server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from nas.runs import format as rf
from nas.runs.storage_url import redact_url, restore_password, without_password
from search_space import SpaceError
from tests.nas.engine.test_search import SPACE

SECRET = "s3cr3t-Pw_7"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://nas:{SECRET}@db.example:5432/runs",
            "postgresql://nas:***@db.example:5432/runs",
        ),
        (f"mysql+pymysql://u:{SECRET}@h/d?charset=utf8", "mysql+pymysql://u:***@h/d?charset=utf8"),
        (f"postgresql://u:p@ss{SECRET}@h/d", "postgresql://u:***@h/d"),  # an @ in the password
        (
            f"postgresql://u@h/d?password={SECRET}&sslmode=require",
            "postgresql://u@h/d?password=***&sslmode=require",
        ),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("sqlite:////tmp/run/study.db", "sqlite:////tmp/run/study.db"),
        (f"--storage=postgresql://u:{SECRET}@h/d", "--storage=postgresql://u:***@h/d"),
    ],
)
def test_passwords_in_urls_are_redacted_and_nothing_else_changes(url, shown):
    assert redact_url(url) == shown
    assert SECRET not in redact_url(url)


def test_the_password_comes_back_from_nas_storage_only_for_the_same_database(monkeypatch):
    stored = "postgresql://nas:***@h:5432/runs"
    monkeypatch.delenv("NAS_STORAGE", raising=False)
    assert restore_password(stored, "x") == "postgresql://nas@h:5432/runs"  # libpq: .pgpass
    monkeypatch.setenv("NAS_STORAGE", f"postgresql://nas:{SECRET}@h:5432/runs")
    assert restore_password(stored, "x") == f"postgresql://nas:{SECRET}@h:5432/runs"
    assert restore_password("postgresql://nas@h:5432/runs", "x").endswith(f"{SECRET}@h:5432/runs")
    monkeypatch.setenv("NAS_STORAGE", f"postgresql://nas:{SECRET}@h:5432/other")
    with pytest.raises(SpaceError, match="NAS_STORAGE names another database") as caught:
        restore_password(stored, "x")
    assert SECRET not in str(caught.value)
    given = f"postgresql://nas:{SECRET}@h:5432/runs"  # a complete URL is used as given
    assert restore_password(given, "x") == given
    assert without_password(given) == "postgresql://nas@h:5432/runs"


@pytest.mark.parametrize(
    "url", [f"postgresql://nas:{SECRET}@127.0.0.1:1/runs", f"mysql://nas:{SECRET}@127.0.0.1:1/runs"]
)
def test_a_refused_storage_is_one_line_without_the_password(nas, write_space, tmp_path, url):
    result = nas("search", write_space(SPACE), "--storage", url, "--output", tmp_path / "r")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and redact_url(url) in lines[0], result.err
    assert SECRET not in result.out + result.err
    assert not (tmp_path / "r").exists()


def test_run_json_and_config_yaml_are_written_without_the_password(tmp_path, monkeypatch):
    from nas.engine.config import resolve_experiment
    from nas.engine.study import config_yaml, write_run_json

    url = f"postgresql://nas:{SECRET}@127.0.0.1:5432/runs"
    run = tmp_path / "run"
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    experiment = resolve_experiment(str(space), {"search": {"storage": url, "output": str(run)}})
    monkeypatch.setattr(sys, "argv", ["nas", "search", str(space), "--storage", url])
    run.mkdir()
    (run / rf.CONFIG_FILE).write_text(config_yaml(experiment.to_document()))
    write_run_json(run, experiment, url, "runs", rf.RUNNING)
    for path in run.iterdir():
        assert SECRET not in path.read_text(), path
    info = json.loads((run / rf.RUN_FILE).read_text())
    assert info[rf.RUN_STORAGE] == "postgresql://nas:***@127.0.0.1:5432/runs"
    assert info["command"][-1] == "postgresql://nas:***@127.0.0.1:5432/runs"
    stored = yaml.safe_load((run / rf.CONFIG_FILE).read_text())["search"]["storage"]
    assert stored == "postgresql://nas:***@127.0.0.1:5432/runs"
    # resuming with the full URL given again is the same storage, not a changed setting
    resumed = resolve_experiment(
        None, {"search": {"storage": url, "output": str(run)}}, resume=True
    )
    assert resumed.search.storage == url


def test_a_snapshot_of_a_run_written_in_clear_carries_no_password(nas, tmp_path):
    from tests.nas.runs.test_report import TRIALS, make_run

    run = tmp_path / "run"
    make_run(run, TRIALS)
    info = json.loads((run / rf.RUN_FILE).read_text())
    clear = f"postgresql://nas:{SECRET}@db/runs"
    info["command"] = ["nas", "search", "--storage", clear]
    (run / rf.RUN_FILE).write_text(json.dumps(info))
    (run / rf.CONFIG_FILE).write_text(yaml.safe_dump({"search": {"storage": clear}}))
    result = nas("report", run, "--snapshot", tmp_path / "snap", "--no-plots")
    assert result.code == 0, result.err
    copied = [p for p in (tmp_path / "snap").rglob("*") if p.is_file()]
    assert {p.name for p in copied} >= {rf.RUN_FILE, rf.CONFIG_FILE}
    for path in copied:
        assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in result.out + result.err


# --- a real PostgreSQL server ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server on 127.0.0.1 with password (scram) authentication, user `nas`,
    database `runs`; yields its URL without the password. Runs as the `postgres` user
    when this process is root (the server refuses root)."""
    pytest.importorskip("psycopg")
    binaries = [shutil.which(n) for n in ("initdb", "postgres")]
    if not all(binaries):
        pytest.skip("PostgreSQL server binaries are not installed")
    # Not under pytest's folder, which only root may enter.
    home = Path(tempfile.mkdtemp(prefix="nas-test-postgres-"))
    as_user = []
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(home, "postgres")
    (home / "pw").write_text(SECRET)
    shutil.chown(home / "pw", "postgres") if as_user else None
    subprocess.run(
        [*as_user, binaries[0], "-D", str(home / "data"), "-U", "nas", "-A", "scram-sha-256",
         f"--pwfile={home / 'pw'}"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [*as_user, binaries[1], "-D", str(home / "data"), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(home)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import psycopg

    admin = f"postgresql://nas:{SECRET}@127.0.0.1:{port}/postgres"
    for _ in range(100):
        try:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute("CREATE DATABASE runs")
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    else:
        server.terminate()
        pytest.fail("the PostgreSQL server did not start")
    yield f"postgresql://nas@127.0.0.1:{port}/runs"
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(home, ignore_errors=True)


def _nas(*args: object, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nas", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_a_postgresql_run_keeps_its_password_out_and_resumes_with_it(postgres, tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NAS_", "PG"))}
    url = postgres.replace("nas@", f"nas:{SECRET}@")
    space, run = tmp_path / "space.yaml", tmp_path / "run"
    space.write_text(yaml.safe_dump(SPACE))
    printed = []
    first = _nas(
        "search", space, "--storage", url, "--trials", 1, "--output", run, "--json", env=clean
    )
    printed.append(first.stdout + first.stderr)
    assert first.returncode == 0, first.stderr[-3000:]
    # Resume: the password from NAS_STORAGE
    resumed = _nas(
        "search", "--resume", "--output", run, "--trials", 2, env={**clean, "NAS_STORAGE": url}
    )
    printed.append(resumed.stdout + resumed.stderr)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # Without it the server refuses, in one line that names the fix and not the password
    refused = _nas("report", run, env=clean)
    printed.append(refused.stdout + refused.stderr)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    # A .pgpass file (libpq's own) gives it back to the readers
    pgpass = tmp_path / "pgpass"
    host, port = postgres.split("@")[1].split("/")[0].split(":")
    pgpass.write_text(f"{host}:{port}:runs:nas:{SECRET}\n")
    pgpass.chmod(0o600)
    report = _nas(
        "report",
        run,
        "--json",
        "--snapshot",
        tmp_path / "snap",
        env={**clean, "PGPASSFILE": str(pgpass)},
    )
    printed.append(report.stdout + report.stderr)
    assert report.returncode == 0, report.stderr[-3000:]
    assert json.loads(report.stdout)["counts"]["complete"] == 2  # both searches' trials
    for text in printed:
        assert SECRET not in text
    for folder in (run, tmp_path / "snap"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


def test_reading_a_run_whose_driver_is_missing_gives_the_pip_command(nas, tmp_path):
    from tests.nas.runs.test_report import TRIALS, make_run

    run = tmp_path / "run"
    make_run(run, TRIALS)
    info = json.loads((run / rf.RUN_FILE).read_text())
    info[rf.RUN_STORAGE] = "mysql://nas:***@127.0.0.1:1/runs"  # no MySQL driver installed
    (run / rf.RUN_FILE).write_text(json.dumps(info))
    for command in ("report", "export", "analyze", "verify"):
        result = nas(command, run)
        assert result.code == 2
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and "pip install 'pymysql'" in lines[0], result.err
