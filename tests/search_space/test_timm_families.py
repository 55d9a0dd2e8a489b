"""timm weights for members of each family that the zoo does not hold: the architecture
is written here as a user would write it, timm's model (seeded random weights) is
converted through the family's rules, and the logits agree within 1e-5 in float64.

Convnets run at 64x64 (same weights, faster on a CPU); the transformers are built at
64x64 on both sides where timm allows it (`img_size`), Swin at its 224.
"""

from __future__ import annotations

import pytest
import torch
import yaml

from search_space import build_model, count_params, load_architecture
from search_space.errors import SpaceError
from search_space.timm_names import convert_timm_state_dict, timm_family
from tests.search_space.test_timm_parity import perturbed_timm_model

timm = pytest.importorskip("timm")


def architecture(resolution: int, stem: str, stages: list[str], head: str) -> dict:
    text = (
        f"name: custom\ninput: {{channels: 3, resolution: {resolution}, classes: 1000}}\n"
        f"stem: {stem}\nstages:\n"
        + "".join(f"  - {{{row}}}\n" for row in stages)
        + f"head: {head}\n"
    )
    return yaml.safe_load(text)


def rows(block: str, depths, widths, strides, options: str) -> list[str]:
    return [
        f"block: {block}, depth: {d}, width: {w}, stride: {s}, {options}"
        for d, w, s in zip(depths, widths, strides, strict=True)
    ]


MOBILE = "expansion_from: input, skip: identity"
CASES = {
    # family, timm model, timm kwargs, our architecture
    "resnet34": ("resnet", {}, architecture(
        64, "{type: resnet, width: 64}",
        rows("resnet", [3, 4, 6, 3], [64, 128, 256, 512], [1, 2, 2, 2], "kernel: 3"),
        "{pool: avg}")),
    "resnet26": ("resnet", {}, architecture(
        64, "{type: resnet, width: 64}",
        rows("bottleneck", [2, 2, 2, 2], [256, 512, 1024, 2048], [1, 2, 2, 2], "expansion: 4"),
        "{pool: avg}")),
    "regnetx_002": ("regnet", {}, architecture(
        64, "{type: conv, width: 32, stride: 2}",
        rows("bottleneck", [1, 1, 4, 7], [24, 56, 152, 368], [2, 2, 2, 2],
             "expansion: 1, group_width: 8"),
        "{pool: avg}")),
    "mobilenetv2_100": ("efficientnet", {}, architecture(
        64, "{type: conv, width: 32, stride: 2, act: relu6}",
        [f"block: mbconv, depth: {d}, width: {w}, stride: {s}, expansion: {e}, divisor: 8, "
         f"se: 0, act: relu6, {MOBILE}"
         for d, w, s, e in [(1, 16, 1, 1), (2, 24, 2, 6), (3, 32, 2, 6), (4, 64, 2, 6),
                            (3, 96, 1, 6), (3, 160, 2, 6), (1, 320, 1, 6)]],
        "{conv: 1280, norm: batch, act: relu6, pool: avg}")),
    "efficientnet_b0": ("efficientnet", {}, architecture(
        64, "{type: conv, width: 32, stride: 2, act: silu}",
        [f"block: mbconv, depth: {d}, width: {w}, stride: {s}, kernel: {k}, "
         f"expansion: {1 if w == 16 else 6}, se: 0.25, se_from: input, {MOBILE}"
         for d, w, s, k in [(1, 16, 1, 3), (2, 24, 2, 3), (2, 40, 2, 5), (3, 80, 2, 3),
                            (3, 112, 1, 5), (4, 192, 2, 5), (1, 320, 1, 3)]],
        "{conv: 1280, norm: batch, act: silu, pool: avg}")),
    # MobileNetV3-Small at width 0.75: widths rounded to 8 (24 x 0.75 = 18 -> 24), a
    # depthwise-separable first block with squeeze-excite, and timm's 1x1 head conv.
    "mobilenetv3_small_075": ("efficientnet", {}, architecture(
        64, "{type: conv, width: 16, stride: 2, act: hard_swish}",
        [f"block: mbconv, depth: {d}, width: {w}, stride: {s}, kernel: {k}, expansion: {e}, "
         f"divisor: 8, act: {a}, {MOBILE}, "
         + ("se: 0.25, se_from: expanded, se_act: relu, se_gate: hard_sigmoid" if se else "se: 0")
         for d, w, s, k, e, se, a in [
             (1, 16, 2, 3, 1, True, "relu"), (1, 24, 2, 3, 4.5, False, "relu"),
             (1, 24, 1, 3, 3.67, False, "relu"), (1, 32, 2, 5, 4, True, "hard_swish"),
             (2, 32, 1, 5, 6, True, "hard_swish"), (2, 40, 1, 5, 3, True, "hard_swish"),
             (3, 72, 2, 5, 6, True, "hard_swish")]],
        "{conv: 432, norm: batch, act: hard_swish, pre_logits: 1024, pre_logits_act: hard_swish}")),
    "resnetv2_101x1_bit": ("bit", {}, architecture(
        64, "{type: resnet, width: 64, norm: none, act: none, bias: false, weight_std: true, "
        "pool_pad: zero}",
        rows("preact_bottleneck", [3, 4, 23, 3], [256, 512, 1024, 2048], [1, 2, 2, 2],
             "expansion: 4"),
        "{norm: group, norm_position: map, act: relu, pool: avg}")),
    "convnext_atto": ("convnext", {}, architecture(
        64, "{type: patchify, width: 40, patch: 4, norm: layer}",
        rows("convnext", [2, 2, 6, 2], [40, 80, 160, 320], [1, 2, 2, 2],
             "downsample: norm_conv"),
        "{pool: avg, norm: layer}")),
    "poolformer_s24": ("poolformer", {}, architecture(
        64, "{type: patchify, width: 64, patch: 4, kernel: 7}",
        rows("poolformer", [4, 4, 12, 4], [64, 128, 320, 512], [1, 2, 2, 2],
             "downsample: conv"),
        "{norm: layer, pool: avg}")),
    "deit_tiny_patch16_224": ("vit", {"img_size": 64}, architecture(
        64, "{type: patchify, width: 192, patch: 16, class_token: true, pos_embed: learned}",
        ["block: attention, depth: 12, width: 192, heads: 3"],
        "{pool: token, norm: layer}")),
    "cait_xxs36_224": ("cait", {"img_size": 64}, architecture(
        64, "{type: patchify, width: 192, patch: 16, pos_embed: learned}",
        ["block: attention, depth: 36, width: 192, heads: 4, talking_heads: true, "
         "layer_scale: 1.0e-5"],
        "{type: class_attention, depth: 2, heads: 4}")),
    "mixer_s16_224": ("mixer", {"img_size": 64}, architecture(
        64, "{type: patchify, width: 512, patch: 16}",
        ["block: mixer, depth: 8, width: 512"],
        "{norm: layer, norm_position: map, pool: avg}")),
    "coatnet_1_224": ("coatnet", {"img_size": 64}, architecture(
        64, "{type: conv, width: 64, depth: 2, act: gelu, final_norm: false}",
        rows("mbconv", [2, 6], [96, 192], [2, 2],
             "downsample: pool, expansion: 4, act: gelu, norm_position: pre")
        + rows("attention", [14, 2], [384, 768], [2, 2], "downsample: pool, rel_pos: bias"),
        "{norm: layer, pre_logits: 768}")),
    # The RW keys in another combination: squeeze-excite (SiLU) after the norm, and
    # biased transformer shortcuts.
    "coatnet_2_rw_224": ("coatnet", {"img_size": 64}, architecture(
        64, "{type: conv, width: 128, hidden_width: 64, depth: 2, act: silu, final_norm: false}",
        rows("mbconv", [2, 6], [128, 256], [2, 2],
             "downsample: pool, expansion: 4, expansion_from: input, se_from: expanded, "
             "norm_position: pre, pre_norm_act: true, proj_bias: false, shortcut_bias: false")
        + rows("attention", [14, 2], [512, 1024], [2, 2],
               "downsample: pool, rel_pos: bias, widen: proj"),
        "{norm: layer, norm_position: map}")),
    "swin_tiny_patch4_window7_224": ("swin", {}, architecture(
        224, "{type: patchify, width: 96, patch: 4, norm: layer, norm_eps: 1.0e-5}",
        [f"block: attention, depth: {d}, width: {w}, stride: {1 if w == 96 else 2}, "
         f"downsample: patch_merge, heads: {w // 32}, window: 7, shift: true, rel_pos: bias, "
         "norm_eps: 1.0e-5"
         for d, w in [(2, 96), (2, 192), (6, 384), (2, 768)]],
        "{norm: layer, norm_eps: 1.0e-5, norm_position: map, pool: avg}")),
}  # fmt: skip
FAST = {"resnet34", "resnet26", "regnetx_002", "mobilenetv2_100", "efficientnet_b0",
        "mobilenetv3_small_075",
        "convnext_atto", "deit_tiny_patch16_224", "mixer_s16_224"}  # fmt: skip


