"""The run's pictures: the front over all trials, hypervolume versus trials, and an
interactive front (Optuna's plotly figure) when plotly is installed.

Matplotlib is used through its object API (`Figure` + the Agg canvas), never pyplot, so
drawing touches no global state and works in any thread or headless process.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas.console import human
from nas.runs import format as rf
from nas.runs.atomic import atomic_path
from nas.runs.pareto import MAXIMIZE, MINIMIZE

if TYPE_CHECKING:
    import optuna
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from nas.runs.results import RunResults

_LOG_SCALE = ("flops", "params", "latency_ms")  # costs that span decades across a space
_MAX_LABELS = 12  # front points labelled with their trial number; more would overlap


def write_plots(
    run_dir: str | os.PathLike, results: RunResults, study: optuna.Study | None = None
) -> list[Path]:
    """Writes plots/pareto.png, plots/hypervolume.png and, with plotly and a study,
    plots/pareto.html. Returns the files written."""
    folder = Path(run_dir) / rf.PLOTS_DIR
    written = [
        _save(pareto_figure(results), folder / rf.PARETO_PNG),
        _save(hypervolume_figure(results), folder / rf.HYPERVOLUME_PNG),
    ]
    if study is not None:
        html = write_pareto_html(results, study, folder / rf.PARETO_HTML)
        written += [html] if html else []
    return written


def plot_axes(results: RunResults) -> tuple[str, str]:
    """(x, y) columns: the sort cost (FLOPs) across, the first gain (accuracy) up."""
    names = [o.name for o in results.objectives]
    x = results.sort_column if results.sort_column in names else names[0]
    gains = [o.name for o in results.objectives if o.direction == MAXIMIZE and o.name != x]
    y = (gains or [n for n in names if n != x])[0]
    return x, y


def pareto_figure(results: RunResults) -> Figure:
    """Every trial with values as a point; the front highlighted, joined and labelled."""
    x, y = plot_axes(results)
    figure, axes = _figure()
    table = results.table
    shown = table[table[x].notna() & table[y].notna()] if len(table) else table
    for state, style in (
        (rf.COMPLETE, {"color": "0.6", "marker": "o"}),
        (rf.INFEASIBLE, {"color": "tab:orange", "marker": "x"}),
        (rf.STOPPED_EARLY, {"color": "0.8", "marker": "v"}),
    ):
        rows = shown[(shown["state"] == state) & ~shown["pareto"]]
        if len(rows):
            axes.scatter(rows[x], rows[y], s=18, alpha=0.7, label=f"{state} ({len(rows)})", **style)
    front = results.front.sort_values(x)
    if len(front):
        axes.plot(front[x], front[y], color="tab:red", linewidth=1, drawstyle=_step(results, x, y))
        axes.scatter(
            front[x],
            front[y],
            s=40,
            color="tab:red",
            zorder=3,
            label=f"Pareto front ({len(front)})",
        )
        for _, row in _spread(front, _MAX_LABELS).iterrows():
            axes.annotate(
                f"#{int(row['number'])}",
                (row[x], row[y]),
                fontsize=7,
                xytext=(4, -9),
                textcoords="offset points",
            )
    _log_if_costly(axes, shown[x] if len(shown) else [], x)
    axes.set_xlabel(_label(results, x))
    axes.set_ylabel(_label(results, y))
    title = f"{len(front)} Pareto-optimal of {len(table)} trials"
    if len(results.objectives) > 2:
        title += f" (front over {len(results.objectives)} objectives)"
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    if len(shown):
        axes.legend(fontsize=8, loc="lower right")
    return figure


def hypervolume_figure(results: RunResults) -> Figure:
    """Hypervolume after each trial, against the run's fixed reference point."""
    figure, axes = _figure()
    table = results.table
    if len(table):
        axes.step(table["number"], table["hypervolume"], where="post", color="tab:blue")
        if len(table) <= 200:  # beyond that the dots merge into a bar
            axes.scatter(table["number"], table["hypervolume"], s=8, color="tab:blue")
    reference = ", ".join(f"{k}={_number(v)}" for k, v in results.reference_dict().items())
    axes.set_title(f"hypervolume vs trials (reference: {reference})", fontsize=10)
    axes.set_xlabel("trial")
    axes.set_ylabel("hypervolume (" + " x ".join(o.name for o in results.objectives) + ")")
    axes.grid(True, alpha=0.3)
    return figure


