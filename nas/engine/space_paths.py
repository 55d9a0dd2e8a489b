"""Where the paths of a run's settings point.

A relative path written in a space file (``data.root``, ``data.cache_dir``,
``search.output``) is read from the folder of that file, as ``plugins:`` and
``search.seed_archs`` are; a path given as a flag (``--data-root``) or keyword is read
from the working directory, as every command-line tool does. Both become absolute here,
so messages name the folder actually read and ``RUN/config.yaml`` stores paths that
``--resume``, ``nas verify`` and ``nas export`` find from any directory.

Backward compatibility: ``data.root`` used to be read from the working directory.
When the folder beside the space file does not exist but the one under the working
directory does, that one is used and a one-line note says how to write it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FILE_PATHS = (("data", "root"), ("data", "cache_dir"), ("search", "output"))
FLAG_PATHS = (("data", "root"), ("data", "cache_dir"))
FALLS_BACK = {("data", "root")}  # data that exists only under the old reading


def space_folder(source: str) -> Path:
    """The folder a space file's relative paths are read from (the working directory
    for a space given as a mapping)."""
    return Path.cwd() if source.startswith("<") else Path(source).expanduser().parent.absolute()


def resolve_file_paths(
    run_config: Mapping[str, Any], source: str
) -> tuple[dict[str, Any], list[str]]:
    """`run_config` (the space file's data/train/search sections) with its paths made
    absolute against the file's folder, and the notes for paths read the old way."""
    folder, notes = space_folder(source), []
    sections = {name: dict(values or {}) for name, values in run_config.items()}
    for section, key in FILE_PATHS:
        value = sections.get(section, {}).get(key)
        if not _is_relative(value):
            continue
        path = folder / Path(value).expanduser()
        cwd_path = Path(value).expanduser().absolute()
        if (section, key) in FALLS_BACK and not path.exists() and cwd_path.exists():
            notes.append(_old_reading_note(source, f"{section}.{key}", value, path, cwd_path))
            path = cwd_path
        sections[section][key] = os.path.normpath(path)
    return sections, notes


def resolve_flag_paths(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """`overrides` (flags or keywords) with their paths made absolute against the
    working directory."""
    resolved = {name: dict(values or {}) for name, values in overrides.items()}
    for section, key in FLAG_PATHS:
        value = resolved.get(section, {}).get(key)
        if _is_relative(value):
            resolved[section][key] = os.path.normpath(Path(value).expanduser().absolute())
    return resolved


def _is_relative(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not Path(value).expanduser().is_absolute()


def _old_reading_note(source: str, setting: str, value: str, beside: Path, used: Path) -> str:
    return (
        f"{source}: {setting} {value!r} is not beside the space file ({beside} does not "
        f"exist); reading it from the working directory instead ({used}). Relative paths "
        f"in a space file are read from the file's folder: write {setting}: {used}"
    )
