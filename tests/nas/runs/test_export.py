"""`nas export` and `nas.load_model` on a small real run: trained models, real weights."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import torch
from safetensors.torch import save_model

from evaluators.config import DataConfig, TrainConfig
from evaluators.datasets import load_dataset
from evaluators.device import plan_device
from evaluators.flops import count_flops
from evaluators.training import evaluate, train_and_evaluate
from nas import load_model
from nas.runs import format as rf
from nas.runs.load import save_weights
from search_space import SpaceError, build_model, count_params, load_architecture

_BASE = {"input": {"channels": 1, "resolution": 28, "classes": 10}, "head": {"pool": "avg"}}
ARCHS = [
    {
        **_BASE,
        "name": "tiny-attention",
        "stem": {"type": "conv", "width": 8, "stride": 2},
        "stages": [
            {"block": "resnet", "depth": 1, "width": 8, "kernel": 3},
            {
                "block": "attention",
                "depth": 1,
                "width": 16,
                "stride": 2,
                "heads": 2,
                "mlp_ratio": 2,
            },
        ],
    },
    {
        **_BASE,
        "name": "tiny-convnext",
        "stem": {"type": "conv", "width": 16, "stride": 2},
        "stages": [
            {"block": "mbconv", "depth": 1, "width": 16, "kernel": 3, "expansion": 2},
            {
                "block": "convnext",
                "depth": 1,
                "width": 32,
                "stride": 2,
                "kernel": 3,
                "expansion": 2,
            },
        ],
    },
    {
        **_BASE,
        "name": "tiny-resnet",
        "stem": {"type": "conv", "width": 8, "stride": 2},
        "stages": [{"block": "resnet", "depth": 1, "width": 16, "stride": 2, "kernel": 3}],
    },
]
DATA = {"name": "mnist5k", "limit": 1500, "augment": False}
TRAIN = {"epochs": 2, "batch_size": 64, "lr": 3.0e-3, "device": "cpu", "threads": 1, "seed": 0}
PROBE = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(7))


@dataclasses.dataclass
class TinyRun:
    path: Path
    accuracy: dict[int, float]  # trial -> recorded accuracy
    flops: dict[int, float]
    logits: dict[int, torch.Tensor]  # trial -> the trained model's logits on PROBE


def _record(study: optuna.Study, state: str, attrs: dict, values=None) -> int:
    trial = study.ask()
    for key, value in {rf.ATTR_STATE: state, **attrs}.items():
        trial.set_user_attr(key, value)
    study.tell(
        trial,
        values,
        state=optuna.trial.TrialState.COMPLETE if values else optuna.trial.TrialState.FAIL,
    )
    return trial.number


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """Trials 0-2 trained and complete; 3 failed; 4 infeasible. The search's
    safetensors `save_model` writes trial 0's weights, our `save_weights` the others."""
    folder = tmp_path_factory.mktemp("export") / "run"
    folder.mkdir()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="tiny",
        storage=f"sqlite:///{folder / 'study.db'}",
        directions=["maximize", "minimize"],
    )
    study.set_user_attr(
        rf.STUDY_OBJECTIVES,
        [{"name": "accuracy", "direction": "maximize"}, {"name": "flops", "direction": "minimize"}],
    )
    study.set_user_attr(rf.STUDY_REFERENCE_POINT, [0.0, 1e7])
    study.set_user_attr(rf.STUDY_CONFIG, {"name": "tiny", "data": DATA, "train": TRAIN})
    dataset = load_dataset(DataConfig.from_dict(DATA))
    run = TinyRun(folder, {}, {}, {})
    for document in ARCHS:
        arch = load_architecture(document)
        model = build_model(arch)
        trained = train_and_evaluate(model, dataset, TrainConfig.from_dict(TRAIN))
        model.eval()
        metrics = {
            "accuracy": trained["accuracy"],
            "params": count_params(model),
            "flops": count_flops(model, (1, 28, 28))["flops"],
        }
        number = _record(
            study,
            rf.COMPLETE,
            {
                rf.ATTR_METRICS: metrics,
                rf.ATTR_EPOCHS: 2,
                rf.ATTR_ARCH: arch.to_dict(run_config=False),
                rf.ATTR_SUMMARY: arch.summary(),
            },
            [metrics["accuracy"], metrics["flops"]],
        )
        weights = folder / rf.TRIALS_DIR / str(number) / rf.WEIGHTS_FILE
        weights.parent.mkdir(parents=True)
        if number == 0:
            save_model(model, str(weights))
        else:
            save_weights(model, weights)
        with torch.inference_mode():
            run.logits[number] = model(PROBE)
        run.accuracy[number], run.flops[number] = metrics["accuracy"], metrics["flops"]
    _record(study, rf.FAILED, {rf.ATTR_ERROR: "RuntimeError: out of memory"})
    _record(study, rf.INFEASIBLE, {rf.ATTR_ERROR: "infeasible: flops 3e7 above 2e7"})
    (folder / rf.RUN_FILE).write_text(
        json.dumps({rf.RUN_STATUS: rf.FINISHED, rf.RUN_STUDY_NAME: "tiny"})
    )
    return run


