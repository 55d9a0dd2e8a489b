"""Design-space analysis of a run's trials table: which design choice wins at which budget.

Pure functions over a pandas DataFrame shaped like trials.csv (results/README.md):
`analyze_table` (groups of one run) and `compare_tables` (runs as groups) return
JSON-able documents; `render_analysis`/`render_comparison` print them; `plots` and
`nas.runs.html` draw them.
"""

from nas.runs.analysis.analyze import RunTable, analyze_table, compare_tables
from nas.runs.analysis.bootstrap import parse_budget
from nas.runs.analysis.edf import parse_band
from nas.runs.analysis.objectives import DEFAULT_GOALS, Goal, goals_from
from nas.runs.analysis.text import render_analysis, render_comparison

__all__ = [
    "DEFAULT_GOALS",
    "Goal",
    "RunTable",
    "analyze_table",
    "compare_tables",
    "goals_from",
    "parse_band",
    "parse_budget",
    "render_analysis",
    "render_comparison",
]
