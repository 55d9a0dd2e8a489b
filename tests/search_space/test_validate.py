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


# --- rules that once failed only when the model was built (or run on one image) ----------


def _single_stage(block: dict, head: dict | None = None, stem: dict | None = None) -> dict:
    return {
        "name": "t",
        "input": {"channels": 1, "resolution": 16, "classes": 10},
        "stem": stem or {"type": "conv", "width": 8, "stride": 1},
        "stages": [{"depth": 1, "stride": 2, **block}],
        "head": head or {},
    }


def test_class_attention_heads_must_divide_every_last_stage_width(nas, write_space):
    head = {"type": "class_attention", "heads": 4}
    refused = nas(
        "validate", write_space(_single_stage({"block": "resnet", "width": [32, 30]}, head))
    )
    assert refused.code == 2
    assert refused.err.strip().split("space.yaml: ")[1] == (
        "head.heads: 4 does not divide the last stage's width 30; "
        "choose heads that divide every width that stage may take"
    )
    space = load_space(write_space(_single_stage({"block": "resnet", "width": [32, 64]}, head)))
    from search_space import build_model, sample_architectures

    for arch in sample_architectures(space, 4, seed=0):  # 32 and 64: 4 heads of 8 or 16
        assert build_model(arch).head.blocks[0].attn.heads == 4


def test_a_patch_stem_kernel_smaller_than_its_patch_is_refused(write_space):
    stem = {"type": "patchify", "width": 8, "patch": 4, "kernel": 2}  # padding -1
    text = problems_of(_single_stage({"block": "resnet", "width": 8}, stem=stem), write_space)
    assert text.endswith(
        "stem.kernel: 2 is smaller than patch 4, so pixels between patches "
        "would be skipped; use null (= patch) or a kernel of at least the patch"
    )


def test_group_norm_of_a_pooled_vector_needs_more_than_one_value_per_group(write_space):
    # group norm splits C channels into gcd(32, C) groups: 16 -> 16 groups of 1 value,
    # 48 -> 16 groups of 3 values
    head = {"norm": "group"}
    text = problems_of(_single_stage({"block": "resnet", "width": 16}, head), write_space)
    assert "head.norm: 'group' on the pooled 16-wide vector puts one value in each group" in text
    load_space(write_space(_single_stage({"block": "resnet", "width": 48}, head)))


def test_a_tiny_squeeze_excite_ratio_keeps_one_channel(write_space):
    import torch

    from search_space import build_model, sample_architectures

    block = {"block": "bottleneck", "width": 32, "se": 0.01}  # round(0.01 * 8) = 0 channels
    arch = sample_architectures(load_space(write_space(_single_stage(block))), 1)[0]
    model = build_model(arch)
    squeeze = model.stages[0][0].branch[2]
    assert squeeze.reduce.out_channels == 1
    assert model(torch.zeros(2, 1, 16, 16)).shape == (2, 10)


def test_a_candidate_torch_cannot_run_is_one_line_not_a_traceback(nas, write_space):
    # a 1-channel conv head with group norm on a 1x1 map: one value per group per image
    document = _single_stage(
        {"block": "resnet", "width": 8, "stride": 16}, {"conv": 1, "norm": "group"}
    )
    result = nas("validate", write_space(document))
    assert result.code == 2 and "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert (
        len(lines) == 1
        and "cannot run an image (ValueError: Expected more than 1 value" in lines[0]
    )
