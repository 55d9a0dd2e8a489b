"""Scores for imbalanced classes, from one confusion matrix of a validation pass.

``confusion[i][j]`` counts the images of true class i predicted as class j. Accuracy is
its trace over its sum; balanced accuracy is the mean recall over the classes that have
images (scikit-learn's ``balanced_accuracy_score``); macro F1 is the mean over the
classes that occur as truth or prediction of F1 = 2 TP / (2 TP + FP + FN), a class
never predicted scoring 0 (scikit-learn's ``f1_score(average="macro")``). On a set where
95% of the images are one class, predicting it always scores 0.95 accuracy but 0.5
balanced accuracy (two classes), which is why inspection data is judged on the latter.
"""

from __future__ import annotations

import torch

CLASS_METRICS = ("balanced_accuracy", "macro_f1")  # beside accuracy, in [0, 1]


def confusion_counts(labels: torch.Tensor, predictions: torch.Tensor, classes: int) -> torch.Tensor:
    """int64 (classes, classes): row = true class, column = predicted class."""
    flat = labels.long() * classes + predictions.long()
    return torch.bincount(flat.cpu(), minlength=classes * classes).view(classes, classes)


def balanced_accuracy(confusion: torch.Tensor) -> float:
    """Mean recall over the classes with at least one image."""
    truth = confusion.sum(dim=1)
    present = truth > 0
    if not present.any():
        return float("nan")
    recall = confusion.diagonal()[present].double() / truth[present].double()
    return float(recall.mean())


def macro_f1(confusion: torch.Tensor) -> float:
    """Mean F1 over the classes that occur as a true or a predicted class."""
    hits = confusion.diagonal().double()
    truth, predicted = confusion.sum(dim=1).double(), confusion.sum(dim=0).double()
    occurs = (truth + predicted) > 0
    if not occurs.any():
        return float("nan")
    f1 = 2 * hits[occurs] / (truth[occurs] + predicted[occurs])  # 2TP / (2TP + FP + FN)
    return float(f1.mean())


def class_scores(confusion: torch.Tensor) -> dict[str, float]:
    """{"balanced_accuracy": .., "macro_f1": ..} of one confusion matrix."""
    return {"balanced_accuracy": balanced_accuracy(confusion), "macro_f1": macro_f1(confusion)}
