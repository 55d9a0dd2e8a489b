"""The recipe's regularizers: EMA, mixup/cutmix, stochastic depth, policies, erasing, checks.

Each is pinned to a value computed another way: a hand-written EMA, lambda recovered
from the mixed pixels, the linear depth schedule, and a hand-written copy of the plain
training loop that the recipe-off loop must match bit for bit.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.recipe import BatchMixer, WeightAverage, policy_augment, random_erase
from evaluators.recipe.policies import make_policy
from evaluators.training import evaluate, train_and_evaluate
from search_space.errors import SpaceError
from search_space.layers.drop_path import DropPath
from tests.evaluators.conftest import InputSpec, tiny_convnet

GRAY28 = InputSpec(1, 28, 10)


@pytest.fixture(scope="module")
def digits():
    # no test split: 480 train / 120 val
    return load_dataset(DataConfig(limit=600, augment=False, test_fraction=0.0), GRAY28)


def test_ema_equals_a_hand_computed_average_over_three_steps() -> None:
    model = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    average = WeightAverage(model, decay=0.2)
    weights = [model[0].weight.detach().clone()]
    means = [model[1].running_mean.clone()]
    for step in range(1, 4):
        with torch.no_grad():
            model[0].weight.add_(float(step))  # a stand-in optimizer step
            model[1].running_mean.fill_(10.0 * step)  # and a BatchNorm statistics update
        weights.append(model[0].weight.detach().clone())
        means.append(model[1].running_mean.clone())
        average.update()
    # Warmed decays min(0.2, (1 + t) / (10 + t)) for t = 0, 1, 2: 0.1, 2/11, 0.2.
    expected_w, expected_m = weights[0], means[0]
    for t, decay in enumerate((0.1, 2 / 11, 0.2)):
        expected_w = decay * expected_w + (1 - decay) * weights[t + 1]
        expected_m = decay * expected_m + (1 - decay) * means[t + 1]
    assert torch.allclose(average.module[0].weight, expected_w, atol=1e-6)
    assert torch.allclose(average.module[1].running_mean, expected_m, atol=1e-5)
    assert not torch.allclose(average.module[0].weight, model[0].weight)


def test_ema_training_scores_and_returns_the_averaged_weights(digits) -> None:
    config = TrainConfig(epochs=1, batch_size=64, lr=1e-2, threads=1)
    plain_model, ema_model = tiny_convnet(), tiny_convnet()
    plain = train_and_evaluate(plain_model, digits, config)
    averaged = train_and_evaluate(ema_model, digits, TrainConfig(**{**vars(config), "ema": 0.9}))
    # Same steps, different weights scored; the model handed back is the one scored.
    assert averaged["accuracy"] != plain["accuracy"] or averaged["loss"] != plain["loss"]
    accuracy, loss = evaluate(ema_model, digits, _cpu_plan(), 256)
    assert (accuracy, loss) == pytest.approx((averaged["accuracy"], averaged["loss"]))


def _cpu_plan():
    from evaluators.device import plan_device

    return plan_device("cpu", amp=False, channels_last=False)


def test_mixup_mixes_labels_with_the_lambda_its_pixels_show() -> None:
    images = torch.rand(6, 1, 5, 5) + 0.1
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    mixer = BatchMixer(classes=7, mixup=0.4, cutmix=0.0, mix_prob=1.0, switch_prob=0.5)
    torch.manual_seed(3)
    mixed, soft = mixer(images, labels, torch.Generator().manual_seed(0))
    partner = images.roll(1, 0)  # torchvision mixes each image with the previous one
    lam = ((mixed - partner) / (images - partner)).flatten()
    lam = lam[(images - partner).abs().flatten() > 0.05]  # well-conditioned pixels only
    assert torch.allclose(lam, lam[0].expand_as(lam), atol=1e-4)  # one lambda per batch
    one_hot = F.one_hot(labels, 7).float()
    expected = lam[0] * one_hot + (1 - lam[0]) * one_hot.roll(1, 0)
    assert torch.allclose(soft, expected, atol=1e-4)
    torch.manual_seed(3)
    again, _ = mixer(images, labels, torch.Generator().manual_seed(0))
    assert torch.equal(mixed, again)


def test_cutmix_labels_follow_the_pasted_area() -> None:
    images = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 16, 16).clone()
    labels = torch.tensor([0, 1, 2, 3])
    mixer = BatchMixer(classes=4, mixup=0.0, cutmix=1.0, mix_prob=1.0, switch_prob=0.5)
    torch.manual_seed(1)
    mixed, soft = mixer(images, labels, torch.Generator().manual_seed(0))
    pasted = (mixed != images).float().mean(dim=(1, 2, 3))  # share of pixels from the partner
    assert 0 < float(pasted[0]) < 1 and torch.allclose(pasted, pasted[0].expand(4))
    expected = (1 - pasted[0]) * F.one_hot(labels, 4) + pasted[0] * F.one_hot(labels.roll(1), 4)
    assert torch.allclose(soft, expected.float(), atol=1e-5)


def test_mix_prob_zero_and_no_alpha_leave_the_batch_alone() -> None:
    images, labels = torch.rand(4, 1, 3, 3), torch.arange(4)
    for mixer in (BatchMixer(4, 0.8, 1.0, 0.0, 0.5), BatchMixer(4, 0.0, 0.0, 1.0, 0.5)):
        out, out_labels = mixer(images, labels, torch.Generator().manual_seed(0))
        assert out is images and out_labels is labels


class _ResidualNet(nn.Module):
    """A stem and four residual conv blocks, each with its own DropPath."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Conv2d(1, 8, 3, stride=4, padding=1)
        self.convs = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(4))
        self.drops = nn.ModuleList(DropPath() for _ in range(4))
        self.head = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for conv, drop in zip(self.convs, self.drops):
            x = x + drop(F.relu(conv(x)))
        return self.head(x.mean(dim=(2, 3)))


