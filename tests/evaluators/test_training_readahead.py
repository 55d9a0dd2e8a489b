"""The training loop on read-ahead batches: disk = memory, threads end, GPU = CPU draws.

The CUDA tests run only where a GPU is present; they compare the GPU path with the CPU
one (same generator draws, exact pixel gathers), so they need no stored reference.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
import torch

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.datasets.augment import augment
from evaluators.errors import TrainingFailed
from evaluators.training import train_and_evaluate
from tests.evaluators.conftest import InputSpec, tiny_convnet, write_cifar

RGB28 = InputSpec(3, 28, 10)  # resized from 32: what tiny_convnet takes
GRAY28 = InputSpec(1, 28, 10)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _reader_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("batches")]


def test_a_disk_split_trains_to_the_same_weights_as_the_same_split_in_memory(
    tmp_path: Path,
) -> None:
    root = write_cifar(tmp_path, per_file=40)  # 200 images, 160 train / 40 val
    config = {"name": "cifar10", "root": str(root), "resize": True}
    disk = load_dataset(DataConfig(**config, in_memory=False, num_workers=2), RGB28)
    memory = load_dataset(DataConfig(**config, in_memory=True, num_workers=0), RGB28)
    assert disk.train.on_disk and not memory.train.on_disk
    train = TrainConfig(epochs=2, batch_size=32, threads=1, seed=3)
    models = [tiny_convnet(channels=3), tiny_convnet(channels=3)]
    results = [train_and_evaluate(m, d, train) for m, d in zip(models, (disk, memory))]
    assert results[0]["loss"] == results[1]["loss"] and results[0]["steps"] == 2 * (160 // 32)
    for (name, a), b in zip(models[0].state_dict().items(), models[1].state_dict().values()):
        assert torch.equal(a, b), name


def test_an_early_stop_or_a_failed_step_ends_the_read_ahead_threads() -> None:
    data = load_dataset(DataConfig(limit=800, num_workers=2), GRAY28)
    config = TrainConfig(epochs=3, batch_size=32, threads=1)
    during: list[list[str]] = []

    def stop(epoch: int, metrics: dict[str, float]) -> None:
        raise KeyboardInterrupt

    model = tiny_convnet()
    model.register_forward_hook(lambda *_: during.append(_reader_threads()))
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate(model, data, config, on_epoch=stop)
    assert len(during[0]) == 2 and _reader_threads() == []  # 2 readers while training
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))  # the next run's first loss is NaN
    during.clear()
    with pytest.raises(TrainingFailed, match="step 1"):
        train_and_evaluate(model, data, config)
    assert len(during) == 1 and len(during[0]) == 2 and _reader_threads() == []


@needs_cuda
def test_crop_and_flip_on_the_gpu_match_the_cpu_with_the_same_seed() -> None:
    images = torch.randint(0, 256, (16, 3, 12, 10), dtype=torch.uint8)
    cpu = augment(images, "natural", torch.Generator().manual_seed(4))
    gpu = augment(images.cuda(), "natural", torch.Generator().manual_seed(4))
    assert gpu.device.type == "cuda" and torch.equal(gpu.cpu(), cpu)


@needs_cuda
def test_training_on_the_gpu_reads_pinned_batches_and_runs_every_regularizer() -> None:
    data = load_dataset(DataConfig(limit=600, num_workers=2), GRAY28)
    generator = torch.Generator().manual_seed(0)
    images, labels = next(iter(data.train_batches(64, generator, pin_memory=True)))
    assert images.is_pinned() and labels.is_pinned() and images.dtype == torch.uint8
    config = TrainConfig(
        epochs=1, batch_size=64, device="cuda", drop_path=0.1, ema=0.99, mixup=0.8,
        cutmix=1.0, augment="trivialaugment", random_erasing=0.25,
    )  # fmt: skip
    result = train_and_evaluate(tiny_convnet(), data, config)
    assert result["device"].startswith("cuda") and math.isfinite(result["train_loss"])
    assert 0 <= result["accuracy"] <= 1


def test_a_split_kept_on_the_device_gives_the_same_batches_as_reading_it() -> None:
    """The resident path (on the GPU where one is, forced here on the CPU) draws the same
    permutation and the same augmentation from the same generators: every augmented,
    mixed batch of an epoch is identical."""
    from evaluators.device import plan_device
    from evaluators.training import _Batches

    data = load_dataset(DataConfig(limit=500, num_workers=2), GRAY28)
    train = TrainConfig(
        epochs=2, batch_size=48, threads=1, seed=5, mixup=0.8, augment="trivialaugment",
        random_erasing=0.25,
    )  # fmt: skip
    plan = plan_device("cpu")
    read = _Batches(data, train, plan, seed=5, resident=False)
    kept = _Batches(data, train, plan, seed=5, resident=True)
    assert read.resident is None and kept.resident is not None
    for epoch in (1, 2):
        torch.manual_seed(epoch)  # mixing, policy and erasing also draw from the global RNG
        first = list(read.epoch(epoch))
        torch.manual_seed(epoch)
        pairs = list(zip(first, kept.epoch(epoch), strict=True))
        assert len(pairs) == len(data.train) // 48
        for (a_images, a_labels), (b_images, b_labels) in pairs:
            assert torch.equal(a_images, b_images) and torch.equal(a_labels, b_labels)


def test_a_split_is_kept_on_the_device_only_on_cuda_and_only_in_memory(tmp_path: Path) -> None:
    from evaluators.datasets.resident import resident_split

    memory = load_dataset(DataConfig(limit=300), GRAY28)
    assert resident_split(memory.train, torch.device("cpu")) is None  # auto: CUDA only
    root = write_cifar(tmp_path, per_file=20)
    config = DataConfig(name="cifar10", root=str(root), resize=True, in_memory=False)
    disk = load_dataset(config, RGB28)
    assert disk.train.on_disk and resident_split(disk.train, torch.device("cpu"), True) is None
