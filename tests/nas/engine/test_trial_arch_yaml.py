"""A trial's arch.yaml, dumped in two cached parts, is the YAML of the whole document."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from evaluators.config import TrainConfig
from nas.engine.plan import _arch_yaml
from search_space import load_architecture, load_space
from search_space.sampling import sample_architectures


@pytest.mark.parametrize("space", ["demo", "cifar", "elpv", "nb201"])
def test_the_cached_parts_equal_one_dump_of_the_document(space: str, tmp_path) -> None:
    train = dataclasses.asdict(TrainConfig()) | {"seed": 7}
    for arch in sample_architectures(load_space(space), 4, seed=2):
        whole = {**arch.to_dict(run_config=False), "train": train}
        text = _arch_yaml(arch, train)
        assert text == yaml.safe_dump(whole, sort_keys=False, default_flow_style=None, width=1000)
        path = tmp_path / "arch.yaml"
        path.write_text(text)
        assert load_architecture(path).summary() == arch.summary()