def test_drop_path_rates_rise_linearly_to_the_configured_rate(digits) -> None:
    model = _ResidualNet()
    config = TrainConfig(epochs=1, batch_size=120, threads=1, drop_path=0.3)
    dropped = train_and_evaluate(model, digits, config)
    assert [d.rate for d in model.drops] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    plain = train_and_evaluate(
        _ResidualNet(), digits, TrainConfig(**{**vars(config), "drop_path": 0})
    )
    assert dropped["train_loss"] != plain["train_loss"]  # the branches really were dropped


def test_policies_draw_per_chunk_and_repeat_with_the_seed() -> None:
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
    same = images[:1].expand(64, 1, 28, 28).contiguous()
    for name in ("randaugment", "trivialaugment"):
        torch.manual_seed(0)
        out = policy_augment(same, make_policy(name))
        assert out.dtype == torch.uint8 and out.shape == same.shape
        chunks = {bytes(chunk.numpy()) for chunk in out[::8]}  # first image of each chunk
        assert len(chunks) > 2  # identical inputs, several different ops drawn
        torch.manual_seed(0)
        assert torch.equal(policy_augment(same, make_policy(name)), out)
    assert policy_augment(images, make_policy("none")) is images


def test_random_erasing_cuts_one_box_per_chosen_image() -> None:
    images = torch.ones(32, 1, 16, 16)
    torch.manual_seed(0)
    erased = random_erase(images, 1.0, torch.Generator().manual_seed(0))
    zeros = erased == 0
    assert bool(zeros.flatten(1).any(dim=1).all())  # every image lost a rectangle
    rows = zeros.any(dim=3).squeeze(1).float().sum(dim=1)  # box height per image
    cols = zeros.any(dim=2).squeeze(1).float().sum(dim=1)
    assert torch.equal(zeros.flatten(1).sum(dim=1).float(), rows * cols)  # rectangles
    assert len({(int(r), int(c)) for r, c in zip(rows, cols)}) > 1  # boxes differ per image
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    assert random_erase(images, 0.0, generator) is images
    assert torch.equal(generator.get_state(), state)  # off draws nothing


