"""Writes a synthetic image folder of JPEGs (train/<class>/*.jpg, val/<class>/*.jpg), in parallel.

Each image is a smooth per-class colour gradient plus per-image noise and a random
rectangle, so JPEG sizes (about 10-20 kB at 224x224, quality 90) and decode times are
close to those of photos. Reused when the folder already holds the expected count.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

CLASSES = 100


def _write_chunk(args: tuple[str, int, int, int, int]) -> int:
    from PIL import Image

    folder, start, stop, size, seed = args
    rng = np.random.default_rng(seed + start)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    for i in range(start, stop):
        label = i % CLASSES
        hue = np.array([(label * 37) % 256, (label * 91) % 256, (label * 53) % 256], np.float32)
        base = ramp[:, None, None] * hue + ramp[None, :, None] * (255 - hue) * 0.5
        noise = rng.normal(0, 18, size=(size // 4, size // 4, 3)).repeat(4, 0).repeat(4, 1)
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        top, left = rng.integers(0, size // 2, 2)
        pixels[top : top + size // 3, left : left + size // 3] = rng.integers(0, 256, 3)
        path = Path(folder) / f"class_{label:03d}" / f"{i:07d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
    return stop - start


def make_folder(root: Path, train: int, val: int, size: int = 224, workers: int = 2) -> Path:
    """root/train has `train` images, root/val `val`, over 100 classes; reused when complete."""
    for part, count, seed in (("train", train, 0), ("val", val, 1_000_000_007)):
        folder = root / part
        marker = folder / f".complete-{count}-{size}"
        if marker.exists():
            continue
        for label in range(CLASSES):
            (folder / f"class_{label:03d}").mkdir(parents=True, exist_ok=True)
        chunks = [(str(folder), s, min(s + 500, count), size, seed) for s in range(0, count, 500)]
        start, done = time.perf_counter(), 0
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for written in pool.imap_unordered(_write_chunk, chunks):
                done += written
                rate = done / (time.perf_counter() - start)
                line = f"\rwriting {part}: {done}/{count} JPEGs, {rate:.0f}/s"
                print(line, end="", file=sys.stderr)
        print(file=sys.stderr)
        marker.touch()
    return root


if __name__ == "__main__":
    make_folder(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
