"""`netreason tokens create|list|revoke`: the API's bearer tokens, kept in the database as sha256 hashes.

Once any token is stored, every /v1 route requires one (`Authorization: Bearer <token>`). `create`
prints the new token once, on stdout, and never again: only its hash is kept. `list` shows names and
dates, never a token or its hash. `revoke` deletes it: the server looks each token up on every request,
so the next request with it is refused.
"""

from __future__ import annotations

import json
from typing import Any

import click

from verifier.model.errors import InputError

from .output import output_option

db_option = click.option("--db", "database_url", envvar="NETREASON_DATABASE_URL", default=None,
                         help="Database URL (default: NETREASON_DATABASE_URL, else the user data dir): "
                              "the one `netreason serve` uses.")


def _store(database_url: str | None) -> Any:
    from service.settings import Settings
    from service.store import Store

    return Store.open(database_url or Settings().database_url)


@click.group("tokens")
def tokens_group() -> None:
    """Create, list and revoke the API's bearer tokens (stored hashed; shown once)."""


@tokens_group.command("create")
@click.argument("name")
@db_option
def create_cmd(name: str, database_url: str | None) -> None:
    """Make a token called NAME and print it, once: only its hash is stored.

    \b
    Example:
      TOKEN=$(netreason tokens create ci-pipeline)
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/v1/clusters
    """
    from service.store import StoreError

    store = _store(database_url)
    try:
        token = store.create_token(name)
    except StoreError as e:
        raise InputError(str(e)) from None
    finally:
        store.close()
    click.echo(token)
    click.echo(f"created token {name!r}: copy it now, it is not shown again (revoke with "
               f"`netreason tokens revoke {name}`)", err=True)


@tokens_group.command("list")
@output_option(("text", "json"), "text")
@db_option
def list_cmd(fmt: str, database_url: str | None) -> None:
    """The stored tokens' names and when they were made (never the tokens or their hashes)."""
    store = _store(database_url)
    try:
        tokens = store.list_tokens()
    finally:
        store.close()
    rows = [{"name": t.name, "created_at": t.created_at.isoformat(timespec="seconds")} for t in tokens]
    if fmt == "json":
        click.echo(json.dumps({"tokens": rows}, indent=2))
    elif not rows:
        click.echo("no tokens stored (the API requires none unless NETREASON_API_TOKENS is set)")
    else:
        width = max(len(r["name"]) for r in rows)
        lines = [f"{'NAME':<{width}}  CREATED"] + [f"{r['name']:<{width}}  {r['created_at']}" for r in rows]
        click.echo("\n".join(lines))


@tokens_group.command("revoke")
@click.argument("name")
@db_option
def revoke_cmd(name: str, database_url: str | None) -> None:
    """Delete the token called NAME: the next request that sends it is refused (401)."""
    store = _store(database_url)
    try:
        revoked = store.revoke_token(name)
        known = [t.name for t in store.list_tokens()] if not revoked else []
    finally:
        store.close()
    if not revoked:
        raise InputError(f"no token named {name!r} (stored: {', '.join(known) or 'none'})")
    click.echo(f"revoked token {name!r}")
