"""Hostile or broken YAML is refused in one line naming the file and line, quickly and
without growing memory: aliases, nesting, duplicate keys, non-plain tags, odd paths."""

import resource

import pytest

from search_space import SpaceError, load_space
from search_space.loader import read_yaml

LAUGHS = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi")
)


def refusal(path) -> str:
    with pytest.raises(SpaceError) as error:
        load_space(path)
    assert len(error.value.problems) == 1
    return error.value.problems[0]


def test_billion_laughs_is_refused_without_expanding(write_space):
    path = write_space(LAUGHS)
    assert len(LAUGHS) < 700  # 9**9 = 387 million values if expanded
    load_space("demo")  # imports torch and the registry first: not the file's growth
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    line = refusal(path)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert "aliases expand to more than 100,000 values" in line
    assert grown_kib < 50_000  # the expanded document would need gigabytes


def test_500_nested_brackets_are_refused_not_a_recursion_error(write_space):
    line = refusal(write_space("name: " + "[" * 500 + "]" * 500 + "\n"))
    assert "nest more than 50 levels" in line and "line 1" in line


def test_an_alias_inside_its_own_value_is_refused(write_space):
    assert "refers to the value that contains it" in refusal(write_space("a: &x [1, *x]\n"))


def test_a_duplicate_key_names_the_key_and_both_lines(write_space):
    line = refusal(write_space("name: a\ninput: {}\nname: b\n"))
    assert "line 3" in line and "'name' is given twice (first on line 1)" in line


@pytest.mark.parametrize("tag", ["!!set {a, b}", "!!binary aGVsbG8=", "!!timestamp 2024-01-01"])
def test_non_plain_tags_are_refused_without_python_reprs(write_space, tag):
    line = refusal(write_space(f"name: {tag}\n"))
    assert f"the YAML tag {tag.split()[0]} is not supported" in line
    assert "b'" not in line and "datetime" not in line


def test_an_unquoted_date_stays_text(write_space):
    assert read_yaml(write_space("name: 2024-01-01\n")) == {"name": "2024-01-01"}


def test_a_syntax_error_names_the_line_never_somewhere(write_space):
    line = refusal(write_space("name: [1, 2\n"))
    assert "YAML syntax error at line 2" in line and "somewhere" not in line


def test_a_folder_and_a_device_get_their_own_messages(tmp_path):
    assert "is a folder" in refusal(tmp_path)
    assert "is not a regular file" in refusal("/dev/null")


def test_a_file_too_large_is_not_read(write_space):
    assert "too large for a space file" in refusal(write_space("# " + "x" * 1_100_000))


def test_merge_keys_still_work(write_space):
    assert read_yaml(write_space("b: &b {x: 1}\nc: {<<: *b, y: 2}\n"))["c"] == {"x": 1, "y": 2}