def _front(run: TinyRun) -> list[int]:
    points = {n: (run.accuracy[n], run.flops[n]) for n in run.accuracy}
    return sorted(
        n
        for n, (a, f) in points.items()
        if not any(a2 >= a and f2 <= f and (a2, f2) != (a, f) for a2, f2 in points.values())
    )


@pytest.mark.slow
def test_exported_models_reload_with_the_same_outputs_accuracy_and_onnx(nas, tiny_run):
    ort = pytest.importorskip("onnxruntime")
    result = nas("export", tiny_run.path, "--format", "safetensors,onnx,torchscript", "--json")
    assert result.code == 0, result.err
    exported = {m["trial"]: m for m in result.json()}
    assert sorted(exported) == _front(tiny_run)
    dataset = load_dataset(DataConfig.from_dict(DATA))
    plan = plan_device("cpu", amp=False, channels_last=False)
    for number, metrics in exported.items():
        folder = tiny_run.path / rf.EXPORT_DIR / str(number)
        model = load_model(folder)
        assert not model.training
        with torch.inference_mode():
            assert torch.equal(model(PROBE), tiny_run.logits[number])
        accuracy, _ = evaluate(model, dataset, plan, 256)
        assert abs(accuracy - tiny_run.accuracy[number]) <= 0.005
        assert accuracy > 0.15  # above chance (0.1): the comparison means something
        session = ort.InferenceSession(
            str(folder / "model.onnx"), providers=["CPUExecutionProvider"]
        )
        (onnx_logits,) = session.run(None, {"input": PROBE.numpy()})
        assert float((torch.from_numpy(onnx_logits) - tiny_run.logits[number]).abs().max()) < 1e-4
        assert metrics["checks"]["onnx"]["max_abs_diff"] < 1e-4
        assert metrics["accuracy"] == tiny_run.accuracy[number]
        assert "multiply-add" in metrics["flop_convention"]
        assert metrics["dataset"]["name"] == "mnist5k" and metrics["train"]["epochs"] == 2
        assert {"torch", "optuna", "ray", "nas-vision"} <= set(metrics["versions"])
        assert (folder / "README.md").read_text().startswith("# ")
        scripted = torch.jit.load(str(folder / "model.torchscript.pt"))
        assert torch.allclose(scripted(PROBE), tiny_run.logits[number], atol=1e-5)
        info = nas("info", folder / rf.ARCH_FILE, "--json")  # arch.yaml is a valid file
        assert info.code == 0, info.err
        assert info.json()["summary"] == metrics["summary"]


