"""Images read from an on-disk ``.npy`` array (N, C, H, W) uint8, a batch at a time.

``DiskImages`` stands in for a uint8 image tensor where a dataset is larger than
memory: it has ``shape``, ``dtype``, ``dim()`` and ``len()``, and indexing it with a
slice or an index tensor returns a tensor of those images, read from the file with
``os.pread`` (the indices are sorted and consecutive rows merged into one read).
Reading instead of memory-mapping keeps the file in the kernel's page cache, shared
by every process on the machine, and out of each process's resident memory: a
mapped array counts every page a trial has touched towards its RSS.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


class DiskImages:
    """A read-only view of rows `rows` (all when None) of the array stored at `path`."""

    dtype = torch.uint8

    def __init__(self, path: Path, rows: torch.Tensor | None = None):
        self.path = Path(path)
        with self.path.open("rb") as file:
            version = np.lib.format.read_magic(file)
            shape, fortran, dtype = _HEADER_READERS[version](file)
            self._offset = file.tell()
        if dtype != np.uint8 or fortran or len(shape) != 4:
            raise ValueError(f"{path} is not a C-ordered uint8 (N, C, H, W) array")
        self._stored, self._row_bytes = shape[0], int(np.prod(shape[1:]))
        self._image_shape = tuple(shape[1:])
        self.rows = rows
        self._fd: int | None = None

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self), *self._image_shape))

    def dim(self) -> int:
        return 4

    def __len__(self) -> int:
        return self._stored if self.rows is None else len(self.rows)

    def subset(self, indices: torch.Tensor) -> DiskImages:
        """The images at `indices` of this view, as a new view (nothing is read)."""
        rows = indices if self.rows is None else self.rows[indices]
        return DiskImages(self.path, rows.to(torch.int64))

    def __getitem__(self, key: slice | torch.Tensor | int) -> torch.Tensor:
        if isinstance(key, int):
            return self[torch.tensor([key])][0]
        positions = torch.arange(len(self))[key] if isinstance(key, slice) else key
        rows = positions if self.rows is None else self.rows[positions]
        return self.read_rows(rows.to(torch.int64))

    def read_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Stored rows `rows` (in that order) as a tensor (len, C, H, W)."""
        out = torch.empty((len(rows), *self._image_shape), dtype=torch.uint8)
        if len(rows) == 0:
            return out
        order = torch.argsort(rows)
        sorted_rows = rows[order]
        buffer = np.empty((len(rows), self._row_bytes), dtype=np.uint8)
        self._read_sorted(sorted_rows.numpy(), buffer)
        flat = torch.from_numpy(buffer)
        if torch.equal(order, torch.arange(len(rows))):
            return flat.view(out.shape)
        out.view(len(rows), -1)[order] = flat
        return out

    def _read_sorted(self, rows: np.ndarray, buffer: np.ndarray) -> None:
        """Reads ascending `rows` into `buffer`, one pread per run of consecutive rows."""
        if rows[0] < 0 or rows[-1] >= self._stored:
            raise IndexError(f"row {rows[-1]} out of range for {self._stored} images")
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts = np.concatenate(([0], breaks))
        stops = np.concatenate((breaks, [len(rows)]))
        fd = self._descriptor()
        for start, stop in zip(starts.tolist(), stops.tolist()):
            offset = self._offset + int(rows[start]) * self._row_bytes
            view = memoryview(buffer[start:stop]).cast("B")
            while len(view):  # pread may return less than asked on some filesystems
                got = os.preadv(fd, [view], offset)
                if got <= 0:
                    raise OSError(f"{self.path}: unexpected end of file")
                view, offset = view[got:], offset + got

    def _descriptor(self) -> int:
        # Opened lazily, and once per process: a view can be pickled into another process.
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None}

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def load(self) -> torch.Tensor:
        """Every image of this view in memory (a private copy)."""
        if self.rows is None:
            return torch.from_numpy(np.load(self.path))
        return self.read_rows(self.rows)
