"""The Slack app over real HTTP: signed requests only, fast acks, one answer per event, thread follow-ups.

uvicorn serves the app on 127.0.0.1; replies go through the real slack_sdk client to a fake Slack Web API
(tests/fakes/slack_server.py), which records every chat.postMessage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest

from service.settings import Settings
from service.slack import (
    REPLAY_WINDOW_S,
    SlackRequestRejected,
    message_from_event,
    response_url_allowed,
    sign,
    strip_mentions,
    verify_request,
)
from tests.fakes.api_server import ApiServer, running_api, sqlite_url
from tests.fakes.provider_server import FakeProviderServer, slow
from tests.fakes.slack_server import FakeSlackServer, block_problems, fake_slack  # noqa: F401 (fixture)
from tests.service.chat_support import marketing_namespace, shop_deps, shop_manifests

SECRET = "test-signing-secret"
BOT = "U0NETREASON"


# --- signatures -------------------------------------------------------------------------------------------


def test_signature_matches_slacks_documented_example():
    # The worked example of Slack's "Verifying requests from Slack" guide.
    body = (b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body) == expected
    verify_request("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", expected, body, now=1531420618 + 10)


@pytest.mark.parametrize("timestamp, signature, now, message", [
    (None, "v0=abc", 1000, "missing"),
    ("1000", None, 1000, "missing"),
    ("soon", "v0=abc", 1000, "not a Unix time"),
    ("1000", "sig", 1000 + REPLAY_WINDOW_S + 1, "replayed or delayed"),
    ("1000", "sig", 1000 - REPLAY_WINDOW_S - 1, "replayed or delayed"),
    ("1000", "v0=" + "0" * 64, 1000, "does not match"),
])
def test_requests_that_do_not_prove_they_come_from_slack_are_rejected(timestamp, signature, now, message):
    body = b'{"type": "url_verification"}'
    if signature == "sig":
        signature = sign(SECRET, timestamp, body)  # correctly signed, but outside the window
    with pytest.raises(SlackRequestRejected, match=message):
        verify_request(SECRET, timestamp, signature, body, now=now)


def test_a_signature_for_another_body_or_secret_is_rejected():
    sig = sign(SECRET, 1000, b"{}")
    verify_request(SECRET, "1000", sig, b"{}", now=1000 + REPLAY_WINDOW_S)  # the edge of the window is in
    for secret, body in (("other-secret", b"{}"), (SECRET, b"{ }")):
        with pytest.raises(SlackRequestRejected):
            verify_request(secret, "1000", sig, body, now=1000)


def test_which_events_are_answered():
    auth = [{"user_id": BOT, "is_bot": True}]
    mention = {"team_id": "T1", "event_id": "Ev1", "authorizations": auth,
               "event": {"type": "app_mention", "user": "U1", "text": f"<@{BOT}> can a reach b?", "ts": "1.1",
                         "channel": "C1"}}
    msg, is_mention = message_from_event(mention)
    assert (msg.text, msg.thread_ts, msg.thread_id, is_mention) == ("can a reach b?", "1.1", "slack:T1:C1:1.1", True)
    reply = {"team_id": "T1", "authorizations": auth,
             "event": {"type": "message", "user": "U1", "text": "and from x?", "ts": "1.2", "thread_ts": "1.1",
                       "channel": "C1"}}
    assert message_from_event(reply)[0].thread_ts == "1.1"
    ignored = [
        {**reply, "event": {**reply["event"], "thread_ts": None}},  # not in a thread
        {**reply, "event": {**reply["event"], "bot_id": "B1"}},  # a bot (netreason itself)
        {**reply, "event": {**reply["event"], "subtype": "message_changed"}},
        {**reply, "event": {**reply["event"], "text": f"<@{BOT}> again"}},  # answered as the app_mention
        {"event": {"type": "reaction_added"}},
    ]
    assert [message_from_event(p) for p in ignored] == [None] * len(ignored)
    assert strip_mentions("<@U1|bob> hi <@U2>  there") == "hi there"


# --- the app over HTTP ------------------------------------------------------------------------------------


@dataclass
class SlackApp:
    server: ApiServer
    slack: FakeSlackServer
    client: httpx.Client

    def post_signed(self, path: str, body: bytes, *, timestamp: int | None = None, secret: str = SECRET,
                    content_type: str = "application/json", **headers: str) -> httpx.Response:
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(secret, ts, body),
                "Content-Type": content_type, **headers}
        return self.client.post(path, content=body, headers=sent)

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until every answer the app has scheduled so far has finished: after this nothing more is posted
        unless a new request comes in (the app counts its background tasks from the moment it schedules one)."""
        assert self.server.app.state.service.background.wait_idle(timeout), "background answers still running"

    def event(self, payload: dict, **headers: str) -> httpx.Response:
        return self.post_signed("/slack/events", json.dumps(payload).encode(), **headers)

    def command(self, text: str, channel: str = "C1",
                response_url: str = "https://hooks.slack.invalid/commands/1") -> httpx.Response:
        form = {"team_id": "T1", "channel_id": channel, "user_id": "U_ALICE", "command": "/netreason", "text": text,
                "response_url": response_url, "trigger_id": "1.2.3"}
        return self.post_signed("/slack/commands", urlencode(form).encode(),
                                content_type="application/x-www-form-urlencoded")


