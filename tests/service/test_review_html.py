"""The review as an HTML page (`/v1/review?format=html` and the stored review): the diff beside the checked summary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

from service.renderers.review import render_review_html
from service.settings import Settings
from tests.fakes.api_server import ApiServer, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer
from tests.service.test_api import APP, APP_DEPS, MODEL, POLICY, REVIEW_ANSWER

SCRIPT = "<script>alert('pwned')</script>"


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    """Requests may name MODEL: it is on the allow-list."""
    return Settings(database_url=sqlite_url(tmp_path), api_tokens=(), model=None, allowed_models=(MODEL,))


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=30) as c:
        yield c


def _files(selector: str) -> list[dict[str, str]]:
    return [{"path": "k8s/app.yaml", "content": APP},
            {"path": "k8s/policy.yaml", "content": POLICY.replace("{app: web}", f"{{app: {selector}}}")}]


def _review(client: httpx.Client, base: str, head: str, **extra: object) -> httpx.Response:
    body = {"base": {"files": _files(base)}, "head": {"files": _files(head)}, "deps": APP_DEPS, **extra}
    response = client.post("/v1/review", json=body)
    assert response.status_code == 200, response.text
    return response


class _Tags(HTMLParser):
    """Every start tag and attribute of a page, to prove what it does not contain."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _value in attrs]


def _tags(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _section(page: str, heading: str) -> str:
    """The HTML from `<h3>heading (` up to the next heading."""
    found = re.search(rf"<h3>{re.escape(heading)} \(\d+\)</h3>(.*?)(?=<h[23]>|</section>)", page, re.DOTALL)
    assert found, f"no {heading!r} part in the page"
    return found.group(1)


def test_the_review_page_shows_the_diff_beside_the_checked_summary(
        fake_provider_env: FakeProviderServer, client: httpx.Client) -> None:
    fake_provider_env.enqueue(answer({**REVIEW_ANSWER, "summary": f"web loses api. {SCRIPT}"}))
    response = _review(client, "web", "frontend", model=MODEL, format="html")
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1>netreason review: base → head</h1>" in page and "This change breaks 1 dependency." in page
    broken = _section(page, "Dependencies broken")
    assert "<td><code>app/web</code></td><td><code>app/api</code>" in broken and "needs app=frontend" in broken
    assert "data-verdict='broken'>✗ broken</span>" in broken and "<td>TCP/8080</td>" in broken
    removed = _section(page, "Flows removed")
    assert "app/web" in removed and "app/web → app/api TCP/8080 (declared)" in removed
    assert _section(page, "Flows added") == "<p>None.</p>"
    introduced = _section(page, "Findings introduced")
    assert "<code>policy-selects-nothing</code>" in introduced and "<code>k8s/policy.yaml:8</code>" in introduced
    # The model's column: its summary, escaped, and each claim with the verifier's verdict.
    assert f"web loses api. {SCRIPT}".replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;") in page
    verdicts = re.findall(r"<tr class='claim' data-verdict='(\w+)'><td class='num'>\d+</td><td>([^<]*)</td>"
                          r"<td><span class='badge [\w-]+' data-verdict='\1'>. \1</span></td>", page)
    assert verdicts == [("confirmed", "app/web cannot reach app/api on TCP/8080"),
                        ("confirmed", "dependency app/web -&gt; app/api:80/TCP is broken"),
                        ("contradicted", "app/api cannot reach app/web on TCP/8080")]
    assert f"<code>{MODEL}</code> <span class='muted'>with prompt review@1</span>" in page


def test_the_review_page_is_self_contained_and_runs_nothing(
        fake_provider_env: FakeProviderServer, client: httpx.Client) -> None:
    fake_provider_env.enqueue(answer({**REVIEW_ANSWER, "summary": SCRIPT}))
    page = _review(client, "web", "frontend", model=MODEL, format="html").text
    tags = _tags(page)
    assert "script" not in tags.tags and "<script" not in page.lower()
    assert {"link", "img", "iframe", "object", "embed"}.isdisjoint(tags.tags)
    assert {"src", "href", "onload", "onerror"}.isdisjoint(tags.attrs)
    assert tags.tags.count("style") == 1 and page.startswith("<!doctype html>")


def test_the_stored_review_serves_the_same_page(client: httpx.Client) -> None:
    posted = _review(client, "web", "frontend", format="html")
    stored = client.get(f"/v1/analyses/{posted.headers['x-netreason-analysis-id']}", params={"format": "html"})
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("text/html")
    assert stored.text == posted.text
    assert "No model was asked: this is the verifier's ground truth alone." in stored.text
    assert "data-model-state='answered'" not in stored.text


def test_a_fix_shows_flows_added_and_findings_resolved(client: httpx.Client) -> None:
    page = _review(client, "frontend", "web", format="html").text
    assert "data-verdict='clean'>✓ clean</span>" in page
    assert "app/web" in _section(page, "Flows added") and _section(page, "Flows removed") == "<p>None.</p>"
    assert "<td><code>app/web</code></td><td><code>app/api</code>" in _section(page, "Dependencies fixed")
    resolved = _section(page, "Findings resolved")
    assert "<code>policy-selects-nothing</code>" in resolved and "<code>dependency-broken</code>" in resolved
    assert _section(page, "Findings introduced") == "<p>No findings.</p>"


def test_every_text_of_the_document_is_escaped(client: httpx.Client) -> None:
    doc = _review(client, "web", "frontend").json()
    hostile = "<b onclick=x>&"
    doc["diff"]["old"] = hostile
    doc["diff"]["dependencies_broken"][0]["explanation"] = hostile
    doc["diff"]["flows_removed"][0]["breaks"][0]["source"] = hostile
    doc["diff"]["findings_introduced"][0]["fix"] = hostile
    doc["diff"]["findings_introduced"][0]["message"] = hostile
    doc["analysis"]["hint"] = hostile
    page = render_review_html(doc)
    assert hostile not in page and "onclick" not in _tags(page).attrs
    assert page.count("&lt;b onclick=x&gt;&amp;") == 7  # title and h1 hold the base label
