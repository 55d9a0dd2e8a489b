"""Files written by the run take the user's umask, like any file the user writes."""

from __future__ import annotations

import os
import stat

import pytest

from nas.runs.atomic import atomic_path, write_json, write_text


@pytest.fixture
def umask():
    """Sets a umask for one test and restores the caller's afterwards."""
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    written = [
        write_text(tmp_path / "a.txt", "text\n"),
        write_json(tmp_path / "b.json", {"a": 1}),
    ]
    with atomic_path(tmp_path / "c.bin") as temporary:
        temporary.write_bytes(b"\x00")
    written.append(tmp_path / "c.bin")
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path.name


def test_replacing_a_file_keeps_the_umask_mode(tmp_path, umask):
    umask(0o022)
    path = write_text(tmp_path / "a.txt", "old\n")
    path.chmod(0o600)
    write_text(path, "new\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert path.read_text() == "new\n"