@pytest.mark.slow
def test_picks_name_the_knee_the_best_accuracy_and_single_trials(nas, tiny_run):
    best = max(tiny_run.accuracy, key=lambda n: (tiny_run.accuracy[n], -tiny_run.flops[n]))
    result = nas(
        "export",
        tiny_run.path,
        "--pick",
        "best-accuracy",
        "--format",
        "safetensors",
        "--no-check-accuracy",
        "--json",
    )
    assert result.code == 0, result.err
    assert [m["trial"] for m in result.json()] == [best]
    cheapest = min(tiny_run.flops, key=tiny_run.flops.get)
    result = nas(
        "export",
        tiny_run.path,
        "--pick",
        "pareto",
        "--max-flops",
        tiny_run.flops[cheapest],
        "--format",
        "safetensors",
        "--json",
    )
    assert result.code == 0, result.err
    assert [m["trial"] for m in result.json()] == [cheapest]
    result = nas("export", tiny_run.path, "--pick", "knee", "--format", "safetensors", "--json")
    assert result.code == 0, result.err
    (knee,) = result.json()
    assert knee["trial"] in _front(tiny_run)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pick", "message"),
    [
        ("3", "trial 3 is failed, not complete"),
        ("4", "trial 4 is infeasible, not complete"),
        ("9", "no trial 9"),
        ("paretto", "did you mean 'pareto'"),
    ],
)
def test_picking_a_trial_that_is_not_complete_exits_2_with_one_line(nas, tiny_run, pick, message):
    result = nas("export", tiny_run.path, "--pick", pick)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_trial_without_weights_needs_retraining(nas, tiny_run, tmp_path):
    dominated = [n for n in tiny_run.accuracy if n not in _front(tiny_run)] or [2]
    number = dominated[0]
    weights = tiny_run.path / rf.TRIALS_DIR / str(number) / rf.WEIGHTS_FILE
    kept = tmp_path / "kept.safetensors"
    weights.rename(kept)
    try:
        result = nas("export", tiny_run.path, "--pick", str(number))
        assert result.code == 2 and "--retrain-epochs" in result.err
        result = nas(
            "export",
            tiny_run.path,
            "--pick",
            str(number),
            "--retrain-epochs",
            "1",
            "--format",
            "safetensors",
            "--json",
        )
        assert result.code == 0, result.err
        (metrics,) = result.json()
        assert metrics["accuracy_source"] == "retrained" and metrics["train"]["epochs"] == 1
        assert metrics["checks"]["reload_accuracy"] == pytest.approx(metrics["accuracy"])
    finally:
        kept.rename(weights)


@pytest.fixture
def saved_model(tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    """An untrained export-like folder: arch.yaml + weights.safetensors."""
    arch = load_architecture(ARCHS[2])
    model = build_model(arch).eval()
    (tmp_path / rf.ARCH_FILE).write_text(arch.to_yaml())
    save_weights(model, tmp_path / rf.WEIGHTS_FILE)
    return tmp_path, model


def test_load_model_returns_the_saved_module_in_eval_mode(saved_model):
    folder, model = saved_model
    loaded = load_model(folder)
    assert not loaded.training
    with torch.inference_mode():
        assert torch.equal(loaded(PROBE), model(PROBE))


def test_truncated_weights_give_a_clear_error(saved_model):
    folder, _ = saved_model
    weights = folder / rf.WEIGHTS_FILE
    data = weights.read_bytes()
    for size in (len(data) - 10, 100, 4):
        weights.write_bytes(data[:size])
        with pytest.raises(SpaceError, match="damaged weights file"):
            load_model(folder)


def test_tampered_weights_give_a_clear_error(saved_model):
    folder, _ = saved_model
    weights = folder / rf.WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[-7] ^= 0x40  # one bit of one parameter
    weights.write_bytes(bytes(data))
    with pytest.raises(SpaceError, match="altered"):
        load_model(folder)


def test_weights_of_another_architecture_give_a_clear_error(saved_model):
    folder, _ = saved_model
    save_weights(build_model(load_architecture(ARCHS[1])), folder / rf.WEIGHTS_FILE)
    with pytest.raises(SpaceError, match="do not fit the architecture"):
        load_model(folder)


def test_a_missing_folder_or_weights_file_gives_a_clear_error(saved_model, tmp_path):
    with pytest.raises(SpaceError, match="no such model folder"):
        load_model(tmp_path / "missing")
    folder, _ = saved_model
    (folder / rf.WEIGHTS_FILE).unlink()
    with pytest.raises(SpaceError, match=r"no weights\.safetensors"):
        load_model(folder)


def test_importing_nas_stays_light():
    code = "import sys, nas; print([m for m in ('torch', 'optuna', 'ray') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_export_format_exits_2(nas, tmp_path):
    result = nas("export", tmp_path, "--format", "onnx,tflite")
    assert result.code == 2 and "tflite" in result.err


def test_onnx_asked_for_without_the_onnx_package_exits_2(nas, tmp_path, monkeypatch):
    from nas.runs import export

    monkeypatch.setattr(export, "_has_onnx", lambda: False)
    result = nas("export", tmp_path, "--format", "onnx")
    assert result.code == 2 and "pip install 'nas-vision[onnx]'" in result.err
