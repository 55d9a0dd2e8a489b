"""The constructor contracts every stem, block, transition and head follows.

Because every block is built the same way, the model builder is a loop:

    for i in range(stage.depth):
        blocks.append(block_cls(in_chs, width, stride if i == 0 else 1,
                                input_size=size, index=i, shortcut=shortcut, **options))

Tensor layout between components is (N, C, H, W). The one exception is a stem
that adds a class token (ViT): it emits a token sequence (N, 1 + H*W, C), and
only blocks with ``TOKENS_OK = True`` may follow it.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from torch import nn

from search_space.options import Option

Size = tuple[int, int]


def strided_size(size: Size, stride: int) -> Size:
    """Spatial size after a padded stride-`stride` layer: ceil(H / stride)."""
    return (math.ceil(size[0] / stride), math.ceil(size[1] / stride))


class Stem(nn.Module):
    """Contract: ``Stem(in_chs, out_chs, *, input_size, **options)``.

    Maps (N, in_chs, H, W) to (N, out_chs, *output_size(...)), or to a token
    sequence when ``emits_tokens(options)`` is true.
    """

    NAME: ClassVar[str]
    OPTIONS: ClassVar[dict[str, Option]] = {}

    @classmethod
    def output_size(cls, input_size: Size, options: dict[str, Any]) -> Size:
        raise NotImplementedError

    @classmethod
    def emits_tokens(cls, options: dict[str, Any]) -> bool:
        return False

    @classmethod
    def check(cls, *, out_chs: int, input_size: Size, options: dict[str, Any]) -> list[str]:
        """Problems with one concrete combination of options, each "KEY: why" (empty when
        it builds)."""
        return []


class Block(nn.Module):
    """Contract: ``Block(in_chs, out_chs, stride=1, *, input_size, index, shortcut, **options)``.

    Maps (N, in_chs, H, W) to (N, out_chs, ceil(H / stride), ceil(W / stride)).
    `input_size` is (H, W) of the block's input; `index` is its position in the
    stage (shifted windows alternate on it); `shortcut` is "conv" (strided 1x1
    conv + norm) or "pool" (2x2 average pool + 1x1 conv) for the residual path
    when the shape changes.
    """

    NAME: ClassVar[str]
    OPTIONS: ClassVar[dict[str, Option]] = {}
    # Keys whose every combination with width, stride and input size `check` must see.
    CHECK_KEYS: ClassVar[tuple[str, ...]] = ()
    # True when the block also accepts a token sequence (N, T, C) after a class-token stem.
    TOKENS_OK: ClassVar[bool] = False

    @classmethod
    def output_size(cls, input_size: Size, stride: int) -> Size:
        return strided_size(input_size, stride)

    @classmethod
    def check(
        cls, *, in_chs: int, out_chs: int, stride: int, input_size: Size, options: dict[str, Any]
    ) -> list[str]:
        """Problems with one concrete combination of options (empty when it builds)."""
        return []


class Transition(nn.Module):
    """Contract: ``Transition(in_chs, out_chs, stride, *, norm)``, a layer between stages.

    Used by stages whose ``downsample`` is a layer of its own (``norm_conv``,
    ``patch_merge``) rather than the first block's stride.
    """

    NAME: ClassVar[str]
    SUMMARY: ClassVar[str] = ""  # one line for the README's key reference

    @classmethod
    def output_size(cls, input_size: Size, stride: int) -> Size:
        return strided_size(input_size, stride)


class Head(nn.Module):
    """Contract: ``Head(in_chs, num_classes, **options)``; features to (N, num_classes) logits."""

    NAME: ClassVar[str]
    OPTIONS: ClassVar[dict[str, Option]] = {}

    @classmethod
    def check(cls, *, in_chs: int, tokens: bool, options: dict[str, Any]) -> list[str]:
        """Problems with one concrete combination of options, for features `in_chs` wide
        (a token sequence when `tokens`), each "KEY: why"; empty when it builds and runs."""
        return []
