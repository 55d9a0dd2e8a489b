"""The class scores' evaluation noise against simulated validation splits: the same class
counts, each image's outcome drawn from the model's true per-class behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from evaluators.class_noise import balanced_accuracy_se, class_score_errors, macro_f1_se
from nas.runs.noise import binomial_se

# An inspection-like split: 4 classes of 900, 150, 60 and 390 images (elpv's mix), and a
# model that gets the common class right far more often than the rare ones. Row c is the
# chance that an image of class c is predicted as each class.
COUNTS = np.array([900, 150, 60, 390])
BEHAVIOUR = np.array(
    [
        [0.92, 0.05, 0.01, 0.02],
        [0.40, 0.35, 0.10, 0.15],
        [0.20, 0.15, 0.45, 0.20],
        [0.06, 0.04, 0.05, 0.85],
    ]
)


def _simulated_splits(draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced accuracy and macro F1 (scikit-learn's) of `draws` simulated splits."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), COUNTS)
    balanced, macro = [], []
    for _ in range(draws):
        predictions = np.concatenate(
            [rng.choice(4, size=n, p=BEHAVIOUR[c]) for c, n in enumerate(COUNTS)]
        )
        balanced.append(balanced_accuracy_score(labels, predictions))
        macro.append(f1_score(labels, predictions, average="macro"))
    return np.array(balanced), np.array(macro)


def test_the_errors_match_the_spread_over_simulated_splits() -> None:
    expected = np.rint(BEHAVIOUR * COUNTS[:, None]).astype(int)  # the model's typical matrix
    balanced, macro = _simulated_splits(3000, seed=0)
    assert balanced_accuracy_se(expected) == pytest.approx(balanced.std(ddof=1), rel=0.06)
    assert macro_f1_se(expected) == pytest.approx(macro.std(ddof=1), rel=0.10)


def test_rare_classes_make_balanced_accuracy_noisier_than_the_binomial_says() -> None:
    expected = np.rint(BEHAVIOUR * COUNTS[:, None]).astype(int)
    value = np.mean(np.diagonal(expected) / COUNTS)
    naive = float(binomial_se(value, COUNTS.sum()))  # what treating it as accuracy gives
    assert balanced_accuracy_se(expected) > 1.5 * naive  # 1.95 points against 1.24


def test_a_perfect_class_on_few_images_is_not_noise_free() -> None:
    confusion = [[10, 0], [0, 990]]  # both recalls 1: the plug-in variance would be 0
    assert balanced_accuracy_se(confusion) > 0.02


def test_a_trial_records_both_and_an_empty_matrix_gives_nan() -> None:
    errors = class_score_errors([[50, 10], [5, 35]])
    assert set(errors) == {"balanced_accuracy_se_eval", "macro_f1_se_eval"}
    assert all(0 < v < 0.1 for v in errors.values())
    assert np.isnan(balanced_accuracy_se([[0, 0], [0, 0]]))
    assert np.isnan(macro_f1_se([[0, 0], [0, 0]]))