def case(name: str):
    return name if name in FAST else pytest.param(name, marks=pytest.mark.slow)


@pytest.mark.parametrize("timm_name", [case(name) for name in CASES])
def test_a_family_member_outside_the_zoo_takes_timm_weights(timm_name):
    family, kwargs, document = CASES[timm_name]
    arch = load_architecture(document)
    assert timm_family(arch) == family
    theirs = perturbed_timm_model(timm_name, **kwargs)
    ours = build_model(arch).eval()
    ours.load_state_dict(convert_timm_state_dict(arch, theirs.state_dict()), strict=True)
    assert count_params(ours) == count_params(theirs)
    size = arch.input.resolution
    images = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = theirs.double()(images.double())
        logits = ours.double()(images.double())
    assert (logits - expected).abs().max().item() < 1e-5
    assert expected.abs().max().item() > 0.01  # the check compares real outputs


def test_a_member_with_other_depths_names_the_keys_that_differ():
    """ResNet-34's file given ResNet-18's checkpoint: the blocks timm lacks are named."""
    arch = load_architecture(CASES["resnet34"][2])
    state = timm.create_model("resnet18", pretrained=False).state_dict()
    with pytest.raises(SpaceError, match=r"missing keys \['stages\.0\.2\.") as error:
        convert_timm_state_dict(arch, state)
    assert "\n" not in str(error.value) and "'custom'" in str(error.value)


def test_an_architecture_of_no_timm_family_is_refused_in_one_line():
    arch = load_architecture(
        architecture(
            32,
            "{type: conv, width: 16}",
            ["block: convnext, depth: 1, width: 16", "block: attention, depth: 1, width: 32"],
            "{pool: avg}",
        )
    )
    with pytest.raises(SpaceError, match=r"no timm name map for architecture 'custom'"):
        convert_timm_state_dict(arch, {})
