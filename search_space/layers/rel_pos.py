"""Relative position bias (Swin; CoAtNet's "relative attention"), one table per head."""

from __future__ import annotations

import torch
from torch import nn

Size = tuple[int, int]


class RelPosBias(nn.Module):
    """Learned bias B[dy, dx] added to the attention logits of a wh x ww window.

    The table has (2 wh - 1)(2 ww - 1) entries per head: one per relative offset.
    """

    def __init__(self, window: Size, heads: int):
        super().__init__()
        wh, ww = window
        self.table = nn.Parameter(torch.zeros((2 * wh - 1) * (2 * ww - 1), heads))
        nn.init.trunc_normal_(self.table, std=0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij"))
        coords = coords.flatten(1)  # (2, L)
        offsets = coords[:, :, None] - coords[:, None, :]  # (2, L, L), each in (-w, w)
        index = (offsets[0] + wh - 1) * (2 * ww - 1) + (offsets[1] + ww - 1)
        self.register_buffer("index", index, persistent=False)  # (L, L)

    def forward(self) -> torch.Tensor:
        return self.table[self.index].permute(2, 0, 1)  # (L, L, heads) -> (heads, L, L)
