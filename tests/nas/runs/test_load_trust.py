"""`nas.load_model` runs no code that came with a model: a plug-in module beside the
export (or in the working directory) never runs, a module the arch.yaml names is
imported only when the caller allows it, and an arch.yaml edited after export is refused.

Each load runs in a fresh Python process from the export folder (the working directory
is then on sys.path, as in `cd export && python -c 'import nas; nas.load_model(".")'`);
the planted module writes a marker file when it is imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

from nas.runs import format as rf
from nas.runs.load import save_weights
from search_space import SpaceError, build_model, load_architecture

ARCH = {
    "name": "small",
    "input": {"channels": 1, "resolution": 28, "classes": 10},
    "stem": {"type": "conv", "width": 8, "stride": 2},
    "stages": [{"block": "resnet", "depth": 1, "width": 8, "stride": 2, "kernel": 3}],
    "head": {"pool": "avg"},
}
PLANTED = "planted_plugin_mod"


def _export(folder: Path, document: dict) -> Path:
    """An export folder as `nas export` writes it: arch.yaml, and weights whose metadata
    records the tensors' and the architecture's SHA-256."""
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    arch = load_architecture({k: v for k, v in document.items() if k != "plugins"})
    save_weights(build_model(arch), folder / rf.WEIGHTS_FILE, arch=arch)
    (folder / rf.ARCH_FILE).write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def _plant(folder: Path, marker: Path) -> None:
    (folder / f"{PLANTED}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
    )


def _load_in_fresh_process(folder: Path, plugins: list[str] | None = None) -> str:
    """Loads the export from inside its folder; returns stderr's last line ('' if loaded)."""
    allowed = "" if plugins is None else f", plugins={plugins!r}"
    code = textwrap.dedent(
        f"""
        import nas
        from search_space import SpaceError
        try:
            nas.load_model("."{allowed})
        except SpaceError as error:
            raise SystemExit(str(error))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300
    )
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode == 0) == (not lines), done.stderr
    assert "Beautiful is better than ugly" not in done.stdout  # `import this` never ran
    return lines[-1] if lines else ""


@pytest.mark.parametrize("allowed", [None, [PLANTED]])
def test_a_plugin_beside_the_model_never_runs(tmp_path, allowed):
    folder = _export(tmp_path / "export", {**ARCH, "plugins": [PLANTED]})
    marker = tmp_path / "marker"
    _plant(folder, marker)
    last = _load_in_fresh_process(folder, allowed)
    assert not marker.exists()
    assert f"needs the plug-in {PLANTED!r}" in last
    if allowed is None:
        assert "imported only when you allow it" in last
    else:  # allowed by name, but the model's folder (the working directory) is not searched
        assert "never searched" in last


@pytest.mark.parametrize("named", ["this", f"{PLANTED}.py", f"./{PLANTED}.py"])
def test_a_module_or_path_the_arch_names_is_not_imported_unless_allowed(tmp_path, named):
    folder = _export(tmp_path / "export", {**ARCH, "plugins": [named]})
    marker = tmp_path / "marker"
    _plant(folder, marker)
    last = _load_in_fresh_process(folder)
    assert not marker.exists()
    assert repr(named) in last


def test_an_allowed_plugin_from_pythonpath_is_imported(tmp_path):
    """The positive control: the same planted module, in a folder on sys.path that is
    neither the working directory nor the model's folder, runs when allowed."""
    folder = _export(tmp_path / "export", {**ARCH, "plugins": [PLANTED]})
    library, marker = tmp_path / "lib", tmp_path / "marker"
    library.mkdir()
    _plant(library, marker)
    code = (
        f"import sys, nas; sys.path.append({str(library)!r}); "
        f"nas.load_model('.', plugins=[{PLANTED!r}])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran"


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["stages"][0].update(act="gelu"),  # the tensors cannot reveal it
        lambda d: d["input"].update(resolution=32),
        lambda d: d["head"].update(dropout=0.5),
    ],
)
def test_an_arch_yaml_edited_after_export_is_refused(tmp_path, edit):
    folder = _export(tmp_path / "export", ARCH)
    document = yaml.safe_load((folder / rf.ARCH_FILE).read_text())
    edit(document)
    (folder / rf.ARCH_FILE).write_text(yaml.safe_dump(document))
    import nas

    with pytest.raises(SpaceError, match="the architecture was edited after these weights"):
        nas.load_model(folder)


def test_edits_that_build_the_same_model_load(tmp_path):
    folder = _export(tmp_path / "export", ARCH)
    document = yaml.safe_load((folder / rf.ARCH_FILE).read_text())
    document["name"] = "renamed"
    document["data"] = {"name": "mnist5k"}
    (folder / rf.ARCH_FILE).write_text(yaml.safe_dump(document))
    import nas

    torch.manual_seed(0)
    expected = build_model(load_architecture(ARCH)).eval()
    probe = torch.randn(2, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(nas.load_model(folder)(probe), expected(probe))
