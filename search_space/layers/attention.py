"""Multi-head self-attention over windows of a channels-last map, global by default."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from search_space.layers.rel_pos import RelPosBias
from search_space.layers.windows import shift_mask, window_merge, window_partition

Size = tuple[int, int]


def window_shape(size: Size, window: int | None) -> Size:
    """The window used on a map of `size`: the whole map when `window` is None,
    else `window` clipped to the map (as Swin does on its last, 7x7 stage)."""
    if window is None:
        return size
    return (min(window, size[0]), min(window, size[1]))


class WindowAttention(nn.Module):
    """(N, H, W, in_chs) -> (N, H, W, out_chs): attention within each window.

    q, k and v are `inner_chs` wide (out_chs unless given): the qkv projection widens
    in_chs -> inner_chs, the output projection inner_chs -> out_chs.

    `size` is the (H, W) it will see; it fixes the window, the shift and the bias
    table. Without a window and a bias, any size works (ViT's token sequences).
    Uses ``F.scaled_dot_product_attention`` so fused kernels run where available.
    """

    def __init__(
        self,
        in_chs: int,
        out_chs: int,
        heads: int,
        size: Size,
        *,
        window: int | None,
        shift: bool,
        qkv_bias: bool,
        rel_pos: bool,
        talking_heads: bool = False,
        inner_chs: int | None = None,
    ):
        super().__init__()
        inner_chs = inner_chs or out_chs
        self.heads = heads
        self.fixed = window is not None or rel_pos  # else: one window, whatever the size
        self.window = window_shape(size, window)
        # Swin shifts by half a window, and not along a side the window already covers.
        self.shift = tuple(w // 2 if shift and w < s else 0 for w, s in zip(self.window, size))
        self.qkv = nn.Linear(in_chs, 3 * inner_chs, bias=qkv_bias)
        self.proj = nn.Linear(inner_chs, out_chs)
        self.rel_pos = RelPosBias(self.window, heads) if rel_pos else None
        # Talking heads (Shazeer et al. 2020): heads x heads maps around the softmax.
        self.proj_l = nn.Linear(heads, heads) if talking_heads else None
        self.proj_w = nn.Linear(heads, heads) if talking_heads else None
        mask = shift_mask(size, self.window, self.shift) if any(self.shift) else None
        self.register_buffer("mask", mask, persistent=False)  # (nW, 1, L, L) or None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w, _ = x.shape
        window = self.window if self.fixed else (h, w)
        if any(self.shift):
            x = torch.roll(x, (-self.shift[0], -self.shift[1]), dims=(1, 2))
        x = window_partition(x, window)  # (N, nW, L, in_chs)
        _, windows, length, _ = x.shape
        qkv = self.qkv(x).reshape(n, windows, length, 3, self.heads, -1)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # 3 x (N, nW, heads, L, head_dim)
        bias = self._bias()  # None, (heads, L, L) or (nW, heads, L, L)
        bias = bias.to(q.dtype) if bias is not None else None  # autocast: match q
        if bias is None or bias.dim() == 3:  # 4-D inputs reach PyTorch's fused kernels
            q, k, v = (t.flatten(0, 1) for t in (q, k, v))  # (N * nW, heads, L, head_dim)
        elif self.proj_l is None:
            # Per-window bias: windows join the heads axis, so attention stays 4-D (ONNX's
            # converter takes no other) and the bias broadcasts over images without a copy.
            q, k, v = (t.flatten(1, 2) for t in (q, k, v))  # (N, nW * heads, L, head_dim)
            bias = bias.expand(-1, self.heads, -1, -1)  # a shift mask has one "head"
            bias = bias.flatten(0, 1).unsqueeze(0)  # (1, nW * heads, L, L)
        if self.proj_l is not None:
            if q.dim() == 5:  # per-window bias: one copy per image, windows image-major
                q, k, v = (t.flatten(0, 1) for t in (q, k, v))
                bias = bias.repeat(n, 1, 1, 1)
            x = talking_heads_attention(q, k, v, self.proj_l, self.proj_w, bias)
        else:
            x = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x.reshape(n, windows, self.heads, length, -1).transpose(2, 3)  # (N, nW, L, heads, hd)
        x = self.proj(x.flatten(3))  # (N, nW, L, out_chs)
        x = window_merge(x, (h, w), window)
        if any(self.shift):
            x = torch.roll(x, self.shift, dims=(1, 2))
        return x

    def _bias(self) -> torch.Tensor | None:
        bias = self.rel_pos() if self.rel_pos is not None else None
        if self.mask is None:
            return bias
        return self.mask if bias is None else self.mask + bias  # (nW, 1 or heads, L, L)


def talking_heads_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    proj_l: nn.Linear,
    proj_w: nn.Linear,
    bias: torch.Tensor | None,
) -> torch.Tensor:
    """softmax over keys of the heads-mixed logits, mixed again, times v.
    q, k, v: (B, heads, L, head_dim); the head mixing acts on the heads axis."""
    logits = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B, heads, L, L)
    if bias is not None:
        logits = logits + bias
    logits = proj_l(logits.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # mix heads
    weights = proj_w(logits.softmax(-1).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    return weights @ v  # (B, heads, L, head_dim)
