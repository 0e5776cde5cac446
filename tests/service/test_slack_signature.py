"""Slack request signatures are checked by slack_sdk's own `SignatureVerifier`, and hostile input is refused."""

from __future__ import annotations

import pytest
from slack_sdk.signature import SignatureVerifier

from service import slack
from service.slack import SlackRequestRejected, verify_request

SECRET = "test-signing-secret"


def test_a_request_signed_as_slack_sdk_signs_it_is_accepted() -> None:
    body = b'{"type":"event_callback","event":{"type":"app_mention","text":"h\xc3\xa9"}}'
    signature = SignatureVerifier(SECRET).generate_signature(timestamp="1700000000", body=body)
    assert signature is not None
    verify_request(SECRET, "1700000000", signature, body, now=1700000100)


def test_the_check_goes_through_slack_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, str, str]] = []
    real = SignatureVerifier.is_valid

    def spy(self: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> bool:
        calls.append((body, timestamp, signature))
        return real(self, body=body, timestamp=timestamp, signature=signature)

    monkeypatch.setattr(SignatureVerifier, "is_valid", spy)
    body = b"command=%2Fnetreason&text=hi"
    verify_request(SECRET, "1000", slack.sign(SECRET, 1000, body), body, now=1000)
    assert [c[1] for c in calls] == ["1000"]


@pytest.mark.parametrize("secret, signature, body", [
    (SECRET, "v0=" + "é" * 64, b"{}"),                     # compare_digest raises on non-ASCII str
    (SECRET, None, b"\xff\xfe not utf-8"),                  # slack_sdk decodes the body as UTF-8
    ("", None, b"{}"),                                      # no secret configured: nothing is from Slack
])
def test_hostile_signatures_and_bodies_are_rejected_not_crashed_on(secret: str, signature: str | None,
                                                                   body: bytes) -> None:
    signature = signature or slack.sign(secret or "x", 1000, body)
    with pytest.raises(SlackRequestRejected, match="does not match"):
        verify_request(secret, "1000", signature, body, now=1000)
