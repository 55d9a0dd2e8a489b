"""Class attention (CaiT, Touvron et al. 2021): only the class token attends and is updated."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from search_space.layers.drop_path import DropPath
from search_space.layers.mlp import Mlp, hidden_width, make_layer_scale
from search_space.layers.norms import make_norm


class ClassAttention(nn.Module):
    """Query from the class token, keys and values from every token: (N, 1 + T, C) -> (N, 1, C)."""

    def __init__(self, width: int, heads: int, qkv_bias: bool):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width, bias=qkv_bias)
        self.k = nn.Linear(width, width, bias=qkv_bias)
        self.v = nn.Linear(width, width, bias=qkv_bias)
        self.proj = nn.Linear(width, width)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        n, _, width = tokens.shape
        split = (n, -1, self.heads, width // self.heads)  # -> (N, L, heads, head_dim)
        q = self.q(tokens[:, :1]).reshape(split).transpose(1, 2)  # (N, heads, 1, hd)
        k = self.k(tokens).reshape(split).transpose(1, 2)  # (N, heads, L, hd)
        v = self.v(tokens).reshape(split).transpose(1, 2)
        x = F.scaled_dot_product_attention(q, k, v)  # (N, heads, 1, hd)
        return self.proj(x.transpose(1, 2).reshape(n, 1, width))


class ClassAttentionBlock(nn.Module):
    """cls + scale(attn(norm([cls, x]))), then cls + scale(MLP(norm(cls))); x is unchanged."""

    def __init__(self, width: int, heads: int, options: dict):
        super().__init__()
        norm, eps, init = options["norm"], options["norm_eps"], options["layer_scale"]
        self.norm1 = make_norm(norm, width, "channels_last", eps)
        self.attn = ClassAttention(width, heads, options["qkv_bias"])
        self.scale1 = make_layer_scale(width, init)
        self.norm2 = make_norm(norm, width, "channels_last", eps)
        self.mlp = Mlp(width, hidden_width(width, options["mlp_ratio"]), width, options["act"])
        self.scale2 = make_layer_scale(width, init)
        self.drop_path1, self.drop_path2 = DropPath(), DropPath()

    def forward(self, cls: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        tokens = torch.cat([cls, x], dim=1)  # (N, 1 + T, C)
        cls = cls + self.drop_path1(self.scale1(self.attn(self.norm1(tokens))))
        return cls + self.drop_path2(self.scale2(self.mlp(self.norm2(cls))))
