"""Whether `netreason serve` may listen where it was asked to: no open API on a network without tokens."""

from __future__ import annotations

import ipaddress
import logging

from verifier.model.errors import NetreasonError

from .settings import Settings
from .store import Store

log = logging.getLogger("netreason.api")


class AuthMissing(NetreasonError):
    """A non-loopback address without any bearer token and without `--insecure-no-auth`."""


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and `localhost`; anything else (0.0.0.0, a LAN address, a name) is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: Settings, *, insecure_no_auth: bool) -> None:
    """Refuse to serve a non-loopback `host` without tokens (NETREASON_API_TOKENS or stored ones)
    unless `insecure_no_auth`, and then warn.

    Raises:
        AuthMissing: saying how to set tokens or opt out.
    """
    if is_loopback(host) or settings.api_tokens:
        return
    store = Store.open(settings.database_url)
    try:
        if store.has_tokens():
            return
    finally:
        store.close()
    if not insecure_no_auth:
        raise AuthMissing(
            f"refusing to serve {host} without authentication: set NETREASON_API_TOKENS (comma-separated bearer "
            "tokens), or pass --insecure-no-auth if something in front of netreason authenticates callers")
    log.warning("serving %s WITHOUT authentication (--insecure-no-auth): anyone who can connect may use the API",
                host)
