"""A search on elpv (fake images in the package's layout) for balanced accuracy, then its
export: the class scores reach trials.csv, and the confusion matrix the model card."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.evaluators.conftest import write_elpv

SPACE = {
    "name": "cells",
    "input": {"channels": 1, "resolution": 16, "classes": 2},
    "stem": {"type": "conv", "width": [8, 16], "stride": 2},
    "stages": [{"block": ["resnet", "attention"], "depth": 1, "width": 16, "heads": 2}],
    "head": {"pool": "avg"},
    "train": {"epochs": 1, "batch_size": 16},
    "search": {"objectives": {"balanced_accuracy": "max", "flops": "min"}},
}


@pytest.mark.slow
def test_a_balanced_accuracy_search_on_elpv_exports_its_confusion_matrix(
    nas, write_space, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("NAS_CACHE", str(tmp_path / "cache"))
    root = write_elpv(tmp_path / "elpv", per_group=5)  # 40 images: 24 train, 8 val, 8 test
    space = {**SPACE, "data": {"name": "elpv", "root": str(root), "labels": "defective"}}
    run = tmp_path / "run"
    flags = ["--trials", 2, "--max-concurrent", 1, "--no-plots", "--output", run]
    result = nas("search", write_space(space), *flags)
    assert result.code == 0, result.err
    table = pd.read_csv(run / "trials.csv")
    columns = list(table.columns)
    first = columns.index("balanced_accuracy")
    assert columns[first : first + 2] == ["balanced_accuracy", "flops"]  # the objectives
    assert table["val_images"].tolist() == [8, 8] and table["macro_f1"].notna().all()
    best = int(table.loc[table["balanced_accuracy"].idxmax(), "number"])
    recorded = json.loads((run / "trials" / str(best) / "metrics.json").read_text())
    confusion = recorded["metrics"]["confusion"]  # recorded by the trial itself
    exported = nas("export", run, "--pick", best, "--format", "safetensors")
    assert exported.code == 0, exported.err
    metrics = json.loads((run / "export" / str(best) / "metrics.json").read_text())
    # 8 validation cells: 2 per (probability, type) group, so 4 functional and 4 defective
    assert [sum(row) for row in metrics["confusion"]] == [4, 4]
    assert metrics["class_names"] == ["functional", "defective"]
    recall = [metrics["confusion"][k][k] / 4 for k in range(2)]
    assert metrics["balanced_accuracy"] == pytest.approx(sum(recall) / 2)
    assert confusion == metrics["confusion"]  # the export reports the search's weights
    card = (run / "export" / str(best) / "README.md").read_text()
    assert "| true class | functional | defective |" in card
