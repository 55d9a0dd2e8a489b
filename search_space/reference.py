"""Markdown tables of every registered component's keys, for the README's YAML reference.

python -m search_space.reference             # prints the tables
python -m search_space.reference README.md   # rewrites them between the README's markers
"""

from __future__ import annotations

import sys
from pathlib import Path

import search_space.builder  # noqa: F401  (registers every component)
from search_space.options import Option
from search_space.registry import BLOCKS, HEADS, STEMS, TRANSITIONS, Registry


def _value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _allowed(option: Option) -> str:
    if option.choices is not None:
        text = " \\| ".join(_value(c) for c in option.choices)
    else:
        text = {int: "integer", float: "number", bool: "true \\| false", str: "text"}[option.kind]
        if option.minimum is not None:
            text += f" >= {option.minimum:g}"
        if option.maximum is not None:
            text += f" <= {option.maximum:g}"
        if option.odd:
            text += ", odd"
    return text + (" \\| null" if option.nullable else "")


def component_table(registry: Registry, name: str) -> str:
    """One Markdown table: key, default, allowed values, meaning."""
    cls = registry.get(name)
    rows = [
        f"**`{name}`** {(cls.__doc__ or '').strip().splitlines()[0]}",
        "",
        "| key | default | allowed | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for key, option in cls.OPTIONS.items():
        rows.append(f"| `{key}` | `{_value(option.default)}` | {_allowed(option)} | {option.doc} |")
    if not cls.OPTIONS:
        rows.append("| (none) | | | |")
    return "\n".join(rows)


def reference_markdown() -> str:
    """The bundled components' tables; plug-ins registered in this process are left out,
    since the README documents what ships with the package."""
    sections = []
    for title, registry in (("Stems", STEMS), ("Blocks", BLOCKS), ("Heads", HEADS)):
        sections.append(f"#### {title}\n")
        names = [name for name in registry.names() if _bundled(registry.get(name))]
        sections += [component_table(registry, name) + "\n" for name in names]
    sections.append(transition_table())
    sections.append(_ties_markdown())
    return "\n".join(sections)


def transition_table() -> str:
    """The stage's `downsample` values that are layers of their own."""
    rows = [
        "#### Transitions (a stage's `downsample`)\n",
        "`block` and `pool` stride the stage's first block (see `stages`); these are layers",
        "of their own, placed before the stage's blocks where the stride or width changes.",
        "",
        "| downsample | layer |",
        "| --- | --- |",
    ]
    for name in TRANSITIONS.names():
        cls = TRANSITIONS.get(name)
        if _bundled(cls):
            rows.append(f"| `{name}` | {cls.SUMMARY} |")
    return "\n".join(rows) + "\n"


def _ties_markdown() -> str:
    """The ``tied:`` section, in the words of its module's docstring."""
    from search_space import ties

    doc = (ties.__doc__ or "").strip().split("\n\n")
    lines = [
        "#### Tied choices (`tied:`)\n",
        " ".join(doc[0].split()) + "\n",
        " ".join(doc[1].split()),
    ]
    lines.append(" ".join(doc[3].split()))
    lines = [line.replace("``", "`") for line in lines]  # reST literals to Markdown
    example = ["```yaml", *[line[4:] for line in doc[2].splitlines()], "```"]
    return "\n".join([*lines[:3], "", *example, "", *lines[3:]]) + "\n"


def _bundled(cls: type) -> bool:
    return cls.__module__.startswith("search_space.")


START, END = "<!-- REFERENCE START -->", "<!-- REFERENCE END -->"


def readme_section(text: str) -> str:
    """The generated part of a README (between the markers)."""
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def rewrite_readme(path: Path) -> None:
    text = path.read_text()
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{START}\n{reference_markdown()}\n{END}{after}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        rewrite_readme(Path(sys.argv[1]))
    else:
        print(reference_markdown())
