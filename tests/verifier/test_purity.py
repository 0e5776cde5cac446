"""The verifier is the pure core: it imports nothing of ours and no network, model or web library."""

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
    code = "import sys, verifier; print(sorted(m for m in sys.modules if m.split('.')[0] in %r or m in %r))" % (
        FORBIDDEN, FORBIDDEN_MODULES)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
