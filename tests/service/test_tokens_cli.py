"""`netreason tokens create|list|revoke` against the database a real API server uses, checked over real HTTP.

The CLI runs as its own process (`python -m service`, what the console script runs), on the same SQLite file
as the server: a created token opens /v1, a listed token never shows the token or its hash, and a revoked one
is refused on the very next request.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.settings import Settings
from tests.fakes.api_server import ApiServer, running_api, sqlite_url

ROOT = Path(__file__).resolve().parents[2]


def netreason(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


@pytest.fixture
def server(db: str) -> Iterator[ApiServer]:
    with running_api(Settings(database_url=db, api_tokens=(), model=None)) as s:
        yield s


def _get(server: ApiServer, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{server.base_url}/v1/clusters", headers=headers, timeout=30).status_code


def test_create_prints_the_token_once_and_it_opens_the_api(db: str) -> None:
    made = netreason("tokens", "create", "ci", "--db", db)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("nrt_") and made.stdout == token + "\n"  # the token alone: `TOKEN=$(...)` works
    assert "not shown again" in made.stderr and token not in made.stderr
    with running_api(Settings(database_url=db, api_tokens=(), model=None)) as server:
        assert _get(server, None) == 401  # a stored token turns auth on
        assert _get(server, token) == 200
        assert _get(server, token + "x") == 401


def test_list_shows_names_and_dates_but_never_a_token_or_its_hash(db: str) -> None:
    tokens = [netreason("tokens", "create", name, "--db", db).stdout.strip() for name in ("ci", "grafana")]
    listed = netreason("tokens", "list", "--db", db, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["tokens"]
    assert [r["name"] for r in rows] == ["ci", "grafana"] and all(set(r) == {"name", "created_at"} for r in rows)
    text = netreason("tokens", "list", "--db", db)
    assert text.stdout.splitlines()[0].split() == ["NAME", "CREATED"] and "grafana" in text.stdout
    for token in tokens:
        digest = hashlib.sha256(token.encode()).hexdigest()
        for out in (listed.stdout, text.stdout):
            assert token not in out and digest not in out and token[4:12] not in out


def test_revoke_takes_effect_on_the_next_request(db: str, server: ApiServer) -> None:
    keep = netreason("tokens", "create", "keep", "--db", db).stdout.strip()
    gone = netreason("tokens", "create", "gone", "--db", db).stdout.strip()
    assert _get(server, gone) == 200 and _get(server, keep) == 200
    revoked = netreason("tokens", "revoke", "gone", "--db", db)
    assert revoked.returncode == 0 and "revoked token 'gone'" in revoked.stdout
    assert _get(server, gone) == 401  # the very next request
    assert _get(server, keep) == 200
    listed = json.loads(netreason("tokens", "list", "--db", db, "-o", "json").stdout)["tokens"]
    assert [r["name"] for r in listed] == ["keep"]


def test_revoking_an_unknown_token_or_reusing_a_name_fails_closed(db: str) -> None:
    assert netreason("tokens", "create", "ci", "--db", db).returncode == 0
    again = netreason("tokens", "create", "ci", "--db", db)
    assert again.returncode == 2 and again.stdout == ""
    assert "a token named 'ci' exists already" in again.stderr
    unknown = netreason("tokens", "revoke", "cj", "--db", db)
    assert unknown.returncode == 2 and "no token named 'cj' (stored: ci)" in unknown.stderr
    empty = netreason("tokens", "list", "--db", sqlite_url(Path(db.removeprefix("sqlite:///")).parent / "other"))
    assert empty.returncode == 0 and empty.stdout.startswith("no tokens stored")
