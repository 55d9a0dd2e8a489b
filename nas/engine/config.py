"""The experiment config: the space plus its ``data:``, ``train:`` and ``search:`` sections
(the ``search:`` section's keys and checks are `nas/engine/settings.py`).

Settings come from the space file's sections and the command line; flags win. The
resolved experiment is written to the run folder as ``config.yaml``, itself a valid space
file, and ``--resume`` reads it back from there, so a resumed search continues exactly
the study that was started. Every problem names its key path and is one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluators.config import DataConfig, TrainConfig
from evaluators.train_choices import split_train
from nas.engine.constraints import merge, parse_constraints
from nas.engine.settings import SearchConfig, validate_run_config
from nas.engine.space_paths import resolve_file_paths, resolve_flag_paths
from nas.runs.storage_url import redact_url
from search_space.errors import SpaceError

# --- the whole experiment ------------------------------------------------------------

# Settings a resumed search may change: how it runs, not what it searches.
RESUMABLE = (
    "trials",
    "address",
    "cpus_per_trial",
    "gpus_per_trial",
    "max_concurrent",
    "early_stopping",
    "asha_grace_period",
    "asha_reduction_factor",
    "max_retries",
    "plots",
    "output",
)


@dataclass
class ExperimentConfig:
    """Everything a search needs, resolved: what the run folder's config.yaml holds."""

    space: Any  # search_space.SearchSpace
    document: dict[str, Any]  # the space file as written, run sections replaced
    data: DataConfig
    train: TrainConfig
    search: SearchConfig
    run_dir: Path
    resume: bool = False
    notes: list[str] = field(default_factory=list)  # remarks for the user (stderr)
    # train keys still offering a choice (as written; flags fix a key): sampled per trial
    recipe: dict[str, Any] = field(default_factory=dict)
    # "section.key" -> the flag (or keyword) that gave it; absent: the space file's value
    given_as: dict[str, str] = field(default_factory=dict)

    def setting_label(self, section: str, key: str) -> str:
        """Where the user gave a setting, for messages: ``--storage``, or
        ``FILE: search.storage`` (the space file, or RUN/config.yaml on --resume)."""
        return self.given_as.get(f"{section}.{key}") or f"{self.space.source}: {section}.{key}"

    def to_document(self) -> dict[str, Any]:
        """config.yaml: a valid space file with the resolved run sections."""
        search = self.search.to_dict()
        search.pop("output")
        if search.get("storage"):  # never a password in a file: resume reads NAS_STORAGE
            search["storage"] = redact_url(search["storage"])
        return {
            **self.document,
            "data": _plain(self.data),
            "train": {**_plain(self.train), **self.recipe},
            "search": search,
        }


def resolve_experiment(
    space_source: str | None,
    overrides: Mapping[str, Mapping[str, Any]],
    *,
    resume: bool = False,
    label: Callable[[str], str] = lambda name: "--" + name.replace("_", "-"),
) -> ExperimentConfig:
    """The experiment from a space file (None: the bundled demo) and command-line overrides.

    `overrides` holds only the flags given, as {"data": {...}, "train": {...}, "search": {...}}.
    With `resume`, the run folder's config.yaml is the base and only RESUMABLE search
    settings may differ from it. `label(name)` names a given setting in messages (the
    flag by default; ``name=`` for the Python API).
    """
    experiment = _resume(space_source, overrides) if resume else _start(space_source, overrides)
    experiment.given_as = {
        f"{section}.{key}": label("data" if (section, key) == ("data", "name") else key)
        for section, values in overrides.items()
        for key in values or {}
    }
    return experiment


def _start(
    space_source: str | None, overrides: Mapping[str, Mapping[str, Any]]
) -> ExperimentConfig:
    from search_space import load_space
    from search_space.loader import read_yaml, resolve

    source = space_source or "demo"
    space = load_space(source)
    validate_run_config(space.run_config, space.source)
    document = read_yaml(resolve(source))
    run_config, notes = resolve_file_paths(space.run_config, space.source)
    data, train, search, recipe = _sections(run_config, resolve_flag_paths(overrides))
    space = _with_recipe(space, train, recipe)
    if "seed_archs" not in (overrides.get("search") or {}):
        search = dataclasses.replace(search, seed_archs=_beside(search.seed_archs, space.source))
    output = search.output or _default_output(space.name)
    document = {**document, "plugins": list(space.plugins)} if space.plugins else document
    return ExperimentConfig(
        space, _space_part(document), data, train, search, Path(output), recipe=recipe, notes=notes
    )


def _sections(
    run_config: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]]
) -> tuple[DataConfig, TrainConfig, SearchConfig, dict[str, Any]]:
    """The checked sections, and the train choices a flag has not fixed."""
    merged = {
        name: {**(run_config.get(name) or {}), **(overrides.get(name) or {})}
        for name in ("data", "train", "search")
    }
    constraint_flags = merged["search"].pop("constraint_flags", None)
    data = DataConfig.from_dict(merged["data"], "data")
    fixed, recipe = split_train(merged["train"])
    train = TrainConfig.from_dict(fixed, "train")
    search = SearchConfig.from_dict(merged["search"], "search")
    if constraint_flags:
        flags = parse_constraints(list(constraint_flags), "--constraint")
        search = dataclasses.replace(search, constraints=tuple(merge(search.constraints, flags)))
    return data, train, search, recipe