def write_pareto_html(results: RunResults, study: optuna.Study, path: Path) -> Path | None:
    """Optuna's interactive front (plotly), self-contained; None when plotly is missing."""
    try:
        import optuna.visualization as visualization
    except ImportError:
        return None
    if not visualization.is_available():
        return None
    x, y = plot_axes(results)
    names = [o.name for o in results.objectives]
    shown = names if len(names) <= 3 else [x, y]
    table = results.table
    recorded = dict(zip(table["number"], table[shown].itertuples(index=False)))
    eligible = set(table["number"][table["state"] == rf.COMPLETE])
    positions = [names.index(n) for n in shown]
    values = {}
    for trial in study.get_trials(deepcopy=False):
        if trial.state.name == "COMPLETE":  # Optuna plots every one: each needs its values
            ours = [float(v) for v in recorded.get(trial.number, [math.nan] * len(shown))]
            told = [float(trial.values[i]) for i in positions] if trial.values else ours
            point = [a if math.isfinite(a) else b for a, b in zip(ours, told)]
            if not all(map(math.isfinite, point)):
                return None
            values[trial.number] = point
    if not values:  # nothing to draw (Optuna would also log a warning)
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constraints_func is flagged experimental
        figure = visualization.plot_pareto_front(
            study,
            target_names=shown,
            targets=lambda trial: values[trial.number],
            constraints_func=lambda trial: [0.0 if trial.number in eligible else 1.0],
        )
    if len(shown) == 2 and x in _LOG_SCALE and x == shown[0]:
        figure.update_xaxes(type="log")
    with atomic_path(path) as temporary:
        figure.write_html(temporary, include_plotlyjs=True)  # opens offline
    return path


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> Path:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return path


def _spread(front: Any, count: int) -> Any:
    """At most `count` rows spread evenly along the front, both ends included."""
    if len(front) <= count:
        return front
    positions = sorted({round(i * (len(front) - 1) / (count - 1)) for i in range(count)})
    return front.iloc[positions]


def _step(results: RunResults, x: str, y: str) -> str:
    # The front of "min x, max y" rises left to right; its dominated region is a staircase.
    directions = {o.name: o.direction for o in results.objectives}
    if directions.get(x) == MINIMIZE and directions.get(y) == MAXIMIZE:
        return "steps-post"
    return "default"


def _log_if_costly(axes: Axes, values: Any, name: str) -> None:
    from matplotlib.ticker import FuncFormatter

    values = [float(v) for v in values]
    if values and min(values) > 0 and (name in _LOG_SCALE or max(values) / min(values) > 100):
        axes.set_xscale("log")
    if name in ("flops", "params"):  # 2M, 5M, 20M rather than 2x10^6
        axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: human(value)))
        axes.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: _minor_label(value)))


def _minor_label(value: float) -> str:
    # On a log axis label 2, 3 and 5 of each decade: enough to read, few enough to fit.
    leading = value / 10 ** math.floor(math.log10(value)) if value > 0 else 0
    return human(value) if round(leading) in (2, 3, 5) else ""


def _label(results: RunResults, name: str) -> str:
    direction = {o.name: o.direction for o in results.objectives}.get(name)
    arrow = {MAXIMIZE: " (higher is better)", MINIMIZE: " (lower is better)"}.get(direction, "")
    unit = " (1 multiply-add = 1 FLOP)" if name == "flops" else ""
    return f"{name}{unit}{arrow}"


def _number(value: float) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return f"{value:.3g}"
