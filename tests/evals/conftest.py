"""Fixtures of the eval-suite tests: a fresh SQLite store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.providers import registry
from service.store import Store


@pytest.fixture(autouse=True, scope="module")
def _provider_registry_restored():
    """Put the process-wide provider registry back as it was after each module (a test may register a prefix)."""
    saved = dict(registry._FACTORIES)
    yield
    registry._FACTORIES.clear()
    registry._FACTORIES.update(saved)


@pytest.fixture
def eval_store(tmp_path: Path):
    """A migrated SQLite store in a temporary file, closed after the test."""
    store = Store.open(f"sqlite:///{tmp_path / 'evals.db'}")
    yield store
    store.close()
