"""The data: and train: sections: defaults, types, values, and messages that name the key."""

from __future__ import annotations

import pytest

from evaluators.config import DataConfig, TrainConfig
from search_space.errors import SpaceError


def test_empty_or_missing_sections_give_the_defaults() -> None:
    assert TrainConfig.from_dict(None) == TrainConfig()
    assert DataConfig.from_dict({}) == DataConfig()
    assert DataConfig().name == "mnist5k" and DataConfig().download is False


def test_values_are_taken_and_ints_are_accepted_for_floats() -> None:
    config = TrainConfig.from_dict({"epochs": 2, "lr": 1, "optimizer": "sgd", "grad_clip": 0})
    assert (config.epochs, config.lr, config.optimizer, config.grad_clip) == (2, 1.0, "sgd", 0.0)
    assert isinstance(config.lr, float)


def test_yaml_11_exponent_strings_are_read_as_numbers() -> None:
    # PyYAML reads `lr: 2e-3` (no dot) as the string '2e-3'.
    assert TrainConfig.from_dict({"lr": "2e-3"}).lr == pytest.approx(2e-3)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"lr": "fast"}, "train.lr: 'fast' is not a number"),
        ({"epoch": 3}, "train.epoch: unknown setting (did you mean 'epochs'?)"),
        ({"optimizer": "adam"}, "train.optimizer: 'adam' is not one of 'adamw', 'sgd'"),
        ({"epochs": 0}, "train.epochs: 0 must be at least 1"),
        ({"epochs": 2.5}, "train.epochs: 2.5 is not a whole number"),
        ({"epochs": True}, "train.epochs: true is not a whole number"),
        ({"amp": "yes"}, "train.amp: 'yes' is not true or false"),
        ({"label_smoothing": 1.5}, "train.label_smoothing: 1.5 must be in [0, 1)"),
        ({"lr": float("nan")}, "train.lr: .nan is not a finite number"),
        ({"device": 3}, "train.device: 3 is not a string"),
    ],
)
def test_bad_train_settings_name_their_key(section: dict, message: str) -> None:
    with pytest.raises(SpaceError) as error:
        TrainConfig.from_dict(section)
    assert message in str(error.value)


def test_every_problem_is_reported_at_once_under_the_given_path() -> None:
    with pytest.raises(SpaceError) as error:
        DataConfig.from_dict({"nme": "cifar10", "augment": "no"}, path="search.data")
    assert len(error.value.problems) == 2
    assert error.value.problems[0].startswith("search.data.nme: unknown setting")
    assert "(did you mean 'name'?)" in error.value.problems[0]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"val_fraction": 1.0}, "data.val_fraction: 1.0 must be between 0 and 1"),
        ({"validation": "val"}, "data.validation: 'val' is not one of 'split', 'test'"),
        ({"limit": 1}, "data.limit: 1 must be at least 2"),
        ({"root": None, "val_fraction": None, "limit": None}, None),
    ],
)
def test_data_settings(section: dict, message: str | None) -> None:
    if message is None:
        assert DataConfig.from_dict(section).root is None
        return
    with pytest.raises(SpaceError, match=message.replace("(", r"\(").replace("[", r"\[")):
        DataConfig.from_dict(section)


def test_a_section_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(SpaceError, match="train: expected a mapping"):
        TrainConfig.from_dict(["epochs", 3])
