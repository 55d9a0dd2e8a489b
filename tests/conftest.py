"""Shared fixtures: a writer for space files and a way to run the `nas` command in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from nas.cli import main


@pytest.fixture
def write_space(tmp_path: Path) -> Callable[..., Path]:
    """Writes a mapping (or raw text) as a YAML file and returns its path."""

    def write(document: dict | str, name: str = "space.yaml") -> Path:
        path = tmp_path / name
        text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False)
        path.write_text(text)
        return path

    return write


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def nas(capsys: pytest.CaptureFixture) -> Callable[..., CliResult]:
    """Runs `nas ARGS...` in this process; returns exit code, stdout and stderr."""

    def run(*args: object) -> CliResult:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:  # argparse errors
            code = exit_.code
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
