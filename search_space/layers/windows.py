"""Window partitioning for local attention (Swin, Liu et al. 2021)."""

from __future__ import annotations

import torch

Size = tuple[int, int]


def window_partition(x: torch.Tensor, window: Size) -> torch.Tensor:
    """(N, H, W, C) -> (N, nW, wh * ww, C); H and W must be multiples of the window."""
    n, h, w, c = x.shape
    wh, ww = window
    x = x.reshape(n, h // wh, wh, w // ww, ww, c).transpose(2, 3)  # (N, H/wh, W/ww, wh, ww, C)
    return x.reshape(n, (h // wh) * (w // ww), wh * ww, c)


def window_merge(x: torch.Tensor, size: Size, window: Size) -> torch.Tensor:
    """(N, nW, wh * ww, C) -> (N, H, W, C), the inverse of `window_partition`."""
    n, _, _, c = x.shape
    (h, w), (wh, ww) = size, window
    x = x.reshape(n, h // wh, w // ww, wh, ww, c).transpose(2, 3)  # (N, H/wh, wh, W/ww, ww, C)
    return x.reshape(n, h, w, c)


def _regions(length: int, window: int, shift: int) -> torch.Tensor:
    """Labels the rows (or columns) that a cyclic shift by `shift` brought together."""
    labels = torch.zeros(length, dtype=torch.long)
    labels[length - window : length - shift] = 1
    labels[length - shift :] = 2
    return labels


def shift_mask(size: Size, window: Size, shift: Size) -> torch.Tensor:
    """Additive mask (nW, 1, L, L): -inf between tokens that a cyclic shift made neighbours.

    After rolling the map by -shift, a window at the border mixes pixels from opposite
    edges of the image; Swin masks attention between those regions.
    """
    rows = _regions(size[0], window[0], shift[0]) if shift[0] else torch.zeros(size[0]).long()
    cols = _regions(size[1], window[1], shift[1]) if shift[1] else torch.zeros(size[1]).long()
    labels = (rows[:, None] * 3 + cols[None, :])[None, :, :, None]  # (1, H, W, 1)
    labels = window_partition(labels, window)[0, :, :, 0]  # (nW, L)
    different = labels[:, :, None] != labels[:, None, :]  # (nW, L, L)
    mask = torch.zeros(different.shape).masked_fill(different, float("-inf"))
    return mask[:, None]
