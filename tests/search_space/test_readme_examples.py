"""The README's format reference is enough to write published networks: its zoo
examples, extracted by their markers, build to timm's parameter counts, and the Swin
example (with its epsilon) gives timm's logits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import yaml

from search_space import build_model, count_params
from search_space.sampling import architecture_from_space
from search_space.space import parse_space
from search_space.validate import validate_space

README = Path(__file__).resolve().parents[2] / "README.md"
# timm 1.0.31 `timm.create_model(NAME)` counts, as pinned in test_zoo.py.
TIMM_PARAMS = {
    "resnext50_32x4d": 25_028_904,
    "mobilenetv3_large_100": 5_483_032,
    "swin_tiny_patch4_window7_224": 28_288_354,
}


def readme_example(name: str) -> dict:
    pattern = rf"<!-- EXAMPLE {name} -->\s*```yaml\n(.*?)```"
    match = re.search(pattern, README.read_text(), re.DOTALL)
    assert match, f"README has no example marked {name}"
    return yaml.safe_load(match.group(1))


@pytest.mark.parametrize("name", sorted(TIMM_PARAMS))
def test_readme_example_builds_the_published_network(name):
    space = parse_space(readme_example(name), f"README:{name}")
    validate_space(space)
    with torch.device("meta"):
        model = build_model(architecture_from_space(space))
    assert count_params(model) == TIMM_PARAMS[name]


@pytest.mark.slow  # Swin-T at 224 on a CPU: ~10 s
def test_readme_swin_example_gives_timms_logits():
    from search_space.timm_names import convert_timm_state_dict
    from tests.search_space.test_timm_parity import perturbed_timm_model

    pytest.importorskip("timm")
    arch = architecture_from_space(parse_space(readme_example("swin_tiny_patch4_window7_224")))
    theirs = perturbed_timm_model("swin_tiny_patch4_window7_224")
    ours = build_model(arch).eval()
    ours.load_state_dict(convert_timm_state_dict(arch, theirs.state_dict()), strict=True)
    images = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        assert (ours.double()(images) - theirs.double()(images)).abs().max().item() < 1e-5
