"""The house's layout: no import circles, rooms that import only downwards, no private names
borrowed across modules. Read from the source (``ast``), so nothing is imported to check it.

An import counts wherever it is written (at the top or inside a function: a lazy import still
ties the two modules together), except under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("optviz", "functions")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:  # (the body is for the type checker only)
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
        else:
            yield from _imports(node)


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[:len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _edges(module: str, path: Path) -> set[str]:
    """The modules of this project that ``module`` imports (``from pkg import sub`` is ``pkg.sub``
    when ``sub`` is a module, else ``pkg``)."""
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = _base(module, path, node)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        out |= {n for n in names if n in MODULES and n != module}
    return out


GRAPH = {m: _edges(m, p) for m, p in MODULES.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each as one circle through
    them (``a -> b -> a``), for a readable message."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_path_around(graph, g) for g in groups]


def _path_around(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """One circle through the group's first module (breadth-first, so a short one)."""
    start, members = group[0], set(group)
    seen = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & members):
            if w == start:
                return [*seen[v], start]
            if w not in seen:
                seen[w] = [*seen[v], w]
                queue.append(w)
    return group  # pragma: no cover - a strongly connected group always has one


def _room(module: str) -> str:
    """``optviz.engine.fast.gpu`` -> ``optviz.engine``: the package below ``optviz`` a module is in
    (``optviz`` for the modules beside ``optviz/__init__.py``)."""
    parts = module.split(".")
    if parts[0] == "optviz" and len(parts) > 1 and (ROOT / "optviz" / parts[1]).is_dir():
        return ".".join(parts[:2])
    return parts[0]


def _show(circles: list[list[str]]) -> str:
    return "; ".join(" -> ".join(c) for c in circles)


#: The rooms of optviz (``optviz`` itself: its ``__init__`` and ``__main__``).
ROOMS = sorted({_room(m) for m in MODULES if m.startswith("optviz")})


@functools.cache
def _optviz_circles() -> list[list[str]]:
    return _circles({m: {e for e in es if e.startswith("optviz")} for m, es in GRAPH.items()
                     if m.startswith("optviz")})


@pytest.mark.parametrize("room", ROOMS)
def test_no_import_circles_through_room(room):
    circles = [c for c in _optviz_circles() if any(_room(m) == room for m in c)]
    assert not circles, f"import circles through {room}: {_show(circles)}"


def test_the_checker_sees_a_circle_and_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c", "a"]]
    tree = ast.parse("def f():\n    from optviz.engine import run\n"
                     "if TYPE_CHECKING:\n    import optviz.draw\n")
    assert [n.module for n in _imports(tree) if isinstance(n, ast.ImportFrom)] == ["optviz.engine"]
    assert "optviz.engine.run" in GRAPH["optviz"]


def test_functions_import_nothing_from_optviz():
    bad = {m: sorted(e for e in es if e.split(".")[0] == "optviz") for m, es in GRAPH.items()
           if m.split(".")[0] == "functions"}
    bad = {m: es for m, es in bad.items() if es}
    assert not bad, f"functions/ must not import optviz: {bad}"


def test_optimizers_import_nothing_from_other_optviz_rooms():
    bad = {m: sorted(e for e in es if e.startswith("optviz") and _room(e) != "optviz.optimizers")
           for m, es in GRAPH.items() if _room(m) == "optviz.optimizers"}
    bad = {m: es for m, es in bad.items() if es}
    assert not bad, f"optviz/optimizers must import only itself (and functions/): {bad}"


#: Rooms that serve several hosts, and the hosts they must not reach up into.
HOSTS = {"optviz.draw": ("optviz.dashboard", "optviz.notebook", "optviz.cli", "optviz.live"),
         "optviz.live": ("optviz.dashboard", "optviz.notebook", "optviz.cli")}


@pytest.mark.parametrize("room", sorted(HOSTS))
def test_shared_rooms_import_nothing_from_their_hosts(room):
    bad = {m: sorted(e for e in es if _room(e) in HOSTS[room]) for m, es in GRAPH.items() if _room(m) == room}
    bad = {m: es for m, es in bad.items() if es}
    assert not bad, f"{room} is shared by the dashboard, the web page and the notebook; it imports: {bad}"


@functools.cache
def _private_imports() -> list[str]:
    """``from x import _name`` where ``x`` is another module of this project."""
    out = []
    for module, path in MODULES.items():
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _base(module, path, node)
            if base.split(".")[0] not in PACKAGES:
                continue
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} from {base} import {a.name}")
    return out


def _module_aliases(module: str, path: Path, tree: ast.AST) -> dict[str, str]:
    """The names under which ``module`` imported other modules of this project."""
    out = {}
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            out |= {a.asname or a.name.split(".")[0]: a.name for a in node.names if a.name in MODULES}
        else:
            base = _base(module, path, node)
            out |= {a.asname or a.name: f"{base}.{a.name}" for a in node.names
                    if f"{base}.{a.name}" in MODULES}
    return out


@functools.cache
def _private_attributes() -> list[str]:
    """``module._name`` where ``module`` is another module of this project (the same borrowing as
    ``from module import _name``, written another way)."""
    out = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        aliases = _module_aliases(module, path, tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and aliases[node.value.id] != module
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {aliases[node.value.id]}.{node.attr}")
    return sorted(set(out))


def _in_room(line: str, room: str) -> bool:
    return _room(_module_name(ROOT / line.split(":")[0])) == room


@pytest.mark.parametrize("room", ROOMS)
def test_no_private_names_imported_across_modules(room):
    bad = [line for line in _private_imports() if _in_room(line, room)]
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


@pytest.mark.parametrize("room", ROOMS)
def test_no_private_names_of_other_modules_used(room):
    bad = [line for line in _private_attributes() if _in_room(line, room)]
    assert not bad, "private names of other modules used:\n" + "\n".join(bad)