def mention(event_id: str, text: str, ts: str, thread_ts: str | None = None) -> dict:
    event = {"type": "app_mention", "user": "U_ALICE", "text": f"<@{BOT}> {text}", "ts": ts, "channel": "C1"}
    return _callback(event_id, {**event, **({"thread_ts": thread_ts} if thread_ts else {})})


def thread_reply(event_id: str, text: str, ts: str, thread_ts: str) -> dict:
    event = {"type": "message", "channel_type": "channel", "user": "U_ALICE", "text": text, "ts": ts,
             "thread_ts": thread_ts, "channel": "C1"}
    return _callback(event_id, event)


def _callback(event_id: str, event: dict) -> dict:
    return {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()), "authorizations": [{"user_id": BOT, "is_bot": True, "team_id": "T1"}],
            "event": event}


def _start(tmp_path, slack: FakeSlackServer, **settings: object) -> Iterator[SlackApp]:
    config = Settings(database_url=sqlite_url(tmp_path), slack_signing_secret=SECRET, slack_bot_token="xoxb-test-token",
                      slack_api_url=slack.api_url, public_url="https://netreason.example", **settings)
    with running_api(config) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        r = client.post("/v1/clusters/prod", json={"manifests": shop_manifests(), "deps": shop_deps()})
        assert r.status_code == 201, r.text
        yield SlackApp(server, slack, client)


@pytest.fixture
def app(tmp_path, fake_slack: FakeSlackServer) -> Iterator[SlackApp]:  # noqa: F811
    yield from _start(tmp_path, fake_slack)


def _body(call) -> str:
    blocks = call.body.get("blocks") or []
    return call.body["text"] + "\n" + "\n".join(json.dumps(b, ensure_ascii=False) for b in blocks)


