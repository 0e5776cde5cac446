"""Finding 11: hostile Slack requests are 401 or 400, never 500.

Before: a 400-digit `X-Slack-Request-Timestamp` raised OverflowError before the signature check; signed
bodies that are a JSON array or string, `event` as a list, or non-list `authorizations` raised in the route.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.fakes.slack_server import fake_slack  # noqa: F401 (fixture)
from tests.service.test_slack import SECRET, _start, sign


@pytest.fixture
def app(tmp_path, fake_slack):  # noqa: F811
    yield from _start(tmp_path, fake_slack)


def test_an_absurd_timestamp_is_refused_before_anything_else(app):
    body = b'{"type": "url_verification", "challenge": "x"}'
    ts = "9" * 400
    r = app.client.post("/slack/events", content=body, headers={
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "0" * 64, "Content-Type": "application/json"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"


HOSTILE = {
    "array": [1, 2, 3],
    "string": "hello",
    "number": 42,
    "event-is-a-list": {"type": "event_callback", "event_id": "Ev1", "event": ["app_mention"]},
    "authorizations-not-a-list": {"type": "event_callback", "event_id": "Ev2", "authorizations": {"user_id": "U"},
                                  "event": {"type": "message", "text": "hi", "thread_ts": "1.1", "ts": "1.2",
                                            "channel": "C1"}},
    "authorizations-of-strings": {"type": "event_callback", "event_id": "Ev3", "authorizations": ["U"],
                                  "event": {"type": "message", "text": "hi", "thread_ts": "1.1", "ts": "1.2",
                                            "channel": "C1"}},
    "text-is-an-object": {"type": "event_callback", "event_id": "Ev4",
                          "event": {"type": "app_mention", "text": {"a": 1}, "ts": "1.3", "channel": "C1"}},
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_signed_bodies_of_the_wrong_shape_are_not_a_500(app, name):
    body = json.dumps(HOSTILE[name]).encode()
    ts = int(time.time())
    r = app.client.post("/slack/events", content=body, headers={
        "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(SECRET, ts, body),
        "Content-Type": "application/json"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.headers["content-type"] == "application/problem+json"
