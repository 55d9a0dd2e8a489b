"""Shifted-window attention against a direct computation: one window, one head at a time."""

import pytest
import torch

from search_space.layers.attention import WindowAttention


def _reference(module: WindowAttention, x: torch.Tensor, window: int) -> torch.Tensor:
    """Swin's shifted windows written out with loops (N, H, W, C) -> (N, H, W, C): roll,
    then for each window and head, softmax(q k^T / sqrt(d) + bias) v with -inf between
    pixels that came from different regions of the unrolled map, then roll back."""
    n, h, w, _ = x.shape
    shift = window // 2
    rolled = torch.roll(x, (-shift, -shift), dims=(1, 2))
    # region label of every pixel of the rolled map (Swin's three bands per axis)
    band = torch.zeros(h, dtype=torch.long)
    band[h - window : h - shift], band[h - shift :] = 1, 2
    labels = band[:, None] * 3 + band[None, :]
    heads, out = module.heads, torch.zeros(n, h, w, module.proj.out_features)
    for top in range(0, h, window):
        for left in range(0, w, window):
            tokens = rolled[:, top : top + window, left : left + window].reshape(n, -1, x.shape[-1])
            region = labels[top : top + window, left : left + window].reshape(-1)
            blocked = region[:, None] != region[None, :]
            head_dim = module.proj.out_features // heads
            q, k, v = module.qkv(tokens).reshape(n, -1, 3, heads, head_dim).unbind(2)
            mixed = []
            for head in range(heads):
                logits = q[..., head, :] @ k[..., head, :].transpose(-2, -1) / q.shape[-1] ** 0.5
                if module.rel_pos is not None:
                    logits = logits + module.rel_pos()[head]
                logits = logits.masked_fill(blocked, float("-inf"))
                mixed.append(logits.softmax(-1) @ v[..., head, :])
            result = module.proj(torch.cat(mixed, dim=-1))
            out[:, top : top + window, left : left + window] = result.reshape(n, window, window, -1)
    return torch.roll(out, (shift, shift), dims=(1, 2))


@pytest.mark.parametrize("rel_pos", [False, True])
@pytest.mark.parametrize("heads", [1, 4])
def test_shifted_windows_equal_the_direct_computation(heads: int, rel_pos: bool) -> None:
    torch.manual_seed(0)
    module = WindowAttention(
        32, 32, heads, (8, 8), window=4, shift=True, qkv_bias=True, rel_pos=rel_pos
    ).eval()
    if module.rel_pos is not None:  # a zero-initialised table would hide a misplaced bias
        for parameter in module.rel_pos.parameters():
            torch.nn.init.normal_(parameter)
    x = torch.randn(2, 8, 8, 32)
    with torch.no_grad():
        torch.testing.assert_close(module(x), _reference(module, x, 4), atol=1e-5, rtol=1e-5)
