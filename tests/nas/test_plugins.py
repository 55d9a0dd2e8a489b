"""Plug-ins: a user's block, dataset and evaluator from a module written to a folder."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = textwrap.dedent(
    '''
    from typing import ClassVar

    from torch import nn

    from evaluators.datasets import RawData, Split, register_dataset
    from search_space.component import Block
    from search_space.layers.acts import make_act
    from search_space.options import Option, act_option
    from search_space.registry import register_block


    @register_block("twin_conv")
    class TwinConv(Block):
        """Two 3x3 convs with a residual; the first carries the stride."""

        OPTIONS: ClassVar[dict[str, Option]] = {"act": act_option("relu")}

        def __init__(self, in_chs, out_chs, stride=1, *, input_size, index=0,
                     shortcut="conv", act):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(in_chs, out_chs, 3, stride, 1), make_act(act),
                nn.Conv2d(out_chs, out_chs, 3, 1, 1),
            )
            self.skip = nn.Conv2d(in_chs, out_chs, 1, stride)

        def forward(self, x):
            return self.body(x) + self.skip(x)


    def score(model, data, config):
        weights = sum(p.numel() for p in model.parameters())
        return {"kparams": weights / 1000.0, "stages": float(len(config.arch.stages))}
    '''
)


def _space(plugins: list[str], objectives: dict[str, str] | None = None) -> dict:
    return {
        "name": "plugged",
        "plugins": plugins,
        "input": {"channels": 1, "resolution": 28, "classes": 10},
        "stem": {"type": "conv", "width": 8},
        "stages": [{"block": "twin_conv", "depth": 1, "width": [8, 16], "stride": 2}],
        "head": {"pool": "avg"},
        "data": {"name": "mnist5k", "limit": 300, "augment": False},
        "train": {"epochs": 1, "batch_size": 64},
        "search": {"objectives": objectives or {"accuracy": "max", "flops": "min"}},
    }


@pytest.fixture(autouse=True)
def _registries_restored():
    """A plug-in imported by a test registers into the process-wide registries; put them
    back afterwards, so later tests see only the bundled components."""
    from evaluators.datasets.registered import REGISTERED
    from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS

    registries = (BLOCKS, HEADS, STEMS, TRANSITIONS)
    saved = [dict(registry._entries) for registry in registries]
    saved_datasets = dict(REGISTERED)
    yield
    for registry, entries in zip(registries, saved):
        registry._entries = entries
    REGISTERED.clear()
    REGISTERED.update(saved_datasets)


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plugs"
    folder.mkdir()
    name = f"twin_{tmp_path.name.replace('-', '_')}"  # one module name per test: no clash
    (folder / f"{name}.py").write_text(PLUGIN.replace('"twin_conv"', f'"{name}"'))
    return folder


def _module(plugin_dir: Path) -> str:
    return next(plugin_dir.glob("*.py")).stem


def test_a_missing_plugin_is_one_line_and_exit_2(nas, write_space) -> None:
    path = write_space(_space(["no_such_plugin_mod"]))
    result = nas("validate", path)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines == [
        f"nas validate: error: {path}: plugins: cannot import 'no_such_plugin_mod' "
        "(ModuleNotFoundError: No module named 'no_such_plugin_mod'): "
        "put it on PYTHONPATH or next to the space file"
    ]


def test_a_plugin_block_is_validated_and_counted_like_a_bundled_one(nas, plugin_dir: Path) -> None:
    module = _module(plugin_dir)
    document = _space([f"{module}.py"])
    document["stages"][0]["block"] = module
    space = plugin_dir / "space.yaml"
    space.write_text(yaml.safe_dump(document))
    result = nas("validate", space)
    assert result.code == 0, result.err
    assert "2 architectures" in result.out  # width [8, 16]
    from search_space import build_model, load_space, sample_architectures

    arch = sample_architectures(load_space(space), 1, seed=0)[0]
    width = arch.stages[0].width
    block = build_model(arch).stages[0][0]  # the plug-in's class, built by our builder
    assert type(block).__module__ == module
    # conv 3x3 8->w, conv 3x3 w->w, skip 1x1 8->w, each with a bias: counted by hand
    by_hand = (8 * 9 * width + width) + (width * 9 * width + width) + (8 * width + width)
    assert sum(p.numel() for p in block.parameters()) == by_hand


def test_reloading_a_model_whose_plugin_is_missing_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "arch.yaml").write_text(
        yaml.safe_dump({**_space(["gone_plugin_mod"]), "search": None})
    )
    (folder / "weights.safetensors").write_bytes(b"")
    code = f"import nas\nnas.load_model({str(folder)!r}, plugins=['gone_plugin_mod'])"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    last = result.stderr.strip().splitlines()[-1]
    assert "this model needs the plug-in 'gone_plugin_mod'" in last
    assert "put its folder on PYTHONPATH" in last


def test_a_user_objective_must_name_a_function_that_exists(nas, plugin_dir: Path) -> None:
    module = _module(plugin_dir)
    document = _space([module], {"accuracy": "max", f"{module}:scor.kparams": "min"})
    document["stages"][0]["block"] = module
    space = plugin_dir / "space.yaml"
    space.write_text(yaml.safe_dump(document))
    result = nas("validate", space)
    assert result.code == 2
    assert f"{module} has no function 'scor' (did you mean 'score'?)" in result.err


@pytest.mark.slow
def test_search_export_and_reload_in_a_fresh_process(nas, plugin_dir: Path) -> None:
    module = _module(plugin_dir)
    objective = f"{module}:score.kparams"
    document = _space([module], {"accuracy": "max", objective: "min"})
    document["stages"][0]["block"] = module
    space = plugin_dir / "space.yaml"
    space.write_text(yaml.safe_dump(document))
    run_dir = plugin_dir.parent / "run"
    result = nas("search", space, "--trials", "2", "--output", run_dir, "--no-plots", "--json")
    assert result.code == 0, result.err
    table = __import__("pandas").read_csv(run_dir / "trials.csv")
    assert list(table["state"]) == ["complete", "complete"]
    # the evaluator's value is the model's parameter count / 1000, counted independently
    assert (table[objective] * 1000).round().tolist() == table["params"].round().tolist()
    # Two trials on a few digits may learn nothing: the round trip is what is tested here.
    exported = nas(
        "export", run_dir, "--pick", "best-accuracy", "--format", "safetensors", "--include-chance"
    )
    assert exported.code == 0, exported.err
    folder = next((run_dir / "export").iterdir())
    assert yaml.safe_load((folder / "arch.yaml").read_text())["plugins"] == [module]
    import nas as api

    torch.manual_seed(0)
    images = torch.randn(4, 1, 28, 28)
    expected = api.load_model(folder)(images)
    code = (
        "import json, sys, torch, nas\n"
        f"torch.manual_seed(0); x = torch.randn(4, 1, 28, 28)\n"
        f"print(json.dumps(nas.load_model({str(folder)!r}, plugins=[{module!r}])(x).tolist()))"
    )
    env = {"PYTHONPATH": f"{ROOT}:{plugin_dir}", "PATH": "/usr/bin:/bin"}
    fresh = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert fresh.returncode == 0, fresh.stderr
    assert torch.equal(torch.tensor(json.loads(fresh.stdout)), expected.detach())


def _register_floor_pool_transition() -> type:
    """A transition registered by the test: average pool (floor size, unlike every bundled
    transition's ceil) and a 1x1 conv with bias."""
    from torch import nn

    from search_space.component import Transition
    from search_space.registry import register_transition

    @register_transition("floor_pool")
    class FloorPool(Transition):
        def __init__(self, in_chs, out_chs, stride, *, norm, eps=None):
            super().__init__()
            self.pool = nn.AvgPool2d(stride)  # floor(H / stride), no padding
            self.proj = nn.Conv2d(in_chs, out_chs, 1)

        @classmethod
        def output_size(cls, input_size, stride):
            return (input_size[0] // stride, input_size[1] // stride)

        def forward(self, x):
            return self.proj(self.pool(x))

    return FloorPool


def test_a_plugin_transition_validates_counts_and_builds(nas, write_space) -> None:
    document = {
        "name": "floored",
        "input": {"channels": 1, "resolution": 28, "classes": 10},
        "stem": {"type": "conv", "width": 8, "stride": 1},
        "stages": [
            {"block": "resnet", "depth": 1, "width": 16, "stride": 3, "downsample": "floor_pool"},
        ],
    }
    path = write_space(document)
    unknown = nas("validate", path)
    assert unknown.code == 2 and "unknown mode 'floor_pool'" in unknown.err
    transition = _register_floor_pool_transition()
    result = nas("validate", path)
    assert result.code == 0, result.err
    misspelt = nas(
        "validate",
        write_space(
            {**document, "stages": [{**document["stages"][0], "downsample": "floor_pol"}]},
            "misspelt.yaml",
        ),
    )
    assert "did you mean 'floor_pool'?" in misspelt.err  # the choices come from the registry

    from search_space import build_model, load_space, sample_architectures
    from search_space.feature_sizes import architecture_sizes

    arch = sample_architectures(load_space(path), 1, seed=0)[0]
    model = build_model(arch)
    layer = model.stages[0][0]
    assert type(layer) is transition
    assert sum(p.numel() for p in layer.parameters()) == 8 * 16 + 16  # 1x1 conv 8->16, bias
    # 28 // 3 = 9 (the bundled ceil would say 10): the counted size is the plug-in's own
    assert architecture_sizes(arch) == [(28, 28), (9, 9)]
    features = model.forward_features(torch.zeros(1, 1, 28, 28))
    assert tuple(features.shape) == (1, 16, 9, 9)


def test_a_sampled_plugin_architecture_names_its_plugin_and_reloads_elsewhere(
    nas, plugin_dir: Path
) -> None:
    module = _module(plugin_dir)
    document = _space([f"{module}.py"])
    document["stages"][0]["block"] = module
    space = plugin_dir / "space.yaml"
    space.write_text(yaml.safe_dump(document))
    result = nas("sample", space, "--seed", "3", "--no-flops")
    assert result.code == 0, result.err
    printed = yaml.safe_load(result.out)
    assert printed["plugins"] == [module]
    sampled = plugin_dir / "sampled.yaml"
    sampled.write_text(result.out)
    params = int(result.out.split("# params: ")[1].split(" ")[0].replace(",", ""))
    # A fresh process has not imported the plug-in: only `plugins:` can make this load.
    code = (
        "from search_space import build_model, count_params, load_architecture\n"
        f"print(count_params(build_model(load_architecture({str(sampled)!r}))))"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    fresh = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert fresh.returncode == 0, fresh.stderr
    assert int(fresh.stdout) == params
    as_json = nas("sample", space, "--seed", "3", "--no-flops", "--json").json()
    assert as_json[0]["architecture"]["plugins"] == [module]
