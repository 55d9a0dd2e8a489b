"""`nas validate`, `nas sample` and `nas info` as a user runs them."""

import yaml

from search_space import load_architecture


def test_validate_prints_size_of_the_bundled_demo(nas):
    result = nas("validate", "demo", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["valid"] is True
    assert report["architectures"] == 3 * (6 * 20) * (6 * 12)
    assert "stages[1].heads" in report["free_parameters"]


def test_validate_bad_file_exits_2_with_one_line_per_problem(nas, write_space):
    path = write_space(
        {
            "name": "x",
            "input": {"channels": 1, "resolution": 28, "classes": 10},
            "stem": {"type": "conv", "width": 8},
            "stages": [{"block": "resnet", "depth": 1, "width": 8, "kernal": 3}],
        }
    )
    result = nas("validate", path)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "stages[0].kernal" in lines[0] and "did you mean 'kernel'" in lines[0]
    assert "Traceback" not in result.err


def test_sample_yaml_loads_back_as_an_architecture(nas, tmp_path):
    result = nas("sample", "demo", "--seed", "3")
    assert result.code == 0, result.err
    assert result.out.startswith("# ")  # summary and counts ride along as YAML comments
    path = tmp_path / "arch.yaml"
    path.write_text(result.out)
    arch = load_architecture(path)
    info = nas("info", path, "--json")
    assert info.code == 0, info.err
    assert info.json()["summary"] == arch.summary()


def test_sample_json_is_one_document_with_counts(nas):
    result = nas("sample", "demo", "--count", "3", "--seed", "1", "--json")
    assert result.code == 0, result.err
    samples = result.json()
    assert len(samples) == 3
    for sample in samples:
        assert sample["params"] > 1000 and sample["flops"] > 1e5
        assert load_architecture(sample["architecture"]).summary() == sample["summary"]


def test_info_rejects_a_space_that_still_has_choices(nas):
    result = nas("info", "demo")
    assert result.code == 2
    assert "still offer a choice" in result.err and "nas sample" in result.err


def test_info_reports_params_per_stage_summing_to_total(nas):
    result = nas("info", "resnet50", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["params"] == 25_557_032
    assert sum(row["params"] for row in report["stages"].values()) == report["params"]
    assert set(report["stages"]) == {"stem", "stages.0", "stages.1", "stages.2", "stages.3", "head"}


def test_info_at_another_resolution_scales_flops(nas):
    base = nas("info", "resnet50", "--json").json()
    small = nas("info", "resnet50", "--resolution", "112", "--json").json()
    assert small["params"] == base["params"]
    assert 0.2 < small["flops"] / base["flops"] < 0.3  # a quarter of the pixels


def test_sample_of_zoo_file_returns_it_unchanged(nas):
    result = nas("sample", "convnext_tiny", "--no-flops")
    assert result.code == 0, result.err
    document = yaml.safe_load(result.out)
    assert document["stages"][2]["depth"] == 9
