"""The storage is checked before Ray starts, read-only: a damaged study.db is one line and
every file of the run is left as it was; a bad URL or a missing driver names the flag."""

from __future__ import annotations

import json

import pytest
import yaml

from nas.runs import format as rf
from tests.nas.engine.test_search import SPACE


def _fake_run(tmp_path, study_bytes: bytes):
    """A finished run folder (config.yaml and run.json as `nas search` writes them)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / rf.CONFIG_FILE).write_text(yaml.safe_dump(SPACE, sort_keys=False))
    (run / rf.RUN_FILE).write_text(json.dumps({rf.RUN_STATUS: "finished", "study_name": "r"}))
    (run / rf.STUDY_FILE).write_bytes(study_bytes)
    return run


def _snapshot(folder):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("study_bytes", "message"),
    [
        (b"", "is empty (0 bytes)"),
        (b"\x00garbage\xff" * 300, "is not an SQLite database"),
        (b"SQLite format 3\x00" + b"\x07" * 5000, "the study database is damaged"),
    ],
)
def test_a_damaged_study_db_is_one_line_and_nothing_is_written(nas, tmp_path, study_bytes, message):
    run = _fake_run(tmp_path, study_bytes)
    before = _snapshot(run)
    result = nas("search", "--resume", "--output", run)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "study.db" in lines[0], result.err
    after = _snapshot(run)
    after.pop(".lock", None)  # the lock is taken first; it holds only who took it
    assert after == before


def test_a_bad_storage_url_names_the_flag(nas, tmp_path):
    result = nas("search", "--storage", "not a url", "--output", tmp_path / "r", "--trials", "1")
    assert result.code == 2
    assert "--storage not a url: not a database URL" in result.err
    assert not (tmp_path / "r").exists()


def test_a_plain_postgresql_url_is_checked_before_ray(nas, tmp_path):
    # Without psycopg2 or psycopg: the pip command; with one: the server is unreachable.
    url = "postgresql://user@127.0.0.1:1/db"
    result = nas("search", "--storage", url, "--output", tmp_path / "r", "--trials", "1")
    assert result.code == 2
    line = result.err.strip().splitlines()[-1]
    assert line.startswith(f"nas search: error: --storage {url}")
    assert "pip install 'psycopg2-binary'" in line or "cannot open the database" in line
    assert not (tmp_path / "r").exists()


def test_a_bad_storage_url_from_the_space_file_names_the_file_and_key(nas, write_space, tmp_path):
    space = write_space({**SPACE, "search": {**SPACE.get("search", {}), "storage": "not a url"}})
    result = nas("search", space, "--output", tmp_path / "r", "--trials", "1")
    assert result.code == 2
    line = result.err.strip().splitlines()[-1]
    assert line == (
        f"nas search: error: {space}: search.storage not a url: not a database URL; "
        "e.g. sqlite:////abs/path/study.db or postgresql://user:password@host/db"
    )
    # the flag wins over the file, and is named as the flag
    flagged = nas("search", space, "--storage", "nor this", "--output", tmp_path / "r")
    assert "error: --storage nor this: not a database URL" in flagged.err
    assert not (tmp_path / "r").exists()


def test_a_resumed_runs_stored_storage_names_its_config_yaml(nas, tmp_path):
    run = _fake_run(tmp_path, b"")
    stored = {**SPACE, "search": {**SPACE.get("search", {}), "storage": "still not a url"}}
    (run / rf.CONFIG_FILE).write_text(yaml.safe_dump(stored, sort_keys=False))
    result = nas("search", "--resume", "--output", run)
    assert result.code == 2
    config = run / rf.CONFIG_FILE
    assert f"error: {config}: search.storage still not a url: not a database URL" in result.err
