"""The layout's rules, checked on the code itself: imports run one way, drivers stay in the engines.

Every module of the package is parsed (not imported) and its imports resolved, so a rule
broken anywhere fails here with the module and the import that broke it.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
# Packages whose modules only the engines may import.
DRIVERS = ("duckdb", "neo4j", "graphdatascience", "networkit", "pyspark")
ENGINE_NAMES = ("embedded", "neo4j", "spark")


def _modules() -> dict[str, Path]:
    """Every module of the installed package by dotted name, from pyproject's package folders."""
    found = {}
    for package, folder in PYPROJECT["package-dir"].items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in a module; relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import module` imports the module; `from pkg import name` needs pkg itself.
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
            out += [(m, node.lineno) for m in submodules]
            if len(submodules) < len(node.names):
                out.append((base, node.lineno))
    return out


def _violations(where, forbidden) -> list[str]:
    bad = []
    for name, path in MODULES.items():
        if where(name):
            bad += [f"{name}:{line} imports {target}" for target, line in _imports(name, path) if forbidden(target)]
    return bad


def test_every_package_folder_is_installed():
    listed = set(PYPROJECT["packages"])
    folders = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert folders == listed


def test_ingest_and_scenarios_import_nothing_downstream():
    downstream = ("ringwatch.graph", "ringwatch.dashboard", "ringwatch.cli", "ringwatch.commands")
    upstream = lambda n: n.startswith(("ringwatch.ingest", "ringwatch.scenarios"))
    assert _violations(upstream, lambda t: t.startswith(downstream)) == []


def test_the_library_never_imports_the_command_line():
    assert _violations(lambda n: n.startswith("ringwatch.graph"),
                       lambda t: t.startswith(("ringwatch.cli", "ringwatch.commands", "ringwatch.dashboard"))) == []


def test_only_the_engines_import_a_database_driver():
    outside = lambda n: not n.startswith("ringwatch.graph.engines")
    assert _violations(outside, lambda t: t.split(".")[0] in DRIVERS) == []


def test_the_dashboard_uses_the_engines_public_face_only():
    internals = lambda t: t.startswith("ringwatch.graph.engines.")
    assert _violations(lambda n: n.startswith("ringwatch.dashboard"), internals) == []


def test_no_import_circle():
    """No module depends on itself through others, counting imports inside functions too."""
    graph = {name: {t for t, _ in _imports(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    # Importing a module imports its packages first.
    for name in MODULES:
        graph[name] |= {p for p in (name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1))
                        if p in MODULES and p != name and not name.startswith(p + ".")}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_no_branch_on_an_engine_name_outside_the_registry():
    bad = []
    for name, path in MODULES.items():
        if name.startswith("ringwatch.graph.engines"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                values = [node.left, *node.comparators]
                if any(isinstance(v, ast.Constant) and v.value in ENGINE_NAMES for v in values):
                    bad.append(f"{name}:{node.lineno}")
    assert bad == []


def test_settings_are_read_only_through_the_settings_table():
    bad = []
    for name, path in MODULES.items():
        if name == "ringwatch.settings":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("getenv", "environ"):
                call_site = ast.get_source_segment(path.read_text(), node)
                bad.append(f"{name}:{node.lineno} {call_site}")
    assert bad == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    assert len(MODULES[module].read_text().splitlines()) <= 420, f"{module}: split it by responsibility"
