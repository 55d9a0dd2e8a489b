"""The training loop: real (short) training on mnist5k, determinism, failures, the schedule."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.device import plan_device
from evaluators.errors import TrainingFailed
from evaluators.optim import WarmupCosine, parameter_groups
from evaluators.training import train_and_evaluate
from tests.evaluators.conftest import InputSpec, tiny_convnet

GRAY28 = InputSpec(1, 28, 10)
QUICK = TrainConfig(epochs=1, batch_size=64, lr=1e-2, warmup_epochs=0.2, threads=1)


@pytest.fixture(scope="module")
def small_mnist():
    # no test split: 1,200 train / 300 val
    return load_dataset(DataConfig(limit=1500, augment=False, test_fraction=0.0), GRAY28)


def test_one_epoch_on_mnist5k_beats_chance_and_reports_every_key(small_mnist) -> None:
    result = train_and_evaluate(tiny_convnet(), small_mnist, QUICK)
    assert result["accuracy"] > 0.6  # chance is 0.1; this recipe gets ~0.85
    assert 0 <= result["accuracy"] <= 1 and math.isfinite(result["loss"])
    assert result["epochs"] == 1 and result["steps"] == 1200 // 64
    assert result["train_images"] == 1200 and result["val_images"] == 300
    assert result["images_per_second"] > 0 and result["train_seconds"] > 0
    assert result["train_cpu_seconds"] > 0 and result["device"] == "cpu"
    assert result["history"][0]["accuracy"] == result["accuracy"]


def test_the_same_seed_gives_the_same_numbers(small_mnist) -> None:
    config = TrainConfig(epochs=1, batch_size=128, threads=1)
    data = DataConfig(limit=600)  # with augmentation: its draws are seeded too
    first = train_and_evaluate(tiny_convnet(), data, config, expected_input=GRAY28)
    again = train_and_evaluate(tiny_convnet(), data, config, expected_input=GRAY28)
    other = train_and_evaluate(tiny_convnet(), data, config, expected_input=GRAY28, seed=1)
    keys = ("accuracy", "loss", "train_loss")
    assert [first[k] for k in keys] == [again[k] for k in keys]
    assert first["train_loss"] != other["train_loss"]


def test_training_leaves_the_callers_rng_alone(small_mnist) -> None:
    model = tiny_convnet()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_and_evaluate(model, small_mnist, QUICK)
    assert torch.equal(torch.rand(3), expected)


def test_every_epoch_reaches_the_callback_which_may_stop_the_run(small_mnist) -> None:
    seen = []

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        seen.append((epoch, set(metrics)))
        if epoch == 2:
            raise KeyboardInterrupt  # what an early-stopping scheduler would do

    config = TrainConfig(epochs=3, batch_size=256, threads=1)
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate(tiny_convnet(width=4), small_mnist, config, on_epoch=on_epoch)
    assert [epoch for epoch, _ in seen] == [1, 2]
    assert seen[0][1] >= {"accuracy", "loss", "train_loss", "lr", "seconds"}


class _BlowsUp(nn.Module):
    """Returns NaN logits from its third training forward pass on."""

    def __init__(self) -> None:
        super().__init__()
        self.net, self.calls = tiny_convnet(width=4), 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += self.training
        logits = self.net(x)
        return logits * float("nan") if self.training and self.calls >= 3 else logits


def test_a_non_finite_loss_fails_the_trial_naming_epoch_and_step(small_mnist) -> None:
    with pytest.raises(TrainingFailed, match=r"non-finite loss \(nan\) at epoch 1 step 3"):
        train_and_evaluate(_BlowsUp(), small_mnist, QUICK)


def test_wrong_input_for_the_dataset_is_a_user_error() -> None:
    from search_space.errors import SpaceError

    with pytest.raises(SpaceError, match=r"input\.resolution is 32x32"):
        train_and_evaluate(
            tiny_convnet(), DataConfig(limit=50), QUICK, expected_input=InputSpec(1, 32, 10)
        )


def test_norms_and_biases_are_not_decayed() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Conv2d(1, 2, 3))
    decay, no_decay = parameter_groups(model, 0.05)
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert [p.shape for p in decay["params"]] == [(4, 4), (2, 1, 3, 3)]
    assert len(no_decay["params"]) == 4  # linear bias, norm weight and bias, conv bias


def test_schedule_warms_up_linearly_then_follows_a_cosine() -> None:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = WarmupCosine(optimizer, total_steps=14, warmup_steps=4)
    lrs = [schedule.set_step(step) for step in range(14)]
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[4] == 1.0 and lrs[9] == pytest.approx(0.5)  # halfway through the decay
    assert all(a > b for a, b in itertools.pairwise(lrs[4:])) and lrs[-1] < 0.03
    assert optimizer.param_groups[0]["lr"] == lrs[-1]


def test_per_image_scores_average_to_the_validation_accuracy() -> None:
    from evaluators.training import correct_per_image, evaluate

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
    dataset = load_dataset(DataConfig(limit=400))
    train = TrainConfig(epochs=1, batch_size=64)
    correct = correct_per_image(model, dataset, dataset.val, train)
    accuracy, _ = evaluate(model, dataset, plan_device("cpu"), 37)  # another batching
    assert correct.dtype == torch.bool and correct.shape == (len(dataset.val),)
    assert correct.float().mean().item() == pytest.approx(accuracy)
    # and image by image: the argmax of the logits equals the label
    with torch.inference_mode():
        images = (dataset.val.images.float() / 255 - dataset.mean[0]) / dataset.std[0]
        expected = model(images).argmax(dim=1) == dataset.val.labels
    assert torch.equal(correct, expected)
