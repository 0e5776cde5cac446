"""The packages and modules import each other without cycles, and `service` never imports `evals`.

The graph is read statically with `ast` from every `.py` file of verifier/, prompts/, service/ and
evals/, counting every import statement wherever it stands: a function-level import is a cycle
postponed, not removed. Imports under `if TYPE_CHECKING:` are left out: they exist for annotations
only and never run. An edge `a -> b` means module `a` imports module `b` (or a name from it;
`from pkg import name` counts as importing `pkg.name` when that is a module, else `pkg`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("verifier", "prompts", "service", "evals")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield _nearest(alias.name, known)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(node, module, path.name == "__init__.py")
            for alias in node.names:
                full = f"{target}.{alias.name}"
                yield full if full in known else _nearest(target, known)


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, at any depth, except the bodies of `if TYPE_CHECKING:` (annotations only, erased at run time)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nearest(name: str, known: dict[str, Path]) -> str:
    """`name` itself, or its closest enclosing module of ours ("" for third-party modules)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (itself excluded)."""
    known = _modules()
    return {m: {t for t in _imports(m, p, known) if t and t != m} for m, p in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _package_of(module: str) -> str:
    """The package a module belongs to: `service.api.chat` -> `service.api`; a package is its own."""
    return module if (ROOT / module.replace(".", "/")).is_dir() else module.rpartition(".")[0]


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package -> the packages its modules import, where a package imports its sub-packages' parent freely.

    A sub-package importing its parent (`service.api` -> `service`) and the parent importing it back is
    how packages are built, so only edges between packages neither of which contains the other count.
    """
    out: dict[str, set[str]] = {}
    for src, targets in graph.items():
        a = _package_of(src)
        for dst in targets:
            b = _package_of(dst)
            if a != b and not a.startswith(b + ".") and not b.startswith(a + "."):
                out.setdefault(a, set()).add(b)
    return out


def test_the_graph_sees_function_level_and_relative_imports() -> None:
    graph = import_graph()
    assert "verifier.model.bundle" in graph["verifier.engine.connectivity"]
    assert len(graph) > 150
    assert any(targets for m, targets in graph.items() if m.startswith("evals."))


def test_no_module_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles between modules:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_package_import_cycle() -> None:
    found = cycles(package_graph(import_graph()))
    assert not found, "import cycles between packages:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_service_never_imports_evals() -> None:
    graph = import_graph()
    bad = sorted(f"{m} -> {t}" for m, targets in graph.items() if m.startswith("service")
                 for t in targets if t == "evals" or t.startswith("evals."))
    assert not bad, "service must not depend on evals (evals depends on service):\n" + "\n".join(bad)


def test_no_router_imports_another_router() -> None:
    graph = import_graph()
    routers = {m for m in graph if m.startswith("service.api.")}
    bad = sorted(f"{m} -> {t}" for m in routers for t in graph[m] if t in routers and _is_router(t))
    assert not bad, "routers only translate HTTP; share orchestration through service modules:\n" + "\n".join(bad)


def _is_router(module: str) -> bool:
    text = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    return "APIRouter(" in text


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
