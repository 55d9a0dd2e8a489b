"""A trial's arch.yaml, joined from cached parts (nas/engine/arch_yaml.py), is the YAML
of the whole document as one PyYAML dump writes it."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from evaluators.config import TrainConfig
from nas.engine.arch_yaml import trial_arch_yaml
from search_space import load_architecture, load_space
from search_space.sampling import sample_architectures


@pytest.mark.parametrize("space", ["demo", "cifar", "elpv", "nb201"])
def test_the_cached_parts_equal_one_dump_of_the_document(space: str, tmp_path) -> None:
    train = dataclasses.asdict(TrainConfig()) | {"seed": 7}
    for arch in sample_architectures(load_space(space), 40, seed=2):
        whole = {**arch.to_dict(run_config=False), "train": train}
        text = trial_arch_yaml(arch, train)
        assert text == yaml.safe_dump(whole, sort_keys=False, default_flow_style=None, width=1000)
    for arch in sample_architectures(load_space(space), 3, seed=5):
        text = trial_arch_yaml(arch, train)
        path = tmp_path / "arch.yaml"
        path.write_text(text)
        assert load_architecture(path).summary() == arch.summary()


def test_scalars_needing_quotes_and_empty_collections_dump_as_in_the_whole_document() -> None:
    class Arch:  # the parts' edge cases, beside the bundled spaces' documents
        def to_dict(self, run_config: bool) -> dict:
            return {
                "name": "a: b # c",
                "empty": {},
                "none": [],
                "stages": [
                    {"block": "yes", "width": 8, "note": "- x", "on": True, "yes": None},
                    {"block": "null", "list": "a, b", "empty": "", "flow": "[x]", "f": 1e-9},
                    {"block": "x" * 120, "tab": "a\tb", "colon": "a: b", "n": 1.0, "i": -3},
                    {"nested": {"k": 1}, "multi": "two\nlines"},  # dumped whole
                ],
                "number": 1.5e-9,
            }

    train = {"seed": 1, "device": "on"}
    whole = {**Arch().to_dict(run_config=False), "train": train}
    expected = yaml.safe_dump(whole, sort_keys=False, default_flow_style=None, width=1000)
    assert trial_arch_yaml(Arch(), train) == expected
    assert yaml.safe_load(expected) == whole
