"""Tied choices: one choice read by several keys, sampled once, counted once, named once."""

from __future__ import annotations

import optuna
import pytest

from nas.engine.chooser import OptunaChooser, architecture_params
from search_space import load_space
from search_space.errors import SpaceError
from search_space.sampling import RandomChooser, sample_architecture, space_size


def tied_space(**changes) -> dict:
    document = {
        "name": "tied",
        "input": {"channels": 3, "resolution": 32, "classes": 10},
        "tied": {"kernel": [3, 5, 7]},
        "stem": {"type": "conv", "width": 16},
        "stages": [
            {"block": "resnet", "depth": 1, "width": [16, 32], "kernel": {"tied": "kernel"}},
            {"block": "resnet", "depth": 1, "width": [32, 64], "kernel": {"tied": "kernel"}},
        ],
    }
    document.update(changes)
    return document


def test_a_tied_choice_counts_once_in_the_size() -> None:
    # 3 kernels (tied) x 2 widths x 2 widths; untied it would be 3 x 3 x 2 x 2 = 36
    assert space_size(load_space(tied_space())) == 12


def test_every_reading_key_gets_the_same_value() -> None:
    space = load_space(tied_space())
    chooser = RandomChooser(1)
    kernels = set()
    for _ in range(30):
        arch = sample_architecture(space, chooser)
        assert arch.stages[0].options["kernel"] == arch.stages[1].options["kernel"]
        kernels.add(arch.stages[0].options["kernel"])
    assert kernels == {3, 5, 7}


def test_a_search_names_the_tied_choice_once() -> None:
    space = load_space(tied_space())
    assert space.free_parameters() == ["stages[0].width", "stages[1].width", "tied.kernel"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    arch = sample_architecture(space, OptunaChooser(trial))
    assert set(trial.params) == {"stages[0].width", "stages[1].width", "tied.kernel"}
    assert arch.stages[1].options["kernel"] == trial.params["tied.kernel"]


def test_an_unknown_tie_name_is_refused_with_the_known_ones() -> None:
    document = tied_space()
    document["stages"][1]["kernel"] = {"tied": "kernal"}
    with pytest.raises(SpaceError, match=r"stages\[1\]\.kernel: no tied choice named 'kernal'"):
        load_space(document)


@pytest.mark.parametrize("name", [["kernel"], {"a": 1}, 3, None])
def test_a_tie_name_that_is_not_a_word_is_refused(name) -> None:
    document = tied_space()
    document["stages"][1]["kernel"] = {"tied": name}
    with pytest.raises(SpaceError, match=r"stages\[1\]\.kernel: \{tied: \.\.\.\} takes the name"):
        load_space(document)


def test_an_unread_tie_is_refused() -> None:
    with pytest.raises(SpaceError, match=r"tied\.act: no key reads this tied choice"):
        load_space(tied_space(tied={"kernel": [3, 5], "act": ["relu", "gelu"]}))


def test_each_reader_checks_the_tied_values_against_its_own_keys() -> None:
    with pytest.raises(SpaceError, match=r"stages\[0\]\.kernel: 4 is even"):
        load_space(tied_space(tied={"kernel": [3, 4]}))


def test_a_tie_in_the_train_section_is_refused() -> None:
    with pytest.raises(SpaceError, match="read by stem, stage and head keys only"):
        load_space(tied_space(train={"lr": {"tied": "kernel"}}))


def test_a_seed_architecture_must_agree_at_every_tied_key() -> None:
    space = load_space(tied_space())
    arch = sample_architecture(space, RandomChooser(0))
    params = architecture_params(space, arch, "seed")
    assert params["tied.kernel"] == arch.stages[0].options["kernel"]
    document = arch.to_dict()
    document["stages"][1]["kernel"] = 3 if document["stages"][0]["kernel"] != 3 else 5
    from search_space import load_architecture

    with pytest.raises(SpaceError, match="tied keys take one value"):
        architecture_params(space, load_architecture(document), "seed")


def test_a_tied_block_type_is_enumerated_in_the_size() -> None:
    document = tied_space(tied={"block": ["resnet", "convnext"]})
    for stage in document["stages"]:
        stage.update(block={"tied": "block"}, kernel=[3, 5], width=32)
    # resnet and convnext both read kernel: per block type 2 x 2 kernels, 2 types -> 8
    assert space_size(load_space(document)) == 8
