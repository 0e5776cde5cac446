"""What every repository shares: the engine, a transaction, UTC times, and the store's errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine

from verifier.model.errors import NetreasonError


class StoreError(NetreasonError):
    """The database cannot be opened or used."""


class NotFound(NetreasonError):
    """A stored object that does not exist."""


class Repository:
    """Base of the repositories: typed access to one domain's tables through `engine`. Thread-safe: each call
    takes its own connection from the pool. Everything is synchronous; async routes call it through
    `run_in_threadpool`."""

    engine: Engine

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """`value` as UTC: SQLite hands datetimes back naive; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
