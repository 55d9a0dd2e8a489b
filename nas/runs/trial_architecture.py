"""A trial's architecture, from wherever the run still has it: what export and verify
rebuild a member from when its trial folder is gone.

In order: the study's copy (runs before the architecture moved to the trial folder),
``trials/<n>/arch.yaml``, the ``arch_yaml`` column of ``trials.csv``, and last the
trial's sampled parameters in the study replayed through the space the run searched
(its config): every choice the sampler made is a parameter, so the replay gives the
same architecture.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from nas.runs import format as rf
from search_space.errors import SpaceError
from search_space.params import Choice, Fixed, Param

_RUN_SECTIONS = ("data", "train", "search")


def trial_architecture(run_dir: Path, trial: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The architecture document of `trial` (an Optuna FrozenTrial), without run sections;
    SpaceError naming what was tried when none of the sources has it."""
    number = trial.number
    found = _recorded(trial) or _from_folder(run_dir, number) or _from_table(run_dir, number)
    if found is None:
        found = _replayed(trial, config)
    if found is None:
        raise SpaceError(
            f"trial {number}: no architecture recorded ({run_dir / rf.TRIALS_DIR / str(number)}"
            f" is gone, {rf.TRIALS_CSV} has no row for it, and its parameters do not rebuild "
            "one from the run's config)"
        )
    return {k: v for k, v in found.items() if k not in _RUN_SECTIONS}


def _recorded(trial: Any) -> dict[str, Any] | None:
    arch = trial.user_attrs.get(rf.ATTR_ARCH)
    return arch if isinstance(arch, dict) else None


def _from_folder(run_dir: Path, number: int) -> dict[str, Any] | None:
    from search_space.loader import read_yaml

    path = run_dir / rf.TRIALS_DIR / str(number) / rf.ARCH_FILE
    if not path.is_file():
        return None
    document = read_yaml(path)
    return document if isinstance(document, dict) else None


def _from_table(run_dir: Path, number: int) -> dict[str, Any] | None:
    import pandas as pd

    from search_space.loader import parse_yaml

    path = run_dir / rf.TRIALS_CSV
    if not path.is_file():
        return None
    with contextlib.suppress(OSError, ValueError, KeyError, SpaceError):
        table = pd.read_csv(path, usecols=["number", "arch_yaml"])
        rows = table[table["number"] == number]["arch_yaml"].dropna()
        if len(rows):
            document = parse_yaml(str(rows.iloc[0]))
            return document if isinstance(document, dict) else None
    return None


class _ParamsChooser:
    """Answers every choice with the value the trial's sampler drew under that name."""

    def __init__(self, params: dict[str, Any]):
        self.params = params

    def choose(self, name: str, param: Param) -> Any:
        if isinstance(param, Fixed):
            return param.value
        if isinstance(param, Choice) and len(param.options) == 1:
            return param.options[0]
        if name not in self.params:
            raise KeyError(name)
        return self.params[name]


def _replayed(trial: Any, config: dict[str, Any]) -> dict[str, Any] | None:
    from search_space import load_space
    from search_space.sampling import sample_architecture

    space_part = {k: v for k, v in config.items() if k not in _RUN_SECTIONS}
    if not space_part.get("stages") or not trial.params:
        return None
    try:
        space = load_space(space_part)
        name = f"{space.name}-{trial.number}"
        arch = sample_architecture(space, _ParamsChooser(dict(trial.params)), name)
    except (SpaceError, KeyError, ValueError, TypeError):
        return None
    return arch.to_dict(run_config=False)
