"""The self-contained offline report (`RUN/report.html`): plotly.js inlined, no CDN."""

from nas.runs.html.report import build_report, write_report

__all__ = ["build_report", "write_report"]
