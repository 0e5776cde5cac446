"""Fixtures of the eval-suite tests: a fresh SQLite store per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.store import Store


@pytest.fixture
def eval_store(tmp_path: Path):
    """A migrated SQLite store in a temporary file, closed after the test."""
    store = Store.open(f"sqlite:///{tmp_path / 'evals.db'}")
    yield store
    store.close()
