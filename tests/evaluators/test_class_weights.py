"""train.class_weights: balanced weighs each class by N / (K * N_k), as scikit-learn does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.training import class_weights
from search_space.errors import SpaceError
from tests.evaluators.conftest import InputSpec, write_elpv

utils = pytest.importorskip("sklearn.utils")


def test_balanced_weights_equal_scikit_learns(tmp_path) -> None:
    data = load_dataset(
        DataConfig(
            name="elpv", root=str(write_elpv(tmp_path / "d", per_group=5)), labels="defective"
        ),
        InputSpec(1, 16, 2),
    )
    labels = data.train.labels.numpy()
    expected = utils.class_weight.compute_class_weight("balanced", classes=np.arange(2), y=labels)
    assert class_weights(data, "balanced").tolist() == pytest.approx(expected.tolist())
    assert class_weights(data, "none") is None


def test_the_weighted_loss_makes_each_class_count_alike() -> None:
    data = load_dataset(DataConfig(limit=300), InputSpec(1, 28, 10))
    weight = class_weights(data, "balanced")
    counts = torch.bincount(data.train.labels, minlength=10).float()
    # every class's total weight is the same: N / K
    assert (weight * counts).tolist() == pytest.approx([len(data.train) / 10] * 10)
    logits = torch.randn(len(data.train), 10, generator=torch.Generator().manual_seed(0))
    per_image = F.cross_entropy(logits, data.train.labels, reduction="none")
    by_hand = (weight[data.train.labels] * per_image).sum() / weight[data.train.labels].sum()
    assert F.cross_entropy(logits, data.train.labels, weight=weight) == pytest.approx(
        float(by_hand)
    )


def test_an_unknown_class_weighting_is_refused() -> None:
    with pytest.raises(SpaceError, match=r"train\.class_weights: 'inverse' is not"):
        TrainConfig.from_dict({"class_weights": "inverse"})
