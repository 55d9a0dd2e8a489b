"""An HTML page of sections, each holding plotly figures (plain dicts) and tables.

plotly.js is inlined once (about 4.8 MB), so the file opens offline from disk or as an
e-mail attachment; figures are JSON handed to `Plotly.newPlot`. No CDN, no fetch.
"""

from __future__ import annotations

import functools
import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
.figure{width:100%;height:440px}.row{display:flex;flex-wrap:wrap;gap:8px}
.row .figure{flex:1 1 560px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
p.note{color:#555;font-size:13px}pre{font-size:12px;background:#f8f8f8;padding:8px}
"""


@dataclass
class Section:
    title: str
    figures: list[dict[str, Any]] = field(default_factory=list)  # {"data": [...], "layout": {}}
    tables: list[tuple[list[str], list[list[Any]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@functools.cache
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _json(value: Any) -> str:
    # Non-finite floats are not JSON; "</" would end the <script> element early.
    text = json.dumps(_finite(value), separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return _finite(value.item())
    return value


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.4g}"
    return "-" if value is None else str(value)


def render_page(title: str, sections: list[Section]) -> str:
    """The whole page as one string."""
    parts, scripts, count = [], [], 0
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [f'<p class="note">{html.escape(n)}</p>' for n in section.notes]
        parts.append('<div class="row">')
        for figure in section.figures:
            parts.append(f'<div class="figure" id="figure{count}"></div>')
            scripts.append(
                f'Plotly.newPlot("figure{count}",{_json(figure["data"])},'
                f'{_json(figure["layout"])},{{"responsive":true,"displaylogo":false,"displayModeBar":"hover"}});'
            )
            count += 1
        parts.append("</div>")
        parts += [_table(header, rows) for header, rows in section.tables]
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
        f"<script>{plotly_js()}</script></head><body><h1>{html.escape(title)}</h1>"
        + "".join(parts)
        + "<script>"
        + "\n".join(scripts)
        + "</script></body></html>"
    )
