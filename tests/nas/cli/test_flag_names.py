"""Bad flags are named as flags, all at once; `nas validate` refuses what `nas search`
would (an unknown dataset, a misspelt device, a NaN in the search section)."""

from __future__ import annotations


def test_bad_flags_are_reported_under_their_own_names_all_at_once(nas, tmp_path):
    run = tmp_path / "r"
    result = nas("search", "--epochs", "0", "--data", "mnist55", "--trials", "-1", "--output", run)
    assert result.code == 2
    lines = [line.split("error: ", 1)[1] for line in result.err.strip().splitlines()]
    assert lines[0].startswith("--trials: -1 must be a whole number from 1")
    assert lines[1].startswith("--data: unknown dataset 'mnist55' (did you mean 'mnist5k'?)")
    assert lines[2] == "--epochs: 0 must be at least 1"
    assert not run.exists()


def test_validate_refuses_what_search_refuses(nas, write_space):
    path = write_space(
        {
            "input": {"channels": 1, "resolution": 28, "classes": 10},
            "stem": {"type": "conv", "width": 8},
            "stages": [{"block": "resnet", "depth": 1, "width": 8}],
            "data": {"name": "mnist55"},
            "train": {"device": "gpu0"},
            "search": {"cpus_per_trial": float("nan"), "seed": 2**40},
        }
    )
    result = nas("validate", path)
    assert result.code == 2
    err = result.err
    assert "data.name: unknown dataset 'mnist55'" in err
    assert "train.device: 'gpu0' is not a device" in err
    assert "search.cpus_per_trial: .nan must be a finite number" in err
    assert "search.seed: 1099511627776 must be a whole number from 0 to 4,294,967,295" in err
    assert len(err.strip().splitlines()) == 4


def test_top_level_help_lists_every_command_with_its_own_words(nas):
    from nas.cli import COMMANDS

    result = nas("--help")
    assert result.code == 0, result.err
    text = " ".join(result.out.split())  # argparse wraps the descriptions
    for name, words in COMMANDS.items():
        assert f"{name} {words}" in text  # "95% intervals": a literal percent sign
