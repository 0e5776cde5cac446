"""The chat: questions and follow-ups read against a thread, answered by the verifier, served at POST /v1/chat."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import verifier
from service.chat import (
    ChatQuestion,
    QuestionSide,
    ThreadContext,
    endpoint_for,
    ground_answer,
    interpret,
    model_question,
    parse_followup,
    thread_context,
)
from service.settings import Settings
from service.store import Store
from tests.fakes.api_server import ApiServer, running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, answer, slow
from tests.service.chat_support import marketing_namespace, shop_deps, shop_manifests

API_TO_PAYMENTS = ChatQuestion(QuestionSide("api"), QuestionSide("payments-api"), 8443)


@pytest.fixture(scope="module")
def shop() -> verifier.Bundle:
    return verifier.load_text(shop_manifests() + "\n---\n" + marketing_namespace(), name="shop")


# --- reading questions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("and from the marketing namespace?",
     ChatQuestion(QuestionSide("marketing", True), QuestionSide("payments-api"), 8443)),
    ("what about from namespace monitoring",
     ChatQuestion(QuestionSide("monitoring", True), QuestionSide("payments-api"), 8443)),
    ("and from marketing?", ChatQuestion(QuestionSide("marketing", True), QuestionSide("payments-api"), 8443)),
    ("and from web?", ChatQuestion(QuestionSide("web"), QuestionSide("payments-api"), 8443)),
    ("And to postgres:5432?", ChatQuestion(QuestionSide("api"), QuestionSide("postgres"), 5432)),
    ("and to postgres?", ChatQuestion(QuestionSide("api"), QuestionSide("postgres"), None)),
    ("and on port 9090/udp?", ChatQuestion(QuestionSide("api"), QuestionSide("payments-api"), 9090, "UDP")),
    ("and from everything in the shop namespace?",
     ChatQuestion(QuestionSide("shop", True), QuestionSide("payments-api"), 8443)),
])
def test_follow_ups_replace_one_part_of_the_previous_question(shop, text, expected):
    assert parse_followup(text, API_TO_PAYMENTS, shop) == expected


def test_a_new_question_is_not_a_follow_up_and_other_text_is_no_question(shop):
    q, followup = interpret("can web reach api:8080?", API_TO_PAYMENTS, shop)
    assert q == ChatQuestion(QuestionSide("web"), QuestionSide("api"), 8080) and not followup
    assert interpret("and from the marketing namespace?", None, shop) == (None, False)
    assert interpret("thanks, that helps", API_TO_PAYMENTS, shop) == (None, False)


def test_a_bare_namespace_name_is_a_namespace_but_a_workload_name_wins(shop):
    assert endpoint_for(shop, "monitoring") == QuestionSide("monitoring", True)
    assert endpoint_for(shop, "prometheus") == QuestionSide("prometheus")
    assert endpoint_for(shop, "the payments namespace") == QuestionSide("payments", True)
    assert endpoint_for(shop, "nosuch") == QuestionSide("nosuch")  # left for resolve() to explain


def test_a_namespace_source_is_checked_workload_by_workload(shop):
    ground = ground_answer(shop, ChatQuestion(QuestionSide("shop", True), QuestionSide("payments-api"), 8443))
    got = {(v.src, v.allowed) for v in ground.verdicts}
    # The ingress rule at payments-api admits app=api from team=shop namespaces; shop has no team label.
    assert got == {("shop/web", False), ("shop/api", False), ("shop/worker", False)}
    assert ground.error is None


def test_a_name_the_verifier_cannot_resolve_is_an_answer_not_a_crash(shop):
    ground = ground_answer(shop, ChatQuestion(QuestionSide("api"), QuestionSide("postgre"), 5432))
    assert ground.verdicts == () and "did you mean" in ground.error and "postgres" in ground.error
    empty = ground_answer(shop, ChatQuestion(QuestionSide("nothing-here", True), QuestionSide("postgres"), 5432))
    assert "namespace 'nothing-here' has no workloads" in empty.error


def test_the_model_sees_the_earlier_turns_and_how_the_follow_up_is_read(tmp_path):
    store = Store.open(sqlite_url(tmp_path))
    store.add_message("t", "user", "can api reach payments-api:8443?")
    store.add_message("t", "assistant", "No: the connection is denied.",
                      claims={"question": API_TO_PAYMENTS.to_json()})
    ctx = thread_context(store, "t")
    assert ctx.previous == API_TO_PAYMENTS and ctx.turns == 1
    follow = ChatQuestion(QuestionSide("marketing", True), QuestionSide("payments-api"), 8443)
    text = model_question("and from the marketing namespace?", follow, True, ctx.history)
    assert text.splitlines() == [
        "Earlier in this conversation (oldest first):",
        "user: can api reach payments-api:8443?",
        "assistant: No: the connection is denied.",
        "",
        "and from the marketing namespace?",
        "(netreason reads this as: can the workloads of namespace marketing reach payments-api on TCP/8443?)",
    ]
    assert model_question("can a reach b?", None, False, ThreadContext().history) == "can a reach b?"
    store.close()


# --- POST /v1/chat over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def client(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.base_url, timeout=30) as c:
        yield c


def _upload(client: httpx.Client, name: str, manifests: str) -> None:
    r = client.post(f"/v1/clusters/{name}", json={"manifests": manifests, "deps": shop_deps()})
    assert r.status_code == 201, r.text


def test_a_question_is_answered_with_the_verifiers_verdict(client):
    _upload(client, "prod", shop_manifests())
    r = client.post("/v1/chat", json={"text": "can api reach payments-api:8443?", "cluster": "prod"})
    assert r.status_code == 200, r.text
    reply = r.json()
    assert reply["thread_id"].startswith("chat-") and reply["turn"] == 1
    [v] = reply["answer"]["verdicts"]
    assert (v["from"], v["to"], v["port"], v["allowed"]) == ("shop/api", "payments/payments-api", 8443, False)
    assert "namespace team=shop" in v["reason"]
    assert reply["answer"]["headline"] == "No: the connection is denied."
    assert reply["markdown"].startswith("**No: the connection is denied.**")
    assert reply["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                                             "text": "can api reach payments-api on TCP/8443?"}}
    assert reply["model"] is None and reply["snapshot"]["revision"] == 1


def test_a_follow_up_uses_the_earlier_question_and_the_same_snapshot(client):
    _upload(client, "prod", shop_manifests())
    first = client.post("/v1/chat", json={"thread_id": "t-1", "text": "can api reach payments-api:8443?",
                                          "cluster": "prod"}).json()
    # A new revision lands between the turns; the thread stays on the one it started with.
    _upload(client, "prod", shop_manifests() + "\n---\n" + marketing_namespace(3))
    follow = client.post("/v1/chat", json={"thread_id": "t-1", "text": "and from the monitoring namespace?"}).json()
    assert follow["followup"] and follow["turn"] == 2
    assert follow["snapshot"] == first["snapshot"]
    assert [(v["from"], v["to"], v["port"]) for v in follow["answer"]["verdicts"]] == [
        ("monitoring/prometheus", "payments/payments-api", 8443)]
    # The newer revision answers when the thread asks for it by name.
    latest = client.post("/v1/chat", json={"thread_id": "t-1", "text": "and from the marketing namespace?",
                                           "cluster": "prod"}).json()
    assert latest["snapshot"]["revision"] == 2
    assert sorted(v["from"] for v in latest["answer"]["verdicts"]) == ["marketing/mkt-0", "marketing/mkt-1",
                                                                      "marketing/mkt-2"]
    assert "marketing/mkt-0" not in follow["markdown"]


def test_inline_manifests_are_kept_for_the_follow_ups(client):
    r = client.post("/v1/chat", json={"thread_id": "inline", "text": "can web reach api:8080?",
                                      "manifests": shop_manifests()})
    assert r.json()["answer"]["headline"] == "Yes: the connection is allowed."
    follow = client.post("/v1/chat", json={"thread_id": "inline", "text": "and from prometheus?"}).json()
    assert follow["snapshot"] == r.json()["snapshot"]
    [v] = follow["answer"]["verdicts"]
    assert (v["from"], v["allowed"]) == ("monitoring/prometheus", False)


def test_the_full_report_lists_every_verdict(client):
    _upload(client, "prod", shop_manifests() + "\n---\n" + marketing_namespace(40))
    reply = client.post("/v1/chat", json={"text": "can marketing reach web:8080?", "cluster": "prod"}).json()
    assert len(reply["answer"]["verdicts"]) == 40
    assert "…and 15 more: [full report](/v1/analyses/" in reply["markdown"]
    report = client.get(f"/v1/analyses/{reply['analysis_id']}", params={"format": "markdown"})
    assert report.status_code == 200
    assert all(f"`marketing/mkt-{i} → shop/web TCP/8080`" in report.text for i in range(40))
    assert "### Ground truth (verifier)" in report.text
    page = client.get(reply["report_url"])
    assert page.headers["content-type"].startswith("text/html") and "marketing/mkt-39" in page.text


def test_a_first_turn_without_a_cluster_is_refused_with_what_to_do(client):
    r = client.post("/v1/chat", json={"text": "can api reach postgres:5432?"})
    assert r.status_code == 422
    assert "say which cluster" in r.json()["detail"]
    r = client.post("/v1/chat", json={"text": "can api reach postgres:5432?", "cluster": "nope"})
    assert r.status_code == 404


def test_the_only_stored_cluster_is_the_default(client):
    _upload(client, "staging", shop_manifests())
    reply = client.post("/v1/chat", json={"text": "can api reach postgres:5432?"}).json()
    assert reply["snapshot"]["cluster"] == "staging"
    assert reply["answer"]["verdicts"][0]["allowed"] is False


# --- with a model -----------------------------------------------------------------------------------------


@pytest.fixture
def model_server(tmp_path, fake_provider_env: FakeProviderServer) -> Iterator[tuple[ApiServer, FakeProviderServer]]:
    settings = Settings(database_url=sqlite_url(tmp_path), model="openai:gpt-4.1-mini", model_timeout_s=3)
    with running_api(settings) as server:
        yield server, fake_provider_env


def _flow(src, dst, port, allowed):
    return {"type": "flow", "from": src, "to": dst, "port": port, "protocol": "TCP", "allowed": allowed,
            "reason": "because"}


def test_the_models_reply_is_shown_with_its_claims_checked_and_follow_ups_carry_the_thread(model_server):
    server, provider = model_server
    provider.enqueue(
        answer({"summary": "Yes, api reaches payments-api.", "claims": [
            _flow("shop/api", "payments/payments-api", 8443, True), _flow("shop/web", "shop/api", 8080, True)]}),
        answer({"summary": "Monitoring cannot either.", "claims": [
            _flow("monitoring/prometheus", "payments/payments-api", 8443, False)]}),
    )
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        _upload(c, "prod", shop_manifests())
        first = c.post("/v1/chat", json={"thread_id": "m", "text": "can api reach payments-api:8443?",
                                         "cluster": "prod"}).json()
        follow = c.post("/v1/chat", json={"thread_id": "m", "text": "and from the monitoring namespace?"}).json()
    assert first["answer"]["headline"] == "No: the connection is denied."
    assert first["model"]["summary"] == "Yes, api reaches payments-api."
    assert [c["verdict"] for c in first["model"]["claims"]] == ["contradicted", "confirmed"]
    assert "❌ contradicted" in first["markdown"] and "✅ confirmed" in first["markdown"]
    assert [c["verdict"] for c in follow["model"]["claims"]] == ["confirmed"]
    second_prompt = provider.requests[1].body["messages"][-1]["content"]
    assert "user: can api reach payments-api:8443?" in second_prompt
    assert "model: Yes, api reaches payments-api." in second_prompt
    assert "reads this as: can the workloads of namespace monitoring reach payments-api on TCP/8443?" in second_prompt


def test_a_free_question_gets_the_models_answer_with_its_claims_checked(model_server):
    server, provider = model_server
    provider.enqueue(answer({"summary": "payments pods have no DNS egress.", "claims": [
        {"type": "dns_egress_missing", "workload": "payments/postgres", "reason": "default deny"},
        {"type": "dns_egress_missing", "workload": "shop/web", "reason": "made up"}]}))
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        _upload(c, "prod", shop_manifests())
        reply = c.post("/v1/chat", json={"text": "explain the payments policies", "cluster": "prod"}).json()
    assert reply["question"] is None and reply["answer"]["verdicts"] == [] and reply["rollout"] is None
    assert reply["answer"]["headline"] == "The model's answer, each claim checked by the verifier:"
    assert [c["verdict"] for c in reply["model"]["claims"]] == ["confirmed", "contradicted"]
    asked = provider.requests[0].body["messages"][-1]["content"]
    assert asked.rstrip().endswith("Question: explain the payments policies")


def test_a_model_that_times_out_leaves_the_verifiers_answer(model_server):
    server, provider = model_server
    provider.enqueue(slow(10, {"summary": "late", "claims": []}))
    with httpx.Client(base_url=server.base_url, timeout=30) as c:
        _upload(c, "prod", shop_manifests())
        reply = c.post("/v1/chat", json={"text": "can web reach api:8080?", "cluster": "prod", "timeout_s": 1}).json()
    assert reply["answer"]["headline"] == "Yes: the connection is allowed."
    assert reply["model"]["error_kind"] == "ProviderTimeout"
