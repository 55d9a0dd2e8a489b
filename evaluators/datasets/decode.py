"""Decodes image files in parallel straight into a uint8 ``.npy`` array (N, C, H, W).

Every worker process opens the output array itself and writes its rows, so no pixels
travel between processes; each returns only the problems it met and per-channel sums
for the normalization statistics. An image is opened with PIL and converted to RGB
(grayscale and palette files too, as torchvision's loader does), or to gray (PIL's
"L": ITU-R 601 luma) for a 1-channel array. With a resolution,
its short side is resized to it (bilinear, antialiased) and a centered square
cropped, as torchvision's ``Resize(R)`` + ``CenterCrop(R)``; a JPEG much larger than
that is first decoded at a reduced scale (``Image.draft``), which is several times
faster. A file PIL cannot read (corrupt, truncated, not an image, a decompression
bomb over ``PIL.Image.MAX_IMAGE_PIXELS``) is recorded as corrupt and its row left zero.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluators.datasets.progress import Progress

CHUNK = 256  # files per task: large enough to amortize a task, small for smooth progress
IN_PROCESS_BELOW = 1024  # starting worker processes costs more than decoding this many


@dataclass
class Decoded:
    """What a decode pass met: corrupt files and wrongly sized ones (index, path, why)."""

    corrupt: list[tuple[int, str, str]] = field(default_factory=list)
    mismatched: list[tuple[int, str, str]] = field(default_factory=list)
    sums: np.ndarray | float = 0.0  # (2, C): per-channel sum and sum of squares of pixel/255
    pixels: int = 0  # per channel, over the images decoded

    def add(self, other: Decoded) -> None:
        self.corrupt += other.corrupt
        self.mismatched += other.mismatched
        self.sums += other.sums
        self.pixels += other.pixels


def image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) from the file header, without decoding the pixels."""
    from PIL import Image

    with Image.open(path) as image:
        return image.size[1], image.size[0]


def decode_into(
    array_path: Path,
    files: Sequence[str | Path],
    resolution: int | None,
    workers: int,
    label: str,
) -> Decoded:
    """Fills rows 0..len(files)-1 of the (N, C, H, W) array at `array_path` from `files`."""
    tasks = [
        (str(array_path), start, [str(p) for p in files[start : start + CHUNK]], resolution)
        for start in range(0, len(files), CHUNK)
    ]
    progress, result = Progress(f"decoding {label}", len(files)), Decoded()
    if workers <= 1 or len(files) < IN_PROCESS_BELOW:
        for task in tasks:
            result.add(_decode_chunk(task))
            progress.advance(len(task[2]))
    else:
        spawn = multiprocessing.get_context("spawn")  # safe beside torch's and Ray's threads
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            for task, part in zip(tasks, pool.map(_decode_chunk, tasks)):
                result.add(part)
                progress.advance(len(task[2]))
    progress.finish()
    return result


def decode_workers() -> int:
    """One per core, at most 16: decoding runs once per machine, and trials wait for it."""
    return min(os.cpu_count() or 1, 16)


def _decode_chunk(task: tuple[str, int, list[str], int | None]) -> Decoded:
    array_path, start, paths, resolution = task
    out = np.load(array_path, mmap_mode="r+")
    channels, height, width = out.shape[1:]
    mode = "RGB" if channels == 3 else "L"
    result = Decoded()
    counts = np.zeros((channels, 256), dtype=np.int64)  # per-channel histogram of the chunk
    for index, path in enumerate(paths, start=start):
        try:
            pixels = _decode(path, resolution, mode)
        except Exception as error:  # PIL raises many types; every one means "unreadable"
            result.corrupt.append((index, path, _reason(error)))
            continue
        if pixels.shape[:2] != (height, width):
            size = f"{pixels.shape[0]}x{pixels.shape[1]}"
            result.mismatched.append((index, path, f"{size}, not {height}x{width}"))
            continue
        pixels = pixels.reshape(height, width, channels)
        out[index] = pixels.transpose(2, 0, 1)
        counts += _histogram(pixels.reshape(-1, channels))
        result.pixels += height * width
    out.flush()
    values = np.arange(256, dtype=np.float64) / 255.0
    result.sums = np.stack([counts @ values, counts @ np.square(values)])
    return result


def _histogram(pixels: np.ndarray) -> np.ndarray:
    """(C, 256) counts of the values of uint8 pixels (P, C): the exact per-channel sums
    and sums of squares follow, at a quarter of the cost of summing in float64."""
    channels = pixels.shape[1]
    offsets = np.arange(channels, dtype=np.int32) * 256  # channel c counts in bins c*256..
    flat = (pixels + offsets).ravel()  # uint8 + int32 -> int32
    return np.bincount(flat, minlength=256 * channels).reshape(channels, 256)


def _decode(path: str, resolution: int | None, mode: str) -> np.ndarray:
    """(H, W, 3) or (H, W) uint8 pixels of the image at `path`, resized and cropped when asked."""
    from PIL import Image

    with Image.open(path) as image:
        if resolution is not None:
            image.draft(mode, _resized(image.size, resolution))
        image = image.convert(mode)
    if resolution is not None:
        width, height = _resized(image.size, resolution)
        image = image.resize((width, height), Image.BILINEAR)
        left, top = round((width - resolution) / 2), round((height - resolution) / 2)
        image = image.crop((left, top, left + resolution, top + resolution))
    return np.asarray(image)


def _resized(size: tuple[int, int], short: int) -> tuple[int, int]:
    """(width, height) with the short side `short`, the long side scaled as torchvision does."""
    width, height = size
    if width <= height:
        return short, int(short * height / width)
    return int(short * width / height), short


def _reason(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
