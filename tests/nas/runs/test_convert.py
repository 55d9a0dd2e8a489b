"""Every registered component survives ONNX export (torch.onnx.export, dynamo=True) and
torch.export: onnxruntime and the reloaded program reproduce PyTorch's logits.

Cases come from the registries, so a newly registered block, stem, head or downsample is
exported here without editing this file; the variants add the options that change the
traced graph (Swin's shifted windows with a per-window mask, CaiT's talking heads and
class-attention head, CoAtNet's global relative-position bias, class token and learned
position embedding)."""

from __future__ import annotations

from typing import Any

import onnxruntime
import pytest
import torch

from nas.runs.convert import export_onnx, export_program
from search_space import build_model, load_architecture
from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS

INPUT = {"channels": 3, "resolution": 32, "classes": 10}
PROBE = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(11))
TOLERANCE = 1e-4


def _doc(name: str, stages: list[dict], stem: dict | None = None, head: dict | None = None):
    return {
        "name": name,
        "input": INPUT,
        "stem": stem or {"type": "conv", "width": 16, "stride": 2},
        "stages": stages,
        "head": head or {"type": "classifier", "pool": "avg"},
    }


def _block(name: str, **options: Any) -> dict[str, Any]:
    # Two blocks: the first changes width and stride (projection / downsample), the
    # second keeps them (identity shortcut). Width 32 gives attention one 32-wide head.
    return {"block": name, "depth": 2, "width": 32, "stride": 2, **options}


def _cases() -> dict[str, dict]:
    cases = {f"block-{b}": _doc(b, [_block(b)]) for b in BLOCKS.names()}
    cases |= {
        f"stem-{s}": _doc(s, [_block("conv")], stem={"type": s, "width": 16}) for s in STEMS.names()
    }
    cases |= {
        f"downsample-{t}": _doc(t, [_block("conv", downsample=t, stride=2)])
        for t in TRANSITIONS.names()
    }
    cases |= {
        f"head-{h}": _doc(h, [_block("attention", stride=1)], head={"type": h})
        for h in HEADS.names()
    }
    patch = {"type": "patchify", "width": 32, "patch": 4, "norm": "layer"}
    swin = {"heads": 2, "head_dim": None, "window": 4, "shift": True, "rel_pos": "bias"}
    cases["swin-shifted-windows"] = _doc(
        "swin",
        [
            _block("attention", stride=1, **swin),
            _block("attention", downsample="patch_merge", width=64, **swin),
        ],
        stem=patch,
        head={"type": "classifier", "norm": "layer", "norm_position": "map", "pool": "avg"},
    )
    cases["cait-talking-heads"] = _doc(
        "cait",
        [
            _block(
                "attention", stride=1, heads=2, head_dim=None, talking_heads=True, layer_scale=1e-5
            )
        ],
        stem={**patch, "class_token": False, "pos_embed": "learned"},
        head={"type": "class_attention", "depth": 2, "heads": 2},
    )
    cases["coatnet-global-rel-pos"] = _doc(
        "coatnet",
        [
            _block("mbconv", se=0.25, norm_position="pre"),
            _block("attention", downsample="pool", rel_pos="bias"),
        ],
    )
    cases["vit-class-token"] = _doc(
        "vit",
        [_block("attention", stride=1, heads=2, head_dim=None)],
        stem={**patch, "class_token": True, "pos_embed": "learned"},
        head={"type": "classifier", "pool": "token", "norm": "layer"},
    )
    return cases


CASES = _cases()


def _model(document: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(load_architecture(document)).eval()
    # Non-trivial norm statistics, so a wrong running mean/var would show in the logits.
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model


def test_every_registered_component_has_a_case():
    names = " ".join(CASES)
    for registry, prefix in (
        (BLOCKS, "block"),
        (STEMS, "stem"),
        (HEADS, "head"),
        (TRANSITIONS, "downsample"),
    ):
        assert all(f"{prefix}-{name}" in names for name in registry.names())


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_onnx_export_matches_pytorch(case, tmp_path):
    model = _model(CASES[case])
    check = export_onnx(model, (3, 32, 32), tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(
        str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    (ours,) = session.run(None, {"input": PROBE.numpy()})  # batch 4: exported with 2
    with torch.inference_mode():
        expected = model(PROBE)
    assert ours.shape == (4, 10)
    assert float((torch.from_numpy(ours) - expected).abs().max()) < TOLERANCE
    assert expected.abs().max() > 1e-3  # logits that are not all zero: the check means something
    assert check["checked"] and check["max_abs_diff"] < TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_export_program_matches_pytorch(case, tmp_path):
    model = _model(CASES[case])
    export_program(model, (3, 32, 32), tmp_path / "model.pt2")
    loaded = torch.export.load(str(tmp_path / "model.pt2")).module()
    with torch.inference_mode():
        assert torch.allclose(loaded(PROBE), model(PROBE), atol=1e-5, rtol=0)
