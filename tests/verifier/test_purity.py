"""The verifier is the pure core: it imports nothing of ours and no network, model or web library.

Inside it, the layers import in one direction only (LAYERS below), checked statically on every import
statement, including imports inside functions and under `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

VERIFIER = Path(__file__).resolve().parents[2] / "verifier"
FORBIDDEN = {"service", "prompts", "evals", "fastapi", "starlette", "uvicorn", "openai", "anthropic",
             "langchain_core", "httpx", "requests", "slack_sdk", "sqlalchemy", "aiohttp", "socket"}
# urllib.parse (string parsing, used to read URLs in env values) is fine; the request side is not.
FORBIDDEN_MODULES = {"urllib.request", "http.client"}

#: What each layer of verifier/ may import besides itself and SHARED. A folder is a layer; `__init__.py`
#: re-exports the public API and may import anything.
#:
#:   model    the world model, records, errors   imports nothing else
#:   sets     selectors, ports, addresses, cidrs  model
#:   input    loading, parsing, validation        model, sets          (never the engine)
#:   engine   compile, connectivity, explain      model, sets          (never input, deps, review, claims)
#:   deps     declared, observed, inferred        model, sets, engine
#:   review   findings, rules, fixes, diff        model, sets, input, engine, deps
#:   rollout  plan, probes                        model, sets, input, engine, deps, review
#:   claims   schema, answers, checking           model, sets, engine, deps
LAYERS: dict[str, frozenset[str]] = {
    "model": frozenset(),
    "sets": frozenset({"model"}),
    "input": frozenset({"model", "sets"}),
    "engine": frozenset({"model", "sets"}),
    "deps": frozenset({"model", "sets", "engine"}),
    "review": frozenset({"model", "sets", "input", "engine", "deps"}),
    "rollout": frozenset({"model", "sets", "input", "engine", "deps", "review"}),
    "claims": frozenset({"model", "sets", "engine", "deps"}),
}
#: The modules beside `__init__.py`: helpers any layer may use (pausing the garbage collector around
#: allocation-heavy work, "did you mean" suggestions). They import nothing of ours.
SHARED: frozenset[str] = frozenset({"gcpause", "suggest"})


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names} | {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots |= {node.module.split(".")[0], node.module}
    return roots


def test_no_verifier_module_imports_a_forbidden_package():
    offenders = {p.name: sorted(imported_roots(p) & (FORBIDDEN | FORBIDDEN_MODULES)) for p in VERIFIER.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_verifier_loads_no_forbidden_module():
    code = (f"import sys, verifier; print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
            f"or m in {FORBIDDEN_MODULES!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def module_parts(path: Path, root: Path) -> tuple[list[str], bool]:
    """`verifier/engine/compile.py` -> (["verifier", "engine", "compile"], False); packages end in their folder."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return (parts[:-1], True) if parts[-1] == "__init__" else (parts, False)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """Every module `path` imports (absolute dotted names), with its line: relative imports resolved,
    `from . import x` read as the module `x`, imports in functions and under TYPE_CHECKING included."""
    parts, is_package = module_parts(path, root)
    package = parts if is_package else parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{a.name}") for a in node.names if node.module is None]
    return found


def layer_of(parts: list[str]) -> str | None:
    """The layer a verifier module belongs to (None for `verifier` itself, the public API)."""
    return parts[1] if len(parts) > 1 else None


def direction_violations(root: Path) -> list[str]:
    """Imports against LAYERS, and modules outside any layer, under the package folder `root`."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        parts, _ = module_parts(path, root)
        layer = layer_of(parts)
        if layer is None:
            continue
        if layer not in LAYERS and layer not in SHARED:
            problems.append(f"{path.relative_to(root)}: in no layer (add its folder to LAYERS, or move it)")
            continue
        allowed = LAYERS.get(layer, frozenset()) | ({layer} | SHARED if layer in LAYERS else set())
        for line, module in imported_modules(path, root):
            target = module.split(".")
            if target[0] != root.name or len(target) < 2:
                continue
            if target[1] not in allowed:
                problems.append(f"{path.relative_to(root)}:{line}: {layer} imports {module} ({target[1]})")
    return problems


def test_verifier_layers_import_in_one_direction():
    assert direction_violations(VERIFIER) == []


def test_every_verifier_folder_is_a_layer():
    folders = {p.name for p in VERIFIER.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in VERIFIER.glob("*.py")} - {"__init__"}
    assert (folders, modules) == (set(LAYERS), set(SHARED))


def test_the_direction_check_catches_a_function_level_import_against_it(tmp_path):
    pkg = tmp_path / "verifier"
    for layer in ("engine", "review", "input"):
        (pkg / layer).mkdir(parents=True)
        (pkg / layer / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .engine import compile\n")  # the public API may import anything
    (pkg / "review" / "findings.py").write_text("from ..engine import compile\n")
    (pkg / "engine" / "compile.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..review.findings import x\n\n"
        "def f():\n    from .. import review\n    from verifier.input.load import load\n")
    (pkg / "flat.py").write_text("")
    (pkg / "gcpause.py").write_text("from .engine import compile\n")  # a shared helper imports nothing of ours
    assert direction_violations(pkg) == [
        "engine/compile.py:3: engine imports verifier.review.findings (review)",
        "engine/compile.py:6: engine imports verifier.review (review)",
        "engine/compile.py:7: engine imports verifier.input.load (input)",
        "flat.py: in no layer (add its folder to LAYERS, or move it)",
        "gcpause.py:1: gcpause imports verifier.engine (engine)",
    ]