def test_url_verification_answers_the_challenge(app):
    r = app.event({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                   "type": "url_verification"})
    assert r.status_code == 200 and r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_unsigned_forged_and_replayed_requests_are_refused(app):
    body = json.dumps(mention("Ev-forged", "can api reach postgres:5432?", "1.1")).encode()
    unsigned = app.client.post("/slack/events", content=body, headers={"Content-Type": "application/json"})
    forged = app.post_signed("/slack/events", body, secret="guessed-secret")
    replayed = app.post_signed("/slack/events", body, timestamp=int(time.time()) - REPLAY_WINDOW_S - 5)
    command = app.client.post("/slack/commands", content=b"text=prod+can+api+reach+postgres%3A5432",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    for r in (unsigned, forged, replayed, command):
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert "replayed" in replayed.json()["detail"] and "missing" in unsigned.json()["detail"]
    # Nothing was processed: a valid event with the same id is still answered.
    assert app.event(mention("Ev-forged", "can api reach postgres:5432?", "1.1")).json() == {"ok": True}
    assert len(app.slack.wait_for_posts(1)) == 1


def test_a_mention_is_answered_in_its_thread_with_blocks(app):
    r = app.event(mention("Ev1", "can api reach payments-api:8443?", "1700000000.000100"))
    assert r.status_code == 200 and r.json() == {"ok": True}
    [post] = app.slack.wait_for_posts(1)
    assert post.ok and post.token == "xoxb-test-token"
    assert (post.body["channel"], post.body["thread_ts"]) == ("C1", "1700000000.000100")
    assert post.body["text"] == "can api reach payments-api on TCP/8443? No: the connection is denied."
    assert block_problems(post.body["blocks"]) == []
    body = _body(post)
    assert "shop/api → payments/payments-api TCP/8443" in body and "namespace team=shop" in body
    assert "<https://netreason.example/v1/analyses/" in body


def test_a_retried_event_is_processed_once(app):
    event = mention("Ev-retry", "can web reach api:8080?", "1700000001.000100")
    first = app.event(event)
    retries = [app.event(event, **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})
               for n in (1, 2)]
    assert first.json() == {"ok": True}
    assert [r.json() for r in retries] == [{"ok": True, "duplicate": True}] * 2
    # A later, different event is answered after the first: had a retry been processed, it would sit between.
    app.event(mention("Ev-next", "can api reach postgres:5432?", "1700000002.000100"))
    posts = app.slack.wait_for_posts(2)
    app.settle()
    assert sorted(p.body["thread_ts"] for p in app.slack.posts()) == ["1700000001.000100", "1700000002.000100"]
    assert len(posts) == 2


def test_a_reply_in_the_thread_follows_up_on_the_earlier_question(app):
    root = "1700000010.000100"
    app.event(mention("Ev-q", "prod can api reach payments-api:8443?", root))
    app.slack.wait_for_posts(1)
    app.event(thread_reply("Ev-f", "and from the monitoring namespace?", "1700000011.000100", root))
    _, follow = app.slack.wait_for_posts(2)
    assert follow.body["thread_ts"] == root
    assert follow.body["text"].startswith("can the workloads of namespace monitoring reach payments-api on TCP/8443?")
    assert "monitoring/prometheus → payments/payments-api TCP/8443" in _body(follow)
    assert "turn 2" in _body(follow)


def test_people_talking_in_other_threads_are_left_alone(app):
    app.event(thread_reply("Ev-other", "and from the monitoring namespace?", "1700000021.000100", "1700000020.000100"))
    bot_echo = thread_reply("Ev-bot", "No: denied", "1700000022.000100", "1700000020.000100")
    bot_echo["event"]["bot_id"] = "B0NETREASON"
    app.event(bot_echo)
    app.event(mention("Ev-sentinel", "can web reach api:8080?", "1700000030.000100"))
    [post] = app.slack.wait_for_posts(1)
    app.settle()
    assert post.body["thread_ts"] == "1700000030.000100" and len(app.slack.posts()) == 1


def test_a_question_the_verifier_cannot_answer_gets_a_reply_saying_why(app):
    app.event(mention("Ev-typo", "can api reach postgre:5432?", "1700000040.000100"))
    [post] = app.slack.wait_for_posts(1)
    assert post.body["text"].startswith("can api reach postgre on TCP/5432? The verifier cannot answer that: "
                                        "no workload or Service named 'postgre'; did you mean")
    assert "payments/postgres" in post.body["text"] and block_problems(post.body["blocks"]) == []


