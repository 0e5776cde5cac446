"""API bearer tokens: only their sha256 is stored; the token is shown once, when made."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .base import Repository, StoreError, aware, utcnow
from .tables import api_tokens

TOKEN_PREFIX = "nrt_"


def hash_token(token: str) -> str:
    """The sha256 hex digest stored for an API token (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    name: str
    token_sha256: str
    created_at: datetime


class TokenRepository(Repository):
    """Hashed API tokens."""

    #: Tokens created through this object: a cached "no tokens" answer is stale once it changes.
    tokens_created: int

    def create_token(self, name: str) -> str:
        """Make a new random token named `name`; store only its sha256 and return the token (shown once).

        Raises:
            StoreError: a token named `name` exists already.
        """
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self._tx() as conn:
                conn.execute(api_tokens.insert().values(name=name, token_sha256=hash_token(token), created_at=utcnow()))
            self.tokens_created += 1
        except IntegrityError:
            raise StoreError(f"a token named {name!r} exists already; revoke it first or pick another name") from None
        return token

    def token_name(self, token: str) -> str | None:
        """The name of the stored token equal to `token`, or None."""
        with self.engine.connect() as conn:
            query = sa.select(api_tokens.c.name).where(api_tokens.c.token_sha256 == hash_token(token))
            return conn.execute(query).scalar()

    def has_tokens(self) -> bool:
        """Whether any token is stored (then /v1 requires one)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(api_tokens.c.name).limit(1)).first() is not None

    def list_tokens(self) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.name)).mappings().all()
        return [ApiToken(r["name"], r["token_sha256"], aware(r["created_at"])) for r in rows]

    def revoke_token(self, name: str) -> bool:
        """Delete the token named `name`; False when there was none."""
        with self._tx() as conn:
            return conn.execute(api_tokens.delete().where(api_tokens.c.name == name)).rowcount > 0
