"""The current schema, as SQLAlchemy Core tables: what the repositories query.

Never used to create or alter a database: that is `migrations`, whose DDL is frozen, so changing a table
here never changes what an old migration does. To change the schema, append a migration to
`migrations.MIGRATIONS` that alters the database, then change the table here to match
(`tests/service/test_storage_migrations.py` checks that a migrated database has exactly these columns).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

METADATA = sa.MetaData()

# A timestamp column: stored in UTC (PostgreSQL keeps the zone; SQLite stores it naive).
def _when(name: str = "created_at", **kw: Any) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, **kw)


migrations_table = sa.Table(
    "_migrations", METADATA,
    sa.Column("name", sa.String(100), primary_key=True),
    _when("applied_at"),
)

clusters = sa.Table(
    "clusters", METADATA,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("latest_revision", sa.Integer, nullable=False),
    _when(),
)

cluster_revisions = sa.Table(
    "cluster_revisions", METADATA,
    sa.Column("cluster_name", sa.String(200), sa.ForeignKey("clusters.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("manifests", sa.Text, nullable=False),
    sa.Column("deps", sa.Text),
    sa.Column("default_namespace", sa.String(253), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of the manifests text
    _when(),
    # Salted digests of the Secret values the manifests held (`service.secret_prints`), never the values.
    sa.Column("secret_prints", sa.Text),
)

threads = sa.Table(
    "threads", METADATA,
    sa.Column("thread_id", sa.String(200), primary_key=True),
    sa.Column("channel", sa.String(200)),
    _when(),
    _when("updated_at"),
)

thread_messages = sa.Table(
    "thread_messages", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("thread_id", sa.String(200), sa.ForeignKey("threads.thread_id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("role", sa.String(20), nullable=False),  # user | assistant
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("cluster_name", sa.String(200)),
    sa.Column("cluster_revision", sa.Integer),
    sa.Column("claims", sa.JSON),  # the checked claims of an assistant answer
    _when(),
)

slack_events = sa.Table(
    "slack_events", METADATA,
    sa.Column("event_id", sa.String(200), primary_key=True),  # Slack retries a delivery with the same id
    sa.Column("event_type", sa.String(100), nullable=False, server_default=""),
    _when("received_at"),
    # processing -> done | failed (see Store.claim_slack_event); rows from before m004 were handled: done.
    sa.Column("status", sa.String(20), nullable=False, server_default="done"),
    sa.Column("claimed_at", sa.DateTime(timezone=True)),  # when the current attempt began
    sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
)

analyses = sa.Table(
    "analyses", METADATA,
    sa.Column("id", sa.String(32), primary_key=True),  # uuid4 hex: unguessable, so a link can be shared
    sa.Column("kind", sa.String(20), nullable=False),  # analyze | review
    sa.Column("request", sa.JSON, nullable=False),  # a summary: sizes, cluster refs, model, prompt; no manifests
    sa.Column("result", sa.JSON, nullable=False),
    _when(),
)

api_tokens = sa.Table(
    "api_tokens", METADATA,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    _when(),
)

eval_runs = sa.Table(
    "eval_runs", METADATA,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("config", sa.JSON, nullable=False),
    _when(),
)

eval_responses = sa.Table(
    "eval_responses", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False, index=True),
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
    _when(),
)

eval_scores = sa.Table(
    "eval_scores", METADATA,  # one row per scoring pass of a run (`netreason eval score` re-scores)
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("eval_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("scorer", sa.String(100), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    _when(),
)

server_secrets = sa.Table(
    "server_secrets", METADATA,  # random keys made on first use and shared by every server on this database
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    _when(),
)
