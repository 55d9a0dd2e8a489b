"""The project's imports flow one way and never in a circle.

Every module under search_space/, evaluators/ and nas/ is parsed (not imported), and each
`import` / `from ... import` is an edge: at module level and inside functions alike, since
a function-level import runs too, only later. Imports under `if TYPE_CHECKING:` are left
out: they are read by type checkers only and never executed.

    search_space  <-  evaluators  <-  nas.engine (running a search)
                                  <-  nas.runs   (a run folder: readable without Ray)
                                  <-  nas.api, nas.cli
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("search_space", "evaluators", "nas")

# (importer prefix, forbidden import prefixes): the flow above, and Optuna/Ray kept out of
# the parts that must work without them.
FORBIDDEN = [
    ("search_space", ("evaluators", "nas", "optuna", "ray")),
    ("evaluators", ("nas", "optuna", "ray")),
    ("nas.runs", ("nas.engine", "nas.cli", "nas.api", "ray")),
    ("nas.engine", ("nas.cli", "nas.api")),
]


def _module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _module_files()


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith(
        "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those guarded by `if TYPE_CHECKING:`."""
    found, pending = [], [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        children = node.orelse if _is_type_checking(node) else ast.iter_child_nodes(node)
        pending.extend(children)
    return found


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names a statement imports: `from a import b` is a.b when that is a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}".strip(".")
    submodules = [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in submodules if name in MODULES] or [base]


def _imports() -> dict[str, set[str]]:
    """module -> every dotted name it imports (project modules and outside packages)."""
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[module] = {t for node in _import_nodes(tree) for t in _targets(module, node)}
    return graph


IMPORTS = _imports()


def _project_edges() -> dict[str, set[str]]:
    edges = {}
    for module, targets in IMPORTS.items():
        inside = set()
        for target in targets:
            while target and target not in MODULES:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != module:
                inside.add(target)
        edges[module] = inside
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while not component or component[-1] != node:
                        component.append(stack.pop())
                        on_stack.discard(component[-1])
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_walker_classifies_imports_as_documented() -> None:
    assert {"search_space", "evaluators", "nas", "nas.runs", "nas.engine", "nas.cli"} <= set(
        MODULES
    )
    assert "nas.runs.format" in IMPORTS["nas.runs.tables"]  # `from nas.runs import format`
    assert "nas.runs.study_reader" in IMPORTS["nas.runs.folder"]
    assert "nas.api" in IMPORTS["nas"]  # inside `__getattr__`: function-level counts
    assert "nas.runs.results" not in IMPORTS["nas.runs.plots"]  # only under TYPE_CHECKING


def test_no_module_imports_another_that_imports_it_back() -> None:
    assert _cycles(_project_edges()) == []


def test_a_planted_cycle_is_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]


@pytest.mark.parametrize(("importer", "forbidden"), FORBIDDEN)
def test_imports_flow_one_way(importer: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in IMPORTS.items()
        if _within(module, importer)
        for target in targets
        if any(_within(target, f) for f in forbidden)
    )
    assert wrong == []


def test_a_run_folder_is_readable_without_ray_loaded() -> None:
    runs = sorted(m for m in MODULES if _within(m, "nas.runs"))
    code = f"import sys\nfor m in {runs!r}: __import__(m)\nprint('ray' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
