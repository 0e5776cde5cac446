"""The numbered migrations, as frozen DDL: each writes out the tables and columns of its own version.

As simonw/llm does it: each `mNNN_*` step runs once, in order, and its name is recorded in `_migrations`, so
opening a database of any age brings it up to date. A step never reads the live tables (`tables.py`): it
defines, on a MetaData of its own, exactly what existed when it was written, so the SQL it runs stays the same
however the schema changes later. Never edit or reorder an applied step; append a new one.

Databases migrated before the DDL was frozen ran `m001` from the live tables, which by then had `m004`'s
Slack columns: `m004` adds only the columns that are missing, for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .base import utcnow

#: The PostgreSQL advisory lock key every netreason instance takes around `migrate()` ("netreasn" in ASCII).
MIGRATION_LOCK_KEY = 0x6E6574726561736E

Migration = Callable[[Connection], None]


def _when(name: str = "created_at") -> sa.Column[Any]:
    # A timestamp column: stored in UTC (PostgreSQL keeps the zone; SQLite stores it naive).
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _migrations_table(md: sa.MetaData) -> sa.Table:
    return sa.Table("_migrations", md, sa.Column("name", sa.String(100), primary_key=True), _when("applied_at"))


def v1_tables(md: sa.MetaData) -> list[sa.Table]:
    """The tables of the first release, as they were then (`m001_initial`)."""
    return [
        sa.Table("clusters", md,
                 sa.Column("name", sa.String(200), primary_key=True),
                 sa.Column("latest_revision", sa.Integer, nullable=False),
                 _when()),
        sa.Table("cluster_revisions", md,
                 sa.Column("cluster_name", sa.String(200), sa.ForeignKey("clusters.name", ondelete="CASCADE"),
                           primary_key=True),
                 sa.Column("revision", sa.Integer, primary_key=True),
                 sa.Column("manifests", sa.Text, nullable=False),
                 sa.Column("deps", sa.Text),
                 sa.Column("default_namespace", sa.String(253), nullable=False),
                 sa.Column("digest", sa.String(64), nullable=False),
                 _when()),
        sa.Table("threads", md,
                 sa.Column("thread_id", sa.String(200), primary_key=True),
                 sa.Column("channel", sa.String(200)),
                 _when(), _when("updated_at")),
        sa.Table("thread_messages", md,
                 sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                 sa.Column("thread_id", sa.String(200), sa.ForeignKey("threads.thread_id", ondelete="CASCADE"),
                           nullable=False, index=True),
                 sa.Column("role", sa.String(20), nullable=False),
                 sa.Column("text", sa.Text, nullable=False),
                 sa.Column("cluster_name", sa.String(200)),
                 sa.Column("cluster_revision", sa.Integer),
                 sa.Column("claims", sa.JSON),
                 _when()),
        sa.Table("slack_events", md,
                 sa.Column("event_id", sa.String(200), primary_key=True),
                 sa.Column("event_type", sa.String(100), nullable=False, server_default=""),
                 _when("received_at")),
        sa.Table("analyses", md,
                 sa.Column("id", sa.String(32), primary_key=True),
                 sa.Column("kind", sa.String(20), nullable=False),
                 sa.Column("request", sa.JSON, nullable=False),
                 sa.Column("result", sa.JSON, nullable=False),
                 _when()),
        sa.Table("api_tokens", md,
                 sa.Column("name", sa.String(200), primary_key=True),
                 sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
                 _when()),
        sa.Table("eval_runs", md,
                 sa.Column("id", sa.String(64), primary_key=True),
                 sa.Column("config", sa.JSON, nullable=False),
                 _when()),
        sa.Table("eval_responses", md,
                 sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                 sa.Column("run_id", sa.String(64), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False,
                           index=True),
                 sa.Column("model", sa.String(300), nullable=False),
                 sa.Column("prompt_ref", sa.String(100), nullable=False),
                 sa.Column("scenario_id", sa.String(300), nullable=False),
                 sa.Column("repeat_index", sa.Integer, nullable=False),
                 sa.Column("cache_key", sa.String(128), nullable=False, index=True),
                 sa.Column("raw_text", sa.Text, nullable=False),
                 sa.Column("usage", sa.JSON, nullable=False),
                 sa.Column("latency_ms", sa.Float, nullable=False),
                 sa.Column("error", sa.Text),
                 sa.Column("simulated", sa.Boolean, nullable=False),
                 _when()),
    ]


def m001_initial(conn: Connection) -> None:
    """Every table of the first release."""
    md = sa.MetaData()
    md.create_all(conn, tables=v1_tables(md))


def m002_eval_scores(conn: Connection) -> None:
    """Scores of eval runs, kept apart from the responses so a run can be re-scored offline."""
    md = sa.MetaData()
    sa.Table("eval_runs", md, sa.Column("id", sa.String(64), primary_key=True))  # the key the scores refer to
    scores = sa.Table("eval_scores", md,
                      sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                      sa.Column("run_id", sa.String(64), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"),
                                nullable=False, index=True),
                      sa.Column("scorer", sa.String(100), nullable=False),
                      sa.Column("result", sa.JSON, nullable=False),
                      _when())
    md.create_all(conn, tables=[scores])


def m003_server_secrets(conn: Connection) -> None:
    """Keys the server makes for itself (the report-link signing key), so they survive restarts."""
    md = sa.MetaData()
    secrets = sa.Table("server_secrets", md,
                       sa.Column("name", sa.String(100), primary_key=True),
                       sa.Column("value", sa.String(200), nullable=False),
                       _when())
    md.create_all(conn, tables=[secrets])


def m004_slack_event_states(conn: Connection) -> None:
    """Slack deliveries get a state, so a retry can take over an attempt that failed or died.

    Rows from before are deliveries that were handled: `done`, one attempt, claimed when received.
    """
    md = sa.MetaData()
    events = sa.Table("slack_events", md,
                      sa.Column("event_id", sa.String(200), primary_key=True),
                      sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
                      sa.Column("status", sa.String(20), nullable=False, server_default="done"),
                      sa.Column("claimed_at", sa.DateTime(timezone=True)),
                      sa.Column("attempts", sa.Integer, nullable=False, server_default="1"))
    present = {column["name"] for column in sa.inspect(conn).get_columns("slack_events")}
    for name in ("status", "claimed_at", "attempts"):
        if name not in present:  # see the module docstring: some databases have them already
            column = sa.schema.CreateColumn(events.c[name]).compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE slack_events ADD COLUMN {column}"))
    conn.execute(events.update().where(events.c.claimed_at.is_(None)).values(claimed_at=events.c.received_at))


def m005_cluster_secret_prints(conn: Connection) -> None:
    """Each cluster revision gets the salted digests of its Secret values (`service.secret_prints`), so a
    question about it can be scrubbed of them while the values themselves are kept nowhere. Revisions
    from before have none (NULL): their questions are scrubbed of nothing stored, as before."""
    md = sa.MetaData()
    revisions = sa.Table("cluster_revisions", md, sa.Column("secret_prints", sa.Text))
    if "secret_prints" in {column["name"] for column in sa.inspect(conn).get_columns("cluster_revisions")}:
        return  # a step re-run after its record was lost (as m004 allows for): nothing to add
    column = sa.schema.CreateColumn(revisions.c.secret_prints).compile(dialect=conn.dialect)
    conn.execute(sa.text(f"ALTER TABLE cluster_revisions ADD COLUMN {column}"))


#: (name, step) in the order they apply.
MIGRATIONS: list[tuple[str, Migration]] = [
    ("m001_initial", m001_initial),
    ("m002_eval_scores", m002_eval_scores),
    ("m003_server_secrets", m003_server_secrets),
    ("m004_slack_event_states", m004_slack_event_states),
    ("m005_cluster_secret_prints", m005_cluster_secret_prints),
]


def migrate(conn: Connection) -> list[str]:
    """Apply the steps not yet recorded in `_migrations`, in order, inside the caller's transaction; return
    their names.

    Safe when several instances start at once: on PostgreSQL the whole run holds an advisory lock, so one
    instance migrates and the others wait, then find nothing left to do. SQLite lets one writer in at a
    time, which serializes the runs already.
    """
    _lock_for_migrations(conn)
    table = _migrations_table(sa.MetaData())
    table.create(conn, checkfirst=True)
    done = set(conn.execute(sa.select(table.c.name)).scalars())
    applied: list[str] = []
    for name, step in MIGRATIONS:
        if name not in done:
            step(conn)
            conn.execute(table.insert().values(name=name, applied_at=utcnow()))
            applied.append(name)
    return applied


def applied_migrations(conn: Connection) -> list[str]:
    """Names of the steps recorded in the database, in the order they were applied."""
    table = _migrations_table(sa.MetaData())
    return list(conn.execute(sa.select(table.c.name).order_by(table.c.applied_at, table.c.name)).scalars())


def _lock_for_migrations(conn: Connection) -> None:
    # The transaction-scoped form of pg_advisory_lock: released at commit or rollback, so a failed
    # migration can never leave the lock held on a pooled connection. Under READ COMMITTED each later
    # statement sees what the instance that held the lock before committed.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
