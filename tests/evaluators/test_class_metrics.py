"""Balanced accuracy, macro F1 and the confusion matrix, checked against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from evaluators.class_metrics import balanced_accuracy, confusion_counts, macro_f1
from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.device import plan_device
from evaluators.training import score_validation, train_and_evaluate
from tests.evaluators.conftest import InputSpec, tiny_convnet

metrics = pytest.importorskip("sklearn.metrics")


def _draw(seed: int, classes: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(classes) * 0.5)  # imbalanced, some classes rare
    labels = rng.choice(classes, size=size, p=weights)
    noisy = np.where(rng.random(size) < 0.6, labels, rng.integers(0, classes, size))
    return torch.from_numpy(labels), torch.from_numpy(noisy)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("classes", [2, 4, 7])
def test_scores_equal_scikit_learns(seed: int, classes: int) -> None:
    labels, predicted = _draw(seed, classes, 150)
    confusion = confusion_counts(labels, predicted, classes)
    y, p = labels.numpy(), predicted.numpy()
    assert (
        confusion.numpy().tolist() == metrics.confusion_matrix(y, p, labels=range(classes)).tolist()
    )
    with _quiet():  # scikit-learn warns about a class absent from the predictions
        expected_balanced = metrics.balanced_accuracy_score(y, p)
        expected_f1 = metrics.f1_score(y, p, average="macro", zero_division=0.0)
    assert balanced_accuracy(confusion) == pytest.approx(expected_balanced, abs=1e-12)
    assert macro_f1(confusion) == pytest.approx(expected_f1, abs=1e-12)


def _quiet():
    import warnings

    context = warnings.catch_warnings()
    warnings.simplefilter("ignore")
    return context


def test_a_class_never_predicted_counts_zero_and_a_class_absent_is_left_out() -> None:
    # class 2 has images but is never predicted; class 3 neither occurs nor is predicted
    labels = torch.tensor([0, 0, 0, 1, 1, 2])
    predicted = torch.tensor([0, 0, 1, 1, 1, 0])
    confusion = confusion_counts(labels, predicted, 4)
    # by hand: recalls 2/3, 2/2, 0/1 over three classes; F1 = 2TP / (2TP + FP + FN):
    # class 0: 4 / (4 + 1 + 1), class 1: 4 / (4 + 1 + 0), class 2: 0
    assert balanced_accuracy(confusion) == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert macro_f1(confusion) == pytest.approx((4 / 6 + 4 / 5 + 0) / 3)


def test_one_validation_pass_gives_every_score_of_the_same_predictions() -> None:
    dataset = load_dataset(DataConfig(limit=500), InputSpec(1, 28, 10))
    model = tiny_convnet()
    train_and_evaluate(model, dataset, TrainConfig(epochs=1, batch_size=64, threads=1))
    scores = score_validation(model, dataset, plan_device("cpu"), 64)
    with torch.inference_mode():  # the predictions again, computed another way
        model.eval()
        mean, std = dataset.mean[0], dataset.std[0]
        predicted = model((dataset.val.images.float() / 255 - mean) / std).argmax(1)
    y, p = dataset.val.labels.numpy(), predicted.numpy()
    assert scores["confusion"] == metrics.confusion_matrix(y, p, labels=range(10)).tolist()
    assert scores["accuracy"] == pytest.approx(metrics.accuracy_score(y, p))
    assert scores["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(y, p))
    assert scores["macro_f1"] == pytest.approx(metrics.f1_score(y, p, average="macro"))


def test_training_reports_the_class_scores_per_epoch_and_the_last_confusion() -> None:
    dataset = load_dataset(DataConfig(limit=300), InputSpec(1, 28, 10))
    result = train_and_evaluate(
        tiny_convnet(), dataset, TrainConfig(epochs=2, batch_size=64, threads=1)
    )
    confusion = np.array(result["confusion"])
    assert confusion.sum() == result["val_images"] == len(dataset.val)
    assert np.trace(confusion) / confusion.sum() == pytest.approx(result["accuracy"])
    assert result["history"][-1]["balanced_accuracy"] == result["balanced_accuracy"]
    assert all("macro_f1" in epoch for epoch in result["history"])
