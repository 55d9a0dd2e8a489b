"""Every kind of bad input gets one precise line naming the file, the key path and the fix."""

import copy

import pytest

from search_space import SpaceError, load_space

BASE = {
    "name": "t",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": 16, "stride": 2},
    "stages": [
        {
            "block": ["resnet", "mbconv"],
            "depth": {"low": 1, "high": 2},
            "width": 16,
            "kernel": [3, 5],
        },
        {
            "block": ["convnext", "attention"],
            "depth": 1,
            "width": [32, 48],
            "stride": 2,
            "heads": [2, 4],
        },
    ],
    "head": {"pool": "avg"},
}


def space_with(**changes):
    document = copy.deepcopy(BASE)
    for path, value in changes.items():
        target = document
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return document


DELETE = object()


def problems_of(document, write_space) -> str:
    path = write_space(document)
    with pytest.raises(SpaceError) as error:
        load_space(path)
    text = str(error.value)
    assert all(line.startswith(str(path)) for line in error.value.problems)
    return text


def test_the_base_space_is_valid(write_space):
    space = load_space(write_space(BASE))
    assert space.free_parameters() == [
        "stages[0].block",
        "stages[0].depth",
        "stages[0].kernel",
        "stages[1].block",
        "stages[1].width",
        "stages[1].heads",
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"stages__0__kernal": 3}, ["stages[0].kernal", "did you mean 'kernel'"]),
        (
            {"stages__0__block": ["resnet", "atention"]},
            ["stages[0].block", "'atention'", "did you mean 'attention'"],
        ),
        ({"stem__type": "patchfy"}, ["stem.type", "did you mean 'patchify'"]),
        ({"stagse": []}, ["stagse", "unknown top-level key", "did you mean 'stages'"]),
        ({"stages__1__width": [32, 48, 30]}, ["stages[1]", "width 30", "heads 4"]),
        ({"stages__0__kernel": [3, 4]}, ["stages[0].kernel", "4 is even"]),
        ({"stages__0__kernel": 0}, ["stages[0].kernel", "below the minimum 1"]),
        ({"stages__0__depth": 0}, ["stages[0].depth", "0 must be an integer from 1 to 1,000"]),
        ({"stages__0__depth": {"low": 0, "high": 2}}, ["stages[0].depth", "0 must be"]),
        (
            {"stages__0__heads": 2},
            ["stages[0].heads", "only block type(s) attention", "never chooses them"],
        ),
        ({"stages__0__stride": 4, "stages__1__stride": 8}, ["stages[1].stride", "too small"]),
        ({"input__resolution": 2}, ["stages[1].stride", "1x1 feature map"]),
        ({"stages__0__norm": "lyer"}, ["stages[0].norm", "'lyer'", "did you mean 'layer'"]),
        ({"stages__0__act": ["relu", "swish"]}, ["stages[0].act", "'swish'"]),
        (
            {"stages__0__width": {"low": 8.0, "high": 16.5}},
            ["stages[0].width", "must be an integer"],
        ),
        ({"stages__0__expansion": "four"}, ["stages[0].expansion", "'four' is not"]),
        ({"stages__0__downsample": "maxpool"}, ["stages[0].downsample", "unknown mode"]),
        ({"input__channels": DELETE}, ["input.channels", "required key is missing"]),
        ({"stem__width": DELETE}, ["stem.width", "required key is missing"]),
        ({"stages__1__block": DELETE}, ["stages[1].block", "required key is missing"]),
        ({"input__resolution": [28, 32]}, ["input.resolution", "fixed integer"]),
        ({"head__pool": "max"}, ["head.pool", "'max'"]),
        ({"train": "fast"}, ["train: must be a mapping"]),
    ],
)
def test_bad_space_names_key_and_fix(write_space, changes, expected):
    text = problems_of(space_with(**changes), write_space)
    for fragment in expected:
        assert fragment in text, f"{fragment!r} missing from: {text}"


def test_every_problem_is_reported_not_just_the_first(write_space):
    document = space_with(stages__0__kernal=3, stages__1__heds=2)
    path = write_space(document)
    with pytest.raises(SpaceError) as error:
        load_space(path)
    assert len(error.value.problems) == 2


def test_yaml_syntax_error_reports_the_line(write_space):
    path = write_space(
        "name: x\ninput: {channels: 1, resolution: 28, classes: 10}\nstem:\n"
        "  type: conv\n   width: 16\n"
    )
    with pytest.raises(SpaceError) as error:
        load_space(path)
    assert "YAML syntax error at line 5" in str(error.value)


def test_missing_file_suggests_a_bundled_space():
    with pytest.raises(SpaceError) as error:
        load_space("demoo")
    assert "did you mean 'demo'" in str(error.value)


def test_a_list_of_stages_must_not_be_empty(write_space):
    assert "non-empty list" in problems_of(space_with(stages=[]), write_space)


def test_window_that_does_not_tile_the_feature_map_is_rejected(write_space):
    document = space_with(stages__1__block="attention", stages__1__window=[None, 5])
    text = problems_of(document, write_space)
    assert "window 5" in text and "7x7" in text


def test_class_token_stem_needs_token_blocks(write_space):
    document = space_with(
        stem={
            "type": "patchify",
            "width": 16,
            "patch": 4,
            "class_token": True,
            "pos_embed": "learned",
        }
    )
    assert "class-token" in problems_of(document, write_space)


def test_class_token_stem_rejects_windows_and_strides_in_attention(write_space):
    document = space_with(
        stem={"type": "patchify", "width": 16, "patch": 4, "class_token": True},
        stages=[{"block": "attention", "depth": 1, "width": 16, "heads": 2, "window": [None, 7]}],
        head={"pool": "token"},
    )
    text = problems_of(document, write_space)
    assert "stages[0]" in text and "a window needs a feature map" in text


def test_token_pool_needs_a_class_token(write_space):
    assert "class_token: true" in problems_of(space_with(head={"pool": "token"}), write_space)