def _with_recipe(space: Any, train: TrainConfig, recipe: dict[str, Any]) -> Any:
    """The space whose train section is the resolved one: what each trial samples from."""
    run_config = {**space.run_config, "train": {**_plain(train), **recipe}}
    return dataclasses.replace(space, run_config=run_config)


def _resume(
    space_source: str | None, overrides: Mapping[str, Mapping[str, Any]]
) -> ExperimentConfig:
    from search_space import load_space
    from search_space.loader import read_yaml

    config_path = _stored_config(overrides)
    stored = read_yaml(config_path)
    space = load_space(config_path)
    if space_source is not None:
        _check_same_space(space_source, stored, config_path)
    # Paths in config.yaml are absolute since they are resolved at the start; a run
    # folder written before that reads its relative paths as resolve_file_paths says.
    run_config, notes = resolve_file_paths(space.run_config, space.source)
    data, train, search, recipe = _sections(run_config, {})
    new_data, new_train, new_search, new_recipe = _sections(
        run_config, resolve_flag_paths(overrides)
    )
    if _same_storage(search.storage, new_search.storage):  # the password given back
        search = dataclasses.replace(search, storage=new_search.storage)
    changed = [
        f"{name}.{key}"
        for name, old, new in (("data", data, new_data), ("train", train, new_train))
        for key in _differences(old, new)
    ]
    changed += [f"train.{key}" for key in recipe if new_recipe.get(key) != recipe[key]]
    changed += [
        f"search.{key}"
        for key in _differences(search, new_search)
        if key not in RESUMABLE and key != "seed_archs"
    ]
    if changed:
        raise SpaceError(
            f"--resume keeps the study as it was started; {', '.join(changed)} "
            f"differ from {config_path} (start a new --output to change them)"
        )
    if new_search.seed_archs != search.seed_archs:
        notes.append("--seed-archs is ignored on --resume (seeds are enqueued at the start)")
    new_search = dataclasses.replace(new_search, seed_archs=search.seed_archs)
    return ExperimentConfig(
        _with_recipe(space, new_train, recipe),
        _space_part(stored),
        new_data,
        new_train,
        new_search,
        config_path.parent,
        resume=True,
        notes=notes,
        recipe=recipe,
    )


def _same_storage(stored: str | None, given: str | None) -> bool:
    """The storage recorded (password redacted) and the one given name one database."""
    from nas.runs.storage_url import without_password

    if not stored or not given or stored == given:
        return False
    return without_password(redact_url(given)) == without_password(stored)


def _stored_config(overrides: Mapping[str, Mapping[str, Any]]) -> Path:
    """RUN/config.yaml of the run named by --output; SpaceError when there is none."""
    from nas.runs import format as rf

    output = (overrides.get("search") or {}).get("output")
    if not output:
        raise SpaceError("--resume: name the run folder to continue with --output DIR")
    run_dir = Path(output)
    config_path = run_dir / rf.CONFIG_FILE
    if not config_path.is_file():
        leftovers = {p.name for p in run_dir.iterdir()} if run_dir.is_dir() else set()
        if run_dir.is_dir() and leftovers <= {".lock", rf.STUDY_FILE}:
            raise SpaceError(
                f"--resume: {run_dir} holds no trial: its search stopped before it started; "
                f"start it again without --resume: nas search SPACE --output {run_dir}"
            )
        raise SpaceError(
            f"--resume: {run_dir} has no {rf.CONFIG_FILE}; it is not a run folder "
            "that `nas search` started"
        )
    return config_path


def _check_same_space(space_source: str, stored: Mapping[str, Any], config_path: Path) -> None:
    from search_space.loader import read_yaml, resolve

    path = resolve(space_source)
    given = read_yaml(path)
    if isinstance(given, dict) and given.get("plugins"):
        from search_space.plugins import resolve_entry

        entries = [given["plugins"]] if isinstance(given["plugins"], str) else given["plugins"]
        given = {**given, "plugins": [resolve_entry(e, path.parent) for e in entries]}
    if _space_part(given, keep_name=False) != _space_part(stored, keep_name=False):
        raise SpaceError(
            f"--resume: {space_source} is not the space this run searches "
            f"({config_path}); drop SPACE or start a new --output"
        )


def _beside(paths: tuple[str, ...], source: str) -> tuple[str, ...]:
    """Seed architectures named in a space file are found beside it (or are zoo names)."""
    folder = Path(source).parent
    return tuple(
        str(folder / p) if (folder / p).is_file() and not Path(p).is_absolute() else p
        for p in paths
    )


def _differences(old: Any, new: Any) -> list[str]:
    return [f.name for f in dataclasses.fields(old) if getattr(old, f.name) != getattr(new, f.name)]


def _space_part(document: Mapping[str, Any], keep_name: bool = True) -> dict[str, Any]:
    """The document without its run sections (and without name/description if asked)."""
    dropped = {"data", "train", "search"} | (set() if keep_name else {"name", "description"})
    return {k: v for k, v in document.items() if k not in dropped}


def _plain(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _default_output(space_name: str) -> str:
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return str(Path("results") / f"{space_name}-{stamp}")
