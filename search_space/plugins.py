"""Plug-ins: the user's own stems, blocks, transitions, heads, datasets and evaluators.

A plug-in is a Python module that registers components when imported (with
``@register_block("name")`` and friends). Two ways to name one:

- the ``plugins:`` key of a space file, a list of module names (importable from
  ``sys.path`` or found in the space file's folder) or paths to ``.py`` files (or
  package folders) relative to the space file;
- an entry point in the group ``nas_vision.plugins`` of an installed package, naming a
  module (or a function with no arguments that registers), imported in every process.

Both are imported before a space is validated, so a plug-in's components are checked,
sampled, counted, trained, exported and reloaded like the bundled ones. A module found
by path is imported from that very file (a clash with another module of the same name is
an error, never a silent swap), and its folder joins ``sys.path`` so its own imports work.

The resolved form of a ``plugins:`` list (what a run folder's config.yaml and every
Ray worker get) holds module names and absolute paths, so any process on the machine
imports the same files. An export records only module names, and reloading it imports
only those its caller allows (`import_trusted`): installed entry points, names passed
to ``nas.load_model(..., plugins=[...])``, or modules already imported; never from the
working directory or the model's folder.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from search_space.errors import SpaceError
from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS, Registry

ENTRY_POINT_GROUP = "nas_vision.plugins"
_REGISTRIES: tuple[Registry, ...] = (STEMS, BLOCKS, TRANSITIONS, HEADS)

# (registry kind, component name) -> the plug-in module whose import registered it
_PROVIDERS: dict[tuple[str, str], str] = {}
_entry_points_loaded = False


def check_plugins_key(raw: Any) -> list[str]:
    """Problems with the shape of a ``plugins:`` value (a list of non-empty strings)."""
    items = [raw] if isinstance(raw, str) else raw
    if raw is None:
        return []
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) and i for i in items):
        return [f"plugins: expected a list of module names or .py paths, got {raw!r}"]
    return []


def import_plugins(
    entries: Iterable[str] | str | None, base: Path | None = None
) -> tuple[str, ...]:
    """Imports the installed entry-point plug-ins (once per process) and `entries`.

    `base` is the folder of the space file naming them (None: sys.path only). Returns
    the resolved entries: module names and absolute paths. A plug-in that cannot be
    imported is one SpaceError line naming it and the fix.
    """
    load_entry_points()
    given = _as_list(entries)
    resolved = tuple(resolve_entry(entry, base) for entry in given)
    for written, entry in zip(given, resolved):
        load = functools.partial(_import, entry, base)
        _import_tracked(_module_name(entry), load, _cannot_import(written))
    return resolved


def resolve_entry(entry: str, base: Path | None) -> str:
    """A module name or a .py/package path -> a module name or an absolute path."""
    if _is_path(entry):
        path = Path(entry).expanduser()
        path = path if path.is_absolute() or base is None else base / path
        return str(path.resolve())
    if base is not None:
        first = entry.split(".")[0]
        for candidate in (base / f"{first}.py", base / first):
            if candidate.is_file() or (candidate / "__init__.py").is_file():
                if first == entry:
                    return str(candidate.resolve())
                return entry  # a submodule of a local package: its folder goes on sys.path
    return entry


def load_entry_points() -> list[str]:
    """Imports every ``nas_vision.plugins`` entry point once; returns their module names."""
    global _entry_points_loaded
    from importlib.metadata import entry_points

    found = list(entry_points(group=ENTRY_POINT_GROUP))
    if _entry_points_loaded:
        return [point.module for point in found]
    _entry_points_loaded = True
    for point in found:
        label = f"entry point {point.name!r} ({point.value}, group {ENTRY_POINT_GROUP})"
        _import_tracked(
            point.module, functools.partial(_load_entry_point, point), _cannot_import(label)
        )
    return [point.module for point in found]


def needed_plugins(arch: Any) -> list[str]:
    """Module names of the plug-ins that provide the components `arch` is built from."""
    used = [("stem", arch.stem.type), ("head", arch.head.type)]
    for stage in arch.stages:
        used.append(("block", stage.block))
        if stage.downsample in TRANSITIONS:
            used.append(("downsample", stage.downsample))
    registries = {registry.kind: registry for registry in _REGISTRIES}
    modules = []
    for kind, name in used:
        module = _PROVIDERS.get((kind, name)) or registries[kind].get(name).__module__
        if not module.startswith("search_space.") and module not in modules:
            modules.append(module)
    return modules


def import_trusted(
    modules: Sequence[str], allowed: Iterable[str], *, untrusted: Path, where: str
) -> None:
    """Imports the plug-ins a model file records, but only those the caller trusts: the
    installed entry points, the names in `allowed` (and their submodules), and modules
    already imported. The import searches sys.path without the working directory and
    without `untrusted` (the model's folder), so no file that came with a model runs.
    Anything else is one SpaceError line naming the module and how to allow it."""
    trusted = {*load_entry_points(), *allowed}
    hidden = {Path(untrusted).resolve(), Path.cwd().resolve()}
    for module in modules:
        if _is_path(module):
            raise SpaceError(
                f"{where}: plug-in {module!r} is a file path; a model names its plug-ins "
                "by module name, and nothing is imported from a path it gives"
            )
        loaded = sys.modules.get(module)
        if loaded is None and not _trusted(module, trusted):
            raise SpaceError(
                f"{where}: this model needs the plug-in {module!r}, which is imported only "
                f"when you allow it: nas.load_model(path, plugins=[{module!r}]) with its "
                "folder on PYTHONPATH, or install its package (a nas_vision.plugins entry point)"
            )
        if loaded is None:
            with _without_paths(hidden):
                _import_tracked(
                    module,
                    lambda m=module: importlib.import_module(m),
                    lambda why, m=module: (
                        f"{where}: this model needs the plug-in {m!r}, which cannot be "
                        f"imported ({why}); install its package or put its folder on "
                        "PYTHONPATH (the working directory and the model's folder are "
                        f"never searched: `import {m}` yourself first if it lives there)"
                    ),
                )


def _trusted(module: str, trusted: set[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:n]) in trusted for n in range(1, len(parts) + 1))


@contextlib.contextmanager
def _without_paths(hidden: set[Path]) -> Iterator[None]:
    """sys.path without '' (the working directory) and without the `hidden` folders."""
    saved = list(sys.path)

    def hides(entry: str) -> bool:
        try:
            return Path(entry or ".").resolve() in hidden
        except OSError:
            return False

    sys.path[:] = [entry for entry in saved if not hides(entry)]
    try:
        yield
    finally:
        sys.path[:] = saved + [e for e in sys.path if e not in saved]


# --- importing ----------------------------------------------------------------------


def _cannot_import(label: str) -> Any:
    return lambda why: (
        f"plugins: cannot import {label!r} ({why}): put it on PYTHONPATH or next to the space file"
    )


def _import_tracked(module: str, load: Any, message: Any) -> None:
    """Runs `load`, recording which components it registered; a failure is one SpaceError
    line, `message(description of the error)`."""
    before = {(r.kind, name) for r in _REGISTRIES for name in r.names()}
    try:
        load()
    except SpaceError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # ImportError, SyntaxError, a plug-in's own bug
        raise SpaceError(message(_describe(error))) from None
    for key in {(r.kind, name) for r in _REGISTRIES for name in r.names()} - before:
        _PROVIDERS[key] = module


def _import(entry: str, base: Path | None) -> ModuleType:
    if not Path(entry).is_absolute():
        if base is not None and (base / entry.split(".")[0]).is_dir():
            _add_to_path(base)
        return importlib.import_module(entry)
    path = Path(entry)
    name = _module_name(entry)
    init = path / "__init__.py" if path.is_dir() else path
    if not init.is_file():
        raise ModuleNotFoundError(f"no such file: {path}")
    loaded = sys.modules.get(name)
    if loaded is not None:
        origin = getattr(loaded, "__file__", None)
        if origin and Path(origin).resolve() == init.resolve():
            return loaded
        raise ImportError(
            f"a module named {name!r} is already imported from {origin or 'elsewhere'}; "
            "rename the plug-in file"
        )
    _add_to_path(path.parent)
    locations = [str(path)] if path.is_dir() else None
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=locations)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before executing: its classes pickle by this name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _load_entry_point(point: Any) -> None:
    loaded = point.load()  # a module, or a function with no arguments that registers
    if callable(loaded) and not isinstance(loaded, ModuleType | type):
        loaded()


def _add_to_path(folder: Path) -> None:
    text = str(folder)
    if text not in sys.path:
        sys.path.append(text)  # appended: a plug-in folder never shadows installed modules


def _module_name(entry: str) -> str:
    path = Path(entry)
    if not path.is_absolute():
        return entry
    return path.name if path.is_dir() else path.stem


def _is_path(entry: str) -> bool:
    return entry.endswith(".py") or "/" in entry or "\\" in entry


def _as_list(entries: Iterable[str] | str | None) -> list[str]:
    if entries is None:
        return []
    return [entries] if isinstance(entries, str) else list(entries)


def _describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError) and error.filename:
        return f"SyntaxError: {error.msg} at {error.filename}:{error.lineno}"
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0].strip()}" if lines else type(error).__name__
