"""Signed report links over real HTTP: they open one stored analysis without a token, and nothing else."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from service.links import (
    LINK_SECRET_NAME,
    LinkExpired,
    LinkInvalid,
    resolve_link_secret,
    sign_link,
    verify_link,
)
from service.settings import Settings
from service.slack import sign
from service.store import Store
from tests.fakes.api_server import ApiServer, running_api, sqlite_url
from tests.fakes.slack_server import FakeSlackServer, fake_slack  # noqa: F401 (fixture)
from tests.service.chat_support import shop_deps, shop_manifests

TOKEN = "team-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = b"link-test-key"


def _settings(directory: Path, **overrides: object) -> Settings:
    return Settings(database_url=sqlite_url(directory), api_tokens=TOKEN, model=None, **overrides)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    with running_api(_settings(tmp_path)) as running:
        yield running


@pytest.fixture
def client(server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        yield c


def _report_url(client: httpx.Client, text: str = "can api reach postgres:5432?") -> str:
    reply = client.post("/v1/chat", json={"text": text, "manifests": shop_manifests(), "deps": shop_deps()},
                        headers=AUTH)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["report_url"])


def _parts(url: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(url)
    return split.path, {k: v[0] for k, v in parse_qs(split.query).items()}


def _with(url: str, path: str | None = None, **params: str) -> str:
    old_path, query = _parts(url)
    return f"{path or old_path}?{urlencode({**query, **params})}"


# --- the signature --------------------------------------------------------------------------------------


def test_a_link_verifies_until_it_expires_and_not_after() -> None:
    link = sign_link(KEY, "abc", now=1000, ttl_s=60)
    verify_link(KEY, "abc", str(link.expiry), link.signature, now=1060)
    with pytest.raises(LinkExpired, match="expired 1s ago"):
        verify_link(KEY, "abc", str(link.expiry), link.signature, now=1061)


@pytest.mark.parametrize(("analysis_id", "exp", "sig"), [
    ("abd", "1060", None),  # another analysis
    ("abc", "1061", None),  # a later expiry
    ("abc", "1060", "A" * 43),  # another signature
    ("abc", None, None),  # no expiry
    ("abc", "1060", ""),  # no signature
    ("abc", "-5", None),
    ("abc", "1" * 500, None),
])
def test_a_link_altered_in_any_part_is_invalid(analysis_id: str, exp: str | None, sig: str | None) -> None:
    link = sign_link(KEY, "abc", now=1000, ttl_s=60)
    with pytest.raises(LinkInvalid):
        verify_link(KEY, analysis_id, exp, link.signature if sig is None else sig, now=1000)
    with pytest.raises(LinkInvalid):
        verify_link(b"another-key", "abc", str(link.expiry), link.signature, now=1000)


def test_an_expired_forgery_is_called_invalid_not_expired() -> None:
    link = sign_link(b"another-key", "abc", now=1000, ttl_s=60)
    with pytest.raises(LinkInvalid):
        verify_link(KEY, "abc", str(link.expiry), link.signature, now=5000)


def test_the_configured_secret_wins_and_else_the_database_keeps_one(tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path))
    try:
        assert resolve_link_secret(SecretStr("from-env"), store) == b"from-env"
        made = resolve_link_secret(None, store)
        assert len(made) >= 43 and resolve_link_secret(SecretStr(""), store) == made
        assert store.server_secret(LINK_SECRET_NAME).encode() == made
    finally:
        store.close()


# --- over HTTP ------------------------------------------------------------------------------------------


def test_a_signed_report_link_opens_without_a_token(client: httpx.Client) -> None:
    url = _report_url(client)
    path, query = _parts(url)
    assert path.startswith("/v1/analyses/") and set(query) == {"format", "exp", "sig"}
    assert int(query["exp"]) - time.time() == pytest.approx(7 * 24 * 3600, abs=60)
    page = client.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "shop/api" in page.text
    # The signature covers the analysis, not the format: the same link reads it as JSON.
    assert client.get(_with(url, format="json")).json()["answer"]["verdicts"]


def test_unsigned_without_a_token_is_401_and_the_token_works_as_before(client: httpx.Client) -> None:
    url = _report_url(client)
    path, query = _parts(url)
    plain = f"{path}?format=html"
    unsigned = client.get(plain)
    assert unsigned.status_code == 401 and unsigned.json()["type"] == "urn:netreason:problem:unauthorized"
    assert unsigned.headers["www-authenticate"].startswith("Bearer")
    assert client.get(plain, headers=AUTH).status_code == 200
    assert client.get(_with(url, sig="x" + query["sig"][1:]), headers=AUTH).status_code == 200


def test_a_tampered_id_expiry_or_signature_is_403(client: httpx.Client) -> None:
    url, other = _report_url(client), _report_url(client, "can web reach api:8080?")
    path, query = _parts(url)
    flipped = ("B" if query["sig"][0] != "B" else "C") + query["sig"][1:]
    tampered = {
        "id": _with(url, path=_parts(other)[0]),
        "expiry": _with(url, exp=str(int(query["exp"]) + 3600)),
        "signature": _with(url, sig=flipped),
        "missing signature": f"{path}?format=html&exp={query['exp']}",
        "non-numeric expiry": _with(url, exp="tomorrow"),
    }
    for what, bad in tampered.items():
        response = client.get(bad)
        assert response.status_code == 403, what
        assert response.headers["content-type"].startswith("application/problem+json"), what
        assert response.json()["type"] == "urn:netreason:problem:link-invalid", what
        assert query["sig"] not in response.text and flipped not in response.text


def test_an_expired_link_is_403(tmp_path: Path) -> None:
    with running_api(_settings(tmp_path, link_secret="configured-link-key")) as server, \
            httpx.Client(base_url=server.base_url, timeout=30) as c:
        path, _query = _parts(_report_url(c))
        analysis_id = path.rsplit("/", 1)[-1]
        stale = sign_link(b"configured-link-key", analysis_id, now=time.time() - 3600, ttl_s=60)
        response = c.get(f"{path}?format=html&{stale.query()}")
        fresh = sign_link(b"configured-link-key", analysis_id, now=time.time(), ttl_s=60)
        assert c.get(f"{path}?format=html&{fresh.query()}").status_code == 200
    assert response.status_code == 403
    problem = response.json()
    assert problem["type"] == "urn:netreason:problem:link-expired" and "expired" in problem["detail"]


def test_a_link_opens_nothing_but_its_analysis(client: httpx.Client) -> None:
    _path, query = _parts(_report_url(client))
    signed = urlencode({"exp": query["exp"], "sig": query["sig"]})
    assert client.get(f"/v1/clusters?{signed}").status_code == 401
    assert client.post(f"/v1/chat?{signed}", json={"text": "can api reach postgres:5432?"}).status_code == 401


def test_links_survive_a_restart_and_do_not_open_another_database(tmp_path: Path) -> None:
    with running_api(_settings(tmp_path)) as first, httpx.Client(base_url=first.base_url, timeout=30) as c:
        url = _report_url(c)
    with running_api(_settings(tmp_path)) as again:
        assert httpx.get(again.base_url + url, timeout=30).status_code == 200
    other = tmp_path / "other"
    other.mkdir()
    with running_api(_settings(other)) as elsewhere:
        # Another database made its own key: the link is refused before the id is even looked up.
        refused = httpx.get(elsewhere.base_url + url, timeout=30)
        assert elsewhere.app.state.service.link_secret != again.app.state.service.link_secret
    assert refused.status_code == 403 and refused.json()["type"] == "urn:netreason:problem:link-invalid"


def test_a_review_report_url_is_signed_and_opens_without_a_token(client: httpx.Client) -> None:
    snap = {"manifests": shop_manifests(), "deps": shop_deps()}
    review = client.post("/v1/review", json={"base": snap, "head": snap}, headers=AUTH).json()
    url = review["report_url"]
    assert "&sig=" in url and url in review["comment_markdown"]
    assert client.get(url).status_code == 200
    # API clients hold a token: the Location header stays a plain link.
    posted = client.post("/v1/review", json={"base": snap, "head": snap}, headers=AUTH)
    assert "sig=" not in posted.headers["location"]


def test_the_report_link_posted_to_slack_opens_without_a_token(
        tmp_path: Path, fake_slack: FakeSlackServer) -> None:  # noqa: F811 (the fixture)
    public = "https://netreason.example"
    settings = _settings(tmp_path, slack_signing_secret="slack-secret", slack_bot_token="xoxb-test",
                         slack_api_url=fake_slack.api_url, public_url=public)
    event = {"type": "event_callback", "team_id": "T1", "event_id": "Ev-link", "event_time": int(time.time()),
             "authorizations": [{"user_id": "U0NETREASON", "is_bot": True}],
             "event": {"type": "app_mention", "user": "U1", "text": "<@U0NETREASON> can api reach postgres:5432?",
                       "ts": "1700000000.000100", "channel": "C1"}}
    body, ts = json.dumps(event).encode(), int(time.time())
    with running_api(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as c:
        assert c.post("/v1/clusters/default", json={"manifests": shop_manifests()}, headers=AUTH).status_code == 201
        acked = c.post("/slack/events", content=body, headers={
            "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign("slack-secret", ts, body),
            "Content-Type": "application/json"})
        assert acked.status_code == 200, acked.text
        [post] = fake_slack.wait_for_posts(1)
        found = re.search(r"<" + re.escape(public) + r"(/v1/analyses/[^|>]+)\|", json.dumps(post.body["blocks"]))
        assert found, post.body
        link = found.group(1)
        opened = c.get(link)
        unsigned = c.get(link.split("&exp=")[0])
    assert opened.status_code == 200 and "shop/api" in opened.text
    assert unsigned.status_code == 401
