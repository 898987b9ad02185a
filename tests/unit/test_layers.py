"""The package's layer order, read from the source: no cycles, no import going up.

Every ``import`` under ``src/dpshowcase`` is parsed with :mod:`ast`, including the ones
inside functions (an import hidden in a function still makes a cycle; it only moves
the failure from import time to run time). The layers, lowest first:

    errors, _version,      the exception tree, the version, the kernels' thread rule,
    _threads, progress     the Progress type: no dpshowcase imports
    _io                    writing files atomically
    schema                 how columns become attributes
    data                   reading and encoding sensitive records
    aggregate              counting combinations, resolution rounding, protected counts
    privacy                the DP mechanism, its noise and its accounting
    synthesize             records from protected counts (post-processing)
    kanon                  the k-anonymity mechanisms and their synthesizers
    evaluate               metrics and the report
    ledger                 the privacy ledger: lineages, composition, withdrawals
    release                one release, start to finish: the bundle
    web                    the local web app
    cli                    the command line
    dpshowcase (__init__)  the public API, above everything; beside it ``testing``
                           (test-only helpers: nothing in the package imports them)

A module may import from its own package and from lower layers only. A new package
must be given its place in :data:`LAYERS` (the test says so). An import inside a
function must say why it is deferred (a comment containing "Deferred" on the line
above the import block or on the import line): only a heavy dependency kept out of a
fast path (``--help``, a seeded run) is a reason.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "dpshowcase"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_version", "_threads", "progress"),
    ("_io",),
    ("schema",),
    ("data",),
    ("aggregate",),
    ("privacy",),
    ("synthesize",),
    ("kanon",),
    ("evaluate",),
    ("ledger",),
    ("release",),
    ("web",),
    ("cli",),
    (ROOT, "testing"),
)
"""Lowest first. Packages in one tuple are peers: neither may import the other."""


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is and whether it sits in a function."""

    source: str
    target: str
    path: Path
    line: int
    in_function: bool

    def where(self) -> str:
        return f"{self.path.relative_to(SRC.parent)}:{self.line}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def _targets(
    node: ast.Import | ast.ImportFrom, name: str, path: Path, known: set[str]
) -> list[str]:
    """The dpshowcase modules an import statement loads (submodules named in it too)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == ROOT]
    if node.level:
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        base = package[: len(package) - node.level + 1]
        module = ".".join([*base, node.module] if node.module else base)
    else:
        module = node.module or ""
    if module.split(".")[0] != ROOT:
        return []
    submodules = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in known]
    return submodules or [module]


def _imports() -> list[Import]:
    modules = _modules()
    known = set(modules)
    found: list[Import] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        in_function: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                in_function.update(id(sub) for sub in ast.walk(node))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, name, path, known):
                    found.append(Import(name, target, path, node.lineno, id(node) in in_function))
    return found


def _component(module: str) -> str:
    """The layer unit of a module: ``dpshowcase.<component>...`` or the root itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _package(module: str, modules: dict[str, Path]) -> str:
    """The Python package a module belongs to (a package's ``__init__`` is the package)."""
    if modules[module].name == "__init__.py":
        return module
    return module.rsplit(".", 1)[0]


def _rank() -> dict[str, int]:
    return {name: level for level, names in enumerate(LAYERS) for name in names}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that starts and ends at the same node, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_parser_sees_function_level_imports():
    """The test itself: a function-level import is found and marked as such."""
    imports = _imports()
    assert any(i.in_function for i in imports)
    assert any(not i.in_function for i in imports)
    assert all(i.target.startswith(ROOT) for i in imports)


def test_every_package_has_a_layer():
    components = {_component(m) for m in _modules()}
    missing = sorted(components - set(_rank()))
    assert not missing, (
        f"{missing} not in the layer order: add each to LAYERS in tests/unit/test_layers.py "
        "at the lowest level its imports allow."
    )


def test_imports_go_down_the_layer_order():
    rank = _rank()
    wrong = []
    for imp in _imports():
        src, dst = _component(imp.source), _component(imp.target)
        if src == dst:
            continue
        if src not in rank or dst not in rank or rank[dst] >= rank[src]:
            wrong.append(f"{imp.where()}: {src} imports {imp.target} ({dst} is not below {src})")
    assert not wrong, "imports up (or across) the layer order:\n" + "\n".join(wrong)


def test_no_cycle_between_packages():
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in _imports():
        a, b = _package(imp.source, modules), _package(imp.target, modules)
        if a != b and not a.startswith(f"{b}.") and not b.startswith(f"{a}."):
            graph[a].add(b)
    components: dict[str, set[str]] = defaultdict(set)
    for imp in _imports():
        a, b = _component(imp.source), _component(imp.target)
        if a != b:
            components[a].add(b)
    for name, g in (("packages", graph), ("top-level packages", components)):
        cycle = _cycle(g)
        assert cycle is None, f"a cycle of {name}: {' -> '.join(cycle)}"


def test_no_cycle_between_modules():
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in _imports():
        if imp.target != imp.source:
            graph[imp.source].add(imp.target)
    cycle = _cycle(graph)
    assert cycle is None, f"a cycle of modules: {' -> '.join(cycle)}"


def _function_imports_without_reason() -> list[str]:
    bare = []
    for path in sorted((SRC / ROOT).rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            nodes = [n for n in ast.walk(func) if isinstance(n, ast.Import | ast.ImportFrom)]
            covered = {ln for n in nodes for ln in range(n.lineno, (n.end_lineno or n.lineno) + 1)}
            for node in nodes:
                if "deferred" in lines[node.lineno - 1].lower():
                    continue
                line = node.lineno - 1
                while line in covered or not lines[line - 1].strip():
                    line -= 1
                if "deferred" not in lines[line - 1].lower():
                    bare.append(f"{path.relative_to(SRC.parent)}:{node.lineno}")
    return sorted(set(bare))


def test_function_level_imports_say_why_they_are_deferred():
    bare = _function_imports_without_reason()
    assert not bare, (
        "imports inside functions without a '# Deferred: <why>' comment (move them to the "
        "top of the module unless a heavy dependency is kept out of a fast path on "
        "purpose):\n" + "\n".join(bare)
    )


@pytest.mark.parametrize(
    ("graph", "has_cycle"),
    [
        ({"a": {"b"}, "b": {"c"}}, False),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"a"}}, True),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
    ],
)
def test_cycle_finder(graph, has_cycle):
    """The cycle finder finds the cycles it is meant to (and only those)."""
    assert (_cycle(graph) is not None) == has_cycle
