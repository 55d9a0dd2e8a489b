"""Every zoo model is timm's model, layer for layer: with timm's (random) weights copied in
through the name map, the parameter counts are equal, the logits agree within 1e-5 and
fvcore counts the same FLOPs (within 1%)."""

from __future__ import annotations

import pytest
import torch

from evaluators.flops import count_flops
from search_space import build_model, count_params, load_architecture
from search_space.errors import SpaceError
from search_space.timm_names import TIMM_NAMES, convert_timm_state_dict

timm = pytest.importorskip("timm")

# Resolution of the logits check: convnets run smaller (same weights, faster on a CPU);
# position embeddings, token MLPs and bias tables fix the transformers at 224.
LOGIT_RESOLUTION = {
    "resnet18": 64,
    "resnet50": 64,
    "resnext50_32x4d": 64,
    "resnetv2_50x1_bit": 64,
    "mobilenetv3_large_100": 96,
    "efficientnetv2_rw_t": 64,
    "convnext_tiny": 64,
    "poolformer_s12": 64,
    "vit_small_patch16": 224,
    "cait_xxs24_224": 224,
    "swin_small_patch4_window7_224": 224,
    "mixer_b16_224": 224,
    "coatnet_0": 224,
    "convnext_nano": 64,
    "efficientnet_b1": 64,
    "mobilenetv3_small_100": 64,
    "regnetx_004": 64,
    "regnety_004": 64,
    "deit_small_patch16_224": 224,
    "coatnet_1_rw_224": 224,
}
# A few seconds each.
FAST = {"resnet18", "mobilenetv3_large_100", "mobilenetv3_small_100", "regnety_004"}


def zoo_case(name: str):
    return name if name in FAST else pytest.param(name, marks=pytest.mark.slow)


def perturbed_timm_model(name: str, **timm_kwargs) -> torch.nn.Module:
    """timm's model (a zoo name, or timm's own name) with seeded random weights, every
    tensor moved off its init value (norm scales 1, biases 0, running stats 0/1 and layer
    scales 1e-5 would hide swaps)."""
    torch.manual_seed(0)
    model = timm.create_model(TIMM_NAMES.get(name, name), pretrained=False, **timm_kwargs)
    model.eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if key.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
            else:
                tensor.add_(torch.randn(tensor.shape, generator=generator) * 0.02)
    return model


def ours_with_timm_weights(name: str, theirs: torch.nn.Module) -> torch.nn.Module:
    ours = build_model(load_architecture(name)).eval()
    ours.load_state_dict(convert_timm_state_dict(name, theirs.state_dict()), strict=True)
    return ours


def test_every_zoo_model_has_a_parity_case():
    from search_space.loader import BUNDLED_DIRS

    assert sorted(p.stem for p in BUNDLED_DIRS["zoo"].glob("*.yaml")) == sorted(LOGIT_RESOLUTION)


@pytest.mark.parametrize("name", [zoo_case(name) for name in sorted(LOGIT_RESOLUTION)])
def test_zoo_model_equals_timm(name):
    theirs = perturbed_timm_model(name)
    ours = ours_with_timm_weights(name, theirs)
    assert count_params(ours) == count_params(theirs)

    size = LOGIT_RESOLUTION[name]
    images = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = theirs.double()(images.double())
        logits = ours.double()(images.double())
    assert (logits - expected).abs().max().item() < 1e-5
    assert expected.abs().max().item() > 0.01  # the check compares real outputs

    resolution = load_architecture(name).input.resolution
    shape = (3, resolution, resolution)
    ours_flops = count_flops(ours.float(), shape)["flops"]
    timm_flops = count_flops(theirs.float(), shape)["flops"]
    assert ours_flops == pytest.approx(timm_flops, rel=0.01)


def test_missing_and_unexpected_keys_are_named_in_one_line():
    state = timm.create_model("resnet18", pretrained=False).state_dict()
    state.pop("fc.bias")
    state["layer9.0.conv1.weight"] = torch.zeros(1)
    with pytest.raises(
        SpaceError, match=r"1 unexpected keys \['layer9.*1 missing keys \['head.fc.bias'"
    ) as error:
        convert_timm_state_dict("resnet18", state)
    assert "\n" not in str(error.value)


def test_a_checkpoint_of_another_model_is_refused():
    state = timm.create_model("resnet18", pretrained=False).state_dict()
    with pytest.raises(SpaceError, match="does not match architecture 'resnet50'"):
        convert_timm_state_dict("resnet50", state)


def test_the_readme_names_each_zoo_files_timm_model():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, timm_name in TIMM_NAMES.items():
        assert f"| `{name}` | `{timm_name}` |" in readme, name
