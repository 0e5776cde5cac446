"""Keys the server makes for itself (the report-link signing key), shared by every process on the database."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .base import Repository, StoreError, utcnow
from .tables import server_secrets


class SecretRepository(Repository):
    """Server secrets, made on first use."""

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
                                                            created_at=utcnow()))
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
