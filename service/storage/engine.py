"""Connecting to the database: SQLite (a file, or `:memory:`) or PostgreSQL (`postgresql+psycopg://...`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from .base import StoreError, json_column_text


def safe_url(url: str) -> str:
    """`url` with any password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def create_engine(url: str) -> Engine:
    """An Engine for `url`; SQLite gets foreign keys, WAL and a busy timeout, `:memory:` one shared connection.

    Raises:
        StoreError: the URL is malformed or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as e:
        raise StoreError(f"NETREASON_DATABASE_URL is not a database URL: {e}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, json_serializer=json_column_text)
    except (ImportError, sa.exc.NoSuchModuleError) as e:
        raise StoreError(f"no driver for {safe_url(url)}: {e}; for PostgreSQL install netreason[postgres]") from None


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30},
                              "json_serializer": json_column_text}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = sa.create_engine(url, **kwargs)
    sa.event.listen(engine, "connect", _sqlite_pragmas(in_memory))
    return engine


def _sqlite_pragmas(in_memory: bool) -> Callable[..., None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            # WAL lets readers (health checks, GETs) proceed while an upload writes.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
    return on_connect
