"""`nas export`: write chosen models of a run to RUN/export/<trial>/, ready to load anywhere.

Each export folder holds:

    arch.yaml              the architecture with the run's data/train sections (`nas info` loads it)
    weights.safetensors    the trained weights (SHA-256 in the file's metadata)
    model.onnx             by default; checked with onnxruntime against PyTorch (1e-4)
    model.pt2              when asked: a torch.export program (torch.export.load)
    metrics.json           accuracy, FLOPs (+ convention), params, latency, data and split,
                           preprocessing, training recipe, seed, versions, checks
    README.md              a short model card

Which trials go is `nas/runs/picks.py`; the ONNX and torch.export copies and their checks
are `nas/runs/convert.py`; metrics.json's provenance and the model card are
`nas/runs/card.py`. Without ``retrain_epochs`` the
weights saved by the search are used (only front trials keep them); with it, the
architecture is trained again from scratch for that many epochs with the run's data and
training recipe, as NAS practice does after a short search.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.console import Countdown, note
from nas.runs import format as rf
from nas.runs.atomic import write_json, write_text
from nas.runs.card import model_card, split_text, versions
from nas.runs.convert import export_onnx, export_program
from nas.runs.folder import RunFolder, open_run
from nas.runs.picks import select_trials
from nas.runs.quality import WHY, marked
from nas.runs.results import RunResults, analyse_study
from nas.runs.trial_architecture import trial_architecture
from nas.runs.verification import member_summary
from search_space.errors import SpaceError, did_you_mean

if TYPE_CHECKING:
    import optuna
    from torch import nn

FORMATS = ("safetensors", "onnx", "pt2")
DEFAULT_FORMATS = ("safetensors", "onnx")
RELOAD_TOLERANCE = 0.005  # reloaded accuracy may differ by half a point (bf16 vs fp32 eval)


@dataclass
class Exported:
    number: int
    folder: Path
    metrics: dict[str, Any]


def parse_formats(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """'onnx,pt2' -> ('safetensors', 'onnx', 'pt2'): weights always go."""
    words = text.split(",") if isinstance(text, str) else list(text)
    formats = [w.strip().lower() for w in words if w.strip()]
    for word in formats:
        if word == "torchscript":
            raise SpaceError(
                "--format torchscript: TorchScript export was replaced by torch.export "
                "(torch.jit.trace is deprecated); use --format pt2 for model.pt2 "
                "(load it with torch.export.load(path).module()), or onnx"
            )
        if word not in FORMATS:
            raise SpaceError(
                f"--format: unknown format {word!r}{did_you_mean(word, FORMATS)}; "
                f"choose from {', '.join(FORMATS)}"
            )
    return tuple(f for f in FORMATS if f in {"safetensors", *formats})


# --- the export itself ------------------------------------------------------------------


def export_run(
    run_dir: str,
    picks: list[str] | None = None,
    *,
    max_flops: float | None = None,
    formats: tuple[str, ...] | None = None,
    retrain_epochs: int | None = None,
    check_accuracy: bool = True,
    include_chance: bool = False,
    on_event: Callable[[str], None] | None = None,
) -> list[Exported]:
    """Exports the picked trials of a finished run; returns what was written.

    `formats` None means the default, safetensors and ONNX. Trials marked at chance or
    far below the run (nas/runs/quality.py) that a pick word chose are skipped unless
    `include_chance`; trial numbers given explicitly are always exported. `on_event`
    receives one line per skip, per model started and per model written (with an ETA).
    """
    say = on_event or (lambda line: None)
    formats = DEFAULT_FORMATS if formats is None else parse_formats(formats)
    if retrain_epochs is not None and retrain_epochs < 1:
        raise SpaceError(f"--retrain-epochs: {retrain_epochs} must be at least 1")
    if max_flops is not None and not max_flops > 0:
        raise SpaceError(f"--max-flops: {max_flops} must be positive")
    run = open_run(run_dir)
    study = run.load_study()
    results = analyse_study(study, arch_yaml=False)
    numbers = select_trials(results, picks or ["pareto"], max_flops)
    numbers = _without_marked(results, numbers, picks or ["pareto"], include_chance, say)
    exporter = _Exporter(run, study, results, formats, retrain_epochs, check_accuracy)
    # Every member that can be exported is; the others are one line each at the end.
    exported, problems = [], []
    countdown = Countdown(len(numbers))
    for index, number in enumerate(numbers, 1):
        say(f"exporting {index}/{len(numbers)}: trial {number}")
        try:
            exported.append(exporter.export(number))
        except SpaceError as error:
            problems += error.problems
        countdown.step()
        say(f"exported {index}/{len(numbers)}: trial {number} ({countdown.text()})")
    if problems:
        raise PartialExport(problems, exported)
    return exported


def _without_marked(
    results: RunResults,
    numbers: list[int],
    picks: list[str],
    include_chance: bool,
    say: Callable[[str], None],
) -> list[int]:
    """`numbers` less the marked trials a pick word chose (explicit numbers stay)."""
    if include_chance:
        return numbers
    explicit = {int(w) for p in picks for w in str(p).split(",") if w.strip().lstrip("-").isdigit()}
    skipped = {n: m for n, m in marked(results.table, numbers).items() if n not in explicit}
    table = results.table.set_index("number")
    for number, mark in skipped.items():
        accuracy = float(table.loc[number, "accuracy"])
        say(
            f"skipping trial {number}: accuracy {100 * accuracy:.2f}% {WHY[mark]}; "
            "--include-chance exports it anyway"
        )
    kept = [n for n in numbers if n not in skipped]
    if numbers and not kept:
        raise SpaceError(
            f"--pick {' '.join(map(str, picks))}: every chosen trial scored at chance or far "
            "below the run (see the quality column of trials.csv); nothing worth exporting. "
            "Fix the training (epochs, learning rate) and search again, or add --include-chance"
        )
    return kept


class PartialExport(SpaceError):
    """Some members could not be exported (`problems`, one line each); `exported` holds
    the ones that were."""

    def __init__(self, problems: list[str], exported: list[Exported]):
        super().__init__(problems)
        self.exported = exported


def _require_weights(run: RunFolder, number: int) -> Path:
    path = run.path / rf.TRIALS_DIR / str(number) / rf.WEIGHTS_FILE
    if not path.is_file():
        why = (
            f"its folder {path.parent} is gone"
            if not path.parent.is_dir()
            else "the search keeps them only for Pareto-front trials"
        )
        raise SpaceError(
            f"trial {number}: no saved weights ({why}); export it trained again from its "
            "recorded architecture with --retrain-epochs N"
        )
    return path


class _Exporter:
    def __init__(
        self,
        run: RunFolder,
        study: optuna.Study,
        results: RunResults,
        formats: tuple[str, ...],
        retrain_epochs: int | None,
        check_accuracy: bool,
    ):
        from evaluators.config import DataConfig
        from evaluators.train_choices import check_train

        self.run, self.study, self.results = run, study, results
        self.formats, self.retrain_epochs, self.check_accuracy = (
            formats,
            retrain_epochs,
            check_accuracy,
        )
        self.config = run.config(study)
        _import_run_plugins(self.config, run.path)
        self.data = DataConfig.from_dict(self.config.get("data"))
        self.run_train = check_train(self.config.get("train"))  # its fixed part
        self.train = self.run_train  # the trial's recipe while one is exported
        self.datasets: dict[Any, Any] = {}

    def export(self, number: int) -> Exported:
        from evaluators.train_choices import sampled_recipe, with_recipe
        from nas.runs.load import load_model, load_weights_into, save_weights
        from search_space import build_model, load_architecture

        trial = self.study.get_trials(deepcopy=False)[self._index(number)]
        if not self.retrain_epochs:
            _require_weights(self.run, number)  # before anything of it is written
        # Recipe choices the search sampled for this trial (train.* params) are its recipe.
        self.train = with_recipe(self.run_train, sampled_recipe(trial.params))
        arch = load_architecture(trial_architecture(self.run.path, trial, self.config))
        recorded = dict(trial.user_attrs.get(rf.ATTR_METRICS) or {})
        model = build_model(arch)
        folder = self.run.path / rf.EXPORT_DIR / str(number)
        if self.retrain_epochs:
            training = self._retrain(model, arch)
        else:
            load_weights_into(model, _require_weights(self.run, number))
            training = None
        model = model.to("cpu").eval()
        write_text(folder / rf.ARCH_FILE, self._arch_yaml(arch))
        digest = save_weights(model, folder / rf.WEIGHTS_FILE, arch=arch)
        reloaded = load_model(folder)  # the round trip a user makes
        checks = self._checks(reloaded, model, arch, folder)
        metrics = self._metrics(number, trial, arch, recorded, training, checks, digest)
        metrics["verify"] = member_summary(self.run.path, number)  # None: not verified
        metrics["quality"] = marked(self.results.table, [number]).get(number, "")
        if not training and checks.get("reload_accuracy") is not None:
            gap = abs(checks["reload_accuracy"] - recorded.get("accuracy", math.nan))
            if gap > RELOAD_TOLERANCE:
                note(
                    f"trial {number}: reloaded accuracy {checks['reload_accuracy']:.4f} differs "
                    f"from the recorded {recorded.get('accuracy'):.4f} by more than 0.5 points"
                )
        write_json(folder / rf.METRICS_FILE, metrics)
        write_text(folder / rf.CARD_FILE, model_card(metrics, folder))
        return Exported(number, folder, metrics)

    def _index(self, number: int) -> int:
        trials = self.study.get_trials(deepcopy=False)
        return next(i for i, t in enumerate(trials) if t.number == number)

    def _arch_yaml(self, arch: Any) -> str:
        """A fixed space file: the architecture plus the run's data and train sections, so
        `nas info` reads it and `nas train` retrains it with the same recipe."""
        import yaml

        from search_space.plugins import needed_plugins

        document = arch.to_dict(run_config=False)
        plugins = needed_plugins(arch)  # reloading imports these first (load.py)
        document = {
            "name": document.pop("name"),
            **({"plugins": plugins} if plugins else {}),
            **document,
            "data": dataclasses.asdict(self.data),
            "train": dataclasses.asdict(self.train),
        }
        return yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=1000)

    def _dataset(self, arch: Any) -> Any:
        from evaluators.datasets import load_dataset

        key = dataclasses.astuple(arch.input)
        if key not in self.datasets:
            self.datasets[key] = load_dataset(self.data, arch.input)
        return self.datasets[key]

    def _retrain(self, model: nn.Module, arch: Any) -> dict[str, Any]:
        from evaluators.training import train_and_evaluate

        epochs = self.retrain_epochs
        train = dataclasses.replace(
            self.train, epochs=epochs, warmup_epochs=min(self.train.warmup_epochs, epochs)
        )
        note(f"retraining {arch.summary()} for {epochs} epochs")
        result = train_and_evaluate(model, self._dataset(arch), train, expected_input=arch.input)
        return {k: v for k, v in result.items() if k != "history"} | {
            "recipe": dataclasses.asdict(train)
        }

    def _checks(
        self, reloaded: nn.Module, model: nn.Module, arch: Any, folder: Path
    ) -> dict[str, Any]:
        import torch

        shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
        example = torch.randn(4, *shape, generator=torch.Generator().manual_seed(0))
        with torch.inference_mode():
            diff = (reloaded(example) - model(example)).abs().max().item()
        checks: dict[str, Any] = {"reload_max_abs_diff": diff}
        for stale in {"onnx": rf.ONNX_FILE, "pt2": rf.PT2_FILE, "": rf.TORCHSCRIPT_FILE}.items():
            if stale[0] not in self.formats:
                (folder / stale[1]).unlink(missing_ok=True)
        if "onnx" in self.formats:
            checks["onnx"] = export_onnx(reloaded, shape, folder / rf.ONNX_FILE)
        if "pt2" in self.formats:
            checks["pt2"] = export_program(reloaded, shape, folder / rf.PT2_FILE)
        if self.check_accuracy:
            checks.update(self._reload_accuracy(reloaded, arch))
        return checks

    def _reload_accuracy(self, model: nn.Module, arch: Any) -> dict[str, Any]:
        """Accuracy of the reloaded model on the run's validation split, in fp32 on the CPU."""
        from evaluators.device import plan_device
        from evaluators.training import score_validation

        try:
            dataset = self._dataset(arch)
        except (SpaceError, OSError) as error:
            return {"reload_accuracy": None, "reload_accuracy_skipped": str(error)}
        plan = plan_device("cpu", amp=False, channels_last=False)
        scores = score_validation(model, dataset, plan, self.train.eval_batch_size or 256)
        return {
            "reload_accuracy": scores["accuracy"],
            "reload_loss": scores["loss"],
            "reload_confusion": scores["confusion"],
            "val_images": len(dataset.val),
            "preprocess": {
                "input": "uint8 image / 255, then (x - mean) / std per channel",
                "mean": list(dataset.mean),
                "std": list(dataset.std),
                "layout": "(N, C, H, W) float32",
            },
        }

    def _metrics(
        self,
        number: int,
        trial: optuna.trial.FrozenTrial,
        arch: Any,
        recorded: dict[str, Any],
        training: dict[str, Any] | None,
        checks: dict[str, Any],
        digest: str,
    ) -> dict[str, Any]:
        from evaluators.class_metrics import CLASS_METRICS
        from evaluators.datasets import class_names
        from evaluators.flop_conventions import DESCRIPTIONS, convention_of

        source = training or recorded
        accuracy = training["accuracy"] if training else recorded.get("accuracy")
        recipe = (
            training["recipe"]
            if training
            else {**dataclasses.asdict(self.train), "epochs": trial.user_attrs.get(rf.ATTR_EPOCHS)}
        )
        return {
            "trial": number,
            "name": arch.name,
            "summary": arch.summary(),
            "input": {
                "channels": arch.input.channels,
                "resolution": arch.input.resolution,
                "classes": arch.input.classes,
            },
            "accuracy": accuracy,
            "accuracy_source": "retrained" if training else "search",
            **{name: source.get(name) for name in CLASS_METRICS},
            # rows: true class, columns: predicted, on the validation split
            "confusion": source.get("confusion") or checks.get("reload_confusion"),
            "class_names": class_names(self.data),
            "search_accuracy": recorded.get("accuracy"),
            "flops": recorded.get("flops"),
            "flop_convention": recorded.get("flop_convention") or DESCRIPTIONS[convention_of(arch)],
            "params": recorded.get("params"),
            "latency_ms": recorded.get("latency_ms"),
            "metrics": recorded,
            "dataset": {
                **dataclasses.asdict(self.data),
                "split": "validation" if self.data.validation == "split" else "test",
                "split_description": split_text(self.data),
            },
            "train": recipe,
            "retrain": training,
            "seed": recipe.get("seed"),
            "checks": checks,
            "weights_sha256": digest,
            "run": {"folder": str(self.run.path), "study": self.study.study_name},
            "exported": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "versions": versions(),
        }


def _import_run_plugins(config: dict[str, Any], run_path: Path) -> None:
    """The plug-ins the search used (its config's resolved list), before any model is built."""
    from search_space.plugins import check_plugins_key, import_plugins

    raw = config.get("plugins")
    if raw and not check_plugins_key(raw):
        try:
            import_plugins(raw)
        except SpaceError as error:
            raise SpaceError(f"{run_path}: the search used {error.problems[0]}") from None