def test_a_namespace_wide_answer_is_summarised_within_block_kit_limits(app):
    r = app.client.post("/v1/clusters/big", json={"manifests": shop_manifests() + "\n---\n" + marketing_namespace(120)})
    assert r.status_code == 201
    app.event(mention("Ev-big", "big can marketing reach web:8080?", "1700000045.000100"))
    [post] = app.slack.wait_for_posts(1)
    assert post.ok, post.answer  # the fake refuses blocks over Slack's limits, as Slack does
    assert len(post.body["blocks"]) <= 50
    assert "…and 105 more connection(s): <https://netreason.example/v1/analyses/" in _body(post)
    assert "snapshot big@1" in _body(post)


def test_the_slash_command_acknowledges_at_once_and_answers_in_a_thread(app):
    r = app.command("prod can api reach postgres:5432")
    assert r.status_code == 200
    assert r.json() == {"response_type": "ephemeral", "text": "Working on it: prod can api reach postgres:5432"}
    root, answer_post = app.slack.wait_for_posts(2)
    assert root.body == {"channel": "C1", "text": "<@U_ALICE> asked: prod can api reach postgres:5432",
                         "unfurl_links": False}
    assert answer_post.body["thread_ts"] == root.answer["ts"]
    assert "shop/api → payments/postgres TCP/5432" in _body(answer_post) and "snapshot prod@1" in _body(answer_post)
    # The command's thread is a conversation: a reply there follows up.
    app.event(thread_reply("Ev-cmd-f", "and from payments-api?", "1700000050.000100", root.answer["ts"]))
    *_, follow = app.slack.wait_for_posts(3)
    assert "payments/payments-api → payments/postgres TCP/5432" in _body(follow)


def test_the_slash_command_without_a_question_explains_itself(app):
    r = app.command("")
    assert r.json()["response_type"] == "ephemeral"
    assert "/netreason prod can api reach postgres:5432" in r.json()["text"]
    app.settle()
    assert app.slack.posts() == []


def test_a_refused_post_does_not_stop_the_next_answer(app):
    app.slack.fail_next("channel_not_found")
    app.event(mention("Ev-lost", "can web reach api:8080?", "1700000060.000100"))
    app.event(mention("Ev-ok", "can web reach api:8080?", "1700000061.000100"))
    lost, ok = app.slack.wait_for_posts(2)
    assert not lost.ok and lost.answer["error"] == "channel_not_found"
    assert ok.ok


@pytest.fixture
def slow_model_app(tmp_path, fake_slack: FakeSlackServer,  # noqa: F811
                   fake_provider_env: FakeProviderServer) -> Iterator[tuple[SlackApp, FakeProviderServer]]:
    for found in _start(tmp_path, fake_slack, model="openai:gpt-4.1-mini", model_timeout_s=10):
        yield found, fake_provider_env


def test_events_are_acknowledged_before_a_slow_model_answers(slow_model_app):
    app, provider = slow_model_app
    provider.enqueue(slow(2.0, {"summary": "web reaches api.", "claims": [
        {"type": "flow", "from": "shop/web", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True,
         "reason": "web-to-api"}]}))
    started = time.monotonic()
    r = app.event(mention("Ev-slow", "can web reach api:8080?", "1700000070.000100"))
    acked = time.monotonic() - started
    assert r.json() == {"ok": True} and acked < 1.0  # Slack gives up after 3 s
    [post] = app.slack.wait_for_posts(1, timeout=15)
    assert "web reaches api." in _body(post) and "confirmed" in _body(post)


def test_slack_routes_are_absent_unless_configured(api_server):
    r = httpx.post(f"{api_server.base_url}/slack/events", json={"type": "url_verification", "challenge": "x"})
    assert r.status_code == 404


# --- redelivery: the processing -> done | failed state machine ----------------------------------------------


def _wait_for_state(app: SlackApp, event_id: str, state: tuple[str, int], timeout: float = 10.0) -> None:
    store = app.server.app.state.service.store
    deadline = time.monotonic() + timeout
    while (found := store.slack_event_status(event_id)) != state:
        assert time.monotonic() < deadline, f"event {event_id} is {found}, expected {state}"
        time.sleep(0.02)


