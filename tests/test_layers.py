"""The layout is the architecture: layers import only downwards, no two modules import each
other (not even inside a function), ingest stands on the bottom two layers only, and every
module says in its first line what it holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Bottom to top; a module may import its own layer and the ones below it.
LAYERS = ("core", "storage", "question", "search", "answering", "generation", "app", "eval", "interfaces")
INGEST_MAY_USE = ("core", "storage")  # ingest/ stands on the shared records and storage only
IMPORTERS_OF_INGEST = ("app", "interfaces")  # the root hands out its library; the CLI runs `ingest`


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of assistant/ and ingest/."""
    found = {}
    for package in ("assistant", "ingest"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules of the project ``name`` imports anywhere in its file (function bodies too)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x, from ..y import z
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(name: str) -> str:
    """The layer of a module: its subpackage of assistant/, "app", "ingest", or "api" (the package's face)."""
    parts = name.split(".")
    if parts[0] == "ingest":
        return "ingest"
    if len(parts) == 1:
        return "api"
    if parts[1] == "__main__":
        return "interfaces"
    return parts[1]


def test_every_module_of_assistant_is_in_a_layer() -> None:
    assert {_layer(n) for n in MODULES} <= {*LAYERS, "ingest", "api"}
    assert {_layer(n) for n in MODULES if n.startswith("assistant.")} == set(LAYERS)


def test_layers_import_only_downwards() -> None:
    upward = []
    for name, targets in GRAPH.items():
        layer = _layer(name)
        if layer in ("ingest", "api"):
            continue
        for target in targets:
            other = _layer(target)
            if other == "ingest":
                if layer not in IMPORTERS_OF_INGEST:
                    upward.append((name, target))
            elif other == "api" or LAYERS.index(other) > LAYERS.index(layer):
                upward.append((name, target))
    assert not upward, upward


def test_ingest_uses_only_the_records_and_storage() -> None:
    used = {
        (name, target)
        for name, targets in GRAPH.items()
        if name.startswith("ingest")
        for target in targets
        if _layer(target) not in (*INGEST_MAY_USE, "ingest")
    }
    assert not used, used


def test_no_import_cycles_even_inside_functions() -> None:
    # Tarjan's strongly connected components over the module graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            # a package's __init__ importing its own submodules lazily is its public face, not a cycle
            if len(component) > 1 and not all(c == "assistant" or _layer(c) == "app" for c in component):
                cycles.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert not cycles, cycles


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_opens_with_a_line_saying_what_it_holds(name: str) -> None:
    docstring = ast.get_docstring(ast.parse(MODULES[name].read_text()), clean=False)
    assert docstring, f"{name} has no module docstring"
    first = docstring.strip().splitlines()[0]
    assert first.strip() and len(first) <= 110, first
