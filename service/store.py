"""The service's database: cluster snapshots, chat threads, Slack deliveries, analyses, API tokens, server
secrets, eval runs.

SQLAlchemy Core over SQLite (a file by default) or PostgreSQL (`postgresql+psycopg://...`). The schema is
built by numbered migrations, as simonw/llm does it: each `mNNN_*` function runs once, in order, and its name
is recorded in `_migrations`, so opening a database of any age brings it up to date.

Everything here is synchronous; async routes call it through `run_in_threadpool`.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from verifier.errors import NetreasonError

from .store_schema import (
    MIGRATIONS,
    analyses,
    api_tokens,
    cluster_revisions,
    clusters,
    eval_responses,
    eval_runs,
    eval_scores,
    migrations_table,
    server_secrets,
    slack_events,
    thread_messages,
    threads,
)

TOKEN_PREFIX = "nrt_"

#: How long a Slack delivery may stay `processing` before a retry of it takes over (NETREASON_SLACK_EVENT_STALE_S).
SLACK_EVENT_STALE_AFTER_S = 120.0

SlackEventStatus = Literal["processing", "done", "failed"]

#: The PostgreSQL advisory lock key every netreason instance takes around `migrate()` ("netreasn" in ASCII).
MIGRATION_LOCK_KEY = 0x6E6574726561736E


class StoreError(NetreasonError):
    """The database cannot be opened or used."""


class NotFound(NetreasonError):
    """A stored object that does not exist."""


class ClusterNotFound(NotFound):
    """No cluster snapshot (or no such revision of one) under that name."""


class AnalysisNotFound(NotFound):
    """No stored analysis with that id."""


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    """The sha256 hex digest stored for an API token (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_analysis_id() -> str:
    """A fresh analysis id: 32 hex digits from uuid4, unguessable, so a link can be shared."""
    return uuid.uuid4().hex


def safe_url(url: str) -> str:
    """`url` with any password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


# --- records ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterRevision:
    """One uploaded snapshot of a named cluster. `manifests` is the text as stored (YAML or JSON)."""

    name: str
    revision: int
    manifests: str
    deps: str | None
    default_namespace: str
    digest: str
    created_at: datetime


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


@dataclass(frozen=True)
class StoredAnalysis:
    id: str
    kind: str
    request: dict[str, Any]
    result: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    name: str
    token_sha256: str
    created_at: datetime


@dataclass(frozen=True)
class EvalResponse:
    """One model response recorded by the eval suite; `cache_key` lets a rerun reuse it."""

    run_id: str
    model: str
    prompt_ref: str
    scenario_id: str
    repeat_index: int
    cache_key: str
    raw_text: str
    usage: dict[str, Any]
    latency_ms: float
    error: str | None = None
    simulated: bool = False
    created_at: datetime | None = None


# --- engine -----------------------------------------------------------------------------------------------


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
        return sa.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, sa.exc.NoSuchModuleError) as e:
        raise StoreError(f"no driver for {safe_url(url)}: {e}; for PostgreSQL install netreason[postgres]") from None


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
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


# --- the store --------------------------------------------------------------------------------------------


class Store:
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

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- schema --------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations in order; return the names applied now (empty when up to date).

        Safe when several instances start at once: on PostgreSQL the whole run holds an advisory lock, so
        one instance migrates and the others wait, then find nothing left to do. SQLite lets one writer
        in at a time, which serializes the runs already.
        """
        applied_now: list[str] = []
        with self._tx() as conn:
            _lock_for_migrations(conn)
            migrations_table.create(conn, checkfirst=True)
            done = set(conn.execute(sa.select(migrations_table.c.name)).scalars())
            for name, step in MIGRATIONS:
                if name in done:
                    continue
                step(conn)
                conn.execute(migrations_table.insert().values(name=name, applied_at=_now()))
                applied_now.append(name)
        return applied_now

    def applied_migrations(self) -> list[str]:
        """Names of the migrations recorded in the database, in the order they were applied."""
        table = migrations_table
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(table.c.name).order_by(table.c.applied_at, table.c.name)).scalars())

    def ping(self) -> None:
        """Run a trivial query.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database is unreachable.
        """
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    # -- clusters ------------------------------------------------------------------------------------------
    def put_cluster(self, name: str, manifests: str, *, deps: str | None = None,
                    default_namespace: str = "default") -> ClusterRevision:
        """Store `manifests` as the next revision of cluster `name` (1 for a new name) and return it.

        Concurrent uploads to one name each get their own revision number.
        """
        digest = hashlib.sha256(manifests.encode()).hexdigest()
        for _attempt in range(5):
            try:
                with self._tx() as conn:
                    return self._insert_revision(conn, name, manifests, deps, default_namespace, digest)
            except IntegrityError:
                continue  # another upload took this revision number first
        raise StoreError(f"cluster {name!r}: too many concurrent uploads; try again")

    def _insert_revision(self, conn: Connection, name: str, manifests: str, deps: str | None,
                         default_namespace: str, digest: str) -> ClusterRevision:
        now = _now()
        # One atomic increment: PostgreSQL locks the row until commit, SQLite serializes writers, so
        # concurrent uploads each get the next number. Only two first uploads of a new name can clash.
        bump = (clusters.update().where(clusters.c.name == name)
                .values(latest_revision=clusters.c.latest_revision + 1).returning(clusters.c.latest_revision))
        revision = conn.execute(bump).scalar()
        if revision is None:
            revision = 1
            conn.execute(clusters.insert().values(name=name, created_at=now, latest_revision=revision))
        conn.execute(cluster_revisions.insert().values(
            cluster_name=name, revision=revision, manifests=manifests, deps=deps,
            default_namespace=default_namespace, digest=digest, created_at=now))
        return ClusterRevision(name, revision, manifests, deps, default_namespace, digest, now)

    def get_cluster(self, name: str, revision: int | None = None) -> ClusterRevision:
        """Revision `revision` of cluster `name` (the latest when None).

        Raises:
            ClusterNotFound: no such cluster, or no such revision of it.
        """
        r = cluster_revisions.c
        query = sa.select(cluster_revisions).where(r.cluster_name == name)
        query = query.where(r.revision == revision) if revision is not None else query.order_by(r.revision.desc())
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        if row is None:
            what = f"revision {revision} of cluster {name!r}" if revision is not None else f"cluster {name!r}"
            raise ClusterNotFound(f"no {what}; upload it with POST /v1/clusters/{name}")
        return _revision(row)

    def cluster_revisions(self, name: str) -> list[ClusterRevision]:
        """Every revision of cluster `name`, oldest first (manifests included).

        Raises:
            ClusterNotFound: no such cluster.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(cluster_revisions).where(cluster_revisions.c.cluster_name == name)
                                .order_by(cluster_revisions.c.revision)).mappings().all()
        if not rows:
            raise ClusterNotFound(f"no cluster {name!r}; upload it with POST /v1/clusters/{name}")
        return [_revision(row) for row in rows]

    def cluster_names(self) -> list[tuple[str, int]]:
        """(name, latest revision) of every stored cluster, by name."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(clusters.c.name, clusters.c.latest_revision).order_by(clusters.c.name))
            return [(row.name, row.latest_revision) for row in rows]

    # -- chat threads --------------------------------------------------------------------------------------
    def add_message(self, thread_id: str, role: str, text: str, *, cluster_name: str | None = None,
                    cluster_revision: int | None = None, claims: Any = None, channel: str | None = None) -> ThreadMessage:
        """Append a message to thread `thread_id`, creating the thread on its first message."""
        now = _now()
        with self._tx() as conn:
            if conn.execute(sa.select(threads.c.thread_id).where(threads.c.thread_id == thread_id)).first() is None:
                conn.execute(threads.insert().values(thread_id=thread_id, channel=channel, created_at=now, updated_at=now))
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
        return [ThreadMessage(**{**dict(row), "created_at": _aware(row["created_at"])}) for row in reversed(rows)]

    # -- Slack deliveries ----------------------------------------------------------------------------------
    def claim_slack_event(self, event_id: str, event_type: str = "", *,
                          stale_after_s: float = SLACK_EVENT_STALE_AFTER_S, now: datetime | None = None) -> int | None:
        """Claim Slack event `event_id` for processing; return the attempt number (1, 2, ...), or None to ignore it.

        Each delivery is a small state machine: the first records `processing` at `now`, and
        `finish_slack_event` marks it `done` or `failed`. A retried delivery (same id) is claimed again
        when the last attempt `failed`, or has been `processing` longer than `stale_after_s` (its process
        died mid-answer); it is ignored while `done`, or `processing` more recently. Atomic across
        processes: of deliveries racing for one id, exactly one gets each claim. `now` defaults to the
        current UTC time (tests inject a clock).
        """
        now = now or _now()
        try:
            with self._tx() as conn:
                conn.execute(slack_events.insert().values(event_id=event_id, event_type=event_type, received_at=now,
                                                          status="processing", claimed_at=now, attempts=1))
            return 1
        except IntegrityError:
            pass  # a retried delivery: take it over only from a failed or a stale attempt
        e = slack_events.c
        stale = sa.and_(e.status == "processing", e.claimed_at < now - timedelta(seconds=stale_after_s))
        takeover = (slack_events.update().where(e.event_id == event_id, sa.or_(e.status == "failed", stale))
                    .values(status="processing", claimed_at=now, attempts=e.attempts + 1).returning(e.attempts))
        with self._tx() as conn:
            attempt = conn.execute(takeover).scalar()
        return int(attempt) if attempt is not None else None

    def finish_slack_event(self, event_id: str, attempt: int, *, succeeded: bool) -> bool:
        """Mark attempt `attempt` of event `event_id` `done` (succeeded) or `failed` (a retry may run it again).

        Returns False, changing nothing, when that attempt is no longer the event's current one (a retry
        took a stale claim over) or was finished already.
        """
        e = slack_events.c
        finish = (slack_events.update()
                  .where(e.event_id == event_id, e.attempts == attempt, e.status == "processing")
                  .values(status="done" if succeeded else "failed"))
        with self._tx() as conn:
            return conn.execute(finish).rowcount > 0

    def slack_event_status(self, event_id: str) -> tuple[SlackEventStatus, int] | None:
        """(status, attempts) of Slack event `event_id`, or None when it was never claimed."""
        e = slack_events.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(e.status, e.attempts).where(e.event_id == event_id)).first()
        return (row.status, int(row.attempts)) if row is not None else None

    # -- analyses ------------------------------------------------------------------------------------------
    def save_analysis(self, kind: str, request: dict[str, Any], result: dict[str, Any],
                      analysis_id: str | None = None) -> StoredAnalysis:
        """Store an analysis (or review) result so a report can be linked.

        `analysis_id` defaults to a new unguessable id (`new_analysis_id()`); pass one made earlier when
        the result must contain its own link.
        """
        record = StoredAnalysis(analysis_id or new_analysis_id(), kind, request, result, _now())
        with self._tx() as conn:
            conn.execute(analyses.insert().values(id=record.id, kind=kind, request=request, result=result,
                                                  created_at=record.created_at))
        return record

    def get_analysis(self, analysis_id: str) -> StoredAnalysis:
        """The stored analysis `analysis_id`.

        Raises:
            AnalysisNotFound: no such id.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(analyses).where(analyses.c.id == analysis_id)).mappings().first()
        if row is None:
            raise AnalysisNotFound(f"no analysis {analysis_id!r}; analyses are kept under the id their POST returned")
        return StoredAnalysis(row["id"], row["kind"], row["request"], row["result"], _aware(row["created_at"]))

    # -- API tokens ----------------------------------------------------------------------------------------
    def create_token(self, name: str) -> str:
        """Make a new random token named `name`; store only its sha256 and return the token (shown once).

        Raises:
            StoreError: a token named `name` exists already.
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self._tx() as conn:
                conn.execute(api_tokens.insert().values(name=name, token_sha256=hash_token(token), created_at=_now()))
            self.tokens_created += 1
        except IntegrityError:
            raise StoreError(f"a token named {name!r} exists already; revoke it first or pick another name") from None
        return token

    def token_name(self, token: str) -> str | None:
        """The name of the stored token equal to `token`, or None."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(api_tokens.c.name).where(api_tokens.c.token_sha256 == hash_token(token))).scalar()

    def has_tokens(self) -> bool:
        """Whether any token is stored (then /v1 requires one)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(api_tokens.c.name).limit(1)).first() is not None

    def list_tokens(self) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.name)).mappings().all()
        return [ApiToken(r["name"], r["token_sha256"], _aware(r["created_at"])) for r in rows]

    def revoke_token(self, name: str) -> bool:
        """Delete the token named `name`; False when there was none."""
        with self._tx() as conn:
            return conn.execute(api_tokens.delete().where(api_tokens.c.name == name)).rowcount > 0

    # -- server secrets ------------------------------------------------------------------------------------
    def server_secret(self, name: str) -> str:
        """The random secret kept under `name`, made (32 random bytes, urlsafe base64) on first use.

        Every process on this database gets the same value, even when two make it at once: the
        first insert wins and the loser reads the winner's.
        """
        existing = self._read_secret(name)
        if existing is not None:
            return existing
        try:
            with self._tx() as conn:
                conn.execute(server_secrets.insert().values(name=name, value=secrets.token_urlsafe(32),
                                                            created_at=_now()))
        except IntegrityError:
            pass  # another process made it first; read theirs
        made = self._read_secret(name)
        if made is None:
            raise StoreError(f"server secret {name!r} could not be stored")
        return made

    def _read_secret(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(server_secrets.c.value).where(server_secrets.c.name == name)).scalar()
        return str(value) if value is not None else None

    # -- eval runs -----------------------------------------------------------------------------------------
    def create_eval_run(self, config: dict[str, Any], run_id: str | None = None) -> str:
        """Record a new eval run with its configuration; return its id (a new uuid unless given)."""
        run_id = run_id or uuid.uuid4().hex
        with self._tx() as conn:
            conn.execute(eval_runs.insert().values(id=run_id, config=config, created_at=_now()))
        return run_id

    def add_eval_response(self, response: EvalResponse) -> None:
        """Record one model response of an eval run."""
        values = {**response.__dict__, "created_at": response.created_at or _now()}
        with self._tx() as conn:
            conn.execute(eval_responses.insert().values(**values))

    def eval_responses(self, run_id: str) -> list[EvalResponse]:
        """Responses of run `run_id` in the order they were recorded."""
        query = sa.select(eval_responses).where(eval_responses.c.run_id == run_id).order_by(eval_responses.c.id)
        with self.engine.connect() as conn:
            return [_eval_response(row) for row in conn.execute(query).mappings()]

    def cached_eval_response(self, cache_key: str) -> EvalResponse | None:
        """The newest error-free response recorded under `cache_key`, or None."""
        r = eval_responses.c
        query = (sa.select(eval_responses).where(r.cache_key == cache_key, r.error.is_(None))
                 .order_by(r.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return _eval_response(row) if row is not None else None


    def get_eval_run(self, run_id: str) -> dict[str, Any]:
        """The configuration run `run_id` was created with.

        Raises:
            NotFound: no such run.
        """
        with self.engine.connect() as conn:
            config = conn.execute(sa.select(eval_runs.c.config).where(eval_runs.c.id == run_id)).scalar()
        if config is None:
            raise NotFound(f"no eval run {run_id!r}; list runs with `netreason eval runs`")
        return dict(config)

    def eval_run_ids(self) -> list[tuple[str, datetime]]:
        """(id, created_at) of every eval run, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(eval_runs.c.id, eval_runs.c.created_at).order_by(eval_runs.c.created_at.desc()))
            return [(row.id, _aware(row.created_at)) for row in rows]

    def save_eval_scores(self, run_id: str, scorer: str, result: dict[str, Any]) -> None:
        """Record one scoring pass of run `run_id` (`scorer` names the scoring version)."""
        with self._tx() as conn:
            conn.execute(eval_scores.insert().values(run_id=run_id, scorer=scorer, result=result, created_at=_now()))

    def latest_eval_scores(self, run_id: str) -> dict[str, Any] | None:
        """The result of the newest scoring pass of run `run_id`, or None if it was never scored."""
        query = (sa.select(eval_scores.c.result).where(eval_scores.c.run_id == run_id)
                 .order_by(eval_scores.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            result = conn.execute(query).scalar()
        return dict(result) if result is not None else None


def _lock_for_migrations(conn: Connection) -> None:
    # The transaction-scoped form of pg_advisory_lock: released at commit or rollback, so a failed
    # migration can never leave the lock held on a pooled connection. Under READ COMMITTED each later
    # statement sees what the instance that held the lock before committed.
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; everything stored is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _revision(row: Any) -> ClusterRevision:
    return ClusterRevision(row["cluster_name"], row["revision"], row["manifests"], row["deps"],
                           row["default_namespace"], row["digest"], _aware(row["created_at"]))


def _eval_response(row: Any) -> EvalResponse:
    data = {k: v for k, v in dict(row).items() if k != "id"}
    data["created_at"] = _aware(data["created_at"])
    return EvalResponse(**data)
