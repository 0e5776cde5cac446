"""Migrations as frozen DDL: a version-1 database is brought up to date with its data kept, and a fresh one gets
exactly the schema the repositories query, on SQLite and on PostgreSQL.

The version-1 database is made with `m001_initial` alone, whose DDL is written out in `storage/migrations.py`
(not built from the live tables): its `slack_events` has none of the columns `m004` adds, as in the first
release, so opening it runs m002-m004 for real.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.storage import migrations, tables
from service.storage.engine import create_engine
from service.store import Store, hash_token
from tests.service.pg_server import postgres_admin_url, postgres_url  # noqa: F401

NAMES = [name for name, _step in migrations.MIGRATIONS]
RECEIVED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def v1_database(db_url: str) -> Iterator[str]:
    """A database as the first release left it: m001 applied and recorded, one row in several tables."""
    engine = create_engine(db_url)
    md = sa.MetaData()
    v1 = {t.name: t for t in migrations.v1_tables(md)}
    with engine.begin() as conn:
        migrations.m001_initial(conn)
        record = sa.Table("_migrations", md, sa.Column("name", sa.String(100), primary_key=True),
                          sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False))
        record.create(conn)
        conn.execute(record.insert().values(name="m001_initial", applied_at=RECEIVED))
        conn.execute(v1["clusters"].insert().values(name="prod", latest_revision=1, created_at=RECEIVED))
        conn.execute(v1["cluster_revisions"].insert().values(
            cluster_name="prod", revision=1, manifests="kind: A", deps=None, default_namespace="shop", digest="d",
            created_at=RECEIVED))
        conn.execute(v1["slack_events"].insert().values(event_id="Ev-old", event_type="app_mention",
                                                        received_at=RECEIVED))
        conn.execute(v1["api_tokens"].insert().values(name="ci", token_sha256=hash_token("nrt_old"),
                                                      created_at=RECEIVED))
    engine.dispose()
    yield db_url


def _columns(engine: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(engine)
    return {name: {c["name"] for c in inspector.get_columns(name)} for name in inspector.get_table_names()}


def _live_columns() -> dict[str, set[str]]:
    return {t.name: {c.name for c in t.columns} for t in tables.METADATA.sorted_tables}


def test_the_first_release_schema_is_what_m001_writes_out(v1_database: str) -> None:
    engine = create_engine(v1_database)
    try:
        assert _columns(engine)["slack_events"] == {"event_id", "event_type", "received_at"}
        assert "eval_scores" not in _columns(engine) and "server_secrets" not in _columns(engine)
    finally:
        engine.dispose()


def test_a_version_1_database_is_migrated_to_the_current_schema_and_keeps_its_data(v1_database: str) -> None:
    store = Store.open(v1_database)
    try:
        assert store.applied_migrations() == NAMES
        assert _columns(store.engine) == _live_columns()
        prod = store.get_cluster("prod")
        assert prod.manifests == "kind: A" and prod.default_namespace == "shop"
        assert store.slack_event_status("Ev-old") == ("done", 1)  # handled before deliveries had states
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(tables.slack_events)).mappings().one()
        assert row["claimed_at"] == row["received_at"]
        assert store.token_name("nrt_old") == "ci"
        assert store.claim_slack_event("Ev-old") is None  # done: a redelivery is ignored
        assert store.put_cluster("prod", "kind: B").revision == 2
        assert store.migrate() == []
    finally:
        store.close()


def test_a_fresh_database_gets_every_migration_and_exactly_the_live_schema(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        assert store.applied_migrations() == NAMES
        assert _columns(store.engine) == _live_columns()
    finally:
        store.close()


def test_migrations_never_read_the_live_tables() -> None:
    source = Path(migrations.__file__).read_text()
    imported = {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert "tables" not in imported and "service.storage.tables" not in imported
