"""Golden files: a renderer's whole output kept in `tests/golden/`, compared byte for byte.

`pytest --update-golden` rewrites them from what the code prints now (review the diff before committing);
without it a missing or different file fails the test with the first differing line. Only what changes from
run to run on its own (timings) is masked, in `mask`, before writing and before comparing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

_TIMINGS = (
    (re.compile(r'"(seconds|latency_ms|elapsed_ms|duration_ms)": [0-9.e-]+'), r'"\1": 0'),
    (re.compile(r"computed in [0-9.]+ s"), "computed in 0 s"),
    (re.compile(r"time ([a-z ]+): [0-9.]+ s"), r"time \1: 0 s"),
    (re.compile(r"\b[0-9]+(\.[0-9]+)? ?ms\b"), "0 ms"),
    (re.compile(r"\bin [0-9]+\.[0-9]+ ?s\b"), "in 0 s"),
)


def mask(text: str) -> str:
    """`text` with its timings replaced by zeros: the only part of an output that varies between runs."""
    for pattern, replacement in _TIMINGS:
        text = pattern.sub(replacement, text)
    return text


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite the golden files in tests/golden/ from the current outputs.")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """`golden(name, text)`: assert `text` equals `tests/golden/<name>` (or write it with --update-golden)."""
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        actual = mask(text)
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as f:
                f.write(actual)
            return
        if not path.exists():
            pytest.fail(f"no golden file {path.relative_to(GOLDEN_DIR.parent.parent)}: run pytest --update-golden")
        with path.open(encoding="utf-8", newline="") as f:  # byte for byte: no newline translation
            expected = f.read()
        if actual != expected:
            diff = "".join(list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                                     f"golden/{name}", "now", n=1))[:40])
            pytest.fail(f"{name} differs from its golden file (pytest --update-golden rewrites it):\n{diff}")
    return check
