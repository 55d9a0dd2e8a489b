"""Finds a space or architecture by path or bundled name, reads it safely, validates it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from search_space.errors import SpaceError, did_you_mean
from search_space.space import SearchSpace, parse_space

PACKAGE_DIR = Path(__file__).parent
BUNDLED_DIRS = {"space": PACKAGE_DIR / "spaces", "zoo": PACKAGE_DIR / "zoo"}


def bundled_names() -> dict[str, Path]:
    """Bundled spaces and zoo architectures by name (a space wins a name clash)."""
    names: dict[str, Path] = {}
    for folder in (BUNDLED_DIRS["zoo"], BUNDLED_DIRS["space"]):
        names.update({path.stem: path for path in sorted(folder.glob("*.yaml"))})
    return names


def resolve(source: str | Path) -> Path:
    """A path to an existing file, or the file of a bundled space or zoo model."""
    path = Path(source)
    if path.is_file():
        return path
    bundled = bundled_names()
    if str(source) in bundled:
        return bundled[str(source)]
    if path.exists():
        raise SpaceError(f"{source}: is a folder, not a YAML file")
    raise SpaceError(
        f"{source}: no such file, and no bundled space or zoo model has that name"
        f"{did_you_mean(path.stem, bundled)}; bundled: {', '.join(sorted(bundled))}"
    )


def read_yaml(path: Path) -> Any:
    """Reads YAML with safe_load; a syntax error names the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpaceError(f"{path}: cannot be read ({error})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise SpaceError(f"{path}: YAML syntax error at {where}: {problem}") from None


def load_space(source: str | Path | dict, *, validate: bool = True) -> SearchSpace:
    """Loads and validates a space file (a path or a bundled name) or an in-memory mapping."""
    from search_space.validate import validate_space

    if isinstance(source, dict):
        document, label, folder = source, "<memory>", None
    else:
        path = resolve(source)
        document, label, folder = read_yaml(path), str(path), path.parent
    try:
        plugins = _plugins(document, folder)  # before parsing: they add components
        space = parse_space(document, source=label)
        space.plugins = plugins
        if validate:
            validate_space(space)
    except SpaceError as error:
        raise SpaceError([f"{label}: {problem}" for problem in error.problems]) from None
    return space


def _plugins(document: Any, folder: Path | None) -> tuple[str, ...]:
    """Imports the document's ``plugins:`` (and the installed entry points); resolved."""
    from search_space.plugins import check_plugins_key, import_plugins

    raw = document.get("plugins") if isinstance(document, dict) else None
    problems = check_plugins_key(raw)
    if problems:
        raise SpaceError(problems)
    return import_plugins(raw, folder)
