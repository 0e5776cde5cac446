"""Chat threads: their messages, oldest first, and the snapshot each answer used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .base import Repository, aware, utcnow
from .tables import thread_messages, threads

@dataclass(frozen=True)
class ThreadMessage:
    id: int
    thread_id: str
    role: str
    text: str
    cluster_name: str | None
    cluster_revision: int | None
    claims: Any
    created_at: datetime


class ThreadRepository(Repository):
    """Chat threads and their messages."""

    def add_message(self, thread_id: str, role: str, text: str, *, cluster_name: str | None = None,
                    cluster_revision: int | None = None, claims: Any = None,
                    channel: str | None = None) -> ThreadMessage:
        """Append a message to thread `thread_id`, creating the thread on its first message."""
        now = utcnow()
        with self._tx() as conn:
            if conn.execute(sa.select(threads.c.thread_id).where(threads.c.thread_id == thread_id)).first() is None:
                conn.execute(threads.insert().values(thread_id=thread_id, channel=channel, created_at=now,
                                                     updated_at=now))
            else:
                conn.execute(threads.update().where(threads.c.thread_id == thread_id).values(updated_at=now))
            values = dict(thread_id=thread_id, role=role, text=text, cluster_name=cluster_name,
                          cluster_revision=cluster_revision, claims=claims, created_at=now)
            key = conn.execute(thread_messages.insert().values(**values)).inserted_primary_key
            new_id = int(key[0]) if key is not None else 0
        return ThreadMessage(id=new_id, **values)

    def thread_messages(self, thread_id: str, *, limit: int | None = None) -> list[ThreadMessage]:
        """Messages of `thread_id`, oldest first; with `limit`, only the newest `limit` of them."""
        m = thread_messages.c
        query = sa.select(thread_messages).where(m.thread_id == thread_id).order_by(m.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [ThreadMessage(**{**dict(row), "created_at": aware(row["created_at"])}) for row in reversed(rows)]
