"""The service's database, as one object: `Store` puts the per-domain repositories of `service.storage` together.

SQLAlchemy Core over SQLite (a file by default) or PostgreSQL (`postgresql+psycopg://...`). Each domain has a
repository module of its own (`storage/clusters.py`, `threads.py`, `slack_events.py`, `analyses.py`,
`tokens.py`, `secrets.py`, `eval_runs.py`); the schema is brought up to date by frozen-DDL migrations
(`storage/migrations.py`) when a store is opened. Callers keep importing the records and errors from here.

Everything here is synchronous; async routes call it through `run_in_threadpool`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .storage import migrations
from .storage.analyses import AnalysisNotFound, AnalysisRepository, StoredAnalysis, new_analysis_id
from .storage.base import NotFound, StoreError
from .storage.clusters import ClusterNotFound, ClusterRepository, ClusterRevision
from .storage.engine import create_engine, safe_url
from .storage.eval_runs import EvalResponse, EvalRunRepository
from .storage.migrations import MIGRATION_LOCK_KEY
from .storage.secrets import SecretRepository
from .storage.slack_events import SLACK_EVENT_STALE_AFTER_S, SlackEventRepository, SlackEventStatus
from .storage.threads import ThreadMessage, ThreadRepository
from .storage.tokens import TOKEN_PREFIX, ApiToken, TokenRepository, hash_token

__all__ = [
    "MIGRATION_LOCK_KEY", "SLACK_EVENT_STALE_AFTER_S", "TOKEN_PREFIX", "AnalysisNotFound", "ApiToken",
    "ClusterNotFound", "ClusterRevision", "EvalResponse", "NotFound", "SlackEventStatus", "Store", "StoreError",
    "StoredAnalysis", "ThreadMessage", "create_engine", "hash_token", "new_analysis_id", "safe_url",
]


class Store(ClusterRepository, ThreadRepository, SlackEventRepository, AnalysisRepository, TokenRepository,
            SecretRepository, EvalRunRepository):
    """Typed access to the database. Thread-safe: each call takes its own connection from the pool."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: Tokens created through this object: a cached "no tokens" answer is stale once it changes.
        self.tokens_created = 0

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to `url` and apply any migrations not yet applied.

        Raises:
            StoreError: the database cannot be reached or migrated.
        """
        store = cls(create_engine(url))
        try:
            store.migrate()
        except sa.exc.OperationalError as e:
            store.close()
            raise StoreError(f"cannot open database {safe_url(url)}: {e.orig}") from None
        return store

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def migrate(self) -> list[str]:
        """Apply pending migrations in order (`storage.migrations.migrate`); return the names applied now."""
        with self._tx() as conn:
            return migrations.migrate(conn)

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in the database, in the order they were applied."""
        with self.engine.connect() as conn:
            return migrations.applied_migrations(conn)

    def ping(self) -> None:
        """Run a trivial query.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database is unreachable.
        """
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
