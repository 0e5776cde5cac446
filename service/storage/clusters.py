"""Cluster snapshots: each upload under a name is its next revision; old revisions stay."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .base import NotFound, Repository, StoreError, aware, utcnow
from .tables import cluster_revisions, clusters

class ClusterNotFound(NotFound):
    """No cluster snapshot (or no such revision of one) under that name."""


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
    #: `service.secret_prints.SecretPrints.to_json()` of the Secret values the upload held (None: none known).
    secret_prints: str | None = None


class ClusterRepository(Repository):
    """Stored cluster snapshots."""

    def put_cluster(self, name: str, manifests: str, *, deps: str | None = None,
                    default_namespace: str = "default", secret_prints: str | None = None) -> ClusterRevision:
        """Store `manifests` as the next revision of cluster `name` (1 for a new name) and return it.

        Concurrent uploads to one name each get their own revision number. `secret_prints` (salted digests,
        never Secret values) is kept beside them for scrubbing questions.
        """
        digest = hashlib.sha256(manifests.encode()).hexdigest()
        for _attempt in range(5):
            try:
                with self._tx() as conn:
                    return self._insert_revision(conn, name, manifests, deps, default_namespace, digest,
                                                 secret_prints)
            except IntegrityError:
                continue  # another upload took this revision number first
        raise StoreError(f"cluster {name!r}: too many concurrent uploads; try again")

    def _insert_revision(self, conn: Connection, name: str, manifests: str, deps: str | None,
                         default_namespace: str, digest: str, secret_prints: str | None) -> ClusterRevision:
        now = utcnow()
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
            default_namespace=default_namespace, digest=digest, created_at=now, secret_prints=secret_prints))
        return ClusterRevision(name, revision, manifests, deps, default_namespace, digest, now, secret_prints)

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


def _revision(row: Any) -> ClusterRevision:
    return ClusterRevision(row["cluster_name"], row["revision"], row["manifests"], row["deps"],
                           row["default_namespace"], row["digest"], aware(row["created_at"]), row["secret_prints"])
