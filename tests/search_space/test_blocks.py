"""The component vocabulary: every block, stem, transition and head keeps its shape contract."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

import search_space.builder  # noqa: F401  (registers every component)
from search_space.component import strided_size
from search_space.errors import SpaceError
from search_space.layers.acts import make_act
from search_space.layers.norms import make_norm
from search_space.layers.rel_pos import RelPosBias
from search_space.options import ACTS, NORMS
from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS


def defaults(cls: Any, **overrides: Any) -> dict[str, Any]:
    return {key: option.default for key, option in cls.OPTIONS.items()} | overrides


def make_block(
    name: str,
    in_chs: int,
    out_chs: int,
    stride: int,
    size: tuple[int, int],
    index: int = 0,
    shortcut: str = "conv",
    **overrides: Any,
) -> torch.nn.Module:
    cls = BLOCKS.get(name)
    return cls(
        in_chs,
        out_chs,
        stride,
        input_size=size,
        index=index,
        shortcut=shortcut,
        **defaults(cls, **overrides),
    )


def block_norms() -> list[tuple[str, str | None]]:
    cases: list[tuple[str, str | None]] = []
    for name in BLOCKS.names():
        option = BLOCKS.get(name).OPTIONS.get("norm")
        cases += [(name, norm) for norm in (option.choices if option else (None,))]
    return cases


def run_and_backprop(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    y = module(x)
    y.square().mean().backward()
    assert torch.isfinite(y).all()
    assert torch.isfinite(x.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in module.parameters() if p.grad is not None)
    return y


@pytest.mark.parametrize(("name", "norm"), block_norms())
@pytest.mark.parametrize("stride", [1, 2])
def test_block_maps_to_width_and_strided_size_with_every_norm(name, norm, stride):
    overrides = {"norm": norm} if norm else {}
    block = make_block(name, 16, 32, stride, (8, 8), **overrides)
    y = run_and_backprop(block, torch.randn(2, 16, 8, 8))
    assert y.shape == (2, 32, 8 // stride, 8 // stride)


@pytest.mark.parametrize(
    ("name", "act"),
    [(name, act) for name in BLOCKS.names() if "act" in BLOCKS.get(name).OPTIONS for act in ACTS],
)
def test_block_runs_with_every_activation(name, act):
    y = run_and_backprop(make_block(name, 16, 32, 1, (8, 8), act=act), torch.randn(2, 16, 8, 8))
    assert y.shape == (2, 32, 8, 8)


@pytest.mark.parametrize("name", BLOCKS.names())
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("shortcut", ["conv", "pool"])
@pytest.mark.parametrize("in_chs", [16, 32])
def test_block_output_is_ceil_of_odd_input_over_stride(name, stride, shortcut, in_chs):
    block = make_block(name, in_chs, 32, stride, (7, 7), shortcut=shortcut)
    y = run_and_backprop(block, torch.randn(2, in_chs, 7, 7))
    expected = strided_size((7, 7), stride)
    assert expected == (math.ceil(7 / stride),) * 2
    assert y.shape == (2, 32, *expected)
    assert BLOCKS.get(name).output_size((7, 7), stride) == expected


@pytest.mark.parametrize("name", BLOCKS.names())
def test_block_check_accepts_its_defaults(name):
    cls = BLOCKS.get(name)
    assert (
        cls.check(in_chs=16, out_chs=32, stride=2, input_size=(8, 8), options=defaults(cls)) == []
    )


@pytest.mark.parametrize(
    ("width", "options", "size", "problem"),
    [
        (48, {"heads": 5}, (8, 8), "width 48 is not divisible by heads 5"),
        (48, {"heads": None, "head_dim": 32}, (8, 8), "width 48 is not divisible by head_dim 32"),
        (48, {"heads": None, "head_dim": None}, (8, 8), "set heads or head_dim"),
        (64, {"window": 4}, (14, 14), "window 4 does not divide the 14x14 feature map"),
    ],
)
def test_attention_check_names_the_problem(width, options, size, problem):
    cls = BLOCKS.get("attention")
    found = cls.check(
        in_chs=width, out_chs=width, stride=1, input_size=size, options=defaults(cls, **options)
    )
    assert found == [problem]
    with pytest.raises(SpaceError, match=problem):
        make_block("attention", width, width, 1, size, **options)


def test_attention_heads_win_over_head_dim():
    block = make_block("attention", 64, 64, 1, (4, 4), heads=8, head_dim=32)
    assert block.attn.heads == 8
    assert make_block("attention", 64, 64, 1, (4, 4), head_dim=16).attn.heads == 4


def test_window_as_large_as_the_map_is_global_attention():
    torch.manual_seed(0)
    global_block = make_block("attention", 32, 32, 1, (8, 8), heads=2).eval()
    window_block = make_block("attention", 32, 32, 1, (8, 8), heads=2, window=8).eval()
    window_block.load_state_dict(global_block.state_dict())
    x = torch.randn(2, 32, 8, 8)
    torch.testing.assert_close(window_block(x), global_block(x))


@pytest.mark.parametrize(
    ("index", "reach"),
    [(0, range(0, 4)), (1, range(0, 2))],  # shifted: pixel 0 shares a window only with row 1
)
def test_windows_limit_which_outputs_an_input_pixel_reaches(index, reach):
    # Unshifted windows of 4 on an 8x8 map: pixel (0, 0) reaches its 4x4 window. Shifted by 2
    # (odd index), its window wraps around the border, and Swin's mask keeps only rows/cols 0-1.
    block = make_block(
        "attention", 32, 32, 1, (8, 8), heads=2, window=4, shift=True, rel_pos="bias", index=index
    ).eval()
    x = torch.randn(1, 32, 8, 8)
    x2 = x.clone()
    x2[0, :, 0, 0] += torch.randn(32)  # not a constant: LayerNorm would remove that
    changed = (block(x2) - block(x)).abs().amax(1)[0] > 1e-6  # (H, W)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[reach.start : reach.stop, reach.start : reach.stop] = True
    assert torch.equal(changed, expected)


def test_relative_position_bias_depends_only_on_the_offset():
    bias_layer = RelPosBias((3, 4), heads=2)
    assert bias_layer.table.shape == (5 * 7, 2)
    with torch.no_grad():
        bias_layer.table.copy_(torch.arange(70.0).reshape(35, 2))
    bias = bias_layer()  # (heads, 12, 12)

    def at(a: tuple[int, int], b: tuple[int, int]) -> float:
        return bias[1, a[0] * 4 + a[1], b[0] * 4 + b[1]].item()

    assert at((0, 0), (1, 2)) == at((1, 1), (2, 3))  # same offset (1, 2)
    assert at((0, 0), (1, 2)) != at((0, 0), (2, 1))


def test_relative_position_table_covers_the_global_map():
    block = make_block("attention", 64, 64, 2, (14, 14), head_dim=32, rel_pos="bias")
    assert block.attn.rel_pos.table.shape == ((2 * 7 - 1) ** 2, 2)


def test_attention_accepts_class_token_sequences():
    stem_cls = STEMS.get("patchify")
    options = defaults(stem_cls, patch=4, class_token=True, pos_embed="learned")
    stem = stem_cls(3, 32, input_size=(16, 16), **options)
    tokens = stem(torch.randn(2, 3, 16, 16))
    assert tokens.shape == (2, 1 + 16, 32)
    block = make_block("attention", 32, 32, 1, (4, 4), heads=4)
    assert run_and_backprop(block, tokens).shape == (2, 17, 32)
    wider = make_block("attention", 32, 64, 1, (4, 4), heads=4)
    assert wider(tokens).shape == (2, 17, 64)
    head_cls = HEADS.get("classifier")
    head = head_cls(32, 10, **defaults(head_cls, pool="token", norm="layer"))
    assert head(block(tokens)).shape == (2, 10)


def test_windowed_attention_rejects_tokens():
    block = make_block("attention", 32, 32, 1, (4, 4), heads=4, window=2)
    assert BLOCKS.get("attention").token_problems(stride=1, options={"window": 2}) != []
    with pytest.raises(SpaceError, match="needs a feature map"):
        block(torch.randn(2, 17, 32))


@pytest.mark.parametrize("name", STEMS.names())
@pytest.mark.parametrize("size", [(7, 7), (9, 15), (32, 32)])
def test_stem_output_matches_output_size(name, size):
    cls = STEMS.get(name)
    options = defaults(cls)
    stem = cls(3, 16, input_size=size, **options)
    y = stem(torch.randn(2, 3, *size))
    assert not cls.emits_tokens(options)
    assert y.shape == (2, 16, *cls.output_size(size, options))


@pytest.mark.parametrize(
    "options",
    [
        {"depth": 2, "final_norm": False, "stride": 1},
        {"depth": 3, "stride": 2, "bias": True, "norm": "layer"},
    ],
)
def test_conv_stem_options_keep_the_size(options):
    cls = STEMS.get("conv")
    full = defaults(cls, **options)
    y = cls(3, 8, input_size=(9, 9), **full)(torch.randn(2, 3, 9, 9))
    assert y.shape == (2, 8, *cls.output_size((9, 9), full))


@pytest.mark.parametrize("name", TRANSITIONS.names())
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("norm", NORMS)
def test_transition_output_matches_output_size(name, stride, norm):
    cls = TRANSITIONS.get(name)
    y = run_and_backprop(cls(16, 24, stride, norm=norm), torch.randn(2, 16, 7, 9))
    assert y.shape == (2, 24, *cls.output_size((7, 9), stride))
    assert y.shape[2:] == (math.ceil(7 / stride), math.ceil(9 / stride))


@pytest.mark.parametrize("name", HEADS.names())
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("pre_logits", [0, 12])
def test_head_gives_logits_from_maps_and_tokens(name, norm, pre_logits):
    cls = HEADS.get(name)
    head = cls(16, 10, **defaults(cls, norm=norm, pre_logits=pre_logits, dropout=0.1))
    assert run_and_backprop(head, torch.randn(2, 16, 3, 5)).shape == (2, 10)
    assert run_and_backprop(head, torch.randn(2, 7, 16)).shape == (2, 10)


def test_token_pooling_needs_a_class_token_stem():
    cls = HEADS.get("classifier")
    assert cls.check(in_chs=64, tokens=False, options=defaults(cls, pool="token")) != []
    assert cls.check(in_chs=64, tokens=True, options=defaults(cls, pool="token")) == []


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("channels", [3, 48, 64])
def test_norms_keep_shape_in_both_layouts(norm, channels):
    first = make_norm(norm, channels)(torch.randn(2, channels, 5, 5))
    last = make_norm(norm, channels, "channels_last")(torch.randn(2, 4, 5, channels))
    assert first.shape == (2, channels, 5, 5) and last.shape == (2, 4, 5, channels)


def test_layer_norm_is_the_same_in_both_layouts():
    x = torch.randn(2, 8, 3, 3)
    first = make_norm("layer", 8)(x)
    last = make_norm("layer", 8, "channels_last")(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    torch.testing.assert_close(first, last)


def test_group_norm_uses_gcd_groups():
    assert make_norm("group", 64).num_groups == 32
    assert make_norm("group", 48).num_groups == 16
    assert make_norm("group", 3).num_groups == 1


def test_unknown_names_suggest_the_closest():
    with pytest.raises(SpaceError, match="did you mean 'layer'"):
        make_norm("layr", 8)
    with pytest.raises(SpaceError, match="did you mean 'gelu'"):
        make_act("gelu2")