def _plain_loop(dataset, config: TrainConfig, model: nn.Module) -> nn.Module:
    """The training loop before the recipe, written out by hand (no augmentation)."""
    torch.manual_seed(config.seed)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, fused=True)
    per_epoch = len(dataset.train) // config.batch_size
    total, warmup = config.epochs * per_epoch, round(config.warmup_epochs * per_epoch)
    std, mean = (
        torch.tensor(v, dtype=torch.float32).view(1, -1, 1, 1) for v in (dataset.std, dataset.mean)
    )
    step = 0
    model.train()
    for epoch in range(1, config.epochs + 1):
        generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
        order = torch.randperm(len(dataset.train), generator=generator)
        for i in range(per_epoch):
            index = order[i * config.batch_size : (i + 1) * config.batch_size]
            x = torch.addcmul(-(mean / std), dataset.train.images[index].float(), 1 / (255 * std))
            if step < warmup:
                factor = (step + 1) / warmup
            else:
                factor = 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))
            for group in optimizer.param_groups:
                group["lr"] = config.lr * factor
            loss = F.cross_entropy(
                model(x), dataset.train.labels[index], label_smoothing=config.label_smoothing
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(list(model.parameters()), config.grad_clip)
            optimizer.step()
            step += 1
    return model


def test_recipe_off_matches_the_plain_loop_bit_for_bit(digits) -> None:
    off = {"drop_path": 0, "ema": 0, "mixup": 0, "cutmix": 0, "random_erasing": 0}
    config = TrainConfig(epochs=2, batch_size=64, lr=3e-3, threads=1, seed=5, **off)
    ours = tiny_convnet()
    train_and_evaluate(ours, digits, config)
    reference = _plain_loop(digits, config, tiny_convnet())
    for (name, value), expected in zip(ours.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(value, expected), name


def test_all_regularizers_on_train_and_repeat_with_the_seed(digits) -> None:
    config = TrainConfig(
        epochs=1, batch_size=64, threads=1, drop_path=0.1, ema=0.99, mixup=0.8, cutmix=1.0,
        mix_prob=0.8, augment="trivialaugment", random_erasing=0.25,
    )  # fmt: skip
    first = train_and_evaluate(_ResidualNet(), digits, config)
    again = train_and_evaluate(_ResidualNet(), digits, config)
    assert math.isfinite(first["train_loss"]) and 0 <= first["accuracy"] <= 1
    assert (first["train_loss"], first["loss"]) == (again["train_loss"], again["loss"])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("drop_path", 1.0),
        ("drop_path", -0.1),
        ("ema", 1.0),
        ("ema", "yes"),
        ("mixup", -1),
        ("cutmix", -0.5),
        ("mix_prob", 1.5),
        ("switch_prob", -0.1),
        ("augment", "autoaugment"),
        ("random_erasing", 2),
        ("label_smoothing", 1.0),
    ],
)
def test_bad_regularizer_values_are_space_errors_naming_the_key(key: str, value) -> None:
    with pytest.raises(SpaceError, match=rf"train\.{key}"):
        TrainConfig.from_dict({key: value})


def test_false_switches_a_regularizer_off() -> None:
    config = TrainConfig.from_dict({"ema": False, "mixup": False, "drop_path": 0.1})
    assert (config.ema, config.mixup, config.drop_path) == (0.0, 0.0, 0.1)


def test_position_embeddings_and_bias_tables_are_not_decayed() -> None:
    from evaluators.optim import parameter_groups
    from search_space import build_model, load_architecture

    arch = load_architecture(
        {
            "name": "vit-ish",
            "input": {"channels": 1, "resolution": 28, "classes": 10},
            "stem": {"type": "patchify", "width": 16, "patch": 4, "pos_embed": "learned"},
            "stages": [
                {"block": "attention", "depth": 1, "width": 16, "heads": 2, "rel_pos": "bias"}
            ],
            "head": {"pool": "avg"},
        }
    )
    model = build_model(arch)
    decay, no_decay = parameter_groups(model, 0.05)
    names = {id(p): n for n, p in model.named_parameters()}
    skipped = {names[id(p)] for p in no_decay["params"] if p.ndim > 1}
    assert skipped == {"stem.pos_embed", "stages.0.0.attn.rel_pos.table"}
    assert all(p.ndim > 1 for p in decay["params"])
