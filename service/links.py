"""Signed report links: a capability to read one stored analysis, without a bearer token, until it expires.

A link is `/v1/analyses/{id}?format=html&exp=EXPIRY&sig=SIG`, where EXPIRY is a Unix time in seconds and
SIG is the HMAC-SHA256 of `{id}:{EXPIRY}` under the server's link key, urlsafe base64 without padding.
The format is left out of the signed text on purpose: whoever may read a report may read it in any format.
Tokens still work everywhere; a link only ever opens the analysis it names.

The key is NETREASON_LINK_SECRET, else a random key the store makes on first use (`server_secrets`), so
links survive restarts and every server on one database accepts the links of the others.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from pydantic import SecretStr

from verifier.model.errors import NetreasonError

from .store import Store

#: The `server_secrets` row that holds the link key when NETREASON_LINK_SECRET is unset.
LINK_SECRET_NAME = "report-link-hmac"
#: Longer `exp` values are refused before int() parses them (Unix times have 10 digits until 2286).
MAX_EXPIRY_DIGITS = 20


class LinkRejected(NetreasonError):
    """A signed link that does not open the analysis: forged, altered or expired."""


class LinkInvalid(LinkRejected):
    """The signature does not match the analysis id and expiry of the link (or either is malformed)."""


class LinkExpired(LinkRejected):
    """The signature is genuine but the link's expiry has passed."""


@dataclass(frozen=True)
class SignedLink:
    """The query parameters that make a link to analysis `analysis_id` open without a token."""

    analysis_id: str
    expiry: int
    signature: str

    def query(self) -> str:
        """`exp=...&sig=...`, to append to the analysis URL."""
        return f"exp={self.expiry}&sig={self.signature}"


def resolve_link_secret(configured: SecretStr | None, store: Store) -> bytes:
    """The link key: NETREASON_LINK_SECRET when set (and not empty), else the database's own, made on first use.

    Raises:
        StoreError: the database cannot be read or written.
    """
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value().encode()
    return store.server_secret(LINK_SECRET_NAME).encode()


def signature(secret: bytes, analysis_id: str, expiry: int) -> str:
    """HMAC-SHA256 of `analysis_id:expiry` under `secret`, urlsafe base64 without padding.

    Raises:
        ValueError: `secret` is empty (anyone could sign).
    """
    if not secret:
        raise ValueError("refusing to sign a report link with an empty key")
    mac = hmac.new(secret, f"{analysis_id}:{expiry}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign_link(secret: bytes, analysis_id: str, *, now: float, ttl_s: int) -> SignedLink:
    """A link to `analysis_id` that opens until `now + ttl_s` (whole seconds)."""
    expiry = int(now) + ttl_s
    return SignedLink(analysis_id, expiry, signature(secret, analysis_id, expiry))


def verify_link(secret: bytes, analysis_id: str, exp: str | None, sig: str | None, *, now: float) -> None:
    """Pass when `sig` signs `analysis_id:exp` under `secret` and `exp` is not past `now`.

    The signature is checked first (in constant time), so a forged link is called invalid, never expired.

    Raises:
        LinkInvalid: `exp` or `sig` missing or malformed, or the signature does not match.
        LinkExpired: a genuine link past its expiry.
    """
    if not exp or not sig or not exp.isascii() or not exp.isdigit() or len(exp) > MAX_EXPIRY_DIGITS:
        raise LinkInvalid("a signed report link needs both `exp` (a Unix time) and `sig`; copy the whole link, "
                          "or send Authorization: Bearer <token>")
    expected = signature(secret, analysis_id, int(exp))
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise LinkInvalid("the link's signature does not match its analysis id and expiry; copy the whole link "
                          "as it was posted, or send Authorization: Bearer <token>")
    if int(exp) < now:
        raise LinkExpired(f"this report link expired {int(now) - int(exp)}s ago (NETREASON_LINK_TTL_S); ask for "
                          "the report again for a fresh link, or send Authorization: Bearer <token>")
