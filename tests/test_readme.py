"""The README says what the files say: listings marked ``<!-- FILE path -->`` are those
files verbatim, and the Quick start's load snippet picks a named front member."""

from __future__ import annotations

import re
from pathlib import Path

import optuna
import pytest

from nas.runs import format as rf

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
LISTINGS = re.findall(r"<!-- FILE (\S+) -->\n```\w*\n(.*?)```\n", README, re.DOTALL)


def test_the_readme_lists_the_bundled_demo_space() -> None:
    assert "search_space/spaces/demo.yaml" in [path for path, _ in LISTINGS]


@pytest.mark.parametrize(("path", "listing"), LISTINGS, ids=[path for path, _ in LISTINGS])
def test_a_listing_marked_with_its_file_is_that_file(path: str, listing: str) -> None:
    assert listing == (REPO / path).read_text(), f"paste {path} into the README's listing"


def quick_start_snippet() -> str:
    start = README.index("Then load an exported model")
    match = re.compile(r"```python\n(.*?)```", re.DOTALL).search(README, start)
    assert match, "the Quick start has no load snippet"
    return match.group(1)


def recorded_run(folder: Path, points: list[tuple[float, float]]) -> None:
    """A run folder whose study holds complete trials at (accuracy, flops) `points`."""
    folder.mkdir(parents=True)
    study = optuna.create_study(
        study_name="demo",
        storage=f"sqlite:///{folder / rf.STUDY_FILE}",
        directions=["maximize", "minimize"],
    )
    study.set_user_attr(
        rf.STUDY_OBJECTIVES,
        [{"name": "accuracy", "direction": "maximize"}, {"name": "flops", "direction": "minimize"}],
    )
    study.set_user_attr(rf.STUDY_REFERENCE_POINT, [0.0, 1e7])
    study.set_user_attr(rf.STUDY_CONFIG, {"name": "demo"})
    for accuracy, flops in points:
        trial = study.ask()
        trial.set_user_attr(rf.ATTR_STATE, rf.COMPLETE)
        trial.set_user_attr(rf.ATTR_METRICS, {"accuracy": accuracy, "flops": flops})
        trial.set_user_attr(rf.ATTR_SUMMARY, f"trial {trial.number}")
        study.tell(trial, [accuracy, flops])


def test_the_load_snippet_picks_the_most_accurate_front_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial 2 is the most accurate by construction; the old snippet took the first
    export folder by name (trial 0 here)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    points = [(0.5 + 0.01 * n, 1e5 * (n + 1)) for n in range(11)]  # all on the front
    points[2] = (0.99, 3e5)  # the front: trials 0, 1 and 2; every later one is dominated
    recorded_run(tmp_path / "results" / "demo", points)
    monkeypatch.chdir(tmp_path)
    snippet = quick_start_snippet()
    picking = snippet.split("model = ")[0]  # loading needs an export; the pick does not
    scope: dict = {}
    exec(picking, scope)
    assert scope["best"] == 2
    assert 'f"results/demo/export/{best}"' in snippet  # and it loads that member
