import pytest

from search_space.errors import SpaceError
from search_space.params import Choice, Fixed, FloatRange, IntRange, parse_param


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3, Fixed(3)),
        ("gelu", Fixed("gelu")),
        (None, Fixed(None)),
        ([3, 5, 7], Choice((3, 5, 7))),
        ({"low": 1, "high": 4}, IntRange(1, 4, 1, False)),
        ({"low": 16, "high": 64, "step": 16}, IntRange(16, 64, 16, False)),
        ({"low": 1.0e-4, "high": 1.0e-2, "log": True}, FloatRange(1e-4, 1e-2, None, True)),
        ({"low": 0.0, "high": 0.5, "step": 0.1}, FloatRange(0.0, 0.5, 0.1, False)),
    ],
)
def test_yaml_values_parse_into_the_right_kind(raw, expected):
    assert parse_param(raw, "stages[0].x") == expected


def test_range_sizes_count_the_grid():
    assert IntRange(16, 64, 16).size() == 4
    assert IntRange(16, 64, 16).values() == [16, 32, 48, 64]
    assert FloatRange(0.0, 0.5, 0.1).size() == 6
    assert FloatRange(0.0, 1.0).size() == float("inf")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "empty list"),
        ([3, 3], "lists 3 twice"),
        ({"low": 4, "high": 1}, "low 4 is above high 1"),
        ({"low": 1}, "needs both 'low' and 'high'"),
        ({"low": 1, "hihg": 4}, "did you mean 'high'"),
        ({"low": 1, "high": 4, "step": 1, "log": True}, "'step' or 'log', not both"),
        ({"low": 0, "high": 4, "log": True}, "low > 0"),
        ({"low": "a", "high": 4}, "'a' is not a number"),
        ([[1, 2]], "plain values"),
    ],
)
def test_bad_values_name_the_key_path(raw, message):
    with pytest.raises(SpaceError) as error:
        parse_param(raw, "stages[1].depth")
    assert "stages[1].depth" in str(error.value)
    assert message in str(error.value)