def _retry(app: SlackApp, payload: dict, n: int) -> httpx.Response:
    return app.event(payload, **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})


def test_a_retry_after_a_failed_answer_is_processed_once_more(app):
    event = mention("Ev-failed", "can web reach api:8080?", "1700000080.000100")
    app.slack.fail_next("fatal_error")  # the answer cannot be posted: the attempt fails
    assert app.event(event).json() == {"ok": True}
    _wait_for_state(app, "Ev-failed", ("failed", 1))
    assert _retry(app, event, 1).json() == {"ok": True}
    lost, answered = app.slack.wait_for_posts(2)
    assert lost.answer["error"] == "fatal_error" and answered.ok
    assert answered.body["thread_ts"] == "1700000080.000100"
    _wait_for_state(app, "Ev-failed", ("done", 2))
    assert _retry(app, event, 2).json() == {"ok": True, "duplicate": True}


def test_a_retry_after_the_answer_was_posted_is_ignored(app):
    event = mention("Ev-done", "can web reach api:8080?", "1700000081.000100")
    app.event(event)
    app.slack.wait_for_posts(1)
    _wait_for_state(app, "Ev-done", ("done", 1))
    assert _retry(app, event, 1).json() == {"ok": True, "duplicate": True}
    app.settle()
    assert len(app.slack.posts()) == 1


def _slow_flow_answer() -> dict:
    return {"summary": "web reaches api.", "claims": [
        {"type": "flow", "from": "shop/web", "to": "shop/api", "port": 8080, "protocol": "TCP", "allowed": True,
         "reason": "web-to-api"}]}


def test_a_retry_while_the_first_attempt_is_answering_is_ignored(slow_model_app):
    app, provider = slow_model_app
    provider.enqueue(slow(1.5, _slow_flow_answer()))
    event = mention("Ev-busy", "can web reach api:8080?", "1700000082.000100")
    assert app.event(event).json() == {"ok": True}
    assert _retry(app, event, 1).json() == {"ok": True, "duplicate": True}
    assert app.server.app.state.service.store.slack_event_status("Ev-busy") == ("processing", 1)
    [post] = app.slack.wait_for_posts(1, timeout=15)
    assert "web reaches api." in _body(post)
    _wait_for_state(app, "Ev-busy", ("done", 1))
    app.settle()
    assert len(app.slack.posts()) == 1


@pytest.fixture
def short_stale_app(tmp_path, fake_slack: FakeSlackServer,  # noqa: F811
                    fake_provider_env: FakeProviderServer) -> Iterator[tuple[SlackApp, FakeProviderServer]]:
    for found in _start(tmp_path, fake_slack, model="openai:gpt-4.1-mini", model_timeout_s=10,
                        slack_event_stale_s=0.5):
        yield found, fake_provider_env


def test_a_retry_takes_over_an_attempt_processing_longer_than_the_stale_window(short_stale_app):
    app, provider = short_stale_app
    provider.enqueue(slow(2.0, _slow_flow_answer()), slow(0.1, _slow_flow_answer()))
    event = mention("Ev-stale", "can web reach api:8080?", "1700000083.000100")
    app.event(event)
    time.sleep(0.8)  # past NETREASON_SLACK_EVENT_STALE_S=0.5 while the first attempt still waits on the model
    assert _retry(app, event, 1).json() == {"ok": True}
    posts = app.slack.wait_for_posts(2, timeout=15)
    assert [p.body["thread_ts"] for p in posts] == ["1700000083.000100"] * 2
    # The first attempt finished after the takeover: it must not mark the second one's claim.
    _wait_for_state(app, "Ev-stale", ("done", 2))


# --- slash commands where the app may not post ------------------------------------------------------------


