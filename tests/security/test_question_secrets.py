"""Finding 12 (rest): a Secret value typed into a chat question was sent to the model unchanged.

The loader dropped Secret objects before anything could match against them. Now their values are kept on
the bundle for scrubbing only, and the question is scrubbed before it reaches the model, the stored turn
or the reply: through POST /v1/chat with inline manifests, and through `netreason ask`. A stored cluster
keeps no Secret data, only salted digests of its values (`service/secret_prints.py`): questions about it
(POST /v1/chat naming it, a follow-up in an inline-manifest thread, a Slack mention) are scrubbed by them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

import httpx

from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer
from tests.fakes.slack_server import FakeSlackServer, fake_slack  # noqa: F401 (fixture)
from tests.service.test_slack import SECRET as SIGNING_SECRET
from tests.service.test_slack import SlackApp, mention, thread_reply

from .support import netreason
from .test_minimisation import MANIFESTS, SECRET_VALUE

PASSWORD = base64.b64decode(SECRET_VALUE).decode()  # what a user would paste: the decoded value
TOKEN = "plain-token-value-77"  # a stringData value
QUESTION = f"can shop/api reach shop/redis:6379 now that the db password is {PASSWORD} and the token {TOKEN}?"
NO_CLAIMS = {"summary": "ok", "claims": []}


def _database_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("netreason.db*"))


def test_chat_question_is_scrubbed_of_the_bundles_secret_values(tmp_path: Path) -> None:
    with FakeProviderServer() as srv:
        srv.enqueue(answer(NO_CLAIMS))
        spec = f"openai-compatible:{srv.openai_base_url}#m"
        with running_api(Settings(database_url=sqlite_url(tmp_path), model=spec)) as api:
            r = httpx.post(f"{api.base_url}/v1/chat", timeout=60,
                           json={"text": QUESTION, "manifests": MANIFESTS, "namespace": "shop"})
            report = httpx.get(f"{api.base_url}/v1/analyses/{r.headers['x-netreason-analysis-id']}", timeout=30)
        sent = json.dumps(srv.requests[0].body) if srv.requests else ""
    assert r.status_code == 200, r.text
    assert PASSWORD not in sent and TOKEN not in sent
    assert "the db password is [redacted] and the token [redacted]" in sent
    for where in (r.text, report.text, _database_bytes(tmp_path).decode("utf-8", "replace")):
        assert PASSWORD not in where and TOKEN not in where
    assert r.json()["text"] == QUESTION.replace(PASSWORD, "[redacted]").replace(TOKEN, "[redacted]")


def test_ask_scrubs_secret_values_of_the_manifests_from_the_question(tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text(MANIFESTS)
    with FakeProviderServer() as srv:
        srv.enqueue(answer(NO_CLAIMS))
        proc = netreason("ask", str(tmp_path), "-n", "shop", QUESTION, "--model", "openai:gpt-4.1-mini", "-o", "json",
                         env={"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": srv.openai_base_url})
        sent = json.dumps(srv.requests[0].body) if srv.requests else ""
    assert proc.returncode in (0, 1), proc.stderr
    assert sent and PASSWORD not in sent and TOKEN not in sent and "[redacted]" in sent


# --- stored clusters: the Secret values are not kept, their salted digests are ----------------------------

ENCODED_QUESTION = f"is {SECRET_VALUE} the password shop/api uses for shop/redis:6379?"


def _sent(srv: FakeProviderServer) -> str:
    return "\n".join(json.dumps(r.body) for r in srv.requests)


def test_a_question_about_a_stored_cluster_is_scrubbed_of_its_secret_values(tmp_path: Path) -> None:
    with FakeProviderServer() as srv:
        srv.enqueue(answer(NO_CLAIMS))
        srv.enqueue(answer(NO_CLAIMS))
        spec = f"openai-compatible:{srv.openai_base_url}#m"
        with running_api(Settings(database_url=sqlite_url(tmp_path), model=spec)) as api:
            up = httpx.post(f"{api.base_url}/v1/clusters/shop-prod", json={"manifests": MANIFESTS}, timeout=60)
            plain = httpx.post(f"{api.base_url}/v1/chat", timeout=60,
                               json={"text": QUESTION, "cluster": "shop-prod", "namespace": "shop"})
            encoded = httpx.post(f"{api.base_url}/v1/chat", timeout=60,
                                 json={"text": f"shop-prod {ENCODED_QUESTION}"})
        sent = _sent(srv)
    assert up.status_code == 201, up.text
    assert plain.status_code == 200 and encoded.status_code == 200, (plain.text, encoded.text)
    assert len(srv.requests) == 2
    assert PASSWORD not in sent and TOKEN not in sent and SECRET_VALUE not in sent
    assert "the db password is [redacted] and the token [redacted]" in sent
    assert plain.json()["text"] == QUESTION.replace(PASSWORD, "[redacted]").replace(TOKEN, "[redacted]")
    assert encoded.json()["text"] == ENCODED_QUESTION.replace(SECRET_VALUE, "[redacted]")
    stored = _database_bytes(tmp_path).decode("utf-8", "replace")
    for value in (PASSWORD, TOKEN, SECRET_VALUE):
        assert value not in stored
        assert hashlib.sha256(value.encode()).hexdigest() not in stored  # salted: no plain digest either


def test_a_follow_up_in_an_inline_chat_thread_is_scrubbed_too(tmp_path: Path) -> None:
    with FakeProviderServer() as srv:
        srv.enqueue(answer(NO_CLAIMS))
        srv.enqueue(answer(NO_CLAIMS))
        spec = f"openai-compatible:{srv.openai_base_url}#m"
        with running_api(Settings(database_url=sqlite_url(tmp_path), model=spec)) as api:
            first = httpx.post(f"{api.base_url}/v1/chat", timeout=60,
                               json={"text": "can shop/api reach shop/redis:6379?", "manifests": MANIFESTS,
                                     "namespace": "shop"})
            follow = httpx.post(f"{api.base_url}/v1/chat", timeout=60,
                                json={"text": QUESTION, "thread_id": first.json()["thread_id"]})
        sent = _sent(srv)
    assert first.status_code == 200 and follow.status_code == 200, (first.text, follow.text)
    assert len(srv.requests) == 2
    assert PASSWORD not in sent and TOKEN not in sent and "the db password is [redacted]" in sent


def test_equal_values_in_two_clusters_are_stored_under_different_salts(tmp_path: Path) -> None:
    with running_api(Settings(database_url=sqlite_url(tmp_path))) as api:
        for name in ("one", "two"):
            assert httpx.post(f"{api.base_url}/v1/clusters/{name}", json={"manifests": MANIFESTS},
                              timeout=60).status_code == 201
    with sqlite3.connect(tmp_path / "netreason.db") as db:
        query = "select secret_prints from cluster_revisions order by cluster_name"
        rows = [json.loads(r[0]) for r in db.execute(query)]
    assert len(rows) == 2 and rows[0]["salt"] != rows[1]["salt"]
    assert rows[0]["digests"] and not set(rows[0]["digests"]) & set(rows[1]["digests"])


def test_a_slack_mention_about_a_stored_cluster_is_scrubbed_of_its_secret_values(
        tmp_path: Path, fake_slack: FakeSlackServer) -> None:  # noqa: F811
    with FakeProviderServer() as srv:
        srv.enqueue(answer(NO_CLAIMS))
        srv.enqueue(answer(NO_CLAIMS))
        settings = Settings(database_url=sqlite_url(tmp_path), model=f"openai-compatible:{srv.openai_base_url}#m",
                            slack_signing_secret=SIGNING_SECRET, slack_bot_token="xoxb-test-token",
                            slack_api_url=fake_slack.api_url, public_url="https://netreason.example")
        with running_api(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
            assert client.post("/v1/clusters/prod", json={"manifests": MANIFESTS}).status_code == 201
            app = SlackApp(server, fake_slack, client)
            assert app.event(mention("Ev-secret", f"prod {QUESTION}", "1700000100.000100")).json() == {"ok": True}
            fake_slack.wait_for_posts(1)  # the thread exists once its first turn is answered
            app.event(thread_reply("Ev-secret-2", f"and is {SECRET_VALUE} still valid?", "1700000101.000100",
                                   "1700000100.000100"))
            fake_slack.wait_for_posts(2)
            app.settle()
        sent = _sent(srv)
    posted = "\n".join(json.dumps(p.body) for p in fake_slack.posts())
    assert len(srv.requests) == 2
    for where in (sent, posted):
        assert PASSWORD not in where and TOKEN not in where and SECRET_VALUE not in where
    assert "the db password is [redacted]" in sent
