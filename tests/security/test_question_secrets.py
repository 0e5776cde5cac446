"""Finding 12 (rest): a Secret value typed into a chat question was sent to the model unchanged.

The loader dropped Secret objects before anything could match against them. Now their values are kept on
the bundle for scrubbing only, and the question is scrubbed before it reaches the model, the stored turn
or the reply: through POST /v1/chat with inline manifests, and through `netreason ask`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx

from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer

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
