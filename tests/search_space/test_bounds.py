"""Every number a space file holds is typed, finite and bounded; the model as a whole is
capped by `limits:`; each problem is reported once and all of them at once."""

import pytest

from evaluators.config import DataConfig, TrainConfig
from search_space import SpaceError, load_space
from search_space.loader import load_architecture
from search_space.size_check import measure_on_meta
from tests.search_space.test_validate import DELETE, space_with


def problems(document, write_space) -> list[str]:
    with pytest.raises(SpaceError) as error:
        load_space(write_space(document))
    return [line.split(": ", 1)[1] for line in error.value.problems]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"stem__width": "wide"}, "stem.width: 'wide' must be an integer from 1 to 16,384"),
        ({"stem__width": 0}, "stem.width: 0 must be an integer"),
        ({"stem__width": -8}, "stem.width: -8 must be an integer"),
        ({"stages__0__width": 10**9}, "stages[0].width: 1000000000 must be an integer"),
        ({"stages__0__depth": 10**6}, "depth: 1000000 must be an integer from 1 to 1,000"),
        ({"input__resolution": 100_000}, "input.resolution: 100000 must be a fixed integer"),
        ({"stages__0__kernel": float("inf")}, "stages[0].kernel: .inf is not an integer"),
        ({"stages__1__mlp_ratio": float("nan")}, "stages[1].mlp_ratio: .nan is not a finite"),
        ({"stages__1__mlp_ratio": 1e300}, "stages[1].mlp_ratio: 1e+300 is above the maximum"),
        ({"stages__0__kernel": 2**70}, "stages[0].kernel: an integer of about 22 digits"),
        ({"stages__0__depth": {"low": 1, "high": None}}, "depth.high: null is not a number"),
        ({"stages__0__depth": {"low": 1, "high": float("inf")}}, ".inf is not a finite number"),
        ({"input__classes": None}, "input.classes: null must be a fixed integer"),
    ],
)
def test_each_bad_number_is_one_line_in_yaml_words(write_space, changes, expected):
    found = problems(space_with(**changes), write_space)
    assert any(expected in line for line in found), found
    assert not any("None" in line or "nan is" in line.replace(".nan", "") for line in found)


def test_one_bad_value_read_by_three_blocks_is_reported_once(write_space):
    document = space_with(stages__0__block=["resnet", "mbconv", "convnext"], stages__0__kernel=4)
    assert problems(document, write_space) == [
        "stages[0].kernel: 4 is even; kernels must be odd so that they have a centre"
    ]


def test_every_structural_problem_is_reported_at_once(write_space):
    document = space_with(
        stagse=1, input__resolution=0, head="avg", stages__0__depth={"low": 1, "high": None}
    )
    found = problems(document, write_space)
    assert len(found) == 4, found


def test_the_parameter_cap_refuses_before_building_and_can_be_raised(write_space):
    wide = space_with(stages__1__width=16384, stages__1__block="convnext", stages__1__heads=DELETE)
    found = problems(wide, write_space)
    assert len(found) == 1 and "above limits.max_params 1,000,000,000" in found[0]
    wide["limits"] = {"max_params": 3_000_000_000}
    assert load_space(write_space(wide)).stages[1]["width"].value == 16384


def test_the_feature_map_cap_uses_the_batch_size(write_space):
    big = space_with(input__resolution=2048)
    big["train"] = {"batch_size": 1024}
    found = problems(big, write_space)
    assert "GiB at batch 1024" in found[0] and "limits.max_feature_map_bytes" in found[0]


def test_meta_device_counts_match_the_real_model():
    # timm resnet50: 25,557,032 parameters; its largest map is the stem's 64x112x112.
    params, largest = measure_on_meta(load_architecture("resnet50"))
    assert params == 25_557_032
    assert largest == 64 * 112 * 112


@pytest.mark.parametrize(
    ("build", "section", "expected"),
    [
        (TrainConfig, {"seed": 2**32}, "train.seed: 4294967296 is above the maximum"),
        (TrainConfig, {"threads": 100_000}, "train.threads: 100000 is above the maximum 1,024"),
        (TrainConfig, {"lr": 1e300}, "train.lr: 1e+300 is beyond 1e+06"),
        (TrainConfig, {"epochs": None}, "train.epochs: a value is required, not null"),
        (DataConfig, {"split_seed": 10**30}, "data.split_seed: 1000000000000000019884624838656"),
    ],
)
def test_run_settings_have_upper_bounds(build, section, expected):
    with pytest.raises(SpaceError) as error:
        build.from_dict(section)
    assert expected in str(error.value) or "is not a whole number" in str(error.value)


def test_every_problem_of_a_run_section_is_reported():
    with pytest.raises(SpaceError) as error:
        DataConfig.from_dict({"val_fraction": 2.0, "limit": 1, "augment": "no"})
    assert len(error.value.problems) == 3
