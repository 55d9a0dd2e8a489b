"""A run folder on disk: open and check it, load its study, build its trials table.

The search calls `update_run_folder` after every trial (tables, weights pruning, plots);
`nas report` and `nas export` open a finished run with `open_run`. The format itself
(file names, attribute keys, states) is `nas/run_format.py`; `results/README.md`
documents every file and column.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import math
import os
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nas import run_format as rf
from nas.atomic import write_csv
from nas.pareto import (
    MINIMIZE,
    Objective,
    complete_reference,
    hypervolume_history,
    nondominated_ranks,
    parse_objectives,
    reference_point_for,
)
from search_space.errors import SpaceError

if TYPE_CHECKING:
    import optuna
    import pandas as pd

_TERMINAL = (rf.COMPLETE, rf.FAILED, rf.INFEASIBLE, rf.STOPPED_EARLY)


@dataclass(frozen=True)
class RunFolder:
    path: Path
    info: dict[str, Any]  # run.json, {} when the folder has only a study.db
    storage: str  # Optuna storage URL
    study_name: str | None  # None: the storage's only study

    def load_study(self) -> optuna.Study:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        name = self.study_name
        try:
            if name is None:
                names = optuna.get_all_study_names(self.storage)
                if len(names) != 1:
                    raise SpaceError(
                        f"{self.path}: the storage holds {len(names)} studies "
                        f"({', '.join(names) or 'none'}); run.json must name one "
                        f"under {rf.RUN_STUDY_NAME!r}"
                    )
                name = names[0]
            return optuna.load_study(study_name=name, storage=self.storage)
        except KeyError:
            raise SpaceError(f"{self.path}: no study named {name!r} in {self.storage}") from None
        except SpaceError:
            raise
        except Exception as error:  # a broken database or an unreachable server
            raise SpaceError(
                f"{self.path}: cannot load the study from {self.storage}: {_one_line(error)}"
            ) from None

    def read_study(self) -> Any:
        """The study for reading only: straight from SQLite when the file has the schema
        this reader knows (several times faster than Optuna's ORM on 1,000 trials), else
        `load_study`. Offers what `analyse_study` uses: `study_name`, `directions`,
        `metric_names`, `user_attrs` and `get_trials()`."""
        if self.storage.startswith("sqlite:///"):
            record = read_sqlite_study(Path(self.storage[len("sqlite:///") :]), self.study_name)
            if record is not None:
                return record
        return self.load_study()

    def config(self, study: optuna.Study | None = None) -> dict[str, Any]:
        """The resolved experiment config: the study's copy, else config.yaml, else {}."""
        if study is not None and isinstance(study.user_attrs.get(rf.STUDY_CONFIG), dict):
            return study.user_attrs[rf.STUDY_CONFIG]
        path = self.path / rf.CONFIG_FILE
        if path.is_file():
            with open(path) as handle:
                return yaml.safe_load(handle) or {}
        return {}


def open_run(path: str | os.PathLike, *, allow_running: bool = False) -> RunFolder:
    """Checks that `path` is a run folder no live search is writing; SpaceError if not."""
    folder = Path(path)
    if not folder.exists():
        raise SpaceError(f"{folder}: no such run folder")
    if not folder.is_dir():
        raise SpaceError(f"{folder}: is a file, not a run folder")
    run_file, study_file = folder / rf.RUN_FILE, folder / rf.STUDY_FILE
    if not run_file.is_file() and not study_file.is_file():
        raise SpaceError(
            f"{folder}: not a run folder (no {rf.RUN_FILE} or {rf.STUDY_FILE}); "
            "a run folder is what `nas search --output DIR` writes"
        )
    info = _read_run_json(run_file) if run_file.is_file() else {}
    if not allow_running and is_in_progress(info):
        raise SpaceError(
            f"{folder}: the run is still in progress (pid {info.get(rf.RUN_PID)} "
            f"on {info.get(rf.RUN_HOST)}); wait for it to finish or stop it first"
        )
    storage = _storage_url(folder, info)
    return RunFolder(folder, info, storage, info.get(rf.RUN_STUDY_NAME))


def is_in_progress(info: dict[str, Any]) -> bool:
    """run.json says running, on this host, and that process is alive."""
    if info.get(rf.RUN_STATUS) != rf.RUNNING:
        return False
    host, pid = info.get(rf.RUN_HOST), info.get(rf.RUN_PID)
    if host not in (None, socket.gethostname()) or not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():  # the search itself, writing its own tables
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _read_run_json(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SpaceError(f"{path}: unreadable run file: {_one_line(error)}") from None
    if not isinstance(info, dict):
        raise SpaceError(f"{path}: expected a JSON object, got {type(info).__name__}")
    return info


def _storage_url(folder: Path, info: dict[str, Any]) -> str:
    url = info.get(rf.RUN_STORAGE)
    study_file = folder / rf.STUDY_FILE
    if url and not str(url).startswith("sqlite"):
        return str(url)
    # The folder's own study.db wins over a recorded sqlite path: runs can be moved.
    if not study_file.is_file():
        raise SpaceError(f"{folder}: has no {rf.STUDY_FILE}, so there are no trials to read")
    _check_sqlite_study(study_file)
    return f"sqlite:///{study_file.resolve()}"


def _check_sqlite_study(path: Path) -> None:
    """Refuses a file that is not an Optuna SQLite database (Optuna would add tables to it)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as error:
        raise SpaceError(f"{path}: not an Optuna study database ({error})") from None
    if "studies" not in tables or "trials" not in tables:
        raise SpaceError(f"{path}: not an Optuna study database (no studies/trials tables)")


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


# --- a read-only view of an SQLite study, without Optuna's ORM ---------------------------

# Optuna's RDB schema revisions this reader was written against (alembic_version); any
# other database is read through Optuna itself.
_KNOWN_SCHEMAS = ("v3.2.0.a",)
_INFINITIES = {"INF_POS": math.inf, "INF_NEG": -math.inf}


class _State(str):
    """A trial state name ('COMPLETE', ...) with Optuna's `.name` spelling."""

    @property
    def name(self) -> str:
        return str(self)


@dataclass
class TrialRecord:
    number: int
    state: _State
    values: list[float] | None
    user_attrs: dict[str, Any]
    system_attrs: dict[str, Any]
    datetime_start: datetime.datetime | None
    datetime_complete: datetime.datetime | None

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.datetime_start and self.datetime_complete:
            return self.datetime_complete - self.datetime_start
        return None


@dataclass
class StudyRecord:
    study_name: str
    directions: list[str]  # "MAXIMIZE" / "MINIMIZE", in objective order
    metric_names: list[str] | None
    user_attrs: dict[str, Any]
    trials: list[TrialRecord]

    def get_trials(self, deepcopy: bool = False) -> list[TrialRecord]:
        return self.trials


def read_sqlite_study(path: Path, study_name: str | None) -> StudyRecord | None:
    """Reads a whole study with five queries; None when the schema is not a known one or
    the study is not unique/found (the caller then asks Optuna, which explains)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if (
                db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                not in _KNOWN_SCHEMAS
            ):
                return None
            studies = db.execute("SELECT study_id, study_name FROM studies").fetchall()
            chosen = [s for s in studies if study_name in (None, s[1])]
            if len(chosen) != 1:
                return None
            return _study_record(db, *chosen[0])
    except (sqlite3.Error, TypeError, ValueError, KeyError):
        return None


def _study_record(db: sqlite3.Connection, study_id: int, name: str) -> StudyRecord:
    def attrs(table: str, owner: str, ids: str, *args: Any) -> dict[Any, dict[str, Any]]:
        found: dict[Any, dict[str, Any]] = {}
        rows = db.execute(f'SELECT {owner}, "key", value_json FROM {table} WHERE {ids}', args)
        for owner_id, key, value in rows:
            found.setdefault(owner_id, {})[key] = json.loads(value)
        return found

    in_study = "trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)"
    directions = [
        d
        for (d,) in db.execute(
            "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective",
            (study_id,),
        )
    ]
    study_attrs = attrs("study_user_attributes", "study_id", "study_id = ?", study_id)
    system = attrs("study_system_attributes", "study_id", "study_id = ?", study_id)
    trial_users = attrs("trial_user_attributes", "trial_id", in_study, study_id)
    trial_systems = attrs("trial_system_attributes", "trial_id", in_study, study_id)
    values: dict[int, dict[int, float]] = {}
    for trial_id, objective, value, kind in db.execute(
        f"SELECT trial_id, objective, value, value_type FROM trial_values WHERE {in_study}",
        (study_id,),
    ):
        values.setdefault(trial_id, {})[objective] = _INFINITIES.get(kind, value)
    trials = [
        TrialRecord(
            number,
            _State(state),
            [values[trial_id][i] for i in sorted(values[trial_id])] if trial_id in values else None,
            trial_users.get(trial_id, {}),
            trial_systems.get(trial_id, {}),
            _when(start),
            _when(end),
        )
        for trial_id, number, state, start, end in db.execute(
            "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials "
            "WHERE study_id = ? ORDER BY number",
            (study_id,),
        )
    ]
    return StudyRecord(
        name,
        directions,
        system.get(study_id, {}).get("study:metric_names"),
        study_attrs.get(study_id, {}),
        trials,
    )


def _when(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text) if text else None


# --- trials -------------------------------------------------------------------------


def study_objectives(study: optuna.Study) -> list[Objective]:
    """The objectives recorded by the search, else Optuna's directions and metric names."""
    recorded = study.user_attrs.get(rf.STUDY_OBJECTIVES)
    if recorded:
        return parse_objectives(recorded)
    names = study.metric_names or [f"objective_{i}" for i in range(len(study.directions))]
    return parse_objectives(list(zip(names, study.directions)))


def trial_state(trial: optuna.trial.FrozenTrial) -> str:
    """One of run_format.TRIAL_STATES, from the search's attribute and Optuna's state."""
    name = trial.state.name  # COMPLETE, FAIL, PRUNED, RUNNING, WAITING
    recorded = trial.user_attrs.get(rf.ATTR_STATE)
    if name in ("RUNNING", "WAITING"):
        return rf.RUNNING_TRIAL
    if name == "FAIL":
        return recorded if recorded in (rf.FAILED, rf.INFEASIBLE) else rf.FAILED
    if name == "PRUNED":
        return recorded if recorded in (rf.STOPPED_EARLY, rf.INFEASIBLE) else rf.STOPPED_EARLY
    if recorded in _TERMINAL:
        return recorded
    constraints = trial.user_attrs.get(rf.ATTR_CONSTRAINTS) or trial.system_attrs.get("constraints")
    values = constraints.values() if isinstance(constraints, dict) else constraints or ()
    return rf.INFEASIBLE if any(float(v) > 0 for v in values) else rf.COMPLETE


@dataclass
class RunResults:
    """Everything report, export and the plots need, computed once from a study."""

    objectives: list[Objective]
    reference_point: list[float]  # one value per objective
    reference_fixed: bool  # False: derived from the trials, not (yet) stored in the study
    table: pd.DataFrame  # one row per trial, by number; columns as in results/README.md
    front: pd.DataFrame  # the Pareto rows, sorted by the sort objective
    sort_column: str  # "flops" when recorded, else the first minimised objective

    @property
    def hypervolume(self) -> float:
        return float(self.table["hypervolume"].iloc[-1]) if len(self.table) else 0.0

    def counts(self) -> dict[str, int]:
        counts = self.table["state"].value_counts() if len(self.table) else {}
        return {state: int(counts.get(state, 0)) for state in rf.TRIAL_STATES}

    @property
    def metric_columns(self) -> list[str]:
        """Objectives first, then every other recorded metric."""
        return [
            c
            for c in self.table.columns
            if c not in _LEADING and c not in _TRAILING and not c.startswith("seconds_")
        ]

    def reference_dict(self) -> dict[str, float]:
        return {o.name: v for o, v in zip(self.objectives, self.reference_point)}


def analyse_study(study: optuna.Study, *, arch_yaml: bool = True) -> RunResults:
    """Builds the trials table, the front and the hypervolume history. `arch_yaml=False`
    leaves the arch_yaml column empty (YAML-dumping 1,000 architectures takes a second)."""
    import pandas as pd

    objectives = study_objectives(study)
    names = [o.name for o in objectives]
    directions = [o.direction for o in objectives]
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    rows = [_trial_row(trial, objectives, arch_yaml) for trial in trials]
    points = [[row[n] for n in names] if _eligible(row, names) else None for row in rows]
    reference, fixed = _reference(study, objectives, [p for p in points if p is not None])
    history = hypervolume_history(points, reference, directions)
    ranks = nondominated_ranks([p or [math.nan] * len(names) for p in points], directions)
    for row, rank, volume in zip(rows, ranks, history):
        row["pareto"] = rank == 0
        row["rank"] = rank if rank >= 0 else None
        row["hypervolume"] = volume
    table = pd.DataFrame(rows, columns=_columns(rows, names))
    table["pareto"] = table["pareto"].astype(bool)  # an empty object column would not mask
    sort_column = _sort_column(table, objectives)
    front = table[table["pareto"]].sort_values([sort_column, "number"], kind="stable")
    return RunResults(
        objectives, reference, fixed, table, front.reset_index(drop=True), sort_column
    )


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: see results/README.md for the columns."""
    return analyse_study(study).table


def _eligible(row: dict[str, Any], names: list[str]) -> bool:
    return row["state"] == rf.COMPLETE and all(
        isinstance(row.get(n), int | float) and math.isfinite(row[n]) for n in names
    )


def _trial_row(
    trial: optuna.trial.FrozenTrial, objectives: list[Objective], arch_yaml: bool
) -> dict[str, Any]:
    attrs = trial.user_attrs
    metrics = _flatten(attrs.get(rf.ATTR_METRICS) or {})
    state = trial_state(trial)
    # Optuna's values are the objectives of a complete trial; an infeasible one is told
    # placeholder values (the worst accuracy), which are not measurements.
    if state == rf.COMPLETE and trial.values and len(trial.values) == len(objectives):
        metrics.update({o.name: float(v) for o, v in zip(objectives, trial.values)})
    seconds = attrs.get(rf.ATTR_SECONDS) or {}
    finished = trial.datetime_complete
    return {
        "number": trial.number,
        "state": state,
        **metrics,
        "summary": attrs.get(rf.ATTR_SUMMARY),
        "epochs": attrs.get(rf.ATTR_EPOCHS),
        **{f"seconds_{k}": v for k, v in seconds.items() if isinstance(v, int | float)},
        "datetime_start": trial.datetime_start.isoformat() if trial.datetime_start else None,
        "datetime_complete": finished.isoformat() if finished else None,
        "duration_s": trial.duration.total_seconds() if trial.duration else None,
        "error": attrs.get(rf.ATTR_ERROR),
        "arch_yaml": _arch_yaml(attrs.get(rf.ATTR_ARCH)) if arch_yaml else None,
    }


def _flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists are dropped (they belong in metrics.json)."""
    flat: dict[str, Any] = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif value is None or isinstance(value, bool | int | float | str):
            flat[f"{prefix}{key}"] = value
    return flat


def _arch_yaml(arch: Any) -> str | None:
    # The search rewrites trials.csv after every trial: dump each architecture once.
    return _yaml_of(json.dumps(arch)) if isinstance(arch, dict) else None


@functools.lru_cache(maxsize=8192)
def _yaml_of(document: str) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(
        json.loads(document), Dumper=dumper, sort_keys=False, default_flow_style=None, width=1000
    )


_LEADING = ("number", "state", "pareto", "rank")
_TRAILING = (
    "summary",
    "epochs",
    "datetime_start",
    "datetime_complete",
    "duration_s",
    "hypervolume",
    "error",
    "arch_yaml",
)


def _columns(rows: list[dict[str, Any]], objective_names: list[str]) -> list[str]:
    """number, state, pareto, rank, objectives, other metrics, then the trailing columns."""
    metrics: dict[str, None] = dict.fromkeys([*_LEADING, *objective_names])
    seconds: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key.startswith("seconds_"):
                seconds[key] = None
            elif key not in _TRAILING:
                metrics[key] = None
    return [*metrics, *_TRAILING[:2], *seconds, *_TRAILING[2:]]


def _sort_column(table: pd.DataFrame, objectives: list[Objective]) -> str:
    if "flops" in table.columns:
        return "flops"
    minimised = [o.name for o in objectives if o.direction == MINIMIZE]
    return (minimised or [objectives[0].name])[0]


def _reference(
    study: optuna.Study, objectives: list[Objective], points: list[list[float]]
) -> tuple[list[float], bool]:
    stored = study.user_attrs.get(rf.STUDY_REFERENCE_POINT)
    if isinstance(stored, dict):
        stored = [stored.get(o.name) for o in objectives]
    if not isinstance(stored, list) or len(stored) != len(objectives):
        stored = reference_point_for(objectives)
    if all(v is not None for v in stored):
        return [float(v) for v in stored], True
    filled = complete_reference(stored, points, [o.direction for o in objectives])
    return filled, False


def fix_reference_point(study: optuna.Study, results: RunResults) -> None:
    """Stores a reference point derived from trials, once every objective has a value:
    from then on it stays fixed for the run."""
    if not results.reference_fixed and results.table["pareto"].any():
        study.set_user_attr(rf.STUDY_REFERENCE_POINT, results.reference_point)
        results.reference_fixed = True


# --- files the search refreshes after every trial -------------------------------------


def write_tables(
    run_dir: str | os.PathLike, study: optuna.Study, results: RunResults | None = None
) -> RunResults:
    """Writes trials.csv and pareto.csv atomically; returns the analysis behind them."""
    results = results or analyse_study(study)
    write_csv(Path(run_dir) / rf.TRIALS_CSV, results.table)
    write_csv(Path(run_dir) / rf.PARETO_CSV, results.front)
    return results


def prune_weights(
    run_dir: str | os.PathLike,
    study: optuna.Study,
    results: RunResults | None = None,
    *,
    keep_ranks: int = 1,
) -> list[Path]:
    """Deletes the weights of finished trials outside the first `keep_ranks` fronts.

    A dominated trial never returns to the front (the front only improves), so export
    never lacks the weights of a Pareto model. Running trials and trials the study does
    not know are left alone. Returns the removed files.
    """
    results = results or analyse_study(study)
    table = results.table
    keep = {
        int(n)
        for n, r in zip(table["number"], table["rank"])
        if r is not None and not math.isnan(r) and r < keep_ranks
    }
    finished = {int(n) for n, s in zip(table["number"], table["state"]) if s in _TERMINAL}
    removed = []
    for weights in sorted(Path(run_dir, rf.TRIALS_DIR).glob(f"*/{rf.WEIGHTS_FILE}")):
        number = int(weights.parent.name) if weights.parent.name.isdigit() else None
        if number in finished and number not in keep:
            weights.unlink(missing_ok=True)
            removed.append(weights)
    return removed


def update_run_folder(
    run_dir: str | os.PathLike, study: optuna.Study, *, plots: bool = True, keep_ranks: int = 1
) -> RunResults:
    """After each trial: fix the reference point if it was open, rewrite the tables,
    prune dominated weights, redraw the plots. One analysis serves all four."""
    results = analyse_study(study)
    fix_reference_point(study, results)
    write_tables(run_dir, study, results)
    prune_weights(run_dir, study, results, keep_ranks=keep_ranks)
    if plots:
        from nas.plots import write_plots

        write_plots(run_dir, results, study)
    return results


# --- the reference point of a new run ---------------------------------------------------


def run_reference_point(
    objectives: list[Objective],
    space: Any = None,
    constraints: dict[str, dict[str, float]] | None = None,
    explicit: dict[str, float] | None = None,
) -> list[float | None]:
    """The reference point to store in a new study (see `nas.pareto.reference_point_for`).

    A minimised FLOPs or params objective with no constraint takes the largest value in
    `space` (`space_upper_bounds`); anything still unknown is None and is fixed by
    `update_run_folder` from the first completed trials.
    """
    point = reference_point_for(objectives, constraints, explicit=explicit)
    missing = [o.name for o, v in zip(objectives, point) if v is None]
    countable = [n for n in missing if n in ("flops", "params")]
    if space is not None and countable:
        point = reference_point_for(
            objectives, constraints, space_upper_bounds(space, countable), explicit
        )
    return point


def space_upper_bounds(space: Any, names: list[str], budget: int = 48) -> dict[str, float]:
    """The largest FLOPs/params among the space's "largest" architectures.

    Every number takes its largest value (strides and patches their smallest), and every
    combination of named choices (block types, norms, ...) is tried, up to `budget`
    architectures; FLOPs and params grow with all of those, so this is the space's maximum
    whenever the combinations fit in the budget.
    """
    from evaluators.flops import count_flops
    from search_space import build_model, count_params, sample_architecture

    bounds: dict[str, float] = {}
    for arch in _largest_architectures(space, sample_architecture, budget):
        model = build_model(arch).eval()
        values = {"params": float(count_params(model))}
        if "flops" in names:
            shape = (arch.input.channels, arch.input.resolution, arch.input.resolution)
            values["flops"] = count_flops(model, shape)["flops"]
        for name in names:
            bounds[name] = max(bounds.get(name, 0.0), values[name])
    return bounds


class _LargestChooser:
    """Numbers at their largest; the i-th named choice takes `picks[i]` (0 beyond)."""

    _SMALLER_IS_LARGER = ("stride", "patch")  # fewer pixels removed -> more compute

    def __init__(self, picks: list[int]):
        self.picks, self.counts = picks, []

    def choose(self, name: str, param: Any) -> Any:
        from search_space.params import Choice, Fixed, IntRange

        if isinstance(param, Fixed):
            return param.value
        values = param.values() if isinstance(param, Choice) else [param.low, param.high]
        if isinstance(param, IntRange):
            values = [param.low, param.low + (param.high - param.low) // param.step * param.step]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            smaller = name.rsplit(".", 1)[-1] in self._SMALLER_IS_LARGER
            return min(values) if smaller else max(values)
        index = len(self.counts)
        self.counts.append(len(values))
        return values[self.picks[index] if index < len(self.picks) else 0]


def _largest_architectures(space: Any, sample: Any, budget: int) -> list[Any]:
    # Walks the define-by-run tree of named choices depth first: each visit replays a
    # prefix of picks and queues every alternative after the prefix.
    pending, found = [[]], []
    while pending and len(found) < budget:
        picks = pending.pop()
        chooser = _LargestChooser(picks)
        found.append(sample(space, chooser))
        for position in range(len(chooser.counts) - 1, len(picks) - 1, -1):
            for alternative in range(chooser.counts[position] - 1, 0, -1):
                pending.append([*picks, *[0] * (position - len(picks)), alternative])
    return found
