"""Settings by name, for `nas.search(**settings)` and the `nas search` flags.

A setting is named like its key in the ``data:``, ``train:`` or ``search:`` section
(``trials``, ``sampler``, ``lr``, ``num_workers``, ...) or like its flag (``data`` for
data.name, ``epochs`` for train.epochs, ``constraint`` for ``--constraint``); where
two sections share a key, the flag's meaning wins (``seed`` seeds the search, as
``--seed`` does). A whole section may also be given as a mapping (``train={...}``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from search_space.errors import SpaceError, did_you_mean

SECTIONS = ("data", "train", "search")
# Flag names that are not a section key of their own.
FLAG_NAMES = {
    "epochs": ("train", "epochs"),
    "constraint": ("search", "constraint_flags"),  # merged with search.constraints
}


def setting_names() -> dict[str, tuple[str, str]]:
    """{name: (section, key)} for every setting `nas.search` takes by name."""
    from evaluators.config import DataConfig, TrainConfig
    from nas.engine.settings import SearchConfig

    names: dict[str, tuple[str, str]] = {}
    for section, config in zip(SECTIONS, (DataConfig, TrainConfig, SearchConfig)):
        names.update({f.name: (section, f.name) for f in dataclasses.fields(config)})
    names.pop("name")  # data.name is `data=`
    return {**names, **FLAG_NAMES}


def overrides_from_settings(
    settings: Mapping[str, Any], label: Callable[[str], str]
) -> dict[str, dict[str, Any]]:
    """{"data": {...}, "train": {...}, "search": {...}} from named settings; None means
    not given. `label(name)` names a setting in messages (``trials=`` or ``--trials``)."""
    from nas.engine.settings import check_setting

    names = setting_names()
    _refuse_unknown(settings, names)
    overrides: dict[str, dict[str, Any]] = {section: {} for section in SECTIONS}
    problems: list[str] = []  # every bad setting at once
    for name, value in settings.items():
        if value is None:
            continue
        if name in SECTIONS and isinstance(value, Mapping):
            overrides[name].update(value)
            continue
        if name == "constraint":
            overrides["search"]["constraint_flags"] = [value] if isinstance(value, str) else value
            continue
        section, key = ("data", "name") if name == "data" else names[name]
        try:
            if section == "search":
                check_setting(key, value, label(name))
            else:
                check_run_setting(section, key, value, label(name))
        except SpaceError as error:
            problems += error.problems
        overrides[section][key] = value
    if problems:
        raise SpaceError(problems)
    return overrides


def check_run_setting(section: str, key: str, value: Any, label: str) -> None:
    """A data/train setting checked by its section's rules (and the dataset name and device
    spelling, as `nas validate` checks them), each problem named by `label` (the flag or
    keyword the user wrote, not the YAML path). Used by `nas search` and `nas train`."""
    from evaluators.config import DataConfig, TrainConfig
    from evaluators.datasets import dataset_info
    from nas.engine.settings import check_device_spelling

    try:
        config = (DataConfig if section == "data" else TrainConfig).from_dict({key: value}, section)
        if (section, key) == ("data", "name"):
            dataset_info(value)
        if (section, key) == ("train", "device"):
            check_device_spelling(config)
    except SpaceError as error:
        raise SpaceError(
            [line.replace(f"{section}.{key}:", f"{label}:", 1) for line in error.problems]
        ) from None


def _refuse_unknown(settings: Mapping[str, Any], names: Mapping[str, Any]) -> None:
    known = sorted({*names, *SECTIONS})
    problems = [
        f"unknown setting {name!r}{did_you_mean(name, known)}; settings are the keys of "
        "the data:, train: and search: sections and the `nas search` flags"
        for name in settings
        if name not in known
    ]
    for name in ("train", "search"):
        if name in settings and not isinstance(settings[name], Mapping | None):
            problems.append(f"{name}=: expected a mapping of {name}: settings")
    if problems:
        raise SpaceError(problems)