@pytest.fixture
def hooks_app(tmp_path, fake_slack: FakeSlackServer) -> Iterator[SlackApp]:  # noqa: F811
    yield from _start(tmp_path, fake_slack, slack_response_url_prefix=fake_slack.hooks_url)


def test_a_command_in_a_channel_the_app_has_not_joined_is_answered_through_response_url(hooks_app):
    app = hooks_app
    app.slack.leave("C_PRIVATE")
    r = app.command("prod can api reach postgres:5432", channel="C_PRIVATE",
                    response_url=app.slack.hooks_url + "commands/T1/42/secret")
    assert r.json()["response_type"] == "ephemeral"
    [answer] = app.slack.wait_for_responses(1)
    assert answer.path == "/hooks/commands/T1/42/secret"
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["text"].startswith("can api reach postgres on TCP/5432?")
    blocks = "\n".join(json.dumps(b, ensure_ascii=False) for b in answer.body["blocks"])
    assert "shop/api → payments/postgres TCP/5432" in blocks and block_problems(answer.body["blocks"]) == []
    [refused] = app.slack.posts()  # the question could not be posted; nothing else was tried there
    assert refused.body["channel"] == "C_PRIVATE" and refused.answer["error"] == "not_in_channel"


def test_a_channel_not_found_also_falls_back_to_response_url(hooks_app):
    app = hooks_app
    app.slack.leave("C_GONE", error="channel_not_found")
    app.command("prod can web reach api:8080", channel="C_GONE", response_url=app.slack.hooks_url + "commands/1")
    [answer] = app.slack.wait_for_responses(1)
    assert answer.body["response_type"] == "ephemeral" and "shop/web" in json.dumps(answer.body["blocks"])


def test_a_response_url_outside_the_allowed_prefix_is_never_posted_to(hooks_app):
    app = hooks_app
    app.slack.leave("C_PRIVATE")
    base = app.slack.hooks_url[: -len("hooks/")]
    for url in (base + "elsewhere/1", base + "hooks/../api/chat.postMessage", "http://127.0.0.1:1/hooks/1"):
        assert app.command("prod can web reach api:8080", channel="C_PRIVATE", response_url=url).status_code == 200
    app.command("prod can web reach api:8080", channel="C_PRIVATE", response_url=app.slack.hooks_url + "ok")
    app.slack.wait_for_responses(1)
    app.settle()  # the refused commands ran alongside; had one posted, it is recorded once they have finished
    assert [p.path for p in app.slack.responses()] == ["/hooks/ok"]
    assert [p.body["channel"] for p in app.slack.posts()] == ["C_PRIVATE"] * 4  # four questions, all refused


def test_the_default_prefix_refuses_anything_but_slacks_hooks(app):
    app.slack.leave("C_PRIVATE")
    app.command("prod can web reach api:8080", channel="C_PRIVATE", response_url=app.slack.hooks_url + "commands/1")
    app.slack.wait_for_posts(1)
    app.settle()
    assert app.slack.responses() == []


@pytest.mark.parametrize("url, allowed", [
    ("https://hooks.slack.com/commands/T1/2/abc", True),
    ("https://HOOKS.slack.com/commands/T1/2/abc", True),
    ("http://hooks.slack.com/commands/T1/2/abc", False),  # another scheme
    ("https://hooks.slack.com.evil.example/commands/1", False),
    ("https://evil.example/https://hooks.slack.com/", False),
    ("https://hooks.slack.com@evil.example/commands/1", False),
    ("https://user@hooks.slack.com/commands/1", False),
    ("https://hooks.slack.com:8443/commands/1", False),
    ("https://hooks.slack.com:notaport/commands/1", False),
    ("https://hooks.slack.com/commands/../../x", False),
    ("https://hooks.slack.com/commands/%2e%2e/x", False),
    ("https://hooks.slack.com\\@evil.example/", False),
    ("", False),
    ("/commands/1", False),
])
def test_which_response_urls_are_allowed(url, allowed):
    assert response_url_allowed(url, "https://hooks.slack.com/") is allowed
