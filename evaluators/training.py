"""Accuracy by training: the training loop and validation.

Conventions: accuracy is top-1 on the held-out validation split, in [0, 1]; ``loss``
is the validation cross-entropy without label smoothing. Epochs and steps are counted
from 1 in messages and callbacks. The model is trained in place (its weights after the
last epoch are the trained weights: ``model.state_dict()``). On CPU, the same seed
gives the same numbers: data order, augmentation and dropout all draw from generators
seeded with it, and the caller's global RNG state is left as it was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from evaluators.class_metrics import CLASS_METRICS, class_scores, confusion_counts
from evaluators.class_noise import class_score_errors
from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import Dataset, Split, load_dataset
from evaluators.datasets.augment import augment
from evaluators.datasets.batches import index_batches, read_batches
from evaluators.datasets.resident import resident_batches, resident_split
from evaluators.device import DevicePlan, device_name, plan_device, set_threads
from evaluators.errors import TrainingFailed
from evaluators.optim import WarmupCosine, build_optimizer
from evaluators.recipe import BatchMixer, WeightAverage, policy_augment, random_erase
from evaluators.recipe.policies import make_policy
from search_space.layers.drop_path import set_drop_path

EpochCallback = Callable[[int, dict[str, float]], None]


def train_and_evaluate(
    model: nn.Module,
    data: DataConfig | Dataset,
    train: TrainConfig,
    *,
    expected_input: Any = None,
    seed: int | None = None,
    on_epoch: EpochCallback | None = None,
) -> dict[str, Any]:
    """Trains `model` on `data` as `train` says and scores it after every epoch.

    `data` is a config (the dataset is loaded and checked against `expected_input`,
    an ``arch.input``) or an already loaded ``Dataset``. `seed` overrides
    ``train.seed``. ``on_epoch(epoch, metrics)`` receives ``accuracy``, ``loss``,
    ``balanced_accuracy``, ``macro_f1``, ``train_loss``, ``lr`` and ``seconds`` after
    each epoch and may raise to stop the run (early stopping). A non-finite loss raises
    ``TrainingFailed``.

    Returns ``accuracy``, ``loss``, ``balanced_accuracy``, ``macro_f1`` and
    ``confusion`` (the last epoch's validation confusion matrix, rows the true class,
    see evaluators/class_metrics.py), ``balanced_accuracy_se_eval`` and
    ``macro_f1_se_eval`` (their evaluation noise, evaluators/class_noise.py),
    ``best_accuracy``, ``train_loss``,
    ``train_seconds`` (training steps only, wall clock), ``train_cpu_seconds`` (the
    same, CPU time of this process: steadier on a shared machine), ``eval_seconds``,
    ``images_per_second`` (training, wall clock), ``epochs``, ``steps``,
    ``train_images``, ``val_images``, ``chance_accuracy`` (the share of the validation
    split's most frequent class: what a model that learned nothing scores), ``device``,
    ``device_name``, ``threads`` and ``history`` (one metrics dict per epoch).
    """
    seed = train.seed if seed is None else seed
    threads = set_threads(train.threads)
    plan = plan_device(train.device, amp=train.amp, channels_last=train.channels_last)
    dataset = data if isinstance(data, Dataset) else load_dataset(data, expected_input)
    plan.prepare_model(model)
    set_drop_path(model, train.drop_path)  # 0 sets every rate to 0: the config decides
    fork_devices = [plan.device] if plan.device.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices), plan.tuned():
        torch.manual_seed(seed)
        history, seconds, confusion = _fit(model, dataset, train, plan, seed, on_epoch)
    last = history[-1]
    return {
        "accuracy": last["accuracy"],
        "loss": last["loss"],
        **{name: last[name] for name in CLASS_METRICS},
        "confusion": confusion,
        **class_score_errors(confusion),  # the class scores' evaluation noise
        "best_accuracy": max(h["accuracy"] for h in history),
        "train_loss": last["train_loss"],
        "train_seconds": seconds["train"],
        "train_cpu_seconds": seconds["train_cpu"],
        "eval_seconds": seconds["eval"],
        "images_per_second": seconds["images"] / max(seconds["train"], 1e-9),
        "epochs": len(history),
        "steps": int(seconds["steps"]),
        "train_images": len(dataset.train),
        "val_images": len(dataset.val),
        "chance_accuracy": chance_accuracy(dataset.val.labels),
        "device": str(plan.device),
        "device_name": device_name(plan.device),
        "threads": threads,
        "history": history,
    }


def chance_accuracy(labels: torch.Tensor) -> float:
    """The share of the most frequent label: the accuracy of always answering it."""
    if len(labels) == 0:
        return 0.0
    return float(torch.bincount(labels.long()).max()) / len(labels)


def _fit(
    model: nn.Module,
    dataset: Dataset,
    train: TrainConfig,
    plan: DevicePlan,
    seed: int,
    on_epoch: EpochCallback | None,
) -> tuple[list[dict[str, float]], dict[str, float], list[list[int]]]:
    """(per-epoch metrics, totals, the last epoch's validation confusion matrix)."""
    trainer = _Trainer(model, dataset, train, plan, seed)
    eval_batch = train.eval_batch_size or 2 * train.batch_size
    history: list[dict[str, float]] = []
    totals = {"train": 0.0, "train_cpu": 0.0, "eval": 0.0}
    for epoch in range(1, train.epochs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        train_loss = trainer.run_epoch(epoch)
        plan.synchronize()
        totals["train"] += time.perf_counter() - start
        totals["train_cpu"] += time.process_time() - cpu_start
        eval_start = time.perf_counter()
        scores = score_validation(trainer.scored, dataset, plan, eval_batch)
        totals["eval"] += time.perf_counter() - eval_start
        if not math.isfinite(scores["loss"]):
            raise TrainingFailed(
                f"non-finite validation loss ({scores['loss']}) after epoch {epoch}"
            )
        confusion = scores.pop("confusion")
        metrics = {
            "epoch": float(epoch),
            **scores,
            "train_loss": train_loss,
            "lr": trainer.lr,
            "seconds": time.perf_counter() - start,
        }
        history.append(metrics)
        if on_epoch is not None:
            on_epoch(epoch, dict(metrics))
    totals.update(steps=trainer.steps, images=trainer.images)
    trainer.finish()
    return history, totals, confusion


class _Trainer:
    """The optimizer, schedule, loss and weight average of one run, and its step counters."""

    def __init__(
        self, model: nn.Module, dataset: Dataset, train: TrainConfig, plan: DevicePlan, seed: int
    ):
        self.model, self.plan, self.grad_clip = model, plan, train.grad_clip
        self.batches = _Batches(dataset, train, plan, seed)
        self.optimizer = build_optimizer(model, train)
        warmup = round(min(train.warmup_epochs, train.epochs) * self.batches.per_epoch)
        total = train.epochs * self.batches.per_epoch
        self.schedule = WarmupCosine(self.optimizer, total, warmup)
        self.weight = class_weights(dataset, train.class_weights, plan.device)
        self.label_smoothing = train.label_smoothing
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.steps, self.images, self.lr = 0, 0, train.lr
        self.average = WeightAverage(model, train.ema) if train.ema > 0 else None

    @property
    def scored(self) -> nn.Module:
        """The network that is evaluated: the weight average when EMA is on."""
        return self.model if self.average is None else self.average.module

    def finish(self) -> None:
        """Leaves the scored weights in the model (what callers save and export)."""
        if self.average is not None:
            self.average.copy_to_source()

    def run_epoch(self, epoch: int) -> float:
        """Trains one epoch; returns its mean training loss."""
        self.model.train()
        losses = _LossMonitor(self.batches.per_epoch, self.plan, epoch)
        for step, (images, labels) in enumerate(self.batches.epoch(epoch), start=1):
            self.lr = self.schedule.set_step(self.steps)
            losses.record(step, self._step(images, labels), self.lr)
            self.steps, self.images = self.steps + 1, self.images + len(labels)
        return losses.finish()

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        weight = self.weight
        if weight is not None and len(weight) < logits.shape[1]:  # outputs no label reaches
            weight = F.pad(weight, (0, logits.shape[1] - len(weight)))
        return F.cross_entropy(logits, labels, weight=weight, label_smoothing=self.label_smoothing)

    def _step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        with self.plan.autocast():
            loss = self._loss(self.model(images), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.parameters, self.grad_clip)
        self.optimizer.step()
        if self.average is not None:
            self.average.update()
        return loss


def evaluate(
    model: nn.Module, dataset: Dataset, plan: DevicePlan, batch_size: int
) -> tuple[float, float]:
    """Top-1 accuracy in [0, 1] and mean cross-entropy on the validation split (eval mode)."""
    scores = score_validation(model, dataset, plan, batch_size)
    return scores["accuracy"], scores["loss"]


def class_weights(
    dataset: Dataset, mode: str, device: torch.device | None = None
) -> torch.Tensor | None:
    """The loss's per-class weights: None for "none"; for "balanced", N / (K * N_k) over
    the training labels (a class without training images weighs 0)."""
    if mode == "none":
        return None
    counts = torch.bincount(dataset.train.labels, minlength=dataset.classes).double()
    present = counts > 0
    weights = torch.zeros_like(counts)
    weights[present] = counts.sum() / (int(present.sum()) * counts[present])
    return weights.float().to(device)


@torch.inference_mode()
def score_validation(
    model: nn.Module, dataset: Dataset, plan: DevicePlan, batch_size: int
) -> dict[str, Any]:
    """One pass over the validation split (eval mode): ``accuracy``, ``loss`` (mean
    cross-entropy), ``balanced_accuracy``, ``macro_f1`` and ``confusion`` (rows: true
    class, columns: predicted; see evaluators/class_metrics.py), all from the same
    predictions."""
    model.eval()
    total_loss, confusion = 0.0, None
    normalize = _Normalizer(dataset, plan)
    pin = plan.device.type == "cuda"
    for images, labels in dataset.val_batches(batch_size, pin_memory=pin):  # read ahead
        images = normalize(images)  # uint8 copied to the device, converted there
        labels = labels.to(plan.device, non_blocking=True)
        with plan.autocast():
            logits = model(images).float()
        total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
        classes = max(dataset.classes, logits.shape[1])
        counts = confusion_counts(labels, logits.argmax(dim=1), classes)
        confusion = counts if confusion is None else confusion + counts
    assert confusion is not None, "the validation split is never empty"
    return {
        "accuracy": float(confusion.trace()) / len(dataset.val),
        "loss": total_loss / len(dataset.val),
        **class_scores(confusion),
        "confusion": confusion.tolist(),
    }


@torch.inference_mode()
def correct_per_image(
    model: nn.Module, dataset: Dataset, split: Split, train: TrainConfig
) -> torch.Tensor:
    """Whether the model's top-1 class is right on each image of `split`, in order: a bool
    tensor (N,). Its mean is the split's accuracy; kept per image, it lets two models be
    compared on the same images (a paired comparison, nas/runs/analysis/tested.py)."""
    plan = plan_device(train.device, amp=train.amp, channels_last=train.channels_last)
    model.eval()
    normalize = _Normalizer(dataset, plan)
    batch_size = train.eval_batch_size or 2 * train.batch_size
    indices = index_batches(torch.arange(len(split)), batch_size, drop_last=False)
    found = []
    for images, labels in read_batches(split.images, split.labels, indices, 0, False):
        with plan.autocast():
            logits = model(normalize(images)).float()
        found.append((logits.argmax(dim=1).cpu() == labels).cpu())
    return torch.cat(found) if found else torch.zeros(0, dtype=torch.bool)


class _Batches:
    """Seeded shuffled training batches: uint8 batches read ahead (``train_batches``),
    copied to the device, then crop/flip and policy augmentation, normalization, random
    erasing and mixup/cutmix there.

    On CUDA the uint8 batch comes in pinned memory and is copied without blocking (a
    quarter of the bytes of a float batch), and every pixel operation runs on the GPU,
    so the CPU only reads batches and draws random numbers; the draws come from the
    same CPU generator on any device. The last partial batch is dropped when there is
    at least one full batch, so every step sees `batch_size` images (BatchNorm
    statistics stay comparable). Labels are class indices (N,), or probabilities
    (N, classes) for a mixed batch.
    """

    def __init__(
        self,
        dataset: Dataset,
        train: TrainConfig,
        plan: DevicePlan,
        seed: int,
        resident: bool | None = None,
    ):
        self.dataset, self.plan, self.seed = dataset, plan, seed
        # On CUDA a split that fits stays on the GPU (datasets/resident.py); `resident`
        # True or False overrides the choice.
        self.resident = resident_split(dataset.train, plan.device, resident)
        self.batch_size = min(train.batch_size, len(dataset.train))
        self.per_epoch = len(dataset.train) // self.batch_size
        self.normalize = _Normalizer(dataset, plan)
        self.policy, self.erasing = make_policy(train.augment), train.random_erasing
        mixing = (train.mixup, train.cutmix, train.mix_prob, train.switch_prob)
        self.mix = BatchMixer(dataset.classes, *mixing)

    def epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        pin, device = self.plan.device.type == "cuda", self.plan.device
        # Draws the epoch's permutation now; the draws below follow it in the generator.
        if self.resident is not None:
            order = torch.randperm(len(self.dataset.train), generator=generator)
            batches = resident_batches(*self.resident, order, self.batch_size)
        else:
            batches = self.dataset.train_batches(self.batch_size, generator, pin_memory=pin)
        try:
            for images, labels in batches:
                images = images.to(device, non_blocking=True)  # a no-op on CPU
                labels = labels.to(device, non_blocking=True)
                images = augment(images, self.dataset.augmentation, generator)
                images = self.normalize(policy_augment(images, self.policy))
                images = random_erase(images, self.erasing, generator)
                yield self.mix(images, labels, generator)
        finally:  # an early stop or a failed step ends the read-ahead threads
            batches.close()


class _Normalizer:
    """uint8 (N, C, H, W) on any device -> normalized float32 on the plan's device and layout."""

    def __init__(self, dataset: Dataset, plan: DevicePlan):
        self.plan = plan
        std = torch.tensor(dataset.std, dtype=torch.float32, device=plan.device).view(1, -1, 1, 1)
        mean = torch.tensor(dataset.mean, dtype=torch.float32, device=plan.device).view(1, -1, 1, 1)
        self.scale, self.shift = 1.0 / (255.0 * std), mean / std

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = self.plan.prepare_batch(images)  # move as uint8: 4x less to transfer
        return torch.addcmul(-self.shift, images.float(), self.scale)


class _LossMonitor:
    """Keeps one epoch's step losses on the device and fails on the first non-finite one.

    On CPU every step is checked; on CUDA every 25 steps (a check is a device sync),
    and the message still names the exact first bad step.
    """

    def __init__(self, steps: int, plan: DevicePlan, epoch: int):
        self.values = torch.zeros(max(steps, 1), device=plan.device)
        self.every = 25 if plan.device.type == "cuda" else 1
        self.epoch, self.recorded, self.checked, self.lrs = epoch, 0, 0, {}

    def record(self, step: int, loss: torch.Tensor, lr: float) -> None:
        self.values[step - 1] = loss.detach()
        self.recorded, self.lrs[step] = step, lr
        if step % self.every == 0:
            self._check()

    def finish(self) -> float:
        self._check()
        return float(self.values[: self.recorded].mean()) if self.recorded else float("nan")

    def _check(self) -> None:
        unchecked = self.values[self.checked : self.recorded]
        bad = (~torch.isfinite(unchecked)).nonzero()
        self.checked = self.recorded
        if len(bad):
            step = self.checked - len(unchecked) + int(bad[0]) + 1
            raise TrainingFailed(
                f"non-finite loss ({float(self.values[step - 1])}) "
                f"at epoch {self.epoch} step {step} "
                f"(lr {self.lrs[step]:.3g}); try a lower train.lr or a train.grad_clip"
            )
