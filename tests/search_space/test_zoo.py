"""The zoo reproduces the published architectures exactly, counted parameter by parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from search_space import build_model, count_params, load_architecture

ZOO = Path(__file__).resolve().parents[2] / "search_space" / "zoo"

# timm 1.0.31 `timm.create_model(NAME)` counts (reference/architectures.md); exact, not approximate.
PUBLISHED_PARAMS = {
    "resnet50": 25_557_032,  # resnet50
    "convnext_tiny": 28_589_128,  # convnext_tiny
    "vit_small_patch16": 22_050_664,  # vit_small_patch16_224
    "coatnet_0": 25_036_820,  # coatnet_0_224
    "resnet18": 11_689_512,  # resnet18
    "resnext50_32x4d": 25_028_904,  # resnext50_32x4d
    "mobilenetv3_large_100": 5_483_032,  # mobilenetv3_large_100
    "efficientnetv2_rw_t": 13_649_388,  # efficientnetv2_rw_t
    "resnetv2_50x1_bit": 25_549_352,  # resnetv2_50x1_bit
    "cait_xxs24_224": 11_956_264,  # cait_xxs24_224
    "swin_small_patch4_window7_224": 49_606_258,  # swin_small_patch4_window7_224
    "mixer_b16_224": 59_880_472,  # mixer_b16_224
    "poolformer_s12": 11_915_176,  # poolformer_s12
    "convnext_nano": 15_593_560,  # convnext_nano
    "efficientnet_b1": 7_794_184,  # efficientnet_b1
    "mobilenetv3_small_100": 2_542_856,  # mobilenetv3_small_100
    "regnetx_004": 5_157_512,  # regnetx_004
    "regnety_004": 4_344_144,  # regnety_004
    "deit_small_patch16_224": 22_050_664,  # deit_small_patch16_224
    "coatnet_1_rw_224": 41_721_502,  # coatnet_1_rw_224
}


@pytest.fixture(scope="module")
def zoo_models() -> dict[str, torch.nn.Module]:
    """Each zoo model built once for the module, on the meta device: shapes, no memory."""
    with torch.device("meta"):
        return {
            name: build_model(load_architecture(ZOO / f"{name}.yaml")) for name in PUBLISHED_PARAMS
        }


def test_every_zoo_file_cites_its_paper():
    for path in ZOO.glob("*.yaml"):
        comment = path.read_text().split("\nname:")[0]
        assert "20" in comment and "timm" in comment, path.name  # "(Author et al. 20xx)"


def test_every_zoo_file_has_a_pinned_count():
    assert sorted(p.stem for p in ZOO.glob("*.yaml")) == sorted(PUBLISHED_PARAMS)


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_zoo_model_has_the_published_parameter_count(zoo_models, name):
    assert count_params(zoo_models[name]) == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize(
    ("name", "stage_params"),
    [
        # CoAtNet-0's stages as timm counts them: the hybrid's conv and transformer halves.
        ("coatnet_0", [189_584, 1_084_752, 8_768_604, 13_594_032]),
        ("convnext_tiny", [237_888, 992_256, 11_112_960, 15_470_592]),
    ],
)
def test_zoo_stage_counts_match_timm(zoo_models, name, stage_params):
    stages = zoo_models[name].stages
    assert [count_params(stage) for stage in stages] == stage_params


def test_coatnet_runs_at_224():
    # Relative-position tables are sized for the 14x14 and 7x7 maps, so this is the one
    # resolution it runs at; one image keeps it to a few seconds on a CPU.
    model = build_model(load_architecture(ZOO / "coatnet_0.yaml")).eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 224, 224))
    assert logits.shape == (1, 1000)
    assert torch.isfinite(logits).all()
