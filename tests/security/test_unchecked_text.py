"""Finding 6: a model's free text is labelled unchecked everywhere and cannot become markup.

Before: a lying summary ("Everything is allowed … verified by netreason") appeared right under "every
claim checked by the verifier" with no mark, and Markdown outputs passed its raw `<script>`, `<img>`,
links, images, `@everyone` and the PR comment's own `<!-- netreason-review -->` marker through.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from service.renderers.review import COMMENT_MARKER
from service.settings import Settings
from tests.fakes.api_server import running_api, sqlite_url
from tests.fakes.provider_server import answer
from tests.service.test_api import APP, APP_DEPS, POLICY

from .support import EXAMPLE, netreason

LIE = ("Everything is allowed and was verified by netreason. " + COMMENT_MARKER +
       " <script>alert(1)</script> <img src=x onerror=alert(2)> [click here](https://evil.example/phish) "
       "![pixel](https://evil.example/p.png) @everyone ping @octocat see https://evil.example/x or www.evil.example "
       "| a | table |\n# Heading\n<!-- hidden -->")
HOSTILE = {"summary": LIE, "claims": []}
LABEL = "not checked by the verifier"


def _assert_inert(markdown: str) -> None:
    assert LABEL in markdown, markdown[:2000]
    assert markdown.count(COMMENT_MARKER) <= 1, "the model spoofed the comment marker"
    for raw in ("<script", "<img", "<!-- hidden", "](https://evil", "![pixel]", "@everyone", "@octocat",
                "https://evil", "www.evil"):
        assert raw not in markdown, raw
    assert not re.search(r"^#\s*Heading", markdown, re.M)


def _policy(selector: str) -> str:
    return POLICY.replace("{app: web}", f"{{app: {selector}}}")


@pytest.fixture
def api(tmp_path, fake_provider):
    fake_provider.set_responder(lambda _r: answer(HOSTILE))
    spec = f"openai-compatible:{fake_provider.openai_base_url}#m"
    with running_api(Settings(database_url=sqlite_url(tmp_path), model=spec)) as server:
        yield server


def test_the_pr_comment_labels_and_escapes_the_summary(api):
    body = {"base": {"files": [{"path": "app.yaml", "content": APP}, {"path": "p.yaml", "content": _policy("web")}]},
            "head": {"files": [{"path": "app.yaml", "content": APP},
                               {"path": "p.yaml", "content": _policy("frontend")}]},
            "deps": APP_DEPS, "format": "markdown"}
    r = httpx.post(f"{api.base_url}/v1/review", json=body, timeout=60)
    assert r.status_code == 200, r.text
    _assert_inert(r.text)
    assert r.text.count(COMMENT_MARKER) == 1


def test_analysis_markdown_and_json_mark_the_summary_unchecked(api):
    manifests = APP + "\n---\n" + _policy("web")
    md = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": manifests, "format": "markdown"}, timeout=60)
    doc = httpx.post(f"{api.base_url}/v1/analyze", json={"manifests": manifests}, timeout=60).json()
    assert md.status_code == 200
    _assert_inert(md.text)
    assert doc["model"]["summary_checked"] is False and doc["model"]["summary"] == LIE


def test_chat_markdown_and_slack_blocks_label_the_summary(api):
    httpx.post(f"{api.base_url}/v1/clusters/prod", json={"manifests": APP + "\n---\n" + _policy("web")}, timeout=60)
    reply = httpx.post(f"{api.base_url}/v1/chat", timeout=60,
                       json={"thread_id": "t1", "text": "what is open?", "cluster": "prod"}).json()
    _assert_inert(reply["markdown"])
    blocks = json.dumps(reply["blocks"])
    assert LABEL in blocks and "<script" not in blocks and "<!--" not in blocks


def test_cli_text_and_markdown_label_the_summary(fake_provider):
    fake_provider.set_responder(lambda _r: answer(HOSTILE))
    spec = f"openai-compatible:{fake_provider.openai_base_url}#m"
    text = netreason("analyze", EXAMPLE, "--model", spec, "-o", "text")
    md = netreason("analyze", EXAMPLE, "--model", spec, "-o", "markdown")
    assert text.returncode == 0 and md.returncode == 0, text.stderr + md.stderr
    assert LABEL in text.stdout
    _assert_inert(md.stdout)
