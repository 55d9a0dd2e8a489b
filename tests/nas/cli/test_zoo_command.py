"""`nas zoo`: listing, one model, and converting a local timm checkpoint into our weights."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from search_space import build_model, load_architecture
from tests.search_space.test_timm_parity import perturbed_timm_model


def test_zoo_name_prints_file_and_counts(nas):
    result = nas("zoo", "mobilenetv3_large_100", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["params"] == 5_483_032  # timm's count
    assert report["file"].endswith("zoo/mobilenetv3_large_100.yaml")
    assert "Howard et al. 2019" in report["paper"]


@pytest.mark.slow
def test_zoo_lists_every_model(nas):
    result = nas("zoo", "--json")
    assert result.code == 0, result.err
    rows = {row["name"]: row for row in result.json()["models"]}
    assert len(rows) >= 18
    assert rows["resnet50"]["params"] == 25_557_032


def test_timm_checkpoint_converts_to_weights_with_the_same_logits(nas, tmp_path):
    theirs = perturbed_timm_model("resnet18")
    checkpoint, output = tmp_path / "timm.safetensors", tmp_path / "ours.safetensors"
    save_file({k: v.contiguous() for k, v in theirs.state_dict().items()}, checkpoint)
    result = nas("zoo", "resnet18", "--timm-weights", str(checkpoint), "--output", str(output))
    assert result.code == 0, result.err
    ours = build_model(load_architecture("resnet18")).eval()
    ours.load_state_dict(load_file(output), strict=True)
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (ours(images) - theirs(images)).abs().max().item() < 1e-5


def test_timm_checkpoint_converts_for_the_users_own_architecture(nas, tmp_path):
    """ResNet-34 is not in the zoo: the user's file names the architecture."""
    theirs = perturbed_timm_model("resnet34")
    checkpoint, output = tmp_path / "timm.safetensors", tmp_path / "ours.safetensors"
    save_file({k: v.contiguous() for k, v in theirs.state_dict().items()}, checkpoint)
    arch_file = tmp_path / "my_resnet34.yaml"
    arch_file.write_text(
        "name: my_resnet34\n"
        "input: {channels: 3, resolution: 224, classes: 1000}\n"
        "stem: {type: resnet, width: 64}\n"
        "stages:\n"
        + "".join(
            f"  - {{block: resnet, depth: {d}, width: {w}, stride: {s}}}\n"
            for d, w, s in [(3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2)]
        )
    )
    result = nas(
        "zoo", "--timm-weights", checkpoint, "--arch", arch_file, "--output", output, "--json"
    )
    assert result.code == 0, result.err
    assert result.json()["name"] == "my_resnet34"
    ours = build_model(load_architecture(arch_file)).eval()
    ours.load_state_dict(load_file(output), strict=True)
    images = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert (ours(images) - theirs(images)).abs().max().item() < 1e-5


def test_checkpoint_of_another_model_exits_2(nas, tmp_path):
    checkpoint = tmp_path / "timm.safetensors"
    state = perturbed_timm_model("resnet18").state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, checkpoint)
    out = tmp_path / "o.safetensors"
    result = nas("zoo", "resnet50", "--timm-weights", str(checkpoint), "--output", str(out))
    assert result.code == 2
    assert "does not match architecture 'resnet50'" in result.err
    assert not out.exists()


def test_missing_or_pickled_checkpoint_exits_2(nas, tmp_path):
    pickled = tmp_path / "model.pth"
    torch.save({"w": torch.zeros(1)}, pickled)
    out = str(tmp_path / "o.safetensors")
    missing = nas("zoo", "resnet18", "--timm-weights", str(tmp_path / "no"), "--output", out)
    assert missing.code == 2 and "no such file" in missing.err
    result = nas("zoo", "resnet18", "--timm-weights", str(pickled), "--output", out)
    assert result.code == 2 and "is not a safetensors file" in result.err


def test_info_shows_each_stage_like_the_papers_table(nas):
    report = nas("info", "resnet18", "--json").json()
    stages = report["stages"]
    assert stages["stem"]["resolution"] == [56, 56]
    assert stages["stem"]["stride"] == 4  # 7x7/2 conv, 3x3/2 max pool
    assert [stages[f"stages.{i}"]["resolution"] for i in range(4)] == [
        [56, 56],
        [28, 28],
        [14, 14],
        [7, 7],
    ]
    assert [stages[f"stages.{i}"]["width"] for i in range(4)] == [64, 128, 256, 512]
    assert {stages[f"stages.{i}"]["block"] for i in range(4)} == {"resnet"}
