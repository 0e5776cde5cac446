"""What every repository shares: the engine, a transaction, UTC times, and the store's errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from verifier.model.errors import NetreasonError


class StoreError(NetreasonError):
    """The database cannot be opened or used."""


class NotFound(NetreasonError):
    """A stored object that does not exist."""


@dataclass(frozen=True)
class JsonText:
    """A value for a JSON column that is already encoded: `text` is written as it is (`json_column_text`).
    A route that has encoded its document for the response stores those characters instead of encoding
    `value` a second time."""

    value: Any
    text: str


def json_column_text(value: Any) -> str:
    """The text a JSON column stores for `value` (the engines' `json_serializer`): `json.dumps`, SQLAlchemy's
    default, except for a `JsonText`, whose text is used as it is."""
    return value.text if isinstance(value, JsonText) else json.dumps(value)


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
