"""The rollout's questions answered by the verifier first: through `netreason ask`, POST /v1/chat and Slack.

"what breaks?", "which dependencies are broken?", "who lost DNS?", "who can reach X?", "what can X reach?",
"what does this change break?"; the cluster may be named anywhere in the text; "and to port 9999?" keeps the
previous source and destination; with a model configured its explanation follows, every claim checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from service.cli import cli
from service.settings import Settings
from tests.fakes.api_server import ApiServer, running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer
from tests.fakes.slack_server import FakeSlackServer, block_problems, fake_slack  # noqa: F401 (fixture)
from tests.service.chat_support import shop_manifests
from tests.service.test_chat import _upload, client  # noqa: F401 (fixture)
from tests.service.test_slack import _body, _start, mention

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
BROKEN = {"type": "dependency_broken", "from": "shop/api", "to": "payments/payments-api", "port": 8443,
          "protocol": "TCP"}

# (question, kind, headline) for the example shop: one broken dependency, two workloads without DNS.
CASES = [
    ("what breaks?", "breaks", "1 dependency broken, 2 workload(s) without DNS."),
    ("Which dependencies are broken?", "dependencies", "1 of 4 dependencies are broken."),
    ("who lost DNS?", "dns", "2 workload(s) cannot reach cluster DNS: payments/payments-api, payments/postgres."),
    ("which pods have no DNS?", "dns",
     "2 workload(s) cannot reach cluster DNS: payments/payments-api, payments/postgres."),
    ("who can reach api?", "reach_to", "2 workload(s) can reach shop/api: shop/web, shop/worker."),
    ("who can reach payments-api on 8443?", "reach_to", "0 workload(s) can reach payments/payments-api on TCP/8443."),
    ("what can shop/web reach?", "reach_from", "shop/web can reach 2 workload(s): kube-system/coredns, shop/api."),
]


def ask(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["ask", str(EXAMPLE), *args, "-o", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("question", "kind", "headline"), CASES, ids=[c[0] for c in CASES])
def test_cli_answers_each_rollout_question(question, kind, headline):
    doc = ask(question)
    assert (doc["rollout"]["kind"], doc["rollout"]["headline"]) == (kind, headline)


def test_cli_items_and_text_output():
    assert ask("what breaks?")["rollout"]["items"][0] == {
        **BROKEN, "source": "declared",
        "why": "DENIED: shop/api -> payments/payments-api TCP/8443 (dials Service payments/payments-api port 8443)"}
    assert ask("what can shop/web reach?")["rollout"]["items"][1] == {"from": "shop/web", "to": "shop/api",
                                                                      "ports": "TCP/8080"}
    text = CliRunner().invoke(cli, ["ask", str(EXAMPLE), "who lost DNS?"]).output
    assert text.startswith("2 workload(s) cannot reach cluster DNS") and "  no DNS: payments/postgres" in text


def test_cli_what_this_change_breaks_compares_with_base(tmp_path):
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    for p in EXAMPLE.rglob("*"):
        if p.is_file():
            target = fixed / p.relative_to(EXAMPLE)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(p.read_text().replace("    env: prod\n---", "    env: prod\n    team: shop\n---", 1))
    doc = ask("what does this change break?", "--base", str(fixed))
    assert doc["rollout"]["headline"].startswith("This change breaks 1 dependency")
    assert doc["rollout"]["items"] == [BROKEN]
    nothing = ask("what does this change break?", "--base", str(EXAMPLE))["rollout"]
    assert nothing["headline"] == "This change breaks nothing: no dependency broken, no DNS lost, no flow removed."
    assert "nothing to compare with" in ask("what does this change break?")["rollout"]["error"]


# --- POST /v1/chat ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "kind", "headline"), CASES, ids=[c[0] for c in CASES])
def test_chat_answers_each_rollout_question_with_the_cluster_named_anywhere(client, question, kind, headline):  # noqa: F811
    _upload(client, "prod", shop_manifests())
    _upload(client, "staging", shop_manifests())
    text = question.rstrip("?") + " in prod?"
    reply = client.post("/v1/chat", json={"text": text}).json()
    assert reply["snapshot"]["cluster"] == "prod"
    assert reply["rollout"]["kind"] == kind and reply["answer"]["headline"] == headline
    assert reply["markdown"].startswith(f"**{headline}**")


def test_chat_what_this_change_breaks_is_the_previous_revision_against_the_latest(client):  # noqa: F811
    _upload(client, "prod", shop_manifests().replace("    env: prod\n---", "    env: prod\n    team: shop\n---", 1))
    _upload(client, "prod", shop_manifests())
    reply = client.post("/v1/chat", json={"text": "what does this change break?", "cluster": "prod"}).json()
    assert reply["answer"]["headline"].startswith("This change breaks 1 dependency")
    assert "broken: shop/api → payments/payments-api:8443/TCP" in reply["markdown"]


def test_chat_follow_up_to_a_port_keeps_source_and_destination(client):  # noqa: F811
    _upload(client, "prod", shop_manifests())
    client.post("/v1/chat", json={"thread_id": "t-port", "text": "can web reach api:8080?", "cluster": "prod"})
    follow = client.post("/v1/chat", json={"thread_id": "t-port", "text": "and to port 9999?"}).json()
    assert follow["followup"] and follow["interpreted_as"] == "can web reach api on TCP/9999?"
    [v] = follow["answer"]["verdicts"]
    assert (v["from"], v["to"], v["port"], v["allowed"]) == ("shop/web", "shop/api", 9999, False)


@pytest.fixture
def model_server(tmp_path, fake_provider_env: FakeProviderServer) -> Iterator[tuple[ApiServer, FakeProviderServer]]:
    settings = Settings(database_url=sqlite_url(tmp_path), model="openai:gpt-4.1-mini", model_timeout_s=5)
    with running_api(settings) as server:
        yield server, fake_provider_env


def test_with_a_model_the_verifier_answers_first_and_the_explanation_is_checked(model_server):
    server, provider = model_server
    provider.enqueue(answer({"summary": "payments lost DNS under default-deny.", "claims": [
        {"type": "dns_egress_missing", "workload": "payments/postgres"},
        {"type": "dns_egress_missing", "workload": "shop/web"}]}))
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        _upload(c, "prod", shop_manifests())
        reply = c.post("/v1/chat", json={"text": "who lost DNS?", "cluster": "prod"}).json()
    assert reply["answer"]["headline"].startswith("2 workload(s) cannot reach cluster DNS")
    assert [c["verdict"] for c in reply["model"]["claims"]] == ["confirmed", "contradicted"]
    assert reply["markdown"].index("cannot reach cluster DNS") < reply["markdown"].index("payments lost DNS")


# --- Slack ------------------------------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path, fake_slack: FakeSlackServer):  # noqa: F811
    yield from _start(tmp_path, fake_slack)


def test_a_signed_slack_mention_naming_the_cluster_mid_sentence_gets_the_verifiers_answer(app):
    r = app.event(mention("Ev-rollout", "what breaks in prod?", "1700000100.000100"))
    assert r.status_code == 200 and r.json() == {"ok": True}
    [post] = app.slack.wait_for_posts(1)
    assert post.body["text"] == "1 dependency broken, 2 workload(s) without DNS."
    assert block_problems(post.body["blocks"]) == []
    body = _body(post)
    assert "broken: shop/api → payments/payments-api:8443/TCP" in body and "no DNS: payments/postgres" in body


def test_a_signed_slack_mention_asking_who_can_reach(app):
    app.event(mention("Ev-reach", "who can reach api on the prod cluster?", "1700000200.000100"))
    [post] = app.slack.wait_for_posts(1)
    assert post.body["text"] == "2 workload(s) can reach shop/api: shop/web, shop/worker."
    assert "shop/worker → shop/api TCP/8080" in _body(post)
