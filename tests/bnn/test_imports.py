"""The package's shape: the imports between the project's modules form no circle, and no bnn/ file is a room too big.

Imports are read from the source with `ast` (nothing is imported), anywhere in a file: an import inside a function
is as much a dependency as one at the top. Run this file to print the drawing, one module per line with the project
modules it imports, in an order where every module comes after everything it imports:

    python tests/bnn/test_imports.py
"""
import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("bnn", "datasets", "mtj")
MAX_LINES = 350


def module_files():
    """{dotted module name: path} of every .py file of the project's packages (a package is its __init__)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_modules(name, path, modules):
    """The project modules that module `name` (at `path`) imports: `from . import x` and `from pkg import x` count as
    importing module pkg.x when there is one, else pkg itself."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:   # `import a.b.c` of a non-module name: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph():
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph):
    """One import circle as a list of modules [a, b, ..., a], or None (depth-first search, three colours)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for successor in sorted(graph[node]):
            if state.get(successor) == "open":
                return stack[stack.index(successor):] + [successor]
            if successor not in state:
                cycle = visit(successor)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def layered(graph):
    """The modules in an order where each comes after every module it imports (graph must have no cycle)."""
    order, placed = [], set()
    while len(order) < len(graph):
        ready = sorted(n for n in graph if n not in placed and graph[n] <= placed)
        order += ready
        placed.update(ready)
    return order


def test_the_parser_resolves_relative_and_absolute_imports():
    graph = import_graph()
    assert "bnn.results" in graph["bnn.sweep_plot"]                  # from .results import ...
    assert "bnn.checkpoint" in graph["bnn.results"]                  # from .checkpoint import write_atomic
    assert "bnn.bridge" in graph["bnn.sweep_cli"]                    # from . import bridge, inside a function
    assert "datasets" in graph["bnn.checkpoint"]                     # from datasets import ...
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_mtj_and_datasets_import_nothing_from_bnn():
    graph = import_graph()
    for name, imports in graph.items():
        if name.split(".")[0] in ("mtj", "datasets"):
            assert not {m for m in imports if m.split(".")[0] == "bnn"}, name


def test_nothing_in_the_package_imports_the_sweep_facade():
    """bnn.sweep re-exports the sweep modules' public names; a module importing it would close a circle."""
    graph = import_graph()
    assert [name for name, imports in graph.items() if "bnn.sweep" in imports and name != "bnn.__main__"] == []


@pytest.mark.parametrize("path", sorted((REPO / "bnn").rglob("*.py")), ids=lambda p: str(p.relative_to(REPO)))
def test_no_bnn_file_is_over_the_line_limit(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines; one idea per file, at most {MAX_LINES}"


if __name__ == "__main__":
    graph = import_graph()
    cycle = find_cycle(graph)
    if cycle:
        sys.exit("import circle: " + " -> ".join(cycle))
    for name in layered(graph):
        print(f"{name:28s} -> {', '.join(sorted(graph[name])) or '-'}")
    print(f"\n{len(graph)} modules, no import circle")
