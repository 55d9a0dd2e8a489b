"""Batches of a split, read ahead on worker threads while the model trains on the last one.

A batch is a run of row indices of the epoch's order, kept in that order, for an
in-memory split and a disk one alike (the same seed gives the same batches either way;
``DiskImages`` sorts the rows of a batch itself, so its reads go forward through the
file). Threads are enough: reading a batch (``os.pread``, a tensor gather, pinning)
releases the GIL. With `workers` = 0 each batch is read when it is asked for.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import torch

Batch = tuple[torch.Tensor, torch.Tensor]  # uint8 images (B, C, H, W), int64 labels (B,)


def index_batches(order: torch.Tensor, batch_size: int, drop_last: bool) -> list[torch.Tensor]:
    """`order` cut into batches; a last partial batch is dropped when `drop_last`."""
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    return [order[i : i + batch_size] for i in range(0, stop, batch_size)]


def read_batches(
    images: Any, labels: torch.Tensor, indices: Iterable[torch.Tensor], workers: int,
    pin_memory: bool,
) -> Iterator[Batch]:  # fmt: skip
    """The batches of `images` (a tensor or ``DiskImages``) and `labels` at `indices`, in
    order, with up to 2 x `workers` read ahead."""

    def read(index: torch.Tensor) -> Batch:
        batch, batch_labels = images[index], labels[index]
        if pin_memory:  # page-locked: the copy to the GPU can overlap compute
            batch, batch_labels = batch.pin_memory(), batch_labels.pin_memory()
        return batch, batch_labels

    if workers == 0:
        yield from map(read, indices)
        return
    pending: deque[Future[Batch]] = deque()
    remaining = iter(indices)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="batches")
    try:
        for index in remaining:
            pending.append(pool.submit(read, index))
            if len(pending) >= 2 * workers:
                break
        while pending:
            batch = pending.popleft().result()
            following = next(remaining, None)
            if following is not None:
                pending.append(pool.submit(read, following))
            yield batch
    finally:  # also when the consumer stops early (early stopping, an error)
        pool.shutdown(wait=True, cancel_futures=True)
