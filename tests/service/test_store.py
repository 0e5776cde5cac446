"""The store against real databases: a SQLite file, and PostgreSQL when one can be started (see pg_server.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.store import (
    AnalysisNotFound,
    ClusterNotFound,
    EvalResponse,
    Store,
    StoreError,
    create_engine,
    hash_token,
    safe_url,
)
from service.storage.migrations import MIGRATIONS
from tests.service.pg_server import postgres_admin_url, postgres_url  # noqa: F401

MIGRATION_NAMES = [name for name, _step in MIGRATIONS]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


def test_opening_creates_the_schema_and_records_every_migration(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        assert store.applied_migrations() == MIGRATION_NAMES
        tables = set(sa.inspect(store.engine).get_table_names())
        assert {"clusters", "cluster_revisions", "threads", "thread_messages", "slack_events", "analyses",
                "api_tokens", "eval_runs", "eval_responses", "_migrations"} <= tables
    finally:
        store.close()


def test_reopening_applies_nothing_and_keeps_the_data(db_url: str) -> None:
    first = Store.open(db_url)
    first.put_cluster("prod", "a: 1")
    first.close()
    second = Store.open(db_url)
    try:
        assert second.migrate() == []
        assert second.get_cluster("prod").manifests == "a: 1"
    finally:
        second.close()


def test_a_database_missing_a_migration_gets_only_that_one(tmp_path: Path) -> None:
    if len(MIGRATIONS) < 2:
        pytest.skip("only one migration exists")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store.open(url)
    last_name = MIGRATION_NAMES[-1]
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM _migrations WHERE name = :n"), {"n": last_name})
    # The last migration's tables exist already; drop them so re-applying it is a real test.
    step_tables = set(sa.inspect(store.engine).get_table_names())
    store.close()
    with sqlite3.connect(tmp_path / "db.sqlite") as raw:
        for table in step_tables - _tables_before_last(tmp_path):
            raw.execute(f'DROP TABLE "{table}"')
    reopened = Store.open(url)
    try:
        assert reopened.applied_migrations()[-1] == last_name
        assert set(sa.inspect(reopened.engine).get_table_names()) == step_tables
    finally:
        reopened.close()


def _tables_before_last(tmp_path: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{tmp_path / 'before.sqlite'}")
    with engine.begin() as conn:
        for _name, step in MIGRATIONS[:-1]:
            step(conn)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_each_upload_is_the_next_revision_and_old_ones_stay(store: Store) -> None:
    one = store.put_cluster("prod", "kind: A", deps="- {from: a}", default_namespace="shop")
    two = store.put_cluster("prod", "kind: B")
    other = store.put_cluster("staging", "kind: C")
    assert (one.revision, two.revision, other.revision) == (1, 2, 1)
    assert store.get_cluster("prod").manifests == "kind: B"
    old = store.get_cluster("prod", 1)
    assert (old.manifests, old.deps, old.default_namespace) == ("kind: A", "- {from: a}", "shop")
    assert old.digest == one.digest != two.digest and old.created_at.tzinfo is not None
    assert [r.revision for r in store.cluster_revisions("prod")] == [1, 2]
    assert store.cluster_names() == [("prod", 2), ("staging", 1)]


def test_unknown_clusters_and_revisions_raise(store: Store) -> None:
    store.put_cluster("prod", "x")
    with pytest.raises(ClusterNotFound, match="no cluster 'nope'"):
        store.get_cluster("nope")
    with pytest.raises(ClusterNotFound, match="revision 3"):
        store.get_cluster("prod", 3)
    with pytest.raises(ClusterNotFound):
        store.cluster_revisions("nope")


def test_concurrent_uploads_get_distinct_revisions(store: Store) -> None:
    errors: list[BaseException] = []

    def upload(i: int) -> None:
        try:
            store.put_cluster("busy", f"upload {i}")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    revisions = store.cluster_revisions("busy")
    assert [r.revision for r in revisions] == list(range(1, 9))
    assert sorted(r.manifests for r in revisions) == sorted(f"upload {i}" for i in range(8))


def test_thread_messages_come_back_in_order_with_their_claims(store: Store) -> None:
    store.add_message("C1-171.2", "user", "can api reach db?", channel="C1")
    claims = [{"claim": {"type": "flow"}, "verdict": "confirmed"}]
    store.add_message("C1-171.2", "assistant", "yes", cluster_name="prod", cluster_revision=2, claims=claims)
    store.add_message("C1-171.2", "user", "and web?")
    store.add_message("other", "user", "unrelated")
    messages = store.thread_messages("C1-171.2")
    assert [(m.role, m.text) for m in messages] == [("user", "can api reach db?"), ("assistant", "yes"),
                                                     ("user", "and web?")]
    assert messages[1].claims == claims and (messages[1].cluster_name, messages[1].cluster_revision) == ("prod", 2)
    assert [m.text for m in store.thread_messages("C1-171.2", limit=2)] == ["yes", "and web?"]


T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_slack_event_is_ignored_while_processing_and_once_done(store: Store) -> None:
    assert store.claim_slack_event("Ev01", "app_mention", now=T0) == 1
    assert store.slack_event_status("Ev01") == ("processing", 1)
    assert store.claim_slack_event("Ev01", "app_mention", now=_at(5)) is None
    assert store.finish_slack_event("Ev01", 1, succeeded=True) is True
    assert store.claim_slack_event("Ev01", now=_at(3600)) is None  # done stays done, however late the retry
    assert store.slack_event_status("Ev01") == ("done", 1)
    assert store.claim_slack_event("Ev02") == 1 and store.slack_event_status("never") is None


def test_a_retry_after_a_failure_is_processed_once_more(store: Store) -> None:
    store.claim_slack_event("Ev01", now=T0)
    store.finish_slack_event("Ev01", 1, succeeded=False)
    assert store.slack_event_status("Ev01") == ("failed", 1)
    assert store.claim_slack_event("Ev01", now=_at(1)) == 2
    assert store.claim_slack_event("Ev01", now=_at(2)) is None  # the second attempt is processing now
    store.finish_slack_event("Ev01", 2, succeeded=True)
    assert store.slack_event_status("Ev01") == ("done", 2)
    assert store.claim_slack_event("Ev01", now=_at(3)) is None


def test_a_stale_processing_claim_is_taken_over(store: Store) -> None:
    store.claim_slack_event("Ev01", now=T0)
    assert store.claim_slack_event("Ev01", now=_at(120)) is None  # exactly the default window: still fresh
    assert store.claim_slack_event("Ev01", now=_at(121)) == 2
    # The first attempt finishing late must not close the attempt that took over.
    assert store.finish_slack_event("Ev01", 1, succeeded=True) is False
    assert store.slack_event_status("Ev01") == ("processing", 2)
    assert store.finish_slack_event("Ev01", 2, succeeded=True) is True
    store.claim_slack_event("Ev02", now=T0)
    assert store.claim_slack_event("Ev02", stale_after_s=10, now=_at(9)) is None
    assert store.claim_slack_event("Ev02", stale_after_s=10, now=_at(11)) == 2


@pytest.mark.parametrize("failed_first", [False, True])
def test_racing_deliveries_of_one_event_get_one_claim(store: Store, failed_first: bool) -> None:
    if failed_first:
        store.claim_slack_event("Ev-race", now=T0)
        store.finish_slack_event("Ev-race", 1, succeeded=False)
    barrier = threading.Barrier(6)
    claims: list[int | None] = []

    def deliver() -> None:
        barrier.wait()
        claims.append(store.claim_slack_event("Ev-race", now=_at(1)))

    racers = [threading.Thread(target=deliver) for _ in range(6)]
    for t in racers:
        t.start()
    for t in racers:
        t.join()
    assert sorted(claims, key=lambda c: c or 0) == [None] * 5 + [2 if failed_first else 1]


def test_slack_events_recorded_before_the_states_existed_count_as_done(db_url: str) -> None:
    store = Store.open(db_url)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE slack_events"))
        conn.execute(sa.text("CREATE TABLE slack_events (event_id VARCHAR(200) PRIMARY KEY, "
                             "event_type VARCHAR(100) NOT NULL DEFAULT '', received_at TIMESTAMP NOT NULL)"))
        conn.execute(sa.text("INSERT INTO slack_events VALUES ('Ev-old', 'app_mention', '2024-01-02 03:04:05')"))
        conn.execute(sa.text("DELETE FROM _migrations WHERE name = 'm004_slack_event_states'"))
    store.close()
    reopened = Store.open(db_url)
    try:
        assert "m004_slack_event_states" in reopened.applied_migrations()
        assert reopened.slack_event_status("Ev-old") == ("done", 1)
        assert reopened.claim_slack_event("Ev-old", now=T0) is None
        with reopened.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT claimed_at IS NOT NULL FROM slack_events")).scalar()
        assert reopened.claim_slack_event("Ev-new", now=T0) == 1
    finally:
        reopened.close()


def test_instances_migrating_one_fresh_postgresql_database_at_once_do_not_collide(
        postgres_url: str) -> None:  # noqa: F811
    # Without the advisory lock both create `_migrations` at once and one fails on pg_type's unique index.
    stores = [Store(create_engine(postgres_url)) for _ in range(3)]
    barrier = threading.Barrier(len(stores))
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def start(store: Store) -> None:
        barrier.wait()
        try:
            applied.append(store.migrate())
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert sorted(applied, key=len) == [[], [], MIGRATION_NAMES]
        assert stores[0].applied_migrations() == MIGRATION_NAMES
    finally:
        for s in stores:
            s.close()


def test_analyses_round_trip_by_id(store: Store) -> None:
    saved = store.save_analysis("analyze", {"model": None}, {"schema": "netreason.analysis/v1", "n": [1, 2]})
    assert len(saved.id) == 32
    loaded = store.get_analysis(saved.id)
    assert (loaded.kind, loaded.request, loaded.result) == ("analyze", {"model": None},
                                                            {"schema": "netreason.analysis/v1", "n": [1, 2]})
    assert store.save_analysis("review", {}, {}, analysis_id="f" * 32).id == "f" * 32
    with pytest.raises(AnalysisNotFound):
        store.get_analysis("0" * 32)


def test_tokens_are_stored_only_as_their_hash(store: Store, db_url: str) -> None:
    assert store.has_tokens() is False
    token = store.create_token("ci")
    assert token.startswith("nrt_") and len(token) > 40
    assert store.token_name(token) == "ci" and store.token_name(token + "x") is None
    [listed] = store.list_tokens()
    assert listed.token_sha256 == hash_token(token)
    with store.engine.connect() as conn:
        stored = [tuple(row) for row in conn.execute(sa.text("SELECT * FROM api_tokens"))]
    assert token not in repr(stored)
    with pytest.raises(StoreError, match="exists already"):
        store.create_token("ci")
    assert store.revoke_token("ci") is True and store.token_name(token) is None and not store.has_tokens()


def test_eval_responses_are_recorded_and_found_by_cache_key(store: Store) -> None:
    run = store.create_eval_run({"models": ["openai:gpt-4.1-mini"], "repeats": 2})
    first = EvalResponse(run, "openai:gpt-4.1-mini", "flows@1", "shop", 0, "k1", '{"claims": []}',
                         {"input_tokens": 10}, 12.5)
    failed = EvalResponse(run, "openai:gpt-4.1-mini", "flows@1", "shop", 1, "k2", "", {}, 30000.0,
                          error="ProviderTimeout", simulated=True)
    store.add_eval_response(first)
    store.add_eval_response(failed)
    got = store.eval_responses(run)
    assert [(r.repeat_index, r.error, r.simulated) for r in got] == [(0, None, False), (1, "ProviderTimeout", True)]
    assert got[0].usage == {"input_tokens": 10} and got[0].latency_ms == 12.5
    cached = store.cached_eval_response("k1")
    assert cached is not None and cached.raw_text == '{"claims": []}'
    assert store.cached_eval_response("k2") is None  # failures are never reused


def test_ping_fails_when_the_database_is_gone(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'gone' / 'db.sqlite'}")
    store.close()
    for path in (tmp_path / "gone").iterdir():
        path.unlink()
    (tmp_path / "gone").rmdir()
    with pytest.raises(sa.exc.OperationalError):
        store.ping()


def test_bad_urls_and_missing_drivers_are_store_errors() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        Store.open("not a url")
    with pytest.raises(StoreError, match="no driver"):
        Store.open("mysql+nosuchdriver://u:hunter2@db/x")


def test_passwords_are_masked_in_urls_shown() -> None:
    assert "hunter2" not in safe_url("postgresql+psycopg://app:hunter2@db:5432/netreason")
