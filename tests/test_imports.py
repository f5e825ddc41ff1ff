"""No module of mlpkit imports, directly or through others, a module that imports it back.

Every ``import`` statement counts, the lazy ones inside functions too: a cycle
that only closes at run time is still a knot in the design (the estimators
would know of the dashboard that builds on them). Outward packages plug in
through ``callbacks.FIT_OPTIONS``, by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mlpkit

PACKAGE = Path(mlpkit.__file__).parent


def modules() -> dict[str, tuple[Path, list[str]]]:
    """Dotted module name -> (file, the package it belongs to, as name parts)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        package = parts[:-1]
        if parts[-1] == "__init__":
            parts = package = parts[:-1]
        found[".".join(parts)] = (path, package)
    return found


def imported(tree: ast.AST, package: list[str], known: set[str]) -> set[str]:
    """The mlpkit modules an AST imports: ``from . import x`` counts as importing ``x`` when it is a
    module, and its package otherwise (a name the package defines)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            submodules = [f"{target}.{alias.name}" for alias in node.names]
            candidates = [name for name in submodules if name in known]
            if len(candidates) < len(submodules):
                candidates.append(target)
        elif _is_public_table(node):  # a package's _PUBLIC = {name: ".module"}, imported when first used
            candidates = [".".join(package[: len(package) - _dots(v.value) + 1] + [v.value.lstrip(".")])
                          for v in node.value.values]
        else:
            continue
        found.update(name for name in candidates if name in known)
    return found


def _is_public_table(node) -> bool:
    return (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["_PUBLIC"]
            and isinstance(node.value, ast.Dict))


def _dots(module: str) -> int:
    return len(module) - len(module.lstrip("."))


def import_graph() -> dict[str, set[str]]:
    known = modules()
    names = set(known)
    return {
        name: imported(ast.parse(path.read_text()), package, names) - {name} for name, (path, package) in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    knots = cycles(graph)
    described = [
        "; ".join(f"{m} -> {', '.join(sorted(graph[m] & set(knot)))}" for m in knot) for knot in knots
    ]
    assert not knots, "import cycles:\n" + "\n".join(described)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from . import b\n", {"pkg.b"}),  # a submodule
        ("from . import name_in_init\n", {"pkg"}),  # a name of the package itself
        ("def f():\n    from .b import thing\n", {"pkg.b"}),  # lazy imports count
        ("import pkg.b\n", {"pkg.b"}),
        ("_PUBLIC = {'thing': '.b', 'other': '.a'}\n", {"pkg.a", "pkg.b"}),  # names imported when first used
    ],
)
def test_the_graph_sees_every_kind_of_import(source, expected):
    assert imported(ast.parse(source), ["pkg"], {"pkg", "pkg.a", "pkg.b"}) == expected


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
